/* GET /recommend: what goes with a cart, what a customer would buy next. Parses
 * and checks the request, maps ids to the snapshot's products, asks recommend(),
 * renders the evidence. */
#include <math.h>

#include "xsell/handlers.h"
#include "xsell/recommend.h"
#include "xsell/strparse.h"

#define PRICE_PARAM_MAX 1e9

static int parse_choice(struct request *req, const char *name, const char *const *names, int n,
                        int def, int *out)
{
    const char *v = req_param(req, name);
    *out = def;
    if (!v)
        return 0;
    for (int i = 0; i < n; i++)
        if (strcmp(v, names[i]) == 0) {
            *out = i;
            return 0;
        }
    req_fail(req, PROBLEM_BAD_PARAM, "%s must be one of %s%s%s%s%s%s%s, got \"%.60s\"", name,
             names[0], n > 1 ? "|" : "", n > 1 ? names[1] : "", n > 2 ? "|" : "",
             n > 2 ? names[2] : "", n > 3 ? "|" : "", n > 3 ? names[3] : "", v);
    return -1;
}

/* Product indices of ids (unknown ones into unknown when not NULL). */
static int32_t *map_ids(struct request *req, const char **ids, int n, int *known, cJSON *unknown)
{
    const struct history *h = &req->snap->hist;
    int32_t *out = arena_array(&req->arena, (size_t)n + 1, sizeof(int32_t));
    *known = 0;
    for (int i = 0; i < n; i++) {
        int32_t p = idmap_find(&h->products, ids[i], strlen(ids[i]));
        if (p >= 0)
            out[(*known)++] = p;
        else if (unknown)
            cJSON_AddItemToArray(unknown, cJSON_CreateString(ids[i]));
    }
    return out;
}

static void add_product(cJSON *item, const struct history *h, int32_t p)
{
    cJSON_AddStringToObject(item, "product_id", idmap_key(&h->products, p));
    if (h->name[p])
        cJSON_AddStringToObject(item, "name", h->name[p]);
    else
        cJSON_AddNullToObject(item, "name");
    if (h->category[p])
        cJSON_AddStringToObject(item, "category", h->category[p]);
    else
        cJSON_AddNullToObject(item, "category");
    cJSON_AddNumberToObject(item, "price", h->price[p]);
}

static cJSON *ids_array(const struct history *h, const int32_t *p, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++)
        if (p[i] >= 0)
            cJSON_AddItemToArray(a, cJSON_CreateString(idmap_key(&h->products, p[i])));
    return a;
}

static cJSON *reason(const struct history *h, const struct rec_item *it)
{
    cJSON *r = cJSON_CreateObject();
    char day[11];
    cJSON_AddStringToObject(r, "kind", rec_kind_name(it->kind));
    switch (it->kind) {
    case KIND_BOUGHT_TOGETHER:
        cJSON_AddItemToObject(r, "with", ids_array(h, it->because, 2));
        cJSON_AddNumberToObject(r, "count", it->count);
        cJSON_AddNumberToObject(r, "confidence", round(it->confidence * 1e4) / 1e4);
        cJSON_AddNumberToObject(r, "lift", round(it->lift * 1e3) / 1e3);
        break;
    case KIND_SIMILAR_CUSTOMERS:
    case KIND_SIMILAR_CONTENT:
        cJSON_AddItemToObject(r, "because", ids_array(h, it->because, 2));
        break;
    case KIND_BUY_AGAIN:
        strparse_format_date(it->last, day);
        cJSON_AddStringToObject(r, "last_bought", day);
        cJSON_AddNumberToObject(r, "times", it->times);
        break;
    case KIND_POPULAR:
        cJSON_AddStringToObject(r, "detail",
                                "what sells now: nothing more specific passed the rules");
        break;
    }
    return r;
}

