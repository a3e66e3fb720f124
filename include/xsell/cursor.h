/* cursor.h - the opaque page cursors of list answers (/churn, /price): the model
 * version that ranked the list, the position in it, and a check over both and the
 * request's filters, as "version-position-check" in hex. A cursor is only good for
 * the same filters and the same model version. */
#ifndef XSELL_CURSOR_H
#define XSELL_CURSOR_H

#include "xsell/common.h"

#define CURSOR_MAX 64

/* Folds a filter's bytes into a running hash (start from CURSOR_SEED). */
#define CURSOR_SEED 2166136261u
uint32_t cursor_mix(uint32_t h, const void *p, size_t n);

void cursor_format(int64_t version, uint32_t pos, uint32_t filters, char out[CURSOR_MAX]);
/* -1 when s is not a cursor issued with these filters (or beyond limit). */
int cursor_parse(const char *s, uint32_t filters, uint32_t limit, int64_t *version, uint32_t *pos);

#endif
