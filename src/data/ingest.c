#include "xsell/ingest.h"

#include <assert.h>
#include <math.h>
#include <stdarg.h>

#include "xsell/caps.h"
#include "xsell/db.h"
#include "xsell/log.h"
#include "xsell/strparse.h"
#include "xsell/xalloc.h"

#define COPY_CHUNK (256 * 1024)
/* Small enough that reading the next chunk overlaps the server's work on this one
 * (measured on Online Retail: 4k 260k, 16k 320k, 64k 245k lines/s). */
#define LINES_PER_CHUNK 16384

/* COPY text format: backslash escapes for the bytes that would end a field or row. */
static void put_field(struct buf *b, struct text t, char end)
{
    db_copy_field(b, t.p, t.n, end);
}

static void put_cstr(struct buf *b, const char *s, char end)
{
    db_copy_field(b, s, s ? strlen(s) : 0, end);
}

static int flush_copy(struct ingest *g, bool force, char *err, size_t errlen)
{
    if (g->copy.len == 0 || (!force && g->copy.len < COPY_CHUNK))
        return 0;
    if (db_copy_put(g->conn, g->copy.data, g->copy.len))
        return fmt_error(err, errlen, "database: %s", db_error(g->conn));
    buf_reset(&g->copy);
    return 0;
}

/* Waits for the outcome of a COPY whose end was sent (see send_copy_end). */
static int collect_copy(struct ingest *g, char *err, size_t errlen)
{
    if (!g->copy_pending)
        return 0;
    g->copy_pending = false;
    PGresult *r = PQgetResult(g->conn);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    while ((r = PQgetResult(g->conn)))
        PQclear(r);
    if (!ok)
        return fmt_error(err, errlen, "database: %s", db_error(g->conn));
    return 0;
}

/* Ends a COPY without waiting: the server finishes the rows while we read on. */
static int send_copy_end(struct ingest *g, char *err, size_t errlen)
{
    if (flush_copy(g, true, err, errlen))
        return -1;
    if (db_copy_end(g->conn, NULL))
        return fmt_error(err, errlen, "database: %s", db_error(g->conn));
    g->copy_pending = true;
    return 0;
}

static int end_copy(struct ingest *g, char *err, size_t errlen)
{
    return send_copy_end(g, err, errlen) || collect_copy(g, err, errlen) ? -1 : 0;
}

static int start_copy(struct ingest *g, const char *sql, char *err, size_t errlen)
{
    if (db_copy_start(g->conn, sql))
        return fmt_error(err, errlen, "database: %s", db_error(g->conn));
    return 0;
}

static long count_of(PGresult *r, const char *col)
{
    int f = PQfnumber(r, col);
    if (f < 0 || PQgetisnull(r, 0, f))
        return 0;
    return strtol(PQgetvalue(r, 0, f), NULL, 10);
}

static int upsert_products(struct ingest *g, struct ingest_result *res, char *err, size_t errlen)
{
    /* Re-importing the same file changes nothing: rows equal to what is stored are
     * skipped, so updated_at moves only on a real change. A stock not given leaves the
     * stored one (PATCH /products/{id} keeps it between catalogue files). */
    PGresult *r = db_query(
        g->conn,
        "WITH up AS (INSERT INTO products AS p (product_id, name, category, price, cost, "
        "in_stock, stock, updated_at) SELECT product_id, name, category, price, cost, in_stock, "
        "stock, now() FROM stage_products ON CONFLICT (product_id) DO UPDATE SET name = "
        "excluded.name, category = excluded.category, price = excluded.price, cost = "
        "excluded.cost, in_stock = excluded.in_stock, stock = coalesce(excluded.stock, p.stock), "
        "updated_at = now() WHERE (p.name, p.category, p.price, p.cost, p.in_stock, p.stock) IS "
        "DISTINCT FROM (excluded.name, excluded.category, excluded.price, excluded.cost, "
        "excluded.in_stock, coalesce(excluded.stock, p.stock)) RETURNING (xmax = 0) AS inserted) "
        "SELECT count(*) FILTER (WHERE inserted) AS created, "
        "count(*) FILTER (WHERE NOT inserted) AS updated FROM up",
        0, NULL);
    if (!r)
        return fmt_error(err, errlen, "database: %s", db_error(g->conn));
    res->products_created = count_of(r, "created");
    res->products_updated = count_of(r, "updated");
    PQclear(r);
    return 0;
}

