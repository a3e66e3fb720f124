#include "xsell/model_sales.h"

#include <assert.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>

#include "xsell/log.h"
#include "xsell/mat.h"
#include "xsell/membudget.h"
#include "xsell/xalloc.h"
#include "xsell/snapfile.h"
#include "xsell/snapshot.h"

static const double levels[2] = {80, 95};

/* --- reconciliation ------------------------------------------------------------ */

void sales_corr_estimate(const double *e, int T, int n, struct sales_corr *out)
{
    out->T = T;
    out->x = xcalloc((size_t)T * (size_t)n + 1, sizeof(double));
    out->lambda = 1;
    if (T < 3)
        return;
    for (int i = 0; i < n; i++) { /* centred, unit variance (T - 1); constant: zero */
        double mu = 0, v = 0;
        for (int t = 0; t < T; t++)
            mu += e[(size_t)t * n + i] / T;
        for (int t = 0; t < T; t++)
            v += (e[(size_t)t * n + i] - mu) * (e[(size_t)t * n + i] - mu);
        double sd = sqrt(v / (T - 1));
        for (int t = 0; sd > 0 && t < T; t++)
            out->x[(size_t)t * n + i] = (e[(size_t)t * n + i] - mu) / sd;
    }
    /* Schafer & Strimmer (2005), target the identity: lambda = sum_{i!=j} Var(r_ij) /
     * sum_{i!=j} r_ij^2 with w_tij = x_ti x_tj, wbar = mean_t w, r = T/(T-1) wbar,
     * Var(r) = T/(T-1)^3 sum_t (w - wbar)^2. The sums over pairs come from T x T
     * or n x n products, whichever is smaller. */
    const double *x = out->x;
    double all4 = 0, diag4 = 0, gram2 = 0, diag_wbar2 = 0;
    for (int t = 0; t < T; t++) {
        double s2 = 0;
        for (int i = 0; i < n; i++) {
            double q = x[(size_t)t * n + i] * x[(size_t)t * n + i];
            s2 += q;
            diag4 += q * q;
        }
        all4 += s2 * s2;
    }
    for (int i = 0; i < n; i++) {
        double d = 0;
        for (int t = 0; t < T; t++)
            d += x[(size_t)t * n + i] * x[(size_t)t * n + i];
        diag_wbar2 += (d / T) * (d / T);
    }
    if (T <= n) {
        for (int t = 0; t < T; t++)
            for (int u = 0; u < T; u++) {
                double g = 0;
                for (int i = 0; i < n; i++)
                    g += x[(size_t)t * n + i] * x[(size_t)u * n + i];
                gram2 += g * g;
            }
    } else {
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) {
                double g = 0;
                for (int t = 0; t < T; t++)
                    g += x[(size_t)t * n + i] * x[(size_t)t * n + j];
                gram2 += g * g;
            }
    }
    double wbar2 = gram2 / ((double)T * T) - diag_wbar2; /* sum_{i!=j} wbar^2 */
    double w2 = all4 - diag4;                            /* sum_{i!=j} sum_t w^2 */
    double var_r = (double)T / pow(T - 1.0, 3) * (w2 - T * wbar2);
    double r2 = pow((double)T / (T - 1.0), 2) * wbar2;
    out->lambda = r2 > 0 ? MIN(1, MAX(0, var_r / r2)) : 1;
}

void sales_corr_release(struct sales_corr *c)
{
    free(c->x);
    c->x = NULL;
}

/* Leaves below zero (or all, when forced) lifted to zero or above, and every level
 * above their sum again; whether that happened. */
static bool lift_to_zero(int n, const int32_t *parent, bool force, double *out_mean)
{
    bool *inner = xcalloc((size_t)n + 1, sizeof(bool));
    for (int i = 0; i < n; i++)
        if (parent[i] >= 0)
            inner[parent[i]] = true;
    bool lifted = force;
    for (int i = 0; !lifted && i < n; i++)
        lifted = !inner[i] && out_mean[i] < 0;
    if (lifted) {
        for (int i = 0; i < n; i++)
            if (inner[i])
                out_mean[i] = 0;
        for (int i = 0; i < n; i++) {
            if (inner[i])
                continue;
            out_mean[i] = MAX(out_mean[i], 0);
            for (int p = parent[i]; p >= 0; p = parent[p])
                out_mean[p] += out_mean[i];
        }
    }
    free(inner);
    return lifted;
}

/* The variance floor: 1e-10 of the largest, so that no forecast is entirely sure. */
static double variance_floor(int n, const double *var)
{
    double wmax = 0;
    for (int i = 0; i < n; i++)
        wmax = MAX(wmax, isfinite(var[i]) ? var[i] : 0);
    return 1e-10 * wmax + 1e-12;
}

bool sales_reconcile_tree(int n, const int32_t *parent, const double *mean, const double *var,
                          bool clamp_zero, double *out_mean, double *out_var)
{
    /* Gaussian belief propagation on the tree. Each node's total has its own
     * forecast (mean, w) as a measurement; up: a node's estimate from its subtree
     * (its children's estimates summed, combined with its own forecast by precision);
     * down: the root's is final, and each child's follows from its parent's final
     * estimate of their sum. Exact weighted least squares, O(n). */
    double floor_w = variance_floor(n, var);
    size_t sz = (size_t)n + 1;
    double *um = xcalloc(sz, sizeof(double)), *uv = xcalloc(sz, sizeof(double));
    double *cm = xcalloc(sz, sizeof(double)), *cv = xcalloc(sz, sizeof(double));
    bool *inner = xcalloc(sz, sizeof(bool));
    for (int i = 0; i < n; i++) {
        assert(parent[i] < 0 || parent[i] > i); /* children before their parents */
        double w = isfinite(var[i]) && var[i] > floor_w ? var[i] : floor_w;
        if (inner[i]) { /* the children's sum (cm, cv) met the node's own forecast */
            uv[i] = 1 / (1 / cv[i] + 1 / w);
            um[i] = uv[i] * (cm[i] / cv[i] + mean[i] / w);
        } else {
            um[i] = mean[i];
            uv[i] = w;
        }
        if (parent[i] >= 0) {
            inner[parent[i]] = true;
            cm[parent[i]] += um[i];
            cv[parent[i]] += uv[i];
        }
    }
    for (int i = n; i-- > 0;) {
        if (parent[i] < 0) {
            out_mean[i] = um[i];
            out_var[i] = uv[i];
            continue;
        }
        int p = parent[i];
        double g = uv[i] / cv[p]; /* this child's share of its siblings' uncertainty */
        out_mean[i] = um[i] + g * (out_mean[p] - cm[p]);
        out_var[i] = MAX(0, uv[i] - g * uv[i] + g * g * out_var[p]);
    }
    free(um);
    free(uv);
    free(cm);
    free(cv);
    free(inner);
    return clamp_zero && lift_to_zero(n, parent, false, out_mean);
}

