/* Integration tests: the database layer fails on purpose (XSELL_TEST_DB_FAULT=N makes
 * the Nth statement, COPY start, COPY message or COPY end of a process fail, db.h),
 * for every N a command reaches, on a database of this group's own. Each failed
 * command must leave the database as it was: migrate (all files or none), an import
 * of orders (the tables' digest unchanged) and a training run's churn_scores. */
#include "integration/harness.h"

static char url[600], dir[400];

/* The schema: every column and index of the public tables. */
static char *schema_fingerprint(void)
{
    return sql_text_on(url, "SELECT md5(coalesce((SELECT string_agg(table_name || '.' || "
                            "column_name || ':' || data_type, '|' ORDER BY 1) FROM "
                            "information_schema.columns WHERE table_schema = 'public'), '') || "
                            "coalesce((SELECT string_agg(indexdef, '|' ORDER BY 1) FROM pg_indexes "
                            "WHERE schemaname = 'public'), ''))");
}

static char *scores_fingerprint(void)
{
    return sql_text_on(url, "SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
                            "FROM churn_scores t");
}

/* Runs "xsell ARGS" on this group's database with the Nth call failing: its exit
 * status; the output in *out (free()). */
static int with_fault(long n, char **out, const char *args)
{
    return run(out, "env DATABASE_URL='%s' XSELL_TEST_DB_FAULT=%ld XSELL_EVAL_HOLDOUT_DAYS=0 %s %s",
               url, n, E.bin, args);
}

static int setup(void **state)
{
    (void)state;
    if (db_create("xsell_faults", NULL, url, sizeof(url)))
        return -1;
    snprintf(dir, sizeof(dir), "%s/faults", E.tmp);
    char *out;
    int rc = run(&out, "%s gen %s --seed 5 --customers 1500", E.bin, dir);
    free(out);
    return rc;
}

static void test_migrate_all_or_nothing(void **state)
{
    char *out;
    (void)state;
    char *empty = schema_fingerprint();
    long n = 1;
    for (; n < 100; n++) {
        int rc = with_fault(n, &out, "migrate");
        bool injected = strstr(out, "fails on purpose") != NULL;
        free(out);
        if (!injected)
            break; /* past its last call */
        assert_int_not_equal(rc, 0);
        char *now = schema_fingerprint();
        if (strcmp(now, empty) != 0)
            fail_msg("migrate failing at call %ld changed the schema", n);
        free(now);
    }
    print_message("migrate: %ld calls failed one at a time, the schema untouched each time\n",
                  n - 1);
    assert_true(n > 3 && n < 100); /* it did reach the database, and finished */
    /* the run past the last call applied everything: nothing is left */
    char *migrated = schema_fingerprint();
    assert_string_not_equal(migrated, empty);
    assert_int_equal(with_fault(0, &out, "migrate"), 0);
    assert_non_null(strstr(out, "up to date"));
    free(out);
    free(migrated);
    free(empty);
}

static void test_import_all_or_nothing(void **state)
{
    char *out, args[600];
    (void)state;
    snprintf(args, sizeof(args), "import products %s/products.csv", dir);
    assert_int_equal(with_fault(0, &out, args), 0);
    free(out);
    char *before = data_fingerprint_on(url);
    snprintf(args, sizeof(args), "import orders %s/orders.csv", dir);
    long n = 1;
    for (; n < 200; n++) {
        int rc = with_fault(n, &out, args);
        if (!strstr(out, "fails on purpose")) {
            assert_int_equal(rc, 0);
            free(out);
            break; /* past its last call */
        }
        assert_int_not_equal(rc, 0);
        assert_non_null(strstr(out, "nothing was written"));
        free(out);
        char *now = data_fingerprint_on(url);
        if (strcmp(now, before) != 0)
            fail_msg("an import failing at call %ld changed the data", n);
        free(now);
    }
    print_message("import orders: %ld calls failed one at a time, the data untouched each time\n",
                  n - 1);
    assert_true(n > 8 && n < 200); /* several COPY messages and chunks were reached */
    char *after = data_fingerprint_on(url);
    assert_string_not_equal(after, before); /* the last one wrote it all */
    free(after);
    free(before);
}

static void test_scores_all_or_nothing(void **state)
{
    char *out;
    (void)state;
    assert_int_equal(with_fault(0, &out, "train"), 0);
    free(out);
    char *last = scores_fingerprint();
    long failed = 0, n = 1;
    for (; n < 100; n++) {
        int rc = with_fault(n, &out, "train");
        bool injected = strstr(out, "fails on purpose") != NULL;
        bool scores_failed = rc != 0 || strstr(out, "scores_error") != NULL;
        free(out);
        if (!injected)
            break; /* past the run's last call */
        char *now = scores_fingerprint();
        if (scores_failed && strcmp(now, last) != 0)
            fail_msg("a training run failing at call %ld changed churn_scores", n);
        failed += scores_failed;
        free(last);
        last = now; /* a run whose fault spared the scores wrote its own */
    }
    print_message("train: %ld of %ld calls failed the run or its scores, churn_scores untouched "
                  "each time\n",
                  failed, n - 1);
    assert_true(failed > 5 && n < 100);
    free(last);
}

int run_fault_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_migrate_all_or_nothing),
        cmocka_unit_test(test_import_all_or_nothing),
        cmocka_unit_test(test_scores_all_or_nothing),
    };
    return cmocka_run_group_tests_name("faults", tests, setup, NULL);
}
