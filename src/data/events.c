#include "xsell/events.h"

#include <math.h>
#include <stdlib.h>

#include "xsell/db.h"
#include "xsell/log.h"
#include "xsell/strparse.h"
#include "xsell/xalloc.h"

/* One statement: the keys first (ON CONFLICT tells which are new, and waits for a
 * concurrent writer of the same id), then the new events. */
static const char write_sql[] =
    "WITH input AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(event_id text, "
    "type text, at timestamptz, session_id text, customer_id text, recommendation_id text, "
    "product_id text, items text[])), "
    "fresh AS (INSERT INTO event_keys (event_id, at) SELECT event_id, at FROM input "
    "ON CONFLICT (event_id) DO NOTHING RETURNING event_id), "
    "ins AS (INSERT INTO events (event_id, type, at, session_id, customer_id, "
    "recommendation_id, product_id, items) SELECT i.event_id, i.type, i.at, i.session_id, "
    "i.customer_id, i.recommendation_id, i.product_id, i.items FROM input i "
    "JOIN fresh f USING (event_id) RETURNING 1) "
    "SELECT count(*) FROM ins";

int events_write(PGconn *conn, const char *batch_json, long *created, char *err, size_t errlen)
{
    const char *params[] = {batch_json};
    *created = 0;
    PGresult *r = db_query(conn, write_sql, 1, params);
    if (!r)
        return fmt_error(err, errlen, "database: %s", db_error(conn));
    *created = strtol(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return 0;
}

#define PARTITION_PREFIX "events_p"

/* A day (days since the epoch) as the partition's name and its bounds' dates. */
static void day_names(long day, char name[32], char from[11], char to[11])
{
    char d[11];
    strparse_format_date((double)day * DAY_S, d);
    snprintf(name, 32, PARTITION_PREFIX "%.4s%.2s%.2s", d, d + 5, d + 8);
    strparse_format_date((double)day * DAY_S, from);
    strparse_format_date((double)(day + 1) * DAY_S, to);
}

/* The day a partition's name stands for, or -1 when it is not one of ours. */
static long name_day(const char *name)
{
    size_t pre = strlen(PARTITION_PREFIX);
    if (strncmp(name, PARTITION_PREFIX, pre) != 0 || strlen(name) != pre + 8)
        return -1;
    char iso[11];
    snprintf(iso, sizeof(iso), "%.4s-%.2s-%.2s", name + pre, name + pre + 4, name + pre + 6);
    double t;
    if (strparse_timestamp(iso, 10, &t, NULL))
        return -1;
    return (long)floor(t / DAY_S);
}

static int rollback_fail(PGconn *conn, char *err, size_t errlen)
{
    fmt_error(err, errlen, "database: %s", db_error(conn));
    if (PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) != PQTRANS_IDLE)
        db_cmd(conn, "ROLLBACK", 0, NULL);
    return -1;
}

/* Makes the day's partition in one transaction, moving the day's rows out of the
 * default partition first (ATTACH refuses while it holds any). *moved: how many. */
static int make_partition(PGconn *conn, long day, long *moved, char *err, size_t errlen)
{
    char name[32], from[11], to[11], sql[400];
    day_names(day, name, from, to);
    const char *const range[] = {from, to};
    /* the names and dates are the program's own, never a client's */
    if (db_cmd(conn, "BEGIN", 0, NULL) ||
        db_cmd(conn, "LOCK TABLE events_default IN ACCESS EXCLUSIVE MODE", 0, NULL))
        return rollback_fail(conn, err, errlen);
    snprintf(sql, sizeof(sql),
             "CREATE TABLE %s (LIKE events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)", name);
    if (db_cmd(conn, sql, 0, NULL))
        return rollback_fail(conn, err, errlen);
    snprintf(sql, sizeof(sql),
             "WITH m AS (DELETE FROM events_default WHERE at >= $1::date AND at < $2::date "
             "RETURNING *), i AS (INSERT INTO %s SELECT * FROM m RETURNING 1) "
             "SELECT count(*) FROM i",
             name);
    PGresult *r = db_query(conn, sql, 2, range);
    if (!r)
        return rollback_fail(conn, err, errlen);
    *moved += strtol(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    snprintf(sql, sizeof(sql),
             "ALTER TABLE events ATTACH PARTITION %s FOR VALUES FROM ('%s') TO ('%s')", name, from,
             to);
    if (db_cmd(conn, sql, 0, NULL) || db_cmd(conn, "COMMIT", 0, NULL))
        return rollback_fail(conn, err, errlen);
    return 0;
}

/* Deletes the rows of sql ($1: the cutoff) and adds their count to *n. */
static int delete_count(PGconn *conn, const char *sql, const char *cutoff, long *n)
{
    const char *const params[] = {cutoff};
    PGresult *r = db_query(conn, sql, 1, params);
    if (!r)
        return -1;
    *n += strtol(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return 0;
}

int events_maintain(PGconn *conn, int keep_days, double now, struct events_maintenance *out,
                    char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    double cutoff = now - keep_days * DAY_S;
    long first = (long)floor(cutoff / DAY_S), last = (long)floor(now / DAY_S) + EVENTS_DAYS_AHEAD;
    PGresult *r = db_query(conn,
                           "SELECT c.relname FROM pg_inherits i JOIN pg_class c "
                           "ON c.oid = i.inhrelid WHERE i.inhparent = 'events'::regclass",
                           0, NULL);
    if (!r)
        return fmt_error(err, errlen, "database: %s", db_error(conn));
    int n = PQntuples(r);
    long *have = xmalloc(((size_t)n + 1) * sizeof(long));
    for (int i = 0; i < n; i++)
        have[i] = name_day(PQgetvalue(r, i, 0));
    PQclear(r);
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        if (have[i] < 0 || have[i] >= first)
            continue;
        char name[32], from[11], to[11], sql[100];
        day_names(have[i], name, from, to);
        snprintf(sql, sizeof(sql), "DROP TABLE %s", name);
        if (db_cmd(conn, sql, 0, NULL))
            rc = fmt_error(err, errlen, "database: %s", db_error(conn));
        else
            out->dropped++;
    }
    for (long day = first; day <= last && rc == 0; day++) {
        bool made = false;
        for (int i = 0; i < n && !made; i++)
            made = have[i] == day;
        if (made)
            continue;
        rc = make_partition(conn, day, &out->moved, err, errlen);
        out->made += rc == 0;
    }
    free(have);
    if (rc)
        return -1;
    /* what the dropped partitions held: before the first day kept (keys and the
     * default partition's rows go with their events, never sooner) */
    char at[STRPARSE_TS_LEN];
    snprintf(at, sizeof(at), "%.0f", (double)first * DAY_S);
    if (delete_count(conn,
                     "WITH d AS (DELETE FROM events_default WHERE at < to_timestamp($1::float8) "
                     "RETURNING 1) SELECT count(*) FROM d",
                     at, &out->expired) ||
        delete_count(conn,
                     "WITH d AS (DELETE FROM event_keys WHERE at < to_timestamp($1::float8) "
                     "RETURNING 1) SELECT count(*) FROM d",
                     at, &out->expired))
        return fmt_error(err, errlen, "database: %s", db_error(conn));
    return 0;
}
