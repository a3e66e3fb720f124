/* ingest.h - the one write path for products and orders, used by `xsell import`
 * (CSV) and by POST /orders and PUT /products (JSON).
 *
 * Rows are validated one by one and streamed with COPY into temporary staging
 * tables inside one transaction; ingest_commit() then upserts and commits. Any
 * failure leaves the database exactly as it was. Orders are idempotent on
 * order_id: an order that exists already is left alone, lines and all. */
#ifndef XSELL_INGEST_H
#define XSELL_INGEST_H

#include <libpq-fe.h>

#include "xsell/arena.h"
#include "xsell/buf.h"
#include "xsell/idmap.h"

struct text {
    const char *p;
    size_t n;
};

struct product_in {
    struct text product_id, name, category, price, cost, in_stock; /* cost, in_stock may be empty */
};

struct order_line_in {
    struct text order_id, customer_id, ordered_at, product_id, quantity, unit_price;
};

enum ingest_kind { INGEST_PRODUCTS, INGEST_ORDERS };

struct ingest_result {
    long rows;              /* rows handed in */
    long products_created;
    long products_updated;
    long orders_created;
    long orders_existing;   /* already present: left untouched */
    long lines_created;
    long customers_created;
    char *created_ids;      /* with want_ids: JSON array of created order ids (free()) */
};

struct ingest {
    PGconn *conn;
    enum ingest_kind kind;
    bool want_ids;
    struct buf copy;        /* COPY data not yet sent */
    struct arena arena;
    struct idmap orders;    /* order_id -> per-order facts below */
    const char **order_customer;
    double *order_time;
    const char **order_time_text;
    int32_t *order_lines;
    size_t order_cap;
    struct idmap products;  /* products seen in lines: latest price for new ones */
    double *product_time;
    const char **product_price;
    size_t product_cap;
    long rows;
};

/* Opens the transaction and the staging COPY. -1 with err on failure. */
int ingest_begin(struct ingest *g, PGconn *conn, enum ingest_kind kind, bool want_ids,
                 char *err, size_t errlen);
/* Checks one row's fields alone (no database): 0, or -1 with err naming the field
 * and value. The ingest_* calls below run these too. */
int ingest_check_product(const struct product_in *p, char *err, size_t errlen);
int ingest_check_order_line(const struct order_line_in *l, char *err, size_t errlen);
/* Validates one row and stages it: 0; -1 with err naming the field and value (bad
 * row); -2 when the database failed. After either the ingest must be aborted. */
int ingest_product(struct ingest *g, const struct product_in *p, char *err, size_t errlen);
int ingest_order_line(struct ingest *g, const struct order_line_in *l, char *err, size_t errlen);
/* Upserts what was staged and commits. -1 with err (rolled back). Frees the ingest. */
int ingest_commit(struct ingest *g, struct ingest_result *res, char *err, size_t errlen);
/* Rolls back and frees. Safe after a failed commit. */
void ingest_abort(struct ingest *g);

#endif
