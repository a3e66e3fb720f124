#include "xsell/import.h"

#include "xsell/csv.h"
#include "xsell/log.h"

static const char *const product_cols[] = {"product_id", "name", "category",
                                           "price",      "cost", "in_stock"};
static const char *const order_header[] = {"order_id",   "customer_id", "ordered_at",
                                           "product_id", "quantity",    "unit_price"};

static int check_header(struct csv *c, const char *const *cols, size_t n, char *msg, size_t msglen)
{
    if (c->nfields != (int)n)
        goto bad;
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const char *f = csv_field(c, (int)i, &len);
        if (i == 0 && len >= 3 && memcmp(f, "\xEF\xBB\xBF", 3) == 0) /* a BOM */
            f += 3, len -= 3;
        if (strlen(cols[i]) != len || memcmp(f, cols[i], len) != 0)
            goto bad;
    }
    return 0;
bad:
    snprintf(msg, msglen, "the header must be \"%s,%s,%s,%s,%s,%s\"", cols[0], cols[1], cols[2],
             cols[3], cols[4], cols[5]);
    return -1;
}

static struct text field(struct csv *c, int i)
{
    struct text t;
    t.p = csv_field(c, i, &t.n);
    return t;
}

static int stage_record(struct ingest *g, struct csv *c, enum ingest_kind kind, char *msg,
                        size_t msglen)
{
    if (c->nfields != 6) {
        snprintf(msg, msglen, "expected 6 fields, found %d", c->nfields);
        return -1;
    }
    if (kind == INGEST_PRODUCTS) {
        struct product_in p = {field(c, 0), field(c, 1), field(c, 2),
                               field(c, 3), field(c, 4), field(c, 5)};
        return ingest_product(g, &p, msg, msglen);
    }
    struct order_line_in l = {field(c, 0), field(c, 1), field(c, 2),
                              field(c, 3), field(c, 4), field(c, 5)};
    return ingest_order_line(g, &l, msg, msglen);
}

static void show_progress(long rows, double t0, bool done)
{
    double dt = mono_seconds() - t0;
    fprintf(stderr, "\r%ld rows, %.0f rows/s%s", rows, dt > 0 ? rows / dt : 0.0,
            done ? "\n" : "   ");
}

int import_csv(PGconn *conn, enum ingest_kind kind, FILE *in, const char *name, bool progress,
               struct ingest_result *res, char *err, size_t errlen)
{
    struct csv c;
    struct ingest g;
    char msg[400];
    int rc = -1;
    double t0 = mono_seconds(), last = t0;
    csv_init(&c, in);
    memset(res, 0, sizeof(*res));
    if (ingest_begin(&g, conn, kind, false, msg, sizeof(msg)) ||
        ingest_bulk_load(&g, msg, sizeof(msg))) {
        snprintf(err, errlen, "%s: %s", name, msg);
        ingest_abort(&g); /* nothing left to do after a failed begin */
        csv_release(&c);
        return -1;
    }
    int got = csv_next(&c);
    if (got <= 0) {
        snprintf(msg, sizeof(msg), "%s", got == 0 ? "the file is empty" : c.err);
        goto fail;
    }
    if (check_header(&c, kind == INGEST_PRODUCTS ? product_cols : order_header, 6, msg,
                     sizeof(msg)))
        goto fail;
    while ((got = csv_next(&c)) > 0) {
        if (stage_record(&g, &c, kind, msg, sizeof(msg)))
            goto fail;
        if (progress && (g.rows & 0x3FFF) == 0 && mono_seconds() - last > 0.5) {
            last = mono_seconds();
            show_progress(g.rows, t0, false);
        }
    }
    if (got < 0) {
        snprintf(msg, sizeof(msg), "%s", c.err);
        goto fail;
    }
    if (ferror(in)) {
        snprintf(err, errlen, "%s: read error", name);
        ingest_abort(&g);
        goto out;
    }
    long rows = g.rows;
    if (ingest_commit(&g, res, msg, sizeof(msg))) {
        snprintf(err, errlen, "%s: %s", name, msg);
        goto out;
    }
    if (progress)
        show_progress(rows, t0, true);
    rc = 0;
    goto out;
fail:
    snprintf(err, errlen, "%s:%ld: %s", name, c.line, msg);
    ingest_abort(&g);
out:
    csv_release(&c);
    return rc;
}
