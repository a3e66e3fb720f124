#include "xsell/model_popular.h"

#include <math.h>

#include "xsell/log.h"
#include "xsell/snapfile.h"
#include "xsell/snapshot.h"
#include "xsell/xalloc.h"

static _Thread_local const double *sort_scores;

static int by_score_desc(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    double sx = sort_scores[x], sy = sort_scores[y];
    if (sx != sy)
        return sx < sy ? 1 : -1;
    return (x > y) - (x < y);
}

void model_popular_fit(const struct history *h, double t_ref, double half_life_days,
                       struct arena *a, struct model_popular *m, struct figures *fig)
{
    size_t np = history_nproducts(h);
    memset(m, 0, sizeof(*m));
    m->n = np;
    m->t_ref = t_ref;
    m->half_life_days = half_life_days;
    m->score = arena_array(a, np ? np : 1, sizeof(double));
    m->ranked = arena_array(a, np ? np : 1, sizeof(int32_t));
    double lambda = log(2.0) / (half_life_days * 86400.0);
    for (size_t i = 0; i < h->nlines; i++) {
        double t = h->order_time[h->line_order[i]];
        if (h->line_qty[i] <= 0 || t > t_ref)
            continue;
        m->score[h->line_product[i]] += exp(-lambda * (t_ref - t));
    }
    for (size_t p = 0; p < np; p++)
        if (m->score[p] > 0)
            m->ranked[m->nranked++] = (int32_t)p;
    /* qsort has no context argument in C11: a thread-local carries the scores. */
    sort_scores = m->score;
    qsort(m->ranked, m->nranked, sizeof(int32_t), by_score_desc);
    sort_scores = NULL;
    figures_add(fig, "products_ranked", (double)m->nranked);
    figures_add(fig, "half_life_days", half_life_days);
    figures_add(fig, "top_score", m->nranked ? m->score[m->ranked[0]] : 0);
}

size_t model_popular_top(const struct model_popular *m, bool (*keep)(int32_t p, void *ctx),
                         void *ctx, size_t limit, int32_t *out)
{
    size_t k = 0;
    for (size_t i = 0; i < m->nranked && k < limit; i++)
        if (!keep || keep(m->ranked[i], ctx))
            out[k++] = m->ranked[i];
    return k;
}

int model_popular_train(struct snapshot *s, struct arena *a, const struct model_params *p,
                        struct figures *fig, char *err, size_t errlen)
{
    double t = mono_seconds();
    UNUSED(err);
    UNUSED(errlen);
    model_popular_fit(&s->hist, p->as_of, p->half_life_days, a, &s->popular, fig);
    figures_add(fig, "fit_seconds", mono_seconds() - t);
    return 0;
}

void model_popular_save(const struct snapshot *s, struct snapw *w)
{
    const struct model_popular *m = &s->popular;
    struct model_popular head = *m;
    head.score = NULL;
    head.ranked = NULL;
    snapw_put(w, "popular", &head, sizeof(head), 1);
    snapw_put(w, "popular.score", m->score, sizeof(*m->score), m->n);
    snapw_put(w, "popular.ranked", m->ranked, sizeof(*m->ranked), m->nranked);
}

void model_popular_load(struct snapshot *s, struct snapr *r)
{
    struct model_popular *m = &s->popular;
    if (!snapr_copy(r, "popular", m, sizeof(*m)))
        return;
    m->score = snapr_get(r, "popular.score", sizeof(*m->score), m->n);
    m->ranked = snapr_get(r, "popular.ranked", sizeof(*m->ranked), m->nranked);
}
