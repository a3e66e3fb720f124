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

void metrics_render(const struct metrics *m, const char *(*route_name)(int i), struct buf *out)
{
    buf_appendf(out, "# HELP xsell_requests_total HTTP requests by route and status.\n"
                     "# TYPE xsell_requests_total counter\n");
    for (int r = 0; r < METRICS_ROUTES; r++) {
        const char *name = r == METRICS_ROUTES - 1 ? "unmatched" : route_name(r);
        if (!name)
            continue;
        for (int s = 0; s < METRICS_STATUSES; s++) {
            unsigned long v = atomic_load_explicit(&m->requests[r][s], memory_order_relaxed);
            if (!v)
                continue;
            if (s == METRICS_STATUSES - 1)
                buf_appendf(out, "xsell_requests_total{route=\"%s\",status=\"other\"} %lu\n", name,
                            v);
            else
                buf_appendf(out, "xsell_requests_total{route=\"%s\",status=\"%d\"} %lu\n", name,
                            statuses[s], v);
        }
    }
    buf_appendf(out, "# HELP xsell_request_duration_seconds Time from request to response.\n"
                     "# TYPE xsell_request_duration_seconds histogram\n");
    for (int r = 0; r < METRICS_ROUTES; r++) {
        const char *name = r == METRICS_ROUTES - 1 ? "unmatched" : route_name(r);
        if (!name)
            continue;
        unsigned long cum = 0;
        for (int b = 0; b <= METRICS_BUCKETS; b++) {
            cum += atomic_load_explicit(&m->latency[r][b], memory_order_relaxed);
            if (b < METRICS_BUCKETS)
                buf_appendf(out,
                            "xsell_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %lu\n",
                            name, bounds[b], cum);
            else
                buf_appendf(out,
                            "xsell_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %lu\n",
                            name, cum);
        }
        buf_appendf(out, "xsell_request_duration_seconds_sum{route=\"%s\"} %.6f\n", name,
                    atomic_load_explicit(&m->latency_us_sum[r], memory_order_relaxed) / 1e6);
        buf_appendf(out, "xsell_request_duration_seconds_count{route=\"%s\"} %lu\n", name, cum);
    }
}
