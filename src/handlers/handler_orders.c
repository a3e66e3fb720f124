/* POST /orders: one order object or an array of them, lines nested. Validated whole
 * before any write, written in one transaction, 201 only after commit. An order_id
 * that exists already is left as it is (200 when nothing was new). */
#include "xsell/body.h"
#include "xsell/handlers.h"

static int read_order(struct request *req, const cJSON *o, const char *where, struct order_in *out)
{
    char at[96];
    if (!cJSON_IsObject(o))
        return req_fail(req, PROBLEM_BAD_BODY, "%san order must be a JSON object", where);
    if (body_string(req, o, "order_id", where, true, &out->order_id) ||
        body_string(req, o, "customer_id", where, false, &out->customer_id) ||
        body_string(req, o, "ordered_at", where, true, &out->ordered_at) ||
        body_id(req, o, "session_id", where, false, &out->session_id) ||
        body_string(req, o, "channel", where, false, &out->channel) ||
        body_string(req, o, "acquisition_channel", where, false, &out->acquisition_channel))
        return -1;
    const cJSON *lines = cJSON_GetObjectItemCaseSensitive(o, "lines");
    int n = cJSON_IsArray(lines) ? cJSON_GetArraySize(lines) : -1;
    if (n < 1 || n > LINES_PER_ORDER_MAX)
        return req_fail(req, PROBLEM_BAD_BODY, "%slines must be an array of 1..%d lines", where,
                        LINES_PER_ORDER_MAX);
    out->lines = arena_array(&req->arena, (size_t)n, sizeof(struct order_line_in));
    out->nlines = n;
    for (int j = 0; j < n; j++) {
        const cJSON *l = cJSON_GetArrayItem(lines, j);
        struct order_line_in *li = &out->lines[j];
        char msg[300];
        snprintf(at, sizeof(at), "%slines[%d].", where, j);
        if (!cJSON_IsObject(l))
            return req_fail(req, PROBLEM_BAD_BODY, "%s: a line must be a JSON object", at);
        li->order_id = out->order_id;
        li->customer_id = out->customer_id;
        li->ordered_at = out->ordered_at;
        li->session_id = out->session_id;
        li->channel = out->channel;
        li->acquisition_channel = out->acquisition_channel;
        if (body_string(req, l, "product_id", at, true, &li->product_id) ||
            body_number(req, l, "quantity", at, true, true, &li->quantity) ||
            body_number(req, l, "unit_price", at, true, false, &li->unit_price) ||
            body_id(req, l, "recommendation_id", at, false, &li->recommendation_id))
            return -1;
        if (rows_check_order_line(li, msg, sizeof(msg)))
            return req_fail(req, PROBLEM_BAD_BODY, "%s%s", where, msg);
    }
    return 0;
}

static int write_orders(struct request *req, struct order_in *orders, int n)
{
    struct ingest_result res;
    char err[400];
    int failure = services_write_orders(req->svc, orders, n, &res, err, sizeof(err));
    if (failure)
        return req_write_failed(req, failure, err);
    cJSON *root = cJSON_CreateObject();
    cJSON *created = cJSON_AddArrayToObject(root, "created");
    for (long i = 0; i < res.orders_created; i++)
        cJSON_AddItemToArray(created, cJSON_CreateString(res.created_ids[i]));
    ingest_result_release(&res);
    cJSON_AddNumberToObject(root, "orders_created", (double)res.orders_created);
    cJSON_AddNumberToObject(root, "orders_existing", (double)res.orders_existing);
    cJSON_AddNumberToObject(root, "lines_created", (double)res.lines_created);
    cJSON_AddNumberToObject(root, "products_created", (double)res.products_created);
    cJSON_AddNumberToObject(root, "customers_created", (double)res.customers_created);
    return respond_json(req, res.orders_created > 0 ? 201 : 200, root);
}

int handle_orders_post(struct request *req)
{
    cJSON *root = body_json(req);
    if (!root)
        return 0;
    bool many = cJSON_IsArray(root);
    int n = many ? cJSON_GetArraySize(root) : 1;
    if (many && (n < 1 || n > ORDERS_PER_POST_MAX))
        return req_fail(req, PROBLEM_BAD_BODY, "send 1..%d orders in one request",
                        ORDERS_PER_POST_MAX);
    struct order_in *orders = arena_array(&req->arena, (size_t)n, sizeof(struct order_in));
    struct idmap seen;
    idmap_init(&seen);
    for (int i = 0; i < n; i++) {
        char where[32] = "";
        bool added;
        if (many)
            snprintf(where, sizeof(where), "[%d].", i);
        if (read_order(req, many ? cJSON_GetArrayItem(root, i) : root, where, &orders[i])) {
            idmap_release(&seen);
            return 0; /* read_order answered */
        }
        idmap_put(&seen, orders[i].order_id.p, orders[i].order_id.n, &added);
        if (!added) {
            idmap_release(&seen);
            return req_fail(req, PROBLEM_BAD_BODY, "%sorder_id \"%s\" appears twice in the body",
                            where, orders[i].order_id.p);
        }
    }
    idmap_release(&seen);
    return write_orders(req, orders, n);
}
