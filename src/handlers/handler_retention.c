/* GET /retention: for a customer slipping away, the offer worth most (a discount, an
 * upgrade, or nothing) with its reasoning; without customer=, the dashboard's list of
 * the customers at risk whose offer pays, by its value (retention.h). */
#include <math.h>

#include "xsell/cursor.h"
#include "xsell/handlers.h"
#include "xsell/jsonw.h"
#include "xsell/retention.h"

#define LIST_MAX 100

/* The settings the customer's offer follows: the snapshot's, or their variant's in a
 * running experiment on the retention surface (pick filled; *off: it offers nothing). */
static bool settings_for(struct request *req, const char *customer, struct retention_settings *rs,
                         struct exp_pick *pick, bool *off)
{
    retention_settings_from(&req->snap->params, rs);
    bool in = services_experiment_pick(req->svc, EXP_RETENTION, customer, NULL, pick);
    *off = in && pick->variant.off;
    if (in && !isnan(pick->variant.max_discount))
        rs->max_discount = pick->variant.max_discount;
    return in;
}

static void write_product(struct jsonw *j, const struct snapshot *s, const char *name, int32_t p)
{
    jsonw_open(j, name, '{');
    jsonw_raw_members(j, s->product_json[p], s->product_json_len[p]);
    jsonw_close(j, '}');
}

/* The reasoning as a sentence a marketer reads. */
static const char *why(struct arena *a, const struct snapshot *s, const struct retention_offer *o)
{
    const struct history *h = &s->hist;
    double days = s->churn.horizon_days;
    const char *unit = o->margin_known ? "margin" : "revenue";
    if (o->type == OFFER_UPGRADE)
        return arena_printf(a,
                            "%s instead of %s: P(they buy %s within %g days) %.3f, P(they take "
                            "the upgrade) %.3f, %+.2f %s each; %.2f expected",
                            h->name[o->product] ? h->name[o->product] : "the upgrade",
                            h->name[o->instead_of] ? h->name[o->instead_of] : "their product",
                            h->name[o->instead_of] ? h->name[o->instead_of] : "it", days,
                            o->p_without, o->p_accept, o->margin, unit, o->value);
    if (isnan(o->elasticity))
        return "no discount: no price elasticity is known, nothing says a lower price sells "
               "more of it";
    if (o->elasticity >= 0)
        return arena_printf(a,
                            "no discount: its price elasticity %.2f is %.2f at the less "
                            "elastic end, which does not say a lower price sells more of it",
                            o->estimate, o->elasticity);
    if (o->discount == 0)
        return "no discount: the smallest step (5%) is above the largest discount allowed, or "
               "would sell below cost";
    return arena_printf(
        a,
        "%.0f%% off: it is in %.0f%% of their purchases; at price elasticity %.2f (the "
        "estimate %.2f plus its standard error) its demand rises %.2fx, P(they buy it within %g "
        "days) from %.3f to %.3f; %.2f %s each after the "
        "discount, %.2f given on the purchase that would have come anyway: %+.2f expected",
        o->discount * 100, o->share * 100, o->elasticity, o->estimate, o->multiplier, days,
        o->p_without, o->p_with, o->margin, unit, o->given_away, o->value);
}

