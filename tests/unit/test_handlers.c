/* Unit tests: every handler in process, on a snapshot fitted through the model
 * registry (the contract fixture), each answer's status as expected and its body
 * checked against openapi.yaml (the one compiled into the binary): required members,
 * types, enums. The writes get services whose database is unreachable, so they end
 * in 503 (or 400 before any write). */
#include <unistd.h>

#include "xsell/embedded.h"
#include "xsell/router.h"
#include "xsell/snapfile.h"

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
    {"GET", "/ui", NULL, 301},
    {"GET", "/ui/", NULL, 200},
    {"GET", "/ui/app.js", NULL, 200},
    {"GET", "/ui/widget.css", NULL, 200},
    {"GET", "/ui/demo", NULL, 200},
    {"GET", "/ui/nothing.js", NULL, 404},
    {"GET", "/docs", NULL, 200},
    {"GET", "/forecast?freq=week&history=8", NULL, 200},
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
    {"GET", "/churn?customer=C3&curve=true", NULL, 200},
    {"GET", "/churn?curve=true", NULL, 400},
    {"GET", "/churn?limit=5", NULL, 200},
    {"GET", "/churn?customer=NOPE", NULL, 404},
    {"GET", "/churn?cursor=garbage", NULL, 400},
    {"GET", "/churn/summary", NULL, 200},
    {"GET", "/channels", NULL, 503}, /* the database: none offline */
    {"GET", "/channels?from=someday", NULL, 400},
    {"GET", "/channels?from=2024-01-02&to=2024-01-01", NULL, 400},
    {"GET", "/retention", NULL, 200},
    {"GET", "/retention?customer=C3", NULL, 200},
    {"GET", "/retention?customer=NOPE", NULL, 404},
    {"GET", "/retention?limit=0", NULL, 400},
    {"GET", "/retention?cursor=garbage", NULL, 400},
    {"GET", "/forecast?channel=email&freq=week&history=4", NULL, 200},
    {"GET", "/forecast?channel=email&item=P1", NULL, 400},
    {"GET", "/forecast?channel=nowhere", NULL, 404},
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
    {"POST", "/events",
     "[{\"event_id\":\"E1\",\"type\":\"click\",\"session_id\":\"S1\",\"product_id\":\"P1\"}]", 503},
    {"POST", "/events", "{\"event_id\":\"E1\",\"type\":\"click\",\"session_id\":\"S1\"}", 400},
    {"PUT", "/products/P99", "{\"name\":\"New\",\"price\":3}", 503},
    {"PUT", "/products/P99", "{\"name\":\"New\"}", 400},
    {"PUT", "/products/P99", "{\"price\":3,\"stock\":-2}", 400},
    {"PATCH", "/products/P1", "{\"stock\":5}", 503}, /* the database: none offline */
    {"PATCH", "/products/P1", "{\"stock\":-1}", 400},
    {"PATCH", "/products/P1", "{\"stock\":1.5}", 400},
    {"PATCH", "/products/P1", "{}", 400},
    {"PATCH", "/products/P1", "{\"stock\":5,\"price\":2}", 400},
    {"GET", "/price?item=P2", NULL, 200},
    {"DELETE", "/products/P99", NULL, 503},
    {"DELETE", "/orders/X1", NULL, 503},
    {"DELETE", "/customers/C1", NULL, 503},
    {"POST", "/orders",
     "{\"order_id\":\"X2\",\"customer_id\":\"C1\",\"ordered_at\":\"2999-10-29\","
     "\"lines\":[{\"product_id\":\"P1\",\"quantity\":1,\"unit_price\":2.5}]}",
     400}, /* a date in the future, refused before any write */
    {"POST", "/admin/train", NULL, 503},
    {"GET", "/admin/models", NULL, 503},
    {"GET", "/admin/attribution?from=2026-01-01&to=2026-02-01", NULL, 503},
    {"PUT", "/experiments/E1",
     "{\"unit\":\"customer\",\"variants\":[{\"name\":\"a\"},{\"name\":\"b\"}]}", 503},
    {"PUT", "/experiments/E1", "{\"unit\":\"customer\",\"variants\":[]}", 400},
    {"GET", "/experiments", NULL, 503},
    {"GET", "/experiments/E1/report", NULL, 503},
    {"GET", "/admin/attribution?from=2026-03-01&to=2026-02-01", NULL, 400},
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

