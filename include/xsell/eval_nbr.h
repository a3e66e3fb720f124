/* eval_nbr.h - the next-basket baselines the offline evaluation ranks beside
 * /recommend's methods, on the same catalogue and the same truth:
 *
 * global top (G-TopFreq): products by the number of baskets holding them.
 *
 * personal top frequency (P-TopFreq, the "personal top" baseline of next-basket
 * research): the customer's own products by the number of their baskets holding
 * them, ties to the most recent, then the global top.
 *
 * TIFU-kNN (Hu, He, Gao & Zhang, SIGIR 2020): a customer's baskets (multi-hot
 * vectors, in time order) each weighted by r_b^(baskets after it); the history
 * split into NBR_TIFU_GROUPS equal groups in time order (each basket its own group
 * when there are fewer), each group the mean of its baskets; the customer's vector
 * the sum of group g (0 the oldest) times r_g^(groups - g - 1), divided by the
 * groups. Scores: alpha times the customer's vector plus (1 - alpha) times the mean
 * of the vectors of the NBR_TIFU_K customers nearest by Euclidean distance (the
 * customer among them, as in the paper's code). Parameters the paper's defaults
 * (its TaFeng setting: 7 groups, r_b 0.9, r_g 0.7, 300 neighbours, alpha 0.7). */
#ifndef XSELL_EVAL_NBR_H
#define XSELL_EVAL_NBR_H

#include "xsell/history.h"

#define NBR_TIFU_GROUPS 7
#define NBR_TIFU_RB     0.9
#define NBR_TIFU_RG     0.7
#define NBR_TIFU_K      300
#define NBR_TIFU_ALPHA  0.7

struct nbr_baselines {
    const struct history *h;
    int32_t *cust_first, *cust_orders; /* history_customer_orders */
    int32_t *global;                   /* products by baskets holding them, most first */
    size_t nglobal;
    /* TIFU-kNN: customer c's vector as (product, weight) pairs vfirst[c]..vfirst[c+1]-1,
     * its squared norm; per product, the customers holding it (an inverted index) */
    int32_t *vfirst, *vitem;
    float *vweight;
    double *norm2;
    int32_t *ifirst, *icust;
    float *iweight;
};

/* Built on h (the training side); released by nbr_release. */
void nbr_build(const struct history *h, struct nbr_baselines *b);
void nbr_release(struct nbr_baselines *b);

/* Each writes at most k products (k <= 64) into out and returns how many. */
int nbr_global_top(const struct nbr_baselines *b, int k, int32_t *out);
int nbr_personal_top(const struct nbr_baselines *b, int32_t customer, int k, int32_t *out);
int nbr_tifu(const struct nbr_baselines *b, int32_t customer, int k, int32_t *out);

#endif
