#include "xsell/gen.h"

#include <errno.h>
#include <math.h>
#include <sys/stat.h>
#include <time.h>

#include "xsell/rng.h"
#include "xsell/xalloc.h"

#define NCAT            8
#define NLINE           4
#define NTIER           3
#define NPROD           (NCAT * NLINE * NTIER)
#define NPRICE_STEPS    8          /* price periods per product */
#define GEN_START       1693526400 /* 2023-09-01T00:00:00Z */
#define DAY             86400.0
#define YEARLY_PEAK_DOY 340 /* early December */

static const char *const cat_names[NCAT] = {"coffee", "tea",  "kitchen",    "bakery",
                                            "garden", "pets", "stationery", "outdoor"};
static const char *const line_names[NCAT][NLINE] = {
    {"Espresso Beans", "Paper Filters", "Coffee Grinder", "Milk Frother"},
    {"Loose Leaf Tea", "Tea Strainer", "Teapot", "Honey Jar"},
    {"Chef Knife", "Cutting Board", "Frying Pan", "Spatula Set"},
    {"Bread Flour", "Dry Yeast", "Baking Tray", "Proofing Basket"},
    {"Garden Hose", "Hose Nozzle", "Pruning Shears", "Garden Gloves"},
    {"Dog Food", "Food Bowl", "Dog Leash", "Chew Toy"},
    {"Notebook", "Fountain Pen", "Ink Cartridges", "Desk Organizer"},
    {"Tent", "Tent Pegs", "Sleeping Bag", "Camping Lantern"}};
static const double line_price[NLINE] = {14.0, 6.0, 45.0, 19.0};
static const char *const tier_names[NTIER] = {"Basic", "Plus", "Premium"};
static const double tier_mult[NTIER] = {1.0, 1.7, 2.8};
/* Monday..Sunday demand multipliers (mean 1). */
static const double weekly[7] = {0.92, 0.95, 0.98, 1.0, 1.08, 1.3, 0.77};
/* Cross-category complements: (category, line) pairs bought together. */
static const int cross_pairs[][4] = {{0, 2, 2, 3}, {1, 3, 3, 0}, {5, 0, 4, 3}, {6, 0, 7, 3}};

struct product {
    char id[16];
    int cat, line, tier;
    double base, cost, elasticity;
    double price_at[NPRICE_STEPS]; /* price in each period */
    int complement;                /* product index or -1 */
    int cross;                     /* cross-category complement or -1 */
    bool in_stock;
};

struct shop {
    struct product p[NPROD];
    double period_len;
    struct rng r;
    const struct gen_params *gp;
    FILE *orders;
    long norders, nlines;
    long next_order;
    /* the experiment after the history (gen_params.exp), NULL when none */
    const struct gen_experiment *x;
    struct experiment def;
    struct rng xr;          /* its own stream: the history is the same with or without */
    double x_start, x_end;  /* it runs from the history's end */
    double pre_from;        /* its pre-period's start */
    double pre_spend;       /* the customer's spend in the pre-period */
    double order_revenue;   /* the lines written since it was zeroed */
    FILE *events, *answers; /* NULL: none written */
    long nevents, nanswers, units;
    const char *line_session, *line_rec; /* the visit's, for its order's lines */
    const struct product *line_rec_product;
    int basket_items[16], nbasket; /* the last basket's products */
    long next_x_order;
    /* channels: a stream seeded per customer, so that the rest is the same */
    struct rng cr;
    const char *line_channel; /* the order's, for its lines */
    long channel_customers[GEN_CHANNELS];
    double channel_dropout[GEN_CHANNELS];
    double recent_units[NPROD]; /* sold in the history's last GEN_STOCK_DAYS days */
};

/* Where customers come from, planted (gen.h): the more loyal a customer (the lower
 * their chance to drop out after a purchase), the likelier they came by email, the
 * less loyal by social. */
static const char *const channel_names[GEN_CHANNELS] = {"email", "search", "direct", "social"};

static int pidx(int c, int l, int t)
{
    return (c * NLINE + l) * NTIER + t;
}

static double season(double t)
{
    time_t secs = (time_t)t;
    struct tm tm;
    gmtime_r(&secs, &tm);
    int dow = (tm.tm_wday + 6) % 7; /* Monday = 0 */
    double d = tm.tm_yday - YEARLY_PEAK_DOY;
    double yearly = 1.0 + 0.6 * exp(-(d * d) / (2 * 18.0 * 18.0)) +
                    0.15 * cos(2 * M_PI * (tm.tm_yday - 172) / 365.0);
    return weekly[dow] * yearly;
}

static const double season_max = 1.3 * 1.75;

static double price_now(const struct shop *s, const struct product *p, double t)
{
    int k = (int)((t - GEN_START) / s->period_len);
    if (k < 0)
        k = 0;
    if (k >= NPRICE_STEPS)
        k = NPRICE_STEPS - 1;
    return p->price_at[k];
}

