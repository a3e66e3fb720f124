#include "xsell/stats.h"

#include <assert.h>
#include <math.h>

#include "xsell/mat.h"
#include "xsell/xalloc.h"

#define ASYMPTOTIC_FROM 15.0
#define HALF_LOG_2PI    0.91893853320467274178

double stats_lgamma(double x)
{
    if (!(x > 0))
        return x == 0 ? INFINITY : NAN;
    /* Shift up to where the Stirling series is exact to double precision. */
    double shift = 0, prod = 1;
    while (x < ASYMPTOTIC_FROM) {
        prod *= x;
        x += 1;
        if (prod > 1e280) { /* only for tiny x; keep the product finite */
            shift += log(prod);
            prod = 1;
        }
    }
    shift += log(prod);
    double z = 1 / x, z2 = z * z;
    /* Bernoulli terms B2k / (2k (2k-1) x^(2k-1)), k = 1..5 */
    double series =
        z * (1.0 / 12 + z2 * (-1.0 / 360 + z2 * (1.0 / 1260 + z2 * (-1.0 / 1680 + z2 / 1188))));
    return (x - 0.5) * log(x) - x + HALF_LOG_2PI + series - shift;
}

double stats_digamma(double x)
{
    if (!(x > 0))
        return NAN;
    double acc = 0;
    while (x < ASYMPTOTIC_FROM) {
        acc -= 1 / x;
        x += 1;
    }
    double z2 = 1 / (x * x);
    /* B2k / (2k x^(2k)), k = 1..5 */
    double series =
        z2 * (1.0 / 12 - z2 * (1.0 / 120 - z2 * (1.0 / 252 - z2 * (1.0 / 240 - z2 / 132))));
    return acc + log(x) - 0.5 / x - series;
}

double stats_hyp2f1(double a, double b, double c, double z)
{
    if (!(z >= 0 && z < 1) || !(c > 0))
        return NAN;
    double term = 1, sum = 1;
    for (long n = 0; n < STATS_HYP2F1_MAX_TERMS; n++) {
        double dn = (double)n;
        term *= (a + dn) * (b + dn) / ((c + dn) * (dn + 1)) * z;
        sum += term;
        if (term == 0)
            return sum;
        /* Once the ratio of successive terms is below 1 the tail is bounded by a
         * geometric series: stop when it cannot move the sum. */
        double ratio = (a + dn + 1) * (b + dn + 1) / ((c + dn + 1) * (dn + 2)) * z;
        if (ratio < 1 && fabs(term) * ratio / (1 - ratio) <= 1e-16 * fabs(sum))
            return sum;
        if (!isfinite(sum))
            return NAN;
    }
    return NAN;
}

double stats_log1pexp(double v)
{
    return v > 0 ? v + log1p(exp(-v)) : log1p(exp(v));
}

double stats_sigmoid(double v)
{
    if (v >= 0)
        return 1 / (1 + exp(-v));
    double e = exp(v);
    return e / (1 + e);
}

static void clamp(double *x, int n, double bound)
{
    for (int i = 0; i < n; i++)
        x[i] = x[i] > bound ? bound : x[i] < -bound ? -bound : x[i];
}

static double max_abs(const double *v, int n)
{
    double m = 0;
    for (int i = 0; i < n; i++)
        m = MAX(m, fabs(v[i]));
    return m;
}

/* The gradient's largest component that could still move x: at a bound, a
 * component pointing out of the box does not count. */
static double projected_max(const double *x, const double *g, int n, double bound)
{
    double m = 0;
    for (int i = 0; i < n; i++) {
        if ((x[i] >= bound && g[i] < 0) || (x[i] <= -bound && g[i] > 0))
            continue;
        m = MAX(m, fabs(g[i]));
    }
    return m;
}

