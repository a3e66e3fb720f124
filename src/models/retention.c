#include "xsell/retention.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>

#include "xsell/log.h"
#include "xsell/model_upsell.h"
#include "xsell/xalloc.h"

static const char *const type_names[] = {"none", "discount", "upgrade"};
static const char *const source_names[] = {"buy_again", "personal", "upgrade_path", "substitute"};

const char *offer_type_name(enum offer_type t)
{
    return type_names[t];
}

const char *offer_source_name(enum offer_source s)
{
    return source_names[s];
}

void retention_settings_from(const struct model_params *p, struct retention_settings *out)
{
    out->discount = p->offer_discount != 0;
    out->upgrade = p->offer_upgrade != 0;
    out->max_discount = p->offer_max_discount;
}

/* What the shop keeps of one unit of p: the margin when the cost is known, else the
 * revenue. */
static double kept(const struct history *h, int32_t p, bool *margin_known)
{
    *margin_known = !isnan(h->cost[p]);
    return h->price[p] - (*margin_known ? h->cost[p] : 0);
}

/* P(at least one purchase) of a customer alive with probability alive who buys at
 * rate (over the horizon) while alive. */
static double p_buy(double alive, double rate)
{
    return alive * -expm1(-rate);
}

double retention_discount_value(double alive, double rate, double share, double elasticity,
                                double price, double margin, double d, double *q0, double *q1)
{
    *q0 = p_buy(alive, rate * share);
    *q1 = p_buy(alive, rate * share * pow(1 - d, elasticity));
    return (*q1 - *q0) * (margin - d * price) - *q0 * d * price;
}

/* The best discount on p (a share s of the customer's purchases) into o: every step up
 * to the largest allowed, none below cost; o->value the best found (it may be below
 * 0: nothing pays), o->discount 0 when no discount could be weighed. */
static void weigh_discount(const struct snapshot *s, const struct retention_settings *rs,
                           double alive, double rate, int32_t p, struct retention_offer *o)
{
    const struct history *h = &s->hist;
    const struct model_price *pm = &s->price;
    o->type = OFFER_DISCOUNT;
    o->instead_of = -1;
    o->product = p;
    /* the less elastic end: a discount must pay even if demand answers less than the
     * point estimate says */
    o->estimate = (size_t)p < pm->n ? pm->item[p].estimate : NAN;
    o->elasticity = o->estimate + ((size_t)p < pm->n ? pm->item[p].se : 0);
    o->p_without = o->p_with = p_buy(alive, rate * o->share);
    o->margin = kept(h, p, &o->margin_known);
    o->multiplier = 1;
    o->discount = o->given_away = o->value = 0;
    o->p_accept = NAN;
    if (!(o->elasticity < 0))
        return; /* nothing says a lower price sells more */
    int steps = (int)floor(rs->max_discount / RETENTION_STEP + 1e-9);
    double m0 = o->margin, price = h->price[p];
    bool first = true;
    for (int i = 1; i <= steps; i++) {
        double d = i * RETENTION_STEP;
        if (o->margin_known && m0 - d * price < 0)
            break; /* below cost */
        double q0, q1;
        double value =
            retention_discount_value(alive, rate, o->share, o->elasticity, price, m0, d, &q0, &q1);
        if (first || value > o->value) {
            first = false;
            o->discount = d;
            o->multiplier = pow(1 - d, o->elasticity);
            o->p_with = q1;
            o->margin = m0 - d * price;
            o->given_away = q0 * d * price;
            o->value = value;
        }
    }
}

/* The customer's own products, by buy-again score, best first: up to max entries of
 * h->cust_items into out; how many. */
static int own_products(const struct snapshot *s, int32_t c, int max, size_t *out)
{
    const struct history *h = &s->hist;
    double score[RETENTION_OWN];
    int n = 0;
    for (int32_t k = h->cust_first[c]; k < h->cust_first[c + 1]; k++) {
        double sc = model_repeat_score(&s->repeat, (size_t)k, s->params.repeat_half_life_days);
        int at = n < max ? n++ : max;
        while (at > 0 && score[at - 1] < sc) {
            if (at < max) {
                score[at] = score[at - 1];
                out[at] = out[at - 1];
            }
            at--;
        }
        if (at < max) {
            score[at] = sc;
            out[at] = (size_t)k;
        }
    }
    return n;
}

/* The share of the customer's purchases that hold their product (entry k of
 * h->cust_items, product p): their own share of purchase days, shrunk toward the
 * shop's share of orders by one day. */
