#include "xsell/http_server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <sys/socket.h>
#include <strings.h>
#include <unistd.h>

#include "xsell/app.h" /* the server alone reaches the process state */
#include "xsell/conns.h"
#include "xsell/log.h"
#include "xsell/router.h"
#include "xsell/workpool.h"
#include "xsell/xalloc.h"

struct http_server {
    struct MHD_Daemon *daemon;
    struct app *app;
    struct conns conns;               /* per-client caps and the request deadline */
    struct ratelimit auth_failures;   /* wrong keys, per client */
    _Atomic double last_auth_failure; /* mono_seconds() of the latest wrong key */
    double auth_refill_s;             /* how long an emptied bucket takes to refill */
    struct workpool heavy;            /* routes whose cost grows with their input */
    struct workpool db;               /* routes that wait on the database */
    atomic_bool stopping;             /* new connections are closed at accept */
};

/* Where a request is: its head and body arriving, waiting for or running on a pool
 * (its route's lane), answered. */
enum phase { PHASE_RECEIVING, PHASE_POOLED, PHASE_ANSWERED };

/* A request as the server holds it: the part handlers see first, then what only the
 * server touches (the process state and the snapshot reference it drops). */
struct exchange {
    struct request req;
    struct http_server *srv;
    struct app *app;
    struct snapshot *snap;
    struct MHD_Connection *c;
    struct conn *conn; /* its connection's entry in srv->conns; may be NULL */
    _Atomic enum phase phase;
    bool sent; /* the response is queued */
};

static struct exchange *exchange_of(struct request *req)
{
    return (struct exchange *)(void *)req;
}

static struct app *app_of(const struct request *req)
{
    return ((const struct exchange *)(const void *)req)->app;
}

static const char *dup_header(struct request *req, struct MHD_Connection *c, const char *name)
{
    const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
    return v ? arena_strdup(&req->arena, v) : NULL;
}

static enum MHD_Result collect_param(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    struct request *req = cls;
    UNUSED(kind);
    if (req->nparams == PARAMS_MAX) {
        req->too_many_params = true;
        return MHD_NO;
    }
    req->params[req->nparams].name = arena_strdup(&req->arena, key);
    req->params[req->nparams].value = arena_strdup(&req->arena, value ? value : "");
    req->nparams++;
    return MHD_YES;
}

/* The address the request stands for (netaddr.h: X-Forwarded-For only from trusted
 * proxies). */
static const char *client_address(struct request *req, struct MHD_Connection *c,
                                  const struct config *cfg, const struct conn *conn)
{
    char client[NETADDR_TEXT_MAX + 1];
    if (!conn)
        return "unknown";
    const char *xff = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Forwarded-For");
    net_client_address(cfg->trusted, cfg->ntrusted, conn->text, xff, client, sizeof(client));
    return arena_strdup(&req->arena, client);
}

/* An incoming X-Request-Id is kept when it is 1..REQUEST_ID_MAX of [A-Za-z0-9._:-]. */
static bool request_id_ok(const char *v)
{
    size_t n = v ? strlen(v) : 0;
    if (n == 0 || n > REQUEST_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = v[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '_' || ch == ':' || ch == '-'))
            return false;
    }
    return true;
}

static struct conn *conn_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

static struct request *request_new(struct http_server *srv, struct MHD_Connection *c,
                                   const char *url, const char *method)
{
    struct app *app = srv->app;
    struct exchange *x = xcalloc(1, sizeof(*x));
    struct request *req = &x->req;
    arena_init(&req->arena);
    x->srv = srv;
    x->app = app;
    x->c = c;
    x->conn = conn_of(c);
    req->svc = &app->svc;
    req->t_start = mono_seconds();
    req->route_index = -1;
    req->key_index = -1;
    const char *rid = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Request-Id");
    if (request_id_ok(rid)) {
        snprintf(req->id, sizeof(req->id), "%s", rid);
    } else {
        static unsigned long pid; /* a request id: process, then sequence */
        if (!pid)
            pid = (unsigned long)getpid() & 0xffff;
        snprintf(req->id, sizeof(req->id), "%lx-%lx", pid,
                 (unsigned long)atomic_fetch_add(&app->request_seq, 1) + 1);
    }
    req->method = arena_strdup(&req->arena, method);
    req->path = arena_strdup(&req->arena, url);
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_param, req);
    req->authorization = dup_header(req, c, MHD_HTTP_HEADER_AUTHORIZATION);
    req->origin = dup_header(req, c, MHD_HTTP_HEADER_ORIGIN);
    req->content_type = dup_header(req, c, MHD_HTTP_HEADER_CONTENT_TYPE);
    req->client = client_address(req, c, &app->cfg, x->conn);
    buf_init(&req->body, app->cfg.body_max);
    x->snap = registry_take(&app->reg);
    req->snap = x->snap;
    atomic_fetch_add(&app->in_flight, 1);
    return req;
}

