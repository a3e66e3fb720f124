/* /churn's maths: special functions, the minimiser, and the published CDNOW fits
 * (Fader, Hardie & Lee 2005; the figures in ../shared/data/cdnow/README.md). */
#include <math.h>

#include "unit/unit.h"
#include "xsell/channels.h"
#include "xsell/eval.h"
#include "xsell/model_churn.h"
#include "xsell/stats.h"
#include "xsell/strparse.h"

static void test_lgamma_digamma(void **state)
{
    (void)state;
    /* closed forms */
    assert_true(fabs(stats_lgamma(0.5) - 0.57236494292470008707) < 1e-14);
    assert_true(fabs(stats_lgamma(1)) < 1e-14);
    assert_true(fabs(stats_lgamma(2)) < 1e-14);
    assert_true(fabs(stats_lgamma(10) - log(362880.0)) < 1e-13);
    assert_true(fabs(stats_lgamma(100) / 359.13420536957539878 - 1) < 1e-14);
    assert_true(fabs(stats_lgamma(1e-3) - 6.9071788853838536) < 1e-12);
    assert_true(isnan(stats_lgamma(-1)));
    /* against the C library across the range the models use */
    for (double x = 0.01; x < 5000; x *= 1.37) {
        int sign;
        double ref = lgamma_r(x, &sign);
        double err = fabs(stats_lgamma(x) - ref);
        assert_true(err < 1e-13 || err < 1e-14 * fabs(ref));
    }
    const double euler = 0.57721566490153286061;
    assert_true(fabs(stats_digamma(1) + euler) < 1e-13);
    assert_true(fabs(stats_digamma(0.5) + euler + 2 * log(2.0)) < 1e-13);
    assert_true(fabs(stats_digamma(10) - 2.2517525890667211076) < 1e-13);
    for (double x = 0.05; x < 1000; x *= 1.5) /* psi(x + 1) = psi(x) + 1/x */
        assert_true(fabs(stats_digamma(x + 1) - stats_digamma(x) - 1 / x) < 1e-12 * (1 + 1 / x));
    /* the derivative of lgamma */
    for (double x = 0.3; x < 300; x *= 2.1) {
        double h = 1e-5 * x;
        double num = (stats_lgamma(x + h) - stats_lgamma(x - h)) / (2 * h);
        assert_true(fabs(num - stats_digamma(x)) < 1e-6 * (1 + fabs(num)));
    }
}

static void test_hyp2f1(void **state)
{
    (void)state;
    const double zs[] = {0, 0.1, 0.5, 0.9, 0.95};
    for (size_t i = 0; i < sizeof(zs) / sizeof(zs[0]); i++) {
        double z = zs[i];
        double want = z > 0 ? -log1p(-z) / z : 1; /* 2F1(1,1;2;z) */
        assert_true(fabs(stats_hyp2f1(1, 1, 2, z) / want - 1) < 1e-12);
        want = pow(1 - z, -2.5); /* 2F1(a,b;b;z) = (1-z)^-a */
        assert_true(fabs(stats_hyp2f1(2.5, 3.7, 3.7, z) / want - 1) < 1e-12);
        double s = sqrt(z); /* 2F1(1/2,1/2;3/2;z^2) = asin(z)/z */
        want = s > 0 ? asin(s) / s : 1;
        assert_true(fabs(stats_hyp2f1(0.5, 0.5, 1.5, z) / want - 1) < 1e-12);
    }
    /* large parameters, as a frequent buyer's expectation needs */
    double z = 0.6, want = pow(1 - z, -26.3);
    assert_true(fabs(stats_hyp2f1(26.3, 28.1, 28.1, z) / want - 1) < 1e-11);
    assert_true(isnan(stats_hyp2f1(1, 1, 2, 1.0)));
    assert_true(isnan(stats_hyp2f1(1, 1, -1, 0.5)));
}

static double rosenbrock(const double *x, double *g, void *ctx)
{
    (void)ctx;
    double a = 1 - x[0], b = x[1] - x[0] * x[0];
    if (g) {
        g[0] = -2 * a - 400 * x[0] * b;
        g[1] = 200 * b;
    }
    return a * a + 100 * b * b;
}

