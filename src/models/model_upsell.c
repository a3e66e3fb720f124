#include "xsell/model_upsell.h"

#include <math.h>

#include "xsell/idmap.h"
#include "xsell/log.h"
#include "xsell/model_assoc.h"
#include "xsell/xalloc.h"
#include "xsell/snapfile.h"
#include "xsell/snapshot.h"

#define CROSS_CATEGORY_PRIOR 0.5
#define NAME_WEIGHT          1.0  /* TF-IDF cosine of the names, added to the customer similarity */
#define NO_PATH_FACTOR       0.1  /* P(accept) from similarity alone, without a seen path */
#define POSITION_SLACK       0.25 /* a customer stretches this far above their usual position */
#define POSITION_DECAY       4.0
#define RECENT_DAYS          90.0
#define SPEND_RATIO_MIN      0.5
#define SPEND_RATIO_MAX      2.0

/* co[j] += 1 for every item j sharing a holder with item i; touched lists them. */
static int count_beside(int32_t i, const int32_t *tfirst, const int32_t *trows,
                        const int32_t *first, const int32_t *items, int32_t *co, int32_t *touched)
{
    int nt = 0;
    for (int32_t x = tfirst[i]; x < tfirst[i + 1]; x++) {
        int32_t row = trows[x];
        for (int32_t k = first[row]; k < first[row + 1]; k++) {
            int32_t j = items[k];
            if (j != i && co[j]++ == 0)
                touched[nt++] = j;
        }
    }
    return nt;
}

/* Recent mean order value over the lifetime one, per customer (1 without recent
 * orders). */
static void spend_ratios(const struct history *h, double as_of, struct arena *a,
                         struct model_upsell *m)
{
    size_t nc = history_ncustomers(h);
    double *all = xcalloc(nc + 1, sizeof(double)), *recent = xcalloc(nc + 1, sizeof(double));
    int32_t *nall = xcalloc(nc + 1, sizeof(int32_t)), *nrecent = xcalloc(nc + 1, sizeof(int32_t));
    for (size_t o = 0; o < history_norders(h); o++) {
        int32_t c = h->order_customer[o];
        if (c < 0 || h->order_time[o] > as_of)
            continue;
        double v = 0;
        for (int32_t l = h->order_first[o]; l < h->order_first[o + 1]; l++)
            v += h->line_qty[l] > 0 ? h->line_qty[l] * h->line_price[l] : 0;
        if (v <= 0)
            continue;
        all[c] += v, nall[c]++;
        if (as_of - h->order_time[o] <= RECENT_DAYS * 86400.0)
            recent[c] += v, nrecent[c]++;
    }
    m->spend_ratio = arena_array(a, nc + 1, sizeof(float));
    for (size_t c = 0; c < nc; c++) {
        double r = nrecent[c] && all[c] > 0 ? (recent[c] / nrecent[c]) / (all[c] / nall[c]) : 1;
        m->spend_ratio[c] = (float)MIN(MAX(r, SPEND_RATIO_MIN), SPEND_RATIO_MAX);
    }
    free(all);
    free(recent);
    free(nall);
    free(nrecent);
}

static void categories(const struct history *h, struct arena *a, struct model_upsell *m)
{
    m->ncat = history_categories(h, a, &m->cat);
    m->cat_min = arena_array(a, m->ncat + 1, sizeof(double));
    m->cat_max = arena_array(a, m->ncat + 1, sizeof(double));
    for (size_t c = 0; c < m->ncat; c++)
        m->cat_min[c] = INFINITY, m->cat_max[c] = -INFINITY;
    for (size_t p = 0; p < m->n; p++)
        if (m->cat[p] >= 0) {
            m->cat_min[m->cat[p]] = MIN(m->cat_min[m->cat[p]], h->price[p]);
            m->cat_max[m->cat[p]] = MAX(m->cat_max[m->cat[p]], h->price[p]);
        }
}

