#include "xsell/jsonw.h"
#include "xsell/gate.h"

#include <cjson/cJSON.h>
#include <math.h>

#include "xsell/eval.h"
#include "xsell/eval_json.h"
#include "xsell/log.h"
#include "xsell/strparse.h"
#include "xsell/xalloc.h"

#define DAY_S 86400.0

static const char *const verdict_names[] = {"not judged", "passed", "gated", "forced"};

enum { GATE_RECALL, GATE_CART, GATE_CHURN, GATE_MASE, GATE_FIGURES };

static const struct {
    const char *name;
    bool lower_better;
} figure_desc[GATE_FIGURES] = {
    {"next_basket_recall_at_10", false},
    {"cart_hit_rate_at_10", false},
    {"churn_auc", false},
    {"forecast_mase", true},
};

/* As the evaluations report them: the run's figures are read back at this precision. */
/* The number at o's keys path[0].path[1]..., or NAN. */
static double number_at(const cJSON *o, const char *const *path, int n)
{
    for (int i = 0; i < n && o; i++)
        o = cJSON_GetObjectItemCaseSensitive(o, path[i]);
    return o && cJSON_IsNumber(o) ? o->valuedouble : NAN;
}

/* Fills the serving snapshot's figures (and the run's forecast one) into serv/cand;
 * the serving one's recommendation evaluation into gate. */
static void measure(const struct config *cfg, const struct snapshot *cand,
                    const struct snapshot *serving, double cut, double *cand_fig, double *serv_fig,
                    cJSON *gate)
{
    double days = cfg->eval_holdout_days;
    const struct history *now = &cand->hist;
    char err[300];
    if (isfinite(cand_fig[GATE_RECALL]) || isfinite(cand_fig[GATE_CART])) {
        struct snapshot *sc =
            eval_fit_at(&serving->hist, now, cut, &serving->params, err, sizeof(err));
        struct eval_result ev;
        if (sc && eval_recommend(now, sc, &ev, err, sizeof(err)) == 0) {
            serv_fig[GATE_RECALL] = round_to(ev.m[EVAL_M_BLEND].recall, 4);
            serv_fig[GATE_CART] = round_to(ev.m[EVAL_M_BLEND].cart_hit, 4);
            cJSON_AddItemToObject(gate, "serving_evaluation", eval_json(&ev, days));
        } else {
            cJSON_AddStringToObject(gate, "serving_evaluation", err);
        }
        snapshot_unref(sc);
    }
    if (isfinite(cand_fig[GATE_CHURN])) { /* as the run's churn evaluation was made */
        struct churn_fit_params cp = {.as_of = cand->as_of,
                                      .horizon_days = cand->params.churn_horizon_days,
                                      .discount = cand->params.churn_discount};
        struct eval_churn_result ec;
        if (eval_churn_between(&serving->hist, now, MAX(days, cp.horizon_days), &cp, &ec, err,
                               sizeof(err)) == 0)
            serv_fig[GATE_CHURN] = round_to(ec.auc_churn_risk, 4);
    }
    struct eval_forecast_result fc, fs;
    if (eval_forecast_at(now, now, cut, (int)ceil(days), &fc, err, sizeof(err)) == 0 &&
        eval_forecast_at(&serving->hist, now, cut, (int)ceil(days), &fs, err, sizeof(err)) == 0) {
        cand_fig[GATE_MASE] = round_to(fc.mase, 4);
        serv_fig[GATE_MASE] = round_to(fs.mase, 4);
        /* how the run's forecast intervals did on the same days (not judged) */
        eval_coverage_json(cJSON_AddObjectToObject(gate, "forecast_coverage"), fc.cover);
    }
}

/* Compares the figures into gate's "figures"; the verdict, and what was worse into
 * why. */
static enum gate_verdict compare(double tol, const double *cand_fig, const double *serv_fig,
                                 bool force, cJSON *gate, char *why, size_t whylen)
{
    cJSON *figs = cJSON_AddObjectToObject(gate, "figures");
    int judged = 0, worse = 0;
    size_t used = 0;
    for (int i = 0; i < GATE_FIGURES; i++) {
        cJSON *o = cJSON_AddObjectToObject(figs, figure_desc[i].name);
        double c = cand_fig[i], s = serv_fig[i];
        cJSON_AddItemToObject(o, "run", isfinite(c) ? cJSON_CreateNumber(c) : cJSON_CreateNull());
        cJSON_AddItemToObject(o, "serving",
                              isfinite(s) ? cJSON_CreateNumber(s) : cJSON_CreateNull());
        if (!isfinite(c) || !isfinite(s))
            continue;
        judged++;
        bool w = figure_desc[i].lower_better ? c > s * (1 + tol) : c < s * (1 - tol);
        cJSON_AddBoolToObject(o, "worse", w);
        if (w && used < whylen)
            used += (size_t)snprintf(why + used, whylen - used, "%s%s %.4g against %.4g",
                                     worse++ ? "; " : "worse than the serving snapshot on ",
                                     figure_desc[i].name, c, s);
    }
    if (judged == 0) {
        snprintf(why, whylen, "no figure could be measured on both");
        return GATE_NOT_JUDGED;
    }
    if (worse == 0)
        return GATE_PASSED;
    return force ? GATE_FORCED : GATE_GATED;
}

enum gate_verdict gate_judge(const struct config *cfg, struct snapshot *cand,
                             const struct snapshot *serving, bool force, char *why, size_t whylen)
{
    why[0] = '\0';
    cJSON *root = cJSON_Parse(cand->metrics_json);
    if (!root)
        return GATE_NOT_JUDGED;
    double t0 = mono_seconds();
    cJSON *gate = cJSON_AddObjectToObject(root, "gate");
    enum gate_verdict v = GATE_NOT_JUDGED;
    if (!serving) {
        snprintf(why, whylen, "nothing serves yet");
    } else if (cfg->eval_holdout_days <= 0) {
        snprintf(why, whylen, "the evaluations are off (XSELL_EVAL_HOLDOUT_DAYS=0)");
    } else {
        double cut = cand->hist.t_max - cfg->eval_holdout_days * DAY_S;
        char day[11];
        strparse_format_date(cut, day);
        cJSON_AddNumberToObject(gate, "serving_version", (double)serving->version);
        cJSON_AddNumberToObject(gate, "tolerance", cfg->gate_tolerance);
        cJSON_AddNumberToObject(gate, "holdout_days", cfg->eval_holdout_days);
        cJSON_AddStringToObject(gate, "cut", day);
        static const char *const recall[] = {"evaluation", "methods", "blend", "recall_at_10"};
        static const char *const cart[] = {"evaluation", "methods", "blend", "cart_hit_rate_at_10"};
        static const char *const churn[] = {"evaluation_churn", "auc_no_purchase", "churn_risk"};
        double cand_fig[GATE_FIGURES] = {number_at(root, recall, 4), number_at(root, cart, 4),
                                         number_at(root, churn, 3), NAN};
        double serv_fig[GATE_FIGURES] = {NAN, NAN, NAN, NAN};
        measure(cfg, cand, serving, cut, cand_fig, serv_fig, gate);
        v = compare(cfg->gate_tolerance, cand_fig, serv_fig, force, gate, why, whylen);
    }
    cJSON_AddStringToObject(gate, "verdict", verdict_names[v]);
    if (why[0])
        cJSON_AddStringToObject(gate, "why", why);
    cJSON_AddNumberToObject(gate, "seconds", mono_seconds() - t0);
    char *json = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (json) {
        free(cand->metrics_json);
        cand->metrics_json = json;
    }
    return v;
}
