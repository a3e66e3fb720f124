/* snapstore.h - published snapshots in PostgreSQL (model_snapshots and its chunks,
 * sql/004_snapshots.sql), the one system of record, and their copies in a local
 * cache folder, which processes map read-only (data layer).
 *
 * A file in the cache is named by its version and id (the table checksum, see
 * snapfile.h): xsell-v<version>-<id in hex>.snap, so a name never points at other
 * bytes than the database's. */
#ifndef XSELL_SNAPSTORE_H
#define XSELL_SNAPSTORE_H

#include <libpq-fe.h>

#include "xsell/common.h"

#define SNAPSTORE_CHUNK   ((size_t)8 << 20) /* bytes a row */
#define SNAPSTORE_CHANNEL "xsell_snapshots" /* NOTIFY'd with the version on each store */

struct snapstore_entry {
    int64_t version;
    uint64_t id;
    int64_t bytes;
};

/* Stores the file at path as version's snapshot, in one transaction that drops all
 * but the newest keep and notifies SNAPSTORE_CHANNEL. -1 with err (nothing stored). */
int snapstore_put(PGconn *c, int64_t version, uint64_t id, const char *path, int keep, char *err,
                  size_t errlen);
/* The newest stored snapshot into *out: 0, 1 when there is none, -1 with err. */
int snapstore_latest(PGconn *c, struct snapstore_entry *out, char *err, size_t errlen);
/* Copies e's bytes into the file path (created; removed again on failure). -1 with
 * err. */
int snapstore_fetch(PGconn *c, const struct snapstore_entry *e, const char *path, char *err,
                    size_t errlen);
/* Drops every stored snapshot (an erasure: they hold the history). 0 or -1. */
int snapstore_drop_all(PGconn *c);
/* e's file in the cache folder dir. */
void snapstore_cache_path(const char *dir, const struct snapstore_entry *e, char *out, size_t n);
/* Removes from dir the cached files other than keep's. */
void snapstore_cache_prune(const char *dir, const struct snapstore_entry *keep);

#endif
