/* /price's maths: least squares against hand-computed cases and the published
 * Dominick's orange juice elasticities (Taddy, Business Data Science, ch. 2); and a
 * retention discount's value, which the elasticity drives, by hand. */
#include <math.h>
#include <string.h>

#include "unit/unit.h"
#include "xsell/mat.h"
#include "xsell/model_price.h"
#include "xsell/retention.h"
#include "xsell/rng.h"

static void test_ols_by_hand(void **state)
{
    (void)state;
    /* y = 1 + 2x exactly, then with residuals: x = 0,1,2,3; y = 1,3,5,7 + (0.1,-0.1,-0.1,0.1) */
    double X[] = {1, 0, 1, 1, 1, 2, 1, 3}, y[] = {1.1, 2.9, 4.9, 7.1}, b[2], rss, inv[4];
    assert_int_equal(mat_ols(X, y, 4, 2, b, &rss, inv), 0);
    /* slope: Sxy / Sxx = (sum (x - 1.5) y) / 5 = 10 / 5 = 2; intercept 5 - 2*1.5 = 1.0...
     * with these residuals: Sxy = -1.5*1.1 - 0.5*2.9 + 0.5*4.9 + 1.5*7.1 = 10.0 */
    assert_true(fabs(b[1] - 2.0) < 1e-12);
    assert_true(fabs(b[0] - (4.0 - 2.0 * 1.5)) < 1e-12);
    assert_true(fabs(rss - 0.04) < 1e-12);
    /* (X'X)^-1 for X'X = [[4, 6], [6, 14]]: det 20 -> [[0.7, -0.3], [-0.3, 0.2]] */
    assert_true(fabs(inv[0] - 0.7) < 1e-12 && fabs(inv[1] + 0.3) < 1e-12);
    assert_true(fabs(inv[2] + 0.3) < 1e-12 && fabs(inv[3] - 0.2) < 1e-12);
    /* a column that repeats another: no unique solution */
    double Xc[] = {1, 1, 1, 1, 1, 1, 1, 1};
    assert_int_equal(mat_ols(Xc, y, 4, 2, b, &rss, NULL), -1);
}

static void test_oj_published(void **state)
{
    (void)state;
    const char *dir = getenv("XSELL_SHARED_DATA");
    char path[512], line[256];
    snprintf(path, sizeof(path), "%s/oj_price_elasticity/oj.csv", dir ? dir : "../shared/data");
    FILE *f = fopen(path, "rb");
    if (!f) {
        print_message("skipped: ../shared/data/oj_price_elasticity is not beside the repository\n");
        skip();
    }
    size_t n = 0, cap = 32768;
    double *X = malloc(cap * 4 * sizeof(double)), *X2 = malloc(cap * 2 * sizeof(double));
    double *y = malloc(cap * sizeof(double));
    assert_non_null(fgets(line, sizeof(line), f)); /* header */
    while (fgets(line, sizeof(line), f) && n < cap) {
        double sales, price;
        char brand[32];
        int feat;
        if (sscanf(line, "%lf,%lf,%31[^,],%d", &sales, &price, brand, &feat) != 4)
            continue;
        y[n] = log(sales);
        double *r = &X[n * 4];
        r[0] = 1;
        r[1] = log(price);
        r[2] = strcmp(brand, "minute.maid") == 0;
        r[3] = strcmp(brand, "tropicana") == 0;
        X2[n * 2] = 1;
        X2[n * 2 + 1] = log(price);
        n++;
    }
    fclose(f);
    assert_int_equal(n, 28947);
    double b[4], rss;
    /* log(sales) ~ log(price) + brand: -3.1386914; intercept 10.8288216; minute.maid
     * 0.8701747; tropicana 1.5299428 (the README's R glm figures) */
    assert_int_equal(mat_ols(X, y, (int)n, 4, b, &rss, NULL), 0);
    print_message("OJ: log(price) %.7f, intercept %.7f, minute.maid %.7f, tropicana %.7f\n", b[1],
                  b[0], b[2], b[3]);
    assert_true(fabs(b[1] + 3.1386914) < 1e-6);
    assert_true(fabs(b[0] - 10.8288216) < 1e-6);
    assert_true(fabs(b[2] - 0.8701747) < 1e-6);
    assert_true(fabs(b[3] - 1.5299428) < 1e-6);
    /* without brand, the confounded slope: -1.601307 (intercept 10.423422) */
    assert_int_equal(mat_ols(X2, y, (int)n, 2, b, &rss, NULL), 0);
    assert_true(fabs(b[1] + 1.601307) < 1e-6);
    assert_true(fabs(b[0] - 10.423422) < 1e-6);
    free(X);
    free(X2);
    free(y);
}

