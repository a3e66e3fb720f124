/* recommend.h - the answer to /recommend, composed from the snapshot's models under
 * the request's business rules. No HTTP here: ids in, ranked products out.
 *
 * Lists, each scaled so that its best item scores 1:
 *  - complements: rules whose left side lies within the cart (one item, or two);
 *    an item's score is its best rule's Wilson bound. Without a cart, the
 *    customer's last order stands in for it.
 *  - personal: the item-to-item neighbours of the cart (weight 1) and of the
 *    customer's history (each item 0.5 x 2^(-age / 180 days); the 64 most recent
 *    products of a longer history), summed.
 *  - content: the same sources through the catalogue's TF-IDF neighbours.
 *    Collaborative and content links are blended per pair by evidence: with
 *    b(i) = buyers(i) / (buyers(i) + 10), a link i->j counts b as collaborative and
 *    (1 - b) as content, b = min(b(i), b(j)); a product launched today has b = 0.
 *  - buy again: the customer's own purchases by frequency and recency.
 *  - also viewed (strategy=also_viewed only): the co-view neighbours of the cart
 *    (model_coview.h), summed; without a cart, of the customer's last order.
 * auto blends complements 1.0, personal 0.7, content 0.5; with include_purchased
 * (a shop of consumables) it also gives buy-again the share of the list that repeat
 * purchases have in the customer's history (at most half). Without it, what the
 * customer bought stays out of every list but an explicit strategy=buy_again. The reason of each
 * item is the list that gave it most. What the lists leave empty is filled from what sells now
 * (reason popular). */
#ifndef XSELL_RECOMMEND_H
#define XSELL_RECOMMEND_H

#include "xsell/snapshot.h"

/* REC_ALSO_VIEWED: what the visits that looked at the cart's products also looked at
 * (model_coview.h); REC_POPULAR: what sells now, nothing personal (an experiment's
 * plain control, after the strategies the API takes) */
enum rec_strategy {
    REC_AUTO,
    REC_COMPLEMENTS,
    REC_PERSONAL,
    REC_BUY_AGAIN,
    REC_ALSO_VIEWED,
    REC_POPULAR
};
enum rec_objective { REC_RELEVANCE, REC_REVENUE, REC_MARGIN };
#define REC_STRATEGIES     6
#define REC_API_STRATEGIES 5 /* the first ones: /recommend's strategy= */
#define REC_OBJECTIVES     3
/* Their names, by value (the API's and the experiments'). */
extern const char *const rec_strategy_names[REC_STRATEGIES];
extern const char *const rec_objective_names[REC_OBJECTIVES];
enum rec_kind {
    KIND_BOUGHT_TOGETHER,
    KIND_SIMILAR_CUSTOMERS,
    KIND_SIMILAR_CONTENT,
    KIND_BUY_AGAIN,
    KIND_POPULAR,
    KIND_ALSO_VIEWED
};

/* For offline evaluation: neighbour links of one kind only, at full weight. */
enum rec_only { REC_ONLY_ALL, REC_ONLY_CF, REC_ONLY_CONTENT };

struct rec_query {
    const int32_t *cart; /* known cart products */
    int ncart;
    int32_t customer;      /* -1: none or unknown to the snapshot */
    const int32_t *recent; /* bought since the snapshot (read-your-writes) */
    int nrecent;
    const int32_t *exclude;
    int nexclude;
    enum rec_strategy strategy;
    enum rec_objective objective;
    int limit;
    bool include_purchased;
    const char *category; /* NULL: any */
    double min_price, max_price;
    enum rec_only only;
    const struct model_params *params; /* NULL: the snapshot's (an experiment's variant
                                        * brings its own blend) */
};

struct rec_item {
    int32_t product;
    double score;
    enum rec_kind kind;
    int32_t because[2]; /* products that led to it; -1 when unused */
    /* bought_together evidence */
    int32_t count;
    float confidence, lift;
    /* buy_again evidence */
    int32_t times;
    double last;
};

struct rec_result {
    struct rec_item *items;
    int n;
    struct held_back held; /* candidates left out for their stock */
};

const char *rec_kind_name(enum rec_kind k);
/* The share of an auto list customer c's buy-again picks take: buy_again_base plus
 * buy_again_scale times the customer's share of repeat purchases, at most
 * buy_again_max (s's settings). */
double recommend_buy_again_share(const struct snapshot *s, const struct model_params *mp,
                                 int32_t c);
/* Fills out (memory from a). Never fails; may return fewer than limit items. */
void recommend(const struct snapshot *s, const struct rec_query *q, struct arena *a,
               struct rec_result *out);

#endif
