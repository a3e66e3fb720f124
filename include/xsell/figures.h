/* figures.h - what a model's fit reports about itself (sizes, timings, quality),
 * as name/value pairs: models know no JSON; the trainer renders these. */
#ifndef XSELL_FIGURES_H
#define XSELL_FIGURES_H

#include "xsell/common.h"

#define FIGURES_MAX 32

struct figures {
    int n;
    struct {
        const char *name; /* a string literal */
        double value;
    } item[FIGURES_MAX];
};

static inline void figures_add(struct figures *f, const char *name, double value)
{
    if (f->n < FIGURES_MAX) {
        f->item[f->n].name = name;
        f->item[f->n].value = value;
        f->n++;
    }
}

#endif
