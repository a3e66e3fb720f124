/* The experiment simulator of `xsell gen --experiment` (gen.h) in memory, judged by
 * the report's own statistics (experiment_summarize, experiment_compare): looked at
 * every simulated day, A/A experiments are declared different at most 5% of the time;
 * a planted lift is covered by the final interval and found; CUPED (the customers'
 * spend before the start) narrows the interval; a 50/50 experiment served 55/45 is
 * flagged by the sample-ratio check. */
#include <math.h>

#include "unit/unit.h"
#include "xsell/experiment.h"
#include "xsell/gen.h"
#include "xsell/xalloc.h"

#define SIM_RUNS      200
#define SIM_DAYS      28
#define SIM_CUSTOMERS 5000
#define SIM_HISTORY   120 /* days of history before the experiment */

/* What the sink saw of one simulated experiment: per customer, the variant, the
 * first exposure's day, the spend before, and the orders (day, revenue). */
struct sim_run {
    int variant[SIM_CUSTOMERS];
    double first[SIM_CUSTOMERS], pre[SIM_CUSTOMERS];
    double *day, *revenue;
    int *unit;
    size_t norders, cap;
};

static void on_exposed(void *ctx, int unit, int variant, double day, double pre_spend)
{
    struct sim_run *r = ctx;
    r->variant[unit] = variant;
    r->first[unit] = day;
    r->pre[unit] = pre_spend;
}

static void on_ordered(void *ctx, int unit, double day, double revenue)
{
    struct sim_run *r = ctx;
    if (r->norders == r->cap) {
        size_t cap = r->cap;
        xgrow((void **)&r->day, &cap, r->norders + 1, sizeof(double));
        cap = r->cap;
        xgrow((void **)&r->revenue, &cap, r->norders + 1, sizeof(double));
        cap = r->cap;
        xgrow((void **)&r->unit, &cap, r->norders + 1, sizeof(int));
        r->cap = cap;
    }
    r->day[r->norders] = day;
    r->revenue[r->norders] = revenue;
    r->unit[r->norders++] = unit;
}

static void simulate(struct sim_run *r, uint64_t seed, double lift, double split)
{
    memset(r, 0, sizeof(*r));
    for (int c = 0; c < SIM_CUSTOMERS; c++)
        r->first[c] = -1;
    struct gen_experiment x = {.days = SIM_DAYS, .nvariants = 2, .served_split = split};
    x.lift[1] = lift;
    struct gen_sink sink = {r, on_exposed, on_ordered};
    struct gen_params p;
    gen_defaults(&p);
    p.seed = seed;
    p.customers = SIM_CUSTOMERS;
    p.days = SIM_HISTORY;
    p.exp = &x;
    p.sink = &sink;
    struct gen_stats st = {0};
    char err[200];
    assert_int_equal(gen_write(NULL, &p, &st, err, sizeof(err)), 0);
}

static void sim_free(struct sim_run *r)
{
    free(r->day);
    free(r->revenue);
    free(r->unit);
}

/* The report's figures at day `day` (units exposed before it, orders before it). */
static void look(const struct sim_run *r, const struct experiment *e, double day,
                 struct exp_summary *sm)
{
    struct exp_unit_row *rows = xcalloc(SIM_CUSTOMERS, sizeof(*rows));
    for (int c = 0; c < SIM_CUSTOMERS; c++) {
        rows[c].variant = r->first[c] >= 0 && r->first[c] < day ? r->variant[c] : -1;
        rows[c].pre_revenue = r->pre[c];
        rows[c].exposures = 1;
    }
    for (size_t o = 0; o < r->norders; o++)
        if (r->day[o] < day) {
            rows[r->unit[o]].revenue += r->revenue[o];
            rows[r->unit[o]].margin += r->revenue[o];
            rows[r->unit[o]].orders++;
        }
    experiment_summarize(e, rows, SIM_CUSTOMERS, sm);
    free(rows);
}

static void definition(struct experiment *e, double planned)
{
    memset(e, 0, sizeof(*e));
    e->unit = EXP_UNIT_CUSTOMER;
    e->nvariants = 2;
    e->variant[0].weight = e->variant[1].weight = 1;
    e->planned_units = planned;
}

