/* experiment_json.h - an experiment's definition as JSON: the body of PUT
 * /experiments/{id}, what the experiments table stores and what GET /experiments
 * lists, read and written by one pair of functions. */
#ifndef XSELL_EXPERIMENT_JSON_H
#define XSELL_EXPERIMENT_JSON_H

#include <cjson/cJSON.h>

#include "xsell/experiment.h"

/* Reads o (see openapi.yaml's ExperimentIn) into e for experiment id, now being the
 * default start. 0, or -1 with err naming the field. */
int experiment_parse(const cJSON *o, const char *id, double now, struct experiment *e, char *err,
                     size_t errlen);
/* e as JSON (experiment_parse reads it back the same). */
cJSON *experiment_to_json(const struct experiment *e);

#endif
