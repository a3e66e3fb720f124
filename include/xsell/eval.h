/* eval.h - offline evaluation of /recommend (`xsell eval recommend`, and each
 * training run). Trains every model on the history before a cut-off, then scores
 * what happened after it:
 *  - next basket: for each customer known before the cut who bought after it, the
 *    history is the input and the distinct products of the later orders the truth;
 *    HitRate@10, Recall@10, NDCG@10, with the truth split into products the
 *    customer had bought before (repeat) and not (new); catalogue coverage;
 *  - carts: for each later basket of 2+ known products, one is hidden (the last)
 *    and the rest is the cart: HitRate@10 and NDCG@10 of getting it back.
 * Methods: popularity, basket rules, content, item-kNN, EASE (when the catalogue
 * allows) and the blend that serves (strategy auto). */
#ifndef XSELL_EVAL_H
#define XSELL_EVAL_H

#include "xsell/history.h"
#include "xsell/model_churn.h"
#include "xsell/models.h"
#include "xsell/snapshot.h"

#define EVAL_METHODS 9
/* struct eval_result's methods, in order; the blend is what /recommend serves; the
 * last three are the next-basket baselines (eval_nbr.h), scored on customers only */
enum {
    EVAL_M_POPULAR,
    EVAL_M_RULES,
    EVAL_M_CONTENT,
    EVAL_M_KNN,
    EVAL_M_EASE,
    EVAL_M_BLEND,
    EVAL_M_GLOBAL_TOP,
    EVAL_M_PERSONAL_TOP,
    EVAL_M_TIFU
};
#define EVAL_CASES_MAX 3000 /* customers and baskets scored, each */

struct eval_method {
    const char *name;
    bool skipped;                     /* e.g. EASE on a catalogue too large for it */
    bool customers_only;              /* a next-basket baseline: no cart figures */
    double hit, recall, ndcg;         /* next basket, means over customers */
    double recall_repeat, recall_new; /* over customers with such truth */
    double coverage;                  /* share of the catalogue ever recommended */
    double cart_hit, cart_ndcg;
};

struct eval_result {
    double cut;
    long customers, repeat_customers, new_customers, baskets;
    struct eval_method m[EVAL_METHODS];
    double seconds;
};

/* /upsell, offline, every method ranking the same candidates against what
 * customers did. A case is a customer known before the cut and a product A they
 * had bought; its truth B is the first product they bought after the cut, new to
 * them, in stock and 10..100% pricier than A (whatever it is: the truth owes
 * nothing to any method's idea of a substitute). Every method ranks all products in
 * stock in A's price step that the customer had not bought: /upsell as it serves
 * (its top 5, the customer's churn risk included), the most popular, the nearest
 * price above A, and A's category (catalogue substitutes) first then the most
 * popular. HitRate@1, @5 and NDCG@5, on all cases and on those where B is a
 * catalogue substitute of A (same category; without categories, names alike); how
 * much pricier B was (its price over A's, less 1). */
#define UPSELL_METHODS 4
struct eval_upsell_result {
    double cut;
    long cases, related;
    double step_mean, step_median, candidates_mean;
    struct {
        const char *name;
        double hit1, hit5, ndcg5;
        double related_hit1, related_hit5, related_ndcg5;
    } m[UPSELL_METHODS];
    double seconds;
};

int eval_upsell(const struct history *full, const struct snapshot *cut,
                struct eval_upsell_result *out, char *err, size_t errlen);

/* /churn, offline (`xsell eval churn`): the models fitted as of the cut (their
 * selection and logistic layer on an earlier split before it), judged on the
 * holdout after it: predicted against actual repeat purchase days, in total and by
 * calibration frequency 0..6, 7+ (the papers' tracking view), and the AUC for "no
 * purchase in the holdout" of churn_risk, of the model's own P(no purchase), of
 * its expected purchases (fewer = riskier) and of recency alone. */
#define CHURN_BUCKETS 8
struct eval_churn_result {
    double cut;
    long customers, churned;
    const char *model;
    bool layer_used;
    struct churn_params params;
    double actual, predicted;
    struct {
        long n;
        double actual, predicted; /* means */
    } bucket[CHURN_BUCKETS];
    double auc_churn_risk, auc_model, auc_expected, auc_recency;
    double seconds;
};

