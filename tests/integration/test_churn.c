/* Integration: /churn: answers and errors, the paged dashboard list, planted dropouts. On a
 * database and a server of the group's own (serve.h). */
#include "integration/serve.h"

static void test_churn_answers_and_errors(void **state)
{
    struct resp r, far;
    (void)state;
    GET("/churn?customer=C00002", PUB, &r);
    expect_problem(&r, 403, NULL); /* the dashboard's key, not the cart page's */
    resp_free(&r);
    GET("/churn?customer=C00002", INT, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(&r, "customer_id"), "C00002");
    double p_alive = jnum(&r, "p_alive"), risk = jnum(&r, "churn_risk");
    assert_true(p_alive >= 0 && p_alive <= 1 && risk >= 0 && risk <= 1);
    assert_true(jnum(&r, "expected_purchases") >= 0);
    assert_true(jnum(&r, "horizon_days") == 90);
    assert_non_null(jstr(&r, "segment"));
    assert_non_null(jstr(&r, "model"));
    assert_true(jnum(&r, "model_version") >= 1);
    /* a longer horizon: more purchases expected, no purchase less likely */
    GET("/churn?customer=C00002&horizon_days=365", INT, &far);
    assert_int_equal(far.status, 200);
    assert_true(jnum(&far, "expected_purchases") > jnum(&r, "expected_purchases"));
    assert_true(jnum(&far, "churn_risk") <= risk);
    resp_free(&far);
    resp_free(&r);
    static const struct bad_get bad[] = {
        {"/churn?customer=NOBODY", 404, "NOBODY"},
        {"/churn?customer=", 400, "customer"},
        {"/churn?customer=C00002&horizon_days=0", 400, "horizon_days"},
        {"/churn?customer=C00002&horizon_days=abc", 400, "horizon_days"},
        {"/churn?limit=0", 400, "limit"},
        {"/churn?limit=101", 400, "limit"},
        {"/churn?segment=vip", 400, "segment"},
        {"/churn?min_value=-1", 400, "min_value"},
        {"/churn?horizon_days=30", 400, "horizon_days"},
        {"/churn?cursor=garbage", 400, "cursor"},
        {"/churn?cursor=1-0-0", 400, "cursor"},
    };
    expect_bad_gets(bad, sizeof(bad) / sizeof(bad[0]), INT);
    /* the summary agrees with the table written for BI tools */
    GET("/churn/summary", INT, &r);
    assert_int_equal(r.status, 200);
    long customers = (long)jnum(&r, "customers");
    assert_true(customers > 1000);
    char q[200];
    snprintf(q, sizeof(q), "SELECT count(*) FROM churn_scores WHERE version = %ld",
             (long)jnum(&r, "model_version"));
    assert_int_equal(sql_long(q), customers);
    resp_free(&r);
}

/* A customer's P(alive) curve: its purchase days are the days the database holds, its
 * value on as_of the answer's p_alive, and past as_of it only falls. */
static void test_churn_curve(void **state)
{
    struct resp r;
    (void)state;
    GET("/churn?limit=1&segment=at_risk", INT, &r);
    assert_int_equal(r.status, 200);
    cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItem(r.json, "customers"), 0);
    char id[32];
    snprintf(id, sizeof(id), "%s", cJSON_GetObjectItem(first, "customer_id")->valuestring);
    resp_free(&r);
    /* (the id goes into the check's SQL below: the generator's form only) */
    assert_true(id[0] == 'C' && strspn(id + 1, "0123456789") == strlen(id) - 1);
    char path[100];
    snprintf(path, sizeof(path), "/churn?customer=%s&curve=true", id);
    GET(path, INT, &r);
    assert_int_equal(r.status, 200);
    const char *as_of = jstr(&r, "as_of");
    cJSON *days = cJSON_GetObjectItem(r.json, "purchase_days"), *d;
    char got[4096] = "";
    size_t used = 0;
    cJSON_ArrayForEach(d, days) used +=
        (size_t)snprintf(got + used, sizeof(got) - used, "%s%s", used ? "," : "",
                         cJSON_GetObjectItem(d, "date")->valuestring);
    char q[900];
    snprintf(
        q, sizeof(q),
        "SELECT string_agg(d::text, ',' ORDER BY d) FROM (SELECT d FROM (SELECT "
        "(o.ordered_at AT TIME ZONE 'UTC')::date AS d, sum(l.quantity) AS units FROM "
        "orders o JOIN order_lines l USING (order_id) WHERE o.customer_id = '%s' GROUP BY 1) t "
        "WHERE units > 0 AND d <= '%s' ORDER BY d DESC LIMIT 90) last",
        id, as_of);
    char *want = sql_text(q);
    assert_true(cJSON_GetArraySize(days) >= 2);
    assert_string_equal(got, want);
    free(want);
    cJSON *curve = cJSON_GetObjectItem(r.json, "p_alive_curve"), *p;
    const char *prev_date = "";
    double prev = 2, at_as_of = -1;
    int projected = 0;
    cJSON_ArrayForEach(p, curve)
    {
        const char *date = cJSON_GetObjectItem(p, "date")->valuestring;
        double v = cJSON_GetObjectItem(p, "p_alive")->valuedouble;
        assert_true(strcmp(date, prev_date) > 0 && v >= 0 && v <= 1);
        prev_date = date;
        if (strcmp(date, as_of) == 0)
            at_as_of = v;
        if (cJSON_IsTrue(cJSON_GetObjectItem(p, "projected"))) {
            assert_true(strcmp(date, as_of) > 0 && v <= prev);
            projected++;
        }
        if (strcmp(date, as_of) >= 0)
            prev = v;
    }
    assert_true(projected > 10);
    assert_true(fabs(at_as_of - jnum(&r, "p_alive")) < 1e-5);
    resp_free(&r);
}

