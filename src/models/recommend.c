#include "xsell/recommend.h"

#include <math.h>
#include <pthread.h>

#include "xsell/xalloc.h"

#define W_PERSONAL          0.7 /* strategy=personal's weights (auto's are tuned) */
#define W_CONTENT           0.5
#define HISTORY_WEIGHT      0.5
#define CART_PAIRS_MAX      20 /* two-item rule sides are looked up for the first 20 items */
#define HISTORY_SOURCES_MAX 64 /* a wholesaler's thousand products: the 64 most recent speak */

const char *const rec_strategy_names[REC_STRATEGIES] = {"auto",      "complements", "personal",
                                                        "buy_again", "also_viewed", "popular"};
const char *const rec_objective_names[REC_OBJECTIVES] = {"relevance", "revenue", "margin"};

const char *rec_kind_name(enum rec_kind k)
{
    static const char *names[] = {"bought_together", "similar_customers", "similar_content",
                                  "buy_again",       "popular",           "also_viewed"};
    return names[k];
}

/* What the lists know of one product during one request. */
struct cand {
    double comp, pers, cont, peer, own, view, pers_best, cont_best, view_best;
    const struct assoc_rule *rule;        /* best rule */
    int32_t pers_src, cont_src, view_src; /* the source that added most */
};

/* Per-thread scratch, reused across requests: an entry is valid when its stamp is
 * the request's epoch, so nothing of catalogue size is cleared per request. */
struct scratch {
    size_t cap;
    uint32_t epoch;
    uint32_t *seen, *blocked;
    struct cand *c;
    int32_t *touched;
    size_t ntouched;
};

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_free(void *p)
{
    struct scratch *sc = p;
    if (!sc)
        return;
    free(sc->seen);
    free(sc->blocked);
    free(sc->c);
    free(sc->touched);
    free(sc);
}

static void scratch_key_init(void)
{
    pthread_key_create(&scratch_key, scratch_free);
}

static struct scratch *scratch_get(size_t n)
{
    pthread_once(&scratch_once, scratch_key_init);
    struct scratch *sc = pthread_getspecific(scratch_key);
    if (!sc) {
        sc = xcalloc(1, sizeof(*sc));
        pthread_setspecific(scratch_key, sc);
    }
    if (sc->cap < n) {
        free(sc->seen);
        free(sc->blocked);
        free(sc->c);
        free(sc->touched);
        sc->cap = n;
        sc->seen = xcalloc(n, sizeof(uint32_t));
        sc->blocked = xcalloc(n, sizeof(uint32_t));
        sc->c = xmalloc(n * sizeof(struct cand));
        sc->touched = xmalloc(n * sizeof(int32_t));
        sc->epoch = 0;
    }
    if (++sc->epoch == 0) { /* wrapped: start the stamps afresh */
        memset(sc->seen, 0, sc->cap * sizeof(uint32_t));
        memset(sc->blocked, 0, sc->cap * sizeof(uint32_t));
        sc->epoch = 1;
    }
    sc->ntouched = 0;
    return sc;
}

struct work {
    const struct snapshot *s;
    const struct rec_query *q;
    const struct model_params *mp; /* the query's settings, else the snapshot's */
    struct scratch *sc;
    struct held_back *held; /* the answer's */
};

static struct cand *touch(struct work *w, int32_t p)
{
    struct scratch *sc = w->sc;
    if (sc->seen[p] != sc->epoch) {
        sc->seen[p] = sc->epoch;
        memset(&sc->c[p], 0, sizeof(struct cand));
        sc->c[p].pers_src = sc->c[p].cont_src = sc->c[p].view_src = -1;
        sc->touched[sc->ntouched++] = p;
    }
    return &sc->c[p];
}

static void block(struct work *w, int32_t p, bool on)
{
    w->sc->blocked[p] = on ? w->sc->epoch : 0;
}

static bool blocked(const struct work *w, int32_t p)
{
    return w->sc->blocked[p] == w->sc->epoch;
}

static bool eligible(const struct work *w, int32_t p)
{
    const struct history *h = &w->s->hist;
    const struct rec_query *q = w->q;
    if (blocked(w, p) || !h->in_stock[p])
        return false;
    if (w->s->held && w->s->held[p]) {
        held_back_add(w->held, p);
        return false;
    }
    if (q->category && (!h->category[p] || strcmp(h->category[p], q->category) != 0))
        return false;
    return h->price[p] >= q->min_price && h->price[p] <= q->max_price;
}

