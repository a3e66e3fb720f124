/* workpool.h - a few threads and a bounded queue for work that must never run on (or
 * wait for) the threads that answer cheap requests: costly computing, whose threads
 * run only when nothing else wants the CPU (SCHED_IDLE; else at a lower priority),
 * and waiting on the database, at the usual priority. */
#ifndef XSELL_WORKPOOL_H
#define XSELL_WORKPOOL_H

#include <pthread.h>

#include "xsell/common.h"

#define WORKPOOL_THREADS_MAX 64

typedef void (*work_fn)(void *arg);

struct work {
    work_fn fn;
    void *arg;
};

struct workpool {
    pthread_mutex_t mu;
    pthread_cond_t ready;
    pthread_t threads[WORKPOOL_THREADS_MAX];
    int nthreads;
    struct work *queue; /* a ring of cap = queue_max + nthreads */
    int queue_max, cap, head, len;
    int running; /* jobs taken and not finished */
    bool idle;   /* the threads run at idle priority */
    bool stopping;
};

/* nthreads (1..WORKPOOL_THREADS_MAX) threads, at most queue jobs waiting beside the
 * ones running; idle: the threads run at idle priority (costly computing). -1 when a
 * thread cannot start (the pool is stopped; release it still). */
int workpool_init(struct workpool *p, int nthreads, int queue, bool idle);
/* Queues fn(arg); false, doing nothing, when the queue is full or the pool stops. */
bool workpool_submit(struct workpool *p, work_fn fn, void *arg);
/* Jobs waiting and running now. */
int workpool_load(struct workpool *p);
/* Runs what is queued, then joins the threads. */
void workpool_release(struct workpool *p);

#endif
