/* GET /recommend: what goes with a cart, what a customer would buy next. Parses
 * and checks the request, maps ids to the snapshot's products, asks recommend(),
 * renders the evidence. */
#include <math.h>

#include "xsell/handlers.h"
#include "xsell/jsonw.h"
#include "xsell/recommend.h"
#include "xsell/strparse.h"

#define PRICE_PARAM_MAX 1e9

/* Product indices of ids (unknown ones listed in unknown when not NULL). */
static int32_t *map_ids(struct request *req, const char **ids, int n, int *known,
                        const char **unknown, int *nunknown)
{
    const struct history *h = &req->snap->hist;
    int32_t *out = arena_array(&req->arena, (size_t)n + 1, sizeof(int32_t));
    *known = 0;
    for (int i = 0; i < n; i++) {
        int32_t p = idmap_find(&h->products, ids[i], strlen(ids[i]));
        if (p >= 0)
            out[(*known)++] = p;
        else if (unknown)
            unknown[(*nunknown)++] = ids[i];
    }
    return out;
}

static void write_ids(struct jsonw *j, const char *key, const struct history *h, const int32_t *p,
                      int n)
{
    jsonw_open(j, key, '[');
    for (int i = 0; i < n; i++)
        if (p[i] >= 0)
            jsonw_str(j, NULL, idmap_key(&h->products, p[i]));
    jsonw_close(j, ']');
}

static void write_item(struct jsonw *j, const struct snapshot *s, const struct rec_item *it)
{
    const struct history *h = &s->hist;
    int32_t p = it->product;
    char day[11];
    jsonw_open(j, NULL, '{');
    jsonw_raw_members(j, s->product_json[p], s->product_json_len[p]);
    jsonw_num(j, "score", round(it->score * 1e6) / 1e6);
    jsonw_open(j, "reason", '{');
    jsonw_str(j, "kind", rec_kind_name(it->kind));
    switch (it->kind) {
    case KIND_BOUGHT_TOGETHER:
        write_ids(j, "with", h, it->because, 2);
        jsonw_int(j, "count", it->count);
        jsonw_num(j, "confidence", round(it->confidence * 1e4) / 1e4);
        jsonw_num(j, "lift", round(it->lift * 1e3) / 1e3);
        break;
    case KIND_SIMILAR_CUSTOMERS:
    case KIND_SIMILAR_CONTENT:
    case KIND_ALSO_VIEWED:
        write_ids(j, "because", h, it->because, 2);
        break;
    case KIND_BUY_AGAIN:
        strparse_format_date(it->last, day);
        jsonw_str(j, "last_bought", day);
        jsonw_int(j, "times", it->times);
        break;
    case KIND_POPULAR:
        jsonw_str(j, "detail", "what sells now: nothing more specific passed the rules");
        break;
    }
    jsonw_close(j, '}');
    jsonw_close(j, '}');
}

/* The products the session viewed, clicked or carted lately (its events, read your
 * writes) join the cart as context: an anonymous visitor's recommendations follow
 * what they looked at. The newest first, up to CART_MAX in all; unknown ones are
 * left out quietly. */
static void add_session_products(struct request *req, const char *session, struct rec_query *q)
{
    const char **ids;
    size_t n = services_session_products(req->svc, session, &req->arena, &ids);
    if (n == 0)
        return;
    int32_t *cart = arena_array(&req->arena, (size_t)q->ncart + n + 1, sizeof(int32_t));
    memcpy(cart, q->cart, (size_t)q->ncart * sizeof(int32_t));
    int k = q->ncart;
    for (size_t i = n; i-- > 0 && k < CART_MAX;) {
        int32_t p = idmap_find(&req->snap->hist.products, ids[i], strlen(ids[i]));
        bool dup = p < 0;
        for (int j = 0; j < k && !dup; j++)
            dup = cart[j] == p;
        if (!dup)
            cart[k++] = p;
    }
    q->cart = cart;
    q->ncart = k;
}

/* A variant's settings over the query's (the blend's weights into mp, a copy of the
 * snapshot's settings). */
static void apply_variant(const struct snapshot *s, const struct exp_variant *v,
                          struct rec_query *q, struct model_params *mp)
{
    if (v->strategy >= 0)
        q->strategy = (enum rec_strategy)v->strategy;
    if (v->objective >= 0)
        q->objective = (enum rec_objective)v->objective;
    *mp = s->params;
    double *const blend[EXP_BLEND_N] = {&mp->blend_complements, &mp->blend_personal,
                                        &mp->blend_content, &mp->blend_peers, &mp->blend_own};
    bool any = false;
    for (int b = 0; b < EXP_BLEND_N; b++)
        if (!isnan(v->blend[b])) {
            *blend[b] = v->blend[b];
            any = true;
        }
    if (any)
        q->params = mp;
}