static void test_optimum_and_guardrails(void **state)
{
    (void)state;
    enum price_bound b;
    /* constant elasticity e < -1, no guardrail binding: cost e / (1 + e) */
    double p = price_optimum(-3, 10, 14, 1, 100, BOUND_FLOOR, BOUND_CEILING, &b);
    assert_true(fabs(p - 15) < 1e-12); /* 10 * -3 / -2 */
    assert_int_equal(b, BOUND_NONE);
    p = price_optimum(-1.5, 4, 10, 1, 100, BOUND_FLOOR, BOUND_CEILING, &b);
    assert_true(fabs(p - 12) < 1e-12); /* 4 * -1.5 / -0.5 */
    /* each bound binding */
    p = price_optimum(-3, 10, 14, 16, 100, BOUND_MAX_CHANGE, BOUND_CEILING, &b);
    assert_true(p == 16 && b == BOUND_MAX_CHANGE);
    p = price_optimum(-3, 10, 14, 1, 14.5, BOUND_FLOOR, BOUND_OBSERVED, &b);
    assert_true(p == 14.5 && b == BOUND_OBSERVED);
    /* inelastic: profit rises with price: the upper guardrail */
    p = price_optimum(-0.6, 10, 14, 1, 15.4, BOUND_FLOOR, BOUND_MAX_CHANGE, &b);
    assert_true(p == 15.4 && b == BOUND_MAX_CHANGE);
    /* revenue (no cost): elastic goes down to the lower bound, inelastic up */
    p = price_optimum(-2, NAN, 14, 12.6, 15.4, BOUND_MAX_CHANGE, BOUND_MAX_CHANGE, &b);
    assert_true(p == 12.6 && b == BOUND_MAX_CHANGE);
    p = price_optimum(-0.5, NAN, 14, 12.6, 15.4, BOUND_FLOOR, BOUND_CEILING, &b);
    assert_true(p == 15.4 && b == BOUND_CEILING);
    /* nothing known: the current price */
    p = price_optimum(NAN, 10, 14, 12.6, 15.4, BOUND_FLOOR, BOUND_CEILING, &b);
    assert_true(p == 14 && b == BOUND_NONE);
    /* the profit really peaks there: a numeric check around cost e / (1 + e) */
    double e = -2.4, c = 7, best = c * e / (1 + e);
    for (double d = -0.5; d <= 0.5; d += 0.1)
        assert_true((best - c) * pow(best, e) >= (best + d - c) * pow(best + d, e) - 1e-12);
}

/* A two-product shop whose product A sells (p / 10)^-2 times 100 units a week at
 * price p (the shop's other product steady), prices moving week by week. */
