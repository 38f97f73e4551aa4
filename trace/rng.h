/* rng.h -- xoshiro256** seeded by splitmix64, with named independent streams.
 *
 * Blackman and Vigna's xoshiro256** (2018) is small, fast and passes BigCrush.
 * Every random component of a workload (arrivals, prompt lengths, output
 * lengths, empirical picks) draws from its own stream, seeded from
 * (seed, component name), so changing one component never shifts another.
 */
#ifndef LS_RNG_H
#define LS_RNG_H

#include <stdint.h>

typedef struct ls_rng {
    uint64_t s[4];
} ls_rng;

/* One step of splitmix64 (advances *state, returns the mixed value). */
uint64_t ls_splitmix64(uint64_t *state);
/* Seed the four state words from splitmix64(seed) (never all zero). */
void ls_rng_seed(ls_rng *r, uint64_t seed);
/* The stream of `component` ("arrival", "prompt", ...) for a run seed. */
void ls_rng_stream(ls_rng *r, uint64_t seed, const char *component);
/* Next 64 random bits. */
uint64_t ls_rng_next(ls_rng *r);
/* Uniform in [0, 1) with 53 random bits. */
double ls_rng_uniform(ls_rng *r);
/* Uniform in (0, 1): safe for log(). */
double ls_rng_uniform_pos(ls_rng *r);
/* Uniform integer in [0, n), n > 0, without modulo bias (Lemire). */
uint64_t ls_rng_below(ls_rng *r, uint64_t n);
/* Standard normal (Box-Muller, one value per call: no cached state). */
double ls_rng_normal(ls_rng *r);
/* Exponential with mean 1. */
double ls_rng_exp(ls_rng *r);
/* Gamma(shape, scale 1) by Marsaglia and Tsang (2000); shape > 0. */
double ls_rng_gamma(ls_rng *r, double shape);

#endif
