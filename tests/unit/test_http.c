/* Unit tests: the route table, the problem catalogue, metrics text, and that
 * openapi.yaml documents every route the server has. */
#include <cjson/cJSON.h>

#include "xsell/body.h"
#include "xsell/embedded.h"
#include "xsell/jsonw.h"
#include "xsell/metrics.h"
#include "xsell/problem.h"
#include "xsell/request.h"
#include "xsell/router.h"
#include "xsell/strparse.h"

#include "unit/unit.h"

static void test_router(void **state)
{
    const char *arg = NULL;
    bool known;
    char allow[128];
    (void)state;
    const struct route *r = router_match("PUT", "/products/abc", &arg, &known, allow, 128);
    assert_non_null(r);
    assert_string_equal(arg, "abc");
    assert_null(router_match("PUT", "/products/", &arg, &known, allow, 128));
    assert_false(known);
    assert_null(router_match("PUT", "/products/a/b", &arg, &known, allow, 128));
    assert_null(router_match("DELETE", "/recommend", &arg, &known, allow, 128));
    assert_true(known);
    assert_string_equal(allow, "GET, HEAD, OPTIONS");
    assert_null(router_match("GET", "/orders", &arg, &known, allow, 128));
    assert_string_equal(allow, "POST, OPTIONS");
    r = router_match("HEAD", "/healthz", &arg, &known, allow, 128);
    assert_non_null(r);
    assert_string_equal(r->method, "GET");
    assert_null(router_match("GET", "/nope", &arg, &known, allow, 128));
    assert_false(known);
    /* an {id} inside the path: one segment, then exactly the rest */
    r = router_match("GET", "/experiments/e-1/report", &arg, &known, allow, 128);
    assert_non_null(r);
    assert_string_equal(r->path, "/experiments/{id}/report");
    assert_int_equal(strcspn(arg, "/"), 3);
    assert_null(router_match("GET", "/experiments/e-1/other", &arg, &known, allow, 128));
    assert_null(router_match("GET", "/experiments//report", &arg, &known, allow, 128));
    assert_null(router_match("GET", "/experiments/e-1/report/x", &arg, &known, allow, 128));
}

static void test_problem_catalogue(void **state)
{
    (void)state;
    assert_int_equal(problem_info(PROBLEM_BAD_PARAM)->status, 400);
    assert_int_equal(problem_info(PROBLEM_METHOD)->status, 405);
    assert_int_equal(problem_info(PROBLEM_TOO_LARGE)->status, 413);
    assert_int_equal(problem_info(PROBLEM_RATE_LIMITED)->status, 429);
    assert_int_equal(problem_info(PROBLEM_DB_DOWN)->status, 503);
    for (int p = 0; p < PROBLEM_COUNT; p++)
        assert_true(strncmp(problem_info((enum problem)p)->type, "/problems/", 10) == 0);
}

static void test_metrics_text(void **state)
{
    static struct metrics m;
    struct buf out;
    (void)state;
    metrics_init(&m);
    metrics_observe(&m, 4, 200, 0.0003);
    metrics_observe(&m, 4, 200, 0.2);
    metrics_observe(&m, -1, 404, 0.00001);
    /* GET and POST /forecast are two series, not one label twice */
    int get_fc = -1, post_fc = -1;
    for (int i = 0; i < routes_count; i++) {
        if (strcmp(routes[i].path, "/forecast") == 0)
            *(strcmp(routes[i].method, "GET") == 0 ? &get_fc : &post_fc) = i;
    }
    metrics_observe(&m, get_fc, 200, 0.001);
    metrics_observe(&m, post_fc, 200, 0.001);
    buf_init(&out, 1 << 20);
    metrics_render(&m, router_labels, &out);
    assert_non_null(strstr(
        out.data, "xsell_requests_total{route=\"/recommend\",method=\"GET\",status=\"200\"} 2"));
    assert_non_null(strstr(out.data, "xsell_requests_total{route=\"unmatched\",status=\"404\"} 1"));
    assert_non_null(strstr(out.data, "xsell_request_duration_seconds_bucket{route=\"/"
                                     "recommend\",method=\"GET\",le=\"0.0005\"} 1"));
    assert_non_null(strstr(out.data, "xsell_request_duration_seconds_bucket{route=\"/"
                                     "recommend\",method=\"GET\",le=\"+Inf\"} 2"));
    assert_non_null(strstr(out.data, "{route=\"/forecast\",method=\"GET\",status=\"200\"} 1"));
    assert_non_null(strstr(out.data, "{route=\"/forecast\",method=\"POST\",status=\"200\"} 1"));
    buf_release(&out);
}

