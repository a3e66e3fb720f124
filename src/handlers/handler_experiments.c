/* PUT /experiments/{id}, GET /experiments and GET /experiments/{id}/report. */
#include "xsell/body.h"
#include "xsell/experiment_json.h"
#include "xsell/handlers.h"
#include "xsell/log.h"
#include "xsell/strparse.h"

static int check_id(struct request *req)
{
    const char *id = req->path_arg;
    if (!id || !strparse_id_valid(id, strlen(id)))
        return req_fail(req, PROBLEM_BAD_PARAM,
                        "the experiment id must be 1..%d bytes of UTF-8 without control "
                        "characters",
                        ID_MAX);
    return 0;
}

int handle_experiment_put(struct request *req)
{
    struct experiment e;
    char err[400];
    bool created = false;
    if (check_id(req))
        return 0;
    cJSON *root = body_json(req);
    if (!root)
        return 0;
    if (experiment_parse(root, req->path_arg, now_seconds(), &e, err, sizeof(err)))
        return req_fail(req, PROBLEM_BAD_BODY, "%s", err);
    int failure = services_put_experiment(req->svc, &e, &created, err, sizeof(err));
    if (failure == SVC_CONFLICT)
        return req_fail(req, PROBLEM_CONFLICT, "%s", err);
    if (failure)
        return req_write_failed(req, failure, err);
    return respond_json(req, created ? 201 : 200, experiment_to_json(&e));
}

int handle_experiments_list(struct request *req)
{
    char *json = services_experiments_json(req->svc);
    if (!json)
        return req_fail(req, PROBLEM_DB_DOWN, "the database is unavailable");
    cJSON *list = cJSON_Parse(json);
    free(json);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "experiments", list ? list : cJSON_CreateArray());
    return respond_json(req, 200, root);
}

int handle_experiment_report(struct request *req)
{
    cJSON *report;
    char err[400];
    if (check_id(req))
        return 0;
    int failure = services_experiment_report(req->svc, req->path_arg, &report, err, sizeof(err));
    if (failure == SVC_NOT_FOUND)
        return req_fail(req, PROBLEM_UNKNOWN_ID, "unknown experiment \"%s\"", req->path_arg);
    if (failure == SVC_DB_DOWN)
        return req_fail(req, PROBLEM_DB_DOWN, "the database is unavailable");
    if (failure) {
        log_error("request %s: report failed: %s", req->id, err);
        return req_fail(req, PROBLEM_INTERNAL, "the report failed");
    }
    return respond_json(req, 200, report);
}
