#include "xsell/rng.h"

#include <math.h>

#include "xsell/hash.h"

static uint64_t splitmix64(uint64_t *x)
{
    return hash_mix(*x += 0x9E3779B97F4A7C15ull);
}

void rng_seed(struct rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t rng_next(struct rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double rng_uniform(struct rng *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

double rng_range(struct rng *r, double lo, double hi)
{
    return lo + (hi - lo) * rng_uniform(r);
}

int rng_int(struct rng *r, int n)
{
    return (int)(rng_uniform(r) * n);
}

double rng_exponential(struct rng *r, double rate)
{
    return -log1p(-rng_uniform(r)) / rate;
}

double rng_normal(struct rng *r)
{
    /* Box-Muller; the second value is dropped for simplicity. */
    double u = rng_uniform(r), v = rng_uniform(r);
    return sqrt(-2.0 * log1p(-u)) * cos(2.0 * M_PI * v);
}

double rng_gamma(struct rng *r, double shape, double scale)
{
    if (shape < 1.0) {
        double u = rng_uniform(r);
        return rng_gamma(r, shape + 1.0, scale) * pow(u > 0 ? u : 1e-300, 1.0 / shape);
    }
    double d = shape - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
    for (;;) {
        double x = rng_normal(r), v = 1.0 + c * x;
        if (v <= 0)
            continue;
        v = v * v * v;
        double u = rng_uniform(r);
        if (u < 1.0 - 0.0331 * x * x * x * x || log(u) < 0.5 * x * x + d * (1.0 - v + log(v)))
            return d * v * scale;
    }
}

double rng_beta(struct rng *r, double a, double b)
{
    double x = rng_gamma(r, a, 1.0), y = rng_gamma(r, b, 1.0);
    return x / (x + y);
}

int rng_poisson(struct rng *r, double mean)
{
    double l = exp(-mean), p = 1.0;
    int k = 0;
    do {
        k++;
        p *= rng_uniform(r);
    } while (p > l && k < 1000);
    return k - 1;
}
