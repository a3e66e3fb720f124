#include "xsell/model_churn.h"

#include <math.h>

#include "xsell/log.h"
#include "xsell/stats.h"
#include "xsell/xalloc.h"
#include "xsell/snapfile.h"
#include "xsell/snapshot.h"

#define WEEK_DAYS           7.0
#define LOG_BOUND           12.0 /* parameters within exp(+-12) */
#define FIT_TOL             1e-9 /* max |gradient| of the mean log-likelihood */
#define FIT_MAX_ITER        400
#define MIN_SPLIT_CUSTOMERS 30

/* --- BG/NBD and the modified BG/NBD ------------------------------------------
 * With s = 0 (BG/NBD) or 1 (modified), one customer's log-likelihood is
 *   lnG(r+x) - lnG(r) + r ln(alpha) + lnG(a+b) - lnG(b) + lnG(b+x+s) - lnG(a+b+x+s)
 *   - (r+x) ln(alpha+T) + ln(1 + D),
 *   D = a / (b+x-1+s) * ((alpha+T) / (alpha+t_x))^(r+x), when x > 0 or s = 1, else 0
 * (the papers' two-term likelihood with the common factor taken out). D is also
 * the odds of being gone: P(alive) = 1 / (1 + D). */

static int shift_of(enum churn_kind k)
{
    return k == CHURN_MBGNBD ? 1 : 0;
}

/* ln D, or -INFINITY when the second term is absent. */
static double log_d(int s, const struct churn_params *p, double x, double tx, double T)
{
    if (x <= 0 && s == 0)
        return -INFINITY;
    return log(p->a) - log(p->b + x - 1 + s) +
           (p->r + x) * (log(p->alpha + T) - log(p->alpha + tx));
}

double churn_ll(enum churn_kind k, const struct churn_params *p, const struct churn_summary *q)
{
    int s = shift_of(k);
    double x = q->x;
    double ld = log_d(s, p, x, q->tx, q->T);
    return stats_lgamma(p->r + x) - stats_lgamma(p->r) + p->r * log(p->alpha) +
           stats_lgamma(p->a + p->b) - stats_lgamma(p->b) + stats_lgamma(p->b + x + s) -
           stats_lgamma(p->a + p->b + x + s) - (p->r + x) * log(p->alpha + q->T) +
           (isfinite(ld) ? stats_log1pexp(ld) : 0);
}

double churn_p_alive(enum churn_kind k, const struct churn_params *p, const struct churn_summary *q)
{
    double ld = log_d(shift_of(k), p, q->x, q->tx, q->T);
    return isfinite(ld) ? stats_sigmoid(-ld) : 1.0;
}

double churn_expected(enum churn_kind k, const struct churn_params *p,
                      const struct churn_summary *q, double t)
{
    int s = shift_of(k);
    double x = q->x, a = p->a;
    if (t <= 0)
        return 0;
    /* The closed form has a removable singularity at a = 1: step around it. */
    if (fabs(a - 1) < 1e-6)
        a = a < 1 ? 1 - 1e-6 : 1 + 1e-6;
    double base = p->alpha + q->T;
    double z = t / (base + t);
    double f = stats_hyp2f1(p->r + x, p->b + x + s, a + p->b + x - 1 + s, z);
    double alive = churn_p_alive(k, p, q);
    if (!isfinite(f)) {
        /* Out of the series' reach: the purchases of a customer who stays alive
         * for t more weeks at their posterior mean rate (an upper bound). */
        return alive * (p->r + x) / base * t;
    }
    double v =
        (a + p->b + x - 1 + s) / (a - 1) * (1 - exp((p->r + x) * log(base / (base + t))) * f);
    return MAX(0, v * alive);
}

double churn_p_none(enum churn_kind k, const struct churn_params *p, const struct churn_summary *q,
                    double t)
{
    /* Dropout happens only at a purchase, so a customer alive now who buys nothing
     * for t weeks stays alive; their rate's posterior is Gamma(r+x, alpha+T). */
    double base = p->alpha + q->T;
    double quiet = exp((p->r + q->x) * log(base / (base + t)));
    return 1 - churn_p_alive(k, p, q) * (1 - quiet);
}

/* Compressed rows: identical (x, t_x, T) with a weight; sorted by x. */
struct rows {
    struct churn_summary *s;
    double *w;
    size_t n;
    double total;
    int kind_shift;
};

static int by_summary(const void *pa, const void *pb)
{
    const struct churn_summary *a = pa, *b = pb;
    if (a->x != b->x)
        return a->x < b->x ? -1 : 1;
    if (a->tx != b->tx)
        return a->tx < b->tx ? -1 : 1;
    return (a->T > b->T) - (a->T < b->T);
}

