/* Integration: channels. The demo shop plants them (gen.h: the more loyal a customer,
 * the likelier won by email, the less by social); GET /channels must recover the
 * ordering, count each channel's customers as planted and its revenue as the database
 * holds it; the churn summary and the forecasts per channel; channels written with
 * orders, and refused when wrong. On a database and a server of the group's own. */
#include "integration/serve.h"

/* The channel's entry of a /channels answer, or NULL. */
static const cJSON *channel_of(const struct resp *r, const char *name)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(r->json, "channels"))
    {
        const cJSON *n = cJSON_GetObjectItem(c, "channel");
        if (name ? cJSON_IsString(n) && strcmp(n->valuestring, name) == 0 : cJSON_IsNull(n))
            return c;
    }
    return NULL;
}

static void test_channels_recover_planted(void **state)
{
    (void)state;
    struct resp r;
    GET("/channels?from=2023-01-01", PUB, &r);
    expect_problem(&r, 403, NULL);
    resp_free(&r);
    GET("/channels?from=2023-01-01", INT, &r);
    assert_int_equal(r.status, 200);
    cJSON *truth = demo_truth();
    static const char *const order[] = {"email", "search", "direct", "social"};
    double repeat[4], clv[4];
    for (int i = 0; i < 4; i++) {
        const cJSON *c = channel_of(&r, order[i]);
        assert_non_null(c);
        /* every customer's first order came by the channel that won them */
        const cJSON *t = cJSON_GetObjectItem(cJSON_GetObjectItem(truth, "channels"), order[i]);
        assert_int_equal((long)jmember(c, "new_customers", NULL),
                         (long)jmember(t, "customers", NULL));
        repeat[i] = jmember(c, "repeat_rate", "estimate");
        clv[i] = jmember(c, "clv_12m", "mean");
        assert_true(jmember(c, "repeat_rate", "ci_low") <= repeat[i] &&
                    repeat[i] <= jmember(c, "repeat_rate", "ci_high"));
        print_message("%-7s won %4ld, dropout %.3f planted: repeat in 90 days %.3f [%.3f, %.3f], "
                      "CLV %.1f [%.1f, %.1f], revenue %.0f\n",
                      order[i], (long)jmember(c, "new_customers", NULL),
                      jmember(t, "dropout_mean", NULL), repeat[i],
                      jmember(c, "repeat_rate", "ci_low"), jmember(c, "repeat_rate", "ci_high"),
                      clv[i], jmember(c, "clv_12m", "ci_low"), jmember(c, "clv_12m", "ci_high"),
                      jmember(c, "revenue", NULL));
    }
    /* the planted ordering, and the ends told apart beyond their intervals */
    for (int i = 0; i + 1 < 4; i++) {
        assert_true(repeat[i] > repeat[i + 1]);
        assert_true(clv[i] > clv[i + 1]);
    }
    assert_true(jmember(channel_of(&r, "email"), "repeat_rate", "ci_low") >
                jmember(channel_of(&r, "social"), "repeat_rate", "ci_high"));
    assert_true(jmember(channel_of(&r, "email"), "clv_12m", "ci_low") >
                jmember(channel_of(&r, "social"), "clv_12m", "ci_high"));
    /* revenue as the database holds it: the sale lines of the window's orders */
    char *want = sql_text("SELECT round(sum(l.quantity * l.unit_price), 2)::text FROM orders o "
                          "JOIN order_lines l USING (order_id) WHERE o.channel = 'search' AND "
                          "l.quantity > 0 AND o.ordered_at >= '2023-01-01' AND o.ordered_at < "
                          "(SELECT max(ordered_at)::date + 1 FROM orders)");
    assert_float_equal(jmember(channel_of(&r, "search"), "revenue", NULL), strtod(want, NULL),
                       0.011);
    free(want);
    cJSON_Delete(truth);
    resp_free(&r);

    static const struct bad_get bad[] = {
        {"/channels?from=yesterday", 400, "from"},
        {"/channels?to=2024-13-01", 400, "to"},
        {"/channels?from=2025-02-01&to=2025-01-01", 400, "before"},
    };
    expect_bad_gets(bad, sizeof(bad) / sizeof(bad[0]), INT);
}

/* The churn summary per acquisition channel adds up to the whole; a channel's sales
 * are forecast; an unknown channel is a 404. */
