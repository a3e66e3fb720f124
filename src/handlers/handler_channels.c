/* GET /channels: per channel, the customers it won and whether they stay and spend
 * (from the serving snapshot: the history and the churn model), and the orders it
 * brought and what recommendations sold of them (from the database, as
 * /admin/attribution attributes). */
#include <math.h>

#include "xsell/channels.h"
#include "xsell/handlers.h"
#include "xsell/jsonw.h"
#include "xsell/stats.h"
#include "xsell/strparse.h"
#include "xsell/xalloc.h"

#define CHANNEL_WINDOW_DAYS 365
#define REPEAT_DAYS         90

/* One channel of the answer: its cohort (may be NULL) and its sales (may be NULL). */
struct entry {
    const char *name; /* NULL: none */
    const struct channel_cohort *cohort;
    const struct channel_sales *sales;
};

/* key: {what: v, ci_low: lo, ci_high: hi}, left open for more members. */
static void write_interval(struct jsonw *j, const char *key, const char *what, double v, double lo,
                           double hi)
{
    jsonw_open(j, key, '{');
    jsonw_num(j, what, round_to(v, 4));
    jsonw_num(j, "ci_low", round_to(lo, 4));
    jsonw_num(j, "ci_high", round_to(hi, 4));
}

static void write_entry(struct jsonw *j, const struct entry *e)
{
    static const struct channel_cohort none_cohort;
    static const struct channel_sales none_sales;
    const struct channel_cohort *k = e->cohort ? e->cohort : &none_cohort;
    const struct channel_sales *s = e->sales ? e->sales : &none_sales;
    double v, lo, hi;
    jsonw_open(j, NULL, '{');
    jsonw_str(j, "channel", e->name);
    jsonw_int(j, "new_customers", k->customers);
    v = k->observed > 0 ? (double)k->repeated / (double)k->observed : NAN;
    stats_rate_ci95((double)k->repeated, (double)k->observed, &lo, &hi);
    write_interval(j, "repeat_rate", "estimate", v, lo, hi);
    jsonw_int(j, "customers", k->observed);
    jsonw_close(j, '}');
    channel_mean_ci95(k->clv_sum, k->clv_sq, (double)k->customers, &v, &lo, &hi);
    write_interval(j, "clv_12m", "mean", v, lo, hi);
    jsonw_close(j, '}');
    jsonw_num(j, "churn_risk_mean",
              k->customers ? round_to(k->risk_sum / (double)k->customers, 4) : NAN);
    jsonw_int(j, "orders", (long long)s->orders);
    jsonw_num(j, "revenue", round_to(s->revenue, 2));
    jsonw_num(j, "attributed_revenue", round_to(s->attributed, 2));
    channel_share_ci95(s->orders, s->attributed, s->revenue, s->aa, s->rr, s->ar, &v, &lo, &hi);
    write_interval(j, "attributed_share", "estimate", v, lo, hi);
    jsonw_close(j, '}');
    jsonw_close(j, '}');
}

/* Channels with customers won first, then by revenue; those without a channel last. */
static int by_weight(const void *pa, const void *pb)
{
    const struct entry *a = pa, *b = pb;
    if (!a->name != !b->name)
        return a->name ? -1 : 1;
    long ca = a->cohort ? a->cohort->customers : 0, cb = b->cohort ? b->cohort->customers : 0;
    if (ca != cb)
        return ca > cb ? -1 : 1;
    double ra = a->sales ? a->sales->revenue : 0, rb = b->sales ? b->sales->revenue : 0;
    if (ra != rb)
        return ra > rb ? -1 : 1;
    return a->name && b->name ? strcmp(a->name, b->name) : 0;
}

int handle_channels(struct request *req)
{
    const struct snapshot *s = req->snap;
    const struct history *h = &s->hist;
    double from, to, as_of_end = (floor(s->as_of / DAY_S) + 1) * DAY_S;
    const char *from_s = NULL, *to_s = NULL;
    if (param_window(req, as_of_end, CHANNEL_WINDOW_DAYS, &from, &to, &from_s, &to_s))
        return 0;
    struct channel_sales *sales;
    size_t nsales;
    if (services_channel_sales(req->svc, from_s, to_s, &sales, &nsales))
        return req_fail(req, PROBLEM_DB_DOWN, "the database is unavailable");
    size_t nch = idmap_size(&h->channels);
    struct channel_cohort *cohort = arena_array(&req->arena, nch + 1, sizeof(*cohort));
    channel_cohorts(h, &s->churn, (int32_t)floor(from / DAY_S), (int32_t)ceil(to / DAY_S),
                    REPEAT_DAYS, cohort);

    /* the snapshot's channels and none, then the channels only the database knows */
    struct entry *e = arena_array(&req->arena, nch + 1 + nsales, sizeof(*e));
    size_t n = 0;
    for (size_t c = 0; c <= nch; c++)
        e[n++] =
            (struct entry){c < nch ? idmap_key(&h->channels, (int32_t)c) : NULL, &cohort[c], NULL};
    for (size_t i = 0; i < nsales; i++) {
        size_t k = 0;
        while (k < n &&
               !(sales[i].none ? !e[k].name : e[k].name && strcmp(e[k].name, sales[i].name) == 0))
            k++;
        if (k == n)
            e[n++] = (struct entry){sales[i].none ? NULL : sales[i].name, NULL, NULL};
        e[k].sales = &sales[i];
    }
    qsort(e, n, sizeof(*e), by_weight);

    struct buf b;
    struct jsonw j;
    char day[11];
    buf_init(&b, ANSWER_MAX);
    jsonw_init(&j, &b);
    jsonw_open(&j, NULL, '{');
    jsonw_str(&j, "from", from_s);
    jsonw_str(&j, "to", to_s);
    jsonw_int(&j, "repeat_days", REPEAT_DAYS);
    jsonw_open(&j, "channels", '[');
    for (size_t i = 0; i < n; i++)
        if (e[i].name || (e[i].cohort && e[i].cohort->customers) || e[i].sales)
            write_entry(&j, &e[i]);
    jsonw_close(&j, ']');
    strparse_format_date(s->as_of, day);
    jsonw_str(&j, "as_of", day);
    jsonw_int(&j, "model_version", (long long)s->version);
    jsonw_close(&j, '}');
    free(sales);
    return respond_buf(req, &b);
}
