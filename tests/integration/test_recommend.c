/* Integration: /recommend: basket rules, planted complements, strategies, errors, reading its own
 * writes, a new product by its content. On a database and a server of the group's own (serve.h). */
#include "integration/serve.h"

static void test_recommend_rules(void **state)
{
    struct resp r;
    const cJSON *it;
    char q[300];
    (void)state;
    GET("/recommend?items=P001,P004&limit=5", PUB, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "items")), 5);
    assert_false(listed(&r, "P001") || listed(&r, "P004"));
    assert_true(jnum(&r, "model_version") >= 1);
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(r.json, "items"))
    {
        assert_non_null(cJSON_GetObjectItem(it, "score"));
        assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(it, "reason"), "kind"));
        snprintf(q, sizeof(q), "SELECT count(*) FROM products WHERE product_id = '%s' AND in_stock",
                 cJSON_GetObjectItem(it, "product_id")->valuestring);
        assert_int_equal(sql_long(q), 1); /* never out of stock */
    }
    const char *top = cJSON_GetObjectItem(
                          cJSON_GetArrayItem(cJSON_GetObjectItem(r.json, "items"), 0), "product_id")
                          ->valuestring;
    char path[200];
    snprintf(path, sizeof(path), "/recommend?items=P001&exclude=%s&limit=20", top);
    struct resp r2;
    GET(path, PUB, &r2);
    assert_int_equal(r2.status, 200);
    assert_false(listed(&r2, top));
    resp_free(&r2);
    resp_free(&r);

    /* What the customer bought is left out unless include_purchased=true. */
    GET("/recommend?customer=C00001&limit=100", PUB, &r);
    assert_int_equal(r.status, 200);
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(r.json, "items"))
    {
        snprintf(q, sizeof(q),
                 "SELECT count(*) FROM orders o JOIN order_lines l USING (order_id) WHERE "
                 "o.customer_id = 'C00001' AND l.product_id = '%s'",
                 cJSON_GetObjectItem(it, "product_id")->valuestring);
        assert_int_equal(sql_long(q), 0);
    }
    int without = cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "items"));
    resp_free(&r);
    GET("/recommend?customer=C00001&limit=100&include_purchased=true", PUB, &r);
    assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "items")) > without);
    resp_free(&r);

    GET("/recommend?category=tea&limit=50", PUB, &r);
    assert_int_equal(r.status, 200);
    assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "items")) > 0);
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(r.json, "items"))
        assert_string_equal(cJSON_GetObjectItem(it, "category")->valuestring, "tea");
    resp_free(&r);
    GET("/recommend?min_price=10&max_price=20&limit=50", PUB, &r);
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(r.json, "items"))
    {
        double p = cJSON_GetObjectItem(it, "price")->valuedouble;
        assert_true(p >= 10 && p <= 20);
    }
    resp_free(&r);
    GET("/recommend?items=NOPE,P001", PUB, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(
        cJSON_GetArrayItem(cJSON_GetObjectItem(r.json, "unknown_items"), 0)->valuestring, "NOPE");
    resp_free(&r);
}