static void write_offer(struct jsonw *j, const char *key, struct arena *a, const struct snapshot *s,
                        const struct retention_offer *o)
{
    if (!o) {
        jsonw_str(j, key, NULL);
        return;
    }
    jsonw_open(j, key, '{');
    jsonw_str(j, "type", offer_type_name(o->type));
    if (o->type != OFFER_NONE) {
        const struct history *h = &s->hist;
        write_product(j, s, "product", o->product);
        if (o->type == OFFER_UPGRADE)
            write_product(j, s, "instead_of", o->instead_of);
        jsonw_str(j, "source", offer_source_name(o->source));
        jsonw_num(j, "discount", round_to(o->discount, 6));
        jsonw_num(j, "offer_price", round_to(h->price[o->product] * (1 - o->discount), 2));
        jsonw_num(j, "expected_value", round_to(o->value, 6));
        jsonw_str(j, "value_basis", o->margin_known ? "margin" : "revenue");
        jsonw_open(j, "reasoning", '{');
        jsonw_num(j, "share_of_purchases", round_to(o->share, 6));
        jsonw_num(j, "elasticity_estimate", round_to(o->estimate, 6));
        jsonw_num(j, "elasticity", round_to(o->elasticity, 6));
        jsonw_num(j, "demand_multiplier", round_to(o->multiplier, 6));
        jsonw_num(j, "p_buy_without", round_to(o->p_without, 6));
        jsonw_num(j, "p_buy_with", round_to(o->p_with, 6));
        jsonw_num(j, "p_accept", round_to(o->p_accept, 6));
        jsonw_num(j, "margin_each", round_to(o->margin, 6));
        jsonw_num(j, "given_away", round_to(o->given_away, 6));
        jsonw_close(j, '}');
        jsonw_str(j, "why", why(a, s, o));
    }
    jsonw_close(j, '}');
}

/* Why no offer, when none is made. */
static const char *no_offer(struct arena *a, const struct snapshot *s,
                            const struct retention_answer *r, bool off)
{
    if (off)
        return "held out: this experiment's variant offers nothing";
    if (!r->at_risk)
        return arena_printf(a,
                            "not at risk (%s): no margin given away to a customer who buys "
                            "anyway",
                            churn_segment_name(r->churn.segment));
    if (r->ncand == 0)
        return r->held.n ? "nothing to offer: the candidates are held back for their stock"
                         : "nothing to offer: no product of theirs or of their personal list "
                           "could be discounted, and no upgrade is known";
    return arena_printf(a, "no offer pays; the best weighed: %s", why(a, s, &r->cand[0]));
}

static void write_settings(struct jsonw *j, const struct retention_settings *rs)
{
    jsonw_open(j, "settings", '{');
    jsonw_open(j, "offer_types", '[');
    if (rs->discount)
        jsonw_str(j, NULL, "discount");
    if (rs->upgrade)
        jsonw_str(j, NULL, "upgrade");
    jsonw_close(j, ']');
    jsonw_num(j, "max_discount", rs->max_discount);
    jsonw_close(j, '}');
}

/* One customer's figures and offer (none where the variant holds offers back, off),
 * with their experiment's tag (pick NULL: none); the offer made, or NULL. */
static const struct retention_offer *write_customer(struct jsonw *j, struct arena *a,
                                                    const struct snapshot *s, const char *id,
                                                    const struct retention_answer *r, bool off,
                                                    const struct exp_pick *pick)
{
    const struct retention_offer *offer = !off && r->offer.type != OFFER_NONE ? &r->offer : NULL;
    jsonw_str(j, "customer_id", id);
    jsonw_str(j, "segment", churn_segment_name(r->churn.segment));
    jsonw_num(j, "churn_risk", round_to(r->churn.churn_risk, 6));
    jsonw_num(j, "p_alive", round_to(r->churn.p_alive, 6));
    jsonw_num(j, "value_at_risk", round_to(r->churn.value_at_risk, 2));
    jsonw_bool(j, "at_risk", r->at_risk);
    jsonw_str(j, "offer_type", offer_type_name(offer ? offer->type : OFFER_NONE));
    write_offer(j, "offer", a, s, offer);
    jsonw_str(j, "reason", offer ? NULL : no_offer(a, s, r, off));
    if (pick) {
        jsonw_open(j, "experiment", '{');
        jsonw_str(j, "id", pick->id);
        jsonw_str(j, "variant", pick->variant.name);
        jsonw_close(j, '}');
    }
    return offer;
}

