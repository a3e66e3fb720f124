/* retention.h - what to offer a customer who is slipping away, and whether it pays.
 *
 * Only a customer at risk (churn segments at_risk, lapsing and lost, model_churn.h)
 * is offered anything: the others buy anyway, and a discount would give margin away.
 *
 * The baseline, from the churn model at its horizon: P(alive) a, and the purchases
 * L = expected purchases / a the customer makes over the horizon if alive. Product j
 * is in a share s of their purchases: for a product they bought, their own share of
 * purchase days that held it, shrunk toward the shop's share of orders that hold it
 * by one purchase day, (times + shop) / (days + 1); for a product of their personal
 * list, which they never bought, the shop's share. Their purchases of j come at rate
 * L s while they are alive: P(they buy j within the horizon) q0 = a (1 - exp(-L s)).
 *
 * A discount d on j: j's demand follows the price model's elasticity e (model_price.h)
 * taken at the less elastic end, one standard error above the estimate (a discount
 * must pay even if demand answers less than the estimate says): its rate multiplied
 * by k = (1 - d)^e, so q1 = a (1 - exp(-k L s)). Its value is the
 * expected margin with the offer less that without:
 *     (q1 - q0) (m - d p) - q0 d p
 * p the price, m its margin (price - cost; the price when the cost is unknown, and the
 * value is then revenue), the last term the discount given on the purchase that would
 * have come anyway. Discounts are tried in steps of RETENTION_STEP up to the largest
 * allowed, never below cost; without a negative elasticity no discount is offered
 * (nothing says it would sell more).
 * An upgrade: instead of a product they buy, the pricier alternative /upsell ranks
 * (model_upsell.h, at the customer's churn risk), taken with P(accept) pa: value
 * q0 pa (m_b - m_j).
 * Nothing: value 0. The offer is the candidate of highest value when it is worth
 * RETENTION_MIN_VALUE or more.
 * A product held back for its stock (snapshot.h) is never offered. */
#ifndef XSELL_RETENTION_H
#define XSELL_RETENTION_H

#include "xsell/model_churn.h"
#include "xsell/recommend.h"
#include "xsell/snapshot.h"

#define RETENTION_STEP      0.05
#define RETENTION_MIN_VALUE 0.01 /* an offer expected to earn less (a cent) is none */
#define RETENTION_OWN       5    /* the customer's products by buy-again score */
#define RETENTION_PERSONAL  5    /* from the personal list */
#define RETENTION_UPGRADE   3    /* the own products whose upgrades are weighed */
#define RETENTION_CANDIDATE (RETENTION_OWN + RETENTION_PERSONAL + RETENTION_UPGRADE)

/* The shop's offer types and largest discount (models.h's retention settings), or an
 * experiment variant's. */
struct retention_settings {
    bool discount, upgrade;
    double max_discount;
};
void retention_settings_from(const struct model_params *p, struct retention_settings *out);

enum offer_type { OFFER_NONE, OFFER_DISCOUNT, OFFER_UPGRADE };
enum offer_source { OFFER_BUY_AGAIN, OFFER_PERSONAL, OFFER_UPGRADE_PATH, OFFER_SUBSTITUTE };
const char *offer_type_name(enum offer_type t);
const char *offer_source_name(enum offer_source s);

struct retention_offer {
    enum offer_type type;
    enum offer_source source;
    int32_t product;    /* discounted, or the upgrade */
    int32_t instead_of; /* an upgrade: the product it replaces; else -1 */
    double discount;    /* a fraction of the price */
    double share;       /* s (of instead_of for an upgrade) */
    double estimate;    /* the price model's elasticity; NAN when not known */
    double elasticity;  /* the one used: estimate + its standard error */
    double multiplier;  /* k */
    double p_without;   /* q0 */
    double p_with;      /* q1; an upgrade: q0 pa */
    double p_accept;    /* an upgrade's pa */
    double margin;      /* each, after the discount; an upgrade: m_b - m_j */
    bool margin_known;  /* costs known: the value is margin, else revenue */
    double given_away;  /* q0 d p */
    double value;
};

struct retention_answer {
    struct churn_answer churn;
    bool at_risk;
    double rate;                  /* L */
    struct retention_offer offer; /* OFFER_NONE when nothing pays */
    /* every candidate weighed, at its best discount (or upgrade), by value */
    struct retention_offer cand[RETENTION_CANDIDATE];
    int ncand;
    struct held_back held; /* candidates left out for their stock */
};

/* The value of a discount d on a product of price p and margin m (price - cost, or
 * the price) that is a share s of the purchases of a customer alive with probability
 * alive who makes rate purchases over the horizon while alive, at price elasticity e:
 * (q1 - q0) (m - d p) - q0 d p, and q0, q1 into the pointers (above). */
double retention_discount_value(double alive, double rate, double share, double elasticity,
                                double price, double margin, double d, double *q0, double *q1);

/* The offer for customer c; false when c had bought nothing by the snapshot's as_of.
 * Scratch memory from a. */
bool retention_answer(const struct snapshot *s, const struct retention_settings *rs, int32_t c,
                      struct arena *a, struct retention_answer *out);

/* Fills s->retention: the customers at risk whose offer pays, by its value (the
 * snapshot's settings), weighed on up to RETENTION_THREADS threads (the run's
 * training threads); and s->order_share. After the models and the stock
 * (snapshot_render). */
#define RETENTION_THREADS 16
void retention_rank(struct snapshot *s);

#endif
