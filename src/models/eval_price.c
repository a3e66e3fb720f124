#include <math.h>

#include "xsell/eval.h"
#include "xsell/log.h"
#include "xsell/stats.h"
#include "xsell/xalloc.h"

void price_truth_release(struct price_truth *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->id[i]);
    free(t->id);
    free(t->elasticity);
    memset(t, 0, sizeof(*t));
}

/* Profit (or revenue) under constant elasticity, up to the demand's scale. */
static double profit_at(double p, double cost, double e)
{
    return (p - (isnan(cost) ? 0 : cost)) * pow(p, e);
}

int eval_price(const struct snapshot *s, const struct price_truth *t, const struct price_guard *g,
               struct eval_price_result *out, char *err, size_t errlen)
{
    const struct history *h = &s->hist;
    memset(out, 0, sizeof(*out));
    double *err_all = xmalloc((t->n + 1) * sizeof(double));
    double *err_own = xmalloc((t->n + 1) * sizeof(double));
    double *err_raw = xmalloc((t->n + 1) * sizeof(double));
    size_t n = 0, nown = 0, nraw = 0;
    double sign = 0, cover = 0, cover_own = 0, share = 0, share_now = 0;
    for (size_t i = 0; i < t->n; i++) {
        int32_t p = idmap_find(&h->products, t->id[i], strlen(t->id[i]));
        if (p < 0 || !h->in_catalog[p] || isnan(s->price.item[p].estimate))
            continue;
        const struct price_item *it = &s->price.item[p];
        double truth = t->elasticity[i];
        struct price_answer a;
        model_price_query(&s->price, h, p, g, NULL, &a);
        err_all[n++] = fabs(it->estimate - truth);
        sign += (it->estimate < 0) == (truth < 0);
        bool in = a.ci_low <= truth && truth <= a.ci_high;
        cover += in;
        if (it->source == PRICE_SRC_PRODUCT) {
            err_own[nown++] = fabs(it->estimate - truth);
            cover_own += in;
        }
        if (!isnan(it->own))
            err_raw[nraw++] = fabs(it->own - truth);
        if (!isnan(a.cost) && a.bound != BOUND_CONFLICT && a.current > 0) {
            enum price_bound b;
            double best =
                price_optimum(truth, a.cost, a.current, a.lo, a.hi, BOUND_NONE, BOUND_NONE, &b);
            double top = profit_at(best, a.cost, truth);
            if (top > 0) {
                share += profit_at(a.recommended, a.cost, truth) / top;
                share_now += profit_at(a.current, a.cost, truth) / top;
                out->profit_products++;
            }
        }
    }
    out->products = (long)n;
    out->own = (long)nown;
    if (n) {
        out->right_sign = sign / (double)n;
        out->coverage95 = cover / (double)n;
    }
    out->coverage95_own = nown ? cover_own / (double)nown : NAN;
    out->median_abs_error = stats_median(err_all, n);
    out->median_abs_error_own = stats_median(err_own, nown);
    out->median_abs_error_raw = stats_median(err_raw, nraw);
    if (out->profit_products) {
        out->profit_share = share / (double)out->profit_products;
        out->profit_share_current = share_now / (double)out->profit_products;
    }
    free(err_all);
    free(err_own);
    free(err_raw);
    return n ? 0 : fmt_error(err, errlen, "no product of the truth file has an estimate");
}