enum { ORDER_PENDING, ORDER_NEW, ORDER_EXISTING };

struct order_state {
    const char *customer; /* NULL for a guest */
    const char *session;  /* NULL: none given */
    const char *channel;  /* NULL: none given */
    const char *time_text;
    double time;
    int32_t lines;
    int32_t state;
};

struct product_state {
    double time;       /* of the latest line naming it */
    const char *price; /* that line's unit price: a new product's price */
};

static int db_fail(struct ingest *g, char *err, size_t errlen)
{
    return fmt_error(err, errlen, "database: %s", db_error(g->conn));
}

int ingest_begin(struct ingest *g, PGconn *conn, enum ingest_kind kind, bool want_ids, char *err,
                 size_t errlen)
{
    memset(g, 0, sizeof(*g));
    err[0] = '\0';
    g->conn = conn;
    g->kind = kind;
    g->want_ids = want_ids;
    buf_init(&g->copy, BUF_UNCAPPED);
    buf_init(&g->chunk, BUF_UNCAPPED);
    arena_init(&g->arena);
    idmap_init(&g->orders);
    idmap_init(&g->products);
    idmap_init(&g->customers);
    int rc;
    if (kind == INGEST_PRODUCTS)
        rc = db_cmd(conn, "BEGIN", 0, NULL) ||
             db_cmd(conn,
                    "CREATE TEMP TABLE stage_products (product_id text, name text, category text, "
                    "price numeric, cost numeric, in_stock boolean, stock integer) ON COMMIT DROP",
                    0, NULL) ||
             start_copy(g, "COPY stage_products FROM STDIN", err, errlen);
    else
        rc = db_cmd(conn, "BEGIN", 0, NULL) ||
             db_cmd(conn,
                    "CREATE TEMP TABLE stage_orders (order_id text, customer_id text, "
                    "ordered_at timestamptz, session_id text, channel text) ON COMMIT DROP",
                    0, NULL);
    if (rc) {
        if (!err[0])
            db_fail(g, err, errlen);
        ingest_abort(g);
        return -1;
    }
    return 0;
}

int ingest_product(struct ingest *g, const struct product_in *p, char *err, size_t errlen)
{
    bool in_stock, added;
    if (rows_parse_product(p, &in_stock, err, errlen))
        return -1;
    idmap_put(&g->products, p->product_id.p, p->product_id.n, &added);
    if (!added)
        return fmt_error(err, errlen, "product_id \"%s\" appears twice", rows_shown(p->product_id));
    put_field(&g->copy, p->product_id, '\t');
    put_field(&g->copy, p->name, '\t');
    put_field(&g->copy, p->category, '\t');
    put_field(&g->copy, p->price, '\t');
    put_field(&g->copy, p->cost, '\t');
    buf_append(&g->copy, in_stock ? "t\t" : "f\t", 2);
    put_field(&g->copy, p->stock, '\n');
    g->rows++;
    return flush_copy(g, false, err, errlen) ? -2 : 0;
}

/* Whether kept (NULL: none) is the text t (empty: none). */
static bool same_text(const char *kept, struct text t)
{
    return kept ? strlen(kept) == t.n && memcmp(kept, t.p, t.n) == 0 : t.n == 0;
}

static const char *kept_text(struct arena *a, struct text t)
{
    return t.n ? arena_strndup(a, t.p, t.n) : NULL;
}

/* The first line of an order fixes its customer, time, session and channel; later
 * lines must agree. */
