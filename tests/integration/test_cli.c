/* Integration: xsell migrate, gen, import and train against a real PostgreSQL. */
#include "integration/harness.h"

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <math.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static char demo[300];

static void test_migrate_twice(void **state)
{
    char *out;
    (void)state;
    assert_int_equal(run(&out, "%s migrate", E.bin), 0);
    assert_non_null(strstr(out, "applied"));
    free(out);
    assert_int_equal(run(&out, "%s migrate", E.bin), 0);
    assert_non_null(strstr(out, "up to date"));
    free(out);
    assert_int_equal(sql_long("SELECT count(*) FROM schema_migrations"),
                     sql_long("SELECT count(*) FROM schema_migrations"));
    assert_true(sql_long("SELECT count(*) FROM information_schema.tables WHERE table_name IN "
                         "('products','customers','orders','order_lines','model_runs')") == 5);
}

static void write_file(const char *path, const char *text, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, n, f), n);
    fclose(f);
}

/* Every index and constraint on the tables a first load rebuilds. */
#define SCHEMA_SQL                                                                                 \
    "SELECT string_agg(d, ' ; ' ORDER BY d) FROM ("                                                \
    " SELECT pg_get_indexdef(indexrelid) AS d FROM pg_index"                                       \
    "  WHERE indrelid IN ('orders'::regclass, 'order_lines'::regclass)"                            \
    " UNION ALL SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint"             \
    "  WHERE conrelid IN ('orders'::regclass, 'order_lines'::regclass)) x"
/* What an import writes, without the times of writing (now()). */
#define ROWS_SQL                                                                                   \
    "SELECT md5((SELECT string_agg(concat_ws(',', product_id, name, category, price, cost, "       \
    "in_stock), '|' ORDER BY product_id) FROM products)"                                           \
    " || (SELECT string_agg(concat_ws(',', customer_id, created_at), '|' ORDER BY customer_id) "   \
    "FROM customers)"                                                                              \
    " || (SELECT string_agg(concat_ws(',', order_id, customer_id, ordered_at), '|' ORDER BY "      \
    "order_id) FROM orders)"                                                                       \
    " || (SELECT string_agg(t::text, '|' ORDER BY t::text) FROM order_lines t))"

/* A fresh, migrated database of this name with the demo's products: its URL. */
static void fresh_shop(const char *name, char *url, size_t n)
{
    char *out;
    assert_int_equal(db_create(name, NULL, url, n), 0);
    assert_int_equal(run(&out,
                         "DATABASE_URL='%s' %s migrate && DATABASE_URL='%s' %s import "
                         "products %s/products.csv",
                         url, E.bin, url, E.bin, demo),
                     0);
    free(out);
}

/* The demo's orders imported into the shop at url (it must succeed): what it said. */
static char *import_demo_orders(const char *url)
{
    char *out;
    int rc = run(&out, "DATABASE_URL='%s' %s import orders %s/orders.csv", url, E.bin, demo);
    if (rc != 0)
        fail_msg("import into %s: exit %d, said: %s", url, rc, out);
    return out;
}

/* The query's one value on url is want. */
static void expect_on(const char *url, const char *sql, const char *want)
{
    char *got = sql_text_on(url, sql);
    assert_string_equal(got, want);
    free(got);
}

/* An import into a shop without orders drops the indexes and constraints of orders
 * and order_lines, copies the rows in and rebuilds them in the same transaction: the
 * same rows as the usual path, the same schema after, and after a failure too; with
 * the tables in use by another session it takes the usual path. */
static void test_import_first_load(void **state)
{
    char bulk[400], usual[400], path[400], *out;
    (void)state;
    fresh_shop("xsell_first_load", bulk, sizeof(bulk));
    fresh_shop("xsell_usual_load", usual, sizeof(usual));
    char *schema = sql_text_on(bulk, SCHEMA_SQL);
    assert_non_null(strstr(schema, "PRIMARY KEY"));
    assert_non_null(strstr(schema, "FOREIGN KEY"));

    /* a bad row after the rebuild began: all of it rolled back, the schema whole */
    snprintf(path, sizeof(path), "%s/first_bad.csv", E.tmp);
    const char *bad = "order_id,customer_id,ordered_at,product_id,quantity,unit_price\n"
                      "o-1,c-1,2024-01-02T10:00:00Z,P001,1,9.50\n"
                      "o-2,c-1,2024-01-03T10:00:00Z,P001,zero,9.50\n";
    write_file(path, bad, strlen(bad));
    assert_int_not_equal(run(&out, "DATABASE_URL='%s' %s import orders %s", bulk, E.bin, path), 0);
    assert_non_null(strstr(out, "a first load"));
    assert_non_null(strstr(out, ":3:"));
    free(out);
    expect_on(bulk, SCHEMA_SQL, schema);
    expect_on(bulk, "SELECT count(*) FROM orders", "0");

    /* the same orders through both paths: another session reads orders meanwhile */
    PGconn *reader = PQconnectdb(usual);
    assert_int_equal(PQstatus(reader), CONNECTION_OK);
    PQclear(PQexec(reader, "BEGIN"));
    PGresult *r = PQexec(reader, "SELECT count(*) FROM orders");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    PQclear(r);
    out = import_demo_orders(usual);
    assert_non_null(strstr(out, "the usual path"));
    assert_null(strstr(out, "a first load"));
    free(out);
    PQclear(PQexec(reader, "COMMIT"));
    PQfinish(reader);
    out = import_demo_orders(bulk);
    assert_non_null(strstr(out, "a first load"));
    free(out);
    char *rows = sql_text_on(usual, ROWS_SQL);
    expect_on(bulk, ROWS_SQL, rows);
    expect_on(bulk, SCHEMA_SQL, schema);
    /* a second import finds orders: the usual path, nothing changes */
    out = import_demo_orders(bulk);
    assert_null(strstr(out, "a first load"));
    assert_non_null(strstr(out, " 0 orders created"));
    free(out);
    expect_on(bulk, ROWS_SQL, rows);
    free(rows);
    free(schema);
}