static double own_share(const struct snapshot *s, size_t k, int32_t p, double days)
{
    return MIN(1.0, (s->repeat.times[k] + s->order_share[p]) / (days + 1));
}

static int by_value(const void *a, const void *b)
{
    const struct retention_offer *x = a, *y = b;
    if (x->value != y->value)
        return x->value > y->value ? -1 : 1;
    return x->product < y->product ? -1 : x->product > y->product;
}

bool retention_answer(const struct snapshot *s, const struct retention_settings *rs, int32_t c,
                      struct arena *a, struct retention_answer *out)
{
    const struct history *h = &s->hist;
    memset(out, 0, sizeof(*out));
    out->offer.type = OFFER_NONE;
    out->offer.product = out->offer.instead_of = -1;
    if (c < 0 || !model_churn_query(&s->churn, c, s->churn.horizon_days, &out->churn))
        return false;
    const struct churn_answer *ch = &out->churn;
    out->at_risk =
        ch->segment == SEG_AT_RISK || ch->segment == SEG_LAPSING || ch->segment == SEG_LOST;
    double alive = ch->p_alive;
    out->rate = alive > 1e-9 ? ch->expected_purchases / alive : 0;
    if (!out->at_risk || !s->repeat.times)
        return true;
    double days = ch->frequency + 1; /* their purchase days */

    size_t own[RETENTION_OWN];
    int nown = own_products(s, c, RETENTION_OWN, own);
    for (int i = 0; i < nown && rs->discount; i++) {
        int32_t p = h->cust_items[own[i]];
        if (s->held[p]) {
            held_back_add(&out->held, p);
            continue;
        }
        struct retention_offer *o = &out->cand[out->ncand++];
        o->source = OFFER_BUY_AGAIN;
        o->share = own_share(s, own[i], p, days);
        weigh_discount(s, rs, alive, out->rate, p, o);
    }
    if (rs->discount) {
        struct rec_query q = {.customer = c,
                              .strategy = REC_PERSONAL,
                              .limit = RETENTION_PERSONAL,
                              .max_price = INFINITY};
        struct rec_result r;
        recommend(s, &q, a, &r);
        for (int i = 0; i < r.held.n; i++)
            held_back_add(&out->held, r.held.product[i]);
        for (int i = 0; i < r.n; i++) {
            if (r.items[i].kind != KIND_SIMILAR_CUSTOMERS &&
                r.items[i].kind != KIND_SIMILAR_CONTENT)
                continue; /* a popular fill-in is nothing personal */
            struct retention_offer *o = &out->cand[out->ncand++];
            o->source = OFFER_PERSONAL;
            o->share = s->order_share[r.items[i].product];
            weigh_discount(s, rs, alive, out->rate, r.items[i].product, o);
        }
    }
    for (int i = 0; i < nown && i < RETENTION_UPGRADE && rs->upgrade; i++) {
        int32_t from = h->cust_items[own[i]];
        if ((size_t)from >= s->upsell.n)
            continue; /* in no substitute pair the upsell model knows */
        struct upsell_query q = {.item = from,
                                 .customer = c,
                                 .limit = 1,
                                 .min_step = 0.1,
                                 .max_step = 1.0,
                                 .churn_risk = MIN(MAX(ch->churn_risk, 0), 1),
                                 .held = s->held,
                                 .held_out = &out->held};
        struct upsell_item *up;
        if (model_upsell_query(&s->upsell, h, &s->repeat, &q, a, &up) < 1)
            continue;
        struct retention_offer *o = &out->cand[out->ncand++];
        bool mb, mf;
        double gain = kept(h, up->product, &mb) - kept(h, from, &mf);
        o->type = OFFER_UPGRADE;
        o->source = up->link->count >= 2 ? OFFER_UPGRADE_PATH : OFFER_SUBSTITUTE;
        o->product = up->product;
        o->instead_of = from;
        o->share = own_share(s, own[i], from, days);
        o->elasticity = o->estimate = NAN;
        o->multiplier = 1;
        o->p_without = p_buy(alive, out->rate * o->share);
        o->p_accept = up->p_accept;
        o->p_with = o->p_without * up->p_accept;
        o->margin_known = mb && mf;
        o->margin = o->margin_known ? gain : h->price[up->product] - h->price[from];
        o->value = o->p_with * o->margin;
    }
    qsort(out->cand, (size_t)out->ncand, sizeof(out->cand[0]), by_value);
    if (out->ncand > 0 && out->cand[0].value >= RETENTION_MIN_VALUE)
        out->offer = out->cand[0];
    return true;
}

