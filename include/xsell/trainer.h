/* trainer.h - builds snapshots from the database, publishes and stores them, and
 * follows what other processes publish.
 *
 * train_build() is one run, used by `xsell train` and by the trainer thread (struct
 * trainer below says when that one runs). */
#ifndef XSELL_TRAINER_H
#define XSELL_TRAINER_H

#include <libpq-fe.h>
#include <pthread.h>

#include "xsell/config.h"
#include "xsell/db.h"
#include "xsell/models.h"
#include "xsell/recent.h"
#include "xsell/runs.h"
#include "xsell/snapshot.h"

/* The models' parameters from the configuration, with "now" = as_of. */
void train_model_params(const struct config *cfg, double as_of, struct model_params *mp);

/* Loads the history and fits every model into a new snapshot (one reference, the
 * caller's) whose metrics_json holds every model's figures. prev (may be NULL) is
 * the serving snapshot: a fit that does not converge keeps its parameters. While
 * its last full refit is younger than XSELL_REFIT_S (and refit is false) the run is
 * an update: the history is prev's with the orders created since (read from the
 * database alone), and the estimates a refit makes (the churn model's parameters and
 * choice, the content neighbours of an unchanged catalogue) are prev's; every model
 * is fitted again on the new history, the evaluations are the last refit's. An
 * erasure since prev makes it a full run. -1 with err. */
int train_build(PGconn *conn, const struct config *cfg, int64_t version,
                const struct snapshot *prev, bool refit, struct snapshot **out, char *err,
                size_t errlen);

/* What /metrics shows of the trainer. */
struct trainer_status {
    double last_seconds; /* of the last finished run */
    long runs_succeeded, runs_failed, runs_gated;
    bool running;
    bool leader; /* this process holds the training lock */
};

/* Two threads. The follower serves what is published: at start the newest stored
 * snapshot (before any run), then each one stored later (LISTEN on
 * SNAPSTORE_CHANNEL, and a look every XSELL_FOLLOW_S). The trainer (roles all and
 * trainer) takes the training lock (a PostgreSQL advisory lock, one leader a
 * database; a standby tries every second and takes over when the leader's session
 * ends) and, while it leads, runs: at start unless the serving snapshot holds
 * everything, every XSELL_RETRAIN_S, and each run queued in model_runs by any
 * process (trainer_request). A failed run keeps the serving snapshot and records why;
 * while the database is unreachable both threads retry with backoff. */
struct trainer {
    pthread_t thread, follower;
    pthread_mutex_t mu; /* the fields below; never held across a database call */
    pthread_cond_t cv;
    bool stop;
    bool started, follower_started;
    bool looked; /* the follower's first look at the stored snapshots is over */
    bool wake;   /* a run was requested through this process */
    const struct config *cfg;
    struct registry *reg;
    struct recent *recent;   /* orders acknowledged by other processes are added to it */
    struct recent *sessions; /* and the products their events' sessions touched */
    char instance[20];       /* this process's name in its notifications: its own are skipped */
    /* figures for /metrics, under mu */
    double last_seconds;
    long runs_succeeded, runs_failed, runs_gated;
    bool running, leader;
};

/* Orders acknowledged by any process are notified on this channel (payload: the
 * sender's instance, the customer and the products bought, tab-separated), so that
 * every process's read-your-writes overlay has them within a moment. */
#define TRAINER_ORDERS_CHANNEL "xsell_orders"
/* The same for events: the sender's instance, then session and product, pairs, all
 * tab-separated (views, clicks and cart adds). */
#define TRAINER_EVENTS_CHANNEL "xsell_events"
/* A session's products count as its context this long (/recommend?session_id=). */
#define SESSION_CONTEXT_S (24 * 3600.0)

/* Ready for trainer_request; nothing runs until trainer_start. recent: the overlay
 * other processes' orders go to; sessions: their events' (filled at start from the
 * last SESSION_CONTEXT_S of stored events). */
void trainer_init(struct trainer *t, const struct config *cfg, struct registry *reg,
                  struct recent *recent, struct recent *sessions);
/* Starts the threads the role has. 0 or -1. */
int trainer_start(struct trainer *t);
/* Stops the threads (after the run going on) and releases t. */
void trainer_stop(struct trainer *t);
/* Queues a run in model_runs (or returns the newest one still queued) and wakes this
 * process's trainer; with refit, that run re-estimates every model from the whole
 * history whatever XSELL_REFIT_S says. Whichever process leads runs it. The run's
 * version into *version. -1 when the database cannot record it. */
int trainer_request(struct trainer *t, struct db_pool *pool, const struct run_ask *ask,
                    int64_t *version);
/* The figures of the runs so far; waits on nothing but a short lock. */
void trainer_status(struct trainer *t, struct trainer_status *out);

#endif
