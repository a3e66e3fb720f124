#include "xsell/db.h"

#include <limits.h>
#include <stdatomic.h>

#include "xsell/log.h"
#include "xsell/strparse.h"
#include "xsell/xalloc.h"

/* Server notices ("relation already exists, skipping") are not errors: drop them. */
static void quiet_notices(void *arg, const char *message)
{
    UNUSED(arg);
    UNUSED(message);
}

PGconn *db_connect(const char *url, char *err, size_t errlen)
{
    /* jit off: compiling the attribution report's plan over the events' day partitions
     * took 20 s and more, for a query that runs in one (the demo's three years) */
    const char *keys[] = {"dbname", "connect_timeout", "application_name", "options", NULL};
    const char *vals[] = {url, "5", "xsell", "-c timezone=UTC -c client_encoding=UTF8 -c jit=off",
                          NULL};
    if (!url || !*url) {
        keys[0] = "connect_timeout";
        vals[0] = "5";
    }
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    if (!c) {
        snprintf(err, errlen, "out of memory connecting to PostgreSQL");
        return NULL;
    }
    if (PQstatus(c) != CONNECTION_OK) {
        snprintf(err, errlen, "%s", PQerrorMessage(c));
        for (char *p = err; *p; p++)
            if (*p == '\n' || *p == '\t')
                *p = ' ';
        size_t n = strlen(err);
        while (n && (err[n - 1] == '\n' || err[n - 1] == ' '))
            err[--n] = '\0';
        PQfinish(c);
        return NULL;
    }
    PQsetNoticeProcessor(c, quiet_notices, NULL);
    return c;
}

const char *db_error(PGconn *c)
{
    static _Thread_local char msg[512];
    snprintf(msg, sizeof(msg), "%s", c ? PQerrorMessage(c) : "no connection");
    for (char *p = msg; *p; p++)
        if (*p == '\n')
            *p = ' ';
    size_t n = strlen(msg);
    while (n && msg[n - 1] == ' ')
        msg[--n] = '\0';
    return msg;
}

static atomic_long fault_calls;
static long fault_at = -1; /* -1: not read yet */
static pthread_once_t fault_once = PTHREAD_ONCE_INIT;

static void fault_read(void)
{
    const char *v = getenv("XSELL_TEST_DB_FAULT");
    int64_t n = 0;
    if (v && *v && strparse_int64(v, strlen(v), 0, INT64_MAX, &n))
        log_warn("XSELL_TEST_DB_FAULT \"%s\" is not a count: ignored", v);
    fault_at = (long)n;
}

/* Counts one fallible call; true when it is the one to fail. */
static bool fault_now(void)
{
    pthread_once(&fault_once, fault_read);
    long k = atomic_fetch_add(&fault_calls, 1) + 1;
    if (fault_at <= 0 || k != fault_at)
        return false;
    log_warn("database: call %ld fails on purpose (XSELL_TEST_DB_FAULT)", k);
    return true;
}

long db_fault_calls(void)
{
    return atomic_load(&fault_calls);
}

/* A statement the server refuses, naming why. */
#define FAULT_SQL "SELECT * FROM xsell_injected_fault"

PGresult *db_query(PGconn *c, const char *sql, int n, const char *const *params)
{
    if (fault_now())
        sql = FAULT_SQL, n = 0, params = NULL;
    PGresult *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return r;
    log_error("query failed: %s", db_error(c));
    PQclear(r);
    return NULL;
}

int db_cmd(PGconn *c, const char *sql, int n, const char *const *params)
{
    PGresult *r = db_query(c, sql, n, params);
    if (!r)
        return -1;
    PQclear(r);
    return 0;
}

int db_copy_start(PGconn *c, const char *sql)
{
    PGresult *r = PQexecParams(c, fault_now() ? FAULT_SQL : sql, 0, NULL, NULL, NULL, NULL, 0);
    bool ok = PQresultStatus(r) == PGRES_COPY_IN;
    PQclear(r);
    if (!ok)
        log_error("COPY failed: %s", db_error(c));
    return ok ? 0 : -1;
}

int db_copy_put(PGconn *c, const char *data, size_t len)
{
    if (fault_now()) {
        PQputCopyEnd(c, "xsell: injected fault");
        return -1;
    }
    return len > INT_MAX || PQputCopyData(c, data, (int)len) != 1 ? -1 : 0;
}

int db_copy_end(PGconn *c, const char *errmsg)
{
    if (fault_now() && !errmsg)
        errmsg = "xsell: injected fault";
    return PQputCopyEnd(c, errmsg) == 1 ? 0 : -1;
}

int db_copy_outcome(PGconn *c)
{
    PGresult *r = PQgetResult(c);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    while ((r = PQgetResult(c)))
        PQclear(r);
    return ok ? 0 : -1;
}

void db_pool_init(struct db_pool *p, const char *url, int max)
{
    memset(p, 0, sizeof(*p));
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->url = xstrdup(url);
    p->max = max < 1 ? 1 : max > DB_POOL_MAX ? DB_POOL_MAX : max;
}

void db_pool_release(struct db_pool *p)
{
    for (int i = 0; i < p->nidle; i++)
        PQfinish(p->idle[i]);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p->url);
}

PGconn *db_pool_take(struct db_pool *p)
{
    pthread_mutex_lock(&p->mu);
    while (p->nidle == 0 && p->open >= p->max)
        pthread_cond_wait(&p->cv, &p->mu);
    if (p->nidle > 0) {
        PGconn *c = p->idle[--p->nidle];
        pthread_mutex_unlock(&p->mu);
        if (PQstatus(c) == CONNECTION_OK)
            return c;
        /* Broken while idle (server restarted): replace it. */
        PQfinish(c);
        pthread_mutex_lock(&p->mu);
        p->open--;
    }
    p->open++;
    pthread_mutex_unlock(&p->mu);
    char err[512];
    PGconn *c = db_connect(p->url, err, sizeof(err));
    if (!c) {
        log_warn("database unreachable: %s", err);
        pthread_mutex_lock(&p->mu);
        p->open--;
        pthread_cond_signal(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
    return c;
}

void db_pool_give(struct db_pool *p, PGconn *c)
{
    if (!c)
        return;
    bool keep = PQstatus(c) == CONNECTION_OK && PQtransactionStatus(c) == PQTRANS_IDLE;
    if (!keep)
        PQfinish(c);
    pthread_mutex_lock(&p->mu);
    if (keep)
        p->idle[p->nidle++] = c;
    else
        p->open--;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

bool db_pool_ping(struct db_pool *p)
{
    PGconn *c = db_pool_take(p);
    if (!c)
        return false;
    PGresult *r = PQexecParams(c, "SELECT 1", 0, NULL, NULL, NULL, NULL, 0);
    bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    PQclear(r);
    db_pool_give(p, c);
    return ok;
}

void db_copy_field(struct buf *b, const char *s, size_t n, char end)
{
    if (n == 0)
        buf_append(b, "\\N", 2);
    size_t run = 0; /* start of the bytes not yet appended */
    for (size_t i = 0; i < n; i++) {
        const char *esc = s[i] == '\\'   ? "\\\\"
                          : s[i] == '\t' ? "\\t"
                          : s[i] == '\n' ? "\\n"
                          : s[i] == '\r' ? "\\r"
                                         : NULL;
        if (esc) {
            buf_append(b, s + run, i - run);
            buf_append(b, esc, 2);
            run = i + 1;
        }
    }
    buf_append(b, s + run, n - run);
    buf_putc(b, end);
}
