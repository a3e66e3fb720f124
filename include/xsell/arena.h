/* arena.h - memory grouped by lifespan (a request, a snapshot) and freed as one.
 * Everything allocated from an arena lives until arena_release(); deferred
 * cleanups (cJSON roots, PGresults) run then too, in reverse order. */
#ifndef XSELL_ARENA_H
#define XSELL_ARENA_H

#include "xsell/common.h"

struct arena_block;
struct arena_defer;

struct arena {
    struct arena_block *blocks;
    struct arena_defer *defers;
    size_t bytes; /* total bytes obtained from malloc, for metrics */
};

void arena_init(struct arena *a);
void arena_release(struct arena *a);
/* Zeroed, 16-byte aligned memory. */
void *arena_alloc(struct arena *a, size_t n);
/* As arena_alloc for count*size, aborting on overflow. */
void *arena_array(struct arena *a, size_t count, size_t size);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);
char *arena_printf(struct arena *a, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* Calls fn(p) when the arena is released. */
void arena_defer(struct arena *a, void (*fn)(void *), void *p);
/* Moves everything src holds (memory and deferred cleanups) into dst, leaving src
 * empty: what was allocated from src now lives until dst is released. */
void arena_adopt(struct arena *dst, struct arena *src);

#endif
