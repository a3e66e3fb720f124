/* POST /forecast: forecasts a series the caller sends (a dashboard's own metric):
 * {series: [numbers], period, horizon, level: [80, 95], method}. Answers the model,
 * the points with their intervals, and a backtest on the series' last horizon. */
#include <math.h>

#include "xsell/body.h"
#include "xsell/handlers.h"
#include "xsell/jsonw.h"
#include "xsell/model_forecast.h"
#include "xsell/strparse.h"

#define SERIES_MAX 5000 /* values in one request: each costs model fitting */

static int number_member(struct request *req, const cJSON *root, const char *name, double min,
                         double max, double def, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, name);
    if (!v || cJSON_IsNull(v)) {
        *out = def;
        return 0;
    }
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= min && v->valuedouble <= max) ||
        v->valuedouble != floor(v->valuedouble))
        return req_fail(req, PROBLEM_BAD_BODY, "%s must be a whole number in %g..%g", name, min,
                        max);
    *out = v->valuedouble;
    return 0;
}

int handle_forecast_post(struct request *req)
{
    cJSON *root = body_json(req);
    if (!root)
        return 0;
    if (!cJSON_IsObject(root))
        return req_fail(req, PROBLEM_BAD_BODY, "the body must be a JSON object");
    const cJSON *series = cJSON_GetObjectItemCaseSensitive(root, "series");
    int n = cJSON_IsArray(series) ? cJSON_GetArraySize(series) : -1;
    if (n < 1 || n > SERIES_MAX)
        return req_fail(req, PROBLEM_BAD_BODY, "series must be an array of 1..%d numbers",
                        SERIES_MAX);
    double *y = arena_array(&req->arena, (size_t)n, sizeof(double));
    const cJSON *v;
    int i = 0;
    cJSON_ArrayForEach(v, series)
    {
        if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
            return req_fail(req, PROBLEM_BAD_BODY, "series[%d] must be a number", i);
        y[i++] = v->valuedouble;
    }
    double period = 1, horizon = 28; /* set by number_member */
    if (number_member(req, root, "period", 1, FC_MAX_PERIOD, 1, &period) ||
        number_member(req, root, "horizon", 1, FC_MAX_H, 28, &horizon))
        return 0;
    double levels[FC_MAX_LEVELS] = {80, 95};
    int nlevels = 2;
    const cJSON *lv = cJSON_GetObjectItemCaseSensitive(root, "level");
    if (lv && !cJSON_IsNull(lv)) {
        nlevels = cJSON_IsArray(lv) ? cJSON_GetArraySize(lv) : -1;
        if (nlevels < 1 || nlevels > FC_MAX_LEVELS)
            return req_fail(req, PROBLEM_BAD_BODY, "level must be an array of 1..%d percentages",
                            FC_MAX_LEVELS);
        i = 0;
        cJSON_ArrayForEach(v, lv)
        {
            if (!cJSON_IsNumber(v) || !(v->valuedouble > 0 && v->valuedouble < 100))
                return req_fail(req, PROBLEM_BAD_BODY, "level[%d] must be a percentage in (0, 100)",
                                i);
            levels[i++] = v->valuedouble;
        }
    }
    int method = FC_AUTO;
    const cJSON *mv = cJSON_GetObjectItemCaseSensitive(root, "method");
    if (mv && !cJSON_IsNull(mv) &&
        (!cJSON_IsString(mv) || (method = forecast_method_parse(mv->valuestring)) < 0))
        return req_fail(req, PROBLEM_BAD_BODY,
                        "method must be auto, ets, theta, comb, snaive, ses or croston");
    struct forecast *f = arena_alloc(&req->arena, sizeof(*f));
    if (forecast_auto(y, n, (int)period, (int)horizon, levels, nlevels, (enum fc_method)method, f))
        return req_fail(req, PROBLEM_BAD_BODY, "nothing to forecast");
    struct fc_backtest bt;
    forecast_backtest(y, n, (int)period, (int)horizon, (enum fc_method)method, levels, nlevels,
                      &bt);

    struct buf b;
    struct jsonw j;
    buf_init(&b, ANSWER_MAX);
    jsonw_init(&j, &b);
    jsonw_open(&j, NULL, '{');
    jsonw_str(&j, "model", f->model);
    jsonw_str(&j, "note", f->note[0] ? f->note : NULL);
    jsonw_int(&j, "horizon", f->h);
    jsonw_int(&j, "period", (long long)period);
    jsonw_open(&j, "points", '[');
    for (int h = 0; h < f->h; h++) {
        char name[16];
        jsonw_open(&j, NULL, '{');
        jsonw_int(&j, "step", h + 1);
        jsonw_num(&j, "mean", f->mean[h]);
        for (int l = 0; l < f->nlevels; l++) {
            snprintf(name, sizeof(name), "lo%g", f->level[l]);
            jsonw_num(&j, name, f->lo[l][h]);
            snprintf(name, sizeof(name), "hi%g", f->level[l]);
            jsonw_num(&j, name, f->hi[l][h]);
        }
        jsonw_close(&j, '}');
    }
    jsonw_close(&j, ']');
    jsonw_open(&j, "backtest", '{');
    jsonw_num(&j, "smape", bt.smape);
    jsonw_num(&j, "mase", bt.mase);
    for (int l = 0; l < nlevels; l++) { /* coverage80: the share inside the 80% interval */
        char name[32];
        snprintf(name, sizeof(name), "coverage%g", levels[l]);
        jsonw_num(&j, name, bt.cover[l]);
    }
    jsonw_close(&j, '}');
    jsonw_close(&j, '}');
    return respond_buf(req, &b);
}

