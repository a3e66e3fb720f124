/* GET /recommend, /churn, /price, /upsell and /forecast with any query parameters
 * against a small snapshot fitted through the model registry: always one answer,
 * 200/400/404 (409 for a cursor of another version), valid JSON, never more items
 * than the limit (or horizon) allows. The input is "name=value" pairs separated by
 * '&'. */
#include "xsell/app.h"
#include "xsell/handlers.h"

#include "contract/fixture.h"
#include "fuzz/fuzz.h"

/* Runs one handler on the parameters in text (a copy is split in place). */
static void one_route(struct snapshot *snap, struct services *svc, const char *path,
                      const char *text, int (*handler)(struct request *), const char *list,
                      const char *limit_param, int default_limit)
{
    struct request req;
    size_t n = strlen(path) + strlen(text) + 2;
    char *target = malloc(n);
    snprintf(target, n, "%s?%s", path, text);
    fixture_request(&req, svc, snap, "GET", target, NULL);
    free(target);
    handler(&req);
    if (req.status != 200 && req.status != 400 && req.status != 404 && req.status != 409)
        abort();
    cJSON *j = cJSON_ParseWithLength(req.resp_body, req.resp_len);
    if (!j)
        abort();
    if (req.status == 200) {
        const char *l = req_param(&req, limit_param);
        int limit = l ? (int)strtol(l, NULL, 10) : default_limit;
        if (cJSON_GetArraySize(cJSON_GetObjectItem(j, list)) > limit)
            abort();
    }
    cJSON_Delete(j);
    fixture_request_release(&req);
}

FUZZ_TARGET(recommend)
{
    static struct snapshot *snap;
    static struct app app;
    if (!snap) {
        snap = fixture_snapshot();
        recent_init(&app.recent);
        recent_add(&app.recent, "C3", "P4", 1e12); /* a purchase after the snapshot */
        app_wire_services(&app);
    }
    char *text = strndup((const char *)data, size);
    if (text && strlen(text) == size) { /* MHD hands over NUL-free strings */
        one_route(snap, &app.svc, "/recommend", text, handle_recommend, "items", "limit", 10);
        one_route(snap, &app.svc, "/churn", text, handle_churn, "customers", "limit", 50);
        one_route(snap, &app.svc, "/price", text, handle_price, "products", "limit", 20);
        one_route(snap, &app.svc, "/upsell", text, handle_upsell, "items", "limit", 5);
        one_route(snap, &app.svc, "/forecast", text, handle_forecast_get, "points", "horizon", 28);
    }
    free(text);
    return 0;
}
