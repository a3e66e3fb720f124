#include "xsell/recommend.h"

#include <math.h>

#define W_COMPLEMENTS 1.0
#define W_PERSONAL 0.7
#define W_CONTENT 0.5
#define HISTORY_WEIGHT 0.5
#define HISTORY_HALF_LIFE_DAYS 180.0
#define EVIDENCE_PRIOR 10.0
#define CART_PAIRS_MAX 20 /* two-item rule sides are looked up for the first 20 items */
#define BUY_AGAIN_SHARE_MAX 0.5

static double pop_score_top(const struct snapshot *s)
{
    return s->popular.nranked ? s->popular.score[s->popular.ranked[0]] : 0;
}

const char *rec_kind_name(enum rec_kind k)
{
    static const char *names[] = {"bought_together", "similar_customers", "similar_content",
                                  "buy_again", "popular"};
    return names[k];
}

struct work {
    const struct snapshot *s;
    const struct rec_query *q;
    size_t n;
    bool *blocked;            /* never recommended (cart, exclude, bought) */
    double *comp, *pers, *cont;
    const struct assoc_rule **rule; /* best rule per product */
    int32_t *pers_src, *cont_src;   /* the source that added most */
    double *pers_best, *cont_best;
};

static bool eligible(const struct work *w, int32_t p)
{
    const struct history *h = &w->s->hist;
    const struct rec_query *q = w->q;
    if (w->blocked[p] || !h->in_stock[p])
        return false;
    if (q->category && (!h->category[p] || strcmp(h->category[p], q->category) != 0))
        return false;
    return h->price[p] >= q->min_price && h->price[p] <= q->max_price;
}

