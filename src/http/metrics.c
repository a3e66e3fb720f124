#include "xsell/metrics.h"

static const int statuses[METRICS_STATUSES - 1] = {200, 201, 202, 204, 400, 401, 403, 404,
                                                   405, 413, 414, 415, 429, 500, 503};
static const double bounds[METRICS_BUCKETS] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                               0.01,   0.025,   0.05,   0.1,   0.5,    2.5};

void metrics_init(struct metrics *m)
{
    memset(m, 0, sizeof(*m));
}

static int status_slot(int status)
{
    for (int i = 0; i < METRICS_STATUSES - 1; i++)
        if (statuses[i] == status)
            return i;
    return METRICS_STATUSES - 1;
}

void metrics_observe(struct metrics *m, int route, int status, double seconds)
{
    int r = route < 0 || route >= METRICS_ROUTES - 1 ? METRICS_ROUTES - 1 : route;
    atomic_fetch_add_explicit(&m->requests[r][status_slot(status)], 1, memory_order_relaxed);
    int b = 0;
    while (b < METRICS_BUCKETS && seconds > bounds[b])
        b++;
    atomic_fetch_add_explicit(&m->latency[r][b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->latency_us_sum[r], (unsigned long)(seconds * 1e6),
                              memory_order_relaxed);
}

/* Slot r's labels into out; false for an unused slot. */
static bool slot_labels(int r, bool (*route_labels)(int i, char *out, size_t n), char *out,
                        size_t n)
{
    if (r == METRICS_ROUTES - 1) {
        snprintf(out, n, "route=\"unmatched\"");
        return true;
    }
    return route_labels(r, out, n);
}

void metrics_render(const struct metrics *m, bool (*route_labels)(int i, char *out, size_t n),
                    struct buf *out)
{
    char name[METRICS_LABELS_MAX];
    buf_appendf(out, "# HELP xsell_requests_total HTTP requests by route and status.\n"
                     "# TYPE xsell_requests_total counter\n");
    for (int r = 0; r < METRICS_ROUTES; r++) {
        if (!slot_labels(r, route_labels, name, sizeof(name)))
            continue;
        for (int s = 0; s < METRICS_STATUSES; s++) {
            unsigned long v = atomic_load_explicit(&m->requests[r][s], memory_order_relaxed);
            if (!v)
                continue;
            if (s == METRICS_STATUSES - 1)
                buf_appendf(out, "xsell_requests_total{%s,status=\"other\"} %lu\n", name, v);
            else
                buf_appendf(out, "xsell_requests_total{%s,status=\"%d\"} %lu\n", name, statuses[s],
                            v);
        }
    }
    buf_appendf(out, "# HELP xsell_request_duration_seconds Time from request to response.\n"
                     "# TYPE xsell_request_duration_seconds histogram\n");
    for (int r = 0; r < METRICS_ROUTES; r++) {
        if (!slot_labels(r, route_labels, name, sizeof(name)))
            continue;
        unsigned long cum = 0;
        for (int b = 0; b <= METRICS_BUCKETS; b++) {
            cum += atomic_load_explicit(&m->latency[r][b], memory_order_relaxed);
            if (b < METRICS_BUCKETS)
                buf_appendf(out, "xsell_request_duration_seconds_bucket{%s,le=\"%g\"} %lu\n", name,
                            bounds[b], cum);
            else
                buf_appendf(out, "xsell_request_duration_seconds_bucket{%s,le=\"+Inf\"} %lu\n",
                            name, cum);
        }
        buf_appendf(out, "xsell_request_duration_seconds_sum{%s} %.6f\n", name,
                    atomic_load_explicit(&m->latency_us_sum[r], memory_order_relaxed) / 1e6);
        buf_appendf(out, "xsell_request_duration_seconds_count{%s} %lu\n", name, cum);
    }
    static const struct {
        const char *name, *help;
        size_t offset;
    } counters[] = {
        {"xsell_connections_refused_total",
         "Connections refused: their address had XSELL_CONN_PER_CLIENT open.",
         offsetof(struct metrics, connections_refused)},
        {"xsell_requests_cut_total",
         "Connections closed for passing XSELL_REQUEST_DEADLINE_S in a request's head or body.",
         offsetof(struct metrics, requests_cut)},
        {"xsell_heavy_refused_total", "Costly requests answered 503: their queue was full.",
         offsetof(struct metrics, heavy_refused)},
        {"xsell_db_refused_total",
         "Requests that wait on the database answered 503: their queue (XSELL_DB_QUEUE) was full.",
         offsetof(struct metrics, db_refused)},
    };
    for (size_t i = 0; i < ARRAY_SIZE(counters); i++) {
        const atomic_ulong *v =
            (const atomic_ulong *)(const void *)((const char *)m + counters[i].offset);
        buf_appendf(out, "# HELP %s %s\n# TYPE %s counter\n%s %lu\n", counters[i].name,
                    counters[i].help, counters[i].name, counters[i].name,
                    atomic_load_explicit(v, memory_order_relaxed));
    }
}
