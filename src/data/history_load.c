#include "xsell/history_load.h"

#include <arpa/inet.h>
#include <math.h>

#include "xsell/caps.h"
#include "xsell/db.h"
#include "xsell/log.h"

/* Binary COPY: an 11-byte signature, flags and header extension, then per row an
 * int16 field count and per field an int32 length (-1 = NULL) and the bytes, all
 * big-endian (PostgreSQL docs, "COPY", Binary Format). */
static const char copy_signature[11] = "PGCOPY\n\377\r\n";

struct row_reader {
    const char *p, *end;
    bool bad;
};

static uint32_t rd32(struct row_reader *r)
{
    uint32_t v;
    if (r->end - r->p < 4) {
        r->bad = true;
        return 0;
    }
    memcpy(&v, r->p, 4);
    r->p += 4;
    return ntohl(v);
}

static int16_t rd16(struct row_reader *r)
{
    uint16_t v;
    if (r->end - r->p < 2) {
        r->bad = true;
        return 0;
    }
    memcpy(&v, r->p, 2);
    r->p += 2;
    return (int16_t)ntohs(v);
}

/* A field's bytes; *len -1 for NULL. */
static const char *rd_field(struct row_reader *r, int32_t *len)
{
    *len = (int32_t)rd32(r);
    if (*len < 0)
        return NULL;
    if (r->end - r->p < *len) {
        r->bad = true;
        return NULL;
    }
    const char *f = r->p;
    r->p += *len;
    return f;
}

static double rd_float8(struct row_reader *r)
{
    int32_t len;
    const char *f = rd_field(r, &len);
    if (!f)
        return NAN;
    if (len != 8) {
        r->bad = true;
        return NAN;
    }
    uint32_t hi, lo;
    memcpy(&hi, f, 4);
    memcpy(&lo, f + 4, 4);
    uint64_t bits = ((uint64_t)ntohl(hi) << 32) | ntohl(lo);
    double d;
    memcpy(&d, &bits, 8);
    return d;
}

static int32_t rd_int4(struct row_reader *r)
{
    int32_t len;
    const char *f = rd_field(r, &len);
    if (!f || len != 4) {
        r->bad = true;
        return 0;
    }
    uint32_t v;
    memcpy(&v, f, 4);
    return (int32_t)ntohl(v);
}

/* A text field copied into a NUL-terminated scratch buffer; NULL for SQL NULL. */
static const char *rd_text(struct row_reader *r, char *scratch, size_t cap)
{
    int32_t len;
    const char *f = rd_field(r, &len);
    if (!f)
        return NULL;
    if ((size_t)len >= cap) {
        r->bad = true;
        return NULL;
    }
    memcpy(scratch, f, (size_t)len);
    scratch[len] = '\0';
    return scratch;
}

typedef int (*row_fn)(struct history *h, struct row_reader *r, double as_of);

static int product_row(struct history *h, struct row_reader *r, double as_of)
{
    char id[512], name[4096], cat[4096];
    UNUSED(as_of);
    const char *pid = rd_text(r, id, sizeof(id));
    const char *pname = rd_text(r, name, sizeof(name));
    const char *pcat = rd_text(r, cat, sizeof(cat));
    double price = rd_float8(r), cost = rd_float8(r);
    int32_t len;
    const char *in_stock = rd_field(r, &len);
    if (r->bad || !pid || !in_stock || len != 1)
        return -1;
    int32_t p = history_add_product(h, pid, pname, pcat, price, cost, *in_stock != 0);
    const char *stock = rd_field(r, &len); /* NULL: not known */
    if (r->bad || (stock && len != 4))
        return -1;
    if (stock) {
        uint32_t v;
        memcpy(&v, stock, 4);
        history_set_stock(h, p, (int32_t)ntohl(v));
    }
    return 0;
}

static int line_row(struct history *h, struct row_reader *r, double as_of)
{
    char oid[512], cid[512], pid[512], chan[CHANNEL_MAX + 1];
    const char *order = rd_text(r, oid, sizeof(oid));
    const char *customer = rd_text(r, cid, sizeof(cid));
    double when = rd_float8(r);
    const char *product = rd_text(r, pid, sizeof(pid));
    int32_t qty = rd_int4(r);
    double price = rd_float8(r);
    const char *channel = rd_text(r, chan, sizeof(chan));
    if (r->bad || !order || !product)
        return -1;
    if (as_of > 0 && when > as_of)
        return 0;
    history_add_line(h, order, customer, when, product, qty, price);
    history_set_last_channel(h, channel);
    return 0;
}

