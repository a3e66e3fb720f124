/* PUT /products/{id}, any id and body: the input's first line is the id (as the HTTP
 * layer would hand it over, decoded), the rest the body. Always one answer, a problem
 * unless both were valid, and no write reaches a database (there is none: a valid
 * product gets 503). */
#include "xsell/app.h"
#include "xsell/handlers.h"

#include "fuzz/fuzz.h"

FUZZ_TARGET(products)
{
    static struct app app;
    static bool ready;
    if (!ready) {
        db_pool_init(&app.pool, "host=/nonexistent-xsell-fuzz connect_timeout=1", 1);
        recent_init(&app.recent);
        app_wire_services(&app);
        ready = true;
    }
    const uint8_t *nl = memchr(data, '\n', size);
    size_t idlen = nl ? (size_t)(nl - data) : 0;
    const uint8_t *body = nl ? nl + 1 : data;
    size_t bodylen = size - (size_t)(body - data);
    struct request req;
    if (fuzz_request(&req, &app.svc, "/products/x", body, bodylen)) {
        req.path_arg = arena_strndup(&req.arena, (const char *)data, idlen);
        if (strlen(req.path_arg) == idlen) { /* MHD hands over NUL-free strings */
            handle_product_put(&req);
            if (req.status != 400 && req.status != 503)
                abort();
            cJSON *j = cJSON_ParseWithLength(req.resp_body, req.resp_len);
            if (!j)
                abort();
            cJSON_Delete(j);
        }
    }
    fuzz_request_release(&req);
    return 0;
}
