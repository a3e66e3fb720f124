#include "xsell/eval_nbr.h"

#include <math.h>

#include "xsell/xalloc.h"

/* The distinct products bought (quantity above zero) in order o into out; how many. */
static int basket_of(const struct history *h, int32_t o, int32_t *out, int max)
{
    int n = 0;
    for (int32_t l = h->order_first[o]; l < h->order_first[o + 1]; l++) {
        if (h->line_qty[l] <= 0)
            continue;
        bool dup = false;
        for (int i = 0; i < n && !dup; i++)
            dup = out[i] == h->line_product[l];
        if (!dup && n < max)
            out[n++] = h->line_product[l];
    }
    return n;
}

#define BASKET_MAX 256

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

/* Customer c's TIFU vector, dense, into v (np zeros on entry); false without baskets. */
static bool tifu_vector(const struct nbr_baselines *b, int32_t c, double *v, int32_t *touched,
                        int *ntouched)
{
    const struct history *h = b->h;
    int nb = b->cust_first[c + 1] - b->cust_first[c];
    if (nb <= 0)
        return false;
    /* groups of baskets in time order: with G groups of nb baskets, group g holds
     * baskets [g * nb / G, (g + 1) * nb / G) - as equal as whole baskets allow */
    int G = nb < NBR_TIFU_GROUPS ? nb : NBR_TIFU_GROUPS;
    int32_t items[BASKET_MAX];
    *ntouched = 0;
    for (int g = 0; g < G; g++) {
        int from = (int)((long)g * nb / G), to = (int)((long)(g + 1) * nb / G);
        double gw = pow(NBR_TIFU_RG, NBR_TIFU_GROUPS - g - 1) / (to - from) / G;
        for (int i = from; i < to; i++) {
            int32_t o = b->cust_orders[b->cust_first[c] + i];
            double w = gw * pow(NBR_TIFU_RB, nb - i - 1);
            int k = basket_of(h, o, items, BASKET_MAX);
            for (int x = 0; x < k; x++) {
                if (v[items[x]] == 0)
                    touched[(*ntouched)++] = items[x];
                v[items[x]] += w;
            }
        }
    }
    return true;
}

void nbr_build(const struct history *h, struct nbr_baselines *b)
{
    memset(b, 0, sizeof(*b));
    b->h = h;
    size_t np = history_nproducts(h), nc = history_ncustomers(h);
    history_customer_orders(h, &b->cust_first, &b->cust_orders);
    /* the global top */
    double *count = xcalloc(np + 1, sizeof(double));
    int32_t items[BASKET_MAX];
    for (size_t o = 0; o < history_norders(h); o++) {
        int k = basket_of(h, (int32_t)o, items, BASKET_MAX);
        for (int x = 0; x < k; x++)
            count[items[x]]++;
    }
    b->global = xmalloc((np + 1) * sizeof(int32_t));
    for (size_t p = 0; p < np; p++)
        if (count[p] > 0 && h->in_catalog[p])
            b->global[b->nglobal++] = (int32_t)p;
    qsort_r(b->global, b->nglobal, sizeof(int32_t), by_count_desc, count);
    free(count);
    /* TIFU vectors, sparse, and the inverted index */
    double *v = xcalloc(np + 1, sizeof(double));
    int32_t *touched = xmalloc((np + 1) * sizeof(int32_t));
    size_t cap = 1024, n = 0;
    b->vfirst = xmalloc((nc + 1) * sizeof(int32_t));
    b->vitem = xmalloc(cap * sizeof(int32_t));
    b->vweight = xmalloc(cap * sizeof(float));
    b->norm2 = xcalloc(nc + 1, sizeof(double));
    int32_t *per_item = xcalloc(np + 1, sizeof(int32_t));
    for (size_t c = 0; c < nc; c++) {
        b->vfirst[c] = (int32_t)n;
        int nt = 0;
        if (!tifu_vector(b, (int32_t)c, v, touched, &nt))
            continue;
        if (n + (size_t)nt > cap) {
            cap = MAX(cap * 2, n + (size_t)nt);
            b->vitem = xrealloc(b->vitem, cap * sizeof(int32_t));
            b->vweight = xrealloc(b->vweight, cap * sizeof(float));
        }
        for (int i = 0; i < nt; i++) {
            int32_t p = touched[i];
            b->vitem[n] = p;
            b->vweight[n++] = (float)v[p];
            b->norm2[c] += v[p] * v[p];
            per_item[p]++;
            v[p] = 0;
        }
    }
    b->vfirst[nc] = (int32_t)n;
    b->ifirst = xmalloc((np + 1) * sizeof(int32_t));
    b->ifirst[0] = 0;
    for (size_t p = 0; p < np; p++)
        b->ifirst[p + 1] = b->ifirst[p] + per_item[p];
    b->icust = xmalloc((n + 1) * sizeof(int32_t));
    b->iweight = xmalloc((n + 1) * sizeof(float));
    memset(per_item, 0, (np + 1) * sizeof(int32_t));
    for (size_t c = 0; c < nc; c++)
        for (int32_t e = b->vfirst[c]; e < b->vfirst[c + 1]; e++) {
            int32_t p = b->vitem[e], at = b->ifirst[p] + per_item[p]++;
            b->icust[at] = (int32_t)c;
            b->iweight[at] = b->vweight[e];
        }
    free(per_item);
    free(v);
    free(touched);
}

