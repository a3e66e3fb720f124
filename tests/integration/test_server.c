/* Integration: a real `xsell serve` on the database test_cli.c loaded. Every route
 * and error path, ingestion, retraining under load, a PostgreSQL restart, and a
 * clean SIGTERM. */
#include "integration/harness.h"

#include <curl/curl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#define PUB  "pubkey-test-1"
#define INT  "intkey-test-1"
#define ADM  "admkey-test-1"
#define KEYS "XSELL_API_KEYS=public:" PUB ",internal:" INT ",admin:" ADM

static struct server main_srv;

static const char *const main_env[] = {KEYS,
                                       "XSELL_CORS_ORIGINS=https://shop.example",
                                       "XSELL_RATE_RPS=100000",
                                       "XSELL_RETRAIN_S=0",
                                       "XSELL_THREADS=4",
                                       NULL};

static int setup(void **state)
{
    (void)state;
    if (server_start(&main_srv, main_env))
        return -1;
    return server_wait(&main_srv, "/readyz", 200, 60) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    if (main_srv.pid > 0)
        server_stop(&main_srv);
    return 0;
}

#define GET(path, key, r) http(&main_srv, "GET", path, key, NULL, NULL, r)

static void expect_problem(struct resp *r, long status, const char *detail_has)
{
    char ct[100];
    if (r->status != status)
        fail_msg("want %ld, got %ld: %s", status, r->status, r->body);
    assert_non_null(resp_header(r, "Content-Type", ct, sizeof(ct)));
    assert_string_equal(ct, "application/problem+json");
    assert_true(jnum(r, "status") == status);
    assert_non_null(jstr(r, "type"));
    assert_non_null(jstr(r, "title"));
    const char *d = jstr(r, "detail");
    assert_non_null(d);
    if (detail_has && !strstr(d, detail_has))
        fail_msg("detail \"%s\" does not say \"%s\"", d, detail_has);
}

/* A GET that must fail: path, status, a word the detail must say. */
struct bad_get {
    const char *path;
    long status;
    const char *says;
};

static void expect_bad_gets(const struct bad_get *bad, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++) {
        struct resp r;
        GET(bad[i].path, key, &r);
        expect_problem(&r, bad[i].status, bad[i].says);
        resp_free(&r);
    }
}

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
    assert_non_null(strstr(r.body, "xsell_requests_total{route=\"/healthz\",status=\"200\"}"));
    assert_non_null(strstr(r.body, "xsell_request_duration_seconds_bucket{route=\"/readyz\""));
    assert_non_null(strstr(r.body, "xsell_model_version "));
    assert_non_null(strstr(r.body, "xsell_snapshot_bytes "));
    assert_non_null(strstr(r.body, "xsell_training_seconds "));
    assert_null(strstr(r.body, "xsell_model_version 0\n"));
    resp_free(&r);
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

/* True when product id is in the JSON items list. */
static bool listed(const struct resp *r, const char *id)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(r->json, "items"))
    {
        if (strcmp(cJSON_GetObjectItem(it, "product_id")->valuestring, id) == 0)
            return true;
    }
    return false;
}

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

static const char *top_id(const struct resp *r, int i)
{
    const cJSON *it = cJSON_GetArrayItem(cJSON_GetObjectItem(r->json, "items"), i);
    return it ? cJSON_GetObjectItem(it, "product_id")->valuestring : "";
}

