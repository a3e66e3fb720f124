/* eval_nbr.h - the next-basket baselines the offline evaluation ranks beside
 * /recommend's methods, on the same catalogue and the same truth:
 *
 * global top (G-TopFreq): products by the number of baskets holding them.
 *
 * personal top frequency (P-TopFreq, the "personal top" baseline of next-basket
 * research): the customer's own products by the number of their baskets holding
 * them, ties to the most recent, then the global top.
 *
 * TIFU-kNN (Hu, He, Gao & Zhang, SIGIR 2020): the customer's vector (model_peers.h)
 * times NBR_TIFU_ALPHA plus the mean of the vectors of the PEERS_K customers nearest
 * by Euclidean distance (the customer among them, as in the paper's code) times
 * 1 - NBR_TIFU_ALPHA; the paper's default settings (its TaFeng ones: 7 groups, r_b
 * 0.9, r_g 0.7, 300 neighbours, alpha 0.7). */
#ifndef XSELL_EVAL_NBR_H
#define XSELL_EVAL_NBR_H

#include "xsell/history.h"
#include "xsell/model_peers.h"

#define NBR_TIFU_ALPHA 0.7

struct nbr_baselines {
    const struct history *h;
    int32_t *cust_first, *cust_orders; /* history_customer_orders */
    int32_t *global;                   /* products by baskets holding them, most first */
    size_t nglobal;
    struct peer_vectors pv;
    struct peer_scratch scratch;
};

/* Built on h (the training side); released by nbr_release. */
void nbr_build(const struct history *h, struct nbr_baselines *b);
void nbr_release(struct nbr_baselines *b);

/* Each writes at most k products (k <= 64) into out and returns how many. */
int nbr_global_top(const struct nbr_baselines *b, int k, int32_t *out);
int nbr_personal_top(const struct nbr_baselines *b, int32_t customer, int k, int32_t *out);
int nbr_tifu(struct nbr_baselines *b, int32_t customer, int k, int32_t *out);

#endif
