/* fuzz.h - fuzz drivers: each parses one input in a fresh state and checks what must
 * always hold. Built with libFuzzer by `make fuzz` (FUZZ_TARGET is then
 * LLVMFuzzerTestOneInput), and replayed over the checked-in corpus by `make check`. */
#ifndef XSELL_FUZZ_H
#define XSELL_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int fuzz_csv(const uint8_t *data, size_t size);
int fuzz_strparse(const uint8_t *data, size_t size);
int fuzz_orders(const uint8_t *data, size_t size);
int fuzz_recommend(const uint8_t *data, size_t size);
int fuzz_forecast(const uint8_t *data, size_t size);
int fuzz_products(const uint8_t *data, size_t size);

/* Opens a driver's body: fuzz_<name> when replayed, libFuzzer's entry point else. */
#ifdef FUZZ_REPLAY
#define FUZZ_TARGET(name) int fuzz_##name(const uint8_t *data, size_t size)
#else
#define FUZZ_TARGET(name)                                                                          \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);                                  \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
#endif

#ifdef XSELL_REQUEST_H
/* A request for path with body data, as the HTTP layer would hand it over; false
 * when the body is over its cap (nothing to run). */
static inline bool fuzz_request(struct request *req, struct services *svc, const char *path,
                                const uint8_t *data, size_t size)
{
    memset(req, 0, sizeof(*req));
    arena_init(&req->arena);
    req->svc = svc;
    req->path = path;
    snprintf(req->id, sizeof(req->id), "fuzz");
    buf_init(&req->body, 1 << 20);
    return buf_append(&req->body, data, size) == 0;
}

/* A write's answer with no database: refused (400) or, had it been valid, 503; a
 * JSON problem either way. Aborts otherwise. */
static inline void fuzz_refused_or_offline(const struct request *req)
{
    if (req->status != 400 && req->status != 503)
        abort();
    cJSON *j = cJSON_ParseWithLength(req->resp_body, req->resp_len);
    if (!j)
        abort();
    cJSON_Delete(j);
}

static inline void fuzz_request_release(struct request *req)
{
    free(req->resp_body);
    buf_release(&req->body);
    arena_release(&req->arena);
}
#endif

#endif
