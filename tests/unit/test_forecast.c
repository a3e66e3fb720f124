/* /forecast's maths: ETS recursions and intervals by hand, model selection on a
 * classic series, Croston-SBA by hand, intermittent series, zero floors, short
 * series. */
#include <math.h>
#include <stdlib.h>

#include "unit/unit.h"
#include "xsell/model_forecast.h"
#include "xsell/rng.h"

/* Box & Jenkins' airline passengers, 1949-1960 (monthly, thousands). */
static const double air[144] = {
    112, 118, 132, 129, 121, 135, 148, 148, 136, 119, 104, 118, 115, 126, 141, 135, 125, 149,
    170, 170, 158, 133, 114, 140, 145, 150, 178, 163, 172, 178, 199, 199, 184, 162, 146, 166,
    171, 180, 193, 181, 183, 218, 230, 242, 209, 191, 172, 194, 196, 196, 236, 235, 229, 243,
    264, 272, 237, 211, 180, 201, 204, 188, 235, 227, 234, 264, 302, 293, 259, 229, 203, 229,
    242, 233, 267, 269, 270, 315, 364, 347, 312, 274, 237, 278, 284, 277, 317, 313, 318, 374,
    413, 405, 355, 306, 271, 306, 315, 301, 356, 348, 355, 422, 465, 467, 404, 347, 305, 336,
    340, 318, 362, 348, 363, 435, 491, 505, 404, 359, 310, 337, 360, 342, 406, 396, 420, 472,
    548, 559, 463, 407, 362, 405, 417, 391, 419, 461, 472, 535, 622, 606, 508, 461, 390, 432};

static void test_ses_by_hand(void **state)
{
    (void)state;
    /* alpha 0.5 from level 10: levels 10, 11, 11, 12; errors 0, 2, 0, 2 */
    const double y[] = {10, 12, 11, 13};
    struct ets_fit f = {.spec = {'A', 'N', 'N'}, .m = 1, .alpha = 0.5, .phi = 1, .l = 10};
    double sse;
    double lik = ets_run(&f, y, 4, &sse);
    assert_true(fabs(f.l - 12) < 1e-12);
    assert_true(fabs(sse - 8) < 1e-12);
    assert_true(fabs(lik - 4 * log(8.0)) < 1e-12);
    /* the in-sample one-step forecasts from the starting level: 10, 10, 11, 11 */
    struct ets_fit start = f;
    start.l_start = 10;
    double fitted[4];
    ets_fitted(&start, y, 4, fitted);
    assert_true(fitted[0] == 10 && fitted[1] == 10 && fitted[2] == 11 && fitted[3] == 11);
    double mean[3], sd[3];
    f.sigma2 = 2;
    ets_sd(&f, 3, mean, sd);
    for (int h = 0; h < 3; h++) { /* flat forecast; var = sigma2 (1 + (h-1) alpha^2) */
        assert_true(fabs(mean[h] - 12) < 1e-12);
        assert_true(fabs(sd[h] - sqrt(2 * (1 + h * 0.25))) < 1e-12);
    }
    /* Holt, additive trend by hand: alpha 0.5, beta 0.25 (beta* = 0.5) from l 10, b 1 */
    struct ets_fit g = {
        .spec = {'A', 'A', 'N'}, .m = 1, .alpha = 0.5, .beta = 0.25, .phi = 1, .l = 10, .b = 1};
    const double z[] = {12};
    ets_run(&g, z, 1, &sse);
    /* forecast 11, error 1: level 11.5, trend 1 + 0.5 (11.5 - 10 - 1) = 1.25 */
    assert_true(fabs(g.l - 11.5) < 1e-12 && fabs(g.b - 1.25) < 1e-12);
    ets_mean(&g, 2, mean);
    assert_true(fabs(mean[0] - 12.75) < 1e-12 && fabs(mean[1] - 14) < 1e-12);
}

