/* model_repeat.h - each customer's own purchase record, for "buy again" and for
 * weighting a history by recency: per (customer, product) the number of orders
 * that bought it and when last; per customer the share of purchases that were
 * repeats and the last order.
 * Buy-again score (personal frequency with recency decay, the strong baseline of
 * next-basket research): times * 2^(-(as_of - last) / half_life). */
#ifndef XSELL_MODEL_REPEAT_H
#define XSELL_MODEL_REPEAT_H

#include "xsell/arena.h"
#include "xsell/figures.h"
#include "xsell/history.h"

struct model_repeat {
    /* per entry k of the history's cust_items: */
    int32_t *times;
    double *first, *last;
    /* per customer: */
    float *repeat_share; /* sum(times - 1) / sum(times) */
    int32_t *last_order; /* -1 if none */
    double as_of;
};

void model_repeat_fit(const struct history *h, double as_of, struct arena *a,
                      struct model_repeat *m, struct figures *fig);
/* Entry k's buy-again score with the given half-life (a query-time setting,
 * model_params.repeat_half_life_days). */
double model_repeat_score(const struct model_repeat *m, size_t k, double half_life_days);

#endif
