/* buf.h - a growable byte buffer with a size cap (curl's dynbuf idea).
 * data is always NUL-terminated. Appending past max fails, leaves the contents as
 * they were and sets overflow, which stays set (every later append fails too) until
 * buf_reset: a writer that ignores each append's result checks overflow once, where
 * the text is used (respond_buf answers 500 rather than send a cut-off answer).
 * Caps are named in caps.h. */
#ifndef XSELL_BUF_H
#define XSELL_BUF_H

#include "xsell/caps.h"
#include "xsell/common.h"

struct buf {
    char *data;
    size_t len;
    size_t cap;
    size_t max;
    bool overflow; /* an append did not fit; sticky until buf_reset */
};

void buf_init(struct buf *b, size_t max);
void buf_release(struct buf *b);
/* Empties the buffer and clears overflow. */
void buf_reset(struct buf *b);
int buf_append(struct buf *b, const void *p, size_t n);
int buf_putc(struct buf *b, char c);
/* v in decimal, without printf (hot paths: a line of an import). */
int buf_append_int(struct buf *b, int64_t v);
int buf_appendf(struct buf *b, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* Hands the data to the caller (free() it); the buffer is left empty. */
char *buf_detach(struct buf *b, size_t *len);

#endif