static void apply_rules(struct work *w, const struct assoc_rule *r, int32_t n)
{
    for (int32_t i = 0; i < n; i++) {
        struct cand *c = touch(w, r[i].rhs);
        if (r[i].score > c->comp) {
            c->comp = r[i].score;
            c->rule = &r[i];
        }
    }
}

static void complements(struct work *w, const int32_t *src, int nsrc)
{
    const struct model_assoc *m = &w->s->assoc;
    int32_t n;
    for (int i = 0; i < nsrc; i++) {
        const struct assoc_rule *r = model_assoc_rules(m, src[i], -1, &n);
        apply_rules(w, r, n);
    }
    int lim = MIN(nsrc, CART_PAIRS_MAX);
    for (int i = 0; i < lim; i++)
        for (int j = i + 1; j < lim; j++) {
            const struct assoc_rule *r = model_assoc_rules(m, src[i], src[j], &n);
            apply_rules(w, r, n);
        }
}

/* How far product p's behaviour is trusted over its catalogue text: buyers over
 * buyers plus the hand-over (content_handover buyers: half each). */
static double evidence(const struct work *w, int32_t p)
{
    double b = w->s->i2i.buyers[p];
    return b / (b + w->mp->content_handover);
}

/* Neighbour links of one source item with weight ws into pers and cont. */
static void neighbours(struct work *w, int32_t i, double ws)
{
    const struct model_item2item *cf = &w->s->i2i;
    const struct model_content *ct = &w->s->content;
    double bi = evidence(w, i);
    enum rec_only only = w->q->only;
    for (int x = 0; x < cf->k && only != REC_ONLY_CONTENT; x++) {
        int32_t j = cf->nbr[(size_t)i * cf->k + x];
        if (j < 0)
            break;
        double b = only == REC_ONLY_CF ? 1 : MIN(bi, evidence(w, j));
        double v = ws * cf->w[(size_t)i * cf->k + x] * b;
        struct cand *c = touch(w, j);
        c->pers += v;
        if (v > c->pers_best)
            c->pers_best = v, c->pers_src = i;
    }
    for (int x = 0; x < ct->k && only != REC_ONLY_CF; x++) {
        int32_t j = ct->nbr[(size_t)i * ct->k + x];
        if (j < 0)
            break;
        double b = only == REC_ONLY_CONTENT ? 0 : MIN(bi, evidence(w, j));
        double v = ws * ct->w[(size_t)i * ct->k + x] * (1 - b);
        struct cand *c = touch(w, j);
        c->cont += v;
        if (v > c->cont_best)
            c->cont_best = v, c->cont_src = i;
    }
}

/* Co-view links of one source item into view. */
static void also_viewed(struct work *w, int32_t i)
{
    const struct model_coview *m = &w->s->coview;
    if ((size_t)i >= m->n)
        return; /* not fitted (an evaluation's snapshot), or a product newer than it */
    for (int x = 0; x < m->k; x++) {
        int32_t j = m->nbr[(size_t)i * m->k + x];
        if (j < 0)
            break;
        double v = m->w[(size_t)i * m->k + x];
        struct cand *c = touch(w, j);
        c->view += v;
        if (v > c->view_best)
            c->view_best = v, c->view_src = i;
    }
}

/* Customer c's own products into own, by their own TIFU vector (model_peers.h:
 * recent baskets weigh more, by their place in the customer's history). */
static void own_sources(struct work *w, int32_t c)
{
    const struct history *h = &w->s->hist;
    const struct model_peers *m = &w->s->peers;
    if (!m->own || (size_t)h->cust_first[c + 1] > m->nown)
        return;
    for (int32_t k = h->cust_first[c]; k < h->cust_first[c + 1]; k++)
        if (m->own[k] > 0)
            touch(w, h->cust_items[k])->own = m->own[k];
}

/* What customer c's nearest customers buy (model_peers.h) into peer. */
static void peer_sources(struct work *w, int32_t c)
{
    const struct model_peers *m = &w->s->peers;
    if (!m->fitted || (size_t)c >= m->ncust || w->q->only != REC_ONLY_ALL)
        return;
    for (int32_t e = m->first[c]; e < m->first[c + 1]; e++)
        touch(w, m->item[e])->peer += m->score[e];
}

static int by_last_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

/* The customer's history as sources, each weighted by recency; past
 * HISTORY_SOURCES_MAX products only the most recent ones (the weights of the rest
 * are small, and their neighbours' cost is not). */