static void test_planted_elasticity(void **state)
{
    (void)state;
    struct history h;
    struct arena a;
    history_init(&h);
    arena_init(&a);
    history_add_product(&h, "A", "a", "x", 10, 4, true);
    history_add_product(&h, "B", "b", "x", 5, NAN, true);
    const double prices[] = {9, 10, 11, 12, 10.5, 9.5, 8.5, 11.5};
    char oid[32];
    int order = 0;
    double t0 = 1700006400; /* a Wednesday; weeks run from the first order's day */
    for (int wk = 0; wk < 40; wk++) {
        double p = prices[wk % 8];
        int units = (int)lround(100 * pow(p / 10, -2));
        snprintf(oid, sizeof(oid), "o%d", ++order);
        history_add_line(&h, oid, "c", t0 + wk * 7 * 86400.0, "A", units, p);
        snprintf(oid, sizeof(oid), "o%d", ++order);
        history_add_line(&h, oid, "c", t0 + wk * 7 * 86400.0 + 3600, "B", 50 + wk % 3, 5);
    }
    history_finish(&h);
    struct model_price m;
    struct figures fig = {0};
    model_price_fit(&h, t0 + 40 * 7 * 86400.0, &a, &m, &fig);
    int32_t A = idmap_find(&h.products, "A", 1), B = idmap_find(&h.products, "B", 1);
    assert_int_equal(m.item[A].n_weeks, 40);
    assert_true(fabs(m.item[A].own + 2) < 0.01);           /* rounding of units only */
    assert_true(m.item[A].own_se <= PRICE_MIN_SE + 1e-12); /* nearly exact: at the floor */
    assert_false(m.item[B].moved); /* B's price never moved: the group's estimate */
    assert_true(isnan(m.item[B].own));
    struct price_guard g = {.max_change = 0.5, .min_margin = 0, .floor = NAN, .ceiling = NAN};
    struct price_answer ans;
    model_price_query(&m, &h, A, &g, NULL, &ans);
    /* e = -2, cost 4: optimum 8, inside +-50% and the observed 8.5..12 padded 10% (7.65) */
    assert_true(fabs(ans.recommended - 8) < 0.05);
    assert_int_equal(ans.bound, BOUND_NONE);
    assert_true(ans.ci_low < -2 && ans.ci_high > -2);
    assert_true(ans.profit_rec > ans.profit_now);
    /* the default 10% step binds */
    g.max_change = 0.10;
    model_price_query(&m, &h, A, &g, NULL, &ans);
    assert_true(fabs(ans.recommended - 9) < 1e-9 && ans.bound == BOUND_MAX_CHANGE);
    /* a floor above it binds instead; a minimum margin of 60% needs 10 */
    g.floor = 9.5;
    model_price_query(&m, &h, A, &g, NULL, &ans);
    assert_true(fabs(ans.recommended - 9.5) < 1e-9 && ans.bound == BOUND_FLOOR);
    g.floor = NAN;
    g.min_margin = 0.6;
    model_price_query(&m, &h, A, &g, NULL, &ans);
    assert_true(fabs(ans.recommended - 10) < 1e-9 && ans.bound == BOUND_MIN_MARGIN);
    /* a bound between two cents: the price rounds inward, never past it (4 / 0.4497
     * = 8.8948 rounds to 8.89, below the margin; 7.996 to 8.00, above the ceiling) */
    g.min_margin = 0.5503;
    g.max_change = 0.5;
    model_price_query(&m, &h, A, &g, NULL, &ans);
    assert_true(ans.bound == BOUND_MIN_MARGIN && fabs(ans.recommended - 8.90) < 1e-9);
    assert_true(ans.recommended >= 4 / (1 - 0.5503));
    g.min_margin = 0;
    g.ceiling = 7.996;
    model_price_query(&m, &h, A, &g, NULL, &ans);
    assert_true(ans.bound == BOUND_CEILING && fabs(ans.recommended - 7.99) < 1e-9);
    /* no whole cent between the floor and the ceiling: a conflict, today's price */
    g.floor = 7.991;
    g.ceiling = 7.999;
    model_price_query(&m, &h, A, &g, NULL, &ans);
    assert_int_equal(ans.bound, BOUND_CONFLICT);
    g = (struct price_guard){.max_change = 0.10, .min_margin = 0.6, .floor = NAN, .ceiling = NAN};
    /* a ceiling below the floor the margin sets: nothing is feasible */
    g.ceiling = 9.8;
    model_price_query(&m, &h, A, &g, NULL, &ans);
    assert_int_equal(ans.bound, BOUND_CONFLICT);
    assert_true(ans.recommended == 10);
    /* explore: a draw from the posterior, still within the guardrails */
    g = (struct price_guard){.max_change = 0.10, .min_margin = 0, .floor = NAN, .ceiling = NAN};
    struct rng r;
    rng_seed(&r, 3);
    for (int i = 0; i < 50; i++) {
        model_price_query(&m, &h, A, &g, &r, &ans);
        assert_true(isfinite(ans.draw));
        assert_true(ans.recommended >= 9 - 1e-9 && ans.recommended <= 11 + 1e-9);
    }
    arena_release(&a);
    history_release(&h);
}

