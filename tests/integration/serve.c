/* serve.c - see serve.h. */
#include "integration/serve.h"

struct server main_srv;
const char *const main_env[] = {KEYS,
                                "XSELL_CORS_ORIGINS=https://shop.example",
                                "XSELL_RATE_RPS=100000",
                                "XSELL_RETRAIN_S=0",
                                "XSELL_THREADS=4",
                                NULL};

static char group_url[600];
static const char *base_url;

/* The demo shop's database, built once: every group copies it (CREATE DATABASE ...
 * TEMPLATE), so a group's writes never reach another's. */
static int demo_template(char *url, size_t n)
{
    static char tpl[600];
    if (tpl[0]) {
        snprintf(url, n, "%s", tpl);
        return 0;
    }
    char *out, dir[400];
    snprintf(dir, sizeof(dir), "%s/fixture-demo", E.tmp);
    if (db_create("xsell_demo_tpl", NULL, tpl, sizeof(tpl)))
        return -1;
    int rc = run(&out,
                 "%s gen %s --seed 42 && env DATABASE_URL='%s' %s migrate && "
                 "env DATABASE_URL='%s' %s import products %s/products.csv && "
                 "env DATABASE_URL='%s' %s import orders %s/orders.csv",
                 E.bin, dir, tpl, E.bin, tpl, E.bin, dir, tpl, E.bin, dir);
    if (rc)
        fprintf(stderr, "integration: the demo template: %s\n", out);
    free(out);
    if (rc) {
        tpl[0] = '\0';
        return -1;
    }
    snprintf(url, n, "%s", tpl);
    return 0;
}

int group_setup(const char *name)
{
    return group_setup_with(name, NULL);
}

int group_setup_with(const char *name, const char *const *extra_env)
{
    char tpl[600];
    if (demo_template(tpl, sizeof(tpl)) ||
        db_create(name, "xsell_demo_tpl", group_url, sizeof(group_url)))
        return -1;
    base_url = E.db_url;
    E.db_url = group_url;
    const char *env[32];
    size_t n = 0;
    for (size_t i = 0; main_env[i]; i++)
        env[n++] = main_env[i];
    for (size_t i = 0; extra_env && extra_env[i] && n < 31; i++)
        env[n++] = extra_env[i];
    env[n] = NULL;
    if (server_start(&main_srv, env))
        return -1;
    return server_wait(&main_srv, "/readyz", 200, 90) ? 0 : -1;
}

int group_teardown(void)
{
    if (main_srv.pid > 0)
        server_stop(&main_srv);
    main_srv.pid = 0;
    if (base_url)
        E.db_url = base_url;
    return 0;
}

void expect_problem(struct resp *r, long status, const char *detail_has)
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

void expect_bad_gets(const struct bad_get *bad, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++) {
        struct resp r;
        GET(bad[i].path, key, &r);
        expect_problem(&r, bad[i].status, bad[i].says);
        resp_free(&r);
    }
}

/* True when product id is in the JSON items list. */
bool listed(const struct resp *r, const char *id)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(r->json, "items"))
    {
        if (strcmp(cJSON_GetObjectItem(it, "product_id")->valuestring, id) == 0)
            return true;
    }
    return false;
}

const char *top_id(const struct resp *r, int i)
{
    const cJSON *it = cJSON_GetArrayItem(cJSON_GetObjectItem(r->json, "items"), i);
    return it ? cJSON_GetObjectItem(it, "product_id")->valuestring : "";
}

cJSON *demo_truth(void)
{
    char *out;
    assert_int_equal(run(&out, "cat %s/fixture-demo/truth.json", E.tmp), 0);
    cJSON *truth = cJSON_Parse(out);
    free(out);
    assert_non_null(truth);
    return truth;
}

/* The next page's cursor of a list answer into cursor; false on the last page. */
bool next_page(const struct resp *r, char *cursor, size_t n)
{
    const cJSON *next = cJSON_GetObjectItem(r->json, "next_cursor");
    if (!cJSON_IsString(next))
        return false;
    snprintf(cursor, n, "%s", next->valuestring);
    return true;
}

long serving_version(struct server *s)
{
    struct resp r;
    http(s, "GET", "/admin/models", ADM, NULL, NULL, &r);
    long v = r.status == 200 ? (long)jnum(&r, "serving_version") : -1;
    resp_free(&r);
    return v;
}

/* The status of run v in /admin/models, copied into out. */
const char *run_status(long v, char *out, size_t n)
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

void post_order_created(const char *body)
{
    struct resp r;
    http(&main_srv, "POST", "/orders", ADM, body, NULL, &r);
    if (r.status != 201)
        fail_msg("POST /orders: %ld, want 201: %.300s", r.status, r.body ? r.body : "");
    resp_free(&r);
}

void order_of_top(struct server *s, const char *order_id, char *top, size_t topn, char *body,
                  size_t bodyn)
{
    struct resp r;
    http(s, "GET", "/recommend?customer=C00002&limit=5", PUB, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    snprintf(top, topn, "%s", top_id(&r, 0));
    resp_free(&r);
    snprintf(body, bodyn,
             "{\"order_id\":\"%s\",\"customer_id\":\"C00002\",\"ordered_at\":"
             "\"2025-11-03T09:00:00Z\",\"lines\":[{\"product_id\":\"%s\",\"quantity\":1,"
             "\"unit_price\":5}]}",
             order_id, top);
}

long request_training(void)
{
    struct resp r;
    http(&main_srv, "POST", "/admin/train", ADM, NULL, NULL, &r);
    assert_int_equal(r.status, 202);
    long run = (long)jnum(&r, "run");
    resp_free(&r);
    return run;
}

bool wait_run(long run, const char *status, double seconds)
{
    char st[32];
    for (int i = 0; i < seconds * 10; i++) {
        if (strcmp(run_status(run, st, sizeof(st)), status) == 0)
            return true;
        usleep(100000);
    }
    return false;
}

long metric(const char *name)
{
    return metric_of(&main_srv, name);
}

long metric_of(struct server *s, const char *name)
{
    struct resp r;
    http(s, "GET", "/metrics", NULL, NULL, NULL, &r);
    const char *at = r.body;
    while ((at = strstr(at, name)) != NULL && at != r.body && at[-1] != '\n' && name[0] != '\n')
        at++; /* a sample starts its line; # HELP and # TYPE name it mid-line */
    long v = at ? strtol(at + strlen(name), NULL, 10) : -1;
    resp_free(&r);
    return v;
}

/* A time days ago (negative: ahead) as ISO-8601 UTC. */
void days_ago(double days, char *out, size_t n)
{
    time_t t = time(NULL) - (time_t)(days * 86400);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Waits for the answer log to write an answer (it writes every second). */
void answer_written(const char *rid)
{
    char sql[200];
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM recommendations WHERE recommendation_id = '%s'", rid);
    for (int i = 0; i < 100 && sql_long(sql) == 0; i++)
        usleep(100 * 1000);
    assert_int_equal(sql_long(sql), 1);
}

/* Member a (then b of it, unless NULL) of o, which must be a number. */
double jmember(const cJSON *o, const char *a, const char *b)
{
    const cJSON *v = cJSON_GetObjectItem(o, a);
    if (b)
        v = cJSON_GetObjectItem(v, b);
    if (!cJSON_IsNumber(v))
        fail_msg("%s%s%s is not a number", a, b ? "." : "", b ? b : "");
    return v->valuedouble;
}
