/* abtest.h - the statistics of an experiment's report: a variant against the control
 * on a per-unit outcome (revenue per unit, say), with intervals that stay valid however
 * often one looks, the same with pre-experiment data as a covariate, and the check that
 * units were split as planned.
 *
 * - Always-valid intervals: the asymptotic confidence sequence of Waudby-Smith et al.
 *   (2023, "Time-uniform central limit theory and asymptotic confidence sequences"),
 *   the conjugate normal mixture of Robbins (1970) and Howard et al. (2021) on the
 *   difference in means; its mixing parameter tuned to be tightest at n_opt units.
 *   At n units with the difference's standard error se, the half-width is
 *   se * sqrt(2 (n r + 1) / (n r) * log(sqrt(n r + 1) / alpha)), r = rho^2.
 * - CUPED (Deng et al. 2013): y - theta (x - mean x), theta pooled within arms.
 * - Sample ratio mismatch: Pearson's chi-square of the units against the weights. */
#ifndef XSELL_ABTEST_H
#define XSELL_ABTEST_H

#include "xsell/common.h"

/* One arm's sums: units, outcome y and covariate x (0 when there is none). */
struct ab_arm {
    double n, sy, syy, sx, sxx, sxy;
};

void ab_arm_add(struct ab_arm *a, double y, double x);

/* A difference in means with its always-valid interval, absolute and relative. */
struct ab_effect {
    double control, variant;       /* the arms' means (CUPED: adjusted) */
    double diff, diff_lo, diff_hi; /* variant - control */
    double lift, lift_lo, lift_hi; /* diff / control's mean (delta method); NAN at 0 */
    double se;                     /* of diff */
};

struct ab_result {
    struct ab_effect plain, cuped;
    double theta;      /* CUPED's coefficient */
    double narrowing;  /* 1 - CUPED's interval width / the plain one's */
    double multiplier; /* half-width / se: the price of looking any time (1.96 fixed) */
};

/* The 95%-style always-valid comparison at level alpha, tightest at n_opt units. */
void ab_compare(const struct ab_arm *control, const struct ab_arm *variant, double alpha,
                double n_opt, struct ab_result *out);
/* The half-width over the standard error at n units (see above). */
double ab_cs_multiplier(double n, double n_opt, double alpha);
/* Pearson's chi-square p-value of observed counts against expected shares (weights,
 * any positive scale) over k arms; 1 with fewer than 2 arms or no units. */
double ab_srm_pvalue(const double *observed, const double *weights, int k);
/* The chi-square distribution's upper tail P(X > x) with df degrees of freedom. */
double ab_chi2_sf(double x, int df);

#endif
