#include "xsell/trainer.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "xsell/eval_json.h"
#include "xsell/events.h"
#include "xsell/gate.h"
#include "xsell/history_load.h"
#include "xsell/models.h"
#include "xsell/log.h"
#include "xsell/membudget.h"
#include "xsell/runs.h"
#include "xsell/scores.h"
#include "xsell/snapstore.h"
#include "xsell/strparse.h"
#include "xsell/tune.h"
#include "xsell/xalloc.h"

#define BACKOFF_MAX_S 30.0

static void add_figures(cJSON *obj, const struct figures *f)
{
    for (int i = 0; i < f->n; i++)
        cJSON_AddNumberToObject(obj, f->item[i].name, f->item[i].value);
}

static void add_date(cJSON *obj, const char *name, double t)
{
    char d[11];
    if (t <= 0) {
        cJSON_AddNullToObject(obj, name);
        return;
    }
    strparse_format_date(t, d);
    cJSON_AddStringToObject(obj, name, d);
}

void train_model_params(const struct config *cfg, double as_of, struct model_params *mp)
{
    *mp = cfg->model;
    mp->as_of = as_of;
    mp->threads = cfg->train_threads;
    mp->forecast_threads = cfg->train_threads;
    mp->churn_prev = NULL;
}

/* Training is a pipeline: load the history, fit every model (models.h), evaluate,
 * report, then the side effects in the database. Each step below is one of them. */

/* Step 1: a new snapshot holding the history: from base (when given) and the orders
 * created since, or all of it again. Into why, when base was given but the whole
 * history was read. -1 with err. */
static int train_load(PGconn *conn, const struct config *cfg, int64_t version,
                      const struct snapshot *base, struct snapshot **out, char *why, size_t whylen,
                      char *err, size_t errlen)
{
    /* XSELL_TRAIN_DATABASE_URL: the history from a streaming replica, the rest on conn */
    PGconn *read = conn, *primary = NULL;
    if (cfg->train_database_url) {
        char cerr[300];
        read = db_connect(cfg->train_database_url, cerr, sizeof(cerr));
        if (!read) {
            fmt_error(err, errlen, "the training database (XSELL_TRAIN_DATABASE_URL): %s", cerr);
            return -1;
        }
        primary = conn;
    }
    struct snapshot *s = snapshot_new();
    s->loaded_at = now_seconds();
    s->history_end = config_history_end(cfg);
    int rc = 1;
    if (base) {
        rc = history_load_since(read, primary, s->history_end, &base->hist, base->watermark,
                                base->history_end, &s->hist, &s->watermark, err, errlen);
        if (rc == 1)
            snprintf(why, whylen, "the history was rewritten (an erasure) since the last run");
    }
    s->incremental = rc == 0;
    if (rc == 1)
        rc = history_load(read, primary, s->history_end, &s->hist, &s->watermark, err, errlen);
    if (primary)
        PQfinish(read);
    if (rc) {
        history_init(&s->hist); /* released by the load; keep unref valid */
        snapshot_unref(s);
        return -1;
    }
    const struct history *h = &s->hist;
    s->version = version;
    s->trained_at = now_seconds();
    s->as_of = cfg->as_of > 0 ? cfg->as_of : h->t_max > 0 ? h->t_max : s->trained_at;
    *out = s;
    return 0;
}

/* The run's report: what was read, and every model's figures. */
static cJSON *report_new(const struct snapshot *s, const struct model_figures *figs)
{
    const struct history *h = &s->hist;
    cJSON *root = cJSON_CreateObject();
    cJSON_AddNumberToObject(root, "version", (double)s->version);
    add_date(root, "as_of", s->as_of);
    cJSON *data = cJSON_AddObjectToObject(root, "data");
    cJSON_AddNumberToObject(data, "products", (double)history_nproducts(h));
    cJSON_AddNumberToObject(data, "customers", (double)history_ncustomers(h));
    cJSON_AddNumberToObject(data, "orders", (double)history_norders(h));
    cJSON_AddNumberToObject(data, "lines", (double)h->nlines);
    add_date(data, "first_order", h->t_min);
    add_date(data, "last_order", h->t_max);
    cJSON *models = cJSON_AddObjectToObject(root, "models");
    for (int i = 0; i < MODELS_COUNT; i++)
        add_figures(cJSON_AddObjectToObject(models, model_table[i].name), &figs->fig[i]);
    cJSON_AddItemToObject(root, "churn", churn_json(&s->churn));
    return root;
}

/* /price against planted elasticities, when XSELL_PRICE_TRUTH names them. */
static void evaluate_price(const struct config *cfg, const struct snapshot *s, cJSON *root)
{
    struct price_truth truth;
    struct eval_price_result ep;
    struct price_guard g = {.max_change = s->params.price_max_change,
                            .min_margin = s->params.price_min_margin,
                            .floor = NAN,
                            .ceiling = NAN};
    char perr[300];
    if (price_truth_load(cfg->price_truth, &truth, perr, sizeof(perr)) == 0 &&
        eval_price(s, &truth, &g, &ep, perr, sizeof(perr)) == 0)
        cJSON_AddItemToObject(root, "evaluation_price", eval_price_json(&ep));
    else
        cJSON_AddStringToObject(root, "evaluation_price", perr);
    price_truth_release(&truth);
}

