#include "xsell/events.h"

#include <math.h>
#include <stdlib.h>

#include "xsell/channels.h"
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

long events_recent_touches(PGconn *conn, int limit, double seconds,
                           void (*fn)(void *ctx, const char *session, const char *product,
                                      double at),
                           void *ctx)
{
    char lim[24], secs[32];
    snprintf(lim, sizeof(lim), "%d", limit);
    snprintf(secs, sizeof(secs), "%.0f", seconds);
    const char *const params[] = {lim, secs};
    PGresult *r = db_query(conn,
                           "SELECT session_id, product_id, extract(epoch FROM at) FROM ("
                           "SELECT session_id, product_id, at FROM events WHERE at > now() - "
                           "make_interval(secs => $2::float8) AND type <> 'impression' AND "
                           "product_id IS NOT NULL ORDER BY at DESC LIMIT $1::int) e ORDER BY at",
                           2, params);
    if (!r)
        return -1;
    long n = PQntuples(r);
    for (long i = 0; i < n; i++)
        fn(ctx, PQgetvalue(r, (int)i, 0), PQgetvalue(r, (int)i, 1),
           strtod(PQgetvalue(r, (int)i, 2), NULL));
    PQclear(r);
    return n;
}

/* The tables partitioned by day of `at` whose rows live for the window: each with
 * its partitions TABLE_pYYYYMMDD and TABLE_default. */
static const char *const day_tables[] = {"events", "recommendations"};

/* A day (days since the epoch) as table's partition's name and its bounds' dates. */
static void day_names(const char *table, long day, char name[64], char from[11], char to[11])
{
    char d[11];
    strparse_format_date((double)day * DAY_S, d);
    snprintf(name, 64, "%s_p%.4s%.2s%.2s", table, d, d + 5, d + 8);
    memcpy(from, d, sizeof(d));
    strparse_format_date((double)(day + 1) * DAY_S, to);
}

