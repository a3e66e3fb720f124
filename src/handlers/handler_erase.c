/* DELETE /orders/{id}, /products/{id}, /customers/{id}: removes what should never have
 * been stored (erase.h says what goes with each). 200 with what was removed; 404 when
 * there was nothing by that id. The next training reads the history without it. */
#include "xsell/body.h"
#include "xsell/handlers.h"
#include "xsell/strparse.h"

static int erase(struct request *req, enum erase_kind kind, const char *what)
{
    struct erase_result res;
    char err[300];
    const char *id = req->path_arg;
    if (!strparse_id_valid(id, strlen(id)))
        return req_fail(req, PROBLEM_BAD_PARAM,
                        "the %s id must be 1..%d bytes of UTF-8 without control characters", what,
                        ID_MAX);
    int failure = services_erase(req->svc, kind, id, &res, err, sizeof(err));
    if (failure)
        return req_write_failed(req, failure, err);
    if (!res.found)
        return req_fail(req, PROBLEM_UNKNOWN_ID, "no %s \"%s\"", what, id);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "deleted", what);
    cJSON_AddStringToObject(root, "id", id);
    cJSON_AddNumberToObject(root, "orders", (double)res.orders);
    cJSON_AddNumberToObject(root, "lines", (double)res.lines);
    cJSON_AddStringToObject(root, "takes_effect", "at the next training");
    return respond_json(req, 200, root);
}

int handle_order_delete(struct request *req)
{
    return erase(req, ERASE_ORDER, "order");
}

int handle_product_delete(struct request *req)
{
    return erase(req, ERASE_PRODUCT, "product");
}

int handle_customer_delete(struct request *req)
{
    return erase(req, ERASE_CUSTOMER, "customer");
}
