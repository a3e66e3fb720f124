#include "xsell/erase.h"

#include "xsell/db.h"
#include "xsell/ingest.h"
#include "xsell/log.h"
#include "xsell/snapstore.h"

/* Runs sql ($1 = id), whose one row holds counts, into out[0..n). -1 on failure. */
static int counts_of(PGconn *conn, const char *sql, const char *id, long *out, int n)
{
    const char *const params[] = {id};
    PGresult *r = db_query(conn, sql, 1, params);
    if (!r)
        return -1;
    for (int i = 0; i < n; i++)
        out[i] = PQntuples(r) > 0 && PQnfields(r) > i ? strtol(PQgetvalue(r, 0, i), NULL, 10) : 0;
    PQclear(r);
    return 0;
}

/* Each kind: one statement deleting lines and orders (counts: lines, orders), then one
 * deleting the entity itself (count), if it is not the order. The id is $1. */
static const struct {
    const char *history, *entity;
} plans[] = {
    [ERASE_ORDER] = {"WITH l AS (DELETE FROM order_lines WHERE order_id = $1 RETURNING 1), "
                     "o AS (DELETE FROM orders WHERE order_id = $1 RETURNING 1) "
                     "SELECT (SELECT count(*) FROM l), (SELECT count(*) FROM o)",
                     NULL},
    /* an order goes when it had no line of another product (the statement sees the
     * lines as they were before it) */
    [ERASE_PRODUCT] = {"WITH l AS (DELETE FROM order_lines WHERE product_id = $1 "
                       "RETURNING order_id), "
                       "o AS (DELETE FROM orders x WHERE x.order_id IN (SELECT order_id FROM l) "
                       "AND NOT EXISTS (SELECT 1 FROM order_lines y WHERE y.order_id = x.order_id "
                       "AND y.product_id <> $1) RETURNING 1) "
                       "SELECT (SELECT count(*) FROM l), (SELECT count(*) FROM o)",
                       "WITH p AS (DELETE FROM products WHERE product_id = $1 RETURNING 1) "
                       "SELECT count(*) FROM p"},
    [ERASE_CUSTOMER] = {"WITH o AS (DELETE FROM orders WHERE customer_id = $1 RETURNING order_id), "
                        "l AS (DELETE FROM order_lines WHERE order_id IN (SELECT order_id FROM o) "
                        "RETURNING 1) "
                        "SELECT (SELECT count(*) FROM l), (SELECT count(*) FROM o)",
                        "WITH s AS (DELETE FROM churn_scores WHERE customer_id = $1), "
                        "e AS (DELETE FROM events WHERE customer_id = $1), "
                        "c AS (DELETE FROM customers WHERE customer_id = $1 RETURNING 1) "
                        "SELECT count(*) FROM c"},
};

int erase_entity(PGconn *conn, enum erase_kind kind, const char *id, struct erase_result *res,
                 char *err, size_t errlen)
{
    long history[2] = {0, 0}, entity = 0;
    memset(res, 0, sizeof(*res));
    if (db_cmd(conn, "BEGIN", 0, NULL) || counts_of(conn, plans[kind].history, id, history, 2) ||
        (plans[kind].entity && counts_of(conn, plans[kind].entity, id, &entity, 1))) {
        fmt_error(err, errlen, "database: %s", db_error(conn));
        if (PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) != PQTRANS_IDLE)
            db_cmd(conn, "ROLLBACK", 0, NULL);
        return -1;
    }
    res->lines = history[0];
    res->orders = history[1];
    res->found = kind == ERASE_ORDER ? res->orders > 0 : entity > 0;
    /* what incremental training cannot follow from new orders: said for the next run */
    static const char *const kinds[] = {
        [ERASE_ORDER] = "order", [ERASE_PRODUCT] = "product", [ERASE_CUSTOMER] = "customer"};
    const char *const params[] = {kinds[kind]};
    /* and the stored snapshots go: they hold the history as it was */
    if ((res->lines > 0 || res->orders > 0) &&
        (db_cmd(conn, "INSERT INTO history_rewrites (kind) VALUES ($1)", 1, params) ||
         snapstore_drop_all(conn))) {
        fmt_error(err, errlen, "database: %s", db_error(conn));
        if (PQstatus(conn) == CONNECTION_OK)
            db_cmd(conn, "ROLLBACK", 0, NULL);
        return -1;
    }
    if (db_cmd(conn, "COMMIT", 0, NULL)) {
        bool unknown = PQstatus(conn) != CONNECTION_OK;
        fmt_error(err, errlen, "database: commit failed: %s", db_error(conn));
        return unknown ? INGEST_OUTCOME_UNKNOWN : -1;
    }
    return 0;
}