void model_upsell_fit(const struct history *h, const struct model_repeat *rep,
                      const struct model_content *content, struct arena *a, struct model_upsell *m,
                      struct figures *fig)
{
    double t0 = mono_seconds();
    size_t n = history_nproducts(h), nc = history_ncustomers(h);
    memset(m, 0, sizeof(*m));
    m->n = n;
    m->links = arena_array(a, n * UPSELL_K + 1, sizeof(struct upsell_link));
    m->returners = arena_array(a, n + 1, sizeof(int32_t));
    for (size_t i = 0; i < n * UPSELL_K; i++)
        m->links[i].to = -1;
    categories(h, a, m);
    spend_ratios(h, rep->as_of, a, m);

    struct arena tmp;
    struct baskets b;
    arena_init(&tmp);
    baskets_from_history(h, &tmp, &b);
    int32_t *cfirst, *crows, *bfirst, *brows;
    csr_transpose(nc, h->cust_first, h->cust_items, n, &cfirst, &crows);
    csr_transpose(b.n, b.first, b.items, n, &bfirst, &brows);
    int32_t *co_c = xcalloc(n + 1, sizeof(int32_t)), *co_b = xcalloc(n + 1, sizeof(int32_t));
    int32_t *touched = xmalloc((n + 1) * sizeof(int32_t)), *tb = xmalloc((n + 1) * sizeof(int32_t));
    float *name_sim = xcalloc(n + 1, sizeof(float));
    size_t links = 0;
    for (size_t i = 0; i < n; i++) {
        int nt =
            count_beside((int32_t)i, cfirst, crows, h->cust_first, h->cust_items, co_c, touched);
        int nb = count_beside((int32_t)i, bfirst, brows, b.first, b.items, co_b, tb);
        struct upsell_link *row = m->links + i * UPSELL_K;
        int kept = 0;
        double ni = cfirst[i + 1] - cfirst[i], bi = bfirst[i + 1] - bfirst[i];
        /* Name alikes are candidates too, even with no shared customer yet. */
        for (int x = 0; x < content->k; x++) {
            int32_t j = content->nbr[i * (size_t)content->k + (size_t)x];
            if (j < 0)
                break;
            name_sim[j] = content->w[i * (size_t)content->k + (size_t)x];
            if (co_c[j]++ == 0)
                touched[nt++] = j;
            else
                co_c[j]--;
        }
        for (int x = 0; x < nt; x++) {
            int32_t j = touched[x];
            if (h->price[j] <= h->price[i] * 1.0001)
                continue;
            double nj = cfirst[j + 1] - cfirst[j], bj = bfirst[j + 1] - bfirst[j];
            double sim = ni > 0 && nj > 0 ? co_c[j] / sqrt(ni * nj) : 0;
            double lift = bi > 0 && bj > 0 ? (double)b.n * co_b[j] / (bi * bj) : 0;
            if (lift > 1)
                sim /= lift; /* bought together: a complement more than an alternative */
            sim += NAME_WEIGHT * name_sim[j];
            if (m->cat[i] != m->cat[j] || m->cat[i] < 0)
                sim *= CROSS_CATEGORY_PRIOR;
            if (kept == UPSELL_K && sim <= row[kept - 1].similarity)
                continue;
            int at = kept < UPSELL_K ? kept++ : UPSELL_K - 1;
            while (at > 0 && row[at - 1].similarity < sim) {
                row[at] = row[at - 1];
                at--;
            }
            row[at] = (struct upsell_link){.to = j, .similarity = (float)sim};
        }
        for (int x = 0; x < nt; x++)
            co_c[touched[x]] = 0, name_sim[touched[x]] = 0;
        for (int x = 0; x < nb; x++)
            co_b[tb[x]] = 0;
        links += (size_t)kept;
    }
    /* Upgrade paths: who bought A, came back, and then first bought B. */
    size_t paths = 0;
    int32_t *entry = touched; /* per product: the customer's entry, -1 when not theirs */
    for (size_t i = 0; i < n; i++)
        entry[i] = -1;
    for (size_t c = 0; c < nc; c++) {
        int32_t lo = rep->last_order[c];
        if (lo < 0)
            continue;
        double last = h->order_time[lo];
        for (int32_t k = h->cust_first[c]; k < h->cust_first[c + 1]; k++)
            entry[h->cust_items[k]] = k;
        for (int32_t k = h->cust_first[c]; k < h->cust_first[c + 1]; k++) {
            if (rep->times[k] <= 0 || rep->first[k] >= last)
                continue;
            int32_t i = h->cust_items[k];
            m->returners[i]++;
            struct upsell_link *row = m->links + (size_t)i * UPSELL_K;
            for (int x = 0; x < UPSELL_K && row[x].to >= 0; x++) {
                int32_t kb = entry[row[x].to];
                /* moved: first bought B after A, and A no more after that */
                if (kb >= 0 && rep->times[kb] > 0 && rep->first[kb] > rep->first[k] &&
                    rep->last[k] <= rep->first[kb])
                    row[x].count++, paths++;
            }
        }
        for (int32_t k = h->cust_first[c]; k < h->cust_first[c + 1]; k++)
            entry[h->cust_items[k]] = -1;
    }
    for (size_t i = 0; i < n; i++)
        for (int x = 0; x < UPSELL_K; x++) {
            struct upsell_link *l = &m->links[i * UPSELL_K + (size_t)x];
            if (l->to < 0)
                break;
            l->rate = m->returners[i] ? (float)l->count / (float)m->returners[i] : 0;
            l->p = (float)wilson_lower(l->count, m->returners[i]);
        }
    free(name_sim);
    free(co_c);
    free(co_b);
    free(touched);
    free(tb);
    free(cfirst);
    free(crows);
    free(bfirst);
    free(brows);
    arena_release(&tmp);
    figures_add(fig, "substitute_links", (double)links);
    figures_add(fig, "upgrade_paths_seen", (double)paths);
    figures_add(fig, "fit_seconds", mono_seconds() - t0);
}

