/* The forecasts, offline, for the quality gate: the same days forecast from two
 * histories and scored on one. */
#include <math.h>

#include "xsell/eval.h"
#include "xsell/log.h"
#include "xsell/model_forecast.h"
#include "xsell/model_sales.h"
#include "xsell/xalloc.h"

#define DAY_S 86400.0

/* Per day of [d0, d0 + ndays): h's net units per series (0: the shop, 1 + i: the
 * chosen category) into y (nseries x ndays). series_of[p]: h's
 * product p's series, or 0 for the shop's alone. */
static void daily_units(const struct history *h, const int32_t *series_of, int nseries, double d0,
                        int ndays, double *y)
{
    memset(y, 0, sizeof(double) * (size_t)nseries * (size_t)ndays);
    for (size_t o = 0; o < history_norders(h); o++) {
        int d = (int)(floor(h->order_time[o] / DAY_S) - d0);
        if (d < 0 || d >= ndays)
            continue;
        for (int32_t l = h->order_first[o]; l < h->order_first[o + 1]; l++) {
            y[d] += h->line_qty[l];
            int32_t s = series_of[h->line_product[l]];
            if (s > 0)
                y[(size_t)s * (size_t)ndays + (size_t)d] += h->line_qty[l];
        }
    }
}

/* h's products' series: the category (of full's catalogue, by product id) among the
 * chosen ones, else 0. */
static int32_t *series_map(const struct history *h, const struct history *full,
                           const int32_t *full_cat, const int32_t *slot)
{
    size_t n = history_nproducts(h);
    int32_t *out = xcalloc(n + 1, sizeof(int32_t));
    for (size_t p = 0; p < n; p++) {
        const char *id = idmap_key(&h->products, (int32_t)p);
        int32_t fp = h == full ? (int32_t)p : idmap_find(&full->products, id, strlen(id));
        out[p] = fp >= 0 && full_cat[fp] >= 0 ? slot[full_cat[fp]] : 0;
    }
    return out;
}

static int by_units_desc(const void *a, const void *b)
{
    const double *x = a, *y = b; /* {units, category} pairs */
    return (x[0] < y[0]) - (x[0] > y[0]);
}

int eval_forecast_at(const struct history *src, const struct history *full, double cut, int days,
                     struct eval_forecast_result *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    out->cut = cut;
    /* whole days: fitted on those before the cut's day, scored from it on */
    double dcut = floor(cut / DAY_S), dlast = floor(full->t_max / DAY_S);
    int h = (int)MIN((double)days, dlast - dcut + 1);
    double d0 = MAX(dcut - SALES_DAY_WINDOW, floor(src->t_min / DAY_S));
    int n = (int)(dcut - d0);
    if (h < 1 || n < 2 * 7 || src->t_max <= 0)
        return fmt_error(err, errlen, "too few days before or after the cut-off to forecast");
    h = MIN(h, FC_MAX_H);
    /* the categories with the most units in full before the cut */
    struct arena a;
    arena_init(&a);
    int32_t *full_cat;
    size_t ncat = history_categories(full, &a, &full_cat);
    double *rank = xcalloc(2 * ncat + 2, sizeof(double));
    for (size_t c = 0; c < ncat; c++)
        rank[2 * c + 1] = (double)c;
    for (size_t o = 0; o < history_norders(full) && full->order_time[o] <= cut; o++)
        for (int32_t l = full->order_first[o]; l < full->order_first[o + 1]; l++)
            if (full_cat[full->line_product[l]] >= 0)
                rank[2 * full_cat[full->line_product[l]]] += full->line_qty[l];
    qsort(rank, ncat, 2 * sizeof(double), by_units_desc);
    int nseries = 1 + (int)MIN(ncat, (size_t)EVAL_FORECAST_CATEGORIES);
    int32_t *slot = xcalloc(ncat + 1, sizeof(int32_t));
    for (int i = 1; i < nseries; i++)
        slot[(size_t)rank[2 * (i - 1) + 1]] = i;
    int32_t *src_series = series_map(src, full, full_cat, slot);
    int32_t *full_series = series_map(full, full, full_cat, slot);
    double *y = xmalloc(sizeof(double) * (size_t)nseries * (size_t)n);
    double *before = xmalloc(sizeof(double) * (size_t)nseries * (size_t)n);
    double *actual = xmalloc(sizeof(double) * (size_t)nseries * (size_t)h);
    daily_units(src, src_series, nseries, d0, n, y);
    daily_units(full, full_series, nseries, d0, n, before);
    daily_units(full, full_series, nseries, dcut, h, actual);
    struct forecast *fc = xmalloc(sizeof(*fc));
    static const double levels[] = {80, 95};
    /* the intervals' calibration across the series, as training makes it: each
     * series' backtest on its own last h days before the cut */
    struct fc_calibration cal;
    fc_calibration_init(&cal, NULL, 0);
    for (int s = 0; s < nseries; s++)
        fc_calibration_add_backtest(&cal, y + (size_t)s * (size_t)n, n, 7, h, FC_AUTO, 2 * 7);
    fc_calibration_finish(&cal);
    double sum = 0, cover[2][2] = {{0}};
    int scored = 0;
    for (int s = 0; s < nseries; s++) {
        const double *ys = y + (size_t)s * (size_t)n;
        if (forecast_auto(ys, n, 7, h, levels, 2, FC_AUTO, fc))
            continue;
        struct fc_backtest bt[2];
        /* scaled by full's own days before the cut: src's forecasts (whatever src
         * holds) are judged against one yardstick */
        for (int k = 0; k < 2; k++)
            forecast_score(actual + (size_t)s * (size_t)h, h, fc->mean, fc->sd,
                           forecast_mase_scale(before + (size_t)s * (size_t)n, n, 7), levels, 2,
                           true, k ? &cal : NULL, &bt[k]);
        if (!isfinite(bt[0].mase))
            continue;
        if (s == 0)
            out->mase_shop = bt[0].mase;
        sum += bt[0].mase;
        for (int k = 0; k < 2; k++)
            for (int l = 0; l < 2; l++)
                cover[k][l] += bt[k].cover[l];
        scored++;
    }
    out->series = scored;
    out->days = h;
    out->mase = scored ? sum / scored : NAN;
    for (int k = 0; k < 2; k++)
        for (int l = 0; l < 2; l++)
            out->cover[k][l] = scored ? cover[k][l] / scored : NAN;
    free(fc);
    free(y);
    free(before);
    free(actual);
    free(src_series);
    free(full_series);
    free(slot);
    free(rank);
    arena_release(&a);
    return scored ? 0 : fmt_error(err, errlen, "no series could be forecast");
}
