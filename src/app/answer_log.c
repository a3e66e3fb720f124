#include "xsell/answer_log.h"

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
    buf_init(&l->rows, BUF_UNCAPPED);
    buf_init(&l->batch, BUF_UNCAPPED);
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

/* The writer, every ANSWER_LOG_FLUSH_S and at stop: what gathered goes in one COPY;
 * rows a failed COPY held are tried again first, on a new connection. */
static void writer_tick(void *arg, bool stopping)
{
    struct answer_log *l = arg;
    char err[512];
    pthread_mutex_lock(&l->mu);
    if (l->batch.len + l->rows.len > ANSWER_LOG_MAX) { /* the database has been away long */
        atomic_fetch_add(&l->dropped, (unsigned long)l->nbatch);
        buf_reset(&l->batch);
        l->nbatch = 0;
    }
    buf_append(&l->batch, l->rows.data, l->rows.len);
    l->nbatch += l->nrows;
    buf_reset(&l->rows);
    l->nrows = 0;
    pthread_mutex_unlock(&l->mu);
    if (l->batch.len > 0) {
        if (!l->conn)
            l->conn = db_connect(l->url, err, sizeof(err));
        if (l->conn &&
            events_copy_answers(l->conn, l->batch.data, l->batch.len, err, sizeof(err)) == 0) {
            atomic_fetch_add(&l->written, (unsigned long)l->nbatch);
            buf_reset(&l->batch);
            l->nbatch = 0;
            l->warned = false;
        } else {
            if (!l->warned)
                log_warn("answer log: %ld answers not written yet: %s", l->nbatch,
                         l->conn ? err : "no database connection");
            l->warned = true;
            PQfinish(l->conn);
            l->conn = NULL;
        }
    }
    if (stopping) {
        if (l->nbatch > 0) {
            atomic_fetch_add(&l->dropped, (unsigned long)l->nbatch);
            log_warn("answer log: %ld answers could not be written before stopping", l->nbatch);
        }
        PQfinish(l->conn);
        l->conn = NULL;
    }
}

int answer_log_start(struct answer_log *l)
{
    return ticker_start(&l->ticker, ANSWER_LOG_FLUSH_S, writer_tick, l);
}

void answer_log_release(struct answer_log *l)
{
    ticker_stop(&l->ticker);
    buf_release(&l->rows);
    buf_release(&l->batch);
    free(l->url);
    pthread_mutex_destroy(&l->mu);
}