/* The day a partition's name stands for, or -1 when it is not one of table's. */
static long name_day(const char *table, const char *name)
{
    size_t pre = strlen(table) + 2;
    if (strncmp(name, table, pre - 2) != 0 || strncmp(name + pre - 2, "_p", 2) != 0 ||
        strlen(name) != pre + 8)
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

/* Makes table's partition of the day in one transaction, moving the day's rows out of
 * the default partition first (ATTACH refuses while it holds any). *moved: how many. */
static int make_partition(PGconn *conn, const char *table, long day, long *moved, char *err,
                          size_t errlen)
{
    char name[64], from[11], to[11], sql[400];
    day_names(table, day, name, from, to);
    const char *const range[] = {from, to};
    /* the names and dates are the program's own, never a client's */
    snprintf(sql, sizeof(sql), "LOCK TABLE %s_default IN ACCESS EXCLUSIVE MODE", table);
    if (db_cmd(conn, "BEGIN", 0, NULL) || db_cmd(conn, sql, 0, NULL))
        return rollback_fail(conn, err, errlen);
    snprintf(sql, sizeof(sql), "CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS)",
             name, table);
    if (db_cmd(conn, sql, 0, NULL))
        return rollback_fail(conn, err, errlen);
    snprintf(sql, sizeof(sql),
             "WITH m AS (DELETE FROM %s_default WHERE at >= $1::date AND at < $2::date "
             "RETURNING *), i AS (INSERT INTO %s SELECT * FROM m RETURNING 1) "
             "SELECT count(*) FROM i",
             table, name);
    PGresult *r = db_query(conn, sql, 2, range);
    if (!r)
        return rollback_fail(conn, err, errlen);
    *moved += strtol(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    snprintf(sql, sizeof(sql),
             "ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM ('%s') TO ('%s')", table, name,
             from, to);
    if (db_cmd(conn, sql, 0, NULL) || db_cmd(conn, "COMMIT", 0, NULL))
        return rollback_fail(conn, err, errlen);
    return 0;
}

/* Deletes the rows of sql ($1: the cutoff, epoch seconds) and adds their count to *n. */
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

/* One table's partitions for the days first..last: those before dropped, the missing
 * made; then what the dropped ones would have held deleted from its default. */
static int maintain_table(PGconn *conn, const char *table, long first, long last,
                          struct events_maintenance *out, char *err, size_t errlen)
{
    const char *const params[] = {table};
    PGresult *r = db_query(conn,
                           "SELECT c.relname FROM pg_inherits i JOIN pg_class c "
                           "ON c.oid = i.inhrelid WHERE i.inhparent = $1::regclass",
                           1, params);
    if (!r)
        return fmt_error(err, errlen, "database: %s", db_error(conn));
    int n = PQntuples(r);
    long *have = xmalloc(((size_t)n + 1) * sizeof(long));
    for (int i = 0; i < n; i++)
        have[i] = name_day(table, PQgetvalue(r, i, 0));
    PQclear(r);
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        if (have[i] < 0 || have[i] >= first)
            continue;
        char name[64], from[11], to[11], sql[100];
        day_names(table, have[i], name, from, to);
        snprintf(sql, sizeof(sql), "DROP TABLE %s", name);
        if (db_cmd(conn, sql, 0, NULL))
            rc = fmt_error(err, errlen, "database: %s", db_error(conn));
        else
            out->dropped++;
    }
    /* the days ahead and the last EVENTS_DAYS_BEHIND, and the earlier days the default
     * partition holds rows of: a window of years costs no empty partitions */
    char from_day[32], sql_days[200];
    snprintf(from_day, sizeof(from_day), "%.0f", (double)first * DAY_S);
    snprintf(sql_days, sizeof(sql_days),
             "SELECT DISTINCT floor(extract(epoch FROM at) / 86400)::bigint FROM %s_default "
             "WHERE at >= to_timestamp($1::float8)",
             table);
    const char *const from_param[] = {from_day};
    r = rc ? NULL : db_query(conn, sql_days, 1, from_param);
    if (!rc && !r)
        rc = fmt_error(err, errlen, "database: %s", db_error(conn));
    int nheld = r ? PQntuples(r) : 0, nwant = 0;
    long *want =
        xmalloc(((size_t)nheld + EVENTS_DAYS_AHEAD + EVENTS_DAYS_BEHIND + 2) * sizeof(long));
    for (int i = 0; i < nheld; i++)
        want[nwant++] = strtol(PQgetvalue(r, i, 0), NULL, 10);
    PQclear(r);
    for (long day = MAX(first, last - EVENTS_DAYS_AHEAD - EVENTS_DAYS_BEHIND); day <= last; day++)
        want[nwant++] = day;
    for (int w = 0; w < nwant && rc == 0; w++) {
        bool made = want[w] < first || want[w] > last;
        for (int i = 0; i < n && !made; i++)
            made = have[i] == want[w];
        for (int k = 0; k < w && !made; k++)
            made = want[k] == want[w];
        if (made)
            continue;
        rc = make_partition(conn, table, want[w], &out->moved, err, errlen);
        out->made += rc == 0;
    }
    free(want);
    free(have);
    if (rc)
        return -1;
    char at[32], sql[200];
    snprintf(at, sizeof(at), "%.0f", (double)first * DAY_S);
    snprintf(sql, sizeof(sql),
             "WITH d AS (DELETE FROM %s_default WHERE at < to_timestamp($1::float8) "
             "RETURNING 1) SELECT count(*) FROM d",
             table);
    if (delete_count(conn, sql, at, &out->expired))
        return fmt_error(err, errlen, "database: %s", db_error(conn));
    return 0;
}

int events_maintain(PGconn *conn, int keep_days, double now, struct events_maintenance *out,
                    char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    double cutoff = now - keep_days * DAY_S;
    long first = (long)floor(cutoff / DAY_S), last = (long)floor(now / DAY_S) + EVENTS_DAYS_AHEAD;
    for (size_t i = 0; i < ARRAY_SIZE(day_tables); i++)
        if (maintain_table(conn, day_tables[i], first, last, out, err, errlen))
            return -1;
    /* the keys go with their events: what the dropped days held, never sooner */
    char at[32];
    snprintf(at, sizeof(at), "%.0f", (double)first * DAY_S);
    if (delete_count(conn,
                     "WITH d AS (DELETE FROM event_keys WHERE at < to_timestamp($1::float8) "
                     "RETURNING 1) SELECT count(*) FROM d",
                     at, &out->expired))
        return fmt_error(err, errlen, "database: %s", db_error(conn));
    /* Rows moved out leave the default partitions full of dead tuples their indexes
     * still point to, and the new partitions without statistics, until autovacuum's
     * round: the attribution report's lookups meanwhile read every dead page for each
     * sale line (the demo's year: 22 s against 1.3). */
    if (out->moved > 0 &&
        (db_cmd(conn, "VACUUM (ANALYZE) events_default, recommendations_default", 0, NULL) ||
         db_cmd(conn, "ANALYZE events, recommendations", 0, NULL)))
        log_warn("events: the moved rows were left to autovacuum: %s", db_error(conn));
    return 0;
}

int events_copy_answers(PGconn *conn, const char *rows, size_t len, char *err, size_t errlen)
{
    if (db_copy_start(conn, "COPY recommendations (recommendation_id, surface, at, "
                            "model_version, strategy, customer_id, session_id, experiment_id, "
                            "variant, items) FROM STDIN") ||
        db_copy_put(conn, rows, len) || db_copy_end(conn, NULL) || db_copy_outcome(conn))
        return fmt_error(err, errlen, "database: %s", db_error(conn));
    return 0;
}

/* The report of attribution_report_json: one statement, its JSON built by PostgreSQL.
 * $1, $2: the window's bounds; $3: the hours a click or cart add counts. */
static const char report_sql[] =
    "WITH l AS (SELECT * FROM attributed_lines($1::timestamptz, $2::timestamptz, $3::float8)), "
    "g AS (SELECT coalesce(surface, 'unknown') AS surface, model_version, count(*) AS lines, "
    " count(DISTINCT order_id) AS orders, round(sum(revenue), 2) AS revenue, "
    " round(sum(margin), 2) AS margin, count(margin) AS lines_with_cost, "
    " count(*) FILTER (WHERE how = 'direct') AS direct, "
    " count(*) FILTER (WHERE how = 'click') AS click, "
    " count(*) FILTER (WHERE how = 'add_to_cart') AS add_to_cart "
    " FROM l WHERE recommendation_id IS NOT NULL GROUP BY 1, 2), "
    "t AS (SELECT count(*) AS lines, count(DISTINCT order_id) AS orders, "
    " coalesce(round(sum(revenue), 2), 0) AS revenue, round(sum(margin), 2) AS margin, "
    " count(*) FILTER (WHERE recommendation_id IS NOT NULL) AS a_lines, "
    " count(DISTINCT order_id) FILTER (WHERE recommendation_id IS NOT NULL) AS a_orders, "
    " coalesce(round(sum(revenue) FILTER (WHERE recommendation_id IS NOT NULL), 2), 0) "
    "  AS a_revenue, "
    " round(sum(margin) FILTER (WHERE recommendation_id IS NOT NULL), 2) AS a_margin FROM l), "
    "ans AS (SELECT surface, count(*) AS answers FROM recommendations "
    " WHERE at >= $1::timestamptz AND at < $2::timestamptz GROUP BY 1), "
    "ev AS (SELECT r.surface, count(*) FILTER (WHERE e.type = 'impression') AS impressions, "
    " count(*) FILTER (WHERE e.type = 'click') AS clicks, "
    " count(*) FILTER (WHERE e.type = 'add_to_cart') AS add_to_carts "
    " FROM events e JOIN recommendations r ON r.recommendation_id = e.recommendation_id "
    " WHERE e.at >= $1::timestamptz AND e.at < $2::timestamptz GROUP BY 1) "
    "SELECT json_build_object('from', $1::timestamptz, 'to', $2::timestamptz, "
    " 'window_hours', $3::float8, "
    " 'totals', (SELECT json_build_object('lines', lines, 'orders', orders, 'revenue', revenue, "
    "  'margin', margin, 'attributed', json_build_object('lines', a_lines, 'orders', a_orders, "
    "  'revenue', a_revenue, 'margin', a_margin, 'revenue_share', "
    "  CASE WHEN revenue > 0 THEN round(a_revenue / revenue, 4) END)) FROM t), "
    " 'by_model', coalesce((SELECT json_agg(json_build_object('surface', surface, "
    "  'model_version', model_version, 'lines', lines, 'orders', orders, 'revenue', revenue, "
    "  'margin', margin, 'lines_with_cost', lines_with_cost, 'how', json_build_object("
    "  'direct', direct, 'click', click, 'add_to_cart', add_to_cart)) "
    "  ORDER BY revenue DESC, surface, model_version) FROM g), '[]'), "
    " 'surfaces', (SELECT json_agg(json_build_object('surface', s.surface, "
    "  'answers', coalesce(ans.answers, 0), 'impressions', coalesce(ev.impressions, 0), "
    "  'clicks', coalesce(ev.clicks, 0), 'add_to_carts', coalesce(ev.add_to_carts, 0)) "
    "  ORDER BY s.surface) FROM (VALUES ('recommend'), ('upsell'), ('retention')) s(surface) "
    "  LEFT JOIN ans ON ans.surface = s.surface LEFT JOIN ev ON ev.surface = s.surface)"
    ")::text";

/* events_channel_sales: per order its sales revenue r and attributed revenue a, then
 * per channel. $1, $2: the window's bounds; $3: the hours a click or cart add counts.
 * The lines are materialized first: grouped straight away, the planner looked the
 * events up in a far costlier order (the demo's year: 25 s against 2). */
static const char channel_sales_sql[] =
    "WITH l AS MATERIALIZED (SELECT order_id, revenue, recommendation_id FROM "
    " attributed_lines($1::timestamptz, $2::timestamptz, $3::float8)), "
    "o AS (SELECT order_id, sum(revenue) AS r, coalesce(sum(revenue) FILTER (WHERE "
    " recommendation_id IS NOT NULL), 0) AS a FROM l GROUP BY order_id) "
    "SELECT x.channel, count(*)::float8, sum(o.r)::float8, sum(o.a)::float8, "
    " sum(o.a * o.a)::float8, sum(o.r * o.r)::float8, sum(o.a * o.r)::float8 "
    "FROM o JOIN orders x ON x.order_id = o.order_id GROUP BY x.channel "
    "ORDER BY 3 DESC, 1 NULLS LAST";

int events_channel_sales(PGconn *conn, const char *from, const char *to, double hours,
                         struct channel_sales **out, size_t *n)
{
    char h[32];
    snprintf(h, sizeof(h), "%.6g", hours);
    const char *const params[] = {from, to, h};
    PGresult *r = db_query(conn, channel_sales_sql, 3, params);
    *out = NULL;
    *n = 0;
    if (!r)
        return -1;
    size_t rows = (size_t)PQntuples(r);
    struct channel_sales *cs = xcalloc(rows + 1, sizeof(*cs));
    for (size_t i = 0; i < rows; i++) {
        int row = (int)i;
        cs[i].none = PQgetisnull(r, row, 0);
        snprintf(cs[i].name, sizeof(cs[i].name), "%s", PQgetvalue(r, row, 0));
        double *v[] = {&cs[i].orders, &cs[i].revenue, &cs[i].attributed,
                       &cs[i].aa,     &cs[i].rr,      &cs[i].ar};
        for (int k = 0; k < 6; k++)
            *v[k] = strtod(PQgetvalue(r, row, k + 1), NULL);
    }
    PQclear(r);
    *out = cs;
    *n = rows;
    return 0;
}

char *events_attribution_json(PGconn *conn, const char *from, const char *to, double hours)
{
    char h[32];
    snprintf(h, sizeof(h), "%.6g", hours);
    const char *const params[] = {from, to, h};
    PGresult *r = db_query(conn, report_sql, 3, params);
    if (!r)
        return NULL;
    char *out = xstrdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    return out;
}