static int one_customer(struct request *req, const char *customer)
{
    const struct snapshot *s = req->snap;
    int32_t c = idmap_find(&s->hist.customers, customer, strlen(customer));
    struct retention_settings rs;
    struct exp_pick pick;
    bool off, in_exp = settings_for(req, customer, &rs, &pick, &off);
    struct retention_answer r;
    if (c < 0)
        return req_fail(req, PROBLEM_UNKNOWN_ID, "unknown customer \"%.64s\"", customer);
    if (!retention_answer(s, &rs, c, &req->arena, &r))
        return req_fail(req, PROBLEM_UNKNOWN_ID,
                        "customer \"%.64s\" bought nothing by the model's as_of", customer);
    struct buf b;
    struct jsonw j;
    buf_init(&b, ANSWER_MAX);
    jsonw_init(&j, &b);
    jsonw_open(&j, NULL, '{');
    const struct retention_offer *offer =
        write_customer(&j, &req->arena, s, customer, &r, off, in_exp ? &pick : NULL);
    jsonw_num(&j, "horizon_days", s->churn.horizon_days);
    jsonw_num(&j, "expected_purchases", round_to(r.churn.expected_purchases, 6));
    jsonw_num(&j, "purchases_if_active", round_to(r.rate, 6));
    jsonw_open(&j, "considered", '[');
    for (int i = 0; i < r.ncand; i++)
        write_offer(&j, NULL, &req->arena, s, &r.cand[i]);
    jsonw_close(&j, ']');
    snapshot_write_held(&j, s, &r.held);
    write_settings(&j, &rs);
    const char *items[1] = {offer ? idmap_key(&s->hist.products, offer->product) : NULL};
    char rid[48];
    struct answer_rec rec = {.surface = "retention",
                             .model_version = s->version,
                             .strategy =
                                 off ? "off" : offer_type_name(offer ? offer->type : OFFER_NONE),
                             .experiment = in_exp ? pick.id : NULL,
                             .variant = in_exp ? pick.variant.name : NULL,
                             .customer = customer,
                             .items = items,
                             .nitems = offer ? 1 : 0};
    services_record_answer(req->svc, &rec, rid);
    jsonw_str(&j, "recommendation_id", rid);
    jsonw_int(&j, "model_version", (long long)s->version);
    jsonw_close(&j, '}');
    return respond_buf(req, &b);
}

static int list_customers(struct request *req)
{
    const struct snapshot *s = req->snap;
    int limit;
    uint32_t pos;
    if (param_int(req, "limit", 1, LIST_MAX, 20, &limit) ||
        req_cursor(req, CURSOR_SEED, (uint32_t)s->retention.n, "parameters", &pos))
        return 0;
    struct retention_settings served;
    retention_settings_from(&s->params, &served);
    struct buf b;
    struct jsonw j;
    buf_init(&b, ANSWER_MAX);
    jsonw_init(&j, &b);
    jsonw_open(&j, NULL, '{');
    jsonw_open(&j, "customers", '[');
    for (int n = 0; pos < s->retention.n && n < limit; pos++, n++) {
        int32_t c = s->retention.customer[pos];
        const char *id = idmap_key(&s->hist.customers, c);
        struct retention_settings rs;
        struct exp_pick pick;
        bool off, in_exp = settings_for(req, id, &rs, &pick, &off);
        struct retention_answer r;
        retention_answer(s, &rs, c, &req->arena, &r);
        jsonw_open(&j, NULL, '{');
        write_customer(&j, &req->arena, s, id, &r, off, in_exp ? &pick : NULL);
        jsonw_num(&j, "ranked_value", round_to(s->retention.value[pos], 6));
        jsonw_close(&j, '}');
    }
    jsonw_close(&j, ']');
    if (pos < s->retention.n) {
        char next[CURSOR_MAX];
        cursor_format(s->version, pos, CURSOR_SEED, next);
        jsonw_str(&j, "next_cursor", next);
    } else {
        jsonw_str(&j, "next_cursor", NULL);
    }
    jsonw_int(&j, "total", (long long)s->retention.n);
    jsonw_num(&j, "horizon_days", s->churn.horizon_days);
    write_settings(&j, &served);
    jsonw_int(&j, "model_version", (long long)s->version);
    jsonw_close(&j, '}');
    return respond_buf(req, &b);
}

int handle_retention(struct request *req)
{
    const char *customer;
    if (param_id(req, "customer", false, &customer))
        return 0;
    return customer ? one_customer(req, customer) : list_customers(req);
}