static void build_catalog(struct shop *s)
{
    struct rng *r = &s->r;
    for (int c = 0; c < NCAT; c++)
        for (int l = 0; l < NLINE; l++)
            for (int t = 0; t < NTIER; t++) {
                struct product *p = &s->p[pidx(c, l, t)];
                snprintf(p->id, sizeof(p->id), "P%03d", pidx(c, l, t) + 1);
                p->cat = c, p->line = l, p->tier = t;
                p->base =
                    round(line_price[l] * tier_mult[t] * rng_range(r, 0.85, 1.15) * 100) / 100;
                p->cost = round(p->base * rng_range(r, 0.4, 0.65) * 100) / 100;
                p->elasticity = round(rng_range(r, -3.0, -1.2) * 100) / 100;
                p->in_stock = rng_uniform(r) < 0.95;
                p->complement = -1;
                p->cross = -1;
                /* Prices move in steps; about half the periods change the price. */
                double cur = p->base;
                for (int k = 0; k < NPRICE_STEPS; k++) {
                    if (k > 0 && rng_uniform(r) < 0.6)
                        cur = round(p->base * rng_range(r, 0.8, 1.2) * 100) / 100;
                    p->price_at[k] = cur;
                }
            }
    for (int c = 0; c < NCAT; c++)
        for (int t = 0; t < NTIER; t++) {
            s->p[pidx(c, 0, t)].complement = pidx(c, 1, t);
            s->p[pidx(c, 1, t)].complement = pidx(c, 0, t);
        }
    for (size_t i = 0; i < ARRAY_SIZE(cross_pairs); i++)
        for (int t = 0; t < NTIER; t++) {
            int a = pidx(cross_pairs[i][0], cross_pairs[i][1], t);
            int b = pidx(cross_pairs[i][2], cross_pairs[i][3], t);
            s->p[a].cross = b;
            s->p[b].cross = a;
        }
}

/* Demand response to price by thinning: keep with (price/base)^e over its maximum. */
static bool price_accepts(struct shop *s, struct rng *r, const struct product *p, double t)
{
    double m = pow(price_now(s, p, t) / p->base, p->elasticity);
    double cap = pow(0.8, p->elasticity);
    return rng_uniform(r) < m / cap;
}

static int quantity(struct rng *r)
{
    double u = rng_uniform(r);
    return u < 0.8 ? 1 : u < 0.95 ? 2 : 3;
}