/* 150 products whose weekly demand follows (p / 10)^-2, p held for runs of 6 weeks,
 * each run with a demand shock of its own (a complement on sale, a campaign: 25%
 * spread) and a little weekly noise: weeks of one price are not independent. The
 * intervals from the plain fit's standard error covered the planted -2 for 63 of the
 * 150; clustered by runs of one price, with t(runs - 1)'s point, 121: ten runs are
 * few clusters, and such intervals stay a little narrow (Cameron & Miller 2015). */
static void test_shared_shocks_widen_intervals(void **state)
{
    (void)state;
    enum { PRODUCTS = 150, WEEKS = 60, RUN = 6 };
    struct history h;
    struct arena a;
    history_init(&h);
    arena_init(&a);
    char id[16], oid[32];
    for (int i = 0; i < PRODUCTS; i++) {
        snprintf(id, sizeof(id), "P%d", i);
        history_add_product(&h, id, id, NULL, 10, NAN, true);
    }
    history_add_product(&h, "S", "steady", NULL, 5, NAN, true);
    struct rng r;
    rng_seed(&r, 3);
    static const double levels[] = {8, 9, 10, 11, 12};
    double price[PRODUCTS], shock[PRODUCTS];
    int order = 0;
    double t0 = 1700006400;
    for (int wk = 0; wk < WEEKS; wk++) {
        double t = t0 + wk * 7 * 86400.0;
        for (int i = 0; i < PRODUCTS; i++) {
            if (wk % RUN == 0) {
                price[i] = levels[rng_int(&r, 5)];
                shock[i] = exp(0.25 * rng_normal(&r));
            }
            double mean = 200 * pow(price[i] / 10, -2) * shock[i];
            int units = (int)lround(mean * exp(0.03 * rng_normal(&r)));
            snprintf(id, sizeof(id), "P%d", i);
            snprintf(oid, sizeof(oid), "o%d", ++order);
            history_add_line(&h, oid, "c", t + i, id, units, price[i]);
        }
        snprintf(oid, sizeof(oid), "o%d", ++order);
        history_add_line(&h, oid, "c", t + 3600, "S", 500 + wk % 3, 5);
    }
    history_finish(&h);
    struct model_price m;
    struct figures fig = {0};
    model_price_fit(&h, t0 + WEEKS * 7 * 86400.0, &a, &m, &fig);
    int covered = 0, fitted = 0;
    for (int i = 0; i < PRODUCTS; i++) {
        snprintf(id, sizeof(id), "P%d", i);
        const struct price_item *it = &m.item[idmap_find(&h.products, id, strlen(id))];
        if (isnan(it->own))
            continue;
        fitted++;
        covered += fabs(it->own + 2) <= 1.959964 * it->own_se;
    }
    print_message("shared shocks: %d of %d own 95%% intervals cover -2\n", covered, fitted);
    assert_true(fitted >= PRODUCTS - 5);
    assert_true(covered >= 0.75 * fitted);
    arena_release(&a);
    history_release(&h);
}

/* A retention discount's value (retention.h), by hand. A customer alive with
 * probability 0.8 who makes 0.5 purchases over the horizon if alive, 40% of them with
 * the product (price 50, margin 20), elasticity -2, 10% off:
 *   q0 = 0.8 (1 - e^-0.2) = 0.145015; k = 0.9^-2 = 1.234568;
 *   q1 = 0.8 (1 - e^-(0.2 k)) = 0.8 (1 - e^-0.246914) = 0.175033;
 *   value = (q1 - q0)(20 - 5) - q0 5 = 0.450270 - 0.725077 = -0.274807: it loses.
 * Alive 0.6, 0.2 purchases, half with it (price 40, margin 24), elasticity -3, 20% off:
 *   q0 = 0.6 (1 - e^-0.1) = 0.057098; k = 0.8^-3 = 1.953125;
 *   q1 = 0.6 (1 - e^-0.195313) = 0.106453;
 *   value = 0.049356 (24 - 8) - q0 8 = 0.789690 - 0.456780 = 0.332914: it pays. */
