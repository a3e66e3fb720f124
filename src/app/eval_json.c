#include "xsell/jsonw.h"
#include "xsell/eval_json.h"

#include <math.h>

#include "xsell/buf.h"
#include "xsell/log.h"
#include "xsell/stats.h"
#include "xsell/strparse.h"
#include "xsell/xalloc.h"

/* name_ci95: [lo, hi], when the interval could be told */
static void add_ci(cJSON *o, const char *name, double lo, double hi)
{
    if (!isfinite(lo))
        return;
    char key[64];
    snprintf(key, sizeof(key), "%s_ci95", name);
    cJSON *a = cJSON_AddArrayToObject(o, key);
    cJSON_AddItemToArray(a, cJSON_CreateNumber(round_to(lo, 4)));
    cJSON_AddItemToArray(a, cJSON_CreateNumber(round_to(hi, 4)));
}

/* name_ci95: the 95% interval of a rate measured on n cases */
static void add_rate_ci(cJSON *o, const char *name, double rate, double n)
{
    double lo, hi;
    stats_rate_ci95(rate * n, n, &lo, &hi);
    add_ci(o, name, lo, hi);
}

/* What every evaluation states first: the holdout, the cut, its cost. */
static cJSON *header(double holdout_days, double cut, double seconds)
{
    char day[11];
    cJSON *root = cJSON_CreateObject();
    strparse_format_date(cut, day);
    cJSON_AddNumberToObject(root, "holdout_days", holdout_days);
    cJSON_AddStringToObject(root, "cut", day);
    cJSON_AddNumberToObject(root, "seconds", round_to(seconds, 4));
    return root;
}

cJSON *eval_json(const struct eval_result *r, double holdout_days)
{
    cJSON *root = header(holdout_days, r->cut, r->seconds);
    cJSON_AddNumberToObject(root, "customers", (double)r->customers);
    cJSON_AddNumberToObject(root, "baskets", (double)r->baskets);
    cJSON *methods = cJSON_AddObjectToObject(root, "methods");
    for (int i = 0; i < EVAL_METHODS; i++) {
        const struct eval_method *m = &r->m[i];
        if (m->skipped) {
            cJSON_AddStringToObject(methods, m->name, "skipped: catalogue too large for EASE");
            continue;
        }
        cJSON *o = cJSON_AddObjectToObject(methods, m->name);
        cJSON_AddNumberToObject(o, "hit_rate_at_10", round_to(m->hit, 4));
        add_rate_ci(o, "hit_rate_at_10", m->hit, (double)r->customers);
        cJSON_AddNumberToObject(o, "recall_at_10", round_to(m->recall, 4));
        cJSON_AddNumberToObject(o, "ndcg_at_10", round_to(m->ndcg, 4));
        cJSON_AddNumberToObject(o, "recall_repeat", round_to(m->recall_repeat, 4));
        cJSON_AddNumberToObject(o, "recall_new", round_to(m->recall_new, 4));
        cJSON_AddNumberToObject(o, "coverage", round_to(m->coverage, 4));
        if (m->customers_only)
            continue;
        cJSON_AddNumberToObject(o, "cart_hit_rate_at_10", round_to(m->cart_hit, 4));
        add_rate_ci(o, "cart_hit_rate_at_10", m->cart_hit, (double)r->baskets);
        cJSON_AddNumberToObject(o, "cart_ndcg_at_10", round_to(m->cart_ndcg, 4));
    }
    return root;
}

cJSON *eval_upsell_json(const struct eval_upsell_result *r, double holdout_days)
{
    cJSON *root = header(holdout_days, r->cut, r->seconds);
    cJSON_AddNumberToObject(root, "cases", (double)r->cases);
    cJSON_AddNumberToObject(root, "cases_catalogue_substitute", (double)r->related);
    cJSON_AddNumberToObject(root, "candidates_mean", round_to(r->candidates_mean, 4));
    cJSON_AddNumberToObject(root, "step_mean", round_to(r->step_mean, 4));
    cJSON_AddNumberToObject(root, "step_median", round_to(r->step_median, 4));
    cJSON *methods = cJSON_AddObjectToObject(root, "methods");
    for (int i = 0; i < UPSELL_METHODS; i++) {
        cJSON *o = cJSON_AddObjectToObject(methods, r->m[i].name);
        cJSON_AddNumberToObject(o, "hit_rate_at_1", round_to(r->m[i].hit1, 4));
        cJSON_AddNumberToObject(o, "hit_rate_at_5", round_to(r->m[i].hit5, 4));
        add_rate_ci(o, "hit_rate_at_1", r->m[i].hit1, (double)r->cases);
        add_rate_ci(o, "hit_rate_at_5", r->m[i].hit5, (double)r->cases);
        cJSON_AddNumberToObject(o, "ndcg_at_5", round_to(r->m[i].ndcg5, 4));
        cJSON *sub = cJSON_AddObjectToObject(o, "catalogue_substitute");
        cJSON_AddNumberToObject(sub, "hit_rate_at_1", round_to(r->m[i].related_hit1, 4));
        cJSON_AddNumberToObject(sub, "hit_rate_at_5", round_to(r->m[i].related_hit5, 4));
        cJSON_AddNumberToObject(sub, "ndcg_at_5", round_to(r->m[i].related_ndcg5, 4));
    }
    return root;
}

