/* eval_json.h - evaluations and the churn fit as JSON, the same for `xsell eval`,
 * `xsell train` and model_runs. */
#ifndef XSELL_EVAL_JSON_H
#define XSELL_EVAL_JSON_H

#include <cjson/cJSON.h>

#include "xsell/eval.h"
#include "xsell/tune.h"

cJSON *eval_json(const struct eval_result *r, double holdout_days);
cJSON *eval_upsell_json(const struct eval_upsell_result *r, double holdout_days);
cJSON *eval_churn_json(const struct eval_churn_result *r, double holdout_days);
cJSON *eval_forecast_json(const struct eval_forecast_result *r, double holdout_days);
/* The forecasts' interval coverage, the models' own and calibrated ([kind][80, 95]),
 * into o as models_own and calibrated: {coverage80, coverage95}. */
void eval_coverage_json(cJSON *o, const double cover[2][2]);
cJSON *eval_price_json(const struct eval_price_result *r);
/* The tuning's search and choice (tune.h). */
cJSON *tune_json(const struct tune_result *r);
/* Reads the planted elasticities of xsell gen's truth.json. -1 with err. */
int price_truth_load(const char *path, struct price_truth *t, char *err, size_t errlen);
/* The churn models' parameters (weeks), fits, selection, layer and segments. */
cJSON *churn_json(const struct model_churn *m);

#endif