/* Memory the history holds, roughly: its arenas and arrays. */
static size_t history_size(const struct history *h)
{
    return h->arena.bytes + h->products.arena.bytes + h->customers.arena.bytes +
           h->orders.arena.bytes + h->nlines * (3 * sizeof(int32_t) + sizeof(double)) +
           history_norders(h) * (2 * sizeof(int32_t) + sizeof(double)) +
           history_nproducts(h) * (4 * sizeof(void *) + 2 * sizeof(double));
}

/* The churn evaluation, on a thread of its own beside the others'. */
struct churn_eval_job {
    const struct history *h;
    double days;
    struct churn_fit_params cp;
    struct eval_churn_result res;
    int rc;
    char err[300];
};

static void *churn_eval_run(void *arg)
{
    struct churn_eval_job *j = arg;
    j->rc = eval_churn(j->h, j->days, &j->cp, &j->res, j->err, sizeof(j->err));
    return NULL;
}

/* Step 3: the holdout evaluations. /recommend and /upsell share one fit of the
 * models on the history before the cut; churn fits its own on an earlier split, on a
 * thread of its own when it can have one. */
static void evaluate_holdout(const struct config *cfg, const struct snapshot *s,
                             const struct model_params *mp, cJSON *root)
{
    const struct history *h = &s->hist;
    double days = cfg->eval_holdout_days;
    struct churn_eval_job cj = {.h = h,
                                .days = MAX(days, s->params.churn_horizon_days),
                                .cp = {.as_of = s->as_of,
                                       .horizon_days = s->params.churn_horizon_days,
                                       .discount = s->params.churn_discount}};
    char eerr[300];
    if (membudget_check(history_size(h), "the evaluations' copy of the history", eerr,
                        sizeof(eerr))) {
        static const char *const keys[] = {"evaluation", "evaluation_upsell", "evaluation_churn"};
        for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
            cJSON_AddStringToObject(root, keys[i], eerr);
        return;
    }
    pthread_t tid;
    bool beside = mp->threads > 1 && pthread_create(&tid, NULL, churn_eval_run, &cj) == 0;
    struct snapshot *cut = eval_fit_cut(h, days, mp, eerr, sizeof(eerr));
    struct eval_result ev;
    if (cut && eval_recommend(h, cut, &ev, eerr, sizeof(eerr)) == 0)
        cJSON_AddItemToObject(root, "evaluation", eval_json(&ev, days));
    else
        cJSON_AddStringToObject(root, "evaluation", eerr);
    struct eval_upsell_result eu;
    if (cut && eval_upsell(h, cut, &eu, eerr, sizeof(eerr)) == 0)
        cJSON_AddItemToObject(root, "evaluation_upsell", eval_upsell_json(&eu, days));
    else
        cJSON_AddStringToObject(root, "evaluation_upsell", eerr);
    snapshot_unref(cut);
    if (beside)
        pthread_join(tid, NULL);
    else
        churn_eval_run(&cj);
    if (cj.rc == 0)
        cJSON_AddItemToObject(root, "evaluation_churn", eval_churn_json(&cj.res, cj.days));
    else
        cJSON_AddStringToObject(root, "evaluation_churn", cj.err);
}

/* Step 2a: the settings chosen on a validation window before the evaluations'
 * (tune.h), before the models are fitted (some are fitted with them): into mp, which
 * the models and the evaluations fit with. The search's report, or why there was
 * none, as JSON. */
static cJSON *tune_run(const struct config *cfg, const struct snapshot *s, struct model_params *mp)
{
    char err[300];
    if (membudget_check(history_size(&s->hist), "the tuning's copy of the history", err,
                        sizeof(err)))
        return cJSON_CreateString(err);
    struct tune_result *tr = xmalloc(sizeof(*tr));
    tune_recommend(&s->hist, cfg->eval_holdout_days, cfg->tune_budget_s, mp, tr);
    cJSON *j = tune_json(tr);
    free(tr);
    return j;
}

/* Before each model, the memory budget is asked for what the model kept in the
 * serving snapshot, grown with the lines. */
static void expect_model_bytes(const struct snapshot *prev, const struct history *h,
                               struct model_params *mp)
{
    double grow = prev && prev->hist.nlines > 0 ? (double)h->nlines / prev->hist.nlines : 0;
    for (int i = 0; i < MODELS_COUNT; i++)
        mp->expect_bytes[i] = prev ? (size_t)(prev->model_bytes[i] * MAX(grow, 1.0)) : 0;
}

/* Whether this run may update from prev rather than re-estimate everything: why not
 * into why (empty when it is the first run or refits are not scheduled apart). */