static void test_minimize_and_auc(void **state)
{
    (void)state;
    double x[2] = {-1.2, 1};
    struct stats_min_result r;
    stats_minimize(rosenbrock, NULL, 2, x, 10, 1e-10, 0, 1000, &r);
    assert_true(r.converged);
    assert_true(fabs(x[0] - 1) < 1e-6 && fabs(x[1] - 1) < 1e-6);
    /* AUC by hand: positives 0.9, 0.4; negatives 0.5, 0.1, 0.4 (a tie counts half):
     * pairs won 3 + 1 + 0.5 of 6. */
    double s[] = {0.9, 0.4, 0.5, 0.1, 0.4};
    bool y[] = {true, true, false, false, false};
    assert_true(fabs(stats_auc(s, y, 5) - 4.5 / 6) < 1e-15);
    bool none[] = {false, false, false, false, false};
    assert_true(isnan(stats_auc(s, none, 5)));
    /* intervals: Wilson's for 8 of 10 is (0.4902, 0.9433); Hanley & McNeil's standard
     * error of an AUC of 0.8 over 50 and 50 is 0.0445 */
    double lo, hi;
    stats_rate_ci95(8, 10, &lo, &hi);
    assert_true(fabs(lo - 0.4902) < 1e-4 && fabs(hi - 0.9433) < 1e-4);
    stats_rate_ci95(0, 20, &lo, &hi);
    assert_true(lo == 0 && hi > 0.15 && hi < 0.17);
    stats_rate_ci95(1, 0, &lo, &hi);
    assert_true(isnan(lo) && isnan(hi));
    stats_auc_ci95(0.8, 50, 50, &lo, &hi);
    assert_true(fabs((hi - lo) / 2 / 1.959964 - 0.0445) < 1e-4);
    stats_auc_ci95(0.99, 5000, 5000, &lo, &hi);
    assert_true(hi <= 1 && lo < 0.99);
    /* logistic regression, grouped rows: one binary input, so the fit reproduces each
     * group's share (30 of 100, 60 of 100) but for the small ridge */
    double X[] = {1, 0, 1, 1}, pos[] = {30, 60}, neg[] = {70, 40};
    struct stats_logit L;
    assert_int_equal(stats_logit_fit(X, pos, neg, 2, 2, &L), 0);
    assert_true(fabs(stats_logit_predict(&L, &X[0]) - 0.3) < 0.005);
    assert_true(fabs(stats_logit_predict(&L, &X[2]) - 0.6) < 0.005);
    double zero[] = {0, 0};
    assert_int_equal(stats_logit_fit(X, zero, zero, 2, 2, &L), -1);
}

/* The CDNOW 1/10 sample as a history: one order a line, customer = sample id. */
static int load_cdnow(struct history *h)
{
    const char *dir = getenv("XSELL_SHARED_DATA");
    char path[512], line[256];
    snprintf(path, sizeof(path), "%s/cdnow/CDNOW_sample.txt", dir ? dir : "../shared/data");
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    history_init(h);
    long n = 0;
    while (fgets(line, sizeof(line), f)) {
        char master[16], cust[16], date[16], oid[32], iso[16];
        int cds;
        double dollars;
        if (sscanf(line, "%15s %15s %15s %d %lf", master, cust, date, &cds, &dollars) != 5)
            continue;
        snprintf(iso, sizeof(iso), "%.4s-%.2s-%.2s", date, date + 4, date + 6);
        double when;
        if (strparse_timestamp(iso, strlen(iso), &when, NULL))
            continue;
        snprintf(oid, sizeof(oid), "o%ld", ++n);
        history_add_line(h, oid, cust, when, "cd", 1, dollars);
    }
    fclose(f);
    history_finish(h);
    return 0;
}

static double day_of(const char *iso)
{
    double t;
    assert_int_equal(strparse_timestamp(iso, strlen(iso), &t, NULL), 0);
    return floor(t / 86400);
}

struct cdnow {
    struct history h;
    struct arena arena;
    struct churn_days days;
    struct churn_summary *s;
    int *holdout;
    size_t n;
};

