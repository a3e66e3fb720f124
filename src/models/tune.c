#include "xsell/tune.h"

#include <math.h>
#include <stddef.h>

#include "xsell/eval.h"
#include "xsell/log.h"
#include "xsell/recommend.h"
#include "xsell/snapshot.h"

#define DAY_S 86400.0

const char *const tune_setting_names[] = {
    "blend_complements", "blend_personal",  "blend_content", "blend_peers",
    "buy_again_base",    "buy_again_scale", "buy_again_max", "repeat_half_life_days"};

/* Each setting's grid. */
static const double grid_weight[] = {0, 0.25, 0.5, 1, 2, 4};
static const double grid_base[] = {0, 0.1, 0.2, 0.3, 0.5, 0.7, 1};
static const double grid_scale[] = {0, 0.5, 1, 1.5, 2, 3, 5, 10};
static const double grid_max[] = {0.2, 0.3, 0.5, 0.7, 0.9, 1};
static const double grid_half_life[] = {15, 30, 90, 180, 365, 1e6};

static const struct {
    const double *v;
    int n;
} grids[] = {
    {grid_weight, (int)ARRAY_SIZE(grid_weight)},       /* blend_complements */
    {grid_weight, (int)ARRAY_SIZE(grid_weight)},       /* blend_personal */
    {grid_weight, (int)ARRAY_SIZE(grid_weight)},       /* blend_content */
    {grid_weight, (int)ARRAY_SIZE(grid_weight)},       /* blend_peers */
    {grid_base, (int)ARRAY_SIZE(grid_base)},           /* buy_again_base */
    {grid_scale, (int)ARRAY_SIZE(grid_scale)},         /* buy_again_scale */
    {grid_max, (int)ARRAY_SIZE(grid_max)},             /* buy_again_max */
    {grid_half_life, (int)ARRAY_SIZE(grid_half_life)}, /* repeat_half_life_days */
};

static const size_t offsets[] = {
    offsetof(struct model_params, blend_complements),
    offsetof(struct model_params, blend_personal),
    offsetof(struct model_params, blend_content),
    offsetof(struct model_params, blend_peers),
    offsetof(struct model_params, buy_again_base),
    offsetof(struct model_params, buy_again_scale),
    offsetof(struct model_params, buy_again_max),
    offsetof(struct model_params, repeat_half_life_days),
};

_Static_assert(ARRAY_SIZE(grids) == TUNE_SETTINGS && ARRAY_SIZE(offsets) == TUNE_SETTINGS,
               "one grid and one field per tuned setting");

static double *field(struct model_params *p, int i)
{
    return (double *)(void *)((char *)p + offsets[i]);
}

static double value_of(const struct model_params *p, int i)
{
    return *(const double *)(const void *)((const char *)p + offsets[i]);
}

void tune_keep(struct model_params *to, const struct model_params *from)
{
    for (int i = 0; i < TUNE_SETTINGS; i++)
        *field(to, i) = value_of(from, i);
}

/* The blend's score with the settings v on the validation window (a trial). */
static void trial(const struct history *h, struct snapshot *sv, double until, const double *v,
                  struct tune_result *out)
{
    struct tune_trial *t = &out->trial[out->ntrials++];
    for (int i = 0; i < TUNE_SETTINGS; i++)
        *field(&sv->params, i) = t->value[i] = v[i];
    struct eval_method em;
    out->customers = eval_blend(h, sv, until, TUNE_CUSTOMERS, &em);
    t->recall = em.recall;
    t->ndcg = em.ndcg;
}

/* Buy-again's mean share of a list over sv's customers with the settings v. */
static double mean_share(struct snapshot *sv, const double *v)
{
    for (int i = 0; i < TUNE_SETTINGS; i++)
        *field(&sv->params, i) = v[i];
    size_t n = history_ncustomers(&sv->hist);
    double sum = 0;
    for (size_t c = 0; c < n; c++)
        sum += recommend_buy_again_share(sv, (int32_t)c);
    return n ? sum / (double)n : 0;
}

void tune_recommend(const struct history *h, double holdout_days, double budget_s,
                    struct model_params *p, struct tune_result *out)
{
    double t0 = mono_seconds();
    memset(out, 0, sizeof(*out));
    out->until = h->t_max - holdout_days * DAY_S;
    out->cut = out->until - holdout_days * DAY_S;
    char err[300];
    struct snapshot *sv =
        holdout_days > 0 ? eval_fit_at(h, h, out->cut, p, err, sizeof(err)) : NULL;
    if (!sv) {
        snprintf(out->why, sizeof(out->why), "no validation window: %.150s",
                 holdout_days > 0 ? err : "the evaluations are off");
        out->seconds = mono_seconds() - t0;
        return;
    }
    double best[TUNE_SETTINGS], start[TUNE_SETTINGS];
    for (int i = 0; i < TUNE_SETTINGS; i++)
        start[i] = best[i] = value_of(p, i);
    trial(h, sv, out->until, best, out);
    if (out->customers < TUNE_MIN_CUSTOMERS) {
        snprintf(out->why, sizeof(out->why),
                 "%ld customers bought in the validation window, fewer than %d: the settings "
                 "stay",
                 out->customers, TUNE_MIN_CUSTOMERS);
        snapshot_unref(sv);
        out->seconds = mono_seconds() - t0;
        return;
    }
    double best_recall = out->trial[0].recall;
    bool over = false;
    for (int pass = 0; pass < 2 && !over; pass++)
        for (int i = 0; i < TUNE_SETTINGS && !over; i++)
            for (int g = 0; g < grids[i].n; g++) {
                if (out->ntrials == TUNE_MAX_TRIALS || mono_seconds() - t0 > budget_s) {
                    over = true;
                    break;
                }
                if (grids[i].v[g] == best[i])
                    continue;
                double v[TUNE_SETTINGS];
                memcpy(v, best, sizeof(v));
                v[i] = grids[i].v[g];
                trial(h, sv, out->until, v, out);
                if (out->trial[out->ntrials - 1].recall > best_recall + TUNE_MIN_GAIN) {
                    best_recall = out->trial[out->ntrials - 1].recall;
                    best[i] = v[i];
                    out->chosen = out->ntrials - 1;
                }
            }
    if (over)
        snprintf(out->why, sizeof(out->why), "the search stopped at %d trials or %.0f s",
                 out->ntrials, budget_s);
    out->share_start = mean_share(sv, start);
    out->share_chosen = mean_share(sv, best);
    for (int i = 0; i < TUNE_SETTINGS; i++)
        *field(p, i) = best[i];
    out->tuned = true;
    snapshot_unref(sv);
    out->seconds = mono_seconds() - t0;
}
