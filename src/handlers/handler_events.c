/* POST /events: one event object or an array of them, from the shop's pages (public
 * keys may send them). Validated whole before any write, stored in one statement, 201
 * only once stored. An event_id stored already is left as it is (200 when nothing was
 * new), so a page may send a batch again after a lost answer. */
#include <math.h>

#include "xsell/body.h"
#include "xsell/handlers.h"
#include "xsell/log.h"
#include "xsell/strparse.h"

/* A clock a little ahead of ours is taken as now; further ahead is refused. */
#define EVENT_AHEAD_S 300.0

static const char *const event_types[] = {"impression", "click", "add_to_cart", "view"};
enum { EV_IMPRESSION };

/* The event's time: `at`, or now when absent, as canonical text in arena memory. */
static int read_at(struct request *req, const cJSON *o, const char *where, double now,
                   const char **out)
{
    struct text at;
    char canon[STRPARSE_TS_LEN];
    double t = now;
    if (body_string(req, o, "at", where, false, &at))
        return -1;
    if (at.n) {
        if (strparse_timestamp(at.p, at.n, &t, NULL))
            return req_fail(req, PROBLEM_BAD_BODY,
                            "%sat must be an ISO-8601 date-time (e.g. 2026-12-01T10:00:00Z), "
                            "got \"%.60s\"",
                            where, at.p);
        if (t > now + EVENT_AHEAD_S)
            return req_fail(req, PROBLEM_BAD_BODY, "%sat \"%.60s\" is in the future", where, at.p);
        int keep = services_events_keep_days(req->svc);
        if (t < now - keep * DAY_S)
            return req_fail(req, PROBLEM_BAD_BODY,
                            "%sat \"%.60s\" is older than the %d days events are kept "
                            "(XSELL_EVENTS_KEEP_DAYS)",
                            where, at.p, keep);
        t = MIN(t, now);
    }
    strparse_format_timestamp(t, canon);
    *out = arena_strdup(&req->arena, canon);
    return 0;
}

/* items: an array of 1..CART_MAX product ids, into a JSON array; NULL when absent. */
static int read_items(struct request *req, const cJSON *o, const char *where, cJSON **out)
{
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(o, "items");
    *out = NULL;
    if (!items || cJSON_IsNull(items))
        return 0;
    int n = cJSON_IsArray(items) ? cJSON_GetArraySize(items) : -1;
    if (n < 1 || n > CART_MAX)
        return req_fail(req, PROBLEM_BAD_BODY, "%sitems must be an array of 1..%d product ids",
                        where, CART_MAX);
    *out = cJSON_CreateArray();
    for (int i = 0; i < n; i++) {
        const cJSON *v = cJSON_GetArrayItem(items, i);
        if (!cJSON_IsString(v) || !strparse_id_valid(v->valuestring, strlen(v->valuestring))) {
            cJSON_Delete(*out);
            *out = NULL;
            return req_fail(req, PROBLEM_BAD_BODY,
                            "%sitems[%d] must be a product id: 1..%d bytes of UTF-8 without "
                            "control characters",
                            where, i, ID_MAX);
        }
        cJSON_AddItemToArray(*out, cJSON_CreateString(v->valuestring));
    }
    return 0;
}

static void add_id(cJSON *e, const char *name, const struct text *t)
{
    if (t->n)
        cJSON_AddStringToObject(e, name, t->p);
    else
        cJSON_AddNullToObject(e, name);
}

/* Checks one event and appends its canonical form to batch; a view, click or cart add
 * into *touch (else its product NULL). */
