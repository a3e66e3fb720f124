/* events_import (events.h): a file of events or of answers into a temporary table by
 * COPY, checked there row by row, then stored as POST /events and the answer log
 * store them. */
#include <stdlib.h>

#include "xsell/db.h"
#include "xsell/events.h"
#include "xsell/log.h"

struct file_kind {
    const char *name;    /* in messages */
    const char *columns; /* the header, and the temporary table's columns */
    const char *table;   /* CREATE TEMPORARY TABLE import_rows (line, ...) */
    const char *checks;  /* SELECT line, what FROM import_rows ...: the first bad row */
    const char *store;   /* the new rows stored: their count */
};

/* The checks below read: an id as the API takes one is 1..200 bytes without control
 * characters (the file's UTF-8 is checked by COPY); $1 is the window's days; `copies`
 * counts the rows of the same id. Each VALUES row is a reason or null. */
#define CHECK_AT                                                                                   \
    "(CASE WHEN at IS NULL THEN 'at is required' "                                                 \
    "WHEN at > now() + interval '5 minutes' THEN 'at is in the future' "                           \
    "WHEN at < now() - make_interval(days => $1::int) "                                            \
    "THEN 'at is older than the ' || $1::int || ' days kept (XSELL_EVENTS_KEEP_DAYS)' END)"
#define CHECK_END ") AS c(what) WHERE what IS NOT NULL ORDER BY line LIMIT 1"

static const char events_checks[] =
    "SELECT line, what FROM (SELECT *, count(*) OVER (PARTITION BY event_id) AS copies "
    "FROM import_rows) t, LATERAL (VALUES "
    "(CASE WHEN event_id IS NULL OR octet_length(event_id) > 200 OR event_id ~ '[[:cntrl:]]' "
    "THEN 'event_id must be an id (1..200 bytes, no control characters)' END), "
    "(CASE WHEN type IS NULL OR type NOT IN ('impression', 'click', 'add_to_cart', 'view') "
    "THEN 'type must be impression, click, add_to_cart or view' END), "
    "(CASE WHEN session_id IS NULL OR octet_length(session_id) > 200 "
    "OR session_id ~ '[[:cntrl:]]' THEN 'session_id must be an id' END), "
    "(CASE WHEN octet_length(customer_id) > 200 OR customer_id ~ '[[:cntrl:]]' "
    "OR octet_length(recommendation_id) > 200 OR recommendation_id ~ '[[:cntrl:]]' "
    "OR octet_length(product_id) > 200 OR product_id ~ '[[:cntrl:]]' "
    "THEN 'an id is too long or holds control characters' END), "
    "(CASE WHEN type <> 'impression' AND product_id IS NULL "
    "THEN 'product_id is required for a ' || type "
    "WHEN type = 'impression' AND product_id IS NULL AND items IS NULL "
    "AND recommendation_id IS NULL "
    "THEN 'an impression names what was shown: items, product_id or recommendation_id' END), "
    "(CASE WHEN items IS NOT NULL AND (cardinality(items) NOT BETWEEN 1 AND 100 "
    "OR array_position(items, NULL) IS NOT NULL) "
    "THEN 'items must hold 1..100 product ids' END), " CHECK_AT ", "
    "(CASE WHEN copies > 1 THEN 'event_id appears twice in the file' END)" CHECK_END;

static const char answers_checks[] =
    "SELECT line, what FROM (SELECT *, count(*) OVER (PARTITION BY recommendation_id) AS copies "
    "FROM import_rows) t, LATERAL (VALUES "
    "(CASE WHEN recommendation_id IS NULL OR octet_length(recommendation_id) > 200 "
    "OR recommendation_id ~ '[[:cntrl:]]' "
    "THEN 'recommendation_id must be an id (1..200 bytes, no control characters)' END), "
    "(CASE WHEN surface IS NULL OR surface NOT IN ('recommend', 'upsell', 'retention') "
    "THEN 'surface must be recommend, upsell or retention' END), "
    "(CASE WHEN octet_length(customer_id) > 200 OR customer_id ~ '[[:cntrl:]]' "
    "OR octet_length(session_id) > 200 OR session_id ~ '[[:cntrl:]]' "
    "OR octet_length(experiment_id) > 200 OR experiment_id ~ '[[:cntrl:]]' "
    "OR octet_length(variant) > 200 OR variant ~ '[[:cntrl:]]' "
    "OR octet_length(strategy) > 200 OR strategy ~ '[[:cntrl:]]' "
    "THEN 'an id is too long or holds control characters' END), "
    "(CASE WHEN (experiment_id IS NULL) <> (variant IS NULL) "
    "THEN 'experiment_id and variant come together' END), "
    "(CASE WHEN items IS NULL OR array_position(items, NULL) IS NOT NULL "
    "THEN 'items must be the products offered, {} for none' END), " CHECK_AT ", "
    "(CASE WHEN copies > 1 THEN 'recommendation_id appears twice in the file' END)" CHECK_END;

/* The new rows stored, as POST /events and the answer log store them: their count. */
static const char events_store[] =
    "WITH fresh AS (INSERT INTO event_keys (event_id, at) SELECT event_id, at FROM import_rows "
    "ORDER BY line ON CONFLICT (event_id) DO NOTHING RETURNING event_id), "
    "ins AS (INSERT INTO events (event_id, type, at, session_id, customer_id, "
    "recommendation_id, product_id, items) SELECT i.event_id, i.type, i.at, i.session_id, "
    "i.customer_id, i.recommendation_id, i.product_id, i.items FROM import_rows i "
    "JOIN fresh f USING (event_id) RETURNING 1) SELECT count(*) FROM ins";

