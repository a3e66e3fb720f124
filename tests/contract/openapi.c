/* openapi.c - see openapi.h. Test support: libyaml reads the document (a YAML
 * parser of our own would be more code than the checks). */
#define _GNU_SOURCE 1
#include "contract/openapi.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

static int fail(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *why, size_t whylen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
    return -1;
}

/* A plain scalar as YAML 1.1 core types read it; quoted ones stay strings. */
static cJSON *scalar(const yaml_node_t *n)
{
    const char *s = (const char *)n->data.scalar.value;
    if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return cJSON_CreateString(s);
    if (!strcmp(s, "true"))
        return cJSON_CreateTrue();
    if (!strcmp(s, "false"))
        return cJSON_CreateFalse();
    if (!strcmp(s, "null") || !strcmp(s, "~") || !*s)
        return cJSON_CreateNull();
    char *end;
    double d = strtod(s, &end);
    if (end != s && !*end && isfinite(d))
        return cJSON_CreateNumber(d);
    return cJSON_CreateString(s);
}

static cJSON *convert(yaml_document_t *doc, const yaml_node_t *n, int depth)
{
    if (!n || depth > 64)
        return NULL;
    if (n->type == YAML_SCALAR_NODE)
        return scalar(n);
    if (n->type == YAML_SEQUENCE_NODE) {
        cJSON *a = cJSON_CreateArray();
        for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top;
             i++)
            cJSON_AddItemToArray(a, convert(doc, yaml_document_get_node(doc, *i), depth + 1));
        return a;
    }
    cJSON *o = cJSON_CreateObject();
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        const yaml_node_t *k = yaml_document_get_node(doc, p->key);
        if (k && k->type == YAML_SCALAR_NODE)
            cJSON_AddItemToObject(o, (const char *)k->data.scalar.value,
                                  convert(doc, yaml_document_get_node(doc, p->value), depth + 1));
    }
    return o;
}

cJSON *openapi_parse(const char *text, size_t len, char *why, size_t whylen)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    cJSON *root = NULL;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        fail(why, whylen, "openapi: YAML error at line %zu: %s", parser.problem_mark.line + 1,
             parser.problem ? parser.problem : "?");
    } else {
        root = convert(&doc, yaml_document_get_root_node(&doc), 0);
        yaml_document_delete(&doc);
        if (!root)
            fail(why, whylen, "openapi: empty document");
    }
    yaml_parser_delete(&parser);
    return root;
}

cJSON *openapi_load(const char *path, char *why, size_t whylen)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return fail(why, whylen, "openapi: cannot open %s", path), NULL;
    char *text = NULL;
    size_t len = 0, cap = 0, got;
    char chunk[8192];
    while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (len + got > cap) {
            cap = (len + got) * 2;
            text = realloc(text, cap);
        }
        memcpy(text + len, chunk, got);
        len += got;
    }
    fclose(f);
    cJSON *spec = openapi_parse(text ? text : "", len, why, whylen);
    free(text);
    return spec;
}

/* A schema with its $ref followed (#/components/...), or NULL. */
static const cJSON *resolve(const cJSON *spec, const cJSON *schema)
{
    for (int hops = 0; schema && hops < 16; hops++) {
        const cJSON *ref = cJSON_GetObjectItemCaseSensitive(schema, "$ref");
        if (!cJSON_IsString(ref))
            return schema;
        const char *p = ref->valuestring;
        if (strncmp(p, "#/", 2) != 0)
            return NULL;
        const cJSON *at = spec;
        char part[128];
        for (p += 2; *p && at;) {
            size_t n = strcspn(p, "/");
            if (n >= sizeof(part))
                return NULL;
            memcpy(part, p, n);
            part[n] = '\0';
            at = cJSON_GetObjectItemCaseSensitive(at, part);
            p += n + (p[n] == '/');
        }
        schema = at;
    }
    return NULL;
}

static int check(const cJSON *spec, const cJSON *schema, const cJSON *v, const char *at, int depth,
                 char *why, size_t whylen);