static bool may_update(const struct config *cfg, const struct snapshot *prev, bool refit, char *why,
                       size_t whylen)
{
    why[0] = '\0';
    if (!prev || cfg->refit_s <= 0)
        return false;
    if (refit)
        snprintf(why, whylen, "a full refit was asked for");
    else if (now_seconds() - prev->refit_at >= cfg->refit_s)
        snprintf(why, whylen, "the last full refit is %d s old or more (XSELL_REFIT_S)",
                 cfg->refit_s);
    return why[0] == '\0';
}

/* Does s's catalogue name and group every product as prev's does (content's input)? */
static bool same_catalogue(const struct history *a, const struct history *b)
{
    size_t n = history_nproducts(a);
    if (n != history_nproducts(b))
        return false;
    for (size_t p = 0; p < n; p++) {
        const char *x[] = {idmap_key(&a->products, (int32_t)p), a->name[p], a->category[p]};
        const char *y[] = {idmap_key(&b->products, (int32_t)p), b->name[p], b->category[p]};
        for (int i = 0; i < 3; i++)
            if ((x[i] == NULL) != (y[i] == NULL) || (x[i] && strcmp(x[i], y[i]) != 0))
                return false;
    }
    return true;
}

/* The run's kind in the report; an update carries the evaluations of the last full
 * refit (its models' accuracy is theirs). */
static void report_run(cJSON *root, const struct snapshot *s, const struct snapshot *prev,
                       const char *why)
{
    cJSON *run = cJSON_AddObjectToObject(root, "run");
    cJSON_AddStringToObject(run, "kind", s->incremental ? "incremental" : "full");
    if (why[0])
        cJSON_AddStringToObject(run, "full_because", why);
    cJSON_AddNumberToObject(run, "refit_version", (double)s->refit_version);
    if (!s->incremental || !prev || !prev->metrics_json)
        return;
    cJSON *last = cJSON_Parse(prev->metrics_json);
    static const char *const keys[] = {"evaluation", "evaluation_upsell", "evaluation_churn",
                                       "evaluation_price"};
    for (size_t i = 0; last && i < ARRAY_SIZE(keys); i++) {
        cJSON *e = cJSON_DetachItemFromObject(last, keys[i]);
        if (e)
            cJSON_AddItemToObject(root, keys[i], e);
    }
    cJSON_Delete(last);
}

/* Step 4's side effect, this run's churn scores for BI: written beside the other
 * models' fitting once churn is fitted (on the run's connection, idle meanwhile),
 * committed when the run succeeds. */
struct scores_job {
    PGconn *conn;
    const struct snapshot *s;
    pthread_t tid;
    bool ran, threaded;
    int rc;
    double seconds;
    char err[400];
};

static void *scores_main(void *arg)
{
    struct scores_job *j = arg;
    double t = mono_seconds();
    j->rc = scores_stage(j->conn, j->s, j->err, sizeof(j->err));
    j->seconds = mono_seconds() - t;
    return NULL;
}

static void scores_start(const struct snapshot *s, enum model_id model, void *ctx)
{
    struct scores_job *j = ctx;
    if (model != MODEL_churn || j->ran)
        return;
    j->s = s;
    j->ran = true;
    j->threaded = pthread_create(&j->tid, NULL, scores_main, j) == 0;
    if (!j->threaded)
        scores_main(j);
}

/* Waits for the scores; keeps them when keep (and they were written). */
static void scores_end(struct scores_job *j, const struct snapshot *s, bool keep, cJSON *report)
{
    if (j->threaded)
        pthread_join(j->tid, NULL);
    j->threaded = false;
    if (keep && !j->ran) /* churn was not fitted beside the rest: now */
        scores_start(s, MODEL_churn, j);
    if (j->ran && j->rc == 0 && scores_finish(j->conn, keep, j->err, sizeof(j->err)))
        j->rc = -1;
    if (keep && j->rc) {
        log_warn("trainer: churn_scores not written: %s", j->err);
        cJSON_AddStringToObject(cJSON_GetObjectItem(report, "churn"), "scores_error", j->err);
    }
}

