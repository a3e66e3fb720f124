#include "xsell/tune.h"

#include <math.h>
#include <stddef.h>

#include "xsell/eval.h"
#include "xsell/log.h"
#include "xsell/recommend.h"
#include "xsell/snapshot.h"

#define DAY_S    86400.0
#define TUNE_TOP 10 /* the lists scored are this long */

const char *const tune_setting_names[] = {"blend_complements",
                                          "blend_personal",
                                          "blend_content",
                                          "blend_peers",
                                          "blend_own",
                                          "buy_again_base",
                                          "buy_again_scale",
                                          "buy_again_max",
                                          "repeat_half_life_days",
                                          "content_handover",
                                          "history_half_life_days",
                                          "ease_lambda",
                                          "knn_shrink",
                                          "click_weight",
                                          "cart_weight",
                                          "half_life_days"};

/* Each setting's grid. */
static const double grid_weight[] = {0, 0.25, 0.5, 1, 2, 4};
static const double grid_base[] = {0, 0.1, 0.2, 0.3, 0.5, 0.7, 1};
static const double grid_scale[] = {0, 0.5, 1, 1.5, 2, 3, 5, 10};
static const double grid_max[] = {0.2, 0.3, 0.5, 0.7, 0.9, 1};
static const double grid_half_life[] = {15, 30, 90, 180, 365, 1e6};
static const double grid_handover[] = {1, 3, 10, 30, 100};
static const double grid_lambda[] = {5, 20, 50, 200, 1000};
static const double grid_shrink[] = {0, 3, 10, 30, 100};
static const double grid_popular[] = {7, 30, 90, 365};
static const double grid_signal[] = {0, 0.1, 0.25, 0.5, 1};

/* The settings in search order: those read at query time first (a trial scores
 * again), then those a model is fitted with (a trial refits that model too). */
static const struct {
    const double *v;
    size_t offset; /* into struct model_params */
    int n;
    int refit; /* the model a trial refits, -1: none */
} settings[] = {
#define S(grid, name, model)                                                                       \
    {                                                                                              \
        grid, offsetof(struct model_params, name), (int)ARRAY_SIZE(grid), model                    \
    }
    S(grid_weight, blend_complements, -1),
    S(grid_weight, blend_personal, -1),
    S(grid_weight, blend_content, -1),
    S(grid_weight, blend_peers, -1),
    S(grid_weight, blend_own, -1),
    S(grid_base, buy_again_base, -1),
    S(grid_scale, buy_again_scale, -1),
    S(grid_max, buy_again_max, -1),
    S(grid_half_life, repeat_half_life_days, -1),
    S(grid_handover, content_handover, -1),
    S(grid_half_life, history_half_life_days, -1),
    S(grid_lambda, ease_lambda, MODEL_i2i),
    S(grid_shrink, knn_shrink, MODEL_i2i),
    S(grid_signal, click_weight, MODEL_i2i),
    S(grid_signal, cart_weight, MODEL_i2i),
    S(grid_popular, half_life_days, MODEL_popular),
#undef S
};

_Static_assert(ARRAY_SIZE(settings) == TUNE_SETTINGS &&
                   ARRAY_SIZE(tune_setting_names) == TUNE_SETTINGS,
               "one grid, field and name per tuned setting");

static double *field(struct model_params *p, int i)
{
    return (double *)(void *)((char *)p + settings[i].offset);
}

static double value_of(const struct model_params *p, int i)
{
    return *(const double *)(const void *)((const char *)p + settings[i].offset);
}

void tune_keep(struct model_params *to, const struct model_params *from)
{
    for (int i = 0; i < TUNE_SETTINGS; i++)
        *field(to, i) = value_of(from, i);
}

/* What the search maximises: the mean of the next baskets' Recall@10 and NDCG@10 (how
 * many of their products the list holds, and how high) and the carts' HitRate@10. */
static double objective(const struct tune_trial *t)
{
    return (t->recall + t->ndcg + t->cart_hit) / 3;
}

/* The second starting point's query-time settings (the others as configured). */
static const struct {
    size_t offset;
    double value;
} own_start[] = {
    {offsetof(struct model_params, blend_complements), 0},
    {offsetof(struct model_params, blend_personal), 0},
    {offsetof(struct model_params, blend_content), 0},
    {offsetof(struct model_params, blend_peers), 0.25},
    {offsetof(struct model_params, blend_own), 1},
    {offsetof(struct model_params, buy_again_base), 0},
    {offsetof(struct model_params, buy_again_scale), 0},
};

/* A model's member of a snapshot, kept while a trial refits it. */
union member {
    struct model_item2item i2i;
    struct model_popular popular;
};

static void member_swap(struct snapshot *s, int model, union member *m)
{
    union member t = *m;
    if (model == MODEL_i2i) {
        m->i2i = s->i2i;
        s->i2i = t.i2i;
    } else {
        m->popular = s->popular;
        s->popular = t.popular;
    }
}

/* Refits setting i's model (if it has one) in sv with sv's parameters, its memory
 * from a; the fit it replaced into old. -1 when it cannot be fitted (sv as it was). */
static int refit(struct snapshot *sv, int i, struct arena *a, union member *old)
{
    int model = settings[i].refit;
    if (model < 0)
        return 0;
    struct figures fig = {0};
    char err[200];
    member_swap(sv, model, old); /* old holds the current fit; sv's member is overwritten */
    if (model_table[model].train(sv, a, &sv->params, &fig, err, sizeof(err)) == 0)
        return 0;
    member_swap(sv, model, old);
    return -1;
}

