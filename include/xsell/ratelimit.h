/* ratelimit.h - token buckets by client key (a key, an address, or both).
 * Buckets live in a fixed hash table of RATE_BUCKETS_MAX slots; a key probes at most
 * RATE_PROBES slots and, when all are taken by others, replaces the longest idle of
 * them. Forgetting a bucket can only make the limiter more lenient, never lock anyone
 * out, and the cost of a call does not grow with the number of clients. */
#ifndef XSELL_RATELIMIT_H
#define XSELL_RATELIMIT_H

#include <pthread.h>

#include "xsell/caps.h"
#include "xsell/common.h"

#define RATE_PROBES  8
#define RATE_KEY_MAX 80 /* a client key, bytes with its NUL; longer keys are cut */

struct rate_bucket {
    uint64_t hash; /* 0 = free */
    char key[RATE_KEY_MAX];
    double tokens;
    double last;
};

struct ratelimit {
    pthread_mutex_t mu;
    double rate, burst; /* tokens per second, bucket size; rate 0 = unlimited */
    struct rate_bucket *buckets;
};

void ratelimit_init(struct ratelimit *r, double rate, double burst);
void ratelimit_release(struct ratelimit *r);
/* Takes one token for key at time now (seconds). false when empty; *retry_after then
 * says in how many whole seconds a token will be there. */
bool ratelimit_allow(struct ratelimit *r, const char *key, double now, int *retry_after);
/* Whether key's bucket is empty at now, without taking a token (*retry_after as
 * above). A key never seen is not. */
bool ratelimit_exhausted(struct ratelimit *r, const char *key, double now, int *retry_after);

#endif
