/* models.c - the registry's tables (models.h) and the fit loop. */
#include "xsell/models.h"

#include <assert.h>

#include "xsell/log.h"
#include "xsell/snapshot.h"

const struct model_desc model_table[MODELS_COUNT] = {
#define MODEL_DESC(member, type, name_, deps_, eval_)                                              \
    {.name = name_, .deps = (deps_), .eval = (eval_), .train = type##_train},
    MODELS(MODEL_DESC)
#undef MODEL_DESC
};

#define SETTING_TYPE(field)                                                                        \
    _Generic(((struct model_params *)0)->field, double                                             \
             : SETTING_DOUBLE, int                                                                 \
             : SETTING_INT, long                                                                   \
             : SETTING_LONG)

const struct model_setting model_settings[] = {
#define SETTING_ROW(model_, field, type_, env_, min_, max_, def_, what_)                           \
    {.model = #model_,                                                                             \
     .env = env_,                                                                                  \
     .what = what_,                                                                                \
     .type = SETTING_TYPE(field),                                                                  \
     .offset = offsetof(struct model_params, field),                                               \
     .min = (min_),                                                                                \
     .max = (max_),                                                                                \
     .def = (def_)},
    MODEL_SETTINGS(SETTING_ROW)
#undef SETTING_ROW
};
const int model_settings_count = (int)ARRAY_SIZE(model_settings);

void model_params_defaults(struct model_params *p)
{
    memset(p, 0, sizeof(*p));
#define SETTING_DEFAULT(model, field, type, env, min, max, def, what) p->field = (type)(def);
    MODEL_SETTINGS(SETTING_DEFAULT)
#undef SETTING_DEFAULT
}

int models_fit(struct snapshot *s, const struct model_params *p, bool eval_only,
               struct model_figures *out, char *err, size_t errlen)
{
    unsigned fitted = 0;
    memset(out, 0, sizeof(*out));
    s->as_of = p->as_of;
    s->params = *p;
    for (int i = 0; i < MODELS_COUNT; i++) {
        const struct model_desc *m = &model_table[i];
        if (eval_only && !m->eval)
            continue;
        /* the table lists a model after what it reads; an evaluation model never
         * reads one the evaluations skip */
        assert((m->deps & ~fitted) == 0);
        double t = mono_seconds();
        char why[300];
        if (m->train(s, p, &out->fig[i], why, sizeof(why)))
            return fmt_error(err, errlen, "%s: %s", m->name, why);
        out->seconds[i] = mono_seconds() - t;
        fitted |= 1u << i;
    }
    s->params.churn_prev = NULL; /* the serving snapshot's: not ours to keep */
    return 0;
}