/* Whether the history holds signals of kind k. */
static bool has_signals(const struct history *h, enum signal_kind k)
{
    for (size_t i = 0; i < h->nsignals; i++)
        if (h->sig_kind[i] == k)
            return true;
    return false;
}

/* Whether setting i applies to sv: EASE's penalty where EASE serves, item-kNN's
 * shrinkage where item-kNN does, a signal's weight where the shop has such signals. */
static bool applies(const struct snapshot *sv, int i)
{
    if (settings[i].offset == offsetof(struct model_params, click_weight))
        return has_signals(&sv->hist, SIGNAL_CLICK);
    if (settings[i].offset == offsetof(struct model_params, cart_weight))
        return has_signals(&sv->hist, SIGNAL_CART);
    if (settings[i].offset == offsetof(struct model_params, ease_lambda))
        return sv->i2i.ease;
    if (settings[i].offset == offsetof(struct model_params, knn_shrink))
        return !sv->i2i.ease;
    return true;
}

static void set_params(struct snapshot *sv, const double *v)
{
    for (int i = 0; i < TUNE_SETTINGS; i++)
        *field(&sv->params, i) = v[i];
}

/* The blend's score with the settings v on the validation window (a trial); the
 * models the settings change are fitted with them already. */
static void trial(const struct history *h, struct snapshot *sv, double until, const double *v,
                  struct tune_result *out)
{
    struct tune_trial *t = &out->trial[out->ntrials++];
    set_params(sv, v);
    for (int i = 0; i < TUNE_SETTINGS; i++)
        t->value[i] = v[i];
    struct eval_method em;
    out->customers = eval_blend(h, sv, until, TUNE_CUSTOMERS, &em);
    t->recall = em.recall;
    t->ndcg = em.ndcg;
    t->cart_hit = em.cart_hit;
}

/* The mean share of the customers' own products in their lists (auto, purchases
 * included, TUNE_TOP long: buy-again's slots and the blend's own list together) with
 * the settings v, over up to TUNE_CUSTOMERS of sv's customers spread over them all. */
static double mean_share(struct snapshot *sv, const double *v)
{
    set_params(sv, v);
    const struct history *h = &sv->hist;
    size_t n = history_ncustomers(h), step = n / TUNE_CUSTOMERS + 1;
    double sum = 0;
    long k = 0;
    for (size_t c = 0; c < n; c += step) {
        struct arena a;
        arena_init(&a);
        struct rec_query q = {.customer = (int32_t)c,
                              .strategy = REC_AUTO,
                              .limit = TUNE_TOP,
                              .include_purchased = true,
                              .max_price = 1e300};
        struct rec_result r;
        recommend(sv, &q, &a, &r);
        int own = 0;
        for (int i = 0; i < r.n; i++)
            own += history_customer_bought(h, (int32_t)c, r.items[i].product);
        if (r.n > 0) {
            sum += (double)own / r.n;
            k++;
        }
        arena_release(&a);
    }
    return k ? sum / (double)k : 0;
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
    double best_score = objective(&out->trial[0]);
    /* a second starting point: the customer's own products and their nearest
     * customers' on one scale, buy-again's slots off (TIFU-kNN's composition); the
     * search starts from the better of the two */
    double own[TUNE_SETTINGS];
    memcpy(own, best, sizeof(own));
    for (int i = 0; i < TUNE_SETTINGS; i++)
        for (size_t k = 0; k < ARRAY_SIZE(own_start); k++)
            if (settings[i].offset == own_start[k].offset)
                own[i] = own_start[k].value;
    trial(h, sv, out->until, own, out);
    if (objective(&out->trial[1]) > best_score + TUNE_MIN_GAIN) {
        best_score = objective(&out->trial[1]);
        memcpy(best, own, sizeof(best));
        out->chosen = 1;
    }
    bool over = false, apply[TUNE_SETTINGS];
    for (int i = 0; i < TUNE_SETTINGS; i++) /* once: applies() may scan every signal */
        apply[i] = applies(sv, i);
    for (int pass = 0; pass < 2 && !over; pass++)
        for (int i = 0; i < TUNE_SETTINGS && !over; i++)
            for (int g = 0; g < settings[i].n; g++) {
                if (out->ntrials == TUNE_MAX_TRIALS || mono_seconds() - t0 > budget_s) {
                    over = true;
                    break;
                }
                if (settings[i].v[g] == best[i] || !apply[i])
                    continue;
                double v[TUNE_SETTINGS];
                memcpy(v, best, sizeof(v));
                v[i] = settings[i].v[g];
                struct arena a;
                union member old;
                arena_init(&a);
                set_params(sv, v);
                if (refit(sv, i, &a, &old)) {
                    arena_release(&a);
                    continue;
                }
                trial(h, sv, out->until, v, out);
                if (objective(&out->trial[out->ntrials - 1]) > best_score + TUNE_MIN_GAIN) {
                    best_score = objective(&out->trial[out->ntrials - 1]);
                    best[i] = v[i];
                    out->chosen = out->ntrials - 1;
                    arena_adopt(&sv->arena, &a); /* the fit serves the next trials */
                } else if (settings[i].refit >= 0) {
                    member_swap(sv, settings[i].refit, &old); /* back to the best's fit */
                    arena_release(&a);
                } else {
                    arena_release(&a);
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
