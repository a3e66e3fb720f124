#include "xsell/model_assoc.h"

#include <math.h>

#include "xsell/log.h"
#include "xsell/xalloc.h"
#include "xsell/snapfile.h"
#include "xsell/snapshot.h"

#define MAX_LEN_LIMIT       16
#define ASSOC_TRIPLE_BUDGET 5e6 /* sum of squared basket sizes, at least */
#define ASSOC_WIDE_BASKET   64  /* ... and this much a basket on average (8 lines) */

/* --- itemsets ----------------------------------------------------------- */

void itemsets_release(struct itemsets *s)
{
    free(s->first);
    free(s->items);
    free(s->count);
    free(s->slots);
    memset(s, 0, sizeof(*s));
}

static uint32_t hash_items(const int32_t *items, int k)
{
    uint32_t h = 2166136261u ^ (uint32_t)k;
    for (int i = 0; i < k; i++) {
        h ^= (uint32_t)items[i];
        h *= 16777619u;
        h ^= h >> 15;
    }
    return h;
}

static void add_itemset(struct itemsets *s, const int32_t *items, int k, int32_t count)
{
    if (s->n + 2 > s->cap) {
        size_t cap = s->cap;
        xgrow((void **)&s->first, &cap, s->n + 2, sizeof(int32_t));
        cap = s->cap;
        xgrow((void **)&s->count, &cap, s->n + 2, sizeof(int32_t));
        s->cap = cap;
        if (s->n == 0)
            s->first[0] = 0;
    }
    size_t at = (size_t)s->first[s->n];
    xgrow((void **)&s->items, &s->items_cap, at + (size_t)k, sizeof(int32_t));
    /* canonical order: ascending item id */
    for (int i = 0; i < k; i++) {
        int32_t v = items[i];
        int j = i;
        while (j > 0 && s->items[at + (size_t)j - 1] > v) {
            s->items[at + (size_t)j] = s->items[at + (size_t)j - 1];
            j--;
        }
        s->items[at + (size_t)j] = v;
    }
    s->count[s->n] = count;
    s->first[s->n + 1] = (int32_t)(at + (size_t)k);
    s->n++;
}

static void index_itemsets(struct itemsets *s)
{
    s->nslots = 64;
    while (s->nslots < s->n * 2 + 2)
        s->nslots *= 2;
    s->slots = xcalloc(s->nslots, sizeof(int32_t));
    for (size_t i = 0; i < s->n; i++) {
        const int32_t *it = s->items + s->first[i];
        int k = s->first[i + 1] - s->first[i];
        size_t j = hash_items(it, k) & (s->nslots - 1);
        while (s->slots[j])
            j = (j + 1) & (s->nslots - 1);
        s->slots[j] = (int32_t)i + 1;
    }
}

int32_t itemsets_count(const struct itemsets *s, const int32_t *items, int k)
{
    if (!s->nslots)
        return -1;
    size_t j = hash_items(items, k) & (s->nslots - 1);
    for (; s->slots[j]; j = (j + 1) & (s->nslots - 1)) {
        size_t i = (size_t)s->slots[j] - 1;
        if (s->first[i + 1] - s->first[i] == k &&
            memcmp(s->items + s->first[i], items, (size_t)k * sizeof(int32_t)) == 0)
            return s->count[i];
    }
    return -1;
}

/* --- Eclat, counting ---------------------------------------------------------
 * Items are ranked rarest first; an itemset is built in rank order. A class is a
 * prefix P and its members x (P u {x} frequent, with the list of transactions
 * holding it). The extensions of P u {x} are found by counting, over those
 * transactions, the items ranked after x: one pass over the baskets instead of an
 * intersection per pair of members, which on wide baskets is what makes the
 * difference. Lists are only intersected for extensions that will grow further. */

struct member {
    int32_t rank;
    int32_t n;
    int32_t *tids;
};

struct miner {
    const struct baskets *b;
    struct itemsets *out;
    int32_t minc, minc_long;
    int max_len;
    size_t max_itemsets;
    const int32_t *rank; /* item -> rank, -1 when not frequent */
    const int32_t *item; /* rank -> item */
    int32_t *co[MAX_LEN_LIMIT], *touched[MAX_LEN_LIMIT], *slot[MAX_LEN_LIMIT];
    int32_t prefix[MAX_LEN_LIMIT];
};

