#include "xsell/model_coview.h"

#include "xsell/log.h"
#include "xsell/model_item2item.h"
#include "xsell/snapfile.h"
#include "xsell/snapshot.h"
#include "xsell/xalloc.h"

/* h's visits as rows of their distinct products. */
static void visit_rows(const struct history *h, struct sparse_rows *x)
{
    size_t np = history_nproducts(h);
    int32_t *seen = xmalloc((np + 1) * sizeof(int32_t));
    for (size_t p = 0; p <= np; p++)
        seen[p] = -1;
    memset(x, 0, sizeof(*x));
    x->first = xmalloc((h->nvisits + 1) * sizeof(int32_t));
    x->items = xmalloc((h->nsignals + 1) * sizeof(int32_t));
    x->first[0] = 0;
    int32_t at = 0;
    for (size_t v = 0; v < h->nvisits; v++) {
        for (int32_t k = h->visit_first[v]; k < h->visit_first[v + 1]; k++) {
            int32_t p = h->sig_product[k];
            if (seen[p] != (int32_t)v) {
                seen[p] = (int32_t)v;
                x->items[at++] = p;
            }
        }
        x->first[v + 1] = at;
    }
    x->n = h->nvisits;
    free(seen);
}

void model_coview_fit(const struct history *h, struct arena *a, struct model_coview *m,
                      struct figures *fig)
{
    size_t np = history_nproducts(h);
    memset(m, 0, sizeof(*m));
    m->n = np;
    m->k = COVIEW_K;
    m->nbr = arena_array(a, np * COVIEW_K + 1, sizeof(int32_t));
    m->w = arena_array(a, np * COVIEW_K + 1, sizeof(float));
    m->visits = arena_array(a, np + 1, sizeof(int32_t));
    for (size_t i = 0; i < np * COVIEW_K; i++)
        m->nbr[i] = -1;
    struct sparse_rows x;
    visit_rows(h, &x);
    for (size_t e = 0; e < (size_t)x.first[x.n]; e++)
        m->visits[x.items[e]]++;
    if (h->nvisits > 0)
        item_knn(&x, np, COVIEW_K, COVIEW_SHRINK, m->nbr, m->w);
    sparse_rows_free(&x);
    size_t links = 0, linked = 0;
    for (size_t i = 0; i < np; i++) {
        linked += m->nbr[i * COVIEW_K] >= 0;
        for (int k = 0; k < COVIEW_K; k++)
            links += m->nbr[i * COVIEW_K + (size_t)k] >= 0;
    }
    figures_add(fig, "visits", (double)h->nvisits);
    figures_add(fig, "signals", (double)h->nsignals);
    figures_add(fig, "products_linked", (double)linked);
    figures_add(fig, "neighbours", (double)links);
}

int model_coview_train(struct snapshot *s, struct arena *a, const struct model_params *p,
                       struct figures *fig, char *err, size_t errlen)
{
    double t = mono_seconds();
    UNUSED(p);
    UNUSED(err);
    UNUSED(errlen);
    model_coview_fit(&s->hist, a, &s->coview, fig);
    figures_add(fig, "fit_seconds", mono_seconds() - t);
    return 0;
}

void model_coview_save(const struct snapshot *s, struct snapw *w)
{
    const struct model_coview *m = &s->coview;
    struct model_coview head = *m;
    head.nbr = head.visits = NULL;
    head.w = NULL;
    snapw_put(w, "coview", &head, sizeof(head), 1);
    snapw_put(w, "coview.nbr", m->nbr, sizeof(*m->nbr), m->n * (size_t)m->k);
    snapw_put(w, "coview.w", m->w, sizeof(*m->w), m->n * (size_t)m->k);
    snapw_put(w, "coview.visits", m->visits, sizeof(*m->visits), m->n);
}

void model_coview_load(struct snapshot *s, struct snapr *r)
{
    struct model_coview *m = &s->coview;
    if (!snapr_copy(r, "coview", m, sizeof(*m)))
        return;
    m->nbr = snapr_get(r, "coview.nbr", sizeof(*m->nbr), m->n * (size_t)m->k);
    m->w = snapr_get(r, "coview.w", sizeof(*m->w), m->n * (size_t)m->k);
    m->visits = snapr_get(r, "coview.visits", sizeof(*m->visits), m->n);
}
