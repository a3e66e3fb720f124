/* ratelimit.h - a token bucket per client (API key, or address when keyless).
 * At most RATE_BUCKETS_MAX clients are tracked; past that the longest idle one is
 * forgotten, which can only make the limiter more lenient, never lock anyone out. */
#ifndef XSELL_RATELIMIT_H
#define XSELL_RATELIMIT_H

#include <pthread.h>

#include "xsell/caps.h"
#include "xsell/common.h"

struct rate_bucket {
    char key[64];
    double tokens;
    double last;
};

struct ratelimit {
    pthread_mutex_t mu;
    double rate, burst; /* tokens per second, bucket size; rate 0 = unlimited */
    struct rate_bucket *buckets;
    size_t n;
};

void ratelimit_init(struct ratelimit *r, double rate, double burst);
void ratelimit_release(struct ratelimit *r);
/* Takes one token for key at time now (seconds). false when empty; *retry_after then
 * says in how many whole seconds a token will be there. */
bool ratelimit_allow(struct ratelimit *r, const char *key, double now, int *retry_after);

#endif
