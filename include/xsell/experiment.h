/* experiment.h - an experiment's definition and who sees which variant. Assignment is
 * a hash of the experiment's id and the unit's (customer or session) id: the same on
 * every replica and every request, with no state kept. */
#ifndef XSELL_EXPERIMENT_H
#define XSELL_EXPERIMENT_H

#include "xsell/caps.h"
#include "xsell/common.h"

#define EXP_VARIANTS_MAX 8
#define EXP_NAME_MAX     64

enum exp_unit { EXP_UNIT_CUSTOMER, EXP_UNIT_SESSION };
enum exp_surface { EXP_RECOMMEND = 1, EXP_UPSELL = 2 };

/* The blend's weights a variant may set (models.h's blend settings). */
enum exp_blend { EXP_COMPLEMENTS, EXP_PERSONAL, EXP_CONTENT, EXP_PEERS, EXP_OWN, EXP_BLEND_N };

struct exp_variant {
    char name[EXP_NAME_MAX + 1];
    double weight;
    /* what it changes; -1 / NAN: as served */
    int strategy;  /* recommend.h's enum rec_strategy */
    int objective; /* /recommend: rec_objective; /upsell: 0 revenue, 1 margin */
    bool off;      /* no recommendations at all: a holdout */
    double blend[EXP_BLEND_N];
};

struct experiment {
    char id[ID_MAX + 1];
    enum exp_unit unit;
    unsigned surfaces; /* enum exp_surface bits */
    double start, end; /* epoch seconds; end INFINITY: open */
    double planned_units;
    int nvariants; /* the first is the control */
    struct exp_variant variant[EXP_VARIANTS_MAX];
};

/* The variant index unit (an id) gets, by weight. */
int experiment_assign(const struct experiment *e, const char *unit);
/* A number in [0, 1) from the experiment's and the unit's ids (exposed for tests). */
double experiment_hash(const char *experiment, const char *unit);

#endif
