/* history_load.h - fills a history from PostgreSQL with binary COPY (data layer). */
#ifndef XSELL_HISTORY_LOAD_H
#define XSELL_HISTORY_LOAD_H

#include <libpq-fe.h>

#include "xsell/history.h"

/* Loads the catalogue and every order up to as_of (0: all), then history_finish().
 * h must be freshly initialised. -1 with err on failure (h is then released). */
int history_load(PGconn *conn, double as_of, struct history *h, char *err, size_t errlen);

#endif