static void test_fits_and_selection(void **state)
{
    (void)state;
    /* a straight line: a trend model continues it */
    double line[40], mean[5], sd[5];
    for (int t = 0; t < 40; t++)
        line[t] = 50 + 2 * t + (t % 2 ? 0.1 : -0.1);
    struct ets_fit f;
    assert_true(ets_fit(line, 40, 1, (struct ets_spec){'A', 'A', 'N'}, &f));
    ets_mean(&f, 5, mean);
    for (int h = 0; h < 5; h++)
        assert_true(fabs(mean[h] - (50 + 2 * (40 + h))) < 1.0);
    /* the airline series against R's forecast::ets (8.20; R 4.2): where both reach the
     * same optimum the AICc is the same (ETS(M,N,N): 1674.072); elsewhere ours is a
     * better optimum of the same likelihood (R: ETS(M,Ad,M) 1400.638, ours lower) */
    assert_true(ets_fit(air, 144, 12, (struct ets_spec){'M', 'N', 'N'}, &f));
    assert_true(fabs(f.aicc - 1674.072) < 0.01);
    assert_true(ets_fit(air, 144, 12, (struct ets_spec){'M', 'D', 'M'}, &f));
    assert_true(f.aicc <= 1400.638 + 0.01);
    assert_true(ets_auto(air, 144, 12, &f));
    char name[16];
    ets_name(&f, name);
    print_message("airline passengers: %s, AICc %.2f, alpha %.4f beta %.4f gamma %.4f phi %.4f\n",
                  name, f.aicc, f.alpha, f.beta, f.gamma, f.phi);
    assert_int_equal(f.spec.error, 'M');
    assert_int_equal(f.spec.season, 'M');
    assert_true(f.aicc <= 1400.638 + 0.01);
    /* its forecasts for 1961 within 5% of R's (ETS(M,Ad,M)) */
    static const double r1961[12] = {441.8, 434.1, 496.6, 483.2, 484.0, 551.0,
                                     613.2, 609.4, 530.5, 463.0, 402.7, 452.0};
    double year[12];
    ets_mean(&f, 12, year);
    for (int h = 0; h < 12; h++)
        assert_true(fabs(year[h] / r1961[h] - 1) < 0.05);
    /* inadmissible: additive error with a multiplicative season; 'M' on non-positive data */
    assert_false(ets_fit(air, 144, 12, (struct ets_spec){'A', 'N', 'M'}, &f));
    double zero[20] = {0};
    assert_false(ets_fit(zero, 20, 1, (struct ets_spec){'M', 'N', 'N'}, &f));
    /* the forecast of the airline series: rising, seasonal, intervals widening */
    struct forecast fc;
    const double levels[] = {80, 95};
    assert_int_equal(forecast_auto(air, 144, 12, 24, levels, 2, FC_AUTO, &fc), 0);
    assert_true(fc.mean[6] > fc.mean[10]); /* July above November, as every year */
    assert_true(fc.hi[1][23] - fc.lo[1][23] > fc.hi[1][0] - fc.lo[1][0]);
    for (int h = 0; h < 24; h++)
        assert_true(fc.lo[1][h] <= fc.lo[0][h] && fc.lo[0][h] <= fc.mean[h] &&
                    fc.mean[h] <= fc.hi[0][h] && fc.hi[0][h] <= fc.hi[1][h]);
    (void)sd;
}

