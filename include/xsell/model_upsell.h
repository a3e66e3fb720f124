/* model_upsell.h - the better, pricier item a customer is likely to take.
 *
 * Substitutes, learned: items bought by the same customers (cosine of their
 * customer sets) but seldom in one basket (above basket lift 1 - complements -
 * the similarity is divided by the lift), with the catalogue category as a prior
 * (another category counts half), not a wall. Each item keeps its 20
 * best pricier substitutes.
 * Upgrade paths, learned: among the customers who bought A and ordered again,
 * the share who moved to substitute B - first bought it after A, and bought A no
 * more from then on; ranked by the Wilson lower bound of that rate.
 * A customer's price position in a category: where, between the category's
 * cheapest and dearest, the prices they paid sat (0..1, averaged); and their recent
 * spend: the mean order value of the last 90 days over their lifetime mean, which
 * widens (up to 2x) or narrows (down to 0.5x) how far above that position they go.
 * P(accept) = the path's lower bound (or a tenth of the substitute similarity
 * when no path was seen), times how far the candidate sits above the customer's
 * usual position; score = P(accept) x incremental value.
 * A lighter hand with a customer at risk (churn_risk r from /churn's model): the
 * stretch above their usual position shrinks to (1 - r) of itself, and P(accept)
 * is discounted by r x the step (a +100% step at r = 0.8 keeps a fifth of it, a
 * +10% step 92%), so small, safe upgrades rise and big pushes sink. */
#ifndef XSELL_MODEL_UPSELL_H
#define XSELL_MODEL_UPSELL_H

#include "xsell/arena.h"
#include "xsell/figures.h"
#include "xsell/history.h"
#include "xsell/model_content.h"
#include "xsell/model_repeat.h"

#define UPSELL_K 20

struct upsell_link {
    int32_t to;
    float similarity;
    int32_t count; /* customers who went from A to B */
    float rate, p; /* count / customers who bought A and came back; Wilson bound */
};

struct model_upsell {
    size_t n;
    struct upsell_link *links; /* n * UPSELL_K, to = -1 past the last */
    int32_t *returners;        /* per item: buyers who ordered again afterwards */
    float *spend_ratio;        /* per customer: recent / lifetime mean order value */
    /* categories: per product its category index (-1 none), per category the range */
    int32_t *cat;
    double *cat_min, *cat_max;
    size_t ncat;
};

void model_upsell_fit(const struct history *h, const struct model_repeat *rep,
                      const struct model_content *content, struct arena *a, struct model_upsell *m,
                      struct figures *fig);

struct upsell_query {
    int32_t item;
    int32_t customer; /* -1: the average customer */
    int limit;
    double min_step, max_step;  /* price ratio - 1, e.g. 0.1 .. 1.0 */
    bool margin;                /* value = margin difference (cost), else price difference */
    double churn_risk;          /* the customer's, from /churn's model; 0 when unknown */
    const bool *held;           /* per product: held back for its stock (snapshot.h); NULL */
    struct held_back *held_out; /* those met, when not NULL */
};

struct upsell_item {
    int32_t product;
    double score, p_accept, value;
    const struct upsell_link *link;
};

/* Fills out (memory from a), best first; returns how many. */
int model_upsell_query(const struct model_upsell *m, const struct history *h,
                       const struct model_repeat *rep, const struct upsell_query *q,
                       struct arena *a, struct upsell_item **out);
/* The customer's price position in product p's category (0..1), or -1 if unknown. */
double model_upsell_position(const struct model_upsell *m, const struct history *h,
                             const struct model_repeat *rep, int32_t customer, int32_t p);

#endif