void stats_minimize(stats_objective fn, void *ctx, int n, double *x, double bound, double tol,
                    double ftol, int max_iter, struct stats_min_result *out)
{
    double H[STATS_MAX_DIM][STATS_MAX_DIM], g[STATS_MAX_DIM], gn[STATS_MAX_DIM];
    double d[STATS_MAX_DIM], xn[STATS_MAX_DIM], s[STATS_MAX_DIM], y[STATS_MAX_DIM];
    assert(n >= 1 && n <= STATS_MAX_DIM);
    clamp(x, n, bound);
    double f = fn(x, g, ctx);
    out->iterations = 0;
    out->converged = false;
    if (!isfinite(f)) {
        out->f = f;
        return;
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            H[i][j] = i == j;
    int it;
    for (it = 0; it < max_iter; it++) {
        if (projected_max(x, g, n, bound) < tol) {
            out->converged = true;
            break;
        }
        double slope = 0;
        for (int i = 0; i < n; i++) {
            d[i] = 0;
            for (int j = 0; j < n; j++)
                d[i] -= H[i][j] * g[j];
            slope += d[i] * g[i];
        }
        if (slope >= 0) { /* not a descent direction: restart from steepest descent */
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++)
                    H[i][j] = i == j;
                d[i] = -g[i];
            }
            slope = 0;
            for (int i = 0; i < n; i++)
                slope -= g[i] * g[i];
        }
        /* At a bound, no step further out: the search runs along the bound. */
        for (int i = 0; i < n; i++)
            if ((x[i] >= bound && d[i] > 0) || (x[i] <= -bound && d[i] < 0))
                d[i] = 0;
        /* No step longer than 2 in any log-parameter: keeps exp() sane. */
        double step = 1, longest = max_abs(d, n);
        if (longest > 2)
            step = 2 / longest;
        double fnew = NAN;
        bool moved = false;
        for (int k = 0; k < 60; k++) {
            for (int i = 0; i < n; i++)
                xn[i] = x[i] + step * d[i];
            clamp(xn, n, bound);
            /* the gradient with the first (full) step, which is taken most often;
             * shorter ones are judged by value, the gradient taken once accepted */
            fnew = fn(xn, k == 0 ? gn : NULL, ctx);
            if (isfinite(fnew) && fnew <= f + 1e-4 * step * slope) {
                if (k > 0)
                    fnew = fn(xn, gn, ctx);
                moved = true;
                break;
            }
            step *= 0.5;
        }
        if (!moved) { /* no decrease possible along any direction we can find */
            out->converged = projected_max(x, g, n, bound) < sqrt(tol);
            break;
        }
        double sy = 0;
        for (int i = 0; i < n; i++) {
            s[i] = xn[i] - x[i];
            y[i] = gn[i] - g[i];
            sy += s[i] * y[i];
        }
        double fprev = f;
        memcpy(x, xn, sizeof(double) * (size_t)n);
        memcpy(g, gn, sizeof(double) * (size_t)n);
        f = fnew;
        if (sy > 1e-12) {
            /* H <- (I - rho s y') H (I - rho y s') + rho s s' */
            double rho = 1 / sy, Hy[STATS_MAX_DIM], yHy = 0;
            for (int i = 0; i < n; i++) {
                Hy[i] = 0;
                for (int j = 0; j < n; j++)
                    Hy[i] += H[i][j] * y[j];
                yHy += y[i] * Hy[i];
            }
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                    H[i][j] +=
                        (1 + rho * yHy) * rho * s[i] * s[j] - rho * (Hy[i] * s[j] + s[i] * Hy[j]);
        }
        if ((fabs(fprev - f) <= 1e-15 * (1 + fabs(f)) &&
             projected_max(x, g, n, bound) < sqrt(tol)) ||
            fprev - f <= ftol * (fabs(f) + ftol)) {
            out->converged = true;
            it++;
            break;
        }
    }
    out->iterations = it;
    out->f = f;
}

struct scored {
    double s;
    bool pos;
};

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double stats_median(double *v, size_t n)
{
    if (n == 0)
        return NAN;
    qsort(v, n, sizeof(double), by_value);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int by_score(const void *a, const void *b)
{
    double x = ((const struct scored *)a)->s, y = ((const struct scored *)b)->s;
    return (x > y) - (x < y);
}

double stats_auc(const double *score, const bool *label, size_t n)
{
    struct scored *v = xmalloc(n * sizeof(*v) + 1);
    double npos = 0, nneg = 0;
    for (size_t i = 0; i < n; i++) {
        v[i].s = score[i];
        v[i].pos = label[i];
        if (label[i])
            npos++;
        else
            nneg++;
    }
    qsort(v, n, sizeof(*v), by_score);
    /* Mann-Whitney: the sum of the positives' (mid-)ranks. */
    double rank_sum = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        double pos = 0;
        while (j < n && v[j].s == v[i].s) {
            pos += v[j].pos;
            j++;
        }
        double mid = ((double)i + (double)j + 1) / 2; /* ranks i+1 .. j */
        rank_sum += pos * mid;
        i = j;
    }
    free(v);
    if (npos == 0 || nneg == 0)
        return NAN;
    return (rank_sum - npos * (npos + 1) / 2) / (npos * nneg);
}