static int check_object(const cJSON *spec, const cJSON *schema, const cJSON *v, const char *at,
                        int depth, char *why, size_t whylen)
{
    const cJSON *r, *props = cJSON_GetObjectItemCaseSensitive(schema, "properties"), *m;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(schema, "required"))
    {
        if (cJSON_IsString(r) && !cJSON_GetObjectItemCaseSensitive(v, r->valuestring))
            return fail(why, whylen, "%s: required member \"%s\" is missing", at, r->valuestring);
    }
    cJSON_ArrayForEach(m, v)
    {
        const cJSON *ps = cJSON_GetObjectItemCaseSensitive(props, m->string);
        char sub[512];
        if (!ps)
            continue; /* members beyond the documented ones are allowed */
        snprintf(sub, sizeof(sub), "%s.%s", at, m->string);
        if (check(spec, ps, m, sub, depth + 1, why, whylen))
            return -1;
    }
    return 0;
}

static int check_type(const cJSON *spec, const cJSON *schema, const char *type, const cJSON *v,
                      const char *at, int depth, char *why, size_t whylen)
{
    if (!strcmp(type, "object")) {
        if (!cJSON_IsObject(v))
            return fail(why, whylen, "%s: want an object", at);
        return check_object(spec, schema, v, at, depth, why, whylen);
    }
    if (!strcmp(type, "array")) {
        if (!cJSON_IsArray(v))
            return fail(why, whylen, "%s: want an array", at);
        const cJSON *items = cJSON_GetObjectItemCaseSensitive(schema, "items"), *e;
        int i = 0;
        cJSON_ArrayForEach(e, v)
        {
            char sub[512];
            snprintf(sub, sizeof(sub), "%s[%d]", at, i++);
            if (items && check(spec, items, e, sub, depth + 1, why, whylen))
                return -1;
        }
        return 0;
    }
    if (!strcmp(type, "string")) {
        if (!cJSON_IsString(v))
            return fail(why, whylen, "%s: want a string", at);
        const cJSON *en = cJSON_GetObjectItemCaseSensitive(schema, "enum"), *e;
        if (!en)
            return 0;
        cJSON_ArrayForEach(e, en)
        {
            if (cJSON_IsString(e) && !strcmp(e->valuestring, v->valuestring))
                return 0;
        }
        return fail(why, whylen, "%s: \"%s\" is not in its enum", at, v->valuestring);
    }
    if (!strcmp(type, "number"))
        return cJSON_IsNumber(v) ? 0 : fail(why, whylen, "%s: want a number", at);
    if (!strcmp(type, "integer"))
        return cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble)
                   ? 0
                   : fail(why, whylen, "%s: want an integer", at);
    if (!strcmp(type, "boolean"))
        return cJSON_IsBool(v) ? 0 : fail(why, whylen, "%s: want true or false", at);
    return fail(why, whylen, "%s: the schema's type \"%s\" is unknown", at, type);
}

static int check(const cJSON *spec, const cJSON *schema, const cJSON *v, const char *at, int depth,
                 char *why, size_t whylen)
{
    const cJSON *s = resolve(spec, schema), *sub;
    if (!s || depth > 32)
        return fail(why, whylen, "%s: the schema's $ref does not resolve", at);
    const cJSON *one = cJSON_GetObjectItemCaseSensitive(s, "oneOf");
    if (one) {
        char first[512] = "";
        cJSON_ArrayForEach(sub, one)
        {
            if (check(spec, sub, v, at, depth + 1, why, whylen) == 0)
                return 0;
            if (!first[0])
                snprintf(first, sizeof(first), "%s", why);
        }
        return fail(why, whylen, "%s: matches none of its oneOf (the first: %s)", at, first);
    }
    cJSON_ArrayForEach(sub, cJSON_GetObjectItemCaseSensitive(s, "allOf"))
    {
        if (check(spec, sub, v, at, depth + 1, why, whylen))
            return -1;
    }
    if (cJSON_IsNull(v))
        return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "nullable")) ||
                       !cJSON_GetObjectItemCaseSensitive(s, "type")
                   ? 0
                   : fail(why, whylen, "%s: is null, and the schema is not nullable", at);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(s, "type");
    if (!cJSON_IsString(type)) /* no type: properties alone still say what an object holds */
        return cJSON_IsObject(v) ? check_object(spec, s, v, at, depth, why, whylen) : 0;
    return check_type(spec, s, type->valuestring, v, at, depth, why, whylen);
}

