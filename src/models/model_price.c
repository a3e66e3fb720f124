#include "xsell/model_price.h"

#include <math.h>
#include <string.h>

#include "xsell/log.h"
#include "xsell/mat.h"
#include "xsell/xalloc.h"
#include "xsell/snapfile.h"
#include "xsell/snapshot.h"
#include "xsell/stats.h"

#define CELLS_MAX 50000000 /* products x weeks held at once */
#define Z95       STATS_Z95

static const char *const bound_names[] = {NULL,      "max_change",     "min_margin", "floor",
                                          "ceiling", "observed_range", "conflict"};

const char *price_bound_name(enum price_bound b)
{
    return (unsigned)b < ARRAY_SIZE(bound_names) ? bound_names[b] : NULL;
}

/* Per product and week: net units, and the paid units and revenue of the sales. */
struct weekly {
    int weeks;
    float *units, *paid_units, *revenue; /* n x weeks */
    double *shop;                        /* per week: all products' net units */
};

static void weekly_build(const struct history *h, double as_of, struct weekly *w)
{
    size_t n = history_nproducts(h);
    double d0 = floor(h->t_min / DAY_S), d_end = floor(as_of / DAY_S);
    int weeks = h->t_max > 0 ? (int)((d_end - d0 + 1) / 7) : 0;
    int skip = 0; /* the oldest weeks dropped when the table would be too large */
    if (n > 0 && (double)n * weeks > CELLS_MAX) {
        skip = weeks - (int)(CELLS_MAX / n);
        weeks -= skip;
    }
    w->weeks = MAX(weeks, 0);
    size_t cells = n * (size_t)w->weeks + 1;
    w->units = xcalloc(cells, sizeof(float));
    w->paid_units = xcalloc(cells, sizeof(float));
    w->revenue = xcalloc(cells, sizeof(float));
    w->shop = xcalloc((size_t)w->weeks + 1, sizeof(double));
    for (size_t o = 0; o < history_norders(h); o++) {
        double day = floor(h->order_time[o] / DAY_S) - d0;
        int wk = (int)floor(day / 7) - skip;
        if (wk < 0 || wk >= w->weeks)
            continue;
        for (int32_t l = h->order_first[o]; l < h->order_first[o + 1]; l++) {
            size_t c = (size_t)h->line_product[l] * (size_t)w->weeks + (size_t)wk;
            int32_t q = h->line_qty[l];
            w->units[c] += (float)q;
            w->shop[wk] += q;
            if (q > 0) {
                w->paid_units[c] += (float)q;
                w->revenue[c] += (float)(q * h->line_price[l]);
            }
        }
    }
}

static void weekly_release(struct weekly *w)
{
    free(w->units);
    free(w->paid_units);
    free(w->revenue);
    free(w->shop);
}

/* The price coefficient's variance, robust to shocks shared by the weeks of one price
 * (Liang & Zeger 1986; the CR1 scaling G / (G - 1), Cameron & Miller 2015): the
 * clusters are the runs of consecutive weeks at one price (within 0.5%), whose
 * demand moves together with whatever else that period held (a complement's price,
 * customers moving up a tier). X (n x k), the fit b and (X'X)^-1 inv; the runs into
 * *runs; 0 with fewer than 3 runs. */
static double clustered_var(const double *X, const double *y, int n, int k, const double *b,
                            const double *inv, int *runs)
{
    double meat[9] = {0}, u[3] = {0};
    int g = 0;
    for (int i = 0; i <= n; i++) {
        if (i == n || (i > 0 && fabs(X[i * k + 1] - X[(i - 1) * k + 1]) > 0.005)) {
            for (int r = 0; r < k; r++)
                for (int c = 0; c < k; c++)
                    meat[r * k + c] += u[r] * u[c];
            memset(u, 0, sizeof(u));
            g++;
            if (i == n)
                break;
        }
        double e = y[i];
        for (int j = 0; j < k; j++)
            e -= b[j] * X[i * k + j];
        for (int j = 0; j < k; j++)
            u[j] += e * X[i * k + j];
    }
    *runs = g;
    if (g < 3)
        return 0;
    double v = 0;
    for (int r = 0; r < k; r++)
        for (int c = 0; c < k; c++)
            v += inv[k + r] * meat[r * k + c] * inv[c * k + 1];
    return v * g / (g - 1.0);
}

/* Student's t 97.5% point over the normal's for df degrees of freedom (Cornish-Fisher
 * expansion; df below 3 as 3): with G clusters the interval takes t(G - 1)'s point,
 * not 1.96 (Cameron & Miller 2015), here by widening the standard error. */