static void test_intermittent_and_floors(void **state)
{
    (void)state;
    /* Croston-SBA by hand: demands 3 (interval 3), then 6 (interval 4); alpha 0.1:
     * size 3.3, interval 3.1, forecast 0.95 * 3.3 / 3.1 */
    const double y[] = {0, 0, 3, 0, 0, 0, 6, 0};
    double mean[2], sd[2];
    double fit[8];
    forecast_croston_sba(y, 8, 2, mean, sd, fit);
    assert_true(fabs(mean[0] - 0.95 * 3.3 / 3.1) < 1e-12);
    /* in-sample: nothing before the first demand, then 0.95 * 3 / 3 until the next */
    for (int t = 0; t < 8; t++)
        assert_true(fabs(fit[t] - (t < 3 ? 0 : t < 7 ? 0.95 : 0.95 * 3.3 / 3.1)) < 1e-12);
    /* the automatic method's in-sample errors: about its one-step variance */
    struct forecast one;
    double air_fit[144], sse = 0;
    const double lv[] = {80};
    assert_int_equal(forecast_auto_fitted(air, 144, 12, 1, lv, 1, FC_AUTO, &one, air_fit, NULL), 0);
    for (int t = 12; t < 144; t++)
        sse += (air[t] - air_fit[t]) * (air[t] - air_fit[t]);
    print_message("airline in-sample rmse %.2f, one-step sd %.2f\n", sqrt(sse / 132), one.sd[0]);
    assert_true(sqrt(sse / 132) < 2 * one.sd[0] && sqrt(sse / 132) > 0.3 * one.sd[0]);
    assert_true(fabs(forecast_adi(y, 8) - 4) < 1e-12);
    /* SES by hand: the level starts at the mean of the first 10 values (here all 8,
     * 9/8); on y the squared errors are least at alpha 0.02, the grid's lowest */
    double alpha = 0;
    forecast_ses(y, 8, 2, mean, sd, fit, &alpha);
    assert_true(alpha == 0.02);
    double l = 9.0 / 8, e2 = 0;
    for (int t = 0; t < 8; t++) {
        assert_true(fabs(fit[t] - l) < 1e-12);
        e2 += (y[t] - l) * (y[t] - l);
        l += 0.02 * (y[t] - l);
    }
    assert_true(fabs(mean[0] - l) < 1e-12 && fabs(mean[1] - l) < 1e-12);
    assert_true(fabs(sd[0] - sqrt(e2 / 7)) < 1e-12);
    assert_true(fabs(sd[1] - sqrt(e2 / 7 * (1 + 0.02 * 0.02))) < 1e-12);
    /* a constant given (an update keeps its refit's): one pass with it, no search */
    alpha = 0.3;
    forecast_ses(y, 8, 1, mean, sd, fit, &alpha);
    l = 9.0 / 8;
    for (int t = 0; t < 8; t++)
        l += 0.3 * (y[t] - l);
    assert_true(alpha == 0.3 && fabs(mean[0] - l) < 1e-12);
    /* Syntetos-Boylan-Croston classes: sizes 3 and 6 have CV^2 1/9 */
    assert_string_equal(forecast_demand_class(y, 8), "intermittent");
    const double lumpy[] = {0, 0, 1, 0, 0, 0, 20, 0}, erratic[] = {1, 20, 2, 1, 30},
                 smooth[] = {5, 6, 5, 4, 0, 5}, none[] = {0, 0};
    assert_string_equal(forecast_demand_class(lumpy, 8), "lumpy");
    assert_string_equal(forecast_demand_class(erratic, 5), "erratic");
    assert_string_equal(forecast_demand_class(smooth, 6), "smooth");
    assert_string_equal(forecast_demand_class(none, 2), "none");
    struct forecast fc;
    const double levels[] = {95};
    double sparse[60] = {0};
    for (int t = 3; t < 60; t += 5)
        sparse[t] = 1 + t % 3;
    assert_int_equal(forecast_auto(sparse, 60, 7, 14, levels, 1, FC_AUTO, &fc), 0);
    assert_string_equal(fc.model, "SES");
    /* a return among the sales: still intermittent, still SES */
    sparse[10] = -1;
    assert_int_equal(forecast_auto(sparse, 60, 7, 14, levels, 1, FC_AUTO, &fc), 0);
    assert_string_equal(fc.model, "SES");
    assert_int_equal(forecast_auto(sparse, 60, 7, 14, levels, 1, FC_CROSTON, &fc), 0);
    assert_string_equal(fc.model, "Croston-SBA");
    /* a series falling toward zero: no negative forecast or bound */
    double fall[30];
    for (int t = 0; t < 30; t++)
        fall[t] = 300 - 10 * t + (t % 3);
    assert_int_equal(forecast_auto(fall, 30, 1, 20, levels, 1, FC_AUTO, &fc), 0);
    for (int h = 0; h < 20; h++)
        assert_true(fc.mean[h] >= 0 && fc.lo[0][h] >= 0 && fc.hi[0][h] >= fc.mean[h]);
    /* too short: a simpler model, said so; not an error */
    const double three[] = {5, 7, 6};
    assert_int_equal(forecast_auto(three, 3, 12, 4, levels, 1, FC_AUTO, &fc), 0);
    assert_string_equal(fc.model, "Mean");
    assert_true(fc.note[0] != '\0');
    assert_true(fabs(fc.mean[0] - 6) < 1e-12);
    double ten[10] = {5, 6, 7, 6, 5, 6, 7, 6, 5, 6};
    assert_int_equal(forecast_auto(ten, 10, 12, 4, levels, 1, FC_AUTO, &fc), 0);
    assert_non_null(strstr(fc.note, "seasonal"));
    assert_int_equal(forecast_auto(ten, 0, 1, 4, levels, 1, FC_AUTO, &fc), -1);
}