/* Does the document's path pattern (segments like {id} match one segment) match? */
static bool path_matches(const char *pattern, const char *path, size_t pathlen)
{
    const char *p = pattern, *q = path, *qend = path + pathlen;
    while (*p && q < qend) {
        size_t pn = strcspn(p, "/"), qn = 0;
        while (q + qn < qend && q[qn] != '/')
            qn++;
        bool any = pn > 1 && p[0] == '{' && p[pn - 1] == '}';
        if (any ? qn == 0 : (pn != qn || strncmp(p, q, pn) != 0))
            return false;
        p += pn;
        q += qn;
        if (*p == '/' && q < qend && *q == '/')
            p++, q++;
        else if (*p == '/' || (q < qend && *q == '/'))
            return false;
    }
    return !*p && q == qend;
}

/* A request the document does not describe (an unknown path, another method, a CORS
 * preflight) may only be refused: a 4xx with a Problem body, or no body at all. */
static int undocumented(const cJSON *spec, const char *method, const char *path, long status,
                        const cJSON *body, char *why, size_t whylen)
{
    if (!body)
        return 0;
    if (status < 400)
        return fail(why, whylen, "%s %s answered %ld, and openapi.yaml does not describe it",
                    method, path, status);
    cJSON *ref = cJSON_CreateObject();
    cJSON_AddStringToObject(ref, "$ref", "#/components/schemas/Problem");
    char at[300];
    snprintf(at, sizeof(at), "%s %s %ld (undocumented)", method, path, status);
    int rc = check(spec, ref, body, at, 0, why, whylen);
    cJSON_Delete(ref);
    return rc;
}

int openapi_check(const cJSON *spec, const char *method, const char *path, long status,
                  const cJSON *body, char *why, size_t whylen)
{
    size_t pathlen = strcspn(path, "?");
    const cJSON *paths = cJSON_GetObjectItemCaseSensitive(spec, "paths"), *item = NULL, *it;
    cJSON_ArrayForEach(it, paths)
    {
        if (path_matches(it->string, path, pathlen)) {
            item = it;
            if (!strchr(it->string, '{'))
                break; /* an exact path wins over a pattern */
        }
    }
    if (!item)
        return undocumented(spec, method, path, status, body, why, whylen);
    char m[16];
    size_t k = 0;
    for (; method[k] && k < sizeof(m) - 1; k++)
        m[k] = (char)(method[k] >= 'A' && method[k] <= 'Z' ? method[k] - 'A' + 'a' : method[k]);
    m[k] = '\0';
    if (!strcmp(m, "head"))
        snprintf(m, sizeof(m), "get");
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(item, m);
    if (!op)
        return undocumented(spec, method, path, status, body, why, whylen);
    char code[16];
    snprintf(code, sizeof(code), "%ld", status);
    const cJSON *responses = cJSON_GetObjectItemCaseSensitive(op, "responses");
    const cJSON *resp = cJSON_GetObjectItemCaseSensitive(responses, code);
    if (!resp)
        resp = cJSON_GetObjectItemCaseSensitive(responses, "default");
    if (!resp)
        return fail(why, whylen, "openapi.yaml lists no %ld answer for %s %s", status, method,
                    item->string);
    resp = resolve(spec, resp);
    if (!body)
        return 0; /* not JSON: nothing to check against a schema */
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(resp, "content"), *ct;
    cJSON_ArrayForEach(ct, content)
    {
        if (strstr(ct->string, "json")) {
            char at[300];
            snprintf(at, sizeof(at), "%s %s %ld", method, item->string, status);
            return check(spec, cJSON_GetObjectItemCaseSensitive(ct, "schema"), body, at, 0, why,
                         whylen);
        }
    }
    return fail(why, whylen, "openapi.yaml gives no JSON body for %ld on %s %s", status, method,
                item->string);
}
