/* model_item2item.h - the personal model: which items go with which, learned from
 * who bought what (customer x product, bought or not).
 *
 * EASE (Steck 2019, "Embarrassingly Shallow Autoencoders", eq. 8): with
 * G = X'X + lambda I and P = G^-1, the item-item weights are B_ij = -P_ij / P_jj
 * (B_jj = 0); a customer's scores are x B. Closed form, one Cholesky inverse; used
 * while the catalogue fits ease_max_items (n^2 doubles and n^3 flops).
 * Beyond that, item-kNN: cosine similarity of the items' customer sets, shrunk,
 *   sim(i, j) = |C_i n C_j| / (sqrt(|C_i| |C_j|) + shrink).
 * Either way the snapshot keeps each item's top k neighbours j with weight > 0.
 *
 * Implicit signals (history.h's visits) join the purchases as weaker entries of X:
 * a customer's row holds 1 for what they bought, else click_weight for what they
 * clicked and cart_weight for what they put in a cart (the larger), over all their
 * visits; an anonymous visit is a row of its own. Both weights 0: purchases only.
 * tune.h fits them on the shop's own data. With weights, the kNN's co-buyers and
 * buyers are the sums of the products x_ui x_uj and x_ui^2. */
#ifndef XSELL_MODEL_ITEM2ITEM_H
#define XSELL_MODEL_ITEM2ITEM_H

#include "xsell/arena.h"
#include "xsell/figures.h"
#include "xsell/history.h"

struct i2i_params {
    int k;                            /* neighbours kept per item */
    int ease_max_items;               /* EASE up to this many products, kNN beyond */
    double lambda;                    /* EASE's L2 weight */
    double shrink;                    /* kNN's shrinkage */
    double click_weight, cart_weight; /* implicit signals' entries (0: left out) */
};

/* Sparse rows over items (customers' or visits' products); w NULL: every weight 1. */
struct sparse_rows {
    size_t n;
    int32_t *first, *items; /* row r: items[first[r] .. first[r+1]-1], distinct */
    float *w;
};
void sparse_rows_free(struct sparse_rows *x);
/* h's customers' purchases, with the signals at those weights (above): malloc'd. */
void i2i_rows(const struct history *h, double click_weight, double cart_weight,
              struct sparse_rows *x);
/* Item-kNN over x's rows: each item's top k neighbours by the shrunk cosine (above)
 * into nbr and w (nitems * k, -1 past the last). */
void item_knn(const struct sparse_rows *x, size_t nitems, int k, double shrink, int32_t *nbr,
              float *w);

struct model_params;
/* The fit's parameters from a run's settings (50 neighbours an item). */
struct i2i_params i2i_params_of(const struct model_params *p);

struct model_item2item {
    size_t n;
    int k;
    bool ease;
    int32_t *nbr;    /* n * k; -1 past the last neighbour */
    float *w;        /* n * k weights, best first */
    int32_t *buyers; /* distinct customers per item */
};

/* Fits on h's customers' distinct purchases (and the signals, by p's weights). -1 only if the EASE
 * inverse fails (then nothing is set). */
int model_item2item_fit(const struct history *h, const struct i2i_params *p, struct arena *a,
                        struct model_item2item *m, struct figures *fig);

/* The EASE weights B for a dense Gram matrix g (n x n, overwritten). Exposed for
 * tests. -1 when g + lambda I is not positive definite. */
int ease_weights(double *g, int n, double lambda);

#endif
