#include "xsell/answer_log.h"

#include <errno.h>
#include <math.h>
#include <time.h>
#include <unistd.h>

#include "xsell/db.h"
#include "xsell/events.h"
#include "xsell/log.h"
#include "xsell/rng.h"
#include "xsell/strparse.h"
#include "xsell/xalloc.h"

void answer_log_init(struct answer_log *l, const char *url)
{
    memset(l, 0, sizeof(*l));
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    buf_init(&l->rows, BUF_UNCAPPED);
    l->url = xstrdup(url ? url : "");
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct rng r;
    rng_seed(&r, (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)getpid());
    snprintf(l->instance, sizeof(l->instance), "%08x", (unsigned)(rng_next(&r) & 0xffffffffu));
}

void answer_log_new_id(struct answer_log *l, int64_t model_version, char out[48])
{
    unsigned long n = atomic_fetch_add(&l->seq, 1) + 1;
    snprintf(out, 48, "%lld-%s-%lx", (long long)model_version, l->instance, n);
}

static void put_text(struct buf *b, const char *s, char end)
{
    db_copy_field(b, s, s ? strlen(s) : 0, end);
}

/* items as a PostgreSQL array literal, each element quoted. */
static void put_items(struct buf *b, const char *const *items, int n)
{
    struct buf lit;
    buf_init(&lit, BUF_UNCAPPED);
    buf_putc(&lit, '{');
    for (int i = 0; i < n; i++) {
        if (i)
            buf_putc(&lit, ',');
        buf_putc(&lit, '"');
        for (const char *p = items[i]; *p; p++) {
            if (*p == '"' || *p == '\\')
                buf_putc(&lit, '\\');
            buf_putc(&lit, *p);
        }
        buf_putc(&lit, '"');
    }
    buf_putc(&lit, '}');
    db_copy_field(b, lit.data, lit.len, '\n');
    buf_release(&lit);
}

void answer_log_add(struct answer_log *l, const struct answer_rec *a)
{
    struct buf row;
    char at[STRPARSE_TS_LEN], version[24];
    buf_init(&row, BUF_UNCAPPED);
    strparse_format_timestamp(a->at, at);
    snprintf(version, sizeof(version), "%lld", (long long)a->model_version);
    put_text(&row, a->id, '\t');
    put_text(&row, a->surface, '\t');
    put_text(&row, at, '\t');
    put_text(&row, a->model_version > 0 ? version : NULL, '\t');
    put_text(&row, a->strategy, '\t');
    put_text(&row, a->customer, '\t');
    put_text(&row, a->session, '\t');
    put_text(&row, a->experiment, '\t');
    put_text(&row, a->variant, '\t');
    put_items(&row, a->items, a->nitems);
    pthread_mutex_lock(&l->mu);
    if (l->rows.len + row.len > ANSWER_LOG_MAX) {
        atomic_fetch_add(&l->dropped, 1);
    } else {
        buf_append(&l->rows, row.data, row.len);
        l->nrows++;
    }
    pthread_mutex_unlock(&l->mu);
    buf_release(&row);
}

/* The writer: every ANSWER_LOG_FLUSH_S (or at stop) what gathered goes in one COPY;
 * rows a failed COPY held are tried again first, on a new connection. */
static void *writer_main(void *arg)
{
    struct answer_log *l = arg;
    struct buf batch;
    long nbatch = 0;
    PGconn *conn = NULL;
    char err[512];
    bool warned = false;
    buf_init(&batch, BUF_UNCAPPED);
    for (;;) {
        pthread_mutex_lock(&l->mu);
        if (!l->stop) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += (time_t)ANSWER_LOG_FLUSH_S;
            while (!l->stop && pthread_cond_timedwait(&l->cv, &l->mu, &until) != ETIMEDOUT)
                ;
        }
        bool stop = l->stop;
        if (batch.len + l->rows.len > ANSWER_LOG_MAX) { /* the database has been away long */
            atomic_fetch_add(&l->dropped, (unsigned long)nbatch);
            buf_reset(&batch);
            nbatch = 0;
        }
        buf_append(&batch, l->rows.data, l->rows.len);
        nbatch += l->nrows;
        buf_reset(&l->rows);
        l->nrows = 0;
        pthread_mutex_unlock(&l->mu);
        if (batch.len > 0) {
            if (!conn)
                conn = db_connect(l->url, err, sizeof(err));
            if (conn && events_copy_answers(conn, batch.data, batch.len, err, sizeof(err)) == 0) {
                atomic_fetch_add(&l->written, (unsigned long)nbatch);
                buf_reset(&batch);
                nbatch = 0;
                warned = false;
            } else {
                atomic_fetch_add(&l->failures, 1);
                if (!warned)
                    log_warn("answer log: %ld answers not written yet: %s", nbatch,
                             conn ? err : "no database connection");
                warned = true;
                PQfinish(conn);
                conn = NULL;
            }
        }
        if (stop)
            break;
    }
    if (nbatch > 0) {
        atomic_fetch_add(&l->dropped, (unsigned long)nbatch);
        log_warn("answer log: %ld answers could not be written before stopping", nbatch);
    }
    buf_release(&batch);
    PQfinish(conn);
    return NULL;
}

int answer_log_start(struct answer_log *l)
{
    if (pthread_create(&l->thread, NULL, writer_main, l) != 0)
        return -1;
    l->started = true;
    return 0;
}

void answer_log_release(struct answer_log *l)
{
    if (l->started) {
        pthread_mutex_lock(&l->mu);
        l->stop = true;
        pthread_cond_signal(&l->cv);
        pthread_mutex_unlock(&l->mu);
        pthread_join(l->thread, NULL);
    }
    buf_release(&l->rows);
    free(l->url);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
}
