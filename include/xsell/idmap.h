/* idmap.h - external string ids to dense indices 0..n-1, in order of first insert.
 * Keys are copied into the map's own arena; idmap_key() pointers live as long as
 * the map. */
#ifndef XSELL_IDMAP_H
#define XSELL_IDMAP_H

#include "xsell/arena.h"
#include "xsell/common.h"

struct idmap {
    struct arena arena;
    int32_t *slots;    /* index+1 per slot, 0 = empty */
    uint32_t *hashes;  /* hash per index */
    const char **keys; /* key per index */
    uint32_t *lens;
    size_t nslots;
    size_t n, cap;
    bool borrowed; /* the arrays belong to a loaded snapshot's mapping: read only */
};

void idmap_init(struct idmap *m);
void idmap_release(struct idmap *m);
/* dst (initialised, empty) becomes a copy of src, without hashing a key again. */
void idmap_copy(struct idmap *dst, const struct idmap *src);
/* Index of key, or -1. */
int32_t idmap_find(const struct idmap *m, const char *key, size_t len);
/* Index of key, inserting it if new (*added tells); never on a borrowed map. */
int32_t idmap_put(struct idmap *m, const char *key, size_t len, bool *added);
static inline const char *idmap_key(const struct idmap *m, int32_t i)
{
    return m->keys[i];
}
static inline size_t idmap_size(const struct idmap *m)
{
    return m->n;
}

#endif
