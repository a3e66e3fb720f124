/* answer_log.h - every /recommend and /upsell answer, recorded for attribution: a
 * handler appends one row (services_record_answer) without waiting; a thread of the
 * process COPYs what gathered into the recommendations table every second. An answer
 * is never held back by the database: when it is away, rows gather up to
 * ANSWER_LOG_MAX bytes and past that are dropped and counted (metrics), so a long
 * outage loses attribution, never requests. */
#ifndef XSELL_ANSWER_LOG_H
#define XSELL_ANSWER_LOG_H

#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>

#include "xsell/buf.h"
#include "xsell/common.h"
#include "xsell/services.h" /* struct answer_rec */
#include "xsell/ticker.h"

#define ANSWER_LOG_MAX     (64u << 20) /* bytes of rows waiting, then new ones are dropped */
#define ANSWER_LOG_FLUSH_S 1.0         /* rows are written at least this often */

struct answer_log {
    pthread_mutex_t mu;
    struct buf rows; /* COPY text waiting */
    long nrows;
    struct ticker ticker;
    /* the writer's own: rows taken and not yet written, its connection */
    struct buf batch;
    long nbatch;
    PGconn *conn;
    bool warned;
    char *url;
    char instance[9]; /* this process's part of every recommendation_id */
    atomic_ulong seq;
    atomic_ulong written, dropped;
};

/* Ready to take rows (none written until answer_log_start). */
void answer_log_init(struct answer_log *l, const char *url);
/* Starts the writer thread: -1 when it cannot. */
int answer_log_start(struct answer_log *l);
/* A new recommendation_id for an answer of model_version into out. */
void answer_log_new_id(struct answer_log *l, int64_t model_version, char out[48]);
/* Appends one answer (or drops it past ANSWER_LOG_MAX). Never waits on the database. */
void answer_log_add(struct answer_log *l, const struct answer_rec *a);
/* Stops the thread after a last flush, and frees everything. */
void answer_log_release(struct answer_log *l);

#endif