static void test_channels_summary_and_forecast(void **state)
{
    (void)state;
    struct resp r;
    GET("/churn/summary", INT, &r);
    assert_int_equal(r.status, 200);
    long total = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(r.json, "by_acquisition_channel")) total +=
        (long)jmember(c, "customers", NULL);
    assert_int_equal(total, (long)jnum(&r, "customers"));
    resp_free(&r);

    GET("/forecast?channel=email&freq=week&measure=revenue&history=8", INT, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(&r, "scope"), "channel");
    const cJSON *points = cJSON_GetObjectItem(r.json, "points");
    assert_int_equal(cJSON_GetArraySize(points), 8);
    const cJSON *p0 = cJSON_GetArrayItem(points, 0);
    assert_true(jmember(p0, "lo80", NULL) <= jmember(p0, "mean", NULL) &&
                jmember(p0, "mean", NULL) <= jmember(p0, "hi95", NULL) &&
                jmember(p0, "mean", NULL) > 0);
    /* its history is the channel's own: less than the shop's */
    double chan =
        jmember(cJSON_GetArrayItem(cJSON_GetObjectItem(r.json, "history"), 7), "value", NULL);
    resp_free(&r);
    GET("/forecast?freq=week&measure=revenue&history=8", INT, &r);
    double shop =
        jmember(cJSON_GetArrayItem(cJSON_GetObjectItem(r.json, "history"), 7), "value", NULL);
    assert_true(chan > 0 && chan < shop);
    resp_free(&r);
    static const struct bad_get bad[] = {
        {"/forecast?channel=carrier-pigeon", 404, "carrier-pigeon"},
        {"/forecast?channel=email&category=tea", 400, "one of"},
    };
    expect_bad_gets(bad, sizeof(bad) / sizeof(bad[0]), INT);
}

/* Orders carry a channel and a customer's acquisition channel (kept from the first
 * given); wrong ones are refused whole. */
static void test_channels_written(void **state)
{
    (void)state;
    post_order_created("{\"order_id\":\"T-ch1\",\"customer_id\":\"T-chan\",\"ordered_at\":"
                       "\"2025-11-01\",\"channel\":\"podcast\",\"acquisition_channel\":"
                       "\"referral\",\"lines\":" LINES2 "}");
    post_order_created("{\"order_id\":\"T-ch2\",\"customer_id\":\"T-chan\",\"ordered_at\":"
                       "\"2025-11-02\",\"channel\":\"email\",\"acquisition_channel\":\"tv\","
                       "\"lines\":" LINES2 "}");
    char *got = sql_text("SELECT string_agg(channel, ',' ORDER BY order_id) || '/' || "
                         "(SELECT acquisition_channel FROM customers WHERE customer_id = "
                         "'T-chan') FROM orders WHERE order_id IN ('T-ch1', 'T-ch2')");
    assert_string_equal(got, "podcast,email/referral");
    free(got);
    char long_name[80];
    memset(long_name, 'x', 65);
    long_name[65] = '\0';
    char body[600];
    snprintf(body, sizeof(body),
             "{\"order_id\":\"T-ch3\",\"customer_id\":\"T-chan\",\"ordered_at\":\"2025-11-03\","
             "\"channel\":\"%s\",\"lines\":" LINES2 "}",
             long_name);
    const char *bad[] = {
        body,
        "{\"order_id\":\"T-ch4\",\"ordered_at\":\"2025-11-03\",\"acquisition_channel\":\"tv\","
        "\"lines\":" LINES2 "}",
        "{\"order_id\":\"T-ch5\",\"customer_id\":\"T-chan\",\"ordered_at\":\"2025-11-03\","
        "\"channel\":\"a\\u0001b\",\"lines\":" LINES2 "}",
        "{\"order_id\":\"T-ch6\",\"customer_id\":\"T-chan\",\"ordered_at\":\"2025-11-03\","
        "\"channel\":7,\"lines\":" LINES2 "}",
    };
    static const char *const says[] = {"channel", "acquisition_channel", "channel", "channel"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct resp r;
        http(&main_srv, "POST", "/orders", ADM, bad[i], NULL, &r);
        expect_problem(&r, 400, says[i]);
        resp_free(&r);
    }
    assert_int_equal(sql_long("SELECT count(*) FROM orders WHERE order_id LIKE 'T-ch%'"), 2);
}

static int setup(void **state)
{
    (void)state;
    return group_setup("xsell_g_channels");
}

static int teardown(void **state)
{
    (void)state;
    return group_teardown();
}

int run_channels_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_channels_recover_planted),
        cmocka_unit_test(test_channels_summary_and_forecast),
        cmocka_unit_test(test_channels_written),
    };
    return cmocka_run_group_tests_name("channels", tests, setup, teardown);
}