static void test_recommend_errors(void **state)
{
    struct resp r;
    (void)state;
    static const struct {
        const char *path;
        long status;
        const char *says;
    } cases[] = {
        {"/recommend?limit=0", 400, "limit"},
        {"/recommend?limit=abc", 400, "\"abc\""},
        {"/recommend?limit=101", 400, "1..100"},
        {"/recommend?min_price=5&max_price=1", 400, "min_price"},
        {"/recommend?max_price=-1", 400, "max_price"},
        {"/recommend?include_purchased=maybe", 400, "include_purchased"},
        {"/recommend?category=", 400, "category"},
        {"/recommend?customer=", 400, "customer"},
        {"/recommend?items=NOPE", 404, "none of the items"},
        {"/recommend?customer=NOPE", 404, "NOPE"},
        {"/recommend?items=NOPE&customer=NOPE2", 404, "nor the customer"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        GET(cases[i].path, PUB, &r);
        expect_problem(&r, cases[i].status, cases[i].says);
        resp_free(&r);
    }
    char path[1400] = "/recommend?items=";
    for (int i = 0; i < 101; i++)
        snprintf(path + strlen(path), sizeof(path) - strlen(path), "P%03d,", i);
    GET(path, PUB, &r);
    expect_problem(&r, 400, "more than 100");
    resp_free(&r);
}

static void test_recommend_planted_complements(void **state)
{
    char path[600];
    (void)state;
    /* The generator's truth: pairs of products bought together on purpose. */
    cJSON *truth = demo_truth();
    const cJSON *pair;
    int hit = 0, total = 0;
    cJSON_ArrayForEach(pair, cJSON_GetObjectItem(truth, "complements"))
    {
        const char *a = cJSON_GetArrayItem(pair, 0)->valuestring;
        const char *b = cJSON_GetArrayItem(pair, 1)->valuestring;
        struct resp r;
        snprintf(path, sizeof(path), "/recommend?items=%s&limit=3", a);
        GET(path, PUB, &r);
        assert_int_equal(r.status, 200);
        for (int i = 0; i < 3; i++)
            if (strcmp(top_id(&r, i), b) == 0) {
                hit++;
                const cJSON *reason = cJSON_GetObjectItem(
                    cJSON_GetArrayItem(cJSON_GetObjectItem(r.json, "items"), i), "reason");
                const char *kind = cJSON_GetObjectItem(reason, "kind")->valuestring;
                if (strcmp(kind, "bought_together") == 0) {
                    assert_true(cJSON_GetObjectItem(reason, "count")->valuedouble > 0);
                    assert_true(cJSON_GetObjectItem(reason, "lift")->valuedouble > 1);
                    assert_string_equal(
                        cJSON_GetArrayItem(cJSON_GetObjectItem(reason, "with"), 0)->valuestring, a);
                }
            }
        total++;
        resp_free(&r);
    }
    print_message("planted complements in the top 3: %d of %d\n", hit, total);
    assert_true(total >= 24);
    assert_true(hit >= total * 8 / 10);
    cJSON_Delete(truth);
}

static void test_recommend_strategies_and_objectives(void **state)
{
    struct resp r, m;
    (void)state;
    GET("/recommend?items=P001&limit=10&strategy=complements", PUB, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(&r, "strategy"), "complements");
    assert_non_null(jstr(&r, "recommendation_id"));
    assert_string_equal(
        cJSON_GetObjectItem(
            cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(r.json, "items"), 0),
                                "reason"),
            "kind")
            ->valuestring,
        "bought_together");
    resp_free(&r);
    /* Margin reorders when costs differ from prices. */
    GET("/recommend?items=P001&limit=10&strategy=personal", PUB, &r);
    GET("/recommend?items=P001&limit=10&strategy=personal&objective=margin", PUB, &m);
    assert_int_equal(m.status, 200);
    bool differs = false;
    for (int i = 0; i < 10; i++)
        differs |= strcmp(top_id(&r, i), top_id(&m, i)) != 0;
    assert_true(differs);
    resp_free(&r);
    resp_free(&m);
    /* Buy again lists the customer's own purchases. */
    GET("/recommend?customer=C00001&strategy=buy_again&limit=5", PUB, &r);
    assert_int_equal(r.status, 200);
    const cJSON *it;
    char q[300];
    int n = 0;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(r.json, "items"))
    {
        const cJSON *reason = cJSON_GetObjectItem(it, "reason");
        if (strcmp(cJSON_GetObjectItem(reason, "kind")->valuestring, "buy_again") != 0)
            continue;
        assert_true(cJSON_GetObjectItem(reason, "times")->valuedouble >= 1);
        assert_non_null(cJSON_GetObjectItem(reason, "last_bought"));
        snprintf(q, sizeof(q),
                 "SELECT count(*) FROM orders JOIN order_lines USING (order_id) WHERE "
                 "customer_id = 'C00001' AND product_id = '%s'",
                 cJSON_GetObjectItem(it, "product_id")->valuestring);
        assert_true(sql_long(q) >= 1);
        n++;
    }
    assert_true(n >= 1);
    resp_free(&r);
    static const struct bad_get bad[] = {
        {"/recommend?items=P001&strategy=best", 400, "strategy"},
        {"/recommend?items=P001&objective=profit", 400, "objective"},
        {"/recommend?items=P001&strategy=buy_again", 400, "customer"},
    };
    expect_bad_gets(bad, sizeof(bad) / sizeof(bad[0]), PUB);
}

