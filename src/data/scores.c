#include "xsell/scores.h"

#include "xsell/buf.h"
#include "xsell/db.h"
#include "xsell/log.h"
#include "xsell/strparse.h"

static void put_num(struct buf *b, double v, char end)
{
    char t[40];
    int n = snprintf(t, sizeof(t), "%.9g", v);
    db_copy_field(b, t, (size_t)n, end);
}

static int send(PGconn *conn, struct buf *b, char *err, size_t errlen)
{
    if (b->overflow)
        return fmt_error(err, errlen, "a churn_scores row outgrew %d bytes", SCORES_COPY_MAX);
    if (b->len && db_copy_put(conn, b->data, b->len))
        return fmt_error(err, errlen, "database: %s", db_error(conn));
    buf_reset(b);
    return 0;
}

static int copy_rows(PGconn *conn, const struct snapshot *s, char *err, size_t errlen)
{
    const struct model_churn *m = &s->churn;
    char version[24], day[11];
    int vn = snprintf(version, sizeof(version), "%lld", (long long)s->version);
    strparse_format_date(s->as_of, day);
    const char *model = m->kind == CHURN_MBGNBD ? "modified_bgnbd" : "bgnbd";
    struct buf b;
    buf_init(&b, SCORES_COPY_MAX);
    int rc = 0;
    for (size_t i = 0; i < m->nranked && rc == 0; i++) {
        struct churn_answer a;
        int32_t c = m->ranked[i];
        model_churn_query(m, c, m->horizon_days, &a);
        const char *id = idmap_key(&s->hist.customers, c);
        db_copy_field(&b, id, strlen(id), '\t');
        db_copy_field(&b, version, (size_t)vn, '\t');
        db_copy_field(&b, day, strlen(day), '\t');
        put_num(&b, m->horizon_days, '\t');
        db_copy_field(&b, model, strlen(model), '\t');
        const char *seg = churn_segment_name(a.segment);
        db_copy_field(&b, seg, strlen(seg), '\t');
        put_num(&b, a.p_alive, '\t');
        put_num(&b, a.churn_risk, '\t');
        put_num(&b, a.expected_purchases, '\t');
        put_num(&b, a.expected_value, '\t');
        put_num(&b, a.clv, '\t');
        put_num(&b, a.value_at_risk, '\t');
        put_num(&b, a.frequency, '\t');
        put_num(&b, a.recency_days, '\t');
        put_num(&b, a.monetary, '\n');
        if (b.len >= SCORES_COPY_CHUNK)
            rc = send(conn, &b, err, errlen);
    }
    if (rc == 0)
        rc = send(conn, &b, err, errlen);
    buf_release(&b);
    return rc;
}

int scores_stage(PGconn *conn, const struct snapshot *s, char *err, size_t errlen)
{
    err[0] = '\0';
    if (db_cmd(conn, "BEGIN", 0, NULL))
        return fmt_error(err, errlen, "database: %s", db_error(conn));
    /* One writer at a time: a second run's DELETE then sees the first's rows. */
    if (db_cmd(conn, "SELECT pg_advisory_xact_lock(7365470001)", 0, NULL) ||
        db_cmd(conn, "DELETE FROM churn_scores", 0, NULL))
        goto fail;
    if (db_copy_start(conn, "COPY churn_scores (customer_id, version, as_of, horizon_days, "
                            "model, segment, p_alive, churn_risk, expected_purchases, "
                            "expected_value, clv_12m, value_at_risk, frequency, recency_days, "
                            "monetary) FROM STDIN"))
        goto fail;
    int rc = copy_rows(conn, s, err, errlen);
    if (db_copy_end(conn, rc ? "aborted" : NULL) && rc == 0)
        rc = fmt_error(err, errlen, "database: %s", db_error(conn));
    bool ok = true;
    PGresult *r;
    while ((r = PQgetResult(conn))) {
        ok = ok && PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
    }
    if (rc || !ok)
        goto fail;
    return 0;
fail:
    if (err[0] == '\0')
        snprintf(err, errlen, "database: %s", db_error(conn));
    db_cmd(conn, "ROLLBACK", 0, NULL);
    return -1;
}

int scores_finish(PGconn *conn, bool keep, char *err, size_t errlen)
{
    if (keep && db_cmd(conn, "COMMIT", 0, NULL) == 0)
        return 0;
    if (keep)
        fmt_error(err, errlen, "database: %s", db_error(conn));
    db_cmd(conn, "ROLLBACK", 0, NULL);
    return keep ? -1 : 0;
}
