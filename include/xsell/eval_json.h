/* eval_json.h - an evaluation as JSON, the same for `xsell eval` and model_runs. */
#ifndef XSELL_EVAL_JSON_H
#define XSELL_EVAL_JSON_H

#include <cjson/cJSON.h>

#include "xsell/eval.h"

cJSON *eval_json(const struct eval_result *r, double holdout_days);
cJSON *eval_upsell_json(const struct eval_upsell_result *r, double holdout_days);

#endif
