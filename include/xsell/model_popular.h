/* model_popular.h - what sells now: recency-weighted popularity.
 *
 * score(p) = sum over orders containing p (bought, not returned) of
 *            2^(-(t_ref - t_order) / half_life)
 * so an order half_life days old counts half as much as one today. Counting orders
 * rather than units keeps one wholesaler's pallet from outranking a hundred shoppers.
 * It is the fallback of every recommender and the first model xsell serves. */
#ifndef XSELL_MODEL_POPULAR_H
#define XSELL_MODEL_POPULAR_H

#include "xsell/arena.h"
#include "xsell/figures.h"
#include "xsell/history.h"

struct model_popular {
    size_t n;        /* products */
    double *score;   /* per product */
    int32_t *ranked; /* products with score > 0, best first */
    size_t nranked;
    double t_ref, half_life_days;
};

/* Fits on h as of t_ref (seconds since the epoch); memory from a. */
void model_popular_fit(const struct history *h, double t_ref, double half_life_days,
                       struct arena *a, struct model_popular *m, struct figures *fig);

/* Walks the ranking best first, calling keep(p, ctx) and collecting up to limit
 * products it accepts into out[]. Returns how many were collected. */
size_t model_popular_top(const struct model_popular *m, bool (*keep)(int32_t p, void *ctx),
                         void *ctx, size_t limit, int32_t *out);

#endif
