/* /healthz, /readyz, /metrics, /openapi.yaml: no key needed. */
#include "xsell/embedded.h"
#include "xsell/handlers.h"

int handle_healthz(struct request *req)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "status", "ok");
    return respond_json(req, 200, root);
}

int handle_readyz(struct request *req)
{
    bool model = req->snap != NULL;
    bool db = services_database_ready(req->svc);
    if (!model || !db) {
        req->retry_after = 5;
        return req_fail(req, model ? PROBLEM_DB_DOWN : PROBLEM_NOT_READY, "model: %s; database: %s",
                        model ? "serving" : "none yet", db ? "answers" : "does not answer");
    }
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "status", "ready");
    cJSON_AddBoolToObject(root, "model", true);
    cJSON_AddBoolToObject(root, "database", true);
    cJSON_AddNumberToObject(root, "model_version", (double)req->snap->version);
    return respond_json(req, 200, root);
}

int handle_metrics(struct request *req)
{
    struct buf out;
    buf_init(&out, METRICS_TEXT_MAX);
    services_render_metrics(req->svc, &out);
    buf_appendf(&out,
                "# HELP xsell_model_version The model_runs version of the serving snapshot "
                "(0: none yet).\n# TYPE xsell_model_version gauge\nxsell_model_version %lld\n",
                req->snap ? (long long)req->snap->version : 0LL);
    buf_appendf(&out,
                "# HELP xsell_snapshot_bytes Memory held by the serving snapshot.\n"
                "# TYPE xsell_snapshot_bytes gauge\nxsell_snapshot_bytes %zu\n",
                req->snap ? req->snap->bytes : 0);
    buf_appendf(&out,
                "# HELP xsell_snapshots_freed_total Snapshots released after their last "
                "reader.\n# TYPE xsell_snapshots_freed_total counter\n"
                "xsell_snapshots_freed_total %ld\n",
                snapshot_freed_count());
    return respond_buf_as(req, "text/plain; version=0.0.4; charset=utf-8", &out);
}

int handle_openapi(struct request *req)
{
    const struct embedded_file *f = embedded_find("openapi.yaml");
    if (!f)
        return req_fail(req, PROBLEM_INTERNAL, "openapi.yaml is missing from this build");
    return respond_body(req, 200, "application/yaml", (const char *)f->data, f->len);
}
