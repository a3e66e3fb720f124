#include "xsell/history.h"

#include <assert.h>
#include <math.h>

#include "xsell/snapfile.h"
#include "xsell/xalloc.h"

void history_init(struct history *h)
{
    memset(h, 0, sizeof(*h));
    arena_init(&h->arena);
    idmap_init(&h->products);
    idmap_init(&h->customers);
    idmap_init(&h->orders);
    idmap_init(&h->channels);
}

void history_release(struct history *h)
{
    arena_release(&h->arena);
    idmap_release(&h->products);
    idmap_release(&h->customers);
    idmap_release(&h->orders);
    idmap_release(&h->channels);
    if (h->borrowed) {
        memset(h, 0, sizeof(*h));
        return;
    }
    free(h->name);
    free(h->category);
    free(h->price);
    free(h->cost);
    free(h->in_stock);
    free(h->in_catalog);
    free(h->stock);
    free(h->order_customer);
    free(h->order_time);
    free(h->order_first);
    free(h->order_channel);
    free(h->cust_channel);
    free(h->line_order);
    free(h->line_product);
    free(h->line_qty);
    free(h->line_price);
    free(h->cust_first);
    free(h->cust_items);
    free(h->sig_visit);
    free(h->sig_product);
    free(h->sig_kind);
    free(h->sig_time);
    free(h->visit_customer);
    free(h->visit_key);
    free(h->visit_first);
    memset(h, 0, sizeof(*h));
}

static void grow_products(struct history *h, size_t n)
{
    if (n <= h->product_cap)
        return;
    size_t old = h->product_cap, cap;
#define GROW(field)                                                                                \
    cap = old;                                                                                     \
    xgrow((void **)&h->field, &cap, n, sizeof(*h->field));                                         \
    memset(h->field + old, 0, (cap - old) * sizeof(*h->field))
    GROW(name);
    GROW(category);
    GROW(price);
    GROW(cost);
    GROW(in_stock);
    GROW(in_catalog);
    GROW(stock);
#undef GROW
    for (size_t i = old; i < cap; i++) {
        h->cost[i] = NAN;
        h->stock[i] = -1;
    }
    h->product_cap = cap;
}

int32_t history_add_product(struct history *h, const char *id, const char *name,
                            const char *category, double price, double cost, bool in_stock)
{
    int32_t p = idmap_put(&h->products, id, strlen(id), NULL);
    grow_products(h, (size_t)p + 1);
    h->name[p] = name ? arena_strdup(&h->arena, name) : NULL;
    h->category[p] = category ? arena_strdup(&h->arena, category) : NULL;
    h->price[p] = price;
    h->cost[p] = cost;
    h->in_stock[p] = in_stock;
    h->in_catalog[p] = true;
    return p;
}

void history_set_stock(struct history *h, int32_t p, int32_t stock)
{
    if (p >= 0 && (size_t)p < history_nproducts(h))
        h->stock[p] = stock < 0 ? -1 : stock;
}

void history_add_line(struct history *h, const char *order_id, const char *customer_id, double when,
                      const char *product_id, int32_t qty, double unit_price)
{
    bool added;
    int32_t o = idmap_put(&h->orders, order_id, strlen(order_id), &added);
    if (added) {
        size_t cap = h->order_cap;
        xgrow((void **)&h->order_customer, &cap, (size_t)o + 1, sizeof(int32_t));
        cap = h->order_cap;
        xgrow((void **)&h->order_time, &cap, (size_t)o + 1, sizeof(double));
        cap = h->order_cap;
        xgrow((void **)&h->order_channel, &cap, (size_t)o + 1, sizeof(int16_t));
        h->order_cap = cap;
        h->order_channel[o] = -1;
        h->order_customer[o] = customer_id && *customer_id ? idmap_put(&h->customers, customer_id,
                                                                       strlen(customer_id), NULL)
                                                           : -1;
        h->order_time[o] = when;
        if (h->t_min == 0 || when < h->t_min)
            h->t_min = when;
        if (when > h->t_max)
            h->t_max = when;
    }
    bool new_product;
    int32_t p = idmap_put(&h->products, product_id, strlen(product_id), &new_product);
    grow_products(h, (size_t)p + 1);
    if (new_product) {
        h->price[p] = unit_price;
        h->in_stock[p] = true;
    }
    if (h->nlines == h->line_cap) {
        size_t cap = h->line_cap;
        xgrow((void **)&h->line_order, &cap, h->nlines + 1, sizeof(int32_t));
        cap = h->line_cap;
        xgrow((void **)&h->line_product, &cap, h->nlines + 1, sizeof(int32_t));
        cap = h->line_cap;
        xgrow((void **)&h->line_qty, &cap, h->nlines + 1, sizeof(int32_t));
        cap = h->line_cap;
        xgrow((void **)&h->line_price, &cap, h->nlines + 1, sizeof(double));
        h->line_cap = cap;
    }
    assert(h->nlines == 0 || h->line_order[h->nlines - 1] <= o);
    h->line_order[h->nlines] = o;
    h->line_product[h->nlines] = p;
    h->line_qty[h->nlines] = qty;
    h->line_price[h->nlines] = unit_price;
    h->nlines++;
}

