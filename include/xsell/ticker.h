/* ticker.h - a thread that calls a function now and then every period seconds until
 * stopped, and once more as it stops (stopping true): the answer log's writes, the
 * experiments' reads. */
#ifndef XSELL_TICKER_H
#define XSELL_TICKER_H

#include <pthread.h>

#include "xsell/common.h"

struct ticker {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    bool stop, started;
    double period;
    void (*tick)(void *arg, bool stopping);
    void *arg;
};

/* Starts the thread; -1 when it cannot (nothing to stop then). */
int ticker_start(struct ticker *t, double period, void (*tick)(void *arg, bool stopping),
                 void *arg);
/* Wakes the thread for its last tick and joins it; nothing when never started. */
void ticker_stop(struct ticker *t);

#endif
