/* model_churn.h - which customers are slipping away, and what they are worth.
 *
 * Summaries: per customer (guests are not customers), the purchase days - all of a
 * day's orders merged into one, a day whose units net to zero or less (a return)
 * being no purchase - and from them, as of a cut day: x, the repeat purchase days;
 * t_x, the age at the last; T, the age at the cut (weeks); m, the mean net value of
 * the repeat days, scaled down by the share of the customer's spend later returned.
 *
 * Models, by maximum likelihood on the summaries (identical rows compressed with
 * weights), in log-parameters with analytic gradients, BFGS from several starting
 * points: BG/NBD (Fader, Hardie & Lee 2005), the modified BG/NBD (Batislam,
 * Denizel & Filiztekin 2007; a one-time buyer can be gone too) and Gamma-Gamma for
 * spend (Fader, Hardie & Lee 2005, "RFM and CLV"). A fit that does not converge
 * keeps the previous (starting) parameters and says so.
 *
 * Serving: the fit picks BG/NBD or the modified model by how well each, fitted on
 * an earlier calibration/holdout split of the same history, predicted that holdout;
 * on the same split it fits a logistic layer on recency, frequency and the model's
 * own P(no purchase), and uses it for churn_risk only when it ranks better there
 * (two-fold cross-validated AUC).
 *
 * Time: the maths works in weeks (as the papers); the query and answers in days. */
#ifndef XSELL_MODEL_CHURN_H
#define XSELL_MODEL_CHURN_H

#include "xsell/arena.h"
#include "xsell/figures.h"
#include "xsell/history.h"
#include "xsell/stats.h"

enum churn_kind { CHURN_BGNBD = 0, CHURN_MBGNBD = 1 };

struct churn_params {
    double r, alpha, a, b;
};

struct gg_params {
    double p, q, v;
};

struct churn_summary {
    double x, tx, T; /* repeat purchase days; weeks */
    double m;        /* mean net value of the repeat purchase days; 0 when x = 0 */
};

struct fit_report {
    double ll;      /* log-likelihood at the parameters kept */
    int iterations; /* of the best start */
    int starts, starts_converged;
    bool converged; /* false: the parameters were kept (kept_previous) or are the best
                       point reached, not a converged fit */
    bool kept_previous;
};

/* One summary's log-likelihood. */
double churn_ll(enum churn_kind k, const struct churn_params *p, const struct churn_summary *s);
/* Fits p (read as the fallback when no start converges) to n summaries. */
void churn_fit(enum churn_kind k, const struct churn_summary *s, size_t n, struct churn_params *p,
               struct fit_report *rep);
double churn_p_alive(enum churn_kind k, const struct churn_params *p,
                     const struct churn_summary *s);
/* Expected purchases in the next t weeks for this customer; for a new customer
 * (x = t_x = T = 0) the expected repeat purchases in t weeks since the first. */
double churn_expected(enum churn_kind k, const struct churn_params *p,
                      const struct churn_summary *s, double t);
/* P(no purchase in the next t weeks). */
double churn_p_none(enum churn_kind k, const struct churn_params *p, const struct churn_summary *s,
                    double t);

/* Gamma-Gamma on the summaries with x > 0 and m > 0. */
void gg_fit(const struct churn_summary *s, size_t n, struct gg_params *g, struct fit_report *rep);
/* Expected mean spend of a customer's future purchases. */
double gg_expected_spend(const struct gg_params *g, double x, double m);

/* Purchase days per customer, for summaries at any cut. */
struct churn_days {
    int32_t *first; /* ncustomers + 1: customer c's days are first[c] .. first[c+1]-1 */
    int32_t *day;   /* days since the epoch, ascending */
    float *value;   /* net value of the day */
    float *keep;    /* per customer: 1 - returned / bought, 0..1 */
    size_t ncustomers;
};

void churn_days_build(const struct history *h, struct arena *a, struct churn_days *d);
/* Customer c's summary at cut day; false when c had bought nothing by then.
 * *holdout (may be NULL) receives the purchase days in (cut, end]. */
bool churn_summary_at(const struct churn_days *d, int32_t c, int32_t cut, int32_t end,
                      struct churn_summary *s, int *holdout);