static void request_free(struct request *req)
{
    struct exchange *x = (struct exchange *)(void *)req;
    snapshot_unref(x->snap);
    buf_release(&req->body);
    free(req->resp_body);
    arena_release(&req->arena);
    free(x);
}

static bool origin_allowed(const struct config *cfg, const char *origin)
{
    /* "null" is what sandboxed frames and file: pages send: never an allowed origin */
    if (!origin || strcmp(origin, "null") == 0)
        return false;
    if (cfg->cors_any)
        return true;
    for (int i = 0; i < cfg->ncors; i++)
        if (strcmp(cfg->cors[i], origin) == 0)
            return true;
    return false;
}

static enum MHD_Result send_response(struct MHD_Connection *c, struct request *req)
{
    struct MHD_Response *resp;
    const struct config *cfg = &app_of(req)->cfg;
    if (req->status == 0)
        req_fail(req, PROBLEM_INTERNAL, "the handler gave no answer");
    resp = MHD_create_response_from_buffer(req->resp_len, req->resp_body ? req->resp_body : "",
                                           req->resp_body ? MHD_RESPMEM_MUST_FREE
                                                          : MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    exchange_of(req)->sent = true;
    req->resp_body = NULL; /* libmicrohttpd frees it now */
    if (req->resp_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, req->resp_type);
    MHD_add_response_header(resp, "X-Request-Id", req->id);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
                            req->cache ? req->cache : "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (req->csp) {
        MHD_add_response_header(resp, "Content-Security-Policy", req->csp);
        MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    }
    if (req->allow)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, req->allow);
    if (req->retry_after > 0) {
        char ra[16];
        snprintf(ra, sizeof(ra), "%d", req->retry_after);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
    }
    if (req->www_authenticate)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"xsell\"");
    if (req->location)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, req->location);
    if (origin_allowed(cfg, req->origin)) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_ORIGIN, req->origin);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Origin");
        MHD_add_response_header(resp, "Access-Control-Expose-Headers",
                                "X-Request-Id, Retry-After, Location");
        if (req->preflight) {
            MHD_add_response_header(resp, "Access-Control-Allow-Methods", req->allow);
            MHD_add_response_header(resp, "Access-Control-Allow-Headers",
                                    "Authorization, Content-Type");
            MHD_add_response_header(resp, "Access-Control-Max-Age", "600");
        }
    }
    enum MHD_Result r = MHD_queue_response(c, (unsigned int)req->status, resp);
    MHD_destroy_response(resp);
    return r;
}

/* CORS preflight, or a plain OPTIONS: which methods the path takes. */
static void answer_options(struct request *req, const char *allow)
{
    req->allow = arena_strdup(&req->arena, allow);
    req->status = 204;
    req->resp_len = 0;
    req->preflight = origin_allowed(&app_of(req)->cfg, req->origin);
}

static bool is_json(const char *content_type)
{
    if (!content_type)
        return false;
    size_t n = strcspn(content_type, ";");
    while (n && content_type[n - 1] == ' ')
        n--;
    return n == 16 && strncasecmp(content_type, "application/json", 16) == 0;
}

static bool ready_for(struct request *req)
{
    return !req->route->needs_model || req->snap != NULL;
}

/* How the request frames its body: more than one Content-Length, or one beside
 * Transfer-Encoding, is how requests are smuggled past a proxy that reads them
 * otherwise; both are refused. */
struct framing {
    int lengths;
    const char *length;
    const char *encoding;
};

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    struct framing *f = cls;
    UNUSED(kind);
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
        f->lengths++;
        f->length = value;
    } else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        f->encoding = value ? value : "";
    }
    return MHD_YES;
}

/* The head's framing headers, read once for every decision below. */
static void read_framing(struct MHD_Connection *c, struct framing *f)
{
    memset(f, 0, sizeof(*f));
    MHD_get_connection_values(c, MHD_HEADER_KIND, count_framing, f);
}

