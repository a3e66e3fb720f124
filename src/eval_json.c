#include "xsell/eval_json.h"

#include <math.h>

#include "xsell/strparse.h"

static double r4(double x)
{
    return round(x * 1e4) / 1e4;
}

/* What every evaluation states first: the holdout, the cut, its cost. */
static cJSON *header(double holdout_days, double cut, double seconds)
{
    char day[11];
    cJSON *root = cJSON_CreateObject();
    strparse_format_date(cut, day);
    cJSON_AddNumberToObject(root, "holdout_days", holdout_days);
    cJSON_AddStringToObject(root, "cut", day);
    cJSON_AddNumberToObject(root, "seconds", r4(seconds));
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
        cJSON_AddNumberToObject(o, "hit_rate_at_10", r4(m->hit));
        cJSON_AddNumberToObject(o, "recall_at_10", r4(m->recall));
        cJSON_AddNumberToObject(o, "ndcg_at_10", r4(m->ndcg));
        cJSON_AddNumberToObject(o, "recall_repeat", r4(m->recall_repeat));
        cJSON_AddNumberToObject(o, "recall_new", r4(m->recall_new));
        cJSON_AddNumberToObject(o, "coverage", r4(m->coverage));
        cJSON_AddNumberToObject(o, "cart_hit_rate_at_10", r4(m->cart_hit));
        cJSON_AddNumberToObject(o, "cart_ndcg_at_10", r4(m->cart_ndcg));
    }
    return root;
}

cJSON *eval_upsell_json(const struct eval_upsell_result *r, double holdout_days)
{
    cJSON *root = header(holdout_days, r->cut, r->seconds);
    cJSON_AddNumberToObject(root, "cases", (double)r->cases);
    cJSON *methods = cJSON_AddObjectToObject(root, "methods");
    for (int i = 0; i < UPSELL_METHODS; i++) {
        cJSON *o = cJSON_AddObjectToObject(methods, r->m[i].name);
        cJSON_AddNumberToObject(o, "hit_rate_at_1", r4(r->m[i].hit1));
        cJSON_AddNumberToObject(o, "hit_rate_at_5", r4(r->m[i].hit5));
        cJSON_AddNumberToObject(o, "ndcg_at_5", r4(r->m[i].ndcg5));
    }
    return root;
}
