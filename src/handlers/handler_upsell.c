/* GET /upsell: the better, pricier substitutes of an item this customer is likely
 * to take, ranked by P(accept) x what the shop earns more. */
#include <math.h>

#include "xsell/handlers.h"
#include "xsell/jsonw.h"

#define UPSELL_LIMIT_MAX 20
#define STEP_MAX         10.0

int handle_upsell(struct request *req)
{
    const struct snapshot *s = req->snap;
    const struct history *h = &s->hist;
    struct upsell_query q = {.customer = -1};
    const char *item, *customer, *session;
    if (param_id(req, "item", true, &item) || param_id(req, "customer", false, &customer) ||
        param_id(req, "session_id", false, &session))
        return 0;
    if (param_int(req, "limit", 1, UPSELL_LIMIT_MAX, 5, &q.limit) ||
        param_double(req, "min_step", 0, STEP_MAX, 0.1, &q.min_step) ||
        param_double(req, "max_step", 0, STEP_MAX, 1.0, &q.max_step))
        return 0;
    if (q.min_step > q.max_step)
        return req_fail(req, PROBLEM_BAD_PARAM, "min_step %g is above max_step %g", q.min_step,
                        q.max_step);
    const char *objective = req_param(req, "objective");
    if (objective && strcmp(objective, "revenue") != 0 && strcmp(objective, "margin") != 0)
        return req_fail(req, PROBLEM_BAD_PARAM,
                        "objective must be revenue or margin, got \"%.60s\"", objective);
    q.margin = objective && strcmp(objective, "margin") == 0;
    q.item = idmap_find(&h->products, item, strlen(item));
    if (q.item < 0)
        return req_fail(req, PROBLEM_UNKNOWN_ID, "unknown item \"%s\"", item);
    if (customer)
        q.customer = idmap_find(&h->customers, customer, strlen(customer));
    struct churn_answer risk;
    bool at_risk_known =
        q.customer >= 0 && model_churn_query(&s->churn, q.customer, s->churn.horizon_days, &risk);
    if (at_risk_known)
        q.churn_risk = MIN(MAX(risk.churn_risk, 0), 1);

    /* an experiment's variant may hold the offer back, or rank by another objective */
    struct exp_pick pick;
    bool in_exp = services_experiment_pick(req->svc, EXP_UPSELL, customer, session, &pick);
    if (in_exp && pick.variant.objective > 0)
        q.margin = pick.variant.objective == 2; /* 1 revenue, 2 margin */
    struct held_back held = {.n = 0};
    q.held = s->held;
    q.held_out = &held;
    struct upsell_item *res = NULL;
    int n = in_exp && pick.variant.off
                ? 0
                : model_upsell_query(&s->upsell, h, &s->repeat, &q, &req->arena, &res);

    struct buf b;
    struct jsonw j;
    buf_init(&b, ANSWER_MAX);
    jsonw_init(&j, &b);
    jsonw_open(&j, NULL, '{');
    jsonw_str(&j, "item", item);
    jsonw_open(&j, "items", '[');
    for (int i = 0; i < n; i++) {
        const struct upsell_item *it = &res[i];
        int32_t p = it->product;
        double delta = h->price[p] - h->price[q.item];
        jsonw_open(&j, NULL, '{');
        jsonw_raw_members(&j, s->product_json[p], s->product_json_len[p]);
        jsonw_num(&j, "price_delta", round(delta * 1e4) / 1e4);
        jsonw_num(&j, "price_delta_pct",
                  h->price[q.item] > 0 ? round(delta / h->price[q.item] * 1e4) / 100 : 0);
        jsonw_num(&j, "score", round(it->score * 1e6) / 1e6);
        jsonw_num(&j, "p_accept", round(it->p_accept * 1e6) / 1e6);
        jsonw_open(&j, "reason", '{');
        if (it->link->count >= 2) {
            jsonw_str(&j, "kind", "upgrade_path");
            jsonw_str(&j, "from", item);
            jsonw_int(&j, "count", it->link->count);
            jsonw_num(&j, "rate", round(it->link->rate * 1e4) / 1e4);
        } else {
            jsonw_str(&j, "kind", "substitute");
            jsonw_num(&j, "similarity", round(it->link->similarity * 1e4) / 1e4);
        }
        jsonw_close(&j, '}');
        jsonw_close(&j, '}');
    }
    jsonw_close(&j, ']');
    snapshot_write_held(&j, s, &held);
    if (n == 0 && in_exp && pick.variant.off) {
        jsonw_str(&j, "reason", "held out: this experiment's variant shows no offer");
    } else if (n == 0) {
        char *why = arena_printf(
            &req->arena, "no in-stock substitute priced %g%%..%g%% above it%s%s%s",
            q.min_step * 100, q.max_step * 100, q.margin ? " with a higher known margin" : "",
            q.customer >= 0 ? " that this customer has not bought" : "",
            held.n ? " (some held back: their forecast demand exceeds their stock)" : "");
        jsonw_str(&j, "reason", why);
    }
    jsonw_int(&j, "model_version", (long long)s->version);
    const char **offered = arena_array(&req->arena, (size_t)n + 1, sizeof(char *));
    for (int i = 0; i < n; i++)
        offered[i] = idmap_key(&h->products, res[i].product);
    char rid[48];
    struct answer_rec rec = {.surface = "upsell",
                             .model_version = s->version,
                             .strategy = in_exp && pick.variant.off ? "off"
                                         : q.margin                 ? "margin"
                                                                    : "revenue",
                             .experiment = in_exp ? pick.id : NULL,
                             .variant = in_exp ? pick.variant.name : NULL,
                             .customer = customer,
                             .session = session,
                             .items = offered,
                             .nitems = n};
    services_record_answer(req->svc, &rec, rid);
    jsonw_str(&j, "recommendation_id", rid);
    jsonw_str(&j, "objective", q.margin ? "margin" : "revenue");
    if (in_exp) {
        jsonw_open(&j, "experiment", '{');
        jsonw_str(&j, "id", pick.id);
        jsonw_str(&j, "variant", pick.variant.name);
        jsonw_close(&j, '}');
    }
    if (customer)
        jsonw_bool(&j, "customer_known", q.customer >= 0);
    if (at_risk_known) /* what tempered the offer: see README, "a lighter hand" */
        jsonw_num(&j, "customer_churn_risk", round(q.churn_risk * 1e4) / 1e4);
    jsonw_close(&j, '}');
    return respond_buf(req, &b);
}