static void apply_rules(struct work *w, const struct assoc_rule *r, int32_t n)
{
    for (int32_t i = 0; i < n; i++) {
        int32_t p = r[i].rhs;
        if (r[i].score > w->comp[p]) {
            w->comp[p] = r[i].score;
            w->rule[p] = &r[i];
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

static double evidence(const struct snapshot *s, int32_t p)
{
    double b = s->i2i.buyers[p];
    return b / (b + EVIDENCE_PRIOR);
}

/* Neighbour links of one source item with weight ws into pers and cont. */
static void neighbours(struct work *w, int32_t i, double ws)
{
    const struct model_item2item *cf = &w->s->i2i;
    const struct model_content *ct = &w->s->content;
    double bi = evidence(w->s, i);
    enum rec_only only = w->q->only;
    for (int x = 0; x < cf->k && only != REC_ONLY_CONTENT; x++) {
        int32_t j = cf->nbr[(size_t)i * cf->k + x];
        if (j < 0)
            break;
        double b = only == REC_ONLY_CF ? 1 : MIN(bi, evidence(w->s, j));
        double v = ws * cf->w[(size_t)i * cf->k + x] * b;
        w->pers[j] += v;
        if (v > w->pers_best[j])
            w->pers_best[j] = v, w->pers_src[j] = i;
    }
    for (int x = 0; x < ct->k && only != REC_ONLY_CF; x++) {
        int32_t j = ct->nbr[(size_t)i * ct->k + x];
        if (j < 0)
            break;
        double b = only == REC_ONLY_CONTENT ? 0 : MIN(bi, evidence(w->s, j));
        double v = ws * ct->w[(size_t)i * ct->k + x] * (1 - b);
        w->cont[j] += v;
        if (v > w->cont_best[j])
            w->cont_best[j] = v, w->cont_src[j] = i;
    }
}

static void scale(double *v, size_t n)
{
    double best = 0;
    for (size_t i = 0; i < n; i++)
        best = MAX(best, v[i]);
    if (best > 0)
        for (size_t i = 0; i < n; i++)
            v[i] /= best;
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

/* Appends the best eligible items of a scored list to out, marking them taken. */
static void take_best(struct work *w, struct arena *a, const double *score,
                      void (*describe)(const struct work *, int32_t, struct rec_item *),
                      int want, struct rec_result *out)
{
    struct rec_item *cand = arena_array(a, w->n + 1, sizeof(struct rec_item));
    size_t nc = 0;
    for (size_t p = 0; p < w->n; p++) {
        if (score[p] <= 0 || !eligible(w, (int32_t)p))
            continue;
        double v = score[p] * worth(w, (int32_t)p);
        if (v <= 0)
            continue;
        cand[nc].product = (int32_t)p;
        cand[nc].score = v;
        nc++;
    }
    qsort(cand, nc, sizeof(struct rec_item), by_score_desc);
    for (size_t i = 0; i < nc && want > 0; i++) {
        struct rec_item *it = &out->items[out->n++];
        *it = cand[i];
        it->score /= cand[0].score; /* each list's best is 1, so lists can be merged */
        it->because[0] = it->because[1] = -1;
        describe(w, it->product, it);
        w->blocked[it->product] = true;
        want--;
    }
}

static void describe_blend(const struct work *w, int32_t p, struct rec_item *it)
{
    double c = W_COMPLEMENTS * w->comp[p], pe = W_PERSONAL * w->pers[p],
           co = W_CONTENT * w->cont[p];
    if (w->q->strategy == REC_COMPLEMENTS)
        pe = co = 0;
    if (w->q->strategy == REC_PERSONAL)
        c = 0;
    if (c >= pe && c >= co && w->rule[p]) {
        const struct assoc_rule *r = w->rule[p];
        it->kind = KIND_BOUGHT_TOGETHER;
        it->because[0] = r->lhs[0];
        it->because[1] = r->lhs[1];
        it->count = r->count;
        it->confidence = r->confidence;
        it->lift = r->lift;
    } else if (pe >= co) {
        it->kind = KIND_SIMILAR_CUSTOMERS;
        it->because[0] = w->pers_src[p];
    } else {
        it->kind = KIND_SIMILAR_CONTENT;
        it->because[0] = w->cont_src[p];
    }
}

static void describe_popular(const struct work *w, int32_t p, struct rec_item *it)
{
    UNUSED(w);
    UNUSED(p);
    it->kind = KIND_POPULAR;
}

static void add_buy_again(struct work *w, struct arena *a, int want, struct rec_result *out)
{
    const struct history *h = &w->s->hist;
    const struct model_repeat *m = &w->s->repeat;
    int32_t c = w->q->customer;
    if (c < 0 || want <= 0)
        return;
    double *score = arena_array(a, w->n + 1, sizeof(double));
    bool *was = arena_array(a, w->n + 1, sizeof(bool));
    for (int32_t k = h->cust_first[c]; k < h->cust_first[c + 1]; k++) {
        int32_t p = h->cust_items[k];
        score[p] = model_repeat_score(m, (size_t)k);
        /* buy-again items are purchases by definition: not blocked for that */
        was[p] = w->blocked[p];
        w->blocked[p] = false;
    }
    for (int i = 0; i < w->q->ncart; i++)
        w->blocked[w->q->cart[i]] = true;
    for (int i = 0; i < w->q->nexclude; i++)
        w->blocked[w->q->exclude[i]] = true;
    int before = out->n;
    take_best(w, a, score, describe_popular, want, out);
    for (int i = before; i < out->n; i++) {
        struct rec_item *it = &out->items[i];
        int32_t p = it->product;
        it->kind = KIND_BUY_AGAIN;
        int32_t lo = h->cust_first[c], hi = h->cust_first[c + 1];
        while (lo < hi) {
            int32_t mid = lo + (hi - lo) / 2;
            if (h->cust_items[mid] < p)
                lo = mid + 1;
            else
                hi = mid;
        }
        it->times = m->times[lo];
        it->last = m->last[lo];
    }
    for (int32_t k = h->cust_first[c]; k < h->cust_first[c + 1]; k++) {
        int32_t p = h->cust_items[k];
        if (!w->blocked[p])
            w->blocked[p] = was[p];
    }
}

void recommend(const struct snapshot *s, const struct rec_query *q, struct arena *a,
               struct rec_result *out)
{
    const struct history *h = &s->hist;
    struct work w = {.s = s, .q = q, .n = history_nproducts(h)};
    size_t n = w.n + 1;
    w.blocked = arena_array(a, n, sizeof(bool));
    w.comp = arena_array(a, n, sizeof(double));
    w.pers = arena_array(a, n, sizeof(double));
    w.cont = arena_array(a, n, sizeof(double));
    w.rule = arena_array(a, n, sizeof(*w.rule));
    w.pers_src = arena_array(a, n, sizeof(int32_t));
    w.cont_src = arena_array(a, n, sizeof(int32_t));
    w.pers_best = arena_array(a, n, sizeof(double));
    w.cont_best = arena_array(a, n, sizeof(double));
    out->items = arena_array(a, (size_t)q->limit + 1, sizeof(struct rec_item));
    out->n = 0;

    for (int i = 0; i < q->ncart; i++)
        w.blocked[q->cart[i]] = true;
    for (int i = 0; i < q->nexclude; i++)
        w.blocked[q->exclude[i]] = true;
    int32_t c = q->customer;
    if (!q->include_purchased) {
        if (c >= 0)
            for (int32_t k = h->cust_first[c]; k < h->cust_first[c + 1]; k++)
                w.blocked[h->cust_items[k]] = true;
        for (int i = 0; i < q->nrecent; i++)
            w.blocked[q->recent[i]] = true;
    }

    int buy_again = 0;
    if (q->strategy == REC_BUY_AGAIN)
        buy_again = q->limit;
    else if (q->strategy == REC_AUTO && c >= 0 && q->include_purchased)
        buy_again = (int)lround(q->limit * MIN(s->repeat.repeat_share[c], BUY_AGAIN_SHARE_MAX));

    if (q->strategy != REC_BUY_AGAIN) {
        /* complements: the cart, else the customer's last order */
        if (q->strategy != REC_PERSONAL) {
            if (q->ncart > 0) {
                complements(&w, q->cart, q->ncart);
            } else if (c >= 0 && s->repeat.last_order[c] >= 0) {
                int32_t o = s->repeat.last_order[c];
                int32_t src[CART_PAIRS_MAX];
                int ns = 0;
                for (int32_t l = h->order_first[o]; l < h->order_first[o + 1] && ns < CART_PAIRS_MAX;
                     l++)
                    if (h->line_qty[l] > 0)
                        src[ns++] = h->line_product[l];
                complements(&w, src, ns);
            }
        }
        if (q->strategy != REC_COMPLEMENTS) {
            for (int i = 0; i < q->ncart; i++)
                neighbours(&w, q->cart[i], 1.0);
            for (int i = 0; i < q->nrecent; i++)
                neighbours(&w, q->recent[i], 1.0);
            if (c >= 0)
                for (int32_t k = h->cust_first[c]; k < h->cust_first[c + 1]; k++) {
                    double age = (s->repeat.as_of - s->repeat.last[k]) / 86400.0;
                    neighbours(&w, h->cust_items[k],
                               HISTORY_WEIGHT * exp2(-MAX(age, 0) / HISTORY_HALF_LIFE_DAYS));
                }
        }
        scale(w.comp, w.n);
        scale(w.pers, w.n);
        scale(w.cont, w.n);
        double *total = arena_array(a, n, sizeof(double));
        for (size_t p = 0; p < w.n; p++) {
            double cp = q->strategy == REC_PERSONAL ? 0 : W_COMPLEMENTS * w.comp[p];
            double pc = q->strategy == REC_COMPLEMENTS ? 0 : W_PERSONAL * w.pers[p] +
                                                                 W_CONTENT * w.cont[p];
            total[p] = cp + pc;
        }
        add_buy_again(&w, a, buy_again, out);
        take_best(&w, a, total, describe_blend, q->limit - out->n, out);
    } else {
        add_buy_again(&w, a, buy_again, out);
    }
    /* What the models leave empty comes from what sells now. */
    if (out->n < q->limit) {
        const struct model_popular *pop = &s->popular;
        for (size_t i = 0; i < pop->nranked && out->n < q->limit; i++) {
            int32_t p = pop->ranked[i];
            if (!eligible(&w, p) || worth(&w, p) <= 0)
                continue;
            struct rec_item *it = &out->items[out->n++];
            memset(it, 0, sizeof(*it));
            it->product = p;
            it->kind = KIND_POPULAR;
            it->because[0] = it->because[1] = -1;
            it->score = 0;
            w.blocked[p] = true;
        }
    }
    /* Scores relative to the best of the answer; popular fill-ins rank below. */
    double best = 0;
    for (int i = 0; i < out->n; i++)
        best = MAX(best, out->items[i].score);
    double pop_factor = best > 0 ? 0.01 : 1.0; /* fill-ins rank below model picks */
    for (int i = 0; i < out->n; i++) {
        struct rec_item *it = &out->items[i];
        if (it->kind == KIND_POPULAR) {
            double top = pop_score_top(s);
            it->score = top > 0 ? pop_factor * s->popular.score[it->product] / top : 0;
        } else if (best > 0) {
            it->score /= best;
        }
    }
    qsort(out->items, (size_t)out->n, sizeof(struct rec_item), by_score_desc);
}
