#include "xsell/experiments_db.h"

#include <math.h>
#include <stdlib.h>

#include "xsell/db.h"
#include "xsell/log.h"
#include "xsell/strparse.h"
#include "xsell/xalloc.h"

char *experiments_db_list(PGconn *conn)
{
    PGresult *r = db_query(conn,
                           "SELECT coalesce(json_agg(definition ORDER BY created_at, "
                           "experiment_id), '[]')::text FROM experiments",
                           0, NULL);
    if (!r)
        return NULL;
    char *out = xstrdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    return out;
}

char *experiments_db_get(PGconn *conn, const char *id, bool *found)
{
    const char *const params[] = {id};
    *found = true;
    PGresult *r = db_query(
        conn, "SELECT definition::text FROM experiments WHERE experiment_id = $1", 1, params);
    if (!r)
        return NULL;
    char *out = PQntuples(r) ? xstrdup(PQgetvalue(r, 0, 0)) : NULL;
    *found = out != NULL;
    PQclear(r);
    return out;
}

int experiments_db_exposed(PGconn *conn, const char *id)
{
    const char *const params[] = {id};
    PGresult *r = db_query(
        conn, "SELECT EXISTS (SELECT 1 FROM recommendations WHERE experiment_id = $1)", 1, params);
    if (!r)
        return -1;
    int yes = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    return yes;
}

int experiments_db_put(PGconn *conn, const char *id, const char *definition, bool *created,
                       char *err, size_t errlen)
{
    const char *const params[] = {id, definition};
    PGresult *r = db_query(conn,
                           "INSERT INTO experiments AS x (experiment_id, definition) "
                           "VALUES ($1, $2::jsonb) ON CONFLICT (experiment_id) DO UPDATE SET "
                           "definition = excluded.definition, updated_at = now() "
                           "RETURNING (xmax = 0)",
                           2, params);
    if (!r)
        return fmt_error(err, errlen, "database: %s", db_error(conn));
    *created = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    return 0;
}

/* Per exposed unit: its variant's name, exposures, then from its first exposure to $3
 * its orders, revenue and margin (sale lines; margin where the cost is known), and
 * its revenue in the EXP_PRE_DAYS before the start $2. %s: the orders' unit column. */
static const char units_sql[] =
    "WITH x AS (SELECT variant, %s AS unit, min(at) AS first_seen, count(*) AS exposures "
    " FROM recommendations WHERE experiment_id = $1 AND %s IS NOT NULL AND variant IS NOT NULL "
    " GROUP BY 1, 2), "
    "s AS (SELECT x.variant, x.unit, "
    " count(DISTINCT o.order_id) FILTER (WHERE o.ordered_at >= x.first_seen) AS orders, "
    " coalesce(sum(l.quantity * l.unit_price) FILTER (WHERE o.ordered_at >= x.first_seen), 0) "
    "  AS revenue, "
    " coalesce(sum(l.quantity * (l.unit_price - p.cost)) FILTER (WHERE o.ordered_at >= "
    "  x.first_seen AND p.cost IS NOT NULL), 0) AS margin, "
    " coalesce(sum(l.quantity * l.unit_price) FILTER (WHERE o.ordered_at < $2::timestamptz), 0) "
    "  AS pre "
    " FROM x LEFT JOIN orders o ON o.%s = x.unit AND o.ordered_at < $3::timestamptz AND "
    "  (o.ordered_at >= x.first_seen OR (o.ordered_at >= $2::timestamptz - interval '%d days' "
    "  AND o.ordered_at < $2::timestamptz)) "
    " LEFT JOIN order_lines l ON l.order_id = o.order_id AND l.quantity > 0 "
    " LEFT JOIN products p ON p.product_id = l.product_id "
    " GROUP BY 1, 2) "
    "SELECT s.variant, x.exposures, s.orders, s.revenue, s.margin, s.pre FROM s "
    "JOIN x ON x.variant = s.variant AND x.unit = s.unit";

static const char events_sql[] =
    "SELECT r.variant, count(*) FILTER (WHERE e.type = 'impression'), "
    "count(*) FILTER (WHERE e.type = 'click'), count(*) FILTER (WHERE e.type = 'add_to_cart') "
    "FROM events e JOIN recommendations r ON r.recommendation_id = e.recommendation_id "
    "WHERE r.experiment_id = $1 AND e.at < $3::timestamptz AND e.at >= $2::timestamptz "
    "GROUP BY 1";

static int variant_of(const struct experiment *e, const char *name)
{
    for (int i = 0; i < e->nvariants; i++)
        if (strcmp(e->variant[i].name, name) == 0)
            return i;
    return -1;
}

int experiments_db_units(PGconn *conn, const struct experiment *e, double until,
                         struct exp_unit_row **rows, size_t *n, struct exp_events *ev, char *err,
                         size_t errlen)
{
    char start[STRPARSE_TS_LEN], end[STRPARSE_TS_LEN], sql[sizeof(units_sql) + 64];
    strparse_format_timestamp(e->start, start);
    strparse_format_timestamp(until, end);
    const char *const params[] = {e->id, start, end};
    const char *col = e->unit == EXP_UNIT_SESSION ? "session_id" : "customer_id";
    /* the column is one of two names of the program's own */
    snprintf(sql, sizeof(sql), units_sql, col, col, col, EXP_PRE_DAYS);
    *rows = NULL;
    *n = 0;
    memset(ev, 0, sizeof(*ev) * (size_t)e->nvariants);
    PGresult *r = db_query(conn, sql, 3, params);
    if (!r)
        return fmt_error(err, errlen, "database: %s", db_error(conn));
    int k = PQntuples(r);
    *rows = xcalloc((size_t)k + 1, sizeof(**rows));
    for (int i = 0; i < k; i++) {
        struct exp_unit_row *u = &(*rows)[i];
        u->variant = variant_of(e, PQgetvalue(r, i, 0));
        u->exposures = strtod(PQgetvalue(r, i, 1), NULL);
        u->orders = strtod(PQgetvalue(r, i, 2), NULL);
        u->revenue = strtod(PQgetvalue(r, i, 3), NULL);
        u->margin = strtod(PQgetvalue(r, i, 4), NULL);
        u->pre_revenue = e->unit == EXP_UNIT_SESSION ? 0 : strtod(PQgetvalue(r, i, 5), NULL);
    }
    *n = (size_t)k;
    PQclear(r);
    r = db_query(conn, events_sql, 3, params);
    if (!r) {
        free(*rows);
        *rows = NULL;
        *n = 0;
        return fmt_error(err, errlen, "database: %s", db_error(conn));
    }
    for (int i = 0; i < PQntuples(r); i++) {
        int v = variant_of(e, PQgetvalue(r, i, 0));
        if (v < 0)
            continue;
        ev[v].impressions = strtod(PQgetvalue(r, i, 1), NULL);
        ev[v].clicks = strtod(PQgetvalue(r, i, 2), NULL);
        ev[v].add_to_carts = strtod(PQgetvalue(r, i, 3), NULL);
    }
    PQclear(r);
    return 0;
}
