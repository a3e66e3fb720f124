/* events.h - what shoppers did with what they were shown: the events table
 * (sql/007_events.sql), written by POST /events, and the answers that showed it (the
 * recommendations table, sql/008_attribution.sql), both kept for a window of days.
 *
 * A batch goes in as one statement (all or nothing), idempotent on event_id: an event
 * whose id is stored already is left as it is. The table is partitioned by the day
 * of `at`; events_maintain makes the days ahead, drops the days past the window and
 * moves what fell into the default partition (a day made late) to its own. */
#ifndef XSELL_EVENTS_H
#define XSELL_EVENTS_H

#include <libpq-fe.h>

#include "xsell/common.h"

#define EVENTS_DAYS_AHEAD 3 /* partitions made beyond today */

/* Writes the events of batch_json, a JSON array of objects with the members
 * event_id, type, at (a timestamp), session_id, and customer_id, recommendation_id,
 * product_id (strings) and items (an array of strings) or null; all checked before
 * (handler_events.c). *created: how many were new. 0, or -1 with err (nothing
 * written). */
int events_write(PGconn *conn, const char *batch_json, long *created, char *err, size_t errlen);

/* COPYs rows (COPY text format: recommendation_id, surface, at, model_version,
 * strategy, customer_id, session_id, experiment_id, variant, items) into
 * recommendations. 0, or -1 with err (none stored; close the connection). */
int events_copy_answers(PGconn *conn, const char *rows, size_t len, char *err, size_t errlen);

/* The attribution report (GET /admin/attribution) of the orders from `from` to `to`
 * (timestamps as text), a click or cart add counting for hours: JSON (malloc'd), or
 * NULL when the database failed. sql/008_attribution.sql says what is attributed. */
char *events_attribution_json(PGconn *conn, const char *from, const char *to, double hours);

struct events_maintenance {
    int made, dropped; /* partitions */
    long moved;        /* rows out of the default partition into their day's */
    long expired;      /* rows of the default partition and keys past the window */
};

/* Keeps the partitions of events and recommendations for the keep_days days up to
 * today (UTC, from now) and EVENTS_DAYS_AHEAD beyond; drops those wholly before the
 * window, and deletes what they would have held from the default partitions and
 * event_keys. Each partition made is one
 * transaction. 0, or -1 with err (what was done stays done; the next call goes on). */
int events_maintain(PGconn *conn, int keep_days, double now, struct events_maintenance *out,
                    char *err, size_t errlen);

#endif
