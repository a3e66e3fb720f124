/* import.h - `xsell import products|orders FILE`: CSV files (DESIGN.md) through the
 * ingest path, all or nothing. */
#ifndef XSELL_IMPORT_H
#define XSELL_IMPORT_H

#include <libpq-fe.h>

#include "xsell/ingest.h"

/* Reads CSV from in (name is used in messages). progress: print rows and rows/s to
 * stderr while reading. On a malformed row returns -1 with err holding
 * "NAME:LINE: reason"; nothing is written then. */
int import_csv(PGconn *conn, enum ingest_kind kind, FILE *in, const char *name, bool progress,
               struct ingest_result *res, char *err, size_t errlen);

#endif
