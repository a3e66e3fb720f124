/* stats.h - special functions, a quasi-Newton minimiser and ranking statistics for
 * the models. Pure maths: no allocation beyond what a call states, no globals, safe
 * on any thread.
 *
 * Accuracy (checked in tests/unit/test_stats.c against closed forms and reference
 * values):
 *   stats_lgamma   x > 0: absolute error below 1e-13 for x < 2, relative below 1e-14
 *                  beyond (upward recurrence to x >= 15, then the Stirling series to
 *                  the x^-9 term, whose remainder is below 2e-16 there);
 *   stats_digamma  x > 0: absolute error below 1e-13 (same scheme, series to x^-10);
 *   stats_hyp2f1   c > 0, a, b > 0 or the series terminating, 0 <= z < 1: the
 *                  Gauss series summed until a term falls below 1e-16 of the sum;
 *                  relative error below 1e-12 for z <= 0.95 in our tests. NAN when it
 *                  has not converged within STATS_HYP2F1_MAX_TERMS terms. */
#ifndef XSELL_STATS_H
#define XSELL_STATS_H

#include "xsell/common.h"

#define STATS_HYP2F1_MAX_TERMS 200000

double stats_lgamma(double x);
double stats_digamma(double x);
double stats_hyp2f1(double a, double b, double c, double z);
/* log(1 + exp(v)) without overflow. */
double stats_log1pexp(double v);
/* 1 / (1 + exp(-v)). */
double stats_sigmoid(double v);

/* A smooth function of n <= STATS_MAX_DIM variables to minimise: returns f(x) and
 * fills g with its gradient; a non-finite f means "outside the domain". */
#define STATS_MAX_DIM 32
/* The value at x, and its gradient into g unless g is NULL (line searches ask for the
 * value alone). */
typedef double (*stats_objective)(const double *x, double *g, void *ctx);

struct stats_min_result {
    double f; /* the value at x */
    int iterations;
    bool converged; /* gradient (max norm) below tol, an iteration gaining less than
                     * ftol (relative), or no further decrease possible */
};

/* BFGS with a backtracking (Armijo) line search, from x (updated in place). Each
 * coordinate is kept within [-bound, bound] (the models pass log-parameters, so
 * this bounds each parameter to exp(+-bound)). Stops when the projected gradient is
 * below tol or, with ftol > 0, when an iteration lowers f by less than
 * ftol (|f| + ftol) (R's optim reltol; for objectives whose gradient is numerical). */
void stats_minimize(stats_objective fn, void *ctx, int n, double *x, double bound, double tol,
                    double ftol, int max_iter, struct stats_min_result *out);

/* Logistic regression by Newton's method, with a small ridge on the standardised
 * inputs: row i of X (n x k, column 0 all ones: the intercept) is seen pos[i] times
 * with outcome 1 and neg[i] times with outcome 0 (weights: 0 leaves a row out). */
struct stats_logit {
    int k;
    double w[STATS_MAX_DIM]; /* on standardised inputs; w[0] the intercept */
    double mean[STATS_MAX_DIM], sd[STATS_MAX_DIM];
};
/* -1 (and a model that predicts 0.5) when the rows carry no weight. */
int stats_logit_fit(const double *X, const double *pos, const double *neg, size_t n, int k,
                    struct stats_logit *out);
double stats_logit_predict(const struct stats_logit *m, const double *x);

/* Area under the ROC curve of score for the labels (true = positive), ties counted
 * half; NAN when either class is empty. Sorts a copy (malloc). */
double stats_auc(const double *score, const bool *label, size_t n);

/* The median of v[0..n) (sorted in place; the mean of the middle two when n is even);
 * NAN when n is 0. */
double stats_median(double *v, size_t n);
/* 95% intervals for what an evaluation measured on a sample. A rate of x in n:
 * Wilson's score interval. An AUC over npos positives and nneg negatives: Hanley &
 * McNeil's (1982) standard error, the interval clipped to [0, 1]. */
void stats_rate_ci95(double x, double n, double *lo, double *hi);
/* The standard normal's 97.5% point: a 95% interval's half-width in standard errors. */
#define STATS_Z95 1.959963984540054
void stats_auc_ci95(double auc, double npos, double nneg, double *lo, double *hi);

#endif