/* What the demo generator planted (test_cli.c wrote it); cJSON_Delete it. */
static cJSON *demo_truth(void)
{
    char *out;
    assert_int_equal(run(&out, "cat %s/demo/truth.json", E.tmp), 0);
    cJSON *truth = cJSON_Parse(out);
    free(out);
    assert_non_null(truth);
    return truth;
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
    GET("/recommend?customer=C00002&limit=5", PUB, &r);
    assert_int_equal(r.status, 200);
    char top[64];
    snprintf(top, sizeof(top), "%s", top_id(&r, 0));
    resp_free(&r);
    snprintf(body, sizeof(body),
             "{\"order_id\":\"T-ryw\",\"customer_id\":\"C00002\",\"ordered_at\":"
             "\"2025-11-03T09:00:00Z\",\"lines\":[{\"product_id\":\"%s\",\"quantity\":1,"
             "\"unit_price\":5}]}",
             top);
    http(&main_srv, "POST", "/orders", ADM, body, NULL, &r);
    assert_int_equal(r.status, 201);
    resp_free(&r);
    GET("/recommend?customer=C00002&limit=20", PUB, &r);
    assert_false(listed(&r, top)); /* no retraining in between */
    resp_free(&r);
    /* A customer the snapshot has never seen is known from their first order on. */
    http(&main_srv, "POST", "/orders", ADM,
         "{\"order_id\":\"T-ryw2\",\"customer_id\":\"T-newbie\",\"ordered_at\":"
         "\"2025-11-03\",\"lines\":[{\"product_id\":\"P001\",\"quantity\":1,"
         "\"unit_price\":5}]}",
         NULL, &r);
    assert_int_equal(r.status, 201);
    resp_free(&r);
    snprintf(path, sizeof(path), "/recommend?customer=T-newbie&limit=10");
    GET(path, PUB, &r);
    assert_int_equal(r.status, 200);
    assert_false(listed(&r, "P001"));
    assert_true(listed(&r, "P004")); /* P001's planted complement */
    resp_free(&r);
}

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

#define ORDER(id, lines)                                                                           \
    "{\"order_id\":\"" id "\",\"customer_id\":\"T-cust\",\"ordered_at\":"                          \
    "\"2025-11-01T10:00:00Z\",\"lines\":" lines "}"
#define LINES2                                                                                     \
    "[{\"product_id\":\"P001\",\"quantity\":2,\"unit_price\":13.5},"                               \
    "{\"product_id\":\"T-NEW\",\"quantity\":1,\"unit_price\":\"9.99\"}]"

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

