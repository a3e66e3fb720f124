#include "xsell/experiments.h"

#include <math.h>

#include "xsell/abtest.h"
#include "xsell/db.h"
#include "xsell/experiment_json.h"
#include "xsell/experiments_db.h"
#include "xsell/log.h"
#include "xsell/strparse.h"
#include "xsell/xalloc.h"

void experiments_init(struct experiments *x, const char *url)
{
    memset(x, 0, sizeof(*x));
    pthread_mutex_init(&x->mu, NULL);
    x->url = xstrdup(url ? url : "");
}

/* Replaces the list with the definitions of json (an array); those that no longer
 * read are left out, with a warning. */
static void load_list(struct experiments *x, const char *json)
{
    cJSON *arr = cJSON_Parse(json);
    int n = cJSON_IsArray(arr) ? cJSON_GetArraySize(arr) : 0;
    struct experiment *list = xcalloc((size_t)n + 1, sizeof(*list));
    int k = 0;
    for (int i = 0; i < n; i++) {
        const cJSON *d = cJSON_GetArrayItem(arr, i);
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(d, "experiment_id");
        char err[300];
        if (!cJSON_IsString(id) ||
            experiment_parse(d, id->valuestring, 0, &list[k], err, sizeof(err))) {
            log_warn("experiments: a stored definition is left out: %s", err);
            continue;
        }
        k++;
    }
    cJSON_Delete(arr);
    pthread_mutex_lock(&x->mu);
    free(x->list);
    x->list = list;
    x->n = k;
    pthread_mutex_unlock(&x->mu);
}

static void refresh_tick(void *arg, bool stopping)
{
    struct experiments *x = arg;
    char err[300];
    if (stopping) {
        PQfinish(x->conn);
        x->conn = NULL;
        return;
    }
    if (!x->conn)
        x->conn = db_connect(x->url, err, sizeof(err));
    char *json = x->conn ? experiments_db_list(x->conn) : NULL;
    if (json) {
        load_list(x, json);
        free(json);
    } else if (x->conn) {
        PQfinish(x->conn); /* broken, or the schema is not there yet: again next time */
        x->conn = NULL;
    }
}

int experiments_start(struct experiments *x)
{
    return ticker_start(&x->ticker, EXP_REFRESH_S, refresh_tick, x);
}

void experiments_release(struct experiments *x)
{
    ticker_stop(&x->ticker);
    free(x->list);
    free(x->url);
    pthread_mutex_destroy(&x->mu);
}

void experiments_set(struct experiments *x, const struct experiment *e)
{
    pthread_mutex_lock(&x->mu);
    int i = 0;
    while (i < x->n && strcmp(x->list[i].id, e->id) != 0)
        i++;
    if (i == x->n) {
        x->list = xrealloc(x->list, (size_t)(x->n + 1) * sizeof(*x->list));
        x->n++;
    }
    x->list[i] = *e;
    pthread_mutex_unlock(&x->mu);
}

bool experiments_pick(struct experiments *x, unsigned surface, const char *customer,
                      const char *session, double now, struct exp_pick *out)
{
    bool found = false;
    pthread_mutex_lock(&x->mu);
    for (int i = 0; i < x->n && !found; i++) {
        const struct experiment *e = &x->list[i];
        const char *unit = e->unit == EXP_UNIT_SESSION ? session : customer;
        if (!(e->surfaces & surface) || !unit || now < e->start || now >= e->end)
            continue;
        snprintf(out->id, sizeof(out->id), "%s", e->id);
        out->variant = e->variant[experiment_assign(e, unit)];
        found = true;
    }
    pthread_mutex_unlock(&x->mu);
    return found;
}

static double ratio(double a, double b)
{
    return b > 0 ? a / b : 0;
}

/* JSON numbers rounded to 6 significant decimals; null when not finite. */
static void add_num(cJSON *o, const char *name, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, name, round(v * 1e6) / 1e6);
    else
        cJSON_AddNullToObject(o, name);
}

