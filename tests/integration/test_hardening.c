/* Integration: the service on the open internet. Requests refused from their head
 * (before a body is read), smuggling-shaped framing, request targets libmicrohttpd
 * would drop, rate limits per client behind trusted proxies, wrong keys throttled,
 * slow and idle connections from one address, costly requests beside cheap ones. Raw
 * sockets where a client library would tidy the request up; several clients are
 * several loopback addresses (127.0.0.x). */
#include "integration/serve.h"

#include <sys/socket.h>

#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* Sends text on a new connection from `from` and reads the answer (the server closes
 * or seconds pass) into r, checked against openapi.yaml; the time it took. */
static double exchange(struct server *s, const char *from, const char *method, const char *path,
                       const char *text, double seconds, struct resp *r)
{
    double t0 = mono_s();
    int fd = raw_connect(s, from);
    assert_true(fd >= 0);
    assert_int_equal(send(fd, text, strlen(text), MSG_NOSIGNAL), (ssize_t)strlen(text));
    char *out;
    size_t len;
    raw_read(fd, seconds, &out, &len);
    close(fd);
    if (raw_response(method, path, out, r))
        fail_msg("not an HTTP response: \"%.200s\"", out);
    free(out);
    return mono_s() - t0;
}

static void start(struct server *s, const char *const *env)
{
    assert_int_equal(server_start(s, env), 0);
    assert_true(server_wait(s, "/readyz", 200, 90));
}

/* Refused from the head alone: no 100 Continue, no body read, the answer at once. */
static void test_refused_before_the_body(void **state)
{
    struct resp r;
    char v[100];
    (void)state;
    /* keyless, a 100 MB body announced and never sent: 401 at once */
    double t = exchange(&main_srv, NULL, "POST", "/orders",
                        "POST /orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        "Content-Length: 100000000\r\nExpect: 100-continue\r\n\r\n",
                        5, &r);
    expect_problem(&r, 401, NULL);
    assert_true(t < 2);
    assert_null(strstr(r.headers, "100 Continue"));
    assert_non_null(resp_header(&r, "X-Request-Id", v, sizeof(v)));
    resp_free(&r);
    /* the right key, a length past XSELL_BODY_MAX: 413 without reading it */
    t = exchange(&main_srv, NULL, "POST", "/orders",
                 "POST /orders HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " ADM "\r\n"
                 "Content-Type: application/json\r\nContent-Length: 100000000\r\n\r\n{",
                 5, &r);
    expect_problem(&r, 413, "larger");
    assert_true(t < 2);
    resp_free(&r);
    /* a refusal of a request without a body keeps the connection: a second request
     * on it is answered (a client refused 401 or 429 need not reconnect) */
    int fd = raw_connect(&main_srv, NULL);
    const char *two = "GET /recommend HTTP/1.1\r\nHost: x\r\n\r\n"
                      "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    assert_int_equal(send(fd, two, strlen(two), MSG_NOSIGNAL), (ssize_t)strlen(two));
    char *out;
    size_t len;
    raw_read(fd, 5, &out, &len);
    close(fd);
    assert_true(strncmp(out, "HTTP/1.1 401", 12) == 0);
    const char *second = strstr(out + 12, "HTTP/1.1 ");
    assert_non_null(second);
    assert_true(strncmp(second, "HTTP/1.1 200", 12) == 0);
    free(out);
    /* a wrong content type, known from the head */
    exchange(&main_srv, NULL, "POST", "/orders",
             "POST /orders HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " ADM "\r\n"
             "Content-Type: text/plain\r\nContent-Length: 50000\r\n\r\n",
             5, &r);
    expect_problem(&r, 415, NULL);
    resp_free(&r);
}

/* A chunked body past the cap is not read to its end: the connection closes. */
static void test_chunked_past_the_cap(void **state)
{
    (void)state;
    int fd = raw_connect(&main_srv, NULL);
    assert_true(fd >= 0);
    const char *head = "POST /orders HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " ADM "\r\n"
                       "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    assert_true(send(fd, head, strlen(head), MSG_NOSIGNAL) > 0);
    static char chunk[65536 + 16];
    int n = snprintf(chunk, sizeof(chunk), "%x\r\n", 65536);
    memset(chunk + n, ' ', 65536);
    memcpy(chunk + n + 65536, "\r\n", 2);
    size_t sent = 0;
    for (int i = 0; i < 200; i++) { /* 13 MB offered; the cap is 1 MiB */
        ssize_t w = send(fd, chunk, (size_t)n + 65536 + 2, MSG_NOSIGNAL);
        if (w <= 0)
            break;
        sent += (size_t)w;
    }
    close(fd);
    assert_true(sent < 8u << 20); /* the server stopped reading long before the end */
    char *out;
    run(&out, "grep -c 'a chunked body passed' %s", main_srv.log);
    assert_true(strtol(out, NULL, 10) >= 1);
    free(out);
}

