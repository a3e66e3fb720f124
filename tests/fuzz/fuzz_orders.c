/* POST /orders bodies, any bytes: always one answer, a problem unless the body was
 * valid, and no write ever reaches a database (there is none: a valid body gets 503). */
#include "xsell/handlers.h"
#include "xsell/xalloc.h"

#include "contract/fixture.h"
#include "fuzz/fuzz.h"

FUZZ_TARGET(orders)
{
    struct request req;
    if (fuzz_request(&req, fixture_offline_services(), "/orders", data, size)) {
        handle_orders_post(&req);
        fuzz_refused_or_offline(&req);
    }
    fuzz_request_release(&req);
    return 0;
}
