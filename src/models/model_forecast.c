#include "xsell/model_forecast.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "xsell/rng.h"
#include "xsell/stats.h"
#include "xsell/xalloc.h"
#include "xsell/snapshot.h"

#define ALPHA_LO      1e-4
#define PHI_LO        0.8
#define PHI_HI        0.98
#define CROSTON_ALPHA 0.1
/* SES for intermittent series: alpha by least squares on a grid, the level started
 * at the mean of the first SES_START values */
#define SES_ALPHA_LO   0.02
#define SES_ALPHA_STEP 0.02
#define SES_ALPHA_HI   0.5
#define SES_START      10
#define ADI_CUT        1.32
#define CV2_CUT        0.49 /* Syntetos, Boylan & Croston (2005): squared CV of the demand sizes */
#define ETS_MAX_SEASON 12   /* longer seasons (hourly's 24, weekly's 52) are decomposed first */
/* ETS_FTOL: stop when an iteration gains less (relative): R's optim reltol, tighter */
#define ETS_FTOL         1e-10
#define ETS_FREE_SEASONS 20 /* with this many seasons of data, the starting one is not fitted */

/* --- ETS --------------------------------------------------------------------- */

struct ets_work {
    const double *y;
    int n, m;
    struct ets_spec spec;
    double l0, b0, s0[FC_MAX_PERIOD]; /* heuristic starting states */
    double scale;                     /* of the level, for the optimiser's steps */
    bool season_free;                 /* the starting season is fitted, not just taken */
    int nvar;
};

static bool has_trend(struct ets_spec s)
{
    return s.trend != 'N';
}

static bool has_season(struct ets_spec s)
{
    return s.season != 'N';
}

/* Parameters from the optimiser's unconstrained values. */
static void unpack(const struct ets_work *w, const double *u, struct ets_fit *f)
{
    int k = 0;
    f->alpha = ALPHA_LO + (1 - 2 * ALPHA_LO) * stats_sigmoid(u[k++]);
    f->beta = has_trend(w->spec) ? f->alpha * stats_sigmoid(u[k++]) : 0;
    f->gamma = has_season(w->spec) ? (1 - f->alpha) * stats_sigmoid(u[k++]) : 0;
    f->phi = w->spec.trend == 'D' ? PHI_LO + (PHI_HI - PHI_LO) * stats_sigmoid(u[k++]) : 1;
    f->l = w->l0 + w->scale * u[k++];
    f->b = has_trend(w->spec) ? w->b0 + w->scale / MAX(w->m, 1) * u[k++] : 0;
    if (!has_season(w->spec)) {
        f->s[0] = 0;
        return;
    }
    /* m - 1 free starting indices; the last keeps them summing to 0 (additive) or m */
    bool mult = w->spec.season == 'M';
    double sum = 0;
    for (int j = 0; j < w->m - 1; j++) {
        f->s[j] = w->s0[j] + (w->season_free ? (mult ? 0.1 : w->scale) * u[k++] : 0);
        sum += f->s[j];
    }
    f->s[w->m - 1] = (mult ? w->m : 0) - sum;
}

/* One step: the forecast from the states, then the states updated with y. */
static double one_step(const struct ets_fit *f)
{
    double q = f->l + (f->spec.trend != 'N' ? f->phi * f->b : 0);
    if (f->spec.season == 'A')
        return q + f->s[0];
    if (f->spec.season == 'M')
        return q * f->s[0];
    return q;
}

static void update(struct ets_fit *f, int m, double y)
{
    double phib = f->spec.trend != 'N' ? f->phi * f->b : 0;
    double q = f->l + phib, old_l = f->l, s = f->s[0];
    double p = f->spec.season == 'A' ? y - s : f->spec.season == 'M' ? y / s : y;
    f->l = q + f->alpha * (p - q);
    if (f->spec.trend != 'N')
        f->b = phib + (f->beta / f->alpha) * (f->l - old_l - phib);
    if (f->spec.season != 'N') {
        double t = f->spec.season == 'A' ? y - q : y / q;
        double s_new = s + f->gamma * (t - s);
        memmove(f->s, f->s + 1, sizeof(double) * (size_t)(m - 1));
        f->s[m - 1] = s_new;
    }
}

/* -2 log-likelihood up to a constant: n log(sum e^2) (+ 2 sum log|yhat| for a
 * multiplicative error). INFINITY where the states leave their domain. The
 * optimiser's inner loop: written once, expanded per model (err, trend and season
 * are constants at each call below), with the season in a ring rather than shifted. */
