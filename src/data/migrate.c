#include "xsell/migrate.h"

#include "xsell/common.h"
#include "xsell/db.h"
#include "xsell/embedded.h"
#include "xsell/log.h"
#include "xsell/xalloc.h"

#define MIGRATE_LOCK "7302115"

/* Runs each statement of a file; statements end with ';' at the end of a line. */
static int run_statements(PGconn *conn, const char *name, const char *sql)
{
    const char *start = sql;
    for (const char *p = sql; *p; p++) {
        if (*p != ';' || (p[1] != '\n' && p[1] != '\0'))
            continue;
        char *stmt = xstrndup(start, (size_t)(p - start));
        int rc = db_cmd(conn, stmt, 0, NULL);
        free(stmt);
        if (rc)
            return log_fail("migration %s failed", name);
        start = p + 1;
    }
    return 0;
}

static int apply_one(PGconn *conn, const struct embedded_file *f)
{
    const char *params[] = {f->name};
    PGresult *r = db_query(conn, "SELECT 1 FROM schema_migrations WHERE name = $1", 1, params);
    if (!r)
        return -1;
    bool done = PQntuples(r) > 0;
    PQclear(r);
    if (done)
        return 0;
    if (run_statements(conn, f->name, (const char *)f->data) ||
        db_cmd(conn, "INSERT INTO schema_migrations (name) VALUES ($1)", 1, params))
        return -1;
    log_info("migrate: applied %s", f->name);
    return 1;
}

int migrate_apply(PGconn *conn)
{
    int applied = 0;
    /* Every file in one transaction: a failure anywhere leaves the schema as it was,
     * and the lock makes a second migrator wait, then find nothing to do. */
    if (db_cmd(conn, "BEGIN", 0, NULL))
        return -1;
    if (db_cmd(conn, "SELECT pg_advisory_xact_lock(" MIGRATE_LOCK ")", 0, NULL) ||
        db_cmd(conn,
               "CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, "
               "applied_at timestamptz NOT NULL DEFAULT now())",
               0, NULL))
        goto fail;
    /* embedded_files keeps the order of the Makefile's sorted sql/ list. */
    for (size_t i = 0; i < embedded_count; i++) {
        const struct embedded_file *f = &embedded_files[i];
        if (strncmp(f->name, "sql/", 4) != 0)
            continue;
        int rc = apply_one(conn, f);
        if (rc < 0)
            goto fail;
        applied += rc;
    }
    if (db_cmd(conn, "COMMIT", 0, NULL))
        goto fail;
    return applied;
fail:
    db_cmd(conn, "ROLLBACK", 0, NULL);
    return -1;
}