int eval_churn(const struct history *full, double holdout_days, const struct churn_fit_params *p,
               struct eval_churn_result *out, char *err, size_t errlen);
/* The same with the models fitted on train's customers (up to the cut) and judged
 * by what full says they did (the quality gate: the serving snapshot's history
 * against the newer one's). */
int eval_churn_between(const struct history *train, const struct history *full, double holdout_days,
                       const struct churn_fit_params *p, struct eval_churn_result *out, char *err,
                       size_t errlen);

/* /price against planted elasticities (xsell gen's truth.json): over the products
 * with an estimate, the median absolute error, the share with the right sign (all
 * planted ones are negative), the coverage of the 95% intervals, each also for the
 * products whose estimate leans on their own data; and in simulation, under the true
 * constant-elasticity demand, the profit at the recommended price (default
 * guardrails) as a share of the profit at the true optimum within the same
 * guardrails, beside keeping the current price. */
struct price_truth {
    size_t n;
    char **id;
    double *elasticity;
};
void price_truth_release(struct price_truth *t);

struct eval_price_result {
    long products, own; /* scored; of them with source product */
    double median_abs_error, median_abs_error_own, median_abs_error_raw;
    double right_sign, coverage95, coverage95_own;
    double profit_share, profit_share_current; /* means over products with a cost */
    long profit_products;
};

int eval_price(const struct snapshot *s, const struct price_truth *t, const struct price_guard *g,
               struct eval_price_result *out, char *err, size_t errlen);

/* The models the evaluations read (models.h's eval column), fitted on full's orders
 * up to holdout_days before its last one, with p's settings: one fit that
 * eval_recommend and eval_upsell share (one reference, the caller's). NULL with err
 * when the cut leaves no training data or nothing to score. */
struct snapshot *eval_fit_cut(const struct history *full, double holdout_days,
                              const struct model_params *p, char *err, size_t errlen);

/* The same fitted on src's orders up to the time cut, to be scored on what full
 * (another history: the newer one of the quality gate) holds after it. NULL with err
 * when src has nothing up to the cut or full nothing after it. */
struct snapshot *eval_fit_at(const struct history *src, const struct history *full, double cut,
                             const struct model_params *p, char *err, size_t errlen);

/* Scores /recommend's methods on what full holds after cut's as_of (eval_fit_cut's
 * or eval_fit_at's). cut's
 * item-to-item member is swapped while it runs and put back before it returns. -1
 * with err when there is nothing to score. */
int eval_recommend(const struct history *full, struct snapshot *cut, struct eval_result *out,
                   char *err, size_t errlen);

/* The blend as s serves it (its settings and item-to-item model) on what full holds in
 * (s->as_of, until], over at most max_customers customers and as many baskets: hit
 * rate, recall and NDCG at 10 of the customers' next baskets, HitRate@10 and NDCG@10
 * of the baskets' hidden products, into out; returns the customers scored (the
 * tuning's validation, tune.h). */
int eval_blend(const struct history *full, struct snapshot *s, double until, int max_customers,
               struct eval_method *out);

/* The forecasts, for the quality gate: the daily net units of the shop and of its
 * EVAL_FORECAST_CATEGORIES largest categories (full's, by units before the cut), on
 * the whole days after cut (up to days of them), forecast (forecast_auto, weekly
 * season) from src's days before the cut's day and scored on full's, each MASE
 * scaled by full's days before the cut (one yardstick whatever src holds). mase: the
 * mean MASE over the series; mase_shop the shop's. -1 with err when too few days. */
#define EVAL_FORECAST_CATEGORIES 20
struct eval_forecast_result {
    double cut;
    int series, days;
    double mase, mase_shop;
    /* the share of the days after the cut inside the 80% and 95% intervals, mean over
     * the series: [0] the models' own, [1] calibrated across the series on their
     * backtests of the days before the cut (fc_calibration; 1 x the models' own when too
     * few errors) */
    double cover[2][2];
};
int eval_forecast_at(const struct history *src, const struct history *full, double cut, int days,
                     struct eval_forecast_result *out, char *err, size_t errlen);

#endif
