/* Integration: /forecast: a posted series, and the shop's own forecasts with their coherence. On a
 * database and a server of the group's own (serve.h). */
#include "integration/serve.h"

/* POST /forecast: a series in, a forecast with intervals and a backtest out. */
static void test_forecast_post(void **state)
{
    struct resp r;
    char body[4096];
    int n = 0;
    (void)state;
    n += snprintf(body + n, sizeof(body) - (size_t)n, "{\"series\": [");
    for (int t = 0; t < 60; t++) /* a monthly-looking series with a yearly swing */
        n += snprintf(body + n, sizeof(body) - (size_t)n, "%s%.1f", t ? "," : "",
                      100 + t + 20 * sin(2 * M_PI * t / 12));
    snprintf(body + n, sizeof(body) - (size_t)n,
             "], \"period\": 12, \"horizon\": 12, \"level\": [50, 90]}");
    http(&main_srv, "POST", "/forecast", PUB, body, "Content-Type: application/json", &r);
    expect_problem(&r, 403, NULL);
    resp_free(&r);
    http(&main_srv, "POST", "/forecast", INT, body, "Content-Type: application/json", &r);
    assert_int_equal(r.status, 200);
    assert_non_null(jstr(&r, "model"));
    cJSON *pts = cJSON_GetObjectItem(r.json, "points");
    assert_int_equal(cJSON_GetArraySize(pts), 12);
    for (int h = 0; h < 12; h++) {
        cJSON *p = cJSON_GetArrayItem(pts, h);
        double lo90 = cJSON_GetObjectItem(p, "lo90")->valuedouble;
        double lo50 = cJSON_GetObjectItem(p, "lo50")->valuedouble;
        double mean = cJSON_GetObjectItem(p, "mean")->valuedouble;
        double hi50 = cJSON_GetObjectItem(p, "hi50")->valuedouble;
        double hi90 = cJSON_GetObjectItem(p, "hi90")->valuedouble;
        assert_true(lo90 <= lo50 && lo50 <= mean && mean <= hi50 && hi50 <= hi90);
        /* it follows the swing: within 10 of the pattern continued */
        assert_true(fabs(mean - (160 + h + 20 * sin(2 * M_PI * (60 + h) / 12))) < 10);
    }
    cJSON *bt = cJSON_GetObjectItem(r.json, "backtest");
    assert_true(cJSON_GetObjectItem(bt, "smape")->valuedouble < 10);
    double c50 = cJSON_GetObjectItem(bt, "coverage50")->valuedouble;
    double c90 = cJSON_GetObjectItem(bt, "coverage90")->valuedouble;
    assert_true(0 <= c50 && c50 <= c90 && c90 <= 1);
    resp_free(&r);
    /* too short for a season: a simpler model, said so */
    http(&main_srv, "POST", "/forecast", INT, "{\"series\": [1, 2, 3, 4, 5], \"period\": 12}",
         "Content-Type: application/json", &r);
    assert_int_equal(r.status, 200);
    assert_non_null(jstr(&r, "note"));
    assert_true(
        cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(r.json, "backtest"), "smape")));
    resp_free(&r);
    static const struct {
        const char *body, *says;
    } bad[] = {
        {"[1, 2, 3]", "object"},
        {"{\"series\": []}", "series"},
        {"{\"series\": [1, \"x\"]}", "series[1]"},
        {"{\"series\": [1, 2], \"horizon\": 0}", "horizon"},
        {"{\"series\": [1, 2], \"horizon\": 1000}", "horizon"},
        {"{\"series\": [1, 2], \"period\": 2.5}", "period"},
        {"{\"series\": [1, 2], \"level\": [100]}", "level[0]"},
        {"{\"series\": [1, 2], \"method\": \"magic\"}", "method"},
        {"{\"series\": [1, 2", NULL},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        http(&main_srv, "POST", "/forecast", INT, bad[i].body, "Content-Type: application/json",
             &r);
        expect_problem(&r, 400, bad[i].says);
        resp_free(&r);
    }
}

/* The sum of mean at step h over the forecasts at prefix + each name of the
 * comma-separated list. */
static double sum_means(const char *list, const char *prefix, int h)
{
    double sum = 0;
    char *copy = strdup(list), *save = NULL, path[300];
    for (char *name = strtok_r(copy, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
        struct resp r;
        snprintf(path, sizeof(path), "%s%s", prefix, name);
        GET(path, INT, &r);
        assert_int_equal(r.status, 200);
        sum += cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(r.json, "points"), h),
                                   "mean")
                   ->valuedouble;
        resp_free(&r);
    }
    free(copy);
    return sum;
}