static void rows_build(const struct churn_summary *s, size_t n, struct rows *r)
{
    struct churn_summary *c = xmalloc(n * sizeof(*c) + 1);
    memcpy(c, s, n * sizeof(*c));
    for (size_t i = 0; i < n; i++)
        c[i].m = 0;
    qsort(c, n, sizeof(*c), by_summary);
    r->w = xmalloc(n * sizeof(double) + 1);
    r->n = 0;
    for (size_t i = 0; i < n; i++) {
        if (r->n && by_summary(&c[r->n - 1], &c[i]) == 0) {
            r->w[r->n - 1] += 1;
            continue;
        }
        c[r->n] = c[i];
        r->w[r->n++] = 1;
    }
    r->s = c;
    r->total = (double)n;
}

static void rows_release(struct rows *r)
{
    free(r->s);
    free(r->w);
}

/* Minus the mean log-likelihood and its gradient in log-parameters. */
static double churn_objective(const double *lp, double *g, void *ctx)
{
    const struct rows *R = ctx;
    int s = R->kind_shift;
    double r = exp(lp[0]), alpha = exp(lp[1]), a = exp(lp[2]), b = exp(lp[3]);
    double la = log(alpha), lga = stats_lgamma(r), psr = stats_digamma(r);
    double lgab = stats_lgamma(a + b), lgb = stats_lgamma(b);
    double psab = stats_digamma(a + b), psb = stats_digamma(b);
    double ll = 0, gr = 0, gal = 0, gaa = 0, gb = 0;
    double cur_x = -1, cx_ll = 0, cx_pr = 0, cx_pa = 0, cx_pb = 0;
    for (size_t i = 0; i < R->n; i++) {
        const struct churn_summary *q = &R->s[i];
        double w = R->w[i], x = q->x;
        if (x != cur_x) { /* terms that depend on x alone */
            cur_x = x;
            cx_ll = stats_lgamma(r + x) - lga + lgab - lgb + stats_lgamma(b + x + s) -
                    stats_lgamma(a + b + x + s);
            cx_pr = stats_digamma(r + x) - psr;
            double psabx = stats_digamma(a + b + x + s);
            cx_pa = psab - psabx;
            cx_pb = psab - psb + stats_digamma(b + x + s) - psabx;
        }
        double l1 = log(alpha + q->T), l2 = log(alpha + q->tx);
        double row = cx_ll + r * la - (r + x) * l1;
        double dr = cx_pr + la - l1;
        double dal = r / alpha - (r + x) / (alpha + q->T);
        double da = cx_pa, db = cx_pb;
        if (x > 0 || s) {
            double bx = b + x - 1 + s;
            double ld = log(a) - log(bx) + (r + x) * (l1 - l2);
            double pd = stats_sigmoid(ld); /* D / (1 + D) */
            row += stats_log1pexp(ld);
            dr += pd * (l1 - l2);
            dal += pd * (r + x) * (1 / (alpha + q->T) - 1 / (alpha + q->tx));
            da += pd / a;
            db -= pd / bx;
        }
        ll += w * row;
        gr += w * dr;
        gal += w * dal;
        gaa += w * da;
        gb += w * db;
    }
    double n = R->total;
    if (g) {
        g[0] = -gr * r / n;
        g[1] = -gal * alpha / n;
        g[2] = -gaa * a / n;
        g[3] = -gb * b / n;
    }
    return -ll / n;
}

/* Runs the minimiser from each start and keeps in best (log-parameters) the best
 * converged result. With a fallback (the previous parameters as the last start,
 * has_fallback) that start is tried first, and alone when it converges. When none
 * converged: with a fallback, best is left alone; without, best takes the lowest
 * value reached. Either way the report says so (starts: how many were tried). */
static void multistart(stats_objective fn, void *ctx, int dim, double starts[][4], int nstarts,
                       bool has_fallback, double *best, struct fit_report *rep, double scale)
{
    double best_f = INFINITY, any_f = INFINITY, any[4] = {0};
    int any_iter = 0;
    rep->starts = 0;
    rep->starts_converged = 0;
    rep->converged = false;
    rep->iterations = 0;
    for (int j = 0; j < nstarts; j++) {
        /* a refit moves little from the last fit */
        int k = has_fallback ? (j + nstarts - 1) % nstarts : j;
        if (has_fallback && j > 0 && rep->starts_converged > 0)
            break;
        double x[4];
        memcpy(x, starts[k], sizeof(double) * (size_t)dim);
        struct stats_min_result res;
        stats_minimize(fn, ctx, dim, x, LOG_BOUND, FIT_TOL, 0, FIT_MAX_ITER, &res);
        rep->starts++;
        if (!isfinite(res.f))
            continue;
        if (res.f < any_f) {
            any_f = res.f;
            memcpy(any, x, sizeof(any));
            any_iter = res.iterations;
        }
        if (!res.converged)
            continue;
        rep->starts_converged++;
        if (res.f < best_f) {
            best_f = res.f;
            memcpy(best, x, sizeof(double) * (size_t)dim);
            rep->iterations = res.iterations;
        }
    }
    rep->converged = rep->starts_converged > 0;
    rep->kept_previous = !rep->converged && has_fallback;
    if (!rep->converged && !has_fallback && isfinite(any_f)) {
        memcpy(best, any, sizeof(double) * (size_t)dim);
        best_f = any_f;
        rep->iterations = any_iter;
    }
    double g[4];
    if (!isfinite(best_f))
        best_f = fn(best, g, ctx);
    rep->ll = -best_f * scale;
}

