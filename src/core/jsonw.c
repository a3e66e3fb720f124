#include "xsell/jsonw.h"

#include <math.h>

void jsonw_init(struct jsonw *w, struct buf *b)
{
    w->b = b;
    w->depth = 0;
    w->first[0] = true;
}

static void put_string(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    buf_putc(b, '"');
    const unsigned char *run = (const unsigned char *)s, *p = run;
    for (;; p++) {
        unsigned char c = *p;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        buf_append(b, run, (size_t)(p - run)); /* the plain run before it */
        if (!c)
            break;
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            buf_append(b, esc, 2);
        } else {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            buf_append(b, esc, 6);
        }
        run = p + 1;
    }
    buf_putc(b, '"');
}

/* Decimal text of v with at most 6 decimals, trailing zeros dropped, without
 * printf: the answers print thousands of prices and scores a second. */
static void put_decimal(struct buf *b, double v)
{
    char tmp[40], *e = tmp + sizeof(tmp), *p = e;
    long long n = llround(fabs(v) * 1e6);
    long long whole = n / 1000000, frac = n % 1000000;
    int digits = 6;
    while (digits > 0 && frac % 10 == 0)
        frac /= 10, digits--;
    for (int i = 0; i < digits; i++, frac /= 10)
        *--p = (char)('0' + frac % 10);
    if (digits)
        *--p = '.';
    do {
        *--p = (char)('0' + whole % 10);
        whole /= 10;
    } while (whole);
    if (v < 0 && n != 0)
        *--p = '-';
    buf_append(b, p, (size_t)(e - p));
}

static void member(struct jsonw *w, const char *key)
{
    if (!w->first[w->depth])
        buf_putc(w->b, ',');
    w->first[w->depth] = false;
    if (key) {
        put_string(w->b, key);
        buf_putc(w->b, ':');
    }
}

void jsonw_open(struct jsonw *w, const char *key, char bracket)
{
    if (w->depth > 0 || !w->first[0])
        member(w, key);
    buf_putc(w->b, bracket);
    if (w->depth + 1 < JSONW_DEPTH)
        w->depth++;
    w->first[w->depth] = true;
}

void jsonw_close(struct jsonw *w, char bracket)
{
    buf_putc(w->b, bracket);
    if (w->depth > 0)
        w->depth--;
}

void jsonw_str(struct jsonw *w, const char *key, const char *s)
{
    member(w, key);
    if (s)
        put_string(w->b, s);
    else
        buf_append(w->b, "null", 4);
}

void jsonw_num(struct jsonw *w, const char *key, double v) /* 6 decimals at most */
{
    member(w, key);
    if (!isfinite(v))
        buf_append(w->b, "null", 4);
    else if (fabs(v) < 1e12 && (fabs(v) >= 1e-3 || v == 0))
        put_decimal(w->b, v);
    else
        buf_appendf(w->b, "%.10g", v);
}

void jsonw_int(struct jsonw *w, const char *key, long long v)
{
    member(w, key);
    buf_appendf(w->b, "%lld", v);
}

void jsonw_bool(struct jsonw *w, const char *key, bool v)
{
    member(w, key);
    buf_append(w->b, v ? "true" : "false", v ? 4 : 5);
}

void jsonw_raw_members(struct jsonw *w, const char *text, size_t len)
{
    if (!w->first[w->depth])
        buf_putc(w->b, ',');
    w->first[w->depth] = false;
    buf_append(w->b, text, len);
}
