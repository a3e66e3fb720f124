/* GET /churn: one customer's churn risk and worth, or the dashboard's list of the
 * customers with the most value at risk; GET /churn/summary: the segments. */
#include <inttypes.h>
#include <math.h>

#include "xsell/cursor.h"
#include "xsell/handlers.h"
#include "xsell/jsonw.h"
#include "xsell/strparse.h"

#define HORIZON_MAX_DAYS 3650

static const char *model_name(const struct model_churn *m)
{
    return m->kind == CHURN_MBGNBD ? "modified_bgnbd" : "bgnbd";
}

static void write_customer(struct jsonw *j, const char *id, const struct churn_answer *a)
{
    jsonw_str(j, "customer_id", id);
    jsonw_str(j, "segment", churn_segment_name(a->segment));
    jsonw_num(j, "p_alive", round_to(a->p_alive, 6));
    jsonw_num(j, "churn_risk", round_to(a->churn_risk, 6));
    jsonw_num(j, "expected_purchases", round_to(a->expected_purchases, 6));
    jsonw_num(j, "expected_spend", round_to(a->expected_spend, 2));
    jsonw_num(j, "expected_value", round_to(a->expected_value, 2));
    jsonw_num(j, "clv_12m", round_to(a->clv, 2));
    jsonw_num(j, "value_at_risk", round_to(a->value_at_risk, 2));
    jsonw_int(j, "frequency", a->frequency);
    jsonw_num(j, "recency_days", round(a->recency_days * 1e3) / 1e3);
    jsonw_num(j, "age_days", round(a->age_days * 1e3) / 1e3);
    jsonw_num(j, "monetary", round_to(a->monetary, 2));
}

/* What every answer says about the model behind it. */
static void write_model(struct jsonw *j, const struct snapshot *s, double horizon_days)
{
    char day[11];
    strparse_format_date(s->as_of, day);
    jsonw_num(j, "horizon_days", horizon_days);
    jsonw_str(j, "as_of", day);
    jsonw_str(j, "model", model_name(&s->churn));
    jsonw_bool(j, "logistic_layer", s->churn.layer.used);
    jsonw_int(j, "model_version", (long long)s->version);
}

/* The customer's P(alive) through time and the purchases that moved it. */
static void write_curve(struct jsonw *j, const struct model_churn *m, int32_t c, double horizon)
{
    struct churn_point pts[CHURN_CURVE_MAX];
    size_t n = model_churn_curve(m, c, (int)ceil(horizon), pts);
    char day[11];
    jsonw_open(j, "p_alive_curve", '[');
    for (size_t i = 0; i < n; i++) {
        strparse_format_date(pts[i].day * DAY_S, day);
        jsonw_open(j, NULL, '{');
        jsonw_str(j, "date", day);
        jsonw_num(j, "p_alive", round_to(pts[i].p_alive, 6));
        jsonw_bool(j, "projected", pts[i].day > m->as_of_day);
        jsonw_close(j, '}');
    }
    jsonw_close(j, ']');
    const struct churn_days *d = &m->days;
    int32_t lo, hi;
    model_churn_days(m, c, &lo, &hi);
    jsonw_open(j, "purchase_days", '[');
    for (int32_t i = MAX(lo, hi - CHURN_CURVE_MARKS); i < hi; i++) {
        strparse_format_date(d->day[i] * DAY_S, day);
        jsonw_open(j, NULL, '{');
        jsonw_str(j, "date", day);
        jsonw_num(j, "value", round_to(d->value[i], 2));
        jsonw_close(j, '}');
    }
    jsonw_close(j, ']');
}

static int one_customer(struct request *req, const char *customer, double horizon, bool curve)
{
    const struct snapshot *s = req->snap;
    int32_t c = idmap_find(&s->hist.customers, customer, strlen(customer));
    struct churn_answer a;
    if (c < 0 || !model_churn_query(&s->churn, c, horizon, &a)) {
        char day[11];
        strparse_format_date(s->as_of, day);
        return req_fail(req, PROBLEM_UNKNOWN_ID, "unknown customer \"%s\": no purchase by %s",
                        customer, day);
    }
    struct buf b;
    struct jsonw j;
    buf_init(&b, ANSWER_MAX);
    jsonw_init(&j, &b);
    jsonw_open(&j, NULL, '{');
    write_customer(&j, customer, &a);
    if (curve)
        write_curve(&j, &s->churn, c, horizon);
    write_model(&j, s, horizon);
    jsonw_close(&j, '}');
    return respond_buf(req, &b);
}