/* --- GET /forecast: the shop's own series, precomputed per snapshot ------------------ */

static const char *const freq_names[SALES_NFREQ] = {"day", "week"};
static const char *const measure_names[SALES_NMEASURE] = {"units", "revenue"};
static const int default_h[SALES_NFREQ] = {28, 8};
static const int history_max[SALES_NFREQ] = {SALES_DAY_WINDOW, SALES_WEEK_WINDOW};

/* level=80,95: one to FC_MAX_LEVELS percentages in (0, 100). */
static int parse_levels(struct request *req, double *levels, int *n)
{
    const char **items;
    int k;
    if (param_list(req, "level", FC_MAX_LEVELS, &items, &k))
        return -1;
    if (k == 0) {
        levels[0] = 80;
        levels[1] = 95;
        *n = 2;
        return 0;
    }
    for (int i = 0; i < k; i++) {
        double v;
        if (strparse_double(items[i], strlen(items[i]), &v) || !(v > 0 && v < 100))
            return req_fail(req, PROBLEM_BAD_PARAM,
                            "level must be 1..%d percentages in (0, 100), got \"%.40s\"",
                            FC_MAX_LEVELS, items[i]);
        levels[i] = v;
    }
    *n = k;
    return 0;
}

/* Ends the answer with the snapshot's as_of and version, and sends it. */
static int respond_dated(struct request *req, struct jsonw *j, struct buf *b)
{
    char day[11];
    strparse_format_date(req->snap->as_of, day);
    jsonw_str(j, "as_of", day);
    jsonw_int(j, "model_version", (long long)req->snap->version);
    jsonw_close(j, '}');
    return respond_buf(req, b);
}

/* "history": the last n periods, oldest first, dated by their first day. */
static void write_history(struct jsonw *j, const struct model_sales *m, int freq,
                          const double *past, int n)
{
    char day[11];
    int days = freq == SALES_DAY ? 1 : 7;
    jsonw_open(j, "history", '[');
    for (int i = 0; i < n; i++) {
        jsonw_open(j, NULL, '{');
        strparse_format_date((m->first_day[freq] - (double)(n - i) * days) * DAY_S, day);
        jsonw_str(j, "date", day);
        jsonw_num(j, "value", past[i]);
        jsonw_close(j, '}');
    }
    jsonw_close(j, ']');
}

/* A channel's series (history.h) is no node of the forecasts' hierarchy: fitted on
 * request, over the periods since its first sale in the window, by the method
 * POST /forecast uses, with its own backtest. */
