/* Experiments' statistics (abtest.h): the chi-square tail against closed forms, and
 * the always-valid intervals by simulation: looked at every day, A/A experiments are
 * declared different at most alpha of the time (a fixed-sample interval looked at the
 * same way is not), a planted lift is covered and found, CUPED narrows the interval
 * without losing coverage, and a 55/45 split of a planned 50/50 is flagged. */
#include <math.h>

#include "unit/unit.h"
#include "xsell/abtest.h"
#include "xsell/experiment.h"
#include "xsell/experiment_json.h"
#include "xsell/rng.h"

static void test_chi2_tail(void **state)
{
    (void)state;
    /* df 1: erfc(sqrt(x / 2)); df 2: exp(-x / 2); df 3: erfc(sqrt(x / 2)) + sqrt(2x/pi) e^(-x/2) */
    const double xs[] = {0.01, 0.5, 1, 3.841458820694124, 10, 40};
    for (size_t i = 0; i < sizeof(xs) / sizeof(xs[0]); i++) {
        double x = xs[i];
        double df1 = erfc(sqrt(x / 2)), df2 = exp(-x / 2),
               df3 = erfc(sqrt(x / 2)) + sqrt(2 * x / M_PI) * exp(-x / 2);
        assert_true(fabs(ab_chi2_sf(x, 1) - df1) < 1e-10 * MAX(1, 1 / df1) * df1 + 1e-14);
        assert_true(fabs(ab_chi2_sf(x, 2) - df2) < 1e-10 * df2 + 1e-14);
        assert_true(fabs(ab_chi2_sf(x, 3) - df3) < 1e-10 * df3 + 1e-14);
    }
    assert_true(fabs(ab_chi2_sf(3.841458820694124, 1) - 0.05) < 1e-9);
    assert_true(fabs(ab_chi2_sf(11.070497693516351, 5) - 0.05) < 1e-9);
}

static void test_srm(void **state)
{
    (void)state;
    const double w[] = {1, 1}, w3[] = {50, 25, 25};
    const double skewed[] = {5500, 4500}, fair[] = {5030, 4970}, three[] = {2010, 1000, 990};
    assert_true(ab_srm_pvalue(skewed, w, 2) < 1e-10);
    assert_true(ab_srm_pvalue(fair, w, 2) > 0.5);
    assert_true(ab_srm_pvalue(three, w3, 3) > 0.5);
    assert_true(ab_srm_pvalue(fair, w, 1) == 1);
}

/* One unit's spend: converts with p, then log-normal(3, 1) times mult. */
static double spend(struct rng *r, double p, double mult)
{
    return rng_uniform(r) < p ? mult * exp(3 + rng_normal(r)) : 0;
}

#define SIMS      200
#define DAYS      30
#define PER_DAY   100 /* units per arm and day */
#define N_OPT     (2.0 * DAYS * PER_DAY)
#define CONVERT   0.1
#define UNIT_MEAN (CONVERT * 33.11545195869231) /* 0.1 * exp(3.5) */

/* SIMS experiments of DAYS days, the variant's spend times mult; looked at daily.
 * How many were ever declared different (the always-valid interval, and a fixed
 * 1.96 one), how many final intervals covered the true difference, and how many
 * found the variant better at the end. */
static void simulate(double mult, int *declared, int *declared_fixed, int *covered, int *found)
{
    struct rng r;
    rng_seed(&r, 20261201);
    *declared = *declared_fixed = *covered = *found = 0;
    double truth = (mult - 1) * UNIT_MEAN;
    for (int s = 0; s < SIMS; s++) {
        struct ab_arm c = {0}, v = {0};
        bool any = false, any_fixed = false;
        struct ab_result res;
        for (int d = 0; d < DAYS; d++) {
            for (int u = 0; u < PER_DAY; u++) {
                ab_arm_add(&c, spend(&r, CONVERT, 1), 0);
                ab_arm_add(&v, spend(&r, CONVERT, mult), 0);
            }
            ab_compare(&c, &v, 0.05, N_OPT, &res);
            any |= res.plain.diff_lo > 0 || res.plain.diff_hi < 0;
            any_fixed |= fabs(res.plain.diff) > 1.959963984540054 * res.plain.se;
        }
        *declared += any;
        *declared_fixed += any_fixed;
        *covered += res.plain.diff_lo <= truth && truth <= res.plain.diff_hi;
        *found += res.plain.diff_lo > 0;
    }
}

static void test_aa_peeking(void **state)
{
    (void)state;
    int declared, fixed, covered, found;
    simulate(1.0, &declared, &fixed, &covered, &found);
    print_message("A/A, %d experiments looked at daily for %d days: always-valid %d declared "
                  "(%.1f%%), fixed-sample 1.96 %d (%.1f%%)\n",
                  SIMS, DAYS, declared, 100.0 * declared / SIMS, fixed, 100.0 * fixed / SIMS);
    assert_true(declared <= SIMS * 5 / 100);
    assert_true(fixed > SIMS * 5 / 100); /* the simulation does tell peeking apart */
}