/* The channel's number, a new name past the cap counting as "other". */
static int16_t channel_number(struct history *h, const char *name)
{
    int32_t k = idmap_find(&h->channels, name, strlen(name));
    if (k < 0 && idmap_size(&h->channels) >= HISTORY_CHANNELS_MAX - 1)
        name = "other";
    return (int16_t)idmap_put(&h->channels, name, strlen(name), NULL);
}

void history_set_last_channel(struct history *h, const char *channel)
{
    if (h->nlines && channel && *channel)
        h->order_channel[h->line_order[h->nlines - 1]] = channel_number(h, channel);
}

/* cust_channel for every customer, -1 for those not set. */
static void grow_cust_channel(struct history *h)
{
    size_t nc = history_ncustomers(h), old = h->cust_channel_cap, cap = old;
    if (nc + 1 <= old)
        return;
    xgrow((void **)&h->cust_channel, &cap, nc + 1, sizeof(int16_t));
    for (size_t c = old; c < cap; c++)
        h->cust_channel[c] = -1;
    h->cust_channel_cap = cap;
}

void history_set_acquisition(struct history *h, const char *customer_id, const char *channel)
{
    int32_t c = idmap_find(&h->customers, customer_id, strlen(customer_id));
    if (c < 0 || !channel || !*channel)
        return;
    grow_cust_channel(h);
    h->cust_channel[c] = channel_number(h, channel);
}

void history_add_signal(struct history *h, const char *visit, const char *customer_id, double when,
                        const char *product_id, enum signal_kind kind)
{
    int32_t p = idmap_find(&h->products, product_id, strlen(product_id));
    if (p < 0)
        return;
    int32_t c = customer_id && *customer_id
                    ? idmap_find(&h->customers, customer_id, strlen(customer_id))
                    : -1;
    if (!h->visit_key || strcmp(h->visit_key, visit) != 0) {
        free(h->visit_key);
        h->visit_key = xstrdup(visit);
        xgrow((void **)&h->visit_customer, &h->visit_cap, h->nvisits + 1, sizeof(int32_t));
        h->visit_customer[h->nvisits++] = -1;
    }
    int32_t v = (int32_t)h->nvisits - 1;
    if (c >= 0)
        h->visit_customer[v] = c;
    if (h->nsignals == h->signal_cap) {
        size_t cap = h->signal_cap;
        xgrow((void **)&h->sig_visit, &cap, h->nsignals + 1, sizeof(int32_t));
        cap = h->signal_cap;
        xgrow((void **)&h->sig_product, &cap, h->nsignals + 1, sizeof(int32_t));
        cap = h->signal_cap;
        xgrow((void **)&h->sig_kind, &cap, h->nsignals + 1, sizeof(uint8_t));
        cap = h->signal_cap;
        xgrow((void **)&h->sig_time, &cap, h->nsignals + 1, sizeof(double));
        h->signal_cap = cap;
    }
    h->sig_visit[h->nsignals] = v;
    h->sig_product[h->nsignals] = p;
    h->sig_kind[h->nsignals] = (uint8_t)kind;
    h->sig_time[h->nsignals] = when;
    h->nsignals++;
}