/* The next page's cursor of a list answer into cursor; false on the last page. */
static bool next_page(const struct resp *r, char *cursor, size_t n)
{
    const cJSON *next = cJSON_GetObjectItem(r->json, "next_cursor");
    if (!cJSON_IsString(next))
        return false;
    snprintf(cursor, n, "%s", next->valuestring);
    return true;
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

static void test_price_answers_and_errors(void **state)
{
    struct resp r;
    (void)state;
    GET("/price?item=P001", PUB, &r);
    expect_problem(&r, 403, NULL);
    resp_free(&r);
    GET("/price?item=P001", INT, &r);
    assert_int_equal(r.status, 200);
    double cur = jnum(&r, "current_price"), rec = jnum(&r, "recommended_price");
    assert_true(cur > 0 && rec >= cur * 0.9 - 0.006 && rec <= cur * 1.1 + 0.006);
    cJSON *el = cJSON_GetObjectItem(r.json, "elasticity");
    double e = cJSON_GetObjectItem(el, "estimate")->valuedouble;
    assert_true(e < 0);
    assert_true(cJSON_GetObjectItem(el, "ci_low")->valuedouble < e);
    assert_true(cJSON_GetObjectItem(el, "ci_high")->valuedouble > e);
    assert_true(cJSON_IsString(cJSON_GetObjectItem(el, "source")));
    assert_true(cJSON_GetObjectItem(el, "n_weeks")->valuedouble >= 8);
    assert_true(cJSON_IsObject(cJSON_GetObjectItem(r.json, "expected_units")));
    assert_true(cJSON_IsObject(cJSON_GetObjectItem(r.json, "expected_profit")));
    cJSON *rev = cJSON_GetObjectItem(r.json, "expected_revenue");
    cJSON *units = cJSON_GetObjectItem(r.json, "expected_units");
    assert_true(fabs(cJSON_GetObjectItem(rev, "current")->valuedouble -
                     cur * cJSON_GetObjectItem(units, "current")->valuedouble) < 0.01);
    assert_non_null(cJSON_GetObjectItem(r.json, "guardrail"));
    resp_free(&r);
    /* a floor and a ceiling at one price: that price, and the bound says which */
    GET("/price?item=P001&floor=12.34&ceiling=12.34&max_change=0.5", INT, &r);
    assert_int_equal(r.status, 200);
    assert_true(fabs(jnum(&r, "recommended_price") - 12.34) < 1e-9);
    const char *bound = jstr(&r, "guardrail");
    assert_true(bound && (strcmp(bound, "floor") == 0 || strcmp(bound, "ceiling") == 0));
    resp_free(&r);
    /* a 90% margin cannot be had within 10% of today's price: nothing is feasible */
    GET("/price?item=P001&min_margin=0.9", INT, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(&r, "guardrail"), "conflict");
    assert_true(jnum(&r, "recommended_price") == jnum(&r, "current_price"));
    assert_non_null(jstr(&r, "note"));
    resp_free(&r);
    /* explore: a seeded draw repeats, and stays inside the guardrails */
    struct resp x1, x2;
    GET("/price?item=P001&mode=explore&seed=42", INT, &x1);
    GET("/price?item=P001&mode=explore&seed=42", INT, &x2);
    assert_int_equal(x1.status, 200);
    assert_true(jnum(&x1, "recommended_price") == jnum(&x2, "recommended_price"));
    cJSON *ex = cJSON_GetObjectItem(x1.json, "explore");
    assert_true(cJSON_IsNumber(cJSON_GetObjectItem(ex, "elasticity_draw")));
    assert_true(cJSON_IsString(cJSON_GetObjectItem(ex, "valid_until")));
    cur = jnum(&x1, "current_price");
    rec = jnum(&x1, "recommended_price");
    assert_true(rec >= cur * 0.9 - 0.006 && rec <= cur * 1.1 + 0.006);
    resp_free(&x1);
    resp_free(&x2);
    static const struct bad_get bad[] = {
        {"/price?item=NOPE", 404, "NOPE"},
        {"/price?category=NOPE", 404, "NOPE"},
        {"/price?item=P001&category=coffee", 400, "not both"},
        {"/price?item=P001&floor=10&ceiling=9", 400, "floor"},
        {"/price?item=P001&max_change=2", 400, "max_change"},
        {"/price?item=P001&min_margin=-0.1", 400, "min_margin"},
        {"/price?item=P001&floor=abc", 400, "floor"},
        {"/price?item=P001&mode=guess", 400, "mode"},
        {"/price?item=P001&mode=explore&seed=x", 400, "seed"},
        {"/price?category=coffee&mode=explore", 400, "exploit"},
        {"/price?category=coffee&cursor=zz", 400, "cursor"},
        {"/price?limit=0", 400, "limit"},
    };
    expect_bad_gets(bad, sizeof(bad) / sizeof(bad[0]), INT);
}

/* The list: largest expected gain first, each product once across the pages. */
static void test_price_list_pages(void **state)
{
    (void)state;
    char path[300], cursor[100] = "";
    long seen = 0, total = -1;
    double last = 1e300;
    for (int page = 0; page < 100; page++) {
        struct resp r;
        snprintf(path, sizeof(path), "/price?category=coffee&limit=3%s%s",
                 cursor[0] ? "&cursor=" : "", cursor);
        GET(path, INT, &r);
        assert_int_equal(r.status, 200);
        total = (long)jnum(&r, "total");
        const cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItem(r.json, "products"))
        {
            double g = cJSON_GetObjectItem(it, "expected_profit_gain")->valuedouble;
            assert_true(g <= last + 0.005);
            last = g;
            assert_string_equal(cJSON_GetObjectItem(it, "category")->valuestring, "coffee");
            seen++;
        }
        bool more = next_page(&r, cursor, sizeof(cursor));
        resp_free(&r);
        if (!more)
            break;
    }
    assert_true(total > 3);
    assert_int_equal(seen, total);
}

