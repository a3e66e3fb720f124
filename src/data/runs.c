#include "xsell/runs.h"

#include "xsell/caps.h"
#include "xsell/db.h"
#include "xsell/xalloc.h"

int runs_create(PGconn *conn, const char *trigger, int64_t *version)
{
    const char *params[] = {trigger};
    PGresult *r =
        db_query(conn, "INSERT INTO model_runs (trigger) VALUES ($1) RETURNING version", 1, params);
    if (!r)
        return -1;
    *version = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return 0;
}

int runs_start(PGconn *conn, int64_t version)
{
    char v[24];
    snprintf(v, sizeof(v), "%lld", (long long)version);
    const char *params[] = {v};
    return db_cmd(conn,
                  "UPDATE model_runs SET status = 'running', started_at = now() "
                  "WHERE version = $1",
                  1, params);
}

int runs_finish(PGconn *conn, int64_t version, enum run_outcome outcome, const char *metrics_json,
                const char *error)
{
    static const char *const names[] = {"succeeded", "failed", "gated"};
    char v[24];
    snprintf(v, sizeof(v), "%lld", (long long)version);
    const char *params[] = {v, names[outcome], metrics_json, error};
    return db_cmd(conn,
                  "UPDATE model_runs SET status = $2, finished_at = now(), "
                  "metrics = $3::jsonb, error = $4 WHERE version = $1",
                  4, params);
}

int runs_request(PGconn *conn, const struct run_ask *ask, int64_t *version)
{
    const char *params[] = {ask->refit ? "true" : "false", ask->force ? "true" : "false"};
    /* the newest queued run, asked what this request asks too; else a new one */
    PGresult *r = db_query(
        conn,
        "WITH q AS (UPDATE model_runs SET refit = refit OR $1::boolean, "
        "force = force OR $2::boolean WHERE version = "
        "(SELECT max(version) FROM model_runs WHERE status = 'queued') RETURNING version), "
        "i AS (INSERT INTO model_runs (trigger, refit, force) "
        "SELECT 'request', $1::boolean, $2::boolean "
        "WHERE NOT EXISTS (SELECT 1 FROM q) RETURNING version) "
        "SELECT version FROM q UNION ALL SELECT version FROM i",
        2, params);
    if (!r)
        return -1;
    int rc = PQntuples(r) == 1 ? 0 : -1;
    if (rc == 0)
        *version = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return rc;
}

int runs_next_queued(PGconn *conn, int64_t *version, struct run_ask *ask)
{
    PGresult *r = db_query(conn,
                           "SELECT version, refit, force FROM model_runs WHERE status = 'queued' "
                           "ORDER BY version LIMIT 1",
                           0, NULL);
    if (!r)
        return -1;
    int rc = 1;
    if (PQntuples(r) == 1) {
        *version = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        ask->refit = strcmp(PQgetvalue(r, 0, 1), "t") == 0;
        ask->force = strcmp(PQgetvalue(r, 0, 2), "t") == 0;
        rc = 0;
    }
    PQclear(r);
    return rc;
}

long runs_abandon(PGconn *conn, const char *why)
{
    const char *params[] = {why};
    PGresult *r =
        db_query(conn,
                 "WITH d AS (UPDATE model_runs SET status = 'failed', finished_at = now(), "
                 "error = $1 WHERE status = 'running' RETURNING 1) "
                 "SELECT count(*) FROM d",
                 1, params);
    if (!r)
        return -1;
    long n = strtol(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return n;
}

char *runs_list_json(PGconn *conn)
{
    char lim[16];
    snprintf(lim, sizeof(lim), "%d", MODEL_RUNS_LISTED);
    const char *params[] = {lim};
    PGresult *r = db_query(
        conn,
        "SELECT coalesce(json_agg(json_build_object('version', version, 'trigger', trigger, "
        "'status', status, 'requested_at', requested_at, 'started_at', started_at, "
        "'finished_at', finished_at, 'seconds', "
        "extract(epoch FROM finished_at - started_at), 'error', error, 'metrics', metrics) "
        "ORDER BY version DESC), '[]')::text FROM (SELECT * FROM model_runs "
        "ORDER BY version DESC LIMIT $1::int) r",
        1, params);
    if (!r)
        return NULL;
    char *out = xstrdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    return out;
}
