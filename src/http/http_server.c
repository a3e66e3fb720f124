#include "xsell/http_server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <strings.h>
#include <unistd.h>

#include "xsell/app.h" /* the server alone reaches the process state */
#include "xsell/log.h"
#include "xsell/router.h"
#include "xsell/xalloc.h"

struct http_server {
    struct MHD_Daemon *daemon;
    struct app *app;
};

/* A request as the server holds it: the part handlers see first, then what only the
 * server touches (the process state and the snapshot reference it drops). */
struct exchange {
    struct request req;
    struct app *app;
    struct snapshot *snap;
};

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

static const char *client_address(struct request *req, struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    char host[INET6_ADDRSTRLEN + 1] = "unknown";
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, host,
                      sizeof(host));
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, host,
                      sizeof(host));
    }
    return arena_strdup(&req->arena, host);
}

static struct request *request_new(struct app *app, struct MHD_Connection *c, const char *url,
                                   const char *method)
{
    struct exchange *x = xcalloc(1, sizeof(*x));
    struct request *req = &x->req;
    arena_init(&req->arena);
    x->app = app;
    req->svc = &app->svc;
    req->t_start = mono_seconds();
    req->route_index = -1;
    req->key_index = -1;
    static unsigned long pid; /* a request id: process, then sequence */
    if (!pid)
        pid = (unsigned long)getpid() & 0xffff;
    snprintf(req->id, sizeof(req->id), "%lx-%lx", pid,
             (unsigned long)atomic_fetch_add(&app->request_seq, 1) + 1);
    req->method = arena_strdup(&req->arena, method);
    req->path = arena_strdup(&req->arena, url);
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_param, req);
    req->authorization = dup_header(req, c, MHD_HTTP_HEADER_AUTHORIZATION);
    req->origin = dup_header(req, c, MHD_HTTP_HEADER_ORIGIN);
    req->content_type = dup_header(req, c, MHD_HTTP_HEADER_CONTENT_TYPE);
    req->client = client_address(req, c);
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
    if (!origin)
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
    req->resp_body = NULL; /* libmicrohttpd frees it now */
    if (req->resp_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, req->resp_type);
    MHD_add_response_header(resp, "X-Request-Id", req->id);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
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

static void dispatch(struct request *req)
{
    struct app *app = app_of(req);
    char allow[128];
    bool known;
    const char *arg = NULL;
    if (req->too_many_params) {
        req_fail(req, PROBLEM_BAD_PARAM, "more than %d query parameters", PARAMS_MAX);
        return;
    }
    bool options = strcmp(req->method, "OPTIONS") == 0;
    req->route = router_match(req->method, req->path, &arg, &known, allow, sizeof(allow));
    if (!req->route) {
        if (options && known) {
            answer_options(req, allow);
        } else if (known) {
            req->allow = arena_strdup(&req->arena, allow);
            req_fail(req, PROBLEM_METHOD, "%s is not allowed on %s; allowed: %s", req->method,
                     req->path, allow);
        } else {
            req_fail(req, PROBLEM_NOT_FOUND, "no route %s", req->path);
        }
        return;
    }
    req->route_index = (int)(req->route - routes);
    req->path_arg = arg ? arena_strdup(&req->arena, arg) : NULL;
    if (req->route->role != ROLE_NONE) {
        if (app->cfg.auth_none) {
            req->role = ROLE_ADMIN;
        } else {
            req->role =
                auth_role(app->cfg.keys, app->cfg.nkeys, req->authorization, &req->key_index);
            if (req->role == ROLE_NONE) {
                req_fail(req, PROBLEM_UNAUTHORIZED,
                         req->authorization ? "the key is not valid"
                                            : "send Authorization: Bearer <key>");
                return;
            }
            if (req->role < req->route->role) {
                req_fail(req, PROBLEM_FORBIDDEN, "%s needs a %s key; this one is %s",
                         req->route->path, role_name(req->route->role), role_name(req->role));
                return;
            }
        }
    }
    if (req->route->limited) {
        char key[64];
        int retry = 1;
        if (req->key_index >= 0)
            snprintf(key, sizeof(key), "key:%d", req->key_index);
        else
            snprintf(key, sizeof(key), "addr:%s", req->client);
        if (!ratelimit_allow(&app->limiter, key, mono_seconds(), &retry)) {
            req->retry_after = retry;
            req_fail(req, PROBLEM_RATE_LIMITED, "rate limit of %g requests/s exceeded",
                     app->cfg.rate_rps);
            return;
        }
    }
    if (!ready_for(req)) {
        req_fail(req, PROBLEM_NOT_READY, "the first model is still training");
        return;
    }
    if (req->route->has_body) {
        if (req->body_too_large) {
            req_fail(req, PROBLEM_TOO_LARGE, "the body is larger than %zu bytes",
                     app->cfg.body_max);
            return;
        }
        if (!is_json(req->content_type)) {
            req_fail(req, PROBLEM_MEDIA_TYPE, "send Content-Type: application/json");
            return;
        }
    }
    req->route->fn(req);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct app *app = cls;
    struct request *req = *con_cls;
    UNUSED(version);
    if (!req) {
        /* First call: headers only. Answer on a later call, or libmicrohttpd closes
         * the connection after the response (DESIGN.md: ~4x less throughput). */
        req = request_new(app, c, url, method);
        *con_cls = req;
        const char *cl =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > app->cfg.body_max) {
            /* Refuse before reading a byte of it; the connection closes. */
            req->body_too_large = true;
            req_fail(req, PROBLEM_TOO_LARGE, "the body is larger than %zu bytes",
                     app->cfg.body_max);
            return send_response(c, req);
        }
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (!req->body_too_large && buf_append(&req->body, upload_data, *upload_data_size))
            req->body_too_large = true;
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (req->status != 0)
        return MHD_YES; /* already answered (413) */
    dispatch(req);
    return send_response(c, req);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct app *app = cls;
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
    *con_cls = NULL;
    request_free(req);
    atomic_fetch_sub(&app->in_flight, 1);
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
                         MHD_USE_ITC; /* quiesce needs it */
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    struct http_server *s = xcalloc(1, sizeof(*s));
    s->app = app;
    s->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, app, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_SOCK_ADDR, ai->ai_addr, MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)cfg->threads,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)cfg->conn_limit, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned int)cfg->conn_timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT, cfg->conn_memory,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, app, MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!s->daemon) {
        log_error("cannot listen on %s:%u (in use, or not an address of this host)",
                  cfg->listen_host, cfg->port);
        free(s);
        return NULL;
    }
    log_info("listening on http://%s:%u with %d threads", cfg->listen_host, cfg->port,
             cfg->threads);
    return s;
}

void http_server_stop(struct http_server *s, double grace_s)
{
    if (!s)
        return;
    MHD_socket fd = MHD_quiesce_daemon(s->daemon);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    double until = mono_seconds() + grace_s;
    while (atomic_load(&s->app->in_flight) > 0 && mono_seconds() < until)
        usleep(10000);
    MHD_stop_daemon(s->daemon);
    free(s);
}