cJSON *eval_forecast_json(const struct eval_forecast_result *r, double holdout_days)
{
    cJSON *root = header(holdout_days, r->cut, 0);
    cJSON_AddNumberToObject(root, "series", r->series);
    cJSON_AddNumberToObject(root, "days", r->days);
    cJSON_AddNumberToObject(root, "mase", round_to(r->mase, 4));
    cJSON_AddNumberToObject(root, "mase_shop", round_to(r->mase_shop, 4));
    eval_coverage_json(root, r->cover);
    return root;
}

void eval_coverage_json(cJSON *o, const double cover[2][2])
{
    static const char *const kinds[2] = {"models_own", "calibrated"};
    for (int k = 0; k < 2; k++) {
        cJSON *c = cJSON_AddObjectToObject(o, kinds[k]);
        cJSON_AddNumberToObject(c, "coverage80", round_to(cover[k][0], 4));
        cJSON_AddNumberToObject(c, "coverage95", round_to(cover[k][1], 4));
    }
}

static cJSON *fit_json(const struct fit_report *rep)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "log_likelihood", round(rep->ll * 1e4) / 1e4);
    cJSON_AddBoolToObject(o, "converged", rep->converged);
    cJSON_AddBoolToObject(o, "kept_previous", rep->kept_previous);
    cJSON_AddNumberToObject(o, "iterations", rep->iterations);
    cJSON_AddNumberToObject(o, "starts", rep->starts);
    cJSON_AddNumberToObject(o, "starts_converged", rep->starts_converged);
    return o;
}

static const char *const churn_kind_names[] = {"bgnbd", "modified_bgnbd"};

cJSON *churn_json(const struct model_churn *m)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "serving", churn_kind_names[m->kind]);
    cJSON_AddStringToObject(root, "selection", m->selection);
    cJSON_AddStringToObject(root, "time_unit", "weeks");
    cJSON *params = cJSON_AddObjectToObject(root, "params");
    for (int k = 0; k < 2; k++) {
        const struct churn_params *p = &m->params[k];
        cJSON *o = cJSON_AddObjectToObject(params, churn_kind_names[k]);
        cJSON_AddNumberToObject(o, "r", p->r);
        cJSON_AddNumberToObject(o, "alpha", p->alpha);
        cJSON_AddNumberToObject(o, "a", p->a);
        cJSON_AddNumberToObject(o, "b", p->b);
        cJSON_AddItemToObject(o, "fit", fit_json(&m->report[k]));
    }
    cJSON *gg = cJSON_AddObjectToObject(params, "gamma_gamma");
    cJSON_AddNumberToObject(gg, "p", m->gg.p);
    cJSON_AddNumberToObject(gg, "q", m->gg.q);
    cJSON_AddNumberToObject(gg, "v", m->gg.v);
    cJSON_AddBoolToObject(gg, "serving", m->gg_ok);
    cJSON_AddItemToObject(gg, "fit", fit_json(&m->gg_report));
    cJSON *layer = cJSON_AddObjectToObject(root, "logistic_layer");
    cJSON_AddBoolToObject(layer, "used", m->layer.used);
    cJSON_AddNumberToObject(layer, "auc_model_earlier_split", round_to(m->layer.auc_model, 4));
    cJSON_AddNumberToObject(layer, "auc_layer_earlier_split", round_to(m->layer.auc_layer, 4));
    cJSON_AddNumberToObject(root, "horizon_days", m->horizon_days);
    cJSON_AddNumberToObject(root, "annual_discount", m->discount);
    cJSON_AddNumberToObject(root, "customers", (double)m->nranked);
    cJSON *seg = cJSON_AddObjectToObject(root, "segments");
    for (int i = 0; i < SEG_COUNT; i++) {
        cJSON *o = cJSON_AddObjectToObject(seg, churn_segment_name((enum churn_segment)i));
        cJSON_AddNumberToObject(o, "customers", (double)m->seg_count[i]);
        cJSON_AddNumberToObject(o, "clv", round(m->seg_value[i] * 100) / 100);
        cJSON_AddNumberToObject(o, "value_at_risk", round(m->seg_at_risk[i] * 100) / 100);
    }
    return root;
}

