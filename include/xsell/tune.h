/* tune.h - each full training run chooses the shop's recommendation settings on its
 * own data: the blend's four weights (complements, similar customers' products,
 * similar products by text, what the nearest customers buy: model_peers.h),
 * buy-again's share of a list (buy_again_base plus
 * buy_again_scale times each customer's own share of repeat purchases, at most
 * buy_again_max: a customer who rebuys gets more of the list for buy-again, one who
 * explores less) and the
 * half-life of buy-again's ranking (times bought, decayed by the time since the last).
 *
 * Validation: the models fitted on the orders up to 2 x XSELL_EVAL_HOLDOUT_DAYS
 * before the latest, the served blend scored (Recall@10, next basket as in the
 * evaluation) on the customers of the XSELL_EVAL_HOLDOUT_DAYS after that; the
 * evaluation's own window, the last one, is never seen, so that its figures stay
 * honest for the settings chosen. The search: coordinate ascent from the current
 * settings (the configured ones are the starting point), each setting over its grid
 * in turn with the others held, a value kept only when it gains more than
 * TUNE_MIN_GAIN of recall, two passes, within a time budget. A shop with fewer than
 * TUNE_MIN_CUSTOMERS validation customers keeps its settings. */
#ifndef XSELL_TUNE_H
#define XSELL_TUNE_H

#include "xsell/history.h"
#include "xsell/models.h"

#define TUNE_MAX_TRIALS    112
#define TUNE_MIN_CUSTOMERS 50
#define TUNE_CUSTOMERS     1000 /* validation customers scored per trial, at most */
#define TUNE_MIN_GAIN      0.001
#define TUNE_SETTINGS      8

/* One setting tried: the eight values, what the blend scored. */
struct tune_trial {
    double value[TUNE_SETTINGS]; /* in tune_setting_names' order */
    double recall, ndcg;
};

struct tune_result {
    bool tuned; /* false: the settings stay as they were, why says why */
    char why[200];
    double cut, until; /* fitted up to cut, scored on (cut, until] */
    long customers;
    int ntrials, chosen; /* trial[0]: the starting point; chosen: the one kept */
    struct tune_trial trial[TUNE_MAX_TRIALS];
    double share_start, share_chosen; /* buy-again's mean share over the customers */
    double seconds;
};

/* The eight settings' names, as in model_params and MODEL_SETTINGS. */
extern const char *const tune_setting_names[TUNE_SETTINGS];

/* Chooses p's eight settings for h (p's own the starting point; changed only when
 * tuned), within budget_s seconds of search. */
void tune_recommend(const struct history *h, double holdout_days, double budget_s,
                    struct model_params *p, struct tune_result *out);

/* Copies the eight settings from one set of parameters to another (an update keeps
 * what the last full run chose). */
void tune_keep(struct model_params *to, const struct model_params *from);

#endif
