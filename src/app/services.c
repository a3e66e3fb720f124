/* services.c - the calls handlers make beyond their snapshot (services.h), on the
 * process's database pool, trainer and overlay. */
#include <math.h>

#include "xsell/app.h"
#include "xsell/erase.h"
#include "xsell/events.h"
#include "xsell/experiment_json.h"
#include "xsell/experiments_db.h"
#include "xsell/ingest.h"
#include "xsell/log.h"
#include "xsell/router.h"
#include "xsell/runs.h"

void app_wire_services(struct app *app)
{
    app->svc = (struct services){.pool = &app->pool,
                                 .trainer = &app->trainer,
                                 .recent = &app->recent,
                                 .sessions = &app->sessions,
                                 .metrics = &app->metrics,
                                 .in_flight = &app->in_flight,
                                 .answers = &app->answers,
                                 .experiments = &app->experiments,
                                 .events_keep_days = app->cfg.events_keep_days,
                                 .attribution_hours = app->cfg.attribution_hours};
}

/* The failure of a write on conn: the database gone, or the write refused. */
static int write_failure(PGconn *conn)
{
    return conn && PQstatus(conn) == CONNECTION_OK ? SVC_FAILED : SVC_DB_DOWN;
}

#define NOTIFY_PAYLOAD_MAX 7000 /* PostgreSQL takes up to 8000 bytes */

/* Each order's customer and products bought, for the other processes' overlays
 * (TRAINER_ORDERS_CHANNEL), split where a payload would pass its cap. */
static void notify_orders(struct ingest *g, const char *instance, const struct order_in *orders,
                          int n)
{
    struct buf b;
    buf_init(&b, BUF_UNCAPPED);
    for (int i = 0; i < n; i++) {
        if (!orders[i].customer_id.n)
            continue;
        buf_reset(&b);
        for (int j = 0; j < orders[i].nlines; j++) {
            const struct text *p = &orders[i].lines[j].product_id;
            if (orders[i].lines[j].quantity.p[0] == '-')
                continue;
            if (b.len > 0 && b.len + 1 + p->n > NOTIFY_PAYLOAD_MAX) {
                ingest_notify(g, TRAINER_ORDERS_CHANNEL, b.data);
                buf_reset(&b);
            }
            if (b.len == 0)
                buf_appendf(&b, "%s\t%s", instance, orders[i].customer_id.p);
            buf_append(&b, "\t", 1);
            buf_append(&b, p->p, p->n);
        }
        if (b.len > 0)
            ingest_notify(g, TRAINER_ORDERS_CHANNEL, b.data);
    }
    buf_release(&b);
}

/* What stage_orders writes: the orders, and the writing process's name. */
struct order_batch {
    const struct order_in *orders;
    const char *instance;
};

/* Stages every line of every order, and their notification; 0, or a failure after
 * aborting the ingest. */
static int stage_orders(struct ingest *g, const void *rows, int n, char *err, size_t errlen)
{
    const struct order_batch *batch = rows;
    const struct order_in *orders = batch->orders;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < orders[i].nlines; j++) {
            int rc = ingest_order_line(g, &orders[i].lines[j], err, errlen);
            if (rc == -1) {
                /* name the order in the body, as the client sent it */
                char why[300];
                snprintf(why, sizeof(why), "%s", err);
                snprintf(err, errlen, "[%d]: %s", i, why);
            }
            if (rc) {
                int failure = rc == -1 ? SVC_BAD_ROW : write_failure(g->conn);
                ingest_abort(g);
                return failure;
            }
        }
    notify_orders(g, batch->instance, orders, n);
    return 0;
}

/* Stages one product; 0, or a failure after aborting the ingest. */
static int stage_product(struct ingest *g, const void *row, int n, char *err, size_t errlen)
{
    UNUSED(n);
    int rc = ingest_product(g, row, err, errlen);
    if (rc == 0)
        return 0;
    int failure = rc == -1 ? SVC_BAD_ROW : write_failure(g->conn);
    ingest_abort(g);
    return failure;
}