/* Split conformal by hand: one-step scores 1..199 (actual k, mean 0, sd 1) give, at
 * 80%, the ceil(200 x 0.8) = 160th smallest over z_80; levels between two calibrated
 * ones interpolate in z, outside them take the nearest; later steps take the last
 * step's factor; steps with their own FC_CAL_STEP_MIN scores get their own, fewer
 * share all steps'; too few in all: 1. */
static void test_calibration_by_hand(void **state)
{
    (void)state;
    const double levels[] = {80, 95};
    double zero = 0, one = 1;
    struct fc_calibration c;
    fc_calibration_init(&c, levels, 2);
    for (int k = 1; k <= 199; k++) {
        double actual = k;
        fc_calibration_add(&c, &actual, &zero, &one, 1);
    }
    double skipped = 1e9;
    fc_calibration_add(&c, &skipped, &zero, &zero, 1); /* no sd: left out */
    fc_calibration_finish(&c);
    assert_int_equal(c.n, 199);
    double z80 = forecast_z(80), z95 = forecast_z(95), z90 = forecast_z(90);
    assert_true(fabs(fc_calibration_factor(&c, 80, 0) - 160 / z80) < 1e-5);
    assert_true(fabs(fc_calibration_factor(&c, 95, 0) - 190 / z95) < 1e-5);
    double w = (z90 - z80) / (z95 - z80);
    assert_true(fabs(fc_calibration_factor(&c, 90, 0) - ((1 - w) * 160 / z80 + w * 190 / z95)) <
                1e-5);
    assert_true(fabs(fc_calibration_factor(&c, 50, 0) - 160 / z80) < 1e-5);
    assert_true(fabs(fc_calibration_factor(&c, 99, 7) - 190 / z95) < 1e-5);
    assert_true(fc_calibration_factor(NULL, 80, 0) == 1);

    /* the bounds: mean -+ factor z sd, clamped at zero */
    struct forecast f = {.h = 1, .nlevels = 2, .level = {80, 95}, .mean = {10}, .sd = {0.5}};
    forecast_calibrate(&f, &c, true);
    assert_true(fabs(f.hi[0][0] - (10 + 160 * 0.5)) < 1e-4);
    assert_true(f.lo[0][0] == 0 && f.lo[1][0] == 0);

    /* two steps with FC_CAL_STEP_MIN scores each: each its own (step 0: 1, step 1:
     * 3); with 60 each, both the pooled 80% quantile (3: half the scores are 3) */
    for (int many = 1; many >= 0; many--) {
        fc_calibration_init(&c, levels, 2);
        for (int k = 0; k < (many ? FC_CAL_STEP_MIN : 60); k++) {
            double actual[2] = {1, -3}, mean[2] = {0, 0}, sd[2] = {1, 1};
            fc_calibration_add(&c, actual, mean, sd, 2);
        }
        fc_calibration_finish(&c);
        assert_true(fabs(fc_calibration_factor(&c, 80, 0) - (many ? 1 : 3) / z80) < 1e-5);
        assert_true(fabs(fc_calibration_factor(&c, 80, 1) - 3 / z80) < 1e-5);
        assert_true(fabs(fc_calibration_factor(&c, 95, 30) - 3 / z95) < 1e-5);
    }

    /* fewer than FC_CAL_MIN scores in all: the models' own intervals */
    fc_calibration_init(&c, levels, 2);
    for (int k = 0; k < FC_CAL_MIN - 1; k++) {
        double actual = 5;
        fc_calibration_add(&c, &actual, &zero, &one, 1);
    }
    fc_calibration_finish(&c);
    assert_true(fc_calibration_factor(&c, 80, 0) == 1 && fc_calibration_factor(&c, 95, 0) == 1);
    fc_calibration_release(&c);
}

