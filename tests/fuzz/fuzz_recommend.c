/* GET /recommend, /churn, /price, /upsell and /forecast with any query parameters
 * against a small snapshot fitted through the model registry: always one answer,
 * 200/400/404 (409 for a cursor of another version), valid JSON, never more items
 * than the limit (or horizon) allows. The input is "name=value" pairs separated by
 * '&'. */
#include "xsell/app.h"
#include "xsell/handlers.h"

#include "fuzz/fuzz.h"

static struct snapshot *demo_snapshot(void)
{
    struct snapshot *s = snapshot_new();
    struct history *h = &s->hist;
    static const char *cats[] = {"tea", "coffee", "garden"};
    char id[16], order[16], cust[16];
    for (int p = 0; p < 30; p++) {
        snprintf(id, sizeof(id), "P%d", p);
        history_add_product(h, id, id, cats[p % 3], 1.0 + p, 0.5 + p / 2.0, p % 7 != 0);
    }
    for (int o = 0; o < 200; o++) {
        snprintf(order, sizeof(order), "O%d", o);
        snprintf(cust, sizeof(cust), "C%d", o % 17);
        for (int k = 0; k < 1 + o % 3; k++) {
            snprintf(id, sizeof(id), "P%d", (o * 7 + k * 3) % 30);
            history_add_line(h, order, o % 5 ? cust : "", 86400.0 * o, id, 1, 2.0);
        }
    }
    history_finish(h);
    /* every model through the registry, as training fits them */
    struct model_params mp;
    struct model_figures figs;
    char err[300];
    model_params_defaults(&mp);
    mp.as_of = 86400.0 * 200;
    mp.assoc_min_count = 2;
    mp.churn_horizon_days = 30;
    mp.forecast_threads = 1; /* GET /forecast reads the sales forecasts */
    if (models_fit(s, &mp, false, &figs, err, sizeof(err)))
        abort();
    snapshot_render(s);
    s->version = 1;
    return s;
}

/* Runs one handler on the parameters in text (a copy is split in place). */
static void one_route(struct snapshot *snap, struct services *svc, const char *path,
                      const char *text, int (*handler)(struct request *), const char *list,
                      const char *limit_param, int default_limit)
{
    struct request req = {0};
    arena_init(&req.arena);
    req.svc = svc;
    req.snap = snap;
    req.path = path;
    snprintf(req.id, sizeof(req.id), "fuzz");
    char *p = arena_strdup(&req.arena, text);
    while (p && req.nparams < PARAMS_MAX) {
        char *amp = strchr(p, '&');
        if (amp)
            *amp = '\0';
        char *eq = strchr(p, '=');
        if (eq)
            *eq = '\0';
        req.params[req.nparams].name = p;
        req.params[req.nparams].value = eq ? eq + 1 : "";
        req.nparams++;
        p = amp ? amp + 1 : NULL;
    }
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
    free(req.resp_body);
    arena_release(&req.arena);
}

FUZZ_TARGET(recommend)
{
    static struct snapshot *snap;
    static struct app app;
    if (!snap) {
        snap = demo_snapshot();
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