int handle_recommend(struct request *req)
{
    static const char *const strategies[] = {"auto", "complements", "personal", "buy_again"};
    static const char *const objectives[] = {"relevance", "revenue", "margin"};
    const struct history *h = &req->snap->hist;
    const char **items, **exclude, **recent_ids;
    int nitems, nexclude, limit, strategy, objective;
    struct rec_query q = {0};
    if (param_list(req, "items", CART_MAX, &items, &nitems) ||
        param_list(req, "exclude", CART_MAX, &exclude, &nexclude) ||
        param_int(req, "limit", 1, LIMIT_MAX, 10, &limit) ||
        param_bool(req, "include_purchased", false, &q.include_purchased) ||
        param_double(req, "min_price", 0, PRICE_PARAM_MAX, 0, &q.min_price) ||
        param_double(req, "max_price", 0, PRICE_PARAM_MAX, PRICE_PARAM_MAX, &q.max_price) ||
        parse_choice(req, "strategy", strategies, 4, REC_AUTO, &strategy) ||
        parse_choice(req, "objective", objectives, 3, REC_RELEVANCE, &objective))
        return 0;
    if (q.min_price > q.max_price)
        return req_fail(req, PROBLEM_BAD_PARAM, "min_price %g is above max_price %g",
                        q.min_price, q.max_price);
    const char *customer = req_param(req, "customer");
    if (customer && (!*customer || strlen(customer) > ID_MAX))
        return req_fail(req, PROBLEM_BAD_PARAM, "customer must be an id of 1..%d bytes", ID_MAX);
    q.category = req_param(req, "category");
    if (q.category && !*q.category)
        return req_fail(req, PROBLEM_BAD_PARAM, "category must not be empty");
    if (strategy == REC_BUY_AGAIN && !customer)
        return req_fail(req, PROBLEM_BAD_PARAM, "strategy=buy_again needs customer=");

    cJSON *unknown = cJSON_CreateArray();
    q.cart = map_ids(req, items, nitems, &q.ncart, unknown);
    q.exclude = map_ids(req, exclude, nexclude, &q.nexclude, NULL);
    q.customer = customer ? idmap_find(&h->customers, customer, strlen(customer)) : -1;
    size_t nrecent = customer ? recent_for(&req->app->recent, customer, req->snap->loaded_at,
                                           &req->arena, &recent_ids)
                              : 0;
    q.recent = map_ids(req, recent_ids, (int)nrecent, &q.nrecent, NULL);
    bool customer_known = q.customer >= 0 || nrecent > 0;
    if ((nitems > 0 || customer) && q.ncart == 0 && !customer_known) {
        cJSON_Delete(unknown);
        if (customer && nitems == 0)
            return req_fail(req, PROBLEM_UNKNOWN_ID, "unknown customer \"%s\"", customer);
        return req_fail(req, PROBLEM_UNKNOWN_ID, "none of the items%s is known",
                        customer ? " nor the customer" : "");
    }
    q.strategy = (enum rec_strategy)strategy;
    q.objective = (enum rec_objective)objective;
    q.limit = limit;

    struct rec_result res;
    recommend(req->snap, &q, &req->arena, &res);

    cJSON *root = cJSON_CreateObject();
    cJSON *list = cJSON_AddArrayToObject(root, "items");
    for (int i = 0; i < res.n; i++) {
        const struct rec_item *it = &res.items[i];
        cJSON *item = cJSON_CreateObject();
        add_product(item, h, it->product);
        cJSON_AddNumberToObject(item, "score", round(it->score * 1e6) / 1e6);
        cJSON_AddItemToObject(item, "reason", reason(h, it));
        cJSON_AddItemToArray(list, item);
    }
    cJSON_AddNumberToObject(root, "model_version", (double)req->snap->version);
    char *rid = arena_printf(&req->arena, "%lld-%s", (long long)req->snap->version, req->id);
    cJSON_AddStringToObject(root, "recommendation_id", rid);
    cJSON_AddStringToObject(root, "strategy", strategies[strategy]);
    cJSON_AddStringToObject(root, "objective", objectives[objective]);
    cJSON_AddItemToObject(root, "unknown_items", unknown);
    if (customer)
        cJSON_AddBoolToObject(root, "customer_known", customer_known);
    return respond_json(req, 200, root);
}