static void test_gen_and_import(void **state)
{
    char *out;
    (void)state;
    snprintf(demo, sizeof(demo), "%s/demo", E.tmp);
    assert_int_equal(run(&out, "%s gen %s --seed 42", E.bin, demo), 0);
    free(out);
    assert_int_equal(run(&out, "%s import products %s/products.csv", E.bin, demo), 0);
    assert_non_null(strstr(out, "96 created"));
    free(out);
    assert_int_equal(run(&out, "%s import orders %s/orders.csv", E.bin, demo), 0);
    free(out);
    long lines = sql_long("SELECT count(*) FROM order_lines");
    assert_true(lines >= 90000);
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "tail -n +2 %s/orders.csv | wc -l", demo);
    assert_int_equal(run(&out, "%s", cmd), 0);
    assert_int_equal(strtol(out, NULL, 10), lines);
    free(out);
    /* Guests are orders without a customer; returns are negative lines. */
    assert_true(sql_long("SELECT count(*) FROM orders WHERE customer_id IS NULL") > 0);
    assert_true(sql_long("SELECT count(*) FROM order_lines WHERE quantity < 0") > 0);
    assert_int_equal(sql_long("SELECT count(*) FROM order_lines l LEFT JOIN products p "
                              "USING (product_id) WHERE p.product_id IS NULL"),
                     0);

    /* Re-importing the same files changes nothing. */
    char *before = data_fingerprint();
    assert_int_equal(run(&out, "%s import orders %s/orders.csv", E.bin, demo), 0);
    assert_non_null(strstr(out, " 0 orders created"));
    free(out);
    assert_int_equal(run(&out, "%s import products %s/products.csv", E.bin, demo), 0);
    assert_non_null(strstr(out, "0 created, 0 updated"));
    free(out);
    char *after = data_fingerprint();
    assert_string_equal(before, after);
    free(before);
    free(after);
}

#define GOOD "o-a,c-1,2024-01-02T10:00:00Z,P001,1,9.50\no-a,c-1,2024-01-02T10:00:00Z,P002,2,3\n"
#define NUL_CASE                                                                                   \
    HEAD GOOD "o-b,c-1,2024-01-02,P0\0"                                                            \
              "01,1,2\n"
#define HEAD "order_id,customer_id,ordered_at,product_id,quantity,unit_price\n"

