/* rng.h - a small deterministic random number generator (xoshiro256**, seeded by
 * splitmix64; Blackman & Vigna 2018) and the distributions the demo generator and
 * samplers need. Not for secrets. */
#ifndef XSELL_RNG_H
#define XSELL_RNG_H

#include "xsell/common.h"

struct rng {
    uint64_t s[4];
};

void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);
double rng_uniform(struct rng *r); /* [0, 1) */
double rng_range(struct rng *r, double lo, double hi);
int rng_int(struct rng *r, int n); /* 0..n-1 */
double rng_exponential(struct rng *r, double rate);
double rng_normal(struct rng *r);
double rng_gamma(struct rng *r, double shape, double scale); /* Marsaglia & Tsang 2000 */
double rng_beta(struct rng *r, double a, double b);
int rng_poisson(struct rng *r, double mean); /* Knuth; for small means */

#endif