static int list_customers(struct request *req, double horizon)
{
    const struct snapshot *s = req->snap;
    const struct model_churn *m = &s->churn;
    int limit, segment = -1;
    double min_value;
    if (param_int(req, "limit", 1, LIMIT_MAX, 50, &limit) ||
        param_double(req, "min_value", 0, 1e15, 0, &min_value))
        return 0;
    if (horizon != m->horizon_days)
        return req_fail(req, PROBLEM_BAD_PARAM,
                        "the list is ranked at horizon_days=%g (XSELL_CHURN_HORIZON_DAYS); "
                        "another horizon is for one customer=",
                        m->horizon_days);
    const char *seg = req_param(req, "segment");
    if (seg && (segment = churn_segment_parse(seg)) < 0)
        return req_fail(req, PROBLEM_BAD_PARAM,
                        "segment must be new, active, at_risk, lapsing or lost, got \"%.40s\"",
                        seg);
    uint32_t pos;
    uint32_t filters = cursor_mix(cursor_mix(CURSOR_SEED, &segment, sizeof(segment)), &min_value,
                                  sizeof(min_value));
    if (req_cursor(req, filters, (uint32_t)m->nranked, "segment and min_value", &pos))
        return 0;
    struct buf b;
    struct jsonw j;
    buf_init(&b, ANSWER_MAX);
    jsonw_init(&j, &b);
    jsonw_open(&j, NULL, '{');
    jsonw_open(&j, "customers", '[');
    int n = 0;
    for (; pos < m->nranked && n < limit; pos++) {
        int32_t c = m->ranked[pos];
        const struct churn_customer *k = &m->cust[c];
        if (k->value_at_risk < min_value) { /* ranked by it: nothing further qualifies */
            pos = (uint32_t)m->nranked;
            break;
        }
        if (segment >= 0 && k->segment != segment)
            continue;
        struct churn_answer a;
        model_churn_query(m, c, horizon, &a);
        jsonw_open(&j, NULL, '{');
        write_customer(&j, idmap_key(&s->hist.customers, c), &a);
        jsonw_close(&j, '}');
        n++;
    }
    jsonw_close(&j, ']');
    /* Past the last match there may be none left: look ahead so the last page says so. */
    while (pos < m->nranked && segment >= 0 && m->cust[m->ranked[pos]].segment != segment &&
           m->cust[m->ranked[pos]].value_at_risk >= min_value)
        pos++;
    if (pos < m->nranked && m->cust[m->ranked[pos]].value_at_risk >= min_value) {
        char next[CURSOR_MAX];
        cursor_format(s->version, pos, filters, next);
        jsonw_str(&j, "next_cursor", next);
    } else {
        jsonw_str(&j, "next_cursor", NULL);
    }
    write_model(&j, s, horizon);
    jsonw_close(&j, '}');
    return respond_buf(req, &b);
}

int handle_churn(struct request *req)
{
    const struct model_churn *m = &req->snap->churn;
    double horizon;
    if (param_double(req, "horizon_days", 1, HORIZON_MAX_DAYS, m->horizon_days, &horizon))
        return 0;
    const char *customer;
    bool curve;
    if (param_id(req, "customer", false, &customer) || param_bool(req, "curve", false, &curve))
        return 0;
    if (customer)
        return one_customer(req, customer, horizon, curve);
    if (curve)
        return req_fail(req, PROBLEM_BAD_PARAM, "curve is for one customer=");
    return list_customers(req, horizon);
}

int handle_churn_summary(struct request *req)
{
    const struct snapshot *s = req->snap;
    const struct model_churn *m = &s->churn;
    struct buf b;
    struct jsonw j;
    buf_init(&b, ANSWER_MAX);
    jsonw_init(&j, &b);
    jsonw_open(&j, NULL, '{');
    jsonw_int(&j, "customers", (long long)m->nranked);
    jsonw_open(&j, "segments", '{');
    for (int i = 0; i < SEG_COUNT; i++) {
        jsonw_open(&j, churn_segment_name((enum churn_segment)i), '{');
        jsonw_int(&j, "customers", m->seg_count[i]);
        jsonw_num(&j, "clv_12m", round_to(m->seg_value[i], 2));
        jsonw_num(&j, "value_at_risk", round_to(m->seg_at_risk[i], 2));
        jsonw_close(&j, '}');
    }
    jsonw_close(&j, '}');
    /* the same per acquisition channel (history.h), those without one last */
    size_t nch = idmap_size(&s->hist.channels);
    const struct channel_cohort *by = s->channel_all;
    jsonw_open(&j, "by_acquisition_channel", '[');
    for (size_t c = 0; c <= nch; c++) {
        if (!by[c].customers)
            continue;
        jsonw_open(&j, NULL, '{');
        jsonw_str(&j, "channel", c < nch ? idmap_key(&s->hist.channels, (int32_t)c) : NULL);
        jsonw_int(&j, "customers", by[c].customers);
        jsonw_num(&j, "clv_12m", round_to(by[c].clv_sum, 2));
        jsonw_num(&j, "value_at_risk", round_to(by[c].value_at_risk, 2));
        jsonw_num(&j, "churn_risk_mean", round_to(by[c].risk_sum / (double)by[c].customers, 6));
        jsonw_open(&j, "segments", '{');
        for (int i = 0; i < SEG_COUNT; i++)
            jsonw_int(&j, churn_segment_name((enum churn_segment)i), by[c].segments[i]);
        jsonw_close(&j, '}');
        jsonw_close(&j, '}');
    }
    jsonw_close(&j, ']');
    jsonw_open(&j, "thresholds", '{');
    jsonw_int(&j, "new_below_age_days", CHURN_NEW_DAYS);
    jsonw_num(&j, "at_risk_from_churn_risk", CHURN_AT_RISK);
    jsonw_num(&j, "lapsing_from_churn_risk", CHURN_LAPSING);
    jsonw_num(&j, "lost_from_churn_risk", CHURN_LOST);
    jsonw_close(&j, '}');
    write_model(&j, s, m->horizon_days);
    jsonw_close(&j, '}');
    return respond_buf(req, &b);
}