/* One write through ingest.h on a pooled connection: begin, stage, commit. */
static int write_rows(struct services *sv, enum ingest_kind kind, bool want_ids,
                      int (*stage)(struct ingest *g, const void *rows, int n, char *err,
                                   size_t errlen),
                      const void *rows, int n, struct ingest_result *res, char *err, size_t errlen)
{
    struct ingest g;
    memset(res, 0, sizeof(*res));
    PGconn *conn = db_pool_take(sv->pool);
    if (!conn)
        return fmt_error(err, errlen, "no database connection"), SVC_DB_DOWN;
    int rc = ingest_begin(&g, conn, kind, want_ids, err, errlen) ? write_failure(conn)
                                                                 : stage(&g, rows, n, err, errlen);
    if (rc == 0) {
        int c = ingest_commit(&g, res, err, errlen);
        rc = c == INGEST_OUTCOME_UNKNOWN ? SVC_UNKNOWN : c ? write_failure(conn) : 0;
    }
    db_pool_give(sv->pool, conn);
    return rc;
}

int services_set_stock(struct services *sv, const char *product_id, const char *stock, char *err,
                       size_t errlen)
{
    PGconn *conn = db_pool_take(sv->pool);
    if (!conn)
        return fmt_error(err, errlen, "no database connection"), SVC_DB_DOWN;
    int rc = ingest_set_stock(conn, product_id, stock, err, errlen);
    int failure = rc == 1 ? SVC_NOT_FOUND : rc ? write_failure(conn) : 0;
    db_pool_give(sv->pool, conn);
    return failure;
}

int services_write_orders(struct services *sv, const struct order_in *orders, int n,
                          struct ingest_result *res, char *err, size_t errlen)
{
    struct order_batch batch = {orders, sv->trainer->instance};
    int rc = write_rows(sv, INGEST_ORDERS, true, stage_orders, &batch, n, res, err, errlen);
    if (rc)
        return rc;
    /* Read your writes: the buyers' next recommendations leave these out at once. */
    double now = now_seconds();
    for (int i = 0; i < n; i++)
        if (orders[i].customer_id.n)
            for (int j = 0; j < orders[i].nlines; j++)
                if (orders[i].lines[j].quantity.p[0] != '-')
                    recent_add(sv->recent, orders[i].customer_id.p, orders[i].lines[j].product_id.p,
                               now);
    return 0;
}

int services_write_product(struct services *sv, const struct product_in *p,
                           struct ingest_result *res, char *err, size_t errlen)
{
    return write_rows(sv, INGEST_PRODUCTS, false, stage_product, p, 1, res, err, errlen);
}

/* The touches for the other processes' session overlays (TRAINER_EVENTS_CHANNEL),
 * split where a payload would pass its cap. A notification that fails is logged: the
 * events are stored, and the other processes read them at their next start. */
static void notify_touches(PGconn *conn, const char *instance, const struct session_touch *t, int n)
{
    struct buf b;
    buf_init(&b, BUF_UNCAPPED);
    for (int i = 0; i <= n; i++) {
        size_t add = i < n ? strlen(t[i].session) + strlen(t[i].product) + 2 : 0;
        if (b.len > 0 && (i == n || b.len + add > NOTIFY_PAYLOAD_MAX)) {
            const char *const params[] = {TRAINER_EVENTS_CHANNEL, b.data};
            db_cmd(conn, "SELECT pg_notify($1, $2)", 2, params);
            buf_reset(&b);
        }
        if (i == n)
            break;
        if (b.len == 0)
            buf_appendf(&b, "%s", instance);
        buf_appendf(&b, "\t%s\t%s", t[i].session, t[i].product);
    }
    buf_release(&b);
}

int services_write_events(struct services *sv, const char *batch_json,
                          const struct session_touch *touches, int ntouches, long *created,
                          char *err, size_t errlen)
{
    *created = 0;
    PGconn *conn = db_pool_take(sv->pool);
    if (!conn)
        return fmt_error(err, errlen, "no database connection"), SVC_DB_DOWN;
    int failure = events_write(conn, batch_json, created, err, errlen) ? write_failure(conn) : 0;
    if (!failure && ntouches > 0) {
        double now = now_seconds();
        for (int i = 0; i < ntouches; i++)
            recent_add(sv->sessions, touches[i].session, touches[i].product, now);
        notify_touches(conn, sv->trainer->instance, touches, ntouches);
    }
    db_pool_give(sv->pool, conn);
    return failure;
}

size_t services_session_products(struct services *sv, const char *session, struct arena *a,
                                 const char ***out)
{
    return recent_for(sv->sessions, session, now_seconds() - SESSION_CONTEXT_S, a, out);
}

