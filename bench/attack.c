/* attack: the hardening issue's attacks against a running xsell, figures printed (never
 * asserted; bench/attack.sh runs each beside its baseline in one run).
 *
 *   attack sharedkey PORT PUBKEY SECONDS   one public key: 20 shoppers (127.0.0.10..29,
 *                                          5 req/s each) beside an attacker (127.0.0.2)
 *                                          sending as fast as it can
 *   attack slow PORT SECONDS CONNS         CONNS connections from 127.0.0.2, each sending
 *                                          a header line every 10 s (reconnecting when
 *                                          cut), while 127.0.0.3 asks /healthz twice a
 *                                          second
 *   attack idle PORT SECONDS CONNS         the same with connections that send nothing
 *   attack heavy PORT PUBKEY INTKEY SECONDS  GET /recommend latency from one client,
 *                                          alone, then beside 8 clients posting
 *                                          5,000-value forecasts 3 times a second each */
#define _GNU_SOURCE 1
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int port;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static void pause_s(double s)
{
    if (s <= 0)
        return;
    struct timespec t = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&t, NULL);
}

/* A connection to the server from the address from; -1 on failure. */
static int dial(const char *from)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    if (fd < 0)
        return -1;
    inet_pton(AF_INET, from, &a.sin_addr);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a))) {
        close(fd);
        return -1;
    }
    a.sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

/* One request on a keep-alive connection (*fd, dialled from `from` when -1); the
 * status, or 0 when no answer came within timeout seconds (the connection is closed). */
static int ask(int *fd, const char *from, const char *req, size_t len, double timeout)
{
    static _Thread_local char buf[1 << 16];
    if (*fd < 0 && (*fd = dial(from)) < 0)
        return 0;
    if (send(*fd, req, len, MSG_NOSIGNAL) != (ssize_t)len)
        goto broken;
    size_t got = 0;
    double until = now() + timeout;
    for (;;) {
        struct pollfd p = {*fd, POLLIN, 0};
        int left = (int)((until - now()) * 1000);
        if (left <= 0 || poll(&p, 1, left) <= 0)
            goto broken;
        ssize_t n = recv(*fd, buf + got, sizeof(buf) - 1 - got, 0);
        if (n <= 0)
            goto broken;
        got += (size_t)n;
        buf[got] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (!end)
            continue;
        const char *cl = strcasestr(buf, "\r\nContent-Length:");
        size_t body = cl ? strtoul(cl + 17, NULL, 10) : 0;
        if (got < (size_t)(end + 4 - buf) + body)
            continue;
        int status = atoi(buf + 9);
        if (strcasestr(buf, "\r\nConnection: close")) {
            close(*fd);
            *fd = -1;
        }
        return status;
    }
broken:
    close(*fd);
    *fd = -1;
    return 0;
}

/* --- sharedkey ---------------------------------------------------------------- */

struct client {
    char from[32];
    const char *req;
    size_t len;
    double rate; /* requests a second; 0 = as fast as it can */
    double until;
    long sent, limited, ok;
};

static void *client_main(void *arg)
{
    struct client *c = arg;
    int fd = -1;
    double next = now();
    while (now() < c->until) {
        int st = ask(&fd, c->from, c->req, c->len, 5);
        c->sent++;
        c->limited += st == 429;
        c->ok += st == 200;
        if (c->rate > 0) {
            next += 1.0 / c->rate;
            pause_s(next - now());
        }
    }
    if (fd >= 0)
        close(fd);
    return NULL;
}

