#include "xsell/snapfile.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "xsell/log.h"
#include "xsell/xalloc.h"

#define ALIGN 64
#define K1    0x9E3779B185EBCA87ull
#define K2    0xC2B2AE3D27D4EB4Full

struct header {
    char magic[8];
    uint32_t format, byte_order, layout, nsections;
    uint64_t file_bytes;
    int64_t model_version;
    uint64_t table_offset, table_checksum, header_checksum;
};
_Static_assert(sizeof(struct header) == SNAPFILE_HEADER, "the header is 64 bytes");
_Static_assert(sizeof(struct snapw_entry) == 64, "a table entry is 64 bytes");
_Static_assert(offsetof(struct header, header_checksum) == 56, "the header's checksum at 56");

static const char MAGIC[8] = {'X', 'S', 'N', 'A', 'P', 'S', 'H', 'T'};

static uint64_t rotl(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

static uint64_t mix(uint64_t acc, uint64_t v)
{
    return rotl(acc + v * K2, 31) * K1;
}

static uint64_t word(const unsigned char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

uint64_t snapfile_checksum(const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t v0 = K1 + K2, v1 = K2, v2 = 0, v3 = 0 - K1;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        v0 = mix(v0, word(b + i));
        v1 = mix(v1, word(b + i + 8));
        v2 = mix(v2, word(b + i + 16));
        v3 = mix(v3, word(b + i + 24));
    }
    uint64_t h = rotl(v0, 1) + rotl(v1, 7) + rotl(v2, 12) + rotl(v3, 18) + (uint64_t)n;
    for (; i + 8 <= n; i += 8)
        h = rotl(h ^ mix(0, word(b + i)), 27) * K1 + K2;
    for (; i < n; i++)
        h = rotl(h ^ (b[i] * K1), 11) * K2;
    h ^= h >> 33;
    h *= K2;
    h ^= h >> 29;
    h *= K1;
    return h ^ (h >> 32);
}

/* --- writing ------------------------------------------------------------------- */

static void write_all(struct snapw *w, const void *p, size_t n)
{
    const unsigned char *b = p;
    while (n > 0 && !w->err) {
        ssize_t k = write(w->fd, b, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            w->err = k < 0 ? errno : EIO;
            return;
        }
        b += k;
        n -= (size_t)k;
        w->off += (uint64_t)k;
    }
}

static void pad(struct snapw *w)
{
    static const unsigned char zeros[ALIGN];
    if (w->off % ALIGN)
        write_all(w, zeros, ALIGN - w->off % ALIGN);
}

int snapw_open(struct snapw *w, const char *path, int64_t model_version, uint32_t layout, char *err,
               size_t errlen)
{
    memset(w, 0, sizeof(*w));
    w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (w->fd < 0)
        return fmt_error(err, errlen, "cannot create %s: %s", path, strerror(errno));
    w->model_version = model_version;
    w->layout = layout;
    struct header blank = {0};
    write_all(w, &blank, sizeof(blank)); /* written again at the end */
    return 0;
}

void snapw_put(struct snapw *w, const char *name, const void *p, size_t elem, size_t count)
{
    size_t bytes = elem * count;
    pad(w);
    xgrow((void **)&w->entries, &w->cap, w->n + 1, sizeof(*w->entries));
    struct snapw_entry *e = &w->entries[w->n++];
    memset(e, 0, sizeof(*e));
    snprintf(e->name, sizeof(e->name), "%s", name);
    e->offset = w->off;
    e->bytes = bytes;
    e->checksum = snapfile_checksum(p, bytes);
    if (bytes)
        write_all(w, p, bytes);
}

void snapw_strings(struct snapw *w, const char *name, const char *const *s, size_t n)
{
    uint64_t *at = xmalloc((n + 1) * sizeof(uint64_t));
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        at[i] = s[i] ? bytes : UINT64_MAX;
        bytes += s[i] ? strlen(s[i]) + 1 : 0;
    }
    char *blob = xmalloc(bytes + 1);
    for (size_t i = 0; i < n; i++)
        if (s[i])
            memcpy(blob + at[i], s[i], strlen(s[i]) + 1);
    char at_name[SNAPFILE_NAME_MAX];
    snprintf(at_name, sizeof(at_name), "%s.at", name);
    snapw_put(w, name, blob, 1, bytes);
    snapw_put(w, at_name, at, sizeof(uint64_t), n);
    free(blob);
    free(at);
}