bool services_experiment_pick(struct services *sv, unsigned surface, const char *customer,
                              const char *session, struct exp_pick *pick)
{
    return experiments_pick(sv->experiments, surface, customer, session, now_seconds(), pick);
}

/* Whether b changes how units are split, or what a variant does, against a: what may
 * not change once answers were given under it. */
static bool changes_split(const struct experiment *a, const struct experiment *b)
{
    if (a->unit != b->unit || a->surfaces != b->surfaces || a->start != b->start ||
        a->nvariants != b->nvariants)
        return true;
    for (int i = 0; i < a->nvariants; i++) {
        const struct exp_variant *x = &a->variant[i], *y = &b->variant[i];
        if (strcmp(x->name, y->name) != 0 || x->weight != y->weight || x->strategy != y->strategy ||
            x->objective != y->objective || x->off != y->off ||
            !(x->max_discount == y->max_discount ||
              (isnan(x->max_discount) && isnan(y->max_discount))))
            return true;
        for (int k = 0; k < EXP_BLEND_N; k++)
            if (!(x->blend[k] == y->blend[k] || (isnan(x->blend[k]) && isnan(y->blend[k]))))
                return true;
    }
    return false;
}

int services_put_experiment(struct services *sv, const struct experiment *e, bool *created,
                            char *err, size_t errlen)
{
    PGconn *conn = db_pool_take(sv->pool);
    if (!conn)
        return fmt_error(err, errlen, "no database connection"), SVC_DB_DOWN;
    bool found;
    int rc = 0;
    char *old = experiments_db_get(conn, e->id, &found);
    if (found && !old) {
        rc = write_failure(conn);
        fmt_error(err, errlen, "database: %s", db_error(conn));
    } else if (old) {
        struct experiment before;
        cJSON *o = cJSON_Parse(old);
        int exposed = experiments_db_exposed(conn, e->id);
        if (exposed < 0) {
            rc = write_failure(conn);
            fmt_error(err, errlen, "database: %s", db_error(conn));
        } else if (exposed && o && experiment_parse(o, e->id, 0, &before, err, errlen) == 0 &&
                   changes_split(&before, e)) {
            rc = SVC_CONFLICT;
            fmt_error(err, errlen,
                      "experiment \"%s\" has served answers: only its end and planned_units "
                      "may change (a new id starts a new experiment)",
                      e->id);
        }
        cJSON_Delete(o);
        free(old);
    }
    if (rc == 0) {
        cJSON *j = experiment_to_json(e);
        char *text = cJSON_PrintUnformatted(j);
        cJSON_Delete(j);
        if (experiments_db_put(conn, e->id, text, created, err, errlen))
            rc = write_failure(conn);
        else
            experiments_set(sv->experiments, e);
        free(text);
    }
    db_pool_give(sv->pool, conn);
    return rc;
}

char *services_experiments_json(struct services *sv)
{
    PGconn *conn = db_pool_take(sv->pool);
    char *json = conn ? experiments_db_list(conn) : NULL;
    db_pool_give(sv->pool, conn);
    return json;
}

int services_experiment_report(struct services *sv, const char *id, cJSON **out, char *err,
                               size_t errlen)
{
    *out = NULL;
    PGconn *conn = db_pool_take(sv->pool);
    if (!conn)
        return fmt_error(err, errlen, "no database connection"), SVC_DB_DOWN;
    bool found;
    int rc = 0;
    char *def = experiments_db_get(conn, id, &found);
    struct experiment e;
    cJSON *o = def ? cJSON_Parse(def) : NULL;
    if (!found)
        rc = SVC_NOT_FOUND;
    else if (!def)
        rc = write_failure(conn), fmt_error(err, errlen, "database: %s", db_error(conn));
    else if (!o || experiment_parse(o, id, 0, &e, err, errlen))
        rc = SVC_FAILED;
    else if (!(*out = experiments_report(conn, &e, now_seconds(), err, errlen)))
        rc = write_failure(conn);
    cJSON_Delete(o);
    free(def);
    db_pool_give(sv->pool, conn);
    return rc;
}

void services_record_answer(struct services *sv, struct answer_rec *a, char id[48])
{
    answer_log_new_id(sv->answers, a->model_version, id);
    a->id = id;
    a->at = now_seconds();
    answer_log_add(sv->answers, a);
}