static int32_t intersect(const int32_t *a, int32_t na, const int32_t *b, int32_t nb, int32_t *out)
{
    int32_t i = 0, j = 0, k = 0;
    while (i < na && j < nb) {
        if (a[i] < b[j])
            i++;
        else if (a[i] > b[j])
            j++;
        else
            out[k++] = a[i], i++, j++;
    }
    return k;
}

static bool full(struct miner *m)
{
    if (m->max_itemsets && m->out->n >= m->max_itemsets)
        m->out->truncated = true;
    return m->out->truncated;
}

/* Members of the class of the current prefix (plen items), in any order: each
 * member is only extended by items ranked after it, so every itemset is built once. */
static void eclat(struct miner *m, int plen, struct member *cls, int ncls)
{
    int32_t *co = m->co[plen], *touched = m->touched[plen], *slot = m->slot[plen];
    int32_t minc = plen + 2 > 2 ? m->minc_long : m->minc; /* for the extensions */
    bool deeper = plen + 2 < m->max_len;
    for (int i = 0; i < ncls; i++)
        slot[cls[i].rank] = i;
    for (int i = 0; i < ncls && !full(m); i++) {
        const struct member *x = &cls[i];
        m->prefix[plen] = m->item[x->rank];
        add_itemset(m->out, m->prefix, plen + 1, x->n);
        if (plen + 1 >= m->max_len)
            continue;
        int nt = 0;
        for (int32_t k = 0; k < x->n; k++) {
            int32_t t = x->tids[k];
            for (int32_t l = m->b->first[t]; l < m->b->first[t + 1]; l++) {
                int32_t r = m->rank[m->b->items[l]];
                if (r > x->rank && co[r]++ == 0)
                    touched[nt++] = r;
            }
        }
        struct member *next = deeper ? xmalloc(((size_t)nt + 1) * sizeof(*next)) : NULL;
        int nnext = 0;
        for (int a = 0; a < nt; a++) {
            int32_t r = touched[a], n = co[r];
            co[r] = 0;
            if (n < minc)
                continue;
            /* Only what can grow (its extensions need minc_long) becomes a member. */
            if (deeper && n >= m->minc_long) {
                /* P u {y} is frequent (it holds P u {x, y}), so y is a member. */
                const struct member *y = &cls[slot[r]];
                next[nnext].rank = r;
                next[nnext].tids = xmalloc((size_t)n * sizeof(int32_t));
                next[nnext].n = intersect(x->tids, x->n, y->tids, y->n, next[nnext].tids);
                nnext++;
            } else if (!full(m)) {
                m->prefix[plen + 1] = m->item[r];
                add_itemset(m->out, m->prefix, plen + 2, n);
            }
        }
        if (deeper) {
            eclat(m, plen + 1, next, nnext);
            for (int a = 0; a < nnext; a++)
                free(next[a].tids);
            free(next);
        }
    }
    for (int i = 0; i < ncls; i++)
        slot[cls[i].rank] = -1;
}

static int32_t min_count_of(const struct baskets *b, const struct assoc_params *p)
{
    double want = ceil(p->min_support * (double)b->n - 1e-9);
    long c = MAX((long)want, p->min_count);
    return (int32_t)MAX(c, 1);
}

static _Thread_local const int32_t *sort_counts;
static int by_count_then_id(const void *x, const void *y)
{
    int32_t a = *(const int32_t *)x, b = *(const int32_t *)y;
    if (sort_counts[a] != sort_counts[b])
        return sort_counts[a] < sort_counts[b] ? -1 : 1;
    return (a > b) - (a < b);
}

