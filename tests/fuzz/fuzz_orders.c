/* POST /orders bodies, any bytes: always one answer, a problem unless the body was
 * valid, and no write ever reaches a database (there is none: a valid body gets 503). */
#include "xsell/app.h"
#include "xsell/handlers.h"
#include "xsell/xalloc.h"

#include "fuzz/fuzz.h"

FUZZ_TARGET(orders)
{
    static struct app app;
    static bool ready;
    if (!ready) {
        db_pool_init(&app.pool, "host=/nonexistent-xsell-fuzz connect_timeout=1", 1);
        recent_init(&app.recent);
        app_wire_services(&app);
        ready = true;
    }
    struct request req;
    if (fuzz_request(&req, &app.svc, "/orders", data, size)) {
        handle_orders_post(&req);
        if (req.status != 400 && req.status != 503)
            abort();
        cJSON *j = cJSON_ParseWithLength(req.resp_body, req.resp_len);
        if (!j)
            abort();
        cJSON_Delete(j);
    }
    fuzz_request_release(&req);
    return 0;
}
