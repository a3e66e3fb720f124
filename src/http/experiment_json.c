#include "xsell/experiment_json.h"

#include <math.h>

#include "xsell/log.h"
#include "xsell/recommend.h"
#include "xsell/strparse.h"

static const char *const blend_names[EXP_BLEND_N] = {"complements", "personal", "content", "peers",
                                                     "own"};
/* by bit: enum exp_surface */
#define SURFACES 3
static const char *const surface_names[SURFACES] = {"recommend", "upsell", "retention"};
#define SURFACES_WANTED "surfaces must be an array of recommend, upsell and/or retention"

static int index_of(const char *v, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(v, names[i]) == 0)
            return i;
    return -1;
}

static int read_time(const cJSON *o, const char *name, double *out, char *err, size_t errlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsString(v) || strparse_timestamp(v->valuestring, strlen(v->valuestring), out, NULL))
        return fmt_error(err, errlen, "%s must be an ISO-8601 date or date-time", name);
    return 0;
}

static int read_settings(const cJSON *s, const char *where, struct exp_variant *v, char *err,
                         size_t errlen)
{
    v->strategy = v->objective = -1;
    v->max_discount = NAN;
    for (int b = 0; b < EXP_BLEND_N; b++)
        v->blend[b] = NAN;
    if (!s || cJSON_IsNull(s))
        return 0;
    if (!cJSON_IsObject(s))
        return fmt_error(err, errlen, "%s.settings must be an object", where);
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(s, "strategy");
    if (st && !cJSON_IsNull(st)) {
        if (cJSON_IsString(st) && strcmp(st->valuestring, "off") == 0)
            v->off = true;
        else if (!cJSON_IsString(st) ||
                 (v->strategy = index_of(st->valuestring, rec_strategy_names, REC_STRATEGIES)) < 0)
            return fmt_error(err, errlen,
                             "%s.settings.strategy must be auto, complements, personal, "
                             "buy_again, popular or off",
                             where);
    }
    const cJSON *ob = cJSON_GetObjectItemCaseSensitive(s, "objective");
    if (ob && !cJSON_IsNull(ob) &&
        (!cJSON_IsString(ob) ||
         (v->objective = index_of(ob->valuestring, rec_objective_names, REC_OBJECTIVES)) < 0))
        return fmt_error(err, errlen, "%s.settings.objective must be relevance, revenue or margin",
                         where);
    const cJSON *bl = cJSON_GetObjectItemCaseSensitive(s, "blend");
    if (bl && !cJSON_IsNull(bl)) {
        if (!cJSON_IsObject(bl))
            return fmt_error(err, errlen, "%s.settings.blend must be an object", where);
        for (const cJSON *w = bl->child; w; w = w->next) {
            int b = index_of(w->string, blend_names, EXP_BLEND_N);
            if (b < 0 || !cJSON_IsNumber(w) || !(w->valuedouble >= 0 && w->valuedouble <= 100))
                return fmt_error(err, errlen,
                                 "%s.settings.blend.%.40s: the blend's weights are complements, "
                                 "personal, content, peers and own, each 0..100",
                                 where, w->string);
            v->blend[b] = w->valuedouble;
        }
    }
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(s, "max_discount");
    if (md && !cJSON_IsNull(md)) {
        if (!cJSON_IsNumber(md) || !(md->valuedouble >= 0 && md->valuedouble <= 0.9))
            return fmt_error(err, errlen, "%s.settings.max_discount must be a number in 0..0.9",
                             where);
        v->max_discount = md->valuedouble;
    }
    if (cJSON_GetObjectItemCaseSensitive(s, "model_version"))
        return fmt_error(err, errlen,
                         "%s.settings.model_version: a variant serves the current model; "
                         "older snapshots are not kept serving",
                         where);
    return 0;
}

