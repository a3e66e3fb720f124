/* metrics.h - request counters and latency histograms per route, rendered as
 * Prometheus text. Lock-free: relaxed atomic counters. */
#ifndef XSELL_METRICS_H
#define XSELL_METRICS_H

#include <stdatomic.h>

#include "xsell/buf.h"
#include "xsell/common.h"

#define METRICS_ROUTES   24 /* route slots; the last one counts requests matching no route */
#define METRICS_STATUSES 16
#define METRICS_BUCKETS  12

struct metrics {
    atomic_ulong requests[METRICS_ROUTES][METRICS_STATUSES];
    atomic_ulong latency[METRICS_ROUTES][METRICS_BUCKETS + 1]; /* last: +Inf */
    atomic_ulong latency_us_sum[METRICS_ROUTES];
};

void metrics_init(struct metrics *m);
/* route: a route index, or -1 for none. */
void metrics_observe(struct metrics *m, int route, int status, double seconds);
/* Appends the request metrics; route_name(i) names slot i (NULL: unused). */
void metrics_render(const struct metrics *m, const char *(*route_name)(int i), struct buf *out);

#endif
