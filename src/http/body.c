#include "xsell/body.h"

#include <math.h>

#include "xsell/log.h"
#include "xsell/strparse.h"

static void free_json(void *p)
{
    cJSON_Delete(p);
}

/* Whether text holds the escape \u0000: cJSON would end the string there, silently
 * cutting an id short. Backslashes only occur inside strings in valid JSON. */
static bool escapes_nul(const char *text, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++) {
        if (text[i] != '\\')
            continue;
        if (text[i + 1] == 'u' && i + 5 < n && memcmp(text + i + 2, "0000", 4) == 0)
            return true;
        i++; /* the escaped character */
    }
    return false;
}

cJSON *body_json(struct request *req)
{
    const char *end = NULL;
    if (req->body.len == 0) {
        req_fail(req, PROBLEM_BAD_BODY, "the body is empty; send a JSON document");
        return NULL;
    }
    if (memchr(req->body.data, '\0', req->body.len)) {
        req_fail(req, PROBLEM_BAD_BODY, "the body holds a NUL byte");
        return NULL;
    }
    if (escapes_nul(req->body.data, req->body.len)) {
        req_fail(req, PROBLEM_BAD_BODY, "the body holds the escape \\u0000 (NUL)");
        return NULL;
    }
    /* The length includes the buffer's terminating NUL: cJSON's "require null
     * terminated" looks for it inside the length, and rejects trailing garbage. */
    cJSON *root = cJSON_ParseWithLengthOpts(req->body.data, req->body.len + 1, &end, true);
    if (!root) {
        size_t at = end && end >= req->body.data ? (size_t)(end - req->body.data) : 0;
        req_fail(req, PROBLEM_BAD_BODY, "the body is not valid JSON (near byte %zu)", at);
        return NULL;
    }
    arena_defer(&req->arena, free_json, root);
    return root;
}

static int to_text(struct request *req, const char *s, struct text *out)
{
    out->p = arena_strdup(&req->arena, s);
    out->n = strlen(s);
    return 0;
}

/* The member name of obj in *v: 1 present, 0 absent or null (out left empty), -1
 * absent but required (answered). */
static int member(struct request *req, const cJSON *obj, const char *name, const char *where,
                  bool required, const cJSON **v, struct text *out)
{
    *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    out->p = "";
    out->n = 0;
    if (*v && !cJSON_IsNull(*v))
        return 1;
    if (required)
        return req_fail(req, PROBLEM_BAD_BODY, "%s%s is required", where, name);
    return 0;
}

int body_string(struct request *req, const cJSON *obj, const char *name, const char *where,
                bool required, struct text *out)
{
    const cJSON *v;
    int got = member(req, obj, name, where, required, &v, out);
    if (got <= 0)
        return got;
    if (!cJSON_IsString(v))
        return req_fail(req, PROBLEM_BAD_BODY, "%s%s must be a string", where, name);
    return to_text(req, v->valuestring, out);
}

int body_id(struct request *req, const cJSON *obj, const char *name, const char *where,
            bool required, struct text *out)
{
    if (body_string(req, obj, name, where, required, out))
        return -1;
    bool given = cJSON_IsString(cJSON_GetObjectItemCaseSensitive(obj, name)); /* "" too */
    if (given && !strparse_id_valid(out->p, out->n))
        return req_fail(req, PROBLEM_BAD_BODY,
                        "%s%s must be an id: 1..%d bytes of UTF-8 without control characters",
                        where, name, ID_MAX);
    return 0;
}

int body_number(struct request *req, const cJSON *obj, const char *name, const char *where,
                bool required, bool integer, struct text *out)
{
    const cJSON *v;
    char num[40];
    int got = member(req, obj, name, where, required, &v, out);
    if (got <= 0)
        return got;
    if (cJSON_IsString(v) && !integer)
        return to_text(req, v->valuestring, out); /* exact decimal text, checked by ingest */
    if (!cJSON_IsNumber(v))
        return req_fail(req, PROBLEM_BAD_BODY, "%s%s must be a number", where, name);
    double d = v->valuedouble;
    if (integer) {
        if (d != floor(d) || fabs(d) > 1e15)
            return req_fail(req, PROBLEM_BAD_BODY, "%s%s must be a whole number, got %g", where,
                            name, d);
        snprintf(num, sizeof(num), "%.0f", d);
    } else {
        snprintf(num, sizeof(num), "%.15g", d);
    }
    return to_text(req, num, out);
}

int body_bool(struct request *req, const cJSON *obj, const char *name, const char *where,
              struct text *out)
{
    const cJSON *v;
    int got = member(req, obj, name, where, false, &v, out);
    if (got <= 0)
        return got;
    if (!cJSON_IsBool(v))
        return req_fail(req, PROBLEM_BAD_BODY, "%s%s must be true or false", where, name);
    return to_text(req, cJSON_IsTrue(v) ? "true" : "false", out);
}

int req_write_failed(struct request *req, int failure, const char *err)
{
    if (failure == SVC_BAD_ROW)
        return req_fail(req, PROBLEM_BAD_BODY, "%s", err);
    log_error("request %s: write failed: %s", req->id, err);
    if (failure == SVC_DB_DOWN)
        return req_fail(req, PROBLEM_DB_DOWN, "the database is unavailable; nothing was written");
    if (failure == SVC_UNKNOWN)
        return req_fail(req, PROBLEM_DB_DOWN,
                        "the database went away while committing: the write may or may not be "
                        "stored; send it again when the database is back (writes are "
                        "idempotent: what is stored is left as it is)");
    return req_fail(req, PROBLEM_INTERNAL, "the write failed; nothing was written");
}
