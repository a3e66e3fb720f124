/* Integration: /upsell: planted upgrades, answers and errors, churn risk. On a database and a
 * server of the group's own (serve.h). */
#include "integration/serve.h"

static void test_upsell_planted_upgrades(void **state)
{
    char path[600];
    (void)state;
    cJSON *truth = demo_truth();
    const cJSON *u;
    int eligible = 0, hit = 0;
    cJSON_ArrayForEach(u, cJSON_GetObjectItem(truth, "upgrades"))
    {
        const char *a = cJSON_GetObjectItem(u, "from")->valuestring;
        const char *b = cJSON_GetObjectItem(u, "to")->valuestring;
        char q[300];
        /* Only successors the rules allow: in stock, +10%..+100% at today's prices. */
        snprintf(q, sizeof(q),
                 "SELECT count(*) FROM products pa, products pb WHERE pa.product_id = '%s' AND "
                 "pb.product_id = '%s' AND pb.in_stock AND pb.price BETWEEN pa.price * 1.1 AND "
                 "pa.price * 2",
                 a, b);
        if (sql_long(q) != 1)
            continue;
        eligible++;
        struct resp r;
        snprintf(path, sizeof(path), "/upsell?item=%s&limit=3", a);
        GET(path, PUB, &r);
        assert_int_equal(r.status, 200);
        for (int i = 0; i < 3; i++)
            hit += strcmp(top_id(&r, i), b) == 0;
        resp_free(&r);
    }
    print_message("planted upgrades in the top 3: %d of %d eligible\n", hit, eligible);
    assert_true(eligible >= 20);
    assert_true(hit >= eligible * 9 / 10);
    cJSON_Delete(truth);
}

static void test_upsell_answers_and_errors(void **state)
{
    struct resp r, m;
    (void)state;
    GET("/upsell?item=P001&limit=5", PUB, &r);
    assert_int_equal(r.status, 200);
    assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "items")) >= 2);
    const cJSON *it = cJSON_GetArrayItem(cJSON_GetObjectItem(r.json, "items"), 0);
    assert_non_null(it);
    assert_true(cJSON_GetObjectItem(it, "price_delta")->valuedouble > 0);
    assert_true(cJSON_GetObjectItem(it, "price_delta_pct")->valuedouble >= 10);
    assert_true(cJSON_GetObjectItem(it, "p_accept")->valuedouble > 0);
    const char *kind = cJSON_GetObjectItem(cJSON_GetObjectItem(it, "reason"), "kind")->valuestring;
    assert_true(strcmp(kind, "upgrade_path") == 0 || strcmp(kind, "substitute") == 0);
    resp_free(&r);
    /* margin ranks by margin gained: with costs unlike prices, some order changes */
    int changed = 0;
    for (int k = 1; k <= 12; k++) {
        char path[100];
        snprintf(path, sizeof(path), "/upsell?item=P%03d&limit=5", k);
        GET(path, PUB, &r);
        snprintf(path, sizeof(path), "/upsell?item=P%03d&limit=5&objective=margin", k);
        GET(path, PUB, &m);
        assert_int_equal(m.status, 200);
        bool differs = false;
        for (int i = 0; i < 5; i++)
            differs |= strcmp(top_id(&r, i), top_id(&m, i)) != 0;
        changed += differs;
        resp_free(&r);
        resp_free(&m);
    }
    assert_true(changed >= 1);
    /* nothing qualifies: an empty list and why */
    GET("/upsell?item=P001&min_step=9&max_step=10", PUB, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "items")), 0);
    assert_non_null(jstr(&r, "reason"));
    resp_free(&r);
    static const struct bad_get bad[] = {
        {"/upsell", 400, "item"},
        {"/upsell?item=NOPE", 404, "NOPE"},
        {"/upsell?item=P001&limit=0", 400, "limit"},
        {"/upsell?item=P001&limit=21", 400, "1..20"},
        {"/upsell?item=P001&min_step=0.5&max_step=0.2", 400, "min_step"},
        {"/upsell?item=P001&max_step=abc", 400, "max_step"},
        {"/upsell?item=P001&objective=profit", 400, "objective"},
        {"/upsell?item=P001&customer=", 400, "customer"},
    };
    expect_bad_gets(bad, sizeof(bad) / sizeof(bad[0]), PUB);
    GET("/upsell?item=P001", NULL, &r);
    expect_problem(&r, 401, NULL);
    resp_free(&r);
}

/* /upsell takes a lighter hand with a customer at risk, and says how much at risk. */
static void test_upsell_knows_churn_risk(void **state)
{
    struct resp r, c;
    (void)state;
    char *who = sql_text("SELECT customer_id FROM churn_scores ORDER BY churn_risk DESC LIMIT 1");
    assert_non_null(who);
    char path[200];
    snprintf(path, sizeof(path), "/churn?customer=%s", who);
    GET(path, INT, &c);
    assert_int_equal(c.status, 200);
    snprintf(path, sizeof(path), "/upsell?item=P001&customer=%s", who);
    GET(path, PUB, &r);
    assert_int_equal(r.status, 200);
    assert_true(fabs(jnum(&r, "customer_churn_risk") - jnum(&c, "churn_risk")) < 1e-3);
    resp_free(&r);
    resp_free(&c);
    free(who);
}

static int setup(void **state)
{
    (void)state;
    return group_setup("xsell_g_upsell");
}

static int teardown(void **state)
{
    (void)state;
    return group_teardown();
}

int run_upsell_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_upsell_planted_upgrades),
        cmocka_unit_test(test_upsell_answers_and_errors),
        cmocka_unit_test(test_upsell_knows_churn_risk),
    };
    return cmocka_run_group_tests_name("upsell", tests, setup, teardown);
}