static void test_import_rejects_whole_file(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        size_t n;
        const char *where, *says;
    } cases[] = {
        {"order_id,customer,ordered_at,product_id,quantity,unit_price\n" GOOD, 0, ":1:", "header"},
        {HEAD GOOD "o-b,c-1,2024-01-02T10:00:00Z,P001,1\n", 0, ":4:", "expected 6 fields"},
        {HEAD GOOD "o-b,c-1,2024-01-02T10:00:00Z,P001,1,2,3\n", 0, ":4:", "expected 6 fields"},
        {HEAD GOOD "o-b,c-1,2024-01-02T10:00:00Z,P001,one,2\n", 0, ":4:", "quantity \"one\""},
        {HEAD GOOD "o-b,c-1,2024-01-02T10:00:00Z,P001,1,2.x\n", 0, ":4:", "unit_price \"2.x\""},
        {HEAD GOOD "o-b,c-1,2024-02-30,P001,1,2\n", 0, ":4:", "ordered_at"},
        {HEAD GOOD "o-b,c-1,2024-01-02,P001,1,-2\n", 0, ":4:", "negative"},
        {HEAD GOOD "o-b,c-1,2024-01-02,\"P001,1,2\n", 0, ":4:", "unterminated"},
        {NUL_CASE, sizeof(NUL_CASE), ":4:", "NUL"},
        {HEAD GOOD "o-b,c-\xC3\x28,2024-01-02,P001,1,2\n", 0, ":4:", "UTF-8"},
        {HEAD GOOD "o-a,c-2,2024-01-02T10:00:00Z,P003,1,2\n", 0, ":4:", "different customer_id"},
        {HEAD GOOD "o-b,c-1,2024-01-02,P001,0,2\n", 0, ":4:", "quantity is 0"},
        {HEAD GOOD "o-b,c-1,2024-01-02,,1,2\n", 0, ":4:", "product_id is empty"},
        {HEAD GOOD "o-b,c-1,2999-10-29,P001,1,2\n", 0, ":4:", "more than a day in the future"},
        {HEAD GOOD "o-b,\"c\n1\",2024-01-02,P001,1,2\n", 0, ":4:", "control characters"},
    };
    char path[400];
    snprintf(path, sizeof(path), "%s/bad.csv", E.tmp);
    char *before = data_fingerprint();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *out;
        size_t n = cases[i].n ? cases[i].n - 1 : strlen(cases[i].text);
        write_file(path, cases[i].text, n);
        int rc = run(&out, "%s import orders %s", E.bin, path);
        if (rc == 0 || !strstr(out, cases[i].where) || !strstr(out, cases[i].says))
            fail_msg("case %zu: exit %d, said: %s", i, rc, out);
        free(out);
    }
    char *after = data_fingerprint();
    assert_string_equal(before, after);
    free(before);
    free(after);

    /* Products: a negative price or a bad in_stock rejects the file, too. */
    write_file(
        path, "product_id,name,category,price,cost,in_stock\nZ1,a,b,1,,true\nZ2,a,b,-1,,true\n",
        strlen("product_id,name,category,price,cost,in_stock\nZ1,a,b,1,,true\nZ2,a,b,-1,,true\n"));
    char *out;
    assert_int_not_equal(run(&out, "%s import products %s", E.bin, path), 0);
    assert_non_null(strstr(out, ":3:"));
    free(out);
    assert_int_equal(sql_long("SELECT count(*) FROM products WHERE product_id = 'Z1'"), 0);
    assert_int_not_equal(run(&out, "%s import products /nonexistent.csv", E.bin), 0);
    free(out);
}

static void test_train_prints_figures(void **state)
{
    char *out;
    (void)state;
    assert_int_equal(run(&out, "{ %s train 2>/dev/null; }", E.bin), 0);
    cJSON *j = cJSON_Parse(out);
    assert_true(cJSON_IsObject(j));
    cJSON *data = cJSON_GetObjectItem(j, "data");
    assert_non_null(data);
    assert_int_equal((long)cJSON_GetObjectItem(data, "lines")->valuedouble,
                     sql_long("SELECT count(*) FROM order_lines"));
    assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "models"), "popular"));
    long v = (long)cJSON_GetObjectItem(j, "version")->valuedouble;
    char q[200];
    snprintf(q, sizeof(q),
             "SELECT count(*) FROM model_runs WHERE version = %ld AND status = 'succeeded' "
             "AND metrics ? 'models'",
             v);
    assert_int_equal(sql_long(q), 1);
    /* each model's part of the snapshot, in bytes */
    cJSON *bytes = cJSON_GetObjectItem(j, "snapshot_bytes_models");
    double sum = 0;
    for (cJSON *b = bytes ? bytes->child : NULL; b; b = b->next) {
        assert_true(b->valuedouble > 0);
        sum += b->valuedouble;
    }
    assert_int_equal(cJSON_GetArraySize(bytes),
                     cJSON_GetArraySize(cJSON_GetObjectItem(j, "models")));
    assert_true(cJSON_GetArraySize(bytes) >= 10);
    assert_true(sum < cJSON_GetObjectItem(j, "snapshot_bytes")->valuedouble);
    cJSON_Delete(j);
    free(out);

    /* past the memory budget, the run fails with the reason, recorded */
    assert_int_not_equal(run(&out, "{ XSELL_MEMORY_MAX=1M %s train 2>&1 >/dev/null; }", E.bin), 0);
    assert_non_null(strstr(out, "memory budget"));
    assert_non_null(strstr(out, "more than XSELL_MEMORY_MAX (1 MB)"));
    free(out);
    assert_int_equal(
        sql_long("SELECT count(*) FROM model_runs WHERE version = (SELECT max(version) "
                 "FROM model_runs) AND status = 'failed' AND error LIKE "
                 "'%memory budget%'"),
        1);
}