void history_copy_signals(struct history *h, const struct history *from, double cut)
{
    char key[32];
    for (size_t v = 0; v < from->nvisits; v++) {
        int32_t c = from->visit_customer[v];
        const char *cust = c >= 0 ? idmap_key(&from->customers, c) : NULL;
        snprintf(key, sizeof(key), "%zu", v);
        for (int32_t k = from->visit_first[v]; k < from->visit_first[v + 1]; k++)
            if (from->sig_time[k] <= cut)
                history_add_signal(h, key, cust, from->sig_time[k],
                                   idmap_key(&from->products, from->sig_product[k]),
                                   (enum signal_kind)from->sig_kind[k]);
    }
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

bool history_numbers_alike(const struct history *h, const struct history *from)
{
    size_t nh = history_nproducts(h);
    for (size_t i = 0; i < history_nproducts(from); i++) {
        const char *id = idmap_key(&from->products, (int32_t)i);
        int32_t j = idmap_find(&h->products, id, strlen(id));
        if (i < nh ? j != (int32_t)i : (j >= 0 || from->in_catalog[i]))
            return false;
    }
    return history_ncustomers(h) == 0 && history_norders(h) == 0;
}

void history_copy_orders(struct history *h, const struct history *from)
{
    assert(history_numbers_alike(h, from));
    for (size_t i = history_nproducts(h); i < history_nproducts(from); i++) {
        int32_t p = idmap_put(&h->products, idmap_key(&from->products, (int32_t)i),
                              strlen(idmap_key(&from->products, (int32_t)i)), NULL);
        grow_products(h, (size_t)p + 1);
        h->price[p] = from->price[i]; /* as history_add_line set it: seen in orders only */
        h->in_stock[p] = from->in_stock[i];
    }
    idmap_copy(&h->customers, &from->customers);
    idmap_copy(&h->orders, &from->orders);
    idmap_copy(&h->channels, &from->channels);
    size_t no = history_norders(from), nl = from->nlines;
#define COPY(field, n)                                                                             \
    h->field = xmalloc(((n) + 1) * sizeof(*h->field));                                             \
    memcpy(h->field, from->field, (n) * sizeof(*h->field))
    COPY(order_customer, no);
    COPY(order_time, no);
    COPY(order_channel, no);
    COPY(cust_channel, history_ncustomers(from));
    COPY(line_order, nl);
    COPY(line_product, nl);
    COPY(line_qty, nl);
    COPY(line_price, nl);
#undef COPY
    h->order_cap = no + 1;
    h->cust_channel_cap = history_ncustomers(from);
    h->line_cap = nl + 1;
    h->nlines = nl;
    h->t_min = from->t_min;
    h->t_max = from->t_max;
}

void history_finish(struct history *h)
{
    size_t no = history_norders(h), nc = history_ncustomers(h);
    grow_products(h, history_nproducts(h) + 1);
    h->order_first = xcalloc(no + 1, sizeof(int32_t));
    for (size_t i = 0; i < h->nlines; i++)
        h->order_first[h->line_order[i] + 1]++;
    for (size_t o = 0; o < no; o++)
        h->order_first[o + 1] += h->order_first[o];

    /* A customer without an acquisition channel given: their first order's. */
    grow_cust_channel(h);
    double *first = xmalloc((nc + 1) * sizeof(double));
    for (size_t c = 0; c < nc; c++)
        first[c] = INFINITY;
    int16_t *derived = xmalloc((nc + 1) * sizeof(int16_t));
    for (size_t o = 0; o < no; o++) {
        int32_t c = h->order_customer[o];
        if (c >= 0 && h->order_time[o] < first[c]) {
            first[c] = h->order_time[o];
            derived[c] = h->order_channel[o];
        }
    }
    for (size_t c = 0; c < nc; c++)
        if (h->cust_channel[c] < 0 && first[c] < INFINITY)
            h->cust_channel[c] = derived[c];
    free(first);
    free(derived);

    /* Each customer's distinct products: count, fill, sort, dedupe in place. */
    int32_t *count = xcalloc(nc + 1, sizeof(int32_t));
    for (size_t i = 0; i < h->nlines; i++) {
        int32_t c = h->order_customer[h->line_order[i]];
        if (c >= 0)
            count[c + 1]++;
    }
    for (size_t c = 0; c < nc; c++)
        count[c + 1] += count[c];
    int32_t *items = xmalloc(((size_t)count[nc] + 1) * sizeof(int32_t));
    int32_t *fill = xmalloc((nc + 1) * sizeof(int32_t));
    memcpy(fill, count, (nc + 1) * sizeof(int32_t));
    for (size_t i = 0; i < h->nlines; i++) {
        int32_t c = h->order_customer[h->line_order[i]];
        if (c >= 0)
            items[fill[c]++] = h->line_product[i];
    }
    h->cust_first = xcalloc(nc + 1, sizeof(int32_t));
    int32_t out = 0;
    for (size_t c = 0; c < nc; c++) {
        int32_t a = count[c], b = count[c + 1];
        qsort(items + a, (size_t)(b - a), sizeof(int32_t), cmp_i32);
        h->cust_first[c] = out;
        for (int32_t k = a; k < b; k++)
            if (k == a || items[k] != items[k - 1])
                items[out++] = items[k];
    }
    h->cust_first[nc] = out;
    h->cust_items = items;
    free(count);
    free(fill);
    h->visit_first = xcalloc(h->nvisits + 2, sizeof(int32_t));
    for (size_t k = 0; k < h->nsignals; k++)
        h->visit_first[h->sig_visit[k] + 1]++;
    for (size_t v = 0; v < h->nvisits; v++)
        h->visit_first[v + 1] += h->visit_first[v];
    free(h->visit_key);
    h->visit_key = NULL;
    h->finished = true;
}

int32_t history_customer_entry(const struct history *h, int32_t c, int32_t p)
{
    if (c < 0 || (size_t)c >= history_ncustomers(h))
        return -1;
    int32_t lo = h->cust_first[c], hi = h->cust_first[c + 1];
    while (lo < hi) {
        int32_t mid = lo + (hi - lo) / 2;
        if (h->cust_items[mid] < p)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < h->cust_first[c + 1] && h->cust_items[lo] == p ? lo : -1;
}

bool history_customer_bought(const struct history *h, int32_t c, int32_t p)
{
    return history_customer_entry(h, c, p) >= 0;
}

void csr_transpose(size_t nrows, const int32_t *first, const int32_t *items, size_t nitems,
                   int32_t **tfirst, int32_t **trows)
{
    int32_t *f = xcalloc(nitems + 2, sizeof(int32_t));
    for (size_t k = 0; k < (size_t)first[nrows]; k++)
        f[items[k] + 1]++;
    for (size_t i = 0; i < nitems; i++)
        f[i + 1] += f[i];
    int32_t *r = xmalloc(((size_t)f[nitems] + 1) * sizeof(int32_t));
    int32_t *fill = xmalloc((nitems + 1) * sizeof(int32_t));
    memcpy(fill, f, (nitems + 1) * sizeof(int32_t));
    for (size_t row = 0; row < nrows; row++)
        for (int32_t k = first[row]; k < first[row + 1]; k++)
            r[fill[items[k]]++] = (int32_t)row;
    free(fill);
    *tfirst = f;
    *trows = r;
}

void history_customer_orders(const struct history *h, int32_t **first, int32_t **orders)
{
    size_t nc = history_ncustomers(h), no = history_norders(h);
    int32_t *f = xcalloc(nc + 2, sizeof(int32_t));
    for (size_t o = 0; o < no; o++)
        if (h->order_customer[o] >= 0)
            f[h->order_customer[o] + 1]++;
    for (size_t c = 0; c < nc; c++)
        f[c + 1] += f[c];
    int32_t *r = xmalloc(((size_t)f[nc] + 1) * sizeof(int32_t));
    int32_t *fill = xmalloc((nc + 1) * sizeof(int32_t));
    memcpy(fill, f, (nc + 1) * sizeof(int32_t));
    for (size_t o = 0; o < no; o++)
        if (h->order_customer[o] >= 0)
            r[fill[h->order_customer[o]]++] = (int32_t)o;
    free(fill);
    *first = f;
    *orders = r;
}

size_t history_categories(const struct history *h, struct arena *a, int32_t **cat)
{
    struct idmap cats;
    size_t n = history_nproducts(h);
    idmap_init(&cats);
    *cat = arena_array(a, n + 1, sizeof(int32_t));
    for (size_t p = 0; p < n; p++)
        (*cat)[p] =
            h->category[p] ? idmap_put(&cats, h->category[p], strlen(h->category[p]), NULL) : -1;
    size_t ncat = idmap_size(&cats);
    idmap_release(&cats);
    return ncat;
}

/* --- saved and loaded ------------------------------------------------------------ */

struct history_head {
    uint64_t products, customers, orders, lines, entries, visits, signals;
    uint64_t product_slots, customer_slots, order_slots, channels, channel_slots;
    double t_min, t_max;
};

static void idmap_save(const struct idmap *m, struct snapw *w, const char *name)
{
    char sec[SNAPFILE_NAME_MAX];
    snprintf(sec, sizeof(sec), "%s.slots", name);
    snapw_put(w, sec, m->slots, sizeof(*m->slots), m->nslots);
    snprintf(sec, sizeof(sec), "%s.hashes", name);
    snapw_put(w, sec, m->hashes, sizeof(*m->hashes), m->n);
    snprintf(sec, sizeof(sec), "%s.lens", name);
    snapw_put(w, sec, m->lens, sizeof(*m->lens), m->n);
    snapw_strings(w, name, m->keys, m->n);
}

static void idmap_load(struct idmap *m, struct snapr *r, const char *name, size_t n, size_t nslots)
{
    char sec[SNAPFILE_NAME_MAX];
    idmap_init(m);
    m->borrowed = true;
    snprintf(sec, sizeof(sec), "%s.slots", name);
    m->slots = snapr_get(r, sec, sizeof(*m->slots), nslots);
    snprintf(sec, sizeof(sec), "%s.hashes", name);
    m->hashes = snapr_get(r, sec, sizeof(*m->hashes), n);
    snprintf(sec, sizeof(sec), "%s.lens", name);
    m->lens = snapr_get(r, sec, sizeof(*m->lens), n);
    m->keys = snapr_strings(r, name, n, &m->arena);
    if (nslots & (nslots - 1) || (n && nslots < n)) {
        snprintf(r->why, sizeof(r->why), "%s: %zu slots for %zu keys", name, nslots, n);
        r->failed = true;
    }
    if (r->failed) {
        m->slots = NULL;
        m->hashes = m->lens = NULL;
        m->keys = NULL;
        return;
    }
    m->n = m->cap = n;
    m->nslots = nslots;
}

void history_save(const struct history *h, struct snapw *w)
{
    size_t np = history_nproducts(h), nc = history_ncustomers(h), no = history_norders(h);
    struct history_head head = {.products = np,
                                .customers = nc,
                                .orders = no,
                                .lines = h->nlines,
                                .entries = (uint64_t)h->cust_first[nc],
                                .visits = h->nvisits,
                                .signals = h->nsignals,
                                .product_slots = h->products.nslots,
                                .customer_slots = h->customers.nslots,
                                .order_slots = h->orders.nslots,
                                .channels = idmap_size(&h->channels),
                                .channel_slots = h->channels.nslots,
                                .t_min = h->t_min,
                                .t_max = h->t_max};
    snapw_put(w, "history", &head, sizeof(head), 1);
    idmap_save(&h->products, w, "history.products");
    idmap_save(&h->customers, w, "history.customers");
    idmap_save(&h->orders, w, "history.orders");
    idmap_save(&h->channels, w, "history.channels");
    snapw_strings(w, "history.name", h->name, np);
    snapw_strings(w, "history.category", h->category, np);
#define PUT(field, n) snapw_put(w, "history." #field, h->field, sizeof(*h->field), n)
    PUT(price, np);
    PUT(cost, np);
    PUT(in_stock, np);
    PUT(in_catalog, np);
    PUT(stock, np);
    PUT(order_customer, no);
    PUT(order_time, no);
    PUT(order_first, no + 1);
    PUT(order_channel, no);
    PUT(cust_channel, nc);
    PUT(line_order, h->nlines);
    PUT(line_product, h->nlines);
    PUT(line_qty, h->nlines);
    PUT(line_price, h->nlines);
    PUT(cust_first, nc + 1);
    PUT(cust_items, head.entries);
    PUT(sig_visit, h->nsignals);
    PUT(sig_product, h->nsignals);
    PUT(sig_kind, h->nsignals);
    PUT(sig_time, h->nsignals);
    PUT(visit_customer, h->nvisits);
    PUT(visit_first, h->nvisits + 1);
#undef PUT
}

void history_load_sections(struct history *h, struct snapr *r)
{
    struct history_head head;
    history_init(h);
    h->borrowed = true;
    if (!snapr_copy(r, "history", &head, sizeof(head)))
        return;
    size_t np = head.products, nc = head.customers, no = head.orders, nl = head.lines;
    idmap_load(&h->products, r, "history.products", np, head.product_slots);
    idmap_load(&h->customers, r, "history.customers", nc, head.customer_slots);
    idmap_load(&h->orders, r, "history.orders", no, head.order_slots);
    idmap_load(&h->channels, r, "history.channels", head.channels, head.channel_slots);
    h->name = snapr_strings(r, "history.name", np, &h->arena);
    h->category = snapr_strings(r, "history.category", np, &h->arena);
#define GET(field, n) h->field = snapr_get(r, "history." #field, sizeof(*h->field), n)
    GET(price, np);
    GET(cost, np);
    GET(in_stock, np);
    GET(in_catalog, np);
    GET(stock, np);
    GET(order_customer, no);
    GET(order_time, no);
    GET(order_first, no + 1);
    GET(order_channel, no);
    GET(cust_channel, nc);
    GET(line_order, nl);
    GET(line_product, nl);
    GET(line_qty, nl);
    GET(line_price, nl);
    GET(cust_first, nc + 1);
    GET(cust_items, head.entries);
    GET(sig_visit, head.signals);
    GET(sig_product, head.signals);
    GET(sig_kind, head.signals);
    GET(sig_time, head.signals);
    GET(visit_customer, head.visits);
    GET(visit_first, head.visits + 1);
#undef GET
    if (!r->failed && (!h->order_channel || !h->cust_channel || !h->stock)) {
        snprintf(r->why, sizeof(r->why), "history: the channels or the stock are missing");
        r->failed = true;
    }
    if (r->failed)
        return;
    /* What every reader takes for granted of a finished history. */
    bool ok = h->order_first[0] == 0 && (size_t)h->order_first[no] == nl && h->cust_first[0] == 0 &&
              (uint64_t)h->cust_first[nc] == head.entries;
    for (size_t o = 0; ok && o < no; o++)
        ok = h->order_first[o] <= h->order_first[o + 1] && h->order_customer[o] >= -1 &&
             h->order_customer[o] < (int64_t)nc && h->order_channel[o] >= -1 &&
             h->order_channel[o] < (int64_t)head.channels;
    for (size_t c = 0; ok && c < nc; c++)
        ok = h->cust_channel[c] >= -1 && h->cust_channel[c] < (int64_t)head.channels;
    for (size_t l = 0; ok && l < nl; l++)
        ok = h->line_product[l] >= 0 && (size_t)h->line_product[l] < np;
    for (size_t p = 0; ok && p < np; p++)
        ok = h->stock[p] >= -1;
    for (size_t k = 0; ok && k < head.entries; k++)
        ok = h->cust_items[k] >= 0 && (size_t)h->cust_items[k] < np;
    ok = ok && h->visit_first[0] == 0 && (uint64_t)h->visit_first[head.visits] == head.signals;
    for (size_t v = 0; ok && v < head.visits; v++)
        ok = h->visit_first[v] <= h->visit_first[v + 1] && h->visit_customer[v] >= -1 &&
             h->visit_customer[v] < (int64_t)nc;
    for (size_t k = 0; ok && k < head.signals; k++)
        ok = h->sig_product[k] >= 0 && (size_t)h->sig_product[k] < np && h->sig_visit[k] >= 0 &&
             (uint64_t)h->sig_visit[k] < head.visits && h->sig_kind[k] >= SIGNAL_VIEW &&
             h->sig_kind[k] <= SIGNAL_CART;
    if (!ok) {
        snprintf(r->why, sizeof(r->why), "history: an index out of range");
        r->failed = true;
        return;
    }
    h->product_cap = np;
    h->order_cap = no;
    h->cust_channel_cap = nc;
    h->line_cap = nl;
    h->nlines = nl;
    h->nvisits = h->visit_cap = head.visits;
    h->nsignals = h->signal_cap = head.signals;
    h->t_min = head.t_min;
    h->t_max = head.t_max;
    h->finished = true;
}
