/* tune.h - each full training run chooses the shop's recommendation settings on its
 * own data. Read at query time: the blend's five weights (complements, similar
 * customers' products, similar products by text, what the nearest customers buy:
 * model_peers.h, the customer's own products on the same scale), buy-again's share of a list
 * (buy_again_base plus buy_again_scale times each customer's own share of repeat purchases, at most
 * buy_again_max: a customer who rebuys gets more of the list for buy-again, one who explores less),
 * the half-life of buy-again's ranking (times bought, decayed by the time since the
 * last), the half-life of a customer's products as the personal list's sources, and
 * the content hand-over (the buyers at which a product's behaviour and its text weigh
 * the same). Fitted with: EASE's penalty (or item-kNN's shrinkage, whichever the shop
 * is fitted with), the weights of clicks and cart adds beside purchases in the same
 * model (when the shop sent such events: model_item2item.h) and popularity's
 * half-life; a trial of one of these refits that model on the validation history.
 *
 * Validation: the models fitted on the orders up to 2 x XSELL_EVAL_HOLDOUT_DAYS
 * before the latest, the served blend scored on the XSELL_EVAL_HOLDOUT_DAYS after
 * that, as in the evaluation: the mean of the customers' next-basket Recall@10 and
 * NDCG@10 and the carts' HitRate@10 (the same weights serve both, so that neither is
 * given up for the other); the
 * evaluation's own window, the last one, is never seen, so that its figures stay
 * honest for the settings chosen. The search: coordinate ascent from the better of
 * two starting points (the configured settings; and the customer's own products with
 * their nearest customers' on one scale, buy-again's slots off: TIFU-kNN's
 * composition), each setting over its grid in turn with the others held (the
 * query-time ones first), a value kept only when it gains more than TUNE_MIN_GAIN,
 * two passes, within a time budget. A shop
 * with fewer than TUNE_MIN_CUSTOMERS validation customers keeps its settings. */
#ifndef XSELL_TUNE_H
#define XSELL_TUNE_H

#include "xsell/history.h"
#include "xsell/models.h"

#define TUNE_MAX_TRIALS    200
#define TUNE_MIN_CUSTOMERS 50
#define TUNE_CUSTOMERS     1000 /* validation customers scored per trial, at most */
#define TUNE_MIN_GAIN      0.001
#define TUNE_SETTINGS      16

/* One setting tried: the values, what the blend scored. */
struct tune_trial {
    double value[TUNE_SETTINGS]; /* in tune_setting_names' order */
    double recall, ndcg, cart_hit;
};

struct tune_result {
    bool tuned; /* false: the settings stay as they were, why says why */
    char why[200];
    double cut, until; /* fitted up to cut, scored on (cut, until] */
    long customers;
    int ntrials, chosen; /* trial[0]: the starting point; chosen: the one kept */
    struct tune_trial trial[TUNE_MAX_TRIALS];
    double share_start, share_chosen; /* the customers' own products' mean share of a list */
    double seconds;
};

/* The settings' names, as in model_params and MODEL_SETTINGS. */
extern const char *const tune_setting_names[TUNE_SETTINGS];

/* Chooses p's settings for h (p's own the starting point; changed only when
 * tuned), within budget_s seconds of search. */
void tune_recommend(const struct history *h, double holdout_days, double budget_s,
                    struct model_params *p, struct tune_result *out);

/* Copies the tuned settings from one set of parameters to another (an update keeps
 * what the last full run chose). */
void tune_keep(struct model_params *to, const struct model_params *from);

#endif