enum churn_segment {
    SEG_NEW = 0, /* first purchase less than CHURN_NEW_DAYS ago */
    SEG_ACTIVE,  /* churn_risk < 0.5 */
    SEG_AT_RISK, /* 0.5 .. 0.75 */
    SEG_LAPSING, /* 0.75 .. 0.9 */
    SEG_LOST,    /* >= 0.9 */
    SEG_COUNT
};
#define CHURN_NEW_DAYS 30
#define CHURN_AT_RISK  0.5
#define CHURN_LAPSING  0.75
#define CHURN_LOST     0.9

const char *churn_segment_name(enum churn_segment s);
/* -1 when name is none of them. */
int churn_segment_parse(const char *name);

#define CHURN_FEATURES 5 /* the logistic layer's inputs, with the intercept */

struct churn_layer {
    bool used; /* serves churn_risk */
    struct stats_logit fit;
    double auc_model, auc_layer; /* two-fold, on the earlier split */
};

struct churn_customer {
    float x, tx, T, m; /* the summary (weeks) */
    float p_alive, churn_risk, expected_purchases, expected_value, clv, value_at_risk;
    uint8_t segment;
    bool known; /* bought something by as_of */
};

struct model_churn {
    enum churn_kind kind; /* the model that serves */
    struct churn_params params[2];
    struct fit_report report[2];
    struct gg_params gg;
    struct fit_report gg_report;
    bool gg_ok;        /* q > 1; else spend = the customer's own mean or the shop's */
    double mean_spend; /* mean m over repeat customers */
    struct churn_layer layer;
    char selection[160]; /* how the serving model was chosen */
    double selection_rmse[2];
    double as_of;
    int32_t as_of_day;
    double horizon_days; /* of the stored scores */
    double discount;     /* annual, for the 12-month CLV */
    size_t n;            /* customers of the history */
    struct churn_customer *cust;
    int32_t *ranked; /* known customers by value_at_risk, highest first */
    size_t nranked;
    long seg_count[SEG_COUNT];
    double seg_value[SEG_COUNT], seg_at_risk[SEG_COUNT];
    struct churn_days days; /* of the history, for a customer's curve */
};

struct churn_fit_params {
    double as_of;
    double horizon_days;
    double discount;                /* annual */
    const struct model_churn *prev; /* its converged fits are kept if these do not converge */
    bool keep; /* with prev: its parameters, choice and layer as they are (an update
                * between full refits), every customer scored again */
};

void model_churn_fit(const struct history *h, const struct churn_fit_params *p, struct arena *a,
                     struct model_churn *m, struct figures *fig);

/* One customer's scores at horizon_days (the stored ones when it equals the fit's). */
struct churn_answer {
    double p_alive, churn_risk, expected_purchases, expected_value, clv, value_at_risk;
    double recency_days, age_days, monetary, expected_spend;
    int frequency;
    enum churn_segment segment;
};
/* False when c had bought nothing by as_of. */
bool model_churn_query(const struct model_churn *m, int32_t c, double horizon_days,
                       struct churn_answer *out);

/* Customer c's purchase days by as_of: m->days.day[*lo .. *hi - 1]; false when none. */
bool model_churn_days(const struct model_churn *m, int32_t c, int32_t *lo, int32_t *hi);

/* A customer's P(alive) as it stood on a day, from the purchases made by then. */
struct churn_point {
    int32_t day;
    float p_alive;
};
#define CHURN_CURVE_GRID  200 /* evenly spaced points of a curve */
#define CHURN_CURVE_MARKS 90  /* the last purchases marked by the day before and the day */
#define CHURN_CURVE_MAX   (CHURN_CURVE_GRID + 2 * CHURN_CURVE_MARKS + 2)
/* Customer c's P(alive) from the first purchase day to as_of and on, with no further
 * purchase, to as_of + ahead_days: an even grid plus, for each of the last purchases,
 * the day before it and its day (where the curve jumps), ascending. out holds
 * CHURN_CURVE_MAX; returns the count, 0 when c had bought nothing by as_of. */
size_t model_churn_curve(const struct model_churn *m, int32_t c, int ahead_days,
                         struct churn_point *out);

#endif
