#include "xsell/conns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <time.h>

#include "xsell/log.h"
#include "xsell/xalloc.h"

#define REAP_EVERY_S 0.25

void conns_init(struct conns *cs, int per_client, double deadline_s, const struct net_block *exempt,
                int nexempt)
{
    memset(cs, 0, sizeof(*cs));
    pthread_mutex_init(&cs->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&cs->wake, &ca);
    pthread_condattr_destroy(&ca);
    cs->per_client = per_client;
    cs->deadline_s = deadline_s;
    cs->exempt = exempt;
    cs->nexempt = nexempt;
}

/* sa's family and address bytes (IPv4-mapped IPv6 as IPv4); false for other families. */
static bool peer_of(const struct sockaddr *sa, int *family, unsigned char addr[16])
{
    memset(addr, 0, 16);
    if (sa && sa->sa_family == AF_INET) {
        memcpy(addr, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
        *family = AF_INET;
        return true;
    }
    if (sa && sa->sa_family == AF_INET6) {
        const unsigned char *a6 =
            ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
        if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)(const void *)a6)) {
            memcpy(addr, a6 + 12, 4);
            *family = AF_INET;
        } else {
            memcpy(addr, a6, 16);
            *family = AF_INET6;
        }
        return true;
    }
    return false;
}

bool conns_admit(struct conns *cs, const struct sockaddr *sa)
{
    int family;
    unsigned char addr[16];
    char text[NETADDR_TEXT_MAX + 1];
    if (!peer_of(sa, &family, addr))
        return true;
    inet_ntop(family, addr, text, sizeof(text));
    if (net_blocks_contain(cs->exempt, cs->nexempt, text))
        return true;
    int same = 0;
    pthread_mutex_lock(&cs->mu);
    for (const struct conn *c = cs->head; c; c = c->next)
        same += c->family == family && memcmp(c->addr, addr, 16) == 0;
    pthread_mutex_unlock(&cs->mu);
    if (same < cs->per_client)
        return true;
    if (cs->refused)
        atomic_fetch_add(cs->refused, 1);
    return false;
}

struct conn *conns_open(struct conns *cs, int fd, const struct sockaddr *sa, double now)
{
    struct conn *c = xcalloc(1, sizeof(*c));
    c->fd = fd;
    if (peer_of(sa, &c->family, c->addr))
        inet_ntop(c->family, c->addr, c->text, sizeof(c->text));
    else
        snprintf(c->text, sizeof(c->text), "unknown");
    atomic_init(&c->since, now);
    atomic_init(&c->receiving, true);
    pthread_mutex_lock(&cs->mu);
    c->next = cs->head;
    if (cs->head)
        cs->head->prev = c;
    cs->head = c;
    cs->open++;
    pthread_mutex_unlock(&cs->mu);
    return c;
}

void conns_close(struct conns *cs, struct conn *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&cs->mu); /* the reaper never touches a closed socket */
    if (c->prev)
        c->prev->next = c->next;
    else
        cs->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    cs->open--;
    pthread_mutex_unlock(&cs->mu);
    free(c);
}

void conns_receiving(struct conn *c, bool on, double now)
{
    if (!c)
        return;
    if (on && !atomic_load(&c->receiving))
        atomic_store(&c->since, now); /* before receiving: the reaper never sees an old one */
    atomic_store(&c->receiving, on);
}

int conns_reap(struct conns *cs, double now)
{
    int n = 0;
    pthread_mutex_lock(&cs->mu);
    for (struct conn *c = cs->head; c; c = c->next) {
        if (atomic_load(&c->receiving) && now - atomic_load(&c->since) > cs->deadline_s &&
            c->fd >= 0) {
            shutdown(c->fd, SHUT_RDWR);         /* the server sees it broken and closes it */
            atomic_store(&c->receiving, false); /* once */
            n++;
        }
    }
    pthread_mutex_unlock(&cs->mu);
    if (cs->reaped && n)
        atomic_fetch_add(cs->reaped, (unsigned long)n);
    return n;
}

static void *reaper(void *arg)
{
    struct conns *cs = arg;
    pthread_mutex_lock(&cs->mu);
    while (!cs->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += (long)(REAP_EVERY_S * 1e9);
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        int rc = pthread_cond_timedwait(&cs->wake, &cs->mu, &until);
        if (rc != 0 && rc != ETIMEDOUT)
            break;
        if (cs->stopping)
            break;
        pthread_mutex_unlock(&cs->mu);
        conns_reap(cs, mono_seconds());
        pthread_mutex_lock(&cs->mu);
    }
    pthread_mutex_unlock(&cs->mu);
    return NULL;
}

int conns_start(struct conns *cs)
{
    if (pthread_create(&cs->reaper, NULL, reaper, cs) != 0)
        return -1;
    cs->reaper_running = true;
    return 0;
}

void conns_release(struct conns *cs)
{
    if (cs->reaper_running) {
        pthread_mutex_lock(&cs->mu);
        cs->stopping = true;
        pthread_cond_signal(&cs->wake);
        pthread_mutex_unlock(&cs->mu);
        pthread_join(cs->reaper, NULL);
        cs->reaper_running = false;
    }
    while (cs->head)
        conns_close(cs, cs->head);
    pthread_cond_destroy(&cs->wake);
    pthread_mutex_destroy(&cs->mu);
}
