/* model_assoc.h - the basket model: frequent itemsets and association rules.
 *
 * Itemsets are mined exactly with Eclat (Zaki 2000): depth-first over prefix
 * classes, support by intersecting sorted transaction-id lists; the result equals
 * Apriori's and FP-Growth's. Rules have one item on the right (as arules does):
 * LHS -> c for every frequent itemset X = LHS u {c}, with
 *   support = count(X) / N, confidence = count(X) / count(LHS),
 *   lift = confidence / support({c}).
 * Serving ranks a rule by the Wilson lower bound (99%) of its confidence, so that
 * 2 of 2 (0.23) never beats 130 of 400 (0.27); at 95% it would (0.34 against 0.28).
 * Knows nothing of HTTP, SQL or JSON: transactions in, rules out. */
#ifndef XSELL_MODEL_ASSOC_H
#define XSELL_MODEL_ASSOC_H

#include "xsell/arena.h"
#include "xsell/figures.h"
#include "xsell/history.h"

/* Transactions as compressed rows: transaction t holds items
 * items[first[t] .. first[t+1]-1], sorted ascending without repeats. */
struct baskets {
    size_t n;      /* transactions */
    size_t nitems; /* item ids are 0..nitems-1 */
    const int32_t *first;
    const int32_t *items;
};

struct assoc_params {
    double min_support;  /* relative: an itemset needs count >= min_support * n */
    long min_count;      /* and at least this many transactions */
    long min_count_long; /* itemsets of 3+ items need this many too (0: same) */
    double min_confidence;
    int min_len, max_len; /* items per rule, LHS and RHS together (arules: 1, 10) */
    size_t max_itemsets;  /* stop mining past this many (0: no cap) */
};

struct assoc_rule {
    int32_t lhs[2]; /* serving rules have at most 2 items on the left; -1 = none */
    int32_t rhs;
    int32_t count;                 /* transactions holding LHS and RHS */
    int32_t lhs_count;             /* transactions holding LHS */
    float confidence, lift, score; /* score: Wilson lower bound of the confidence */
};

/* Frequent itemsets: itemset i is items[first[i] .. first[i+1]-1], sorted. */
struct itemsets {
    size_t n;
    int32_t *first, *items, *count;
    size_t cap, items_cap;
    bool truncated; /* max_itemsets was reached */
    /* lookup by content */
    int32_t *slots;
    size_t nslots;
};

void itemsets_release(struct itemsets *s);
/* Mines every itemset with count >= the threshold, of 1..max_len items. */
void assoc_mine(const struct baskets *b, const struct assoc_params *p, struct itemsets *out);
/* The count of an itemset (sorted items), or -1 when it is not frequent. */
int32_t itemsets_count(const struct itemsets *s, const int32_t *items, int k);

/* Calls emit(lhs, k-1 items, rhs, count, lhs_count, ctx) for every rule meeting the
 * parameters (min_len, min_confidence), in itemset order. */
typedef void (*rule_fn)(const int32_t *lhs, int nlhs, int32_t rhs, int32_t count, int32_t lhs_count,
                        void *ctx);
size_t assoc_rules(const struct itemsets *s, const struct baskets *b, const struct assoc_params *p,
                   rule_fn emit, void *ctx);

/* Wilson score interval's lower bound for x successes in n trials (z = 2.576). */
double wilson_lower(double x, double n);

/* The serving model: rules with 1 or 2 items on the left, grouped by LHS, each
 * group ranked by score, at most top_k per LHS. */
struct model_assoc {
    size_t nbaskets;
    struct assoc_rule *rules;
    size_t nrules;
    /* LHS -> range of rules (open addressing on the LHS pair) */
    int64_t *keys; /* (lhs0 + 1) << 32 | (lhs1 + 1); 0 = empty */
    int32_t *start, *len;
    size_t nslots;
};

/* Adds item to the basket items[start..*end), keeping it sorted and without
 * repeats; items must have room for one more. false when it was there already. */
bool basket_add(int32_t *items, size_t start, size_t *end, int32_t item);
/* Baskets of h: each order's distinct products bought (returns left out). Memory
 * from a. */
void baskets_from_history(const struct history *h, struct arena *a, struct baskets *out);
/* Fits the serving model; figures: baskets, itemsets, rules, seconds. */
void model_assoc_fit(const struct baskets *b, const struct assoc_params *p, int top_k,
                     struct arena *a, struct model_assoc *m, struct figures *fig);
/* The rules whose LHS is exactly {a} (b = -1) or {a, b}; *n gets how many. */
const struct assoc_rule *model_assoc_rules(const struct model_assoc *m, int32_t a, int32_t b,
                                           int32_t *n);

#endif