static void test_planted_lift(void **state)
{
    (void)state;
    int declared, fixed, covered, found;
    simulate(1.6, &declared, &fixed, &covered, &found);
    print_message("planted +60%%: final interval covered the truth in %d of %d, found the "
                  "variant better in %d\n",
                  covered, SIMS, found);
    assert_true(covered >= SIMS * 95 / 100);
    assert_true(found >= SIMS / 2);
}

/* Spend that repeats: each unit's propensity shows in its spend before the experiment
 * (the covariate) and during it. CUPED narrows; coverage holds. */
static void test_cuped(void **state)
{
    (void)state;
    struct rng r;
    rng_seed(&r, 7);
    int covered = 0, covered_cuped = 0;
    double narrowing = 0;
    for (int s = 0; s < SIMS; s++) {
        struct ab_arm c = {0}, v = {0};
        for (int u = 0; u < 2000; u++) {
            for (int arm = 0; arm < 2; arm++) {
                double taste = exp(2 + 0.8 * rng_normal(&r));
                double pre = taste * rng_gamma(&r, 4, 0.25), post = taste * rng_gamma(&r, 4, 0.25);
                ab_arm_add(arm ? &v : &c, arm ? post + 1.0 : post, pre);
            }
        }
        struct ab_result res;
        ab_compare(&c, &v, 0.05, 4000, &res);
        covered += res.plain.diff_lo <= 1 && 1 <= res.plain.diff_hi;
        covered_cuped += res.cuped.diff_lo <= 1 && 1 <= res.cuped.diff_hi;
        narrowing += res.narrowing / SIMS;
    }
    print_message("CUPED: the interval %.1f%% narrower on average; coverage %d (plain %d) of %d\n",
                  100 * narrowing, covered_cuped, covered, SIMS);
    assert_true(narrowing > 0.15);
    assert_true(covered_cuped >= SIMS * 95 / 100 && covered >= SIMS * 95 / 100);
}

static void test_multiplier(void **state)
{
    (void)state;
    /* at its n_opt, with alpha 0.05: 2 ln 20 = 5.99, + ln 6.99 -> n r = 7.94;
     * sqrt(2 * 8.94 / 7.94 * ln(sqrt(8.94) / 0.05)) = 3.0352 */
    assert_true(fabs(ab_cs_multiplier(1000, 1000, 0.05) - 3.0352) < 1e-3);
    for (double n = 10; n < 1e8; n *= 3)
        assert_true(ab_cs_multiplier(n, 1000, 0.05) > 1.96);
}

/* Assignment: stable, by weight, independent across experiments; a definition reads
 * back from its JSON the same. */
static void test_assignment(void **state)
{
    (void)state;
    const char *body = "{\"unit\":\"customer\",\"surfaces\":[\"upsell\"],\"start\":"
                       "\"2026-01-01\",\"variants\":[{\"name\":\"c\",\"weight\":1},"
                       "{\"name\":\"v\",\"weight\":3,\"settings\":{\"strategy\":\"off\","
                       "\"blend\":{\"own\":0.5}}}]}";
    cJSON *o = cJSON_Parse(body);
    struct experiment e, f, back;
    char err[300], unit[32];
    assert_int_equal(experiment_parse(o, "exp-1", 0, &e, err, sizeof(err)), 0);
    cJSON_Delete(o);
    cJSON *j = experiment_to_json(&e);
    assert_int_equal(experiment_parse(j, "exp-1", 0, &back, err, sizeof(err)), 0);
    cJSON_Delete(j);
    assert_true(back.start == e.start && back.end == INFINITY && back.surfaces == EXP_UPSELL);
    assert_true(back.variant[1].off && back.variant[1].blend[EXP_OWN] == 0.5);
    assert_true(isnan(back.variant[1].blend[EXP_PEERS]) && back.variant[0].strategy == -1);
    f = e;
    snprintf(f.id, sizeof(f.id), "exp-2");
    int n1 = 0, same = 0, n = 20000;
    for (int i = 0; i < n; i++) {
        snprintf(unit, sizeof(unit), "C%05d", i);
        int a = experiment_assign(&e, unit);
        assert_int_equal(a, experiment_assign(&e, unit)); /* stable */
        n1 += a == 1;
        same += a == experiment_assign(&f, unit);
    }
    /* 3:1: 75% +- 4 standard errors */
    assert_true(fabs((double)n1 / n - 0.75) < 4 * sqrt(0.75 * 0.25 / n));
    /* another experiment splits the same customers afresh: agreement 0.75^2 + 0.25^2 */
    assert_true(fabs((double)same / n - 0.625) < 4 * sqrt(0.625 * 0.375 / n));
}

int run_abtest_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chi2_tail),    cmocka_unit_test(test_srm),
        cmocka_unit_test(test_multiplier),   cmocka_unit_test(test_aa_peeking),
        cmocka_unit_test(test_planted_lift), cmocka_unit_test(test_cuped),
        cmocka_unit_test(test_assignment),
    };
    return cmocka_run_group_tests_name("abtest", tests, NULL, NULL);
}
