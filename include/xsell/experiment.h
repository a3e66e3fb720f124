/* experiment.h - an experiment's definition and who sees which variant. Assignment is
 * a hash of the experiment's id and the unit's (customer or session) id: the same on
 * every replica and every request, with no state kept. */
#ifndef XSELL_EXPERIMENT_H
#define XSELL_EXPERIMENT_H

#include "xsell/abtest.h"
#include "xsell/caps.h"
#include "xsell/common.h"

#define EXP_VARIANTS_MAX 8
#define EXP_NAME_MAX     64
#define EXP_ALPHA        0.05
#define EXP_SRM_P        0.001 /* a split this unlikely under the weights is flagged */
#define EXP_PRE_DAYS     28    /* the pre-period whose spend is CUPED's covariate */

enum exp_unit { EXP_UNIT_CUSTOMER, EXP_UNIT_SESSION };
enum exp_surface { EXP_RECOMMEND = 1, EXP_UPSELL = 2, EXP_RETENTION = 4 };

/* The blend's weights a variant may set (models.h's blend settings). */
enum exp_blend { EXP_COMPLEMENTS, EXP_PERSONAL, EXP_CONTENT, EXP_PEERS, EXP_OWN, EXP_BLEND_N };

struct exp_variant {
    char name[EXP_NAME_MAX + 1];
    double weight;
    /* what it changes; -1 / NAN: as served */
    int strategy;        /* recommend.h's enum rec_strategy */
    int objective;       /* /recommend: rec_objective; /upsell: 0 revenue, 1 margin */
    bool off;            /* no recommendations (no retention offer) at all: a holdout */
    double max_discount; /* /retention's largest discount (retention.h) */
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

/* One exposed unit: its variant, and what it did from its first exposure on (and
 * spent in the EXP_PRE_DAYS before the start). */
struct exp_unit_row {
    int variant; /* index into the definition's variants; -1: a name it no longer has */
    double exposures, orders, revenue, margin, pre_revenue;
};

/* An experiment's units summed per variant, and the split checked. */
struct exp_summary {
    double units[EXP_VARIANTS_MAX], exposures[EXP_VARIANTS_MAX], converted[EXP_VARIANTS_MAX];
    struct ab_arm revenue[EXP_VARIANTS_MAX], margin[EXP_VARIANTS_MAX]; /* pre-period covariate */
    double weights[EXP_VARIANTS_MAX], wsum, total;
    double srm_p; /* flagged below EXP_SRM_P */
};
void experiment_summarize(const struct experiment *e, const struct exp_unit_row *rows, size_t n,
                          struct exp_summary *out);
/* Variant v (> 0) against the control on revenue and margin per unit (always-valid,
 * tightest at the planned units), and what it says: "variant wins" or "control wins"
 * when the 95% interval (CUPED's for customers, who have a pre-period) leaves 0 out,
 * else "no difference at this power" when done (ended, or the planned units reached),
 * else "keep running". */
const char *experiment_compare(const struct experiment *e, const struct exp_summary *s, int v,
                               bool done, struct ab_result *revenue, struct ab_result *margin);

/* The variant index unit (an id) gets, by weight. */
int experiment_assign(const struct experiment *e, const char *unit);
/* A number in [0, 1) from the experiment's and the unit's ids (exposed for tests). */
double experiment_hash(const char *experiment, const char *unit);

#endif
