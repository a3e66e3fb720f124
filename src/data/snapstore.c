#include "xsell/snapstore.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "xsell/db.h"
#include "xsell/log.h"
#include "xsell/snapfile.h"
#include "xsell/xalloc.h"

/* COPY's binary format: a header, per row its field count and each field as a
 * length and its bytes (integers big-endian), and a trailer. */
static const char COPY_HEAD[19] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0";

static void put_be(unsigned char *p, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)(v & 0xff);
}

/* One row (version, seq, data) of COPY's binary format into b (room for 30 + n). */
static size_t copy_row(unsigned char *b, int64_t version, int32_t seq, size_t n)
{
    put_be(b, 3, 2);
    put_be(b + 2, 8, 4);
    put_be(b + 6, (uint64_t)version, 8);
    put_be(b + 14, 4, 4);
    put_be(b + 18, (uint32_t)seq, 4);
    put_be(b + 22, n, 4);
    return 26;
}

static int rollback_fail(PGconn *c, char *err, size_t errlen, const char *what)
{
    fmt_error(err, errlen, "%s: %s", what, db_error(c));
    PGresult *r;
    while ((r = PQgetResult(c)) != NULL)
        PQclear(r);
    db_cmd(c, "ROLLBACK", 0, NULL);
    return -1;
}

int snapstore_put(PGconn *c, int64_t version, uint64_t id, const char *path, int keep, char *err,
                  size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fmt_error(err, errlen, "cannot read %s: %s", path, strerror(errno));
    off_t size = lseek(fd, 0, SEEK_END);
    lseek(fd, 0, SEEK_SET);
    char v[24], i[24], b[24], f[12], k[12];
    snprintf(v, sizeof(v), "%lld", (long long)version);
    snprintf(i, sizeof(i), "%lld", (long long)(int64_t)id);
    snprintf(b, sizeof(b), "%lld", (long long)size);
    snprintf(f, sizeof(f), "%d", SNAPFILE_FORMAT);
    snprintf(k, sizeof(k), "%d", MAX(keep, 1));
    const char *row[] = {v, i, b, f};
    int rc = -1;
    unsigned char *buf = xmalloc(SNAPSTORE_CHUNK + 64);
    if (db_cmd(c, "BEGIN", 0, NULL) ||
        db_cmd(c,
               "INSERT INTO model_snapshots (version, id, bytes, format) VALUES ($1, $2, $3, $4)",
               4, row)) {
        rc = rollback_fail(c, err, errlen, "storing the snapshot");
        goto out;
    }
    if (db_copy_start(c, "COPY model_snapshot_chunks (version, seq, data) FROM STDIN "
                         "WITH (FORMAT binary)") ||
        db_copy_put(c, COPY_HEAD, sizeof(COPY_HEAD))) {
        rc = rollback_fail(c, err, errlen, "storing the snapshot's bytes");
        goto out;
    }
    for (int32_t seq = 0;; seq++) {
        size_t got = 0;
        while (got < SNAPSTORE_CHUNK) {
            ssize_t r = read(fd, buf + 26 + got, SNAPSTORE_CHUNK - got);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0) {
                db_copy_end(c, "xsell: the snapshot file could not be read");
                rc = rollback_fail(c, err, errlen, "reading the snapshot file");
                goto out;
            }
            if (r == 0)
                break;
            got += (size_t)r;
        }
        if (got == 0)
            break;
        size_t head = copy_row(buf, version, seq, got);
        if (db_copy_put(c, (const char *)buf, head + got)) {
            rc = rollback_fail(c, err, errlen, "storing the snapshot's bytes");
            goto out;
        }
    }
    unsigned char trailer[2] = {0xff, 0xff};
    PGresult *res;
    if (db_copy_put(c, (const char *)trailer, 2) || db_copy_end(c, NULL) ||
        (res = PQgetResult(c)) == NULL) {
        rc = rollback_fail(c, err, errlen, "storing the snapshot's bytes");
        goto out;
    }
    bool copied = PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    if (!copied) {
        rc = rollback_fail(c, err, errlen, "storing the snapshot's bytes");
        goto out;
    }
    while ((res = PQgetResult(c)) != NULL)
        PQclear(res);
    const char *kp[] = {k};
    /* the notification goes out with the commit: every process that listens looks */
    if (db_cmd(c,
               "DELETE FROM model_snapshots WHERE version NOT IN "
               "(SELECT version FROM model_snapshots ORDER BY version DESC LIMIT $1)",
               1, kp) ||
        db_cmd(c, "SELECT pg_notify('" SNAPSTORE_CHANNEL "', $1)", 1, row) ||
        db_cmd(c, "COMMIT", 0, NULL)) {
        rc = rollback_fail(c, err, errlen, "storing the snapshot");
        goto out;
    }
    rc = 0;