char *services_attribution_json(struct services *sv, const char *from, const char *to)
{
    PGconn *conn = db_pool_take(sv->pool);
    char *json = conn ? events_attribution_json(conn, from, to, sv->attribution_hours) : NULL;
    db_pool_give(sv->pool, conn);
    return json;
}

int services_channel_sales(struct services *sv, const char *from, const char *to,
                           struct channel_sales **out, size_t *n)
{
    PGconn *conn = db_pool_take(sv->pool);
    int rc = conn ? events_channel_sales(conn, from, to, sv->attribution_hours, out, n) : -1;
    db_pool_give(sv->pool, conn);
    return rc;
}

int services_events_keep_days(const struct services *sv)
{
    return sv->events_keep_days;
}

int services_erase(struct services *sv, enum erase_kind kind, const char *id,
                   struct erase_result *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof(*res));
    PGconn *conn = db_pool_take(sv->pool);
    if (!conn)
        return fmt_error(err, errlen, "no database connection"), SVC_DB_DOWN;
    int rc = erase_entity(conn, kind, id, res, err, errlen);
    int failure = rc == INGEST_OUTCOME_UNKNOWN ? SVC_UNKNOWN : rc ? write_failure(conn) : 0;
    db_pool_give(sv->pool, conn);
    return failure;
}

int services_queue_training(struct services *sv, bool refit, bool force, int64_t *version)
{
    struct run_ask ask = {.refit = refit, .force = force};
    return trainer_request(sv->trainer, sv->pool, &ask, version) ? SVC_DB_DOWN : 0;
}

char *services_runs_json(struct services *sv)
{
    PGconn *conn = db_pool_take(sv->pool);
    char *runs = conn ? runs_list_json(conn) : NULL;
    db_pool_give(sv->pool, conn);
    return runs;
}

bool services_database_ready(struct services *sv)
{
    return db_pool_ping(sv->pool);
}

size_t services_recent_purchases(struct services *sv, const char *customer, double since,
                                 struct arena *a, const char ***out)
{
    return recent_for(sv->recent, customer, since, a, out);
}

void services_render_metrics(struct services *sv, struct buf *out)
{
    struct trainer_status ts;
    metrics_render(sv->metrics, router_labels, out);
    trainer_status(sv->trainer, &ts);
    buf_appendf(out,
                "# HELP xsell_training_seconds Duration of the last training run.\n"
                "# TYPE xsell_training_seconds gauge\nxsell_training_seconds %.6f\n",
                ts.last_seconds);
    buf_appendf(out,
                "# HELP xsell_training_runs_total Finished training runs by outcome.\n"
                "# TYPE xsell_training_runs_total counter\n"
                "xsell_training_runs_total{status=\"succeeded\"} %ld\n"
                "xsell_training_runs_total{status=\"failed\"} %ld\n"
                "xsell_training_runs_total{status=\"gated\"} %ld\n",
                ts.runs_succeeded, ts.runs_failed, ts.runs_gated);
    buf_appendf(out,
                "# HELP xsell_answers_recorded_total /recommend and /upsell answers written "
                "for attribution.\n"
                "# TYPE xsell_answers_recorded_total counter\nxsell_answers_recorded_total %lu\n"
                "# HELP xsell_answers_dropped_total Answers not recorded: the database was away "
                "past the log's cap.\n"
                "# TYPE xsell_answers_dropped_total counter\nxsell_answers_dropped_total %lu\n",
                atomic_load(&sv->answers->written), atomic_load(&sv->answers->dropped));
    buf_appendf(out,
                "# HELP xsell_training_in_progress 1 while a training run is under way.\n"
                "# TYPE xsell_training_in_progress gauge\nxsell_training_in_progress %d\n",
                ts.running ? 1 : 0);
    buf_appendf(out,
                "# HELP xsell_training_leader 1 while this process holds the training lock.\n"
                "# TYPE xsell_training_leader gauge\nxsell_training_leader %d\n",
                ts.leader ? 1 : 0);
    buf_appendf(out,
                "# HELP xsell_requests_in_flight Requests being served.\n"
                "# TYPE xsell_requests_in_flight gauge\nxsell_requests_in_flight %d\n",
                atomic_load(sv->in_flight));
}