static ALWAYS_INLINE double lik_run(const double *y, int n, int m, struct ets_fit *f,
                                    double *sse_out, double *fitted, const char err,
                                    const char trend, const char season)
{
    double l = f->l, b = trend != 'N' ? f->b : 0, phi = trend == 'D' ? f->phi : 1;
    double alpha = f->alpha, beta_a = trend != 'N' ? f->beta / f->alpha : 0, gamma = f->gamma;
    double s[FC_MAX_PERIOD];
    memcpy(s, f->s, sizeof(double) * (size_t)m);
    double sse = 0, logs = 0, prod = 1;
    int head = 0;
    for (int t = 0; t < n; t++) {
        double phib = trend != 'N' ? phi * b : 0, q = l + phib;
        double st = season != 'N' ? s[head] : 0;
        double yhat = season == 'A' ? q + st : season == 'M' ? q * st : q;
        if (fitted)
            fitted[t] = yhat;
        if (!isfinite(yhat))
            return INFINITY;
        if ((err == 'M' || season == 'M') && (!(yhat > 0) || (season == 'M' && !(st > 0))))
            return INFINITY;
        double e = y[t] - yhat;
        if (err == 'M') {
            e /= yhat;
            prod *= yhat; /* one log per many steps: the product stays far from the limits */
            if (!(prod < 1e150 && prod > 1e-150)) {
                logs += log(prod);
                prod = 1;
            }
        }
        sse += e * e;
        double p = season == 'A' ? y[t] - st : season == 'M' ? y[t] / st : y[t];
        double l_new = q + alpha * (p - q);
        if (trend != 'N')
            b = phib + beta_a * (l_new - l - phib);
        l = l_new;
        if (season != 'N') {
            double d = season == 'A' ? y[t] - q : y[t] / q;
            s[head] = st + gamma * (d - st);
            head = head + 1 == m ? 0 : head + 1;
        }
    }
    if (err == 'M')
        logs += log(prod);
    f->l = l;
    f->b = b;
    for (int j = 0; j < m; j++) /* back to s[0] the oldest */
        f->s[j] = s[(head + j) % m];
    if (sse_out)
        *sse_out = sse;
    if (!(sse > 0))
        sse = 1e-300;
    return n * log(sse) + 2 * logs;
}

#define LIK_CASE(e, t, s)                                                                          \
    if (sp.error == (e) && sp.trend == (t) && sp.season == (s))                                    \
    return lik_run(w->y, w->n, m, f, sse_out, fitted, (e), (t), (s))

/* fitted (may be NULL) gets the one-step forecasts. */
static double ets_lik(const struct ets_work *w, struct ets_fit *f, double *sse_out, double *fitted)
{
    struct ets_spec sp = w->spec;
    int m = sp.season != 'N' ? w->m : 1;
    LIK_CASE('A', 'N', 'N');
    LIK_CASE('A', 'A', 'N');
    LIK_CASE('A', 'D', 'N');
    LIK_CASE('A', 'N', 'A');
    LIK_CASE('A', 'A', 'A');
    LIK_CASE('A', 'D', 'A');
    LIK_CASE('M', 'N', 'N');
    LIK_CASE('M', 'A', 'N');
    LIK_CASE('M', 'D', 'N');
    LIK_CASE('M', 'N', 'A');
    LIK_CASE('M', 'A', 'A');
    LIK_CASE('M', 'D', 'A');
    LIK_CASE('M', 'N', 'M');
    LIK_CASE('M', 'A', 'M');
    LIK_CASE('M', 'D', 'M');
    return INFINITY; /* A,*,M: not admissible */
}
#undef LIK_CASE

static double objective(const double *u, double *g, void *ctx)
{
    const struct ets_work *w = ctx;
    struct ets_fit f = {.spec = w->spec};
    unpack(w, u, &f);
    double v = ets_lik(w, &f, NULL, NULL);
    if (!isfinite(v) || !g)
        return isfinite(v) ? v / w->n : v;
    /* forward differences: the recursion has no cheap analytic gradient, and one
     * pass per parameter halves the cost of central ones at no loss on M3 */
    double x[STATS_MAX_DIM];
    memcpy(x, u, sizeof(double) * (size_t)w->nvar);
    for (int i = 0; i < w->nvar; i++) {
        double hstep = 1e-7 * (1 + fabs(u[i])), fp;
        x[i] = u[i] + hstep;
        unpack(w, x, &f);
        fp = ets_lik(w, &f, NULL, NULL);
        x[i] = u[i];
        g[i] = isfinite(fp) ? (fp - v) / hstep / w->n : 0;
    }
    return v / w->n;
}

/* Classical decomposition of the first periods: seasonal indices by position (mean
 * 0 additive, 1 multiplicative); false when the series is too short. */
static bool seasonal_indices(const double *y, int n, int m, bool mult, double *idx)
{
    if (m < 2 || n < 2 * m)
        return false;
    double sum[FC_MAX_PERIOD] = {0};
    int cnt[FC_MAX_PERIOD] = {0};
    int half = m / 2;
    for (int t = half; t + half < n; t++) {
        /* centred moving average (2 x m when m is even) */
        double ma = 0;
        if (m % 2 == 0) {
            ma = 0.5 * y[t - half] + 0.5 * y[t + half];
            for (int k = t - half + 1; k < t + half; k++)
                ma += y[k];
            ma /= m;
        } else {
            for (int k = t - half; k <= t + half; k++)
                ma += y[k];
            ma /= m;
        }
        if (mult && !(ma > 0))
            return false;
        sum[t % m] += mult ? y[t] / ma : y[t] - ma;
        cnt[t % m]++;
    }
    double mean = 0;
    for (int j = 0; j < m; j++) {
        if (cnt[j] == 0)
            return false;
        idx[j] = sum[j] / cnt[j];
        mean += idx[j] / m;
    }
    for (int j = 0; j < m; j++)
        idx[j] = mult ? idx[j] / mean : idx[j] - mean;
    return true;
}

static int count_params(struct ets_spec s, int m)
{
    return 1 + has_trend(s) + has_season(s) + (s.trend == 'D') /* smoothing */
           + 1 + has_trend(s) + (has_season(s) ? m - 1 : 0)    /* initial states */
           + 1;                                                /* the variance */
}

bool ets_fit(const double *y, int n, int m, struct ets_spec spec, struct ets_fit *out)
{
    return ets_fit_kept(y, n, m, spec, NULL, out);
}

