/* problem.h - the one catalogue of client-visible errors (RFC 9457 problem details).
 * Each entry: name, HTTP status, type slug, title. */
#ifndef XSELL_PROBLEM_H
#define XSELL_PROBLEM_H

#define PROBLEM_LIST(X)                                                                            \
    X(BAD_PARAM, 400, "bad-parameter", "Bad parameter")                                            \
    X(BAD_BODY, 400, "bad-body", "Malformed request body")                                         \
    X(BAD_REQUEST, 400, "bad-request", "Malformed HTTP request")                                   \
    X(UNAUTHORIZED, 401, "unauthorized", "API key required")                                       \
    X(FORBIDDEN, 403, "forbidden", "This key may not use this route")                              \
    X(NOT_FOUND, 404, "not-found", "No such route")                                                \
    X(UNKNOWN_ID, 404, "unknown-id", "Unknown id")                                                 \
    X(METHOD, 405, "method-not-allowed", "Method not allowed")                                     \
    X(STALE_CURSOR, 409, "stale-cursor", "Cursor from another model version")                      \
    X(CONFLICT, 409, "conflict", "Conflicts with what is stored")                                  \
    X(TOO_LARGE, 413, "body-too-large", "Request body too large")                                  \
    X(MEDIA_TYPE, 415, "unsupported-media-type", "Unsupported media type")                         \
    X(URI_TOO_LONG, 414, "uri-too-long", "Request target too long")                                \
    X(RATE_LIMITED, 429, "rate-limited", "Too many requests")                                      \
    X(INTERNAL, 500, "internal-error", "Internal error")                                           \
    X(NOT_READY, 503, "not-ready", "No model is serving yet")                                      \
    X(DB_DOWN, 503, "database-unavailable", "Database unavailable")                                \
    X(BUSY, 503, "busy", "Too many costly requests at once")

enum problem {
#define X(name, status, slug, title) PROBLEM_##name,
    PROBLEM_LIST(X)
#undef X
        PROBLEM_COUNT
};

struct problem_info {
    int status;
    const char *type; /* a URI reference: "/problems/<slug>" */
    const char *title;
};

const struct problem_info *problem_info(enum problem p);

#endif
