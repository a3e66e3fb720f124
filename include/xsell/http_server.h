/* http_server.h - the only libmicrohttpd caller: turns connections into requests,
 * runs routing, auth, rate limits and readiness, and sends what handlers answer. */
#ifndef XSELL_HTTP_SERVER_H
#define XSELL_HTTP_SERVER_H

struct app; /* app.h */

struct http_server;

/* Starts listening on cfg.listen_host:cfg.port with cfg.threads pool threads.
 * NULL with a logged reason on failure. */
struct http_server *http_server_start(struct app *app);
/* Stops accepting, waits up to grace_s for in-flight requests, then stops. */
void http_server_stop(struct http_server *s, double grace_s);

#endif