void nbr_release(struct nbr_baselines *b)
{
    free(b->cust_first);
    free(b->cust_orders);
    free(b->global);
    free(b->vfirst);
    free(b->vitem);
    free(b->vweight);
    free(b->norm2);
    free(b->ifirst);
    free(b->icust);
    free(b->iweight);
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
    int32_t *touched = xmalloc((np + 1) * sizeof(int32_t)), items[BASKET_MAX];
    int nt = 0;
    for (int32_t i = c >= 0 ? b->cust_first[c] : 0; c >= 0 && i < b->cust_first[c + 1]; i++) {
        int32_t o = b->cust_orders[i];
        int n = basket_of(h, o, items, BASKET_MAX);
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

/* A customer and its squared distance, for the nearest-neighbour heap. */
struct near {
    int32_t c;
    double d2;
};

/* Max-heap on d2 of at most K: keeps the K smallest. */
static void heap_offer(struct near *heap, int *n, int K, int32_t c, double d2)
{
    int i;
    if (*n < K) {
        i = (*n)++;
        while (i > 0 && heap[(i - 1) / 2].d2 < d2) {
            heap[i] = heap[(i - 1) / 2];
            i = (i - 1) / 2;
        }
        heap[i] = (struct near){c, d2};
        return;
    }
    if (d2 >= heap[0].d2)
        return;
    i = 0; /* replace the root, sift down */
    for (;;) {
        int l = 2 * i + 1, r = l + 1, big = i;
        double bd = d2;
        if (l < *n && heap[l].d2 > bd)
            big = l, bd = heap[l].d2;
        if (r < *n && heap[r].d2 > bd)
            big = r;
        if (big == i)
            break;
        heap[i] = heap[big];
        i = big;
    }
    heap[i] = (struct near){c, d2};
}

int nbr_tifu(const struct nbr_baselines *b, int32_t c, int k, int32_t *out)
{
    const struct history *h = b->h;
    size_t np = history_nproducts(h), nc = history_ncustomers(h);
    if (c < 0 || b->vfirst[c] == b->vfirst[c + 1])
        return nbr_global_top(b, k, out);
    /* dot products with every customer through the products c holds */
    double *dot = xcalloc(nc + 1, sizeof(double));
    for (int32_t e = b->vfirst[c]; e < b->vfirst[c + 1]; e++) {
        int32_t p = b->vitem[e];
        double w = b->vweight[e];
        for (int32_t i = b->ifirst[p]; i < b->ifirst[p + 1]; i++)
            dot[b->icust[i]] += w * b->iweight[i];
    }
    int K = (int)MIN((size_t)NBR_TIFU_K, nc), nh = 0;
    struct near *heap = xmalloc((size_t)K * sizeof(*heap));
    for (size_t o = 0; o < nc; o++) {
        if (b->vfirst[o] == b->vfirst[o + 1])
            continue; /* no baskets: not in the paper's set of users */
        double d2 = b->norm2[c] + b->norm2[o] - 2 * dot[o];
        heap_offer(heap, &nh, K, (int32_t)o, d2 < 0 ? 0 : d2);
    }
    double *score = xcalloc(np + 1, sizeof(double));
    int32_t *touched = xmalloc((np + 1) * sizeof(int32_t));
    int nt = 0;
    for (int32_t e = b->vfirst[c]; e < b->vfirst[c + 1]; e++) {
        touched[nt++] = b->vitem[e];
        score[b->vitem[e]] += NBR_TIFU_ALPHA * b->vweight[e];
    }
    for (int i = 0; i < nh; i++)
        for (int32_t e = b->vfirst[heap[i].c]; e < b->vfirst[heap[i].c + 1]; e++) {
            int32_t p = b->vitem[e];
            if (score[p] == 0)
                touched[nt++] = p;
            score[p] += (1 - NBR_TIFU_ALPHA) * b->vweight[e] / nh;
        }
    int m = top_k(b, score, NULL, touched, nt, k, out);
    free(dot);
    free(heap);
    free(score);
    free(touched);
    return m;
}