bool sales_reconcile(int n, const int32_t *parent, const double *mean, const double *var,
                     const struct sales_corr *corr, bool clamp_zero, double *out_mean,
                     double *out_var)
{
    /* constraints: one per node with children, y_a - sum of its children = 0; U is
     * n x k with, in row i, +1 at i's own constraint and -1 at its parent's */
    int *kidx = xmalloc((size_t)n * sizeof(int));
    double *d = xmalloc((size_t)n * sizeof(double)); /* standard deviations */
    for (int i = 0; i < n; i++)
        kidx[i] = -1;
    int k = 0;
    for (int i = 0; i < n; i++)
        if (parent[i] >= 0 && kidx[parent[i]] < 0)
            kidx[parent[i]] = k++;
    double floor_w = variance_floor(n, var);
    for (int i = 0; i < n; i++)
        d[i] = sqrt(isfinite(var[i]) && var[i] > floor_w ? var[i] : floor_w);

    /* WU = D R D U, R = (1 - lambda) C + diag(1 - (1 - lambda) C_ii), C = X'X / (T - 1) */
    size_t nk = (size_t)n * (size_t)k;
    double *V = xcalloc(nk + 1, sizeof(double)), *WU = xcalloc(nk + 1, sizeof(double));
    for (int i = 0; i < n; i++) {
        if (kidx[i] >= 0)
            V[(size_t)i * k + kidx[i]] += d[i];
        if (parent[i] >= 0)
            V[(size_t)i * k + kidx[parent[i]]] -= d[i];
    }
    double shrink = corr ? 1 - corr->lambda : 0;
    double *cdiag = xcalloc((size_t)n + 1, sizeof(double));
    if (corr && shrink > 0) {
        int T = corr->T;
        double *XV = xcalloc((size_t)T * (size_t)k + 1, sizeof(double));
        for (int t = 0; t < T; t++) {
            const double *xt = corr->x + (size_t)t * n;
            for (int i = 0; i < n; i++) {
                if (xt[i] == 0)
                    continue;
                cdiag[i] += xt[i] * xt[i] / (T - 1);
                if (kidx[i] >= 0)
                    XV[(size_t)t * k + kidx[i]] += xt[i] * V[(size_t)i * k + kidx[i]];
                if (parent[i] >= 0)
                    XV[(size_t)t * k + kidx[parent[i]]] +=
                        xt[i] * V[(size_t)i * k + kidx[parent[i]]];
            }
        }
        for (int t = 0; t < T; t++) {
            const double *xt = corr->x + (size_t)t * n;
            for (int i = 0; i < n; i++)
                for (int a = 0; xt[i] != 0 && a < k; a++)
                    WU[(size_t)i * k + a] += shrink / (T - 1) * xt[i] * XV[(size_t)t * k + a];
        }
        free(XV);
    }
    for (int i = 0; i < n; i++)
        for (int a = 0; a < k; a++)
            WU[(size_t)i * k + a] =
                d[i] * (WU[(size_t)i * k + a] + (1 - shrink * cdiag[i]) * V[(size_t)i * k + a]);

    /* M = U' W U (k x k) and r = U' yhat */
    double *M = xcalloc((size_t)k * (size_t)k + 1, sizeof(double));
    double *r = xcalloc((size_t)k + 1, sizeof(double)),
           *lam = xcalloc((size_t)k + 1, sizeof(double));
    for (int i = 0; i < n; i++) {
        int a = kidx[i], p = parent[i] >= 0 ? kidx[parent[i]] : -1;
        for (int b = 0; b < k; b++) {
            if (a >= 0)
                M[(size_t)a * k + b] += WU[(size_t)i * k + b];
            if (p >= 0)
                M[(size_t)p * k + b] -= WU[(size_t)i * k + b];
        }
        if (a >= 0)
            r[a] += mean[i];
        if (p >= 0)
            r[p] -= mean[i];
    }
    for (int a = 0; a < k; a++) /* symmetric up to rounding: make it exactly so */
        for (int b = 0; b < a; b++)
            M[(size_t)a * k + b] = M[(size_t)b * k + a] =
                (M[(size_t)a * k + b] + M[(size_t)b * k + a]) / 2;
    bool ok = k == 0 || mat_spd_inverse(M, k) == 0;
    for (int a = 0; ok && a < k; a++)
        for (int b = 0; b < k; b++)
            lam[a] += M[(size_t)a * k + b] * r[b];
    /* yhat - W U M^-1 U' yhat, and the variances diag(W - W U M^-1 U' W) */
    for (int i = 0; i < n; i++) {
        const double *wu = WU + (size_t)i * k;
        double shift = 0, q = 0;
        for (int a = 0; ok && a < k; a++) {
            shift += wu[a] * lam[a];
            double mw = 0;
            for (int b = 0; b < k; b++)
                mw += M[(size_t)a * k + b] * wu[b];
            q += wu[a] * mw;
        }
        out_mean[i] = mean[i] - shift;
        out_var[i] = MAX(0, d[i] * d[i] - q);
    }
    bool lifted = false;
    if (!ok) { /* not expected with the floor; bottom-up rather than nothing */
        log_warn("reconcile: U'WU is not positive definite; summing the products up instead");
        clamp_zero = lifted = true;
    }
    if (clamp_zero)
        lifted = lift_to_zero(n, parent, lifted, out_mean);
    free(kidx);
    free(d);
    free(V);
    free(WU);
    free(cdiag);
    free(M);
    free(r);
    free(lam);
    return lifted;
}

/* --- series ---------------------------------------------------------------------- */

#define BT_MAX SALES_BACKTEST_DAY /* the longer backtest */
_Static_assert(SALES_WEEK_WINDOW <= SALES_DAY_WINDOW,
               "residuals are kept in rows of the daily window");

/* What the workers leave per task (measure, freq, node): task = (measure * NFREQ +
 * freq) * nodes + node. */
