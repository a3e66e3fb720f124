#include "xsell/csv.h"

#include <stdarg.h>

#include "xsell/strparse.h"
#include "xsell/xalloc.h"

#define CSV_READ_CHUNK (256 * 1024)

void csv_init(struct csv *c, FILE *in)
{
    memset(c, 0, sizeof(*c));
    c->in = in;
    c->rbuf = xmalloc(CSV_READ_CHUNK);
    buf_init(&c->rec, (size_t)CSV_FIELD_MAX * CSV_FIELDS_MAX);
    buf_append(&c->rec, "", 0); /* allocate, so that an empty first field has an address */
    c->next_line = 1;
}

void csv_release(struct csv *c)
{
    free(c->rbuf);
    buf_release(&c->rec);
    c->rbuf = NULL;
}

/* Next byte, or -1 at end of input. */
static int next_byte(struct csv *c)
{
    if (c->rpos == c->rlen) {
        if (c->eof)
            return -1;
        c->rlen = fread(c->rbuf, 1, CSV_READ_CHUNK, c->in);
        c->rpos = 0;
        if (c->rlen == 0) {
            c->eof = true;
            return -1;
        }
    }
    c->bytes++;
    return (unsigned char)c->rbuf[c->rpos++];
}

/* A byte that neither ends nor quotes an unquoted field, nor is refused in it. */
static bool plain_byte(char b)
{
    return b != ',' && b != '\n' && b != '\r' && b != '"' && b != '\0';
}

static int peek_byte(struct csv *c)
{
    int b = next_byte(c);
    if (b >= 0) {
        c->rpos--;
        c->bytes--;
    }
    return b;
}

static int fail(struct csv *c, const char *fmt, ...) PRINTF_LIKE(2, 3);
static int fail(struct csv *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof(c->err), fmt, ap);
    va_end(ap);
    return -1;
}

static int end_field(struct csv *c, size_t start)
{
    size_t len = c->rec.len - start;
    if (c->nfields == CSV_FIELDS_MAX)
        return fail(c, "more than %d fields", CSV_FIELDS_MAX);
    if (len > CSV_FIELD_MAX)
        return fail(c, "field %d is longer than %d bytes", c->nfields + 1, CSV_FIELD_MAX);
    if (!strparse_utf8_valid(c->rec.data + start, len))
        return fail(c, "field %d is not valid UTF-8", c->nfields + 1);
    c->off[c->nfields] = start;
    c->len[c->nfields] = len;
    c->nfields++;
    if (buf_putc(&c->rec, '\0'))
        return fail(c, "record too long");
    return 0;
}

int csv_next(struct csv *c)
{
    int b;
    buf_reset(&c->rec);
    c->nfields = 0;
    /* Skip empty lines. */
    for (;;) {
        c->line = c->next_line;
        b = peek_byte(c);
        if (b < 0)
            return 0;
        if (b == '\n') {
            next_byte(c);
            c->next_line++;
            continue;
        }
        if (b == '\r') {
            next_byte(c);
            if (next_byte(c) != '\n')
                return fail(c, "carriage return without line feed");
            c->next_line++;
            continue;
        }
        break;
    }
    for (;;) {
        size_t start = c->rec.len;
        b = next_byte(c);
        if (b == '"') {
            for (;;) {
                b = next_byte(c);
                if (b < 0)
                    return fail(c, "unterminated quoted field %d", c->nfields + 1);
                if (b == 0)
                    return fail(c, "NUL byte in field %d", c->nfields + 1);
                if (b == '"') {
                    if (peek_byte(c) == '"') {
                        next_byte(c);
                    } else {
                        break;
                    }
                }
                if (b == '\n')
                    c->next_line++;
                if (buf_putc(&c->rec, (char)b))
                    return fail(c, "record too long");
            }
            b = next_byte(c);
            if (b >= 0 && b != ',' && b != '\n' && b != '\r')
                return fail(c, "text after the closing quote of field %d", c->nfields + 1);
        } else {
            while (b >= 0 && b != ',' && b != '\n' && b != '\r') {
                if (b == 0)
                    return fail(c, "NUL byte in field %d", c->nfields + 1);
                if (b == '"')
                    return fail(c, "quote inside unquoted field %d", c->nfields + 1);
                /* b and the plain bytes after it in the read buffer, in one append */
                size_t from = c->rpos - 1, to = c->rpos;
                while (to < c->rlen && plain_byte(c->rbuf[to]))
                    to++;
                if (buf_append(&c->rec, c->rbuf + from, to - from))
                    return fail(c, "record too long");
                c->bytes += to - c->rpos;
                c->rpos = to;
                b = next_byte(c);
            }
        }
        if (end_field(c, start))
            return -1;
        if (b == ',')
            continue;
        if (b == '\r' && next_byte(c) != '\n')
            return fail(c, "carriage return without line feed");
        if (b >= 0)
            c->next_line++;
        return 1;
    }
}