static double t_over_z(int df)
{
    double z = Z95, nu = MAX(df, 3);
    double t = z + (z * z * z + z) / (4 * nu) +
               (5 * pow(z, 5) + 16 * z * z * z + 3 * z) / (96 * nu * nu) +
               (3 * pow(z, 7) + 19 * pow(z, 5) + 17 * z * z * z - 15 * z) / (384 * nu * nu * nu);
    return t / z;
}

/* The product's own regression; false when it cannot have one. */
static bool own_fit(const struct weekly *w, size_t p, double *X, double *y, struct price_item *it)
{
    int n = 0;
    double lo = INFINITY, hi = -INFINITY;
    for (int k = 0; k < w->weeks; k++) {
        size_t c = p * (size_t)w->weeks + (size_t)k;
        double u = w->units[c], rest = w->shop[k] - u;
        if (u <= 0 || w->paid_units[c] <= 0 || rest <= 0)
            continue;
        double price = w->revenue[c] / w->paid_units[c];
        if (!(price > 0))
            continue;
        lo = MIN(lo, price);
        hi = MAX(hi, price);
        X[n * 3] = 1;
        X[n * 3 + 1] = log(price);
        X[n * 3 + 2] = log(rest);
        y[n] = log(u);
        n++;
    }
    it->n_weeks = n;
    it->moved = n > 0 && hi > lo * (1 + PRICE_MOVED);
    if (n < PRICE_MIN_WEEKS || !it->moved)
        return false;
    double b[3], rss, inv[9];
    int k = 3;
    if (mat_ols(X, y, n, 3, b, &rss, inv)) {
        /* the shop's weeks do not vary apart from this product: price alone */
        for (int i = 0; i < n; i++)
            X[i * 2] = 1, X[i * 2 + 1] = X[i * 3 + 1];
        k = 2;
        if (mat_ols(X, y, n, 2, b, &rss, inv))
            return false;
        b[2] = 0;
    }
    /* A fit without residual says nothing of its uncertainty: counts are never
     * noiseless (a product selling the same units every week, say). */
    if (n - k < 3 || !(rss > 1e-9 * n))
        return false;
    /* never surer than the plain fit says */
    int runs = 0;
    double plain = rss / (n - k) * inv[k + 1], clustered = clustered_var(X, y, n, k, b, inv, &runs);
    double se = clustered > plain ? sqrt(clustered) * t_over_z(runs - 1) : sqrt(plain);
    se = MAX(se, PRICE_MIN_SE);
    if (!isfinite(b[1]) || !(se > 0) || !isfinite(se))
        return false;
    it->own = b[1];
    it->own_se = se;
    it->shop_coef = b[2];
    return true;
}

/* DerSimonian-Laird pooling of the estimates of the products whose cat equals c
 * (c < 0: all). */
/* The product at position i of a group: members[i], or i itself for the whole shop
 * (members NULL). */
static size_t member(const int32_t *members, size_t i)
{
    return members ? (size_t)members[i] : i;
}

/* Pools the own estimates of the n products listed in members (NULL: every product)
 * into g: DerSimonian-Laird's between-product variance and the weighted mean. */
static void pool(const struct model_price *m, const int32_t *members, size_t n,
                 struct price_group *g)
{
    double sw = 0, sw2 = 0, swe = 0;
    int k = 0;
    for (size_t i = 0; i < n; i++) {
        const struct price_item *it = &m->item[member(members, i)];
        if (isnan(it->own))
            continue;
        double w = 1 / (it->own_se * it->own_se);
        sw += w, sw2 += w * w, swe += w * it->own;
        k++;
    }
    memset(g, 0, sizeof(*g));
    g->k = k;
    if (k == 0)
        return;
    double fixed = swe / sw, q = 0;
    for (size_t i = 0; i < n; i++) {
        const struct price_item *it = &m->item[member(members, i)];
        if (isnan(it->own))
            continue;
        double d = it->own - fixed;
        q += d * d / (it->own_se * it->own_se);
    }
    double denom = sw - sw2 / sw;
    g->tau2 = k > 1 && denom > 0 ? MAX(0, (q - (k - 1)) / denom) : 0;
    double sws = 0, swse = 0;
    for (size_t i = 0; i < n; i++) {
        const struct price_item *it = &m->item[member(members, i)];
        if (isnan(it->own))
            continue;
        double w = 1 / (it->own_se * it->own_se + g->tau2);
        sws += w, swse += w * it->own;
    }
    g->mu = swse / sws;
    g->se_mu = sqrt(1 / sws);
}

