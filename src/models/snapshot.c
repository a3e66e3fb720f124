#include "xsell/snapshot.h"

#include "xsell/jsonw.h"
#include "xsell/xalloc.h"

static atomic_long freed_count;

struct snapshot *snapshot_new(void)
{
    struct snapshot *s = xcalloc(1, sizeof(*s));
    atomic_init(&s->refs, 1);
    history_init(&s->hist);
    arena_init(&s->arena);
    return s;
}

void snapshot_ref(struct snapshot *s)
{
    atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
}

void snapshot_unref(struct snapshot *s)
{
    if (!s)
        return;
    if (atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1)
        return;
    history_release(&s->hist);
    arena_release(&s->arena);
    free(s->metrics_json);
    free(s);
    atomic_fetch_add(&freed_count, 1);
}

long snapshot_freed_count(void)
{
    return atomic_load(&freed_count);
}

void registry_init(struct registry *r)
{
    pthread_mutex_init(&r->mu, NULL);
    r->current = NULL;
}

void registry_release(struct registry *r)
{
    snapshot_unref(r->current);
    r->current = NULL;
    pthread_mutex_destroy(&r->mu);
}

/* The mutex covers "load the pointer and take a reference" as one step, so a
 * publish cannot free the snapshot between the two. It is held for nanoseconds. */
struct snapshot *registry_take(struct registry *r)
{
    pthread_mutex_lock(&r->mu);
    struct snapshot *s = r->current;
    if (s)
        snapshot_ref(s);
    pthread_mutex_unlock(&r->mu);
    return s;
}

void registry_publish(struct registry *r, struct snapshot *s)
{
    pthread_mutex_lock(&r->mu);
    struct snapshot *old = r->current;
    r->current = s;
    pthread_mutex_unlock(&r->mu);
    snapshot_unref(old);
}

/* Each product's identity members, rendered once per snapshot: every answer that
 * names a product repeats them (DESIGN.md: render hot answers once). */
void snapshot_render(struct snapshot *s)
{
    const struct history *h = &s->hist;
    size_t n = history_nproducts(h);
    struct buf b;
    buf_init(&b, BUF_UNCAPPED);
    s->product_json = arena_array(&s->arena, n + 1, sizeof(char *));
    s->product_json_len = arena_array(&s->arena, n + 1, sizeof(uint32_t));
    for (size_t p = 0; p < n; p++) {
        struct jsonw j;
        buf_reset(&b);
        jsonw_init(&j, &b);
        jsonw_str(&j, "product_id", idmap_key(&h->products, (int32_t)p));
        jsonw_str(&j, "name", h->name[p]);
        jsonw_str(&j, "category", h->category[p]);
        jsonw_num(&j, "price", h->price[p]);
        s->product_json[p] = arena_strndup(&s->arena, b.data, b.len);
        s->product_json_len[p] = (uint32_t)b.len;
    }
    buf_release(&b);
}