int snapw_close(struct snapw *w, char *err, size_t errlen)
{
    pad(w);
    struct header h = {0};
    memcpy(h.magic, MAGIC, sizeof(MAGIC));
    h.format = SNAPFILE_FORMAT;
    h.byte_order = SNAPFILE_BYTE_ORDER;
    h.layout = w->layout;
    h.nsections = (uint32_t)w->n;
    h.model_version = w->model_version;
    h.table_offset = w->off;
    h.table_checksum = snapfile_checksum(w->entries, w->n * sizeof(*w->entries));
    w->id = h.table_checksum;
    write_all(w, w->entries, w->n * sizeof(*w->entries));
    h.file_bytes = w->off;
    h.header_checksum = snapfile_checksum(&h, offsetof(struct header, header_checksum));
    if (!w->err && pwrite(w->fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
        w->err = errno ? errno : EIO;
    if (!w->err && fsync(w->fd))
        w->err = errno;
    if (close(w->fd) && !w->err)
        w->err = errno;
    free(w->entries);
    w->entries = NULL;
    if (w->err)
        return fmt_error(err, errlen, "writing the snapshot: %s", strerror(w->err));
    return 0;
}

/* --- reading ------------------------------------------------------------------- */

int snapr_open(struct snapr *r, const void *base, size_t size, uint32_t layout, char *err,
               size_t errlen)
{
    memset(r, 0, sizeof(*r));
    struct header h;
    if (size < sizeof(h))
        return fmt_error(err, errlen, "truncated: %zu bytes, less than a header", size);
    memcpy(&h, base, sizeof(h));
    if (memcmp(h.magic, MAGIC, sizeof(MAGIC)) != 0)
        return fmt_error(err, errlen, "not an xsell snapshot");
    if (h.byte_order != SNAPFILE_BYTE_ORDER)
        return fmt_error(err, errlen, "written on a machine of the other byte order");
    if (h.format != SNAPFILE_FORMAT)
        return fmt_error(err, errlen, "format %u, this build reads format %d", h.format,
                         SNAPFILE_FORMAT);
    if (h.header_checksum != snapfile_checksum(&h, offsetof(struct header, header_checksum)))
        return fmt_error(err, errlen, "the header's checksum does not match");
    if (h.layout != layout)
        return fmt_error(err, errlen,
                         "written by a build with other structure sizes (%08x, "
                         "this one %08x)",
                         h.layout, layout);
    if (h.file_bytes != size)
        return fmt_error(err, errlen, "truncated or padded: %zu bytes, the header says %llu", size,
                         (unsigned long long)h.file_bytes);
    uint64_t tbytes = (uint64_t)h.nsections * sizeof(struct snapw_entry);
    if (h.table_offset > size || tbytes > size - h.table_offset || h.table_offset % ALIGN)
        return fmt_error(err, errlen, "the section table lies outside the file");
    const unsigned char *b = base;
    const struct snapw_entry *t = (const struct snapw_entry *)(const void *)(b + h.table_offset);
    if (snapfile_checksum(t, tbytes) != h.table_checksum)
        return fmt_error(err, errlen, "the section table's checksum does not match");
    for (uint32_t i = 0; i < h.nsections; i++) {
        const struct snapw_entry *e = &t[i];
        if (memchr(e->name, 0, sizeof(e->name)) == NULL || e->offset % ALIGN ||
            e->offset > h.table_offset || e->bytes > h.table_offset - e->offset)
            return fmt_error(err, errlen, "section %u lies outside the file", i);
        if (snapfile_checksum(b + e->offset, e->bytes) != e->checksum)
            return fmt_error(err, errlen, "section %s: the checksum does not match", e->name);
    }
    r->base = b;
    r->size = size;
    r->table = t;
    r->n = h.nsections;
    r->id = h.table_checksum;
    return 0;
}

static const struct snapw_entry *find(struct snapr *r, const char *name)
{
    for (uint32_t i = 0; i < r->n; i++)
        if (strcmp(r->table[i].name, name) == 0)
            return &r->table[i];
    if (!r->failed)
        snprintf(r->why, sizeof(r->why), "section %s is missing", name);
    r->failed = true;
    return NULL;
}

const void *snapr_section(struct snapr *r, const char *name, size_t *bytes)
{
    const struct snapw_entry *e = find(r, name);
    *bytes = e ? (size_t)e->bytes : 0;
    return e ? r->base + e->offset : NULL;
}

void *snapr_get(struct snapr *r, const char *name, size_t elem, size_t count)
{
    const struct snapw_entry *e = find(r, name);
    if (!e)
        return NULL;
    if (elem && count > SIZE_MAX / elem)
        count = SIZE_MAX / elem + 1; /* cannot match */
    if (e->bytes != (uint64_t)elem * count) {
        if (!r->failed)
            snprintf(r->why, sizeof(r->why), "section %s holds %llu bytes, %zu x %zu expected",
                     name, (unsigned long long)e->bytes, count, elem);
        r->failed = true;
        return NULL;
    }
    return (void *)(uintptr_t)(r->base + e->offset);
}

bool snapr_copy(struct snapr *r, const char *name, void *out, size_t elem)
{
    const void *p = snapr_get(r, name, elem, 1);
    if (p)
        memcpy(out, p, elem);
    return p != NULL;
}

const char **snapr_strings(struct snapr *r, const char *name, size_t n, struct arena *a)
{
    char at_name[SNAPFILE_NAME_MAX];
    snprintf(at_name, sizeof(at_name), "%s.at", name);
    size_t bytes;
    const char *blob = snapr_section(r, name, &bytes);
    const uint64_t *at = snapr_get(r, at_name, sizeof(uint64_t), n);
    if (!blob || !at)
        return NULL;
    const char **out = arena_array(a, n + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++) {
        if (at[i] == UINT64_MAX)
            continue;
        /* each one NUL-ended inside the section */
        if (at[i] >= bytes || memchr(blob + at[i], 0, bytes - at[i]) == NULL) {
            if (!r->failed)
                snprintf(r->why, sizeof(r->why), "section %s: string %zu runs past its end", name,
                         i);
            r->failed = true;
            return NULL;
        }
        out[i] = blob + at[i];
    }
    return out;
}
