/* models.c - the registry's tables (models.h) and the fit loop. */
#include "xsell/models.h"

#include <assert.h>
#include <pthread.h>

#include "xsell/log.h"
#include "xsell/membudget.h"
#include "xsell/snapshot.h"

const struct model_desc model_table[MODELS_COUNT] = {
#define MODEL_DESC(member, type, name_, deps_, eval_)                                              \
    {.name = name_,                                                                                \
     .deps = (deps_),                                                                              \
     .eval = (eval_),                                                                              \
     .train = type##_train,                                                                        \
     .save = type##_save,                                                                          \
     .load = type##_load},
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

/* One models_fit call: the models still to take, those done, the first failure. */
struct fit_run {
    struct snapshot *s;
    const struct model_params *p;
    struct model_figures *out;
    struct arena arena[MODELS_COUNT];
    pthread_mutex_t mu;
    pthread_cond_t changed;
    unsigned want, taken, done;
    bool failed;
    char err[400];
};

/* The next model whose inputs are fitted, from the table's end (the costly ones are
 * last: started first, they finish with the rest); -1 when none is ready yet. */
static int next_ready(const struct fit_run *r)
{
    for (int i = MODELS_COUNT; i-- > 0;) {
        unsigned bit = 1u << i;
        if ((r->want & bit) && !(r->taken & bit) && (model_table[i].deps & ~r->done) == 0)
            return i;
    }
    return -1;
}

static void *fit_worker(void *arg)
{
    struct fit_run *r = arg;
    pthread_mutex_lock(&r->mu);
    while (!r->failed && r->taken != r->want) {
        int i = next_ready(r);
        if (i < 0) {
            pthread_cond_wait(&r->changed, &r->mu);
            continue;
        }
        r->taken |= 1u << i;
        pthread_mutex_unlock(&r->mu);
        const struct model_desc *m = &model_table[i];
        double t = mono_seconds();
        char why[300];
        int rc = membudget_check(r->p->expect_bytes[i], "the model", why, sizeof(why)) ||
                 m->train(r->s, &r->arena[i], r->p, &r->out->fig[i], why, sizeof(why));
        r->out->seconds[i] = mono_seconds() - t;
        r->out->bytes[i] = r->arena[i].bytes;
        if (rc == 0 && r->p->fitted)
            r->p->fitted(r->s, (enum model_id)i, r->p->fitted_ctx);
        pthread_mutex_lock(&r->mu);
        if (rc && !r->failed)
            fmt_error(r->err, sizeof(r->err), "%s: %s", m->name, why);
        r->failed |= rc != 0;
        r->done |= rc ? 0 : 1u << i;
        pthread_cond_broadcast(&r->changed);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

int models_fit(struct snapshot *s, const struct model_params *p, bool eval_only,
               struct model_figures *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    s->as_of = p->as_of;
    s->params = *p;
    struct fit_run r = {.s = s, .p = p, .out = out};
    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.changed, NULL);
    for (int i = 0; i < MODELS_COUNT; i++) {
        arena_init(&r.arena[i]);
        if (!eval_only || model_table[i].eval)
            r.want |= 1u << i;
        /* an evaluation model never reads one the evaluations skip */
        assert(!eval_only || !model_table[i].eval ||
               (model_table[i].deps & ~r.want & ((1u << i) - 1)) == 0);
    }
    pthread_t tid[MODELS_COUNT];
    int started = 0;
    for (int i = 1; i < MIN(p->threads, MODELS_COUNT); i++)
        if (pthread_create(&tid[started], NULL, fit_worker, &r) == 0)
            started++;
    fit_worker(&r);
    for (int i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
    for (int i = 0; i < MODELS_COUNT; i++)
        arena_adopt(&s->arena, &r.arena[i]);
    pthread_mutex_destroy(&r.mu);
    pthread_cond_destroy(&r.changed);
    /* the serving snapshot's: not ours to keep */
    s->params.churn_prev = NULL;
    s->params.content_prev = NULL;
    s->params.sales_prev = NULL;
    s->params.fitted = NULL;
    s->params.fitted_ctx = NULL;
    if (r.failed)
        return fmt_error(err, errlen, "%s", r.err);
    return 0;
}
