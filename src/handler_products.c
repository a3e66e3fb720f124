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
        body_bool(req, root, "in_stock", "", &p.in_stock))
        return 0;
    if (ingest_check_product(&p, err, sizeof(err)))
        return req_fail(req, PROBLEM_BAD_BODY, "%s", err);

    struct ingest g;
    struct ingest_result res;
    PGconn *conn = db_pool_take(&req->app->pool);
    if (!conn)
        return req_fail(req, PROBLEM_DB_DOWN, "the database is unavailable; nothing was written");
    if (ingest_begin(&g, conn, INGEST_PRODUCTS, false, err, sizeof(err)) ||
        ingest_product(&g, &p, err, sizeof(err)) || ingest_commit(&g, &res, err, sizeof(err))) {
        if (g.conn)
            ingest_abort(&g);
        body_write_failed(req, conn, err);
        db_pool_give(&req->app->pool, conn);
        return 0;
    }
    db_pool_give(&req->app->pool, conn);
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
    cJSON_AddBoolToObject(out, "created", res.products_created > 0);
    cJSON_AddBoolToObject(out, "changed", res.products_created + res.products_updated > 0);
    return respond_json(req, res.products_created > 0 ? 201 : 200, out);
}
