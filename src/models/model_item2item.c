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

void sparse_rows_free(struct sparse_rows *x)
{
    free(x->first);
    free(x->items);
    free(x->w);
    memset(x, 0, sizeof(*x));
}

/* Per customer, their visits: first (ncustomers + 1) and visits, malloc'd. */
static void customer_visits(const struct history *h, int32_t **first, int32_t **visits)
{
    size_t nc = history_ncustomers(h);
    int32_t *f = xcalloc(nc + 2, sizeof(int32_t));
    for (size_t v = 0; v < h->nvisits; v++)
        if (h->visit_customer[v] >= 0)
            f[h->visit_customer[v] + 1]++;
    for (size_t c = 0; c < nc; c++)
        f[c + 1] += f[c];
    int32_t *r = xmalloc(((size_t)f[nc] + 1) * sizeof(int32_t));
    int32_t *fill = xmalloc((nc + 1) * sizeof(int32_t));
    memcpy(fill, f, (nc + 1) * sizeof(int32_t));
    for (size_t v = 0; v < h->nvisits; v++)
        if (h->visit_customer[v] >= 0)
            r[fill[h->visit_customer[v]]++] = (int32_t)v;
    free(fill);
    *first = f;
    *visits = r;
}

/* A growing set of rows: the current one's entries gathered in val/touched, then
 * appended by row_end. */
struct row_builder {
    struct sparse_rows *x;
    size_t cap, rows_cap;
    float *val; /* per item, 0 when not in the row */
    int32_t *touched;
    int nt;
};

static void row_put(struct row_builder *b, int32_t p, float w)
{
    if (w <= 0)
        return;
    if (b->val[p] == 0)
        b->touched[b->nt++] = p;
    b->val[p] = MAX(b->val[p], w);
}

static void row_end(struct row_builder *b)
{
    struct sparse_rows *x = b->x;
    if (b->nt == 0)
        return;
    size_t at = (size_t)x->first[x->n];
    size_t old = b->cap;
    xgrow((void **)&x->items, &b->cap, at + (size_t)b->nt + 1, sizeof(int32_t));
    if (b->cap != old)
        x->w = xrealloc(x->w, b->cap * sizeof(float));
    for (int i = 0; i < b->nt; i++) {
        int32_t p = b->touched[i];
        x->items[at + (size_t)i] = p;
        x->w[at + (size_t)i] = b->val[p];
        b->val[p] = 0;
    }
    xgrow((void **)&x->first, &b->rows_cap, x->n + 2, sizeof(int32_t));
    x->first[x->n + 1] = (int32_t)(at + (size_t)b->nt);
    x->n++;
    b->nt = 0;
}

static float signal_weight(enum signal_kind k, double click_weight, double cart_weight)
{
    return (float)(k == SIGNAL_CLICK ? click_weight : k == SIGNAL_CART ? cart_weight : 0);
}

void i2i_rows(const struct history *h, double click_weight, double cart_weight,
              struct sparse_rows *x)
{
    size_t nc = history_ncustomers(h), np = history_nproducts(h);
    memset(x, 0, sizeof(*x));
    struct row_builder b = {.x = x,
                            .val = xcalloc(np + 1, sizeof(float)),
                            .touched = xmalloc((np + 1) * sizeof(int32_t))};
    xgrow((void **)&x->first, &b.rows_cap, nc + 2, sizeof(int32_t));
    x->first[0] = 0;
    bool signals = h->nsignals > 0 && (click_weight > 0 || cart_weight > 0);
    int32_t *vfirst = NULL, *visits = NULL;
    if (signals)
        customer_visits(h, &vfirst, &visits);
    for (size_t c = 0; c < nc; c++) {
        for (int32_t k = h->cust_first[c]; k < h->cust_first[c + 1]; k++)
            row_put(&b, h->cust_items[k], 1);
        for (int32_t i = signals ? vfirst[c] : 0; signals && i < vfirst[c + 1]; i++)
            for (int32_t k = h->visit_first[visits[i]]; k < h->visit_first[visits[i] + 1]; k++)
                row_put(&b, h->sig_product[k],
                        signal_weight(h->sig_kind[k], click_weight, cart_weight));
        row_end(&b);
    }
    for (size_t v = 0; signals && v < h->nvisits; v++) {
        if (h->visit_customer[v] >= 0)
            continue;
        for (int32_t k = h->visit_first[v]; k < h->visit_first[v + 1]; k++)
            row_put(&b, h->sig_product[k],
                    signal_weight(h->sig_kind[k], click_weight, cart_weight));
        row_end(&b);
    }
    free(vfirst);
    free(visits);
    free(b.val);
    free(b.touched);
}