/* GET /forecast: the shop's own sales, coherent across the three levels. */
static void test_forecast_get(void **state)
{
    struct resp r;
    (void)state;
    GET("/forecast", PUB, &r);
    expect_problem(&r, 403, NULL);
    resp_free(&r);
    GET("/forecast", INT, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(&r, "scope"), "shop");
    assert_string_equal(jstr(&r, "freq"), "day");
    assert_non_null(jstr(&r, "model"));
    const char *rec = jstr(&r, "reconciliation");
    assert_true(rec && (strncmp(rec, "MinT", 4) == 0 || strncmp(rec, "top-down", 8) == 0));
    assert_non_null(jstr(&r, "demand_class"));
    cJSON *pts = cJSON_GetObjectItem(r.json, "points");
    assert_int_equal(cJSON_GetArraySize(pts), 28);
    double shop[3];
    for (int h = 0; h < 28; h++) {
        cJSON *p = cJSON_GetArrayItem(pts, h);
        double lo95 = cJSON_GetObjectItem(p, "lo95")->valuedouble;
        double lo80 = cJSON_GetObjectItem(p, "lo80")->valuedouble;
        double mean = cJSON_GetObjectItem(p, "mean")->valuedouble;
        double hi80 = cJSON_GetObjectItem(p, "hi80")->valuedouble;
        double hi95 = cJSON_GetObjectItem(p, "hi95")->valuedouble;
        assert_true(0 <= lo95 && lo95 <= lo80 && lo80 <= mean && mean <= hi80 && hi80 <= hi95);
        if (h < 3)
            shop[h] = mean;
    }
    /* the last complete day, netted as the database has it */
    char *first = strdup(cJSON_GetObjectItem(cJSON_GetArrayItem(pts, 0), "date")->valuestring);
    char sql[400];
    snprintf(sql, sizeof(sql),
             "SELECT coalesce(sum(l.quantity), 0) FROM order_lines l JOIN orders o USING "
             "(order_id) WHERE (o.ordered_at AT TIME ZONE 'UTC')::date = date '%s' - 1",
             first);
    assert_true(jnum(&r, "last_period") == (double)sql_long(sql));
    resp_free(&r);
    /* history=N: the last N periods before the forecast, as the database has them */
    GET("/forecast?freq=week&history=5", INT, &r);
    assert_int_equal(r.status, 200);
    cJSON *past = cJSON_GetObjectItem(r.json, "history");
    assert_int_equal(cJSON_GetArraySize(past), 5);
    const char *wk = cJSON_GetObjectItem(cJSON_GetArrayItem(past, 4), "date")->valuestring;
    snprintf(sql, sizeof(sql),
             "SELECT coalesce(sum(l.quantity), 0) FROM order_lines l JOIN orders o USING "
             "(order_id) WHERE (o.ordered_at AT TIME ZONE 'UTC')::date >= date '%s' AND "
             "(o.ordered_at AT TIME ZONE 'UTC')::date < date '%s' + 7",
             wk, wk);
    assert_true(cJSON_GetObjectItem(cJSON_GetArrayItem(past, 4), "value")->valuedouble ==
                (double)sql_long(sql));
    snprintf(sql, sizeof(sql), "SELECT (date '%s' + 7)::text", wk);
    char *next = sql_text(sql);
    assert_string_equal(
        next,
        cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(r.json, "points"), 0), "date")
            ->valuestring);
    free(next);
    resp_free(&r);
    GET("/forecast?freq=week&history=261", INT, &r);
    expect_problem(&r, 400, "history");
    resp_free(&r);
    GET("/forecast", INT, &r);
    cJSON *bt = cJSON_GetObjectItem(r.json, "backtest");
    assert_int_equal((int)cJSON_GetObjectItem(bt, "horizon")->valuedouble, 28);
    assert_true(cJSON_GetObjectItem(bt, "mase")->valuedouble > 0);
    double cover = cJSON_GetObjectItem(bt, "coverage95")->valuedouble;
    assert_true(cover >= 0 && cover <= 1);
    cJSON *cal = cJSON_GetObjectItem(r.json, "calibration");
    assert_string_equal(cJSON_GetObjectItem(cal, "pool")->valuestring, "aggregates");
    resp_free(&r);
    free(first);
    /* a product's intervals are calibrated on the products' backtests: 28 days each */
    GET("/forecast?item=P001", INT, &r);
    assert_int_equal(r.status, 200);
    cal = cJSON_GetObjectItem(r.json, "calibration");
    assert_string_equal(cJSON_GetObjectItem(cal, "pool")->valuestring, "products");
    int errors = (int)cJSON_GetObjectItem(cal, "errors")->valuedouble;
    print_message("products' intervals calibrated on %d backtest errors\n", errors);
    assert_true(errors >= 28 * 10);
    resp_free(&r);

    /* coherence: categories (and products without one) add up to the shop, a
     * category's products to it */
    char *cats = sql_text("SELECT string_agg(DISTINCT category, ',') FROM products "
                          "WHERE category IS NOT NULL");
    char *loose = sql_text("SELECT coalesce(string_agg(product_id, ','), '') FROM products "
                           "WHERE category IS NULL");
    char *coffee = sql_text("SELECT string_agg(product_id, ',') FROM products "
                            "WHERE category = 'coffee'");
    for (int h = 0; h < 3; h++) {
        double cat_sum = sum_means(cats, "/forecast?category=", h) +
                         (loose[0] ? sum_means(loose, "/forecast?item=", h) : 0);
        print_message("step %d: shop %.3f, categories %.3f\n", h + 1, shop[h], cat_sum);
        assert_true(fabs(cat_sum - shop[h]) < 1e-3 * (1 + shop[h]));
        double coffee_sum = sum_means(coffee, "/forecast?item=", h);
        assert_true(fabs(coffee_sum - sum_means("coffee", "/forecast?category=", h)) <
                    1e-3 * (1 + coffee_sum));
    }
    free(cats);
    free(loose);
    free(coffee);

    /* weekly revenue with other levels */
    GET("/forecast?item=P001&freq=week&measure=revenue&horizon=4&level=50,99", INT, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(&r, "product_id"), "P001");
    assert_string_equal(jstr(&r, "measure"), "revenue");
    pts = cJSON_GetObjectItem(r.json, "points");
    assert_int_equal(cJSON_GetArraySize(pts), 4);
    cJSON *p0 = cJSON_GetArrayItem(pts, 0), *p1 = cJSON_GetArrayItem(pts, 1);
    assert_non_null(cJSON_GetObjectItem(p0, "lo99"));
    assert_null(cJSON_GetObjectItem(p0, "lo80"));
    assert_true(cJSON_GetObjectItem(p0, "hi99")->valuedouble >=
                cJSON_GetObjectItem(p0, "hi50")->valuedouble);
    assert_int_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(r.json, "backtest"), "horizon")->valuedouble, 8);
    /* weeks are seven days apart */
    struct tm a = {0}, b = {0};
    strptime(cJSON_GetObjectItem(p0, "date")->valuestring, "%Y-%m-%d", &a);
    strptime(cJSON_GetObjectItem(p1, "date")->valuestring, "%Y-%m-%d", &b);
    assert_true(fabs(difftime(timegm(&b), timegm(&a)) - 7 * 86400.0) < 1);
    resp_free(&r);

    /* the largest answer the parameters allow: every step at every level, whole */
    GET("/forecast?horizon=90&level=50,80,95,99", INT, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(r.json); /* it parses: nothing was cut off */
    pts = cJSON_GetObjectItem(r.json, "points");
    assert_int_equal(cJSON_GetArraySize(pts), 90);
    cJSON *last = cJSON_GetArrayItem(pts, 89);
    for (int k = 0; k < 4; k++) {
        static const char *const names[] = {"lo50", "hi80", "lo95", "hi99"};
        assert_non_null(cJSON_GetObjectItem(last, names[k]));
    }
    assert_non_null(cJSON_GetObjectItem(r.json, "model_version"));
    resp_free(&r);

    static const struct bad_get bad[] = {
        {"/forecast?item=NOPE", 404, "NOPE"},
        {"/forecast?category=NOPE", 404, "NOPE"},
        {"/forecast?item=P001&category=coffee", 400, "one of"},
        {"/forecast?freq=month", 400, "freq"},
        {"/forecast?measure=profit", 400, "measure"},
        {"/forecast?horizon=0", 400, "horizon"},
        {"/forecast?horizon=91", 400, "horizon"},
        {"/forecast?freq=week&horizon=27", 400, "horizon"},
        {"/forecast?level=100", 400, "level"},
        {"/forecast?level=abc", 400, "level"},
        {"/forecast?level=10,20,30,40,50", 400, "level"},
    };
    expect_bad_gets(bad, sizeof(bad) / sizeof(bad[0]), INT);
}

static int setup(void **state)
{
    (void)state;
    return group_setup("xsell_g_forecast");
}

static int teardown(void **state)
{
    (void)state;
    return group_teardown();
}

int run_forecast_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forecast_post),
        cmocka_unit_test(test_forecast_get),
    };
    return cmocka_run_group_tests_name("forecast", tests, setup, teardown);
}