void churn_fit(enum churn_kind k, const struct churn_summary *s, size_t n, struct churn_params *p,
               struct fit_report *rep)
{
    memset(rep, 0, sizeof(*rep));
    if (n == 0)
        return;
    struct rows R;
    rows_build(s, n, &R);
    R.kind_shift = shift_of(k);
    double meanT = 0;
    for (size_t i = 0; i < n; i++)
        meanT += s[i].T / (double)n;
    double la = log(MAX(meanT, 0.1));
    double starts[4][4] = {
        {0, 0, 0, 0},
        {log(0.5), la - log(4), log(0.5), log(3)},
        {log(2), la, log(3), log(10)},
        {log(p->r), log(p->alpha), log(p->a), log(p->b)},
    };
    bool has_prev = p->r > 0 && p->alpha > 0 && p->a > 0 && p->b > 0;
    double best[4];
    memcpy(best, starts[has_prev ? 3 : 0], sizeof(best));
    multistart(churn_objective, &R, 4, starts, has_prev ? 4 : 3, has_prev, best, rep, R.total);
    p->r = exp(best[0]);
    p->alpha = exp(best[1]);
    p->a = exp(best[2]);
    p->b = exp(best[3]);
    rows_release(&R);
}

/* --- Gamma-Gamma ----------------------------------------------------------------
 * A customer with x repeat purchases of mean value m:
 *   lnG(px+q) - lnG(px) - lnG(q) + q ln v + (px-1) ln m + px ln x - (px+q) ln(v + x m). */

/* Repeat customers sorted by x, with their logs taken once: the gamma-function
 * terms depend on x alone and are computed once per distinct x. */
struct gg_rows {
    double *x, *m, *log_m, *log_x;
    size_t n;
};

static int by_x_then_m(const void *pa, const void *pb)
{
    const struct churn_summary *a = pa, *b = pb;
    if (a->x != b->x)
        return a->x < b->x ? -1 : 1;
    return (a->m > b->m) - (a->m < b->m);
}

static double gg_objective(const double *lp, double *grad, void *ctx)
{
    const struct gg_rows *R = ctx;
    double p = exp(lp[0]), q = exp(lp[1]), v = exp(lp[2]);
    double ll = 0, dp = 0, dq = 0, dv = 0, lgq = stats_lgamma(q), psq = stats_digamma(q);
    double lv = log(v), cur_x = -1, lg = 0, ps_sum = 0, ps_px = 0;
    for (size_t i = 0; i < R->n; i++) {
        double x = R->x[i], px = p * x;
        if (x != cur_x) {
            cur_x = x;
            lg = stats_lgamma(px + q) - stats_lgamma(px) - lgq;
            ps_sum = stats_digamma(px + q);
            ps_px = stats_digamma(px);
        }
        double vm = v + x * R->m[i], lvm = log(vm);
        ll += lg + q * lv + (px - 1) * R->log_m[i] + px * R->log_x[i] - (px + q) * lvm;
        dp += x * (ps_sum - ps_px + R->log_m[i] + R->log_x[i] - lvm);
        dq += ps_sum - psq + lv - lvm;
        dv += q / v - (px + q) / vm;
    }
    double n = (double)R->n;
    if (grad) {
        grad[0] = -dp * p / n;
        grad[1] = -dq * q / n;
        grad[2] = -dv * v / n;
    }
    return -ll / n;
}

void gg_fit(const struct churn_summary *s, size_t n, struct gg_params *g, struct fit_report *rep)
{
    memset(rep, 0, sizeof(*rep));
    struct churn_summary *c = xmalloc((n + 1) * sizeof(*c));
    size_t k = 0;
    double mean = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i].x > 0 && s[i].m > 0) {
            c[k++] = s[i];
            mean += s[i].m;
        }
    }
    if (k < 2) {
        free(c);
        return;
    }
    qsort(c, k, sizeof(*c), by_x_then_m);
    struct gg_rows R = {xmalloc(k * sizeof(double)), xmalloc(k * sizeof(double)),
                        xmalloc(k * sizeof(double)), xmalloc(k * sizeof(double)), k};
    for (size_t i = 0; i < k; i++) {
        R.x[i] = c[i].x;
        R.m[i] = c[i].m;
        R.log_m[i] = log(c[i].m);
        R.log_x[i] = log(c[i].x);
    }
    free(c);
    double lm = log(mean / (double)k);
    double starts[4][4] = {
        {0, 0, lm},
        {log(5), log(3), lm + log(2)},
        {log(0.5), log(2), lm - log(2)},
        {log(g->p), log(g->q), log(g->v)},
    };
    bool has_prev = g->p > 0 && g->q > 0 && g->v > 0;
    double best[4];
    memcpy(best, starts[has_prev ? 3 : 0], sizeof(best));
    multistart(gg_objective, &R, 3, starts, has_prev ? 4 : 3, has_prev, best, rep, (double)k);
    g->p = exp(best[0]);
    g->q = exp(best[1]);
    g->v = exp(best[2]);
    free(R.x);
    free(R.m);
    free(R.log_m);
    free(R.log_x);
}

