#include "xsell/recent.h"

#include "xsell/hash.h"
#include "xsell/xalloc.h"

#define RECENT_NONE UINT32_MAX

struct recent_customer {
    struct recent_customer *next; /* in its bucket */
    uint32_t first, last;         /* its oldest and newest entries */
    uint32_t n;
    char id[]; /* NUL-terminated */
};

static struct recent_customer **bucket_of(struct recent *r, const char *id)
{
    return &r->buckets[hash_str(HASH_FNV_SEED, id) & (RECENT_BUCKETS - 1)];
}

static struct recent_customer *find(struct recent *r, const char *id)
{
    struct recent_customer *c = *bucket_of(r, id);
    while (c && strcmp(c->id, id) != 0)
        c = c->next;
    return c;
}

void recent_init(struct recent *r)
{
    _Static_assert((RECENT_BUCKETS & (RECENT_BUCKETS - 1)) == 0, "a power of two");
    pthread_mutex_init(&r->mu, NULL);
    r->e = xcalloc(RECENT_MAX, sizeof(struct recent_entry));
    r->buckets = xcalloc(RECENT_BUCKETS, sizeof(struct recent_customer *));
    r->head = r->n = 0;
}

/* The oldest entry goes; it is its customer's oldest too (each chain is in time
 * order), so it leaves the chain at its front. */
static void drop_oldest(struct recent *r)
{
    struct recent_entry *e = &r->e[r->head];
    struct recent_customer *c = e->customer;
    c->first = e->next;
    if (--c->n == 0) {
        struct recent_customer **p = bucket_of(r, c->id);
        while (*p != c)
            p = &(*p)->next;
        *p = c->next;
        free(c);
    }
    free(e->product);
    memset(e, 0, sizeof(*e));
    r->head = (r->head + 1) % RECENT_MAX;
    r->n--;
}

void recent_release(struct recent *r)
{
    while (r->n)
        drop_oldest(r);
    free(r->e);
    free(r->buckets);
    pthread_mutex_destroy(&r->mu);
}

void recent_add(struct recent *r, const char *customer, const char *product, double at)
{
    pthread_mutex_lock(&r->mu);
    if (r->n == RECENT_MAX)
        drop_oldest(r);
    uint32_t i = (uint32_t)((r->head + r->n) % RECENT_MAX);
    struct recent_customer *c = find(r, customer);
    if (!c) {
        size_t len = strlen(customer);
        c = xcalloc(1, sizeof(*c) + len + 1);
        memcpy(c->id, customer, len + 1);
        c->first = i;
        struct recent_customer **b = bucket_of(r, customer);
        c->next = *b;
        *b = c;
    } else {
        r->e[c->last].next = i;
    }
    c->last = i;
    c->n++;
    r->e[i] = (struct recent_entry){c, xstrdup(product), at, RECENT_NONE};
    r->n++;
    pthread_mutex_unlock(&r->mu);
}

size_t recent_for(struct recent *r, const char *customer, double since, struct arena *a,
                  const char ***out)
{
    size_t k = 0;
    pthread_mutex_lock(&r->mu);
    while (r->n && r->e[r->head].at < since)
        drop_oldest(r);
    const struct recent_customer *c = find(r, customer);
    const char **list = arena_array(a, c ? c->n + 1 : 1, sizeof(char *));
    for (uint32_t i = c ? c->first : RECENT_NONE; i != RECENT_NONE; i = r->e[i].next)
        list[k++] = arena_strdup(a, r->e[i].product);
    pthread_mutex_unlock(&r->mu);
    *out = list;
    return k;
}