static int read_event(struct request *req, const cJSON *o, const char *where, double now,
                      cJSON *batch, struct text *id, struct session_touch *touch)
{
    struct text type, session, customer, rec, product;
    const char *at = NULL;
    cJSON *items = NULL;
    if (!cJSON_IsObject(o))
        return req_fail(req, PROBLEM_BAD_BODY, "%san event must be a JSON object", where);
    if (body_id(req, o, "event_id", where, true, id) ||
        body_string(req, o, "type", where, true, &type) ||
        body_id(req, o, "session_id", where, true, &session) ||
        body_id(req, o, "customer_id", where, false, &customer) ||
        body_id(req, o, "recommendation_id", where, false, &rec) ||
        body_id(req, o, "product_id", where, false, &product))
        return -1;
    int kind = -1;
    for (int i = 0; i < (int)ARRAY_SIZE(event_types); i++)
        if (strcmp(type.p, event_types[i]) == 0)
            kind = i;
    if (kind < 0)
        return req_fail(req, PROBLEM_BAD_BODY,
                        "%stype must be impression, click, add_to_cart or view, got \"%.60s\"",
                        where, type.p);
    if (read_at(req, o, where, now, &at) || read_items(req, o, where, &items))
        return -1;
    if (kind == EV_IMPRESSION && !product.n && !items && !rec.n) {
        return req_fail(req, PROBLEM_BAD_BODY,
                        "%san impression names what was shown: items, product_id or "
                        "recommendation_id",
                        where);
    }
    if (kind != EV_IMPRESSION && !product.n) {
        cJSON_Delete(items);
        return req_fail(req, PROBLEM_BAD_BODY, "%sproduct_id is required for a %s", where, type.p);
    }
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "event_id", id->p);
    cJSON_AddStringToObject(e, "type", event_types[kind]);
    cJSON_AddStringToObject(e, "at", at);
    cJSON_AddStringToObject(e, "session_id", session.p);
    add_id(e, "customer_id", &customer);
    add_id(e, "recommendation_id", &rec);
    add_id(e, "product_id", &product);
    cJSON_AddItemToObject(e, "items", items ? items : cJSON_CreateNull());
    cJSON_AddItemToArray(batch, e);
    touch->session = session.p;
    touch->product = kind != EV_IMPRESSION ? product.p : NULL;
    return 0;
}

static void free_json(void *p)
{
    cJSON_Delete(p);
}

int handle_events_post(struct request *req)
{
    cJSON *root = body_json(req);
    if (!root)
        return 0;
    bool many = cJSON_IsArray(root);
    int n = many ? cJSON_GetArraySize(root) : 1;
    if (many && (n < 1 || n > EVENTS_PER_POST_MAX))
        return req_fail(req, PROBLEM_BAD_BODY, "send 1..%d events in one request",
                        EVENTS_PER_POST_MAX);
    cJSON *batch = cJSON_CreateArray();
    arena_defer(&req->arena, free_json, batch);
    struct idmap seen;
    idmap_init(&seen);
    double now = now_seconds();
    struct session_touch *touches = arena_array(&req->arena, (size_t)n, sizeof(*touches));
    int ntouches = 0;
    for (int i = 0; i < n; i++) {
        char where[32] = "";
        struct text id = {"", 0};
        bool added;
        if (many)
            snprintf(where, sizeof(where), "[%d].", i);
        if (read_event(req, many ? cJSON_GetArrayItem(root, i) : root, where, now, batch, &id,
                       &touches[ntouches])) {
            idmap_release(&seen);
            return 0; /* read_event answered */
        }
        idmap_put(&seen, id.p, id.n, &added);
        if (!added) {
            idmap_release(&seen);
            return req_fail(req, PROBLEM_BAD_BODY, "%sevent_id \"%s\" appears twice in the body",
                            where, id.p);
        }
        ntouches += touches[ntouches].product != NULL;
    }
    idmap_release(&seen);
    char *text = cJSON_PrintUnformatted(batch);
    if (!text)
        return req_fail(req, PROBLEM_INTERNAL, "out of memory");
    arena_defer(&req->arena, free, text);
    long created = 0;
    char err[400];
    int failure =
        services_write_events(req->svc, text, touches, ntouches, &created, err, sizeof(err));
    if (failure)
        return req_write_failed(req, failure, err);
    cJSON *out = cJSON_CreateObject();
    cJSON_AddNumberToObject(out, "received", n);
    cJSON_AddNumberToObject(out, "created", (double)created);
    cJSON_AddNumberToObject(out, "existing", (double)(n - created));
    return respond_json(req, created > 0 ? 201 : 200, out);
}