double gg_expected_spend(const struct gg_params *g, double x, double m)
{
    if (x <= 0 || m <= 0)
        return g->p * g->v / (g->q - 1);
    return g->p * (g->v + x * m) / (g->p * x + g->q - 1);
}

/* --- summaries -------------------------------------------------------------- */

struct order_day {
    int32_t customer, day;
    double units, value;
};

void churn_days_build(const struct history *h, struct arena *a, struct churn_days *d)
{
    size_t nc = history_ncustomers(h);
    d->ncustomers = nc;
    d->first = arena_array(a, nc + 1, sizeof(int32_t));
    d->keep = arena_array(a, nc + 1, sizeof(float));
    /* Each customer's orders come in time order, so their days ascend. */
    int32_t *count, *orders;
    history_customer_orders(h, &count, &orders);
    size_t nbuy = (size_t)count[nc];
    struct order_day *od = xmalloc(nbuy * sizeof(*od) + 1);
    for (size_t x = 0; x < nbuy; x++) {
        int32_t o = orders[x];
        struct order_day *e = &od[x];
        e->customer = h->order_customer[o];
        e->day = (int32_t)floor(h->order_time[o] / DAY_S);
        e->units = 0;
        e->value = 0;
        for (int32_t l = h->order_first[o]; l < h->order_first[o + 1]; l++) {
            e->units += h->line_qty[l];
            e->value += h->line_qty[l] * h->line_price[l];
        }
    }
    /* Merge each customer's days; a day that nets to no units is a return. */
    d->day = arena_alloc(a, (nbuy + 1) * sizeof(int32_t));
    d->value = arena_alloc(a, (nbuy + 1) * sizeof(float));
    size_t out = 0;
    for (size_t c = 0; c < nc; c++) {
        d->first[c] = (int32_t)out;
        double bought = 0, returned = 0;
        for (int32_t i = count[c]; i < count[c + 1];) {
            int32_t j = i;
            double units = 0, value = 0;
            while (j < count[c + 1] && od[j].day == od[i].day) {
                units += od[j].units;
                value += od[j].value;
                j++;
            }
            if (units > 0) {
                d->day[out] = od[i].day;
                d->value[out] = (float)value;
                out++;
                bought += MAX(value, 0);
            } else {
                returned -= MIN(value, 0);
            }
            i = j;
        }
        d->keep[c] = bought > 0 ? (float)MAX(0, 1 - returned / bought) : 0;
    }
    d->first[nc] = (int32_t)out;
    free(od);
    free(orders);
    free(count);
}

bool churn_summary_at(const struct churn_days *d, int32_t c, int32_t cut, int32_t end,
                      struct churn_summary *s, int *holdout)
{
    int32_t lo = d->first[c], hi = d->first[c + 1];
    if (lo == hi || d->day[lo] > cut)
        return false;
    int32_t first = d->day[lo], last = first;
    double spend = 0;
    int x = 0, ho = 0;
    for (int32_t i = lo + 1; i < hi; i++) {
        if (d->day[i] <= cut) {
            x++;
            last = d->day[i];
            spend += d->value[i];
        } else if (d->day[i] <= end) {
            ho++;
        }
    }
    s->x = x;
    s->tx = (last - first) / WEEK_DAYS;
    s->T = (cut - first) / WEEK_DAYS;
    s->m = x > 0 ? MAX(0, spend * d->keep[c] / x) : 0;
    if (holdout)
        *holdout = ho;
    return true;
}

/* --- segments ------------------------------------------------------------------ */

static const char *const segment_names[SEG_COUNT] = {"new", "active", "at_risk", "lapsing", "lost"};

const char *churn_segment_name(enum churn_segment s)
{
    return (unsigned)s < SEG_COUNT ? segment_names[s] : "unknown";
}

int churn_segment_parse(const char *name)
{
    for (int i = 0; i < SEG_COUNT; i++)
        if (strcmp(name, segment_names[i]) == 0)
            return i;
    return -1;
}

static enum churn_segment segment_of(double age_days, double churn_risk)
{
    if (age_days < CHURN_NEW_DAYS)
        return SEG_NEW;
    if (churn_risk < CHURN_AT_RISK)
        return SEG_ACTIVE;
    if (churn_risk < CHURN_LAPSING)
        return SEG_AT_RISK;
    if (churn_risk < CHURN_LOST)
        return SEG_LAPSING;
    return SEG_LOST;
}

