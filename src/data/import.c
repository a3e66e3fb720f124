#include "xsell/import.h"

#include "xsell/csv.h"
#include "xsell/log.h"

static const char *const product_cols[] = {"product_id", "name", "category",
                                           "price",      "cost", "in_stock"};
static const char *const order_header[] = {"order_id",   "customer_id", "ordered_at",
                                           "product_id", "quantity",    "unit_price"};

/* A file's optional columns after the six, in any order. */
static const char *const order_optional[] = {"session_id", "recommendation_id", "channel",
                                             "acquisition_channel"};
static const char *const product_optional[] = {"stock"};
#define OPTIONAL_MAX ARRAY_SIZE(order_optional)

/* The file's columns: the six, then where each optional one is (-1: absent). */
struct layout {
    int ncols;
    int optional[OPTIONAL_MAX];
};

static bool field_is(struct csv *c, int i, const char *name)
{
    size_t len;
    const char *f = csv_field(c, i, &len);
    if (i == 0 && len >= 3 && memcmp(f, "\xEF\xBB\xBF", 3) == 0) /* a BOM */
        f += 3, len -= 3;
    return strlen(name) == len && memcmp(f, name, len) == 0;
}

static int check_header(struct csv *c, bool orders, struct layout *lay, char *msg, size_t msglen)
{
    const char *const *cols = orders ? order_header : product_cols;
    const char *const *opt = orders ? order_optional : product_optional;
    size_t nopt = orders ? ARRAY_SIZE(order_optional) : ARRAY_SIZE(product_optional);
    lay->ncols = c->nfields;
    for (size_t k = 0; k < OPTIONAL_MAX; k++)
        lay->optional[k] = -1;
    if (c->nfields < 6 || c->nfields > 6 + (int)nopt)
        goto bad;
    for (int i = 0; i < 6; i++)
        if (!field_is(c, i, cols[i]))
            goto bad;
    for (int i = 6; i < c->nfields; i++) {
        size_t k = 0;
        while (k < nopt && !field_is(c, i, opt[k]))
            k++;
        if (k == nopt || lay->optional[k] >= 0)
            goto bad;
        lay->optional[k] = i;
    }
    return 0;
bad:
    snprintf(msg, msglen, "the header must be \"%s,%s,%s,%s,%s,%s\"%s", cols[0], cols[1], cols[2],
             cols[3], cols[4], cols[5],
             orders ? ", then any of session_id, recommendation_id, channel and "
                      "acquisition_channel the file has"
                    : ", then stock if the file has it");
    return -1;
}

static struct text field(struct csv *c, int i)
{
    struct text t;
    t.p = csv_field(c, i, &t.n);
    return t;
}

static int stage_record(struct ingest *g, struct csv *c, enum ingest_kind kind,
                        const struct layout *lay, char *msg, size_t msglen)
{
    if (c->nfields != lay->ncols) {
        snprintf(msg, msglen, "expected %d fields, found %d", lay->ncols, c->nfields);
        return -1;
    }
    struct text none = {"", 0};
    if (kind == INGEST_PRODUCTS) {
        struct product_in p = {field(c, 0),
                               field(c, 1),
                               field(c, 2),
                               field(c, 3),
                               field(c, 4),
                               field(c, 5),
                               lay->optional[0] >= 0 ? field(c, lay->optional[0]) : none};
        return ingest_product(g, &p, msg, msglen);
    }
    struct order_line_in l = {
        field(c, 0),
        field(c, 1),
        field(c, 2),
        field(c, 3),
        field(c, 4),
        field(c, 5),
        lay->optional[0] >= 0 ? field(c, lay->optional[0]) : none,
        lay->optional[1] >= 0 ? field(c, lay->optional[1]) : none,
        lay->optional[2] >= 0 ? field(c, lay->optional[2]) : none,
        lay->optional[3] >= 0 ? field(c, lay->optional[3]) : none,
    };
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
    struct layout lay;
    if (check_header(&c, kind == INGEST_ORDERS, &lay, msg, sizeof(msg)))
        goto fail;
    while ((got = csv_next(&c)) > 0) {
        if (stage_record(&g, &c, kind, &lay, msg, sizeof(msg)))
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
    g.analyze = true;
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
