/* Integration: the routes every client meets: health, metrics and the spec, keys and roles, 404 and
 * 405, CORS, rate limits. On a database and a server of the group's own (serve.h). */
#include "integration/serve.h"

static void test_health_metrics_openapi(void **state)
{
    struct resp r;
    char v[200];
    (void)state;
    GET("/healthz", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(&r, "status"), "ok");
    assert_non_null(resp_header(&r, "X-Request-Id", v, sizeof(v)));
    resp_free(&r);
    http(&main_srv, "HEAD", "/healthz", NULL, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    GET("/readyz", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(&r, "status"), "ready");
    assert_true(jnum(&r, "model_version") >= 1);
    resp_free(&r);
    GET("/openapi.yaml", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(resp_header(&r, "Content-Type", v, sizeof(v)));
    assert_string_equal(v, "application/yaml");
    assert_true(strncmp(r.body, "openapi: 3", 10) == 0);
    resp_free(&r);
    GET("/metrics", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(
        strstr(r.body, "xsell_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"}"));
    assert_non_null(
        strstr(r.body, "xsell_request_duration_seconds_bucket{route=\"/readyz\",method=\"GET\""));
    assert_non_null(strstr(r.body, "xsell_model_version "));
    assert_non_null(strstr(r.body, "xsell_snapshot_bytes "));
    assert_non_null(strstr(r.body, "xsell_training_seconds "));
    assert_null(strstr(r.body, "xsell_model_version 0\n"));
    resp_free(&r);
}

/* The dashboard's files: no key, their types, the pages' policy; nothing else under
 * /ui/ (a name not compiled in, a path out of it). */
static void test_ui_files(void **state)
{
    struct resp r;
    char v[400];
    (void)state;
    GET("/ui/", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(resp_header(&r, "Content-Type", v, sizeof(v)));
    assert_string_equal(v, "text/html; charset=utf-8");
    assert_non_null(resp_header(&r, "Content-Security-Policy", v, sizeof(v)));
    assert_non_null(strstr(v, "script-src 'self'"));
    assert_non_null(strstr(v, "frame-ancestors 'none'"));
    assert_null(strstr(v, "unsafe"));
    assert_non_null(resp_header(&r, "X-Content-Type-Options", v, sizeof(v)));
    assert_non_null(strstr(r.body, "<script src=\"/ui/app.js\""));
    resp_free(&r);
    GET("/ui/app.js", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(resp_header(&r, "Content-Type", v, sizeof(v)));
    assert_string_equal(v, "text/javascript; charset=utf-8");
    assert_null(strstr(r.body, "innerHTML")); /* values go in as text only */
    resp_free(&r);
    GET("/ui/uPlot.iife.min.js", NULL, &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    GET("/ui/uPlot.LICENSE.txt", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "MIT"));
    resp_free(&r);
    GET("/ui", NULL, &r);
    assert_int_equal(r.status, 301);
    assert_non_null(resp_header(&r, "Location", v, sizeof(v)));
    assert_string_equal(v, "/ui/");
    resp_free(&r);
    static const char *const missing[] = {"/ui/nothing.js", "/ui/README.md", "/ui/app",
                                          "/ui/..%2fopenapi.yaml", "/ui/%2e%2e%2fMakefile"};
    for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
        GET(missing[i], NULL, &r);
        expect_problem(&r, 404, NULL);
        resp_free(&r);
    }
}

static void test_auth_roles(void **state)
{
    struct resp r;
    char v[200];
    (void)state;
    GET("/recommend", NULL, &r);
    expect_problem(&r, 401, "Bearer");
    assert_non_null(resp_header(&r, "WWW-Authenticate", v, sizeof(v)));
    resp_free(&r);
    GET("/recommend", "not-a-key-at-all", &r);
    expect_problem(&r, 401, "not valid");
    resp_free(&r);
    GET("/recommend", PUB, &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    GET("/admin/models", PUB, &r);
    expect_problem(&r, 403, "admin");
    resp_free(&r);
    http(&main_srv, "POST", "/orders", INT, "{}", NULL, &r);
    expect_problem(&r, 403, NULL);
    resp_free(&r);
    GET("/admin/models", ADM, &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    /* A key is never logged. */
    char *out;
    run(&out, "grep -c -e '%s' -e '%s' %s", PUB, ADM, main_srv.log);
    assert_int_equal(strtol(out, NULL, 10), 0);
    free(out);
}

static void test_routes_404_405(void **state)
{
    struct resp r;
    char allow[100];
    (void)state;
    GET("/nope", PUB, &r);
    expect_problem(&r, 404, "/nope");
    resp_free(&r);
    http(&main_srv, "DELETE", "/recommend", PUB, NULL, NULL, &r);
    expect_problem(&r, 405, "DELETE");
    assert_non_null(resp_header(&r, "Allow", allow, sizeof(allow)));
    assert_string_equal(allow, "GET, HEAD, OPTIONS");
    resp_free(&r);
    GET("/orders", ADM, &r);
    expect_problem(&r, 405, NULL);
    assert_non_null(resp_header(&r, "Allow", allow, sizeof(allow)));
    assert_string_equal(allow, "POST, OPTIONS");
    resp_free(&r);
    http(&main_srv, "PUT", "/products/", ADM, "{}", NULL, &r);
    expect_problem(&r, 404, NULL);
    resp_free(&r);
}

static void test_cors(void **state)
{
    struct resp r;
    char v[200];
    (void)state;
    http(&main_srv, "GET", "/recommend?limit=1", PUB, NULL, "Origin: https://shop.example", &r);
    assert_int_equal(r.status, 200);
    assert_non_null(resp_header(&r, "Access-Control-Allow-Origin", v, sizeof(v)));
    assert_string_equal(v, "https://shop.example");
    assert_non_null(resp_header(&r, "Vary", v, sizeof(v)));
    resp_free(&r);
    http(&main_srv, "GET", "/recommend?limit=1", PUB, NULL, "Origin: https://evil.example", &r);
    assert_null(resp_header(&r, "Access-Control-Allow-Origin", v, sizeof(v)));
    resp_free(&r);
    /* Preflight: no key needed, methods and headers allowed for that path. */
    http(&main_srv, "OPTIONS", "/recommend", NULL, NULL, "Origin: https://shop.example", &r);
    assert_int_equal(r.status, 204);
    assert_non_null(resp_header(&r, "Access-Control-Allow-Origin", v, sizeof(v)));
    assert_non_null(resp_header(&r, "Access-Control-Allow-Methods", v, sizeof(v)));
    assert_non_null(strstr(v, "GET"));
    assert_non_null(resp_header(&r, "Access-Control-Allow-Headers", v, sizeof(v)));
    assert_non_null(strstr(v, "Authorization"));
    resp_free(&r);
    http(&main_srv, "OPTIONS", "/nope", NULL, NULL, "Origin: https://shop.example", &r);
    assert_int_equal(r.status, 404);
    resp_free(&r);
}

static void test_rate_limit(void **state)
{
    struct server s;
    struct resp r;
    char v[32];
    (void)state;
    const char *const env[] = {KEYS, "XSELL_RATE_RPS=0.5", "XSELL_RATE_BURST=3", NULL};
    assert_int_equal(server_start(&s, env), 0);
    assert_true(server_wait(&s, "/readyz", 200, 60));
    for (int i = 0; i < 3; i++) {
        http(&s, "GET", "/recommend?limit=1", PUB, NULL, NULL, &r);
        assert_int_equal(r.status, 200);
        resp_free(&r);
    }
    http(&s, "GET", "/recommend?limit=1", PUB, NULL, NULL, &r);
    expect_problem(&r, 429, "rate limit");
    assert_non_null(resp_header(&r, "Retry-After", v, sizeof(v)));
    assert_true(strtol(v, NULL, 10) >= 1);
    resp_free(&r);
    http(&s, "GET", "/recommend?limit=1", INT, NULL, NULL, &r); /* another key: its own bucket */
    assert_int_equal(r.status, 200);
    resp_free(&r);
    for (int i = 0; i < 10; i++) { /* probes are never limited */
        http(&s, "GET", "/healthz", NULL, NULL, NULL, &r);
        assert_int_equal(r.status, 200);
        resp_free(&r);
    }
    assert_int_equal(server_stop(&s), 0);
}

static int setup(void **state)
{
    (void)state;
    return group_setup("xsell_g_api");
}

static int teardown(void **state)
{
    (void)state;
    return group_teardown();
}

int run_api_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_health_metrics_openapi),
        cmocka_unit_test(test_ui_files),
        cmocka_unit_test(test_auth_roles),
        cmocka_unit_test(test_routes_404_405),
        cmocka_unit_test(test_cors),
        cmocka_unit_test(test_rate_limit),
    };
    return cmocka_run_group_tests_name("api", tests, setup, teardown);
}
