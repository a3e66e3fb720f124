/* Integration: a shop written by `xsell gen --experiment` (gen.h) with a planted lift,
 * imported whole (products, orders, events, the answers shown), served and reported on:
 * the report's interval covers the planted lift and calls the winner, CUPED narrows it,
 * the split is as planned; the events teach the models (their weights tuned, the
 * also-viewed list); the orders' attribution; the events and answers files imported
 * all or nothing, idempotent. On a database and a server of its own. */
#include <math.h>

#include "integration/serve.h"

#define PLANTED 0.3

static char sim_url[600], sim_dir[400];
static const char *saved_url;
static const char *const sim_env[] = {KEYS, "XSELL_RETRAIN_S=0", "XSELL_THREADS=4",
                                      "XSELL_RATE_RPS=100000",
                                      /* the simulated experiment ran in late 2025 */
                                      "XSELL_EVENTS_KEEP_DAYS=3650", NULL};

static int setup(void **state)
{
    char *out;
    (void)state;
    snprintf(sim_dir, sizeof(sim_dir), "%s/fixture-sim", E.tmp);
    if (db_create("xsell_sim", NULL, sim_url, sizeof(sim_url)))
        return -1;
    int rc = run(&out,
                 "set -e; %s gen %s --seed 42 --experiment 28 --lift %g; export "
                 "DATABASE_URL='%s' XSELL_EVENTS_KEEP_DAYS=3650; %s migrate; "
                 "%s import products %s/products.csv; %s import orders %s/orders.csv; "
                 "%s import events %s/events.csv; %s import answers %s/answers.csv",
                 E.bin, sim_dir, PLANTED, sim_url, E.bin, E.bin, sim_dir, E.bin, sim_dir, E.bin,
                 sim_dir, E.bin, sim_dir);
    print_message("%s", out);
    free(out);
    if (rc)
        return -1;
    saved_url = E.db_url;
    E.db_url = sim_url;
    if (server_start(&main_srv, sim_env))
        return -1;
    return server_wait(&main_srv, "/readyz", 200, 120) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    if (main_srv.pid > 0)
        server_stop(&main_srv);
    main_srv.pid = 0;
    if (saved_url)
        E.db_url = saved_url;
    return 0;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *text = calloc(1, 1 << 16);
    size_t n = fread(text, 1, (1 << 16) - 1, f);
    fclose(f);
    text[n] = '\0';
    return text;
}

