/* model_forecast.h - forecasts of one series with intervals: the ETS state-space
 * family, Theta, seasonal naive and Croston-SBA, and an automatic choice.
 *
 * ETS (Hyndman, Koehler, Snyder & Grose 2002; Hyndman et al. 2008): additive or
 * multiplicative error, no / additive / damped trend, no / additive / multiplicative
 * season, the admissible combinations as R's forecast::ets allows by default (no
 * additive error with a multiplicative season; multiplicative error only on positive
 * data). Smoothing parameters (and the initial level and trend) by maximum
 * likelihood within the usual bounds (0 < alpha < 1, 0 < beta < alpha, 0 < gamma <
 * 1 - alpha, 0.8 <= phi <= 0.98), the seasonal start from a classical decomposition;
 * selection by AICc. Intervals: analytic for the linear additive-error models
 * (Hyndman et al. 2008, table 6.1), by simulating FC_PATHS sample paths otherwise.
 *
 * Theta (Assimakopoulos & Nikolopoulos 2000, as Hyndman & Billah 2003 state it): SES
 * with half the linear trend's slope as drift, on the series deseasonalised by a
 * classical multiplicative decomposition when its lag-m autocorrelation is
 * significant (90%).
 *
 * Intermittent and lumpy series (Syntetos & Boylan: mean interval between demands
 * >= 1.32, whatever their sign, so that returns do not make a sparse series look
 * smooth) get SES with alpha by least squares on a grid (0.02..0.48), its level
 * started at the mean of the first 10 values: a few passes over the series. On the
 * synthetic shops' backtests it beat both Croston's method with the Syntetos-Boylan
 * correction (SBA, on request) and the ETS + Theta these series used to get (README).
 *
 * The automatic choice: the mean of ETS (by AICc) and Theta - on M3 it beat either
 * alone and any choice between them on the series' last points held out (README).
 * Every forecast and bound is clamped at zero when the series never goes below it. */
#ifndef XSELL_MODEL_FORECAST_H
#define XSELL_MODEL_FORECAST_H

#include "xsell/common.h"

#define FC_MAX_PERIOD 52
#define FC_MAX_H      366
#define FC_MAX_LEVELS 4
#define FC_PATHS      1000

struct ets_spec {
    char error;  /* 'A' or 'M' */
    char trend;  /* 'N', 'A' or 'D' (damped additive) */
    char season; /* 'N', 'A' or 'M' */
};

struct ets_fit {
    struct ets_spec spec;
    int m; /* season length (1: none) */
    double alpha, beta, gamma, phi;
    double l, b, s[FC_MAX_PERIOD]; /* states after the last observation; s[0] the oldest */
    double l_start, b_start, s_start[FC_MAX_PERIOD]; /* the fitted starting states */
    double sigma2;    /* residual variance (relative for multiplicative error) */
    double lik, aicc; /* -2 log-likelihood (up to a constant), AICc */
    int np;           /* parameters counted */
    bool ok;
};

/* Fits one model; false when it cannot (too short, non-positive data for 'M'). */
bool ets_fit(const double *y, int n, int m, struct ets_spec spec, struct ets_fit *out);

/* An ETS fit's estimates as its optimiser holds them (the smoothing parameters, and
 * the starting states relative to the data's own first values): what an update
 * between refits keeps, to start its search there rather than from scratch (a few
 * steps instead of dozens: the optimum moves little with a day's data). nvar 0:
 * none (a model with more than ETS_KEEP_MAX estimates is not kept). */
#define ETS_KEEP_MAX 12
struct ets_estimates {
    float u[ETS_KEEP_MAX];
    int8_t nvar;
};
/* ets_fit with est: in, estimates to start the search at (when they are for this
 * form); out, those found. */
bool ets_fit_kept(const double *y, int n, int m, struct ets_spec spec, struct ets_estimates *est,
                  struct ets_fit *out);
/* Runs f (parameters and starting states set) through y, leaving the final states;
 * returns -2 log-likelihood up to a constant, the sum of squared (relative for 'M'
 * error) one-step errors in *sse. */