/* Pages through the list; every customer of the segment exactly once, in order. */
static void test_churn_paging(void **state)
{
    (void)state;
    const char *segments[] = {"lost", "active", NULL};
    for (int k = 0; k < 3; k++) {
        char path[300], cursor[100] = "";
        struct resp r;
        long seen = 0, want;
        double last = 1e300;
        char q[200];
        if (segments[k])
            snprintf(q, sizeof(q), "SELECT count(*) FROM churn_scores WHERE segment = '%s'",
                     segments[k]);
        else
            snprintf(q, sizeof(q), "SELECT count(*) FROM churn_scores WHERE value_at_risk >= 50");
        want = sql_long(q);
        assert_true(want > 0);
        char **ids = calloc((size_t)want + 1, sizeof(char *));
        long nids = 0;
        for (int page = 0; page < 10000; page++) {
            snprintf(path, sizeof(path), "/churn?limit=37%s%s%s%s", segments[k] ? "&segment=" : "",
                     segments[k] ? segments[k] : "&min_value=50", cursor[0] ? "&cursor=" : "",
                     cursor);
            GET(path, INT, &r);
            assert_int_equal(r.status, 200);
            const cJSON *it;
            cJSON_ArrayForEach(it, cJSON_GetObjectItem(r.json, "customers"))
            {
                double v = cJSON_GetObjectItem(it, "value_at_risk")->valuedouble;
                assert_true(v <= last + 0.01);
                last = v;
                if (segments[k])
                    assert_string_equal(cJSON_GetObjectItem(it, "segment")->valuestring,
                                        segments[k]);
                else
                    assert_true(v >= 50 - 0.01);
                assert_true(nids < want);
                ids[nids++] = strdup(cJSON_GetObjectItem(it, "customer_id")->valuestring);
                seen++;
            }
            bool more = next_page(&r, cursor, sizeof(cursor));
            resp_free(&r);
            if (!more)
                break;
        }
        assert_int_equal(seen, want);
        for (long i = 0; i < nids; i++) /* exactly once */
            for (long j = i + 1; j < nids; j++)
                assert_true(strcmp(ids[i], ids[j]) != 0);
        for (long i = 0; i < nids; i++)
            free(ids[i]);
        free(ids);
    }
}

/* xsell gen drops customers out: those are the ones /churn should call at risk. */
static void test_churn_finds_planted_dropouts(void **state)
{
    (void)state;
    cJSON *truth = demo_truth();
    const cJSON *id;
    double sum_gone = 0, sum_kept = 0;
    long n_gone = 0;
    cJSON_ArrayForEach(id, cJSON_GetObjectItem(truth, "dropped_out_customers"))
    {
        struct resp r;
        char path[100];
        snprintf(path, sizeof(path), "/churn?customer=%s", id->valuestring);
        GET(path, INT, &r);
        if (r.status == 200) {
            sum_gone += jnum(&r, "churn_risk");
            n_gone++;
        }
        resp_free(&r);
        if (n_gone >= 300)
            break;
    }
    cJSON_Delete(truth);
    char *mean = sql_text("SELECT avg(churn_risk) FROM churn_scores");
    assert_non_null(mean);
    /* the mean over everyone mixes both groups: the gone must stand well above it */
    sum_kept = atof(mean);
    free(mean);
    print_message("churn_risk: planted dropouts %.3f, everyone %.3f\n", sum_gone / (double)n_gone,
                  sum_kept);
    assert_true(n_gone >= 100);
    assert_true(sum_gone / (double)n_gone > sum_kept + 0.15);
}

static int setup(void **state)
{
    (void)state;
    return group_setup("xsell_g_churn");
}

static int teardown(void **state)
{
    (void)state;
    return group_teardown();
}

int run_churn_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_churn_answers_and_errors),
        cmocka_unit_test(test_churn_paging),
        cmocka_unit_test(test_churn_curve),
        cmocka_unit_test(test_churn_finds_planted_dropouts),
    };
    return cmocka_run_group_tests_name("churn", tests, setup, teardown);
}