static void test_rules_export(void **state)
{
    char *out;
    (void)state;
    /* From the database (the demo shop), with the header the README names. */
    assert_int_equal(run(&out,
                         "{ %s rules --min-support 0.01 --min-confidence 0.3 "
                         "--max-len 2 2>/dev/null; }",
                         E.bin),
                     0);
    assert_true(strncmp(out, "lhs,rhs,count,support,confidence,lift\n", 38) == 0);
    assert_non_null(strstr(out, "\nP001,P004,")); /* a planted pair */
    free(out);
    /* A basket file: Groceries, where arules finds 410 rules at 0.001 / 0.8. */
    const char *dir = getenv("XSELL_SHARED_DATA");
    char path[400];
    snprintf(path, sizeof(path), "%s/groceries/groceries.csv", dir ? dir : "../shared/data");
    FILE *f = fopen(path, "r");
    if (!f) {
        print_message("skipped the Groceries part: %s is missing\n", path);
    } else {
        fclose(f);
        assert_int_equal(run(&out,
                             "{ %s rules --min-support 0.001 --min-confidence 0.8 "
                             "--baskets %s 2>/dev/null; } | wc -l",
                             E.bin, path),
                         0);
        assert_int_equal(strtol(out, NULL, 10), 411); /* with the header */
        free(out);
    }
    assert_int_not_equal(run(&out, "%s rules --min-support 2", E.bin), 0);
    assert_non_null(strstr(out, "--min-support"));
    free(out);
}

static void test_eval_recommend(void **state)
{
    char *out;
    (void)state;
    assert_int_equal(run(&out, "{ %s eval recommend --holdout-days 28 2>/dev/null; }", E.bin), 0);
    cJSON *j = cJSON_Parse(out);
    free(out);
    assert_true(cJSON_IsObject(j));
    assert_true(cJSON_GetObjectItem(j, "customers")->valuedouble > 100);
    cJSON *m = cJSON_GetObjectItem(j, "methods");
    const char *names[] = {"popularity", "basket_rules", "content", "item_knn", "ease", "blend"};
    for (int i = 0; i < 6; i++)
        assert_true(cJSON_IsObject(cJSON_GetObjectItem(m, names[i])));
    double pop =
        cJSON_GetObjectItem(cJSON_GetObjectItem(m, "popularity"), "recall_at_10")->valuedouble;
    double blend =
        cJSON_GetObjectItem(cJSON_GetObjectItem(m, "blend"), "recall_at_10")->valuedouble;
    double cart_pop =
        cJSON_GetObjectItem(cJSON_GetObjectItem(m, "popularity"), "cart_hit_rate_at_10")
            ->valuedouble;
    double cart_blend =
        cJSON_GetObjectItem(cJSON_GetObjectItem(m, "blend"), "cart_hit_rate_at_10")->valuedouble;
    print_message("eval: recall@10 blend %.3f vs popularity %.3f; cart hit %.3f vs %.3f\n", blend,
                  pop, cart_blend, cart_pop);
    assert_true(blend > 1.5 * pop);
    assert_true(cart_blend > 1.5 * cart_pop);
    /* the next-basket baselines, on the same customers and truth, without carts */
    const char *baselines[] = {"global_top", "personal_top", "tifu_knn"};
    double recall[3];
    for (int i = 0; i < 3; i++) {
        cJSON *o = cJSON_GetObjectItem(m, baselines[i]);
        assert_true(cJSON_IsObject(o));
        assert_null(cJSON_GetObjectItem(o, "cart_hit_rate_at_10"));
        recall[i] = cJSON_GetObjectItem(o, "recall_at_10")->valuedouble;
    }
    print_message("eval: recall@10 global top %.3f, personal top %.3f, TIFU-kNN %.3f\n", recall[0],
                  recall[1], recall[2]);
    assert_true(recall[1] > 2 * recall[0] && recall[2] > 2 * recall[0]);
    cJSON_Delete(j);
    /* Training stores the same figures. */
    assert_true(sql_long("SELECT count(*) FROM model_runs WHERE metrics->'evaluation'->'methods' "
                         "? 'blend'") >= 1);
    assert_true(sql_long("SELECT count(*) FROM model_runs WHERE metrics->'evaluation_upsell'->"
                         "'methods' ? 'nearest_pricier'") >= 1);
    /* xsell eval upsell: the model and the baselines, ranking the same candidates */
    assert_int_equal(run(&out, "{ %s eval upsell --holdout-days 90 2>/dev/null; }", E.bin), 0);
    j = cJSON_Parse(out);
    free(out);
    assert_true(cJSON_IsObject(j));
    double cases = cJSON_GetObjectItem(j, "cases")->valuedouble;
    double related = cJSON_GetObjectItem(j, "cases_catalogue_substitute")->valuedouble;
    assert_true(cases >= 100 && related >= 30 && related < cases);
    double step = cJSON_GetObjectItem(j, "step_median")->valuedouble;
    assert_true(step >= 0.1 && step <= 1.0);
    m = cJSON_GetObjectItem(j, "methods");
    const char *upsell_methods[] = {"upsell", "popular_pricier", "nearest_pricier",
                                    "category_popular"};
    double hit1[4], sub5[4];
    for (int i = 0; i < 4; i++) {
        cJSON *o = cJSON_GetObjectItem(m, upsell_methods[i]);
        assert_true(cJSON_IsObject(o));
        hit1[i] = cJSON_GetObjectItem(o, "hit_rate_at_1")->valuedouble;
        double h5 = cJSON_GetObjectItem(o, "hit_rate_at_5")->valuedouble;
        assert_true(hit1[i] >= 0 && hit1[i] <= h5 && h5 <= 1);
        sub5[i] =
            cJSON_GetObjectItem(cJSON_GetObjectItem(o, "catalogue_substitute"), "hit_rate_at_5")
                ->valuedouble;
    }
    print_message("eval upsell: HR@1 upsell %.3f, popular %.3f, nearest %.3f, category %.3f\n",
                  hit1[0], hit1[1], hit1[2], hit1[3]);
    /* the learned paths find most held-out upgrades to a substitute within five, and
     * beat the shop-wide baselines on every pricier purchase */
    assert_true(sub5[0] > 0.8);
    assert_true(hit1[0] > hit1[1] && hit1[0] > hit1[2]);
    cJSON_Delete(j);
    /* xsell eval forecast: the shop and its categories forecast from the cut, the
     * intervals' coverage on the days after it, the models' own and calibrated */
    assert_int_equal(run(&out, "{ %s eval forecast --holdout-days 28 2>/dev/null; }", E.bin), 0);
    j = cJSON_Parse(out);
    free(out);
    assert_true(cJSON_IsObject(j));
    assert_true(cJSON_GetObjectItem(j, "series")->valuedouble >= 2);
    assert_int_equal((int)cJSON_GetObjectItem(j, "days")->valuedouble, 28);
    assert_true(cJSON_GetObjectItem(j, "mase")->valuedouble > 0);
    static const char *const kinds[] = {"models_own", "calibrated"};
    for (int k = 0; k < 2; k++) {
        cJSON *o = cJSON_GetObjectItem(j, kinds[k]);
        double c80 = cJSON_GetObjectItem(o, "coverage80")->valuedouble;
        double c95 = cJSON_GetObjectItem(o, "coverage95")->valuedouble;
        print_message("eval forecast: %s coverage %.3f / %.3f\n", kinds[k], c80, c95);
        assert_true(c80 >= 0 && c80 <= c95 && c95 <= 1);
    }
    cJSON_Delete(j);
    assert_int_not_equal(run(&out, "%s eval recommend --holdout-days 0", E.bin), 0);
    free(out);
    assert_int_not_equal(run(&out, "%s eval nothing", E.bin), 0);
    free(out);
}

