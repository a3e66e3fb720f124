#include "xsell/request.h"

#include <stdarg.h>

#include "xsell/cursor.h"
#include "xsell/log.h"
#include "xsell/snapshot.h"
#include "xsell/strparse.h"
#include "xsell/xalloc.h"

const char *req_param(const struct request *req, const char *name)
{
    for (int i = 0; i < req->nparams; i++)
        if (strcmp(req->params[i].name, name) == 0)
            return req->params[i].value;
    return NULL;
}

/* body with each byte that is not part of well-formed UTF-8 as the escape \ufffd
 * (JSON text: such bytes can only be inside strings); body is freed. */
static char *utf8_repaired(char *body, size_t *len)
{
    struct buf b;
    buf_init(&b, BUF_UNCAPPED);
    for (size_t i = 0; i < *len;) {
        size_t n = strparse_utf8_char(body + i, *len - i);
        if (n) {
            buf_append(&b, body + i, n);
            i += n;
        } else {
            buf_append(&b, "\\ufffd", 6);
            i++;
        }
    }
    free(body);
    return buf_detach(&b, len);
}

int respond_take(struct request *req, int status, const char *type, char *body, size_t len)
{
    /* Every answer is valid UTF-8 JSON, whatever bytes a client sent to be echoed. */
    if (type && strstr(type, "json") && !strparse_utf8_valid(body, len))
        body = utf8_repaired(body, &len);
    free(req->resp_body);
    req->resp_body = body;
    req->resp_len = len;
    req->resp_type = type;
    req->status = status;
    return 0;
}

int respond_buf_as(struct request *req, const char *type, struct buf *b)
{
    if (b->overflow) {
        /* A cap in caps.h is too small for an answer the handler allowed: a bug. */
        log_error("request %s: %s %s: the answer passed its cap of %zu bytes", req->id,
                  req->method ? req->method : "", req->path ? req->path : "", b->max);
        buf_release(b);
        return req_fail(req, PROBLEM_INTERNAL, "the answer grew past its size limit");
    }
    size_t len;
    char *text = buf_detach(b, &len);
    return respond_take(req, 200, type, text, len);
}

int respond_buf(struct request *req, struct buf *b)
{
    return respond_buf_as(req, "application/json", b);
}

int req_cursor(struct request *req, uint32_t filters, uint32_t limit, const char *what,
               uint32_t *pos)
{
    const char *cursor = req_param(req, "cursor");
    int64_t v;
    *pos = 0;
    if (!cursor)
        return 0;
    if (cursor_parse(cursor, filters, limit, &v, pos)) {
        return req_fail(req, PROBLEM_BAD_PARAM, "cursor is not one this list gave with these %s",
                        what);
    }
    if (v != req->snap->version) {
        return req_fail(
            req, PROBLEM_STALE_CURSOR,
            "cursor belongs to model version %lld, now serving %lld: start again without it",
            (long long)v, (long long)req->snap->version);
    }
    return 0;
}

int respond_body(struct request *req, int status, const char *type, const char *body, size_t len)
{
    return respond_take(req, status, type, xstrndup(body, len), len);
}

int respond_json(struct request *req, int status, cJSON *root)
{
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!text) {
        fprintf(stderr, "xsell: out of memory rendering JSON\n");
        abort();
    }
    return respond_take(req, status, "application/json", text, strlen(text));
}

int req_fail(struct request *req, enum problem p, const char *fmt, ...)
{
    const struct problem_info *info = problem_info(p);
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    /* A detail may quote client input cut mid-character; keep the JSON valid UTF-8. */
    size_t n = strlen(detail);
    while (n && !strparse_utf8_valid(detail, n))
        detail[--n] = '\0';
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "type", info->type);
    cJSON_AddStringToObject(root, "title", info->title);
    cJSON_AddNumberToObject(root, "status", info->status);
    cJSON_AddStringToObject(root, "detail", detail);
    cJSON_AddStringToObject(root, "instance", req->path ? req->path : "");
    cJSON_AddStringToObject(root, "request_id", req->id);
    respond_json(req, info->status, root);
    req->resp_type = "application/problem+json";
    if (info->status == 401)
        req->www_authenticate = true;
    if (info->status == 503 && req->retry_after == 0)
        req->retry_after = 5;
    return -1;
}

/* A parameter value shown in a message: cut to 60 bytes. */
static const char *shown(const char *v)
{
    static _Thread_local char out[72];
    size_t n = strlen(v);
    if (n <= 60)
        return v;
    memcpy(out, v, 60);
    memcpy(out + 60, "...", 4);
    return out;
}

