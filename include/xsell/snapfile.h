/* snapfile.h - the persisted snapshot's file format: named sections of plain arrays,
 * each with its own checksum, written once and read in place from a read-only
 * mapping (several processes on one host share its pages).
 *
 * Layout (every integer in the writer's byte order, which the header names):
 *
 *   offset 0, 64 bytes, the header:
 *     char     magic[8]        "XSNAPSHT"
 *     uint32   format          SNAPFILE_FORMAT: a reader refuses any other
 *     uint32   byte_order      0x01020304 as written: a reader on a machine of the
 *                              other order reads 0x04030201 and refuses
 *     uint32   layout          SNAPFILE_LAYOUT's value of the writer: the sizes of
 *                              the structures stored whole; a build whose structures
 *                              differ refuses the file
 *     uint32   nsections
 *     uint64   file_bytes      the whole file: a shorter one was truncated
 *     int64    model_version   model_runs.version of the run that built it
 *     uint64   table_offset    where the section table starts
 *     uint64   table_checksum  snapfile_checksum of the table
 *     uint64   header_checksum snapfile_checksum of the 56 bytes before it
 *   the sections' bytes, each starting on a 64-byte boundary;
 *   the section table, nsections entries of 64 bytes:
 *     char     name[40]        NUL-terminated, e.g. "upsell.links"
 *     uint64   offset, bytes   where its bytes are and how many
 *     uint64   checksum        snapfile_checksum of those bytes
 *
 * What each model stores is in its own file (model_NAME.c: NAME_save and
 * NAME_load); the history's sections are in history.c. */
#ifndef XSELL_SNAPFILE_H
#define XSELL_SNAPFILE_H

#include "xsell/arena.h"
#include "xsell/common.h"

#define SNAPFILE_FORMAT     1
#define SNAPFILE_HEADER     64
#define SNAPFILE_NAME_MAX   40
#define SNAPFILE_BYTE_ORDER 0x01020304u

/* A 64-bit checksum of n bytes (four lanes of 8-byte words, multiply and rotate):
 * several gigabytes a second, so a loaded file is checked whole. */
uint64_t snapfile_checksum(const void *p, size_t n);

/* Writing: sections one after another into a new file, then the table and the
 * header. A failed write is remembered and reported by snapw_close. */
struct snapw_entry {
    char name[SNAPFILE_NAME_MAX];
    uint64_t offset, bytes, checksum;
};
struct snapw {
    int fd;
    uint64_t off;
    int64_t model_version;
    uint32_t layout;
    struct snapw_entry *entries;
    size_t n, cap;
    int err;     /* the first errno, 0 while all went well */
    uint64_t id; /* after snapw_close: the table's checksum, which names the file */
};
/* Creates path (mode 0644, truncated). -1 with err. */
int snapw_open(struct snapw *w, const char *path, int64_t model_version, uint32_t layout, char *err,
               size_t errlen);
/* One section: count elements of elem bytes from p. */
void snapw_put(struct snapw *w, const char *name, const void *p, size_t elem, size_t count);
/* Strings s[0..n) (NULL allowed) as two sections: name (their bytes, each
 * NUL-ended) and name.at (per string its offset, UINT64_MAX for NULL). */
void snapw_strings(struct snapw *w, const char *name, const char *const *s, size_t n);
/* Writes the table and the header, syncs and closes. -1 with err. */
int snapw_close(struct snapw *w, char *err, size_t errlen);

/* Reading in place: sections are pointers into the bytes given (never copied). A
 * lookup that fails (missing, wrong size) marks the reader failed, with why. */
struct snapr {
    const unsigned char *base;
    size_t size;
    const struct snapw_entry *table;
    uint32_t n;
    uint64_t id; /* the table's checksum */
    bool failed;
    char why[200];
};
/* Checks the header, the table and every section's checksum against expected
 * layout. -1 with err saying what is wrong (truncated, foreign format, ...). */
int snapr_open(struct snapr *r, const void *base, size_t size, uint32_t layout, char *err,
               size_t errlen);
/* Section name holding exactly count elements of elem bytes; NULL (and failed)
 * otherwise. The memory is read-only when the bytes are a read-only mapping. */
void *snapr_get(struct snapr *r, const char *name, size_t elem, size_t count);
/* Section name whole, whatever its size: its bytes, their count into *bytes; NULL (and
 * failed) when absent. */
const void *snapr_section(struct snapr *r, const char *name, size_t *bytes);
/* The one element of section name copied into out (elem bytes); false when absent. */
bool snapr_copy(struct snapr *r, const char *name, void *out, size_t elem);
/* Strings written by snapw_strings: n pointers from a into the bytes. NULL (and
 * failed) when they do not match. */
const char **snapr_strings(struct snapr *r, const char *name, size_t n, struct arena *a);

#endif