static void shrink(struct price_item *it, const struct price_group *g, enum price_source src)
{
    if (isnan(it->own)) {
        it->estimate = g->mu;
        it->se = sqrt(g->tau2 + g->se_mu * g->se_mu);
        it->source = src;
        return;
    }
    if (g->k < 2) { /* nothing to pool with */
        it->estimate = it->own;
        it->se = it->own_se;
        it->source = PRICE_SRC_PRODUCT;
        return;
    }
    double own_prec = 1 / (it->own_se * it->own_se);
    if (g->tau2 <= 0) { /* no spread between products detectable: the group's mean */
        it->estimate = g->mu;
        it->se = g->se_mu;
        it->source = src;
        return;
    }
    double prec = own_prec + 1 / g->tau2;
    it->estimate = (it->own * own_prec + g->mu / g->tau2) / prec;
    /* the posterior's variance and the pooled mean's own uncertainty, weighed by how
     * much the estimate leans on it (Morris 1983) */
    double lean = (1 / g->tau2) / prec;
    it->se = sqrt(1 / prec + lean * lean * g->se_mu * g->se_mu);
    it->source = own_prec / prec >= 0.5 ? PRICE_SRC_PRODUCT : src;
}

void model_price_fit(const struct history *h, double as_of, struct arena *a, struct model_price *m,
                     struct figures *fig)
{
    double t0 = mono_seconds();
    memset(m, 0, sizeof(*m));
    m->n = history_nproducts(h);
    m->item = arena_array(a, m->n + 1, sizeof(struct price_item));
    m->ncat = history_categories(h, a, &m->cat);
    m->group = arena_array(a, m->ncat + 1, sizeof(struct price_group));
    struct weekly w;
    weekly_build(h, as_of, &w);
    m->weeks = w.weeks;
    double *X = xmalloc(((size_t)w.weeks + 1) * 3 * sizeof(double));
    double *y = xmalloc(((size_t)w.weeks + 1) * sizeof(double));
    int own = 0;
    for (size_t p = 0; p < m->n; p++) {
        struct price_item *it = &m->item[p];
        it->own = it->own_se = it->estimate = it->se = NAN;
        own += own_fit(&w, p, X, y, it);
    }
    pool(m, NULL, m->n, &m->shop);
    /* each category's products, grouped once (a pass over every product per category
     * grew as products^1.9): product -> its category, transposed */
    int32_t *pfirst = xmalloc((m->n + 1) * sizeof(int32_t)),
            *pcat = xmalloc((m->n + 1) * sizeof(int32_t));
    pfirst[0] = 0;
    for (size_t p = 0; p < m->n; p++) {
        pfirst[p + 1] = pfirst[p];
        if (m->cat[p] >= 0)
            pcat[pfirst[p + 1]++] = m->cat[p];
    }
    int32_t *first, *members;
    csr_transpose(m->n, pfirst, pcat, m->ncat, &first, &members);
    for (size_t c = 0; c < m->ncat; c++)
        pool(m, members + first[c], (size_t)(first[c + 1] - first[c]), &m->group[c]);
    free(pfirst);
    free(pcat);
    free(first);
    free(members);
    int by_source[4] = {0};
    for (size_t p = 0; p < m->n; p++) {
        struct price_item *it = &m->item[p];
        int32_t c = m->cat[p];
        if (c >= 0 && m->group[c].k >= PRICE_MIN_GROUP)
            shrink(it, &m->group[c], PRICE_SRC_CATEGORY);
        else if (m->shop.k > 0)
            shrink(it, &m->shop, PRICE_SRC_SHOP);
        else if (!isnan(it->own))
            shrink(it, &m->shop, PRICE_SRC_PRODUCT);
        by_source[it->source]++;
        /* recent demand, taken to the current price */
        double units = 0, paid = 0, rev = 0;
        int from = MAX(0, w.weeks - PRICE_RECENT_WEEKS), nw = w.weeks - from;
        it->p_min = INFINITY, it->p_max = -INFINITY;
        for (int k = 0; k < w.weeks; k++) {
            size_t cell = p * (size_t)w.weeks + (size_t)k;
            if (w.paid_units[cell] > 0) {
                double price = w.revenue[cell] / w.paid_units[cell];
                it->p_min = MIN(it->p_min, price);
                it->p_max = MAX(it->p_max, price);
            }
            if (k >= from) {
                units += w.units[cell];
                paid += w.paid_units[cell];
                rev += w.revenue[cell];
            }
        }
        if (!(it->p_max >= it->p_min))
            it->p_min = it->p_max = NAN;
        it->q0 = nw > 0 ? MAX(0, units / nw) : 0;
        if (paid > 0 && rev > 0 && isfinite(it->estimate) && h->price[p] > 0)
            it->q0 *= pow(h->price[p] / (rev / paid), it->estimate);
    }
    weekly_release(&w);
    free(X);
    free(y);
    figures_add(fig, "weeks", w.weeks);
    figures_add(fig, "own_estimates", own);
    figures_add(fig, "source_product", by_source[PRICE_SRC_PRODUCT]);
    figures_add(fig, "source_category", by_source[PRICE_SRC_CATEGORY]);
    figures_add(fig, "source_shop", by_source[PRICE_SRC_SHOP]);
    figures_add(fig, "shop_mean_elasticity", m->shop.k ? m->shop.mu : NAN);
    figures_add(fig, "shop_tau", sqrt(m->shop.tau2));
    figures_add(fig, "fit_seconds", mono_seconds() - t0);
}