/* xsell gen plants an elasticity per product: /price finds them. */
static void test_price_recovers_planted_elasticities(void **state)
{
    (void)state;
    cJSON *truth = demo_truth();
    const cJSON *p;
    double errs[200];
    int n = 0, right = 0, covered = 0;
    cJSON_ArrayForEach(p, cJSON_GetObjectItem(truth, "products"))
    {
        char path[100];
        struct resp r;
        snprintf(path, sizeof(path), "/price?item=%s", p->string);
        GET(path, INT, &r);
        assert_int_equal(r.status, 200);
        cJSON *el = cJSON_GetObjectItem(r.json, "elasticity");
        double e = cJSON_GetObjectItem(el, "estimate")->valuedouble;
        double lo = cJSON_GetObjectItem(el, "ci_low")->valuedouble;
        double hi = cJSON_GetObjectItem(el, "ci_high")->valuedouble;
        double t = cJSON_GetObjectItem(p, "elasticity")->valuedouble;
        if (n < 200)
            errs[n++] = fabs(e - t);
        right += e < 0;
        covered += lo <= t && t <= hi;
        resp_free(&r);
    }
    cJSON_Delete(truth);
    for (int i = 1; i < n; i++) /* median */
        for (int j = i; j > 0 && errs[j - 1] > errs[j]; j--) {
            double x = errs[j];
            errs[j] = errs[j - 1];
            errs[j - 1] = x;
        }
    print_message("price: median |error| %.3f, right sign %d of %d, 95%% intervals cover %d\n",
                  errs[n / 2], right, n, covered);
    assert_true(n >= 50);
    assert_true(errs[n / 2] < 0.6);
    assert_true(right >= n * 9 / 10);
    assert_true(covered >= n * 7 / 10);
}

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
    cJSON *bt = cJSON_GetObjectItem(r.json, "backtest");
    assert_int_equal((int)cJSON_GetObjectItem(bt, "horizon")->valuedouble, 28);
    assert_true(cJSON_GetObjectItem(bt, "mase")->valuedouble > 0);
    double cover = cJSON_GetObjectItem(bt, "coverage95")->valuedouble;
    assert_true(cover >= 0 && cover <= 1);
    resp_free(&r);
    free(first);

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
        {"/forecast?item=P001&category=coffee", 400, "not both"},
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

static long serving_version(struct server *s)
{
    struct resp r;
    http(s, "GET", "/admin/models", ADM, NULL, NULL, &r);
    long v = r.status == 200 ? (long)jnum(&r, "serving_version") : -1;
    resp_free(&r);
    return v;
}

/* The status of run v in /admin/models, copied into out. */
static const char *run_status(long v, char *out, size_t n)
{
    struct resp r;
    const cJSON *it;
    out[0] = '\0';
    http(&main_srv, "GET", "/admin/models", ADM, NULL, NULL, &r);
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(r.json, "runs"))
    {
        if ((long)cJSON_GetObjectItem(it, "version")->valuedouble == v)
            snprintf(out, n, "%s", cJSON_GetObjectItem(it, "status")->valuestring);
    }
    resp_free(&r);
    return out;
}

static long request_training(void)
{
    struct resp r;
    http(&main_srv, "POST", "/admin/train", ADM, NULL, NULL, &r);
    assert_int_equal(r.status, 202);
    long run = (long)jnum(&r, "run");
    resp_free(&r);
    return run;
}

static bool wait_run(long run, const char *status, double seconds)
{
    char st[32];
    for (int i = 0; i < seconds * 10; i++) {
        if (strcmp(run_status(run, st, sizeof(st)), status) == 0)
            return true;
        usleep(100000);
    }
    return false;
}

static void test_admin_train(void **state)
{
    (void)state;
    struct resp page;
    GET("/churn?limit=5", INT, &page);
    assert_int_equal(page.status, 200);
    char stale[200];
    snprintf(stale, sizeof(stale), "/churn?limit=5&cursor=%s", jstr(&page, "next_cursor"));
    resp_free(&page);
    long run = request_training();
    assert_true(run > 0);
    assert_true(wait_run(run, "succeeded", 60));
    for (int i = 0; i < 50 && serving_version(&main_srv) < run; i++)
        usleep(100000);
    assert_int_equal(serving_version(&main_srv), run);
    char q[200];
    snprintf(
        q, sizeof(q),
        "SELECT count(*) FROM model_runs WHERE version = %ld AND metrics->'models' ? 'popular' "
        "AND finished_at >= started_at",
        run);
    assert_int_equal(sql_long(q), 1);
    /* The order posted earlier is in the new snapshot: T-NEW is now a known item. */
    struct resp r;
    GET("/recommend?items=T-NEW", PUB, &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    /* a cursor of the previous model version: start again */
    GET(stale, INT, &r);
    expect_problem(&r, 409, "start again");
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

static void test_failed_training_keeps_snapshot(void **state)
{
    (void)state;
    long serving = serving_version(&main_srv);
    assert_int_equal(sql_exec("ALTER TABLE order_lines RENAME TO order_lines_away"), 0);
    long run = request_training();
    bool failed = wait_run(run, "failed", 60);
    assert_int_equal(sql_exec("ALTER TABLE order_lines_away RENAME TO order_lines"), 0);
    assert_true(failed);
    assert_int_equal(serving_version(&main_srv), serving);
    char q[200];
    snprintf(q, sizeof(q),
             "SELECT count(*) FROM model_runs WHERE version = %ld AND error LIKE "
             "'%%order_lines%%'",
             run);
    assert_int_equal(sql_long(q), 1);
    struct resp r;
    GET("/recommend?items=P001", PUB, &r);
    assert_int_equal(r.status, 200);
    assert_true(jnum(&r, "model_version") == serving);
    resp_free(&r);
    GET("/metrics", NULL, &r);
    assert_null(strstr(r.body, "xsell_training_runs_total{status=\"failed\"} 0\n"));
    resp_free(&r);
}

struct load {
    atomic_int stop;
    atomic_long ok, bad;
};

static void *hammer(void *arg)
{
    struct load *l = arg;
    while (!atomic_load(&l->stop)) {
        struct resp r;
        http(&main_srv, "GET", "/recommend?items=P001,P004&limit=10", PUB, NULL, NULL, &r);
        if (r.status == 200 && cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "items")) == 10) {
            atomic_fetch_add(&l->ok, 1);
        } else if (atomic_fetch_add(&l->bad, 1) == 0) {
            print_message("swap under load: failed with %ld: %.300s\n", r.status, r.body);
        }
        resp_free(&r);
    }
    return NULL;
}

