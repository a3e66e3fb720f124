/* PUT /products/{id}, any id and body: the input's first line is the id (as the HTTP
 * layer would hand it over, decoded), the rest the body. Always one answer, a problem
 * unless both were valid, and no write reaches a database (there is none: a valid
 * product gets 503). */
#include "xsell/handlers.h"

#include "contract/fixture.h"
#include "fuzz/fuzz.h"

FUZZ_TARGET(products)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t idlen = nl ? (size_t)(nl - data) : 0;
    const uint8_t *body = nl ? nl + 1 : data;
    size_t bodylen = size - (size_t)(body - data);
    struct request req;
    if (fuzz_request(&req, fixture_offline_services(), "/products/x", body, bodylen)) {
        req.path_arg = arena_strndup(&req.arena, (const char *)data, idlen);
        if (strlen(req.path_arg) == idlen) { /* MHD hands over NUL-free strings */
            handle_product_put(&req);
            fuzz_refused_or_offline(&req);
        }
    }
    fuzz_request_release(&req);
    return 0;
}