static void history_sources(struct work *w, struct arena *a)
{
    const struct history *h = &w->s->hist;
    const struct model_repeat *m = &w->s->repeat;
    int32_t c = w->q->customer, first = h->cust_first[c], n = h->cust_first[c + 1] - first;
    double cutoff = -1e300;
    if (n > HISTORY_SOURCES_MAX) {
        double *last = arena_array(a, (size_t)n, sizeof(double));
        memcpy(last, m->last + first, (size_t)n * sizeof(double));
        qsort(last, (size_t)n, sizeof(double), by_last_desc);
        cutoff = last[HISTORY_SOURCES_MAX - 1];
    }
    int used = 0;
    for (int32_t k = first; k < first + n && used < HISTORY_SOURCES_MAX; k++) {
        if (m->last[k] < cutoff)
            continue;
        double age = (m->as_of - m->last[k]) / 86400.0;
        neighbours(w, h->cust_items[k],
                   HISTORY_WEIGHT * exp2(-MAX(age, 0) / w->mp->history_half_life_days));
        used++;
    }
}

/* Scales each list over the touched products so that its best is 1. */
static void scale(struct work *w)
{
    struct scratch *sc = w->sc;
    double bc = 0, bp = 0, bt = 0, bn = 0, bo = 0, bv = 0;
    for (size_t i = 0; i < sc->ntouched; i++) {
        const struct cand *c = &sc->c[sc->touched[i]];
        bc = MAX(bc, c->comp), bp = MAX(bp, c->pers), bt = MAX(bt, c->cont);
        bn = MAX(bn, c->peer), bo = MAX(bo, c->own), bv = MAX(bv, c->view);
    }
    for (size_t i = 0; i < sc->ntouched; i++) {
        struct cand *c = &sc->c[sc->touched[i]];
        c->comp = bc > 0 ? c->comp / bc : 0;
        c->pers = bp > 0 ? c->pers / bp : 0;
        c->cont = bt > 0 ? c->cont / bt : 0;
        c->peer = bn > 0 ? c->peer / bn : 0;
        c->own = bo > 0 ? c->own / bo : 0;
        c->view = bv > 0 ? c->view / bv : 0;
    }
}

static double worth(const struct work *w, int32_t p)
{
    const struct history *h = &w->s->hist;
    switch (w->q->objective) {
    case REC_REVENUE:
        return h->price[p];
    case REC_MARGIN:
        return isnan(h->cost[p]) ? 0 : MAX(h->price[p] - h->cost[p], 0);
    default:
        return 1;
    }
}

static int by_score_desc(const void *a, const void *b)
{
    const struct rec_item *x = a, *y = b;
    if (x->score != y->score)
        return x->score < y->score ? 1 : -1;
    return (x->product > y->product) - (x->product < y->product);
}

/* Keeps the best `want` (product, score) offers, best first, in top[0..*n). */
static void offer(struct rec_item *top, int want, int *n, int32_t p, double v)
{
    if (v <= 0 || (*n == want && v <= top[*n - 1].score))
        return;
    int at = *n < want ? (*n)++ : want - 1;
    while (at > 0 &&
           (top[at - 1].score < v || (top[at - 1].score == v && top[at - 1].product > p))) {
        top[at] = top[at - 1];
        at--;
    }
    memset(&top[at], 0, sizeof(top[at]));
    top[at].product = p;
    top[at].score = v;
}

/* Moves the best of the offers into out, relative to the best (1), and blocks them. */
static void accept(struct work *w, struct rec_item *top, int n, struct rec_result *out)
{
    for (int i = 0; i < n; i++) {
        struct rec_item *it = &out->items[out->n++];
        *it = top[i];
        it->score /= top[0].score; /* each list's best is 1, so lists can be merged */
        it->because[0] = it->because[1] = -1;
        block(w, it->product, true);
    }
}

/* The lists' weights: for auto the snapshot's (self-tuned), for one strategy the
 * fixed ones, so that strategy=complements or personal serves its list whatever
 * auto's tuning chose. */
struct weights {
    double comp, pers, cont, peer, own, view;
};

static struct weights weights_of(const struct work *w)
{
    const struct model_params *mp = w->mp;
    switch (w->q->strategy) {
    case REC_AUTO:
        return (struct weights){mp->blend_complements, mp->blend_personal, mp->blend_content,
                                mp->blend_peers,       mp->blend_own,      0};
    case REC_COMPLEMENTS:
        return (struct weights){1, 0, 0, 0, 0, 0};
    case REC_ALSO_VIEWED:
        return (struct weights){0, 0, 0, 0, 0, 1};
    default: /* personal */
        return (struct weights){0, W_PERSONAL, W_CONTENT, 0, 0, 0};
    }
}

