/* router.h - the route table: the only list of endpoints (Redis's command table). */
#ifndef XSELL_ROUTER_H
#define XSELL_ROUTER_H

#include "xsell/auth.h"
#include "xsell/request.h"

typedef int (*handler_fn)(struct request *req);

/* Where a route runs: on the HTTP thread that read it, or handed to a bounded pool
 * (the connection suspended meanwhile) so that the HTTP threads never wait on it. */
enum lane {
    LANE_HTTP,  /* cheap: answered at once */
    LANE_HEAVY, /* cost grows with the input: the heavy pool, at idle priority */
    LANE_DB     /* waits on the database (writes, the runs): the database pool's threads */
};

struct route {
    const char *method;
    const char *path; /* an "{id}" segment matches one non-empty segment */
    enum role role;   /* least role allowed; ROLE_NONE = no key needed */
    bool needs_model; /* 503 until a snapshot serves */
    bool has_body;    /* JSON body expected */
    bool limited;     /* counted by the rate limiter */
    enum lane lane;   /* where it runs (below) */
    handler_fn fn;
};

extern const struct route routes[];
extern const int routes_count;

/* The route for method and path, with *arg set to where its {id} segment starts in
 * path (it ends at the next '/' or the end; not decoded).
 * NULL when none: then *path_known tells whether another method would have matched,
 * and allow (at least 64 bytes) lists those methods, comma-separated. */
const struct route *router_match(const char *method, const char *path, const char **arg,
                                 bool *path_known, char *allow, size_t allowlen);
/* Route i's Prometheus labels (path pattern and method) into out; false past the end. */
bool router_labels(int i, char *out, size_t n);

#endif