out:
    free(buf);
    close(fd);
    return rc;
}

int snapstore_latest(PGconn *c, struct snapstore_entry *out, char *err, size_t errlen)
{
    char f[12];
    snprintf(f, sizeof(f), "%d", SNAPFILE_FORMAT);
    const char *p[] = {f};
    PGresult *r = db_query(c,
                           "SELECT version, id, bytes FROM model_snapshots WHERE format = $1 "
                           "ORDER BY version DESC LIMIT 1",
                           1, p);
    if (!r)
        return fmt_error(err, errlen, "reading the stored snapshots: %s", db_error(c));
    int rc = 1;
    if (PQntuples(r) == 1) {
        out->version = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        out->id = (uint64_t)strtoll(PQgetvalue(r, 0, 1), NULL, 10);
        out->bytes = strtoll(PQgetvalue(r, 0, 2), NULL, 10);
        rc = 0;
    }
    PQclear(r);
    return rc;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

int snapstore_fetch(PGconn *c, const struct snapstore_entry *e, const char *path, char *err,
                    size_t errlen)
{
    char v[24];
    snprintf(v, sizeof(v), "%lld", (long long)e->version);
    const char *p[] = {v};
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return fmt_error(err, errlen, "cannot create %s: %s", path, strerror(errno));
    /* Row by row: a large snapshot never sits whole in this process's memory. */
    int rc = -1;
    int64_t got = 0, seq = 0;
    PGresult *r;
    bool failed = false;
    if (!PQsendQueryParams(c,
                           "SELECT seq, data FROM model_snapshot_chunks WHERE version = $1 "
                           "ORDER BY seq",
                           1, NULL, p, NULL, NULL, 1) ||
        !PQsetSingleRowMode(c)) {
        fmt_error(err, errlen, "reading the snapshot: %s", db_error(c));
        goto drain;
    }
    while ((r = PQgetResult(c)) != NULL) {
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_SINGLE_TUPLE && !failed) {
            uint32_t s = 0; /* int4, binary: network byte order */
            memcpy(&s, PQgetvalue(r, 0, 0), 4);
            s = ntohl(s);
            int n = PQgetlength(r, 0, 1);
            if ((int64_t)s != seq || write_all(fd, PQgetvalue(r, 0, 1), (size_t)n)) {
                fmt_error(err, errlen, "writing %s: %s", path,
                          (int64_t)s != seq ? "a chunk is missing" : strerror(errno));
                failed = true;
            }
            got += n;
            seq++;
        } else if (st != PGRES_TUPLES_OK && st != PGRES_SINGLE_TUPLE && !failed) {
            fmt_error(err, errlen, "reading the snapshot: %s", db_error(c));
            failed = true;
        }
        PQclear(r);
    }
    if (!failed && got != e->bytes)
        fmt_error(err, errlen, "the snapshot has %lld bytes stored, %lld expected", (long long)got,
                  (long long)e->bytes);
    else if (!failed && fsync(fd))
        fmt_error(err, errlen, "writing %s: %s", path, strerror(errno));
    else if (!failed)
        rc = 0;
drain:
    while ((r = PQgetResult(c)) != NULL)
        PQclear(r);
    if (close(fd) && rc == 0)
        rc = fmt_error(err, errlen, "writing %s: %s", path, strerror(errno));
    if (rc)
        unlink(path);
    return rc;
}

int snapstore_drop_all(PGconn *c)
{
    return db_cmd(c, "DELETE FROM model_snapshots", 0, NULL);
}

void snapstore_cache_path(const char *dir, const struct snapstore_entry *e, char *out, size_t n)
{
    snprintf(out, n, "%s/xsell-v%lld-%016llx.snap", dir, (long long)e->version,
             (unsigned long long)e->id);
}

void snapstore_cache_prune(const char *dir, const struct snapstore_entry *keep)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    char mine[64];
    snapstore_cache_path("", keep, mine, sizeof(mine));
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (strncmp(de->d_name, "xsell-v", 7) != 0 || len < 5 ||
            strcmp(de->d_name + len - 5, ".snap") != 0 || strcmp(de->d_name, mine + 1) == 0)
            continue;
        if (unlinkat(dirfd(d), de->d_name, 0) == 0)
            log_info("snapshots: %s/%s removed from the cache", dir, de->d_name);
    }
    closedir(d);
}