static void test_sim_aa_daily(void **state)
{
    (void)state;
    int declared = 0;
    double units = 0;
    struct sim_run *r = xmalloc(sizeof(*r));
    for (int k = 0; k < SIM_RUNS; k++) {
        simulate(r, 1000 + (uint64_t)k, 0, 0);
        struct experiment e;
        struct exp_summary sm;
        definition(&e, 0);
        look(r, &e, SIM_DAYS, &sm);
        definition(&e, sm.total);
        units += sm.total;
        bool different = false;
        for (int d = 1; d <= SIM_DAYS && !different; d++) {
            struct ab_result rv, mg;
            look(r, &e, d, &sm);
            if (sm.units[0] < 2 || sm.units[1] < 2)
                continue;
            const char *v = experiment_compare(&e, &sm, 1, d == SIM_DAYS, &rv, &mg);
            different = strcmp(v, "variant wins") == 0 || strcmp(v, "control wins") == 0;
        }
        declared += different;
        sim_free(r);
    }
    free(r);
    print_message("simulated shop, %d A/A experiments (%.0f customers each on average) looked at "
                  "on each of %d days: %d declared different (%.1f%%)\n",
                  SIM_RUNS, units / SIM_RUNS, SIM_DAYS, declared, 100.0 * declared / SIM_RUNS);
    assert_true(declared <= SIM_RUNS * 5 / 100);
}

static void test_sim_planted(void **state)
{
    (void)state;
    const double lift = 0.3;
    int covered = 0, covered_cuped = 0, found = 0;
    double narrowing = 0;
    struct sim_run *r = xmalloc(sizeof(*r));
    for (int k = 0; k < SIM_RUNS; k++) {
        simulate(r, 5000 + (uint64_t)k, lift, 0);
        struct experiment e;
        struct exp_summary sm;
        definition(&e, 0);
        look(r, &e, SIM_DAYS, &sm);
        definition(&e, sm.total);
        struct ab_result rv, mg;
        const char *v = experiment_compare(&e, &sm, 1, true, &rv, &mg);
        covered += rv.plain.lift_lo <= lift && lift <= rv.plain.lift_hi;
        covered_cuped += rv.cuped.lift_lo <= lift && lift <= rv.cuped.lift_hi;
        found += strcmp(v, "variant wins") == 0;
        narrowing += rv.narrowing;
        sim_free(r);
    }
    free(r);
    print_message("simulated shop, planted +%.0f%% revenue per customer, %d experiments: the "
                  "final interval covered it %d times (CUPED %d), the variant called the winner "
                  "%d times; CUPED narrowed the interval %.1f%% on average\n",
                  100 * lift, SIM_RUNS, covered, covered_cuped, found, 100 * narrowing / SIM_RUNS);
    assert_true(covered >= SIM_RUNS * 95 / 100);
    assert_true(covered_cuped >= SIM_RUNS * 95 / 100);
    assert_true(found >= SIM_RUNS / 2);
    assert_true(narrowing / SIM_RUNS > 0.01);
}

static void test_sim_srm(void **state)
{
    (void)state;
    struct sim_run *r = xmalloc(sizeof(*r));
    int flagged = 0, flagged_fair = 0;
    double units = 0;
    for (int k = 0; k < 20; k++) {
        struct experiment e;
        struct exp_summary sm;
        definition(&e, 0);
        simulate(r, 9000 + (uint64_t)k, 0, 0.55);
        look(r, &e, SIM_DAYS, &sm);
        flagged += sm.srm_p < EXP_SRM_P;
        units += sm.total;
        sim_free(r);
        simulate(r, 9000 + (uint64_t)k, 0, 0);
        look(r, &e, SIM_DAYS, &sm);
        flagged_fair += sm.srm_p < EXP_SRM_P;
        sim_free(r);
    }
    free(r);
    print_message("simulated shop, 50/50 served 55/45 to %.0f customers: %d of 20 flagged "
                  "(served as assigned: %d)\n",
                  units / 20, flagged, flagged_fair);
    assert_true(flagged >= 18);
    assert_int_equal(flagged_fair, 0);
}

int run_simulator_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sim_aa_daily),
        cmocka_unit_test(test_sim_planted),
        cmocka_unit_test(test_sim_srm),
    };
    return cmocka_run_group_tests_name("simulator", tests, NULL, NULL);
}
