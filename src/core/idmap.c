#include "xsell/idmap.h"

#include "xsell/xalloc.h"

/* FNV-1a: simple and good enough for ids; the table is resized at 50% load. */
static uint32_t hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

void idmap_init(struct idmap *m)
{
    memset(m, 0, sizeof(*m));
    arena_init(&m->arena);
}

void idmap_release(struct idmap *m)
{
    arena_release(&m->arena);
    if (!m->borrowed) {
        free(m->slots);
        free(m->hashes);
        free(m->keys);
        free(m->lens);
    }
    memset(m, 0, sizeof(*m));
}

void idmap_copy(struct idmap *dst, const struct idmap *src)
{
    idmap_release(dst);
    idmap_init(dst);
    dst->n = dst->cap = src->n;
    dst->nslots = src->nslots;
    if (src->nslots) {
        dst->slots = xmalloc(src->nslots * sizeof(int32_t));
        memcpy(dst->slots, src->slots, src->nslots * sizeof(int32_t));
    }
    dst->hashes = xmalloc((src->n + 1) * sizeof(uint32_t));
    dst->lens = xmalloc((src->n + 1) * sizeof(uint32_t));
    dst->keys = xmalloc((src->n + 1) * sizeof(char *));
    memcpy(dst->hashes, src->hashes, src->n * sizeof(uint32_t));
    memcpy(dst->lens, src->lens, src->n * sizeof(uint32_t));
    size_t bytes = 0;
    for (size_t i = 0; i < src->n; i++)
        bytes += src->lens[i] + 1;
    char *p = arena_alloc(&dst->arena, bytes + 1); /* the keys, one block, each NUL-ended */
    for (size_t i = 0; i < src->n; i++) {
        memcpy(p, src->keys[i], src->lens[i] + 1);
        dst->keys[i] = p;
        p += src->lens[i] + 1;
    }
}

static size_t probe(const struct idmap *m, const char *key, size_t len, uint32_t h)
{
    size_t mask = m->nslots - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        int32_t s = m->slots[i];
        if (s == 0)
            return i;
        size_t idx = (size_t)s - 1;
        if (m->hashes[idx] == h && m->lens[idx] == len && memcmp(m->keys[idx], key, len) == 0)
            return i;
    }
}

int32_t idmap_find(const struct idmap *m, const char *key, size_t len)
{
    if (!m->nslots)
        return -1;
    int32_t s = m->slots[probe(m, key, len, hash(key, len))];
    return s - 1;
}

static void rehash(struct idmap *m)
{
    size_t nslots = m->nslots ? m->nslots * 2 : 64;
    free(m->slots);
    m->slots = xcalloc(nslots, sizeof(int32_t));
    m->nslots = nslots;
    for (size_t i = 0; i < m->n; i++) {
        size_t mask = nslots - 1, j = m->hashes[i] & mask;
        while (m->slots[j])
            j = (j + 1) & mask;
        m->slots[j] = (int32_t)i + 1;
    }
}

int32_t idmap_put(struct idmap *m, const char *key, size_t len, bool *added)
{
    if (m->borrowed)
        abort(); /* a loaded snapshot's map is never changed */
    if (added)
        *added = false;
    if ((m->n + 1) * 2 > m->nslots)
        rehash(m);
    uint32_t h = hash(key, len);
    size_t slot = probe(m, key, len, h);
    if (m->slots[slot])
        return m->slots[slot] - 1;
    if (m->n >= INT32_MAX - 1)
        abort();
    if (m->n == m->cap) {
        size_t cap = m->cap;
        xgrow((void **)&m->hashes, &cap, m->n + 1, sizeof(uint32_t));
        cap = m->cap;
        xgrow((void **)&m->lens, &cap, m->n + 1, sizeof(uint32_t));
        cap = m->cap;
        xgrow((void **)&m->keys, &cap, m->n + 1, sizeof(char *));
        m->cap = cap;
    }
    m->hashes[m->n] = h;
    m->lens[m->n] = (uint32_t)len;
    m->keys[m->n] = arena_strndup(&m->arena, key, len);
    m->slots[slot] = (int32_t)m->n + 1;
    if (added)
        *added = true;
    return (int32_t)m->n++;
}