static int track_order(struct ingest *g, const struct order_line_in *l, double when,
                       const char *canon, int32_t *out, char *err, size_t errlen)
{
    bool added;
    int32_t o = idmap_put(&g->orders, l->order_id.p, l->order_id.n, &added);
    xgrow((void **)&g->order, &g->order_cap, (size_t)o + 1, sizeof(*g->order));
    struct order_state *os = &g->order[o];
    if (added) {
        os->customer = kept_text(&g->arena, l->customer_id);
        os->session = kept_text(&g->arena, l->session_id);
        os->channel = kept_text(&g->arena, l->channel);
        os->time_text = arena_strdup(&g->arena, canon);
        os->time = when;
        os->lines = 0;
        os->state = ORDER_PENDING;
        xgrow((void **)&g->pending, &g->pending_cap, g->npending + 1, sizeof(int32_t));
        g->pending[g->npending++] = o;
    } else {
        const char *differs = !same_text(os->customer, l->customer_id) ? "customer_id"
                              : os->time != when                       ? "ordered_at"
                              : !same_text(os->session, l->session_id) ? "session_id"
                              : !same_text(os->channel, l->channel)    ? "channel"
                                                                       : NULL;
        if (differs)
            return fmt_error(err, errlen, "order %s has lines with different %s values",
                             rows_shown(l->order_id), differs);
    }
    if (os->lines >= ORDER_LINES_MAX)
        return fmt_error(err, errlen, "order %s has more than %d lines", rows_shown(l->order_id),
                         ORDER_LINES_MAX);
    os->lines++;
    *out = o;
    return 0;
}

static void track_product_and_customer(struct ingest *g, const struct order_line_in *l, double when,
                                       const char *canon)
{
    bool added;
    int32_t p = idmap_put(&g->products, l->product_id.p, l->product_id.n, &added);
    xgrow((void **)&g->product, &g->product_cap, (size_t)p + 1, sizeof(*g->product));
    if (added || when >= g->product[p].time) {
        g->product[p].time = when;
        g->product[p].price = arena_strndup(&g->arena, l->unit_price.p, l->unit_price.n);
    }
    if (l->customer_id.n == 0)
        return;
    int32_t c = idmap_put(&g->customers, l->customer_id.p, l->customer_id.n, &added);
    if ((size_t)c >= g->customer_cap) {
        size_t cap = g->customer_cap;
        xgrow((void **)&g->customer_first, &cap, (size_t)c + 1, sizeof(char *));
        cap = g->customer_cap;
        xgrow((void **)&g->customer_first_t, &cap, (size_t)c + 1, sizeof(double));
        cap = g->customer_cap;
        xgrow((void **)&g->customer_acq, &cap, (size_t)c + 1, sizeof(char *));
        g->customer_cap = cap;
    }
    if (added || when < g->customer_first_t[c]) {
        g->customer_first_t[c] = when;
        g->customer_first[c] = arena_strdup(&g->arena, canon);
    }
    if (added)
        g->customer_acq[c] = NULL;
    if (!g->customer_acq[c]) /* the first given */
        g->customer_acq[c] = kept_text(&g->arena, l->acquisition_channel);
}

/* One order as a COPY row of (order_id, customer_id, ordered_at, session_id, channel). */
static void put_order(struct ingest *g, int32_t o, const struct order_state *os)
{
    put_cstr(&g->copy, idmap_key(&g->orders, o), '\t');
    put_cstr(&g->copy, os->customer, '\t');
    put_cstr(&g->copy, os->time_text, '\t');
    put_cstr(&g->copy, os->session, '\t');
    put_cstr(&g->copy, os->channel, '\n');
}

/* A first load: the pending orders are all new (the table was empty and the file's
 * orders are told apart by the idmap), so they go with COPY straight into orders. */
static int copy_new_orders(struct ingest *g, char *err, size_t errlen)
{
    if (start_copy(
            g, "COPY orders (order_id, customer_id, ordered_at, session_id, channel) FROM STDIN",
            err, errlen))
        return -1;
    for (size_t i = 0; i < g->npending; i++) {
        struct order_state *os = &g->order[g->pending[i]];
        put_order(g, g->pending[i], os);
        os->state = ORDER_NEW;
        if (flush_copy(g, false, err, errlen))
            return -1;
    }
    g->res.orders_created += (long)g->npending;
    g->npending = 0;
    return end_copy(g, err, errlen);
}

