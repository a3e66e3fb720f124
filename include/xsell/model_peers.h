/* model_peers.h - "customers like you bought": for each customer, the products their
 * nearest customers buy, by the customer vectors of TIFU-kNN (Hu, He, Gao & Zhang,
 * SIGIR 2020).
 *
 * A customer's vector: their baskets (the distinct products of an order, as 0/1)
 * in time order, each weighted by PEERS_RB^(baskets after it); the history split into
 * PEERS_GROUPS equal groups in time order (each basket its own group when there are
 * fewer), each group the mean of its baskets; the vector the sum of group g (0 the
 * oldest) times PEERS_RG^(PEERS_GROUPS - g - 1), divided by the groups (the paper's
 * code, its default settings). Neighbours: the PEERS_K customers nearest by Euclidean
 * distance, the customer among them. A customer's list: the PEERS_TOP products of
 * the mean of the neighbours' vectors, best first. The customer's own vector is kept
 * too, per entry of their products (even where the neighbour search is not made):
 * the blend's own list ranks by it.
 *
 * The distances: |u|^2 + |v|^2 - 2 u.v, the dot products through an inverted index
 * (product -> customers); the customers sharing nothing with u are nearest in order
 * of their own norm, so a walk of the customers by norm stops at the first farther
 * than the K-th. The work grows with the sum over products of their customers
 * squared; past PEERS_MAX_WORK the model is not fitted (figures say so) and the blend
 * goes without it. */
#ifndef XSELL_MODEL_PEERS_H
#define XSELL_MODEL_PEERS_H

#include "xsell/arena.h"
#include "xsell/figures.h"
#include "xsell/history.h"

#define PEERS_GROUPS   7
#define PEERS_RB       0.9
#define PEERS_RG       0.7
#define PEERS_K        300
#define PEERS_TOP      30
#define PEERS_MAX_WORK 1e8

/* The distinct products bought (quantity above zero) in order o into out (room for
 * PEERS_BASKET_MAX); how many. */
#define PEERS_BASKET_MAX 256
int peer_basket(const struct history *h, int32_t o, int32_t *out);

/* Every customer's vector, sparse, and the inverted index. */
struct peer_vectors {
    size_t ncust, nprod;
    int32_t *vfirst, *vitem; /* customer c's entries vfirst[c]..vfirst[c+1]-1 */
    float *vweight;
    double *norm2;
    int32_t *ifirst, *icust; /* product p's customers ifirst[p]..ifirst[p+1]-1 */
    float *iweight;
    int32_t *by_norm; /* the customers with a vector, smallest norm first */
    size_t nby_norm;
};

/* cust_first / cust_orders: history_customer_orders(h). */
void peer_vectors_build(const struct history *h, const int32_t *cust_first,
                        const int32_t *cust_orders, struct peer_vectors *v);
void peer_vectors_release(struct peer_vectors *v);
/* The sum over products of their customers squared: the neighbour search's work. */
double peer_vectors_work(const struct peer_vectors *v);

/* Scratch for peer_vectors_nearest, one per thread. */
struct peer_scratch {
    double *dot;      /* ncust, zero between calls */
    int32_t *touched; /* ncust */
};
void peer_scratch_init(struct peer_scratch *s, const struct peer_vectors *v);
void peer_scratch_release(struct peer_scratch *s);
/* The (at most) k customers nearest to c, c among them, into out; how many. */
int peer_vectors_nearest(const struct peer_vectors *v, int32_t c, int k, struct peer_scratch *s,
                         int32_t *out);

struct model_peers {
    size_t ncust;
    bool fitted;
    int32_t *first; /* ncust + 1: customer c's list first[c]..first[c+1]-1 */
    int32_t *item;
    float *score; /* the neighbours' mean weight, best first */
    size_t nown;  /* the history's customer entries (cust_first[ncust]) */
    float *own;   /* per entry: the customer's own vector's weight of that product */
};

void model_peers_fit(const struct history *h, struct arena *a, struct model_peers *m,
                     struct figures *fig);

#endif