/* Whether the head announces a body (a length above 0, or chunks). */
static bool body_announced(const struct framing *f)
{
    return f->encoding || (f->length && strspn(f->length, "0") != strlen(f->length));
}

/* 0 with the declared length (0 when none) in *length, or -1 after answering 400. */
static int check_framing(struct request *req, const struct framing *f, unsigned long long *length)
{
    *length = 0;
    if (f->lengths > 1)
        return req_fail(req, PROBLEM_BAD_REQUEST, "send one Content-Length header, not %d",
                        f->lengths);
    if (f->lengths && f->encoding)
        return req_fail(req, PROBLEM_BAD_REQUEST,
                        "send Content-Length or Transfer-Encoding, not both");
    if (f->encoding && strcasecmp(f->encoding, "chunked") != 0)
        return req_fail(req, PROBLEM_BAD_REQUEST, "Transfer-Encoding must be chunked");
    if (f->length) {
        size_t n = strlen(f->length);
        if (n == 0 || n > 19 || strspn(f->length, "0123456789") != n)
            return req_fail(req, PROBLEM_BAD_REQUEST, "Content-Length must be a byte count");
    }
    *length = f->length ? strtoull(f->length, NULL, 10) : 0;
    return 0;
}

/* The caller's key: 0 with req->role set, or -1 after answering 401, 403 or, for a
 * client that sent too many wrong keys lately, 429. */
static int check_key(struct request *req, struct http_server *srv)
{
    const struct config *cfg = &srv->app->cfg;
    char bucket[RATE_KEY_MAX];
    int retry = 1;
    if (cfg->auth_none) {
        req->role = ROLE_ADMIN;
        return 0;
    }
    /* Throttled clients are looked up only while some wrong key is recent: until every
     * bucket has refilled, which costs nothing to know. */
    double now = mono_seconds();
    bool recent = now - atomic_load(&srv->last_auth_failure) < srv->auth_refill_s;
    snprintf(bucket, sizeof(bucket), "fail:%s", req->client);
    if (recent && ratelimit_exhausted(&srv->auth_failures, bucket, now, &retry)) {
        req->retry_after = retry;
        return req_fail(req, PROBLEM_RATE_LIMITED,
                        "too many requests with a wrong key from this client; wait %d s", retry);
    }
    req->role = auth_role(cfg->keys, cfg->nkeys, req->authorization, &req->key_index);
    if (req->role == ROLE_NONE) {
        if (req->authorization) {
            atomic_store(&srv->last_auth_failure, now);
            ratelimit_allow(&srv->auth_failures, bucket, now, &retry);
        }
        return req_fail(req, PROBLEM_UNAUTHORIZED,
                        req->authorization ? "the key is not valid"
                                           : "send Authorization: Bearer <key>");
    }
    if (req->role < req->route->role)
        return req_fail(req, PROBLEM_FORBIDDEN, "%s needs a %s key; this one is %s",
                        req->route->path, role_name(req->route->role), role_name(req->role));
    if (!auth_origin_ok(&cfg->keys[req->key_index], req->origin))
        return req_fail(req, PROBLEM_FORBIDDEN,
                        "this key is bound to its shop's origins; the request's Origin is %s",
                        req->origin ? "another" : "missing");
    return 0;
}

/* One bucket per client for public keys (every shopper's browser holds the same key),
 * per key for internal and admin keys (a few servers each), per address without one. */
static int check_rate(struct request *req, struct app *app)
{
    char bucket[RATE_KEY_MAX];
    int retry = 1;
    if (req->key_index >= 0 && req->role == ROLE_PUBLIC)
        snprintf(bucket, sizeof(bucket), "key:%d:%s", req->key_index, req->client);
    else if (req->key_index >= 0)
        snprintf(bucket, sizeof(bucket), "key:%d", req->key_index);
    else
        snprintf(bucket, sizeof(bucket), "addr:%s", req->client);
    if (ratelimit_allow(&app->limiter, bucket, mono_seconds(), &retry))
        return 0;
    req->retry_after = retry;
    return req_fail(req, PROBLEM_RATE_LIMITED, "rate limit of %g requests/s exceeded",
                    app->cfg.rate_rps);
}

/* Everything decided from the head alone, before a byte of the body is read (so a
 * refused client never gets 100 Continue nor costs the memory of its body). 0 to read
 * the body and go on; -1 after answering. */