/* The CDNOW sample loaded through `xsell import`: `xsell train --as-of 1997-09-30`
 * prints the published BG/NBD and Gamma-Gamma fits, and `xsell eval churn` on the
 * 39/39-week split ranks the holdout's non-buyers. */
static void test_churn_cdnow(void **state)
{
    (void)state;
    const char *dir = getenv("XSELL_SHARED_DATA");
    char src[400];
    snprintf(src, sizeof(src), "%s/cdnow/CDNOW_sample.txt", dir ? dir : "../shared/data");
    FILE *f = fopen(src, "r");
    if (!f) {
        print_message("skipped: %s is missing (../shared/data is not beside the repository)\n",
                      src);
        skip();
    }
    fclose(f);
    char *url, *out;
    assert_int_equal(
        run(&url, "%s/deploy/pg.sh start %s cdnow_%d", E.repo, E.pg_dir, (int)getpid()), 0);
    url[strcspn(url, "\n")] = '\0';
    /* customer = the sample id, one order a line, dates at midnight UTC */
    assert_int_equal(
        run(NULL,
            "awk 'BEGIN{print \"order_id,customer_id,ordered_at,product_id,quantity,"
            "unit_price\"} {d=$3; printf \"s%%d,%%s,%%s-%%s-%%s,CD,1,%%s\\n\", NR, $2, "
            "substr(d,1,4), substr(d,5,2), substr(d,7,2), $5}' %s | tr -d '\\r' "
            "> %s/cdnow.csv",
            src, E.tmp),
        0);
    assert_int_equal(run(&out,
                         "DATABASE_URL='%s' %s migrate && DATABASE_URL='%s' %s import orders "
                         "%s/cdnow.csv",
                         url, E.bin, url, E.bin, E.tmp),
                     0);
    free(out);
    assert_int_equal(
        run(&out, "{ DATABASE_URL='%s' %s train --as-of 1997-09-30 2>/dev/null; }", url, E.bin), 0);
    cJSON *j = cJSON_Parse(out);
    free(out);
    assert_non_null(j);
    cJSON *params = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "churn"), "params");
    cJSON *bg = cJSON_GetObjectItem(params, "bgnbd");
    assert_non_null(bg);
    const char *names[] = {"r", "alpha", "a", "b"};
    const double want[] = {0.243, 4.414, 0.793, 2.426};
    for (int i = 0; i < 4; i++)
        assert_true(fabs(cJSON_GetObjectItem(bg, names[i])->valuedouble - want[i]) < 5e-4);
    double ll = cJSON_GetObjectItem(cJSON_GetObjectItem(bg, "fit"), "log_likelihood")->valuedouble;
    assert_true(fabs(ll + 9582.4) < 0.05);
    cJSON *gg = cJSON_GetObjectItem(params, "gamma_gamma");
    assert_true(fabs(cJSON_GetObjectItem(gg, "p")->valuedouble - 6.25) < 5e-3);
    assert_true(fabs(cJSON_GetObjectItem(gg, "q")->valuedouble - 3.74) < 5e-3);
    assert_true(fabs(cJSON_GetObjectItem(gg, "v")->valuedouble - 15.44) < 5e-3);
    cJSON_Delete(j);
    assert_int_equal(run(&out,
                         "{ DATABASE_URL='%s' %s eval churn --holdout-days 273 2>/dev/null; }", url,
                         E.bin),
                     0);
    j = cJSON_Parse(out);
    free(out);
    assert_non_null(j);
    assert_string_equal(cJSON_GetObjectItem(j, "cut")->valuestring, "1997-09-30");
    assert_int_equal((long)cJSON_GetObjectItem(j, "customers")->valuedouble, 2357);
    double actual =
        cJSON_GetObjectItem(cJSON_GetObjectItem(j, "repeat_purchases"), "actual")->valuedouble;
    assert_int_equal((long)actual, 1882);
    double auc =
        cJSON_GetObjectItem(cJSON_GetObjectItem(j, "auc_no_purchase"), "churn_risk")->valuedouble;
    print_message("CDNOW eval churn: AUC %.4f\n", auc);
    assert_true(auc >= 0.78);
    cJSON_Delete(j);
    assert_int_not_equal(
        run(&out, "DATABASE_URL='%s' %s eval churn --holdout-days 600", url, E.bin), 0);
    free(out);
    assert_int_not_equal(run(&out, "DATABASE_URL='%s' %s train --as-of 1997-13-01", url, E.bin), 0);
    assert_non_null(strstr(out, "XSELL_AS_OF"));
    free(out);
    free(url);
    char drop[100];
    snprintf(drop, sizeof(drop), "DROP DATABASE cdnow_%d", (int)getpid());
    assert_int_equal(sql_exec(drop), 0); /* a run leaves no database behind */
}

