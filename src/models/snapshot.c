#include "xsell/snapshot.h"

#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xsell/jsonw.h"
#include "xsell/log.h"
#include "xsell/retention.h"
#include "xsell/snapfile.h"
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
    if (s->map)
        munmap(s->map, s->map_bytes);
    else
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

bool registry_publish_newer(struct registry *r, struct snapshot *s)
{
    pthread_mutex_lock(&r->mu);
    struct snapshot *old = r->current;
    bool newer = !old || s->version > old->version;
    if (newer)
        r->current = s;
    pthread_mutex_unlock(&r->mu);
    snapshot_unref(newer ? old : s);
    return newer;
}

/* Each product's forecast units over the restock horizon against its stock. */
static void render_stock(struct snapshot *s)
{
    const struct history *h = &s->hist;
    const struct model_sales *m = &s->sales;
    size_t n = history_nproducts(h);
    s->stock_demand = arena_array(&s->arena, n + 1, sizeof(float));
    s->held = arena_array(&s->arena, n + 1, sizeof(bool));
    int days = m->nodes ? (int)MIN(s->params.restock_days, m->h_max[SALES_DAY]) : 0;
    for (size_t p = 0; p < n; p++) {
        double d = NAN;
        if (p < m->nproducts && days > 0) {
            const struct sales_fc *fc = &m->fc[SALES_UNITS][SALES_DAY][p];
            d = 0;
            for (int i = 0; i < days; i++)
                d += fc->mean[i];
        }
        s->stock_demand[p] = (float)d;
        s->held[p] = h->stock[p] >= 0 && isfinite(d) && d > h->stock[p];
    }
}

void snapshot_write_held(struct jsonw *j, const struct snapshot *s, const struct held_back *hb)
{
    char why[160];
    jsonw_open(j, "held_back", '[');
    for (int i = 0; i < hb->n; i++) {
        int32_t p = hb->product[i];
        snprintf(why, sizeof(why),
                 "forecast demand of %.1f units over the next %g days exceeds the stock of %d",
                 s->stock_demand[p], s->params.restock_days, s->hist.stock[p]);
        jsonw_open(j, NULL, '{');
        jsonw_str(j, "product_id", idmap_key(&s->hist.products, p));
        jsonw_int(j, "stock", s->hist.stock[p]);
        jsonw_num(j, "forecast_units", round(s->stock_demand[p] * 100) / 100);
        jsonw_str(j, "reason", why);
        jsonw_close(j, '}');
    }
    jsonw_close(j, ']');
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
    render_stock(s);
    retention_rank(s);
    s->channel_all = arena_array(&s->arena, idmap_size(&h->channels) + 1, sizeof(*s->channel_all));
    channel_cohorts(h, &s->churn, INT32_MIN, INT32_MAX, 0, s->channel_all);
}

/* --- persisted --------------------------------------------------------------------- */

/* The snapshot's own figures, as stored. */
struct snapshot_head {
    int64_t version, refit_version;
    double trained_at, as_of, loaded_at, watermark, history_end, refit_at;
    uint64_t bytes, model_bytes[MODELS_COUNT];
    uint8_t incremental;
    struct model_params params; /* the settings; the run's pointers left out */
};

uint32_t snapshot_layout(void)
{
    const uint64_t sizes[] = {sizeof(struct snapshot_head),
#define MODEL_SIZE(member, type, name, deps, eval) sizeof(struct type),
                              MODELS(MODEL_SIZE)
#undef MODEL_SIZE
                                  sizeof(struct assoc_rule),
                              sizeof(struct upsell_link),
                              sizeof(struct churn_customer),
                              sizeof(struct price_item),
                              sizeof(struct price_group),
                              sizeof(struct sales_fc),
                              sizeof(struct fc_choice),
                              sizeof(bool),
                              sizeof(size_t),
                              MODELS_COUNT,
                              SALES_MAX_H_DAY,
                              UPSELL_K};
    return (uint32_t)snapfile_checksum(sizes, sizeof(sizes));
}

