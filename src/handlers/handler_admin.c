/* POST /admin/train, GET /admin/models and GET /admin/attribution. */
#include "xsell/handlers.h"
#include "xsell/log.h"
#include "xsell/strparse.h"

#define ATTRIBUTION_DAYS_DEFAULT 30

int handle_admin_attribution(struct request *req)
{
    double from, to, now = now_seconds();
    const char *from_s = NULL, *to_s = NULL;
    if (param_window(req, now, ATTRIBUTION_DAYS_DEFAULT, &from, &to, &from_s, &to_s))
        return 0;
    char *json = services_attribution_json(req->svc, from_s, to_s);
    if (!json)
        return req_fail(req, PROBLEM_DB_DOWN, "the database is unavailable");
    return respond_take(req, 200, "application/json", json, strlen(json));
}

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