int handle_recommend(struct request *req)
{
    const struct history *h = &req->snap->hist;
    const char **items, **exclude, **recent_ids = NULL;
    int nitems, nexclude, limit, strategy, objective;
    struct rec_query q = {0};
    if (param_list(req, "items", CART_MAX, &items, &nitems) ||
        param_list(req, "exclude", CART_MAX, &exclude, &nexclude) ||
        param_int(req, "limit", 1, LIMIT_MAX, 10, &limit) ||
        param_bool(req, "include_purchased", false, &q.include_purchased) ||
        param_double(req, "min_price", 0, PRICE_PARAM_MAX, 0, &q.min_price) ||
        param_double(req, "max_price", 0, PRICE_PARAM_MAX, PRICE_PARAM_MAX, &q.max_price) ||
        param_choice(req, "strategy", rec_strategy_names, REC_API_STRATEGIES, REC_AUTO,
                     &strategy) ||
        param_choice(req, "objective", rec_objective_names, 3, REC_RELEVANCE, &objective))
        return 0;
    if (q.min_price > q.max_price)
        return req_fail(req, PROBLEM_BAD_PARAM, "min_price %g is above max_price %g", q.min_price,
                        q.max_price);
    const char *customer, *session;
    if (param_id(req, "customer", false, &customer) || param_id(req, "session_id", false, &session))
        return 0;
    q.category = req_param(req, "category");
    if (q.category && !*q.category)
        return req_fail(req, PROBLEM_BAD_PARAM, "category must not be empty");
    if (strategy == REC_BUY_AGAIN && !customer)
        return req_fail(req, PROBLEM_BAD_PARAM, "strategy=buy_again needs customer=");

    const char **unknown = arena_array(&req->arena, (size_t)nitems + 1, sizeof(char *));
    int nunknown = 0;
    q.cart = map_ids(req, items, nitems, &q.ncart, unknown, &nunknown);
    if (session)
        add_session_products(req, session, &q);
    q.exclude = map_ids(req, exclude, nexclude, &q.nexclude, NULL, NULL);
    q.customer = customer ? idmap_find(&h->customers, customer, strlen(customer)) : -1;
    size_t nrecent = customer ? services_recent_purchases(req->svc, customer, req->snap->loaded_at,
                                                          &req->arena, &recent_ids)
                              : 0;
    q.recent = map_ids(req, recent_ids, (int)nrecent, &q.nrecent, NULL, NULL);
    bool customer_known = q.customer >= 0 || nrecent > 0;
    if ((nitems > 0 || customer) && q.ncart == 0 && !customer_known) {
        if (customer && nitems == 0)
            return req_fail(req, PROBLEM_UNKNOWN_ID, "unknown customer \"%s\"", customer);
        return req_fail(req, PROBLEM_UNKNOWN_ID, "none of the items%s is known",
                        customer ? " nor the customer" : "");
    }
    q.strategy = (enum rec_strategy)strategy;
    q.objective = (enum rec_objective)objective;
    q.limit = limit;
    /* an experiment's variant may change what this customer or session is shown */
    struct exp_pick pick;
    struct model_params mp;
    bool in_exp = services_experiment_pick(req->svc, EXP_RECOMMEND, customer, session, &pick);
    if (in_exp)
        apply_variant(req->snap, &pick.variant, &q, &mp);

    struct rec_result res = {0};
    if (!(in_exp && pick.variant.off))
        recommend(req->snap, &q, &req->arena, &res);

    struct buf b;
    struct jsonw j;
    buf_init(&b, ANSWER_MAX);
    jsonw_init(&j, &b);
    jsonw_open(&j, NULL, '{');
    jsonw_open(&j, "items", '[');
    for (int i = 0; i < res.n; i++)
        write_item(&j, req->snap, &res.items[i]);
    jsonw_close(&j, ']');
    snapshot_write_held(&j, req->snap, &res.held);
    jsonw_int(&j, "model_version", (long long)req->snap->version);
    const char **offered = arena_array(&req->arena, (size_t)res.n + 1, sizeof(char *));
    for (int i = 0; i < res.n; i++)
        offered[i] = idmap_key(&h->products, res.items[i].product);
    char rid[48];
    struct answer_rec rec = {
        .surface = "recommend",
        .model_version = req->snap->version,
        .strategy = in_exp && pick.variant.off ? "off" : rec_strategy_names[q.strategy],
        .experiment = in_exp ? pick.id : NULL,
        .variant = in_exp ? pick.variant.name : NULL,
        .customer = customer,
        .session = session,
        .items = offered,
        .nitems = res.n};
    services_record_answer(req->svc, &rec, rid);
    jsonw_str(&j, "recommendation_id", rid);
    jsonw_str(&j, "strategy", rec_strategy_names[q.strategy]);
    if (in_exp) {
        jsonw_open(&j, "experiment", '{');
        jsonw_str(&j, "id", pick.id);
        jsonw_str(&j, "variant", pick.variant.name);
        jsonw_close(&j, '}');
    }
    jsonw_str(&j, "objective", rec_objective_names[q.objective]);
    jsonw_open(&j, "unknown_items", '[');
    for (int i = 0; i < nunknown; i++)
        jsonw_str(&j, NULL, unknown[i]);
    jsonw_close(&j, ']');
    if (customer)
        jsonw_bool(&j, "customer_known", customer_known);
    jsonw_close(&j, '}');
    return respond_buf(req, &b);
}