static double position_of(const struct model_upsell *m, const struct history *h, int32_t p)
{
    int32_t c = m->cat[p];
    if (c < 0 || m->cat_max[c] <= m->cat_min[c])
        return -1;
    return (h->price[p] - m->cat_min[c]) / (m->cat_max[c] - m->cat_min[c]);
}

double model_upsell_position(const struct model_upsell *m, const struct history *h,
                             const struct model_repeat *rep, int32_t customer, int32_t p)
{
    UNUSED(rep);
    if (customer < 0)
        return -1;
    double in_cat = 0, all = 0;
    int nin = 0, nall = 0;
    for (int32_t k = h->cust_first[customer]; k < h->cust_first[customer + 1]; k++) {
        int32_t i = h->cust_items[k];
        double pos = position_of(m, h, i);
        if (pos < 0)
            continue;
        all += pos, nall++;
        if (m->cat[i] == m->cat[p])
            in_cat += pos, nin++;
    }
    return nin ? in_cat / nin : nall ? all / nall : -1;
}

static double value_of(const struct history *h, int32_t from, int32_t to, bool margin)
{
    if (!margin)
        return h->price[to] - h->price[from];
    if (isnan(h->cost[to]) || isnan(h->cost[from]))
        return NAN;
    return (h->price[to] - h->cost[to]) - (h->price[from] - h->cost[from]);
}