static int cdnow_setup(void **state)
{
    static struct cdnow c;
    if (load_cdnow(&c.h)) {
        *state = NULL;
        return 0;
    }
    arena_init(&c.arena);
    churn_days_build(&c.h, &c.arena, &c.days);
    size_t nc = history_ncustomers(&c.h);
    c.s = calloc(nc, sizeof(*c.s));
    c.holdout = calloc(nc, sizeof(int));
    int32_t cut = (int32_t)day_of("1997-09-30"), end = (int32_t)day_of("1998-06-30");
    c.n = 0;
    for (size_t i = 0; i < nc; i++)
        if (churn_summary_at(&c.days, (int32_t)i, cut, end, &c.s[c.n], &c.holdout[c.n]))
            c.n++;
    *state = &c;
    return 0;
}

static int cdnow_teardown(void **state)
{
    struct cdnow *c = *state;
    if (c) {
        free(c->s);
        free(c->holdout);
        arena_release(&c->arena);
        history_release(&c->h);
    }
    return 0;
}

#define NEED_CDNOW(c)                                                                              \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            print_message("skipped: ../shared/data/cdnow is not beside the repository\n");         \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

static void test_cdnow_summaries(void **state)
{
    struct cdnow *c = *state;
    NEED_CDNOW(c);
    /* the README's counts: 2,357 customers, 2,457 repeat days, 1,411 with none,
     * 1,882 holdout repeat days */
    assert_int_equal(c->n, 2357);
    double xs = 0, zeros = 0, ho = 0;
    for (size_t i = 0; i < c->n; i++) {
        xs += c->s[i].x;
        zeros += c->s[i].x == 0;
        ho += c->holdout[i];
    }
    assert_int_equal((long)xs, 2457);
    assert_int_equal((long)zeros, 1411);
    assert_int_equal((long)ho, 1882);
}

static void test_cdnow_bgnbd_published(void **state)
{
    struct cdnow *c = *state;
    NEED_CDNOW(c);
    struct churn_params p = {0};
    struct fit_report rep;
    churn_fit(CHURN_BGNBD, c->s, c->n, &p, &rep);
    print_message("BG/NBD: r %.6f alpha %.6f a %.6f b %.6f LL %.4f (%d iterations)\n", p.r, p.alpha,
                  p.a, p.b, rep.ll, rep.iterations);
    assert_true(rep.converged);
    /* published: r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, LL = -9582.4 */
    assert_true(fabs(p.r - 0.243) < 5e-4);
    assert_true(fabs(p.alpha - 4.414) < 5e-4);
    assert_true(fabs(p.a - 0.793) < 5e-4);
    assert_true(fabs(p.b - 2.426) < 5e-4);
    assert_true(fabs(rep.ll + 9582.4) < 0.05);
    /* BTYD's walkthrough with its estimates */
    struct churn_params w = {0.2425982, 4.4136842, 0.7929899, 2.4261667};
    struct churn_summary fresh = {0, 0, 0, 0};
    assert_true(fabs(churn_expected(CHURN_BGNBD, &w, &fresh, 52) - 1.444004) < 1e-5);
    struct churn_summary c1516 = {26, 30.85714, 31, 0};
    assert_true(fabs(churn_p_alive(CHURN_BGNBD, &w, &c1516) - 0.9688523) < 1e-6);
    assert_true(fabs(churn_expected(CHURN_BGNBD, &w, &c1516, 52) - 25.75659) < 1e-3);
    /* lifetimes' tests, with the parameters its Quickstart prints */
    struct churn_params pub = {0.242593, 4.413532, 0.792886, 2.425752};
    struct churn_summary one = {2, 30.43, 38.86, 0};
    assert_true(fabs(churn_expected(CHURN_BGNBD, &pub, &one, 39) - 1.226) < 5e-4);
    const double t[] = {0.1429, 1, 3, 31.8571, 32, 78};
    const double want[] = {0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576};
    for (int i = 0; i < 6; i++)
        assert_true(fabs(churn_expected(CHURN_BGNBD, &pub, &fresh, t[i]) - want[i]) < 5e-4);
    /* the holdout tracking table: calibration frequency 0..6, 7+ */
    const double actual[] = {0.2367, 0.6970, 1.3925, 1.5600, 2.5323, 2.9474, 3.8621, 6.3594};
    const double model[] = {0.2251, 0.5231, 1.0441, 1.5203, 2.1638, 2.6538, 3.5040, 6.1570};
    const long counts[] = {1411, 439, 214, 100, 62, 38, 29, 64};
    double sum_a[8] = {0}, sum_m[8] = {0};
    long cnt[8] = {0};
    for (size_t i = 0; i < c->n; i++) {
        int b = c->s[i].x >= 7 ? 7 : (int)c->s[i].x;
        cnt[b]++;
        sum_a[b] += c->holdout[i];
        sum_m[b] += churn_expected(CHURN_BGNBD, &w, &c->s[i], 39);
    }
    for (int b = 0; b < 8; b++) {
        assert_int_equal(cnt[b], counts[b]);
        assert_true(fabs(sum_a[b] / (double)cnt[b] - actual[b]) < 5e-5);
        assert_true(fabs(sum_m[b] / (double)cnt[b] - model[b]) < 5e-4);
    }
}

