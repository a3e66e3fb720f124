/* GET /recommend: items for a cart and/or a customer. Until the basket and
 * item-to-item models land, every answer comes from what sells now (popularity),
 * under the request's business rules. */
#include <math.h>

#include "xsell/handlers.h"

#define PRICE_PARAM_MAX 1e9

struct rec_query {
    const struct snapshot *snap;
    bool *excluded; /* per product */
    const char *category;
    double min_price, max_price;
};

static bool keep(int32_t p, void *ctx)
{
    const struct rec_query *q = ctx;
    const struct history *h = &q->snap->hist;
    if (q->excluded[p] || !h->in_stock[p])
        return false;
    if (q->category && (!h->category[p] || strcmp(h->category[p], q->category) != 0))
        return false;
    return h->price[p] >= q->min_price && h->price[p] <= q->max_price;
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

/* Marks ids as excluded; the unknown ones go to unknown (if not NULL). */
static int mark(const struct history *h, const char **ids, int n, bool *excluded, cJSON *unknown)
{
    int known = 0;
    for (int i = 0; i < n; i++) {
        int32_t p = idmap_find(&h->products, ids[i], strlen(ids[i]));
        if (p >= 0) {
            excluded[p] = true;
            known++;
        } else if (unknown) {
            cJSON_AddItemToArray(unknown, cJSON_CreateString(ids[i]));
        }
    }
    return known;
}

int handle_recommend(struct request *req)
{
    const struct history *h = &req->snap->hist;
    const char **items, **exclude;
    int nitems, nexclude, limit;
    bool include_purchased;
    struct rec_query q = {.snap = req->snap};
    if (param_list(req, "items", CART_MAX, &items, &nitems) ||
        param_list(req, "exclude", CART_MAX, &exclude, &nexclude) ||
        param_int(req, "limit", 1, LIMIT_MAX, 10, &limit) ||
        param_bool(req, "include_purchased", false, &include_purchased) ||
        param_double(req, "min_price", 0, PRICE_PARAM_MAX, 0, &q.min_price) ||
        param_double(req, "max_price", 0, PRICE_PARAM_MAX, PRICE_PARAM_MAX, &q.max_price))
        return 0;
    if (q.min_price > q.max_price)
        return req_fail(req, PROBLEM_BAD_PARAM, "min_price %g is above max_price %g", q.min_price,
                        q.max_price);
    const char *customer = req_param(req, "customer");
    if (customer && (!*customer || strlen(customer) > ID_MAX))
        return req_fail(req, PROBLEM_BAD_PARAM, "customer must be an id of 1..%d bytes", ID_MAX);
    q.category = req_param(req, "category");
    if (q.category && !*q.category)
        return req_fail(req, PROBLEM_BAD_PARAM, "category must not be empty");

    q.excluded = arena_array(&req->arena, history_nproducts(h) + 1, sizeof(bool));
    cJSON *unknown = cJSON_CreateArray();
    int known_items = mark(h, items, nitems, q.excluded, unknown);
    mark(h, exclude, nexclude, q.excluded, NULL);
    int32_t c = customer ? idmap_find(&h->customers, customer, strlen(customer)) : -1;
    if ((nitems > 0 || customer) && known_items == 0 && c < 0) {
        cJSON_Delete(unknown);
        if (customer && nitems == 0)
            return req_fail(req, PROBLEM_UNKNOWN_ID, "unknown customer \"%s\"", customer);
        return req_fail(req, PROBLEM_UNKNOWN_ID, "none of the items%s is known",
                        customer ? " nor the customer" : "");
    }
    if (c >= 0 && !include_purchased)
        for (int32_t k = h->cust_first[c]; k < h->cust_first[c + 1]; k++)
            q.excluded[h->cust_items[k]] = true;

    int32_t *top = arena_array(&req->arena, (size_t)limit, sizeof(int32_t));
    size_t n = model_popular_top(&req->snap->popular, keep, &q, (size_t)limit, top);
    double best = n ? req->snap->popular.score[top[0]] : 1.0;

    cJSON *root = cJSON_CreateObject();
    cJSON *list = cJSON_AddArrayToObject(root, "items");
    for (size_t i = 0; i < n; i++) {
        cJSON *item = cJSON_CreateObject();
        add_product(item, h, top[i]);
        double s = req->snap->popular.score[top[i]];
        cJSON_AddNumberToObject(item, "score", best > 0 ? s / best : 0);
        cJSON *reason = cJSON_AddObjectToObject(item, "reason");
        cJSON_AddStringToObject(reason, "kind", "popular");
        cJSON_AddStringToObject(reason, "detail", "a best seller now (recency-weighted orders)");
        cJSON_AddNumberToObject(reason, "recent_orders", round(s * 100) / 100);
        cJSON_AddItemToArray(list, item);
    }
    cJSON_AddNumberToObject(root, "model_version", (double)req->snap->version);
    cJSON_AddStringToObject(root, "strategy", "popular");
    cJSON_AddItemToObject(root, "unknown_items", unknown);
    if (customer)
        cJSON_AddBoolToObject(root, "customer_known", c >= 0);
    return respond_json(req, 200, root);
}
