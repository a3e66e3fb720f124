/* db.h - PostgreSQL access: connections, parameterized statements, a small pool.
 * Every statement goes through PQexecParams (or COPY); results are cleared on
 * every path by the caller or by the helpers here. */
#ifndef XSELL_DB_H
#define XSELL_DB_H

#include <libpq-fe.h>
#include <pthread.h>

#include "xsell/buf.h"
#include "xsell/caps.h"
#include "xsell/common.h"

/* Connects with session time zone UTC and a connect timeout. NULL on failure,
 * with the reason in err. */
PGconn *db_connect(const char *url, char *err, size_t errlen);
/* Runs sql with n text parameters. Returns the result when it succeeded (the
 * caller PQclear()s it), NULL after logging why it did not. */
PGresult *db_query(PGconn *c, const char *sql, int n, const char *const *params);
/* As db_query for statements whose rows nobody reads: 0 or -1. */
int db_cmd(PGconn *c, const char *sql, int n, const char *const *params);
/* The error text of the last failure on c, one line. */
const char *db_error(PGconn *c);
/* COPY ... FROM STDIN: 0 once the server waits for rows; -1 otherwise. */
int db_copy_start(PGconn *c, const char *sql);
/* Sends COPY rows: 0, or -1 when they could not be sent. */
int db_copy_put(PGconn *c, const char *data, size_t len);
/* Ends the COPY (errmsg not NULL: abandons it, and the server keeps none of its rows):
 * 0 when sent, -1 otherwise; its outcome comes with PQgetResult. */
int db_copy_end(PGconn *c, const char *errmsg);
/* The ended COPY's outcome (every result read): 0 when it stored its rows, -1 when
 * not (db_error says why). */
int db_copy_outcome(PGconn *c);

/* Fault injection, for tests (SQLite's way of proving error paths): with
 * XSELL_TEST_DB_FAULT=N in the environment, the Nth of this process's calls above
 * (db_query, db_cmd and the COPY calls, counted from 1) fails as the server would
 * fail it: a statement runs one that errors instead (inside a transaction, that
 * aborts it, as a failed COMMIT does), a COPY is abandoned with an error. Unset or 0:
 * nothing fails on purpose. */
long db_fault_calls(void); /* calls counted so far (how many N there are to try) */

/* Appends one field of COPY's text format (backslash, tab, newline and carriage
 * return escaped; n == 0 writes NULL), then end ('\t' or '\n'). */
void db_copy_field(struct buf *b, const char *s, size_t n, char end);

/* A pool of connections for request-time writes. Connections that broke are
 * dropped and replaced on the next take, so a PostgreSQL restart heals. */
struct db_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char *url;
    PGconn *idle[DB_POOL_MAX];
    int nidle;
    int open;
    int max;
};

void db_pool_init(struct db_pool *p, const char *url, int max);
void db_pool_release(struct db_pool *p);
/* A connection, or NULL when the database cannot be reached right now. */
PGconn *db_pool_take(struct db_pool *p);
/* Returns a connection; one in a bad state (or inside a transaction) is closed. */
void db_pool_give(struct db_pool *p, PGconn *c);
/* True when the database answers a trivial query now. */
bool db_pool_ping(struct db_pool *p);

#endif