static void test_recommend_reads_its_writes(void **state)
{
    struct resp r;
    char path[300], body[600];
    (void)state;
    char top[64];
    order_of_top(&main_srv, "T-ryw", top, sizeof(top), body, sizeof(body));
    post_order_created(body);
    GET("/recommend?customer=C00002&limit=20", PUB, &r);
    assert_false(listed(&r, top)); /* no retraining in between */
    resp_free(&r);
    /* A customer the snapshot has never seen is known from their first order on. */
    post_order_created("{\"order_id\":\"T-ryw2\",\"customer_id\":\"T-newbie\",\"ordered_at\":"
                       "\"2025-11-03\",\"lines\":[{\"product_id\":\"P001\",\"quantity\":1,"
                       "\"unit_price\":5}]}");
    snprintf(path, sizeof(path), "/recommend?customer=T-newbie&limit=10");
    GET(path, PUB, &r);
    assert_int_equal(r.status, 200);
    assert_false(listed(&r, "P001"));
    assert_true(listed(&r, "P004")); /* P001's planted complement */
    resp_free(&r);
}

static void test_new_product_by_content(void **state)
{
    struct resp r;
    (void)state;
    http(&main_srv, "PUT", "/products/T-BEANS", ADM,
         "{\"name\":\"Basic Espresso Beans Decaf\",\"category\":\"coffee\",\"price\":15}", NULL,
         &r);
    assert_int_equal(r.status, 201);
    resp_free(&r);
    long run = request_training();
    assert_true(wait_run(run, "succeeded", 60));
    for (int i = 0; i < 50 && serving_version(&main_srv) < run; i++)
        usleep(100000);
    /* Never bought, yet it has neighbours from its name and category... */
    GET("/recommend?items=T-BEANS&limit=5&strategy=personal", PUB, &r);
    assert_int_equal(r.status, 200);
    const cJSON *it;
    int coffee = 0;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(r.json, "items"))
    {
        coffee += strcmp(cJSON_GetObjectItem(it, "category")->valuestring, "coffee") == 0;
        assert_string_equal(
            cJSON_GetObjectItem(cJSON_GetObjectItem(it, "reason"), "kind")->valuestring,
            "similar_content");
    }
    assert_true(coffee >= 3);
    resp_free(&r);
    /* ...and it is offered beside its nearest neighbour. */
    GET("/recommend?items=P001&limit=20&strategy=personal", PUB, &r);
    assert_true(listed(&r, "T-BEANS"));
    resp_free(&r);
}

static int setup(void **state)
{
    (void)state;
    return group_setup("xsell_g_recommend");
}

static int teardown(void **state)
{
    (void)state;
    return group_teardown();
}

int run_recommend_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recommend_rules),
        cmocka_unit_test(test_recommend_errors),
        cmocka_unit_test(test_recommend_planted_complements),
        cmocka_unit_test(test_recommend_strategies_and_objectives),
        cmocka_unit_test(test_recommend_reads_its_writes),
        cmocka_unit_test(test_new_product_by_content),
    };
    return cmocka_run_group_tests_name("recommend", tests, setup, teardown);
}