/* Settles the chunk: inserts the orders first seen in it (those already in the
 * database stay as they are), then COPYs the lines of every order this ingest
 * created straight into order_lines. */
static int flush_chunk(struct ingest *g, char *err, size_t errlen)
{
    if (collect_copy(g, err, errlen)) /* the previous chunk's lines */
        return -1;
    if (g->bulk && g->npending > 0 && copy_new_orders(g, err, errlen))
        return -1;
    if (g->npending > 0) {
        if (start_copy(g, "COPY stage_orders FROM STDIN", err, errlen))
            return -1;
        for (size_t i = 0; i < g->npending; i++) {
            put_order(g, g->pending[i], &g->order[g->pending[i]]);
            if (flush_copy(g, false, err, errlen))
                return -1;
        }
        if (end_copy(g, err, errlen))
            return -1;
        PGresult *r = db_query(g->conn,
                               "INSERT INTO orders (order_id, customer_id, ordered_at, session_id, "
                               "channel) SELECT order_id, customer_id, ordered_at, session_id, "
                               "channel FROM stage_orders "
                               "ON CONFLICT DO NOTHING RETURNING order_id",
                               0, NULL);
        if (!r)
            return db_fail(g, err, errlen);
        for (size_t i = 0; i < g->npending; i++)
            g->order[g->pending[i]].state = ORDER_EXISTING;
        int n = PQntuples(r);
        if (g->want_ids)
            g->res.created_ids =
                xrealloc(g->res.created_ids, (size_t)(g->res.orders_created + n) * sizeof(char *));
        for (int i = 0; i < n; i++) {
            const char *id = PQgetvalue(r, i, 0);
            int32_t o = idmap_find(&g->orders, id, strlen(id));
            assert(o >= 0);
            g->order[o].state = ORDER_NEW;
            if (g->want_ids)
                g->res.created_ids[g->res.orders_created] = xstrdup(id);
            g->res.orders_created++;
        }
        g->res.orders_existing += (long)g->npending - n;
        PQclear(r);
        g->npending = 0;
        if (db_cmd(g->conn, "TRUNCATE stage_orders", 0, NULL))
            return db_fail(g, err, errlen);
    }
    bool any = false;
    for (size_t i = 0; i < g->nchunk && !any; i++)
        any = g->order[g->chunk_order[i]].state == ORDER_NEW;
    if (any) {
        if (start_copy(g,
                       "COPY order_lines (order_id, line_no, product_id, quantity, "
                       "unit_price, recommendation_id) FROM STDIN",
                       err, errlen))
            return -1;
        size_t start = 0;
        for (size_t i = 0; i < g->nchunk; i++) {
            if (g->order[g->chunk_order[i]].state == ORDER_NEW) {
                buf_append(&g->copy, g->chunk.data + start, g->chunk_end[i] - start);
                g->res.lines_created++;
                if (flush_copy(g, false, err, errlen))
                    return -1;
            }
            start = g->chunk_end[i];
        }
        if (send_copy_end(g, err, errlen))
            return -1;
    }
    g->nchunk = 0;
    buf_reset(&g->chunk);
    return 0;
}

int ingest_order_line(struct ingest *g, const struct order_line_in *l, char *err, size_t errlen)
{
    double when;
    int64_t qty;
    int32_t o = -1;
    char canon[STRPARSE_TS_LEN];
    if (rows_parse_order_line(l, &when, &qty, canon, err, errlen) ||
        track_order(g, l, when, canon, &o, err, errlen))
        return -1;
    track_product_and_customer(g, l, when, canon);

    struct buf *b = &g->chunk;
    put_field(b, l->order_id, '\t');
    buf_append_int(b, g->order[o].lines);
    buf_putc(b, '\t');
    put_field(b, l->product_id, '\t');
    buf_append_int(b, qty);
    buf_putc(b, '\t');
    put_field(b, l->unit_price, '\t');
    put_field(b, l->recommendation_id, '\n');
    if (g->nchunk == g->chunk_cap) {
        size_t cap = g->chunk_cap;
        xgrow((void **)&g->chunk_order, &cap, g->nchunk + 1, sizeof(int32_t));
        cap = g->chunk_cap;
        xgrow((void **)&g->chunk_end, &cap, g->nchunk + 1, sizeof(size_t));
        g->chunk_cap = cap;
    }
    g->chunk_order[g->nchunk] = o;
    g->chunk_end[g->nchunk] = b->len;
    g->nchunk++;
    g->rows++;
    if (g->nchunk >= LINES_PER_CHUNK && flush_chunk(g, err, errlen))
        return -2;
    return 0;
}

