#include "xsell/eval.h"

#include <math.h>

#include "xsell/eval_nbr.h"
#include "xsell/log.h"
#include "xsell/recommend.h"
#include "xsell/stats.h"
#include "xsell/xalloc.h"

#define TOP_N 10

static const char *const method_names[EVAL_METHODS] = {"popularity", "basket_rules", "content",
                                                       "item_knn",   "ease",         "blend",
                                                       "global_top", "personal_top", "tifu_knn"};

/* The training side: every catalogue product, and the orders and signals up to the cut. */
static void copy_before(const struct history *full, double cut, struct history *h)
{
    for (size_t p = 0; p < history_nproducts(full); p++)
        if (full->in_catalog[p])
            history_add_product(h, idmap_key(&full->products, (int32_t)p), full->name[p],
                                full->category[p], full->price[p], full->cost[p],
                                full->in_stock[p]);
    for (size_t o = 0; o < history_norders(full) && full->order_time[o] <= cut; o++) {
        int32_t c = full->order_customer[o];
        const char *cust = c >= 0 ? idmap_key(&full->customers, c) : NULL;
        for (int32_t l = full->order_first[o]; l < full->order_first[o + 1]; l++)
            history_add_line(h, idmap_key(&full->orders, (int32_t)o), cust, full->order_time[o],
                             idmap_key(&full->products, full->line_product[l]), full->line_qty[l],
                             full->line_price[l]);
    }
    history_copy_signals(h, full, cut);
    history_finish(h);
}

/* The same external id's index in another history's map, or -1. */
static int32_t same_id(const struct idmap *from, int32_t i, const struct idmap *to)
{
    const char *id = idmap_key(from, i);
    return idmap_find(to, id, strlen(id));
}