double price_optimum(double e, double cost, double p0, double lo, double hi,
                     enum price_bound lo_bound, enum price_bound hi_bound, enum price_bound *bound)
{
    double best;
    if (isnan(e))
        best = p0;
    else if (isnan(cost)) /* revenue, p^(1+e): monotone */
        best = e < -1 ? -INFINITY : e > -1 ? INFINITY : p0;
    else
        best = e < -1 ? cost * e / (1 + e) : INFINITY;
    *bound = BOUND_NONE;
    if (best < lo) {
        *bound = lo_bound;
        return lo;
    }
    if (best > hi) {
        *bound = hi_bound;
        return hi;
    }
    return best;
}

static void tighten(double v, enum price_bound b, bool lower, double *at, enum price_bound *which)
{
    if (isnan(v))
        return;
    if (lower ? v > *at : v < *at) {
        *at = v;
        *which = b;
    }
}

/* The weekly units and the profits (revenue without a cost) at the current and the
 * recommended price. */
static void set_outcome(struct price_answer *a, double q0)
{
    double es = isfinite(a->elasticity) ? a->elasticity : 0, p0 = a->current;
    a->units_now = q0;
    a->units_rec = p0 > 0 ? q0 * pow(a->recommended / p0, es) : q0;
    double c = a->profit ? a->cost : 0;
    a->profit_now = (p0 - c) * a->units_now;
    a->profit_rec = (a->recommended - c) * a->units_rec;
}

void model_price_query(const struct model_price *m, const struct history *h, int32_t p,
                       const struct price_guard *g, struct rng *rng, struct price_answer *out)
{
    const struct price_item *it = &m->item[p];
    memset(out, 0, sizeof(*out));
    double p0 = h->price[p], cost = h->cost[p];
    out->current = p0;
    out->cost = cost;
    out->profit = !isnan(cost);
    out->elasticity = it->estimate;
    out->se = it->se;
    out->ci_low = it->estimate - Z95 * it->se;
    out->ci_high = it->estimate + Z95 * it->se;
    out->draw = NAN;
    /* the guardrails: the tightest lower and upper bound, and which it is */
    double lo = 0, hi = INFINITY;
    enum price_bound lob = BOUND_NONE, hib = BOUND_NONE;
    if (!isnan(g->max_change)) {
        tighten(p0 * (1 - g->max_change), BOUND_MAX_CHANGE, true, &lo, &lob);
        tighten(p0 * (1 + g->max_change), BOUND_MAX_CHANGE, false, &hi, &hib);
    }
    if (!isnan(it->p_min)) {
        tighten(it->p_min * (1 - PRICE_OBSERVED_PAD), BOUND_OBSERVED, true, &lo, &lob);
        tighten(it->p_max * (1 + PRICE_OBSERVED_PAD), BOUND_OBSERVED, false, &hi, &hib);
    }
    if (!isnan(cost) && !isnan(g->min_margin) && g->min_margin < 1)
        tighten(cost / (1 - g->min_margin), BOUND_MIN_MARGIN, true, &lo, &lob);
    tighten(g->floor, BOUND_FLOOR, true, &lo, &lob);
    tighten(g->ceiling, BOUND_CEILING, false, &hi, &hib);
    /* whole cents inside the bounds (a bound that is a whole cent, up to the float's
     * error, is itself allowed) */
    lo = ceil(lo * 100 - 1e-6) / 100;
    if (isfinite(hi))
        hi = floor(hi * 100 + 1e-6) / 100;
    out->lo = lo;
    out->hi = hi;
    double e = it->estimate;
    if (rng && isfinite(e)) {
        out->draw = e + it->se * rng_normal(rng);
        e = out->draw;
    }
    if (lo > hi) {
        out->bound = BOUND_CONFLICT;
        out->recommended = p0;
    } else {
        out->recommended = price_optimum(e, cost, p0, lo, hi, lob, hib, &out->bound);
        if (!isfinite(out->recommended)) /* no upper guardrail at all: no move */
            out->recommended = p0, out->bound = BOUND_NONE;
        /* to the cent, and never past a bound: lo and hi are whole cents */
        out->recommended = MIN(hi, MAX(lo, round(out->recommended * 100) / 100));
        out->inelastic = isfinite(e) && e >= -1;
    }
    out->stock = -1;
    out->demand_now = out->demand_rec = out->before_stock = NAN;
    set_outcome(out, it->q0);
}