static int channel_forecast(struct request *req, const char *name, int freq, int meas, int horizon,
                            const double *levels, int nlevels, int nhistory)
{
    const struct snapshot *s = req->snap;
    const struct model_sales *m = &s->sales;
    int32_t ch = idmap_find(&s->hist.channels, name, strlen(name));
    if (ch < 0)
        return req_fail(req, PROBLEM_UNKNOWN_ID, "unknown channel \"%.64s\"", name);
    int n = history_max[freq];
    double *y = arena_array(&req->arena, (size_t)n, sizeof(double));
    model_sales_history(m, &s->hist, m->nodes - 1, ch, (enum sales_measure)meas,
                        (enum sales_freq)freq, n, y);
    int start = 0;
    while (start < n && y[start] == 0)
        start++;
    struct forecast *f = arena_alloc(&req->arena, sizeof(*f));
    struct fc_backtest bt;
    if (start == n ||
        forecast_auto(y + start, n - start, m->period[freq], horizon, levels, nlevels, FC_AUTO, f))
        return req_fail(req, PROBLEM_UNKNOWN_ID,
                        "channel \"%.64s\" sold nothing in the last %d %ss", name, n,
                        freq_names[freq]);
    forecast_backtest(y + start, n - start, m->period[freq], m->backtest_h[freq], FC_AUTO, levels,
                      nlevels, &bt);
    struct buf b;
    struct jsonw j;
    char day[11], key[24];
    int days = freq == SALES_DAY ? 1 : 7;
    buf_init(&b, ANSWER_MAX);
    jsonw_init(&j, &b);
    jsonw_open(&j, NULL, '{');
    jsonw_str(&j, "channel", name);
    jsonw_str(&j, "scope", "channel");
    jsonw_str(&j, "freq", freq_names[freq]);
    jsonw_str(&j, "measure", measure_names[meas]);
    jsonw_int(&j, "horizon", horizon);
    jsonw_str(&j, "model", f->model);
    jsonw_str(&j, "note", f->note[0] ? f->note : NULL);
    jsonw_str(&j, "reconciliation", "none");
    jsonw_int(&j, "history_periods", n - start);
    jsonw_num(&j, "last_period", y[n - 1]);
    if (nhistory > 0)
        write_history(&j, m, freq, y + n - nhistory, nhistory);
    jsonw_open(&j, "points", '[');
    for (int i = 0; i < horizon; i++) {
        jsonw_open(&j, NULL, '{');
        strparse_format_date((m->first_day[freq] + (double)i * days) * DAY_S, day);
        jsonw_str(&j, "date", day);
        jsonw_num(&j, "mean", MAX(0, f->mean[i]));
        for (int l = 0; l < nlevels; l++) {
            snprintf(key, sizeof(key), "lo%g", levels[l]);
            jsonw_num(&j, key, MAX(0, f->lo[l][i]));
            snprintf(key, sizeof(key), "hi%g", levels[l]);
            jsonw_num(&j, key, MAX(0, f->hi[l][i]));
        }
        jsonw_close(&j, '}');
    }
    jsonw_close(&j, ']');
    jsonw_open(&j, "backtest", '{');
    jsonw_int(&j, "horizon", m->backtest_h[freq]);
    jsonw_num(&j, "smape", bt.smape);
    jsonw_num(&j, "mase", bt.mase);
    for (int l = 0; l < nlevels; l++) {
        snprintf(key, sizeof(key), "coverage%g", levels[l]);
        jsonw_num(&j, key, bt.cover[l]);
    }
    jsonw_close(&j, '}');
    return respond_dated(req, &j, &b);
}