void assoc_mine(const struct baskets *b, const struct assoc_params *p, struct itemsets *out)
{
    memset(out, 0, sizeof(*out));
    struct miner m = {
        .b = b, .out = out, .minc = min_count_of(b, p), .max_itemsets = p->max_itemsets};
    m.minc_long = (int32_t)MAX((long)m.minc, p->min_count_long);
    m.max_len = p->max_len < 1 ? 1 : p->max_len > MAX_LEN_LIMIT ? MAX_LEN_LIMIT : p->max_len;
    int32_t *count = xcalloc(b->nitems + 1, sizeof(int32_t));
    for (size_t t = 0; t < b->n; t++)
        for (int32_t k = b->first[t]; k < b->first[t + 1]; k++)
            count[b->items[k]]++;
    int32_t *item = xmalloc((b->nitems + 1) * sizeof(int32_t));
    int32_t *rank = xmalloc((b->nitems + 1) * sizeof(int32_t));
    int nfreq = 0;
    for (size_t i = 0; i < b->nitems; i++) {
        rank[i] = -1;
        if (count[i] >= m.minc)
            item[nfreq++] = (int32_t)i;
    }
    sort_counts = count;
    qsort(item, (size_t)nfreq, sizeof(int32_t), by_count_then_id);
    sort_counts = NULL;
    struct member *cls = xcalloc((size_t)nfreq + 1, sizeof(*cls));
    for (int i = 0; i < nfreq; i++) {
        rank[item[i]] = i;
        cls[i].rank = i;
        cls[i].tids = xmalloc((size_t)count[item[i]] * sizeof(int32_t));
    }
    for (size_t t = 0; t < b->n; t++)
        for (int32_t k = b->first[t]; k < b->first[t + 1]; k++) {
            int32_t r = rank[b->items[k]];
            if (r >= 0)
                cls[r].tids[cls[r].n++] = (int32_t)t;
        }
    m.rank = rank;
    m.item = item;
    for (int d = 0; d < m.max_len; d++) {
        m.co[d] = xcalloc((size_t)nfreq + 1, sizeof(int32_t));
        m.touched[d] = xmalloc(((size_t)nfreq + 1) * sizeof(int32_t));
        m.slot[d] = xmalloc(((size_t)nfreq + 1) * sizeof(int32_t));
        for (int i = 0; i <= nfreq; i++)
            m.slot[d][i] = -1;
    }
    eclat(&m, 0, cls, nfreq);
    for (int d = 0; d < m.max_len; d++) {
        free(m.co[d]);
        free(m.touched[d]);
        free(m.slot[d]);
    }
    for (int i = 0; i < nfreq; i++)
        free(cls[i].tids);
    free(cls);
    free(item);
    free(rank);
    free(count);
    if (out->n == 0)
        out->first = xcalloc(1, sizeof(int32_t));
    index_itemsets(out);
}

size_t assoc_rules(const struct itemsets *s, const struct baskets *b, const struct assoc_params *p,
                   rule_fn emit, void *ctx)
{
    size_t n = 0;
    int32_t lhs[MAX_LEN_LIMIT];
    for (size_t i = 0; i < s->n; i++) {
        const int32_t *it = s->items + s->first[i];
        int k = s->first[i + 1] - s->first[i];
        if (k < p->min_len)
            continue;
        if (k == 1) {
            /* {} -> {c}: confidence is the support of c (arules, minlen 1) */
            if ((double)s->count[i] / (double)b->n >= p->min_confidence - 1e-12) {
                emit(lhs, 0, it[0], s->count[i], (int32_t)b->n, ctx);
                n++;
            }
            continue;
        }
        for (int r = 0; r < k; r++) {
            int m = 0;
            for (int j = 0; j < k; j++)
                if (j != r)
                    lhs[m++] = it[j];
            int32_t lc = itemsets_count(s, lhs, k - 1);
            if (lc <= 0)
                continue; /* cannot happen: subsets of frequent sets are frequent */
            if ((double)s->count[i] / (double)lc >= p->min_confidence - 1e-12) {
                emit(lhs, k - 1, it[r], s->count[i], lc, ctx);
                n++;
            }
        }
    }
    return n;
}

double wilson_lower(double x, double n)
{
    const double z = 2.5758293035489; /* 99%: at 95% 2 of 2 (0.342) would beat 130 of 400 */
    if (n <= 0)
        return 0;
    double ph = x / n, z2 = z * z;
    return (ph + z2 / (2 * n) - z * sqrt(ph * (1 - ph) / n + z2 / (4 * n * n))) / (1 + z2 / n);
}

/* --- serving ---------------------------------------------------------------- */

bool basket_add(int32_t *items, size_t start, size_t *end, int32_t item)
{
    size_t j = *end;
    while (j > start && items[j - 1] >= item) {
        if (items[j - 1] == item)
            return false;
        j--;
    }
    memmove(items + j + 1, items + j, (*end - j) * sizeof(int32_t));
    items[j] = item;
    (*end)++;
    return true;
}