int model_upsell_query(const struct model_upsell *m, const struct history *h,
                       const struct model_repeat *rep, const struct upsell_query *q,
                       struct arena *a, struct upsell_item **out)
{
    struct upsell_item *items = arena_array(a, UPSELL_K + 1, sizeof(struct upsell_item));
    int n = 0;
    const struct upsell_link *row = m->links + (size_t)q->item * UPSELL_K;
    double base = h->price[q->item];
    double usual = model_upsell_position(m, h, rep, q->customer, q->item);
    for (int x = 0; x < UPSELL_K && row[x].to >= 0; x++) {
        int32_t b = row[x].to;
        double step = base > 0 ? h->price[b] / base - 1 : INFINITY;
        if (!h->in_stock[b] || step < q->min_step - 1e-9 || step > q->max_step + 1e-9)
            continue;
        if (q->held && q->held[b]) {
            if (q->held_out)
                held_back_add(q->held_out, b);
            continue;
        }
        if (q->customer >= 0 && history_customer_bought(h, q->customer, b))
            continue; /* already theirs */
        double value = value_of(h, q->item, b, q->margin);
        if (!(value > 0))
            continue;
        double p = row[x].count >= 2 ? row[x].p : NO_PATH_FACTOR * row[x].similarity;
        double pos = position_of(m, h, b);
        double slack = POSITION_SLACK * (q->customer >= 0 ? m->spend_ratio[q->customer] : 1) *
                       (1 - q->churn_risk);
        if (usual >= 0 && pos >= 0 && pos > usual + slack)
            p *= exp(-POSITION_DECAY * (pos - usual - slack));
        p *= 1 - q->churn_risk * MIN(step, 1.0);
        items[n++] = (struct upsell_item){b, p * value, p, value, &row[x]};
    }
    /* best first (n <= 20) */
    for (int i = 1; i < n; i++) {
        struct upsell_item v = items[i];
        int j = i;
        while (j > 0 && (items[j - 1].score < v.score ||
                         (items[j - 1].score == v.score && items[j - 1].product > v.product))) {
            items[j] = items[j - 1];
            j--;
        }
        items[j] = v;
    }
    *out = items;
    return MIN(n, q->limit);
}

int model_upsell_train(struct snapshot *s, struct arena *a, const struct model_params *p,
                       struct figures *fig, char *err, size_t errlen)
{
    UNUSED(p);
    UNUSED(err);
    UNUSED(errlen);
    model_upsell_fit(&s->hist, &s->repeat, &s->content, a, &s->upsell, fig);
    return 0;
}

void model_upsell_save(const struct snapshot *s, struct snapw *w)
{
    const struct model_upsell *m = &s->upsell;
    size_t nc = history_ncustomers(&s->hist);
    struct model_upsell head = *m;
    head.links = NULL;
    head.returners = head.cat = NULL;
    head.spend_ratio = NULL;
    head.cat_min = head.cat_max = NULL;
    snapw_put(w, "upsell", &head, sizeof(head), 1);
    snapw_put(w, "upsell.links", m->links, sizeof(*m->links), m->n * UPSELL_K);
    snapw_put(w, "upsell.returners", m->returners, sizeof(*m->returners), m->n);
    snapw_put(w, "upsell.spend_ratio", m->spend_ratio, sizeof(*m->spend_ratio), nc);
    snapw_put(w, "upsell.cat", m->cat, sizeof(*m->cat), m->n);
    snapw_put(w, "upsell.cat_min", m->cat_min, sizeof(*m->cat_min), m->ncat);
    snapw_put(w, "upsell.cat_max", m->cat_max, sizeof(*m->cat_max), m->ncat);
}

void model_upsell_load(struct snapshot *s, struct snapr *r)
{
    struct model_upsell *m = &s->upsell;
    size_t nc = history_ncustomers(&s->hist);
    if (!snapr_copy(r, "upsell", m, sizeof(*m)))
        return;
    m->links = snapr_get(r, "upsell.links", sizeof(*m->links), m->n * UPSELL_K);
    m->returners = snapr_get(r, "upsell.returners", sizeof(*m->returners), m->n);
    m->spend_ratio = snapr_get(r, "upsell.spend_ratio", sizeof(*m->spend_ratio), nc);
    m->cat = snapr_get(r, "upsell.cat", sizeof(*m->cat), m->n);
    m->cat_min = snapr_get(r, "upsell.cat_min", sizeof(*m->cat_min), m->ncat);
    m->cat_max = snapr_get(r, "upsell.cat_max", sizeof(*m->cat_max), m->ncat);
}