struct sales_job {
    const struct model_sales *m;
    /* [node * len + t]; float: half the memory of the largest working arrays (5M lines:
     * 685 MB as double), digits well beyond what the forecasts resolve */
    const float *table[SALES_NMEASURE][SALES_NFREQ];
    int len[SALES_NFREQ];
    atomic_int next;
    char (*model)[32];
    char (*note)[160];
    const char **demand;
    /* float, as the answers keep them: half the memory of double (5M lines: 385 MB) */
    float *mean, *sd;       /* [task * SALES_MAX_H_DAY]: the forecast */
    float *bt_mean, *bt_sd; /* [task * BT_MAX]: the backtest's, from its origin */
    double *bt_scale;       /* MASE scale before the origin; NAN: not scored */
    float *res, *bt_res;    /* NULL or [task * SALES_DAY_WINDOW + t]: one-step in-sample errors of
                             * the forecast's and the backtest's fits (0 before a start) */
    int *n;
    bool *nonneg;
    struct fc_choice *choice;       /* [task]: the choice made (out), or to keep (in) */
    const struct model_sales *keep; /* the last refit's: its choices (in choice), its
                                     * reconciliations and backtests are kept, the
                                     * shop's choice made anew */
};

/* The last complete day at as_of (days since the epoch), and into len how many days
 * and weeks back the series reach. */
static double series_span(const struct history *h, double as_of, int len[SALES_NFREQ])
{
    double d_as_of = floor(as_of / DAY_S);
    double last_day = as_of >= (d_as_of + 1) * DAY_S - 1 ? d_as_of : d_as_of - 1;
    double first = h->t_max > 0 ? floor(h->t_min / DAY_S) : last_day + 1;
    int ndays = (int)MAX(0, last_day - first + 1);
    len[SALES_DAY] = MIN(ndays, SALES_DAY_WINDOW);
    len[SALES_WEEK] = MIN(ndays / 7, SALES_WEEK_WINDOW);
    return last_day;
}

/* n float cells into to as double, where the methods read them. */
static void widen(const float *from, size_t n, double *to)
{
    for (size_t i = 0; i < n; i++)
        to[i] = from[i];
}

static void forecast_task(struct sales_job *j, int task)
{
    const struct model_sales *m = j->m;
    int node = (int)(task % (int)m->nodes), mf = task / (int)m->nodes;
    int freq = mf % SALES_NFREQ, meas = mf / SALES_NFREQ, len = j->len[freq];
    double *row = xmalloc(((size_t)len + 1) * sizeof(double));
    widen(j->table[meas][freq] + (size_t)node * (size_t)len, (size_t)len, row);
    int start = 0;
    while (start < len && row[start] == 0)
        start++;
    int n = len - start, h = m->h_max[freq], hb = m->backtest_h[freq], period = m->period[freq];
    float *mean = j->mean + (size_t)task * SALES_MAX_H_DAY;
    float *sd = j->sd + (size_t)task * SALES_MAX_H_DAY;
    j->n[task] = n;
    j->nonneg[task] = true;
    for (int t = start; t < len; t++)
        j->nonneg[task] &= row[t] >= 0;
    j->bt_scale[task] = NAN;
    j->demand[task] = forecast_demand_class(row + start, n);
    if (n == 0) { /* never sold in the window: nothing to model, zero (arrays are) */
        snprintf(j->model[task], 32, "None");
        snprintf(j->note[task], 160, "no sales in the series' window: zero");
        free(row);
        return;
    }
    struct forecast *f = xmalloc(sizeof(*f));
    double *fit = xmalloc(((size_t)n + 1) * sizeof(double));
    /* The ETS form: an update keeps the last refit's (but for the shop's one series)
     * and starts its search at the last estimates; a full run chooses it once, on
     * the backtest's data, which keeps the backtest honest, and the forecast fits
     * that form alone to the whole series. */
    bool update = j->keep && node + 1 < (int)m->nodes;
    struct fc_choice choice = update ? j->choice[task] : (struct fc_choice){0};
    /* the backtest (where the choice is made): the same method from hb periods back
     * (every node from the same origin, so that the backtest is reconciled as the
     * forecast is); an update keeps the last refit's scores */
    int nfit = update ? 0 : n - hb;
    float *res = j->bt_res ? j->bt_res + (size_t)task * SALES_DAY_WINDOW + start : NULL;
    if (nfit >= 1 && forecast_auto_fitted(row + start, nfit, period, hb, levels, 2, FC_AUTO, f,
                                          res ? fit : NULL, &choice) == 0) {
        for (int t = 0; res && t < nfit; t++)
            res[t] = isfinite(fit[t]) ? (float)(row[start + t] - fit[t]) : 0;
        for (int s = 0; s < hb; s++) {
            j->bt_mean[(size_t)task * BT_MAX + (size_t)s] = (float)f->mean[s];
            j->bt_sd[(size_t)task * BT_MAX + (size_t)s] = (float)f->sd[s];
        }
        if (nfit >= 4)
            j->bt_scale[task] = forecast_mase_scale(row + start, nfit, period);
    }
    res = j->res ? j->res + (size_t)task * SALES_DAY_WINDOW + start : NULL;
    if (!update) { /* a full run estimates on the whole series (the backtest chose the form) */
        choice.ses_alpha = 0;
        choice.ets.nvar = choice.theta.nvar = 0;
    }
    forecast_auto_fitted(row + start, n, period, h, levels, 2, FC_AUTO, f, res ? fit : NULL,
                         &choice);
    j->choice[task] = choice;
    for (int t = 0; res && t < n; t++)
        res[t] = isfinite(fit[t]) ? (float)(row[start + t] - fit[t]) : 0;
    for (int s = 0; s < h; s++) {
        mean[s] = (float)f->mean[s];
        sd[s] = (float)f->sd[s];
    }
    snprintf(j->model[task], 32, "%s", f->model);
    snprintf(j->note[task], 160, "%s", f->note);
    free(fit);
    free(f);
    free(row);
}

static void *forecast_worker(void *arg)
{
    struct sales_job *j = arg;
    int total = (int)(SALES_NMEASURE * SALES_NFREQ * j->m->nodes);
    for (int t; (t = atomic_fetch_add(&j->next, 1)) < total;)
        forecast_task(j, t);
    return NULL;
}

/* Per node, the net units and revenue per day and per week: products from the
 * lines, every level above by adding each product to its parents. */
