#include "xsell/recent.h"

#include "xsell/xalloc.h"

void recent_init(struct recent *r)
{
    pthread_mutex_init(&r->mu, NULL);
    r->e = xcalloc(RECENT_MAX, sizeof(struct recent_entry));
    r->head = r->n = 0;
}

static void drop_oldest(struct recent *r)
{
    struct recent_entry *e = &r->e[r->head];
    free(e->customer);
    free(e->product);
    e->customer = e->product = NULL;
    r->head = (r->head + 1) % RECENT_MAX;
    r->n--;
}

void recent_release(struct recent *r)
{
    while (r->n)
        drop_oldest(r);
    free(r->e);
    pthread_mutex_destroy(&r->mu);
}

void recent_add(struct recent *r, const char *customer, const char *product, double at)
{
    pthread_mutex_lock(&r->mu);
    if (r->n == RECENT_MAX)
        drop_oldest(r);
    struct recent_entry *e = &r->e[(r->head + r->n) % RECENT_MAX];
    e->customer = xstrdup(customer);
    e->product = xstrdup(product);
    e->at = at;
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
    const char **list = arena_array(a, r->n + 1, sizeof(char *));
    for (size_t i = 0; i < r->n; i++) {
        const struct recent_entry *e = &r->e[(r->head + i) % RECENT_MAX];
        if (strcmp(e->customer, customer) == 0)
            list[k++] = arena_strdup(a, e->product);
    }
    pthread_mutex_unlock(&r->mu);
    *out = list;
    return k;
}
