#include "xsell/buf.h"

#include <stdarg.h>

#include "xsell/xalloc.h"

void buf_init(struct buf *b, size_t max)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->max = max;
    b->overflow = false;
}

void buf_release(struct buf *b)
{
    free(b->data);
    buf_init(b, b->max);
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    b->overflow = false;
    if (b->data)
        b->data[0] = '\0';
}

int buf_append(struct buf *b, const void *p, size_t n)
{
    if (b->overflow || n > b->max || b->len > b->max - n) {
        b->overflow = true;
        return -1;
    }
    xgrow((void **)&b->data, &b->cap, b->len + n + 1, 1);
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int buf_putc(struct buf *b, char c)
{
    if (b->len + 1 < b->cap && b->len < b->max && !b->overflow) {
        b->data[b->len++] = c;
        b->data[b->len] = '\0';
        return 0;
    }
    return buf_append(b, &c, 1);
}

int buf_append_int(struct buf *b, int64_t v)
{
    char tmp[24], *p = tmp + sizeof(tmp);
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do
        *--p = (char)('0' + u % 10);
    while (u /= 10);
    if (v < 0)
        *--p = '-';
    return buf_append(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

int buf_appendf(struct buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->overflow = true;
        return -1;
    }
    if ((size_t)n < sizeof(small))
        return buf_append(b, small, (size_t)n);
    char *big = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    int rc = buf_append(b, big, (size_t)n);
    free(big);
    return rc;
}

char *buf_detach(struct buf *b, size_t *len)
{
    if (!b->data)
        buf_append(b, "", 0);
    char *p = b->data;
    if (len)
        *len = b->len;
    buf_init(b, b->max);
    return p;
}
