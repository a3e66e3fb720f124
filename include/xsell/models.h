/* models.h - the model registry: the one list of xsell's models and of their
 * settings. The snapshot's members, the fit loop (in this order, timed per model),
 * the settings read from the environment and the evaluation fits are all generated
 * from the two tables below.
 *
 * Adding a model: its file (model_NAME.c with model_NAME_train(), the adapter from
 * a snapshot to its fit), one MODELS line, its settings' MODEL_SETTINGS lines, and
 * its handler and route row. */
#ifndef XSELL_MODELS_H
#define XSELL_MODELS_H

#include "xsell/figures.h"
#include "xsell/model_assoc.h"
#include "xsell/model_churn.h"
#include "xsell/model_content.h"
#include "xsell/model_coview.h"
#include "xsell/model_item2item.h"
#include "xsell/model_peers.h"
#include "xsell/model_popular.h"
#include "xsell/model_price.h"
#include "xsell/model_repeat.h"
#include "xsell/model_sales.h"
#include "xsell/model_upsell.h"

/* X(member, type, name, deps, eval): the snapshot's member `struct type member`,
 * fitted by type_train() and named name in each run's report; deps are the members it reads
 * (MODEL_DEP(a) | MODEL_DEP(b)), which come earlier in the list; eval: the offline evaluations read
 * it, so their fits of an earlier cut include it. Save and load for persisted snapshots come with
 * them: model_NAME_save and model_NAME_load, in its file. */
#define MODELS(X)                                                                                  \
    X(popular, model_popular, "popular", 0, true)                                                  \
    X(assoc, model_assoc, "assoc", 0, true)                                                        \
    X(i2i, model_item2item, "item2item", 0, true)                                                  \
    X(coview, model_coview, "also_viewed", 0, false)                                               \
    X(content, model_content, "content", 0, true)                                                  \
    X(repeat, model_repeat, "repeat", 0, true)                                                     \
    X(peers, model_peers, "peers", 0, true)                                                        \
    X(upsell, model_upsell, "upsell", MODEL_DEP(repeat) | MODEL_DEP(content), true)                \
    X(churn, model_churn, "churn", 0, true)                                                        \
    X(price, model_price, "price", 0, false)                                                       \
    X(sales, model_sales, "forecast", 0, false)

/* X(model, field, type, ENV, min, max, default, what): a setting of model, read from
 * the environment variable ENV into struct model_params' field (type double, int or
 * long), checked against min..max. */
