/* erase.h - removing what should never have been stored: an order (a wrong date, a
 * test order), a product (an id that was a mistake) or a customer (on request). Each
 * is one transaction; the next training reads the history without it.
 *   order     its lines and the order
 *   product   the product and every order line naming it; orders left without
 *             lines go too (a product merely discontinued wants in_stock=false)
 *   customer  the customer, their orders and lines, their churn score and the events
 *             sent under their id */
#ifndef XSELL_ERASE_H
#define XSELL_ERASE_H

#include <libpq-fe.h>

#include "xsell/rows.h"

/* 0 (found or not: res says), -1 with err when the database failed (rolled back),
 * INGEST_OUTCOME_UNKNOWN (ingest.h) when the connection broke during COMMIT. */
int erase_entity(PGconn *conn, enum erase_kind kind, const char *id, struct erase_result *res,
                 char *err, size_t errlen);

#endif
