/* model_sales.h - the shop's own sales forecasts, per product, per category and for
 * the whole shop, daily and weekly, precomputed per snapshot (an answer only reads).
 *
 * Series: per node (product, category, shop) and period, the net units (returns
 * netted) or the net revenue, missing periods as zeros. Periods are whole days
 * (UTC) ending with the last complete day at as_of, and weeks of seven such days
 * ending on that day; a node's series starts with its first sale (a product
 * launched late is not read as intermittent), daily ones at most SALES_DAY_WINDOW
 * days back. Each series gets forecast_auto's forecast (seasonal period 7 daily,
 * 52 weekly) for SALES_MAX_H_DAY days / SALES_MAX_H_WEEK weeks, with each step's
 * standard deviation, and a backtest of the same method on its last
 * SALES_BACKTEST_DAY days / SALES_BACKTEST_WEEK weeks.
 *
 * Coherence: products add up to their category, categories (and the products that
 * have none) to the shop, at every step. Two reconciliations are made of the
 * backtest's forecasts and scored on what then happened (the mean over products,
 * categories and shop of their mean MASE); the better one reconciles the forecasts:
 *  - MinT (Wickramasuriya, Athanasopoulos & Hyndman 2019): generalised least squares
 *    under the constraints, W = D R D with D each base forecast's standard deviation
 *    at the step and R the correlation of the models' one-step in-sample errors shrunk
 *    toward the identity (Schafer & Strimmer 2005); the reconciled variances are the
 *    diagonal of W - W U (U' W U)^-1 U' W. A product below zero is lifted to zero and
 *    the levels above summed again, which keeps the sums exact.
 *  - top-down by forecast proportions (Athanasopoulos, Ahmed & Hyndman 2009): the
 *    shop's own forecast split level by level in proportion to the nodes' own.
 *
 * Intervals: the reconciled forecasts' bounds are calibrated on the reconciled
 * backtest (fc_calibration in model_forecast.h: split conformal across the shop's
 * series), the products in one pool and the categories with the shop in another.
 * Each node's backtest coverage is scored with the factors of the other half of its
 * pool's nodes (by index parity), so that no node's figure is calibrated on its own
 * errors. */
#ifndef XSELL_MODEL_SALES_H
#define XSELL_MODEL_SALES_H

#include "xsell/arena.h"
#include "xsell/figures.h"
#include "xsell/history.h"
#include "xsell/model_forecast.h"

#define SALES_DAY_WINDOW    364 /* daily series: the last 52 weeks at most */
#define SALES_WEEK_WINDOW   260 /* weekly: five years at most */
#define SALES_MAX_H_DAY     90
#define SALES_MAX_H_WEEK    26
#define SALES_BACKTEST_DAY  28
#define SALES_BACKTEST_WEEK 8

enum sales_freq { SALES_DAY = 0, SALES_WEEK, SALES_NFREQ };
/* The calibration pools: products, and the categories with the shop. */
enum sales_pool { SALES_POOL_PRODUCTS = 0, SALES_POOL_AGGREGATES, SALES_NPOOL };
enum sales_measure { SALES_UNITS = 0, SALES_REVENUE, SALES_NMEASURE };

/* One node's forecast at one frequency and measure. */
struct sales_fc {
    const char *model;  /* the base model, e.g. "ETS(A,N,A)+Theta", "Croston-SBA" */
    const char *note;   /* NULL or what was simplified */
    const char *demand; /* forecast_demand_class of its series */
    float *mean, *sd;   /* reconciled, h_max steps (float: half the memory of a large
                         * shop's forecasts, digits well beyond their accuracy) */
    float *base;        /* the base model's mean before reconciliation */
    int n;              /* periods in its series (0: never sold) */
    double last;        /* its last period's value */
    double smape, mase, cover80, cover95; /* the reconciled backtest; NAN when too short */
};

