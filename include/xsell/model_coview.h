/* model_coview.h - "also viewed": the products the same visits looked at (history.h's
 * visits: what a session viewed, clicked or put in its cart, from the events).
 *
 * Item-kNN (model_item2item.h's item_knn) over the visits' distinct products: the
 * shrunk cosine |V_i n V_j| / (sqrt(|V_i| |V_j|) + COVIEW_SHRINK) of the products'
 * visit sets, each product's top k kept. It learns from browsing, not buying, so it
 * links products a shopper compares (alternatives) as well as ones bought together;
 * /recommend serves it as strategy=also_viewed. A shop without events has no links. */
#ifndef XSELL_MODEL_COVIEW_H
#define XSELL_MODEL_COVIEW_H

#include "xsell/arena.h"
#include "xsell/figures.h"
#include "xsell/history.h"

#define COVIEW_K      50
#define COVIEW_SHRINK 10.0

struct model_coview {
    size_t n; /* products */
    int k;
    int32_t *nbr;    /* n * k; -1 past the last neighbour */
    float *w;        /* n * k weights, best first */
    int32_t *visits; /* per product, the visits that touched it */
};

void model_coview_fit(const struct history *h, struct arena *a, struct model_coview *m,
                      struct figures *fig);

#endif
