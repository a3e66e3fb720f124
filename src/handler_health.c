/* /healthz, /readyz, /metrics, /openapi.yaml: no key needed. */
#include "xsell/embedded.h"
#include "xsell/handlers.h"
#include "xsell/router.h"

int handle_healthz(struct request *req)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "status", "ok");
    return respond_json(req, 200, root);
}

int handle_readyz(struct request *req)
{
    bool model = req->snap != NULL;
    bool db = db_pool_ping(&req->app->pool);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "status", model && db ? "ready" : "not_ready");
    cJSON_AddBoolToObject(root, "model", model);
    cJSON_AddBoolToObject(root, "database", db);
    if (model)
        cJSON_AddNumberToObject(root, "model_version", (double)req->snap->version);
    else
        cJSON_AddNullToObject(root, "model_version");
    if (!(model && db))
        req->retry_after = 5;
    return respond_json(req, model && db ? 200 : 503, root);
}

int handle_metrics(struct request *req)
{
    struct app *app = req->app;
    struct buf out;
    buf_init(&out, METRICS_TEXT_MAX);
    metrics_render(&app->metrics, router_name, &out);
    pthread_mutex_lock(&app->trainer.mu);
    double train_s = app->trainer.last_seconds;
    long ok = app->trainer.runs_succeeded, failed = app->trainer.runs_failed;
    bool running = app->trainer.running;
    pthread_mutex_unlock(&app->trainer.mu);
    buf_appendf(&out,
                "# HELP xsell_model_version The model_runs version of the serving snapshot "
                "(0: none yet).\n# TYPE xsell_model_version gauge\nxsell_model_version %lld\n",
                req->snap ? (long long)req->snap->version : 0LL);
    buf_appendf(&out,
                "# HELP xsell_snapshot_bytes Memory held by the serving snapshot.\n"
                "# TYPE xsell_snapshot_bytes gauge\nxsell_snapshot_bytes %zu\n",
                req->snap ? req->snap->bytes : 0);
    buf_appendf(&out,
                "# HELP xsell_training_seconds Duration of the last training run.\n"
                "# TYPE xsell_training_seconds gauge\nxsell_training_seconds %.6f\n",
                train_s);
    buf_appendf(&out,
                "# HELP xsell_training_runs_total Finished training runs by outcome.\n"
                "# TYPE xsell_training_runs_total counter\n"
                "xsell_training_runs_total{status=\"succeeded\"} %ld\n"
                "xsell_training_runs_total{status=\"failed\"} %ld\n",
                ok, failed);
    buf_appendf(&out,
                "# HELP xsell_training_in_progress 1 while a training run is under way.\n"
                "# TYPE xsell_training_in_progress gauge\nxsell_training_in_progress %d\n",
                running ? 1 : 0);
    buf_appendf(&out,
                "# HELP xsell_snapshots_freed_total Snapshots released after their last "
                "reader.\n# TYPE xsell_snapshots_freed_total counter\n"
                "xsell_snapshots_freed_total %ld\n",
                snapshot_freed_count());
    buf_appendf(&out,
                "# HELP xsell_requests_in_flight Requests being served.\n"
                "# TYPE xsell_requests_in_flight gauge\nxsell_requests_in_flight %d\n",
                atomic_load(&app->in_flight));
    return respond_buf_as(req, "text/plain; version=0.0.4; charset=utf-8", &out);
}

int handle_openapi(struct request *req)
{
    const struct embedded_file *f = embedded_find("openapi.yaml");
    if (!f)
        return req_fail(req, PROBLEM_INTERNAL, "openapi.yaml is missing from this build");
    return respond_body(req, 200, "application/yaml", (const char *)f->data, f->len);
}
