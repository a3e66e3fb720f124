/* xsell eval recommend|upsell|churn|forecast|price: the offline evaluations (eval.h) on the
 * database's history, as JSON. */
#include <math.h>

#include "xsell/cmd.h"
#include "xsell/eval_json.h"
#include "xsell/history_load.h"
#include "xsell/trainer.h"
#include "xsell/xalloc.h"

enum { EVAL_RECOMMEND, EVAL_UPSELL, EVAL_CHURN, EVAL_FORECAST, EVAL_PRICE };
static const char *const kinds[] = {"recommend", "upsell", "churn", "forecast", "price"};

/* /price against planted truth: the serving models fitted on the whole history. */
static cJSON *eval_price_all(struct snapshot *s, struct model_params *mp, const char *truth_path,
                             char *err, size_t errlen)
{
    struct model_figures figs;
    struct price_truth t;
    mp->forecast_threads = 0; /* nothing here reads the sales forecasts */
    if (models_fit(s, mp, false, &figs, err, errlen) ||
        price_truth_load(truth_path, &t, err, errlen))
        return NULL;
    struct price_guard g = {.max_change = mp->price_max_change,
                            .min_margin = mp->price_min_margin,
                            .floor = NAN,
                            .ceiling = NAN};
    struct eval_price_result r;
    int rc = eval_price(s, &t, &g, &r, err, errlen);
    price_truth_release(&t);
    return rc ? NULL : eval_price_json(&r);
}

/* /recommend or /upsell on the models fitted before the holdout; /recommend's
 * settings tuned first, as a training run does (on the window before the holdout). */
static cJSON *eval_holdout(const struct history *h, int what, double days, const struct config *cfg,
                           struct model_params *mp, char *err, size_t errlen)
{
    struct tune_result *tr = NULL;
    if (what == EVAL_RECOMMEND && mp->tune) {
        tr = xmalloc(sizeof(*tr));
        tune_recommend(h, days, cfg->tune_budget_s, mp, tr);
    }
    struct snapshot *cut = eval_fit_cut(h, days, mp, err, errlen);
    struct eval_result ev;
    struct eval_upsell_result eu;
    cJSON *j = NULL;
    if (cut && what == EVAL_RECOMMEND && eval_recommend(h, cut, &ev, err, errlen) == 0) {
        j = eval_json(&ev, days);
        if (tr)
            cJSON_AddItemToObject(j, "tuning", tune_json(tr));
    } else if (cut && what == EVAL_UPSELL && eval_upsell(h, cut, &eu, err, errlen) == 0)
        j = eval_upsell_json(&eu, days);
    snapshot_unref(cut);
    free(tr);
    return j;
}

static cJSON *evaluate(struct snapshot *s, const struct config *cfg, int what, double days,
                       const char *truth, char *err, size_t errlen)
{
    const struct history *h = &s->hist;
    struct model_params mp;
    train_model_params(cfg, cfg->as_of > 0 ? cfg->as_of : h->t_max, &mp);
    if (what == EVAL_PRICE)
        return eval_price_all(s, &mp, truth, err, errlen);
    if (what == EVAL_FORECAST) { /* the shop's and its largest categories' daily units */
        struct eval_forecast_result ef;
        return eval_forecast_at(h, h, h->t_max - days * 86400.0, (int)ceil(days), &ef, err, errlen)
                   ? NULL
                   : eval_forecast_json(&ef, days);
    }
    if (what != EVAL_CHURN)
        return eval_holdout(h, what, days, cfg, &mp, err, errlen);
    struct eval_churn_result ec;
    struct churn_fit_params cp = {
        .as_of = h->t_max, .horizon_days = mp.churn_horizon_days, .discount = mp.churn_discount};
    return eval_churn(h, days, &cp, &ec, err, errlen) ? NULL : eval_churn_json(&ec, days);
}

int cmd_eval(int argc, char **argv)
{
    double days = 28;
    const char *truth = NULL, *kind = NULL;
    const struct cmd_opt opts[] = {
        {"--holdout-days", OPT_DOUBLE, 1, 3650, &days},
        {"--truth", OPT_TEXT, 0, 0, &truth},
    };
    int npos, what = -1;
    if (cmd_parse(argc, argv, opts, (int)ARRAY_SIZE(opts), &kind, 1, &npos) || npos != 1)
        goto usage;
    for (int k = 0; k < (int)ARRAY_SIZE(kinds); k++)
        if (strcmp(kind, kinds[k]) == 0)
            what = k;
    if (what < 0 || (what == EVAL_PRICE) != (truth != NULL))
        goto usage;
    struct config cfg;
    char err[512];
    if (cmd_load_config(&cfg))
        return 1;
    struct snapshot *s = snapshot_new();
    PGconn *c = cmd_connect(&cfg);
    int rc = 1;
    if (!c || history_load(c, NULL, config_history_end(&cfg), &s->hist, &s->watermark, err,
                           sizeof(err))) {
        if (c)
            fprintf(stderr, "xsell: %s\n", err);
        history_init(&s->hist); /* released by history_load; keep unref valid */
    } else {
        cJSON *j = evaluate(s, &cfg, what, days, truth, err, sizeof(err));
        if (!j) {
            fprintf(stderr, "xsell: eval: %s\n", err);
        } else {
            char *text = cJSON_Print(j);
            printf("%s\n", text);
            free(text);
            cJSON_Delete(j);
            rc = 0;
        }
    }
    PQfinish(c);
    snapshot_unref(s);
    config_release(&cfg);
    return rc;
usage:
    fprintf(stderr,
            "usage: xsell eval recommend|upsell|churn|forecast [--holdout-days N]\n"
            "       xsell eval price --truth TRUTH.json   (xsell gen's planted elasticities)\n");
    return 2;
}
