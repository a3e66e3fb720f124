/* app.h - the process-lifetime state a request can reach (server context). */
#ifndef XSELL_APP_H
#define XSELL_APP_H

#include <stdatomic.h>

#include "xsell/config.h"
#include "xsell/db.h"
#include "xsell/metrics.h"
#include "xsell/ratelimit.h"
#include "xsell/recent.h"
#include "xsell/snapshot.h"
#include "xsell/trainer.h"

struct app {
    struct config cfg;
    struct registry reg;
    struct db_pool pool;
    struct trainer trainer;
    struct metrics metrics;
    struct ratelimit limiter;
    struct recent recent;       /* purchases not yet in the snapshot */
    atomic_int in_flight; /* requests between arrival and completion */
    atomic_long request_seq;
};

#endif