int train_build(PGconn *conn, const struct config *cfg, int64_t version,
                const struct snapshot *prev, bool refit, struct snapshot **out, char *err,
                size_t errlen)
{
    double t0 = mono_seconds(), started = now_seconds();
    struct snapshot *s;
    char why[160];
    bool update = may_update(cfg, prev, refit, why, sizeof(why));
    if ((prev && membudget_check(history_size(&prev->hist), "loading the history", err, errlen)) ||
        train_load(conn, cfg, version, update ? prev : NULL, &s, why, sizeof(why), err, errlen))
        return -1;
    double t_load = mono_seconds() - t0;
    s->refit_at = s->incremental ? prev->refit_at : started;
    s->refit_version = s->incremental ? prev->refit_version : version;

    /* Step 2: every model; an update keeps what the last full refit estimated. */
    struct model_params mp;
    struct model_figures figs;
    train_model_params(cfg, s->as_of, &mp);
    mp.churn_prev = prev ? &prev->churn : NULL;
    mp.keep_estimates = s->incremental;
    if (s->incremental && same_catalogue(&prev->hist, &s->hist))
        mp.content_prev = &prev->content;
    mp.sales_prev = s->incremental ? &prev->sales : NULL;
    if (s->incremental) /* the settings the last full run chose */
        tune_keep(&mp, &prev->params);
    double t_tune = mono_seconds();
    cJSON *tuning = !s->incremental && mp.tune ? tune_run(cfg, s, &mp) : NULL;
    t_tune = mono_seconds() - t_tune;
    expect_model_bytes(prev, &s->hist, &mp);
    struct scores_job scores = {.conn = conn};
    mp.fitted = scores_start;
    mp.fitted_ctx = &scores;
    int rc = models_fit(s, &mp, false, &figs, err, errlen);
    mp.fitted = NULL; /* the evaluations fit models again: not theirs */
    if (rc) {
        scores_end(&scores, s, false, NULL);
        snapshot_unref(s);
        cJSON_Delete(tuning);
        return -1;
    }
    double t_fit = mono_seconds() - t0 - t_load - t_tune;

    cJSON *root = report_new(s, &figs);
    report_run(root, s, prev, why);
    if (tuning)
        cJSON_AddItemToObject(root, "tuning", tuning);
    if (cfg->price_truth && !s->incremental)
        evaluate_price(cfg, s, root);
    scores_end(&scores, s, true, root);
    double t_eval = mono_seconds();
    if (cfg->eval_holdout_days > 0 && !s->incremental)
        evaluate_holdout(cfg, s, &mp, root);
    t_eval = mono_seconds() - t_eval;

    snapshot_render(s);
    s->bytes = s->arena.bytes + history_size(&s->hist);
    memcpy(s->model_bytes, figs.bytes, sizeof(s->model_bytes));
    cJSON *secs = cJSON_AddObjectToObject(root, "seconds");
    cJSON_AddNumberToObject(secs, "load", t_load);
    cJSON_AddNumberToObject(secs, "tuning", t_tune);
    cJSON_AddNumberToObject(secs, "fit", t_fit);
    cJSON *per = cJSON_AddObjectToObject(secs, "models");
    for (int i = 0; i < MODELS_COUNT; i++)
        cJSON_AddNumberToObject(per, model_table[i].name, figs.seconds[i]);
    cJSON_AddNumberToObject(secs, "evaluations", t_eval);
    cJSON_AddNumberToObject(secs, "scores", scores.seconds); /* beside the fit */
    cJSON_AddNumberToObject(secs, "total", mono_seconds() - t0);
    cJSON_AddNumberToObject(root, "snapshot_bytes", (double)s->bytes);
    cJSON *bytes = cJSON_AddObjectToObject(root, "snapshot_bytes_models");
    for (int i = 0; i < MODELS_COUNT; i++)
        cJSON_AddNumberToObject(bytes, model_table[i].name, (double)figs.bytes[i]);
    s->metrics_json = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    *out = s;
    return 0;
}

/* Waits until woken or for seconds; false when asked to stop. Called with mu held. */
static bool wait_for(struct trainer *t, double seconds, bool wake_on_request)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double whole = floor(seconds);
    ts.tv_sec += (time_t)whole;
    ts.tv_nsec += (long)((seconds - whole) * 1e9);
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    while (!t->stop && (!wake_on_request || !t->wake)) {
        if (pthread_cond_timedwait(&t->cv, &t->mu, &ts) == ETIMEDOUT)
            break;
    }
    return !t->stop;
}

/* --- persisted snapshots ------------------------------------------------------------ */

/* Makes dir and the folders above it. 0 or -1 (errno). */
static int make_dirs(const char *dir)
{
    char p[4096];
    snprintf(p, sizeof(p), "%s", dir);
    for (char *c = p + 1; *c; c++)
        if (*c == '/') {
            *c = '\0';
            if (mkdir(p, 0755) && errno != EEXIST)
                return -1;
            *c = '/';
        }
    return mkdir(p, 0755) && errno != EEXIST ? -1 : 0;
}

/* A new file's name in the cache folder for version's bytes while they are written. */
static void temp_path(const char *dir, int64_t version, char *out, size_t n)
{
    snprintf(out, n, "%s/.xsell-v%lld-%ld.tmp", dir, (long long)version, (long)getpid());
}

/* After s is published: saved into the cache folder and stored in the database
 * (the newest XSELL_SNAPSHOTS_KEEP kept), so that a restarted or added process
 * serves it at once. A failure is logged; the run stands. */
