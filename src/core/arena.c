#include "xsell/arena.h"

#include <stdarg.h>

#include "xsell/xalloc.h"

#define ARENA_BLOCK 16384
#define ARENA_ALIGN 16

struct arena_block {
    struct arena_block *next;
    size_t used, size;
    _Alignas(16) unsigned char data[];
};

struct arena_defer {
    struct arena_defer *next;
    void (*fn)(void *);
    void *p;
};

void arena_init(struct arena *a)
{
    memset(a, 0, sizeof(*a));
}

void arena_release(struct arena *a)
{
    while (a->defers) {
        struct arena_defer *d = a->defers;
        a->defers = d->next;
        d->fn(d->p);
    }
    while (a->blocks) {
        struct arena_block *b = a->blocks;
        a->blocks = b->next;
        free(b);
    }
    a->bytes = 0;
}

void *arena_alloc(struct arena *a, size_t n)
{
    if (n > SIZE_MAX - 2 * ARENA_BLOCK)
        abort();
    size_t need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    struct arena_block *b = a->blocks;
    if (!b || b->size - b->used < need) {
        size_t size = need > ARENA_BLOCK / 4 ? need : ARENA_BLOCK;
        b = xmalloc(sizeof(*b) + size);
        b->used = 0;
        b->size = size;
        a->bytes += sizeof(*b) + size;
        if (size == need && a->blocks) {
            /* A big one-off: keep the current block open for small allocations. */
            b->next = a->blocks->next;
            a->blocks->next = b;
        } else {
            b->next = a->blocks;
            a->blocks = b;
        }
    }
    void *p = b->data + b->used;
    b->used += need;
    memset(p, 0, n);
    return p;
}

void *arena_array(struct arena *a, size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        abort();
    return arena_alloc(a, count * size);
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
    return arena_strndup(a, s, strlen(s));
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        abort();
    char *p = arena_alloc(a, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void arena_defer(struct arena *a, void (*fn)(void *), void *p)
{
    struct arena_defer *d = arena_alloc(a, sizeof(*d));
    d->fn = fn;
    d->p = p;
    d->next = a->defers;
    a->defers = d;
}

void arena_adopt(struct arena *dst, struct arena *src)
{
    struct arena_block **tail = &src->blocks;
    while (*tail)
        tail = &(*tail)->next;
    if (dst->blocks) { /* behind dst's open block, which stays the one allocated from */
        *tail = dst->blocks->next;
        dst->blocks->next = src->blocks;
    } else {
        dst->blocks = src->blocks;
    }
    struct arena_defer **dtail = &src->defers;
    while (*dtail)
        dtail = &(*dtail)->next;
    *dtail = dst->defers;
    dst->defers = src->defers;
    dst->bytes += src->bytes;
    arena_init(src);
}
