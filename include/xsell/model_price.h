/* model_price.h - demand, price elasticity and the price that earns most, within
 * guardrails.
 *
 * Demand data: per product and full week (weeks counted from the first order's day,
 * the last one ending by as_of), the net units (returns netted) and the mean price
 * paid. A week with no net units has no log and is left out.
 *
 * Elasticity: per product with PRICE_MIN_WEEKS such weeks and a price that moved
 * (max/min paid above 1 + PRICE_MOVED), ordinary least squares (LAPACK, QR)
 *     log units = a + e log price + b log(shop units that week, without its own)
 * - the shop's weekly units carry what moves every product at once (the season,
 * the customer base, shop-wide campaigns), so that a seasonal peak is not read as
 * price response. e's standard error: the larger of the plain fit's and the one
 * clustered by runs of weeks at one price (whose demand shares whatever else that
 * period held), the latter widened to Student's t point for runs - 1 degrees of
 * freedom; a 95% interval.
 *
 * Shrinkage (empirical Bayes): in each category with PRICE_MIN_GROUP estimates the
 * product estimates are pooled by DerSimonian-Laird (a mean and a between-product
 * variance tau^2); each estimate moves toward that mean by its precision, e' =
 * (e/se^2 + mu/tau^2) / (1/se^2 + 1/tau^2), its variance 1 / (1/se^2 + 1/tau^2)
 * plus the pooled mean's, weighed by the share the estimate takes from it (Morris
 * 1983). Smaller categories borrow from the shop
 * (all products). source says what the estimate leans on most: product (its own
 * data weighs more than the prior), category or shop. A product whose price never
 * moved (or with too few weeks) gets its group's mean, with the group's spread
 * added to its uncertainty, and says so.
 *
 * Recommendation: expected weekly units q(p) = q0 (p / p0)^e around the current
 * price p0, q0 = the mean units of the last PRICE_RECENT_WEEKS weeks taken to p0
 * with the same curve; maximise (p - cost) q(p), or revenue without a cost, within
 * the guardrails; with e < -1 and a cost the optimum is cost e / (1 + e); with
 * e >= -1 (inelastic) there is none: profit rises with price, and the answer stops
 * at the guardrail and says so. */
#ifndef XSELL_MODEL_PRICE_H
#define XSELL_MODEL_PRICE_H

#include "xsell/arena.h"
#include "xsell/figures.h"
#include "xsell/history.h"
#include "xsell/rng.h"

#define PRICE_MIN_WEEKS    8
#define PRICE_MOVED        0.02 /* max/min paid price above 1.02: the price moved */
#define PRICE_MIN_GROUP    3    /* estimates a category needs to be its own prior */
#define PRICE_RECENT_WEEKS 8
#define PRICE_OBSERVED_PAD 0.10 /* never beyond the observed range +-10% */
#define PRICE_MIN_SE       0.02 /* no estimate is surer than this: none outweighs a category */

enum price_source { PRICE_SRC_NONE = 0, PRICE_SRC_PRODUCT, PRICE_SRC_CATEGORY, PRICE_SRC_SHOP };

struct price_item {
    double estimate, se; /* the elasticity served (shrunk) and its standard error */
    double own, own_se;  /* the product's own regression; NAN when none */
    double shop_coef;    /* b, on the shop's weekly units */
    int n_weeks;         /* weeks in its regression (or with sales) */
    bool moved;          /* its paid price varied */
    enum price_source source;
    double q0;           /* expected weekly units at the current price */
    double p_min, p_max; /* paid prices seen (NAN when never sold) */
};

struct price_group {
    double mu, tau2, se_mu; /* pooled mean, between-product variance, se of the mean */
    int k;                  /* estimates pooled */
};

struct model_price {
    size_t n;
    struct price_item *item;
    int32_t *cat;              /* per product its category index (-1 none) */
    struct price_group *group; /* per category */
    struct price_group shop;
    size_t ncat;
    int weeks; /* full weeks of data */
};

void model_price_fit(const struct history *h, double as_of, struct arena *a, struct model_price *m,
                     struct figures *fig);

/* Guardrails of one question. NAN: not set. */
struct price_guard {
    double max_change; /* fraction of the current price, e.g. 0.10 */
    double min_margin; /* (p - cost) / p at least this; needs cost */
    double floor, ceiling;
};

enum price_bound {
    BOUND_NONE = 0,
    BOUND_MAX_CHANGE,
    BOUND_MIN_MARGIN,
    BOUND_FLOOR,
    BOUND_CEILING,
    BOUND_OBSERVED,
    BOUND_CONFLICT /* the guardrails leave no price: the current one is kept */
};
const char *price_bound_name(enum price_bound b);

struct price_answer {
    double current, cost; /* cost NAN when unknown */
    double recommended;
    double elasticity, se, ci_low, ci_high; /* NAN when nothing is known */
    double draw;                            /* explore: the elasticity drawn */
    double units_now, units_rec, profit_now, profit_rec;
    bool profit;    /* false: revenue (no cost) */
    bool inelastic; /* e >= -1: no optimum, stopped at a guardrail */
    enum price_bound bound;
    double lo, hi; /* the feasible range the guardrails left, in whole cents: a price
                    * rounded to the cent never crosses a bound */
    /* the stock (price_apply_stock) */
    int32_t stock;                 /* -1: not known */
    double demand_now, demand_rec; /* forecast units over the restock horizon at the
                                    * current and the recommended price */
    double before_stock;           /* the recommendation the stock moved */
    enum price_stock {
        STOCK_UNKNOWN = 0, /* no stock or no forecast */
        STOCK_BALANCED,    /* demand within stock and not far below it */
        STOCK_SCARCE,      /* demand at the recommended price exceeded the stock */
        STOCK_OVERSTOCK    /* the stock exceeded PRICE_OVERSTOCK x that demand */
    } stock_case;
    bool stock_stopped; /* a guardrail stopped the move short of its target */
};
#define PRICE_OVERSTOCK 3.0

const char *price_stock_name(enum price_stock c);

/* Weighs the stock against demand_now, the forecast units over the restock horizon
 * at the current price (NAN: none), demand moving with the price as the elasticity
 * says: scarce, the price rises (within the guardrails) until demand meets the stock;
 * overstocked, it falls until demand meets stock / PRICE_OVERSTOCK. Without a known
 * negative elasticity the case is said and the price left. q0 is the product's weekly
 * units at the current price (units_rec and the profits follow the new price). */
void price_apply_stock(struct price_answer *a, double q0, double demand_now, int32_t stock);

/* Answers for product p; rng NULL = exploit (the point optimum), else explore (a
 * Thompson draw of the elasticity). */
void model_price_query(const struct model_price *m, const struct history *h, int32_t p,
                       const struct price_guard *g, struct rng *rng, struct price_answer *out);

/* The optimum of (p - cost) p^e (revenue when cost is NAN) in [lo, hi]; where the
 * objective is flat (revenue at e = -1, or e unknown: NAN) the current price p0.
 * *bound is lo_bound or hi_bound when one binds, BOUND_NONE otherwise. */
double price_optimum(double e, double cost, double p0, double lo, double hi,
                     enum price_bound lo_bound, enum price_bound hi_bound, enum price_bound *bound);

#endif