void baskets_from_history(const struct history *h, struct arena *a, struct baskets *out)
{
    size_t no = history_norders(h);
    int32_t *first = arena_array(a, no + 1, sizeof(int32_t));
    int32_t *items = arena_array(a, h->nlines + 1, sizeof(int32_t));
    size_t n = 0, k = 0;
    for (size_t o = 0; o < no; o++) {
        size_t start = k;
        for (int32_t l = h->order_first[o]; l < h->order_first[o + 1]; l++) {
            if (h->line_qty[l] <= 0)
                continue;
            basket_add(items, start, &k, h->line_product[l]);
        }
        if (k > start) {
            first[n] = (int32_t)start;
            n++;
        }
    }
    first[n] = (int32_t)k;
    out->n = n;
    out->nitems = history_nproducts(h);
    out->first = first;
    out->items = items;
}

struct collect {
    struct assoc_rule *rules;
    size_t n, cap;
    size_t pairs; /* one-item-side rules meeting the thresholds, before top_k */
    const struct baskets *b;
    const int32_t *item_count;
};

static void collect_rule(const int32_t *lhs, int nlhs, int32_t rhs, int32_t count,
                         int32_t lhs_count, void *ctx)
{
    struct collect *c = ctx;
    if (nlhs < 1 || nlhs > 2)
        return;
    xgrow((void **)&c->rules, &c->cap, c->n + 1, sizeof(struct assoc_rule));
    struct assoc_rule *r = &c->rules[c->n++];
    r->lhs[0] = lhs[0];
    r->lhs[1] = nlhs == 2 ? lhs[1] : -1;
    r->rhs = rhs;
    r->count = count;
    r->lhs_count = lhs_count;
    r->confidence = (float)((double)count / lhs_count);
    double supp_rhs = (double)c->item_count[rhs] / (double)c->b->n;
    r->lift = (float)(r->confidence / supp_rhs);
    r->score = (float)wilson_lower(count, lhs_count);
}

static int64_t lhs_key(int32_t a, int32_t b)
{
    return ((int64_t)(a + 1) << 32) | (int64_t)(uint32_t)(b + 1);
}

static int by_lhs_then_score(const void *x, const void *y)
{
    const struct assoc_rule *a = x, *b = y;
    int64_t ka = lhs_key(a->lhs[0], a->lhs[1]), kb = lhs_key(b->lhs[0], b->lhs[1]);
    if (ka != kb)
        return ka < kb ? -1 : 1;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return (a->rhs > b->rhs) - (a->rhs < b->rhs);
}

static size_t slot_of(const struct model_assoc *m, int64_t key)
{
    uint64_t h = (uint64_t)key * 0x9E3779B97F4A7C15ull;
    size_t j = (size_t)(h >> 20) & (m->nslots - 1);
    while (m->keys[j] && m->keys[j] != key)
        j = (j + 1) & (m->nslots - 1);
    return j;
}

/* Rules with one item on the left, straight from counting: for each frequent item
 * i, count the items beside it over its baskets and keep the best top_k rules
 * i -> j. No itemset is stored: on wide baskets (Online Retail) there are millions
 * of frequent pairs, of which only the best few per item are ever served. */
static void single_rules(const struct baskets *b, int32_t minc, double min_conf, int top_k,
                         const int32_t *count, struct collect *c)
{
    size_t ni = b->nitems;
    int32_t *tfirst, *tids;
    csr_transpose(b->n, b->first, b->items, ni, &tfirst, &tids);
    int32_t *co = xcalloc(ni + 1, sizeof(int32_t));
    int32_t *touched = xmalloc((ni + 1) * sizeof(int32_t));
    struct assoc_rule *top = xmalloc(((size_t)top_k + 1) * sizeof(struct assoc_rule));
    for (size_t i = 0; i < ni; i++) {
        if (count[i] < minc)
            continue;
        int nt = 0, n = 0;
        for (int32_t x = tfirst[i]; x < tfirst[i + 1]; x++) {
            int32_t t = tids[x];
            for (int32_t k = b->first[t]; k < b->first[t + 1]; k++) {
                int32_t j = b->items[k];
                if ((size_t)j != i && co[j]++ == 0)
                    touched[nt++] = j;
            }
        }
        for (int x = 0; x < nt; x++) {
            int32_t j = touched[x], both = co[j];
            co[j] = 0;
            if (both < minc || (double)both / count[i] < min_conf - 1e-12)
                continue;
            c->pairs++;
            struct assoc_rule r = {{(int32_t)i, -1}, j, both, count[i], 0, 0, 0};
            r.confidence = (float)((double)both / count[i]);
            r.lift = (float)(r.confidence / ((double)count[j] / (double)b->n));
            r.score = (float)wilson_lower(both, count[i]);
            if (n == top_k && r.score <= top[n - 1].score)
                continue;
            int at = n < top_k ? n++ : top_k - 1;
            while (at > 0 && (top[at - 1].score < r.score ||
                              (top[at - 1].score == r.score && top[at - 1].rhs > j))) {
                top[at] = top[at - 1];
                at--;
            }
            top[at] = r;
        }
        xgrow((void **)&c->rules, &c->cap, c->n + (size_t)n + 1, sizeof(struct assoc_rule));
        memcpy(c->rules + c->n, top, (size_t)n * sizeof(struct assoc_rule));
        c->n += (size_t)n;
    }
    free(top);
    free(touched);
    free(co);
    free(tids);
    free(tfirst);
}