/* t as ISO-8601 UTC. */
static void fmt_time(double t, char out[24])
{
    time_t secs = (time_t)t;
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(out, 24, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void write_line(struct shop *s, const char *order, const char *customer, double t,
                       const struct product *p, int qty)
{
    char at[24];
    double price = price_now(s, p, t);
    s->nlines++;
    if (customer[0] && qty > 0 && t >= s->pre_from && t < s->x_start)
        s->pre_spend += qty * price;
    s->order_revenue += qty * price;
    double end = GEN_START + s->gp->days * DAY;
    if (qty > 0 && t < end && t >= end - GEN_STOCK_DAYS * DAY)
        s->recent_units[p - s->p] += qty;
    if (!s->orders)
        return;
    fmt_time(t, at);
    fprintf(s->orders, "%s,%s,%s,%s,%d,%.2f", order, customer, at, p->id, qty, price);
    if (s->x) /* the experiment's columns: its visit, the answer a line came from */
        fprintf(s->orders, ",%s,%s", s->line_session ? s->line_session : "",
                s->line_rec && p == s->line_rec_product ? s->line_rec : "");
    fprintf(s->orders, ",%s\n", s->line_channel ? s->line_channel : "");
}

struct customer {
    char id[16];
    double cat_weight[NCAT];
    int tier[NCAT];
    double rate, dropout, dead_at;
    int channel; /* acquisition (channel_names) */
};

/* One of the customer's categories, by their weights. */
static int draw_category(struct rng *r, const struct customer *cu)
{
    double u = rng_uniform(r), acc = 0;
    int c = 0;
    for (c = 0; c < NCAT - 1; c++) {
        acc += cu->cat_weight[c];
        if (u < acc)
            break;
    }
    return c;
}

/* One basket at time t (with product `with` first unless -1), random draws from r;
 * returns lines written (0: nothing the customer would pay). */
static int basket(struct shop *s, struct rng *r, struct customer *cu, const char *cid, double t,
                  int with)
{
    int chosen[16], n = 0;
    if (with >= 0)
        chosen[n++] = with;
    int primaries = 1 + rng_poisson(r, 0.7);
    for (int k = 0; k < primaries && n < 12; k++) {
        int c = draw_category(r, cu);
        int line = rng_int(r, NLINE);
        int tier = cu->tier[c];
        if (rng_uniform(r) < 0.15)
            tier = rng_int(r, NTIER);
        int pi = pidx(c, line, tier);
        if (!price_accepts(s, r, &s->p[pi], t))
            continue;
        chosen[n++] = pi;
        const struct product *p = &s->p[pi];
        /* Companions answer to their own price too: every unit of a product then
         * follows its planted elasticity. */
        if (p->complement >= 0 && rng_uniform(r) < s->gp->complement_p &&
            price_accepts(s, r, &s->p[p->complement], t))
            chosen[n++] = p->complement;
        if (p->cross >= 0 && rng_uniform(r) < s->gp->complement_p * 0.6 &&
            price_accepts(s, r, &s->p[p->cross], t))
            chosen[n++] = p->cross;
        /* Having bought in this category, the customer may move up a tier next time. */
        if (cu->tier[c] < NTIER - 1 && rng_uniform(r) < s->gp->upgrade_p)
            cu->tier[c]++;
    }
    memcpy(s->basket_items, chosen, (size_t)n * sizeof(int));
    s->nbasket = n;
    if (n == 0)
        return 0;
    char oid[24];
    if (s->line_session) /* an experiment's visit: ids of their own, the history's unchanged */
        snprintf(oid, sizeof(oid), "X%07ld", ++s->next_x_order);
    else
        snprintf(oid, sizeof(oid), "O%07ld", ++s->next_order);
    for (int i = 0; i < n; i++) {
        bool dup = false;
        for (int j = 0; j < i; j++)
            dup |= chosen[j] == chosen[i];
        if (!dup)
            write_line(s, oid, cid, t, &s->p[chosen[i]], quantity(r));
    }
    s->norders++;
    /* A few baskets send one line back a week or two later. */
    if (cid[0] && rng_uniform(r) < 0.03) {
        char rid[24];
        snprintf(rid, sizeof(rid), "R%07ld", s->next_order);
        double tr = t + rng_range(r, 3, 15) * DAY;
        if (tr < GEN_START + s->gp->days * DAY) {
            write_line(s, rid, cid, tr, &s->p[chosen[0]], -1);
            s->norders++;
        }
    }
    return n;
}

/* --- the experiment after the history (gen.h) -------------------------------------- */

#define EXP_SHOWN      4    /* products an answer shows */
#define EXP_FROM_REC_P 0.4  /* an order taking a product of the answer, clicked and carted */
#define EXP_CLICK_P    0.15 /* a visit without an order clicking one */

/* A product of the customer's categories (by their weights) at their tier. */
static int product_for(struct rng *r, const struct customer *cu)
{
    int c = draw_category(r, cu);
    return pidx(c, rng_int(r, NLINE), cu->tier[c]);
}

static void write_event(struct shop *s, const char *type, double t, const char *session,
                        const char *customer, const char *rec, int product, const int *items,
                        int nitems)
{
    char at[24];
    s->nevents++;
    if (!s->events)
        return;
    fmt_time(t, at);
    fprintf(s->events, "E%08ld,%s,%s,%s,%s,%s,%s,", s->nevents, type, at, session, customer,
            rec ? rec : "", product >= 0 ? s->p[product].id : "");
    for (int i = 0; i < nitems; i++)
        fprintf(s->events, "%s%s%s", i ? "," : "\"{", s->p[items[i]].id,
                i == nitems - 1 ? "}\"" : "");
    fputc('\n', s->events);
}

static void write_answer(struct shop *s, const char *rid, double t, const char *session,
                         const struct customer *cu, int variant, const int *shown)
{
    char at[24];
    s->nanswers++;
    if (!s->answers)
        return;
    fmt_time(t, at);
    fprintf(s->answers, "%s,recommend,%s,,%s,%s,%s,%s,%s,\"{", rid, at,
            variant == 0 ? "popular" : "auto", cu->id, session, s->def.id,
            s->def.variant[variant].name);
    for (int i = 0; i < EXP_SHOWN; i++)
        fprintf(s->answers, "%s%s", i ? "," : "", s->p[shown[i]].id);
    fprintf(s->answers, "}\"\n");
}

/* The variant the customer is served: as assigned, or by the broken split's coin. */
static int served_variant(struct shop *s, const struct customer *cu)
{
    const struct gen_experiment *x = s->x;
    if (x->served_split <= 0)
        return experiment_assign(&s->def, cu->id);
    if (rng_uniform(&s->xr) < x->served_split || x->nvariants < 2)
        return 0;
    return 1 + rng_int(&s->xr, x->nvariants - 1);
}

/* The visit that led to a history order at t (in the GEN_BROWSE_DAYS before the
 * experiment): views of the customer's categories, a click on one, the basket's
 * products put in the cart. */
static void browse(struct shop *s, const struct customer *cu, double t, int k)
{
    struct rng *r = &s->xr;
    char sid[32];
    snprintf(sid, sizeof(sid), "B%s-%d", cu->id, k);
    int views = 1 + rng_int(r, 3), clicked = -1;
    for (int v = 0; v < views; v++) {
        int p = product_for(r, cu);
        write_event(s, "view", t - 900 + 20 * v, sid, cu->id, NULL, p, NULL, 0);
        clicked = v == 0 || rng_uniform(r) < 0.5 ? p : clicked;
    }
    write_event(s, "click", t - 700, sid, cu->id, NULL, clicked, NULL, 0);
    for (int i = 0; i < s->nbasket; i++)
        write_event(s, "add_to_cart", t - 600 + 10 * i, sid, cu->id, NULL, s->basket_items[i], NULL,
                    0);
}

/* One visit k of customer i at t. */
static void exp_visit(struct shop *s, struct customer *cu, int i, int variant, double t, int k)
{
    struct rng *r = &s->xr;
    const struct gen_sink *sink = s->gp->sink;
    char sid[32], rid[32];
    int shown[EXP_SHOWN];
    snprintf(sid, sizeof(sid), "S%s-%d", cu->id, k);
    snprintf(rid, sizeof(rid), "sim-%08ld", s->nanswers + 1);
    for (int n = 0; n < EXP_SHOWN; n++) {
        bool again = true;
        for (int tries = 0; again && tries < 20; tries++) {
            shown[n] = product_for(r, cu);
            again = false;
            for (int m = 0; m < n; m++)
                again |= shown[m] == shown[n];
        }
    }
    write_answer(s, rid, t, sid, cu, variant, shown);
    write_event(s, "impression", t + 1, sid, cu->id, rid, -1, shown, EXP_SHOWN);
    int views = 1 + rng_int(r, 3);
    for (int v = 0; v < views; v++)
        write_event(s, "view", t + 20 * (v + 1), sid, cu->id, NULL, product_for(r, cu), NULL, 0);
    double when = t + 20 * (views + 2);
    if (rng_uniform(r) < GEN_EXP_BUY_P * (1 + s->x->lift[variant])) {
        int with = -1;
        if (rng_uniform(r) < EXP_FROM_REC_P) {
            with = shown[rng_int(r, EXP_SHOWN)];
            write_event(s, "click", when, sid, cu->id, rid, with, NULL, 0);
            write_event(s, "add_to_cart", when + 30, sid, cu->id, rid, with, NULL, 0);
        }
        s->line_session = sid;
        s->line_rec = rid;
        s->line_rec_product = with >= 0 ? &s->p[with] : NULL;
        s->order_revenue = 0;
        if (basket(s, r, cu, cu->id, when + 300, with) > 0 && sink && sink->ordered)
            sink->ordered(sink->ctx, i, (when + 300 - s->x_start) / DAY, s->order_revenue);
        s->line_session = s->line_rec = NULL;
        s->line_rec_product = NULL;
    } else if (rng_uniform(r) < EXP_CLICK_P) {
        write_event(s, "click", when, sid, cu->id, rid, shown[rng_int(r, EXP_SHOWN)], NULL, 0);
    }
}

/* The experiment's visits of a customer still active at the history's end. */
static void exp_customer(struct shop *s, struct customer *cu, int i)
{
    const struct gen_sink *sink = s->gp->sink;
    int variant = served_variant(s, cu), k = 0;
    double rate = GEN_EXP_VISITS * cu->rate; /* visits a day */
    for (double t = s->x_start + rng_exponential(&s->xr, rate) * DAY; t < s->x_end;
         t += rng_exponential(&s->xr, rate) * DAY) {
        if (k == 0) {
            s->units++;
            if (sink && sink->exposed)
                sink->exposed(sink->ctx, i, variant, (t - s->x_start) / DAY, s->pre_spend);
        }
        exp_visit(s, cu, i, variant, t, k++);
    }
}

/* The definition of experiment "sim" (gen.h), its variants named control, then
 * treatment (or treatment_1.. when more). */
static void exp_define(struct shop *s)
{
    const struct gen_experiment *x = s->x;
    struct experiment *e = &s->def;
    memset(e, 0, sizeof(*e));
    snprintf(e->id, sizeof(e->id), "sim");
    e->unit = EXP_UNIT_CUSTOMER;
    e->surfaces = EXP_RECOMMEND;
    e->start = s->x_start;
    e->end = s->x_end;
    e->nvariants = x->nvariants;
    for (int v = 0; v < x->nvariants; v++) {
        struct exp_variant *ev = &e->variant[v];
        if (v == 0)
            snprintf(ev->name, sizeof(ev->name), "control");
        else if (x->nvariants == 2)
            snprintf(ev->name, sizeof(ev->name), "treatment");
        else
            snprintf(ev->name, sizeof(ev->name), "treatment_%d", v);
        ev->weight = 1;
    }
}

static void exp_write_definition(struct shop *s, FILE *f, FILE *truth)
{
    char start[24], end[24];
    fmt_time(s->x_start, start);
    fmt_time(s->x_end, end);
    fprintf(f,
            "{\"unit\": \"customer\", \"surfaces\": [\"recommend\"], \"start\": \"%s\", "
            "\"end\": \"%s\", \"planned_units\": %ld, \"variants\": [",
            start, end, s->units);
    fprintf(truth,
            ",\n  \"experiment\": {\"id\": \"sim\", \"start\": \"%s\", \"end\": \"%s\", "
            "\"units\": %ld, \"served_split\": %g, \"lift\": {",
            start, end, s->units, s->x->served_split);
    for (int v = 0; v < s->def.nvariants; v++) {
        fprintf(f, "%s{\"name\": \"%s\", \"weight\": 1%s}", v ? ", " : "", s->def.variant[v].name,
                v == 0 ? ", \"settings\": {\"strategy\": \"popular\"}" : "");
        fprintf(truth, "%s\"%s\": %g", v ? ", " : "", s->def.variant[v].name, s->x->lift[v]);
    }
    fprintf(f, "]}\n");
    fprintf(truth, "}}");
}

static void simulate_customer(struct shop *s, struct customer *cu, int i, FILE *truth, bool *first)
{
    struct rng *r = &s->r;
    double end = GEN_START + s->gp->days * DAY;
    snprintf(cu->id, sizeof(cu->id), "C%05d", i + 1);
    double total = 0;
    int favourites = 1 + rng_int(r, 3);
    memset(cu->cat_weight, 0, sizeof(cu->cat_weight));
    for (int k = 0; k < favourites; k++) {
        double w = rng_range(r, 0.5, 1.5);
        cu->cat_weight[rng_int(r, NCAT)] += w;
        total += w;
    }
    for (int c = 0; c < NCAT; c++) {
        cu->cat_weight[c] = (cu->cat_weight[c] + 0.03) / (total + 0.03 * NCAT);
        double u = rng_uniform(r);
        cu->tier[c] = u < 0.55 ? 0 : u < 0.85 ? 1 : 2;
    }
    /* BG/NBD-style: a Poisson purchase rate while alive, a chance to drop out after
     * each purchase. */
    cu->rate = rng_gamma(r, 1.8, 1.0 / 1.8 / 26.0); /* mean one order per 26 days */
    cu->dropout = rng_beta(r, 1.0, 9.0);
    cu->dead_at = 0;
    /* the channel by the dropout's quantile (Beta(1, 9)'s CDF), blurred; the first
     * order comes by it, a later one by it half the time, else by any */
    rng_seed(&s->cr, s->gp->seed * 1000003u + (uint64_t)i + 1);
    double q = 1 - pow(1 - cu->dropout, 9) + rng_range(&s->cr, -0.3, 0.3);
    cu->channel = (int)MIN(MAX(floor(q * GEN_CHANNELS), 0), GEN_CHANNELS - 1);
    s->pre_spend = 0;
    double t = GEN_START + rng_uniform(r) * 0.85 * s->gp->days * DAY;
    bool first_order = true;
    int visits = 0;
    while (t < end) {
        if (first_order || rng_uniform(r) < season(t) / season_max) {
            s->line_channel = channel_names[first_order || rng_uniform(&s->cr) < 0.5
                                                ? cu->channel
                                                : rng_int(&s->cr, GEN_CHANNELS)];
            if (basket(s, r, cu, cu->id, t, -1) > 0) {
                first_order = false;
                if (s->x && t >= s->x_start - GEN_BROWSE_DAYS * DAY)
                    browse(s, cu, t, visits++);
                if (rng_uniform(r) < cu->dropout) {
                    cu->dead_at = t;
                    break;
                }
            }
        }
        t += rng_exponential(r, cu->rate * season_max) * DAY;
    }
    if (cu->dead_at > 0 && truth) {
        fprintf(truth, "%s\"%s\"", *first ? "" : ",", cu->id);
        *first = false;
    }
    if (!first_order) { /* a customer who bought */
        s->channel_customers[cu->channel]++;
        s->channel_dropout[cu->channel] += cu->dropout;
    }
    s->line_channel = channel_names[cu->channel];
    if (s->x && cu->dead_at == 0)
        exp_customer(s, cu, i);
}

/* The stock planted for product i (gen.h): 1 scarce, 2 overstocked, 0 neither. */
static int planted_stock(const struct shop *s, int i)
{
    if (!s->p[i].in_stock || s->recent_units[i] < 20)
        return 0;
    return i % 12 == 8 ? 1 : i % 12 == 11 ? 2 : 0;
}

/* products.csv, after the history: each product's stock against its recent sales. */
static void write_products(const struct shop *s, FILE *products)
{
    fprintf(products, "product_id,name,category,price,cost,in_stock,stock\n");
    for (int i = 0; i < NPROD; i++) {
        const struct product *p = &s->p[i];
        double d = s->recent_units[i]; /* units in the last GEN_STOCK_DAYS days */
        int kind = planted_stock(s, i);
        long stock = kind == 1   ? (long)floor(0.2 * d)
                     : kind == 2 ? (long)ceil(12 * d) + 20
                                 : (long)ceil(1.5 * d) + 10;
        fprintf(products, "%s,%s %s,%s,%.2f,%.2f,%s,%ld\n", p->id, tier_names[p->tier],
                line_names[p->cat][p->line], cat_names[p->cat], p->price_at[NPRICE_STEPS - 1],
                p->cost, p->in_stock ? "true" : "false", stock);
    }
}

static void write_truth_stock(const struct shop *s, FILE *truth)
{
    fprintf(truth, ",\n  \"stock\": {\"days\": %d", GEN_STOCK_DAYS);
    for (int kind = 1; kind <= 2; kind++) {
        fprintf(truth, ", \"%s\": [", kind == 1 ? "scarce" : "overstock");
        bool first = true;
        for (int i = 0; i < NPROD; i++)
            if (planted_stock(s, i) == kind) {
                fprintf(truth, "%s\"%s\"", first ? "" : ", ", s->p[i].id);
                first = false;
            }
        fprintf(truth, "]");
    }
    fprintf(truth, "}");
}

static void simulate_guests(struct shop *s)
{
    double end = GEN_START + s->gp->days * DAY;
    struct customer guest = {0};
    for (int c = 0; c < NCAT; c++) {
        guest.cat_weight[c] = 1.0 / NCAT;
        guest.tier[c] = 0;
    }
    double rate = s->gp->customers / 500.0; /* guest baskets per day */
    rng_seed(&s->cr, s->gp->seed ^ 0x6E57C4A11E15ull);
    for (double t = GEN_START; t < end; t += rng_exponential(&s->r, rate * season_max) * DAY)
        if (rng_uniform(&s->r) < season(t) / season_max) {
            s->line_channel = channel_names[rng_int(&s->cr, GEN_CHANNELS)];
            basket(s, &s->r, &guest, "", t, -1);
        }
}

static void write_truth_catalog(struct shop *s, FILE *truth)
{
    fprintf(truth, "  \"products\": {");
    for (int i = 0; i < NPROD; i++) {
        const struct product *p = &s->p[i];
        fprintf(truth,
                "%s\n    \"%s\": {\"category\": \"%s\", \"line\": %d, \"tier\": %d, "
                "\"base_price\": %.2f, \"cost\": %.2f, \"elasticity\": %.2f, \"prices\": [",
                i ? "," : "", p->id, cat_names[p->cat], p->line, p->tier, p->base, p->cost,
                p->elasticity);
        for (int k = 0; k < NPRICE_STEPS; k++)
            fprintf(truth, "%s%.2f", k ? ", " : "", p->price_at[k]);
        fprintf(truth, "]}");
    }
    fprintf(truth, "\n  },\n  \"complements\": [");
    bool first = true;
    for (int i = 0; i < NPROD; i++) {
        const struct product *p = &s->p[i];
        if (p->complement > i || p->cross > i) {
            int other = p->complement > i ? p->complement : p->cross;
            fprintf(truth, "%s[\"%s\", \"%s\"]", first ? "" : ", ", p->id, s->p[other].id);
            first = false;
            if (p->complement > i && p->cross > i)
                fprintf(truth, ", [\"%s\", \"%s\"]", p->id, s->p[p->cross].id);
        }
    }
    fprintf(truth, "],\n  \"upgrades\": [");
    first = true;
    for (int i = 0; i < NPROD; i++) {
        const struct product *p = &s->p[i];
        if (p->tier < NTIER - 1) {
            fprintf(truth, "%s{\"from\": \"%s\", \"to\": \"%s\"}", first ? "" : ", ", p->id,
                    s->p[i + 1].id);
            first = false;
        }
    }
    fprintf(truth, "],\n  \"seasonality\": {\"weekly_mon_to_sun\": [");
    for (int d = 0; d < 7; d++)
        fprintf(truth, "%s%.2f", d ? ", " : "", weekly[d]);
    fprintf(truth, "], \"yearly_peak_day_of_year\": %d},\n", YEARLY_PEAK_DOY);
}

static FILE *open_in(const char *dir, const char *name, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
    return f;
}

void gen_defaults(struct gen_params *p)
{
    memset(p, 0, sizeof(*p)); /* no experiment, no sink */
    p->seed = 42;
    p->customers = 6000;
    p->days = 790;
    p->complement_p = 0.55;
    p->upgrade_p = 0.12;
}

/* Opens DIR/NAME for writing, or NULL (err) when it cannot. */
static FILE *open_out(const char *dir, const char *name, bool *failed, char *err, size_t errlen)
{
    FILE *f = *failed ? NULL : open_in(dir, name, err, errlen);
    *failed |= !f;
    return f;
}

/* Closes f; false (err naming it) when its writes failed. */
static bool close_out(FILE *f, const char *name, bool ok, char *err, size_t errlen)
{
    if (f && fclose(f) && ok) {
        snprintf(err, errlen, "cannot write %s", name);
        return false;
    }
    return ok;
}

int gen_write(const char *dir, const struct gen_params *gp, struct gen_stats *st, char *err,
              size_t errlen)
{
    struct shop *s = xcalloc(1, sizeof(*s));
    FILE *products = NULL, *truth = NULL, *definition = NULL;
    bool failed = false;
    if (dir && mkdir(dir, 0755) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
        free(s);
        return -1;
    }
    s->gp = gp;
    s->period_len = gp->days * DAY / NPRICE_STEPS;
    rng_seed(&s->r, gp->seed);
    build_catalog(s);
    if (gp->exp) {
        s->x = gp->exp;
        rng_seed(&s->xr, gp->seed ^ 0x5EED0F5E55104ull);
        s->x_start = GEN_START + gp->days * DAY;
        s->x_end = s->x_start + gp->exp->days * DAY;
        s->pre_from = s->x_start - EXP_PRE_DAYS * DAY;
        exp_define(s);
    }
    if (dir) {
        products = open_out(dir, "products.csv", &failed, err, errlen);
        s->orders = open_out(dir, "orders.csv", &failed, err, errlen);
        truth = open_out(dir, "truth.json", &failed, err, errlen);
        if (s->x) {
            s->events = open_out(dir, "events.csv", &failed, err, errlen);
            s->answers = open_out(dir, "answers.csv", &failed, err, errlen);
            definition = open_out(dir, "experiment.json", &failed, err, errlen);
        }
    }
    if (!failed && dir) {
        fprintf(s->orders,
                "order_id,customer_id,ordered_at,product_id,quantity,unit_price%s,channel\n",
                s->x ? ",session_id,recommendation_id" : "");
        if (s->x) {
            fprintf(s->events,
                    "event_id,type,at,session_id,customer_id,recommendation_id,product_id,items\n");
            fprintf(s->answers, "recommendation_id,surface,at,model_version,strategy,customer_id,"
                                "session_id,experiment_id,variant,items\n");
        }
        fprintf(truth, "{\n  \"seed\": %llu,\n  \"start\": \"2023-09-01\",\n  \"days\": %d,\n",
                (unsigned long long)gp->seed, gp->days);
        write_truth_catalog(s, truth);
        fprintf(truth, "  \"dropped_out_customers\": [");
    }
    if (!failed) {
        bool first = true;
        struct customer cu;
        for (int i = 0; i < gp->customers; i++)
            simulate_customer(s, &cu, i, truth, &first);
        simulate_guests(s);
        if (products)
            write_products(s, products);
        if (truth) {
            fprintf(truth, "],\n  \"channels\": {");
            for (int c = 0; c < GEN_CHANNELS; c++)
                fprintf(truth, "%s\"%s\": {\"customers\": %ld, \"dropout_mean\": %.4f}",
                        c ? ", " : "", channel_names[c], s->channel_customers[c],
                        s->channel_customers[c] ? s->channel_dropout[c] / s->channel_customers[c]
                                                : 0);
            fprintf(truth, "}");
            write_truth_stock(s, truth);
            if (s->x)
                exp_write_definition(s, definition, truth);
            fprintf(truth, "\n}\n");
        }
        st->products = NPROD;
        st->customers = gp->customers;
        st->orders = s->norders;
        st->lines = s->nlines;
        st->units = s->units;
        st->answers = s->nanswers;
        st->events = s->nevents;
    }
    bool ok = !failed;
    ok = close_out(products, "products.csv", ok, err, errlen);
    ok = close_out(s->orders, "orders.csv", ok, err, errlen);
    ok = close_out(truth, "truth.json", ok, err, errlen);
    ok = close_out(s->events, "events.csv", ok, err, errlen);
    ok = close_out(s->answers, "answers.csv", ok, err, errlen);
    ok = close_out(definition, "experiment.json", ok, err, errlen);
    free(s);
    return ok ? 0 : -1;
}

/* --- a shop at any size ------------------------------------------------------------ */

#define SCALE_CAT_SIZE 50   /* products a category, about */
#define SCALE_ZIPF_S   0.9  /* popularity by rank: 1 / rank^s */
#define SCALE_PERIODS  4    /* price periods */
#define SCALE_REPEAT_P 0.25 /* a line the customer bought before */
#define SCALE_FAV_P    0.7  /* a line from a favourite category */
#define SCALE_GUEST_P  0.08 /* orders without a customer */
#define SCALE_RETURN_P 0.03 /* orders with a line returned later */
#define SCALE_HISTORY  64   /* products a customer's repeat buying draws from */

struct scaled {
    const struct gen_scale *gp;
    struct rng r;
    int ncat;
    int *cat;        /* product -> category */
    double *price;   /* [product * SCALE_PERIODS + period] */
    double *cdf;     /* popularity over all products, cumulative */
    int *by_cat;     /* products grouped by category */
    int *cat_first;  /* [ncat + 1] into by_cat */
    double *cat_cdf; /* cumulative popularity within each category (by_cat order) */
    int *complement; /* a product bought with it, or -1 */
    FILE *orders;
    long norders, nlines, next_order;
    double period_len;
};

/* An index of cdf[lo..hi), cumulative weights counted from lo, drawn by weight (u in
 * [0, 1)): the first whose cumulative weight passes u times the total. */
static int draw(const double *cdf, int lo, int hi, double u)
{
    double target = u * cdf[hi - 1];
    while (lo < hi - 1) { /* the answer lies in [lo, hi - 1] */
        int mid = lo + (hi - 1 - lo) / 2;
        if (cdf[mid] > target)
            hi = mid + 1;
        else
            lo = mid + 1;
    }
    return lo;
}

static int draw_in_category(struct scaled *s, int c)
{
    int lo = s->cat_first[c], hi = s->cat_first[c + 1];
    return s->by_cat[draw(s->cat_cdf, lo, hi, rng_uniform(&s->r))];
}

static void scaled_catalog(struct scaled *s, FILE *products)
{
    int P = s->gp->products;
    struct rng *r = &s->r;
    s->ncat = MAX(1, (P + SCALE_CAT_SIZE - 1) / SCALE_CAT_SIZE);
    s->cat = xmalloc((size_t)P * sizeof(int));
    s->price = xmalloc((size_t)P * SCALE_PERIODS * sizeof(double));
    s->cdf = xmalloc((size_t)P * sizeof(double));
    s->by_cat = xmalloc((size_t)P * sizeof(int));
    s->cat_first = xcalloc((size_t)s->ncat + 1, sizeof(int));
    s->cat_cdf = xmalloc((size_t)P * sizeof(double));
    s->complement = xmalloc((size_t)P * sizeof(int));
    int *rank = xmalloc((size_t)P * sizeof(int));
    for (int i = 0; i < P; i++)
        rank[i] = i;
    for (int i = P - 1; i > 0; i--) { /* popularity ranks at random over the catalogue */
        int j = rng_int(r, i + 1), t = rank[i];
        rank[i] = rank[j], rank[j] = t;
    }
    fprintf(products, "product_id,name,category,price,cost,in_stock\n");
    double acc = 0;
    for (int i = 0; i < P; i++) {
        s->cat[i] = i % s->ncat;
        s->cat_first[s->cat[i] + 1]++;
        acc += 1 / pow(rank[i] + 1, SCALE_ZIPF_S);
        s->cdf[i] = acc;
        double base = round(exp(rng_normal(r) * 0.8) * 20 * 100) / 100 + 0.5, cur = base;
        for (int k = 0; k < SCALE_PERIODS; k++) {
            if (k > 0 && rng_uniform(r) < 0.5)
                cur = round(base * rng_range(r, 0.8, 1.2) * 100) / 100;
            s->price[(size_t)i * SCALE_PERIODS + (size_t)k] = cur;
        }
        int c = s->cat[i];
        fprintf(products, "S%07d,%s item %d,%s-%d,%.2f,%.2f,%s\n", i + 1, cat_names[c % NCAT],
                i + 1, cat_names[c % NCAT], c / NCAT + 1, cur,
                round(base * rng_range(r, 0.4, 0.65) * 100) / 100,
                rng_uniform(r) < 0.95 ? "true" : "false");
    }
    for (int c = 0; c < s->ncat; c++)
        s->cat_first[c + 1] += s->cat_first[c];
    int *fill = xmalloc((size_t)s->ncat * sizeof(int));
    memcpy(fill, s->cat_first, (size_t)s->ncat * sizeof(int));
    for (int i = 0; i < P; i++)
        s->by_cat[fill[s->cat[i]]++] = i;
    for (int c = 0; c < s->ncat; c++) {
        double a = 0;
        for (int k = s->cat_first[c]; k < s->cat_first[c + 1]; k++) {
            int i = s->by_cat[k];
            a += s->cdf[i] - (i ? s->cdf[i - 1] : 0);
            s->cat_cdf[k] = a;
            /* neighbours in a category complement each other, in pairs */
            int off = k - s->cat_first[c];
            int mate = off % 2 == 0 ? k + 1 : k - 1;
            s->complement[i] = mate < s->cat_first[c + 1] ? s->by_cat[mate] : -1;
        }
    }
    free(fill);
    free(rank);
}

static void scaled_line(struct scaled *s, const char *oid, const char *cid, double t, int p,
                        int qty)
{
    time_t secs = (time_t)t;
    struct tm tm;
    gmtime_r(&secs, &tm);
    int k = MIN(SCALE_PERIODS - 1, MAX(0, (int)((t - GEN_START) / s->period_len)));
    fprintf(s->orders, "%s,%s,%04d-%02d-%02dT%02d:%02d:%02dZ,S%07d,%d,%.2f\n", oid, cid,
            tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, p + 1,
            qty, s->price[(size_t)p * SCALE_PERIODS + (size_t)k]);
    s->nlines++;
}

/* A time in the history, weekly and yearly seasons by thinning. */
static double scaled_time(struct scaled *s)
{
    for (;;) {
        double t = GEN_START + rng_uniform(&s->r) * s->gp->days * DAY;
        if (rng_uniform(&s->r) * season_max < season(t))
            return t;
    }
}

/* One order of 1..8 lines for customer cid (guest: ""), with its favourites and the
 * products it bought before (history, *nh of them). */
static void scaled_order(struct scaled *s, const char *cid, const int *fav, int nfav, int *history,
                         int *nh)
{
    struct rng *r = &s->r;
    int lines[8], n = 0, want = 1 + rng_poisson(r, 1.4);
    want = MIN(want, 8); /* (MIN evaluates its arguments twice) */
    for (int tries = 0; n < want && tries < 64; tries++) {
        int p;
        double u = rng_uniform(r);
        if (*nh > 0 && u < SCALE_REPEAT_P)
            p = history[rng_int(r, *nh)];
        else if (nfav > 0 && u < SCALE_REPEAT_P + SCALE_FAV_P * (1 - SCALE_REPEAT_P))
            p = draw_in_category(s, fav[rng_int(r, nfav)]);
        else
            p = draw(s->cdf, 0, s->gp->products, rng_uniform(r));
        bool dup = false;
        for (int i = 0; i < n; i++)
            dup |= lines[i] == p;
        if (!dup)
            lines[n++] = p;
        if (!dup && n < want && s->complement[p] >= 0 && rng_uniform(r) < 0.3) {
            int c = s->complement[p];
            for (int i = 0; i < n; i++)
                dup |= lines[i] == c;
            if (!dup)
                lines[n++] = c;
        }
    }
    if (n == 0)
        return; /* not reached: the first draw is always taken */
    char oid[24];
    double t = scaled_time(s);
    snprintf(oid, sizeof(oid), "O%09ld", ++s->next_order);
    for (int i = 0; i < n; i++) {
        scaled_line(s, oid, cid, t, lines[i], rng_uniform(r) < 0.85 ? 1 : 2);
        if (*nh < SCALE_HISTORY)
            history[(*nh)++] = lines[i];
        else
            history[rng_int(r, SCALE_HISTORY)] = lines[i];
    }
    s->norders++;
    if (rng_uniform(r) < SCALE_RETURN_P) { /* one line comes back within two weeks */
        double back = t + rng_range(r, 1, 14) * DAY, end = GEN_START + s->gp->days * DAY;
        snprintf(oid, sizeof(oid), "R%09ld", s->next_order);
        scaled_line(s, oid, cid, MIN(back, end), lines[0], -1);
        s->norders++;
    }
}

/* Orders with a Poisson number around mean (a normal one for large means). */
static int orders_around(struct rng *r, double mean)
{
    if (mean < 30)
        return rng_poisson(r, mean);
    return MAX(0, (int)lround(mean + sqrt(mean) * rng_normal(r)));
}

int gen_write_scaled(const char *dir, const struct gen_scale *gp, struct gen_stats *st, char *err,
                     size_t errlen)
{
    struct scaled s = {.gp = gp};
    FILE *products = NULL, *truth = NULL;
    float *activity = NULL;
    int rc = -1;
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
        return -1;
    }
    rng_seed(&s.r, gp->seed);
    s.period_len = gp->days * DAY / SCALE_PERIODS;
    if (!(products = open_in(dir, "products.csv", err, errlen)) ||
        !(s.orders = open_in(dir, "orders.csv", err, errlen)) ||
        !(truth = open_in(dir, "truth.json", err, errlen)))
        goto out;
    scaled_catalog(&s, products);
    fprintf(s.orders, "order_id,customer_id,ordered_at,product_id,quantity,unit_price\n");
    /* how often each customer orders: gamma-distributed, scaled to the lines wanted
     * (about 2.6 lines an order, the returns and the guests' share apart) */
    activity = xmalloc((size_t)gp->customers * sizeof(float));
    double total = 0;
    for (int u = 0; u < gp->customers; u++)
        total += activity[u] = (float)rng_gamma(&s.r, 0.6, 1.0);
    double orders_wanted = (double)gp->lines / 2.65 * (1 - SCALE_GUEST_P);
    int history[SCALE_HISTORY], fav[3];
    char cid[24];
    for (int u = 0; u < gp->customers && total > 0; u++) {
        int nh = 0, nfav = 1 + rng_int(&s.r, 3);
        for (int k = 0; k < nfav; k++) /* favourite categories, popular ones likelier */
            fav[k] = s.cat[draw(s.cdf, 0, gp->products, rng_uniform(&s.r))];
        snprintf(cid, sizeof(cid), "C%08d", u + 1);
        int n = orders_around(&s.r, orders_wanted * activity[u] / total);
        for (int k = 0; k < n; k++)
            scaled_order(&s, cid, fav, nfav, history, &nh);
    }
    while (s.nlines < gp->lines) { /* guests fill up to the lines wanted */
        int nh = 0;
        scaled_order(&s, "", NULL, 0, history, &nh);
    }
    fprintf(truth,
            "{\n  \"seed\": %llu,\n  \"start\": \"2023-09-01\",\n  \"days\": %d,\n"
            "  \"products\": %d,\n  \"categories\": %d,\n  \"zipf_s\": %g,\n"
            "  \"complements\": [",
            (unsigned long long)gp->seed, gp->days, gp->products, s.ncat, SCALE_ZIPF_S);
    bool first = true;
    for (int i = 0; i < gp->products; i++)
        if (s.complement[i] > i) {
            fprintf(truth, "%s[\"S%07d\", \"S%07d\"]", first ? "" : ", ", i + 1,
                    s.complement[i] + 1);
            first = false;
        }
    fprintf(truth, "]\n}\n");
    st->products = gp->products;
    st->customers = gp->customers;
    st->orders = s.norders;
    st->lines = s.nlines;
    rc = 0;
out:
    if (products && fclose(products) && rc == 0)
        rc = -1, snprintf(err, errlen, "cannot write products.csv");
    if (s.orders && fclose(s.orders) && rc == 0)
        rc = -1, snprintf(err, errlen, "cannot write orders.csv");
    if (truth && fclose(truth) && rc == 0)
        rc = -1, snprintf(err, errlen, "cannot write truth.json");
    free(activity);
    free(s.cat);
    free(s.price);
    free(s.cdf);
    free(s.by_cat);
    free(s.cat_first);
    free(s.cat_cdf);
    free(s.complement);
    return rc;
}
