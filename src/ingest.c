#include "xsell/ingest.h"

#include <math.h>
#include <stdarg.h>

#include "xsell/caps.h"
#include "xsell/db.h"
#include "xsell/log.h"
#include "xsell/strparse.h"
#include "xsell/xalloc.h"

#define COPY_CHUNK (256 * 1024)
#define QUANTITY_MAX 10000000
#define PRICE_MAX 1e9

static int failf(char *err, size_t errlen, const char *fmt, ...) PRINTF_LIKE(3, 4);
static int failf(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* A value quoted for a message: at most 40 bytes, control bytes as '?'. */
static const char *shown(struct text t)
{
    static _Thread_local char out[64];
    size_t n = t.n > 40 ? 40 : t.n, k = 0;
    for (size_t i = 0; i < n; i++)
        out[k++] = (unsigned char)t.p[i] < 0x20 ? '?' : t.p[i];
    if (t.n > n) {
        memcpy(out + k, "...", 3);
        k += 3;
    }
    out[k] = '\0';
    return out;
}

static int check_text(struct text t, const char *field, size_t max, bool required, char *err,
                      size_t errlen)
{
    if (required && t.n == 0)
        return failf(err, errlen, "%s is empty", field);
    if (t.n > max)
        return failf(err, errlen, "%s is longer than %zu bytes", field, max);
    if (!strparse_utf8_valid(t.p, t.n))
        return failf(err, errlen, "%s is not valid UTF-8 text", field);
    return 0;
}

static int check_price(struct text t, const char *field, char *err, size_t errlen)
{
    double v;
    if (strparse_double(t.p, t.n, &v))
        return failf(err, errlen, "%s \"%s\" is not a number", field, shown(t));
    if (v < 0)
        return failf(err, errlen, "%s %s is negative", field, shown(t));
    if (v > PRICE_MAX)
        return failf(err, errlen, "%s %s is above %g", field, shown(t), PRICE_MAX);
    return 0;
}

/* COPY text format: backslash escapes for the bytes that would end a field or row. */
static void put_text(struct buf *b, struct text t)
{
    for (size_t i = 0; i < t.n; i++) {
        char c = t.p[i];
        switch (c) {
        case '\\':
            buf_append(b, "\\\\", 2);
            break;
        case '\t':
            buf_append(b, "\\t", 2);
            break;
        case '\n':
            buf_append(b, "\\n", 2);
            break;
        case '\r':
            buf_append(b, "\\r", 2);
            break;
        default:
            buf_putc(b, c);
        }
    }
}

static void put_field(struct buf *b, struct text t, char end)
{
    if (t.n == 0)
        buf_append(b, "\\N", 2);
    else
        put_text(b, t);
    buf_putc(b, end);
}

static void put_cstr(struct buf *b, const char *s, char end)
{
    struct text t = {s, s ? strlen(s) : 0};
    put_field(b, t, end);
}

static int flush_copy(struct ingest *g, bool force, char *err, size_t errlen)
{
    if (g->copy.len == 0 || (!force && g->copy.len < COPY_CHUNK))
        return 0;
    if (PQputCopyData(g->conn, g->copy.data, (int)g->copy.len) != 1)
        return failf(err, errlen, "database: %s", db_error(g->conn));
    buf_reset(&g->copy);
    return 0;
}

static int end_copy(struct ingest *g, char *err, size_t errlen)
{
    if (flush_copy(g, true, err, errlen))
        return -1;
    if (PQputCopyEnd(g->conn, NULL) != 1)
        return failf(err, errlen, "database: %s", db_error(g->conn));
    PGresult *r = PQgetResult(g->conn);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    while ((r = PQgetResult(g->conn)))
        PQclear(r);
    if (!ok)
        return failf(err, errlen, "database: %s", db_error(g->conn));
    return 0;
}

static int start_copy(struct ingest *g, const char *sql, char *err, size_t errlen)
{
    PGresult *r = PQexecParams(g->conn, sql, 0, NULL, NULL, NULL, NULL, 0);
    bool ok = PQresultStatus(r) == PGRES_COPY_IN;
    PQclear(r);
    if (!ok)
        return failf(err, errlen, "database: %s", db_error(g->conn));
    return 0;
}

int ingest_begin(struct ingest *g, PGconn *conn, enum ingest_kind kind, bool want_ids,
                 char *err, size_t errlen)
{
    memset(g, 0, sizeof(*g));
    g->conn = conn;
    g->kind = kind;
    g->want_ids = want_ids;
    buf_init(&g->copy, SIZE_MAX / 2);
    arena_init(&g->arena);
    idmap_init(&g->orders);
    idmap_init(&g->products);
    const char *stage =
        kind == INGEST_PRODUCTS
            ? "CREATE TEMP TABLE stage_products (product_id text, name text, category text, "
              "price numeric, cost numeric, in_stock boolean) ON COMMIT DROP"
            : "CREATE TEMP TABLE stage_lines (order_id text, line_no int, product_id text, "
              "quantity int, unit_price numeric) ON COMMIT DROP";
    const char *copy = kind == INGEST_PRODUCTS ? "COPY stage_products FROM STDIN"
                                               : "COPY stage_lines FROM STDIN";
    if (db_cmd(conn, "BEGIN", 0, NULL) || db_cmd(conn, stage, 0, NULL)) {
        failf(err, errlen, "database: %s", db_error(conn));
        ingest_abort(g);
        return -1;
    }
    if (start_copy(g, copy, err, errlen)) {
        ingest_abort(g);
        return -1;
    }
    return 0;
}

static int parse_product(const struct product_in *p, bool *in_stock, char *err, size_t errlen)
{
    *in_stock = true;
    if (check_text(p->product_id, "product_id", ID_MAX, true, err, errlen) ||
        check_text(p->name, "name", TEXT_MAX, false, err, errlen) ||
        check_text(p->category, "category", TEXT_MAX, false, err, errlen) ||
        check_price(p->price, "price", err, errlen))
        return -1;
    if (p->cost.n && check_price(p->cost, "cost", err, errlen))
        return -1;
    if (p->in_stock.n && strparse_bool(p->in_stock.p, p->in_stock.n, in_stock))
        return failf(err, errlen, "in_stock \"%s\" is not true or false", shown(p->in_stock));
    return 0;
}

int ingest_check_product(const struct product_in *p, char *err, size_t errlen)
{
    bool in_stock;
    return parse_product(p, &in_stock, err, errlen);
}

int ingest_product(struct ingest *g, const struct product_in *p, char *err, size_t errlen)
{
    bool in_stock;
    if (parse_product(p, &in_stock, err, errlen))
        return -1;
    bool added;
    idmap_put(&g->products, p->product_id.p, p->product_id.n, &added);
    if (!added)
        return failf(err, errlen, "product_id \"%s\" appears twice", shown(p->product_id));
    put_field(&g->copy, p->product_id, '\t');
    put_field(&g->copy, p->name, '\t');
    put_field(&g->copy, p->category, '\t');
    put_field(&g->copy, p->price, '\t');
    put_field(&g->copy, p->cost, '\t');
    buf_append(&g->copy, in_stock ? "t\n" : "f\n", 2);
    g->rows++;
    return flush_copy(g, false, err, errlen) ? -2 : 0;
}

static void grow_orders(struct ingest *g, size_t n)
{
    if (n <= g->order_cap)
        return;
    size_t cap = g->order_cap;
    xgrow((void **)&g->order_customer, &cap, n, sizeof(char *));
    cap = g->order_cap;
    xgrow((void **)&g->order_time, &cap, n, sizeof(double));
    cap = g->order_cap;
    xgrow((void **)&g->order_time_text, &cap, n, sizeof(char *));
    cap = g->order_cap;
    xgrow((void **)&g->order_lines, &cap, n, sizeof(int32_t));
    g->order_cap = cap;
}

static void grow_products(struct ingest *g, size_t n)
{
    if (n <= g->product_cap)
        return;
    size_t cap = g->product_cap;
    xgrow((void **)&g->product_time, &cap, n, sizeof(double));
    cap = g->product_cap;
    xgrow((void **)&g->product_price, &cap, n, sizeof(char *));
    g->product_cap = cap;
}

static int parse_order_line(const struct order_line_in *l, double *when, int64_t *qty,
                            char *canon, char *err, size_t errlen)
{
    if (check_text(l->order_id, "order_id", ID_MAX, true, err, errlen) ||
        check_text(l->customer_id, "customer_id", ID_MAX, false, err, errlen) ||
        check_text(l->product_id, "product_id", ID_MAX, true, err, errlen))
        return -1;
    if (strparse_timestamp(l->ordered_at.p, l->ordered_at.n, when, canon))
        return failf(err, errlen, "ordered_at \"%s\" is not an ISO-8601 date or time",
                     shown(l->ordered_at));
    if (strparse_int64(l->quantity.p, l->quantity.n, -QUANTITY_MAX, QUANTITY_MAX, qty))
        return failf(err, errlen, "quantity \"%s\" is not an integer in -%d..%d",
                     shown(l->quantity), QUANTITY_MAX, QUANTITY_MAX);
    if (*qty == 0)
        return failf(err, errlen, "quantity is 0");
    return check_price(l->unit_price, "unit_price", err, errlen);
}

int ingest_check_order_line(const struct order_line_in *l, char *err, size_t errlen)
{
    double when;
    int64_t qty;
    char canon[STRPARSE_TS_LEN];
    return parse_order_line(l, &when, &qty, canon, err, errlen);
}

int ingest_order_line(struct ingest *g, const struct order_line_in *l, char *err, size_t errlen)
{
    double when;
    int64_t qty;
    char canon[STRPARSE_TS_LEN];
    if (parse_order_line(l, &when, &qty, canon, err, errlen))
        return -1;

    bool added;
    int32_t o = idmap_put(&g->orders, l->order_id.p, l->order_id.n, &added);
    grow_orders(g, (size_t)o + 1);
    if (added) {
        g->order_customer[o] =
            l->customer_id.n ? arena_strndup(&g->arena, l->customer_id.p, l->customer_id.n)
                             : NULL;
        g->order_time[o] = when;
        g->order_time_text[o] = arena_strdup(&g->arena, canon);
        g->order_lines[o] = 0;
    } else {
        const char *c = g->order_customer[o];
        bool same_customer = c ? strlen(c) == l->customer_id.n &&
                                     memcmp(c, l->customer_id.p, l->customer_id.n) == 0
                               : l->customer_id.n == 0;
        if (!same_customer)
            return failf(err, errlen, "order %s has lines with different customer_id values",
                         shown(l->order_id));
        if (g->order_time[o] != when)
            return failf(err, errlen, "order %s has lines with different ordered_at values",
                         shown(l->order_id));
    }
    if (g->order_lines[o] >= LINES_PER_ORDER_MAX)
        return failf(err, errlen, "order %s has more than %d lines", shown(l->order_id),
                     LINES_PER_ORDER_MAX);
    int32_t line_no = ++g->order_lines[o];

    int32_t p = idmap_put(&g->products, l->product_id.p, l->product_id.n, &added);
    grow_products(g, (size_t)p + 1);
    if (added || when >= g->product_time[p]) {
        g->product_time[p] = when;
        g->product_price[p] = arena_strndup(&g->arena, l->unit_price.p, l->unit_price.n);
    }

    put_field(&g->copy, l->order_id, '\t');
    buf_appendf(&g->copy, "%d\t", (int)line_no);
    put_field(&g->copy, l->product_id, '\t');
    buf_appendf(&g->copy, "%lld\t", (long long)qty);
    put_field(&g->copy, l->unit_price, '\n');
    g->rows++;
    return flush_copy(g, false, err, errlen) ? -2 : 0;
}

/* Stages the orders and the products the lines named, collected in memory. */
static int stage_orders_and_products(struct ingest *g, char *err, size_t errlen)
{
    if (db_cmd(g->conn,
               "CREATE TEMP TABLE stage_orders (order_id text, customer_id text, "
               "ordered_at timestamptz) ON COMMIT DROP",
               0, NULL) ||
        db_cmd(g->conn,
               "CREATE TEMP TABLE stage_new_products (product_id text, price numeric) "
               "ON COMMIT DROP",
               0, NULL))
        return failf(err, errlen, "database: %s", db_error(g->conn));
    if (start_copy(g, "COPY stage_orders FROM STDIN", err, errlen))
        return -1;
    for (size_t i = 0; i < idmap_size(&g->orders); i++) {
        put_cstr(&g->copy, idmap_key(&g->orders, (int32_t)i), '\t');
        put_cstr(&g->copy, g->order_customer[i], '\t');
        put_cstr(&g->copy, g->order_time_text[i], '\n');
        if (flush_copy(g, false, err, errlen))
            return -1;
    }
    if (end_copy(g, err, errlen) ||
        start_copy(g, "COPY stage_new_products FROM STDIN", err, errlen))
        return -1;
    for (size_t i = 0; i < idmap_size(&g->products); i++) {
        put_cstr(&g->copy, idmap_key(&g->products, (int32_t)i), '\t');
        put_cstr(&g->copy, g->product_price[i], '\n');
        if (flush_copy(g, false, err, errlen))
            return -1;
    }
    return end_copy(g, err, errlen);
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
     * skipped, so updated_at moves only on a real change. */
    PGresult *r = db_query(
        g->conn,
        "WITH up AS (INSERT INTO products AS p (product_id, name, category, price, cost, "
        "in_stock, updated_at) SELECT product_id, name, category, price, cost, in_stock, now() "
        "FROM stage_products ON CONFLICT (product_id) DO UPDATE SET name = excluded.name, "
        "category = excluded.category, price = excluded.price, cost = excluded.cost, "
        "in_stock = excluded.in_stock, updated_at = now() WHERE (p.name, p.category, p.price, "
        "p.cost, p.in_stock) IS DISTINCT FROM (excluded.name, excluded.category, "
        "excluded.price, excluded.cost, excluded.in_stock) RETURNING (xmax = 0) AS inserted) "
        "SELECT count(*) FILTER (WHERE inserted) AS created, "
        "count(*) FILTER (WHERE NOT inserted) AS updated FROM up",
        0, NULL);
    if (!r)
        return failf(err, errlen, "database: %s", db_error(g->conn));
    res->products_created = count_of(r, "created");
    res->products_updated = count_of(r, "updated");
    PQclear(r);
    return 0;
}

static int upsert_orders(struct ingest *g, struct ingest_result *res, char *err, size_t errlen)
{
    const char *params[] = {g->want_ids ? "t" : "f"};
    PGresult *r = db_query(
        g->conn,
        "WITH cust AS (INSERT INTO customers (customer_id, created_at) "
        "  SELECT customer_id, min(ordered_at) FROM stage_orders WHERE customer_id IS NOT NULL "
        "  GROUP BY customer_id ON CONFLICT DO NOTHING RETURNING 1), "
        "prod AS (INSERT INTO products (product_id, price, updated_at) "
        "  SELECT product_id, price, now() FROM stage_new_products "
        "  ON CONFLICT DO NOTHING RETURNING 1) "
        "SELECT (SELECT count(*) FROM cust) AS customers, (SELECT count(*) FROM prod) AS products",
        0, NULL);
    if (!r)
        return failf(err, errlen, "database: %s", db_error(g->conn));
    res->customers_created = count_of(r, "customers");
    res->products_created = count_of(r, "products");
    PQclear(r);
    r = db_query(g->conn,
                 "WITH ins AS (INSERT INTO orders (order_id, customer_id, ordered_at) "
                 "  SELECT order_id, customer_id, ordered_at FROM stage_orders "
                 "  ON CONFLICT DO NOTHING RETURNING order_id), "
                 "lines AS (INSERT INTO order_lines (order_id, line_no, product_id, quantity, "
                 "  unit_price) SELECT s.order_id, s.line_no, s.product_id, s.quantity, "
                 "  s.unit_price FROM stage_lines s JOIN ins USING (order_id) RETURNING 1) "
                 "SELECT (SELECT count(*) FROM ins) AS orders, "
                 "(SELECT count(*) FROM lines) AS lines, "
                 "CASE WHEN $1::boolean THEN (SELECT coalesce(json_agg(order_id), '[]') "
                 "  FROM ins) END AS ids",
                 1, params);
    if (!r)
        return failf(err, errlen, "database: %s", db_error(g->conn));
    res->orders_created = count_of(r, "orders");
    res->lines_created = count_of(r, "lines");
    res->orders_existing = (long)idmap_size(&g->orders) - res->orders_created;
    int f = PQfnumber(r, "ids");
    if (g->want_ids && f >= 0 && !PQgetisnull(r, 0, f))
        res->created_ids = xstrdup(PQgetvalue(r, 0, f));
    PQclear(r);
    return 0;
}

static void ingest_free(struct ingest *g)
{
    buf_release(&g->copy);
    arena_release(&g->arena);
    idmap_release(&g->orders);
    idmap_release(&g->products);
    free(g->order_customer);
    free(g->order_time);
    free(g->order_time_text);
    free(g->order_lines);
    free(g->product_time);
    free(g->product_price);
    g->order_customer = NULL;
    g->order_time = NULL;
    g->order_time_text = NULL;
    g->order_lines = NULL;
    g->product_time = NULL;
    g->product_price = NULL;
    g->order_cap = g->product_cap = 0;
}

int ingest_commit(struct ingest *g, struct ingest_result *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof(*res));
    res->rows = g->rows;
    if (end_copy(g, err, errlen))
        goto fail;
    if (g->kind == INGEST_PRODUCTS) {
        if (upsert_products(g, res, err, errlen))
            goto fail;
    } else {
        if (stage_orders_and_products(g, err, errlen) || upsert_orders(g, res, err, errlen))
            goto fail;
    }
    if (db_cmd(g->conn, "COMMIT", 0, NULL)) {
        failf(err, errlen, "database: commit failed: %s", db_error(g->conn));
        goto fail;
    }
    ingest_free(g);
    return 0;
fail:
    free(res->created_ids);
    res->created_ids = NULL;
    ingest_abort(g);
    return -1;
}

void ingest_abort(struct ingest *g)
{
    if (g->conn) {
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