/* Framing a proxy might read otherwise is refused (request smuggling). */
static void test_framing(void **state)
{
    struct resp r;
    (void)state;
    exchange(&main_srv, NULL, "POST", "/orders",
             "POST /orders HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " ADM "\r\n"
             "Content-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\n{}",
             5, &r);
    expect_problem(&r, 400, "one Content-Length");
    resp_free(&r);
    exchange(&main_srv, NULL, "POST", "/orders",
             "POST /orders HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " ADM "\r\n"
             "Content-Type: application/json\r\nContent-Length: 5\r\n"
             "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
             5, &r);
    expect_problem(&r, 400, "not both");
    resp_free(&r);
}

/* Request targets the HTTP library would fail on are answered as problems. */
static void test_long_targets(void **state)
{
    struct resp r;
    (void)state;
    static char req[16384];
    int n = snprintf(req, sizeof(req), "GET /recommend?");
    for (int i = 0; i < 1100; i++)
        n += snprintf(req + n, sizeof(req) - (size_t)n, "a%d=1&", i);
    snprintf(req + n, sizeof(req) - (size_t)n, " HTTP/1.1\r\nHost: x\r\n\r\n");
    double t = exchange(&main_srv, NULL, "GET", "/recommend", req, 10, &r);
    expect_problem(&r, 414, "parameters");
    assert_true(t < 2);
    resp_free(&r);
    exchange(&main_srv, NULL, "GET", "/recommend",
             "GET /recommend?a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8&i=9&j=10&k=11&l=12&m=13&n=14&o=15&"
             "p=16&q=17&r=18&s=19&t=20&u=21&v=22&w=23&x=24&y=25&z=26&A=1&B=2&C=3&D=4&E=5&F=6&G=7"
             " HTTP/1.1\r\nHost: x\r\n\r\n",
             5, &r);
    expect_problem(&r, 400, "parameters");
    resp_free(&r);
}

/* X-Request-Id: a client's valid one is kept; anything else gets one of ours. */
static void test_request_id(void **state)
{
    struct resp r;
    char v[100];
    (void)state;
    http(&main_srv, "GET", "/healthz", NULL, NULL, "X-Request-Id: trace.abc-123:9", &r);
    assert_string_equal(resp_header(&r, "X-Request-Id", v, sizeof(v)), "trace.abc-123:9");
    resp_free(&r);
    http(&main_srv, "GET", "/nope", NULL, NULL, "X-Request-Id: bad id<script>", &r);
    assert_non_null(resp_header(&r, "X-Request-Id", v, sizeof(v)));
    assert_string_not_equal(v, "bad id<script>");
    assert_string_equal(jstr(&r, "request_id"), v);
    resp_free(&r);
}

/* Log injection: a newline in a path (or an id) never starts a line of its own, and
 * such an id is refused wherever ids come in. */
static void test_log_injection(void **state)
{
    struct resp r;
    char *out;
    (void)state;
    GET("/nope%0a1999-01-01T00:00:00.000Z%20info%20forged", NULL, &r);
    expect_problem(&r, 404, NULL);
    resp_free(&r);
    http(&main_srv, "PUT", "/products/ZZ%0a1999-01-01T00:00:00.000Z", ADM,
         "{\"name\":\"x\",\"price\":1}", NULL, &r);
    expect_problem(&r, 400, "product_id");
    resp_free(&r);
    GET("/recommend?customer=C%0d%0aX", PUB, &r);
    expect_problem(&r, 400, "customer");
    resp_free(&r);
    GET("/recommend?items=P001,P%01", PUB, &r);
    expect_problem(&r, 400, "items");
    resp_free(&r);
    run(&out, "grep -c '^1999-01-01' %s", main_srv.log);
    assert_int_equal(strtol(out, NULL, 10), 0);
    free(out);
    run(&out, "grep -c 'path=/nope\\\\n1999' %s", main_srv.log);
    assert_int_equal(strtol(out, NULL, 10), 1);
    free(out);
    assert_int_equal(sql_long("SELECT count(*) FROM products WHERE product_id ~ '[[:cntrl:]]'"), 0);
}