static int check_head(struct request *req, struct http_server *srv, const struct framing *f)
{
    struct app *app = srv->app;
    char allow[128];
    bool known;
    const char *arg = NULL;
    unsigned long long length = 0;
    if (check_framing(req, f, &length))
        return -1;
    if (req->too_many_params)
        return req_fail(req, PROBLEM_BAD_PARAM, "more than %d query parameters", PARAMS_MAX);
    bool options = strcmp(req->method, "OPTIONS") == 0;
    req->route = router_match(req->method, req->path, &arg, &known, allow, sizeof(allow));
    if (!req->route) {
        if (options && known) {
            answer_options(req, allow);
            return -1;
        }
        if (known) {
            req->allow = arena_strdup(&req->arena, allow);
            return req_fail(req, PROBLEM_METHOD, "%s is not allowed on %s; allowed: %s",
                            req->method, req->path, allow);
        }
        return req_fail(req, PROBLEM_NOT_FOUND, "no route %s", req->path);
    }
    req->route_index = (int)(req->route - routes);
    req->path_arg = arg ? arena_strndup(&req->arena, arg, strcspn(arg, "/")) : NULL;
    if (app->cfg.process_role == PROCESS_TRAINER && req->route->role != ROLE_NONE &&
        strncmp(req->route->path, "/admin/", 7) != 0)
        return req_fail(req, PROBLEM_NOT_FOUND,
                        "%s is served by the api processes; this one trains (XSELL_ROLE=trainer)",
                        req->path);
    if (req->route->role != ROLE_NONE && check_key(req, srv))
        return -1;
    if (req->route->limited && check_rate(req, app))
        return -1;
    if (!ready_for(req))
        return req_fail(req, PROBLEM_NOT_READY, "the first model is still training");
    if (req->route->has_body && !is_json(req->content_type))
        return req_fail(req, PROBLEM_MEDIA_TYPE, "send Content-Type: application/json");
    if (length > app->cfg.body_max)
        return req_fail(req, PROBLEM_TOO_LARGE, "the body is larger than %zu bytes",
                        app->cfg.body_max);
    return 0;
}

/* A route on its lane's pool; the connection waits suspended and is resumed to send. */
static void run_pooled(void *arg)
{
    struct exchange *x = arg;
    x->req.route->fn(&x->req);
    atomic_store(&x->phase, PHASE_ANSWERED);
    MHD_resume_connection(x->c);
}

/* The whole request is in: answer it here, or hand it to its lane's pool (503 when
 * that is full, so cheap requests never wait behind costly ones or the database). */
static enum MHD_Result answer(struct exchange *x)
{
    struct request *req = &x->req;
    struct http_server *srv = x->srv;
    conns_receiving(x->conn, false, mono_seconds());
    if (req->route->lane != LANE_HTTP) {
        bool heavy = req->route->lane == LANE_HEAVY;
        struct workpool *pool = heavy ? &srv->heavy : &srv->db;
        atomic_store(&x->phase, PHASE_POOLED);
        MHD_suspend_connection(x->c);
        if (workpool_submit(pool, run_pooled, x))
            return MHD_YES; /* answered on the call that follows the resume */
        MHD_resume_connection(x->c);
        req->retry_after = 1;
        atomic_fetch_add(heavy ? &srv->app->metrics.heavy_refused : &srv->app->metrics.db_refused,
                         1);
        req_fail(req, PROBLEM_BUSY, "%d %s requests are running or waiting; try again shortly",
                 workpool_load(pool), heavy ? "costly" : "database");
    } else {
        req->route->fn(req);
    }
    atomic_store(&x->phase, PHASE_ANSWERED);
    return send_response(x->c, req);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct http_server *srv = cls;
    struct request *req = *con_cls;
    UNUSED(version);
    if (!req) {
        /* First call: headers only. Answer on a later call, or libmicrohttpd closes
         * the connection after the response (DESIGN.md: ~4x less throughput), unless
         * the head alone is refused: then at once, without reading the body. */
        req = request_new(srv, c, url, method);
        *con_cls = req;
        struct framing f;
        read_framing(c, &f);
        if (check_head(req, srv, &f) == 0)
            return MHD_YES;
        atomic_store(&exchange_of(req)->phase, PHASE_ANSWERED);
        /* Without a body the answer waits for the next call, which keeps the
         * connection alive (a 429 must not cost the client a new connection). */
        return body_announced(&f) ? send_response(c, req) : MHD_YES;
    }
    struct exchange *x = exchange_of(req);
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (!req->body_too_large && buf_append(&req->body, upload_data, n)) {
            /* A chunked body past the cap: reading stops here; the connection closes. */
            req->body_too_large = true;
            log_warn("request %s: %s %s: a chunked body passed %zu bytes; closing", req->id,
                     req->method, req->path, srv->app->cfg.body_max);
            req->status = 413; /* for the access log and metrics */
            return MHD_NO;
        }
        return MHD_YES;
    }
    switch (atomic_load(&x->phase)) {
    case PHASE_RECEIVING:
        return answer(x);
    case PHASE_POOLED:
        return MHD_YES; /* not answered yet */
    case PHASE_ANSWERED:
    default:
        return x->sent ? MHD_YES : send_response(c, req);
    }
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct http_server *srv = cls;
    struct app *app = srv->app;
    struct request *req = *con_cls;
    UNUSED(c);
    if (!req)
        return;
    double secs = mono_seconds() - req->t_start;
    metrics_observe(&app->metrics, req->route_index, req->status, secs);
    if (app->cfg.access_log)
        log_info("access id=%s client=%s method=%s path=%s status=%d ms=%.3f role=%s%s", req->id,
                 req->client, req->method, req->path, req->status, secs * 1e3, role_name(req->role),
                 toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted=1");
    conns_receiving(exchange_of(req)->conn, true, mono_seconds());
    *con_cls = NULL;
    request_free(req);
    atomic_fetch_sub(&app->in_flight, 1);
}

