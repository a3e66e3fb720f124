/* GET /forecast's model: reconciliation by hand, coherence of the three levels,
 * the correlation's shrinkage, and the series built from a history (returns netted,
 * zeros filled, intermittent and short series, a product never sold). */
#include <math.h>

#include "unit/unit.h"
#include "xsell/model_sales.h"
#include "xsell/rng.h"

static void test_reconcile_by_hand(void **state)
{
    (void)state;
    /* two leaves (10 and 20, variance 1 each) under a root forecast at 36 (variance
     * 2): the gap of 6 is shared by variance, 1/4 to each leaf and 2/4 off the root;
     * each reconciled variance is w - w^2 / (1 + 1 + 2) */
    const int32_t parent[] = {2, 2, -1};
    const double mean[] = {10, 20, 36}, var[] = {1, 1, 2};
    double rm[3], rv[3];
    assert_false(sales_reconcile(3, parent, mean, var, NULL, true, rm, rv));
    assert_true(fabs(rm[0] - 11.5) < 1e-9 && fabs(rm[1] - 21.5) < 1e-9 && fabs(rm[2] - 33) < 1e-9);
    assert_true(fabs(rv[0] - 0.75) < 1e-9 && fabs(rv[1] - 0.75) < 1e-9 && fabs(rv[2] - 1) < 1e-9);

    /* a sure root is kept, the leaves take the whole gap */
    const double var_sure[] = {1, 1, 0};
    assert_false(sales_reconcile(3, parent, mean, var_sure, NULL, true, rm, rv));
    assert_true(fabs(rm[2] - 36) < 1e-6 && fabs(rm[0] - 13) < 1e-6 && fabs(rm[1] - 23) < 1e-6);
}

static void test_reconcile_lifts_to_zero(void **state)
{
    (void)state;
    /* the root is sure of 1; the uncertain leaf takes the gap and goes below zero */
    const int32_t parent[] = {2, 2, -1};
    const double mean[] = {2, 5, 1}, var[] = {0.01, 100, 0.0001};
    double rm[3], rv[3];
    assert_true(sales_reconcile(3, parent, mean, var, NULL, true, rm, rv));
    assert_true(rm[0] >= 0 && rm[1] >= 0 && fabs(rm[2] - rm[0] - rm[1]) < 1e-12);
    assert_true(rm[1] == 0);
    /* without the clamp, the answer is the plain GLS one */
    assert_false(sales_reconcile(3, parent, mean, var, NULL, false, rm, rv));
    assert_true(rm[1] < 0 && fabs(rm[2] - rm[0] - rm[1]) < 1e-9);
}

/* A tree: products 0..5, categories 6 (0, 1, 2) and 7 (3, 4), product 5 straight
 * under the shop 8. */
static const int32_t tree[] = {6, 6, 6, 7, 7, 8, 8, 8, -1};

static void check_coherent(const double *m)
{
    assert_true(fabs(m[6] - m[0] - m[1] - m[2]) < 1e-8 * (1 + fabs(m[6])));
    assert_true(fabs(m[7] - m[3] - m[4]) < 1e-8 * (1 + fabs(m[7])));
    assert_true(fabs(m[8] - m[6] - m[7] - m[5]) < 1e-8 * (1 + fabs(m[8])));
}

static void test_correlation_and_coherence(void **state)
{
    (void)state;
    enum { T = 200, N = 9 };
    static double e[T * N];
    struct rng r;
    rng_seed(&r, 7);
    /* independent errors: shrink (almost) all the way to the identity */
    for (int i = 0; i < T * N; i++)
        e[i] = rng_normal(&r);
    struct sales_corr c;
    sales_corr_estimate(e, T, N, &c);
    print_message("independent errors: lambda %.3f\n", c.lambda);
    assert_true(c.lambda > 0.5);
    sales_corr_release(&c);
    /* a strong shock common to every series: little shrinkage */
    for (int t = 0; t < T; t++) {
        double common = 3 * rng_normal(&r);
        for (int i = 0; i < N; i++)
            e[t * N + i] = common + rng_normal(&r);
    }
    sales_corr_estimate(e, T, N, &c);
    print_message("common shock: lambda %.3f\n", c.lambda);
    assert_true(c.lambda < 0.1);

    /* coherent with the correlation, and different from without it */
    const double mean[N] = {5, 3, 8, 2, 4, 1, 20, 9, 33};
    const double var[N] = {2, 1, 3, 1, 2, 0.5, 4, 2, 6};
    double rm[N], rv[N], dm[N], dv[N];
    assert_false(sales_reconcile(N, tree, mean, var, &c, true, rm, rv));
    check_coherent(rm);
    assert_false(sales_reconcile(N, tree, mean, var, NULL, true, dm, dv));
    check_coherent(dm);
    assert_true(fabs(rm[8] - dm[8]) > 1e-3);
    for (int i = 0; i < N; i++)
        assert_true(rv[i] >= 0 && rv[i] <= var[i] * (1 + 1e-9) && dv[i] <= var[i] * (1 + 1e-9));
    /* lambda 1 is the diagonal case */
    c.lambda = 1;
    assert_false(sales_reconcile(N, tree, mean, var, &c, true, rm, rv));
    for (int i = 0; i < N; i++)
        assert_true(fabs(rm[i] - dm[i]) < 1e-9 && fabs(rv[i] - dv[i]) < 1e-9);
    sales_corr_release(&c);
}