/* --- the ranked list ------------------------------------------------------------- */

struct ranked {
    int32_t c;
    float value;
};

/* The offers of the customers at risk among m->ranked[lo .. hi - 1] that pay. */
struct rank_part {
    const struct snapshot *s;
    struct retention_settings rs;
    size_t lo, hi;
    struct ranked *out;
    size_t n, weighed;
};

static void *rank_part(void *arg)
{
    struct rank_part *p = arg;
    const struct model_churn *m = &p->s->churn;
    for (size_t i = p->lo; i < p->hi; i++) {
        int32_t c = m->ranked[i];
        uint8_t seg = m->cust[c].segment;
        if (seg != SEG_AT_RISK && seg != SEG_LAPSING && seg != SEG_LOST)
            continue;
        struct retention_answer ans;
        struct arena a;
        p->weighed++;
        arena_init(&a);
        retention_answer(p->s, &p->rs, c, &a, &ans);
        arena_release(&a);
        if (ans.offer.type != OFFER_NONE)
            p->out[p->n++] = (struct ranked){c, (float)ans.offer.value};
    }
    return NULL;
}

static int by_ranked(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;
    if (x->value != y->value)
        return x->value > y->value ? -1 : 1;
    return x->c < y->c ? -1 : x->c > y->c;
}

void retention_rank(struct snapshot *s)
{
    const struct history *h = &s->hist;
    size_t np = history_nproducts(h), no = history_norders(h);
    s->order_share = arena_array(&s->arena, np + 1, sizeof(float));
    int32_t *last = xcalloc(np + 1, sizeof(int32_t));
    for (size_t o = 0; o < no; o++)
        for (int32_t l = h->order_first[o]; l < h->order_first[o + 1]; l++) {
            int32_t p = h->line_product[l];
            if (last[p] != (int32_t)o + 1) { /* a product twice in an order counts once */
                last[p] = (int32_t)o + 1;
                s->order_share[p] += 1;
            }
        }
    free(last);
    for (size_t p = 0; p < np; p++)
        s->order_share[p] = no ? s->order_share[p] / (float)no : 0;

    const struct model_churn *m = &s->churn;
    double t0 = mono_seconds();
    struct rank_part part[RETENTION_THREADS];
    int nthreads = (int)MIN(MAX(s->params.threads, 1), RETENTION_THREADS);
    if (m->nranked < 4096)
        nthreads = 1; /* not worth a thread */
    pthread_t tid[RETENTION_THREADS];
    bool started[RETENTION_THREADS] = {false};
    for (int t = 0; t < nthreads; t++) {
        part[t] = (struct rank_part){.s = s,
                                     .lo = m->nranked * (size_t)t / (size_t)nthreads,
                                     .hi = m->nranked * (size_t)(t + 1) / (size_t)nthreads};
        retention_settings_from(&s->params, &part[t].rs);
        part[t].out = xmalloc((part[t].hi - part[t].lo + 1) * sizeof(struct ranked));
        started[t] = t > 0 && pthread_create(&tid[t], NULL, rank_part, &part[t]) == 0;
    }
    for (int t = 0; t < nthreads; t++) /* the first, and any whose thread did not start */
        if (!started[t])
            rank_part(&part[t]);
    size_t n = 0, weighed = 0;
    for (int t = 0; t < nthreads; t++) {
        if (started[t])
            pthread_join(tid[t], NULL);
        n += part[t].n;
        weighed += part[t].weighed;
    }
    struct ranked *r = xmalloc((n + 1) * sizeof(*r));
    n = 0;
    for (int t = 0; t < nthreads; t++) {
        memcpy(r + n, part[t].out, part[t].n * sizeof(*r));
        n += part[t].n;
        free(part[t].out);
    }
    qsort(r, n, sizeof(*r), by_ranked);
    s->retention.customer = arena_array(&s->arena, n + 1, sizeof(int32_t));
    s->retention.value = arena_array(&s->arena, n + 1, sizeof(float));
    s->retention.n = n;
    for (size_t i = 0; i < n; i++) {
        s->retention.customer[i] = r[i].c;
        s->retention.value[i] = r[i].value;
    }
    free(r);
    if (weighed)
        log_info("retention: %zu customers at risk weighed, %zu with an offer that pays, %.2f s",
                 weighed, n, mono_seconds() - t0);
}