static void build_tables(const struct history *h, const struct model_sales *m, double last_day,
                         const int len[SALES_NFREQ], float *table[SALES_NMEASURE][SALES_NFREQ])
{
    static const int days[SALES_NFREQ] = {1, 7};
    for (int meas = 0; meas < SALES_NMEASURE; meas++)
        for (int f = 0; f < SALES_NFREQ; f++)
            table[meas][f] = xcalloc(m->nodes * (size_t)len[f] + 1, sizeof(float));
    for (size_t o = 0; o < history_norders(h); o++) {
        double back = last_day - floor(h->order_time[o] / DAY_S); /* 0: the last day */
        if (back < 0)
            continue;
        for (int f = 0; f < SALES_NFREQ; f++) {
            int t = len[f] - 1 - (int)floor(back / days[f]);
            if (t < 0)
                continue;
            for (int32_t l = h->order_first[o]; l < h->order_first[o + 1]; l++) {
                size_t c = (size_t)h->line_product[l] * (size_t)len[f] + (size_t)t;
                table[SALES_UNITS][f][c] += (float)h->line_qty[l];
                table[SALES_REVENUE][f][c] += (float)(h->line_qty[l] * h->line_price[l]);
            }
        }
    }
    for (int meas = 0; meas < SALES_NMEASURE; meas++)
        for (int f = 0; f < SALES_NFREQ; f++)
            for (size_t p = 0; p < m->nproducts; p++)
                for (int32_t q = m->parent[p]; q >= 0; q = m->parent[q])
                    for (int t = 0; t < len[f]; t++)
                        table[meas][f][(size_t)q * len[f] + t] +=
                            table[meas][f][p * (size_t)len[f] + t];
}

void model_sales_history(const struct model_sales *m, const struct history *h, size_t node,
                         int channel, enum sales_measure meas, enum sales_freq f, int n,
                         double *out)
{
    static const int days[SALES_NFREQ] = {1, 7};
    double last_day = m->first_day[f] - 1;
    bool shop = node == m->nodes - 1;
    for (int t = 0; t < n; t++)
        out[t] = 0;
    /* the orders are in time order: from the window's first day's to the last day's */
    double from = (last_day - (double)n * days[f] + 1) * DAY_S;
    size_t lo = 0, hi = history_norders(h);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (h->order_time[mid] < from)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t o = lo; o < history_norders(h); o++) {
        double back = last_day - floor(h->order_time[o] / DAY_S);
        if (back < 0)
            break;
        int t = n - 1 - (int)floor(back / days[f]);
        if (t < 0 || (channel != SALES_ANY_CHANNEL && h->order_channel[o] != channel))
            continue;
        for (int32_t l = h->order_first[o]; l < h->order_first[o + 1]; l++) {
            size_t p = (size_t)h->line_product[l];
            if (!shop && p != node && (p >= m->nproducts || (size_t)m->parent[p] != node))
                continue;
            out[t] += meas == SALES_UNITS ? h->line_qty[l] : h->line_qty[l] * h->line_price[l];
        }
    }
}

/* Reconciles h steps of every node's forecast ([node * stride + step] in base_mean,
 * base_sd) into out_mean, out_sd (same layout); returns the steps that lifted a
 * product to zero. */
static int reconcile_steps(const struct model_sales *m, const struct sales_corr *corr, int h,
                           size_t stride, const float *base_mean, const float *base_sd,
                           double *out_mean, double *out_sd)
{
    size_t n = m->nodes;
    double *bm = xmalloc(n * sizeof(double) * 4), *bv = bm + n, *rm = bv + n, *rv = rm + n;
    int count = 0;
    for (int s = 0; s < h; s++) {
        for (size_t i = 0; i < n; i++) {
            bm[i] = base_mean[i * stride + (size_t)s];
            bv[i] = base_sd[i * stride + (size_t)s] * base_sd[i * stride + (size_t)s];
        }
        count += corr ? sales_reconcile((int)n, m->parent, bm, bv, corr, true, rm, rv)
                      : sales_reconcile_tree((int)n, m->parent, bm, bv, true, rm, rv);
        for (size_t i = 0; i < n; i++) {
            out_mean[i * stride + (size_t)s] = rm[i];
            out_sd[i * stride + (size_t)s] = sqrt(rv[i]);
        }
    }
    free(bm);
    return count;
}

/* For the training figures (units): per frequency and scope the mean backtest MASE
 * of the base forecasts, MinT's and top-down's, the reconciled coverage over all
 * nodes, and the reconciliation chosen. */
struct bt_summary {
    double mase[3][3], cover[2], cover_model[2]; /* calibrated (cross-fitted), the models' own */
    int kc, method;
};

/* The correlation of every node's one-step in-sample errors over periods 1..len-1
 * of the forecast's fits (backtest: of the backtest's, whose data end at its origin). */
static void errors_corr(const struct model_sales *m, const struct sales_job *j, int meas, int f,
                        bool backtest, int len, struct sales_corr *out)
{
    int n = (int)m->nodes, T = MAX(0, len - 1);
    size_t base = (size_t)(meas * SALES_NFREQ + f) * m->nodes;
    const float *res = backtest ? j->bt_res : j->res;
    double *e = xmalloc(((size_t)T * (size_t)n + 1) * sizeof(double));
    for (int i = 0; i < n; i++)
        for (int t = 0; t < T; t++)
            e[(size_t)t * n + i] = res[(base + (size_t)i) * SALES_DAY_WINDOW + (size_t)t + 1];
    sales_corr_estimate(e, T, n, out);
    free(e);
}

/* Top-down by forecast proportions (Athanasopoulos, Ahmed & Hyndman 2009): the shop's
 * own forecast, split among the nodes below in proportion to their own forecasts,
 * level by level (parents come after their children in m's numbering). A node's
 * standard deviation is its own model's, scaled with its mean. */
static void topdown_steps(const struct model_sales *m, int h, size_t stride, const float *base_mean,
                          const float *base_sd, double *out_mean, double *out_sd)
{
    size_t n = m->nodes;
    double *children = xmalloc(n * sizeof(double));
    for (int s = 0; s < h; s++) {
        for (size_t i = 0; i < n; i++)
            children[i] = 0;
        for (size_t i = 0; i < n; i++)
            if (m->parent[i] >= 0)
                children[m->parent[i]] += MAX(base_mean[i * stride + (size_t)s], 0);
        for (size_t i = n; i-- > 0;) {
            size_t c = i * stride + (size_t)s;
            double own = MAX(base_mean[c], 0);
            if (m->parent[i] < 0) {
                out_mean[c] = own;
            } else {
                size_t pc = (size_t)m->parent[i] * stride + (size_t)s;
                double total = children[m->parent[i]];
                out_mean[c] = total > 0 ? out_mean[pc] * own / total : 0;
            }
            out_sd[c] = own > 0 ? base_sd[c] * out_mean[c] / own : base_sd[c];
        }
    }
    free(children);
}

enum { REC_MINT = 0, REC_TOPDOWN, REC_N };
static const char *const rec_names[REC_N] = {
    "MinT (shrunk correlation, each forecast's own variance)", "top-down by forecast proportions"};