static void persist(const struct config *cfg, PGconn *conn, const struct snapshot *s)
{
    if (cfg->snapshots_keep <= 0)
        return;
    char err[512], tmp[4200], path[4200];
    double t0 = mono_seconds();
    struct snapstore_entry e = {.version = s->version};
    if (make_dirs(cfg->snapshot_dir)) {
        log_warn("snapshots: cannot make %s: %s; version %lld not stored", cfg->snapshot_dir,
                 strerror(errno), (long long)s->version);
        return;
    }
    temp_path(cfg->snapshot_dir, s->version, tmp, sizeof(tmp));
    if (snapshot_save(s, tmp, &e.id, err, sizeof(err))) {
        log_warn("snapshots: version %lld not saved: %s", (long long)s->version, err);
        return;
    }
    snapstore_cache_path(cfg->snapshot_dir, &e, path, sizeof(path));
    struct stat st;
    if (rename(tmp, path) || stat(path, &st)) {
        log_warn("snapshots: cannot name %s: %s", path, strerror(errno));
        unlink(tmp);
        return;
    }
    double t1 = mono_seconds();
    if (snapstore_put(conn, s->version, e.id, path, cfg->snapshots_keep, err, sizeof(err))) {
        log_warn("snapshots: version %lld not stored in the database: %s", (long long)s->version,
                 err);
        return;
    }
    log_info("snapshots: version %lld stored, %.1f MB (saved in %.2fs, stored in %.2fs)",
             (long long)s->version, (double)st.st_size / 1e6, t1 - t0, mono_seconds() - t1);
    snapstore_cache_prune(cfg->snapshot_dir, &e);
}

/* The newest stored snapshot when it is newer than the one serving (or none
 * serves): from the cache folder or fetched into it, loaded and published. A file
 * that is refused is removed and fetched once more. True when one was published. */
static bool follow_stored(struct trainer *t, PGconn *conn)
{
    const struct config *cfg = t->cfg;
    char err[512], tmp[4200], path[4200];
    struct snapstore_entry e;
    double t0 = mono_seconds();
    int rc = snapstore_latest(conn, &e, err, sizeof(err));
    if (rc) {
        if (rc < 0)
            log_warn("snapshots: %s", err);
        return false;
    }
    struct snapshot *cur = registry_take(t->reg);
    int64_t serving = cur ? cur->version : 0;
    snapshot_unref(cur);
    if (e.version <= serving)
        return false;
    snapstore_cache_path(cfg->snapshot_dir, &e, path, sizeof(path));
    for (int attempt = 0; attempt < 2; attempt++) {
        bool fetched = attempt > 0 || access(path, R_OK) != 0;
        if (fetched) {
            temp_path(cfg->snapshot_dir, e.version, tmp, sizeof(tmp));
            int frc = make_dirs(cfg->snapshot_dir)
                          ? fmt_error(err, sizeof(err), "cannot make %s: %s", cfg->snapshot_dir,
                                      strerror(errno))
                          : snapstore_fetch(conn, &e, tmp, err, sizeof(err));
            if (frc == 0 && rename(tmp, path))
                frc = fmt_error(err, sizeof(err), "cannot name %s: %s", path, strerror(errno));
            if (frc) {
                log_warn("snapshots: version %lld could not be fetched: %s", (long long)e.version,
                         err);
                unlink(tmp);
                return false;
            }
        }
        struct snapshot *s = snapshot_load(path, err, sizeof(err));
        if (s && s->file_id == e.id && s->version == e.version) {
            double secs = mono_seconds() - t0;
            if (!registry_publish_newer(t->reg, s))
                return false; /* this process published a newer one meanwhile */
            log_info("snapshots: serving the stored version %lld (%.1f MB %s, ready in %.2fs)",
                     (long long)e.version, (double)e.bytes / 1e6,
                     fetched ? "fetched from the database" : "from the cache", secs);
            snapstore_cache_prune(cfg->snapshot_dir, &e);
            return true;
        }
        log_warn("snapshots: %s refused: %s", path, s ? "it is not the stored version" : err);
        snapshot_unref(s);
        unlink(path);
    }
    return false;
}

/* One run on conn (open, this process leading): the oldest queued run, else a new
 * one for trigger. 0 on success, -1 on failure, -2 when the database failed. */