#define T0    1704067200.0 /* 2024-01-01 00:00 UTC */
#define NDAYS 400

static void add(struct history *h, int day, const char *product, int qty, double price)
{
    char oid[32];
    snprintf(oid, sizeof(oid), "o%d-%s-%d", day, product, qty);
    history_add_line(h, oid, "c1", T0 + day * DAY_S + 36000, product, qty, price);
}

static void test_series_from_history(void **state)
{
    (void)state;
    struct history h;
    history_init(&h);
    history_add_product(&h, "A", "a", "x", 10, NAN, true); /* daily, weekly cycle */
    history_add_product(&h, "B", "b", "x", 20, NAN, true); /* one sale in ten days */
    history_add_product(&h, "C", "c", "y", 5, NAN, true);  /* steady, with a trend */
    history_add_product(&h, "D", "d", "y", 8, NAN, true);  /* never sold */
    history_add_product(&h, "E", "e", NULL, 3, NAN, true); /* no category, 10 days old */
    struct rng r;
    rng_seed(&r, 11);
    for (int d = 0; d < NDAYS; d++) {
        int dow = d % 7;
        add(&h, d, "A", 5 + (dow >= 5 ? 6 : 0) + (int)(rng_uniform(&r) * 3), 10);
        if (d % 10 == 3)
            add(&h, d, "B", 2, 20);
        add(&h, d, "C", 10 + d / 40 + (int)(rng_uniform(&r) * 4), 5);
        if (d >= NDAYS - 10)
            add(&h, d, "E", 4 + d % 2, 3);
    }
    add(&h, NDAYS - 1, "A", -2, 10); /* a return on the last day */
    history_finish(&h);

    struct arena a;
    arena_init(&a);
    struct model_sales m;
    struct figures fig = {0};
    double as_of = T0 + NDAYS * DAY_S - 0.001; /* the end of the last day */
    model_sales_fit(&h, as_of, 2, NULL, &a, &m, &fig);
    assert_int_equal(m.nodes, 5 + 2 + 1);
    /* the memory budget's plan covers what the model keeps */
    assert_true(a.bytes <= model_sales_work_bytes(&h, as_of));
    assert_true(m.first_day[SALES_DAY] == floor(T0 / DAY_S) + NDAYS);

    const struct sales_fc *day = m.fc[SALES_UNITS][SALES_DAY];
    /* the last day's A: its sale less the return */
    double a_last = 5 + ((NDAYS - 1) % 7 >= 5 ? 6 : 0);
    assert_true(day[0].last >= a_last - 2 && day[0].last <= a_last + 2 - 2);
    assert_string_equal(day[1].model, "SES");
    assert_string_equal(day[3].model, "None");
    assert_int_equal(day[3].n, 0);
    assert_int_equal(day[4].n, 10);
    assert_non_null(day[4].note);
    assert_non_null(strstr(day[4].note, "fewer than two seasons"));
    assert_true(isfinite(day[0].mase) && isfinite(day[0].cover80));
    /* A's weekend peak survives reconciliation */
    int sat = (int)(5 - fmod(m.first_day[SALES_DAY] - floor(T0 / DAY_S), 7) + 7) % 7;
    assert_true(day[0].mean[sat] > day[0].mean[(sat + 3) % 7] + 3);

    for (int meas = 0; meas < SALES_NMEASURE; meas++)
        for (int f = 0; f < SALES_NFREQ; f++) {
            const struct sales_fc *fc = m.fc[meas][f];
            assert_non_null(m.method[meas][f]);
            for (int s = 0; s < m.h_max[f]; s++) {
                double v[8];
                for (int i = 0; i < 8; i++) {
                    v[i] = fc[i].mean[s];
                    assert_true(v[i] >= 0 && isfinite(fc[i].sd[s]) && fc[i].sd[s] >= 0);
                }
                /* nodes: A B C D E, x, y, shop */
                assert_true(fabs(v[5] - v[0] - v[1]) < 1e-6 * (1 + v[5]));
                assert_true(fabs(v[6] - v[2] - v[3]) < 1e-6 * (1 + v[6]));
                assert_true(fabs(v[7] - v[5] - v[6] - v[4]) < 1e-6 * (1 + v[7]));
                assert_true(fc[3].mean[s] == 0);
            }
        }
    /* revenue is units at their price here */
    assert_true(fabs(m.fc[SALES_REVENUE][SALES_DAY][2].last -
                     5 * m.fc[SALES_UNITS][SALES_DAY][2].last) < 1e-9);
    print_message("sales: day %s, week %s\n", m.method[SALES_UNITS][SALES_DAY],
                  m.method[SALES_UNITS][SALES_WEEK]);
    /* an update keeps the choices (ETS forms, SES constants) and the backtests, and
     * starts the ETS searches at the refit's estimates: on the same data, the same
     * answers within the searches' tolerance */
    struct model_sales again;
    struct figures fig2 = {0};
    model_sales_fit(&h, as_of, 1, &m, &a, &again, &fig2);
    bool kept = false;
    for (int i = 0; i < fig2.n; i++)
        if (strcmp(fig2.item[i].name, "choices_kept") == 0)
            kept = fig2.item[i].value == 1;
    assert_true(kept);
    int with_ets = 0, with_ses = 0, with_est = 0;
    double worst = 0;
    for (int meas = 0; meas < SALES_NMEASURE; meas++)
        for (int f = 0; f < SALES_NFREQ; f++)
            for (size_t i = 0; i < m.nodes; i++) {
                size_t t = (size_t)(meas * SALES_NFREQ + f) * m.nodes + i;
                with_ets += m.choice[t].form.error != 0;
                with_ses += m.choice[t].ses_alpha > 0;
                with_est += m.choice[t].ets.nvar > 0;
                assert_memory_equal(&m.choice[t].form, &again.choice[t].form,
                                    sizeof(m.choice[t].form));
                assert_true(m.choice[t].ses_alpha == again.choice[t].ses_alpha);
                assert_string_equal(m.fc[meas][f][i].model, again.fc[meas][f][i].model);
                const struct sales_fc *x = &m.fc[meas][f][i], *y = &again.fc[meas][f][i];
                assert_true((isnan(x->mase) && isnan(y->mase)) || x->mase == y->mase);
                assert_true((isnan(x->cover80) && isnan(y->cover80)) || x->cover80 == y->cover80);
                for (int s = 0; s < m.h_max[f]; s++) { /* the search started at the optimum */
                    double d = fabs(x->mean[s] - y->mean[s]);
                    worst = MAX(worst, d / (1 + fabs(x->mean[s])));
                }
            }
    assert_true(with_ets > 0 && with_ses > 0 && with_est > 0);
    print_message("update on the same data: worst relative difference %.2g\n", worst);
    assert_true(worst < 1e-3);
    assert_memory_equal(m.backtest_mase, again.backtest_mase, sizeof(m.backtest_mase));
    /* the intervals' calibration: the products' daily backtests (3 products x 28
     * days) are too few errors for factors (the models' own intervals serve), and an
     * update keeps its refit's */
    const struct fc_calibration *cal = &m.cal[SALES_UNITS][SALES_DAY][SALES_POOL_PRODUCTS];
    assert_int_equal(cal->n, 3 * SALES_BACKTEST_DAY);
    assert_true(cal->n < FC_CAL_MIN && cal->h == SALES_BACKTEST_DAY);
    for (int s = 0; s < SALES_MAX_H_DAY; s++)
        assert_true(fc_calibration_factor(cal, 95, s) == 1);
    assert_null(cal->score);
    assert_memory_equal(m.cal, again.cal, sizeof(m.cal));
    arena_release(&a);
    history_release(&h);
}

