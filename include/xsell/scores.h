/* scores.h - writes a snapshot's per-customer churn scores to churn_scores (data
 * layer), replacing the previous run's in one transaction, so BI tools join on
 * them. */
#ifndef XSELL_SCORES_H
#define XSELL_SCORES_H

#include <libpq-fe.h>

#include "xsell/snapshot.h"

/* Writes the rows in a transaction left open: 0, then scores_finish decides; or -1
 * with err (rolled back, nothing changed). Needs only s's churn model and history,
 * so it can run while the other models are still being fitted. */
int scores_stage(PGconn *conn, const struct snapshot *s, char *err, size_t errlen);
/* Commits (keep) or rolls back what scores_stage wrote: 0, or -1 with err. */
int scores_finish(PGconn *conn, bool keep, char *err, size_t errlen);

#endif
