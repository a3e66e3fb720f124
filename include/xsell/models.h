/* models.h - fits every model of a snapshot from its history, in one place, for
 * training and for offline evaluation alike. */
#ifndef XSELL_MODELS_H
#define XSELL_MODELS_H

#include "xsell/snapshot.h"

struct model_params {
    double as_of;             /* the models' "now" */
    double half_life_days;    /* popularity */
    long assoc_min_count;
    int ease_max_items;
    double ease_lambda;
    double churn_horizon_days;
    double churn_discount;
    const struct model_churn *churn_prev; /* the serving one's fits, or NULL */
    int forecast_threads; /* sales forecasts on this many threads; 0: none (evaluations) */
};

/* One entry per model, in fitting order. */
#define MODELS_COUNT 9
struct model_figures {
    const char *name[MODELS_COUNT];
    struct figures fig[MODELS_COUNT];
};

/* Fits every model into s (its history must be finished). -1 with err when a fit
 * cannot be done (EASE on a matrix that is not positive definite). */
int models_fit(struct snapshot *s, const struct model_params *p, struct model_figures *out,
               char *err, size_t errlen);

#endif
