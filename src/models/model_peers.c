#include "xsell/model_peers.h"

#include <math.h>

#include "xsell/log.h"
#include "xsell/snapfile.h"
#include "xsell/snapshot.h"
#include "xsell/xalloc.h"

int peer_basket(const struct history *h, int32_t o, int32_t *out)
{
    int n = 0;
    for (int32_t l = h->order_first[o]; l < h->order_first[o + 1]; l++) {
        if (h->line_qty[l] <= 0)
            continue;
        bool dup = false;
        for (int i = 0; i < n && !dup; i++)
            dup = out[i] == h->line_product[l];
        if (!dup && n < PEERS_BASKET_MAX)
            out[n++] = h->line_product[l];
    }
    return n;
}

/* Customer c's vector, dense, added into v (zeros on entry), the products it touched
 * listed; false without baskets. */
static bool customer_vector(const struct history *h, const int32_t *cust_first,
                            const int32_t *cust_orders, int32_t c, double *v, int32_t *touched,
                            int *ntouched)
{
    int nb = cust_first[c + 1] - cust_first[c];
    *ntouched = 0;
    if (nb <= 0)
        return false;
    /* groups of baskets in time order: with G groups of nb baskets, group g holds
     * baskets [g * nb / G, (g + 1) * nb / G), as equal as whole baskets allow */
    int G = nb < PEERS_GROUPS ? nb : PEERS_GROUPS;
    int32_t items[PEERS_BASKET_MAX];
    for (int g = 0; g < G; g++) {
        int from = (int)((long)g * nb / G), to = (int)((long)(g + 1) * nb / G);
        double gw = pow(PEERS_RG, PEERS_GROUPS - g - 1) / (to - from) / G;
        for (int i = from; i < to; i++) {
            int32_t o = cust_orders[cust_first[c] + i];
            double w = gw * pow(PEERS_RB, nb - i - 1);
            int k = peer_basket(h, o, items);
            for (int x = 0; x < k; x++) {
                if (v[items[x]] == 0)
                    touched[(*ntouched)++] = items[x];
                v[items[x]] += w;
            }
        }
    }
    return true;
}

static int by_norm_asc(const void *a, const void *b, void *ctx)
{
    const double *n2 = ctx;
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    if (n2[x] != n2[y])
        return n2[x] < n2[y] ? -1 : 1;
    return (x > y) - (x < y);
}

void peer_vectors_build(const struct history *h, const int32_t *cust_first,
                        const int32_t *cust_orders, struct peer_vectors *pv)
{
    memset(pv, 0, sizeof(*pv));
    size_t np = history_nproducts(h), nc = history_ncustomers(h);
    pv->ncust = nc;
    pv->nprod = np;
    double *v = xcalloc(np + 1, sizeof(double));
    int32_t *touched = xmalloc((np + 1) * sizeof(int32_t));
    size_t cap = 1024, n = 0;
    pv->vfirst = xmalloc((nc + 1) * sizeof(int32_t));
    pv->vitem = xmalloc(cap * sizeof(int32_t));
    pv->vweight = xmalloc(cap * sizeof(float));
    pv->norm2 = xcalloc(nc + 1, sizeof(double));
    pv->by_norm = xmalloc((nc + 1) * sizeof(int32_t));
    int32_t *per_item = xcalloc(np + 1, sizeof(int32_t));
    for (size_t c = 0; c < nc; c++) {
        pv->vfirst[c] = (int32_t)n;
        int nt = 0;
        if (!customer_vector(h, cust_first, cust_orders, (int32_t)c, v, touched, &nt))
            continue;
        if (n + (size_t)nt > cap) {
            cap = MAX(cap * 2, n + (size_t)nt);
            pv->vitem = xrealloc(pv->vitem, cap * sizeof(int32_t));
            pv->vweight = xrealloc(pv->vweight, cap * sizeof(float));
        }
        for (int i = 0; i < nt; i++) {
            int32_t p = touched[i];
            pv->vitem[n] = p;
            pv->vweight[n++] = (float)v[p];
            pv->norm2[c] += v[p] * v[p];
            per_item[p]++;
            v[p] = 0;
        }
        pv->by_norm[pv->nby_norm++] = (int32_t)c;
    }
    pv->vfirst[nc] = (int32_t)n;
    qsort_r(pv->by_norm, pv->nby_norm, sizeof(int32_t), by_norm_asc, pv->norm2);
    pv->ifirst = xmalloc((np + 1) * sizeof(int32_t));
    pv->ifirst[0] = 0;
    for (size_t p = 0; p < np; p++)
        pv->ifirst[p + 1] = pv->ifirst[p] + per_item[p];
    pv->icust = xmalloc((n + 1) * sizeof(int32_t));
    pv->iweight = xmalloc((n + 1) * sizeof(float));
    memset(per_item, 0, (np + 1) * sizeof(int32_t));
    for (size_t c = 0; c < nc; c++)
        for (int32_t e = pv->vfirst[c]; e < pv->vfirst[c + 1]; e++) {
            int32_t p = pv->vitem[e], at = pv->ifirst[p] + per_item[p]++;
            pv->icust[at] = (int32_t)c;
            pv->iweight[at] = pv->vweight[e];
        }
    free(per_item);
    free(v);
    free(touched);
}

