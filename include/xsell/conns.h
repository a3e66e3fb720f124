/* conns.h - the open connections, so that slow or idle clients from one address cannot
 * starve the others: at most per_client connections an address (trusted proxies
 * exempt), and a deadline for each request's head and body that, unlike an idle
 * timer, no trickle of bytes resets. A reaper thread shuts down the socket of a
 * connection past its deadline; the server then closes it as any broken connection. */
#ifndef XSELL_CONNS_H
#define XSELL_CONNS_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>

#include "xsell/netaddr.h"

struct conn {
    struct conn *prev, *next;
    int fd;
    int family;
    unsigned char addr[16];
    char text[NETADDR_TEXT_MAX + 1]; /* the peer address as text */
    /* atomics, not the list's lock: set twice a request by the connection's thread,
     * read by the reaper */
    _Atomic double since;  /* when the deadline started */
    atomic_bool receiving; /* the deadline runs (not while answering) */
};

struct conns {
    pthread_mutex_t mu;
    pthread_cond_t wake;
    struct conn *head;
    int open;
    int per_client;
    double deadline_s;
    const struct net_block *exempt;
    int nexempt;
    pthread_t reaper;
    bool reaper_running, stopping;
    atomic_ulong *refused, *reaped; /* counters to bump (metrics.h), or NULL */
};

void conns_init(struct conns *cs, int per_client, double deadline_s, const struct net_block *exempt,
                int nexempt);
/* Starts the reaper thread; -1 if it cannot start. */
int conns_start(struct conns *cs);
/* Stops the reaper; the caller has closed every connection. */
void conns_release(struct conns *cs);
/* Whether a new connection from sa may open now (false counts one refusal). */
bool conns_admit(struct conns *cs, const struct sockaddr *sa);
/* Tracks a new connection on fd from sa, its deadline running from now. */
struct conn *conns_open(struct conns *cs, int fd, const struct sockaddr *sa, double now);
void conns_close(struct conns *cs, struct conn *c);
/* Starts (on) or stops the deadline of c: on at a request's end (waiting for the next)
 * and off once a request is whole and being answered. */
void conns_receiving(struct conn *c, bool on, double now);
/* Shuts down each connection past its deadline at now; how many. The reaper calls it. */
int conns_reap(struct conns *cs, double now);

#endif