double stats_logit_predict(const struct stats_logit *m, const double *x)
{
    double v = m->w[0];
    for (int j = 1; j < m->k; j++)
        v += m->w[j] * (x[j] - m->mean[j]) / m->sd[j];
    return stats_sigmoid(v);
}

int stats_logit_fit(const double *X, const double *pos, const double *neg, size_t n, int k,
                    struct stats_logit *m)
{
    assert(k >= 1 && k <= STATS_MAX_DIM);
    double total = 0, var[STATS_MAX_DIM] = {0};
    m->k = k;
    for (int j = 0; j < k; j++) {
        m->w[j] = m->mean[j] = 0;
        m->sd[j] = 1;
    }
    for (size_t i = 0; i < n; i++) {
        double wt = pos[i] + neg[i];
        total += wt;
        for (int j = 1; j < k; j++)
            m->mean[j] += wt * X[i * (size_t)k + (size_t)j];
    }
    if (!(total > 0))
        return -1;
    for (int j = 1; j < k; j++)
        m->mean[j] /= total;
    for (size_t i = 0; i < n; i++)
        for (int j = 1; j < k; j++) {
            double d = X[i * (size_t)k + (size_t)j] - m->mean[j];
            var[j] += (pos[i] + neg[i]) * d * d;
        }
    for (int j = 1; j < k; j++)
        m->sd[j] = var[j] > 0 ? sqrt(var[j] / total) : 1;
    double ridge = 1e-3 * total;
    for (int iter = 0; iter < 30; iter++) {
        double H[STATS_MAX_DIM * STATS_MAX_DIM] = {0}, g[STATS_MAX_DIM] = {0}, z[STATS_MAX_DIM];
        for (size_t i = 0; i < n; i++) {
            double wt = pos[i] + neg[i];
            if (wt <= 0)
                continue;
            z[0] = 1;
            for (int j = 1; j < k; j++)
                z[j] = (X[i * (size_t)k + (size_t)j] - m->mean[j]) / m->sd[j];
            double v = 0;
            for (int j = 0; j < k; j++)
                v += m->w[j] * z[j];
            double pr = stats_sigmoid(v), h = wt * pr * (1 - pr), r = pos[i] - wt * pr;
            for (int j = 0; j < k; j++) {
                g[j] += r * z[j];
                for (int l = 0; l < k; l++)
                    H[j * k + l] += h * z[j] * z[l];
            }
        }
        for (int j = 1; j < k; j++) {
            g[j] -= ridge * m->w[j];
            H[j * k + j] += ridge;
        }
        H[0] += 1e-9 * total;
        if (mat_spd_inverse(H, k))
            break;
        double step = 0;
        for (int j = 0; j < k; j++) {
            double d = 0;
            for (int l = 0; l < k; l++)
                d += H[j * k + l] * g[l];
            m->w[j] += d;
            step = MAX(step, fabs(d));
        }
        if (step < 1e-8)
            break;
    }
    return 0;
}

static const double Z95 = STATS_Z95;

void stats_rate_ci95(double x, double n, double *lo, double *hi)
{
    const double z = Z95;
    if (!(n > 0)) {
        *lo = *hi = NAN;
        return;
    }
    double p = x / n, z2 = z * z, mid = (p + z2 / (2 * n)) / (1 + z2 / n);
    double half = z * sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n);
    *lo = MAX(0, mid - half);
    *hi = MIN(1, mid + half);
}

void stats_auc_ci95(double auc, double npos, double nneg, double *lo, double *hi)
{
    if (!(npos > 0 && nneg > 0) || !isfinite(auc)) {
        *lo = *hi = NAN;
        return;
    }
    double q1 = auc / (2 - auc), q2 = 2 * auc * auc / (1 + auc);
    double v = (auc * (1 - auc) + (npos - 1) * (q1 - auc * auc) + (nneg - 1) * (q2 - auc * auc)) /
               (npos * nneg);
    double half = Z95 * sqrt(MAX(v, 0));
    *lo = MAX(0, auc - half);
    *hi = MIN(1, auc + half);
}