/* The first of full's orders (kept in time order) after t. */
static size_t first_after(const struct history *full, double t)
{
    size_t lo = 0, hi = history_norders(full);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (full->order_time[mid] <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

struct snapshot *eval_fit_cut(const struct history *full, double holdout_days,
                              const struct model_params *params, char *err, size_t errlen)
{
    return eval_fit_at(full, full, full->t_max - holdout_days * 86400.0, params, err, errlen);
}

struct snapshot *eval_fit_at(const struct history *src, const struct history *full, double cut,
                             const struct model_params *params, char *err, size_t errlen)
{
    struct snapshot *s = snapshot_new();
    copy_before(src, cut, &s->hist);
    size_t n = history_norders(&s->hist);
    if (n == 0 || first_after(full, cut) == history_norders(full)) {
        fmt_error(err, errlen, "the cut-off leaves %s",
                  n ? "nothing to score" : "no training data");
        snapshot_unref(s);
        return NULL;
    }
    struct model_params p = *params;
    p.as_of = cut;
    struct model_figures figs;
    if (models_fit(s, &p, true, &figs, err, errlen)) {
        snapshot_unref(s);
        return NULL;
    }
    return s;
}

/* The training-side index of held-out order o's customer, or -1 (a guest, or a
 * customer unknown before the cut). */
static int32_t held_out_customer(const struct history *full, size_t o, const struct history *h)
{
    int32_t fc = full->order_customer[o];
    return fc < 0 ? -1 : same_id(&full->customers, fc, &h->customers);
}

/* The held-out orders first..end in a fixed scrambled order: the i-th is
 * first + (i * stride) mod n, stride coprime with n, so that the cases kept when
 * there are more than EVAL_CASES_MAX are spread over the whole held-out period
 * rather than its first days. */
struct scramble {
    size_t first, n, stride;
};

static size_t gcd(size_t a, size_t b)
{
    while (b) {
        size_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static struct scramble scramble_init(size_t first, size_t end)
{
    struct scramble s = {.first = first, .n = end > first ? end - first : 0, .stride = 7919};
    while (s.n > 1 && gcd(s.stride, s.n) != 1)
        s.stride += 2;
    return s;
}

static size_t scramble_at(const struct scramble *s, size_t i)
{
    return s->first + i * s->stride % s->n; /* i < 2^31 orders, stride < 2^14: no overflow */
}

struct keep_ctx {
    const bool *blocked;
};

static bool not_blocked(int32_t p, void *ctx)
{
    const struct keep_ctx *k = ctx;
    return !k->blocked[p];
}

/* The top list of a method into out (at most TOP_N). */
static int ask(struct snapshot *s, int method, const struct model_item2item *knn,
               const struct model_item2item *ease, struct nbr_baselines *nb, const int32_t *cart,
               int ncart, int32_t customer, struct arena *a, int32_t *out)
{
    if (method == EVAL_M_GLOBAL_TOP)
        return nbr_global_top(nb, TOP_N, out);
    if (method == EVAL_M_PERSONAL_TOP)
        return nbr_personal_top(nb, customer, TOP_N, out);
    if (method == EVAL_M_TIFU)
        return nbr_tifu(nb, customer, TOP_N, out);
    if (method == EVAL_M_POPULAR) {
        bool *blocked = arena_array(a, history_nproducts(&s->hist) + 1, sizeof(bool));
        for (int i = 0; i < ncart; i++)
            blocked[cart[i]] = true;
        struct keep_ctx k = {blocked};
        return (int)model_popular_top(&s->popular, not_blocked, &k, TOP_N, out);
    }
    struct rec_query q = {.cart = cart,
                          .ncart = ncart,
                          .customer = customer,
                          .limit = TOP_N,
                          .include_purchased = true,
                          .max_price = 1e300};
    s->i2i = method == EVAL_M_EASE ? *ease : *knn;
    switch (method) {
    case EVAL_M_RULES:
        q.strategy = REC_COMPLEMENTS;
        break;
    case EVAL_M_CONTENT:
        q.strategy = REC_PERSONAL;
        q.only = REC_ONLY_CONTENT;
        break;
    case EVAL_M_KNN:
    case EVAL_M_EASE:
        q.strategy = REC_PERSONAL;
        q.only = REC_ONLY_CF;
        break;
    default:
        q.strategy = REC_AUTO;
        s->i2i = ease->n ? *ease : *knn; /* what training would serve */
        break;
    }
    struct rec_result r;
    recommend(s, &q, a, &r);
    int n = 0;
    for (int i = 0; i < r.n; i++)
        if (r.items[i].kind != KIND_POPULAR) /* a method's own picks only */
            out[n++] = r.items[i].product;
    return n;
}

static double dcg_at(int rank)
{
    return 1.0 / log2(rank + 2.0);
}

struct truth {
    int32_t customer; /* in the training history */
    int32_t *items;   /* training product indices (-1: unknown to training) */
    bool *repeat;
    int n;
};

/* What full holds in orders [first, end), seen in a fixed scrambled order: per
 * customer known to h (at most max_truth), the distinct products bought; and, when
 * carts, each basket with two products h knows (at most max_truth), its last one to
 * be found. */
struct cases {
    struct truth *truths;
    int ntruth;
    int32_t **carts;
    int *ncarts;
    int nbask;
};

static void collect_cases(const struct history *full, const struct history *h, size_t first,
                          size_t end, int max_truth, bool carts, struct arena *work,
                          struct cases *cs)
{
    memset(cs, 0, sizeof(*cs));
    int32_t *slot = arena_array(work, history_ncustomers(h) + 1, sizeof(int32_t));
    for (size_t c = 0; c < history_ncustomers(h); c++)
        slot[c] = -1;
    cs->truths = arena_array(work, (size_t)max_truth + 1, sizeof(struct truth));
    if (carts) {
        cs->carts = arena_array(work, (size_t)max_truth + 1, sizeof(int32_t *));
        cs->ncarts = arena_array(work, (size_t)max_truth + 1, sizeof(int));
    }
    struct scramble order = scramble_init(first, end);
    for (size_t i = 0; i < order.n; i++) {
        size_t o = scramble_at(&order, i);
        int32_t items[64];
        int k = 0;
        for (int32_t l = full->order_first[o]; l < full->order_first[o + 1] && k < 64; l++) {
            if (full->line_qty[l] <= 0)
                continue;
            int32_t p2 = same_id(&full->products, full->line_product[l], &h->products);
            bool dup = false;
            for (int x = 0; x < k; x++)
                dup |= items[x] == p2;
            if (!dup)
                items[k++] = p2;
        }
        if (k == 0)
            continue;
        /* a basket: hide its last known product */
        int known = 0;
        for (int x = 0; x < k; x++)
            known += items[x] >= 0;
        if (carts && known >= 2 && cs->nbask < max_truth) {
            int32_t *cart = arena_array(work, (size_t)known, sizeof(int32_t));
            int nc = 0;
            for (int x = 0; x < k; x++)
                if (items[x] >= 0)
                    cart[nc++] = items[x];
            cs->carts[cs->nbask] = cart;
            cs->ncarts[cs->nbask] = nc; /* the last one is the one to find */
            cs->nbask++;
        }
        int32_t c = held_out_customer(full, o, h);
        if (c < 0)
            continue;
        if (slot[c] < 0) {
            if (cs->ntruth == max_truth)
                continue;
            slot[c] = cs->ntruth;
            cs->truths[cs->ntruth].customer = c;
            cs->truths[cs->ntruth].items = arena_array(work, 256, sizeof(int32_t));
            cs->truths[cs->ntruth].repeat = arena_array(work, 256, sizeof(bool));
            cs->ntruth++;
        }
        struct truth *t = &cs->truths[slot[c]];
        for (int x = 0; x < k && t->n < 256; x++) {
            bool dup = false;
            for (int y = 0; y < t->n; y++)
                dup |= t->items[y] == items[x] && items[x] >= 0;
            if (dup)
                continue;
            t->items[t->n] = items[x];
            t->repeat[t->n] = items[x] >= 0 && history_customer_bought(h, c, items[x]);
            t->n++;
        }
    }
}

/* The methods' lists and what they are asked with. */
struct askers {
    const struct model_item2item *knn, *ease;
    struct nbr_baselines *nb;
};

/* Method m's next-basket figures over the customers of cs into em (sums, not yet
 * divided); seen (may be NULL) marks what it recommended. */
static void score_customers(struct snapshot *s, int m, const struct askers *k,
                            const struct cases *cs, struct eval_method *em, bool *seen)
{
    int32_t list[TOP_N];
    for (int i = 0; i < cs->ntruth; i++) {
        struct arena a;
        arena_init(&a);
        const struct truth *t = &cs->truths[i];
        int n = ask(s, m, k->knn, k->ease, k->nb, NULL, 0, t->customer, &a, list);
        double hits = 0, dcg = 0, hr = 0, hn = 0, nr = 0, nn = 0;
        for (int x = 0; x < t->n; x++)
            t->repeat[x] ? nr++ : nn++;
        for (int r = 0; r < n; r++) {
            if (seen)
                seen[list[r]] = true;
            for (int x = 0; x < t->n; x++)
                if (t->items[x] == list[r]) {
                    hits++;
                    dcg += dcg_at(r);
                    t->repeat[x] ? hr++ : hn++;
                }
        }
        double idcg = 0;
        for (int r = 0; r < MIN(t->n, TOP_N); r++)
            idcg += dcg_at(r);
        em->hit += hits > 0;
        em->recall += hits / t->n;
        em->ndcg += idcg > 0 ? dcg / idcg : 0;
        if (nr > 0)
            em->recall_repeat += hr / nr;
        if (nn > 0)
            em->recall_new += hn / nn;
        arena_release(&a);
    }
}

/* Method m's list for each basket's cart (its last product hidden): hits and DCG into
 * em's cart figures (sums). */
static void score_carts(struct snapshot *s, int m, const struct askers *k, const struct cases *cs,
                        struct eval_method *em)
{
    int32_t list[TOP_N];
    for (int b = 0; b < cs->nbask; b++) {
        struct arena a;
        arena_init(&a);
        int nc = cs->ncarts[b] - 1;
        int32_t hidden = cs->carts[b][nc];
        int n = ask(s, m, k->knn, k->ease, k->nb, cs->carts[b], nc, -1, &a, list);
        for (int r = 0; r < n; r++)
            if (list[r] == hidden) {
                em->cart_hit++;
                em->cart_ndcg += dcg_at(r);
            }
        arena_release(&a);
    }
}

int eval_recommend(const struct history *full, struct snapshot *s, struct eval_result *out,
                   char *err, size_t errlen)
{
    double t0 = mono_seconds();
    memset(out, 0, sizeof(*out));
    out->cut = s->as_of;
    const struct model_params p = s->params;
    const struct model_item2item serving_i2i = s->i2i; /* ask() swaps the variants in */
    const struct history *h = &s->hist;
    /* Both item-to-item variants, whatever the size rule would pick. */
    struct model_item2item knn, ease = {0};
    struct figures fig = {0};
    struct i2i_params ip = i2i_params_of(&p);
    ip.ease_max_items = 0;
    model_item2item_fit(h, &ip, &s->arena, &knn, &fig);
    bool ease_ok = history_nproducts(h) <= (size_t)p.ease_max_items;
    if (ease_ok) {
        ip.ease_max_items = p.ease_max_items;
        ease_ok = model_item2item_fit(h, &ip, &s->arena, &ease, &fig) == 0;
    }

    /* The truth after the cut: per known customer, the distinct products bought. */
    size_t np = history_nproducts(h);
    struct arena work;
    arena_init(&work);
    struct cases cs;
    collect_cases(full, h, first_after(full, s->as_of), history_norders(full), EVAL_CASES_MAX, true,
                  &work, &cs);
    out->customers = cs.ntruth;
    out->baskets = cs.nbask;
    for (int i = 0; i < cs.ntruth; i++) {
        bool r = false, nw = false;
        for (int x = 0; x < cs.truths[i].n; x++)
            r |= cs.truths[i].repeat[x], nw |= !cs.truths[i].repeat[x];
        out->repeat_customers += r;
        out->new_customers += nw;
    }

    struct nbr_baselines nb;
    nbr_build(h, &nb);
    struct askers k = {&knn, &ease, &nb};
    bool *seen = arena_array(&work, np + 1, sizeof(bool));
    for (int m = 0; m < EVAL_METHODS; m++) {
        struct eval_method *em = &out->m[m];
        em->name = method_names[m];
        if (m == EVAL_M_EASE && !ease_ok) {
            em->skipped = true;
            continue;
        }
        memset(seen, 0, np + 1);
        score_customers(s, m, &k, &cs, em, seen);
        em->customers_only = m >= EVAL_M_GLOBAL_TOP;
        if (!em->customers_only)
            score_carts(s, m, &k, &cs, em);
        size_t covered = 0;
        for (size_t p2 = 0; p2 < np; p2++)
            covered += seen[p2];
        em->coverage = np ? (double)covered / (double)np : 0;
        if (cs.ntruth) {
            em->hit /= cs.ntruth;
            em->recall /= cs.ntruth;
            em->ndcg /= cs.ntruth;
        }
        if (out->repeat_customers)
            em->recall_repeat /= (double)out->repeat_customers;
        if (out->new_customers)
            em->recall_new /= (double)out->new_customers;
        if (cs.nbask) {
            em->cart_hit /= cs.nbask;
            em->cart_ndcg /= cs.nbask;
        }
    }
    nbr_release(&nb);
    arena_release(&work);
    s->i2i = serving_i2i;
    out->seconds = mono_seconds() - t0;
    return cs.ntruth + cs.nbask > 0 ? 0
                                    : fmt_error(err, errlen, "nothing after the cut-off to score");
}

int eval_blend(const struct history *full, struct snapshot *s, double until, int max_customers,
               struct eval_method *out)
{
    memset(out, 0, sizeof(*out));
    out->name = method_names[EVAL_M_BLEND];
    struct arena work;
    arena_init(&work);
    struct cases cs;
    collect_cases(full, &s->hist, first_after(full, s->as_of), first_after(full, until),
                  max_customers, true, &work, &cs);
    const struct model_item2item own = s->i2i, none = {0};
    struct askers k = {&own, &none, NULL}; /* the blend with s's own item-to-item model */
    score_customers(s, EVAL_M_BLEND, &k, &cs, out, NULL);
    score_carts(s, EVAL_M_BLEND, &k, &cs, out);
    if (cs.ntruth) {
        out->hit /= cs.ntruth;
        out->recall /= cs.ntruth;
        out->ndcg /= cs.ntruth;
    }
    if (cs.nbask) {
        out->cart_hit /= cs.nbask;
        out->cart_ndcg /= cs.nbask;
    }
    arena_release(&work);
    return cs.ntruth;
}

/* --- /upsell ----------------------------------------------------------------- */

#define UPSELL_TOP   5
#define NAME_SIMILAR 0.5

/* B is a substitute of A by the catalogue alone (independent of the model). */
static bool catalogue_substitute(const struct snapshot *s, int32_t a, int32_t b)
{
    const struct history *h = &s->hist;
    if (h->category[a] && h->category[b])
        return strcmp(h->category[a], h->category[b]) == 0;
    const struct model_content *c = &s->content;
    for (int x = 0; x < c->k; x++) {
        int32_t j = c->nbr[(size_t)a * c->k + x];
        if (j < 0 || c->w[(size_t)a * c->k + x] < NAME_SIMILAR)
            break;
        if (j == b)
            return true;
    }
    return false;
}

static bool in_step(const struct history *h, int32_t a, int32_t b)
{
    return h->price[a] > 0 && h->price[b] >= 1.1 * h->price[a] - 1e-9 &&
           h->price[b] <= 2.0 * h->price[a] + 1e-9;
}

static void add_rank(int rank, double *hit1, double *hit5, double *ndcg5)
{
    if (rank == 0)
        *hit1 += 1;
    if (rank >= 0 && rank < UPSELL_TOP) {
        *hit5 += 1;
        *ndcg5 += dcg_at(rank);
    }
}

/* The baselines' ranks of B among every candidate of the case (every product in
 * stock, in A's price step, not A, not bought by the customer before): by
 * popularity; by nearest price above A; A's category first, then by popularity.
 * Ties go against B (a lower index first). */
static void baseline_ranks(const struct snapshot *s, int32_t a, int32_t b, int32_t c, int rank[3],
                           int *candidates)
{
    const struct history *h = &s->hist;
    const double *pop = s->popular.score;
    bool b_same = catalogue_substitute(s, a, b);
    int k = 0;
    rank[0] = rank[1] = rank[2] = 0;
    for (size_t j = 0; j < history_nproducts(h); j++) {
        int32_t p = (int32_t)j;
        if (p == a || !h->in_stock[p] || !in_step(h, a, p) || history_customer_bought(h, c, p))
            continue;
        k++;
        if (p == b)
            continue;
        bool before = p < b;
        rank[0] += pop[p] > pop[b] || (pop[p] == pop[b] && before);
        rank[1] += h->price[p] < h->price[b] || (h->price[p] == h->price[b] && before);
        bool same = catalogue_substitute(s, a, p);
        rank[2] += (same && !b_same) ||
                   (same == b_same && (pop[p] > pop[b] || (pop[p] == pop[b] && before)));
    }
    *candidates = k;
}

/* Per training customer, their held-out orders (full's indices, in time order):
 * first[c]..first[c + 1] in rows. */
static void held_out_orders(const struct history *full, const struct history *h, size_t first_test,
                            int32_t **first_out, int32_t **rows_out)
{
    size_t nc = history_ncustomers(h), no = history_norders(full);
    int32_t *first = xcalloc(nc + 2, sizeof(int32_t));
    int32_t *who = xmalloc((no - first_test + 1) * sizeof(int32_t));
    for (size_t o = first_test; o < no; o++) {
        who[o - first_test] = held_out_customer(full, o, h);
        if (who[o - first_test] >= 0)
            first[who[o - first_test] + 2]++;
    }
    for (size_t c = 0; c < nc; c++)
        first[c + 2] += first[c + 1];
    int32_t *rows = xmalloc(((size_t)first[nc + 1] + 1) * sizeof(int32_t));
    for (size_t o = first_test; o < no; o++)
        if (who[o - first_test] >= 0)
            rows[first[who[o - first_test] + 1]++] = (int32_t)o;
    free(who);
    *first_out = first;
    *rows_out = rows;
}

int eval_upsell(const struct history *full, const struct snapshot *s,
                struct eval_upsell_result *out, char *err, size_t errlen)
{
    static const char *const names[UPSELL_METHODS] = {"upsell", "popular_pricier",
                                                      "nearest_pricier", "category_popular"};
    double t0 = mono_seconds();
    memset(out, 0, sizeof(*out));
    for (int i = 0; i < UPSELL_METHODS; i++)
        out->m[i].name = names[i];
    out->cut = s->as_of;
    const struct history *h = &s->hist;
    size_t nc = history_ncustomers(h), first_test = first_after(full, s->as_of);
    int32_t *first, *rows;
    held_out_orders(full, h, first_test, &first, &rows);
    int32_t *bought = xmalloc((history_nproducts(h) + 1) * sizeof(int32_t)); /* new, in order */
    double *ratio = xmalloc(EVAL_CASES_MAX * sizeof(double));
    double candidates = 0;
    /* customers in a scrambled order, so that a capped run spreads over them all */
    struct scramble order = scramble_init(0, nc);
    for (size_t x = 0; x < order.n && out->cases < EVAL_CASES_MAX; x++) {
        int32_t c = (int32_t)scramble_at(&order, x);
        int nb = 0;
        for (int32_t r = first[c]; r < first[c + 1]; r++) {
            size_t o = (size_t)rows[r];
            for (int32_t l = full->order_first[o]; l < full->order_first[o + 1]; l++) {
                int32_t b = same_id(&full->products, full->line_product[l], &h->products);
                if (full->line_qty[l] <= 0 || b < 0 || !h->in_stock[b] ||
                    history_customer_bought(h, c, b))
                    continue;
                bool dup = false;
                for (int i = 0; i < nb && !dup; i++)
                    dup = bought[i] == b;
                if (!dup)
                    bought[nb++] = b;
            }
        }
        /* a case per product the customer bought: the first new purchase in its step */
        for (int32_t k = h->cust_first[c]; k < h->cust_first[c + 1] && nb > 0; k++) {
            int32_t a = h->cust_items[k], b = -1;
            if (s->repeat.times[k] <= 0)
                continue;
            for (int i = 0; i < nb && b < 0; i++)
                if (in_step(h, a, bought[i]))
                    b = bought[i];
            if (b < 0)
                continue;
            struct arena ar;
            arena_init(&ar);
            struct upsell_query q = {
                .item = a, .customer = c, .limit = UPSELL_TOP, .min_step = 0.1, .max_step = 1.0};
            struct churn_answer risk; /* as /upsell serves it: a lighter hand when at risk */
            if (model_churn_query(&s->churn, c, s->churn.horizon_days, &risk))
                q.churn_risk = MIN(MAX(risk.churn_risk, 0), 1);
            struct upsell_item *res;
            int n = model_upsell_query(&s->upsell, h, &s->repeat, &q, &ar, &res);
            int rank[UPSELL_METHODS] = {-1}, ncand;
            for (int i = 0; i < n; i++)
                if (res[i].product == b)
                    rank[0] = i;
            arena_release(&ar);
            baseline_ranks(s, a, b, c, rank + 1, &ncand);
            bool related = catalogue_substitute(s, a, b);
            for (int i = 0; i < UPSELL_METHODS; i++) {
                add_rank(rank[i], &out->m[i].hit1, &out->m[i].hit5, &out->m[i].ndcg5);
                if (related)
                    add_rank(rank[i], &out->m[i].related_hit1, &out->m[i].related_hit5,
                             &out->m[i].related_ndcg5);
            }
            out->related += related;
            candidates += ncand;
            ratio[out->cases] = h->price[b] / h->price[a];
            out->step_mean += ratio[out->cases] - 1;
            if (++out->cases >= EVAL_CASES_MAX)
                break;
        }
    }
    for (int i = 0; i < UPSELL_METHODS && out->cases; i++) {
        out->m[i].hit1 /= (double)out->cases;
        out->m[i].hit5 /= (double)out->cases;
        out->m[i].ndcg5 /= (double)out->cases;
        if (out->related) {
            out->m[i].related_hit1 /= (double)out->related;
            out->m[i].related_hit5 /= (double)out->related;
            out->m[i].related_ndcg5 /= (double)out->related;
        }
    }
    if (out->cases) {
        out->step_mean /= (double)out->cases;
        out->step_median = stats_median(ratio, (size_t)out->cases) - 1;
        out->candidates_mean = candidates / (double)out->cases;
    }
    free(ratio);
    free(bought);
    free(first);
    free(rows);
    out->seconds = mono_seconds() - t0;
    return out->cases ? 0 : fmt_error(err, errlen, "no pricier purchases after the cut-off");
}
