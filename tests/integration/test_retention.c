/* Integration: retention offers (GET /retention) on the demo shop. The generator
 * planted each product's price elasticity and cost (truth.json): under them, a
 * discount the server offers must truly earn more than no offer. Customers not at
 * risk get nothing; a planted scarce product is never offered; one customer's answer
 * is the list's, is recorded for attribution and an order naming it counts for the
 * retention surface; an experiment's variant holds offers back or caps the discount.
 * On a database and a server of the group's own. */
#include "integration/serve.h"

#define MAX_DISCOUNT 0.2 /* XSELL_OFFER_MAX_DISCOUNT's default */

static bool str_in(const cJSON *arr, const char *s)
{
    const cJSON *v;
    cJSON_ArrayForEach(v, arr)
    {
        if (cJSON_IsString(v) && strcmp(v->valuestring, s) == 0)
            return true;
    }
    return false;
}

static const char *sub_id(const cJSON *o, const char *name)
{
    return cJSON_GetObjectItem(cJSON_GetObjectItem(o, name), "product_id")->valuestring;
}

/* A discount offer's value under the planted demand curve and cost: the answer's
 * baseline (p_alive, p_buy_without) is the model's, the response the truth's. */
static double true_value(const cJSON *truth, const cJSON *customer, const cJSON *offer)
{
    const cJSON *p =
        cJSON_GetObjectItem(cJSON_GetObjectItem(truth, "products"), sub_id(offer, "product"));
    double e = jmember(p, "elasticity", NULL), cost = jmember(p, "cost", NULL);
    double price = jmember(offer, "product", "price"), d = jmember(offer, "discount", NULL);
    double alive = jmember(customer, "p_alive", NULL);
    double q0 = jmember(offer, "reasoning", "p_buy_without");
    double rate = -log1p(-q0 / alive); /* q0 = alive (1 - e^-rate) */
    double q1 = alive * -expm1(-rate * pow(1 - d, e));
    return (q1 - q0) * (price * (1 - d) - cost) - q0 * d * price;
}

/* Every page of the list: every entry at risk, ranked by its value, never a planted
 * scarce product, no discount beyond the setting; the discounts pay under the truth. */
static void test_retention_offers_pay_under_planted_truth(void **state)
{
    (void)state;
    cJSON *truth = demo_truth();
    const cJSON *scarce = cJSON_GetObjectItem(cJSON_GetObjectItem(truth, "stock"), "scarce");
    char path[160] = "/retention?limit=100", cursor[120];
    long entries = 0, total = -1, discounts = 0, pays = 0, upgrades = 0;
    double last = INFINITY, claimed = 0, truly = 0;
    for (;;) {
        struct resp r;
        GET(path, INT, &r);
        assert_int_equal(r.status, 200);
        total = (long)jnum(&r, "total");
        const cJSON *c;
        cJSON_ArrayForEach(c, cJSON_GetObjectItem(r.json, "customers"))
        {
            entries++;
            const char *seg = cJSON_GetObjectItem(c, "segment")->valuestring;
            assert_true(strcmp(seg, "at_risk") == 0 || strcmp(seg, "lapsing") == 0 ||
                        strcmp(seg, "lost") == 0);
            double v = jmember(c, "ranked_value", NULL);
            assert_true(v <= last && v >= 0.01);
            last = v;
            const cJSON *o = cJSON_GetObjectItem(c, "offer");
            assert_true(cJSON_IsObject(o));
            assert_float_equal(jmember(o, "expected_value", NULL), v, 1e-5);
            assert_false(str_in(scarce, sub_id(o, "product")));
            const char *type = cJSON_GetObjectItem(o, "type")->valuestring;
            assert_string_equal(cJSON_GetObjectItem(c, "offer_type")->valuestring, type);
            if (strcmp(type, "discount") == 0) {
                double d = jmember(o, "discount", NULL);
                assert_true(d > 0 && d <= MAX_DISCOUNT + 1e-9);
                double t = true_value(truth, c, o);
                discounts++;
                pays += t > 0;
                claimed += v;
                truly += t;
            } else {
                assert_string_equal(type, "upgrade");
                upgrades++;
                assert_true(jmember(o, "product", "price") > jmember(o, "instead_of", "price"));
                assert_true(jmember(o, "reasoning", "margin_each") > 0);
            }
        }
        bool more = next_page(&r, cursor, sizeof(cursor));
        resp_free(&r);
        if (!more)
            break;
        snprintf(path, sizeof(path), "/retention?limit=100&cursor=%s", cursor);
    }
    print_message("retention: %ld customers with an offer; %ld discounts, %ld of them pay under "
                  "the planted elasticity and cost (claimed %.1f, truly %.1f); %ld upgrades\n",
                  entries, discounts, pays, claimed, truly, upgrades);
    assert_int_equal(entries, total);
    assert_true(discounts >= 50 && upgrades >= 50);
    assert_true(pays >= 0.9 * (double)discounts);
    assert_true(truly > 0);
    cJSON_Delete(truth);
}