cJSON *eval_churn_json(const struct eval_churn_result *r, double holdout_days)
{
    cJSON *root = header(holdout_days, r->cut, r->seconds);
    cJSON_AddNumberToObject(root, "customers", (double)r->customers);
    cJSON_AddNumberToObject(root, "no_purchase_in_holdout", (double)r->churned);
    cJSON_AddStringToObject(root, "model", r->model);
    cJSON_AddBoolToObject(root, "logistic_layer", r->layer_used);
    cJSON *p = cJSON_AddObjectToObject(root, "params_weeks");
    cJSON_AddNumberToObject(p, "r", r->params.r);
    cJSON_AddNumberToObject(p, "alpha", r->params.alpha);
    cJSON_AddNumberToObject(p, "a", r->params.a);
    cJSON_AddNumberToObject(p, "b", r->params.b);
    cJSON *tot = cJSON_AddObjectToObject(root, "repeat_purchases");
    cJSON_AddNumberToObject(tot, "actual", r->actual);
    cJSON_AddNumberToObject(tot, "predicted", round_to(r->predicted, 4));
    cJSON *by = cJSON_AddArrayToObject(root, "by_frequency");
    for (int b = 0; b < CHURN_BUCKETS; b++) {
        cJSON *o = cJSON_CreateObject();
        char label[8];
        snprintf(label, sizeof(label), b == CHURN_BUCKETS - 1 ? "%d+" : "%d", b);
        cJSON_AddStringToObject(o, "frequency", label);
        cJSON_AddNumberToObject(o, "customers", (double)r->bucket[b].n);
        cJSON_AddNumberToObject(o, "actual_mean", round_to(r->bucket[b].actual, 4));
        cJSON_AddNumberToObject(o, "predicted_mean", round_to(r->bucket[b].predicted, 4));
        cJSON_AddItemToArray(by, o);
    }
    cJSON *auc = cJSON_AddObjectToObject(root, "auc_no_purchase");
    cJSON_AddNumberToObject(auc, "churn_risk", round_to(r->auc_churn_risk, 4));
    double lo, hi;
    stats_auc_ci95(r->auc_churn_risk, (double)r->churned, (double)(r->customers - r->churned), &lo,
                   &hi);
    add_ci(auc, "churn_risk", lo, hi);
    cJSON_AddNumberToObject(auc, "model_p_none", round_to(r->auc_model, 4));
    cJSON_AddNumberToObject(auc, "expected_purchases", round_to(r->auc_expected, 4));
    cJSON_AddNumberToObject(auc, "recency_baseline", round_to(r->auc_recency, 4));
    return root;
}

int price_truth_load(const char *path, struct price_truth *t, char *err, size_t errlen)
{
    memset(t, 0, sizeof(*t));
    FILE *f = fopen(path, "rb");
    if (!f)
        return fmt_error(err, errlen, "%s: cannot open", path);
    struct buf b;
    buf_init(&b, TRUTH_FILE_MAX);
    char chunk[65536];
    size_t got;
    int rc = 0;
    while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0 && rc == 0)
        rc = buf_append(&b, chunk, got);
    fclose(f);
    cJSON *root = rc == 0 ? cJSON_ParseWithLength(b.data, b.len) : NULL;
    buf_release(&b);
    const cJSON *products = cJSON_GetObjectItem(root, "products"), *p;
    if (!cJSON_IsObject(products)) {
        cJSON_Delete(root);
        return fmt_error(err, errlen, "%s: no \"products\" object (xsell gen's truth.json)", path);
    }
    size_t n = (size_t)cJSON_GetArraySize(products);
    t->id = xcalloc(n + 1, sizeof(char *));
    t->elasticity = xcalloc(n + 1, sizeof(double));
    cJSON_ArrayForEach(p, products)
    {
        const cJSON *e = cJSON_GetObjectItem(p, "elasticity");
        if (!cJSON_IsNumber(e) || !p->string)
            continue;
        t->id[t->n] = xstrdup(p->string);
        t->elasticity[t->n++] = e->valuedouble;
    }
    cJSON_Delete(root);
    return 0;
}

