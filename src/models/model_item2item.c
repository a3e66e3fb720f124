#include "xsell/model_item2item.h"

#include <math.h>

#include "xsell/log.h"
#include "xsell/mat.h"
#include "xsell/xalloc.h"
#include "xsell/snapfile.h"
#include "xsell/snapshot.h"

int ease_weights(double *g, int n, double lambda)
{
    for (int i = 0; i < n; i++)
        g[(size_t)i * n + i] += lambda;
    if (mat_spd_inverse(g, n))
        return -1;
    /* B_ij = -P_ij / P_jj, zero diagonal */
    double *diag = xmalloc(((size_t)n + 1) * sizeof(double));
    for (int j = 0; j < n; j++)
        diag[j] = g[(size_t)j * n + j];
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            g[(size_t)i * n + j] = i == j ? 0 : -g[(size_t)i * n + j] / diag[j];
    free(diag);
    return 0;
}

/* Keeps the k largest positive (weight, item) pairs of a row, best first. */
struct topk {
    int k, n;
    int32_t *idx;
    float *w;
};

static void topk_push(struct topk *t, int32_t j, float w)
{
    if (w <= 0)
        return;
    if (t->n == t->k && w <= t->w[t->n - 1])
        return;
    int at = t->n < t->k ? t->n++ : t->k - 1;
    while (at > 0 && t->w[at - 1] < w) {
        t->w[at] = t->w[at - 1];
        t->idx[at] = t->idx[at - 1];
        at--;
    }
    t->w[at] = w;
    t->idx[at] = j;
}

static void fit_knn(const struct history *h, const struct i2i_params *p, const int32_t *ifirst,
                    const int32_t *icust, struct model_item2item *m)
{
    size_t np = m->n;
    int32_t *co = xcalloc(np + 1, sizeof(int32_t));
    int32_t *touched = xmalloc((np + 1) * sizeof(int32_t));
    for (size_t i = 0; i < np; i++) {
        int nt = 0;
        for (int32_t x = ifirst[i]; x < ifirst[i + 1]; x++) {
            int32_t u = icust[x];
            for (int32_t k = h->cust_first[u]; k < h->cust_first[u + 1]; k++) {
                int32_t j = h->cust_items[k];
                if ((size_t)j != i && co[j]++ == 0)
                    touched[nt++] = j;
            }
        }
        struct topk t = {p->k, 0, m->nbr + i * (size_t)p->k, m->w + i * (size_t)p->k};
        double ni = ifirst[i + 1] - ifirst[i];
        for (int x = 0; x < nt; x++) {
            int32_t j = touched[x];
            double nj = ifirst[j + 1] - ifirst[j];
            topk_push(&t, j, (float)(co[j] / (sqrt(ni * nj) + p->shrink)));
            co[j] = 0;
        }
    }
    free(co);
    free(touched);
}

static int fit_ease(const struct history *h, const struct i2i_params *p, struct model_item2item *m)
{
    size_t n = m->n, nc = history_ncustomers(h);
    double *g = xcalloc(n * n + 1, sizeof(double));
    for (size_t u = 0; u < nc; u++)
        for (int32_t a = h->cust_first[u]; a < h->cust_first[u + 1]; a++)
            for (int32_t b = h->cust_first[u]; b < h->cust_first[u + 1]; b++)
                g[(size_t)h->cust_items[a] * n + (size_t)h->cust_items[b]] += 1;
    if (ease_weights(g, (int)n, p->lambda)) {
        free(g);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        struct topk t = {p->k, 0, m->nbr + i * (size_t)p->k, m->w + i * (size_t)p->k};
        for (size_t j = 0; j < n; j++)
            topk_push(&t, (int32_t)j, (float)g[i * n + j]);
    }
    free(g);
    return 0;
}

int model_item2item_fit(const struct history *h, const struct i2i_params *p, struct arena *a,
                        struct model_item2item *m, struct figures *fig)
{
    double t0 = mono_seconds();
    size_t np = history_nproducts(h);
    int32_t *ifirst, *icust;
    memset(m, 0, sizeof(*m));
    m->n = np;
    m->k = p->k;
    m->nbr = arena_array(a, np * (size_t)p->k + 1, sizeof(int32_t));
    m->w = arena_array(a, np * (size_t)p->k + 1, sizeof(float));
    m->buyers = arena_array(a, np + 1, sizeof(int32_t));
    for (size_t i = 0; i < np * (size_t)p->k; i++)
        m->nbr[i] = -1;
    csr_transpose(history_ncustomers(h), h->cust_first, h->cust_items, np, &ifirst, &icust);
    for (size_t i = 0; i < np; i++)
        m->buyers[i] = ifirst[i + 1] - ifirst[i];
    m->ease = np > 0 && np <= (size_t)p->ease_max_items;
    int rc = 0;
    if (m->ease) {
        log_info("item2item: EASE on %zu items (lambda %g)", np, p->lambda);
        rc = fit_ease(h, p, m);
    } else {
        log_info("item2item: item-kNN on %zu items (more than %d for EASE; shrink %g)", np,
                 p->ease_max_items, p->shrink);
        fit_knn(h, p, ifirst, icust, m);
    }
    free(ifirst);
    free(icust);
    if (rc)
        return -1;
    size_t links = 0;
    for (size_t i = 0; i < np * (size_t)p->k; i++)
        links += m->nbr[i] >= 0;
    figures_add(fig, "method_ease", m->ease ? 1 : 0);
    figures_add(fig, "items", (double)np);
    figures_add(fig, "neighbours", (double)links);
    figures_add(fig, "fit_seconds", mono_seconds() - t0);
    return 0;
}

struct i2i_params i2i_params_of(const struct model_params *p)
{
    return (struct i2i_params){.k = 50,
                               .ease_max_items = p->ease_max_items,
                               .lambda = p->ease_lambda,
                               .shrink = p->knn_shrink};
}

int model_item2item_train(struct snapshot *s, struct arena *a, const struct model_params *p,
                          struct figures *fig, char *err, size_t errlen)
{
    struct i2i_params ip = i2i_params_of(p);
    if (model_item2item_fit(&s->hist, &ip, a, &s->i2i, fig))
        return fmt_error(err, errlen, "EASE's Gram matrix is not positive definite");
    return 0;
}

void model_item2item_save(const struct snapshot *s, struct snapw *w)
{
    const struct model_item2item *m = &s->i2i;
    struct model_item2item head = *m;
    head.nbr = head.buyers = NULL;
    head.w = NULL;
    snapw_put(w, "item2item", &head, sizeof(head), 1);
    snapw_put(w, "item2item.nbr", m->nbr, sizeof(*m->nbr), m->n * (size_t)m->k);
    snapw_put(w, "item2item.w", m->w, sizeof(*m->w), m->n * (size_t)m->k);
    snapw_put(w, "item2item.buyers", m->buyers, sizeof(*m->buyers), m->n);
}

void model_item2item_load(struct snapshot *s, struct snapr *r)
{
    struct model_item2item *m = &s->i2i;
    if (!snapr_copy(r, "item2item", m, sizeof(*m)))
        return;
    m->nbr = snapr_get(r, "item2item.nbr", sizeof(*m->nbr), m->n * (size_t)m->k);
    m->w = snapr_get(r, "item2item.w", sizeof(*m->w), m->n * (size_t)m->k);
    m->buyers = snapr_get(r, "item2item.buyers", sizeof(*m->buyers), m->n);
}
