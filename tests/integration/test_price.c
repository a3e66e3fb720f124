/* Integration: /price: answers and guardrails, the paged list, planted elasticities. On a database
 * and a server of the group's own (serve.h). */
#include "integration/serve.h"

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
    assert_true(cur > 0 && rec >= cur * 0.9 - 1e-9 && rec <= cur * 1.1 + 1e-9);
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
        /* the guardrails are promises: the price, in cents, within 10% of today's */
        double cur = jnum(&r, "current_price"), rec = jnum(&r, "recommended_price");
        assert_true(rec >= cur * 0.9 - 1e-9 && rec <= cur * 1.1 + 1e-9);
        assert_true(fabs(rec * 100 - round(rec * 100)) < 1e-6);
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

static double num_at(const cJSON *o, const char *a, const char *b)
{
    const cJSON *v = cJSON_GetObjectItem(o, a);
    if (b)
        v = cJSON_GetObjectItem(v, b);
    if (!cJSON_IsNumber(v))
        fail_msg("%s.%s is not a number", a, b ? b : "");
    return v->valuedouble;
}

/* The demo plants stock (gen.h): the scarce products' prices rise and they are never
 * recommended nor offered as upgrades (held back, and said so); the overstocked are
 * marked down; PATCH sets a stock. */
static void test_price_weighs_planted_stock(void **state)
{
    (void)state;
    cJSON *truth = demo_truth();
    const cJSON *stock = cJSON_GetObjectItem(truth, "stock"), *id;
    const cJSON *scarce = cJSON_GetObjectItem(stock, "scarce"),
                *over = cJSON_GetObjectItem(stock, "overstock");
    assert_true(cJSON_GetArraySize(scarce) >= 3 && cJSON_GetArraySize(over) >= 3);
    char path[300];
    struct resp r;
    /* scarce: priced up (or left); overstocked: marked down (or left) */
    static const char *const kinds[] = {"scarce", "overstock"};
    int moved[2] = {0, 0};
    for (int k = 0; k < 2; k++) {
        const cJSON *list = k ? over : scarce;
        cJSON_ArrayForEach(id, list)
        {
            snprintf(path, sizeof(path), "/price?item=%s&max_change=0.3", id->valuestring);
            GET(path, INT, &r);
            assert_int_equal(r.status, 200);
            const cJSON *st = cJSON_GetObjectItem(r.json, "stock");
            assert_string_equal(cJSON_GetObjectItem(st, "case")->valuestring, kinds[k]);
            if (k == 0)
                assert_true(num_at(st, "forecast_units_current", NULL) >
                            num_at(st, "quantity", NULL));
            double step =
                (jnum(&r, "recommended_price") - num_at(st, "price_without_stock", NULL)) *
                (k ? -1 : 1);
            assert_true(step >= 0);
            moved[k] += step > 0;
            if (step == 0)
                print_message("%s %s left at %.2f: %s\n", kinds[k], id->valuestring,
                              jnum(&r, "recommended_price"),
                              cJSON_IsTrue(cJSON_GetObjectItem(st, "stopped_by_guardrail"))
                                  ? "a guardrail"
                                  : "no move");
            resp_free(&r);
        }
    }
    print_message("stock: %d of %d scarce products priced up, %d of %d overstocked marked down\n",
                  moved[0], cJSON_GetArraySize(scarce), moved[1], cJSON_GetArraySize(over));
    assert_true(moved[0] * 2 >= cJSON_GetArraySize(scarce));
    assert_true(moved[1] * 2 >= cJSON_GetArraySize(over));

    /* never recommended nor offered: every product as a cart and as the upsell item */
    int held = 0, lists = 0;
    GET("/price?limit=100", INT, &r);
    const cJSON *p;
    cJSON *all = cJSON_Duplicate(cJSON_GetObjectItem(r.json, "products"), true);
    resp_free(&r);
    cJSON_ArrayForEach(p, all)
    {
        const char *pid = cJSON_GetObjectItem(p, "product_id")->valuestring;
        static const char *const asks[] = {"/recommend?limit=20&items=", "/upsell?item="};
        for (int k = 0; k < 2; k++) {
            snprintf(path, sizeof(path), "%s%s", asks[k], pid);
            GET(path, PUB, &r);
            assert_int_equal(r.status, 200);
            const cJSON *it;
            cJSON_ArrayForEach(it, cJSON_GetObjectItem(r.json, "items"))
            {
                const char *got = cJSON_GetObjectItem(it, "product_id")->valuestring;
                cJSON_ArrayForEach(id, scarce) if (strcmp(got, id->valuestring) == 0)
                    fail_msg("%s offered the scarce %s", path, got);
            }
            const cJSON *hb;
            cJSON_ArrayForEach(hb, cJSON_GetObjectItem(r.json, "held_back"))
            {
                bool planted = false;
                const char *h = cJSON_GetObjectItem(hb, "product_id")->valuestring;
                cJSON_ArrayForEach(id, scarce) planted |= strcmp(h, id->valuestring) == 0;
                assert_true(planted);
                assert_non_null(strstr(cJSON_GetObjectItem(hb, "reason")->valuestring, "exceeds"));
                held++;
            }
            lists++;
            resp_free(&r);
        }
    }
    cJSON_Delete(all);
    print_message("stock: %d answers, %d scarce products held back in them\n", lists, held);
    assert_true(held > 0);

    /* PATCH: the stock alone */
    http(&main_srv, "PATCH", "/products/P001", ADM, "{\"stock\": 42}", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_true(jnum(&r, "stock") == 42);
    resp_free(&r);
    assert_int_equal(sql_long("SELECT stock FROM products WHERE product_id = 'P001'"), 42);
    static const struct {
        const char *path, *body;
        long status;
        const char *says;
    } bad[] = {
        {"/products/NOPE", "{\"stock\": 1}", 404, "NOPE"},
        {"/products/P001", "{\"stock\": -1}", 400, "stock"},
        {"/products/P001", "{\"stock\": \"many\"}", 400, "stock"},
        {"/products/P001", "{\"stock\": 1, \"price\": 2}", 400, "nothing else"},
    };
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        http(&main_srv, "PATCH", bad[k].path, ADM, bad[k].body, NULL, &r);
        expect_problem(&r, bad[k].status, bad[k].says);
        resp_free(&r);
    }
    http(&main_srv, "PATCH", "/products/P001", PUB, "{\"stock\": 1}", NULL, &r);
    expect_problem(&r, 403, NULL);
    resp_free(&r);
    assert_int_equal(sql_long("SELECT stock FROM products WHERE product_id = 'P001'"), 42);
    cJSON_Delete(truth);
}

static int setup(void **state)
{
    (void)state;
    return group_setup("xsell_g_price");
}

static int teardown(void **state)
{
    (void)state;
    return group_teardown();
}

int run_price_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_price_answers_and_errors),
        cmocka_unit_test(test_price_list_pages),
        cmocka_unit_test(test_price_recovers_planted_elasticities),
        cmocka_unit_test(test_price_weighs_planted_stock),
    };
    return cmocka_run_group_tests_name("price", tests, setup, teardown);
}