static long metric(const char *name)
{
    struct resp r;
    GET("/metrics", NULL, &r);
    const char *at = strstr(r.body, name);
    long v = at ? strtol(at + strlen(name), NULL, 10) : -1;
    resp_free(&r);
    return v;
}

static void test_swap_under_load(void **state)
{
    struct load l = {0};
    pthread_t th[4];
    (void)state;
    long freed0 = metric("\nxsell_snapshots_freed_total ");
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, hammer, &l);
    for (int k = 0; k < 3; k++) {
        long run = request_training();
        assert_true(wait_run(run, "succeeded", 60));
        for (int i = 0; i < 50 && serving_version(&main_srv) < run; i++)
            usleep(100000);
    }
    usleep(200000);
    atomic_store(&l.stop, 1);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    print_message("swap under load: %ld ok, %ld failed\n", atomic_load(&l.ok), atomic_load(&l.bad));
    assert_int_equal(atomic_load(&l.bad), 0);
    assert_true(atomic_load(&l.ok) > 20);
    /* Every replaced snapshot was freed once its last reader let go. */
    assert_true(metric("\nxsell_snapshots_freed_total ") >= freed0 + 3);
}

static void pg(const char *verb)
{
    char *out;
    int rc = run(&out, "%s/deploy/pg.sh %s %s", E.repo, verb, E.pg_dir);
    if (rc != 0)
        fail_msg("pg.sh %s: %s", verb, out);
    free(out);
}

static void test_database_restart(void **state)
{
    struct resp r;
    struct server late;
    char v[32];
    (void)state;
    pg("stop");
    GET("/recommend?items=P001", PUB, &r); /* models answer from the snapshot */
    assert_int_equal(r.status, 200);
    resp_free(&r);
    GET("/readyz", NULL, &r);
    assert_int_equal(r.status, 503);
    assert_non_null(resp_header(&r, "Retry-After", v, sizeof(v)));
    resp_free(&r);
    http(&main_srv, "POST", "/orders", ADM, ORDER("T-down", LINES2), NULL, &r);
    expect_problem(&r, 503, "nothing was written");
    assert_non_null(resp_header(&r, "Retry-After", v, sizeof(v)));
    resp_free(&r);
    http(&main_srv, "POST", "/admin/train", ADM, NULL, NULL, &r);
    expect_problem(&r, 503, NULL);
    resp_free(&r);

    /* A server started while the database is down: alive, not ready, and it keeps
     * trying until the database is back. */
    assert_int_equal(server_start(&late, main_env), 0);
    assert_true(server_wait(&late, "/healthz", 200, 30));
    http(&late, "GET", "/readyz", NULL, NULL, NULL, &r);
    assert_int_equal(r.status, 503);
    resp_free(&r);
    http(&late, "GET", "/recommend", PUB, NULL, NULL, &r);
    expect_problem(&r, 503, "training");
    assert_non_null(resp_header(&r, "Retry-After", v, sizeof(v)));
    resp_free(&r);

    pg("start");
    assert_true(server_wait(&main_srv, "/readyz", 200, 30));
    http(&main_srv, "POST", "/orders", ADM, ORDER("T-after", LINES2), NULL, &r);
    assert_int_equal(r.status, 201);
    resp_free(&r);
    assert_int_equal(sql_long("SELECT count(*) FROM orders WHERE order_id = 'T-down'"), 0);
    assert_true(server_wait(&late, "/readyz", 200, 90));
    http(&late, "GET", "/recommend?items=P001", PUB, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    assert_int_equal(server_stop(&late), 0);
}

/* Sends the body only after a pause, so the request is in flight at SIGTERM. */
struct slow {
    const char *body;
    size_t len, sent;
    bool paused;
};

static size_t slow_read(char *buf, size_t size, size_t n, void *ud)
{
    struct slow *s = ud;
    if (!s->paused) {
        usleep(600000);
        s->paused = true;
    }
    size_t k = s->len - s->sent < size * n ? s->len - s->sent : size * n;
    memcpy(buf, s->body + s->sent, k);
    s->sent += k;
    return k;
}

struct slow_post {
    int port;
    long status;
};

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n;
}

