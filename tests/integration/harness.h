/* harness.h - integration tests drive the real build/xsell on a real PostgreSQL.
 * tests/run.sh sets XSELL_BIN, XSELL_PG_DIR, DATABASE_URL and XSELL_REPO. */
#ifndef XSELL_TEST_HARNESS_H
#define XSELL_TEST_HARNESS_H

#define _GNU_SOURCE 1
#include <cjson/cJSON.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <cmocka.h>

#include "contract/openapi.h"

struct env {
    const char *bin, *pg_dir, *db_url, *repo;
    char tmp[256]; /* a scratch folder for this run */
};
extern struct env E;

int harness_init(void);

/* Runs a shell command line; returns its exit status, output (stdout+stderr) in *out
 * (free()) when out is not NULL. */
int run(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One value of a query (first row, first column) as text (free()), or NULL. */
char *sql_text(const char *sql);
long sql_long(const char *sql);
int sql_exec(const char *sql);
/* A digest of everything the importer writes: any change to the data changes it. */
char *data_fingerprint(void);
/* The same on another database. */
char *sql_text_on(const char *url, const char *sql);
char *data_fingerprint_on(const char *url);
/* A new database of this name (dropped first if there), empty or a copy of
 * template_db; its URL (E.db_url's, another dbname) into url. */
int db_create(const char *name, const char *template_db, char *url, size_t n);

struct server {
    pid_t pid;
    int port;
    char log[300];
};

/* Starts `xsell serve` on E.db_url with the environment plus extra NAME=VALUE
 * entries (NULL-terminated), on a free port. Does not wait. */
int server_start(struct server *s, const char *const *extra_env);
/* Starts another program (argv, NULL-terminated; found on PATH) as s, its output in
 * s->log; port is where it will listen (free_port()). Does not wait. */
int process_start(struct server *s, int port, const char *const *argv);
/* A loopback TCP port free at the time of asking. */
int free_port(void);
/* Waits for GET path to answer want (e.g. /readyz 200) within seconds. */
bool server_wait(struct server *s, const char *path, long want, double seconds);
/* Seconds on the monotonic clock. */
double mono_s(void);
/* SIGTERM, then waits; the exit status (or -1). */
int server_stop(struct server *s);

struct resp {
    long status;
    char *body;
    char headers[8192];
    cJSON *json; /* parsed body when it is JSON, else NULL */
};

/* One HTTP request. key may be NULL; body may be NULL; header may be NULL or one
 * extra "Name: value". */
int http(struct server *s, const char *method, const char *path, const char *key, const char *body,
         const char *header, struct resp *r);
/* http() from a local source address (127.0.0.x: one client among several). */
int http_from(const char *from, struct server *s, const char *method, const char *path,
              const char *key, const char *body, const char *header, struct resp *r);
/* A TCP connection to s from the source address from (NULL: any); -1 on failure. */
int raw_connect(struct server *s, const char *from);
/* Reads until the peer closes or seconds pass without data: 0 closed, 1 timed out,
 * -1 error (a reset); what came in *out (free()). */
int raw_read(int fd, double seconds, char **out, size_t *len);
/* Parses a raw HTTP/1.1 response text into r and checks it against openapi.yaml as
 * http() does; -1 when it is not a response. */
int raw_response(const char *method, const char *path, const char *text, struct resp *r);
/* The value of a response header (case-insensitive), copied into out; NULL if absent. */
const char *resp_header(const struct resp *r, const char *name, char *out, size_t n);
void resp_free(struct resp *r);
/* A string or number member of r->json (top level). */
const char *jstr(const struct resp *r, const char *name);
double jnum(const struct resp *r, const char *name);

int run_cli_tests(void);
int run_fault_tests(void);

#endif
