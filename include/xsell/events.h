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
#include <stdio.h>

#include "xsell/common.h"

#define EVENTS_DAYS_AHEAD  3 /* partitions made beyond today */
#define EVENTS_DAYS_BEHIND 7 /* and before it, ready for late events */

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

/* Per order channel (GET /channels), over the orders from `from` to `to` (struct
 * channel_sales, channels.h; attributed as events_attribution_json attributes): the
 * rows, highest revenue first, into *out (malloc'd) and *n; -1 when the database
 * failed. */
struct channel_sales;
int events_channel_sales(PGconn *conn, const char *from, const char *to, double hours,
                         struct channel_sales **out, size_t *n);

/* `xsell import events|answers FILE`: a CSV file with a header of exactly these
 * columns (empty fields are null; items a PostgreSQL array, "{P1,P2}"):
 *   events:  event_id,type,at,session_id,customer_id,recommendation_id,product_id,items
 *   answers: recommendation_id,surface,at,model_version,strategy,customer_id,session_id,
 *            experiment_id,variant,items
 * Checked whole as POST /events checks an event (and an answer as the server records
 * one), times within the keep_days window and not ahead of now, then stored in one
 * transaction: all or nothing. Idempotent: an event_id or a recommendation_id stored
 * already is left as it is. 0 with the file's rows and those new, or -1 with err
 * naming the line and what is wrong. */
enum events_file { EVENTS_FILE_EVENTS, EVENTS_FILE_ANSWERS };
int events_import(PGconn *conn, enum events_file kind, FILE *in, int keep_days, long *rows,
                  long *created, char *err, size_t errlen);

/* The last `limit` views, clicks and cart adds of the past `seconds` (a product each),
 * oldest first, to fn: how many, or -1 when the database failed. */
long events_recent_touches(PGconn *conn, int limit, double seconds,
                           void (*fn)(void *ctx, const char *session, const char *product,
                                      double at),
                           void *ctx);

struct events_maintenance {
    int made, dropped; /* partitions */
    long moved;        /* rows out of the default partition into their day's */
    long expired;      /* rows of the default partition and keys past the window */
};

/* Keeps the partitions of events and recommendations: today (UTC, from now), the
 * EVENTS_DAYS_BEHIND before and EVENTS_DAYS_AHEAD beyond, and each earlier day of the keep_days
 * window whose rows wait in the default partition (moved into it); drops those wholly before the
 * window, and deletes what they would have held from the default partitions and event_keys. Each
 * partition made is one transaction. 0, or -1 with err (what was done stays done; the next call
 * goes on). */
int events_maintain(PGconn *conn, int keep_days, double now, struct events_maintenance *out,
                    char *err, size_t errlen);

#endif
