/* POST /forecast: forecasts a series the caller sends (a dashboard's own metric):
 * {series: [numbers], period, horizon, level: [80, 95], method}. Answers the model,
 * the points with their intervals, and a backtest on the series' last horizon. */
#include <math.h>

#include "xsell/body.h"
#include "xsell/handlers.h"
#include "xsell/jsonw.h"
#include "xsell/model_forecast.h"

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
                        max),
               -1;
    *out = v->valuedouble;
    return 0;
}

/* sMAPE and MASE of forecasting the last h values from the ones before. */
static void backtest(const double *y, int n, int m, int h, enum fc_method method, double *smape,
                     double *mase)
{
    *smape = *mase = NAN;
    int fit = n - h;
    if (h < 1 || fit < MAX(4, 2 * m))
        return;
    struct forecast f;
    double level = 80;
    if (forecast_auto(y, fit, m, h, &level, 1, method, &f))
        return;
    double scale = 0, s = 0, a = 0;
    int k = 0, lag = fit > m ? m : 1;
    for (int t = lag; t < fit; t++, k++)
        scale += fabs(y[t] - y[t - lag]);
    scale = k ? scale / k : 0;
    for (int i = 0; i < h; i++) {
        double e = fabs(y[fit + i] - f.mean[i]), den = fabs(y[fit + i]) + fabs(f.mean[i]);
        s += den > 0 ? 200 * e / den : 0;
        a += e;
    }
    *smape = s / h;
    *mase = scale > 0 ? a / h / scale : NAN;
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
    double period, horizon;
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
                        "method must be auto, ets, theta, comb or snaive");
    struct forecast *f = arena_alloc(&req->arena, sizeof(*f));
    if (forecast_auto(y, n, (int)period, (int)horizon, levels, nlevels, (enum fc_method)method, f))
        return req_fail(req, PROBLEM_BAD_BODY, "nothing to forecast");
    double smape, mase;
    backtest(y, n, (int)period, (int)horizon, (enum fc_method)method, &smape, &mase);

    struct buf b;
    struct jsonw j;
    buf_init(&b, 1 << 20);
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
    jsonw_num(&j, "smape", smape);
    jsonw_num(&j, "mase", mase);
    jsonw_close(&j, '}');
    jsonw_close(&j, '}');
    return respond_buf(req, &b);
}