bool ets_fit_kept(const double *y, int n, int m, struct ets_spec spec, struct ets_estimates *est,
                  struct ets_fit *out)
{
    memset(out, 0, sizeof(*out));
    out->spec = spec;
    if (m > FC_MAX_PERIOD || (has_season(spec) && (m < 2 || m > ETS_MAX_SEASON)))
        return false;
    if (!has_season(spec))
        m = 1;
    out->m = m;
    bool positive = true;
    for (int t = 0; t < n; t++)
        positive &= y[t] > 0;
    if ((spec.error == 'M' || spec.season == 'M') && !positive)
        return false;
    if (spec.error == 'A' && spec.season == 'M')
        return false;
    int np = count_params(spec, m);
    if (n < np + 4)
        return false;
    struct ets_work w = {.y = y, .n = n, .m = m, .spec = spec};
    if (has_season(spec) && !seasonal_indices(y, n, m, spec.season == 'M', w.s0))
        return false;
    /* level and trend from the first (deseasonalised) periods */
    int k = MIN(n, MAX(m, 4));
    double a = 0, b = 0;
    for (int t = 0; t < k; t++) {
        double d = spec.season == 'A'   ? y[t] - w.s0[t % m]
                   : spec.season == 'M' ? y[t] / w.s0[t % m]
                                        : y[t];
        a += d / k;
        b += (t - (k - 1) / 2.0) * d;
    }
    double sxx = 0;
    for (int t = 0; t < k; t++)
        sxx += (t - (k - 1) / 2.0) * (t - (k - 1) / 2.0);
    double slope = sxx > 0 ? b / sxx : 0;
    w.l0 = a - slope * (k - 1) / 2.0;
    w.b0 = has_trend(spec) ? slope : 0;
    if (spec.season == 'M' || spec.error == 'M')
        w.l0 = MAX(w.l0, 1e-3 * a);
    double absmean = 0;
    for (int t = 0; t < n; t++)
        absmean += fabs(y[t]) / n;
    w.scale = MAX(absmean, 1e-6) * 0.1;
    /* over many seasons the start of the season hardly matters: the decomposition's
     * is kept, which halves the optimiser's work on long daily series */
    w.season_free = has_season(spec) && n < ETS_FREE_SEASONS * m;
    w.nvar = 1 + has_trend(spec) + has_season(spec) + (spec.trend == 'D') + 1 + has_trend(spec) +
             (w.season_free ? m - 1 : 0);
    double u[STATS_MAX_DIM] = {0};
    int i = 0;
    u[i++] = log(0.3 / 0.7); /* alpha 0.3 */
    if (has_trend(spec))
        u[i++] = log(0.1 / 0.9);
    if (has_season(spec))
        u[i++] = log(0.1 / 0.9);
    if (spec.trend == 'D')
        u[i++] = 1.0;
    if (est && est->nvar == w.nvar) /* an update: the search starts at the refit's */
        for (int v = 0; v < w.nvar; v++)
            u[v] = est->u[v];
    struct stats_min_result res;
    stats_minimize(objective, &w, w.nvar, u, 30, 1e-7, ETS_FTOL, 200, &res);
    if (!isfinite(res.f))
        return false;
    if (est) {
        est->nvar = (int8_t)(w.nvar <= ETS_KEEP_MAX ? w.nvar : 0);
        for (int v = 0; v < est->nvar; v++)
            est->u[v] = (float)u[v];
    }
    unpack(&w, u, out);
    out->m = m;
    out->l_start = out->l;
    out->b_start = out->b;
    memcpy(out->s_start, out->s, sizeof(out->s));
    double sse = 0;
    out->lik = ets_lik(&w, out, &sse, NULL); /* runs to the end: the final states */
    if (!isfinite(out->lik))
        return false;
    out->np = np;
    out->sigma2 = sse / MAX(n - np, 1);
    out->aicc = out->lik + 2.0 * np + 2.0 * np * (np + 1) / (n - np - 1);
    out->ok = true;
    return true;
}

double ets_run(struct ets_fit *f, const double *y, int n, double *sse)
{
    struct ets_work w = {.y = y, .n = n, .m = f->m, .spec = f->spec};
    return ets_lik(&w, f, sse, NULL);
}

void ets_fitted(const struct ets_fit *f, const double *y, int n, double *fitted)
{
    struct ets_fit g = *f;
    g.l = f->l_start;
    g.b = f->b_start;
    memcpy(g.s, f->s_start, sizeof(g.s));
    struct ets_work w = {.y = y, .n = n, .m = f->m, .spec = f->spec};
    ets_lik(&w, &g, NULL, fitted);
}

bool ets_auto(const double *y, int n, int m, struct ets_fit *out)
{
    static const char errors[] = "AM", trends[] = "NAD", seasons[] = "NAM";
    bool any = false;
    for (int e = 0; e < 2; e++)
        for (int t = 0; t < 3; t++)
            for (int s = 0; s < (m > 1 ? 3 : 1); s++) {
                struct ets_spec spec = {errors[e], trends[t], seasons[s]};
                struct ets_fit f;
                if (!ets_fit(y, n, m, spec, &f))
                    continue;
                if (!any || f.aicc < out->aicc) {
                    *out = f;
                    any = true;
                }
            }
    return any;
}

void ets_mean(const struct ets_fit *f, int h, double *mean)
{
    double damp = 0, pw = 1;
    for (int i = 0; i < h; i++) {
        pw *= f->phi;
        damp += f->spec.trend == 'D' ? pw : 1;
        double q = f->l + (f->spec.trend != 'N' ? damp * f->b : 0);
        double s = f->s[i % f->m];
        mean[i] = f->spec.season == 'A' ? q + s : f->spec.season == 'M' ? q * s : q;
    }
}

