/* csv.h - a streaming RFC 4180 reader.
 *
 * Reads one record at a time from a FILE, holding only that record in memory.
 * Strict: a quote inside an unquoted field, text after a closing quote, an
 * unterminated quote, a NUL byte, invalid UTF-8, a field over CSV_FIELD_MAX
 * bytes or more than CSV_FIELDS_MAX fields is an error naming the line.
 * Accepts LF and CRLF line ends; skips empty lines. */
#ifndef XSELL_CSV_H
#define XSELL_CSV_H

#include "xsell/buf.h"
#include "xsell/caps.h"
#include "xsell/common.h"

struct csv {
    FILE *in;
    char *rbuf;
    size_t rlen, rpos;
    bool eof;
    struct buf rec; /* the fields, each NUL-terminated */
    size_t off[CSV_FIELDS_MAX];
    size_t len[CSV_FIELDS_MAX];
    int nfields;
    long line; /* line on which the current record starts */
    long next_line;
    uint64_t bytes; /* bytes consumed so far */
    char err[256];
};

/* The reader borrows in; it does not close it. */
void csv_init(struct csv *c, FILE *in);
void csv_release(struct csv *c);
/* 1: a record is ready; 0: end of input; -1: error, c->err says why, c->line where. */
int csv_next(struct csv *c);
/* Field i of the current record (NUL-terminated, valid until the next csv_next). */
static inline const char *csv_field(const struct csv *c, int i, size_t *len)
{
    if (len)
        *len = c->len[i];
    return c->rec.data + c->off[i];
}

#endif