/* --- the logistic layer ---------------------------------------------------------- */

static void layer_features(enum churn_kind k, const struct churn_params *p,
                           const struct churn_summary *s, double t, double *f)
{
    double p0 = churn_p_none(k, p, s, t);
    p0 = MIN(MAX(p0, 1e-9), 1 - 1e-9);
    f[0] = 1;
    f[1] = log(p0 / (1 - p0));
    f[2] = log1p(s->x);
    f[3] = log1p(s->T - s->tx);
    f[4] = log1p(s->T);
}

/* On the earlier split: choose the model by holdout error and fit the layer. */
struct split_result {
    bool done;
    double rmse[2];
    double total_actual, total_predicted[2];
};

static void fit_on_split(const struct churn_days *d, int32_t cut, int32_t end,
                         struct model_churn *m, struct split_result *sr)
{
    size_t nc = d->ncustomers, n = 0;
    struct churn_summary *s = xmalloc(nc * sizeof(*s) + 1);
    int *ho = xmalloc(nc * sizeof(int) + 1);
    for (size_t c = 0; c < nc; c++)
        if (churn_summary_at(d, (int32_t)c, cut, end, &s[n], &ho[n]))
            n++;
    memset(sr, 0, sizeof(*sr));
    if (n < MIN_SPLIT_CUSTOMERS) {
        free(s);
        free(ho);
        return;
    }
    double t = (end - cut) / WEEK_DAYS;
    struct churn_params p[2];
    for (int k = 0; k < 2; k++) {
        struct fit_report rep;
        p[k] = m->params[k];
        churn_fit((enum churn_kind)k, s, n, &p[k], &rep);
        double se = 0, tot = 0;
        for (size_t i = 0; i < n; i++) {
            double e = churn_expected((enum churn_kind)k, &p[k], &s[i], t);
            se += (e - ho[i]) * (e - ho[i]);
            tot += e;
        }
        sr->rmse[k] = sqrt(se / (double)n);
        sr->total_predicted[k] = tot;
    }
    for (size_t i = 0; i < n; i++)
        sr->total_actual += ho[i];
    sr->done = true;
    m->kind = sr->rmse[CHURN_MBGNBD] < sr->rmse[CHURN_BGNBD] ? CHURN_MBGNBD : CHURN_BGNBD;

    /* The layer, judged two-fold against the model's own P(no purchase). */
    enum { F = CHURN_FEATURES };
    double *X = xmalloc(n * F * sizeof(double));
    double *score = xmalloc(n * sizeof(double)), *base = xmalloc(n * sizeof(double));
    bool *y = xmalloc(n * sizeof(bool));
    int *fold = xmalloc(n * sizeof(int));
    for (size_t i = 0; i < n; i++) {
        layer_features(m->kind, &p[m->kind], &s[i], t, &X[i * F]);
        y[i] = ho[i] == 0;
        fold[i] = (int)(i % 2);
        base[i] = X[i * F + 1];
    }
    double *pos = xmalloc(n * sizeof(double)), *neg = xmalloc(n * sizeof(double));
    for (int f = 0; f < 2; f++) {
        for (size_t i = 0; i < n; i++) { /* trained on the other fold */
            pos[i] = fold[i] != f && y[i];
            neg[i] = fold[i] != f && !y[i];
        }
        struct stats_logit L;
        stats_logit_fit(X, pos, neg, n, F, &L);
        for (size_t i = 0; i < n; i++)
            if (fold[i] == f)
                score[i] = stats_logit_predict(&L, &X[i * F]);
    }
    m->layer.auc_model = stats_auc(base, y, n);
    m->layer.auc_layer = stats_auc(score, y, n);
    for (size_t i = 0; i < n; i++) {
        pos[i] = y[i];
        neg[i] = !y[i];
    }
    stats_logit_fit(X, pos, neg, n, F, &m->layer.fit);
    m->layer.used = isfinite(m->layer.auc_layer) && m->layer.auc_layer > m->layer.auc_model + 0.002;
    free(pos);
    free(neg);
    free(X);
    free(score);
    free(base);
    free(y);
    free(fold);
    free(s);
    free(ho);
}

/* --- per customer ------------------------------------------------------------------ */

static double clv_12m(const struct model_churn *m, const struct churn_summary *s, double spend)
{
    /* Monthly steps, each month's expected purchases discounted to today. */
    double monthly = pow(1 + m->discount, 1.0 / 12) - 1, prev = 0, v = 0;
    const struct churn_params *p = &m->params[m->kind];
    for (int k = 1; k <= 12; k++) {
        double e = churn_expected(m->kind, p, s, k * (365.25 / 12) / WEEK_DAYS);
        v += spend * (e - prev) / pow(1 + monthly, k);
        prev = e;
    }
    return v;
}

