/* Integration: the writes: POST /orders and PUT /products, and that a refused body writes nothing.
 * On a database and a server of the group's own (serve.h). */
#include "integration/serve.h"

static void test_orders_post(void **state)
{
    struct resp r;
    (void)state;
    http(&main_srv, "POST", "/orders", ADM, ORDER("T-1", LINES2), NULL, &r);
    assert_int_equal(r.status, 201);
    assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(r.json, "created"), 0)->valuestring,
                        "T-1");
    resp_free(&r);
    assert_int_equal(sql_long("SELECT count(*) FROM order_lines WHERE order_id = 'T-1'"), 2);
    assert_int_equal(sql_long("SELECT (price * 100)::int FROM products WHERE product_id = 'T-NEW'"),
                     999);
    /* Posting it again is a no-op, answered 200. */
    http(&main_srv, "POST", "/orders", ADM, ORDER("T-1", LINES2), NULL, &r);
    assert_int_equal(r.status, 200);
    assert_true(jnum(&r, "orders_existing") == 1);
    resp_free(&r);
    assert_int_equal(sql_long("SELECT count(*) FROM order_lines WHERE order_id = 'T-1'"), 2);
    /* A guest order. */
    http(&main_srv, "POST", "/orders", ADM,
         "{\"order_id\":\"T-guest\",\"ordered_at\":\"2025-11-02\",\"lines\":[{\"product_id\":"
         "\"P002\",\"quantity\":1,\"unit_price\":5}]}",
         NULL, &r);
    assert_int_equal(r.status, 201);
    resp_free(&r);
    assert_int_equal(
        sql_long("SELECT count(*) FROM orders WHERE order_id = 'T-guest' AND customer_id IS NULL"),
        1);

    /* Nothing of a rejected body is written. */
    char *before = data_fingerprint();
    static const struct {
        const char *body, *header;
        long status;
        const char *says;
    } bad[] = {
        {"[" ORDER("T-2", LINES2) "," ORDER("T-3", "[{\"product_id\":\"P1\",\"quantity\":\"x\","
                                                   "\"unit_price\":1}]") "]",
         NULL, 400, "[1].lines[0].quantity"},
        {"[" ORDER("T-4", LINES2) "," ORDER("T-4", LINES2) "]", NULL, 400, "appears twice"},
        {ORDER("T-5", "[]"), NULL, 400, "lines"},
        {"{\"order_id\":\"T-6\",\"ordered_at\":\"2025-13-01\",\"lines\":" LINES2 "}", NULL, 400,
         "ordered_at"},
        {"{\"ordered_at\":\"2025-11-01\",\"lines\":" LINES2 "}", NULL, 400, "order_id"},
        {ORDER("T-7", "[{\"product_id\":\"P1\",\"quantity\":1,\"unit_price\":-3}]"), NULL, 400,
         "negative"},
        {ORDER("T-8", "[{\"product_id\":\"P1\",\"quantity\":0,\"unit_price\":3}]"), NULL, 400,
         "quantity"},
        {"{\"order_id\": 5}", NULL, 400, "order_id"},
        {"{not json", NULL, 400, "JSON"},
        {"{} trailing", NULL, 400, "JSON"},
        {"[]", NULL, 400, "1..1000"},
        {ORDER("T-9", LINES2), "Content-Type: text/plain", 415, "application/json"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        http(&main_srv, "POST", "/orders", ADM, bad[i].body, bad[i].header, &r);
        expect_problem(&r, bad[i].status, bad[i].says);
        resp_free(&r);
    }
    size_t big = 2u << 20;
    char *huge = malloc(big + 1);
    memset(huge, ' ', big);
    huge[0] = '[';
    huge[big - 1] = ']';
    huge[big] = '\0';
    http(&main_srv, "POST", "/orders", ADM, huge, NULL, &r);
    expect_problem(&r, 413, "larger");
    resp_free(&r);
    free(huge);
    char *after = data_fingerprint();
    assert_string_equal(before, after);
    free(before);
    free(after);
}

static void test_products_put(void **state)
{
    struct resp r;
    (void)state;
    const char *body =
        "{\"name\":\"Test Kettle\",\"category\":\"kitchen\",\"price\":12.5,\"cost\":5}";
    http(&main_srv, "PUT", "/products/T-P1", ADM, body, NULL, &r);
    assert_int_equal(r.status, 201);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "created")));
    resp_free(&r);
    http(&main_srv, "PUT", "/products/T-P1", ADM, body, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(r.json, "changed")));
    resp_free(&r);
    http(&main_srv, "PUT", "/products/T-P1", ADM,
         "{\"name\":\"Test "
         "Kettle\",\"category\":\"kitchen\",\"price\":\"13.25\",\"in_stock\":false}",
         NULL, &r);
    assert_int_equal(r.status, 200);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "changed")));
    resp_free(&r);
    assert_int_equal(sql_long("SELECT count(*) FROM products WHERE product_id = 'T-P1' AND "
                              "price = 13.25 AND cost IS NULL AND NOT in_stock"),
                     1);
    static const struct {
        const char *body, *says;
    } bad[] = {
        {"{\"price\":-1}", "negative"},
        {"{\"price\":\"abc\"}", "price"},
        {"{\"name\":\"x\"}", "price"},
        {"{\"price\":1,\"in_stock\":\"yes\"}", "in_stock"},
        {"[1]", "object"},
        {"{\"price\":1,\"cost\":-2}", "cost"},
        {"{\"price\":1,\"name\":7}", "name"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        http(&main_srv, "PUT", "/products/T-P2", ADM, bad[i].body, NULL, &r);
        expect_problem(&r, 400, bad[i].says);
        resp_free(&r);
    }
    assert_int_equal(sql_long("SELECT count(*) FROM products WHERE product_id = 'T-P2'"), 0);
}

static int setup(void **state)
{
    (void)state;
    return group_setup("xsell_g_writes");
}

static int teardown(void **state)
{
    (void)state;
    return group_teardown();
}

int run_writes_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_orders_post),
        cmocka_unit_test(test_products_put),
    };
    return cmocka_run_group_tests_name("writes", tests, setup, teardown);
}
