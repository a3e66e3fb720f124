#include "xsell/model_repeat.h"

#include <math.h>

#include "xsell/log.h"
#include "xsell/snapfile.h"
#include "xsell/snapshot.h"
#include "xsell/xalloc.h"

void model_repeat_fit(const struct history *h, double as_of, struct arena *a,
                      struct model_repeat *m, struct figures *fig)
{
    double t0 = mono_seconds();
    size_t nc = history_ncustomers(h), ne = (size_t)h->cust_first[nc];
    memset(m, 0, sizeof(*m));
    m->as_of = as_of;
    m->times = arena_array(a, ne + 1, sizeof(int32_t));
    m->first = arena_array(a, ne + 1, sizeof(double));
    m->last = arena_array(a, ne + 1, sizeof(double));
    m->repeat_share = arena_array(a, nc + 1, sizeof(float));
    m->last_order = arena_array(a, nc + 1, sizeof(int32_t));
    for (size_t c = 0; c < nc; c++)
        m->last_order[c] = -1;
    /* Customer by customer, their orders in time order; entry[p] is the customer's
     * entry of product p while they are read. */
    int32_t *ofirst, *orders;
    history_customer_orders(h, &ofirst, &orders);
    int32_t *entry = xmalloc((history_nproducts(h) + 1) * sizeof(int32_t));
    for (size_t c = 0; c < nc; c++) {
        for (int32_t k = h->cust_first[c]; k < h->cust_first[c + 1]; k++)
            entry[h->cust_items[k]] = k;
        for (int32_t x = ofirst[c]; x < ofirst[c + 1]; x++) {
            int32_t o = orders[x];
            double t = h->order_time[o];
            if (t > as_of)
                break;
            bool bought = false;
            for (int32_t l = h->order_first[o]; l < h->order_first[o + 1]; l++) {
                if (h->line_qty[l] <= 0)
                    continue;
                int32_t k = entry[h->line_product[l]];
                if (m->times[k] > 0 && m->last[k] == t)
                    continue; /* the same product twice in one order */
                if (m->times[k]++ == 0)
                    m->first[k] = t;
                m->last[k] = t;
                bought = true;
            }
            if (bought)
                m->last_order[c] = o;
        }
    }
    free(entry);
    free(orders);
    free(ofirst);
    double repeats = 0, total = 0;
    for (size_t c = 0; c < nc; c++) {
        double r = 0, n = 0;
        for (int32_t k = h->cust_first[c]; k < h->cust_first[c + 1]; k++) {
            n += m->times[k];
            r += m->times[k] > 1 ? m->times[k] - 1 : 0;
        }
        m->repeat_share[c] = n > 0 ? (float)(r / n) : 0;
        repeats += r;
        total += n;
    }
    figures_add(fig, "repeat_share", total > 0 ? repeats / total : 0);
    figures_add(fig, "fit_seconds", mono_seconds() - t0);
}

double model_repeat_score(const struct model_repeat *m, size_t k, double half_life_days)
{
    if (m->times[k] <= 0)
        return 0;
    double age_days = (m->as_of - m->last[k]) / 86400.0;
    return m->times[k] * exp2(-MAX(age_days, 0) / half_life_days);
}

int model_repeat_train(struct snapshot *s, struct arena *a, const struct model_params *p,
                       struct figures *fig, char *err, size_t errlen)
{
    UNUSED(err);
    UNUSED(errlen);
    model_repeat_fit(&s->hist, p->as_of, a, &s->repeat, fig);
    return 0;
}

/* Per entry of the history's cust_items and per customer: the history is loaded first. */
void model_repeat_save(const struct snapshot *s, struct snapw *w)
{
    const struct model_repeat *m = &s->repeat;
    size_t nc = history_ncustomers(&s->hist), ne = nc ? (size_t)s->hist.cust_first[nc] : 0;
    struct model_repeat head = *m;
    head.times = head.last_order = NULL;
    head.first = head.last = NULL;
    head.repeat_share = NULL;
    snapw_put(w, "repeat", &head, sizeof(head), 1);
    snapw_put(w, "repeat.times", m->times, sizeof(*m->times), ne);
    snapw_put(w, "repeat.first", m->first, sizeof(*m->first), ne);
    snapw_put(w, "repeat.last", m->last, sizeof(*m->last), ne);
    snapw_put(w, "repeat.repeat_share", m->repeat_share, sizeof(*m->repeat_share), nc);
    snapw_put(w, "repeat.last_order", m->last_order, sizeof(*m->last_order), nc);
}

void model_repeat_load(struct snapshot *s, struct snapr *r)
{
    struct model_repeat *m = &s->repeat;
    size_t nc = history_ncustomers(&s->hist), ne = nc ? (size_t)s->hist.cust_first[nc] : 0;
    if (!snapr_copy(r, "repeat", m, sizeof(*m)))
        return;
    m->times = snapr_get(r, "repeat.times", sizeof(*m->times), ne);
    m->first = snapr_get(r, "repeat.first", sizeof(*m->first), ne);
    m->last = snapr_get(r, "repeat.last", sizeof(*m->last), ne);
    m->repeat_share = snapr_get(r, "repeat.repeat_share", sizeof(*m->repeat_share), nc);
    m->last_order = snapr_get(r, "repeat.last_order", sizeof(*m->last_order), nc);
}