static void test_cdnow_gamma_gamma_published(void **state)
{
    struct cdnow *c = *state;
    NEED_CDNOW(c);
    struct gg_params g = {0};
    struct fit_report rep;
    gg_fit(c->s, c->n, &g, &rep);
    print_message("Gamma-Gamma: p %.4f q %.4f v %.4f LL %.3f\n", g.p, g.q, g.v, rep.ll);
    assert_true(rep.converged);
    /* published (Fader & Hardie, "The Gamma-Gamma Model of Monetary Value"): p = 6.25,
     * q = 3.74, gamma = 15.44 */
    assert_true(fabs(g.p - 6.25) < 5e-3);
    assert_true(fabs(g.q - 3.74) < 5e-3);
    assert_true(fabs(g.v - 15.44) < 5e-3);
}

static void test_cdnow_holdout_ranking(void **state)
{
    struct cdnow *c = *state;
    NEED_CDNOW(c);
    /* 39 weeks of calibration, 39 of holdout: the models (and the layer, fitted on
     * an earlier split inside the calibration) against recency alone */
    struct churn_fit_params fp = {.as_of = 0, .horizon_days = 90, .discount = 0.1};
    struct eval_churn_result r;
    char err[200];
    assert_int_equal(eval_churn(&c->h, 273, &fp, &r, err, sizeof(err)), 0);
    print_message("CDNOW holdout: %s%s, actual %.0f predicted %.1f; AUC churn_risk %.4f, "
                  "model P(none) %.4f, expected %.4f, recency %.4f\n",
                  r.model, r.layer_used ? " + layer" : "", r.actual, r.predicted, r.auc_churn_risk,
                  r.auc_model, r.auc_expected, r.auc_recency);
    assert_int_equal(r.customers, 2357);
    assert_true(fabs(r.actual - 1882) < 0.5);
    assert_true(r.auc_churn_risk >= 0.78);
    assert_true(r.auc_churn_risk > r.auc_recency);
}

/* The quality gate's form: the models fitted on another history (here the orders up
 * to the cut, after an order of a customer full never had, so that every customer's
 * index differs) and judged by the full one: the same customers and outcomes as one
 * history alone, and nearly the same ranking (one customer more in the fit). */