#define MODEL_SETTINGS(X)                                                                          \
    X(popular, half_life_days, double, "XSELL_POPULAR_HALF_LIFE_DAYS", 0.1, 3650, 30,              \
      "popularity's half-life, days")                                                              \
    X(assoc, assoc_min_count, long, "XSELL_ASSOC_MIN_COUNT", 2, 1000000, 5,                        \
      "baskets an itemset needs")                                                                  \
    X(i2i, ease_max_items, int, "XSELL_EASE_MAX_ITEMS", 0, 20000, 3000,                            \
      "EASE up to this many products, item-kNN beyond")                                            \
    X(i2i, ease_lambda, double, "XSELL_EASE_LAMBDA", 0.001, 1e7, 50,                               \
      "EASE's L2 penalty (a starting point when XSELL_TUNE=1)")                                    \
    X(i2i, knn_shrink, double, "XSELL_KNN_SHRINK", 0, 1e6, 10,                                     \
      "item-kNN's shrinkage: co-buyers / (sqrt(buyers x buyers) + this) (the same)")               \
    X(i2i, click_weight, double, "XSELL_CLICK_WEIGHT", 0, 1, 0,                                    \
      "a click's entry in the item-to-item models, a purchase's 1 (the same)")                     \
    X(i2i, cart_weight, double, "XSELL_CART_WEIGHT", 0, 1, 0,                                      \
      "a cart add's entry in the item-to-item models, a purchase's 1 (the same)")                  \
    X(recommend, blend_complements, double, "XSELL_BLEND_COMPLEMENTS", 0, 100, 1.0,                \
      "the blend's weight of complements (a starting point when XSELL_TUNE=1)")                    \
    X(recommend, blend_personal, double, "XSELL_BLEND_PERSONAL", 0, 100, 0.7,                      \
      "the blend's weight of similar customers' products (the same)")                              \
    X(recommend, blend_content, double, "XSELL_BLEND_CONTENT", 0, 100, 0.5,                        \
      "the blend's weight of similar products by catalogue text (the same)")                       \
    X(recommend, blend_peers, double, "XSELL_BLEND_PEERS", 0, 100, 0,                              \
      "the blend's weight of what the customer's nearest customers buy (the same)")                \
    X(recommend, blend_own, double, "XSELL_BLEND_OWN", 0, 100, 0,                                  \
      "the blend's weight of the customer's own products ranked with the other lists on one "      \
      "scale, beside buy-again's own slots (the same)")                                            \
    X(recommend, buy_again_base, double, "XSELL_BUY_AGAIN_BASE", 0, 1, 0,                          \
      "buy-again's share of a list: this, plus the next one's")                                    \
    X(recommend, buy_again_scale, double, "XSELL_BUY_AGAIN_SCALE", 0, 10, 1.0,                     \
      "times the customer's share of repeat purchases")                                            \
    X(recommend, buy_again_max, double, "XSELL_BUY_AGAIN_MAX", 0, 1, 0.5,                          \
      "buy-again's largest share of a list")                                                       \
    X(recommend, repeat_half_life_days, double, "XSELL_REPEAT_HALF_LIFE_DAYS", 1, 1e6, 90,         \
      "buy-again's ranking: times bought, halved per this many days since the last")               \
    X(recommend, history_half_life_days, double, "XSELL_HISTORY_HALF_LIFE_DAYS", 1, 1e6, 180,      \
      "a customer's products as the personal list's sources: halved per this many days (the "      \
      "same)")                                                                                     \
    X(recommend, content_handover, double, "XSELL_CONTENT_HANDOVER", 0.1, 1e6, 10,                 \
      "buyers at which a product's behaviour and its catalogue text weigh the same (the same)")    \
    X(recommend, tune, int, "XSELL_TUNE", 0, 1, 1,                                                 \
      "choose the blend's settings, EASE's or item-kNN's and popularity's on a validation "        \
      "window at each full run (tune.h)")                                                          \
    X(churn, churn_horizon_days, double, "XSELL_CHURN_HORIZON_DAYS", 1, 3650, 90,                  \
      "/churn's default horizon, days")                                                            \
    X(churn, churn_discount, double, "XSELL_CHURN_DISCOUNT", 0, 1, 0.10,                           \
      "annual discount rate of the 12-month CLV")                                                  \
    X(price, price_max_change, double, "XSELL_PRICE_MAX_CHANGE", 0, 0.9, 0.10,                     \
      "/price's default step from the current price")                                              \
    X(price, price_min_margin, double, "XSELL_PRICE_MIN_MARGIN", 0, 0.95, 0,                       \
      "/price's default least (price - cost) / price")                                             \
    X(price, restock_days, double, "XSELL_RESTOCK_DAYS", 1, 90, 14,                                \
      "days until a product's stock is replenished: /price weighs its stock against the "          \
      "forecast demand over them, /recommend and /upsell hold back what it falls short of")        \
    X(retention, offer_discount, int, "XSELL_OFFER_DISCOUNT", 0, 1, 1,                             \
      "/retention may offer a discount on a product the customer is likely to buy (1) or not (0)") \
    X(retention, offer_upgrade, int, "XSELL_OFFER_UPGRADE", 0, 1, 1,                               \
      "/retention may offer a pricier alternative from /upsell (1) or not (0)")                    \
    X(retention, offer_max_discount, double, "XSELL_OFFER_MAX_DISCOUNT", 0, 0.9, 0.20,             \
      "the largest discount /retention offers, a fraction of the price (tried in 5% steps)")

enum model_id {
#define MODEL_ENUM(member, type, name, deps, eval) MODEL_##member,
    MODELS(MODEL_ENUM)
#undef MODEL_ENUM
        MODELS_COUNT
};
#define MODEL_DEP(member) (1u << MODEL_##member)