/* Whether orders or order_lines hold a row. */
static int tables_hold_rows(struct ingest *g, bool *any)
{
    PGresult *r = db_query(
        g->conn, "SELECT EXISTS (SELECT 1 FROM orders) OR EXISTS (SELECT 1 FROM order_lines)", 0,
        NULL);
    if (!r)
        return -1;
    *any = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    return 0;
}

/* The statements that drop, and those that rebuild, every index and constraint on
 * orders and order_lines (and any foreign key naming them), written by PostgreSQL
 * from its own catalogue: foreign keys dropped first and added last. */
static const char *const BULK_DDL_SQL =
    "WITH t(rel) AS (VALUES ('orders'::regclass), ('order_lines'::regclass)), "
    "ddl AS ("
    " SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', c.conrelid::regclass, c.conname) AS "
    "drop_sql,"
    "  format('ALTER TABLE %s ADD CONSTRAINT %I %s', c.conrelid::regclass, c.conname,"
    "   pg_get_constraintdef(c.oid)) AS add_sql,"
    "  CASE c.contype WHEN 'f' THEN 0 ELSE 1 END AS rank"
    " FROM pg_constraint c"
    " WHERE c.contype IN ('p', 'u', 'f', 'x')"
    "  AND (c.conrelid IN (SELECT rel FROM t) OR c.confrelid IN (SELECT rel FROM t))"
    " UNION ALL"
    " SELECT format('DROP INDEX %s', i.indexrelid::regclass), pg_get_indexdef(i.indexrelid), 2"
    " FROM pg_index i"
    " WHERE i.indrelid IN (SELECT rel FROM t) AND NOT EXISTS (SELECT 1 FROM pg_constraint c"
    "  WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid))"
    "SELECT drop_sql, add_sql FROM ddl ORDER BY rank, drop_sql";

int ingest_bulk_load(struct ingest *g, char *err, size_t errlen)
{
    bool any;
    if (g->kind != INGEST_ORDERS)
        return 0;
    if (tables_hold_rows(g, &any))
        return db_fail(g, err, errlen);
    if (any)
        return 0;
    if (db_cmd(g->conn, "SAVEPOINT bulk_load", 0, NULL))
        return db_fail(g, err, errlen);
    /* NOWAIT: never queue behind a reader (a training run) with every later
     * reader queued behind us */
    PGresult *r =
        PQexecParams(g->conn, "LOCK TABLE orders, order_lines IN ACCESS EXCLUSIVE MODE NOWAIT", 0,
                     NULL, NULL, NULL, NULL, 0);
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    bool locked = PQresultStatus(r) == PGRES_COMMAND_OK;
    bool busy = !locked && state && strcmp(state, "55P03") == 0; /* lock_not_available */
    PQclear(r);
    if (!locked && !busy)
        return db_fail(g, err, errlen);
    if (locked && tables_hold_rows(g, &any)) /* rows may have come before the lock */
        return db_fail(g, err, errlen);
    if (!locked || any) {
        log_info("import: %s; the usual path",
                 busy ? "orders are in use" : "orders arrived meanwhile");
        return db_cmd(g->conn, "ROLLBACK TO SAVEPOINT bulk_load", 0, NULL) ? db_fail(g, err, errlen)
                                                                           : 0;
    }
    if (!(r = db_query(g->conn, BULK_DDL_SQL, 0, NULL)))
        return db_fail(g, err, errlen);
    int n = PQntuples(r);
    g->rebuild = xcalloc((size_t)n, sizeof(char *));
    int rc = 0;
    for (int i = 0; i < n && !rc; i++) {
        g->rebuild[g->nrebuild++] = xstrdup(PQgetvalue(r, n - 1 - i, 1));
        rc = db_cmd(g->conn, PQgetvalue(r, i, 0), 0, NULL);
    }
    PQclear(r);
    if (rc || db_cmd(g->conn, "RELEASE SAVEPOINT bulk_load", 0, NULL) ||
        db_cmd(g->conn, "SET LOCAL maintenance_work_mem = '256MB'", 0, NULL))
        return db_fail(g, err, errlen);
    g->bulk = true;
    log_info("import: a first load; %zu indexes and constraints rebuilt at the end", g->nrebuild);
    return 0;
}

