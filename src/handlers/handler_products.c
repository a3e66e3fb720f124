/* PUT /products/{id}: creates or replaces a catalogue entry (201 created, 200
 * otherwise). Fields left out become null; price is required. */
#include "xsell/body.h"
#include "xsell/handlers.h"

static void add_text(cJSON *obj, const char *name, struct text t)
{
    if (t.n)
        cJSON_AddStringToObject(obj, name, t.p);
    else
        cJSON_AddNullToObject(obj, name);
}

int handle_product_put(struct request *req)
{
    struct product_in p;
    char err[300];
    cJSON *root = body_json(req);
    if (!root)
        return 0;
    if (!cJSON_IsObject(root))
        return req_fail(req, PROBLEM_BAD_BODY, "the body must be a JSON object");
    p.product_id.p = req->path_arg;
    p.product_id.n = strlen(req->path_arg);
    if (body_string(req, root, "name", "", false, &p.name) ||
        body_string(req, root, "category", "", false, &p.category) ||
        body_number(req, root, "price", "", true, false, &p.price) ||
        body_number(req, root, "cost", "", false, false, &p.cost) ||
        body_bool(req, root, "in_stock", "", &p.in_stock) ||
        body_number(req, root, "stock", "", false, true, &p.stock))
        return 0;
    if (rows_check_product(&p, err, sizeof(err)))
        return req_fail(req, PROBLEM_BAD_BODY, "%s", err);

    struct ingest_result res;
    int failure = services_write_product(req->svc, &p, &res, err, sizeof(err));
    if (failure)
        return req_write_failed(req, failure, err);
    cJSON *out = cJSON_CreateObject();
    add_text(out, "product_id", p.product_id);
    add_text(out, "name", p.name);
    add_text(out, "category", p.category);
    cJSON_AddNumberToObject(out, "price", strtod(p.price.p, NULL));
    if (p.cost.n)
        cJSON_AddNumberToObject(out, "cost", strtod(p.cost.p, NULL));
    else
        cJSON_AddNullToObject(out, "cost");
    cJSON_AddBoolToObject(out, "in_stock", p.in_stock.n == 0 || p.in_stock.p[0] == 't');
    if (p.stock.n)
        cJSON_AddNumberToObject(out, "stock", strtod(p.stock.p, NULL));
    cJSON_AddBoolToObject(out, "created", res.products_created > 0);
    cJSON_AddBoolToObject(out, "changed", res.products_created + res.products_updated > 0);
    return respond_json(req, res.products_created > 0 ? 201 : 200, out);
}

/* PATCH /products/{id}: the stock alone, {"stock": N}; the catalogue entry stays. */
int handle_product_patch(struct request *req)
{
    struct product_in p = {0};
    char err[300];
    cJSON *root = body_json(req);
    if (!root)
        return 0;
    if (!cJSON_IsObject(root) || cJSON_GetArraySize(root) != 1)
        return req_fail(req, PROBLEM_BAD_BODY, "the body must be {\"stock\": N}, nothing else");
    p.product_id.p = req->path_arg;
    p.product_id.n = strlen(req->path_arg);
    p.price = (struct text){"0", 1};
    if (body_number(req, root, "stock", "", true, true, &p.stock))
        return 0;
    if (rows_check_product(&p, err, sizeof(err)))
        return req_fail(req, PROBLEM_BAD_BODY, "%s", err);
    int failure = services_set_stock(req->svc, req->path_arg, p.stock.p, err, sizeof(err));
    if (failure == SVC_NOT_FOUND)
        return req_fail(req, PROBLEM_UNKNOWN_ID, "unknown product \"%s\"", req->path_arg);
    if (failure)
        return req_write_failed(req, failure, err);
    cJSON *out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "product_id", req->path_arg);
    cJSON_AddNumberToObject(out, "stock", strtod(p.stock.p, NULL));
    return respond_json(req, 200, out);
}