static void *post_slowly(void *arg)
{
    struct slow_post *sp = arg;
    struct slow s = {ORDER("T-inflight", LINES2), strlen(ORDER("T-inflight", LINES2)), 0, false};
    char url[100];
    struct curl_slist *h = NULL;
    CURL *c = curl_easy_init();
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/orders", sp->port);
    h = curl_slist_append(h, "Authorization: Bearer " ADM);
    h = curl_slist_append(h, "Content-Type: application/json");
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, slow_read);
    curl_easy_setopt(c, CURLOPT_READDATA, &s);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)s.len);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &sp->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return NULL;
}

static void test_sigterm_finishes_in_flight(void **state)
{
    struct slow_post sp = {main_srv.port, 0};
    pthread_t th;
    (void)state;
    pthread_create(&th, NULL, post_slowly, &sp);
    usleep(250000);
    int rc = server_stop(&main_srv); /* SIGTERM while the body is still coming */
    pthread_join(th, NULL);
    assert_int_equal(sp.status, 201);
    assert_int_equal(rc, 0);
    assert_int_equal(sql_long("SELECT count(*) FROM orders WHERE order_id = 'T-inflight'"), 1);
    char *out;
    run(&out, "grep -c 'stopped' %s", main_srv.log);
    assert_int_equal(strtol(out, NULL, 10), 1);
    free(out);
}

int run_server_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_health_metrics_openapi),
        cmocka_unit_test(test_auth_roles),
        cmocka_unit_test(test_routes_404_405),
        cmocka_unit_test(test_cors),
        cmocka_unit_test(test_recommend_rules),
        cmocka_unit_test(test_recommend_errors),
        cmocka_unit_test(test_recommend_planted_complements),
        cmocka_unit_test(test_recommend_strategies_and_objectives),
        cmocka_unit_test(test_recommend_reads_its_writes),
        cmocka_unit_test(test_upsell_planted_upgrades),
        cmocka_unit_test(test_upsell_answers_and_errors),
        cmocka_unit_test(test_churn_answers_and_errors),
        cmocka_unit_test(test_price_answers_and_errors),
        cmocka_unit_test(test_forecast_post),
        cmocka_unit_test(test_price_list_pages),
        cmocka_unit_test(test_price_recovers_planted_elasticities),
        cmocka_unit_test(test_upsell_knows_churn_risk),
        cmocka_unit_test(test_churn_paging),
        cmocka_unit_test(test_churn_finds_planted_dropouts),
        cmocka_unit_test(test_forecast_get),
        cmocka_unit_test(test_orders_post),
        cmocka_unit_test(test_products_put),
        cmocka_unit_test(test_rate_limit),
        cmocka_unit_test(test_admin_train),
        cmocka_unit_test(test_new_product_by_content),
        cmocka_unit_test(test_failed_training_keeps_snapshot),
        cmocka_unit_test(test_swap_under_load),
        cmocka_unit_test(test_database_restart),
        cmocka_unit_test(test_sigterm_finishes_in_flight),
    };
    return cmocka_run_group_tests_name("server", tests, setup, teardown);
}
