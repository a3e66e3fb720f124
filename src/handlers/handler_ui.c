/* The pages: /ui/ (the marketing dashboard), its scripts, styles and the vendored
 * libraries (src/ui/, compiled into the binary like the SQL and openapi.yaml), served
 * under a strict Content-Security-Policy: scripts, styles and API calls from this
 * server only, no inline script or style, no frames. No key is needed for the files:
 * the data they show comes from the API, which asks for one. */
#include "xsell/embedded.h"
#include "xsell/handlers.h"

/* The pages' policy; the API's answers (JSON) need none. */
#define UI_CSP                                                                                     \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "              \
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; "                   \
    "frame-ancestors 'none'"

static const struct {
    const char *ext, *type;
} types[] = {
    {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},   {".svg", "image/svg+xml"},
    {".txt", "text/plain; charset=utf-8"}, {".map", "application/json"},
};

static const char *type_of(const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
        size_t e = strlen(types[i].ext);
        if (n > e && strcmp(name + n - e, types[i].ext) == 0)
            return types[i].type;
    }
    return NULL;
}

/* Answers with the embedded file dir/name (dir "src/ui" or "src/ui/vendor"). */
static int send_file(struct request *req, const char *name)
{
    char path[256];
    const struct embedded_file *f = NULL;
    const char *type = type_of(name);
    if (type && strlen(name) < 200) {
        snprintf(path, sizeof(path), "src/ui/%s", name);
        f = embedded_find(path);
        if (!f) {
            snprintf(path, sizeof(path), "src/ui/vendor/%s", name);
            f = embedded_find(path);
        }
    }
    if (!f)
        return req_fail(req, PROBLEM_NOT_FOUND, "no file /ui/%.200s", name);
    req->csp = UI_CSP;
    /* the pages change with the binary: asked again each time, cheap to send */
    req->cache = "no-cache";
    return respond_body(req, 200, type, (const char *)f->data, f->len);
}

int handle_ui_index(struct request *req)
{
    return send_file(req, "index.html");
}

int handle_docs(struct request *req)
{
    return send_file(req, "docs.html");
}

int handle_ui_redirect(struct request *req)
{
    req->location = "/ui/";
    return respond_body(req, 301, "text/plain; charset=utf-8", "see /ui/\n", 9);
}

int handle_ui_file(struct request *req)
{
    /* a page by its name alone: /ui/demo is demo.html */
    char page[220];
    if (!strchr(req->path_arg, '.') && strlen(req->path_arg) < 200) {
        snprintf(page, sizeof(page), "%s.html", req->path_arg);
        return send_file(req, page);
    }
    return send_file(req, req->path_arg);
}