/* No orders, and orders on two days only: zeros and simple models, nothing breaks. */
static void test_series_too_short(void **state)
{
    (void)state;
    for (int days = 0; days <= 2; days += 2) {
        struct history h;
        history_init(&h);
        history_add_product(&h, "A", "a", "x", 10, NAN, true);
        for (int d = 0; d < days; d++)
            add(&h, d, "A", 3 + d, 10);
        history_finish(&h);
        struct arena a;
        arena_init(&a);
        struct model_sales m;
        struct figures fig = {0};
        model_sales_fit(&h, T0 + days * DAY_S - 0.001, 1, NULL, &a, &m, &fig);
        assert_int_equal(m.nodes, 3);
        for (int f = 0; f < SALES_NFREQ; f++) {
            const struct sales_fc *fc = m.fc[SALES_UNITS][f];
            for (int s = 0; s < m.h_max[f]; s++)
                assert_true(fc[0].mean[s] >= 0 && fabs(fc[2].mean[s] - fc[0].mean[s]) < 1e-9);
            assert_true(isnan(fc[2].mase));
        }
        if (days == 2) { /* two days: their mean, said so */
            const struct sales_fc *fc = &m.fc[SALES_UNITS][SALES_DAY][0];
            assert_string_equal(fc->model, "Mean");
            assert_non_null(fc->note);
            assert_true(fabs(fc->mean[0] - 3.5) < 1e-9 && fc->last == 4);
        } else {
            assert_string_equal(m.fc[SALES_UNITS][SALES_DAY][2].model, "None");
        }
        arena_release(&a);
        history_release(&h);
    }
}