void item_knn(const struct sparse_rows *x, size_t nitems, int k, double shrink, int32_t *nbr,
              float *w)
{
    /* the columns: per item, its rows and weights */
    int32_t *ifirst, *irow;
    csr_transpose(x->n, x->first, x->items, nitems, &ifirst, &irow);
    float *iw = xmalloc(((size_t)ifirst[nitems] + 1) * sizeof(float));
    double *norm = xcalloc(nitems + 1, sizeof(double));
    int32_t *fill = xmalloc((nitems + 1) * sizeof(int32_t));
    memcpy(fill, ifirst, nitems * sizeof(int32_t));
    for (size_t r = 0; r < x->n; r++)
        for (int32_t e = x->first[r]; e < x->first[r + 1]; e++) {
            double v = x->w ? x->w[e] : 1;
            iw[fill[x->items[e]]++] = (float)v;
            norm[x->items[e]] += v * v;
        }
    free(fill);
    double *co = xcalloc(nitems + 1, sizeof(double));
    int32_t *touched = xmalloc((nitems + 1) * sizeof(int32_t));
    for (size_t i = 0; i < nitems; i++) {
        int nt = 0;
        for (int32_t e = ifirst[i]; e < ifirst[i + 1]; e++) {
            int32_t u = irow[e];
            double wi = iw[e];
            for (int32_t f = x->first[u]; f < x->first[u + 1]; f++) {
                int32_t j = x->items[f];
                if ((size_t)j == i)
                    continue;
                if (co[j] == 0)
                    touched[nt++] = j;
                co[j] += wi * (x->w ? x->w[f] : 1);
            }
        }
        struct topk t = {k, 0, nbr + i * (size_t)k, w + i * (size_t)k};
        for (int e = 0; e < nt; e++) {
            int32_t j = touched[e];
            topk_push(&t, j, (float)(co[j] / (sqrt(norm[i] * norm[j]) + shrink)));
            co[j] = 0;
        }
    }
    free(co);
    free(touched);
    free(norm);
    free(iw);
    free(ifirst);
    free(irow);
}

static int fit_ease(const struct sparse_rows *x, const struct i2i_params *p,
                    struct model_item2item *m)
{
    size_t n = m->n;
    double *g = xcalloc(n * n + 1, sizeof(double));
    for (size_t u = 0; u < x->n; u++)
        for (int32_t a = x->first[u]; a < x->first[u + 1]; a++) {
            double wa = x->w ? x->w[a] : 1;
            for (int32_t b = x->first[u]; b < x->first[u + 1]; b++)
                g[(size_t)x->items[a] * n + (size_t)x->items[b]] += wa * (x->w ? x->w[b] : 1);
        }
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
    memset(m, 0, sizeof(*m));
    m->n = np;
    m->k = p->k;
    m->nbr = arena_array(a, np * (size_t)p->k + 1, sizeof(int32_t));
    m->w = arena_array(a, np * (size_t)p->k + 1, sizeof(float));
    m->buyers = arena_array(a, np + 1, sizeof(int32_t));
    for (size_t i = 0; i < np * (size_t)p->k; i++)
        m->nbr[i] = -1;
    for (size_t k = 0; k < (size_t)h->cust_first[history_ncustomers(h)]; k++)
        m->buyers[h->cust_items[k]]++;
    struct sparse_rows x;
    i2i_rows(h, p->click_weight, p->cart_weight, &x);
    m->ease = np > 0 && np <= (size_t)p->ease_max_items;
    int rc = 0;
    if (m->ease) {
        log_info("item2item: EASE on %zu items (lambda %g)", np, p->lambda);
        rc = fit_ease(&x, p, m);
    } else {
        log_info("item2item: item-kNN on %zu items (more than %d for EASE; shrink %g)", np,
                 p->ease_max_items, p->shrink);
        item_knn(&x, np, p->k, p->shrink, m->nbr, m->w);
    }
    size_t rows = x.n;
    sparse_rows_free(&x);
    if (rc)
        return -1;
    size_t links = 0;
    for (size_t i = 0; i < np * (size_t)p->k; i++)
        links += m->nbr[i] >= 0;
    figures_add(fig, "method_ease", m->ease ? 1 : 0);
    figures_add(fig, "items", (double)np);
    figures_add(fig, "neighbours", (double)links);
    figures_add(fig, "click_weight", p->click_weight);
    figures_add(fig, "cart_weight", p->cart_weight);
    figures_add(fig, "rows", (double)rows);
    figures_add(fig, "fit_seconds", mono_seconds() - t0);
    return 0;
}

struct i2i_params i2i_params_of(const struct model_params *p)
{
    return (struct i2i_params){.k = 50,
                               .ease_max_items = p->ease_max_items,
                               .lambda = p->ease_lambda,
                               .shrink = p->knn_shrink,
                               .click_weight = p->click_weight,
                               .cart_weight = p->cart_weight};
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