/* body with the value of "recommendation_id" (new for every answer) cut out: a
 * malloc'd string. */
static char *without_answer_id(const char *body, size_t len)
{
    char *out = strndup(body, len);
    char *at = strstr(out, "\"recommendation_id\":\"");
    if (at) {
        char *value = at + strlen("\"recommendation_id\":\"");
        char *end = strchr(value, '"');
        if (end)
            memmove(value, end, strlen(end) + 1);
    }
    return out;
}

/* Every GET case answered alike by two snapshots, byte for byte but for the answers'
 * ids. */
static void same_answers(struct snapshot *one, struct snapshot *two)
{
    int compared = 0;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        const struct handler_case *c = &cases[i];
        if (strcmp(c->method, "GET") != 0 || c->status != 200 || strstr(c->target, "metrics"))
            continue;
        struct request a, b;
        fixture_request(&a, fixture_offline_services(), one, c->method, c->target, c->body);
        fixture_request(&b, fixture_offline_services(), two, c->method, c->target, c->body);
        a.route->fn(&a);
        b.route->fn(&b);
        assert_int_equal(a.status, b.status);
        char *ta = without_answer_id(a.resp_body, a.resp_len),
             *tb = without_answer_id(b.resp_body, b.resp_len);
        if (strcmp(ta, tb) != 0)
            fail_msg("%s: the answers differ:\n%.300s\n%.300s", c->target, ta, tb);
        free(ta);
        free(tb);
        compared++;
        fixture_request_release(&a);
        fixture_request_release(&b);
    }
    assert_true(compared >= 15);
}

/* Models fitted side by side give the answers fitted one after another do. */
static void test_threads_same_answers(void **state)
{
    (void)state;
    struct snapshot *one = fixture_snapshot_fit(1), *four = fixture_snapshot_fit(4);
    same_answers(one, four);
    assert_true(one->arena.bytes == four->arena.bytes);
    snapshot_unref(one);
    snapshot_unref(four);
}

/* The fixture fitted on threads (version 42), saved into a new file named from
 * path's template; its id into *id. */
static struct snapshot *saved_fixture(char *path, int threads, uint64_t *id)
{
    char err[300];
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    struct snapshot *s = fixture_snapshot_fit(threads);
    s->version = 42;
    if (snapshot_save(s, path, id, err, sizeof(err)))
        fail_msg("not saved: %s", err);
    return s;
}

/* A snapshot saved and loaded back (read in place from the file) answers every
 * question as the one that was fitted, and keeps its figures. */
static void test_saved_snapshot_same_answers(void **state)
{
    (void)state;
    char path[] = "/tmp/xsell-snap-XXXXXX", err[300];
    uint64_t id = 0;
    struct snapshot *fitted = saved_fixture(path, 2, &id);
    struct snapshot *loaded = snapshot_load(path, err, sizeof(err));
    if (!loaded)
        fail_msg("refused: %s", err);
    assert_int_equal(loaded->version, 42);
    assert_true(loaded->file_id == id && id != 0);
    assert_true(loaded->as_of == fitted->as_of);
    assert_string_equal(loaded->metrics_json, fitted->metrics_json ? fitted->metrics_json : "{}");
    assert_int_equal(history_nproducts(&loaded->hist), history_nproducts(&fitted->hist));
    assert_int_equal(loaded->hist.nlines, fitted->hist.nlines);
    assert_int_equal(idmap_find(&loaded->hist.customers, "C3", 2),
                     idmap_find(&fitted->hist.customers, "C3", 2));
    same_answers(fitted, loaded);
    /* the nearest customers' lists, read back whole, answer the same when the blend
     * weighs them */
    const struct model_peers *a = &fitted->peers, *b = &loaded->peers;
    assert_true(a->fitted && b->fitted && a->ncust == b->ncust);
    size_t n = (size_t)a->first[a->ncust];
    assert_true(n > 0 && memcmp(a->first, b->first, (a->ncust + 1) * sizeof(int32_t)) == 0);
    assert_true(memcmp(a->item, b->item, n * sizeof(int32_t)) == 0);
    assert_true(memcmp(a->score, b->score, n * sizeof(float)) == 0);
    fitted->params.blend_peers = loaded->params.blend_peers = 2;
    same_answers(fitted, loaded);
    snapshot_unref(loaded);
    snapshot_unref(fitted);
    unlink(path);
}