void ets_sd(const struct ets_fit *f, int h, double *mean, double *sd)
{
    ets_mean(f, h, mean);
    if (f->spec.error == 'A' && f->spec.season != 'M') {
        /* c_j = alpha + beta (phi + ... + phi^j) + gamma [j is a multiple of m] */
        double acc = 0, damp = 0, pw = 1;
        for (int i = 0; i < h; i++) {
            sd[i] = sqrt(f->sigma2 * (1 + acc));
            int j = i + 1;
            pw *= f->phi;
            damp += f->spec.trend == 'D' ? pw : 1;
            double c = f->alpha + (f->spec.trend != 'N' ? f->beta * damp : 0) +
                       (f->spec.season != 'N' && j % f->m == 0 ? f->gamma : 0);
            acc += c * c;
        }
        return;
    }
    /* simulated sample paths */
    double *sum = xcalloc((size_t)h, sizeof(double)), *sum2 = xcalloc((size_t)h, sizeof(double));
    struct rng r;
    rng_seed(&r, 20021);
    double sigma = sqrt(f->sigma2);
    for (int p = 0; p < FC_PATHS; p++) {
        struct ets_fit g = *f;
        for (int i = 0; i < h; i++) {
            double yhat = one_step(&g), e = sigma * rng_normal(&r);
            double y = g.spec.error == 'M' ? yhat * (1 + e) : yhat + e;
            if (!isfinite(y))
                y = yhat;
            sum[i] += y;
            sum2[i] += y * y;
            update(&g, g.m, y);
        }
    }
    for (int i = 0; i < h; i++) {
        double mu = sum[i] / FC_PATHS;
        sd[i] = sqrt(MAX(0, sum2[i] / FC_PATHS - mu * mu));
    }
    free(sum);
    free(sum2);
}

void ets_name(const struct ets_fit *f, char out[16])
{
    snprintf(out, 16, "ETS(%c,%s,%c)", f->spec.error,
             f->spec.trend == 'D'   ? "Ad"
             : f->spec.trend == 'A' ? "A"
                                    : "N",
             f->spec.season);
}

/* --- Theta, seasonal naive, Croston --------------------------------------------- */

/* Is the lag-m autocorrelation significant (90%, as forecast::thetaf tests)? */
static bool seasonal_by_acf(const double *y, int n, int m)
{
    if (m < 2 || n < 2 * m)
        return false;
    double mean = 0, var = 0, r[FC_MAX_PERIOD + 1];
    for (int t = 0; t < n; t++)
        mean += y[t] / n;
    for (int t = 0; t < n; t++)
        var += (y[t] - mean) * (y[t] - mean);
    if (!(var > 0))
        return false;
    for (int k = 1; k <= m; k++) {
        double c = 0;
        for (int t = k; t < n; t++)
            c += (y[t] - mean) * (y[t - k] - mean);
        r[k] = c / var;
    }
    double acc = 1;
    for (int k = 1; k < m; k++)
        acc += 2 * r[k] * r[k];
    return fabs(r[m]) > 1.645 * sqrt(acc / n);
}

/* forecast_theta with its SES's estimates kept (est: see ets_fit_kept; may be NULL). */
static void theta_kept(const double *y, int n, int m, int h, double *mean, double *sd, double *fit,
                       struct ets_estimates *est)
{
    double idx[FC_MAX_PERIOD] = {0};
    bool seasonal = false;
    double *d = xmalloc(((size_t)n + 1) * sizeof(double));
    bool positive = true;
    for (int t = 0; t < n; t++)
        positive &= y[t] > 0;
    if (positive && seasonal_by_acf(y, n, m))
        seasonal = seasonal_indices(y, n, m, true, idx);
    for (int t = 0; t < n; t++)
        d[t] = seasonal ? y[t] / idx[t % m] : y[t];
    struct ets_fit ses;
    struct ets_spec spec = {'A', 'N', 'N'};
    double tm = (n - 1) / 2.0, sxy = 0, sxx = 0;
    for (int t = 0; t < n; t++) {
        sxy += (t - tm) * d[t];
        sxx += (t - tm) * (t - tm);
    }
    double slope = sxx > 0 ? sxy / sxx : 0;
    if (!ets_fit_kept(d, n, 1, spec, est, &ses)) { /* too short: the last value with the drift */
        memset(&ses, 0, sizeof(ses));
        ses.spec = spec;
        ses.m = 1;
        ses.alpha = 1;
        ses.l = d[n - 1];
        double v = 0;
        for (int t = 1; t < n; t++)
            v += (d[t] - d[t - 1]) * (d[t] - d[t - 1]);
        ses.sigma2 = n > 1 ? v / (n - 1) : 0;
    }
    ets_sd(&ses, h, mean, sd);
    double a = ses.alpha, decay = pow(1 - a, n);
    if (fit) { /* SES's one-step forecasts with the drift as it stood at each origin */
        if (ses.ok)
            ets_fitted(&ses, d, n, fit);
        for (int t = 0; t < n; t++) {
            if (!ses.ok)
                fit[t] = d[t > 0 ? t - 1 : 0];
            fit[t] += 0.5 * slope * (1 - pow(1 - a, t)) / a;
            if (seasonal)
                fit[t] *= idx[t % m];
        }
    }
    for (int i = 0; i < h; i++) {
        mean[i] += 0.5 * slope * (i + 1.0 / a - decay / a);
        if (seasonal) {
            double s = idx[(n + i) % m];
            mean[i] *= s;
            sd[i] *= s;
        }
    }
    free(d);
}

