/* app.h - the process-lifetime state of `xsell serve`, wired in cmd_serve. The HTTP
 * server reaches it whole; handlers only through struct services (services.h). */
#ifndef XSELL_APP_H
#define XSELL_APP_H

#include <stdatomic.h>

#include "xsell/answer_log.h"
#include "xsell/config.h"
#include "xsell/db.h"
#include "xsell/experiments.h"
#include "xsell/metrics.h"
#include "xsell/ratelimit.h"
#include "xsell/recent.h"
#include "xsell/services.h"
#include "xsell/snapshot.h"
#include "xsell/trainer.h"

/* What services.h's calls work on: borrowed from struct app. */
struct services {
    struct db_pool *pool;
    struct trainer *trainer;
    struct recent *recent;   /* purchases not yet in the snapshot */
    struct recent *sessions; /* products sessions touched lately (their events) */
    struct metrics *metrics;
    atomic_int *in_flight;
    struct answer_log *answers;
    struct experiments *experiments;
    int events_keep_days;
    double attribution_hours;
};

struct app {
    struct config cfg;
    struct registry reg;
    struct db_pool pool;
    struct trainer trainer;
    struct metrics metrics;
    struct ratelimit limiter;
    struct recent recent;
    struct recent sessions;
    struct answer_log answers; /* /recommend's and /upsell's answers, for attribution */
    struct experiments experiments;
    struct services svc;  /* points into the members above */
    atomic_int in_flight; /* requests between arrival and completion */
    atomic_long request_seq;
};

/* Points app->svc at app's own members. */
void app_wire_services(struct app *app);

#endif
