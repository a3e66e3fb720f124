/* request.h - one HTTP request as handlers see it: parameters, body, the caller's
 * role, its snapshot (read-only) and services, and the response being built. No
 * libmicrohttpd, no database and no process state here.
 *
 * Memory: everything hangs off req->arena and is freed when the response is sent.
 * Handlers answer through respond_*() (0) or req_fail() (-1) and return what it gave:
 * `return req_fail(req, PROBLEM_BAD_PARAM, "limit must be ...");`. */
#ifndef XSELL_REQUEST_H
#define XSELL_REQUEST_H

#include <cjson/cJSON.h>

#include "xsell/arena.h"
#include "xsell/auth.h"
#include "xsell/buf.h"
#include "xsell/caps.h"
#include "xsell/problem.h"
#include "xsell/services.h"
#include "xsell/snapshot.h"

struct route;

struct param {
    const char *name, *value;
};

struct request {
    struct arena arena;
    struct services *svc;        /* what the handler may ask beyond its snapshot */
    char id[REQUEST_ID_MAX + 1]; /* the client's X-Request-Id when valid, else ours */
    double t_start;
    const char *method;
    const char *path;
    const char *path_arg; /* the {id} of a route like /products/{id}, decoded */
    struct param params[PARAMS_MAX];
    int nparams;
    bool too_many_params;
    const char *authorization, *origin, *content_type, *client;
    struct buf body;
    bool body_too_large;
    const struct route *route;
    int route_index; /* -1: none */
    enum role role;
    int key_index;
    const struct snapshot *snap; /* taken at the start, dropped at the end; may be NULL */
    /* the response */
    int status;
    char *resp_body; /* malloc'd; handed to the HTTP layer */
    size_t resp_len;
    const char *resp_type;
    const char *allow; /* for 405 and OPTIONS */
    int retry_after;   /* seconds; 0 = no header */
    bool www_authenticate;
    bool preflight; /* a CORS preflight from an allowed origin */
    const char *location;
    const char *csp;   /* a Content-Security-Policy (the pages), NULL: none */
    const char *cache; /* Cache-Control; NULL: no-store */
};

/* The value of query parameter name, or NULL. Repeated names: the first. */
const char *req_param(const struct request *req, const char *name);
/* Answers with the problem; detail is printf-style (name the parameter and value).
 * Returns -1, like the param_* helpers after they answered. */
int req_fail(struct request *req, enum problem p, const char *fmt, ...) PRINTF_LIKE(3, 4);
/* limit-style integer parameter: absent -> def; out of min..max or not an integer ->
 * answers 400 naming it and returns -1. */
int param_int(struct request *req, const char *name, int min, int max, int def, int *out);
/* A finite number in min..max; absent -> def. -1 after answering 400. */
int param_double(struct request *req, const char *name, double min, double max, double def,
                 double *out);
/* true/false parameter; absent -> def. -1 after answering 400. */
int param_bool(struct request *req, const char *name, bool def, bool *out);
/* A time parameter into *t (seconds) and as canonical text into *out (arena memory):
 * absent -> def; a date given as an end (end) means all of that day. -1 after
 * answering 400. */
int param_time(struct request *req, const char *name, bool end, double def, double *t,
               const char **out);
/* The window from..to: to defaults to to_def, from to days before to; 400 unless from
 * is before to. Times into from/to and their canonical text into the *_s. -1 after
 * answering 400. */
int param_window(struct request *req, double to_def, int days, double *from, double *to,
                 const char **from_s, const char **to_s);
/* One of n (at most 4) names, its index into *out; absent -> def. -1 after answering
 * 400 naming the choices. */
int param_choice(struct request *req, const char *name, const char *const *names, int n, int def,
                 int *out);
/* An id parameter (strparse_id_valid's rule) into *out: absent -> NULL, or 400 when
 * required. -1 after answering 400 naming it. */
int param_id(struct request *req, const char *name, bool required, const char **out);
/* Splits a comma-separated parameter into at most max non-empty ids, each as
 * param_id takes them (arena memory). Absent -> 0 items. -1 after answering 400. */
int param_list(struct request *req, const char *name, int max, const char ***out, int *n);
/* Renders root (then deletes it) as the response body. */
int respond_json(struct request *req, int status, cJSON *root);
/* A body the caller owns for the request's lifetime is copied. */
int respond_body(struct request *req, int status, const char *type, const char *body, size_t len);
/* As respond_body, taking over a malloc'd body. */
int respond_take(struct request *req, int status, const char *type, char *body, size_t len);
/* A 200 answer of the given type taking over the buffer's contents (b is left
 * empty). A buffer that overflowed its cap (buf.h) is never sent: the request gets a
 * logged 500 instead of a cut-off body. */
int respond_buf_as(struct request *req, const char *type, struct buf *b);
/* respond_buf_as for JSON. */
int respond_buf(struct request *req, struct buf *b);
/* The list cursor of this request (parameter cursor; see cursor.h): its position
 * into *pos, 0 when absent. filters is the hash of the list's other parameters,
 * named in what (for the message). -1 after answering 400 (not this list's) or 409
 * (another model version's). */
int req_cursor(struct request *req, uint32_t filters, uint32_t limit, const char *what,
               uint32_t *pos);

#endif