static int acquisition_row(struct history *h, struct row_reader *r, double as_of)
{
    char cid[512], chan[CHANNEL_MAX + 1];
    UNUSED(as_of);
    const char *customer = rd_text(r, cid, sizeof(cid));
    const char *channel = rd_text(r, chan, sizeof(chan));
    if (r->bad || !customer || !channel)
        return -1;
    history_set_acquisition(h, customer, channel);
    return 0;
}

static int signal_row(struct history *h, struct row_reader *r, double as_of)
{
    char vid[512], cid[512], pid[512];
    const char *visit = rd_text(r, vid, sizeof(vid));
    const char *customer = rd_text(r, cid, sizeof(cid));
    const char *product = rd_text(r, pid, sizeof(pid));
    int32_t kind = rd_int4(r);
    double when = rd_float8(r);
    if (r->bad || !visit || !product || kind < SIGNAL_VIEW || kind > SIGNAL_CART)
        return -1;
    if (as_of <= 0 || when <= as_of)
        history_add_signal(h, visit, customer, when, product, (enum signal_kind)kind);
    return 0;
}

static int copy_out(PGconn *conn, const char *sql, struct history *h, double as_of, row_fn fn,
                    long *rows, char *err, size_t errlen)
{
    PGresult *res = PQexecParams(conn, sql, 0, NULL, NULL, NULL, NULL, 1);
    bool ok = PQresultStatus(res) == PGRES_COPY_OUT;
    PQclear(res);
    if (!ok) {
        snprintf(err, errlen, "database: %s", db_error(conn));
        return -1;
    }
    char *row;
    int n, rc = 0;
    bool first = true;
    *rows = 0;
    while ((n = PQgetCopyData(conn, &row, 0)) > 0) {
        struct row_reader r = {row, row + n, false};
        if (first) {
            if (n < 19 || memcmp(row, copy_signature, 11) != 0) {
                rc = -1;
            } else {
                r.p += 15;
                uint32_t ext = rd32(&r);
                r.p += ext;
            }
            first = false;
        }
        if (rc == 0 && r.p < r.end) {
            int16_t nf = rd16(&r);
            if (nf != -1 && (r.bad || fn(h, &r, as_of)))
                rc = -1;
            else if (nf != -1)
                (*rows)++;
        }
        PQfreemem(row);
    }
    while ((res = PQgetResult(conn))) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK && rc == 0) {
            snprintf(err, errlen, "database: %s", db_error(conn));
            rc = -2;
        }
        PQclear(res);
    }
    if (n == -2 && rc == 0) {
        snprintf(err, errlen, "database: %s", db_error(conn));
        rc = -2;
    }
    if (rc == -1)
        snprintf(err, errlen, "unexpected binary COPY data");
    return rc ? -1 : 0;
}

/* The database's clock at the transaction's snapshot, less any write still open then
 * (an order committed after the snapshot carries its transaction's start as created_at,
 * so it is at or after the result): every order created since is in the next delta. */
static int read_watermark(PGconn *conn, double *watermark, char *err, size_t errlen)
{
    PGresult *r = db_query(conn,
                           "SELECT extract(epoch FROM least(now(), (SELECT min(xact_start) "
                           "FROM pg_stat_activity WHERE backend_xid IS NOT NULL "
                           "AND pid <> pg_backend_pid())))::float8",
                           0, NULL);
    if (!r)
        return fmt_error(err, errlen, "database: %s", db_error(conn));
    *watermark = strtod(PQgetvalue(r, 0, 0), NULL);
    PQclear(r);
    return 0;
}

#define REPLAY_WAIT_S 120.0

/* Waits until conn (a streaming replica) has replayed the primary's WAL up to lsn;
 * at once when conn is not a replica. -1 with err when it takes too long. */