struct snapshot;
struct model_params {
#define MODEL_PARAM_FIELD(model, field, type, env, min, max, def, what) type field;
    MODEL_SETTINGS(MODEL_PARAM_FIELD)
#undef MODEL_PARAM_FIELD
    /* not settings: given by the run */
    double as_of;         /* the models' "now" */
    int threads;          /* models fitted side by side (at least 1) */
    int forecast_threads; /* the sales forecasts' threads; 0: no forecasts */
    bool keep_estimates;  /* an update between full refits: keep what they estimate */
    const struct model_content *content_prev; /* the catalogue is unchanged: reuse these */
    const struct model_sales *sales_prev;     /* the serving forecasts: their ETS forms */
    /* what each model kept in the serving snapshot, scaled to this run's lines (0:
     * unknown): checked against the memory budget before the model is fitted */
    size_t expect_bytes[MODELS_COUNT];
    const struct model_churn *churn_prev; /* the serving one's fits, or NULL */
    /* Called (unless NULL) by the worker that fitted a model, once it is: work that
     * reads only that model and the history (the churn scores' table) can start
     * while the others are still being fitted. */
    void (*fitted)(const struct snapshot *s, enum model_id model, void *ctx);
    void *fitted_ctx;
};

/* One row of MODEL_SETTINGS, for code that walks them (config_load). */
enum setting_type { SETTING_DOUBLE, SETTING_INT, SETTING_LONG };
struct model_setting {
    const char *model, *env, *what;
    enum setting_type type;
    size_t offset; /* into struct model_params */
    double min, max, def;
};
extern const struct model_setting model_settings[];
extern const int model_settings_count;

/* Every setting at its default (the run's fields zero). */
void model_params_defaults(struct model_params *p);

/* One row of MODELS. */
struct model_desc {
    const char *name;
    unsigned deps; /* MODEL_DEP bits */
    bool eval;
    /* Fits the model into its member of s from s->hist (finished), its memory from a
     * (other models fit at the same time: it reads only s->hist and its deps); figures
     * into fig.
     * -1 with err when it cannot be fitted. */
    int (*train)(struct snapshot *s, struct arena *a, const struct model_params *p,
                 struct figures *fig, char *err, size_t errlen);
    /* Writes its member of s as sections named "NAME.*" (snapfile.h), and reads them
     * back into s: arrays point into the file's bytes (read-only), the rest from s's
     * arena; a mismatch marks r failed. */
    void (*save)(const struct snapshot *s, struct snapw *w);
    void (*load)(struct snapshot *s, struct snapr *r);
};
extern const struct model_desc model_table[MODELS_COUNT];

struct model_figures {
    struct figures fig[MODELS_COUNT];
    double seconds[MODELS_COUNT]; /* each fit's wall time; 0 when not fitted */
    size_t bytes[MODELS_COUNT];   /* the memory each model keeps in the snapshot */
};

/* Fits every model into s (its history must be finished), or with eval_only those
 * the evaluations read: p->threads at a time, each once what it reads is fitted, each
 * into its own arena (adopted by s's when all are done, so its bytes are known). Sets
 * s->as_of and s->params. -1 with err naming a model that could not be fitted. */
int models_fit(struct snapshot *s, const struct model_params *p, bool eval_only,
               struct model_figures *out, char *err, size_t errlen);

/* The adapters, one per MODELS line, in each model's own file. */
#define MODEL_TRAIN_DECL(member, type, name, deps, eval)                                           \
    int type##_train(struct snapshot *s, struct arena *a, const struct model_params *p,            \
                     struct figures *fig, char *err, size_t errlen);
MODELS(MODEL_TRAIN_DECL)
#undef MODEL_TRAIN_DECL
struct snapw;
struct snapr;
#define MODEL_IO_DECL(member, type, name, deps, eval)                                              \
    void type##_save(const struct snapshot *s, struct snapw *w);                                   \
    void type##_load(struct snapshot *s, struct snapr *r);
MODELS(MODEL_IO_DECL)
#undef MODEL_IO_DECL

#endif