/* MinT's dense system grows with nodes x categories^2 (and its correlation with
 * nodes^2): past this many categories its place is taken by the exact O(n) weighted
 * least squares without the correlation. */
#define SALES_MINT_MAX_CATEGORIES 64
static const char wls_name[] = "WLS (each forecast's own variance; MinT's correlation is left out "
                               "above 64 categories)";

static bool mint_fits(const struct model_sales *m)
{
    return m->ncat <= SALES_MINT_MAX_CATEGORIES;
}

static const char *rec_name(const struct model_sales *m, int method)
{
    return method == REC_MINT && !mint_fits(m) ? wls_name : rec_names[method];
}

/* Reconciles h steps by method; returns the steps that lifted a product to zero. */
static int reconcile_by(const struct model_sales *m, int method, const struct sales_corr *corr,
                        int h, size_t stride, const float *base_mean, const float *base_sd,
                        double *out_mean, double *out_sd)
{
    if (method == REC_TOPDOWN) {
        topdown_steps(m, h, stride, base_mean, base_sd, out_mean, out_sd);
        return 0;
    }
    return reconcile_steps(m, corr, h, stride, base_mean, base_sd, out_mean, out_sd);
}

static int scope_of(const struct model_sales *m, size_t node)
{
    return node < m->nproducts ? 0 : node + 1 < m->nodes ? 1 : 2;
}

/* Node i's backtest actual values (hb of them). */
static void backtest_actual(const struct model_sales *m, const struct sales_job *j, int meas, int f,
                            size_t i, double *actual)
{
    int hb = m->backtest_h[f], len = j->len[f];
    widen(j->table[meas][f] + i * (size_t)len + (size_t)(len - hb), (size_t)hb, actual);
}

/* Scores every node's backtest forecast (mean, sd: [node * BT_MAX + step]) against
 * what happened; per scope (product, category, shop) the mean MASE into mase[3].
 * half (unless NULL): [pool][parity] calibrations, a node's intervals widened by the
 * other parity's. */
static void score_nodes(const struct model_sales *m, const struct sales_job *j, int meas, int f,
                        const double *mean, const double *sd,
                        const struct fc_calibration half[SALES_NPOOL][2], struct fc_backtest *out,
                        double mase[3])
{
    size_t n = m->nodes, base = (size_t)(meas * SALES_NFREQ + f) * n;
    int hb = m->backtest_h[f], k[3] = {0};
    for (int sc = 0; sc < 3; sc++)
        mase[sc] = 0;
    for (size_t i = 0; i < n; i++) {
        size_t t = base + i;
        forecast_score(NULL, 0, NULL, NULL, 0, NULL, 0, false, NULL, &out[i]);
        if (!isfinite(j->bt_scale[t])) /* set only when hb < len */
            continue;
        double actual[BT_MAX];
        backtest_actual(m, j, meas, f, i, actual);
        const struct fc_calibration *cal = half ? &half[sales_pool_of(m, i)][1 - (i & 1)] : NULL;
        forecast_score(actual, hb, mean + i * BT_MAX, sd + i * BT_MAX, j->bt_scale[t], levels, 2,
                       j->nonneg[t], cal, &out[i]);
        if (isfinite(out[i].mase)) {
            mase[scope_of(m, i)] += out[i].mase;
            k[scope_of(m, i)]++;
        }
    }
    for (int sc = 0; sc < 3; sc++)
        mase[sc] = k[sc] ? mase[sc] / k[sc] : NAN;
}

/* The mean over the scopes that have a score. */
static double scopes_mean(const double mase[3])
{
    double s = 0;
    int k = 0;
    for (int sc = 0; sc < 3; sc++)
        if (isfinite(mase[sc])) {
            s += mase[sc];
            k++;
        }
    return k ? s / k : NAN;
}

/* The intervals' calibration from the reconciled backtest (mean, sd: [node * BT_MAX
 * + step]): per pool, from all its nodes into m->cal, and from each parity's nodes
 * alone into half (for scoring the other parity). */
static void calibrate(struct model_sales *m, const struct sales_job *j, int meas, int f,
                      const double *mean, const double *sd,
                      struct fc_calibration half[SALES_NPOOL][2])
{
    int hb = m->backtest_h[f];
    for (int p = 0; p < SALES_NPOOL; p++) {
        fc_calibration_init(&m->cal[meas][f][p], NULL, 0);
        fc_calibration_init(&half[p][0], NULL, 0);
        fc_calibration_init(&half[p][1], NULL, 0);
    }
    for (size_t i = 0; i < m->nodes; i++) {
        if (!isfinite(j->bt_scale[(size_t)(meas * SALES_NFREQ + f) * m->nodes + i]))
            continue;
        double actual[BT_MAX];
        backtest_actual(m, j, meas, f, i, actual);
        enum sales_pool p = sales_pool_of(m, i);
        fc_calibration_add(&m->cal[meas][f][p], actual, mean + i * BT_MAX, sd + i * BT_MAX, hb);
        fc_calibration_add(&half[p][i & 1], actual, mean + i * BT_MAX, sd + i * BT_MAX, hb);
    }
    for (int p = 0; p < SALES_NPOOL; p++) {
        fc_calibration_finish(&m->cal[meas][f][p]);
        fc_calibration_finish(&half[p][0]);
        fc_calibration_finish(&half[p][1]);
    }
}

/* The reconciliation that did better on the backtest (the mean over products,
 * categories and shop of their mean MASE), then the forecasts reconciled by it. An
 * update keeps the last refit's reconciliation and backtest scores. */
