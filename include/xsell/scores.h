/* scores.h - writes a snapshot's per-customer churn scores to churn_scores (data
 * layer), replacing the previous run's in one transaction, so BI tools join on
 * them. */
#ifndef XSELL_SCORES_H
#define XSELL_SCORES_H

#include <libpq-fe.h>

#include "xsell/snapshot.h"

/* 0, or -1 with err (nothing changed). */
int scores_write(PGconn *conn, const struct snapshot *s, char *err, size_t errlen);

#endif