/* /price against xsell gen's planted elasticities, on the command line and in the
 * training run's metrics when XSELL_PRICE_TRUTH names the truth. */
static void test_eval_price(void **state)
{
    char *out;
    (void)state;
    assert_int_equal(
        run(&out, "{ %s eval price --truth %s/demo/truth.json 2>/dev/null; }", E.bin, E.tmp), 0);
    cJSON *j = cJSON_Parse(out);
    free(out);
    assert_true(cJSON_IsObject(j));
    assert_true(cJSON_GetObjectItem(j, "products")->valuedouble >= 50);
    assert_true(cJSON_GetObjectItem(j, "median_abs_error")->valuedouble < 0.6);
    assert_true(cJSON_GetObjectItem(j, "right_sign")->valuedouble >= 0.9);
    cJSON *sim = cJSON_GetObjectItem(j, "profit_vs_true_optimum");
    double rec = cJSON_GetObjectItem(sim, "recommended")->valuedouble;
    double now = cJSON_GetObjectItem(sim, "current_price")->valuedouble;
    print_message("eval price: profit share %.3f at the recommended prices, %.3f today\n", rec,
                  now);
    assert_true(rec > now && rec <= 1.0 + 1e-9);
    cJSON_Delete(j);
    assert_int_equal(
        run(&out, "{ XSELL_PRICE_TRUTH=%s/demo/truth.json %s train 2>/dev/null; }", E.tmp, E.bin),
        0);
    j = cJSON_Parse(out);
    free(out);
    assert_true(cJSON_IsObject(cJSON_GetObjectItem(j, "evaluation_price")));
    cJSON_Delete(j);
    assert_true(sql_long("SELECT count(*) FROM model_runs WHERE metrics ? 'evaluation_price'") >=
                1);
    assert_int_not_equal(run(&out, "%s eval price", E.bin), 0); /* --truth is required */
    free(out);
    assert_int_not_equal(run(&out, "%s eval price --truth /nonexistent.json", E.bin), 0);
    assert_non_null(strstr(out, "/nonexistent.json"));
    free(out);
}