struct model_sales {
    size_t nproducts, ncat, nodes; /* products, then categories, then the shop */
    int32_t *parent;               /* per node; -1 for the shop */
    const char **cat_name;         /* per category */
    double first_day[SALES_NFREQ]; /* the first forecast period's first day (days since epoch) */
    int h_max[SALES_NFREQ], backtest_h[SALES_NFREQ], period[SALES_NFREQ];
    struct sales_fc *fc[SALES_NMEASURE][SALES_NFREQ]; /* [node] */
    int lifted_steps[SALES_NMEASURE][SALES_NFREQ];    /* steps where a product was lifted to zero */
    const char *method[SALES_NMEASURE][SALES_NFREQ];  /* the reconciliation chosen */
    struct fc_choice *choice; /* per series (measure, frequency, node): the method's choice */
    int chosen[SALES_NMEASURE][SALES_NFREQ]; /* the reconciliation that serves (its index) */
    /* units' mean backtest MASE [freq][base, MinT, top-down][products, categories, shop]
     * (an update's are its refit's) */
    double backtest_mase[SALES_NFREQ][3][3];
    /* the intervals' calibration per measure, frequency and pool (an update's are its
     * refit's); scores released */
    struct fc_calibration cal[SALES_NMEASURE][SALES_NFREQ][SALES_NPOOL];
};

static inline enum sales_pool sales_pool_of(const struct model_sales *m, size_t node)
{
    return node < m->nproducts ? SALES_POOL_PRODUCTS : SALES_POOL_AGGREGATES;
}

/* About the memory model_sales_fit takes for h's series at its peak: the working
 * arrays and the answers it keeps (checked against the memory budget first). */
size_t model_sales_work_bytes(const struct history *h, double as_of);
/* Builds the series from h as of as_of and forecasts them on threads workers. */
/* keep (may be NULL): the last refit's model of the same series, for an update:
 * its choices are kept (ETS forms, their parameters re-estimated; SES constants)
 * rather than chosen again, and so are its backtests' scores, not run again. */
void model_sales_fit(const struct history *h, double as_of, int threads,
                     const struct model_sales *keep, struct arena *a, struct model_sales *m,
                     struct figures *fig);

/* The last n periods of node's series as its forecast saw them (net units or revenue
 * per day or week, the last ending the day before first_day), oldest first, into out:
 * one pass over the window's orders in h (the snapshot's history the forecasts were
 * fitted on; its orders are in time order).
 * channel: only the orders of that channel (history.h's number), or every order
 * (SALES_ANY_CHANNEL). */
#define SALES_ANY_CHANNEL (-2)
void model_sales_history(const struct model_sales *m, const struct history *h, size_t node,
                         int channel, enum sales_measure meas, enum sales_freq f, int n,
                         double *out);

/* The base forecasts' error correlation, shrunk: x holds T x n standardised errors
 * (row-major, [t * n + i]), lambda the weight of the identity (Schafer & Strimmer
 * 2005's estimate). */
struct sales_corr {
    int T;
    double *x;
    double lambda;
};
/* From errors e (T x n, row-major); lambda 1 when T < 3. Release with the next. */
void sales_corr_estimate(const double *e, int T, int n, struct sales_corr *out);
void sales_corr_release(struct sales_corr *c);

/* Reconciles one step: n nodes in any order, parent[i] the node i adds up into (-1
 * at the root); base means and variances in, coherent means and their variances
 * out. W = D R D with D the base standard deviations and R the shrunk correlation
 * (the identity when corr is NULL: weighted least squares by variance). Variances
 * are floored (1e-10 of the largest) so that a series without variance is trusted
 * almost, not entirely, and the system stays solvable. clamp_zero: leaves below
 * zero are lifted to zero and every level above summed again; returns true when
 * that happened. */
bool sales_reconcile(int n, const int32_t *parent, const double *mean, const double *var,
                     const struct sales_corr *corr, bool clamp_zero, double *out_mean,
                     double *out_var);
/* The same without the correlation (W diagonal: weighted least squares by each
 * forecast's own variance, MinT's "WLS_v"), exactly, in O(n) time and memory: for
 * hierarchies too large for the dense system (which grows with products x
 * categories^2). Parents must come after their children. */
bool sales_reconcile_tree(int n, const int32_t *parent, const double *mean, const double *var,
                          bool clamp_zero, double *out_mean, double *out_var);

#endif