static void test_sim_report(void **state)
{
    struct resp r;
    char path[500];
    (void)state;
    snprintf(path, sizeof(path), "%s/experiment.json", sim_dir);
    char *definition = slurp(path);
    http(&main_srv, "PUT", "/experiments/sim", ADM, definition, NULL, &r);
    free(definition);
    assert_int_equal(r.status, 201);
    resp_free(&r);
    GET("/experiments/sim/report", INT, &r);
    assert_int_equal(r.status, 200);
    cJSON *results = cJSON_GetObjectItem(r.json, "results");
    cJSON *control = cJSON_GetArrayItem(results, 0), *treated = cJSON_GetArrayItem(results, 1);
    cJSON *vs = cJSON_GetObjectItem(treated, "vs_control");
    cJSON *plain = cJSON_GetObjectItem(vs, "revenue_per_unit"),
          *cuped = cJSON_GetObjectItem(vs, "revenue_per_unit_cuped");
#define NUM(o, k) cJSON_GetObjectItem(o, k)->valuedouble
    print_message("xsell gen --experiment 28 --lift %.2f: %.0f customers (%.0f / %.0f); lift %.3f, "
                  "always-valid 95%% [%.3f, %.3f]; CUPED %.3f [%.3f, %.3f], %.1f%% narrower; "
                  "CTR %.3f / %.3f; conversion %.3f / %.3f; verdict %s; SRM p %.3f\n",
                  PLANTED, jnum(&r, "units"), NUM(control, "units"), NUM(treated, "units"),
                  NUM(plain, "lift"), NUM(plain, "lift_low"), NUM(plain, "lift_high"),
                  NUM(cuped, "lift"), NUM(cuped, "lift_low"), NUM(cuped, "lift_high"),
                  100 * NUM(vs, "cuped_narrowing"), NUM(control, "ctr"), NUM(treated, "ctr"),
                  NUM(control, "conversion"), NUM(treated, "conversion"), jstr(&r, "verdict"),
                  NUM(cJSON_GetObjectItem(r.json, "srm"), "p_value"));
    assert_true(NUM(plain, "lift_low") <= PLANTED && PLANTED <= NUM(plain, "lift_high"));
    assert_true(NUM(cuped, "lift_low") <= PLANTED && PLANTED <= NUM(cuped, "lift_high"));
    assert_true(NUM(cuped, "lift_high") - NUM(cuped, "lift_low") <
                NUM(plain, "lift_high") - NUM(plain, "lift_low"));
    assert_string_equal(jstr(&r, "verdict"), "variant wins");
    assert_false(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(r.json, "srm"), "flagged")));
    assert_true(NUM(control, "impressions") > 0 && NUM(treated, "clicks") > 0 &&
                NUM(treated, "add_to_carts") > 0);
    assert_true(jnum(&r, "units") == sql_long("SELECT count(DISTINCT customer_id) FROM "
                                              "recommendations WHERE experiment_id = 'sim'"));
    resp_free(&r);
    /* the orders the answers sold, by their lines' recommendation_id */
    GET("/admin/attribution?from=2025-10-30&to=2025-11-28", ADM, &r);
    assert_int_equal(r.status, 200);
    cJSON *tot = cJSON_GetObjectItem(r.json, "totals");
    print_message("attribution over the experiment: %s\n", cJSON_PrintUnformatted(tot));
    assert_true(sql_long("SELECT count(*) FROM attributed_lines('2025-10-30', '2025-11-28', 24) "
                         "WHERE how = 'direct' AND experiment_id = 'sim'") > 100);
    resp_free(&r);
#undef NUM
}

static void test_sim_signals_teach(void **state)
{
    struct resp r;
    (void)state;
    /* the run read the events: the signals' weights were tried on the validation window */
    char *chosen = sql_text("SELECT (metrics->'tuning'->'chosen'->>'click_weight') || ' ' || "
                            "(metrics->'tuning'->'chosen'->>'cart_weight') FROM model_runs "
                            "WHERE status = 'succeeded' ORDER BY version DESC LIMIT 1");
    long tried = sql_long("SELECT count(*) FROM model_runs, jsonb_array_elements(metrics->"
                          "'tuning'->'trials') t WHERE status = 'succeeded' AND "
                          "(t->>13)::float8 > 0");
    print_message("tuned on the simulated events: click and cart weights %s (%ld trials with a "
                  "click weight)\n",
                  chosen, tried);
    assert_non_null(chosen);
    assert_true(tried >= 3);
    free(chosen);
    /* what the sessions that looked at P001 also looked at */
    GET("/recommend?items=P001&strategy=also_viewed&limit=5", PUB, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(&r, "strategy"), "also_viewed");
    cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItem(r.json, "items"), 0);
    cJSON *reason = cJSON_GetObjectItem(first, "reason");
    assert_string_equal(cJSON_GetObjectItem(reason, "kind")->valuestring, "also_viewed");
    assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(reason, "because"), 0)->valuestring,
                        "P001");
    resp_free(&r);
}