static int run_once(struct trainer *t, PGconn *conn, const char *trigger)
{
    char err[512];
    int64_t version = 0;
    struct run_ask ask = {0};
    int q = runs_next_queued(conn, &version, &ask);
    if (q < 0 || (q == 1 && runs_create(conn, trigger, &version)) || runs_start(conn, version))
        return -2;
    pthread_mutex_lock(&t->mu);
    t->running = true;
    pthread_mutex_unlock(&t->mu);

    double t0 = mono_seconds();
    struct snapshot *s = NULL;
    struct snapshot *prev = registry_take(t->reg);
    int rc = train_build(conn, t->cfg, version, prev, ask.refit, &s, err, sizeof(err));
    enum gate_verdict verdict = GATE_NOT_JUDGED;
    if (rc == 0 && !s->incremental)
        verdict = gate_judge(t->cfg, s, prev, ask.force, err, sizeof(err));
    snapshot_unref(prev);
    double secs = mono_seconds() - t0;
    if (rc == 0 && verdict == GATE_GATED) {
        runs_finish(conn, version, RUN_GATED, s->metrics_json, err);
        log_warn("trainer: run %lld gated in %.2fs, not published: %s", (long long)version, secs,
                 err);
        snapshot_unref(s);
    } else if (rc == 0) {
        runs_finish(conn, version, RUN_SUCCEEDED, s->metrics_json, NULL);
        log_info("trainer: run %lld succeeded in %.2fs; serving version %lld", (long long)version,
                 secs, (long long)version);
        snapshot_ref(s);
        registry_publish_newer(t->reg, s);
        if (t->cfg->snapshots_keep > 0)
            persist(t->cfg, conn, s);
        snapshot_unref(s);
    } else {
        log_error("trainer: run %lld failed: %s", (long long)version, err);
        if (PQstatus(conn) == CONNECTION_OK)
            runs_finish(conn, version, RUN_FAILED, NULL, err);
    }
    pthread_mutex_lock(&t->mu);
    t->running = false;
    t->last_seconds = secs;
    if (rc == 0 && verdict == GATE_GATED)
        t->runs_gated++;
    else if (rc == 0)
        t->runs_succeeded++;
    else
        t->runs_failed++;
    pthread_mutex_unlock(&t->mu);
    if (rc && PQstatus(conn) != CONNECTION_OK)
        return -2;
    return rc;
}

/* The training lock: one leader a database, held by its session (released when the
 * session ends, however the process ended). */
#define TRAIN_LOCK_KEY 0x7873656c6c /* "xsell" */

static bool take_lead(PGconn *conn)
{
    char key[24];
    snprintf(key, sizeof(key), "%lld", (long long)TRAIN_LOCK_KEY);
    const char *p[] = {key};
    PGresult *r = db_query(conn, "SELECT pg_try_advisory_lock($1::bigint)", 1, p);
    bool got = r && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    return got;
}

/* The leader's first duty: a run left running by a process that died (it held the
 * lock, so none is running now) is marked failed. */
static int sweep(PGconn *conn)
{
    long n = runs_abandon(conn, "abandoned: the process running it stopped first");
    if (n > 0)
        log_warn("trainer: %ld run(s) left running by a stopped process marked failed", n);
    return n >= 0 ? 0 : -1;
}

static void set_leader(struct trainer *t, bool leader)
{
    pthread_mutex_lock(&t->mu);
    t->leader = leader;
    pthread_mutex_unlock(&t->mu);
}

/* When the first run is due after taking the lead: at once, unless the snapshot
 * serving (stored, or followed) already holds everything the database does. */
static double first_due(struct trainer *t, PGconn *conn)
{
    char err[300];
    struct snapshot *s = registry_take(t->reg);
    bool fresh = s && history_changed_since(conn, s->watermark, err, sizeof(err)) == 0;
    double trained = s ? s->trained_at : 0;
    snapshot_unref(s);
    if (!fresh)
        return 0;
    log_info("trainer: nothing changed since the serving snapshot; no run until one is due");
    return t->cfg->retrain_s > 0
               ? mono_seconds() + MAX(0, trained + t->cfg->retrain_s - now_seconds())
               : INFINITY;
}

#define STANDBY_POLL_S    1.0    /* a standby tries for the lock this often */
#define EVENTS_MAINTAIN_S 3600.0 /* the leader keeps the events' partitions this often */
#define EVENTS_RETRY_S    60.0   /* and again this soon after a failure */

/* The events' partitions and window (events.h), kept by the leader; when it is due
 * next. */
static double maintain_events(struct trainer *t, PGconn *conn)
{
    struct events_maintenance m;
    char err[512];
    if (events_maintain(conn, t->cfg->events_keep_days, now_seconds(), &m, err, sizeof(err))) {
        log_warn("trainer: keeping the events' partitions failed: %s", err);
        return mono_seconds() + EVENTS_RETRY_S;
    }
    if (m.made || m.dropped || m.moved || m.expired)
        log_info("trainer: events: %d partitions made, %d dropped (older than %d days), %ld rows "
                 "moved out of the default partition, %ld expired",
                 m.made, m.dropped, t->cfg->events_keep_days, m.moved, m.expired);
    return mono_seconds() + EVENTS_MAINTAIN_S;
}
#define QUEUE_POLL_S 1.0 /* the leader looks for runs queued by other processes */

