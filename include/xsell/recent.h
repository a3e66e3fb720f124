/* recent.h - purchases accepted since the serving snapshot was loaded, so that an
 * order posted now changes that customer's recommendations at once (read your
 * writes) without retraining. Entries older than the serving snapshot's load time
 * are in the snapshot already and are dropped. At most RECENT_MAX entries: past
 * that the oldest go (their orders reach the next snapshot anyway).
 *
 * Indexed by customer: each customer's entries form a chain, oldest first, found
 * through a hash table, so asking for one customer costs what that customer bought
 * lately, not what everyone did. */
#ifndef XSELL_RECENT_H
#define XSELL_RECENT_H

#include <pthread.h>

#include "xsell/arena.h"
#include "xsell/common.h"

#define RECENT_MAX     100000
#define RECENT_BUCKETS (1u << 17) /* customer chains' hash table, a power of two */

struct recent_customer; /* recent.c */

struct recent_entry {
    struct recent_customer *customer;
    char *product;
    double at;
    uint32_t next; /* the customer's next newer entry (a ring index), or RECENT_NONE */
};

struct recent {
    pthread_mutex_t mu;
    struct recent_entry *e; /* a ring, oldest at head */
    size_t head, n;
    struct recent_customer **buckets;
};

void recent_init(struct recent *r);
void recent_release(struct recent *r);
void recent_add(struct recent *r, const char *customer, const char *product, double at);
/* The products customer bought at or after since (copied into a); older entries of
 * anyone are dropped. Returns how many. */
size_t recent_for(struct recent *r, const char *customer, double since, struct arena *a,
                  const char ***out);

#endif
