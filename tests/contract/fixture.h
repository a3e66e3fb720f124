/* fixture.h - what in-process tests of the handlers share (the unit handler suite
 * and the fuzz drivers): a small shop's snapshot fitted through the model registry,
 * and requests as the HTTP layer would hand them over. */
#ifndef XSELL_TEST_FIXTURE_H
#define XSELL_TEST_FIXTURE_H

#include "xsell/request.h"
#include "xsell/snapshot.h"

/* 30 products in three categories (tea, coffee, garden; P0, P7, ... out of stock),
 * 200 days of orders by C0..C16 and guests, every model fitted as training would
 * (sales forecasts included), version 1. Aborts when a fit fails. */
struct snapshot *fixture_snapshot(void);
/* The same with threads models fitted side by side (and the forecasts' threads). */
struct snapshot *fixture_snapshot_fit(int threads);

/* Services whose database cannot be reached (every write answers 503, /readyz says
 * not ready) and whose trainer never runs: process lifetime, made on first use. */
struct services *fixture_offline_services(void);

/* A request for method and path (its "a=1&b=2" query split into parameters, no
 * decoding; an {id} segment of the route into path_arg) with the body, if any.
 * Release with fixture_request_release. */
void fixture_request(struct request *req, struct services *svc, const struct snapshot *snap,
                     const char *method, const char *target, const char *body);
void fixture_request_release(struct request *req);

#endif
