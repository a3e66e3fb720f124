#include "xsell/ratelimit.h"

#include <math.h>

#include "xsell/hash.h"
#include "xsell/xalloc.h"

void ratelimit_init(struct ratelimit *r, double rate, double burst)
{
    pthread_mutex_init(&r->mu, NULL);
    r->rate = rate;
    r->burst = burst < 1 ? 1 : burst;
    r->buckets = xcalloc(RATE_BUCKETS_MAX, sizeof(struct rate_bucket));
}

void ratelimit_release(struct ratelimit *r)
{
    pthread_mutex_destroy(&r->mu);
    free(r->buckets);
    r->buckets = NULL;
}

static uint64_t key_hash(const char *key)
{
    uint64_t h = hash_str(HASH_FNV_SEED, key);
    return h ? h : 1;
}

/* Whether slot a is a better one to take than b: a free slot, else the longest idle. */
static bool better_victim(const struct rate_bucket *a, const struct rate_bucket *b)
{
    if (!b)
        return true;
    if (b->hash == 0)
        return false;
    return a->hash == 0 || a->last < b->last;
}

/* key's bucket (refilled to now), a new full one when create, else NULL. Under r->mu. */
static struct rate_bucket *bucket_of(struct ratelimit *r, const char *key, double now, bool create)
{
    _Static_assert((RATE_BUCKETS_MAX & (RATE_BUCKETS_MAX - 1)) == 0, "a power of two");
    uint64_t h = key_hash(key);
    struct rate_bucket *b = NULL, *idlest = NULL;
    for (uint64_t i = 0; i < RATE_PROBES && !b; i++) {
        struct rate_bucket *s = &r->buckets[(h + i) & (RATE_BUCKETS_MAX - 1)];
        if (s->hash == h && strcmp(s->key, key) == 0)
            b = s;
        else if (better_victim(s, idlest))
            idlest = s;
    }
    if (!b) {
        if (!create)
            return NULL;
        b = idlest;
        b->hash = h;
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
    return b;
}

static int retry_seconds(const struct ratelimit *r, const struct rate_bucket *b)
{
    return (int)ceil((1.0 - b->tokens) / r->rate);
}

bool ratelimit_allow(struct ratelimit *r, const char *key, double now, int *retry_after)
{
    if (r->rate <= 0)
        return true;
    pthread_mutex_lock(&r->mu);
    struct rate_bucket *b = bucket_of(r, key, now, true);
    bool ok = b->tokens >= 1.0;
    if (ok)
        b->tokens -= 1.0;
    else
        *retry_after = retry_seconds(r, b);
    pthread_mutex_unlock(&r->mu);
    return ok;
}

bool ratelimit_exhausted(struct ratelimit *r, const char *key, double now, int *retry_after)
{
    if (r->rate <= 0)
        return false;
    pthread_mutex_lock(&r->mu);
    struct rate_bucket *b = bucket_of(r, key, now, false);
    bool empty = b && b->tokens < 1.0;
    if (empty)
        *retry_after = retry_seconds(r, b);
    pthread_mutex_unlock(&r->mu);
    return empty;
}