void forecast_theta(const double *y, int n, int m, int h, double *mean, double *sd, double *fit)
{
    theta_kept(y, n, m, h, mean, sd, fit, NULL);
}

void forecast_snaive(const double *y, int n, int m, int h, double *mean, double *sd, double *fit)
{
    if (m < 1 || n < m)
        m = 1;
    for (int t = 0; fit && t < n; t++)
        fit[t] = y[t >= m ? t - m : 0];
    double v = 0;
    int k = 0;
    for (int t = m; t < n; t++, k++)
        v += (y[t] - y[t - m]) * (y[t] - y[t - m]);
    double s = k > 0 ? sqrt(v / k) : 0;
    for (int i = 0; i < h; i++) {
        int seasons = i / m; /* complete seasons ahead of step i */
        mean[i] = y[n - m + i % m];
        sd[i] = s * sqrt(1.0 + seasons);
    }
}

double forecast_adi(const double *y, int n)
{
    int nz = 0;
    for (int t = 0; t < n; t++)
        nz += y[t] != 0;
    return nz ? (double)n / nz : INFINITY;
}

const char *forecast_demand_class(const double *y, int n)
{
    double sum = 0, sum2 = 0;
    int nz = 0;
    for (int t = 0; t < n; t++)
        if (y[t] != 0) {
            sum += y[t];
            sum2 += y[t] * y[t];
            nz++;
        }
    if (nz == 0)
        return "none";
    double mu = sum / nz, cv2 = mu != 0 ? (sum2 / nz - mu * mu) / (mu * mu) : 0;
    bool sparse = (double)n / nz >= ADI_CUT, varied = cv2 >= CV2_CUT;
    return sparse ? (varied ? "lumpy" : "intermittent") : varied ? "erratic" : "smooth";
}

void forecast_croston_sba(const double *y, int n, int h, double *mean, double *sd, double *fit)
{
    double z = NAN, p = NAN, f = 0, v = 0;
    int since = 1, k = 0;
    for (int t = 0; t < n; t++) {
        if (fit)
            fit[t] = f;
        if (!isnan(z)) { /* in-sample one-step errors, once started */
            double e = y[t] - f;
            v += e * e;
            k++;
        }
        if (y[t] != 0) {
            if (isnan(z)) {
                z = y[t];
                p = since;
            } else {
                z += CROSTON_ALPHA * (y[t] - z);
                p += CROSTON_ALPHA * (since - p);
            }
            since = 1;
        } else {
            since++;
        }
        if (!isnan(z))
            f = (1 - CROSTON_ALPHA / 2) * z / p;
    }
    double s = k > 0 ? sqrt(v / k) : 0;
    for (int i = 0; i < h; i++) {
        mean[i] = isnan(z) ? 0 : f;
        sd[i] = s;
    }
}

/* One pass of SES at alpha from level l0 over y; the sum of squared one-step errors,
 * the final level in *level, the one-step forecasts in fit unless NULL. */
static double ses_pass(const double *y, int n, double alpha, double l0, double *level, double *fit)
{
    double l = l0, sse = 0;
    for (int t = 0; t < n; t++) {
        if (fit)
            fit[t] = l;
        double e = y[t] - l;
        sse += e * e;
        l += alpha * e;
    }
    *level = l;
    return sse;
}

void forecast_ses(const double *y, int n, int h, double *mean, double *sd, double *fit,
                  double *alpha)
{
    double l0 = 0, level, best_sse = INFINITY, best = SES_ALPHA_LO;
    int k = MIN(n, SES_START);
    for (int t = 0; t < k; t++)
        l0 += y[t] / k;
    bool given = alpha && *alpha > 0;
    if (given)
        best = *alpha;
    for (int i = 0; !given && SES_ALPHA_LO + i * SES_ALPHA_STEP < SES_ALPHA_HI; i++) {
        double a = SES_ALPHA_LO + i * SES_ALPHA_STEP, sse = ses_pass(y, n, a, l0, &level, NULL);
        if (sse < best_sse) {
            best_sse = sse;
            best = a;
        }
    }
    double sse = ses_pass(y, n, best, l0, &level, fit);
    double sigma2 = n > 1 ? sse / (n - 1) : 0;
    if (alpha)
        *alpha = best;
    for (int i = 0; i < h; i++) { /* ETS(A,N,N): sigma^2 (1 + (h - 1) alpha^2) */
        mean[i] = level;
        sd[i] = sqrt(sigma2 * (1 + i * best * best));
    }
}

/* --- the automatic choice ----------------------------------------------------------- */

enum { M_ETS, M_THETA, M_COMB };

/* Method k's forecast of y[0..n) for h steps; *name (may be NULL) gets its name. */
/* ETS by AICc, with its standard deviations; a season too long for ETS's own
 * states (above ETS_MAX_SEASON) is taken out by a classical multiplicative
 * decomposition first when significant, and put back after ("+dec" in the name). */
/* The form in *keep when it has one and fits, else the best by AICc; *keep (unless
 * NULL) gets the form fitted, est (unless NULL; see ets_fit_kept) its estimates, or
 * none when the form was chosen anew. */