static const cJSON *first_customer(const struct resp *r)
{
    return cJSON_GetArrayItem(cJSON_GetObjectItem(r->json, "customers"), 0);
}

/* One customer's answer is the list's, with the churn model's baseline, recorded for
 * attribution; those not at risk get nothing; bad requests are refused. */
static void test_retention_one_customer(void **state)
{
    (void)state;
    struct resp list, r, churn;
    GET("/retention?limit=1", INT, &list);
    assert_int_equal(list.status, 200);
    const cJSON *top = first_customer(&list);
    const char *id = cJSON_GetObjectItem(top, "customer_id")->valuestring;
    char path[200];
    snprintf(path, sizeof(path), "/retention?customer=%s", id);
    GET(path, INT, &r);
    assert_int_equal(r.status, 200);
    const cJSON *o = cJSON_GetObjectItem(r.json, "offer"), *lo = cJSON_GetObjectItem(top, "offer");
    assert_string_equal(sub_id(o, "product"), sub_id(lo, "product"));
    assert_float_equal(jmember(o, "expected_value", NULL), jmember(lo, "expected_value", NULL),
                       1e-9);
    /* the offer is the best candidate weighed, and they come by value */
    const cJSON *cand = cJSON_GetObjectItem(r.json, "considered"), *k;
    assert_float_equal(jmember(cJSON_GetArrayItem(cand, 0), "expected_value", NULL),
                       jmember(o, "expected_value", NULL), 1e-9);
    double last = INFINITY;
    cJSON_ArrayForEach(k, cand)
    {
        assert_true(jmember(k, "expected_value", NULL) <= last);
        last = jmember(k, "expected_value", NULL);
    }
    assert_non_null(strstr(cJSON_GetObjectItem(o, "why")->valuestring, "expected"));
    /* the baseline is /churn's */
    snprintf(path, sizeof(path), "/churn?customer=%s", id);
    GET(path, INT, &churn);
    assert_float_equal(jnum(&r, "p_alive"), jnum(&churn, "p_alive"), 1e-6);
    assert_float_equal(jnum(&r, "churn_risk"), jnum(&churn, "churn_risk"), 1e-6);
    resp_free(&churn);

    /* recorded, and an order naming it counts for the retention surface */
    const char *rid = jstr(&r, "recommendation_id");
    answer_written(rid);
    char sql[300];
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM recommendations WHERE recommendation_id = '%s' AND surface = "
             "'retention' AND customer_id = '%s' AND items = ARRAY['%s']",
             rid, id, sub_id(o, "product"));
    assert_int_equal(sql_long(sql), 1);
    char now[40], body[600], from[40], to[40];
    days_ago(-2.0 / 86400, now, sizeof(now));
    snprintf(body, sizeof(body),
             "{\"order_id\":\"T-RET1\",\"customer_id\":\"%s\",\"ordered_at\":\"%s\",\"lines\":"
             "[{\"product_id\":\"%s\",\"quantity\":1,\"unit_price\":%.2f,"
             "\"recommendation_id\":\"%s\"}]}",
             id, now, sub_id(o, "product"), jmember(o, "offer_price", NULL), rid);
    post_order_created(body);
    days_ago(1, from, sizeof(from));
    days_ago(-1, to, sizeof(to));
    snprintf(path, sizeof(path), "/admin/attribution?from=%s&to=%s", from, to);
    struct resp att;
    GET(path, INT, &att);
    assert_int_equal(att.status, 200);
    double revenue = -1;
    cJSON_ArrayForEach(k, cJSON_GetObjectItem(att.json, "by_model"))
    {
        if (strcmp(cJSON_GetObjectItem(k, "surface")->valuestring, "retention") == 0)
            revenue = jmember(k, "revenue", NULL);
    }
    assert_float_equal(revenue, jmember(o, "offer_price", NULL), 0.006);
    resp_free(&att);
    resp_free(&r);
    resp_free(&list);

    /* customers not at risk: no offer, and why */
    static const char *const calm[] = {"active", "new"};
    for (int s = 0; s < 2; s++) {
        snprintf(path, sizeof(path), "/churn?segment=%s&limit=20", calm[s]);
        GET(path, INT, &list);
        assert_int_equal(list.status, 200);
        int seen = 0;
        cJSON_ArrayForEach(k, cJSON_GetObjectItem(list.json, "customers"))
        {
            snprintf(path, sizeof(path), "/retention?customer=%s",
                     cJSON_GetObjectItem(k, "customer_id")->valuestring);
            GET(path, INT, &r);
            assert_int_equal(r.status, 200);
            assert_true(cJSON_IsNull(cJSON_GetObjectItem(r.json, "offer")));
            assert_string_equal(jstr(&r, "offer_type"), "none");
            assert_false(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "at_risk")));
            assert_non_null(strstr(jstr(&r, "reason"), "not at risk"));
            resp_free(&r);
            seen++;
        }
        assert_true(seen > 0);
        resp_free(&list);
    }

    GET("/retention", PUB, &r);
    expect_problem(&r, 403, NULL);
    resp_free(&r);
    static const struct bad_get bad[] = {
        {"/retention?customer=NOPE", 404, "NOPE"},
        {"/retention?limit=0", 400, "limit"},
        {"/retention?limit=101", 400, "limit"},
        {"/retention?cursor=garbage", 400, "cursor"},
        {"/retention?customer=a%01b", 400, "customer"},
    };
    expect_bad_gets(bad, sizeof(bad) / sizeof(bad[0]), INT);
}