/* The O(n) tree reconciliation is the dense weighted least squares (no correlation)
 * exactly: means and variances on the hand case and on random trees of 2 to 4 levels,
 * with the lift to zero on and off. */
static void test_reconcile_tree_is_wls(void **state)
{
    (void)state;
    const int32_t parent[] = {2, 2, -1};
    const double mean[] = {10, 20, 36}, var[] = {1, 1, 2};
    double rm[3], rv[3];
    assert_false(sales_reconcile_tree(3, parent, mean, var, true, rm, rv));
    assert_true(fabs(rm[0] - 11.5) < 1e-9 && fabs(rm[1] - 21.5) < 1e-9 && fabs(rm[2] - 33) < 1e-9);
    assert_true(fabs(rv[0] - 0.75) < 1e-9 && fabs(rv[1] - 0.75) < 1e-9 && fabs(rv[2] - 1) < 1e-9);

    enum { N = 400 };
    struct rng r;
    rng_seed(&r, 11);
    static int32_t up[N];
    static double m[N], v[N], am[N], av[N], bm[N], bv[N];
    for (int round = 0; round < 40; round++) {
        /* nodes numbered children first: leaves, then up to 3 inner levels, the root last */
        int levels = 1 + round % 3, n = 0, first = 0, width = 120 + rng_int(&r, 120);
        for (int i = 0; i < width; i++)
            up[n++] = -1;
        for (int l = 0; l < levels; l++) {
            int kids = n - first, groups = MAX(1, kids / (3 + rng_int(&r, 20)));
            for (int i = first; i < first + kids; i++)
                up[i] = n + rng_int(&r, groups);
            first += kids;
            for (int g = 0; g < groups; g++)
                up[n++] = -1;
        }
        for (int i = first; i < n; i++) /* the last level under one root */
            up[i] = n;
        up[n++] = -1;
        for (int i = 0; i < n; i++) {
            m[i] = rng_range(&r, -5, 50);
            v[i] = round % 5 == 0 && i % 7 == 0 ? 0 : rng_range(&r, 0.1, 30);
        }
        bool clamp = round % 2 == 0;
        bool a = sales_reconcile(n, up, m, v, NULL, clamp, am, av);
        bool b = sales_reconcile_tree(n, up, m, v, clamp, bm, bv);
        assert_int_equal(a, b);
        for (int i = 0; i < n; i++) {
            if (fabs(am[i] - bm[i]) > 1e-6 * (1 + fabs(am[i])) ||
                fabs(av[i] - bv[i]) > 1e-6 * (1 + fabs(av[i])))
                fail_msg("round %d node %d of %d: dense %g (var %g), tree %g (var %g)", round, i, n,
                         am[i], av[i], bm[i], bv[i]);
        }
    }
}

int run_sales_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reconcile_by_hand),
        cmocka_unit_test(test_reconcile_lifts_to_zero),
        cmocka_unit_test(test_reconcile_tree_is_wls),
        cmocka_unit_test(test_correlation_and_coherence),
        cmocka_unit_test(test_series_from_history),
        cmocka_unit_test(test_series_too_short),
    };
    return cmocka_run_group_tests_name("sales", tests, NULL, NULL);
}
