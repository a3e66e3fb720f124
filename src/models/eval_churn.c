#include <math.h>

#include "xsell/eval.h"
#include "xsell/log.h"
#include "xsell/stats.h"
#include "xsell/xalloc.h"

int eval_churn(const struct history *full, double holdout_days, const struct churn_fit_params *p,
               struct eval_churn_result *out, char *err, size_t errlen)
{
    return eval_churn_between(full, full, holdout_days, p, out, err, errlen);
}

int eval_churn_between(const struct history *train, const struct history *full, double holdout_days,
                       const struct churn_fit_params *p, struct eval_churn_result *out, char *err,
                       size_t errlen)
{
    double t0 = mono_seconds();
    memset(out, 0, sizeof(*out));
    double as_of = p->as_of > 0 ? p->as_of : full->t_max;
    out->cut = as_of - holdout_days * 86400.0;
    if (holdout_days < 1 || out->cut <= full->t_min || out->cut <= train->t_min)
        return fmt_error(err, errlen, "the cut-off leaves no calibration period");
    /* The models see the summaries up to the cut only. */
    struct churn_fit_params fp = *p;
    fp.as_of = out->cut;
    fp.horizon_days = holdout_days;
    struct arena a;
    arena_init(&a);
    struct model_churn m;
    struct figures fig = {0};
    model_churn_fit(train, &fp, &a, &m, &fig);
    struct churn_days d;
    churn_days_build(full, &a, &d);
    int32_t cut = m.as_of_day, end = cut + (int32_t)lround(holdout_days);
    size_t n = m.nranked;
    double *risk = xmalloc((n + 1) * sizeof(double)), *own = xmalloc((n + 1) * sizeof(double));
    double *fewer = xmalloc((n + 1) * sizeof(double)), *recency = xmalloc((n + 1) * sizeof(double));
    bool *gone = xmalloc(n + 1);
    size_t k = 0;
    for (size_t c = 0; c < m.n; c++) {
        struct churn_summary s;
        int ho;
        /* what the customer (of train) did by the cut and after it, by full */
        int32_t fc = (int32_t)c;
        if (train != full) {
            const char *id = idmap_key(&train->customers, fc);
            fc = idmap_find(&full->customers, id, strlen(id));
        }
        if (!m.cust[c].known || fc < 0 || !churn_summary_at(&d, fc, cut, end, &s, &ho))
            continue;
        const struct churn_customer *cc = &m.cust[c];
        risk[k] = cc->churn_risk;
        own[k] = churn_p_none(m.kind, &m.params[m.kind], &s, holdout_days / 7);
        fewer[k] = -cc->expected_purchases;
        recency[k] = s.T - s.tx;
        gone[k] = ho == 0;
        out->churned += gone[k];
        out->actual += ho;
        out->predicted += cc->expected_purchases;
        int b = s.x >= CHURN_BUCKETS - 1 ? CHURN_BUCKETS - 1 : (int)s.x;
        out->bucket[b].n++;
        out->bucket[b].actual += ho;
        out->bucket[b].predicted += cc->expected_purchases;
        k++;
    }
    out->customers = (long)k;
    for (int b = 0; b < CHURN_BUCKETS; b++) {
        if (out->bucket[b].n) {
            out->bucket[b].actual /= (double)out->bucket[b].n;
            out->bucket[b].predicted /= (double)out->bucket[b].n;
        }
    }
    out->auc_churn_risk = stats_auc(risk, gone, k);
    out->auc_model = stats_auc(own, gone, k);
    out->auc_expected = stats_auc(fewer, gone, k);
    out->auc_recency = stats_auc(recency, gone, k);
    out->model = m.kind == CHURN_MBGNBD ? "modified BG/NBD" : "BG/NBD";
    out->layer_used = m.layer.used;
    out->params = m.params[m.kind];
    free(risk);
    free(own);
    free(fewer);
    free(recency);
    free(gone);
    arena_release(&a);
    out->seconds = mono_seconds() - t0;
    if (k == 0)
        return fmt_error(err, errlen, "no customer had bought by the cut-off");
    return 0;
}
