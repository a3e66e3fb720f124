#include "xsell/rows.h"

#include "xsell/caps.h"
#include "xsell/log.h"
#include "xsell/strparse.h"

#define QUANTITY_MAX       10000000
#define PRICE_MAX          1e9
#define ORDER_FUTURE_MAX_S DAY_S /* clocks differ; a day later is a wrong date */

/* A value quoted for a message: at most 40 bytes, control bytes as '?'. */
const char *rows_shown(struct text t)
{
    static _Thread_local char out[64];
    size_t n = t.n > 40 ? 40 : t.n, k = 0;
    for (size_t i = 0; i < n; i++)
        out[k++] = (unsigned char)t.p[i] < 0x20 ? '?' : t.p[i];
    if (t.n > n) {
        memcpy(out + k, "...", 3);
        k += 3;
    }
    out[k] = '\0';
    return out;
}

static int check_text(struct text t, const char *field, size_t max, bool required, char *err,
                      size_t errlen)
{
    if (required && t.n == 0)
        return fmt_error(err, errlen, "%s is empty", field);
    if (t.n > max)
        return fmt_error(err, errlen, "%s is longer than %zu bytes", field, max);
    if (!strparse_utf8_valid(t.p, t.n))
        return fmt_error(err, errlen, "%s is not valid UTF-8 text", field);
    return 0;
}

/* Ids and channel names follow strparse_id_valid, wherever they come from: 1..max bytes. */
static int check_id(struct text t, const char *field, int max, bool required, char *err,
                    size_t errlen)
{
    if (!required && t.n == 0)
        return 0;
    if (t.n == 0)
        return fmt_error(err, errlen, "%s is empty", field);
    if (t.n > (size_t)max)
        return fmt_error(err, errlen, "%s is longer than %d bytes", field, max);
    if (!strparse_id_valid(t.p, t.n))
        return fmt_error(err, errlen, "%s \"%s\" is not valid UTF-8 without control characters",
                         field, rows_shown(t));
    return 0;
}

static int check_price(struct text t, const char *field, char *err, size_t errlen)
{
    double v;
    if (strparse_double(t.p, t.n, &v))
        return fmt_error(err, errlen, "%s \"%s\" is not a number", field, rows_shown(t));
    if (v < 0)
        return fmt_error(err, errlen, "%s %s is negative", field, rows_shown(t));
    if (v > PRICE_MAX)
        return fmt_error(err, errlen, "%s %s is above %g", field, rows_shown(t), PRICE_MAX);
    return 0;
}

int rows_parse_product(const struct product_in *p, bool *in_stock, char *err, size_t errlen)
{
    *in_stock = true;
    if (check_id(p->product_id, "product_id", ID_MAX, true, err, errlen) ||
        check_text(p->name, "name", TEXT_MAX, false, err, errlen) ||
        check_text(p->category, "category", TEXT_MAX, false, err, errlen) ||
        check_price(p->price, "price", err, errlen))
        return -1;
    if (p->cost.n && check_price(p->cost, "cost", err, errlen))
        return -1;
    if (p->in_stock.n && strparse_bool(p->in_stock.p, p->in_stock.n, in_stock))
        return fmt_error(err, errlen, "in_stock \"%s\" is not true or false",
                         rows_shown(p->in_stock));
    int64_t stock;
    if (p->stock.n && strparse_int64(p->stock.p, p->stock.n, 0, STOCK_MAX, &stock))
        return fmt_error(err, errlen, "stock \"%s\" is not a whole number in 0..%d",
                         rows_shown(p->stock), STOCK_MAX);
    return 0;
}

int rows_check_product(const struct product_in *p, char *err, size_t errlen)
{
    bool in_stock;
    return rows_parse_product(p, &in_stock, err, errlen);
}

int rows_parse_order_line(const struct order_line_in *l, double *when, int64_t *qty, char *canon,
                          char *err, size_t errlen)
{
    if (check_id(l->order_id, "order_id", ID_MAX, true, err, errlen) ||
        check_id(l->customer_id, "customer_id", ID_MAX, false, err, errlen) ||
        check_id(l->product_id, "product_id", ID_MAX, true, err, errlen) ||
        check_id(l->session_id, "session_id", ID_MAX, false, err, errlen) ||
        check_id(l->recommendation_id, "recommendation_id", ID_MAX, false, err, errlen) ||
        check_id(l->channel, "channel", CHANNEL_MAX, false, err, errlen) ||
        check_id(l->acquisition_channel, "acquisition_channel", CHANNEL_MAX, false, err, errlen))
        return -1;
    if (l->acquisition_channel.n && !l->customer_id.n)
        return fmt_error(err, errlen,
                         "acquisition_channel needs a customer_id (a guest is "
                         "not won)");
    if (strparse_timestamp(l->ordered_at.p, l->ordered_at.n, when, canon))
        return fmt_error(err, errlen, "ordered_at \"%s\" is not an ISO-8601 date or time",
                         rows_shown(l->ordered_at));
    if (*when > now_seconds() + ORDER_FUTURE_MAX_S)
        return fmt_error(err, errlen, "ordered_at \"%s\" is more than a day in the future",
                         rows_shown(l->ordered_at));
    if (strparse_int64(l->quantity.p, l->quantity.n, -QUANTITY_MAX, QUANTITY_MAX, qty))
        return fmt_error(err, errlen, "quantity \"%s\" is not an integer in -%d..%d",
                         rows_shown(l->quantity), QUANTITY_MAX, QUANTITY_MAX);
    if (*qty == 0)
        return fmt_error(err, errlen, "quantity is 0");
    return check_price(l->unit_price, "unit_price", err, errlen);
}

int rows_check_order_line(const struct order_line_in *l, char *err, size_t errlen)
{
    double when;
    int64_t qty;
    char canon[STRPARSE_TS_LEN];
    return rows_parse_order_line(l, &when, &qty, canon, err, errlen);
}

void ingest_result_release(struct ingest_result *res)
{
    if (res->created_ids) {
        for (long i = 0; i < res->orders_created; i++)
            free(res->created_ids[i]);
        free(res->created_ids);
    }
    res->created_ids = NULL;
}
