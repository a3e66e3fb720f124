/* churn_bench: how fast /churn's models fit and answer (make bench).
 *  1. CDNOW 1/10 sample (2,357 customers): BG/NBD, modified BG/NBD and Gamma-Gamma fit
 *     times, beside one pass that builds the summaries from the history.
 *  2. 100,000 simulated BG/NBD customers (known parameters): fit times and the
 *     parameters recovered; the whole per-snapshot fit (selection, layer, scores).
 *  3. One customer's answer from the snapshot: at the stored horizon and at another.
 * Usage: churn_bench [CDNOW_sample.txt] */
#include <math.h>
#include <time.h>

#include "xsell/history.h"
#include "xsell/log.h"
#include "xsell/model_churn.h"
#include "xsell/rng.h"
#include "xsell/strparse.h"
#include "xsell/xalloc.h"

#define SIM_CUSTOMERS 100000
#define SIM_WEEKS     78.0
#define DAY           86400.0

static double median(double *v, int n)
{
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
            double t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return v[n / 2];
}

static void summaries_of(const struct history *h, double as_of, struct arena *a,
                         struct churn_summary **out, size_t *n)
{
    struct churn_days d;
    churn_days_build(h, a, &d);
    int32_t cut = (int32_t)floor(as_of / DAY);
    *out = xmalloc((d.ncustomers + 1) * sizeof(**out));
    *n = 0;
    for (size_t c = 0; c < d.ncustomers; c++)
        if (churn_summary_at(&d, (int32_t)c, cut, cut, &(*out)[*n], NULL))
            (*n)++;
}

static void fit_times(const char *label, const struct churn_summary *s, size_t n, int reps)
{
    double t[3][32];
    struct churn_params p[2];
    struct gg_params g;
    struct fit_report rep[3];
    for (int r = 0; r < reps; r++) {
        for (int k = 0; k < 2; k++) {
            double t0 = mono_seconds();
            p[k] = (struct churn_params){0};
            churn_fit((enum churn_kind)k, s, n, &p[k], &rep[k]);
            t[k][r] = mono_seconds() - t0;
        }
        double t0 = mono_seconds();
        g = (struct gg_params){0};
        gg_fit(s, n, &g, &rep[2]);
        t[2][r] = mono_seconds() - t0;
    }
    printf("%s: %zu customers; median of %d fits: BG/NBD %.2f ms (r %.4f alpha %.4f a %.4f b %.4f, "
           "LL %.2f), modified %.2f ms, Gamma-Gamma %.2f ms (p %.3f q %.3f v %.3f)\n",
           label, n, reps, median(t[0], reps) * 1e3, p[0].r, p[0].alpha, p[0].a, p[0].b, rep[0].ll,
           median(t[1], reps) * 1e3, median(t[2], reps) * 1e3, g.p, g.q, g.v);
}

static int cdnow(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        printf("cdnow: skipped: %s is missing\n", path);
        return 0;
    }
    struct history h;
    history_init(&h);
    char line[256];
    long n = 0;
    while (fgets(line, sizeof(line), f)) {
        char master[16], cust[16], date[16], oid[32], iso[16];
        int cds;
        double dollars, when;
        if (sscanf(line, "%15s %15s %15s %d %lf", master, cust, date, &cds, &dollars) != 5)
            continue;
        snprintf(iso, sizeof(iso), "%.4s-%.2s-%.2s", date, date + 4, date + 6);
        if (strparse_timestamp(iso, strlen(iso), &when, NULL))
            continue;
        snprintf(oid, sizeof(oid), "o%ld", ++n);
        history_add_line(&h, oid, cust, when, "cd", 1, dollars);
    }
    fclose(f);
    history_finish(&h);
    double as_of;
    strparse_timestamp("1997-09-30", 10, &as_of, NULL);
    struct arena a;
    arena_init(&a);
    struct churn_summary *s;
    size_t ns;
    double t0 = mono_seconds();
    summaries_of(&h, as_of, &a, &s, &ns);
    printf("cdnow: summaries from %zu orders in %.2f ms\n", history_norders(&h),
           (mono_seconds() - t0) * 1e3);
    fit_times("cdnow", s, ns, 15);
    free(s);
    arena_release(&a);
    history_release(&h);
    return 0;
}