static void pair_rule(const int32_t *lhs, int nlhs, int32_t rhs, int32_t count, int32_t lhs_count,
                      void *ctx)
{
    if (nlhs == 2)
        collect_rule(lhs, nlhs, rhs, count, lhs_count, ctx);
}

void model_assoc_fit(const struct baskets *b, const struct assoc_params *params, int top_k,
                     struct arena *a, struct model_assoc *m, struct figures *fig)
{
    double t0 = mono_seconds();
    struct assoc_params pp = *params;
    const struct assoc_params *p = &pp;
    memset(m, 0, sizeof(*m));
    m->nbaskets = b->n;
    int32_t minc = min_count_of(b, p);
    int32_t *item_count = xcalloc(b->nitems + 1, sizeof(int32_t));
    for (size_t t = 0; t < b->n; t++)
        for (int32_t k = b->first[t]; k < b->first[t + 1]; k++)
            item_count[b->items[k]]++;
    struct collect c = {.b = b, .item_count = item_count};
    single_rules(b, minc, p->min_confidence, top_k, item_count, &c);
    size_t singles = c.n;

    /* Two items on the left cost about the sum of squared basket sizes to count. The
     * budget grows with the baskets (so a large shop of ordinary carts keeps them);
     * past it, wide baskets (wholesale, hundreds of lines) serve one-item sides, said
     * in the log and in the run's figures. */
    double work = 0;
    for (size_t t = 0; t < b->n; t++) {
        double k = b->first[t + 1] - b->first[t];
        work += k * k;
    }
    double budget = MAX(ASSOC_TRIPLE_BUDGET, ASSOC_WIDE_BASKET * (double)b->n);
    bool wanted = pp.max_len > 2;
    if (wanted && work > budget) {
        pp.max_len = 2;
        log_warn("assoc: baskets too wide for 2-item rule sides (sum of squared sizes %.0f "
                 "> %.0f): one-item sides only",
                 work, budget);
    }
    size_t nsets = 0;
    if (pp.max_len > 2) {
        struct itemsets sets;
        assoc_mine(b, p, &sets);
        nsets = sets.n;
        assoc_rules(&sets, b, p, pair_rule, &c);
        itemsets_release(&sets);
        /* Group the two-item sides by their first item with a counting sort, then
         * order each (small) group by second item and score. */
        size_t np2 = c.n - singles;
        struct assoc_rule *pairs = c.rules + singles;
        int32_t *bucket = xcalloc(b->nitems + 2, sizeof(int32_t));
        for (size_t i = 0; i < np2; i++)
            bucket[pairs[i].lhs[0] + 1]++;
        for (size_t i = 0; i < b->nitems; i++)
            bucket[i + 1] += bucket[i];
        struct assoc_rule *grouped = xmalloc((np2 + 1) * sizeof(struct assoc_rule));
        int32_t *fill = xmalloc((b->nitems + 1) * sizeof(int32_t));
        memcpy(fill, bucket, (b->nitems + 1) * sizeof(int32_t));
        for (size_t i = 0; i < np2; i++)
            grouped[fill[pairs[i].lhs[0]]++] = pairs[i];
        for (size_t i = 0; i < b->nitems; i++)
            qsort(grouped + bucket[i], (size_t)(bucket[i + 1] - bucket[i]),
                  sizeof(struct assoc_rule), by_lhs_then_score);
        if (np2 > 0) /* pairs is NULL without any */
            memcpy(pairs, grouped, np2 * sizeof(struct assoc_rule));
        free(grouped);
        free(fill);
        free(bucket);
    }