static void test_retention_discount_by_hand(void **state)
{
    (void)state;
    double q0, q1;
    double v = retention_discount_value(0.8, 0.5, 0.4, -2, 50, 20, 0.1, &q0, &q1);
    assert_true(fabs(q0 - 0.145015) < 1e-6 && fabs(q1 - 0.175033) < 1e-6);
    assert_true(fabs(v - -0.274807) < 1e-6);
    v = retention_discount_value(0.6, 0.2, 0.5, -3, 40, 24, 0.2, &q0, &q1);
    assert_true(fabs(q0 - 0.057098) < 1e-6 && fabs(q1 - 0.106453) < 1e-6);
    assert_true(fabs(v - 0.332914) < 1e-6);
    /* no discount, no change; a dead customer (alive 0) is worth nothing either way */
    assert_true(retention_discount_value(0.6, 0.2, 0.5, -3, 40, 24, 0, &q0, &q1) == 0);
    assert_true(retention_discount_value(0, 0.2, 0.5, -3, 40, 24, 0.2, &q0, &q1) == 0);
}

/* The stock against demand, by hand: demand 100 units at the current 10.00 with
 * elasticity -2, so demand(p) = 100 (p / 10)^-2. */
static void test_stock(void **state)
{
    (void)state;
    struct price_answer base = {.current = 10,
                                .recommended = 10,
                                .elasticity = -2,
                                .cost = NAN,
                                .lo = 4,
                                .hi = 20,
                                .bound = BOUND_NONE};
    struct price_answer a = base;
    /* scarce: 50 in stock, the price where demand meets it is 10 sqrt(2) = 14.142 */
    price_apply_stock(&a, 7, 100, 50);
    assert_int_equal(a.stock_case, STOCK_SCARCE);
    assert_float_equal(a.recommended, 14.15, 1e-9);
    assert_float_equal(a.before_stock, 10, 1e-9);
    assert_float_equal(a.demand_rec, 100 / (1.415 * 1.415), 1e-9);
    assert_true(a.demand_rec <= 50 && !a.stock_stopped);
    assert_float_equal(a.units_rec, 7 / (1.415 * 1.415), 1e-9); /* the weekly units follow */
    /* the same with the ceiling at 11: stopped there */
    a = base;
    a.hi = 11;
    price_apply_stock(&a, 7, 100, 50);
    assert_float_equal(a.recommended, 11, 1e-9);
    assert_true(a.stock_stopped);
    assert_float_equal(a.demand_rec, 100 / 1.21, 1e-9);
    /* overstocked: 1000 against 100, marked down until demand meets 1000 / 3:
     * 10 / sqrt(10 / 3) = 5.477, to the cent below */
    a = base;
    price_apply_stock(&a, 7, 100, 1000);
    assert_int_equal(a.stock_case, STOCK_OVERSTOCK);
    assert_float_equal(a.recommended, 5.47, 1e-9);
    assert_true(a.demand_rec >= 1000 / 3.0);
    /* balanced, unknown stock, no forecast: the price stays */
    static const struct {
        double demand;
        int32_t stock;
        enum price_stock want;
    } stays[] = {{100, 150, STOCK_BALANCED}, {100, -1, STOCK_UNKNOWN}, {NAN, 5, STOCK_UNKNOWN}};
    for (size_t k = 0; k < ARRAY_SIZE(stays); k++) {
        a = base;
        price_apply_stock(&a, 7, stays[k].demand, stays[k].stock);
        assert_int_equal(a.stock_case, stays[k].want);
        assert_float_equal(a.recommended, 10, 1e-12);
    }
    /* nothing known of demand's response: the case is said, the price stays */
    a = base;
    a.elasticity = NAN;
    price_apply_stock(&a, 7, 100, 50);
    assert_int_equal(a.stock_case, STOCK_SCARCE);
    assert_float_equal(a.recommended, 10, 1e-12);
    /* none in stock: as high as the guardrails let it go */
    a = base;
    price_apply_stock(&a, 7, 100, 0);
    assert_float_equal(a.recommended, 20, 1e-12);
    assert_true(a.stock_stopped);
    assert_string_equal(price_stock_name(STOCK_OVERSTOCK), "overstock");
}

int run_price_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ols_by_hand),
        cmocka_unit_test(test_oj_published),
        cmocka_unit_test(test_optimum_and_guardrails),
        cmocka_unit_test(test_planted_elasticity),
        cmocka_unit_test(test_shared_shocks_widen_intervals),
        cmocka_unit_test(test_stock),
        cmocka_unit_test(test_retention_discount_by_hand),
    };
    return cmocka_run_group_tests_name("price", tests, NULL, NULL);
}
