#include "xsell/experiment.h"

#include "xsell/hash.h"

/* FNV-1a over both ids with a byte no id holds between them, then mixed: ids often
 * differ only in their last bytes (C00001, C00002). */
double experiment_hash(const char *experiment, const char *unit)
{
    uint64_t h = hash_bytes(hash_str(HASH_FNV_SEED, experiment), "\xff", 1);
    h = hash_mix(hash_str(h, unit));
    return (double)(h >> 11) * 0x1.0p-53;
}

int experiment_assign(const struct experiment *e, const char *unit)
{
    double total = 0, acc = 0;
    for (int i = 0; i < e->nvariants; i++)
        total += e->variant[i].weight;
    double u = experiment_hash(e->id, unit) * total;
    for (int i = 0; i < e->nvariants; i++) {
        acc += e->variant[i].weight;
        if (u < acc)
            return i;
    }
    return e->nvariants - 1;
}

void experiment_summarize(const struct experiment *e, const struct exp_unit_row *rows, size_t n,
                          struct exp_summary *out)
{
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < n; i++) {
        int v = rows[i].variant;
        if (v < 0 || v >= e->nvariants)
            continue;
        ab_arm_add(&out->revenue[v], rows[i].revenue, rows[i].pre_revenue);
        ab_arm_add(&out->margin[v], rows[i].margin, rows[i].pre_revenue);
        out->units[v]++;
        out->exposures[v] += rows[i].exposures;
        out->converted[v] += rows[i].orders > 0;
        out->total++;
    }
    for (int v = 0; v < e->nvariants; v++)
        out->wsum += out->weights[v] = e->variant[v].weight;
    out->srm_p = ab_srm_pvalue(out->units, out->weights, e->nvariants);
}

const char *experiment_compare(const struct experiment *e, const struct exp_summary *s, int v,
                               bool done, struct ab_result *revenue, struct ab_result *margin)
{
    ab_compare(&s->revenue[0], &s->revenue[v], EXP_ALPHA, e->planned_units, revenue);
    ab_compare(&s->margin[0], &s->margin[v], EXP_ALPHA, e->planned_units, margin);
    const struct ab_effect *judged =
        e->unit == EXP_UNIT_CUSTOMER ? &revenue->cuped : &revenue->plain;
    if (judged->diff_lo > 0)
        return "variant wins";
    if (judged->diff_hi < 0)
        return "control wins";
    return done ? "no difference at this power" : "keep running";
}