int experiment_parse(const cJSON *o, const char *id, double now, struct experiment *e, char *err,
                     size_t errlen)
{
    memset(e, 0, sizeof(*e));
    if (!cJSON_IsObject(o))
        return fmt_error(err, errlen, "an experiment must be a JSON object");
    snprintf(e->id, sizeof(e->id), "%s", id);
    const cJSON *unit = cJSON_GetObjectItemCaseSensitive(o, "unit");
    if (!cJSON_IsString(unit) ||
        (strcmp(unit->valuestring, "customer") != 0 && strcmp(unit->valuestring, "session") != 0))
        return fmt_error(err, errlen, "unit must be customer or session");
    e->unit = strcmp(unit->valuestring, "session") == 0 ? EXP_UNIT_SESSION : EXP_UNIT_CUSTOMER;
    const cJSON *surfaces = cJSON_GetObjectItemCaseSensitive(o, "surfaces");
    if (!surfaces || cJSON_IsNull(surfaces)) {
        e->surfaces = EXP_RECOMMEND;
    } else {
        if (!cJSON_IsArray(surfaces) || cJSON_GetArraySize(surfaces) < 1)
            return fmt_error(err, errlen, SURFACES_WANTED);
        for (const cJSON *s = surfaces->child; s; s = s->next) {
            int k = cJSON_IsString(s) ? index_of(s->valuestring, surface_names, SURFACES) : -1;
            if (k < 0)
                return fmt_error(err, errlen, SURFACES_WANTED);
            e->surfaces |= 1u << k;
        }
    }
    e->start = now;
    e->end = INFINITY;
    if (read_time(o, "start", &e->start, err, errlen) || read_time(o, "end", &e->end, err, errlen))
        return -1;
    if (!(e->end > e->start))
        return fmt_error(err, errlen, "end must be after start");
    e->planned_units = 10000;
    const cJSON *pu = cJSON_GetObjectItemCaseSensitive(o, "planned_units");
    if (pu && !cJSON_IsNull(pu)) {
        if (!cJSON_IsNumber(pu) || !(pu->valuedouble >= 10 && pu->valuedouble <= 1e9))
            return fmt_error(err, errlen, "planned_units must be a number in 10..1e9");
        e->planned_units = floor(pu->valuedouble);
    }
    const cJSON *vs = cJSON_GetObjectItemCaseSensitive(o, "variants");
    int n = cJSON_IsArray(vs) ? cJSON_GetArraySize(vs) : -1;
    if (n < 2 || n > EXP_VARIANTS_MAX)
        return fmt_error(err, errlen,
                         "variants must be an array of 2..%d variants, the control first",
                         EXP_VARIANTS_MAX);
    e->nvariants = n;
    for (int i = 0; i < n; i++) {
        const cJSON *v = cJSON_GetArrayItem(vs, i);
        struct exp_variant *ev = &e->variant[i];
        char where[32];
        snprintf(where, sizeof(where), "variants[%d]", i);
        if (!cJSON_IsObject(v))
            return fmt_error(err, errlen, "%s must be an object", where);
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(v, "name");
        if (!cJSON_IsString(name) || !*name->valuestring ||
            strlen(name->valuestring) > EXP_NAME_MAX ||
            !strparse_id_valid(name->valuestring, strlen(name->valuestring)))
            return fmt_error(err, errlen,
                             "%s.name must be 1..%d bytes of UTF-8 without control characters",
                             where, EXP_NAME_MAX);
        snprintf(ev->name, sizeof(ev->name), "%s", name->valuestring);
        for (int j = 0; j < i; j++)
            if (strcmp(e->variant[j].name, ev->name) == 0)
                return fmt_error(err, errlen, "%s.name \"%s\" appears twice", where, ev->name);
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(v, "weight");
        ev->weight = 1;
        if (w && !cJSON_IsNull(w)) {
            if (!cJSON_IsNumber(w) || !(w->valuedouble > 0 && w->valuedouble <= 1e6))
                return fmt_error(err, errlen, "%s.weight must be a number above 0", where);
            ev->weight = w->valuedouble;
        }
        if (read_settings(cJSON_GetObjectItemCaseSensitive(v, "settings"), where, ev, err, errlen))
            return -1;
    }
    return 0;
}

static void add_time(cJSON *o, const char *name, double t)
{
    char ts[STRPARSE_TS_LEN];
    if (!isfinite(t)) {
        cJSON_AddNullToObject(o, name);
        return;
    }
    strparse_format_timestamp(t, ts);
    cJSON_AddStringToObject(o, name, ts);
}

cJSON *experiment_to_json(const struct experiment *e)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "experiment_id", e->id);
    cJSON_AddStringToObject(o, "unit", e->unit == EXP_UNIT_SESSION ? "session" : "customer");
    cJSON *s = cJSON_AddArrayToObject(o, "surfaces");
    for (int k = 0; k < SURFACES; k++)
        if (e->surfaces & (1u << k))
            cJSON_AddItemToArray(s, cJSON_CreateString(surface_names[k]));
    add_time(o, "start", e->start);
    add_time(o, "end", e->end);
    cJSON_AddNumberToObject(o, "planned_units", e->planned_units);
    cJSON *vs = cJSON_AddArrayToObject(o, "variants");
    for (int i = 0; i < e->nvariants; i++) {
        const struct exp_variant *v = &e->variant[i];
        cJSON *jv = cJSON_CreateObject();
        cJSON_AddStringToObject(jv, "name", v->name);
        cJSON_AddNumberToObject(jv, "weight", v->weight);
        cJSON *st = cJSON_AddObjectToObject(jv, "settings");
        if (v->off)
            cJSON_AddStringToObject(st, "strategy", "off");
        else if (v->strategy >= 0)
            cJSON_AddStringToObject(st, "strategy", rec_strategy_names[v->strategy]);
        if (v->objective >= 0)
            cJSON_AddStringToObject(st, "objective", rec_objective_names[v->objective]);
        if (!isnan(v->max_discount))
            cJSON_AddNumberToObject(st, "max_discount", v->max_discount);
        cJSON *bl = NULL;
        for (int b = 0; b < EXP_BLEND_N; b++)
            if (!isnan(v->blend[b])) {
                if (!bl)
                    bl = cJSON_AddObjectToObject(st, "blend");
                cJSON_AddNumberToObject(bl, blend_names[b], v->blend[b]);
            }
        cJSON_AddItemToArray(vs, jv);
    }
    return o;
}
