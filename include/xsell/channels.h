/* channels.h - which channels bring customers who stay and spend.
 *
 * A customer's acquisition channel is the one given with their orders, else their
 * first order's (history.h). Per acquisition channel, over the customers whose first
 * purchase day falls in [from_day, to_day): how many, how many came back within
 * repeat_days of it (only those first seen repeat_days or more before as_of count:
 * the others could not have yet), and their 12-month CLV, churn risk and value at
 * risk from the churn model (model_churn.h). */
#ifndef XSELL_CHANNELS_H
#define XSELL_CHANNELS_H

#include "xsell/caps.h"
#include "xsell/history.h"
#include "xsell/model_churn.h"

struct channel_cohort {
    long customers;  /* first purchase in the window */
    long observed;   /* of them, first seen repeat_days or more before as_of */
    long repeated;   /* of the observed, another purchase day within repeat_days */
    double clv_sum;  /* 12-month CLV */
    double clv_sq;   /* its squares, for the interval of the mean */
    double risk_sum; /* churn risk */
    double value_at_risk;
    long segments[SEG_COUNT];
};

/* Per order channel, over a window of orders: the orders with a sale line, their sales
 * revenue and the part attributed to recommendations, and per order the sums of the
 * attributed part squared (aa), the revenue squared (rr) and their product (ar), for
 * the share's interval (channel_share_ci95). */
struct channel_sales {
    char name[CHANNEL_MAX + 1];
    bool none; /* the orders without a channel */
    double orders, revenue, attributed, aa, rr, ar;
};

/* The cohorts per acquisition channel into out (h->channels' size + 1 entries: the
 * last for customers without one). */
void channel_cohorts(const struct history *h, const struct model_churn *m, int32_t from_day,
                     int32_t to_day, int repeat_days, struct channel_cohort *out);

/* The mean of n values from their sum and sum of squares, with a normal 95% interval
 * (NAN bounds below two values). */
void channel_mean_ci95(double sum, double sq, double n, double *mean, double *lo, double *hi);

/* A ratio sum(a) / sum(r) over n units (orders) with the delta method's 95% interval,
 * from the sums of a, r, a^2, r^2 and a*r; clipped to [0, 1] as a share. */
void channel_share_ci95(double n, double sa, double sr, double saa, double srr, double sar,
                        double *share, double *lo, double *hi);

#endif