const char *price_stock_name(enum price_stock c)
{
    static const char *const names[] = {"unknown", "balanced", "scarce", "overstock"};
    return (unsigned)c < ARRAY_SIZE(names) ? names[c] : "unknown";
}

void price_apply_stock(struct price_answer *a, double q0, double demand_now, int32_t stock)
{
    a->stock = stock;
    a->demand_now = demand_now;
    a->before_stock = a->recommended;
    a->stock_case = STOCK_UNKNOWN;
    a->demand_rec = NAN;
    if (stock < 0 || !isfinite(demand_now))
        return;
    double e = a->elasticity, p0 = a->current;
    bool steer = isfinite(e) && e < 0 && p0 > 0 && demand_now > 0 && a->bound != BOUND_CONFLICT;
    double d = steer ? demand_now * pow(a->recommended / p0, e) : demand_now;
    double want = NAN; /* the demand to price for */
    if (d > stock) {
        a->stock_case = STOCK_SCARCE;
        want = stock;
    } else if (d * PRICE_OVERSTOCK < stock) {
        a->stock_case = STOCK_OVERSTOCK;
        want = stock / PRICE_OVERSTOCK;
    } else {
        a->stock_case = STOCK_BALANCED;
    }
    if (steer && !isnan(want)) {
        /* demand_now (p / p0)^e = want; no stock at all: as high as allowed */
        double target = want > 0 ? p0 * pow(want / demand_now, 1 / e) : INFINITY;
        double p = a->stock_case == STOCK_SCARCE ? MAX(a->recommended, ceil(target * 100) / 100)
                                                 : MIN(a->recommended, floor(target * 100) / 100);
        double clipped = MIN(a->hi, MAX(a->lo, p));
        a->stock_stopped = clipped != p || !isfinite(p);
        a->recommended = isfinite(clipped) ? clipped : a->recommended;
        d = demand_now * pow(a->recommended / p0, e);
    }
    a->demand_rec = d;
    set_outcome(a, q0);
}

int model_price_train(struct snapshot *s, struct arena *a, const struct model_params *p,
                      struct figures *fig, char *err, size_t errlen)
{
    UNUSED(err);
    UNUSED(errlen);
    model_price_fit(&s->hist, p->as_of, a, &s->price, fig);
    return 0;
}

void model_price_save(const struct snapshot *s, struct snapw *w)
{
    const struct model_price *m = &s->price;
    struct model_price head = *m;
    head.item = NULL;
    head.cat = NULL;
    head.group = NULL;
    snapw_put(w, "price", &head, sizeof(head), 1);
    snapw_put(w, "price.item", m->item, sizeof(*m->item), m->n);
    snapw_put(w, "price.cat", m->cat, sizeof(*m->cat), m->n);
    snapw_put(w, "price.group", m->group, sizeof(*m->group), m->ncat);
}

void model_price_load(struct snapshot *s, struct snapr *r)
{
    struct model_price *m = &s->price;
    if (!snapr_copy(r, "price", m, sizeof(*m)))
        return;
    m->item = snapr_get(r, "price.item", sizeof(*m->item), m->n);
    m->cat = snapr_get(r, "price.cat", sizeof(*m->cat), m->n);
    m->group = snapr_get(r, "price.group", sizeof(*m->group), m->ncat);
}
