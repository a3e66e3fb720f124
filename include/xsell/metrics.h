/* metrics.h - request counters and latency histograms per route, rendered as
 * Prometheus text. Lock-free: relaxed atomic counters. */
#ifndef XSELL_METRICS_H
#define XSELL_METRICS_H

#include <stdatomic.h>

#include "xsell/buf.h"
#include "xsell/common.h"

#define METRICS_ROUTES     34 /* route slots; the last one counts requests matching no route */
#define METRICS_STATUSES   16
#define METRICS_BUCKETS    12
#define METRICS_LABELS_MAX 160 /* one route's labels */

struct metrics {
    atomic_ulong requests[METRICS_ROUTES][METRICS_STATUSES];
    atomic_ulong latency[METRICS_ROUTES][METRICS_BUCKETS + 1]; /* last: +Inf */
    atomic_ulong latency_us_sum[METRICS_ROUTES];
    atomic_ulong connections_refused; /* past XSELL_CONN_PER_CLIENT */
    atomic_ulong requests_cut;        /* past XSELL_REQUEST_DEADLINE_S */
    atomic_ulong heavy_refused;       /* 503: the heavy pool was full */
    atomic_ulong db_refused;          /* 503: the database lane's queue was full */
};

void metrics_init(struct metrics *m);
/* route: a route index, or -1 for none. */
void metrics_observe(struct metrics *m, int route, int status, double seconds);
/* Appends the request metrics; route_labels(i) writes slot i's Prometheus labels
 * (false: unused slot). */
void metrics_render(const struct metrics *m, bool (*route_labels)(int i, char *out, size_t n),
                    struct buf *out);

#endif