/* Each connection is in srv->conns from its start to its close. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct http_server *srv = cls;
    if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        conns_close(&srv->conns, *socket_context);
        *socket_context = NULL;
        return;
    }
    const union MHD_ConnectionInfo *fd =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    const union MHD_ConnectionInfo *addr =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    *socket_context = conns_open(&srv->conns, fd ? fd->connect_fd : -1,
                                 addr ? addr->client_addr : NULL, mono_seconds());
}

/* A request target past URL_MAX, or with more than PARAMS_MAX parameters, is
 * answered here, as the request line arrives: libmicrohttpd would store each parameter
 * in the connection's memory and, that full, close the connection without a word. The
 * answer is written to the socket directly (nothing else has been sent on it), then the
 * socket is shut down so that the library drops the connection. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    struct http_server *srv = cls;
    size_t len = strlen(uri), params = 0;
    const char *q = strchr(uri, '?');
    for (const char *p = q; p && *p; p++)
        params += *p == '&' || *p == '?';
    if (len <= URL_MAX && params <= PARAMS_MAX)
        return NULL;
    enum problem p = len > URL_MAX ? PROBLEM_URI_TOO_LONG : PROBLEM_BAD_PARAM;
    const struct problem_info *info = problem_info(p);
    char id[32], body[600], head[400];
    snprintf(id, sizeof(id), "%lx-%lx", (unsigned long)getpid() & 0xffff,
             (unsigned long)atomic_fetch_add(&srv->app->request_seq, 1) + 1);
    int blen =
        snprintf(body, sizeof(body),
                 "{\"type\":\"%s\",\"title\":\"%s\",\"status\":%d,\"detail\":\"the "
                 "request target holds %zu bytes and %zu parameters; at most %d and %d\","
                 "\"request_id\":\"%s\"}",
                 info->type, info->title, info->status, len, params, URL_MAX, PARAMS_MAX, id);
    int hlen =
        snprintf(head, sizeof(head),
                 "HTTP/1.1 %d %s\r\nContent-Type: application/problem+json\r\n"
                 "X-Request-Id: %s\r\nCache-Control: no-store\r\nConnection: close\r\n"
                 "Content-Length: %d\r\n\r\n",
                 info->status, info->status == 414 ? "URI Too Long" : "Bad Request", id, blen);
    const union MHD_ConnectionInfo *fd =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (fd && send(fd->connect_fd, head, (size_t)hlen, MSG_NOSIGNAL) == hlen &&
        send(fd->connect_fd, body, (size_t)blen, MSG_NOSIGNAL) == blen)
        log_info("access id=%s method=? path=(%zu bytes) status=%d ms=0 role=none", id, len,
                 info->status);
    if (fd)
        shutdown(fd->connect_fd, SHUT_RDWR);
    metrics_observe(&srv->app->metrics, -1, info->status, 0);
    return NULL;
}

/* At most conn_per_client connections from one address (trusted proxies exempt). */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    struct http_server *srv = cls;
    UNUSED(addrlen);
    if (atomic_load(&srv->stopping))
        return MHD_NO;
    return conns_admit(&srv->conns, addr) ? MHD_YES : MHD_NO;
}

