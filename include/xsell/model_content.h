/* model_content.h - neighbours from the catalogue alone, for products without
 * purchase history: each product is a TF-IDF vector over the words of its name and
 * its category (one token), smooth idf = ln((1 + N) / (1 + df)) + 1, L2-normalised;
 * neighbours are the k most cosine-similar products. */
#ifndef XSELL_MODEL_CONTENT_H
#define XSELL_MODEL_CONTENT_H

#include "xsell/arena.h"
#include "xsell/figures.h"
#include "xsell/history.h"

struct model_content {
    size_t n;
    int k;
    int32_t *nbr; /* n * k; -1 past the last */
    float *w;     /* cosine similarity, best first */
};

void model_content_fit(const struct history *h, int k, struct arena *a, struct model_content *m,
                       struct figures *fig);

#endif
