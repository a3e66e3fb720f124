/* Unit tests: the state requests share across threads (the read-your-writes overlay,
 * the rate limiter, the request metrics) used by several threads at once. Built a
 * second time under ThreadSanitizer by make check (with the snapshot publish test
 * and the threaded sales forecasts), where a data race fails the run. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "xsell/metrics.h"
#include "xsell/ratelimit.h"
#include "xsell/recent.h"

#include "unit/unit.h"

#define THREADS 4
#define ROUNDS  2000

struct shared {
    struct recent recent;
    struct ratelimit limiter;
    struct metrics metrics;
};

struct worker {
    struct shared *sh;
    int id;
    long allowed; /* rate-limited requests let through */
    long missing; /* reads that did not see this thread's own earlier writes */
};

static void *work(void *arg)
{
    struct worker *w = arg;
    char customer[16], product[16], key[16];
    snprintf(customer, sizeof(customer), "C%d", w->id);
    snprintf(key, sizeof(key), "key:%d", w->id % 2);
    for (int i = 0; i < ROUNDS; i++) {
        snprintf(product, sizeof(product), "P%d", i % 50);
        recent_add(&w->sh->recent, customer, product, 1000.0 + i);
        struct arena a;
        const char **ids;
        arena_init(&a);
        w->missing += recent_for(&w->sh->recent, customer, 0, &a, &ids) < (size_t)i + 1;
        arena_release(&a);
        int retry;
        w->allowed += ratelimit_allow(&w->sh->limiter, key, 1.0, &retry);
        metrics_observe(&w->sh->metrics, w->id, 200, 0.001 * (i % 7));
    }
    return NULL;
}

static void test_shared_state_under_threads(void **state)
{
    static struct shared sh;
    struct worker w[THREADS];
    pthread_t th[THREADS];
    (void)state;
    recent_init(&sh.recent);
    ratelimit_init(&sh.limiter, 0.001, 100); /* 100 requests a key, then none */
    metrics_init(&sh.metrics);
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){.sh = &sh, .id = i};
        assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
    }
    long allowed = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        allowed += w[i].allowed;
        assert_int_equal(w[i].missing, 0); /* each read saw the thread's own writes */
        unsigned long n = atomic_load(&sh.metrics.requests[i][0]);
        for (int s = 1; s < METRICS_STATUSES; s++)
            n += atomic_load(&sh.metrics.requests[i][s]);
        assert_int_equal(n, ROUNDS); /* no increment lost */
    }
    assert_int_equal(allowed, 2 * 100); /* two keys, each its burst exactly */
    struct arena a;
    const char **ids;
    arena_init(&a);
    assert_int_equal(recent_for(&sh.recent, "C0", 0, &a, &ids), ROUNDS); /* none lost */
    arena_release(&a);
    recent_release(&sh.recent);
    ratelimit_release(&sh.limiter);
}

int run_concurrency_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shared_state_under_threads),
    };
    return cmocka_run_group_tests_name("concurrency", tests, NULL, NULL);
}
