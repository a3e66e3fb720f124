/* caps.h - every size a client or a file controls is capped here, before allocation. */
#ifndef XSELL_CAPS_H
#define XSELL_CAPS_H

#include <stdint.h>

#define BODY_MAX_DEFAULT    (1u << 20) /* request body, bytes (XSELL_BODY_MAX) */
#define URL_MAX             4096       /* request target, bytes */
#define PARAMS_MAX          32         /* query parameters per request */
#define ID_MAX              200        /* product, customer, order id, bytes */
#define TEXT_MAX            2000       /* product name, category, bytes */
#define CHANNEL_MAX         64         /* a channel's name, bytes (sql/011) */
#define STOCK_MAX           1000000000 /* a product's stock, units (sql/012) */
#define CSV_FIELD_MAX       8192       /* one CSV field, bytes */
#define CSV_FIELDS_MAX      4096   /* fields in one CSV record (a series a line: xsell forecast) */
#define LIMIT_MAX           100    /* limit= on list answers */
#define CART_MAX            100    /* items= in one request */
#define ORDERS_PER_POST_MAX 1000   /* orders in one POST /orders */
#define EVENTS_PER_POST_MAX 1000   /* events in one POST /events */
#define LINES_PER_ORDER_MAX 1000   /* lines in one order of a POST /orders body */
#define ORDER_LINES_MAX     100000 /* lines in one order of an import (wholesale) */
#define API_KEYS_MAX        64     /* entries in XSELL_API_KEYS */
#define CORS_ORIGINS_MAX    32     /* entries in XSELL_CORS_ORIGINS */
#define RATE_BUCKETS_MAX    16384  /* client buckets the rate limiter keeps (a power of two) */
#define TRUSTED_PROXIES_MAX 32     /* entries in XSELL_TRUSTED_PROXIES */
#define REQUEST_ID_MAX      64     /* an incoming X-Request-Id kept, bytes */
#define DB_POOL_MAX         16     /* connections in the request pool */
#define MODEL_RUNS_LISTED   50     /* runs shown by GET /admin/models */

/* Buffers the program fills itself (struct buf's max). Each is far above what its
 * largest valid content needs; passing it is a bug, answered 500 and logged. */
#define ANSWER_MAX        (8u << 20)   /* one JSON answer of a handler */
#define METRICS_TEXT_MAX  (4u << 20)   /* the /metrics exposition */
#define SCORES_COPY_CHUNK (256 * 1024) /* churn_scores rows sent per COPY message */
#define SCORES_COPY_MAX   (4 * SCORES_COPY_CHUNK)
#define TRUTH_FILE_MAX    (64u << 20)    /* xsell gen's truth.json */
#define BUF_UNCAPPED      (SIZE_MAX / 2) /* sized by data the program already holds */

#endif