int param_int(struct request *req, const char *name, int min, int max, int def, int *out)
{
    const char *v = req_param(req, name);
    int64_t x;
    if (!v) {
        *out = def;
        return 0;
    }
    if (strparse_int64(v, strlen(v), min, max, &x)) {
        return req_fail(req, PROBLEM_BAD_PARAM, "%s must be an integer in %d..%d, got \"%s\"", name,
                        min, max, shown(v));
    }
    *out = (int)x;
    return 0;
}

int param_double(struct request *req, const char *name, double min, double max, double def,
                 double *out)
{
    const char *v = req_param(req, name);
    if (!v) {
        *out = def;
        return 0;
    }
    if (strparse_double(v, strlen(v), out) || *out < min || *out > max) {
        return req_fail(req, PROBLEM_BAD_PARAM, "%s must be a number in %g..%g, got \"%s\"", name,
                        min, max, shown(v));
    }
    return 0;
}

int param_bool(struct request *req, const char *name, bool def, bool *out)
{
    const char *v = req_param(req, name);
    if (!v) {
        *out = def;
        return 0;
    }
    if (strparse_bool(v, strlen(v), out)) {
        return req_fail(req, PROBLEM_BAD_PARAM, "%s must be true or false, got \"%s\"", name,
                        shown(v));
    }
    return 0;
}

int param_time(struct request *req, const char *name, bool end, double def, double *t,
               const char **out)
{
    const char *v = req_param(req, name);
    char canon[STRPARSE_TS_LEN];
    *t = def;
    if (v && strparse_timestamp(v, strlen(v), t, NULL))
        return req_fail(req, PROBLEM_BAD_PARAM,
                        "%s must be an ISO-8601 date or date-time, got \"%.60s\"", name, shown(v));
    if (v && strlen(v) == 10 && end)
        *t += DAY_S;
    strparse_format_timestamp(*t, canon);
    *out = arena_strdup(&req->arena, canon);
    return 0;
}

int param_window(struct request *req, double to_def, int days, double *from, double *to,
                 const char **from_s, const char **to_s)
{
    if (param_time(req, "to", true, to_def, to, to_s) ||
        param_time(req, "from", false, *to - days * DAY_S, from, from_s))
        return -1;
    if (!(*from < *to))
        return req_fail(req, PROBLEM_BAD_PARAM, "from must be before to");
    return 0;
}

int param_choice(struct request *req, const char *name, const char *const *names, int n, int def,
                 int *out)
{
    const char *v = req_param(req, name);
    *out = def;
    if (!v)
        return 0;
    for (int i = 0; i < n; i++)
        if (strcmp(v, names[i]) == 0) {
            *out = i;
            return 0;
        }
    return req_fail(req, PROBLEM_BAD_PARAM, "%s must be one of %s%s%s%s%s%s%s, got \"%.60s\"", name,
                    names[0], n > 1 ? "|" : "", n > 1 ? names[1] : "", n > 2 ? "|" : "",
                    n > 2 ? names[2] : "", n > 3 ? "|" : "", n > 3 ? names[3] : "", v);
}

int param_id(struct request *req, const char *name, bool required, const char **out)
{
    const char *v = req_param(req, name);
    *out = NULL;
    if (!v && !required)
        return 0;
    if (!v || !strparse_id_valid(v, strlen(v)))
        return req_fail(req, PROBLEM_BAD_PARAM,
                        "%s must be an id: 1..%d bytes of UTF-8 without control characters", name,
                        ID_MAX);
    *out = v;
    return 0;
}

int param_list(struct request *req, const char *name, int max, const char ***out, int *n)
{
    const char *v = req_param(req, name);
    *n = 0;
    *out = NULL;
    if (!v)
        return 0;
    const char **items = arena_array(&req->arena, (size_t)max, sizeof(char *));
    const char *p = v;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > 0) {
            if (*n == max) {
                return req_fail(req, PROBLEM_BAD_PARAM, "%s holds more than %d ids", name, max);
            }
            if (!strparse_id_valid(p, len)) {
                return req_fail(req, PROBLEM_BAD_PARAM,
                                "%s: each id must be 1..%d bytes of UTF-8 without control "
                                "characters",
                                name, ID_MAX);
            }
            items[(*n)++] = arena_strndup(&req->arena, p, len);
        }
        p += len;
        if (*p == ',')
            p++;
    }
    *out = items;
    return 0;
}