/* Customers and products first named by this ingest's orders. */
static int create_customers_and_products(struct ingest *g, char *err, size_t errlen)
{
    if (db_cmd(g->conn,
               "CREATE TEMP TABLE stage_customers (customer_id text, created_at timestamptz, "
               "acquisition_channel text) ON COMMIT DROP",
               0, NULL) ||
        db_cmd(g->conn,
               "CREATE TEMP TABLE stage_new_products (product_id text, price numeric) "
               "ON COMMIT DROP",
               0, NULL))
        return db_fail(g, err, errlen);
    if (start_copy(g, "COPY stage_customers FROM STDIN", err, errlen))
        return -1;
    for (size_t i = 0; i < idmap_size(&g->customers); i++) {
        put_cstr(&g->copy, idmap_key(&g->customers, (int32_t)i), '\t');
        put_cstr(&g->copy, g->customer_first[i], '\t');
        put_cstr(&g->copy, g->customer_acq[i], '\n');
        if (flush_copy(g, false, err, errlen))
            return -1;
    }
    if (end_copy(g, err, errlen) ||
        start_copy(g, "COPY stage_new_products FROM STDIN", err, errlen))
        return -1;
    for (size_t i = 0; i < idmap_size(&g->products); i++) {
        put_cstr(&g->copy, idmap_key(&g->products, (int32_t)i), '\t');
        put_cstr(&g->copy, g->product[i].price, '\n');
        if (flush_copy(g, false, err, errlen))
            return -1;
    }
    if (end_copy(g, err, errlen))
        return -1;
    PGresult *r = db_query(
        g->conn,
        /* a customer's acquisition channel, once given, stays */
        "WITH cust AS (INSERT INTO customers AS c (customer_id, created_at, acquisition_channel) "
        "  SELECT customer_id, created_at, acquisition_channel FROM stage_customers "
        "  ON CONFLICT (customer_id) DO UPDATE SET acquisition_channel = "
        "  excluded.acquisition_channel WHERE c.acquisition_channel IS NULL AND "
        "  excluded.acquisition_channel IS NOT NULL RETURNING (xmax = 0) AS inserted), "
        "prod AS (INSERT INTO products (product_id, price, updated_at) "
        "  SELECT product_id, price, now() FROM stage_new_products "
        "  ON CONFLICT DO NOTHING RETURNING 1) "
        "SELECT (SELECT count(*) FROM cust WHERE inserted) AS customers, "
        "(SELECT count(*) FROM prod) AS products",
        0, NULL);
    if (!r)
        return db_fail(g, err, errlen);
    g->res.customers_created = count_of(r, "customers");
    g->res.products_created = count_of(r, "products");
    PQclear(r);
    return 0;
}

static void ingest_free(struct ingest *g)
{
    buf_release(&g->copy);
    buf_release(&g->chunk);
    arena_release(&g->arena);
    idmap_release(&g->orders);
    idmap_release(&g->products);
    idmap_release(&g->customers);
    free(g->order);
    free(g->product);
    free(g->customer_first);
    free(g->customer_first_t);
    free(g->customer_acq);
    free(g->chunk_order);
    free(g->chunk_end);
    free(g->pending);
    free(g->notify);
    for (size_t i = 0; i < g->nrebuild; i++)
        free(g->rebuild[i]);
    free(g->rebuild);
    ingest_result_release(&g->res);
    memset(g, 0, sizeof(*g));
}