/* Writes bytes to a new file; its path into path. */
static void write_file(char *path, const unsigned char *b, size_t n)
{
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_true(write(fd, b, n) == (ssize_t)n);
    close(fd);
}

/* A damaged or foreign file is refused with the reason, never half-read. */
static void test_saved_snapshot_refused(void **state)
{
    (void)state;
    char path[] = "/tmp/xsell-snap-XXXXXX", err[300];
    uint64_t id;
    snapshot_unref(saved_fixture(path, 1, &id));
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    size_t n = (size_t)ftell(f);
    rewind(f);
    unsigned char *good = malloc(n), *bad = malloc(n);
    assert_true(fread(good, 1, n, f) == n);
    fclose(f);
    unlink(path);
    /* the middle of the largest section (the table's entries: a name of 40 bytes, then
     * offset and bytes), not the padding between two */
    uint64_t table, nsections = 0, mid = 0, most = 0;
    memcpy(&table, good + 40, 8);
    memcpy(&nsections, good + 20, 4);
    for (uint64_t k = 0; k < nsections; k++) {
        uint64_t off, bytes;
        memcpy(&off, good + table + k * 64 + SNAPFILE_NAME_MAX, 8);
        memcpy(&bytes, good + table + k * 64 + SNAPFILE_NAME_MAX + 8, 8);
        if (bytes > most) {
            most = bytes;
            mid = off + bytes / 2;
        }
    }
    assert_true(most > 0 && mid < n);
    struct {
        const char *what, *says;
        size_t at;  /* the byte changed, or n: cut to cut bytes */
        size_t cut; /* the length kept, when cut */
        bool header;
    } cases_[] = {
        {"truncated", "truncated", n, n - 100, false},
        {"a flipped byte in a section", "checksum does not match", (size_t)mid, 0, false},
        {"a foreign format", "format 2", 8, 0, true},
        {"another build's layout", "other structure sizes", 16, 0, true},
        {"not a snapshot", "not an xsell snapshot", 0, 0, false},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases_); i++) {
        memcpy(bad, good, n);
        size_t len = cases_[i].at == n ? cases_[i].cut : n;
        if (cases_[i].at < n)
            bad[cases_[i].at] += 1;
        if (cases_[i].header) { /* a file that is whole, written by someone else */
            uint64_t sum = snapfile_checksum(bad, 56);
            memcpy(bad + 56, &sum, sizeof(sum));
        }
        char p2[] = "/tmp/xsell-snap-XXXXXX";
        write_file(p2, bad, len);
        struct snapshot *s = snapshot_load(p2, err, sizeof(err));
        if (s)
            fail_msg("%s: loaded", cases_[i].what);
        if (!strstr(err, cases_[i].says))
            fail_msg("%s: \"%s\" does not say \"%s\"", cases_[i].what, err, cases_[i].says);
        unlink(p2);
    }
    free(good);
    free(bad);
}

int run_handler_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_answer_against_openapi),
        cmocka_unit_test(test_threads_same_answers),
        cmocka_unit_test(test_saved_snapshot_same_answers),
        cmocka_unit_test(test_saved_snapshot_refused),
    };
    return cmocka_run_group_tests_name("handlers", tests, NULL, NULL);
}
