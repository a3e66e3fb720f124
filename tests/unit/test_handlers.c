/* Unit tests: every handler in process, on a snapshot fitted through the model
 * registry (the contract fixture), each answer's status as expected and its body
 * checked against openapi.yaml (the one compiled into the binary): required members,
 * types, enums. The writes get services whose database is unreachable, so they end
 * in 503 (or 400 before any write). */
#include "xsell/embedded.h"
#include "xsell/router.h"

#include "contract/fixture.h"
#include "contract/openapi.h"
#include "unit/unit.h"

struct handler_case {
    const char *method, *target, *body;
    int status;
};

static const struct handler_case cases[] = {
    {"GET", "/healthz", NULL, 200},
    {"GET", "/readyz", NULL, 503}, /* a model, but no database */
    {"GET", "/metrics", NULL, 200},
    {"GET", "/openapi.yaml", NULL, 200},
    {"GET", "/recommend?items=P1,P8", NULL, 200},
    {"GET", "/recommend?customer=C3&limit=5", NULL, 200},
    {"GET", "/recommend?items=P1&strategy=complements", NULL, 200},
    {"GET", "/recommend?items=NOPE", NULL, 404}, /* none of the cart is known */
    {"GET", "/recommend?limit=0", NULL, 400},
    {"GET", "/upsell?item=P4", NULL, 200},
    {"GET", "/upsell?item=P4&customer=C3", NULL, 200},
    {"GET", "/upsell?item=NOPE", NULL, 404},
    {"GET", "/upsell", NULL, 400},
    {"GET", "/price?item=P3", NULL, 200},
    {"GET", "/price?item=P3&mode=explore&seed=7", NULL, 200},
    {"GET", "/price?limit=5", NULL, 200},
    {"GET", "/price?category=tea&limit=2", NULL, 200},
    {"GET", "/price?item=P3&floor=9&ceiling=2", NULL, 400},
    {"GET", "/churn?customer=C3", NULL, 200},
    {"GET", "/churn?limit=5", NULL, 200},
    {"GET", "/churn?customer=NOPE", NULL, 404},
    {"GET", "/churn?cursor=garbage", NULL, 400},
    {"GET", "/churn/summary", NULL, 200},
    {"GET", "/forecast", NULL, 200},
    {"GET", "/forecast?item=P1&freq=week&measure=revenue&horizon=4&level=50,99", NULL, 200},
    {"GET", "/forecast?category=tea", NULL, 200},
    {"GET", "/forecast?horizon=90&level=50,80,95,99", NULL, 200},
    {"GET", "/forecast?freq=month", NULL, 400},
    {"GET", "/forecast?item=NOPE", NULL, 404},
    {"POST", "/forecast", "{\"series\":[1,2,3,4,5,6,7,8,9,10,11,12],\"horizon\":3}", 200},
    {"POST", "/forecast", "{\"series\":[]}", 400},
    {"POST", "/orders",
     "{\"order_id\":\"X1\",\"customer_id\":\"C1\",\"ordered_at\":\"2026-01-02\","
     "\"lines\":[{\"product_id\":\"P1\",\"quantity\":1,\"unit_price\":2.5}]}",
     503},
    {"POST", "/orders", "{\"order_id\":\"X1\"}", 400},
    {"PUT", "/products/P99", "{\"name\":\"New\",\"price\":3}", 503},
    {"PUT", "/products/P99", "{\"name\":\"New\"}", 400},
    {"DELETE", "/products/P99", NULL, 503},
    {"DELETE", "/orders/X1", NULL, 503},
    {"DELETE", "/customers/C1", NULL, 503},
    {"POST", "/orders",
     "{\"order_id\":\"X2\",\"customer_id\":\"C1\",\"ordered_at\":\"2999-10-29\","
     "\"lines\":[{\"product_id\":\"P1\",\"quantity\":1,\"unit_price\":2.5}]}",
     400}, /* a date in the future, refused before any write */
    {"POST", "/admin/train", NULL, 503},
    {"GET", "/admin/models", NULL, 503},
};

static void test_every_answer_against_openapi(void **state)
{
    char why[600];
    (void)state;
    const struct embedded_file *f = embedded_find("openapi.yaml");
    assert_non_null(f);
    cJSON *spec = openapi_parse((const char *)f->data, f->len, why, sizeof(why));
    if (!spec)
        fail_msg("%s", why);
    struct snapshot *snap = fixture_snapshot();
    int routes_seen[64] = {0};
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        const struct handler_case *c = &cases[i];
        struct request req;
        fixture_request(&req, fixture_offline_services(), snap, c->method, c->target, c->body);
        if (!req.route)
            fail_msg("no route for %s %s", c->method, c->target);
        routes_seen[req.route - routes] = 1;
        req.route->fn(&req);
        cJSON *body = NULL;
        if (req.resp_type && strstr(req.resp_type, "json")) {
            body = cJSON_ParseWithLength(req.resp_body, req.resp_len);
            if (!body)
                fail_msg("%s %s: the answer is not JSON", c->method, c->target);
        }
        if (req.status != c->status)
            fail_msg("%s %s: status %d, want %d: %.300s", c->method, c->target, req.status,
                     c->status, req.resp_body ? req.resp_body : "");
        if (openapi_check(spec, c->method, c->target, req.status, body, why, sizeof(why)))
            fail_msg("%s\n  body: %.300s", why, req.resp_body ? req.resp_body : "");
        cJSON_Delete(body);
        fixture_request_release(&req);
    }
    for (int r = 0; r < routes_count; r++)
        if (!routes_seen[r])
            fail_msg("no case answers %s %s", routes[r].method, routes[r].path);
    snapshot_unref(snap);
    cJSON_Delete(spec);
}

/* Models fitted side by side give the answers fitted one after another do. */
static void test_threads_same_answers(void **state)
{
    (void)state;
    struct snapshot *one = fixture_snapshot_fit(1), *four = fixture_snapshot_fit(4);
    int compared = 0;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        const struct handler_case *c = &cases[i];
        if (strcmp(c->method, "GET") != 0 || c->status != 200 || strstr(c->target, "metrics"))
            continue;
        struct request a, b;
        fixture_request(&a, fixture_offline_services(), one, c->method, c->target, c->body);
        fixture_request(&b, fixture_offline_services(), four, c->method, c->target, c->body);
        a.route->fn(&a);
        b.route->fn(&b);
        assert_int_equal(a.status, b.status);
        if (a.resp_len != b.resp_len || memcmp(a.resp_body, b.resp_body, a.resp_len) != 0)
            fail_msg("%s: the answers differ:\n%.300s\n%.300s", c->target, a.resp_body,
                     b.resp_body);
        compared++;
        fixture_request_release(&a);
        fixture_request_release(&b);
    }
    assert_true(compared >= 15);
    assert_true(one->arena.bytes == four->arena.bytes);
    snapshot_unref(one);
    snapshot_unref(four);
}

int run_handler_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_answer_against_openapi),
        cmocka_unit_test(test_threads_same_answers),
    };
    return cmocka_run_group_tests_name("handlers", tests, NULL, NULL);
}
