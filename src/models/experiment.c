#include "xsell/experiment.h"

/* FNV-1a over the bytes, then splitmix64's finalizer: FNV alone mixes the last bytes
 * poorly, and ids often differ only there (C00001, C00002). */
static uint64_t mix(uint64_t h, const char *s)
{
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    return h;
}

double experiment_hash(const char *experiment, const char *unit)
{
    uint64_t h = mix(0xcbf29ce484222325ULL, experiment);
    h = mix(h ^ 0xff, unit); /* a separator no id holds */
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
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
