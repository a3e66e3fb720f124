/* history.h - the purchase history and catalogue as dense arrays, the one input of
 * every model's fit. Built from PostgreSQL by history_load() (binary COPY), or by
 * hand through the history_add_* calls (tests, benchmarks).
 *
 * Indices: products 0..nproducts-1, customers 0..ncustomers-1, orders
 * 0..norders-1 sorted by time; order o's lines are order_first[o]..order_first[o+1]-1.
 * All memory belongs to the history and lives until history_release(). */
#ifndef XSELL_HISTORY_H
#define XSELL_HISTORY_H

#include "xsell/arena.h"
#include "xsell/common.h"
#include "xsell/idmap.h"

struct history {
    struct arena arena;
    struct idmap products, customers, orders;
    /* catalogue, per product */
    const char **name, **category; /* NULL when unknown */
    double *price, *cost;          /* cost NAN when unknown */
    bool *in_stock;
    bool *in_catalog; /* false for products seen only in orders */
    int32_t *stock;   /* units held (sql/012); -1 when not known */
    size_t product_cap;
    /* orders */
    int32_t *order_customer; /* -1 for a guest */
    double *order_time;      /* seconds since the epoch */
    int32_t *order_first;    /* norders + 1 entries after history_finish() */
    size_t order_cap;
    /* lines, grouped by order */
    int32_t *line_order, *line_product, *line_qty;
    double *line_price;
    size_t nlines, line_cap;
    /* implicit signals (the events of sql/007): per visit (one session), the products
     * it viewed, clicked or put in the cart, each kind once with its first time, the
     * entries grouped by visit; a visit's customer when one was signed in (else -1) */
    int32_t *sig_visit, *sig_product;
    uint8_t *sig_kind; /* enum signal_kind */
    double *sig_time;
    size_t nsignals, signal_cap;
    int32_t *visit_customer;
    size_t nvisits, visit_cap;
    char *visit_key;      /* the last visit added (freed by history_finish) */
    int32_t *visit_first; /* nvisits + 1, after history_finish() */
    /* channels (sql/011): their names (at most HISTORY_CHANNELS_MAX, the rest as
     * "other"); each order's (-1: none); each customer's acquisition channel: the one
     * given (history_set_acquisition), else, from history_finish(), their first
     * order's (-1: none) */
    struct idmap channels;
    int16_t *order_channel;
    int16_t *cust_channel;
    size_t cust_channel_cap;
    /* derived by history_finish(): each customer's distinct products, sorted */
    int32_t *cust_first; /* ncustomers + 1 */
    int32_t *cust_items;
    double t_min, t_max; /* first and last order time (0 when no orders) */
    bool finished;
    bool borrowed; /* loaded from a snapshot file: the arrays are its mapping's */
};

enum signal_kind { SIGNAL_VIEW = 1, SIGNAL_CLICK = 2, SIGNAL_CART = 3 };

void history_init(struct history *h);
void history_release(struct history *h);
/* Adds or updates a catalogue entry; returns its index. cost NAN = unknown. */
int32_t history_add_product(struct history *h, const char *id, const char *name,
                            const char *category, double price, double cost, bool in_stock);
/* Adds one order line. Lines of one order must come together, orders in time order. */
void history_add_line(struct history *h, const char *order_id, const char *customer_id, double when,
                      const char *product_id, int32_t qty, double unit_price);
/* The products an answer held back because their forecast demand exceeds their stock
 * (snapshot.h: held), the first HELD_BACK_MAX met. */
#define HELD_BACK_MAX 5
struct held_back {
    int32_t product[HELD_BACK_MAX];
    int n;
};
static inline void held_back_add(struct held_back *hb, int32_t p)
{
    for (int i = 0; i < hb->n; i++)
        if (hb->product[i] == p)
            return;
    if (hb->n < HELD_BACK_MAX)
        hb->product[hb->n++] = p;
}
/* Product p's stock (-1: not known). */
void history_set_stock(struct history *h, int32_t p, int32_t stock);
#define HISTORY_CHANNELS_MAX 200
/* The channel of the order of the line added last. */
void history_set_last_channel(struct history *h, const char *channel);
/* Customer customer_id's acquisition channel as given (a customer the history does
 * not know is left out). After their orders. */
void history_set_acquisition(struct history *h, const char *customer_id, const char *channel);
/* Adds an implicit signal: visit (a session's id) viewed, clicked or carted product at
 * when, customer_id signed in (NULL: anonymous). After the orders and the catalogue;
 * one visit's signals together. A product or customer the history does not know is
 * left out (the product) or taken as anonymous (the customer). */
void history_add_signal(struct history *h, const char *visit, const char *customer_id, double when,
                        const char *product_id, enum signal_kind kind);
/* Copies from's signals up to cut into h (whose orders are added: the same ids). */
void history_copy_signals(struct history *h, const struct history *from, double cut);
/* Copies from's orders and lines (and customers, and the products seen only in its
 * orders) into h, which holds a catalogue only, numbering from's products as from
 * does (history_numbers_alike); later orders may then be added. */
void history_copy_orders(struct history *h, const struct history *from);
/* Whether h's products are numbered as from's first ones, and from's others
 * seen only in its orders and absent from h (so that copying adds them with the
 * same numbers and prices), and h holds no orders. */
bool history_numbers_alike(const struct history *h, const struct history *from);
/* A finished history as sections "history.*" (snapfile.h), and back: h (empty)
 * reads its arrays in place, read-only (borrowed). Load marks r failed on a
 * mismatch. */
struct snapw;
struct snapr;
void history_save(const struct history *h, struct snapw *w);
void history_load_sections(struct history *h, struct snapr *r);
/* Sorts out the derived arrays; call once after the last add. */
void history_finish(struct history *h);

static inline size_t history_nproducts(const struct history *h)
{
    return idmap_size(&h->products);
}
static inline size_t history_ncustomers(const struct history *h)
{
    return idmap_size(&h->customers);
}
static inline size_t history_norders(const struct history *h)
{
    return idmap_size(&h->orders);
}
/* Transposes compressed rows (row r holds items[first[r] .. first[r+1]-1], items
 * below nitems): per item, the rows that hold it, ascending. Both outputs are
 * malloc'd (free()). */
void csr_transpose(size_t nrows, const int32_t *first, const int32_t *items, size_t nitems,
                   int32_t **tfirst, int32_t **trows);
/* Each customer's orders in time order, as compressed rows: customer c's are
 * orders[first[c] .. first[c+1]-1]; guests' are left out. Both malloc'd (free()). */
void history_customer_orders(const struct history *h, int32_t **first, int32_t **orders);
/* Numbers the catalogue's categories 0..n-1: *cat (from a) gets each product's
 * (-1 without one); returns n. */
size_t history_categories(const struct history *h, struct arena *a, int32_t **cat);
/* The index k in cust_items of customer c's product p (binary search), or -1. */
int32_t history_customer_entry(const struct history *h, int32_t c, int32_t p);
/* True when customer c bought product p. */
bool history_customer_bought(const struct history *h, int32_t c, int32_t p);

#endif
