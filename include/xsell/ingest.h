/* ingest.h - the one write path for products and orders, used by `xsell import`
 * (CSV) and by POST /orders and PUT /products (JSON).
 *
 * Everything happens in one transaction; any failure leaves the database exactly
 * as it was. Products stream with COPY into a staging table and are upserted at
 * commit. Order lines are validated one by one and held in chunks of up to
 * 16,384 lines; per chunk, the orders first seen in it are inserted (ON CONFLICT
 * DO NOTHING tells which were already there) and the lines of the orders this
 * ingest created go with COPY straight into order_lines. Orders are idempotent on
 * order_id: an order that exists already is left alone, lines and all. New
 * customers and products (a product priced at its latest unit price) are created
 * at commit. */
#ifndef XSELL_INGEST_H
#define XSELL_INGEST_H

#include <libpq-fe.h>

#include "xsell/arena.h"
#include "xsell/buf.h"
#include "xsell/idmap.h"
#include "xsell/rows.h"

enum ingest_kind { INGEST_PRODUCTS, INGEST_ORDERS };

struct order_state;
struct product_state;

struct ingest {
    PGconn *conn;
    enum ingest_kind kind;
    bool want_ids;
    bool copy_pending; /* a COPY's end was sent, its outcome not yet read */
    struct buf copy;   /* COPY data not yet sent */
    struct arena arena;
    long rows;
    /* products ingest: ids seen, to refuse a product twice in one file */
    struct idmap products;
    /* orders ingest: every order and product the lines named */
    struct idmap orders;
    struct order_state *order;
    size_t order_cap;
    struct product_state *product;
    size_t product_cap;
    struct idmap customers;
    const char **customer_first; /* earliest ordered_at text per customer */
    double *customer_first_t;
    const char **customer_acq; /* the first acquisition_channel given, or NULL */
    bool analyze;              /* commit analyzes the tables written (a file's import) */
    size_t customer_cap;
    /* the current chunk of lines, held until its orders are known new or old */
    struct buf chunk;
    int32_t *chunk_order; /* order per line */
    size_t *chunk_end;    /* end offset of each line in chunk */
    size_t nchunk, chunk_cap;
    int32_t *pending; /* orders first seen in this chunk */
    size_t npending, pending_cap;
    struct ingest_result res;
    /* notifications sent with the commit: channel and payload, each from arena */
    const char **notify;
    size_t nnotify, notify_cap;
    /* a first load (ingest_bulk_load): the statements that rebuild what it dropped */
    bool bulk;
    char **rebuild;
    size_t nrebuild;
};

/* Opens the transaction and the staging COPY. -1 with err on failure. */
int ingest_begin(struct ingest *g, PGconn *conn, enum ingest_kind kind, bool want_ids, char *err,
                 size_t errlen);
/* Validates one row (rows.h) and stages it: 0; -1 with err naming the field and value (bad
 * row); -2 when the database failed. After either the ingest must be aborted. */
int ingest_product(struct ingest *g, const struct product_in *p, char *err, size_t errlen);
int ingest_order_line(struct ingest *g, const struct order_line_in *l, char *err, size_t errlen);
/* For an orders ingest into a shop with no orders yet: locks orders and order_lines
 * (ACCESS EXCLUSIVE, until the commit), drops their indexes and constraints, copies
 * the orders and lines straight in and rebuilds the indexes and constraints at
 * commit, in the same transaction (PostgreSQL's advice for populating a database:
 * an index built from all rows and a foreign key checked with one join cost far
 * less than maintaining them row by row). When the tables hold rows, or another
 * session holds a lock on them, nothing changes and the ingest goes the usual way.
 * Call right after ingest_begin. 0 either way (g->bulk tells which); -1 with err
 * when the database failed (the ingest must be aborted). */
int ingest_bulk_load(struct ingest *g, char *err, size_t errlen);
/* Sends payload on channel (NOTIFY) in the ingest's transaction: delivered to the
 * listeners when, and only when, it commits. */
void ingest_notify(struct ingest *g, const char *channel, const char *payload);
/* Upserts what was staged and commits. -1 with err (rolled back), or
 * INGEST_OUTCOME_UNKNOWN when the connection broke with COMMIT sent: the server may
 * have stored everything or nothing. Frees the ingest. */
#define INGEST_OUTCOME_UNKNOWN (-2)
/* PATCH /products/{id}: product_id's stock (text of a whole number, checked) set, its
 * updated_at moved when it changed. 0 when stored, 1 when no product has that id, -1
 * when the database failed (err). */
int ingest_set_stock(PGconn *conn, const char *product_id, const char *stock, char *err,
                     size_t errlen);
int ingest_commit(struct ingest *g, struct ingest_result *res, char *err, size_t errlen);
/* Rolls back and frees. Safe after a failed commit. */
void ingest_abort(struct ingest *g);

#endif
