/* buf.h - a growable byte buffer with a size cap (curl's dynbuf idea).
 * data is always NUL-terminated; appending past max fails and leaves the
 * buffer as it was. */
#ifndef XSELL_BUF_H
#define XSELL_BUF_H

#include "xsell/common.h"

struct buf {
    char *data;
    size_t len;
    size_t cap;
    size_t max;
};

void buf_init(struct buf *b, size_t max);
void buf_release(struct buf *b);
void buf_reset(struct buf *b);
int buf_append(struct buf *b, const void *p, size_t n);
int buf_putc(struct buf *b, char c);
int buf_appendf(struct buf *b, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* Hands the data to the caller (free() it); the buffer is left empty. */
char *buf_detach(struct buf *b, size_t *len);

#endif