/* One public key, many shoppers: each client address has a bucket of its own; a
 * copied key drains only its copier's. Internal keys keep one bucket a key. Behind a
 * trusted proxy the client is X-Forwarded-For's, elsewhere that header is ignored. */
static void test_rate_limit_per_client(void **state)
{
    struct server s;
    struct resp r;
    (void)state;
    const char *const env[] = {KEYS, "XSELL_RATE_RPS=0.2", "XSELL_RATE_BURST=3",
                               "XSELL_TRUSTED_PROXIES=127.0.0.1", NULL};
    start(&s, env);
    for (int i = 0; i < 5; i++) { /* the attacker at .2 spends its bucket */
        http_from("127.0.0.2", &s, "GET", "/recommend?limit=1", PUB, NULL, NULL, &r);
        assert_int_equal(r.status, i < 3 ? 200 : 429);
        resp_free(&r);
    }
    http_from("127.0.0.3", &s, "GET", "/recommend?limit=1", PUB, NULL, NULL, &r);
    assert_int_equal(r.status, 200); /* a shopper at .3 is served */
    resp_free(&r);
    for (int i = 0; i < 3; i++) { /* internal keys: one bucket for the key */
        http_from(i == 2 ? "127.0.0.3" : "127.0.0.2", &s, "GET", "/churn?limit=1", INT, NULL, NULL,
                  &r);
        assert_int_equal(r.status, 200);
        resp_free(&r);
    }
    http_from("127.0.0.4", &s, "GET", "/churn?limit=1", INT, NULL, NULL, &r);
    expect_problem(&r, 429, "rate limit");
    resp_free(&r);
    /* behind the trusted proxy (127.0.0.1): two forwarded shoppers, two buckets */
    for (int i = 0; i < 3; i++) {
        http(&s, "GET", "/recommend?limit=1", PUB, NULL, "X-Forwarded-For: 198.51.100.1", &r);
        assert_int_equal(r.status, 200);
        resp_free(&r);
    }
    http(&s, "GET", "/recommend?limit=1", PUB, NULL, "X-Forwarded-For: 198.51.100.1", &r);
    assert_int_equal(r.status, 429);
    resp_free(&r);
    http(&s, "GET", "/recommend?limit=1", PUB, NULL, "X-Forwarded-For: 198.51.100.2", &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    /* from an address that is no proxy, a forged header changes nothing */
    http_from("127.0.0.2", &s, "GET", "/recommend?limit=1", PUB, NULL,
              "X-Forwarded-For: 198.51.100.99", &r);
    assert_int_equal(r.status, 429);
    resp_free(&r);
    char *out;
    run(&out, "grep -c 'client=198.51.100.2 ' %s", s.log);
    assert_true(strtol(out, NULL, 10) >= 1); /* the log names the forwarded client */
    free(out);
    assert_int_equal(server_stop(&s), 0);
}

/* Wrong keys are throttled per client: past the burst even a right key waits. */
static void test_wrong_keys_throttled(void **state)
{
    struct server s;
    struct resp r;
    char v[32];
    (void)state;
    const char *const env[] = {KEYS, "XSELL_AUTH_FAIL_RPS=0.05", "XSELL_AUTH_FAIL_BURST=3", NULL};
    start(&s, env);
    for (int i = 0; i < 3; i++) {
        http_from("127.0.0.2", &s, "GET", "/recommend", "guess-number-one", NULL, NULL, &r);
        expect_problem(&r, 401, "not valid");
        resp_free(&r);
    }
    http_from("127.0.0.2", &s, "GET", "/recommend", "guess-number-four", NULL, NULL, &r);
    expect_problem(&r, 429, "wrong key");
    assert_non_null(resp_header(&r, "Retry-After", v, sizeof(v)));
    resp_free(&r);
    http_from("127.0.0.2", &s, "GET", "/recommend?limit=1", PUB, NULL, NULL, &r);
    assert_int_equal(r.status, 429); /* the guesser learns nothing more for a while */
    resp_free(&r);
    http_from("127.0.0.3", &s, "GET", "/recommend?limit=1", PUB, NULL, NULL, &r);
    assert_int_equal(r.status, 200); /* another client is not affected */
    resp_free(&r);
    assert_int_equal(server_stop(&s), 0);
}

/* Origin "null" (sandboxed frames, file: pages) is never reflected, even with "*". */
static void test_cors_null_origin(void **state)
{
    struct server s;
    struct resp r;
    char v[100];
    (void)state;
    const char *const env[] = {KEYS, "XSELL_CORS_ORIGINS=*", NULL};
    start(&s, env);
    http(&s, "GET", "/recommend?limit=1", PUB, NULL, "Origin: null", &r);
    assert_int_equal(r.status, 200);
    assert_null(resp_header(&r, "Access-Control-Allow-Origin", v, sizeof(v)));
    resp_free(&r);
    http(&s, "GET", "/recommend?limit=1", PUB, NULL, "Origin: https://any.example", &r);
    assert_string_equal(resp_header(&r, "Access-Control-Allow-Origin", v, sizeof(v)),
                        "https://any.example");
    resp_free(&r);
    assert_int_equal(server_stop(&s), 0);
}

/* Whether the server closed fd (EOF or reset) within seconds. */
static bool closed_within(int fd, double seconds)
{
    char *out;
    size_t len;
    int rc = raw_read(fd, seconds, &out, &len);
    free(out);
    return rc != 1;
}

/* Slow and idle clients from one address (the slowloris attack: a header line now
 * and then, each resetting an idle timer) get XSELL_CONN_PER_CLIENT connections, and
 * each of those only until XSELL_REQUEST_DEADLINE_S; another address is served all
 * along. */
static void test_slow_clients(void **state)
{
    enum { SLOW = 40, CAP = 8 };
    struct server s;
    struct resp r;
    int fd[SLOW];
    (void)state;
    /* the deadline (4 s) well past the time the refusals are looked for (3 s): on a
     * loaded machine they may lag the connects by more than a second */
    const char *const env[] = {KEYS, "XSELL_CONN_PER_CLIENT=8", "XSELL_REQUEST_DEADLINE_S=4",
                               "XSELL_CONN_TIMEOUT_S=60", NULL};
    start(&s, env);
    double t0 = mono_s();
    for (int i = 0; i < SLOW; i++) {
        fd[i] = raw_connect(&s, "127.0.0.2");
        assert_true(fd[i] >= 0);
        const char *line = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
        send(fd[i], line, strlen(line), MSG_NOSIGNAL);
    }
    /* on a loaded machine the refusals may lag the connects: look again until enough
     * are closed, well before the deadline could be what closed them */
    bool closed[SLOW] = {0};
    int refused = 0;
    while (refused < SLOW - CAP && mono_s() - t0 < 3.0)
        for (int i = 0; i < SLOW && refused < SLOW - CAP; i++)
            if (!closed[i] && closed_within(fd[i], 0.01)) {
                closed[i] = true;
                refused++;
            }
    assert_true(refused >= SLOW - CAP);
    /* the trickle goes on; another address keeps being answered at once */
    double worst = 0;
    for (int k = 0; k < 10; k++) {
        for (int i = 0; i < SLOW; i++)
            send(fd[i], "X-a: b\r\n", 8, MSG_NOSIGNAL);
        double t = mono_s();
        http_from("127.0.0.3", &s, "GET", "/healthz", NULL, NULL, NULL, &r);
        assert_int_equal(r.status, 200);
        resp_free(&r);
        worst = MAX(worst, mono_s() - t);
        usleep(200000);
    }
    assert_true(worst < 1.0);
    /* 4 s after they began, however much they trickled, the slow ones are cut */
    int open_left = 0;
    for (int i = 0; i < SLOW; i++) {
        open_left += !closed_within(fd[i], MAX(0.1, 8.0 - (mono_s() - t0)));
        close(fd[i]);
    }
    assert_int_equal(open_left, 0);
    assert_true(metric_of(&s, "xsell_connections_refused_total ") >= SLOW - CAP);
    assert_true(metric_of(&s, "xsell_requests_cut_total ") >= 1);
    /* an idle keep-alive connection is closed by the deadline as well */
    int idle = raw_connect(&s, "127.0.0.2");
    assert_true(closed_within(idle, 8.0));
    close(idle);
    assert_int_equal(server_stop(&s), 0);
}

struct heavy_call {
    struct server *s;
    const char *body;
    long status;
    bool retry_after;
};

static void *post_forecast(void *arg)
{
    struct heavy_call *h = arg;
    struct resp r;
    char v[16];
    http(h->s, "POST", "/forecast", INT, h->body, NULL, &r);
    h->status = r.status;
    h->retry_after = resp_header(&r, "Retry-After", v, sizeof(v)) != NULL;
    resp_free(&r);
    return NULL;
}

/* POST /forecast runs on the heavy pool: past its threads and queue it answers 503
 * with Retry-After at once, and cheap reads never wait behind it. */
static void test_heavy_requests_bounded(void **state)
{
    enum { CALLS = 6 };
    struct server s;
    struct heavy_call calls[CALLS];
    pthread_t t[CALLS];
    static char body[40000];
    struct resp r;
    (void)state;
    const char *const env[] = {KEYS, "XSELL_HEAVY_THREADS=1", "XSELL_HEAVY_QUEUE=0", NULL};
    start(&s, env);
    int n = snprintf(body, sizeof(body), "{\"horizon\":24,\"period\":12,\"series\":[");
    for (int i = 0; i < 3000; i++)
        n += snprintf(body + n, sizeof(body) - (size_t)n, "%s%d", i ? "," : "",
                      100 + (i * 37) % 50 + i / 20);
    snprintf(body + n, sizeof(body) - (size_t)n, "]}");
    for (int i = 0; i < CALLS; i++) {
        calls[i] = (struct heavy_call){.s = &s, .body = body};
        assert_int_equal(pthread_create(&t[i], NULL, post_forecast, &calls[i]), 0);
    }
    double worst = 0;
    for (int k = 0; k < 5; k++) { /* meanwhile, a cheap read */
        double t0 = mono_s();
        http(&s, "GET", "/recommend?items=P001&limit=3", PUB, NULL, NULL, &r);
        assert_int_equal(r.status, 200);
        resp_free(&r);
        worst = MAX(worst, mono_s() - t0);
    }
    int ok = 0, busy = 0;
    for (int i = 0; i < CALLS; i++) {
        pthread_join(t[i], NULL);
        ok += calls[i].status == 200;
        if (calls[i].status == 503) {
            busy++;
            assert_true(calls[i].retry_after);
        }
    }
    assert_int_equal(ok + busy, CALLS);
    assert_true(ok >= 1);
    assert_true(busy >= 1);
    assert_true(metric_of(&s, "xsell_heavy_refused_total ") == busy);
    assert_true(worst < 1.0);
    assert_int_equal(server_stop(&s), 0);
}

/* A public key bound to its shop's origins is useless to a script that copied it. */
static void test_key_bound_to_origins(void **state)
{
    struct server s;
    struct resp r;
    (void)state;
    const char *const env[] = {"XSELL_API_KEYS=public:bound-key-1@https://shop.example|"
                               "https://m.shop.example,internal:" INT,
                               "XSELL_CORS_ORIGINS=https://shop.example,https://m.shop.example",
                               NULL};
    start(&s, env);
    http(&s, "GET", "/recommend?limit=1", "bound-key-1", NULL, "Origin: https://m.shop.example",
         &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    http(&s, "GET", "/recommend?limit=1", "bound-key-1", NULL, NULL, &r);
    expect_problem(&r, 403, "bound");
    resp_free(&r);
    http(&s, "GET", "/recommend?limit=1", "bound-key-1", NULL, "Origin: https://evil.example", &r);
    expect_problem(&r, 403, "bound");
    resp_free(&r);
    http(&s, "GET", "/recommend?limit=1", INT, NULL, NULL, &r); /* unbound keys as before */
    assert_int_equal(r.status, 200);
    resp_free(&r);
    assert_int_equal(server_stop(&s), 0);
}

static int setup(void **state)
{
    (void)state;
    return group_setup("xsell_g_hardening");
}

static int teardown(void **state)
{
    (void)state;
    return group_teardown();
}

int run_hardening_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refused_before_the_body),
        cmocka_unit_test(test_chunked_past_the_cap),
        cmocka_unit_test(test_framing),
        cmocka_unit_test(test_long_targets),
        cmocka_unit_test(test_request_id),
        cmocka_unit_test(test_log_injection),
        cmocka_unit_test(test_rate_limit_per_client),
        cmocka_unit_test(test_wrong_keys_throttled),
        cmocka_unit_test(test_cors_null_origin),
        cmocka_unit_test(test_key_bound_to_origins),
        cmocka_unit_test(test_slow_clients),
        cmocka_unit_test(test_heavy_requests_bounded),
    };
    return cmocka_run_group_tests_name("hardening", tests, setup, teardown);
}
