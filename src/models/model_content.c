#include "xsell/model_content.h"

#include <math.h>

#include "xsell/idmap.h"
#include "xsell/log.h"
#include "xsell/xalloc.h"
#include "xsell/snapfile.h"
#include "xsell/snapshot.h"

#define TOKEN_MAX 64
/* A word in more products than this ("item", a department's name at 200k products)
 * finds no candidates itself: walking its products from each of its products would
 * cost its count squared. It still counts toward the similarity of candidates that
 * rarer words found, so only pairs sharing nothing but common words are missed. */
#define CONTENT_DF_CAP 1000

struct posting {
    int32_t product;
    float w;
};

/* Calls add(token) for each lowercased word of 2+ bytes (bytes >= 0x80 count as
 * letters, so UTF-8 words stay whole). */
static void words(const char *s, void (*add)(const char *tok, size_t n, void *ctx), void *ctx)
{
    char tok[TOKEN_MAX];
    size_t n = 0;
    for (const char *p = s;; p++) {
        unsigned char c = (unsigned char)*p;
        bool letter =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
        if (letter && n < TOKEN_MAX - 1) {
            tok[n++] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
            continue;
        }
        if (n >= 2)
            add(tok, n, ctx);
        n = 0;
        if (!c)
            break;
    }
}

struct doc {
    struct idmap *vocab;
    int32_t *tok; /* token ids of one product */
    int ntok, cap;
};

static void add_token(const char *t, size_t n, void *ctx)
{
    struct doc *d = ctx;
    if (d->ntok == d->cap)
        return;
    d->tok[d->ntok++] = idmap_put(d->vocab, t, n, NULL);
}

void model_content_fit(const struct history *h, int k, struct arena *a, struct model_content *m,
                       struct figures *fig)
{
    double t0 = mono_seconds();
    size_t np = history_nproducts(h);
    struct idmap vocab;
    idmap_init(&vocab);
    memset(m, 0, sizeof(*m));
    m->n = np;
    m->k = k;
    m->nbr = arena_array(a, np * (size_t)k + 1, sizeof(int32_t));
    m->w = arena_array(a, np * (size_t)k + 1, sizeof(float));
    for (size_t i = 0; i < np * (size_t)k; i++)
        m->nbr[i] = -1;

    /* Tokens per product (at most 64), as compressed rows. */
    int32_t *first = xcalloc(np + 1, sizeof(int32_t));
    int32_t *toks = NULL;
    size_t ntoks = 0, cap = 0;
    int32_t buf[64] = {0};
    for (size_t p = 0; p < np; p++) {
        struct doc d = {&vocab, buf, 0, 64};
        if (h->name[p])
            words(h->name[p], add_token, &d);
        if (h->category[p] && d.ntok < d.cap) {
            char cat[TOKEN_MAX + 8];
            int n = snprintf(cat, sizeof(cat), "\x01%s", h->category[p]);
            d.tok[d.ntok++] = idmap_put(&vocab, cat, (size_t)MIN(n, (int)sizeof(cat) - 1), NULL);
        }
        xgrow((void **)&toks, &cap, ntoks + (size_t)d.ntok + 1, sizeof(int32_t));
        memcpy(toks + ntoks, d.tok, (size_t)d.ntok * sizeof(int32_t));
        ntoks += (size_t)d.ntok;
        first[p + 1] = (int32_t)ntoks;
    }
    size_t nv = idmap_size(&vocab);
    int32_t *df = xcalloc(nv + 1, sizeof(int32_t));
    for (size_t p = 0; p < np; p++)
        for (int32_t x = first[p]; x < first[p + 1]; x++) {
            bool seen = false;
            for (int32_t y = first[p]; y < x; y++)
                seen |= toks[y] == toks[x];
            if (!seen)
                df[toks[x]]++;
        }
    /* Weighted, normalised vectors; postings per token. */
    float *wt = xmalloc((ntoks + 1) * sizeof(float));
    for (size_t p = 0; p < np; p++) {
        double norm = 0;
        for (int32_t x = first[p]; x < first[p + 1]; x++) {
            double idf = log((1.0 + (double)np) / (1.0 + df[toks[x]])) + 1.0;
            wt[x] = (float)idf; /* repeated words add up through the dot product */
            norm += idf * idf;
        }
        for (int32_t x = first[p]; x < first[p + 1]; x++)
            wt[x] = norm > 0 ? (float)(wt[x] / sqrt(norm)) : 0;
    }
    int32_t *pfirst = xcalloc(nv + 2, sizeof(int32_t));
    for (size_t x = 0; x < ntoks; x++)
        pfirst[toks[x] + 1]++;
    for (size_t v = 0; v < nv; v++)
        pfirst[v + 1] += pfirst[v];
    struct posting *post = xmalloc((ntoks + 1) * sizeof(struct posting));
    int32_t *fill = xmalloc((nv + 1) * sizeof(int32_t));
    memcpy(fill, pfirst, (nv + 1) * sizeof(int32_t));
    for (size_t p = 0; p < np; p++)
        for (int32_t x = first[p]; x < first[p + 1]; x++)
            post[fill[toks[x]]++] = (struct posting){(int32_t)p, wt[x]};