cJSON *eval_price_json(const struct eval_price_result *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "products", (double)r->products);
    cJSON_AddNumberToObject(o, "source_product", (double)r->own);
    cJSON_AddNumberToObject(o, "median_abs_error", round_to(r->median_abs_error, 4));
    cJSON_AddNumberToObject(o, "median_abs_error_source_product",
                            round_to(r->median_abs_error_own, 4));
    cJSON_AddNumberToObject(o, "median_abs_error_unshrunk", round_to(r->median_abs_error_raw, 4));
    cJSON_AddNumberToObject(o, "right_sign", round_to(r->right_sign, 4));
    cJSON_AddNumberToObject(o, "coverage_95", round_to(r->coverage95, 4));
    cJSON_AddNumberToObject(o, "coverage_95_source_product", round_to(r->coverage95_own, 4));
    cJSON *sim = cJSON_AddObjectToObject(o, "profit_vs_true_optimum");
    cJSON_AddNumberToObject(sim, "products", (double)r->profit_products);
    cJSON_AddNumberToObject(sim, "recommended", round_to(r->profit_share, 4));
    cJSON_AddNumberToObject(sim, "current_price", round_to(r->profit_share_current, 4));
    return o;
}

/* The five settings of one trial as an object. */
static cJSON *settings_json(const double *v)
{
    cJSON *o = cJSON_CreateObject();
    for (int i = 0; i < TUNE_SETTINGS; i++)
        cJSON_AddNumberToObject(o, tune_setting_names[i], v[i]);
    return o;
}

cJSON *tune_json(const struct tune_result *r)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddBoolToObject(root, "tuned", r->tuned);
    if (r->why[0])
        cJSON_AddStringToObject(root, "note", r->why);
    char day[11];
    strparse_format_date(r->cut, day);
    cJSON_AddStringToObject(root, "fitted_until", day);
    strparse_format_date(r->until, day);
    cJSON_AddStringToObject(root, "validated_until", day);
    cJSON_AddNumberToObject(root, "customers", (double)r->customers);
    cJSON_AddNumberToObject(root, "seconds", round_to(r->seconds, 4));
    if (r->ntrials == 0)
        return root;
    const struct tune_trial *start = &r->trial[0], *best = &r->trial[r->chosen];
    cJSON *s = settings_json(start->value);
    cJSON_AddNumberToObject(s, "recall_at_10", round_to(start->recall, 4));
    cJSON_AddNumberToObject(s, "ndcg_at_10", round_to(start->ndcg, 4));
    cJSON_AddNumberToObject(s, "cart_hit_rate_at_10", round_to(start->cart_hit, 4));
    cJSON_AddItemToObject(root, "start", s);
    cJSON *c = settings_json(best->value);
    cJSON_AddNumberToObject(c, "recall_at_10", round_to(best->recall, 4));
    cJSON_AddNumberToObject(c, "ndcg_at_10", round_to(best->ndcg, 4));
    cJSON_AddNumberToObject(c, "cart_hit_rate_at_10", round_to(best->cart_hit, 4));
    cJSON_AddItemToObject(root, "chosen", c);
    cJSON *share = cJSON_AddObjectToObject(root, "own_products_share_of_lists");
    cJSON_AddNumberToObject(share, "start", round_to(r->share_start, 4));
    cJSON_AddNumberToObject(share, "chosen", round_to(r->share_chosen, 4));
    cJSON *trials = cJSON_AddArrayToObject(root, "trials");
    for (int i = 0; i < r->ntrials; i++) {
        cJSON *t = cJSON_CreateArray();
        for (int k = 0; k < TUNE_SETTINGS; k++)
            cJSON_AddItemToArray(t, cJSON_CreateNumber(r->trial[i].value[k]));
        cJSON_AddItemToArray(t, cJSON_CreateNumber(round_to(r->trial[i].recall, 4)));
        cJSON_AddItemToArray(t, cJSON_CreateNumber(round_to(r->trial[i].ndcg, 4)));
        cJSON_AddItemToArray(t, cJSON_CreateNumber(round_to(r->trial[i].cart_hit, 4)));
        cJSON_AddItemToArray(trials, t);
    }
    cJSON *are = cJSON_AddArrayToObject(root, "trials_are"); /* each trial's columns */
    for (int k = 0; k < TUNE_SETTINGS; k++)
        cJSON_AddItemToArray(are, cJSON_CreateString(tune_setting_names[k]));
    cJSON_AddItemToArray(are, cJSON_CreateString("recall_at_10"));
    cJSON_AddItemToArray(are, cJSON_CreateString("ndcg_at_10"));
    cJSON_AddItemToArray(are, cJSON_CreateString("cart_hit_rate_at_10"));
    return root;
}
