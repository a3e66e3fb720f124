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
