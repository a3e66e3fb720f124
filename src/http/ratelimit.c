#include "xsell/ratelimit.h"

#include <math.h>

#include "xsell/xalloc.h"

void ratelimit_init(struct ratelimit *r, double rate, double burst)
{
    pthread_mutex_init(&r->mu, NULL);
    r->rate = rate;
    r->burst = burst < 1 ? 1 : burst;
    r->buckets = xcalloc(RATE_BUCKETS_MAX, sizeof(struct rate_bucket));
    r->n = 0;
}

void ratelimit_release(struct ratelimit *r)
{
    pthread_mutex_destroy(&r->mu);
    free(r->buckets);
    r->buckets = NULL;
}

bool ratelimit_allow(struct ratelimit *r, const char *key, double now, int *retry_after)
{
    if (r->rate <= 0)
        return true;
    pthread_mutex_lock(&r->mu);
    struct rate_bucket *b = NULL, *oldest = NULL;
    for (size_t i = 0; i < r->n; i++) {
        if (strcmp(r->buckets[i].key, key) == 0) {
            b = &r->buckets[i];
            break;
        }
        if (!oldest || r->buckets[i].last < oldest->last)
            oldest = &r->buckets[i];
    }
    if (!b) {
        b = r->n < RATE_BUCKETS_MAX ? &r->buckets[r->n++] : oldest;
        snprintf(b->key, sizeof(b->key), "%s", key);
        b->tokens = r->burst;
        b->last = now;
    }
    /* Threads read the clock before taking the lock, so now may be a little behind
     * b->last: never refill by a negative time (that drained the bucket). */
    if (now > b->last) {
        b->tokens = fmin(r->burst, b->tokens + (now - b->last) * r->rate);
        b->last = now;
    }
    bool ok = b->tokens >= 1.0;
    if (ok)
        b->tokens -= 1.0;
    else
        *retry_after = (int)ceil((1.0 - b->tokens) / r->rate);
    pthread_mutex_unlock(&r->mu);
    return ok;
}