static int shared_key(const char *key, double secs)
{
    enum { SHOPPERS = 20 };
    static struct client c[SHOPPERS + 1];
    pthread_t t[SHOPPERS + 1];
    char req[512];
    int len = snprintf(req, sizeof(req),
                       "GET /recommend?items=P001&limit=5 HTTP/1.1\r\nHost: x\r\n"
                       "Authorization: Bearer %s\r\n\r\n",
                       key);
    double until = now() + secs;
    for (int i = 0; i <= SHOPPERS; i++) {
        c[i] = (struct client){
            .req = req, .len = (size_t)len, .until = until, .rate = i < SHOPPERS ? 5 : 0};
        snprintf(c[i].from, sizeof(c[i].from), i < SHOPPERS ? "127.0.0.%d" : "127.0.0.2", 10 + i);
        pthread_create(&t[i], NULL, client_main, &c[i]);
    }
    long sent = 0, limited = 0;
    for (int i = 0; i <= SHOPPERS; i++) {
        pthread_join(t[i], NULL);
        if (i < SHOPPERS) {
            sent += c[i].sent;
            limited += c[i].limited;
        }
    }
    printf("sharedkey: %d shoppers at 5 req/s: %ld requests, %.1f%% answered 429; the "
           "attacker with the same key: %ld requests (%.0f/s), %.1f%% answered 429\n",
           SHOPPERS, sent, 100.0 * (double)limited / (double)(sent ? sent : 1), c[SHOPPERS].sent,
           (double)c[SHOPPERS].sent / secs,
           100.0 * (double)c[SHOPPERS].limited / (double)(c[SHOPPERS].sent ? c[SHOPPERS].sent : 1));
    return 0;
}

/* --- slow and idle --------------------------------------------------------------- */

struct siege {
    int conns;
    bool trickle; /* a header line every 10 s; else nothing at all */
    double until;
    atomic_long cut, refused;
};

static void *siege_main(void *arg)
{
    struct siege *s = arg;
    int *fd = calloc((size_t)s->conns, sizeof(int));
    double *last = calloc((size_t)s->conns, sizeof(double));
    double *opened = calloc((size_t)s->conns, sizeof(double));
    for (int i = 0; i < s->conns; i++)
        fd[i] = -1;
    while (now() < s->until) {
        for (int i = 0; i < s->conns; i++) {
            if (fd[i] < 0) {
                fd[i] = dial("127.0.0.2");
                last[i] = 0;
                opened[i] = now();
                if (fd[i] < 0)
                    continue;
                if (s->trickle)
                    send(fd[i], "GET /healthz HTTP/1.1\r\n", 23, MSG_NOSIGNAL);
            }
            char b[64];
            ssize_t n = recv(fd[i], b, sizeof(b), MSG_DONTWAIT);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
                /* closed at once: refused (the cap); later: cut (the deadline) */
                atomic_fetch_add(now() - opened[i] < 2 ? &s->refused : &s->cut, 1);
                close(fd[i]);
                fd[i] = -1;
                continue;
            }
            if (last[i] == 0)
                last[i] = now();
            if (s->trickle && now() - last[i] >= 10) {
                send(fd[i], "X-a: b\r\n", 8, MSG_NOSIGNAL);
                last[i] = now();
            }
        }
        pause_s(0.05);
    }
    for (int i = 0; i < s->conns; i++)
        if (fd[i] >= 0)
            close(fd[i]);
    free(fd);
    free(last);
    free(opened);
    return NULL;
}

