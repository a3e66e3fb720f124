/* history_load.h - fills a history from PostgreSQL with binary COPY (data layer). */
#ifndef XSELL_HISTORY_LOAD_H
#define XSELL_HISTORY_LOAD_H

#include <libpq-fe.h>

#include "xsell/history.h"

/* Loads the catalogue and every order up to as_of (0: all), then history_finish().
 * h must be freshly initialised; *watermark gets the point from which the next
 * history_load_since reads new orders. primary: NULL when conn is the primary, else
 * conn is its streaming replica (XSELL_TRAIN_DATABASE_URL): the watermark is read on
 * the primary and the replica read once it has replayed the primary's writes up to
 * then. -1 with err on failure (h is then released). */
int history_load(PGconn *conn, PGconn *primary, double as_of, struct history *h, double *watermark,
                 char *err, size_t errlen);
/* The history history_load would read now, from prev (loaded at watermark since, up
 * to prev_end) and only what came after: the catalogue again and the orders created
 * since (or dated after prev_end), merged in the full load's order. 1 (h untouched)
 * when the history was rewritten since (an erasure): a full load is needed; -1 with
 * err on failure (h released). */
int history_load_since(PGconn *conn, PGconn *primary, double as_of, const struct history *prev,
                       double since, double prev_end, struct history *h, double *watermark,
                       char *err, size_t errlen);

/* Whether the history or the catalogue changed since the database's clock read
 * since (a snapshot's watermark): an order created, an erasure, a product written.
 * 1 or 0, -1 with err. */
int history_changed_since(PGconn *conn, double since, char *err, size_t errlen);

#endif
