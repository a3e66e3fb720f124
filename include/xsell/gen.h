/* gen.h - `xsell gen DIR`: a demo shop with structure planted on purpose, so that
 * tests can check each model recovers it. Writes DIR/products.csv, DIR/orders.csv
 * (DESIGN.md formats) and DIR/truth.json (what was planted). Deterministic for a
 * seed; independent of today's date.
 *
 * Planted: categories with three price tiers per product line; complementary lines
 * bought together; customers who move up a tier (upgrade paths); price changes
 * answered with a per-product constant elasticity; customers who stop buying
 * (BG/NBD-style dropout); weekly and yearly seasonality; guests; returns; channels
 * (orders.csv's column channel: email, search, direct, social), a customer's first
 * order by the channel that won them, the more loyal customers (the lower their
 * dropout chance) the likelier won by email, the less by social; truth.json gives
 * each channel's customers (those who bought) and their mean dropout chance; stock
 * (products.csv's column stock), planted against each product's units sold in the
 * history's last GEN_STOCK_DAYS days (d): one in twelve of those that sold 20 or more
 * holds 0.2 d (scarce), another one in twelve 12 d + 20 (overstocked), the rest
 * 1.5 d + 10; truth.json names the scarce and the overstocked. */
#ifndef XSELL_GEN_H
#define XSELL_GEN_H

#include "xsell/common.h"
#include "xsell/experiment.h"

/* A running experiment after the history (`xsell gen DIR --experiment`): experiment
 * "sim" on /recommend, unit customer, from the history's end for `days` days.
 * Every customer still active visits the shop GEN_EXP_VISITS times as often as they
 * buy; each visit is shown an answer of their variant (assigned as the server does:
 * experiment_assign), views 1-3 products of their categories, and buys with
 * probability GEN_EXP_BUY_P x (1 + the variant's lift), the basket drawn as in the
 * history (some with a product of the answer, clicked and carted first); some visits
 * click without buying. So the planted lift is the true relative lift of revenue per
 * customer, the quantity the report estimates. In the GEN_BROWSE_DAYS before it, each
 * order of the history comes with the visit that led to it (views, a click, the
 * basket's products put in the cart): events the models learn from. Written: orders.csv with the
 * visits' orders (and the columns session_id, recommendation_id), events.csv (impressions, views,
 * clicks, cart adds), answers.csv (the answers shown) and experiment.json (the definition for PUT
 * /experiments/sim); truth.json names the lifts. */
#define GEN_CHANNELS     4
#define GEN_STOCK_DAYS   14
#define GEN_EXP_VARIANTS 4
#define GEN_EXP_VISITS   2.0
#define GEN_EXP_BUY_P    0.5
#define GEN_BROWSE_DAYS  90
struct gen_experiment {
    int days;
    int nvariants;                 /* the first is the control */
    double lift[GEN_EXP_VARIANTS]; /* planted, per variant (the control's 0) */
    double served_split;           /* 0: each variant served as assigned; else the control served to
                                    * this share by a coin, the rest to the others (a broken split) */
};

/* Called (tests, in memory) as the experiment runs: a unit's first exposure with its
 * spend in the EXP_PRE_DAYS before the start, and each order with its revenue; day:
 * days since the start. */
struct gen_sink {
    void *ctx;
    void (*exposed)(void *ctx, int unit, int variant, double day, double pre_spend);
    void (*ordered)(void *ctx, int unit, double day, double revenue);
};

struct gen_params {
    uint64_t seed;
    int customers;
    int days;                         /* length of the history */
    double complement_p;              /* chance a complement joins the basket */
    double upgrade_p;                 /* chance, per purchase in a category, of moving up a tier */
    const struct gen_experiment *exp; /* NULL: none */
    const struct gen_sink *sink;      /* NULL: none */
};

struct gen_stats {
    int products, customers;
    long orders, lines;
    long units, answers, events; /* the experiment's */
};

void gen_defaults(struct gen_params *p);
/* Writes the shop into dir; dir NULL: nothing written, the sink alone told. */
int gen_write(const char *dir, const struct gen_params *p, struct gen_stats *st, char *err,
              size_t errlen);

/* A shop at any size (`xsell gen DIR --products P --lines N`), built like real ones:
 * categories of about 50 products, Zipf popularity (s 0.9) over the catalogue,
 * customers of gamma-distributed activity with 1-3 favourite categories, 1-8 lines an
 * order, repeat buying, complements (neighbours in a category, in pairs), prices that
 * move in four periods, weekly and yearly seasons, guests, 3% of orders with a line
 * returned. Streams: memory grows with products and customers, not lines. truth.json
 * names the categories' count and the complement pairs. Deterministic for a seed. */
struct gen_scale {
    uint64_t seed;
    int products, customers, days;
    long lines; /* order lines wanted; the file holds about this many */
};

int gen_write_scaled(const char *dir, const struct gen_scale *p, struct gen_stats *st, char *err,
                     size_t errlen);

#endif