    float *acc = xcalloc(np + 1, sizeof(float));
    int32_t *touched = xmalloc((np + 1) * sizeof(int32_t));
    size_t links = 0, common = 0;
    for (size_t v = 0; v < nv; v++)
        common += df[v] > CONTENT_DF_CAP;
    for (size_t p = 0; p < np; p++) {
        int nt = 0;
        bool any_common = false;
        for (int32_t x = first[p]; x < first[p + 1]; x++) {
            if (df[toks[x]] > CONTENT_DF_CAP) {
                any_common = true;
                continue;
            }
            for (int32_t y = pfirst[toks[x]]; y < pfirst[toks[x] + 1]; y++) {
                int32_t q = post[y].product;
                if ((size_t)q == p)
                    continue;
                if (acc[q] == 0)
                    touched[nt++] = q;
                acc[q] += wt[x] * post[y].w;
            }
        }
        for (int c = 0; any_common && c < nt; c++) { /* the common words' share */
            int32_t q = touched[c];
            for (int32_t x = first[p]; x < first[p + 1]; x++)
                for (int32_t y = first[q]; df[toks[x]] > CONTENT_DF_CAP && y < first[q + 1]; y++)
                    if (toks[y] == toks[x])
                        acc[q] += wt[x] * wt[y];
        }
        int32_t *nb = m->nbr + p * (size_t)k;
        float *w = m->w + p * (size_t)k;
        int n = 0;
        for (int x = 0; x < nt; x++) {
            int32_t q = touched[x];
            float s = acc[q];
            acc[q] = 0;
            if (s <= 0 || (n == k && s <= w[n - 1]))
                continue;
            int at = n < k ? n++ : k - 1;
            while (at > 0 && (w[at - 1] < s || (w[at - 1] == s && nb[at - 1] > q))) {
                w[at] = w[at - 1];
                nb[at] = nb[at - 1];
                at--;
            }
            w[at] = s;
            nb[at] = q;
        }
        links += (size_t)n;
    }
    figures_add(fig, "vocabulary", (double)nv);
    figures_add(fig, "common_words", (double)common);
    figures_add(fig, "neighbours", (double)links);
    figures_add(fig, "fit_seconds", mono_seconds() - t0);
    free(acc);
    free(touched);
    free(post);
    free(fill);
    free(pfirst);
    free(wt);
    free(df);
    free(first);
    free(toks);
    idmap_release(&vocab);
}

int model_content_train(struct snapshot *s, struct arena *a, const struct model_params *p,
                        struct figures *fig, char *err, size_t errlen)
{
    UNUSED(err);
    UNUSED(errlen);
    const struct model_content *prev = p->content_prev;
    if (prev && prev->n == history_nproducts(&s->hist)) { /* the same names: the same model */
        size_t n = prev->n * (size_t)prev->k;
        s->content = (struct model_content){.n = prev->n, .k = prev->k};
        s->content.nbr = arena_array(a, n + 1, sizeof(int32_t));
        s->content.w = arena_array(a, n + 1, sizeof(float));
        memcpy(s->content.nbr, prev->nbr, n * sizeof(int32_t));
        memcpy(s->content.w, prev->w, n * sizeof(float));
        figures_add(fig, "kept_from_last_run", 1);
        return 0;
    }
    model_content_fit(&s->hist, 20, a, &s->content, fig);
    return 0;
}

void model_content_save(const struct snapshot *s, struct snapw *w)
{
    const struct model_content *m = &s->content;
    struct model_content head = *m;
    head.nbr = NULL;
    head.w = NULL;
    snapw_put(w, "content", &head, sizeof(head), 1);
    snapw_put(w, "content.nbr", m->nbr, sizeof(*m->nbr), m->n * (size_t)m->k);
    snapw_put(w, "content.w", m->w, sizeof(*m->w), m->n * (size_t)m->k);
}

void model_content_load(struct snapshot *s, struct snapr *r)
{
    struct model_content *m = &s->content;
    if (!snapr_copy(r, "content", m, sizeof(*m)))
        return;
    m->nbr = snapr_get(r, "content.nbr", sizeof(*m->nbr), m->n * (size_t)m->k);
    m->w = snapr_get(r, "content.w", sizeof(*m->w), m->n * (size_t)m->k);
}