static void test_openapi_lists_every_route(void **state)
{
    (void)state;
    const struct embedded_file *f = embedded_find("openapi.yaml");
    assert_non_null(f);
    for (int i = 0; i < routes_count; i++) {
        char key[128], method[16];
        snprintf(key, sizeof(key), "\n  %s:\n", routes[i].path);
        const char *at = strstr((const char *)f->data, key);
        if (!at)
            fail_msg("openapi.yaml has no path %s", routes[i].path);
        size_t k = 0;
        for (const char *m = routes[i].method; *m && k < sizeof(method) - 1; m++)
            method[k++] = (char)(*m - 'A' + 'a');
        method[k] = '\0';
        snprintf(key, sizeof(key), "\n    %s:\n", method);
        const char *op = strstr(at, key);
        const char *next = strstr(at + 3, "\n  /");
        if (!op || (next && op > next))
            fail_msg("openapi.yaml has no %s under %s", method, routes[i].path);
    }
}

static void test_jsonw(void **state)
{
    struct buf b;
    struct jsonw j;
    (void)state;
    buf_init(&b, 1 << 16);
    jsonw_init(&j, &b);
    jsonw_open(&j, NULL, '{');
    jsonw_str(&j, "s", "a\"b\\c\n\x01\xC2\xA3");
    jsonw_str(&j, "null", NULL);
    jsonw_num(&j, "price", 2.95);
    jsonw_num(&j, "neg", -0.5);
    jsonw_num(&j, "whole", 40);
    jsonw_num(&j, "tiny", 1e-9);
    jsonw_num(&j, "round", 0.1234567);
    jsonw_int(&j, "n", -12);
    jsonw_open(&j, "list", '[');
    jsonw_bool(&j, NULL, true);
    jsonw_str(&j, NULL, "x");
    jsonw_close(&j, ']');
    jsonw_open(&j, "empty", '[');
    jsonw_close(&j, ']');
    jsonw_close(&j, '}');
    assert_string_equal(b.data, "{\"s\":\"a\\\"b\\\\c\\u000a\\u0001\xC2\xA3\",\"null\":null,"
                                "\"price\":2.95,\"neg\":-0.5,\"whole\":40,\"tiny\":1e-09,"
                                "\"round\":0.123457,\"n\":-12,\"list\":[true,\"x\"],\"empty\":[]}");
    cJSON *parsed = cJSON_Parse(b.data);
    assert_non_null(parsed);
    cJSON_Delete(parsed);
    buf_release(&b);
}

/* A writer past its cap: the overflow sticks (a later short append fails too), the
 * text is never sent, and the request gets a 500 problem instead of a cut-off 200. */
