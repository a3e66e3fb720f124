#include "xsell/abtest.h"

#include <math.h>

#include "xsell/stats.h"

void ab_arm_add(struct ab_arm *a, double y, double x)
{
    a->n += 1;
    a->sy += y;
    a->syy += y * y;
    a->sx += x;
    a->sxx += x * x;
    a->sxy += x * y;
}

double ab_cs_multiplier(double n, double n_opt, double alpha)
{
    double la = -2 * log(alpha);
    double r = (la + log(la + 1)) / MAX(n_opt, 1); /* tightest near n_opt */
    double nr = MAX(n, 1) * r;
    return sqrt(2 * (nr + 1) / nr * log(sqrt(nr + 1) / alpha));
}

/* Within-arm (co)variances of an arm, with n - 1 in the denominator. */
static void moments(const struct ab_arm *a, double *vy, double *vx, double *cxy)
{
    double n = a->n;
    if (n < 2) {
        *vy = *vx = *cxy = 0;
        return;
    }
    *vy = MAX(0, (a->syy - a->sy * a->sy / n) / (n - 1));
    *vx = MAX(0, (a->sxx - a->sx * a->sx / n) / (n - 1));
    *cxy = (a->sxy - a->sx * a->sy / n) / (n - 1);
}

/* The effect of means mc, mv with variances vc, vv (of one unit) over nc, nv units. */
static void effect(double mc, double mv, double vc, double vv, double nc, double nv, double mult,
                   struct ab_effect *e)
{
    e->control = mc;
    e->variant = mv;
    e->diff = mv - mc;
    double var_c = nc > 0 ? vc / nc : INFINITY, var_v = nv > 0 ? vv / nv : INFINITY;
    e->se = sqrt(var_c + var_v);
    e->diff_lo = e->diff - mult * e->se;
    e->diff_hi = e->diff + mult * e->se;
    if (mc != 0 && isfinite(e->se)) {
        /* the ratio mv / mc - 1 by the delta method */
        double se_rel = sqrt(var_v / (mc * mc) + mv * mv * var_c / (mc * mc * mc * mc));
        e->lift = mv / mc - 1;
        e->lift_lo = e->lift - mult * se_rel;
        e->lift_hi = e->lift + mult * se_rel;
    } else {
        e->lift = e->lift_lo = e->lift_hi = NAN;
    }
}

void ab_compare(const struct ab_arm *control, const struct ab_arm *variant, double alpha,
                double n_opt, struct ab_result *out)
{
    double nc = control->n, nv = variant->n;
    double mc = nc > 0 ? control->sy / nc : NAN, mv = nv > 0 ? variant->sy / nv : NAN;
    double vyc, vxc, cc, vyv, vxv, cv;
    moments(control, &vyc, &vxc, &cc);
    moments(variant, &vyv, &vxv, &cv);
    out->multiplier = ab_cs_multiplier(nc + nv, n_opt, alpha);
    effect(mc, mv, vyc, vyv, nc, nv, out->multiplier, &out->plain);
    /* CUPED: one theta from both arms' within-arm moments; the means moved by theta
     * times their covariate's distance from the pooled covariate mean */
    double sxx = (nc - 1) * vxc + (nv - 1) * vxv, sxy = (nc - 1) * cc + (nv - 1) * cv;
    out->theta = sxx > 0 ? sxy / sxx : 0;
    double t = out->theta, xbar = nc + nv > 0 ? (control->sx + variant->sx) / (nc + nv) : 0;
    double xc = nc > 0 ? control->sx / nc : 0, xv = nv > 0 ? variant->sx / nv : 0;
    effect(mc - t * (xc - xbar), mv - t * (xv - xbar), MAX(0, vyc - 2 * t * cc + t * t * vxc),
           MAX(0, vyv - 2 * t * cv + t * t * vxv), nc, nv, out->multiplier, &out->cuped);
    out->narrowing = out->plain.se > 0 ? 1 - out->cuped.se / out->plain.se : 0;
}

/* The regularized upper incomplete gamma Q(a, x): the series for x < a + 1, else the
 * continued fraction (modified Lentz). */
static double gamma_q(double a, double x)
{
    if (x <= 0)
        return 1;
    double lg = a * log(x) - x - stats_lgamma(a);
    if (x < a + 1) {
        double term = 1 / a, sum = term;
        for (int k = 1; k < 1000 && fabs(term) > fabs(sum) * 1e-15; k++) {
            term *= x / (a + k);
            sum += term;
        }
        return MAX(0, 1 - sum * exp(lg));
    }
    double tiny = 1e-300, b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d;
    for (int i = 1; i < 1000; i++) {
        double an = -i * (i - a);
        b += 2;
        d = an * d + b;
        d = fabs(d) < tiny ? tiny : d;
        c = b + an / c;
        c = fabs(c) < tiny ? tiny : c;
        d = 1 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1) < 1e-15)
            break;
    }
    return MIN(1, exp(lg) * h);
}

double ab_chi2_sf(double x, int df)
{
    return df > 0 ? gamma_q(df / 2.0, x / 2) : NAN;
}

double ab_srm_pvalue(const double *observed, const double *weights, int k)
{
    double n = 0, w = 0, chi2 = 0;
    for (int i = 0; i < k; i++)
        n += observed[i], w += weights[i];
    if (k < 2 || n <= 0 || w <= 0)
        return 1;
    for (int i = 0; i < k; i++) {
        double e = n * weights[i] / w;
        if (e > 0)
            chi2 += (observed[i] - e) * (observed[i] - e) / e;
    }
    return ab_chi2_sf(chi2, k - 1);
}