int snapshot_save(const struct snapshot *s, const char *path, uint64_t *id, char *err,
                  size_t errlen)
{
    struct snapw w;
    if (snapw_open(&w, path, s->version, snapshot_layout(), err, errlen))
        return -1;
    struct snapshot_head head = {.version = s->version,
                                 .refit_version = s->refit_version,
                                 .trained_at = s->trained_at,
                                 .as_of = s->as_of,
                                 .loaded_at = s->loaded_at,
                                 .watermark = s->watermark,
                                 .history_end = s->history_end,
                                 .refit_at = s->refit_at,
                                 .bytes = s->bytes,
                                 .incremental = s->incremental,
                                 .params = s->params};
    for (int i = 0; i < MODELS_COUNT; i++)
        head.model_bytes[i] = s->model_bytes[i];
    head.params.content_prev = NULL;
    head.params.sales_prev = NULL;
    head.params.churn_prev = NULL;
    head.params.fitted = NULL;
    head.params.fitted_ctx = NULL;
    snapw_put(&w, "snapshot", &head, sizeof(head), 1);
    const char *metrics = s->metrics_json ? s->metrics_json : "{}";
    snapw_put(&w, "snapshot.metrics", metrics, 1, strlen(metrics) + 1);
    history_save(&s->hist, &w);
    for (int i = 0; i < MODELS_COUNT; i++)
        model_table[i].save(s, &w);
    if (snapw_close(&w, err, errlen)) {
        unlink(path);
        return -1;
    }
    *id = w.id;
    return 0;
}

static struct snapshot *load_refused(struct snapshot *s, void *map, size_t bytes, char *err,
                                     size_t errlen, const char *why)
{
    fmt_error(err, errlen, "%s", why);
    if (s) {
        s->map = NULL; /* unmapped here, after the snapshot's own memory */
        snapshot_unref(s);
    }
    munmap(map, bytes);
    return NULL;
}

struct snapshot *snapshot_load(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fmt_error(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) || st.st_size <= 0) {
        fmt_error(err, errlen, "%s: empty or unreadable", path);
        close(fd);
        return NULL;
    }
    size_t bytes = (size_t)st.st_size;
    void *map = mmap(NULL, bytes, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (map == MAP_FAILED) {
        fmt_error(err, errlen, "cannot map %s: %s", path, strerror(errno));
        return NULL;
    }
    struct snapr r;
    char why[300];
    if (snapr_open(&r, map, bytes, snapshot_layout(), why, sizeof(why)))
        return load_refused(NULL, map, bytes, err, errlen, why);
    struct snapshot *s = snapshot_new();
    s->map = map;
    s->map_bytes = bytes;
    struct snapshot_head head;
    size_t mbytes = 0;
    const char *metrics = snapr_copy(&r, "snapshot", &head, sizeof(head))
                              ? snapr_section(&r, "snapshot.metrics", &mbytes)
                              : NULL;
    if (metrics && (mbytes == 0 || metrics[mbytes - 1] != '\0'))
        metrics = NULL; /* not one NUL-ended text */
    if (r.failed || !metrics)
        return load_refused(s, map, bytes, err, errlen,
                            r.failed ? r.why : "the metrics are missing or unended");
    history_release(&s->hist);
    history_load_sections(&s->hist, &r);
    for (int i = 0; i < MODELS_COUNT && !r.failed; i++)
        model_table[i].load(s, &r);
    if (r.failed)
        return load_refused(s, map, bytes, err, errlen, r.why);
    s->version = head.version;
    s->refit_version = head.refit_version;
    s->trained_at = head.trained_at;
    s->as_of = head.as_of;
    s->loaded_at = head.loaded_at;
    s->watermark = head.watermark;
    s->history_end = head.history_end;
    s->refit_at = head.refit_at;
    s->incremental = head.incremental != 0;
    s->params = head.params;
    s->bytes = head.bytes;
    for (int i = 0; i < MODELS_COUNT; i++)
        s->model_bytes[i] = head.model_bytes[i];
    s->metrics_json = (char *)(uintptr_t)metrics;
    s->file_id = r.id;
    snapshot_render(s);
    return s;
}