int ingest_set_stock(PGconn *conn, const char *product_id, const char *stock, char *err,
                     size_t errlen)
{
    const char *const params[] = {product_id, stock};
    PGresult *r =
        db_query(conn,
                 "WITH p AS (SELECT product_id FROM products WHERE product_id = $1), "
                 "up AS (UPDATE products SET stock = $2::integer, updated_at = now() "
                 "WHERE product_id = $1 AND stock IS DISTINCT FROM $2::integer "
                 "RETURNING 1) SELECT (SELECT count(*) FROM p), (SELECT count(*) FROM up)",
                 2, params);
    if (!r)
        return fmt_error(err, errlen, "database: %s", db_error(conn));
    bool found = strcmp(PQgetvalue(r, 0, 0), "0") != 0;
    PQclear(r);
    return found ? 0 : 1;
}

void ingest_notify(struct ingest *g, const char *channel, const char *payload)
{
    xgrow((void **)&g->notify, &g->notify_cap, g->nnotify + 2, sizeof(*g->notify));
    g->notify[g->nnotify++] = arena_strdup(&g->arena, channel);
    g->notify[g->nnotify++] = arena_strdup(&g->arena, payload);
}

int ingest_commit(struct ingest *g, struct ingest_result *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof(*res));
    g->res.rows = g->rows;
    if (g->kind == INGEST_PRODUCTS) {
        if (end_copy(g, err, errlen) || upsert_products(g, &g->res, err, errlen))
            goto fail;
    } else {
        if (flush_chunk(g, err, errlen) || collect_copy(g, err, errlen) ||
            create_customers_and_products(g, err, errlen))
            goto fail;
        for (size_t i = 0; i < g->nrebuild; i++)
            if (db_cmd(g->conn, g->rebuild[i], 0, NULL)) {
                db_fail(g, err, errlen);
                goto fail;
            }
    }
    /* Statistics for the planner with the rows, not at autovacuum's next round: queried
     * straight after a load, the attribution report's lookups ran 20 times slower. */
    if (g->analyze &&
        db_cmd(g->conn,
               g->kind == INGEST_PRODUCTS ? "ANALYZE products"
                                          : "ANALYZE orders, order_lines, customers, products",
               0, NULL)) {
        db_fail(g, err, errlen);
        goto fail;
    }
    for (size_t i = 0; i + 1 < g->nnotify; i += 2)
        if (db_cmd(g->conn, "SELECT pg_notify($1, $2)", 2, g->notify + i)) {
            db_fail(g, err, errlen);
            goto fail;
        }
    if (db_cmd(g->conn, "COMMIT", 0, NULL)) {
        bool unknown = PQstatus(g->conn) != CONNECTION_OK;
        fmt_error(err, errlen, "database: commit failed%s: %s",
                  unknown ? " (the connection broke: stored or not, unknown)" : "",
                  db_error(g->conn));
        ingest_abort(g);
        return unknown ? INGEST_OUTCOME_UNKNOWN : -1;
    }
    *res = g->res;
    g->res.created_ids = NULL; /* handed over */
    ingest_free(g);
    return 0;
fail:
    ingest_abort(g);
    return -1;
}

void ingest_abort(struct ingest *g)
{
    if (g->conn) {
        char ignored[8];
        collect_copy(g, ignored, sizeof(ignored));
        if (PQtransactionStatus(g->conn) == PQTRANS_ACTIVE) {
            /* Still inside COPY: end it with an error so the server drops the rows. */
            PQputCopyEnd(g->conn, "aborted");
            PGresult *r;
            while ((r = PQgetResult(g->conn)))
                PQclear(r);
        }
        if (PQtransactionStatus(g->conn) != PQTRANS_IDLE) {
            PGresult *r = PQexecParams(g->conn, "ROLLBACK", 0, NULL, NULL, NULL, NULL, 0);
            PQclear(r);
        }
        g->conn = NULL;
    }
    ingest_free(g);
}