static void test_cdnow_holdout_between_histories(void **state)
{
    struct cdnow *c = *state;
    NEED_CDNOW(c);
    const struct history *h = &c->h;
    double cut = h->t_max - 273 * 86400.0;
    struct history train;
    history_init(&train);
    for (size_t p = 0; p < history_nproducts(h); p++)
        history_add_product(&train, idmap_key(&h->products, (int32_t)p), h->name[p], h->category[p],
                            h->price[p], h->cost[p], h->in_stock[p]);
    history_add_line(&train, "extra-order", "extra-customer", h->t_min, idmap_key(&h->products, 0),
                     1, 10);
    for (size_t o = 0; o < history_norders(h); o++) {
        if (h->order_time[o] > cut)
            continue;
        int32_t cu = h->order_customer[o];
        for (int32_t l = h->order_first[o]; l < h->order_first[o + 1]; l++)
            history_add_line(&train, idmap_key(&h->orders, (int32_t)o),
                             cu >= 0 ? idmap_key(&h->customers, cu) : NULL, h->order_time[o],
                             idmap_key(&h->products, h->line_product[l]), h->line_qty[l],
                             h->line_price[l]);
    }
    history_finish(&train);
    assert_string_equal(idmap_key(&train.customers, 0), "extra-customer");
    struct churn_fit_params fp = {.as_of = 0, .horizon_days = 90, .discount = 0.1};
    struct eval_churn_result one, two;
    char err[200];
    assert_int_equal(eval_churn(h, 273, &fp, &one, err, sizeof(err)), 0);
    fp.as_of = h->t_max; /* train ends at the cut: the holdout is full's */
    assert_int_equal(eval_churn_between(&train, h, 273, &fp, &two, err, sizeof(err)), 0);
    assert_int_equal(two.customers, one.customers);
    assert_int_equal(two.churned, one.churned);
    assert_true(fabs(two.actual - one.actual) < 1e-9);
    assert_true(fabs(two.auc_churn_risk - one.auc_churn_risk) < 0.002);
    assert_true(fabs(two.predicted - one.predicted) < 0.01 * one.predicted);
    history_release(&train);
}

static void test_modified_one_time_buyer(void **state)
{
    (void)state;
    struct churn_params p = {0.25, 4.4, 0.8, 2.4};
    double prev = 2;
    for (double T = 1; T < 100; T *= 1.5) {
        struct churn_summary once = {0, 0, T, 0};
        double pa = churn_p_alive(CHURN_MBGNBD, &p, &once);
        assert_true(pa < prev);
        prev = pa;
        /* the plain BG/NBD calls every one-time buyer alive */
        assert_true(churn_p_alive(CHURN_BGNBD, &p, &once) == 1.0);
        /* but no purchase grows likelier with silence under both */
        assert_true(churn_p_none(CHURN_BGNBD, &p, &once, 13) > 0);
    }
}

/* Fits never fail: degenerate data give finite parameters and a report. */
static void test_fits_on_degenerate_data(void **state)
{
    (void)state;
    struct churn_summary none[50], one[1] = {{3, 10, 20, 12.5}}, same[40];
    for (int i = 0; i < 50; i++) /* nobody came back */
        none[i] = (struct churn_summary){0, 0, 5 + i, 0};
    for (int i = 0; i < 40; i++) /* everyone alike */
        same[i] = (struct churn_summary){2, 8, 10, 20};
    const struct {
        const struct churn_summary *s;
        size_t n;
    } cases[] = {{none, 50}, {one, 1}, {same, 40}};
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        for (int k = 0; k < 2; k++) {
            struct churn_params p = {0};
            struct fit_report rep;
            churn_fit((enum churn_kind)k, cases[c].s, cases[c].n, &p, &rep);
            assert_true(isfinite(p.r) && isfinite(p.alpha) && isfinite(p.a) && isfinite(p.b));
            assert_true(p.r > 0 && p.alpha > 0 && p.a > 0 && p.b > 0);
            assert_true(isfinite(rep.ll));
            for (size_t i = 0; i < cases[c].n; i++) {
                double e = churn_expected((enum churn_kind)k, &p, &cases[c].s[i], 13);
                double pa = churn_p_alive((enum churn_kind)k, &p, &cases[c].s[i]);
                double p0 = churn_p_none((enum churn_kind)k, &p, &cases[c].s[i], 13);
                assert_true(isfinite(e) && e >= 0);
                assert_true(pa >= 0 && pa <= 1 && p0 >= 0 && p0 <= 1);
            }
        }
        struct gg_params g = {0};
        struct fit_report rep;
        gg_fit(cases[c].s, cases[c].n, &g, &rep);
        if (cases[c].s == none) { /* nothing to fit on: says so */
            assert_false(rep.converged);
        } else if (cases[c].n > 1) {
            assert_true(isfinite(g.p) && isfinite(g.q) && isfinite(g.v));
        }
    }
    /* an empty input changes nothing */
    struct churn_params p = {0.5, 2, 1, 3};
    struct fit_report rep;
    churn_fit(CHURN_BGNBD, none, 0, &p, &rep);
    assert_false(rep.converged);
    assert_true(p.r == 0.5 && p.b == 3);
}