static void fill_answers(struct model_sales *m, struct sales_job *j, int meas, int f,
                         struct arena *a, struct bt_summary *sum)
{
    const struct sales_fc *kept = j->keep ? j->keep->fc[meas][f] : NULL;
    size_t n = m->nodes, base = (size_t)(meas * SALES_NFREQ + f) * n;
    int hm = m->h_max[f], hb = m->backtest_h[f], len = j->len[f];
    struct sales_fc *fc = arena_array(a, n, sizeof(*fc));
    double *rm = xmalloc(n * SALES_MAX_H_DAY * sizeof(double) * 2), *rs = rm + n * SALES_MAX_H_DAY;
    struct fc_backtest *bt[REC_N + 1];
    double mase[REC_N + 1][3], score[REC_N];
    struct sales_corr corr = {0};
    bool mint = mint_fits(m); /* else WLS on the tree: no correlation to estimate */
    if (mint && !kept)
        errors_corr(m, j, meas, f, true, len - hb, &corr);
    for (int r = 0; r <= REC_N; r++)
        bt[r] = xcalloc(n, sizeof(struct fc_backtest));
    for (int r = 0; r <= REC_N; r++)
        for (int sc = 0; sc < 3; sc++)
            mase[r][sc] = NAN;
    if (!kept) { /* the base forecasts' own scores */
        widen(j->bt_mean + base * BT_MAX, n * BT_MAX, rm);
        widen(j->bt_sd + base * BT_MAX, n * BT_MAX, rs);
        score_nodes(m, j, meas, f, rm, rs, NULL, bt[REC_N], mase[REC_N]);
    }
    int best = REC_MINT;
    for (int r = 0; r < REC_N && !kept; r++) {
        reconcile_by(m, r, mint ? &corr : NULL, hb, BT_MAX, j->bt_mean + base * BT_MAX,
                     j->bt_sd + base * BT_MAX, rm, rs);
        score_nodes(m, j, meas, f, rm, rs, NULL, bt[r], mase[r]);
        score[r] = scopes_mean(mase[r]);
        if (score[r] < score[best])
            best = r;
    }
    /* the intervals calibrated on the chosen reconciliation's backtest, each node's
     * coverage scored with the other half's calibration (into bt[REC_N], the base
     * forecasts' scores being read no further) */
    const struct fc_backtest *cal_bt = bt[REC_N];
    if (!kept) {
        struct fc_calibration half[SALES_NPOOL][2];
        double ignored[3];
        reconcile_by(m, best, mint ? &corr : NULL, hb, BT_MAX, j->bt_mean + base * BT_MAX,
                     j->bt_sd + base * BT_MAX, rm, rs);
        calibrate(m, j, meas, f, rm, rs, half);
        score_nodes(m, j, meas, f, rm, rs, half, bt[REC_N], ignored);
    } else {
        memcpy(m->cal[meas][f], j->keep->cal[meas][f], sizeof(m->cal[meas][f]));
    }
    if (j->keep)
        best = j->keep->chosen[meas][f];
    m->chosen[meas][f] = best;
    sales_corr_release(&corr);
    if (mint)
        errors_corr(m, j, meas, f, false, len, &corr);
    m->method[meas][f] = rec_name(m, best);
    m->lifted_steps[meas][f] =
        reconcile_by(m, best, mint ? &corr : NULL, hm, SALES_MAX_H_DAY,
                     j->mean + base * SALES_MAX_H_DAY, j->sd + base * SALES_MAX_H_DAY, rm, rs);
    sales_corr_release(&corr);
    for (size_t i = 0; i < n; i++) {
        size_t t = base + i;
        fc[i].model = arena_strdup(a, j->model[t]);
        fc[i].note = j->note[t][0] ? arena_strdup(a, j->note[t]) : NULL;
        fc[i].demand = j->demand[t];
        fc[i].mean = arena_array(a, (size_t)hm, sizeof(float));
        fc[i].sd = arena_array(a, (size_t)hm, sizeof(float));
        fc[i].base = arena_array(a, (size_t)hm, sizeof(float));
        for (int s = 0; s < hm; s++) {
            fc[i].mean[s] = (float)rm[i * SALES_MAX_H_DAY + (size_t)s];
            fc[i].sd[s] = (float)rs[i * SALES_MAX_H_DAY + (size_t)s];
            fc[i].base[s] = j->mean[t * SALES_MAX_H_DAY + (size_t)s];
        }
        fc[i].n = j->n[t];
        fc[i].last = len > 0 ? j->table[meas][f][i * (size_t)len + (size_t)len - 1] : 0;
        fc[i].smape = kept ? kept[i].smape : bt[best][i].smape;
        fc[i].mase = kept ? kept[i].mase : bt[best][i].mase;
        fc[i].cover80 = kept ? kept[i].cover80 : cal_bt[i].cover[0];
        fc[i].cover95 = kept ? kept[i].cover95 : cal_bt[i].cover[1];
        if (meas == SALES_UNITS && isfinite(fc[i].cover80)) {
            sum[f].cover[0] += fc[i].cover80;
            sum[f].cover[1] += fc[i].cover95;
            sum[f].cover_model[0] += kept ? NAN : bt[best][i].cover[0];
            sum[f].cover_model[1] += kept ? NAN : bt[best][i].cover[1];
            sum[f].kc++;
        }
    }
    if (meas == SALES_UNITS) {
        for (int sc = 0; sc < 3; sc++) {
            sum[f].mase[0][sc] = mase[REC_N][sc];
            sum[f].mase[1][sc] = mase[REC_MINT][sc];
            sum[f].mase[2][sc] = mase[REC_TOPDOWN][sc];
        }
        if (kept)
            memcpy(sum[f].mase, j->keep->backtest_mase[f], sizeof(sum[f].mase));
        memcpy(m->backtest_mase[f], sum[f].mase, sizeof(sum[f].mase));
        sum[f].method = best;
    }
    for (int r = 0; r <= REC_N; r++)
        free(bt[r]);
    free(rm);
    m->fc[meas][f] = fc;
}

void model_sales_fit(const struct history *h, double as_of, int threads,
                     const struct model_sales *keep, struct arena *a, struct model_sales *m,
                     struct figures *fig)
{
    memset(m, 0, sizeof(*m));
    double t0 = mono_seconds();
    m->nproducts = history_nproducts(h);
    int32_t *cat;
    m->ncat = history_categories(h, a, &cat);
    m->nodes = m->nproducts + m->ncat + 1;
    size_t shop = m->nodes - 1;
    m->parent = arena_array(a, m->nodes, sizeof(int32_t));
    m->cat_name = arena_array(a, m->ncat + 1, sizeof(char *));
    for (size_t p = 0; p < m->nproducts; p++) {
        m->parent[p] = cat[p] >= 0 ? (int32_t)(m->nproducts + (size_t)cat[p]) : (int32_t)shop;
        if (cat[p] >= 0)
            m->cat_name[cat[p]] = h->category[p];
    }
    for (size_t c = 0; c < m->ncat; c++)
        m->parent[m->nproducts + c] = (int32_t)shop;
    m->parent[shop] = -1;

    int len[SALES_NFREQ];
    double last_day = series_span(h, as_of, len);
    m->period[SALES_DAY] = 7;
    m->period[SALES_WEEK] = 52;
    m->h_max[SALES_DAY] = SALES_MAX_H_DAY;
    m->h_max[SALES_WEEK] = SALES_MAX_H_WEEK;
    m->backtest_h[SALES_DAY] = SALES_BACKTEST_DAY;
    m->backtest_h[SALES_WEEK] = SALES_BACKTEST_WEEK;
    m->first_day[SALES_DAY] = m->first_day[SALES_WEEK] = last_day + 1;