static void test_answer_past_cap(void **state)
{
    struct buf b;
    struct jsonw j;
    (void)state;
    buf_init(&b, 40);
    jsonw_init(&j, &b);
    jsonw_open(&j, NULL, '{');
    jsonw_open(&j, "points", '[');
    for (int i = 0; i < 10; i++)
        jsonw_num(&j, NULL, 1234.5 + i);
    assert_true(b.overflow);
    assert_true(b.len <= 40);
    assert_int_equal(buf_putc(&b, ']'), -1); /* sticky, though one byte would fit */
    jsonw_close(&j, ']');
    jsonw_close(&j, '}');
    assert_null(cJSON_Parse(b.data)); /* what a silent cap used to send */

    struct request req;
    memset(&req, 0, sizeof(req));
    arena_init(&req.arena);
    req.method = "GET";
    req.path = "/test";
    snprintf(req.id, sizeof(req.id), "unit-1");
    assert_int_equal(respond_buf(&req, &b), -1);
    assert_int_equal(req.status, 500);
    assert_string_equal(req.resp_type, "application/problem+json");
    cJSON *problem = cJSON_ParseWithLength(req.resp_body, req.resp_len);
    assert_non_null(problem);
    assert_int_equal(cJSON_GetObjectItem(problem, "status")->valuedouble, 500);
    cJSON_Delete(problem);
    free(req.resp_body);
    arena_release(&req.arena);

    buf_reset(&b); /* a reset clears it */
    assert_false(b.overflow);
    assert_int_equal(buf_append(&b, "{}", 2), 0);
    buf_release(&b);
}

static void test_metrics_forecast_methods(void **state)
{
    (void)state; /* in test_metrics_text; here the labels alone */
    char a[METRICS_LABELS_MAX], b[METRICS_LABELS_MAX];
    for (int i = 0; i < routes_count; i++) {
        for (int k = i + 1; k < routes_count; k++) {
            assert_true(router_labels(i, a, sizeof(a)) && router_labels(k, b, sizeof(b)));
            assert_string_not_equal(a, b);
        }
    }
}

static struct request *bare_request(struct request *req)
{
    memset(req, 0, sizeof(*req));
    arena_init(&req->arena);
    req->method = "POST";
    req->path = "/orders";
    snprintf(req->id, sizeof(req->id), "unit-2");
    return req;
}

/* Bytes a client sent that are not UTF-8 never reach an answer raw: they become
 * U+FFFD escapes, so every answer parses as JSON. */
static void test_answers_are_utf8(void **state)
{
    struct request req;
    (void)state;
    bare_request(&req);
    req.path = "/nope\xff\xfe";
    req_fail(&req, PROBLEM_NOT_FOUND, "no route %s", "/nope\xff\xfe-and-more");
    assert_true(strparse_utf8_valid(req.resp_body, req.resp_len));
    cJSON *j = cJSON_ParseWithLength(req.resp_body, req.resp_len);
    assert_non_null(j);
    assert_string_equal(cJSON_GetObjectItem(j, "instance")->valuestring,
                        "/nope\xef\xbf\xbd\xef\xbf\xbd");
    cJSON_Delete(j);
    free(req.resp_body);
    arena_release(&req.arena);
}

/* \u0000 inside a JSON string would cut an id short in cJSON: refused whole. */
static void test_body_escaped_nul(void **state)
{
    struct request req;
    (void)state;
    static const char *const bodies[] = {"{\"order_id\":\"NUL\\u0000B\"}", "[\"\\u0000\"]"};
    for (size_t i = 0; i < ARRAY_SIZE(bodies); i++) {
        bare_request(&req);
        buf_init(&req.body, 1024);
        buf_append(&req.body, bodies[i], strlen(bodies[i]));
        assert_null(body_json(&req));
        assert_int_equal(req.status, 400);
        assert_non_null(strstr(req.resp_body, "u0000"));
        free(req.resp_body);
        buf_release(&req.body);
        arena_release(&req.arena);
    }
    /* an escaped backslash before u0000 is text, not the escape */
    bare_request(&req);
    buf_init(&req.body, 1024);
    buf_append(&req.body, "[\"\\\\u0000\"]", 11);
    assert_non_null(body_json(&req));
    buf_release(&req.body);
    arena_release(&req.arena);
}

int run_http_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_router),
        cmocka_unit_test(test_problem_catalogue),
        cmocka_unit_test(test_metrics_text),
        cmocka_unit_test(test_openapi_lists_every_route),
        cmocka_unit_test(test_jsonw),
        cmocka_unit_test(test_answer_past_cap),
        cmocka_unit_test(test_metrics_forecast_methods),
        cmocka_unit_test(test_answers_are_utf8),
        cmocka_unit_test(test_body_escaped_nul),
    };
    return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