static void test_sim_import_again_and_bad(void **state)
{
    char *out;
    (void)state;
    /* (the imported answers: this server records its own beside them) */
    long events = sql_long("SELECT count(*) FROM events"),
         answers = sql_long("SELECT count(*) FROM recommendations WHERE recommendation_id LIKE "
                            "'sim-%'");
    /* again: nothing twice */
    int rc = run(&out,
                 "export DATABASE_URL='%s' XSELL_EVENTS_KEEP_DAYS=3650; %s import events "
                 "%s/events.csv && %s import answers %s/answers.csv",
                 sim_url, E.bin, sim_dir, E.bin, sim_dir);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "0 created"));
    free(out);
    assert_int_equal(sql_long("SELECT count(*) FROM events"), events);
    assert_int_equal(sql_long("SELECT count(*) FROM recommendations WHERE recommendation_id LIKE "
                              "'sim-%'"),
                     answers);
    /* bad files: refused with the line and the reason, nothing written */
    static const struct {
        const char *kind, *text, *says;
    } bad[] = {
        {"events", "event_id,type\nx,view\n", "the header must be"},
        {"events",
         "event_id,type,at,session_id,customer_id,recommendation_id,product_id,items\n"
         "T-i1,view,2025-11-01T00:00:00Z,s1,,,P001,\nT-i2,click,2025-11-01T00:00:00Z,s1,,,,\n",
         "events:3: product_id is required for a click"},
        {"events",
         "event_id,type,at,session_id,customer_id,recommendation_id,product_id,items\n"
         "T-i1,look,2025-11-01T00:00:00Z,s1,,,P001,\n",
         "events:2: type must be"},
        {"events",
         "event_id,type,at,session_id,customer_id,recommendation_id,product_id,items\n"
         "T-i1,view,2999-01-01T00:00:00Z,s1,,,P001,\n",
         "in the future"},
        {"events",
         "event_id,type,at,session_id,customer_id,recommendation_id,product_id,items\n"
         "T-i1,view,2025-11-01T00:00:00Z,s1,,,P001,\nT-i1,view,2025-11-01T00:00:00Z,s1,,,P002,\n",
         "appears twice"},
        {"events",
         "event_id,type,at,session_id,customer_id,recommendation_id,product_id,items\n"
         "T-i1,view,yesterday-ish,s1,,,P001,\n",
         "timestamp"},
        {"answers",
         "recommendation_id,surface,at,model_version,strategy,customer_id,session_id,"
         "experiment_id,variant,items\nT-a1,checkout,2025-11-01T00:00:00Z,,,,,,,{}\n",
         "answers:2: surface must be recommend, upsell or retention"},
        {"answers",
         "recommendation_id,surface,at,model_version,strategy,customer_id,session_id,"
         "experiment_id,variant,items\nT-a1,recommend,2025-11-01T00:00:00Z,,,,,sim,,{P001}\n",
         "experiment_id and variant come together"},
    };
    char path[500];
    snprintf(path, sizeof(path), "%s/bad.csv", E.tmp);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(bad[i].text, f);
        fclose(f);
        rc = run(&out, "DATABASE_URL='%s' XSELL_EVENTS_KEEP_DAYS=3650 %s import %s %s", sim_url,
                 E.bin, bad[i].kind, path);
        if (rc == 0 || !strstr(out, bad[i].says))
            fail_msg("import %s of case %zu: rc %d, said %s", bad[i].kind, i, rc, out);
        assert_non_null(strstr(out, "nothing was written"));
        free(out);
    }
    assert_int_equal(sql_long("SELECT count(*) FROM events"), events);
    assert_int_equal(sql_long("SELECT count(*) FROM recommendations WHERE recommendation_id LIKE "
                              "'sim-%'"),
                     answers);
    /* past the window kept: refused too (the retention would drop them) */
    rc = run(&out, "DATABASE_URL='%s' %s import events %s/events.csv", sim_url, E.bin, sim_dir);
    assert_int_not_equal(rc, 0);
    assert_non_null(strstr(out, "days kept"));
    free(out);
}

int run_simulator_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sim_report),
        cmocka_unit_test(test_sim_signals_teach),
        cmocka_unit_test(test_sim_import_again_and_bad),
    };
    return cmocka_run_group_tests_name("simulator", tests, setup, teardown);
}