double ets_run(struct ets_fit *f, const double *y, int n, double *sse);
/* f's one-step forecasts of y[0..n) (its in-sample fit), from its starting states. */
void ets_fitted(const struct ets_fit *f, const double *y, int n, double *fitted);
/* The best admissible model by AICc; false when none fits. */
bool ets_auto(const double *y, int n, int m, struct ets_fit *out);
/* Point forecasts for 1..h. */
void ets_mean(const struct ets_fit *f, int h, double *mean);
/* Forecast standard deviations for 1..h: analytic for the linear models, else from
 * simulated paths (seeded, so repeatable). */
void ets_sd(const struct ets_fit *f, int h, double *mean, double *sd);
/* "ETS(A,Ad,M)" */
void ets_name(const struct ets_fit *f, char out[16]);

struct forecast {
    char model[32];
    char note[160]; /* what was simplified and why; empty when nothing */
    int h, nlevels;
    double level[FC_MAX_LEVELS];
    double mean[FC_MAX_H];
    double sd[FC_MAX_H]; /* each step's standard deviation (the bounds are mean -+ z sd) */
    double lo[FC_MAX_LEVELS][FC_MAX_H], hi[FC_MAX_LEVELS][FC_MAX_H];
};

/* Which method forecast_auto uses: its own choice, or one forced (benchmarks). */
enum fc_method { FC_AUTO = 0, FC_ETS, FC_THETA, FC_COMB, FC_SNAIVE, FC_SES, FC_CROSTON };
/* -1 when name is none of auto, ets, theta, comb, snaive, ses, croston. */
int forecast_method_parse(const char *name);

/* What a refit chose for one series, for the updates until the next refit to keep:
 * the ETS form (error '\0': none) and SES's smoothing constant (0: none). */
struct fc_choice {
    struct ets_spec form;
    double ses_alpha;
    struct ets_estimates ets, theta; /* ETS's and Theta's SES's */
};

/* The forecast of y (n values, season length m >= 1, h <= FC_MAX_H) with intervals
 * at the given levels (percent, e.g. 80 and 95). -1 when n < 1. */
int forecast_auto(const double *y, int n, int m, int h, const double *levels, int nlevels,
                  enum fc_method method, struct forecast *out);
/* The same, with the method's one-step in-sample forecasts of y[0..n) in fit (n
 * values; y minus them are the residuals reconciliation weighs by) unless NULL.
 * keep (unless NULL): in, an ETS form to fit rather than choose one by AICc (error
 * '\0': choose; it is chosen anyway when the form no longer fits), an SES constant
 * to use rather than search for (0: search) and the ETS estimates to start from;
 * out, what was used (zero for what the method did not use). An update of the same
 * series keeps the last refit's choice: ETS re-estimates only its parameters,
 * starting at the last ones (a fraction of the work), SES runs once instead of once
 * per grid point. */
int forecast_auto_fitted(const double *y, int n, int m, int h, const double *levels, int nlevels,
                         enum fc_method method, struct forecast *out, double *fit,
                         struct fc_choice *keep);

/* The standard normal quantile for a two-sided interval of level percent (95: 1.96). */
double forecast_z(double level);

/* Intervals calibrated on backtests, across series (split conformal prediction,
 * Vovk, Gammerman & Shafer 2005, pooled over many series' backtests as in
 * Stankeviciute, Alaa & van der Schaar 2021): each series' backtest gives, per step
 * ahead, its score |actual - mean| / sd; at each calibrated level L the step's
 * factor is the conformal quantile of the scores (the ceil((N + 1) L)-th smallest of
 * N) over z_L, and a forecast's bounds become mean -+ factor z_L sd. A level between
 * two calibrated ones gets the factor interpolated in z_L, one outside them the
 * nearest one's. A step with fewer than FC_CAL_STEP_MIN scores uses all steps' scores
 * pooled (a 95% quantile of a hundred scores moves with a few of them); steps past the backtests'
 * last use the last one's factor; with fewer than FC_CAL_MIN scores in all the factors stay 1 (the
 * models' own intervals). For a series that never goes below zero (bounds clamped at zero) |actual
 * - mean| / sd is still the exact score, its actual values being at zero or above too. */
