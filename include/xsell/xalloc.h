/* xalloc.h - allocation that never returns NULL: out of memory aborts the process.
 * Sizes a client controls are capped (caps.h) before they reach these. */
#ifndef XSELL_XALLOC_H
#define XSELL_XALLOC_H

#include "xsell/common.h"

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
/* Grows *p (holding *cap elements of size each) to at least need elements. */
void xgrow(void **p, size_t *cap, size_t need, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