static void describe(const struct work *w, struct rec_item *it)
{
    const struct cand *c = &w->sc->c[it->product];
    struct weights wt = weights_of(w);
    if (wt.view > 0) {
        it->kind = KIND_ALSO_VIEWED;
        it->because[0] = c->view_src;
        return;
    }
    double cp = wt.comp * c->comp, pe = wt.pers * c->pers, co = wt.cont * c->cont,
           pr = wt.peer * c->peer, ow = wt.own * c->own;
    if (ow > 0 && ow >= cp && ow >= pe && ow >= co && ow >= pr) {
        const struct history *h = &w->s->hist;
        int32_t k = history_customer_entry(h, w->q->customer, it->product);
        it->kind = KIND_BUY_AGAIN;
        it->times = w->s->repeat.times[k];
        it->last = w->s->repeat.last[k];
    } else if (cp >= pe && cp >= co && cp >= pr && c->rule) {
        it->kind = KIND_BOUGHT_TOGETHER;
        it->because[0] = c->rule->lhs[0];
        it->because[1] = c->rule->lhs[1];
        it->count = c->rule->count;
        it->confidence = c->rule->confidence;
        it->lift = c->rule->lift;
    } else if (pe >= co || pr >= co) {
        it->kind = KIND_SIMILAR_CUSTOMERS; /* by their products, or by the customers */
        it->because[0] = pe >= pr ? c->pers_src : -1;
    } else {
        it->kind = KIND_SIMILAR_CONTENT;
        it->because[0] = c->cont_src;
    }
}

static void blend(struct work *w, struct arena *a, int want, struct rec_result *out)
{
    if (want <= 0)
        return;
    struct rec_item *top = arena_array(a, (size_t)want, sizeof(struct rec_item));
    int n = 0;
    const struct scratch *sc = w->sc;
    struct weights wt = weights_of(w);
    /* auto, with the customer's purchases and the own list in the blend: what they
     * bought comes back through buy-again's slots, the own list and their nearest
     * customers' (whose vectors hold theirs, as TIFU-kNN's do); complements and similar
     * products bring new ones. Without the own list every list may bring them back. */
    int32_t cu =
        w->q->strategy == REC_AUTO && w->q->include_purchased && wt.own > 0 ? w->q->customer : -1;
    for (size_t i = 0; i < sc->ntouched; i++) {
        int32_t p = sc->touched[i];
        const struct cand *c = &sc->c[p];
        bool mine = cu >= 0 && history_customer_bought(&w->s->hist, cu, p);
        double cp = mine ? 0 : wt.comp * c->comp;
        double pc = wt.own * c->own + wt.peer * c->peer +
                    (mine ? 0 : wt.pers * c->pers + wt.cont * c->cont + wt.view * c->view);
        if (cp + pc > 0 && eligible(w, p))
            offer(top, want, &n, p, (cp + pc) * worth(w, p));
    }
    int first = out->n;
    accept(w, top, n, out);
    for (int i = first; i < out->n; i++)
        describe(w, &out->items[i]);
}

static void buy_again(struct work *w, struct arena *a, int want, struct rec_result *out)
{
    const struct history *h = &w->s->hist;
    const struct model_repeat *m = &w->s->repeat;
    const struct rec_query *q = w->q;
    int32_t c = q->customer;
    if (c < 0 || want <= 0)
        return;
    /* Purchases are the point here: only the cart and exclude= stay out. */
    bool *stays_out =
        arena_array(a, (size_t)(h->cust_first[c + 1] - h->cust_first[c]) + 1, sizeof(bool));
    struct rec_item *top = arena_array(a, (size_t)want, sizeof(struct rec_item));
    int n = 0;
    for (int32_t k = h->cust_first[c]; k < h->cust_first[c + 1]; k++) {
        int32_t p = h->cust_items[k];
        bool out_by_rule = false;
        for (int i = 0; i < q->ncart; i++)
            out_by_rule |= q->cart[i] == p;
        for (int i = 0; i < q->nexclude; i++)
            out_by_rule |= q->exclude[i] == p;
        stays_out[k - h->cust_first[c]] = blocked(w, p);
        block(w, p, out_by_rule);
        if (eligible(w, p))
            offer(top, want, &n, p,
                  model_repeat_score(m, (size_t)k, w->mp->repeat_half_life_days) * worth(w, p));
        block(w, p, stays_out[k - h->cust_first[c]]);
    }
    int first = out->n;
    accept(w, top, n, out);
    for (int i = first; i < out->n; i++) {
        struct rec_item *it = &out->items[i];
        int32_t k = history_customer_entry(h, c, it->product);
        it->kind = KIND_BUY_AGAIN;
        it->times = m->times[k];
        it->last = m->last[k];
    }
}

