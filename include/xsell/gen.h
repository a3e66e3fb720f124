/* gen.h - `xsell gen DIR`: a demo shop with structure planted on purpose, so that
 * tests can check each model recovers it. Writes DIR/products.csv, DIR/orders.csv
 * (DESIGN.md formats) and DIR/truth.json (what was planted). Deterministic for a
 * seed; independent of today's date.
 *
 * Planted: categories with three price tiers per product line; complementary lines
 * bought together; customers who move up a tier (upgrade paths); price changes
 * answered with a per-product constant elasticity; customers who stop buying
 * (BG/NBD-style dropout); weekly and yearly seasonality; guests; returns. */
#ifndef XSELL_GEN_H
#define XSELL_GEN_H

#include "xsell/common.h"

struct gen_params {
    uint64_t seed;
    int customers;
    int days;            /* length of the history */
    double complement_p; /* chance a complement joins the basket */
    double upgrade_p;    /* chance, per purchase in a category, of moving up a tier */
};

struct gen_stats {
    int products, customers;
    long orders, lines;
};

void gen_defaults(struct gen_params *p);
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