static void *trainer_main(void *arg)
{
    struct trainer *t = arg;
    PGconn *conn = NULL;
    double backoff = 1.0, due = 0, events_due = 0;
    bool leader = false, first = true;
    char err[512];
    pthread_mutex_lock(&t->mu); /* the follower's first look at the stored snapshots */
    while (!t->stop && !t->looked)
        pthread_cond_wait(&t->cv, &t->mu);
    pthread_mutex_unlock(&t->mu);
    for (;;) {
        double wait = 0;
        if (!conn || PQstatus(conn) != CONNECTION_OK) {
            if (leader)
                log_warn("trainer: the database connection broke; the lead is given up");
            leader = false;
            set_leader(t, false);
            PQfinish(conn);
            conn = db_connect(t->cfg->database_url, err, sizeof(err));
            if (!conn)
                log_warn("trainer: database unreachable: %s", err);
        }
        if (conn && !leader) {
            leader = take_lead(conn) && sweep(conn) == 0;
            if (leader) {
                log_info("trainer: leading (this process holds the training lock)");
                set_leader(t, true);
                due = first_due(t, conn);
                events_due = 0;
            } else if (first) {
                log_info("trainer: standing by (another process holds the training lock)");
            }
            first = false;
        }
        int rc = 0;
        if (leader && mono_seconds() >= events_due)
            events_due = maintain_events(t, conn);
        if (leader) {
            int64_t v;
            struct run_ask ask;
            int q = mono_seconds() >= due ? 0 : runs_next_queued(conn, &v, &ask);
            if (q == 0) {
                const char *trigger = due == 0 ? "startup" : "schedule";
                rc = run_once(t, conn, trigger);
                if (rc != -2) /* else it could not even be recorded: again after the backoff */
                    due = t->cfg->retrain_s > 0 ? mono_seconds() + t->cfg->retrain_s : INFINITY;
            } else if (q < 0) {
                rc = -2;
            }
        }
        if (rc == -2 || !conn) {
            wait = backoff;
            backoff = MIN(backoff * 2, BACKOFF_MAX_S);
        } else {
            backoff = 1.0;
            wait = leader ? MIN(QUEUE_POLL_S, MAX(0, due - mono_seconds())) : STANDBY_POLL_S;
        }
        pthread_mutex_lock(&t->mu);
        bool go_on = wait_for(t, wait, true);
        t->wake = false;
        pthread_mutex_unlock(&t->mu);
        if (!go_on)
            break;
    }
    set_leader(t, false);
    PQfinish(conn); /* the lock goes with the session; queued runs stay for the next leader */
    return NULL;
}

/* Another process's order (TRAINER_ORDERS_CHANNEL): its products into the overlay. */
static void order_notified(struct trainer *t, char *payload)
{
    char *save = NULL, *who = strtok_r(payload, "\t", &save);
    char *customer = strtok_r(NULL, "\t", &save);
    if (!who || !customer || strcmp(who, t->instance) == 0 || !t->recent)
        return; /* its own: added when it was written */
    double now = now_seconds();
    for (char *p = strtok_r(NULL, "\t", &save); p; p = strtok_r(NULL, "\t", &save))
        recent_add(t->recent, customer, p, now);
}

/* Another process's events (TRAINER_EVENTS_CHANNEL): sessions' products into theirs. */
static void events_notified(struct trainer *t, char *payload)
{
    char *save = NULL, *who = strtok_r(payload, "\t", &save);
    if (!who || strcmp(who, t->instance) == 0 || !t->sessions)
        return;
    double now = now_seconds();
    for (;;) {
        char *session = strtok_r(NULL, "\t", &save), *product = strtok_r(NULL, "\t", &save);
        if (!session || !product)
            break;
        recent_add(t->sessions, session, product, now);
    }
}

/* The sessions' products of the last SESSION_CONTEXT_S, oldest first, into the
 * overlay: a process that starts knows the sessions under way. */
static void session_touched(void *ctx, const char *session, const char *product, double at)
{
    struct trainer *t = ctx;
    recent_add(t->sessions, session, product, at);
}

static void load_sessions(struct trainer *t, PGconn *conn)
{
    long n = events_recent_touches(conn, RECENT_MAX, SESSION_CONTEXT_S, session_touched, t);
    if (n > 0)
        log_info("sessions: %ld recent events of sessions loaded", n);
}

/* Takes the notifications libpq holds for conn (read with other results): orders
 * into the overlay. Whether a snapshot was published. */
static bool notified(struct trainer *t, PGconn *conn)
{
    bool published = false;
    PGnotify *n;
    while ((n = PQnotifies(conn)) != NULL) {
        if (strcmp(n->relname, TRAINER_ORDERS_CHANNEL) == 0)
            order_notified(t, n->extra);
        else if (strcmp(n->relname, TRAINER_EVENTS_CHANNEL) == 0)
            events_notified(t, n->extra);
        else
            published = true;
        PQfreemem(n);
    }
    return published;
}

/* Waits up to seconds for a notification on conn (or t's stop). */
static void wait_notified(struct trainer *t, PGconn *conn, double seconds)
{
    double until = mono_seconds() + seconds;
    if (notified(t, conn))
        return; /* it came while the last look read from the database */
    for (;;) {
        pthread_mutex_lock(&t->mu);
        bool stop = t->stop;
        pthread_mutex_unlock(&t->mu);
        double left = until - mono_seconds();
        if (stop || left <= 0)
            return;
        struct pollfd p = {.fd = PQsocket(conn), .events = POLLIN};
        if (p.fd < 0 || poll(&p, 1, (int)(MIN(left, 0.25) * 1000) + 1) < 0)
            return;
        if (!p.revents)
            continue;
        if (!PQconsumeInput(conn) || notified(t, conn))
            return; /* (broken: the caller reconnects) */
    }
}