/* A customer's curve: hand-checked BG/NBD values where it jumps, P(alive) falling in
 * silence, the serving P(alive) on as_of, a purchase after as_of not seen. */
static void test_curve(void **state)
{
    (void)state;
    /* one customer, purchases on days 1000, 1030, 1060 and 1200 (after as_of) */
    int32_t first[] = {0, 4}, day[] = {1000, 1030, 1060, 1200, 0};
    float value[] = {10, 20, 30, 40, 0}, keep[] = {1, 1};
    struct churn_customer cust[1] = {{.known = true}};
    struct model_churn m = {.kind = CHURN_BGNBD,
                            .params = {{0.25, 4.4, 0.8, 2.4}},
                            .as_of_day = 1090,
                            .n = 1,
                            .cust = cust,
                            .days = {first, day, value, keep, 1}};
    int32_t lo, hi;
    assert_true(model_churn_days(&m, 0, &lo, &hi));
    assert_int_equal(lo, 0);
    assert_int_equal(hi, 3);
    struct churn_point pts[CHURN_CURVE_MAX];
    size_t n = model_churn_curve(&m, 0, 30, pts);
    assert_true(n > 100 && n <= CHURN_CURVE_MAX);
    assert_int_equal(pts[0].day, 1000);
    assert_int_equal(pts[n - 1].day, 1120);
    double at_purchase = -1, before = -1, as_of = -1, prev = 2;
    for (size_t i = 0; i < n; i++) {
        if (i)
            assert_true(pts[i].day > pts[i - 1].day);
        if (pts[i].day == 1060)
            at_purchase = pts[i].p_alive;
        if (pts[i].day == 1059)
            before = pts[i].p_alive;
        if (pts[i].day == 1090)
            as_of = pts[i].p_alive;
        if (pts[i].day >= 1090) { /* no purchase after as_of: falls */
            assert_true(pts[i].p_alive < prev);
            prev = pts[i].p_alive;
        }
    }
    /* x = 2 on its day: 1 / (1 + a / (b + 1)) */
    assert_float_equal(at_purchase, 0.8095238, 1e-6);
    /* x = 1, t_x = 30/7, T = 59/7: 1 / (1 + a/b ((alpha + T) / (alpha + t_x))^(r + 1)) */
    assert_float_equal(before, 0.6481959, 1e-6);
    /* as_of: x = 2, t_x = 60/7, T = 90/7 */
    assert_float_equal(as_of, 0.6909567, 1e-6);
    /* a customer who had bought nothing by as_of has no curve */
    m.as_of_day = 999;
    assert_int_equal(model_churn_curve(&m, 0, 30, pts), 0);
    assert_false(model_churn_days(&m, 0, &lo, &hi));
}

/* Cohorts per acquisition channel, by hand: the first order's channel unless one was
 * given, the repeat within 90 days counted over those seen long enough, the CLV's
 * interval; and the share of attributed revenue with the delta method's interval. */
