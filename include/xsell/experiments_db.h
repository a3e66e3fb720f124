/* experiments_db.h - the experiments table and what the report reads: each exposed
 * unit's variant, exposures, and what it spent from its first exposure to the end,
 * beside what it spent in the EXP_PRE_DAYS before the start (CUPED's covariate). */
#ifndef XSELL_EXPERIMENTS_DB_H
#define XSELL_EXPERIMENTS_DB_H

#include <libpq-fe.h>

#include "xsell/common.h"
#include "xsell/experiment.h"

/* Every stored definition as a JSON array (malloc'd), oldest first; NULL when the
 * database failed. */
char *experiments_db_list(PGconn *conn);
/* One stored definition (malloc'd JSON), or NULL with *found false when there is none
 * (true with NULL: the database failed). */
char *experiments_db_get(PGconn *conn, const char *id, bool *found);
/* Whether any answer was recorded under the experiment: 1, 0, or -1 (database). */
int experiments_db_exposed(PGconn *conn, const char *id);
/* Inserts or replaces the definition; *created when it is new. 0 or -1 with err. */
int experiments_db_put(PGconn *conn, const char *id, const char *definition, bool *created,
                       char *err, size_t errlen);

/* Per variant: events on its answers. */
struct exp_events {
    double impressions, clicks, add_to_carts;
};

/* The units of experiment e exposed so far, their outcomes up to `until` (epoch
 * seconds): *rows (malloc'd, *n of them), and the events per variant into ev
 * (e->nvariants). 0 or -1 with err. */
int experiments_db_units(PGconn *conn, const struct experiment *e, double until,
                         struct exp_unit_row **rows, size_t *n, struct exp_events *ev, char *err,
                         size_t errlen);

#endif