/* Series whose noise doubled lately (sd 1, then 3 over the last 30 of 90 values):
 * the models' intervals, fitted mostly on the quiet part, cover too little of the
 * next 8 values; calibrated on the same series' backtests (their 8 values before),
 * they cover about what they claim. */
static void test_calibration_restores_coverage(void **state)
{
    (void)state;
    enum { SERIES = 300, N = 90, H = 8 };
    const double levels[] = {80, 95};
    struct rng r;
    rng_seed(&r, 5);
    double *y = malloc(sizeof(double) * SERIES * (N + H));
    for (int i = 0; i < SERIES; i++)
        for (int t = 0; t < N + H; t++)
            y[i * (N + H) + t] = 50 + (t >= N - 30 ? 3 : 1) * rng_normal(&r);
    struct forecast *f = malloc(sizeof(*f));
    struct fc_calibration c;
    fc_calibration_init(&c, levels, 2);
    for (int i = 0; i < SERIES; i++) {
        const double *s = y + i * (N + H);
        assert_int_equal(forecast_auto(s, N - H, 1, H, levels, 2, FC_SES, f), 0);
        fc_calibration_add(&c, s + N - H, f->mean, f->sd, H);
    }
    fc_calibration_finish(&c);
    int in[2][2] = {{0}}; /* [model, calibrated][level] */
    for (int i = 0; i < SERIES; i++) {
        const double *s = y + i * (N + H);
        assert_int_equal(forecast_auto(s, N, 1, H, levels, 2, FC_SES, f), 0);
        for (int k = 0; k < 2; k++) {
            if (k == 1)
                forecast_calibrate(f, &c, false);
            for (int l = 0; l < 2; l++)
                for (int t = 0; t < H; t++)
                    in[k][l] += s[N + t] >= f->lo[l][t] && s[N + t] <= f->hi[l][t];
        }
    }
    double cover[2][2];
    for (int k = 0; k < 2; k++)
        for (int l = 0; l < 2; l++)
            cover[k][l] = (double)in[k][l] / (SERIES * H);
    print_message("coverage 80/95: models %.3f %.3f, calibrated %.3f %.3f\n", cover[0][0],
                  cover[0][1], cover[1][0], cover[1][1]);
    assert_true(cover[0][0] < 0.72 && cover[0][1] < 0.88);
    assert_true(fabs(cover[1][0] - 0.80) < 0.04 && fabs(cover[1][1] - 0.95) < 0.03);
    free(f);
    free(y);
}

int run_forecast_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ses_by_hand),
        cmocka_unit_test(test_fits_and_selection),
        cmocka_unit_test(test_intermittent_and_floors),
        cmocka_unit_test(test_calibration_by_hand),
        cmocka_unit_test(test_calibration_restores_coverage),
    };
    return cmocka_run_group_tests_name("forecast", tests, NULL, NULL);
}