static void test_channel_cohorts(void **state)
{
    (void)state;
    struct history h;
    history_init(&h);
    /* A: day 1000 by email, day 1050 direct; B: day 1010 by social; C: day 1020 and
     * 1200 by search, won by email as given */
    static const struct {
        const char *order, *customer, *channel;
        int day;
    } orders[] = {{"o1", "A", "email", 1000},
                  {"o2", "B", "social", 1010},
                  {"o3", "C", "search", 1020},
                  {"o4", "A", "direct", 1050},
                  {"o5", "C", "search", 1200}};
    for (size_t i = 0; i < ARRAY_SIZE(orders); i++) {
        history_add_line(&h, orders[i].order, orders[i].customer, orders[i].day * DAY_S, "P1", 1,
                         10);
        history_set_last_channel(&h, orders[i].channel);
    }
    history_set_acquisition(&h, "C", "email");
    history_set_acquisition(&h, "nobody", "email"); /* unknown: left out */
    history_finish(&h);
    int32_t email = idmap_find(&h.channels, "email", 5),
            social = idmap_find(&h.channels, "social", 6);
    assert_int_equal(h.cust_channel[0], email);
    assert_int_equal(h.cust_channel[1], social);
    assert_int_equal(h.cust_channel[2], email);
    int32_t first[] = {0, 2, 3, 5}, day[] = {1000, 1050, 1010, 1020, 1200, 0};
    float value[6] = {10, 10, 10, 10, 10}, keep[4] = {1, 1, 1};
    struct churn_customer cust[3] = {{.known = true, .clv = 100, .churn_risk = 0.2f},
                                     {.known = true, .clv = 20, .churn_risk = 0.9f},
                                     {.known = true, .clv = 50, .churn_risk = 0.4f}};
    struct model_churn m = {
        .as_of_day = 1300, .n = 3, .cust = cust, .days = {first, day, value, keep, 3}};
    size_t nch = idmap_size(&h.channels);
    struct channel_cohort k[8];
    assert_true(nch + 1 <= ARRAY_SIZE(k));
    channel_cohorts(&h, &m, INT32_MIN, INT32_MAX, 90, k);
    assert_int_equal(k[email].customers, 2);
    assert_int_equal(k[email].observed, 2);
    assert_int_equal(k[email].repeated, 1); /* A came back on day 50, C on day 180 */
    assert_int_equal(k[social].customers, 1);
    assert_int_equal(k[social].repeated, 0);
    assert_int_equal(k[nch].customers, 0);
    double mean, lo, hi;
    channel_mean_ci95(k[email].clv_sum, k[email].clv_sq, 2, &mean, &lo, &hi);
    /* 100 and 50: mean 75, sd 35.36, se 25 */
    assert_float_equal(mean, 75, 1e-9);
    assert_float_equal(lo, 26.0009004, 1e-6);
    assert_float_equal(hi, 123.9990996, 1e-6);
    /* a window from day 1005: A is not in it; one seen less than 90 days: not observed */
    channel_cohorts(&h, &m, 1005, INT32_MAX, 90, k);
    assert_int_equal(k[email].customers, 1);
    m.as_of_day = 1100;
    channel_cohorts(&h, &m, INT32_MIN, INT32_MAX, 90, k);
    assert_int_equal(k[email].observed, 1); /* C, first seen 80 days before: too soon */
    history_release(&h);

    /* orders (attributed, revenue): (10, 100), (0, 50), (30, 60) */
    double share;
    channel_share_ci95(3, 40, 210, 1000, 16100, 2800, &share, &lo, &hi);
    assert_float_equal(share, 0.1904762, 1e-6);
    assert_float_equal(lo, 0, 1e-12);
    assert_float_equal(hi, 0.4504999, 1e-6);
    channel_share_ci95(1, 10, 100, 100, 10000, 1000, &share, &lo, &hi);
    assert_float_equal(share, 0.1, 1e-12);
    assert_true(isnan(lo) && isnan(hi)); /* one order: no interval */
}

int run_churn_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lgamma_digamma),
        cmocka_unit_test(test_hyp2f1),
        cmocka_unit_test(test_minimize_and_auc),
        cmocka_unit_test(test_modified_one_time_buyer),
        cmocka_unit_test(test_fits_on_degenerate_data),
        cmocka_unit_test(test_curve),
        cmocka_unit_test(test_channel_cohorts),
    };
    const struct CMUnitTest cdnow[] = {
        cmocka_unit_test(test_cdnow_summaries),
        cmocka_unit_test(test_cdnow_bgnbd_published),
        cmocka_unit_test(test_cdnow_gamma_gamma_published),
        cmocka_unit_test(test_cdnow_holdout_ranking),
        cmocka_unit_test(test_cdnow_holdout_between_histories),
    };
    int failed = cmocka_run_group_tests_name("churn", tests, NULL, NULL);
    failed += cmocka_run_group_tests_name("churn_cdnow", cdnow, cdnow_setup, cdnow_teardown);
    return failed;
}