/* Follows what is published: at start the newest stored snapshot (before any run),
 * then each one a leader stores (LISTEN; a look every XSELL_FOLLOW_S besides). */
static void *follower_main(void *arg)
{
    struct trainer *t = arg;
    PGconn *conn = NULL;
    bool sessions_loaded = false;
    double backoff = 1.0;
    char err[512];
    for (;;) {
        if (!conn || PQstatus(conn) != CONNECTION_OK) {
            PQfinish(conn);
            conn = db_connect(t->cfg->database_url, err, sizeof(err));
            if (conn && (db_cmd(conn, "LISTEN " SNAPSTORE_CHANNEL, 0, NULL) ||
                         db_cmd(conn, "LISTEN " TRAINER_ORDERS_CHANNEL, 0, NULL) ||
                         db_cmd(conn, "LISTEN " TRAINER_EVENTS_CHANNEL, 0, NULL))) {
                PQfinish(conn);
                conn = NULL;
            }
            if (conn && t->sessions && !sessions_loaded) {
                load_sessions(t, conn); /* after LISTEN: nothing falls between */
                sessions_loaded = true;
            }
        }
        if (conn) {
            backoff = 1.0;
            follow_stored(t, conn);
        }
        pthread_mutex_lock(&t->mu);
        if (!t->looked) {
            t->looked = true; /* the trainer may start: it trains only when this did not help */
            pthread_cond_broadcast(&t->cv);
        }
        bool stop = t->stop;
        pthread_mutex_unlock(&t->mu);
        if (stop)
            break;
        if (conn) {
            wait_notified(t, conn, t->cfg->follow_s);
        } else {
            pthread_mutex_lock(&t->mu);
            bool go_on = wait_for(t, backoff, false);
            pthread_mutex_unlock(&t->mu);
            backoff = MIN(backoff * 2, BACKOFF_MAX_S);
            if (!go_on)
                break;
        }
    }
    PQfinish(conn);
    return NULL;
}

void trainer_init(struct trainer *t, const struct config *cfg, struct registry *reg,
                  struct recent *recent, struct recent *sessions)
{
    pthread_condattr_t ca;
    memset(t, 0, sizeof(*t));
    t->cfg = cfg;
    t->reg = reg;
    t->recent = recent;
    t->sessions = sessions;
    uint64_t r = 0;
    if (getentropy(&r, sizeof(r)))
        r = (uint64_t)getpid() * 0x9E3779B97F4A7C15ull ^ (uint64_t)(now_seconds() * 1e6);
    snprintf(t->instance, sizeof(t->instance), "%016llx", (unsigned long long)r);
    pthread_mutex_init(&t->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&t->cv, &ca);
    pthread_condattr_destroy(&ca);
}

int trainer_start(struct trainer *t)
{
    bool follows = true; /* the published snapshots, and other processes' orders */
    if (follows && pthread_create(&t->follower, NULL, follower_main, t) != 0)
        return log_fail("trainer: cannot start the follower thread");
    t->follower_started = follows;
    if (t->cfg->process_role == PROCESS_API)
        return 0;
    if (pthread_create(&t->thread, NULL, trainer_main, t) != 0)
        return log_fail("trainer: cannot start thread");
    t->started = true;
    return 0;
}

void trainer_stop(struct trainer *t)
{
    pthread_mutex_lock(&t->mu);
    t->stop = true;
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
    if (t->started)
        pthread_join(t->thread, NULL);
    if (t->follower_started)
        pthread_join(t->follower, NULL);
    pthread_mutex_destroy(&t->mu);
    pthread_cond_destroy(&t->cv);
}

int trainer_request(struct trainer *t, struct db_pool *pool, const struct run_ask *ask,
                    int64_t *version)
{
    /* The database is the queue: whichever process leads runs it. */
    PGconn *c = db_pool_take(pool);
    int rc = c ? runs_request(c, ask, version) : -1;
    db_pool_give(pool, c);
    if (rc == 0) {
        pthread_mutex_lock(&t->mu);
        t->wake = true;
        pthread_cond_broadcast(&t->cv);
        pthread_mutex_unlock(&t->mu);
    }
    return rc;
}

void trainer_status(struct trainer *t, struct trainer_status *out)
{
    pthread_mutex_lock(&t->mu);
    *out = (struct trainer_status){.last_seconds = t->last_seconds,
                                   .runs_succeeded = t->runs_succeeded,
                                   .runs_failed = t->runs_failed,
                                   .runs_gated = t->runs_gated,
                                   .running = t->running,
                                   .leader = t->leader};
    pthread_mutex_unlock(&t->mu);
}