static bool ets_choose(const double *y, int n, int m, struct ets_spec *keep,
                       struct ets_estimates *est, struct ets_fit *f)
{
    bool ok = keep && keep->error && ets_fit_kept(y, n, m, *keep, est, f);
    if (!ok && est)
        est->nvar = 0;
    if (!ok)
        ok = ets_auto(y, n, m, f);
    if (keep)
        *keep = ok ? f->spec : (struct ets_spec){0};
    return ok;
}

static bool ets_any(const double *y, int n, int m, int h, double *mean, double *sd, char name[24],
                    double *fit, struct ets_spec *keep, struct ets_estimates *est)
{
    struct ets_fit f;
    if (m <= ETS_MAX_SEASON) {
        if (!ets_choose(y, n, m, keep, est, &f))
            return false;
        ets_sd(&f, h, mean, sd);
        ets_name(&f, name);
        if (fit)
            ets_fitted(&f, y, n, fit);
        return true;
    }
    double idx[FC_MAX_PERIOD];
    bool positive = true;
    for (int t = 0; t < n; t++)
        positive &= y[t] > 0;
    bool seasonal = positive && seasonal_by_acf(y, n, m) && seasonal_indices(y, n, m, true, idx);
    double *d = xmalloc(((size_t)n + 1) * sizeof(double));
    for (int t = 0; t < n; t++)
        d[t] = seasonal ? y[t] / idx[t % m] : y[t];
    bool ok = ets_choose(d, n, 1, keep, est, &f);
    if (ok && fit) {
        ets_fitted(&f, d, n, fit);
        for (int t = 0; seasonal && t < n; t++)
            fit[t] *= idx[t % m];
    }
    free(d);
    if (!ok)
        return false;
    ets_sd(&f, h, mean, sd);
    for (int i = 0; seasonal && i < h; i++) {
        mean[i] *= idx[(n + i) % m];
        sd[i] *= idx[(n + i) % m];
    }
    char en[16];
    ets_name(&f, en);
    snprintf(name, 24, "%s%s", en, seasonal ? "+dec" : "");
    return true;
}

/* Method k's forecast of y[0..n) for h steps; *name (may be NULL) gets its name.
 * keep (may be NULL): the form and estimates to keep, in and out (fc_choice). */
static void run_method(int k, const double *y, int n, int m, int h, double *mean, double *sd,
                       char *name, size_t namelen, double *fit, struct fc_choice *keep)
{
    char en[24] = "";
    if (keep && k == M_THETA)
        keep->form = (struct ets_spec){0};
    bool have_ets =
        (k == M_ETS || k == M_COMB) &&
        ets_any(y, n, m, h, mean, sd, en, fit, keep ? &keep->form : NULL, keep ? &keep->ets : NULL);
    struct ets_estimates *theta_est = keep ? &keep->theta : NULL;
    if (!have_ets || k == M_THETA) {
        theta_kept(y, n, m, h, mean, sd, fit, theta_est);
        if (name)
            snprintf(name, namelen, "Theta");
        return;
    }
    if (k == M_COMB) {
        double *tm = xmalloc((size_t)h * sizeof(double)), *ts = xmalloc((size_t)h * sizeof(double));
        double *tf = fit ? xmalloc(((size_t)n + 1) * sizeof(double)) : NULL;
        theta_kept(y, n, m, h, tm, ts, tf, theta_est);
        for (int i = 0; i < h; i++) {
            mean[i] = (mean[i] + tm[i]) / 2;
            sd[i] = (sd[i] + ts[i]) / 2; /* the errors of the two move together */
        }
        for (int t = 0; fit && t < n; t++)
            fit[t] = (fit[t] + tf[t]) / 2;
        free(tf);
        free(tm);
        free(ts);
    }
    if (name)
        snprintf(name, namelen, "%s%s", en, k == M_COMB ? "+Theta" : "");
}