    /* Keep the best top_k of each LHS group, and index the groups. */
    size_t groups = 0, kept = 0;
    for (size_t i = 0; i < c.n;) {
        int64_t key = lhs_key(c.rules[i].lhs[0], c.rules[i].lhs[1]);
        size_t j = i + 1;
        while (j < c.n && lhs_key(c.rules[j].lhs[0], c.rules[j].lhs[1]) == key)
            j++;
        groups++;
        kept += MIN(j - i, (size_t)top_k);
        i = j;
    }
    m->nslots = 16;
    while (m->nslots < groups * 2 + 2)
        m->nslots *= 2;
    m->keys = arena_array(a, m->nslots, sizeof(int64_t));
    m->start = arena_array(a, m->nslots, sizeof(int32_t));
    m->len = arena_array(a, m->nslots, sizeof(int32_t));
    m->rules = arena_array(a, kept + 1, sizeof(struct assoc_rule));
    for (size_t i = 0; i < c.n;) {
        int64_t key = lhs_key(c.rules[i].lhs[0], c.rules[i].lhs[1]);
        size_t j = i + 1;
        while (j < c.n && lhs_key(c.rules[j].lhs[0], c.rules[j].lhs[1]) == key)
            j++;
        size_t keep = MIN(j - i, (size_t)top_k);
        size_t slot = slot_of(m, key);
        m->keys[slot] = key;
        m->start[slot] = (int32_t)m->nrules;
        m->len[slot] = (int32_t)keep;
        memcpy(m->rules + m->nrules, c.rules + i, keep * sizeof(struct assoc_rule));
        m->nrules += keep;
        i = j;
    }
    figures_add(fig, "baskets", (double)b->n);
    figures_add(fig, "max_len", pp.max_len);
    figures_add(fig, "min_count", (double)minc);
    figures_add(fig, "frequent_pairs_as_rules", (double)c.pairs);
    figures_add(fig, "itemsets_for_two_item_sides", (double)nsets);
    figures_add(fig, "two_item_sides_dropped", wanted && pp.max_len == 2 ? 1 : 0);
    figures_add(fig, "rules_kept", (double)m->nrules);
    figures_add(fig, "fit_seconds", mono_seconds() - t0);
    free(c.rules);
    free(item_count);
}

const struct assoc_rule *model_assoc_rules(const struct model_assoc *m, int32_t a, int32_t b,
                                           int32_t *n)
{
    *n = 0;
    if (!m->nslots)
        return NULL;
    if (b >= 0 && b < a) {
        int32_t t = a;
        a = b;
        b = t;
    }
    size_t s = slot_of(m, lhs_key(a, b));
    if (!m->keys[s])
        return NULL;
    *n = m->len[s];
    return m->rules + m->start[s];
}

int model_assoc_train(struct snapshot *s, struct arena *a, const struct model_params *p,
                      struct figures *fig, char *err, size_t errlen)
{
    struct baskets baskets;
    struct assoc_params ap = {.min_count = p->assoc_min_count,
                              .min_count_long = 40,
                              .min_confidence = 0.02,
                              .min_len = 2,
                              .max_len = 3,
                              .max_itemsets = 4000000};
    UNUSED(err);
    UNUSED(errlen);
    baskets_from_history(&s->hist, a, &baskets);
    model_assoc_fit(&baskets, &ap, 50, a, &s->assoc, fig);
    return 0;
}

void model_assoc_save(const struct snapshot *s, struct snapw *w)
{
    const struct model_assoc *m = &s->assoc;
    struct model_assoc head = *m;
    head.rules = NULL;
    head.keys = NULL;
    head.start = head.len = NULL;
    snapw_put(w, "assoc", &head, sizeof(head), 1);
    snapw_put(w, "assoc.rules", m->rules, sizeof(*m->rules), m->nrules);
    snapw_put(w, "assoc.keys", m->keys, sizeof(*m->keys), m->nslots);
    snapw_put(w, "assoc.start", m->start, sizeof(*m->start), m->nslots);
    snapw_put(w, "assoc.len", m->len, sizeof(*m->len), m->nslots);
}

void model_assoc_load(struct snapshot *s, struct snapr *r)
{
    struct model_assoc *m = &s->assoc;
    if (!snapr_copy(r, "assoc", m, sizeof(*m)))
        return;
    m->rules = snapr_get(r, "assoc.rules", sizeof(*m->rules), m->nrules);
    m->keys = snapr_get(r, "assoc.keys", sizeof(*m->keys), m->nslots);
    m->start = snapr_get(r, "assoc.start", sizeof(*m->start), m->nslots);
    m->len = snapr_get(r, "assoc.len", sizeof(*m->len), m->nslots);
}
