/* jsonw.h - a small JSON writer into a struct buf, for hot answers where building
 * a cJSON tree (a malloc per node, printf and a scanf round-trip per number) costs
 * more than the answer itself. The caller writes keys and values in order;
 * commas are placed by the writer. */
#ifndef XSELL_JSONW_H
#define XSELL_JSONW_H

#include <math.h>

#include "xsell/buf.h"

#define JSONW_DEPTH 16

struct jsonw {
    struct buf *b;
    int depth;
    bool first[JSONW_DEPTH]; /* nothing written yet at this level */
};

/* v rounded to places decimals: an answer's figure shown to what it can carry. */
static inline double round_to(double v, int places)
{
    double f = pow(10, places);
    return round(v * f) / f;
}

void jsonw_init(struct jsonw *w, struct buf *b);
void jsonw_open(struct jsonw *w, const char *key, char bracket); /* key NULL in arrays */
void jsonw_close(struct jsonw *w, char bracket);
void jsonw_str(struct jsonw *w, const char *key, const char *s); /* s NULL: null */
void jsonw_num(struct jsonw *w, const char *key, double v);      /* 6 decimals at most */
void jsonw_int(struct jsonw *w, const char *key, long long v);
void jsonw_bool(struct jsonw *w, const char *key, bool v);
/* Members already rendered ("a":1,"b":2), appended as they are. */
void jsonw_raw_members(struct jsonw *w, const char *text, size_t len);

#endif