/* The mean spend expected of a customer's next purchases: Gamma-Gamma when it fits,
 * else their own repeat mean, else the shop's. */
static double spend_of(const struct model_churn *m, const struct churn_summary *s)
{
    if (m->gg_ok)
        return gg_expected_spend(&m->gg, s->x, s->m);
    return s->x > 0 && s->m > 0 ? s->m : m->mean_spend;
}

static void score(const struct model_churn *m, const struct churn_summary *s, double horizon_days,
                  struct churn_answer *out)
{
    const struct churn_params *p = &m->params[m->kind];
    double t = horizon_days / WEEK_DAYS;
    out->p_alive = churn_p_alive(m->kind, p, s);
    if (m->layer.used) {
        double f[CHURN_FEATURES];
        layer_features(m->kind, p, s, t, f);
        out->churn_risk = stats_logit_predict(&m->layer.fit, f);
    } else {
        out->churn_risk = churn_p_none(m->kind, p, s, t);
    }
    out->expected_purchases = churn_expected(m->kind, p, s, t);
    out->expected_spend = spend_of(m, s);
    out->expected_value = out->expected_spend * out->expected_purchases;
    out->clv = clv_12m(m, s, out->expected_spend);
    /* What the customer is worth if kept: the CLV of one known to be alive. */
    double retained = out->p_alive > 1e-6 ? out->clv / out->p_alive : 0;
    out->value_at_risk = out->churn_risk * retained;
    out->frequency = (int)s->x;
    out->recency_days = (s->T - s->tx) * WEEK_DAYS;
    out->age_days = s->T * WEEK_DAYS;
    out->monetary = s->m;
    out->segment = segment_of(out->age_days, out->churn_risk);
}

bool model_churn_query(const struct model_churn *m, int32_t c, double horizon_days,
                       struct churn_answer *out)
{
    if (c < 0 || (size_t)c >= m->n || !m->cust[c].known)
        return false;
    const struct churn_customer *k = &m->cust[c];
    struct churn_summary s = {k->x, k->tx, k->T, k->m};
    if (horizon_days != m->horizon_days) {
        score(m, &s, horizon_days, out);
        return true;
    }
    out->p_alive = k->p_alive;
    out->churn_risk = k->churn_risk;
    out->expected_purchases = k->expected_purchases;
    out->expected_value = k->expected_value;
    out->clv = k->clv;
    out->value_at_risk = k->value_at_risk;
    out->expected_spend = spend_of(m, &s);
    out->frequency = (int)k->x;
    out->recency_days = (k->T - k->tx) * WEEK_DAYS;
    out->age_days = k->T * WEEK_DAYS;
    out->monetary = k->m;
    out->segment = (enum churn_segment)k->segment;
    return true;
}

static int by_day(const void *pa, const void *pb)
{
    int32_t a = ((const struct churn_point *)pa)->day, b = ((const struct churn_point *)pb)->day;
    return (a > b) - (a < b);
}

bool model_churn_days(const struct model_churn *m, int32_t c, int32_t *lo, int32_t *hi)
{
    const struct churn_days *d = &m->days;
    *lo = *hi = 0;
    if (c < 0 || (size_t)c >= m->n || !m->cust[c].known || !d->first || (size_t)c >= d->ncustomers)
        return false;
    *lo = d->first[c];
    *hi = d->first[c + 1];
    while (*hi > *lo && d->day[*hi - 1] > m->as_of_day) /* after the cut: not yet seen */
        (*hi)--;
    return *hi > *lo;
}

size_t model_churn_curve(const struct model_churn *m, int32_t c, int ahead_days,
                         struct churn_point *out)
{
    const struct churn_days *d = &m->days;
    int32_t lo, hi;
    if (!model_churn_days(m, c, &lo, &hi))
        return 0;
    int32_t from = d->day[lo], to = m->as_of_day + MAX(0, ahead_days);
    size_t n = 0;
    for (int i = 0; i <= CHURN_CURVE_GRID; i++)
        out[n++].day = from + (int32_t)llround((double)(to - from) * i / CHURN_CURVE_GRID);
    for (int32_t i = MAX(lo + 1, hi - CHURN_CURVE_MARKS); i < hi; i++) {
        out[n++].day = d->day[i] - 1;
        out[n++].day = d->day[i];
    }
    out[n++].day = m->as_of_day;
    qsort(out, n, sizeof(*out), by_day);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (kept && out[kept - 1].day == out[i].day)
            continue;
        struct churn_summary s;
        churn_summary_at(d, c, out[i].day, out[i].day, &s, NULL);
        out[kept].day = out[i].day;
        out[kept].p_alive = (float)churn_p_alive(m->kind, &m->params[m->kind], &s);
        kept++;
    }
    return kept;
}

