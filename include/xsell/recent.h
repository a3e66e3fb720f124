/* recent.h - purchases accepted since the serving snapshot was loaded, so that an
 * order posted now changes that customer's recommendations at once (read your
 * writes) without retraining. Entries older than the serving snapshot's load time
 * are in the snapshot already and are dropped. At most RECENT_MAX entries: past
 * that the oldest go (their orders reach the next snapshot anyway). */
#ifndef XSELL_RECENT_H
#define XSELL_RECENT_H

#include <pthread.h>

#include "xsell/arena.h"
#include "xsell/common.h"

#define RECENT_MAX 100000

struct recent_entry {
    char *customer, *product;
    double at;
};

struct recent {
    pthread_mutex_t mu;
    struct recent_entry *e; /* a ring, oldest at head */
    size_t head, n;
};

void recent_init(struct recent *r);
void recent_release(struct recent *r);
void recent_add(struct recent *r, const char *customer, const char *product, double at);
/* The products customer bought at or after since (copied into a); older entries of
 * anyone are dropped. Returns how many. */
size_t recent_for(struct recent *r, const char *customer, double since, struct arena *a,
                  const char ***out);

#endif
