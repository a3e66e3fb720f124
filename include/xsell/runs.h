/* runs.h - the model_runs table: one row per training run (data layer). */
#ifndef XSELL_RUNS_H
#define XSELL_RUNS_H

#include <libpq-fe.h>

#include "xsell/common.h"

/* Inserts a queued run; its version into *version. 0 or -1. */
int runs_create(PGconn *conn, const char *trigger, int64_t *version);
int runs_start(PGconn *conn, int64_t version);
/* How a run ended. */
enum run_outcome { RUN_SUCCEEDED = 0, RUN_FAILED, RUN_GATED };
/* Records the end: metrics_json (may be NULL), error text on failure (or why a
 * gated run was not published). */
int runs_finish(PGconn *conn, int64_t version, enum run_outcome outcome, const char *metrics_json,
                const char *error);
/* What a run was asked for: every model re-estimated (refit); published whatever
 * the quality gate says (force). */
struct run_ask {
    bool refit, force;
};
/* A run requested (POST /admin/train, any process): the newest one still queued
 * (asked what this request asks too), else a new queued one; its version into
 * *version. The trainer that leads runs it. 0 or -1. */
int runs_request(PGconn *conn, const struct run_ask *ask, int64_t *version);
/* The oldest queued run: 0 (version and ask set), 1 when none, -1. */
int runs_next_queued(PGconn *conn, int64_t *version, struct run_ask *ask);
/* Marks every run still running as failed, saying why: called by a trainer that has
 * just taken the lead (one leader a database), so such a run died with the process
 * that led before. Queued runs stay queued: the new leader runs them. How many, or
 * -1. */
long runs_abandon(PGconn *conn, const char *why);
/* The latest MODEL_RUNS_LISTED runs as a JSON array text (free()), or NULL. */
char *runs_list_json(PGconn *conn);

#endif
