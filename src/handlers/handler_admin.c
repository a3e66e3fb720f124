/* POST /admin/train and GET /admin/models. */
#include "xsell/handlers.h"

int handle_admin_train(struct request *req)
{
    int64_t version;
    const char *refit = req_param(req, "refit");
    if (refit && strcmp(refit, "full") != 0 && strcmp(refit, "auto") != 0)
        return req_fail(req, PROBLEM_BAD_PARAM, "refit must be full or auto");
    const char *force = req_param(req, "force");
    if (force && strcmp(force, "true") != 0 && strcmp(force, "false") != 0)
        return req_fail(req, PROBLEM_BAD_PARAM, "force must be true or false");
    if (services_queue_training(req->svc, refit && strcmp(refit, "full") == 0,
                                force && strcmp(force, "true") == 0, &version))
        return req_fail(req, PROBLEM_DB_DOWN, "the database is unavailable; no run was queued");
    cJSON *root = cJSON_CreateObject();
    cJSON_AddNumberToObject(root, "run", (double)version);
    cJSON_AddStringToObject(root, "status", "queued");
    if (req->snap)
        cJSON_AddNumberToObject(root, "serving_version", (double)req->snap->version);
    else
        cJSON_AddNullToObject(root, "serving_version");
    req->location = "/admin/models";
    return respond_json(req, 202, root);
}

int handle_admin_models(struct request *req)
{
    char *runs = services_runs_json(req->svc);
    if (!runs)
        return req_fail(req, PROBLEM_DB_DOWN, "the database is unavailable");
    cJSON *list = cJSON_Parse(runs);
    free(runs);
    cJSON *root = cJSON_CreateObject();
    if (req->snap) {
        cJSON_AddNumberToObject(root, "serving_version", (double)req->snap->version);
        cJSON *m = cJSON_Parse(req->snap->metrics_json);
        cJSON_AddItemToObject(root, "serving_metrics", m ? m : cJSON_CreateNull());
    } else {
        cJSON_AddNullToObject(root, "serving_version");
    }
    cJSON_AddItemToObject(root, "runs", list ? list : cJSON_CreateArray());
    return respond_json(req, 200, root);
}
