#include "xsell/workpool.h"

#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "xsell/xalloc.h"

#define WORKPOOL_NICE 10 /* below the HTTP threads */

static void *worker(void *arg)
{
    struct workpool *p = arg;
    /* This thread runs only when no other thread of the machine wants the CPU
     * (SCHED_IDLE): a cheap request that wakes takes the core at once. Where that is
     * refused, a lower priority (Linux sets it per thread); failing both, the queue
     * bound still holds. */
    struct sched_param idle = {0};
    if (p->idle && pthread_setschedparam(pthread_self(), SCHED_IDLE, &idle) != 0 &&
        setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), WORKPOOL_NICE) != 0) {
        /* nothing more to try */
    }
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->len == 0 && !p->stopping)
            pthread_cond_wait(&p->ready, &p->mu);
        if (p->len == 0)
            break; /* stopping, and nothing left */
        struct work w = p->queue[p->head];
        p->head = (p->head + 1) % p->cap;
        p->len--;
        p->running++;
        pthread_mutex_unlock(&p->mu);
        w.fn(w.arg);
        pthread_mutex_lock(&p->mu);
        p->running--;
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* Lets the threads finish what is queued, and joins them. */
static void stop_and_join(struct workpool *p)
{
    pthread_mutex_lock(&p->mu);
    p->stopping = true;
    pthread_cond_broadcast(&p->ready);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    p->nthreads = 0;
}

int workpool_init(struct workpool *p, int nthreads, int queue, bool idle)
{
    memset(p, 0, sizeof(*p));
    p->idle = idle;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->ready, NULL);
    nthreads = MIN(MAX(nthreads, 1), WORKPOOL_THREADS_MAX);
    p->queue_max = MAX(queue, 0);
    p->cap = p->queue_max + nthreads;
    p->queue = xcalloc((size_t)p->cap, sizeof(*p->queue));
    for (int i = 0; i < nthreads; i++) {
        if (pthread_create(&p->threads[i], NULL, worker, p) != 0) {
            stop_and_join(p); /* workpool_release still frees the rest, once */
            return -1;
        }
        p->nthreads++;
    }
    return 0;
}

bool workpool_submit(struct workpool *p, work_fn fn, void *arg)
{
    pthread_mutex_lock(&p->mu);
    /* Idle threads take a job each at once; past them, at most `queue` wait. */
    int idle = p->nthreads - p->running;
    bool ok = !p->stopping && p->len < p->queue_max + idle;
    if (ok) {
        p->queue[(p->head + p->len) % p->cap] = (struct work){fn, arg};
        p->len++;
        pthread_cond_signal(&p->ready);
    }
    pthread_mutex_unlock(&p->mu);
    return ok;
}

int workpool_load(struct workpool *p)
{
    pthread_mutex_lock(&p->mu);
    int n = p->len + p->running;
    pthread_mutex_unlock(&p->mu);
    return n;
}

void workpool_release(struct workpool *p)
{
    stop_and_join(p);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->ready);
    free(p->queue);
    p->queue = NULL;
}