static double inv_normal(double p)
{
    /* Acklam's rational approximation, refined by one Newton step on erfc */
    static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                               -2.759285104469687e+02, 1.383577518672690e+02,
                               -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                               -1.556989798598866e+02, 6.680131188771972e+01,
                               -1.328068155288572e+01};
    static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                               -2.400758277161838e+00, -2.549732539343734e+00,
                               4.374664141464968e+00,  2.938163982698783e+00};
    static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                               3.754408661907416e+00};
    double q, r, x;
    if (p < 0.02425) {
        q = sqrt(-2 * log(p));
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else if (p > 1 - 0.02425) {
        q = sqrt(-2 * log(1 - p));
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else {
        q = p - 0.5;
        r = q * q;
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
    }
    double e = 0.5 * erfc(-x / sqrt(2)) - p;
    double u = e * sqrt(2 * M_PI) * exp(x * x / 2);
    return x - u / (1 + x * u / 2);
}

double forecast_z(double level)
{
    return inv_normal(0.5 + level / 200);
}

int forecast_method_parse(const char *name)
{
    static const char *const names[] = {"auto", "ets", "theta", "comb", "snaive", "ses", "croston"};
    for (int i = 0; i < (int)ARRAY_SIZE(names); i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

int forecast_auto(const double *y, int n, int m, int h, const double *levels, int nlevels,
                  enum fc_method method, struct forecast *out)
{
    return forecast_auto_fitted(y, n, m, h, levels, nlevels, method, out, NULL, NULL);
}

int forecast_auto_fitted(const double *y, int n, int m, int h, const double *levels, int nlevels,
                         enum fc_method method, struct forecast *out, double *fit,
                         struct fc_choice *keep)
{
    /* in: the form, constant and estimates to keep; out, through keep: the ones used */
    struct fc_choice choice = keep ? *keep : (struct fc_choice){0}, used = {0};
    memset(out, 0, sizeof(*out));
    if (n < 1 || h < 1 || h > FC_MAX_H)
        return -1;
    out->h = h;
    out->nlevels = MIN(nlevels, FC_MAX_LEVELS);
    memcpy(out->level, levels, sizeof(double) * (size_t)out->nlevels);
    double *sd = out->sd;
    bool nonneg = true;
    for (int t = 0; t < n; t++)
        nonneg &= y[t] >= 0;
    if (m > 1 && n < 2 * m) {
        snprintf(out->note, sizeof(out->note),
                 "%d values are fewer than two seasons of %d: no seasonal model", n, m);
        m = 1;
    }
    if (n < 4) {
        double mu = 0, v = 0;
        for (int t = 0; t < n; t++)
            mu += y[t] / n;
        for (int t = 0; t < n; t++)
            v += (y[t] - mu) * (y[t] - mu);
        for (int i = 0; i < h; i++) {
            out->mean[i] = mu;
            sd[i] = n > 1 ? sqrt(v / (n - 1) * (1 + 1.0 / n)) : fabs(mu);
        }
        for (int t = 0; fit && t < n; t++)
            fit[t] = mu;
        snprintf(out->model, sizeof(out->model), "Mean");
        snprintf(out->note, sizeof(out->note),
                 "%d values are too few for a model: their mean, with their spread", n);
    } else if (method == FC_SNAIVE) {
        forecast_snaive(y, n, m, h, out->mean, sd, fit);
        snprintf(out->model, sizeof(out->model), "SNaive");
    } else if (method == FC_SES || (method == FC_AUTO && forecast_adi(y, n) >= ADI_CUT)) {
        /* intermittent and lumpy series (with returns too): on the synthetic shops'
         * backtests SES beat Croston-SBA and ETS + Theta at a fraction of the cost */
        forecast_ses(y, n, h, out->mean, sd, fit, &choice.ses_alpha);
        used.ses_alpha = choice.ses_alpha;
        snprintf(out->model, sizeof(out->model), "SES");
    } else if (method == FC_CROSTON) {
        forecast_croston_sba(y, n, h, out->mean, sd, fit);
        snprintf(out->model, sizeof(out->model), "Croston-SBA");
    } else if (method != FC_AUTO) {
        int k = method == FC_ETS ? M_ETS : method == FC_THETA ? M_THETA : M_COMB;
        run_method(k, y, n, m, h, out->mean, sd, out->model, sizeof(out->model), fit, &choice);
        used = choice;
        used.ses_alpha = 0;
    } else {
        /* ETS by AICc and Theta, averaged: on M3 the mean beats either alone and any
         * choice between them on a short holdout (README, bench/m3.sh) */
        int best = M_COMB;
        run_method(best, y, n, m, h, out->mean, sd, out->model, sizeof(out->model), fit, &choice);
        used = choice;
        used.ses_alpha = 0;
    }
    bool finite = true;
    for (int i = 0; i < h; i++)
        finite &= isfinite(out->mean[i]) && isfinite(sd[i]);
    if (!finite) { /* values beyond what the fits can carry: no model of our own */
        used = (struct fc_choice){0};
        forecast_snaive(y, n, m, h, out->mean, sd, fit);
        snprintf(out->model, sizeof(out->model), "SNaive");
        snprintf(out->note, sizeof(out->note),
                 "the models' fit broke down on these values: seasonal naive instead");
    }
    forecast_calibrate(out, NULL, nonneg);
    if (keep)
        *keep = used;
    return 0;
}

void forecast_calibrate(struct forecast *f, const struct fc_calibration *c, bool nonneg)
{
    for (int l = 0; l < f->nlevels; l++) {
        double z = forecast_z(f->level[l]);
        for (int i = 0; i < f->h; i++) {
            double k = fc_calibration_factor(c, f->level[l], i);
            f->lo[l][i] = f->mean[i] - k * z * f->sd[i];
            f->hi[l][i] = f->mean[i] + k * z * f->sd[i];
            if (nonneg) {
                f->lo[l][i] = MAX(f->lo[l][i], 0);
                f->hi[l][i] = MAX(f->hi[l][i], 0);
            }
        }
    }
    for (int i = 0; nonneg && i < f->h; i++)
        f->mean[i] = MAX(f->mean[i], 0);
}

void fc_calibration_init(struct fc_calibration *c, const double *levels, int nlevels)
{
    static const double grid[] = {50, 80, 90, 95, 99};
    memset(c, 0, sizeof(*c));
    if (!levels) {
        levels = grid;
        nlevels = (int)ARRAY_SIZE(grid);
    }
    c->nlevels = MIN(nlevels, FC_CAL_MAX_LEVELS);
    memcpy(c->level, levels, sizeof(double) * (size_t)c->nlevels);
}

void fc_calibration_add(struct fc_calibration *c, const double *actual, const double *mean,
                        const double *sd, int h)
{
    for (int s = 0; s < MIN(h, FC_MAX_H); s++) {
        if (!(sd[s] > 0 && isfinite(sd[s]) && isfinite(mean[s]) && isfinite(actual[s])))
            continue;
        xgrow((void **)&c->score, &c->cap, 2 * (c->nscore + 1), sizeof(float));
        c->score[2 * c->nscore] = (float)s;
        c->score[2 * c->nscore + 1] = (float)(fabs(actual[s] - mean[s]) / sd[s]);
        c->nscore++;
    }
}

void fc_calibration_add_backtest(struct fc_calibration *c, const double *y, int n, int m, int h,
                                 enum fc_method method, int min_fit)
{
    if (n - h < MAX(min_fit, 1))
        return;
    struct forecast *f = xmalloc(sizeof(*f));
    if (forecast_auto(y, n - h, m, h, c->level, c->nlevels, method, f) == 0)
        fc_calibration_add(c, y + n - h, f->mean, f->sd, h);
    free(f);
}

static int by_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* The conformal quantile at level percent of v[0..n) (sorted, n >= 1): the
 * ceil((n + 1) L)-th smallest, the largest when that is past the end. */
static double conformal_quantile(const float *v, int n, double level)
{
    int k = (int)ceil((n + 1) * level / 100 - 1e-9);
    return v[MIN(MAX(k, 1), n) - 1];
}

void fc_calibration_finish(struct fc_calibration *c)
{
    int per[FC_MAX_H] = {0};
    c->h = 0;
    c->n = (int)c->nscore;
    for (size_t i = 0; i < c->nscore; i++) {
        int s = (int)c->score[2 * i];
        per[s]++;
        c->h = MAX(c->h, s + 1);
    }
    float *all = xmalloc((c->nscore + 1) * sizeof(float));
    float *step = xmalloc((c->nscore + 1) * sizeof(float));
    for (size_t i = 0; i < c->nscore; i++)
        all[i] = c->score[2 * i + 1];
    qsort(all, c->nscore, sizeof(float), by_float);
    for (int s = 0; s < c->h; s++) {
        const float *v = all;
        int n = c->n;
        if (per[s] >= FC_CAL_STEP_MIN) { /* the step's own scores */
            n = 0;
            for (size_t i = 0; i < c->nscore; i++)
                if ((int)c->score[2 * i] == s)
                    step[n++] = c->score[2 * i + 1];
            qsort(step, (size_t)n, sizeof(float), by_float);
            v = step;
        }
        for (int l = 0; l < c->nlevels; l++)
            c->factor[l][s] =
                c->n >= FC_CAL_MIN
                    ? (float)(conformal_quantile(v, n, c->level[l]) / forecast_z(c->level[l]))
                    : 1;
    }
    free(step);
    free(all);
    fc_calibration_release(c);
}

double fc_calibration_factor(const struct fc_calibration *c, double level, int step)
{
    if (!c || c->h == 0 || c->nlevels == 0)
        return 1;
    int s = MIN(step, c->h - 1), l = 0;
    while (l < c->nlevels && c->level[l] < level)
        l++;
    if (l == 0)
        return c->factor[0][s];
    if (l == c->nlevels)
        return c->factor[c->nlevels - 1][s];
    double z0 = forecast_z(c->level[l - 1]), z1 = forecast_z(c->level[l]), z = forecast_z(level);
    double w = (z - z0) / (z1 - z0);
    return (1 - w) * c->factor[l - 1][s] + w * c->factor[l][s];
}

void fc_calibration_release(struct fc_calibration *c)
{
    free(c->score);
    c->score = NULL;
    c->nscore = c->cap = 0;
}

double forecast_mase_scale(const double *y, int n, int m)
{
    int lag = n > m ? m : 1, k = 0;
    double scale = 0;
    for (int t = lag; t < n; t++, k++)
        scale += fabs(y[t] - y[t - lag]);
    return k ? scale / k : 0;
}

void forecast_score(const double *actual, int h, const double *mean, const double *sd, double scale,
                    const double *levels, int nlevels, bool nonneg,
                    const struct fc_calibration *cal, struct fc_backtest *out)
{
    double s = 0, a = 0, z[FC_MAX_LEVELS];
    int inside[FC_MAX_LEVELS] = {0};
    nlevels = MIN(nlevels, FC_MAX_LEVELS);
    for (int l = 0; l < nlevels; l++)
        z[l] = forecast_z(levels[l]);
    for (int i = 0; i < h; i++) {
        double v = actual[i], e = fabs(v - mean[i]), den = fabs(v) + fabs(mean[i]);
        s += den > 0 ? 200 * e / den : 0;
        a += e;
        for (int l = 0; l < nlevels; l++) {
            double w = fc_calibration_factor(cal, levels[l], i) * z[l] * sd[i];
            double lo = mean[i] - w, hi = mean[i] + w;
            inside[l] += v >= (nonneg ? MAX(lo, 0) : lo) && v <= (nonneg ? MAX(hi, 0) : hi);
        }
    }
    out->smape = h > 0 ? s / h : NAN;
    out->mase = h > 0 && scale > 0 ? a / h / scale : NAN;
    for (int l = 0; l < FC_MAX_LEVELS; l++)
        out->cover[l] = l < nlevels && h > 0 ? (double)inside[l] / h : NAN;
}

void forecast_backtest(const double *y, int n, int m, int h, enum fc_method method,
                       const double *levels, int nlevels, struct fc_backtest *out)
{
    int fit = n - h;
    struct forecast *f = xmalloc(sizeof(*f));
    if (h < 1 || fit < 4 || forecast_auto(y, fit, m, h, levels, nlevels, method, f)) {
        forecast_score(NULL, 0, NULL, NULL, 0, NULL, 0, false, NULL, out);
        free(f);
        return;
    }
    bool nonneg = true;
    for (int t = 0; t < fit; t++)
        nonneg &= y[t] >= 0;
    forecast_score(y + fit, h, f->mean, f->sd, forecast_mase_scale(y, fit, m), levels, nlevels,
                   nonneg, NULL, out);
    free(f);
}