struct event {
    double t;
    int32_t customer;
};

static int by_time(const void *a, const void *b)
{
    double x = ((const struct event *)a)->t, y = ((const struct event *)b)->t;
    return (x > y) - (x < y);
}

/* BG/NBD's story: a first purchase in the first 12 weeks, then purchases at a
 * Poisson rate lambda ~ Gamma(r, 1/alpha) until, after any repeat purchase, the
 * customer leaves with probability p ~ Beta(a, b). */
static void simulate(struct history *h, double *as_of)
{
    const double r = 0.25, alpha = 4.0, a = 0.8, b = 2.5;
    struct rng g;
    rng_seed(&g, 7);
    size_t n = 0, cap = 0;
    struct event *ev = NULL;
    double start = 852076800.0; /* 1997-01-01 */
    for (int32_t c = 0; c < SIM_CUSTOMERS; c++) {
        double lambda = rng_gamma(&g, r, 1 / alpha), p = rng_beta(&g, a, b);
        double t = rng_uniform(&g) * 12;
        xgrow((void **)&ev, &cap, n + 1, sizeof(*ev));
        ev[n++] = (struct event){start + t * 7 * DAY, c};
        for (;;) {
            t += rng_exponential(&g, lambda);
            if (t > SIM_WEEKS)
                break;
            xgrow((void **)&ev, &cap, n + 1, sizeof(*ev));
            ev[n++] = (struct event){start + t * 7 * DAY, c};
            if (rng_uniform(&g) < p) /* dropout after a repeat purchase */
                break;
        }
    }
    qsort(ev, n, sizeof(*ev), by_time);
    history_init(h);
    for (size_t i = 0; i < n; i++) {
        char oid[24], cid[24];
        snprintf(oid, sizeof(oid), "o%zu", i);
        snprintf(cid, sizeof(cid), "c%d", ev[i].customer);
        history_add_line(h, oid, cid, floor(ev[i].t / DAY) * DAY, "item", 1,
                         10 + 5 * (ev[i].customer % 7));
    }
    history_finish(h);
    *as_of = start + SIM_WEEKS * 7 * DAY;
    free(ev);
}

int main(int argc, char **argv)
{
    cdnow(argc > 1 ? argv[1] : "../shared/data/cdnow/CDNOW_sample.txt");

    struct history h;
    double as_of;
    simulate(&h, &as_of);
    struct arena a;
    arena_init(&a);
    struct churn_summary *s;
    size_t ns;
    double t0 = mono_seconds();
    summaries_of(&h, as_of, &a, &s, &ns);
    printf("simulated: %zu orders; summaries in %.2f ms (true r 0.25 alpha 4 a 0.8 b 2.5)\n",
           history_norders(&h), (mono_seconds() - t0) * 1e3);
    fit_times("simulated", s, ns, 5);
    free(s);

    struct model_churn m;
    struct figures fig = {0};
    struct churn_fit_params fp = {.as_of = as_of, .horizon_days = 90, .discount = 0.1};
    t0 = mono_seconds();
    model_churn_fit(&h, &fp, &a, &m, &fig);
    printf("simulated: the whole snapshot fit (both models, selection and layer on an earlier "
           "split, Gamma-Gamma, scores and ranking of every customer): %.2f s\n",
           mono_seconds() - t0);
    struct churn_answer ans;
    double sink = 0;
    int reps = 5;
    t0 = mono_seconds();
    for (int r = 0; r < reps; r++)
        for (size_t c = 0; c < m.n; c++)
            if (model_churn_query(&m, (int32_t)c, 90, &ans))
                sink += ans.churn_risk;
    double stored = (mono_seconds() - t0) / (double)(reps * m.n);
    t0 = mono_seconds();
    for (size_t c = 0; c < m.n; c++)
        if (model_churn_query(&m, (int32_t)c, 30, &ans))
            sink += ans.churn_risk;
    double other = (mono_seconds() - t0) / (double)m.n;
    printf("one customer's answer: %.3f us at the stored horizon, %.2f us at another (computed: "
           "%.0fx) [%g]\n",
           stored * 1e6, other * 1e6, other / stored, sink > 0 ? 1.0 : 0.0);
    arena_release(&a);
    history_release(&h);
    return 0;
}