static void fill_popular(struct work *w, const struct rec_query *q, struct rec_result *out)
{
    const struct model_popular *pop = &w->s->popular;
    double top = pop->nranked ? pop->score[pop->ranked[0]] : 0;
    double factor = out->n > 0 ? 0.01 : 1.0; /* fill-ins rank below the models' picks */
    for (size_t i = 0; i < pop->nranked && out->n < q->limit; i++) {
        int32_t p = pop->ranked[i];
        if (!eligible(w, p) || worth(w, p) <= 0)
            continue;
        struct rec_item *it = &out->items[out->n++];
        memset(it, 0, sizeof(*it));
        it->product = p;
        it->kind = KIND_POPULAR;
        it->because[0] = it->because[1] = -1;
        it->score = top > 0 ? factor * pop->score[p] / top : 0;
        block(w, p, true);
    }
}

double recommend_buy_again_share(const struct snapshot *s, const struct model_params *mp, int32_t c)
{
    return MIN(mp->buy_again_base + mp->buy_again_scale * s->repeat.repeat_share[c],
               mp->buy_again_max);
}

void recommend(const struct snapshot *s, const struct rec_query *q, struct arena *a,
               struct rec_result *out)
{
    const struct history *h = &s->hist;
    struct work w = {.s = s,
                     .q = q,
                     .mp = q->params ? q->params : &s->params,
                     .sc = scratch_get(history_nproducts(h) + 1),
                     .held = &out->held};
    out->items = arena_array(a, (size_t)q->limit + 1, sizeof(struct rec_item));
    out->n = 0;
    out->held.n = 0;

    for (int i = 0; i < q->ncart; i++)
        block(&w, q->cart[i], true);
    for (int i = 0; i < q->nexclude; i++)
        block(&w, q->exclude[i], true);
    int32_t c = q->customer;
    if (!q->include_purchased) {
        if (c >= 0)
            for (int32_t k = h->cust_first[c]; k < h->cust_first[c + 1]; k++)
                block(&w, h->cust_items[k], true);
        for (int i = 0; i < q->nrecent; i++)
            block(&w, q->recent[i], true);
    }

    int again = 0;
    if (q->strategy == REC_BUY_AGAIN)
        again = q->limit;
    else if (q->strategy == REC_AUTO && c >= 0 && q->include_purchased)
        again = (int)lround(q->limit * recommend_buy_again_share(s, w.mp, c));

    bool models = q->strategy != REC_BUY_AGAIN && q->strategy != REC_POPULAR;
    /* the cart, else the customer's last order: complements' and also-viewed's sources */
    const int32_t *src = q->cart;
    int nsrc = q->ncart;
    int32_t last[CART_PAIRS_MAX];
    if (nsrc == 0 && c >= 0 && s->repeat.last_order[c] >= 0) {
        int32_t o = s->repeat.last_order[c];
        for (int32_t l = h->order_first[o]; l < h->order_first[o + 1] && nsrc < CART_PAIRS_MAX; l++)
            if (h->line_qty[l] > 0)
                last[nsrc++] = h->line_product[l];
        src = last;
    }
    if (q->strategy == REC_ALSO_VIEWED) {
        for (int i = 0; i < nsrc; i++)
            also_viewed(&w, src[i]);
        scale(&w);
    } else if (models) {
        if (q->strategy != REC_PERSONAL)
            complements(&w, src, nsrc);
        if (q->strategy != REC_COMPLEMENTS) {
            for (int i = 0; i < q->ncart; i++)
                neighbours(&w, q->cart[i], 1.0);
            for (int i = 0; i < q->nrecent; i++)
                neighbours(&w, q->recent[i], 1.0);
            if (c >= 0) {
                history_sources(&w, a);
                if (w.mp->blend_peers > 0)
                    peer_sources(&w, c);
                if (q->strategy == REC_AUTO && q->include_purchased && w.mp->blend_own > 0)
                    own_sources(&w, c);
            }
        }
        scale(&w);
    }
    buy_again(&w, a, again, out);
    if (models)
        blend(&w, a, q->limit - out->n, out);
    fill_popular(&w, q, out);
    qsort(out->items, (size_t)out->n, sizeof(struct rec_item), by_score_desc);
}
