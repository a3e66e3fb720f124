/* migrate.h - applies the embedded sql/NNN_*.sql files in order, each once, each in
 * its own transaction, recording them in schema_migrations. Safe to run twice and
 * from two processes at once (an advisory lock serializes them). */
#ifndef XSELL_MIGRATE_H
#define XSELL_MIGRATE_H

#include <libpq-fe.h>

/* Returns how many files were applied now (0 when up to date), or -1. */
int migrate_apply(PGconn *conn);

#endif