static int by_value_at_risk(const void *pa, const void *pb, void *ctx)
{
    const struct churn_customer *cust = ctx;
    int32_t a = *(const int32_t *)pa, b = *(const int32_t *)pb;
    float va = cust[a].value_at_risk, vb = cust[b].value_at_risk;
    if (va != vb)
        return va > vb ? -1 : 1;
    return (a > b) - (a < b);
}

/* Estimates m's parameters on the summaries s (n customers, the earliest first_day)
 * from scratch, or from prev's: both models, the choice between them on the earlier
 * split, the layer, Gamma-Gamma. The seconds the two models' fits took. */
static double fit_all(const struct churn_days *dd, const struct churn_summary *s, size_t n,
                      int32_t first_day, const struct churn_fit_params *fp, struct model_churn *m,
                      double t0)
{
    /* Fit both on everything first: the earlier split starts from these. The
     * serving snapshot's converged fits are a start, and kept when nothing converges. */
    for (int k = 0; k < 2; k++) {
        if (fp->prev && fp->prev->report[k].converged)
            m->params[k] = fp->prev->params[k];
        churn_fit((enum churn_kind)k, s, n, &m->params[k], &m->report[k]);
    }
    double fit_s = mono_seconds() - t0;

    /* The earlier split: its holdout as long as the horizon, at most half the span. */
    int32_t span = m->as_of_day - first_day;
    int32_t split = (int32_t)MIN(lround(fp->horizon_days), span / 2);
    struct split_result sr = {0};
    if (split >= 7)
        fit_on_split(dd, m->as_of_day - split, m->as_of_day, m, &sr);
    if (sr.done) {
        snprintf(m->selection, sizeof(m->selection),
                 "holdout of the last %d days: RMSE per customer %.4f (BG/NBD) vs %.4f "
                 "(modified)",
                 split, sr.rmse[0], sr.rmse[1]);
        m->selection_rmse[0] = sr.rmse[0];
        m->selection_rmse[1] = sr.rmse[1];
    } else {
        snprintf(m->selection, sizeof(m->selection),
                 "too little history for a holdout: BG/NBD serves");
    }
    if (!m->report[m->kind].converged && m->report[1 - m->kind].converged)
        m->kind = (enum churn_kind)(1 - m->kind);

    m->gg = fp->prev && fp->prev->gg_report.converged ? fp->prev->gg : (struct gg_params){0, 0, 0};
    gg_fit(s, n, &m->gg, &m->gg_report);
    m->gg_ok = m->gg_report.converged && m->gg.q > 1;
    return fit_s;
}

void model_churn_fit(const struct history *h, const struct churn_fit_params *fp, struct arena *a,
                     struct model_churn *m, struct figures *fig)
{
    double t0 = mono_seconds();
    memset(m, 0, sizeof(*m));
    m->as_of = fp->as_of;
    m->as_of_day = (int32_t)floor(fp->as_of / DAY_S);
    m->horizon_days = fp->horizon_days;
    m->discount = fp->discount;
    m->n = history_ncustomers(h);
    m->cust = arena_array(a, m->n + 1, sizeof(*m->cust));
    m->kind = CHURN_BGNBD;

    struct churn_days *dd = &m->days;
    churn_days_build(h, a, dd);
    struct churn_summary *s = xmalloc(m->n * sizeof(*s) + 1);
    int32_t *who = xmalloc(m->n * sizeof(int32_t) + 1);
    size_t n = 0;
    int32_t first_day = m->as_of_day;
    for (size_t c = 0; c < m->n; c++) {
        if (churn_summary_at(dd, (int32_t)c, m->as_of_day, m->as_of_day, &s[n], NULL)) {
            first_day = MIN(first_day, m->as_of_day - (int32_t)lround(s[n].T * WEEK_DAYS));
            who[n++] = (int32_t)c;
        }
    }
    double fit_s = 0;
    if (fp->keep && fp->prev) { /* an update between full refits: their estimates */
        const struct model_churn *pv = fp->prev;
        m->kind = pv->kind;
        memcpy(m->params, pv->params, sizeof(m->params));
        memcpy(m->report, pv->report, sizeof(m->report));
        m->gg = pv->gg;
        m->gg_report = pv->gg_report;
        m->gg_ok = pv->gg_ok;
        m->layer = pv->layer;
        memcpy(m->selection_rmse, pv->selection_rmse, sizeof(m->selection_rmse));
        snprintf(m->selection, sizeof(m->selection), "%s", pv->selection);
    } else {
        fit_s = fit_all(dd, s, n, first_day, fp, m, t0);
    }
    double msum = 0, mcnt = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i].x > 0 && s[i].m > 0) {
            msum += s[i].m;
            mcnt++;
        }
    m->mean_spend = mcnt > 0 ? msum / mcnt : 0;

    m->ranked = arena_alloc(a, (n + 1) * sizeof(int32_t));
    for (size_t i = 0; i < n; i++) {
        struct churn_answer ans;
        score(m, &s[i], m->horizon_days, &ans);
        struct churn_customer *k = &m->cust[who[i]];
        k->x = (float)s[i].x;
        k->tx = (float)s[i].tx;
        k->T = (float)s[i].T;
        k->m = (float)s[i].m;
        k->p_alive = (float)ans.p_alive;
        k->churn_risk = (float)ans.churn_risk;
        k->expected_purchases = (float)ans.expected_purchases;
        k->expected_value = (float)ans.expected_value;
        k->clv = (float)ans.clv;
        k->value_at_risk = (float)ans.value_at_risk;
        k->segment = (uint8_t)ans.segment;
        k->known = true;
        m->ranked[i] = who[i];
        m->seg_count[ans.segment]++;
        m->seg_value[ans.segment] += ans.clv;
        m->seg_at_risk[ans.segment] += ans.value_at_risk;
    }
    m->nranked = n;
    qsort_r(m->ranked, n, sizeof(int32_t), by_value_at_risk, m->cust);

    const struct churn_params *p = &m->params[m->kind];
    figures_add(fig, "customers", (double)n);
    figures_add(fig, "serving_modified", m->kind == CHURN_MBGNBD);
    figures_add(fig, "r", p->r);
    figures_add(fig, "alpha", p->alpha);
    figures_add(fig, "a", p->a);
    figures_add(fig, "b", p->b);
    figures_add(fig, "log_likelihood", m->report[m->kind].ll);
    figures_add(fig, "converged", m->report[m->kind].converged);
    figures_add(fig, "layer_used", m->layer.used);
    figures_add(fig, "fit_seconds", fit_s);
    figures_add(fig, "seconds", mono_seconds() - t0);
    free(s);
    free(who);
}