    float *table[SALES_NMEASURE][SALES_NFREQ];
    build_tables(h, m, last_day, len, table);
    size_t tasks = SALES_NMEASURE * SALES_NFREQ * m->nodes;
    struct sales_job job = {.m = m};
    for (int meas = 0; meas < SALES_NMEASURE; meas++)
        for (int f = 0; f < SALES_NFREQ; f++)
            job.table[meas][f] = table[meas][f];
    memcpy(job.len, len, sizeof(len));
    atomic_init(&job.next, 0);
    job.model = xcalloc(tasks, sizeof(*job.model));
    job.note = xcalloc(tasks, sizeof(*job.note));
    job.demand = xcalloc(tasks, sizeof(*job.demand));
    job.mean = xcalloc(tasks * SALES_MAX_H_DAY, sizeof(float));
    job.sd = xcalloc(tasks * SALES_MAX_H_DAY, sizeof(float));
    job.bt_mean = xcalloc(tasks * BT_MAX, sizeof(float));
    job.bt_sd = xcalloc(tasks * BT_MAX, sizeof(float));
    job.bt_scale = xcalloc(tasks, sizeof(double));
    if (mint_fits(m)) { /* only MinT's correlation reads the errors */
        job.res = xcalloc(tasks * SALES_DAY_WINDOW, sizeof(float));
        job.bt_res = xcalloc(tasks * SALES_DAY_WINDOW, sizeof(float));
    }
    job.n = xcalloc(tasks, sizeof(int));
    job.nonneg = xcalloc(tasks, sizeof(bool));
    job.choice = m->choice = arena_array(a, tasks, sizeof(struct fc_choice)); /* kept */
    /* the same series (nodes in the same order): the last refit's choices are kept */
    bool same = keep && keep->choice && keep->nodes == m->nodes && keep->ncat == m->ncat &&
                keep->nproducts == m->nproducts;
    job.keep = same ? keep : NULL;
    if (job.keep)
        memcpy(job.choice, keep->choice, tasks * sizeof(struct fc_choice));
    threads = MAX(1, MIN(threads, 16));
    pthread_t tid[16];
    int started = 0;
    for (int i = 1; i < threads; i++)
        if (pthread_create(&tid[started], NULL, forecast_worker, &job) == 0)
            started++;
    forecast_worker(&job);
    for (int i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
    double t_fit = mono_seconds() - t0;

    struct bt_summary sum[SALES_NFREQ];
    memset(sum, 0, sizeof(sum));
    for (int meas = 0; meas < SALES_NMEASURE; meas++)
        for (int f = 0; f < SALES_NFREQ; f++)
            fill_answers(m, &job, meas, f, a, sum);
    free(job.model);
    free(job.note);
    free(job.demand);
    free(job.mean);
    free(job.sd);
    free(job.bt_mean);
    free(job.bt_sd);
    free(job.bt_scale);
    free(job.res);
    free(job.bt_res);
    free(job.n);
    free(job.nonneg);
    figures_add(fig, "choices_kept", job.keep != NULL);
    for (int meas = 0; meas < SALES_NMEASURE; meas++)
        for (int f = 0; f < SALES_NFREQ; f++)
            free(table[meas][f]);
    static const char *const names[SALES_NFREQ][3][3] = {
        {{"day_mase_products_base", "day_mase_categories_base", "day_mase_shop_base"},
         {"day_mase_products_mint", "day_mase_categories_mint", "day_mase_shop_mint"},
         {"day_mase_products_topdown", "day_mase_categories_topdown", "day_mase_shop_topdown"}},
        {{"week_mase_products_base", "week_mase_categories_base", "week_mase_shop_base"},
         {"week_mase_products_mint", "week_mase_categories_mint", "week_mase_shop_mint"},
         {"week_mase_products_topdown", "week_mase_categories_topdown", "week_mase_shop_topdown"}}};
    static const char *const cover_names[SALES_NFREQ][2][2] = {
        {{"day_cover80", "day_cover95"}, {"day_cover80_uncalibrated", "day_cover95_uncalibrated"}},
        {{"week_cover80", "week_cover95"},
         {"week_cover80_uncalibrated", "week_cover95_uncalibrated"}}};
    static const char *const method_names[SALES_NFREQ] = {"day_topdown_chosen",
                                                          "week_topdown_chosen"};
    figures_add(fig, "series", (double)tasks);
    figures_add(fig, "forecast_seconds", t_fit);
    for (int f = 0; f < SALES_NFREQ; f++) {
        for (int r = 0; r < 3; r++)
            for (int sc = 0; sc < 3; sc++)
                figures_add(fig, names[f][r][sc], sum[f].mase[r][sc]);
        for (int l = 0; l < 2; l++) {
            figures_add(fig, cover_names[f][0][l], sum[f].kc ? sum[f].cover[l] / sum[f].kc : NAN);
            figures_add(fig, cover_names[f][1][l],
                        sum[f].kc ? sum[f].cover_model[l] / sum[f].kc : NAN);
        }
        figures_add(fig, method_names[f], sum[f].method == REC_TOPDOWN);
    }
    figures_add(fig, "fit_seconds", mono_seconds() - t0);
}

size_t model_sales_work_bytes(const struct history *h, double as_of)
{
    struct arena a;
    int32_t *cat;
    arena_init(&a);
    size_t ncat = history_categories(h, &a, &cat);
    arena_release(&a);
    size_t nodes = history_nproducts(h) + ncat + 1, tasks = SALES_NMEASURE * SALES_NFREQ * nodes;
    const struct sales_job *j = NULL; /* its arrays' sizes, a task each */
    size_t per_task = sizeof(*j->model) + sizeof(*j->note) + sizeof(*j->demand) +
                      2 * SALES_MAX_H_DAY * sizeof(*j->mean) + 2 * BT_MAX * sizeof(*j->bt_mean) +
                      sizeof(*j->bt_scale) + sizeof(*j->n) + sizeof(*j->nonneg) +
                      sizeof(*j->choice);
    if (ncat <= SALES_MINT_MAX_CATEGORIES)
        per_task += 2 * SALES_DAY_WINDOW * sizeof(float);
    int len[SALES_NFREQ];
    series_span(h, as_of, len);
    size_t tables =
        SALES_NMEASURE * nodes * (size_t)(len[SALES_DAY] + len[SALES_WEEK]) * sizeof(float);
    /* the answers: mean, sd and base a step, the backtests' scores, names */
    size_t answers = SALES_NMEASURE * nodes *
                     (3 * (SALES_MAX_H_DAY + SALES_MAX_H_WEEK) * sizeof(float) +
                      SALES_NFREQ * (sizeof(struct sales_fc) + 48));
    return tasks * per_task + tables + answers;
}

/* Without forecast threads (a caller that reads no forecasts) the model stays empty:
 * GET /forecast then answers 503. */
int model_sales_train(struct snapshot *s, struct arena *a, const struct model_params *p,
                      struct figures *fig, char *err, size_t errlen)
{
    if (p->forecast_threads <= 0)
        return 0;
    size_t plan = model_sales_work_bytes(&s->hist, p->as_of);
    if (membudget_check(plan, "the forecasts' working arrays", err, errlen))
        return -1;
    model_sales_fit(&s->hist, p->as_of, p->forecast_threads,
                    p->keep_estimates ? p->sales_prev : NULL, a, &s->sales, fig);
    figures_add(fig, "planned_bytes", (double)plan);
    return 0;
}

/* Each forecast's arrays, strings and figures per measure and frequency: "forecast.fcMF"
 * (the entries without their pointers), ".mean", ".sd", ".base" (h_max floats a
 * node), ".model", ".note", ".demand". */
#define FC_SECTION(buf, meas, f, part)                                                             \
    snprintf(buf, sizeof(buf), "forecast.fc%d%d%s", meas, f, part)

void model_sales_save(const struct snapshot *s, struct snapw *w)
{
    const struct model_sales *m = &s->sales;
    struct model_sales head = *m;
    head.parent = NULL;
    head.cat_name = NULL;
    memset(head.fc, 0, sizeof(head.fc));
    memset(head.method, 0, sizeof(head.method));
    head.choice = NULL;
    snapw_put(w, "forecast", &head, sizeof(head), 1);
    if (m->nodes == 0)
        return;
    size_t n = m->nodes;
    snapw_put(w, "forecast.parent", m->parent, sizeof(*m->parent), n);
    snapw_strings(w, "forecast.cat_name", m->cat_name, m->ncat);
    snapw_strings(w, "forecast.method", &m->method[0][0], SALES_NMEASURE * SALES_NFREQ);
    snapw_put(w, "forecast.choice", m->choice, sizeof(*m->choice),
              SALES_NMEASURE * SALES_NFREQ * n);
    struct sales_fc *plain = xmalloc(n * sizeof(*plain));
    const char **str = xmalloc(n * sizeof(*str));
    float *arr = xmalloc(n * SALES_MAX_H_DAY * sizeof(float) + 1);
    char name[64]; /* "forecast.fcMF.demand.at" fits SNAPFILE_NAME_MAX */
    for (int meas = 0; meas < SALES_NMEASURE; meas++)
        for (int f = 0; f < SALES_NFREQ; f++) {
            const struct sales_fc *fc = m->fc[meas][f];
            size_t hm = (size_t)m->h_max[f];
            for (size_t i = 0; i < n; i++) {
                plain[i] = fc[i];
                plain[i].model = plain[i].note = plain[i].demand = NULL;
                plain[i].mean = plain[i].sd = plain[i].base = NULL;
            }
            FC_SECTION(name, meas, f, "");
            snapw_put(w, name, plain, sizeof(*plain), n);
            for (int part = 0; part < 3; part++) {
                for (size_t i = 0; i < n; i++) {
                    const float *v = part == 0 ? fc[i].mean : part == 1 ? fc[i].sd : fc[i].base;
                    memcpy(arr + i * hm, v, hm * sizeof(float));
                }
                FC_SECTION(name, meas, f, part == 0 ? ".mean" : part == 1 ? ".sd" : ".base");
                snapw_put(w, name, arr, sizeof(float), n * hm);
            }
            for (int part = 0; part < 3; part++) {
                for (size_t i = 0; i < n; i++)
                    str[i] = part == 0 ? fc[i].model : part == 1 ? fc[i].note : fc[i].demand;
                FC_SECTION(name, meas, f, part == 0 ? ".model" : part == 1 ? ".note" : ".demand");
                snapw_strings(w, name, str, n);
            }
        }
    free(arr);
    free(str);
    free(plain);
}

void model_sales_load(struct snapshot *s, struct snapr *r)
{
    struct model_sales *m = &s->sales;
    if (!snapr_copy(r, "forecast", m, sizeof(*m)) || m->nodes == 0)
        return;
    size_t n = m->nodes;
    m->parent = snapr_get(r, "forecast.parent", sizeof(*m->parent), n);
    m->cat_name = snapr_strings(r, "forecast.cat_name", m->ncat, &s->arena);
    const char **method =
        snapr_strings(r, "forecast.method", SALES_NMEASURE * SALES_NFREQ, &s->arena);
    m->choice =
        snapr_get(r, "forecast.choice", sizeof(*m->choice), SALES_NMEASURE * SALES_NFREQ * n);
    char name[64]; /* "forecast.fcMF.demand.at" fits SNAPFILE_NAME_MAX */
    for (int meas = 0; meas < SALES_NMEASURE && !r->failed; meas++)
        for (int f = 0; f < SALES_NFREQ && !r->failed; f++) {
            size_t hm = (size_t)m->h_max[f];
            if (hm == 0 || hm > SALES_MAX_H_DAY) {
                snprintf(r->why, sizeof(r->why), "forecast: %zu steps", hm);
                r->failed = true;
                return;
            }
            m->method[meas][f] = method[meas * SALES_NFREQ + f];
            FC_SECTION(name, meas, f, "");
            const struct sales_fc *plain = snapr_get(r, name, sizeof(*plain), n);
            float *v[3];
            const char **str[3];
            for (int part = 0; part < 3; part++) {
                FC_SECTION(name, meas, f, part == 0 ? ".mean" : part == 1 ? ".sd" : ".base");
                v[part] = snapr_get(r, name, sizeof(float), n * hm);
                FC_SECTION(name, meas, f, part == 0 ? ".model" : part == 1 ? ".note" : ".demand");
                str[part] = snapr_strings(r, name, n, &s->arena);
            }
            if (r->failed)
                return;
            struct sales_fc *fc = arena_array(&s->arena, n, sizeof(*fc));
            for (size_t i = 0; i < n; i++) {
                fc[i] = plain[i];
                fc[i].mean = v[0] + i * hm;
                fc[i].sd = v[1] + i * hm;
                fc[i].base = v[2] + i * hm;
                fc[i].model = str[0][i];
                fc[i].note = str[1][i];
                fc[i].demand = str[2][i];
            }
            m->fc[meas][f] = fc;
        }
}