/* xsell forecast: a CSV of series in, forecasts with intervals out; bad input is
 * refused with its line. */
static void test_forecast_cli(void **state)
{
    char path[300], *out;
    (void)state;
    snprintf(path, sizeof(path), "%s/series.csv", E.tmp);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    /* a seasonal series (period 4), a sparse one, a short one */
    fprintf(f, "seasonal");
    for (int t = 0; t < 40; t++)
        fprintf(f, ",%d", 100 + 2 * t + (t % 4 == 3 ? 30 : 0));
    fprintf(f, "\nsparse,0,0,3,0,0,0,6,0,0,2,0,0,0,0,4,0,0,0,5,0\nshort,5,7,6\n");
    fclose(f);
    assert_int_equal(
        run(&out, "{ %s forecast %s --horizon 8 --period 4 2>/dev/null; }", E.bin, path), 0);
    assert_true(strncmp(out, "id,model,step,mean,lo80,hi80,lo95,hi95\n", 39) == 0);
    assert_non_null(strstr(out, "sparse,\"SES\",1,"));
    assert_non_null(strstr(out, "short,\"Mean\",8,"));
    /* 3 series x 8 steps, every bound ordered and none below zero */
    int rows = 0;
    for (char *line = strchr(out, '\n') + 1; *line; line = strchr(line, '\n') + 1, rows++) {
        char *q = strchr(strchr(line, '"') + 1, '"');
        double v[5];
        assert_int_equal(sscanf(q, "\",%*d,%lf,%lf,%lf,%lf,%lf", &v[0], &v[1], &v[2], &v[3], &v[4]),
                         5);
        assert_true(v[3] <= v[1] && v[1] <= v[0] && v[0] <= v[2] && v[2] <= v[4] && v[3] >= 0);
    }
    assert_int_equal(rows, 24);
    free(out);
    /* the season shows: step 4 (t = 43, a peak) above step 3 */
    assert_int_equal(
        run(&out, "%s forecast %s --horizon 8 --period 4 --method ets 2>/dev/null", E.bin, path),
        0);
    double step[9] = {0};
    for (char *line = strstr(out, "\nseasonal,"); line; line = strstr(line + 1, "\nseasonal,")) {
        int k;
        double mean;
        char *q = strchr(strchr(line, '"') + 1, '"');
        if (sscanf(q, "\",%d,%lf", &k, &mean) == 2 && k >= 1 && k <= 8)
            step[k] = mean;
    }
    assert_true(step[4] > step[3] + 15 && step[8] > step[7] + 15);
    free(out);
    /* errors: a value that is no number (with its line), no horizon, a bad level */
    f = fopen(path, "w");
    fprintf(f, "a,1,2,3\nb,1,x,3\n");
    fclose(f);
    assert_int_not_equal(run(&out, "%s forecast %s --horizon 3", E.bin, path), 0);
    assert_non_null(strstr(out, ":2:"));
    free(out);
    assert_int_not_equal(run(&out, "%s forecast %s", E.bin, path), 0);
    free(out);
    assert_int_not_equal(run(&out, "%s forecast %s --horizon 3 --level 120", E.bin, path), 0);
    free(out);
    assert_int_not_equal(run(&out, "%s forecast %s --horizon 3 --method guess", E.bin, path), 0);
    free(out);
}

static void test_serve_needs_keys(void **state)
{
    char *out;
    (void)state;
    int rc =
        run(&out, "env -u XSELL_API_KEYS -u XSELL_AUTH XSELL_LISTEN=127.0.0.1:1 %s serve", E.bin);
    assert_int_not_equal(rc, 0);
    assert_non_null(strstr(out, "XSELL_API_KEYS"));
    free(out);
    rc = run(&out, "XSELL_API_KEYS=public:abc %s serve", E.bin);
    assert_int_not_equal(rc, 0);
    assert_non_null(strstr(out, "8 characters"));
    free(out);
}

/* --help on every command goes to stdout with exit 0 and runs nothing; --version. */
static void test_help_and_version(void **state)
{
    static const char *const commands[] = {"serve", "migrate",  "import", "gen",
                                           "train", "forecast", "eval",   "rules"};
    char *out;
    (void)state;
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        int rc = run(&out, "cd %s && %s %s --help 2>/dev/null", E.tmp, E.bin, commands[i]);
        if (rc != 0 || strncmp(out, "xsell ", 6) != 0 || !strstr(out, commands[i]))
            fail_msg("%s --help: exit %d, said: %s", commands[i], rc, out);
        free(out);
    }
    assert_int_equal(run(&out, "test ! -e %s/--help", E.tmp), 0); /* gen wrote nothing */
    free(out);
    assert_int_equal(run(&out, "%s --version 2>/dev/null", E.bin), 0);
    assert_true(strncmp(out, "xsell ", 6) == 0 && strlen(out) > 8);
    free(out);
    assert_int_equal(run(&out, "%s --help 2>/dev/null", E.bin), 0);
    assert_non_null(strstr(out, "usage: xsell"));
    free(out);
    assert_int_not_equal(run(&out, "%s nonsense", E.bin), 0);
    free(out);
}