static int wait_replayed(PGconn *conn, const char *lsn, char *err, size_t errlen)
{
    const char *const params[] = {lsn};
    double until = mono_seconds() + REPLAY_WAIT_S;
    for (;;) {
        PGresult *r = db_query(conn,
                               "SELECT NOT pg_is_in_recovery() OR pg_last_wal_replay_lsn() >= "
                               "$1::pg_lsn, coalesce(pg_last_wal_replay_lsn()::text, '')",
                               1, params);
        if (!r)
            return fmt_error(err, errlen, "the training database: %s", db_error(conn));
        bool done = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
        char at[64];
        snprintf(at, sizeof(at), "%s", PQgetvalue(r, 0, 1));
        PQclear(r);
        if (done)
            return 0;
        if (mono_seconds() > until)
            return fmt_error(err, errlen,
                             "the training database (a streaming replica) replayed up to %s, "
                             "not up to the primary's %s, within %.0f s",
                             at, lsn, REPLAY_WAIT_S);
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

/* Opens the read: one REPEATABLE READ, READ ONLY snapshot of conn, and *watermark.
 * primary (NULL: conn is the primary): conn is its streaming replica; the watermark
 * is read on the primary, and conn's snapshot taken once it has replayed everything
 * the primary had written by then, so every order created before the watermark is in
 * it. -1 with err (no transaction left open). */
static int begin_read(PGconn *conn, PGconn *primary, double *watermark, char *err, size_t errlen)
{
    if (primary) {
        PGresult *r = NULL;
        if (read_watermark(primary, watermark, err, errlen) ||
            !(r = db_query(primary, "SELECT pg_current_wal_lsn()::text", 0, NULL)))
            return r ? -1 : fmt_error(err, errlen, "database: %s", db_error(primary));
        char lsn[64];
        snprintf(lsn, sizeof(lsn), "%s", PQgetvalue(r, 0, 0));
        PQclear(r);
        if (wait_replayed(conn, lsn, err, errlen))
            return -1;
    }
    if (db_cmd(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL))
        return fmt_error(err, errlen, "database: %s", db_error(conn));
    if (!primary && read_watermark(conn, watermark, err, errlen)) {
        db_cmd(conn, "ROLLBACK", 0, NULL);
        return -1;
    }
    return 0;
}

static const char products_copy[] =
    "COPY (SELECT product_id, name, category, price::float8, cost::float8, "
    "in_stock, stock FROM products ORDER BY product_id) TO STDOUT (FORMAT binary)";
#define LINES_SELECT                                                                               \
    "SELECT o.order_id, o.customer_id, extract(epoch FROM o.ordered_at)::float8, l.product_id, "   \
    "l.quantity, l.unit_price::float8, o.channel FROM orders o JOIN order_lines l USING "          \
    "(order_id) "

/* The catalogue into hp, then the lines lines_copy (a binary COPY of LINES_SELECT's
 * columns) reads into hl. */
static int copy_history(PGconn *conn, double as_of, const char *lines_copy, struct history *hp,
                        struct history *hl, char *err, size_t errlen)
{
    long nprod, nlines;
    int rc = copy_out(conn, products_copy, hp, as_of, product_row, &nprod, err, errlen);
    return rc ? rc : copy_out(conn, lines_copy, hl, as_of, line_row, &nlines, err, errlen);
}

/* Per session, product and kind (view, click, cart add: events naming a product, or
 * its cart's items), the first time and the customer signed in; impressions are not
 * signals. The events table holds the retention window only. */
static const char signals_copy[] =
    "COPY (SELECT e.session_id, max(e.customer_id), p.product_id, CASE e.type WHEN 'view' THEN 1 "
    "WHEN 'click' THEN 2 ELSE 3 END, extract(epoch FROM min(e.at))::float8 FROM events e "
    "CROSS JOIN LATERAL unnest(CASE WHEN e.product_id IS NOT NULL THEN ARRAY[e.product_id] "
    "ELSE e.items END) AS p(product_id) WHERE e.type <> 'impression' AND p.product_id IS NOT NULL "
    "GROUP BY e.session_id, p.product_id, e.type ORDER BY e.session_id, 5) TO STDOUT "
    "(FORMAT binary)";

/* The customers' acquisition channels as given (sql/011). */
static const char acquisitions_copy[] =
    "COPY (SELECT customer_id, acquisition_channel FROM customers WHERE acquisition_channel IS "
    "NOT NULL) TO STDOUT (FORMAT binary)";

/* The signals and the acquisition channels given into h (whose orders are all in,
 * not yet finished). Neither is needed: a failure is logged and the history goes
 * without (the acquisition channels then are the first orders'). */
static void load_signals(PGconn *conn, double as_of, struct history *h)
{
    long rows;
    char err[300];
    if (copy_out(conn, signals_copy, h, as_of, signal_row, &rows, err, sizeof(err)))
        log_warn("history: the events are left out: %s", err);
    if (copy_out(conn, acquisitions_copy, h, as_of, acquisition_row, &rows, err, sizeof(err)))
        log_warn("history: the acquisition channels given are left out: %s", err);
}

static void loaded(const struct history *h, const char *how, double t0)
{
    log_info("history: %zu products, %zu customers, %zu orders, %zu lines, %zu signals of %zu "
             "visits in %.2fs%s",
             history_nproducts(h), history_ncustomers(h), history_norders(h), h->nlines,
             h->nsignals, h->nvisits, mono_seconds() - t0, how);
}

int history_load(PGconn *conn, PGconn *primary, double as_of, struct history *h, double *watermark,
                 char *err, size_t errlen)
{
    double t0 = mono_seconds();
    /* One snapshot of the database for every read. */
    if (begin_read(conn, primary, watermark, err, errlen)) {
        history_release(h);
        return -1;
    }
    int rc = copy_history(conn, as_of,
                          "COPY (" LINES_SELECT "ORDER BY o.ordered_at, o.order_id, l.line_no) "
                          "TO STDOUT (FORMAT binary)",
                          h, h, err, errlen);
    db_cmd(conn, "COMMIT", 0, NULL);
    if (rc) {
        history_release(h);
        return -1;
    }
    load_signals(conn, as_of, h);
    history_finish(h);
    loaded(h, primary ? " from the training database (XSELL_TRAIN_DATABASE_URL)" : "", t0);
    return 0;
}

/* Adds order o of from (its lines) to h. */
static void add_order(struct history *h, const struct history *from, size_t o)
{
    int32_t c = from->order_customer[o];
    const char *id = idmap_key(&from->orders, (int32_t)o);
    const char *cust = c >= 0 ? idmap_key(&from->customers, c) : NULL;
    for (int32_t l = from->order_first[o]; l < from->order_first[o + 1]; l++)
        history_add_line(h, id, cust, from->order_time[o],
                         idmap_key(&from->products, from->line_product[l]), from->line_qty[l],
                         from->line_price[l]);
    int16_t ch = from->order_channel[o];
    if (ch >= 0)
        history_set_last_channel(h, idmap_key(&from->channels, ch));
}

/* Does order a of x come before order b of y as the full load orders them (time,
 * then id bytes)? */
static bool order_before(const struct history *x, size_t a, const struct history *y, size_t b)
{
    if (x->order_time[a] != y->order_time[b])
        return x->order_time[a] < y->order_time[b];
    return strcmp(idmap_key(&x->orders, (int32_t)a), idmap_key(&y->orders, (int32_t)b)) < 0;
}

/* Whether delta's order b is one prev holds. */
static bool known(const struct history *prev, const struct history *delta, size_t b)
{
    const char *id = idmap_key(&delta->orders, (int32_t)b);
    return idmap_find(&prev->orders, id, strlen(id)) >= 0;
}

/* Whether every order of delta that prev lacks comes after prev's last one, and h
 * (the catalogue) numbers the products as prev does: then prev can be copied whole. */
static bool appended_only(const struct history *prev, const struct history *delta,
                          const struct history *h)
{
    size_t na = history_norders(prev);
    for (size_t b = 0; b < history_norders(delta); b++)
        if (!known(prev, delta, b))
            return (na == 0 || order_before(prev, na - 1, delta, b)) &&
                   history_numbers_alike(h, prev);
    return history_numbers_alike(h, prev);
}

int history_load_since(PGconn *conn, PGconn *primary, double as_of, const struct history *prev,
                       double since, double prev_end, struct history *h, double *watermark,
                       char *err, size_t errlen)
{
    double t0 = mono_seconds();
    char since_s[32], end_s[32];
    snprintf(since_s, sizeof(since_s), "%.6f", since);
    snprintf(end_s, sizeof(end_s), "%.6f", prev_end > 0 ? prev_end : 0);
    const char *const params[] = {since_s, end_s};
    struct history delta;
    history_init(&delta);
    if (begin_read(conn, primary, watermark, err, errlen)) {
        history_release(h);
        return -1;
    }
    int rc = 0;
    PGresult *r =
        rc ? NULL
           : db_query(conn, "SELECT count(*) FROM history_rewrites WHERE at >= to_timestamp($1)", 1,
                      params);
    if (!rc && !r)
        rc = fmt_error(err, errlen, "database: %s", db_error(conn));
    long rewrites = r ? strtol(PQgetvalue(r, 0, 0), NULL, 10) : 0;
    PQclear(r);
    if (rc == 0 && rewrites > 0) {
        db_cmd(conn, "ROLLBACK", 0, NULL);
        history_release(&delta);
        return 1;
    }
    /* The orders created since, and those the last load left out for their date.
     * COPY takes no parameters: the two bounds are bound into settings of this
     * transaction, which the query reads (no temporary table: a hot standby may be
     * the one read). */
    if (rc == 0 && db_cmd(conn,
                          "SELECT set_config('xsell.since', $1, true), "
                          "set_config('xsell.until', $2, true)",
                          2, params))
        rc = fmt_error(err, errlen, "database: %s", db_error(conn));
    if (rc == 0)
        rc = copy_history(
            conn, as_of,
            "COPY (" LINES_SELECT "WHERE o.created_at >= "
            "to_timestamp(current_setting('xsell.since')::float8) OR o.ordered_at > "
            "to_timestamp(current_setting('xsell.until')::float8) ORDER BY o.ordered_at, "
            "o.order_id, l.line_no) TO STDOUT (FORMAT binary)",
            h, &delta, err, errlen);
    db_cmd(conn, rc ? "ROLLBACK" : "COMMIT", 0, NULL);
    if (rc) {
        history_release(&delta);
        history_release(h);
        return -1;
    }
    history_finish(&delta);
    size_t a = 0, b = 0, na = history_norders(prev), nb = history_norders(&delta), added = 0;
    bool appended = appended_only(prev, &delta, h);
    if (appended) {
        /* the common case: the last history copied whole, the new orders after it */
        history_copy_orders(h, prev);
        for (; b < nb; b++)
            if (!known(prev, &delta, b)) {
                add_order(h, &delta, b);
                added++;
            }
        a = na;
    }
    /* else both in the full load's order: merged, an order already known kept once */
    while (a < na || b < nb) {
        if (b < nb && known(prev, &delta, b)) {
            b++;
        } else if (b >= nb || (a < na && order_before(prev, a, &delta, b))) {
            add_order(h, prev, a++);
        } else {
            add_order(h, &delta, b++);
            added++;
        }
    }
    history_release(&delta);
    load_signals(conn, as_of, h);
    history_finish(h);
    char how[160];
    snprintf(how, sizeof(how), " (%zu new orders %s the last run's)%s", added,
             appended ? "appended to" : "merged into",
             primary ? " from the training database (XSELL_TRAIN_DATABASE_URL)" : "");
    loaded(h, how, t0);
    return 0;
}

int history_changed_since(PGconn *conn, double since, char *err, size_t errlen)
{
    char since_s[32];
    snprintf(since_s, sizeof(since_s), "%.6f", since);
    const char *const params[] = {since_s};
    PGresult *r =
        db_query(conn,
                 "SELECT EXISTS (SELECT 1 FROM orders WHERE created_at >= to_timestamp($1)) "
                 "OR EXISTS (SELECT 1 FROM history_rewrites WHERE at >= to_timestamp($1)) "
                 "OR EXISTS (SELECT 1 FROM products WHERE updated_at >= to_timestamp($1))",
                 1, params);
    if (!r)
        return fmt_error(err, errlen, "database: %s", db_error(conn));
    int rc = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    return rc;
}
