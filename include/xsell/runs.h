/* runs.h - the model_runs table: one row per training run (data layer). */
#ifndef XSELL_RUNS_H
#define XSELL_RUNS_H

#include <libpq-fe.h>

#include "xsell/common.h"

/* Inserts a queued run; its version into *version. 0 or -1. */
int runs_create(PGconn *conn, const char *trigger, int64_t *version);
int runs_start(PGconn *conn, int64_t version);
/* Records the end: metrics_json (may be NULL) on success, error text on failure. */
int runs_finish(PGconn *conn, int64_t version, bool ok, const char *metrics_json,
                const char *error);
/* Marks every run still queued or running as failed, saying why: at a trainer's start
 * no run can be going on (one trainer a database), so such a run died with its
 * process. How many, or -1. */
long runs_abandon(PGconn *conn, const char *why);
/* The latest MODEL_RUNS_LISTED runs as a JSON array text (free()), or NULL. */
char *runs_list_json(PGconn *conn);

#endif