/* A loopback port another socket listens on (close the descriptor to free it). */
static int port_taken(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(fd, 1), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* A port that is taken: serve says so and exits non-zero at once, before training. */
static void test_serve_port_taken(void **state)
{
    char *out;
    (void)state;
    int port, fd = port_taken(&port);
    time_t t0 = time(NULL);
    int rc = run(
        &out, "env XSELL_API_KEYS=public:abcdefgh12 XSELL_LISTEN=127.0.0.1:%d timeout 20 %s serve",
        port, E.bin);
    close(fd);
    assert_int_not_equal(rc, 0);
    assert_int_not_equal(rc, 124); /* not the timeout's */
    assert_true(time(NULL) - t0 < 10);
    assert_non_null(strstr(out, "cannot listen"));
    assert_null(strstr(out, "trainer: run"));
    free(out);
}

/* `make run` on a port another server holds: it says so and fails, before printing
 * keys and examples that would talk to the other server. */
static void test_run_on_a_busy_port(void **state)
{
    char *out;
    (void)state;
    int port, fd = port_taken(&port);
    int rc = run(&out,
                 "XSELL_PG_FAST=1 XSELL_STATE_DIR=%s/run-state XSELL_LISTEN=127.0.0.1:%d "
                 "timeout 300 sh %s/deploy/run.sh </dev/null 2>&1",
                 E.tmp, port, E.repo);
    close(fd);
    assert_int_not_equal(rc, 0);
    assert_int_not_equal(rc, 124);
    assert_non_null(strstr(out, "did not start"));
    assert_null(strstr(out, "API keys"));
    assert_null(strstr(out, "serves on"));
    free(out);
}

/* make -jN on a machine without the libraries: every compile waits for `deps` (an
 * order-only prerequisite of each object and test binary, in make's own database). */
static void test_make_orders_deps_first(void **state)
{
    char *out;
    (void)state;
    assert_int_equal(run(&out,
                         "make -C %s -pn build/obj/src/core/log.o 2>/dev/null | grep -cE "
                         "'^build/(obj|asan/obj|tsan/obj|fuzz/obj)/%%\\.o:.*\\| deps$|"
                         "^build/(test_unit|test_integration|asan/test_unit):.*\\| deps$'",
                         E.repo),
                     0);
    assert_int_equal(strtol(out, NULL, 10), 7);
    free(out);
}

/* As root, a cluster for a folder the postgres user cannot enter (a checkout under
 * /root) still starts: pg.sh puts it where that user can reach, and says so. */
static void test_pg_in_a_locked_folder(void **state)
{
    char *out;
    (void)state;
    if (geteuid() != 0) {
        skip(); /* only root hands the cluster to another user */
        return;
    }
    run(&out, "mkdir -p %s/locked && chmod 700 %s/locked", E.tmp, E.tmp);
    free(out);
    int rc =
        run(&out, "XSELL_PG_FAST=1 %s/deploy/pg.sh start %s/locked/pg probe 2>&1", E.repo, E.tmp);
    if (rc != 0)
        fail_msg("pg.sh: %s", out);
    assert_non_null(strstr(out, "cannot enter"));
    char *url = strstr(out, "host=");
    assert_non_null(url);
    url[strcspn(url, "\n")] = '\0';
    char *answer = sql_text_on(url, "SELECT 40 + 2");
    assert_string_equal(answer, "42");
    free(answer);
    free(out);
    assert_int_equal(run(&out, "%s/deploy/pg.sh drop %s/locked/pg", E.repo, E.tmp), 0);
    free(out);
}

int run_cli_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_migrate_twice),
        cmocka_unit_test(test_gen_and_import),
        cmocka_unit_test(test_import_first_load),
        cmocka_unit_test(test_import_rejects_whole_file),
        cmocka_unit_test(test_train_prints_figures),
        cmocka_unit_test(test_rules_export),
        cmocka_unit_test(test_eval_recommend),
        cmocka_unit_test(test_churn_cdnow),
        cmocka_unit_test(test_eval_price),
        cmocka_unit_test(test_forecast_cli),
        cmocka_unit_test(test_serve_needs_keys),
        cmocka_unit_test(test_help_and_version),
        cmocka_unit_test(test_serve_port_taken),
        cmocka_unit_test(test_make_orders_deps_first),
        cmocka_unit_test(test_run_on_a_busy_port),
        cmocka_unit_test(test_pg_in_a_locked_folder),
    };
    return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