static cJSON *effect_json(const struct ab_effect *e)
{
    cJSON *o = cJSON_CreateObject();
    add_num(o, "difference", e->diff);
    add_num(o, "difference_low", e->diff_lo);
    add_num(o, "difference_high", e->diff_hi);
    add_num(o, "lift", e->lift);
    add_num(o, "lift_low", e->lift_lo);
    add_num(o, "lift_high", e->lift_hi);
    return o;
}

cJSON *experiments_report(PGconn *conn, const struct experiment *e, double now, char *err,
                          size_t errlen)
{
    struct exp_unit_row *rows;
    size_t n;
    struct exp_events ev[EXP_VARIANTS_MAX];
    double until = MIN(now, e->end);
    if (experiments_db_units(conn, e, until, &rows, &n, ev, err, errlen))
        return NULL;
    struct exp_summary sm;
    experiment_summarize(e, rows, n, &sm);
    free(rows);
    bool done = now >= e->end || sm.total >= e->planned_units;
    cJSON *root = experiment_to_json(e);
    char ts[STRPARSE_TS_LEN];
    strparse_format_timestamp(until, ts);
    cJSON_AddStringToObject(root, "as_of", ts);
    cJSON_AddNumberToObject(root, "units", sm.total);
    cJSON *srm = cJSON_AddObjectToObject(root, "srm");
    add_num(srm, "p_value", sm.srm_p);
    cJSON_AddBoolToObject(srm, "flagged", sm.srm_p < EXP_SRM_P);
    cJSON *vs = cJSON_AddArrayToObject(root, "results");
    const char *overall = done ? "no difference at this power" : "keep running";
    bool any_win = false, control_wins = false;
    for (int v = 0; v < e->nvariants; v++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "variant", e->variant[v].name);
        cJSON_AddBoolToObject(o, "control", v == 0);
        cJSON_AddNumberToObject(o, "units", sm.units[v]);
        add_num(o, "share", ratio(sm.units[v], sm.total));
        add_num(o, "expected_share", ratio(sm.weights[v], sm.wsum));
        cJSON_AddNumberToObject(o, "exposures", sm.exposures[v]);
        cJSON_AddNumberToObject(o, "impressions", ev[v].impressions);
        cJSON_AddNumberToObject(o, "clicks", ev[v].clicks);
        cJSON_AddNumberToObject(o, "add_to_carts", ev[v].add_to_carts);
        add_num(o, "ctr", ratio(ev[v].clicks, ev[v].impressions));
        add_num(o, "add_to_cart_rate", ratio(ev[v].add_to_carts, ev[v].impressions));
        add_num(o, "conversion", ratio(sm.converted[v], sm.units[v]));
        add_num(o, "revenue_per_unit", ratio(sm.revenue[v].sy, sm.units[v]));
        add_num(o, "margin_per_unit", ratio(sm.margin[v].sy, sm.units[v]));
        if (v > 0) {
            struct ab_result rv, mg;
            const char *verdict = experiment_compare(e, &sm, v, done, &rv, &mg);
            cJSON *vr = cJSON_AddObjectToObject(o, "vs_control");
            cJSON_AddItemToObject(vr, "revenue_per_unit", effect_json(&rv.plain));
            cJSON_AddItemToObject(vr, "revenue_per_unit_cuped", effect_json(&rv.cuped));
            cJSON_AddItemToObject(vr, "margin_per_unit", effect_json(&mg.plain));
            add_num(vr, "cuped_narrowing", rv.narrowing);
            add_num(vr, "interval_multiplier", rv.multiplier);
            cJSON_AddStringToObject(vr, "verdict", verdict);
            any_win |= strcmp(verdict, "variant wins") == 0;
            control_wins |= strcmp(verdict, "control wins") == 0;
        }
        cJSON_AddItemToArray(vs, o);
    }
    if (any_win)
        overall = "variant wins";
    else if (control_wins)
        overall = "control wins";
    cJSON_AddStringToObject(root, "verdict", overall);
    return root;
}
