#include "xsell/eval_nbr.h"

#include <math.h>

#include "xsell/xalloc.h"

/* A product and its score, for the top-k picks. */
struct scored {
    int32_t p;
    double score, tie;
};

static int by_score_desc(const void *a, const void *b)
{
    const struct scored *x = a, *y = b;
    if (x->score != y->score)
        return x->score < y->score ? 1 : -1;
    if (x->tie != y->tie)
        return x->tie < y->tie ? 1 : -1;
    return (x->p > y->p) - (x->p < y->p);
}

static int by_count_desc(const void *a, const void *b, void *ctx)
{
    const double *count = ctx;
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    if (count[x] != count[y])
        return count[x] < count[y] ? 1 : -1;
    return (x > y) - (x < y);
}

void nbr_build(const struct history *h, struct nbr_baselines *b)
{
    memset(b, 0, sizeof(*b));
    b->h = h;
    size_t np = history_nproducts(h);
    history_customer_orders(h, &b->cust_first, &b->cust_orders);
    /* the global top */
    double *count = xcalloc(np + 1, sizeof(double));
    int32_t items[PEERS_BASKET_MAX];
    for (size_t o = 0; o < history_norders(h); o++) {
        int k = peer_basket(h, (int32_t)o, items);
        for (int x = 0; x < k; x++)
            count[items[x]]++;
    }
    b->global = xmalloc((np + 1) * sizeof(int32_t));
    for (size_t p = 0; p < np; p++)
        if (count[p] > 0 && h->in_catalog[p])
            b->global[b->nglobal++] = (int32_t)p;
    qsort_r(b->global, b->nglobal, sizeof(int32_t), by_count_desc, count);
    free(count);
    peer_vectors_build(h, b->cust_first, b->cust_orders, &b->pv);
    peer_scratch_init(&b->scratch, &b->pv);
}

void nbr_release(struct nbr_baselines *b)
{
    free(b->cust_first);
    free(b->cust_orders);
    free(b->global);
    peer_vectors_release(&b->pv);
    peer_scratch_release(&b->scratch);
    memset(b, 0, sizeof(*b));
}

/* The best k of the products with a score (score[p] > 0 in the touched list), the
 * global top after them; how many into out. */
static int top_k(const struct nbr_baselines *b, const double *score, const double *tie,
                 const int32_t *touched, int nt, int k, int32_t *out)
{
    struct scored *s = xmalloc(((size_t)nt + 1) * sizeof(*s));
    int n = 0;
    for (int i = 0; i < nt; i++)
        if (score[touched[i]] > 0 && b->h->in_catalog[touched[i]])
            s[n++] = (struct scored){touched[i], score[touched[i]], tie ? tie[touched[i]] : 0};
    qsort(s, (size_t)n, sizeof(*s), by_score_desc);
    int m = 0;
    for (int i = 0; i < n && m < k; i++)
        out[m++] = s[i].p;
    for (size_t g = 0; g < b->nglobal && m < k; g++) {
        bool dup = false;
        for (int i = 0; i < m && !dup; i++)
            dup = out[i] == b->global[g];
        if (!dup)
            out[m++] = b->global[g];
    }
    free(s);
    return m;
}

int nbr_global_top(const struct nbr_baselines *b, int k, int32_t *out)
{
    return top_k(b, NULL, NULL, NULL, 0, k, out);
}

int nbr_personal_top(const struct nbr_baselines *b, int32_t c, int k, int32_t *out)
{
    const struct history *h = b->h;
    size_t np = history_nproducts(h);
    double *count = xcalloc(np + 1, sizeof(double)), *last = xcalloc(np + 1, sizeof(double));
    int32_t *touched = xmalloc((np + 1) * sizeof(int32_t)), items[PEERS_BASKET_MAX];
    int nt = 0;
    for (int32_t i = c >= 0 ? b->cust_first[c] : 0; c >= 0 && i < b->cust_first[c + 1]; i++) {
        int32_t o = b->cust_orders[i];
        int n = peer_basket(h, o, items);
        for (int x = 0; x < n; x++) {
            if (count[items[x]] == 0)
                touched[nt++] = items[x];
            count[items[x]]++;
            last[items[x]] = h->order_time[o];
        }
    }
    int m = top_k(b, count, last, touched, nt, k, out);
    free(count);
    free(last);
    free(touched);
    return m;
}

int nbr_tifu(struct nbr_baselines *b, int32_t c, int k, int32_t *out)
{
    const struct peer_vectors *pv = &b->pv;
    size_t np = history_nproducts(b->h);
    int32_t *near = xmalloc(PEERS_K * sizeof(int32_t));
    int nh = peer_vectors_nearest(pv, c, PEERS_K, &b->scratch, near);
    if (nh == 0) {
        free(near);
        return nbr_global_top(b, k, out);
    }
    double *score = xcalloc(np + 1, sizeof(double));
    int32_t *touched = xmalloc((np + 1) * sizeof(int32_t));
    bool *in = xcalloc(np + 1, sizeof(bool));
    int nt = 0;
    for (int i = -1; i < nh; i++) { /* -1: the customer's own vector */
        int32_t o = i < 0 ? c : near[i];
        double f = i < 0 ? NBR_TIFU_ALPHA : (1 - NBR_TIFU_ALPHA) / nh;
        for (int32_t e = pv->vfirst[o]; e < pv->vfirst[o + 1]; e++) {
            int32_t p = pv->vitem[e];
            if (!in[p]) {
                in[p] = true;
                touched[nt++] = p;
            }
            score[p] += f * pv->vweight[e];
        }
    }
    int m = top_k(b, score, NULL, touched, nt, k, out);
    free(near);
    free(score);
    free(touched);
    free(in);
    return m;
}
