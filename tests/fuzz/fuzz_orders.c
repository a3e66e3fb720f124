/* POST /orders bodies, any bytes: always one answer, a problem unless the body was
 * valid, and no write ever reaches a database (there is none: a valid body gets 503). */
#include "xsell/handlers.h"
#include "xsell/xalloc.h"

#include "fuzz/fuzz.h"

#ifdef FUZZ_REPLAY
#define FUZZ_ENTRY fuzz_orders
#else
#define FUZZ_ENTRY LLVMFuzzerTestOneInput
int FUZZ_ENTRY(const uint8_t *data, size_t size);
#endif

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    static struct app app;
    static bool ready;
    if (!ready) {
        db_pool_init(&app.pool, "host=/nonexistent-xsell-fuzz connect_timeout=1", 1);
        ready = true;
    }
    struct request req = {0};
    arena_init(&req.arena);
    req.app = &app;
    req.path = "/orders";
    snprintf(req.id, sizeof(req.id), "fuzz");
    buf_init(&req.body, 1 << 20);
    if (buf_append(&req.body, data, size) == 0) {
        handle_orders_post(&req);
        if (req.status != 400 && req.status != 503)
            abort();
        cJSON *j = cJSON_ParseWithLength(req.resp_body, req.resp_len);
        if (!j)
            abort();
        cJSON_Delete(j);
    }
    free(req.resp_body);
    buf_release(&req.body);
    arena_release(&req.arena);
    return 0;
}
