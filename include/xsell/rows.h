/* rows.h - products and order lines as they arrive (CSV fields or JSON members, as
 * text), their checks, and what writing them did. No I/O here: import (data) and the
 * write handlers (through services.h) share these. */
#ifndef XSELL_ROWS_H
#define XSELL_ROWS_H

#include "xsell/common.h"

struct text {
    const char *p;
    size_t n;
};

struct product_in {
    struct text product_id, name, category, price, cost, in_stock; /* cost, in_stock may be empty */
    struct text stock; /* optional: units held, a whole number >= 0 */
};

struct order_line_in {
    struct text order_id, customer_id, ordered_at, product_id, quantity, unit_price;
    struct text session_id;          /* optional: the order's session (every line the same) */
    struct text recommendation_id;   /* optional: the answer that sold this line */
    struct text channel;             /* optional: the order's channel (every line the same) */
    struct text acquisition_channel; /* optional: how the customer was first won */
};

/* One order of a POST /orders body: its lines carry the order's fields too. */
struct order_in {
    struct text order_id, customer_id, ordered_at, session_id, channel, acquisition_channel;
    struct order_line_in *lines;
    int nlines;
};

struct ingest_result {
    long rows; /* rows handed in */
    long products_created;
    long products_updated;
    long orders_created;
    long orders_existing; /* already present: left untouched */
    long lines_created;
    long customers_created;
    char **created_ids; /* with want_ids: the created order ids (ingest_result_release) */
};

void ingest_result_release(struct ingest_result *res);

/* What an erase (erase.h) removes, and what it did. */
enum erase_kind { ERASE_ORDER, ERASE_PRODUCT, ERASE_CUSTOMER };

struct erase_result {
    bool found; /* the order, product or customer existed */
    long orders, lines;
};

/* Checks one row's fields alone: 0, or -1 with err naming the field and value. */
int rows_check_product(const struct product_in *p, char *err, size_t errlen);
int rows_check_order_line(const struct order_line_in *l, char *err, size_t errlen);
/* The same checks, giving the parsed values: in_stock; the line's time, quantity and
 * its canonical timestamp text (STRPARSE_TS_LEN bytes). */
int rows_parse_product(const struct product_in *p, bool *in_stock, char *err, size_t errlen);
int rows_parse_order_line(const struct order_line_in *l, double *when, int64_t *qty, char *canon,
                          char *err, size_t errlen);
/* A value quoted in a message: at most 40 bytes, control bytes as '?' (thread-local
 * storage, valid until the next call). */
const char *rows_shown(struct text t);

#endif