static int siege(double secs, int conns, bool trickle)
{
    struct siege s = {.conns = conns, .trickle = trickle, .until = now() + secs};
    pthread_t t;
    pthread_create(&t, NULL, siege_main, &s);
    pause_s(1); /* the connections are up */
    const char req[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    long asked = 0, answered = 0;
    double worst = 0;
    while (now() < s.until) {
        int fd = -1;
        double t0 = now();
        int st = ask(&fd, "127.0.0.3", req, sizeof(req) - 1, 5);
        double dt = now() - t0;
        if (fd >= 0)
            close(fd);
        asked++;
        answered += st == 200;
        worst = dt > worst ? dt : worst;
        pause_s(0.5 - dt);
    }
    pthread_join(t, NULL);
    printf("%s: %d connections from 127.0.0.2 for %.0f s (%ld refused at once, %ld cut by the "
           "deadline); /healthz from 127.0.0.3: %ld of %ld answered, slowest %.1f ms\n",
           trickle ? "slow" : "idle", conns, secs, atomic_load(&s.refused), atomic_load(&s.cut),
           answered, asked, worst * 1e3);
    return 0;
}

/* --- heavy ---------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* /recommend latencies for secs from one client: p50 and p99 into out. */
static void latencies(const char *key, double secs, double out[2])
{
    char req[512];
    int len = snprintf(req, sizeof(req),
                       "GET /recommend?items=P001,P004&limit=10 HTTP/1.1\r\nHost: x\r\n"
                       "Authorization: Bearer %s\r\n\r\n",
                       key);
    size_t cap = 1 << 20, n = 0;
    double *d = malloc(cap * sizeof(double));
    int fd = -1;
    double until = now() + secs;
    while (now() < until && n < cap) {
        double t0 = now();
        if (ask(&fd, "127.0.0.5", req, (size_t)len, 10) == 200)
            d[n++] = now() - t0;
        pause_s(0.006); /* about 160 a second: under the default rate limit of 200 */
    }
    if (fd >= 0)
        close(fd);
    qsort(d, n, sizeof(double), cmp_double);
    out[0] = n ? d[n / 2] * 1e3 : 0;
    out[1] = n ? d[(size_t)((double)n * 0.99)] * 1e3 : 0;
    free(d);
}

static int heavy(const char *pub, const char *internal, double secs)
{
    enum { HEAVY = 8 };
    static char body[65536], req[70000];
    int n = snprintf(body, sizeof(body), "{\"horizon\":24,\"period\":12,\"series\":[");
    for (int i = 0; i < 5000; i++)
        n += snprintf(body + n, sizeof(body) - (size_t)n, "%s%d", i ? "," : "",
                      100 + (i * 37) % 50 + i / 40);
    n += snprintf(body + n, sizeof(body) - (size_t)n, "]}");
    int len = snprintf(req, sizeof(req),
                       "POST /forecast HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                       "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
                       internal, n, body);
    double alone[2], beside[2];
    latencies(pub, secs, alone);
    static struct client c[HEAVY];
    pthread_t t[HEAVY];
    double until = now() + secs + 1;
    for (int i = 0; i < HEAVY; i++) {
        c[i] = (struct client){.req = req, .len = (size_t)len, .until = until, .rate = 3};
        snprintf(c[i].from, sizeof(c[i].from), "127.0.0.%d", 40 + i);
        pthread_create(&t[i], NULL, client_main, &c[i]);
    }
    pause_s(0.5);
    latencies(pub, secs, beside);
    long sent = 0, ok = 0;
    for (int i = 0; i < HEAVY; i++) {
        pthread_join(t[i], NULL);
        sent += c[i].sent;
        ok += c[i].ok;
    }
    printf("heavy: /recommend alone p50 %.2f ms p99 %.2f ms | beside %d clients posting "
           "5,000-value forecasts 3/s (%ld sent, %ld answered 200, the rest 503 busy): p50 %.2f "
           "ms p99 %.2f ms | p99 beside/alone %.2f\n",
           alone[0], alone[1], HEAVY, sent, ok, beside[0], beside[1],
           alone[1] > 0 ? beside[1] / alone[1] : 0);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 5 && strcmp(argv[1], "sharedkey") == 0) {
        port = atoi(argv[2]);
        return shared_key(argv[3], atof(argv[4]));
    }
    if (argc >= 5 && (strcmp(argv[1], "slow") == 0 || strcmp(argv[1], "idle") == 0)) {
        port = atoi(argv[2]);
        return siege(atof(argv[3]), atoi(argv[4]), strcmp(argv[1], "slow") == 0);
    }
    if (argc >= 6 && strcmp(argv[1], "heavy") == 0) {
        port = atoi(argv[2]);
        return heavy(argv[3], argv[4], atof(argv[5]));
    }
    fprintf(stderr, "usage: attack sharedkey PORT PUBKEY SECONDS | slow|idle PORT SECONDS CONNS "
                    "| heavy PORT PUBKEY INTKEY SECONDS\n");
    return 2;
}
