#include "xsell/router.h"

#include "xsell/handlers.h"
#include "xsell/metrics.h"

/* method, path, least role, needs a model, has a body, rate-limited, lane, handler */
const struct route routes[] = {
    {"GET", "/healthz", ROLE_NONE, false, false, false, LANE_HTTP, handle_healthz},
    {"GET", "/readyz", ROLE_NONE, false, false, false, LANE_HTTP, handle_readyz},
    {"GET", "/metrics", ROLE_NONE, false, false, false, LANE_HTTP, handle_metrics},
    {"GET", "/openapi.yaml", ROLE_NONE, false, false, false, LANE_HTTP, handle_openapi},
    {"GET", "/recommend", ROLE_PUBLIC, true, false, true, LANE_HTTP, handle_recommend},
    {"GET", "/upsell", ROLE_PUBLIC, true, false, true, LANE_HTTP, handle_upsell},
    {"GET", "/price", ROLE_INTERNAL, true, false, true, LANE_HTTP, handle_price},
    {"GET", "/churn", ROLE_INTERNAL, true, false, true, LANE_HTTP, handle_churn},
    {"GET", "/forecast", ROLE_INTERNAL, true, false, true, LANE_HTTP, handle_forecast_get},
    {"POST", "/forecast", ROLE_INTERNAL, false, true, true, LANE_HEAVY, handle_forecast_post},
    {"GET", "/churn/summary", ROLE_INTERNAL, true, false, true, LANE_HTTP, handle_churn_summary},
    {"GET", "/channels", ROLE_INTERNAL, true, false, true, LANE_DB, handle_channels},
    {"GET", "/retention", ROLE_INTERNAL, true, false, true, LANE_HTTP, handle_retention},
    {"POST", "/events", ROLE_PUBLIC, false, true, true, LANE_DB, handle_events_post},
    {"POST", "/orders", ROLE_ADMIN, false, true, true, LANE_DB, handle_orders_post},
    {"PUT", "/products/{id}", ROLE_ADMIN, false, true, true, LANE_DB, handle_product_put},
    {"PATCH", "/products/{id}", ROLE_ADMIN, false, true, true, LANE_DB, handle_product_patch},
    {"DELETE", "/products/{id}", ROLE_ADMIN, false, false, true, LANE_DB, handle_product_delete},
    {"DELETE", "/orders/{id}", ROLE_ADMIN, false, false, true, LANE_DB, handle_order_delete},
    {"DELETE", "/customers/{id}", ROLE_ADMIN, false, false, true, LANE_DB, handle_customer_delete},
    {"POST", "/admin/train", ROLE_ADMIN, false, false, true, LANE_DB, handle_admin_train},
    {"GET", "/admin/models", ROLE_ADMIN, false, false, true, LANE_DB, handle_admin_models},
    {"PUT", "/experiments/{id}", ROLE_ADMIN, false, true, true, LANE_DB, handle_experiment_put},
    {"GET", "/experiments", ROLE_INTERNAL, false, false, true, LANE_DB, handle_experiments_list},
    {"GET", "/experiments/{id}/report", ROLE_INTERNAL, false, false, true, LANE_DB,
     handle_experiment_report},
    {"GET", "/admin/attribution", ROLE_INTERNAL, false, false, true, LANE_DB,
     handle_admin_attribution},
    /* the pages (src/ui/) */
    {"GET", "/ui", ROLE_NONE, false, false, false, LANE_HTTP, handle_ui_redirect},
    {"GET", "/ui/", ROLE_NONE, false, false, false, LANE_HTTP, handle_ui_index},
    {"GET", "/ui/{id}", ROLE_NONE, false, false, false, LANE_HTTP, handle_ui_file},
    {"GET", "/docs", ROLE_NONE, false, false, false, LANE_HTTP, handle_docs},
};
const int routes_count = (int)ARRAY_SIZE(routes);

_Static_assert(ARRAY_SIZE(routes) < METRICS_ROUTES, "metrics need a slot per route");

static bool path_matches(const char *pattern, const char *path, const char **arg)
{
    const char *brace = strstr(pattern, "{id}");
    if (!brace) {
        *arg = NULL;
        return strcmp(pattern, path) == 0;
    }
    size_t prefix = (size_t)(brace - pattern);
    if (strncmp(pattern, path, prefix) != 0)
        return false;
    /* one non-empty segment, then exactly what follows {id} in the pattern */
    const char *rest = path + prefix;
    size_t seg = strcspn(rest, "/");
    if (seg == 0 || strcmp(rest + seg, brace + 4) != 0)
        return false;
    *arg = rest;
    return true;
}

const struct route *router_match(const char *method, const char *path, const char **arg,
                                 bool *path_known, char *allow, size_t allowlen)
{
    size_t used = 0;
    *path_known = false;
    allow[0] = '\0';
    /* HEAD is GET without a body; libmicrohttpd drops the body. */
    const char *m = strcmp(method, "HEAD") == 0 ? "GET" : method;
    for (int i = 0; i < routes_count; i++) {
        const char *a;
        if (!path_matches(routes[i].path, path, &a))
            continue;
        if (strcmp(routes[i].method, m) == 0) {
            *arg = a;
            return &routes[i];
        }
        *path_known = true;
        int n = snprintf(allow + used, allowlen - used, "%s%s", used ? ", " : "", routes[i].method);
        if (n > 0 && (size_t)n < allowlen - used)
            used += (size_t)n;
        if (strcmp(routes[i].method, "GET") == 0) {
            n = snprintf(allow + used, allowlen - used, ", HEAD");
            if (n > 0 && (size_t)n < allowlen - used)
                used += (size_t)n;
        }
    }
    if (*path_known) {
        snprintf(allow + used, allowlen - used, ", OPTIONS"); /* cut off if it must be */
    }
    return NULL;
}

bool router_labels(int i, char *out, size_t n)
{
    if (i < 0 || i >= routes_count)
        return false;
    snprintf(out, n, "route=\"%s\",method=\"%s\"", routes[i].path, routes[i].method);
    return true;
}
