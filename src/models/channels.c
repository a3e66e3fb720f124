#include "xsell/channels.h"

#include <math.h>

#include "xsell/stats.h"

void channel_cohorts(const struct history *h, const struct model_churn *m, int32_t from_day,
                     int32_t to_day, int repeat_days, struct channel_cohort *out)
{
    size_t nch = idmap_size(&h->channels);
    memset(out, 0, (nch + 1) * sizeof(*out));
    size_t nc = MIN(m->n, history_ncustomers(h));
    for (size_t c = 0; c < nc; c++) {
        int32_t lo, hi;
        if (!model_churn_days(m, (int32_t)c, &lo, &hi))
            continue;
        int32_t first = m->days.day[lo];
        if (first < from_day || first >= to_day)
            continue;
        int16_t ch = h->cust_channel ? h->cust_channel[c] : -1;
        struct channel_cohort *k = &out[ch >= 0 && (size_t)ch < nch ? (size_t)ch : nch];
        const struct churn_customer *cu = &m->cust[c];
        k->customers++;
        if (first <= m->as_of_day - repeat_days) {
            k->observed++;
            k->repeated += lo + 1 < hi && m->days.day[lo + 1] <= first + repeat_days;
        }
        k->clv_sum += cu->clv;
        k->clv_sq += (double)cu->clv * cu->clv;
        k->risk_sum += cu->churn_risk;
        k->value_at_risk += cu->value_at_risk;
        if (cu->segment < SEG_COUNT)
            k->segments[cu->segment]++;
    }
}

void channel_mean_ci95(double sum, double sq, double n, double *mean, double *lo, double *hi)
{
    *mean = n > 0 ? sum / n : NAN;
    *lo = *hi = NAN;
    if (n < 2)
        return;
    double var = MAX(0, (sq - sum * sum / n) / (n - 1));
    double half = STATS_Z95 * sqrt(var / n);
    *lo = *mean - half;
    *hi = *mean + half;
}

void channel_share_ci95(double n, double sa, double sr, double saa, double srr, double sar,
                        double *share, double *lo, double *hi)
{
    *share = sr > 0 ? sa / sr : NAN;
    *lo = *hi = NAN;
    if (!(sr > 0) || n < 2)
        return;
    double r = *share, rbar = sr / n;
    /* the residuals a - r * rev, whose spread carries the ratio's */
    double ss = MAX(0, saa - 2 * r * sar + r * r * srr) / (n - 1);
    double half = STATS_Z95 * sqrt(ss / n) / rbar;
    *lo = MAX(0, r - half);
    *hi = MIN(1, r + half);
}