int handle_forecast_get(struct request *req)
{
    const struct snapshot *s = req->snap;
    const struct model_sales *m = &s->sales;
    const struct history *h = &s->hist;
    if (m->nodes == 0)
        return req_fail(req, PROBLEM_NOT_READY, "the serving models have no sales forecasts");
    const char *item, *category = req_param(req, "category"), *channel = req_param(req, "channel");
    if (param_id(req, "item", false, &item))
        return 0;
    int freq, meas, horizon, nlevels = 0, nhistory;
    double levels[FC_MAX_LEVELS];
    if ((item != NULL) + (category != NULL) + (channel != NULL) > 1)
        return req_fail(req, PROBLEM_BAD_PARAM, "give one of item, category and channel");
    if (param_choice(req, "freq", freq_names, SALES_NFREQ, SALES_DAY, &freq) ||
        param_choice(req, "measure", measure_names, SALES_NMEASURE, SALES_UNITS, &meas) ||
        param_int(req, "horizon", 1, m->h_max[freq], default_h[freq], &horizon) ||
        param_int(req, "history", 0, history_max[freq], 0, &nhistory) ||
        parse_levels(req, levels, &nlevels))
        return 0;
    if (channel)
        return channel_forecast(req, channel, freq, meas, horizon, levels, nlevels, nhistory);
    size_t node = m->nodes - 1; /* the shop */
    if (item) {
        int32_t p = idmap_find(&h->products, item, strlen(item));
        if (p < 0)
            return req_fail(req, PROBLEM_UNKNOWN_ID, "unknown item \"%s\"", item);
        node = (size_t)p;
    } else if (category) {
        size_t c = 0;
        while (c < m->ncat && strcmp(m->cat_name[c], category) != 0)
            c++;
        if (c == m->ncat)
            return req_fail(req, PROBLEM_UNKNOWN_ID, "unknown category \"%s\"", category);
        node = m->nproducts + c;
    }
    const struct sales_fc *fc = &m->fc[meas][freq][node];
    const struct fc_calibration *cal = &m->cal[meas][freq][sales_pool_of(m, node)];
    double z[FC_MAX_LEVELS];
    char lo_name[FC_MAX_LEVELS][24], hi_name[FC_MAX_LEVELS][24];
    for (int l = 0; l < nlevels; l++) {
        z[l] = forecast_z(levels[l]);
        snprintf(lo_name[l], sizeof(lo_name[l]), "lo%g", levels[l]);
        snprintf(hi_name[l], sizeof(hi_name[l]), "hi%g", levels[l]);
    }

    struct buf b;
    struct jsonw j;
    char day[11];
    buf_init(&b, ANSWER_MAX);
    jsonw_init(&j, &b);
    jsonw_open(&j, NULL, '{');
    if (item)
        jsonw_raw_members(&j, s->product_json[node], s->product_json_len[node]);
    else
        jsonw_str(&j, "category", category);
    jsonw_str(&j, "scope", item ? "product" : category ? "category" : "shop");
    jsonw_str(&j, "freq", freq_names[freq]);
    jsonw_str(&j, "measure", measure_names[meas]);
    jsonw_int(&j, "horizon", horizon);
    jsonw_str(&j, "model", fc->model);
    jsonw_str(&j, "note", fc->note);
    jsonw_str(&j, "demand_class", fc->demand);
    jsonw_str(&j, "reconciliation", m->method[meas][freq]);
    jsonw_int(&j, "steps_lifted_to_zero", m->lifted_steps[meas][freq]);
    jsonw_int(&j, "history_periods", fc->n);
    jsonw_num(&j, "last_period", fc->last);
    int days = freq == SALES_DAY ? 1 : 7;
    if (nhistory > 0) {
        double *past = arena_array(&req->arena, (size_t)nhistory, sizeof(double));
        model_sales_history(m, h, node, SALES_ANY_CHANNEL, (enum sales_measure)meas,
                            (enum sales_freq)freq, nhistory, past);
        write_history(&j, m, freq, past, nhistory);
    }
    jsonw_open(&j, "points", '[');
    for (int i = 0; i < horizon; i++) {
        jsonw_open(&j, NULL, '{');
        strparse_format_date((m->first_day[freq] + (double)i * days) * DAY_S, day);
        jsonw_str(&j, "date", day);
        jsonw_num(&j, "mean", fc->mean[i]);
        for (int l = 0; l < nlevels; l++) {
            double w = fc_calibration_factor(cal, levels[l], i) * z[l] * fc->sd[i];
            jsonw_num(&j, lo_name[l], MAX(0, fc->mean[i] - w));
            jsonw_num(&j, hi_name[l], MAX(0, fc->mean[i] + w));
        }
        jsonw_num(&j, "base", fc->base[i]);
        jsonw_close(&j, '}');
    }
    jsonw_close(&j, ']');
    jsonw_open(&j, "calibration", '{');
    jsonw_str(&j, "pool",
              sales_pool_of(m, node) == SALES_POOL_PRODUCTS ? "products" : "aggregates");
    jsonw_int(&j, "errors", cal->n);
    jsonw_close(&j, '}');
    jsonw_open(&j, "backtest", '{');
    jsonw_int(&j, "horizon", m->backtest_h[freq]);
    jsonw_num(&j, "smape", fc->smape);
    jsonw_num(&j, "mase", fc->mase);
    jsonw_num(&j, "coverage80", fc->cover80);
    jsonw_num(&j, "coverage95", fc->cover95);
    jsonw_int(&j, "model_version", (long long)s->refit_version);
    jsonw_close(&j, '}');
    return respond_dated(req, &j, &b);
}