#define FC_CAL_MIN        100
#define FC_CAL_STEP_MIN   200
#define FC_CAL_MAX_LEVELS 5
struct fc_calibration {
    int nlevels, h, n; /* n: scores in all; h: the last step with one, plus 1 */
    double level[FC_CAL_MAX_LEVELS];
    float factor[FC_CAL_MAX_LEVELS][FC_MAX_H];
    float *score; /* while collecting: (step, score) pairs */
    size_t nscore, cap;
};
/* levels: the ones to calibrate at, ascending (NULL: 50, 80, 90, 95, 99). */
void fc_calibration_init(struct fc_calibration *c, const double *levels, int nlevels);
/* One backtest's h steps (actual values, forecast means and sds); steps without a
 * positive finite sd or a finite value are left out. */
void fc_calibration_add(struct fc_calibration *c, const double *actual, const double *mean,
                        const double *sd, int h);
/* Series y's backtest into c: method fitted on all but its last h values (season
 * length m), its forecast of them scored; nothing when fewer than min_fit come
 * before or the fit fails. */
void fc_calibration_add_backtest(struct fc_calibration *c, const double *y, int n, int m, int h,
                                 enum fc_method method, int min_fit);
/* The factors from the scores collected (the scores are then released). */
void fc_calibration_finish(struct fc_calibration *c);
/* The factor at a level (percent) and step (0-based); 1 when c is NULL or has none. */
double fc_calibration_factor(const struct fc_calibration *c, double level, int step);
/* f's bounds from its means and sds with c's factors (NULL: none); nonneg clamps at
 * zero. */
void forecast_calibrate(struct forecast *f, const struct fc_calibration *c, bool nonneg);
void fc_calibration_release(struct fc_calibration *c);

/* A backtest's scores: sMAPE (percent), MASE (scaled by the in-sample seasonal naive's
 * mean absolute error) and the share of the actual values inside each level's
 * interval (mean -+ z sd, times cal's factor unless cal is NULL, at zero or above
 * when nonneg). NAN when not scored. */
struct fc_backtest {
    double smape, mase, cover[FC_MAX_LEVELS];
};
/* The MASE scale of y: the mean absolute change over m (over 1 when n <= m). */
double forecast_mase_scale(const double *y, int n, int m);
void forecast_score(const double *actual, int h, const double *mean, const double *sd, double scale,
                    const double *levels, int nlevels, bool nonneg,
                    const struct fc_calibration *cal, struct fc_backtest *out);
/* How forecast_auto's method does on the series' last h values, fitted on the ones
 * before; not scored (NAN) when fewer than 4 come before. */
void forecast_backtest(const double *y, int n, int m, int h, enum fc_method method,
                       const double *levels, int nlevels, struct fc_backtest *out);

/* The methods by themselves (for tests and benchmarks); mean 1..h, and the one-step
 * in-sample forecasts in fit (n values) unless NULL. */
void forecast_theta(const double *y, int n, int m, int h, double *mean, double *sd, double *fit);
void forecast_snaive(const double *y, int n, int m, int h, double *mean, double *sd, double *fit);
void forecast_croston_sba(const double *y, int n, int h, double *mean, double *sd, double *fit);
/* alpha (unless NULL): in, the smoothing constant to use (0: the best on the grid by
 * squared error); out, the one used. */
void forecast_ses(const double *y, int n, int h, double *mean, double *sd, double *fit,
                  double *alpha);
/* Syntetos-Boylan: the mean interval between non-zero values (INFINITY when none). */
double forecast_adi(const double *y, int n);
/* Syntetos, Boylan & Croston (2005): "smooth", "erratic" (sizes vary: squared CV of
 * the non-zero values >= 0.49), "intermittent" (mean interval >= 1.32), "lumpy" (both),
 * or "none" without a non-zero value. Croston-SBA serves the last two. */
const char *forecast_demand_class(const double *y, int n);

#endif