/* libmicrohttpd's messages; its format strings are its own, not user input. */
#if defined(__clang__)
#pragma clang diagnostic ignored "-Wformat-nonliteral"
#endif
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char line[512];
    UNUSED(cls);
    vsnprintf(line, sizeof(line), fmt, ap);
    size_t n = strlen(line);
    while (n && line[n - 1] == '\n')
        line[--n] = '\0';
    log_warn("http: %s", line);
}

/* What http_server_start set up beside the daemon. */
static void server_free(struct http_server *s)
{
    workpool_release(&s->heavy); /* first: a running job resumes a live connection */
    workpool_release(&s->db);
    if (s->daemon)
        MHD_stop_daemon(s->daemon);
    conns_release(&s->conns);
    ratelimit_release(&s->auth_failures);
    free(s);
}

struct http_server *http_server_start(struct app *app)
{
    const struct config *cfg = &app->cfg;
    struct addrinfo hints = {0}, *ai = NULL;
    char port[8];
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
    snprintf(port, sizeof(port), "%u", cfg->port);
    int gai = getaddrinfo(cfg->listen_host, port, &hints, &ai);
    if (gai != 0) {
        log_error("cannot resolve listen address %s: %s", cfg->listen_host, gai_strerror(gai));
        return NULL;
    }
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
                         MHD_ALLOW_SUSPEND_RESUME; /* the heavy pool */
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    struct http_server *s = xcalloc(1, sizeof(*s));
    s->app = app;
    conns_init(&s->conns, cfg->conn_per_client, cfg->request_deadline_s, cfg->trusted,
               cfg->ntrusted);
    s->conns.refused = &app->metrics.connections_refused;
    s->conns.reaped = &app->metrics.requests_cut;
    ratelimit_init(&s->auth_failures, cfg->auth_fail_rps, cfg->auth_fail_burst);
    atomic_init(&s->last_auth_failure, -1e18);
    s->auth_refill_s = cfg->auth_fail_rps > 0 ? cfg->auth_fail_burst / cfg->auth_fail_rps : 0;
    /* as many database threads as pooled connections: none waits for a connection */
    if (workpool_init(&s->heavy, cfg->heavy_threads, cfg->heavy_queue, true) ||
        workpool_init(&s->db, cfg->db_pool, cfg->db_queue, false) || conns_start(&s->conns)) {
        log_error("cannot start the server's threads");
        freeaddrinfo(ai);
        server_free(s);
        return NULL;
    }
    s->daemon = MHD_start_daemon(
        flags, 0, on_accept, s, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_SOCK_ADDR, ai->ai_addr, MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)cfg->threads,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)cfg->conn_limit, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned int)cfg->conn_timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT, cfg->conn_memory,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_NOTIFY_CONNECTION, on_connection,
        s, MHD_OPTION_URI_LOG_CALLBACK, on_uri, s, MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!s->daemon) {
        log_error("cannot listen on %s:%u (in use, or not an address of this host)",
                  cfg->listen_host, cfg->port);
        server_free(s);
        return NULL;
    }
    log_info("listening on http://%s:%u with %d threads (XSELL_ROLE=%s)", cfg->listen_host,
             cfg->port, cfg->threads, process_role_name(cfg->process_role));
    return s;
}

void http_server_stop(struct http_server *s, double grace_s)
{
    if (!s)
        return;
    /* New connections are closed at accept rather than the listening socket taken
     * out with MHD_quiesce_daemon: with epoll and a thread pool, that races with the
     * workers' own removal of the socket and libmicrohttpd (0.9.75) aborts the
     * process ("Failed to remove listen FD from epoll set"), seen at a stop while
     * the trainer was writing a snapshot. */
    atomic_store(&s->stopping, true);
    double until = mono_seconds() + grace_s;
    while (atomic_load(&s->app->in_flight) > 0 && mono_seconds() < until)
        usleep(10000);
    server_free(s);
}
