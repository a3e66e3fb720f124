/* serve.h - what the server groups share: each group (test_api.c, test_recommend.c,
 * ...) has a database of its own, cloned from the demo shop, and a server of its own
 * on it (main_srv), started by group_setup and stopped by group_teardown. */
#ifndef XSELL_TEST_SERVE_H
#define XSELL_TEST_SERVE_H

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

/* The group's server (one group runs at a time). */
extern struct server main_srv;
/* Its environment: the keys, one CORS origin, no rate limit to speak of. */
extern const char *const main_env[];

/* A database of the group's own (name), a copy of the demo shop (xsell gen --seed 42,
 * imported once per run), made the harness's database (E.db_url, which the server
 * and sql_*() use) until group_teardown; then main_srv serving it, ready. */
int group_setup(const char *name);
/* The same with settings of its own beside main_env's (NULL-terminated). */
int group_setup_with(const char *name, const char *const *extra_env);
int group_teardown(void);

#define GET(path, key, r) http(&main_srv, "GET", path, key, NULL, NULL, r)
/* A GET that must fail: path, status, a word the detail must say. */
struct bad_get {
    const char *path;
    long status;
    const char *says;
};
#define ORDER(id, lines)                                                                           \
    "{\"order_id\":\"" id "\",\"customer_id\":\"T-cust\",\"ordered_at\":"                          \
    "\"2025-11-01T10:00:00Z\",\"lines\":" lines "}"
#define LINES2                                                                                     \
    "[{\"product_id\":\"P001\",\"quantity\":2,\"unit_price\":13.5},"                               \
    "{\"product_id\":\"T-NEW\",\"quantity\":1,\"unit_price\":\"9.99\"}]"

void expect_problem(struct resp *r, long status, const char *detail_has);
void expect_bad_gets(const struct bad_get *bad, size_t n, const char *key);
bool listed(const struct resp *r, const char *id);
const char *top_id(const struct resp *r, int i);
/* What the demo generator planted; cJSON_Delete it. */
cJSON *demo_truth(void);
bool next_page(const struct resp *r, char *cursor, size_t n);
long serving_version(struct server *s);
const char *run_status(long v, char *out, size_t n);
long request_training(void);
/* POSTs body to /orders with the admin key; it must be created (201). */
void post_order_created(const char *body);
/* Customer C00002's top recommendation on s into top, and the body of an order
 * (order_id) of it for C00002 into body: read-your-writes checks. */
void order_of_top(struct server *s, const char *order_id, char *top, size_t topn, char *body,
                  size_t bodyn);
bool wait_run(long run, const char *status, double seconds);
long metric(const char *name);
/* A time days ago (negative: ahead) as ISO-8601 UTC into out. */
void days_ago(double days, char *out, size_t n);
/* Waits for the answer log to write the answer rid (it writes every second). */
void answer_written(const char *rid);
/* Member a (then b of it, unless NULL) of o, which must be a number. */
double jmember(const cJSON *o, const char *a, const char *b);
long metric_of(struct server *s, const char *name); /* of another server */

int run_api_tests(void);
int run_recommend_tests(void);
int run_upsell_tests(void);
int run_churn_tests(void);
int run_channels_tests(void);
int run_retention_tests(void);
int run_price_tests(void);
int run_forecast_tests(void);
int run_writes_tests(void);
int run_simulator_tests(void);
int run_lifecycle_tests(void);
int run_hardening_tests(void);

#endif