#define EXPERIMENT                                                                                 \
    "{\"unit\":\"customer\",\"surfaces\":[\"retention\"],\"variants\":["                           \
    "{\"name\":\"holdout\",\"settings\":{\"strategy\":\"off\"}},"                                  \
    "{\"name\":\"small\",\"settings\":{\"max_discount\":0.05}},"                                   \
    "{\"name\":\"none\",\"settings\":{\"max_discount\":0}}]}"

/* An experiment on the retention surface: the holdout is offered nothing, the others
 * no discount above their own cap (none at all at 0, and each candidate says why);
 * one customer's answer says which. */
static void test_retention_experiment(void **state)
{
    (void)state;
    struct resp r, list;
    http(&main_srv, "PUT", "/experiments/T-ret", ADM, EXPERIMENT, NULL, &r);
    assert_int_equal(r.status, 201);
    resp_free(&r);
    GET("/experiments", INT, &r);
    assert_non_null(strstr(r.body, "\"max_discount\":0.05"));
    assert_non_null(strstr(r.body, "\"retention\""));
    resp_free(&r);
    GET("/retention?limit=60", INT, &list);
    assert_int_equal(list.status, 200);
    int held = 0, capped[2] = {0, 0};
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(list.json, "customers"))
    {
        const char *id = cJSON_GetObjectItem(c, "customer_id")->valuestring;
        char path[200];
        snprintf(path, sizeof(path), "/retention?customer=%s", id);
        GET(path, INT, &r);
        assert_int_equal(r.status, 200);
        const cJSON *e = cJSON_GetObjectItem(r.json, "experiment");
        assert_non_null(e);
        const char *variant = cJSON_GetObjectItem(e, "variant")->valuestring;
        /* the list shows the same variant's offer */
        assert_string_equal(
            cJSON_GetObjectItem(cJSON_GetObjectItem(c, "experiment"), "variant")->valuestring,
            variant);
        assert_string_equal(jstr(&r, "offer_type"),
                            cJSON_GetObjectItem(c, "offer_type")->valuestring);
        const cJSON *o = cJSON_GetObjectItem(r.json, "offer");
        if (strcmp(variant, "holdout") == 0) {
            held++;
            assert_true(cJSON_IsNull(o));
            assert_non_null(strstr(jstr(&r, "reason"), "held out"));
        } else {
            double cap = strcmp(variant, "small") == 0 ? 0.05 : 0;
            capped[cap > 0]++;
            assert_float_equal(
                jmember(cJSON_GetObjectItem(r.json, "settings"), "max_discount", NULL), cap, 1e-9);
            if (cJSON_IsObject(o))
                assert_true(jmember(o, "discount", NULL) <= cap + 1e-9);
            const cJSON *k;
            cJSON_ArrayForEach(k, cJSON_GetObjectItem(r.json, "considered"))
            {
                if (cap == 0 &&
                    strcmp(cJSON_GetObjectItem(k, "type")->valuestring, "discount") == 0)
                    assert_non_null(
                        strstr(cJSON_GetObjectItem(k, "why")->valuestring, "no discount"));
            }
        }
        resp_free(&r);
    }
    assert_true(held > 0 && capped[0] > 0 && capped[1] > 0);
    resp_free(&list);
    static const char *const bad[] = {
        "{\"unit\":\"customer\",\"surfaces\":[\"retention\"],\"variants\":[{\"name\":\"a\"},"
        "{\"name\":\"b\",\"settings\":{\"max_discount\":1.5}}]}",
        "{\"unit\":\"customer\",\"surfaces\":[\"email\"],\"variants\":[{\"name\":\"a\"},"
        "{\"name\":\"b\"}]}",
    };
    static const char *const says[] = {"max_discount", "surfaces"};
    for (int i = 0; i < 2; i++) {
        http(&main_srv, "PUT", "/experiments/T-ret-bad", ADM, bad[i], NULL, &r);
        expect_problem(&r, 400, says[i]);
        resp_free(&r);
    }
}

static int setup(void **state)
{
    (void)state;
    return group_setup("xsell_g_retention");
}

static int teardown(void **state)
{
    (void)state;
    return group_teardown();
}

int run_retention_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retention_offers_pay_under_planted_truth),
        cmocka_unit_test(test_retention_one_customer),
        cmocka_unit_test(test_retention_experiment),
    };
    return cmocka_run_group_tests_name("retention", tests, setup, teardown);
}