int model_churn_train(struct snapshot *s, struct arena *a, const struct model_params *p,
                      struct figures *fig, char *err, size_t errlen)
{
    struct churn_fit_params cp = {.as_of = p->as_of,
                                  .horizon_days = p->churn_horizon_days,
                                  .discount = p->churn_discount,
                                  .prev = p->churn_prev,
                                  .keep = p->keep_estimates};
    UNUSED(err);
    UNUSED(errlen);
    model_churn_fit(&s->hist, &cp, a, &s->churn, fig);
    return 0;
}

void model_churn_save(const struct snapshot *s, struct snapw *w)
{
    const struct model_churn *m = &s->churn;
    struct model_churn head = *m;
    const struct churn_days *d = &m->days;
    size_t ndays = d->first ? (size_t)d->first[d->ncustomers] : 0;
    head.cust = NULL;
    head.ranked = NULL;
    memset(&head.days, 0, sizeof(head.days));
    head.days.ncustomers = d->first ? d->ncustomers : 0;
    snapw_put(w, "churn", &head, sizeof(head), 1);
    snapw_put(w, "churn.cust", m->cust, sizeof(*m->cust), m->n);
    snapw_put(w, "churn.ranked", m->ranked, sizeof(*m->ranked), m->nranked);
    if (!d->first)
        return;
    snapw_put(w, "churn.days.first", d->first, sizeof(*d->first), d->ncustomers + 1);
    snapw_put(w, "churn.days.keep", d->keep, sizeof(*d->keep), d->ncustomers + 1);
    snapw_put(w, "churn.days.day", d->day, sizeof(*d->day), ndays + 1);
    snapw_put(w, "churn.days.value", d->value, sizeof(*d->value), ndays + 1);
}

void model_churn_load(struct snapshot *s, struct snapr *r)
{
    struct model_churn *m = &s->churn;
    if (!snapr_copy(r, "churn", m, sizeof(*m)))
        return;
    m->cust = snapr_get(r, "churn.cust", sizeof(*m->cust), m->n);
    m->ranked = snapr_get(r, "churn.ranked", sizeof(*m->ranked), m->nranked);
    struct churn_days *d = &m->days;
    if (!d->ncustomers)
        return;
    d->first = snapr_get(r, "churn.days.first", sizeof(*d->first), d->ncustomers + 1);
    d->keep = snapr_get(r, "churn.days.keep", sizeof(*d->keep), d->ncustomers + 1);
    bool ok = d->first && d->keep && d->ncustomers <= m->n && d->first[0] == 0;
    for (size_t c = 0; ok && c < d->ncustomers; c++)
        ok = d->first[c] <= d->first[c + 1];
    if (ok) {
        size_t ndays = (size_t)d->first[d->ncustomers];
        d->day = snapr_get(r, "churn.days.day", sizeof(*d->day), ndays + 1);
        d->value = snapr_get(r, "churn.days.value", sizeof(*d->value), ndays + 1);
        ok = d->day && d->value;
    }
    if (!ok) {
        if (!r->failed)
            snprintf(r->why, sizeof(r->why), "churn: purchase days missing or out of order");
        r->failed = true;
        memset(d, 0, sizeof(*d));
    }
}