void peer_vectors_release(struct peer_vectors *pv)
{
    free(pv->vfirst);
    free(pv->vitem);
    free(pv->vweight);
    free(pv->norm2);
    free(pv->ifirst);
    free(pv->icust);
    free(pv->iweight);
    free(pv->by_norm);
    memset(pv, 0, sizeof(*pv));
}

double peer_vectors_work(const struct peer_vectors *pv)
{
    double w = 0;
    for (size_t p = 0; p < pv->nprod; p++) {
        double k = pv->ifirst[p + 1] - pv->ifirst[p];
        w += k * k;
    }
    return w;
}

void peer_scratch_init(struct peer_scratch *s, const struct peer_vectors *pv)
{
    s->dot = xcalloc(pv->ncust + 1, sizeof(double));
    s->touched = xmalloc((pv->ncust + 1) * sizeof(int32_t));
}

void peer_scratch_release(struct peer_scratch *s)
{
    free(s->dot);
    free(s->touched);
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

int peer_vectors_nearest(const struct peer_vectors *pv, int32_t c, int k, struct peer_scratch *s,
                         int32_t *out)
{
    if (c < 0 || pv->vfirst[c] == pv->vfirst[c + 1] || k <= 0)
        return 0;
    /* the dot products with the customers sharing a product with c */
    int nt = 0;
    for (int32_t e = pv->vfirst[c]; e < pv->vfirst[c + 1]; e++) {
        int32_t p = pv->vitem[e];
        double w = pv->vweight[e];
        for (int32_t i = pv->ifirst[p]; i < pv->ifirst[p + 1]; i++) {
            int32_t o = pv->icust[i];
            if (s->dot[o] == 0)
                s->touched[nt++] = o;
            s->dot[o] += w * pv->iweight[i];
        }
    }
    struct near *heap = xmalloc((size_t)k * sizeof(*heap));
    int nh = 0;
    for (int i = 0; i < nt; i++) {
        int32_t o = s->touched[i];
        double d2 = pv->norm2[c] + pv->norm2[o] - 2 * s->dot[o];
        heap_offer(heap, &nh, k, o, d2 < 0 ? 0 : d2);
    }
    /* the others, nearest first: in order of their norm */
    for (size_t i = 0; i < pv->nby_norm; i++) {
        int32_t o = pv->by_norm[i];
        if (s->dot[o] != 0)
            continue;
        double d2 = pv->norm2[c] + pv->norm2[o];
        if (nh == k && d2 >= heap[0].d2)
            break;
        heap_offer(heap, &nh, k, o, d2);
    }
    for (int i = 0; i < nt; i++)
        s->dot[s->touched[i]] = 0;
    for (int i = 0; i < nh; i++)
        out[i] = heap[i].c;
    free(heap);
    return nh;
}

/* A product and its score, for the top picks. */
struct scored {
    int32_t p;
    double score;
};

static int by_score_desc(const void *a, const void *b)
{
    const struct scored *x = a, *y = b;
    if (x->score != y->score)
        return x->score < y->score ? 1 : -1;
    return (x->p > y->p) - (x->p < y->p);
}

void model_peers_fit(const struct history *h, struct arena *a, struct model_peers *m,
                     struct figures *fig)
{
    double t0 = mono_seconds();
    memset(m, 0, sizeof(*m));
    size_t nc = history_ncustomers(h), np = history_nproducts(h);
    m->ncust = nc;
    m->first = arena_array(a, nc + 1, sizeof(int32_t));
    int32_t *cust_first, *cust_orders;
    history_customer_orders(h, &cust_first, &cust_orders);
    struct peer_vectors pv;
    peer_vectors_build(h, cust_first, cust_orders, &pv);
    free(cust_first);
    free(cust_orders);
    m->nown = (size_t)h->cust_first[nc];
    m->own = arena_array(a, m->nown + 1, sizeof(float));
    for (size_t c = 0; c < nc; c++)
        for (int32_t e = pv.vfirst[c]; e < pv.vfirst[c + 1]; e++) {
            int32_t k = history_customer_entry(h, (int32_t)c, pv.vitem[e]);
            if (k >= 0)
                m->own[k] = pv.vweight[e];
        }
    double work = peer_vectors_work(&pv);
    figures_add(fig, "work", work);
    if (work > PEERS_MAX_WORK) {
        log_info("peers: not fitted: the neighbour search would take %.3g steps (more than "
                 "%.3g)",
                 work, PEERS_MAX_WORK);
        figures_add(fig, "fitted", 0);
        peer_vectors_release(&pv);
        return;
    }
    struct peer_scratch s;
    peer_scratch_init(&s, &pv);
    int32_t *near = xmalloc(PEERS_K * sizeof(int32_t)),
            *touched = xmalloc((np + 1) * sizeof(int32_t));
    double *score = xcalloc(np + 1, sizeof(double));
    bool *in = xcalloc(np + 1, sizeof(bool));
    struct scored *top = xmalloc((np + 1) * sizeof(*top));
    size_t cap = nc * 8 + 16, n = 0;
    int32_t *item = xmalloc(cap * sizeof(int32_t));
    float *sc = xmalloc(cap * sizeof(float));
    for (size_t c = 0; c < nc; c++) {
        m->first[c] = (int32_t)n;
        int k = peer_vectors_nearest(&pv, (int32_t)c, PEERS_K, &s, near), nt = 0;
        for (int i = 0; i < k; i++)
            for (int32_t e = pv.vfirst[near[i]]; e < pv.vfirst[near[i] + 1]; e++) {
                int32_t p = pv.vitem[e];
                if (!in[p]) {
                    in[p] = true;
                    touched[nt++] = p;
                }
                score[p] += pv.vweight[e] / k;
            }
        int nk = 0;
        for (int i = 0; i < nt; i++) {
            int32_t p = touched[i];
            top[nk++] = (struct scored){p, score[p]};
            score[p] = 0;
            in[p] = false;
        }
        qsort(top, (size_t)nk, sizeof(*top), by_score_desc);
        nk = MIN(nk, PEERS_TOP);
        if (n + (size_t)nk > cap) {
            cap = MAX(cap * 2, n + (size_t)nk);
            item = xrealloc(item, cap * sizeof(int32_t));
            sc = xrealloc(sc, cap * sizeof(float));
        }
        for (int i = 0; i < nk; i++) {
            item[n] = top[i].p;
            sc[n++] = (float)top[i].score;
        }
    }
    m->first[nc] = (int32_t)n;
    m->item = arena_array(a, n + 1, sizeof(int32_t));
    m->score = arena_array(a, n + 1, sizeof(float));
    memcpy(m->item, item, n * sizeof(int32_t));
    memcpy(m->score, sc, n * sizeof(float));
    m->fitted = true;
    free(item);
    free(sc);
    free(near);
    free(touched);
    free(score);
    free(in);
    free(top);
    peer_scratch_release(&s);
    peer_vectors_release(&pv);
    figures_add(fig, "fitted", 1);
    figures_add(fig, "entries", (double)n);
    figures_add(fig, "fit_seconds", mono_seconds() - t0);
}

int model_peers_train(struct snapshot *s, struct arena *a, const struct model_params *p,
                      struct figures *fig, char *err, size_t errlen)
{
    UNUSED(p);
    UNUSED(err);
    UNUSED(errlen);
    model_peers_fit(&s->hist, a, &s->peers, fig);
    return 0;
}

void model_peers_save(const struct snapshot *s, struct snapw *w)
{
    const struct model_peers *m = &s->peers;
    size_t n = m->fitted ? (size_t)m->first[m->ncust] : 0;
    struct model_peers head = *m;
    head.first = head.item = NULL;
    head.score = head.own = NULL;
    snapw_put(w, "peers", &head, sizeof(head), 1);
    snapw_put(w, "peers.own", m->own, sizeof(*m->own), m->nown);
    snapw_put(w, "peers.first", m->first, sizeof(*m->first), m->ncust + 1);
    snapw_put(w, "peers.item", m->item, sizeof(*m->item), n);
    snapw_put(w, "peers.score", m->score, sizeof(*m->score), n);
}

void model_peers_load(struct snapshot *s, struct snapr *r)
{
    struct model_peers *m = &s->peers;
    if (!snapr_copy(r, "peers", m, sizeof(*m)))
        return;
    m->own = snapr_get(r, "peers.own", sizeof(*m->own), m->nown);
    m->first = snapr_get(r, "peers.first", sizeof(*m->first), m->ncust + 1);
    size_t n = m->fitted && m->first ? (size_t)m->first[m->ncust] : 0;
    m->item = snapr_get(r, "peers.item", sizeof(*m->item), n);
    m->score = snapr_get(r, "peers.score", sizeof(*m->score), n);
}