static const char answers_store[] =
    "WITH ins AS (INSERT INTO recommendations (recommendation_id, surface, at, model_version, "
    "strategy, customer_id, session_id, experiment_id, variant, items) "
    "SELECT i.recommendation_id, i.surface, i.at, i.model_version, i.strategy, i.customer_id, "
    "i.session_id, i.experiment_id, i.variant, i.items FROM import_rows i "
    "WHERE NOT EXISTS (SELECT 1 FROM recommendations r "
    "WHERE r.recommendation_id = i.recommendation_id) ORDER BY i.line RETURNING 1) "
    "SELECT count(*) FROM ins";

static const struct file_kind kinds[] = {
    [EVENTS_FILE_EVENTS] = {.name = "events",
                            .columns = "event_id,type,at,session_id,customer_id,"
                                       "recommendation_id,product_id,items",
                            .table = "CREATE TEMPORARY TABLE import_rows (line bigserial, "
                                     "event_id text, type text, at timestamptz, session_id "
                                     "text, customer_id text, recommendation_id text, "
                                     "product_id text, items text[]) ON COMMIT DROP",
                            .checks = events_checks,
                            .store = events_store},
    [EVENTS_FILE_ANSWERS] = {.name = "answers",
                             .columns = "recommendation_id,surface,at,model_version,strategy,"
                                        "customer_id,session_id,experiment_id,variant,items",
                             .table = "CREATE TEMPORARY TABLE import_rows (line bigserial, "
                                      "recommendation_id text, surface text, at timestamptz, "
                                      "model_version bigint, strategy text, customer_id text, "
                                      "session_id text, experiment_id text, variant text, "
                                      "items text[]) ON COMMIT DROP",
                             .checks = answers_checks,
                             .store = answers_store},
};

/* Streams in into COPY, the header checked first. -1 with err. */
static int copy_file(PGconn *conn, const struct file_kind *k, FILE *in, char *err, size_t errlen)
{
    char head[512], sql[600];
    if (!fgets(head, sizeof(head), in))
        return fmt_error(err, errlen, "%s: the file is empty", k->name);
    size_t n = strcspn(head, "\r\n");
    const char *h = head;
    if (n >= 3 && memcmp(h, "\xEF\xBB\xBF", 3) == 0) /* a BOM */
        h += 3, n -= 3;
    if (n != strlen(k->columns) || memcmp(h, k->columns, n) != 0)
        return fmt_error(err, errlen, "%s: the header must be \"%s\"", k->name, k->columns);
    snprintf(sql, sizeof(sql), "COPY import_rows (%s) FROM STDIN (FORMAT csv)", k->columns);
    if (db_copy_start(conn, sql))
        return fmt_error(err, errlen, "database: %s", db_error(conn));
    char buf[65536];
    size_t got;
    int rc = 0;
    while (rc == 0 && (got = fread(buf, 1, sizeof(buf), in)) > 0)
        rc = db_copy_put(conn, buf, got);
    bool read_failed = ferror(in) != 0;
    if (db_copy_end(conn, read_failed ? "the file could not be read" : NULL) || rc)
        return fmt_error(err, errlen, "database: %s", db_error(conn));
    if (db_copy_outcome(conn))
        return fmt_error(err, errlen, "%s: %s", k->name, db_error(conn));
    return read_failed ? fmt_error(err, errlen, "%s: read error", k->name) : 0;
}

int events_import(PGconn *conn, enum events_file kind, FILE *in, int keep_days, long *rows,
                  long *created, char *err, size_t errlen)
{
    const struct file_kind *k = &kinds[kind];
    char days[16];
    snprintf(days, sizeof(days), "%d", keep_days);
    const char *const params[] = {days};
    *rows = *created = 0;
    if (db_cmd(conn, "BEGIN", 0, NULL) || db_cmd(conn, k->table, 0, NULL)) {
        fmt_error(err, errlen, "database: %s", db_error(conn));
        goto fail;
    }
    if (copy_file(conn, k, in, err, errlen))
        goto fail;
    PGresult *r = db_query(conn, k->checks, 1, params);
    if (!r) {
        fmt_error(err, errlen, "database: %s", db_error(conn));
        goto fail;
    }
    if (PQntuples(r) > 0) {
        /* line 1 is the header */
        fmt_error(err, errlen, "%s:%ld: %s", k->name, strtol(PQgetvalue(r, 0, 0), NULL, 10) + 1,
                  PQgetvalue(r, 0, 1));
        PQclear(r);
        goto fail;
    }
    PQclear(r);
    r = db_query(conn, "SELECT count(*) FROM import_rows", 0, NULL);
    if (!r) {
        fmt_error(err, errlen, "database: %s", db_error(conn));
        goto fail;
    }
    *rows = strtol(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    r = db_query(conn, k->store, 0, NULL);
    if (!r) {
        fmt_error(err, errlen, "database: %s", db_error(conn));
        goto fail;
    }
    *created = strtol(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    /* the planner's statistics with the rows (ingest.c says why) */
    if (db_cmd(conn, "ANALYZE events, event_keys, recommendations", 0, NULL) ||
        db_cmd(conn, "COMMIT", 0, NULL)) {
        fmt_error(err, errlen, "database: %s", db_error(conn));
        goto fail;
    }
    return 0;
fail:
    db_cmd(conn, "ROLLBACK", 0, NULL);
    *rows = *created = 0;
    return -1;
}
