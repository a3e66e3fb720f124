/* services.h - what a handler may ask of the process besides its request and its
 * snapshot: the one write path for orders and products, the trainer, the database's
 * health and the read-your-writes overlay. The handlers see only these calls; the
 * database pool, the trainer's locks and libpq stay behind them (app/services.c).
 *
 * The writes return 0, or a negative enum svc_failure with err set (err is for the
 * client when SVC_BAD_ROW, for the log otherwise); nothing is written unless 0, except
 * that after SVC_UNKNOWN it may have been (repeat the write: it is idempotent). */
#ifndef XSELL_SERVICES_H
#define XSELL_SERVICES_H

#include <cjson/cJSON.h>

#include "xsell/arena.h"
#include "xsell/buf.h"
#include "xsell/experiment.h"
#include "xsell/rows.h"

struct services; /* opaque here */

enum svc_failure {
    SVC_BAD_ROW = -1,   /* a row failed its checks against the database (err says which) */
    SVC_DB_DOWN = -2,   /* no connection could be had */
    SVC_FAILED = -3,    /* the database refused the write */
    SVC_UNKNOWN = -4,   /* the database went away during COMMIT: stored or not, unknown */
    SVC_CONFLICT = -5,  /* the write contradicts what is stored (err says how) */
    SVC_NOT_FOUND = -6, /* nothing has that id */
};

/* Writes n orders in one transaction (idempotent on order_id), and on commit adds the
 * buyers' products to the read-your-writes overlay. res->created_ids lists the orders
 * created (ingest_result_release). */
int services_write_orders(struct services *sv, const struct order_in *orders, int n,
                          struct ingest_result *res, char *err, size_t errlen);
/* A session's touch of a product (a view, click or cart add). */
struct session_touch {
    const char *session, *product;
};
/* Writes a batch of checked events (events.h: events_write), idempotent on event_id;
 * *created: how many were new. On success the sessions' touches join this process's
 * session overlay at once and every other process's within a moment (read your
 * writes, as for orders). */
int services_write_events(struct services *sv, const char *batch_json,
                          const struct session_touch *touches, int ntouches, long *created,
                          char *err, size_t errlen);
/* The products session touched in the last SESSION_CONTEXT_S, oldest first, as ids in
 * arena memory. */
size_t services_session_products(struct services *sv, const char *session, struct arena *a,
                                 const char ***out);
/* One answer as recorded; NULL members are stored as null. */
struct answer_rec {
    const char *id;      /* recommendation_id */
    const char *surface; /* "recommend" or "upsell" */
    double at;           /* epoch seconds */
    int64_t model_version;
    const char *strategy, *customer, *session, *experiment, *variant;
    const char *const *items; /* product ids offered, in order */
    int nitems;
};

/* The experiment an answer is part of: its id, and the variant's name and settings. */
struct exp_pick {
    char id[ID_MAX + 1];
    struct exp_variant variant;
};
/* The experiment running on the surface (enum exp_surface) for this customer or
 * session, if any, into pick (never waits on the database). */
bool services_experiment_pick(struct services *sv, unsigned surface, const char *customer,
                              const char *session, struct exp_pick *pick);
/* PUT /experiments/{id}: stores definition e (its JSON body checked by the caller).
 * SVC_CONFLICT with err when it would change how units are split or what they see
 * after answers were given under it. *created when new. */
int services_put_experiment(struct services *sv, const struct experiment *e, bool *created,
                            char *err, size_t errlen);
/* Every experiment's definition, a JSON array (malloc'd); NULL: the database is down. */
char *services_experiments_json(struct services *sv);
/* The report of experiment id: 0 with *out (cJSON_Delete), SVC_NOT_FOUND, or a failure
 * (err for the log). */
int services_experiment_report(struct services *sv, const char *id, cJSON **out, char *err,
                               size_t errlen);
/* Gives the answer a new recommendation_id (into id; a->id points at it) and the time
 * now, and records
 * it for attribution (answer_log.h). Never waits on the database. */
void services_record_answer(struct services *sv, struct answer_rec *a, char id[48]);
/* The attribution report of the orders from `from` to `to` (timestamps as text), with
 * the XSELL_ATTRIBUTION_HOURS window: JSON (malloc'd), or NULL when the database is
 * down. */
char *services_attribution_json(struct services *sv, const char *from, const char *to);
struct channel_sales;
/* events_channel_sales over the window with the XSELL_ATTRIBUTION_HOURS window; -1
 * when the database is down. */
int services_channel_sales(struct services *sv, const char *from, const char *to,
                           struct channel_sales **out, size_t *n);
/* How many days events are kept (XSELL_EVENTS_KEEP_DAYS): older ones are refused. */
int services_events_keep_days(const struct services *sv);
/* Sets one product's stock (a checked whole number); SVC_NOT_FOUND for an unknown id. */
int services_set_stock(struct services *sv, const char *product_id, const char *stock, char *err,
                       size_t errlen);
/* Creates or replaces one product. */
int services_write_product(struct services *sv, const struct product_in *p,
                           struct ingest_result *res, char *err, size_t errlen);
/* Erases an order, a product or a customer (erase.h says what goes with each) in one
 * transaction; res->found false when there was none. */
int services_erase(struct services *sv, enum erase_kind kind, const char *id,
                   struct erase_result *res, char *err, size_t errlen);
/* Queues a training run (or gives the one already queued): its version; refit: one
 * that re-estimates every model; force: published whatever the quality gate says.
 * SVC_DB_DOWN when the run cannot be recorded. */
int services_queue_training(struct services *sv, bool refit, bool force, int64_t *version);
/* The latest runs as a JSON array (malloc'd), or NULL when the database is down. */
char *services_runs_json(struct services *sv);
/* true when a pooled connection answers. */
bool services_database_ready(struct services *sv);
/* Products a customer bought after since and before the snapshot knew of it, as
 * external ids in arena memory. */
size_t services_recent_purchases(struct services *sv, const char *customer, double since,
                                 struct arena *a, const char ***out);
/* The process's figures in Prometheus text: requests by route, training runs, requests
 * in flight. Never waits on the database or on a training run. */
void services_render_metrics(struct services *sv, struct buf *out);

#endif
