#include "xsell/ticker.h"

#include <errno.h>
#include <math.h>
#include <time.h>

static void *ticker_main(void *arg)
{
    struct ticker *t = arg;
    for (;;) {
        pthread_mutex_lock(&t->mu);
        bool stop = t->stop;
        pthread_mutex_unlock(&t->mu);
        t->tick(t->arg, stop);
        if (stop)
            break;
        pthread_mutex_lock(&t->mu);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        double whole = floor(t->period);
        until.tv_sec += (time_t)whole;
        until.tv_nsec += (long)((t->period - whole) * 1e9);
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        while (!t->stop && pthread_cond_timedwait(&t->cv, &t->mu, &until) != ETIMEDOUT)
            ;
        pthread_mutex_unlock(&t->mu);
    }
    return NULL;
}

int ticker_start(struct ticker *t, double period, void (*tick)(void *arg, bool stopping), void *arg)
{
    memset(t, 0, sizeof(*t));
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cv, NULL);
    t->period = period;
    t->tick = tick;
    t->arg = arg;
    if (pthread_create(&t->thread, NULL, ticker_main, t) != 0) {
        pthread_mutex_destroy(&t->mu);
        pthread_cond_destroy(&t->cv);
        return -1;
    }
    t->started = true;
    return 0;
}

void ticker_stop(struct ticker *t)
{
    if (!t->started)
        return;
    pthread_mutex_lock(&t->mu);
    t->stop = true;
    pthread_cond_signal(&t->cv);
    pthread_mutex_unlock(&t->mu);
    pthread_join(t->thread, NULL);
    t->started = false;
    pthread_mutex_destroy(&t->mu);
    pthread_cond_destroy(&t->cv);
}
