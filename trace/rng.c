/* rng.c -- xoshiro256** and the distributions built on it. */
#include <assert.h>
#include <math.h>
#include <string.h>

#include "rng.h"
#include "yamldoc.h" /* ls_hash64 */

uint64_t ls_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void ls_rng_seed(ls_rng *r, uint64_t seed)
{
    uint64_t st = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = ls_splitmix64(&st);
    if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3]))
        r->s[0] = 1; /* the all-zero state is a fixed point */
}

void ls_rng_stream(ls_rng *r, uint64_t seed, const char *component)
{
    /* Mix the seed first so that nearby seeds and names do not collide linearly. */
    uint64_t st = seed;
    uint64_t a = ls_splitmix64(&st);
    ls_rng_seed(r, a ^ ls_hash64(component, strlen(component)));
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t ls_rng_next(ls_rng *r)
{
    uint64_t *s = r->s;
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double ls_rng_uniform(ls_rng *r) { return (double)(ls_rng_next(r) >> 11) * 0x1.0p-53; }

double ls_rng_uniform_pos(ls_rng *r) { return ((double)(ls_rng_next(r) >> 11) + 0.5) * 0x1.0p-53; }

uint64_t ls_rng_below(ls_rng *r, uint64_t n)
{
    assert(n > 0);
    uint64_t x = ls_rng_next(r);
    __uint128_t m = (__uint128_t)x * n;
    uint64_t l = (uint64_t)m;
    if (l < n) {
        uint64_t t = -n % n;
        while (l < t) {
            x = ls_rng_next(r);
            m = (__uint128_t)x * n;
            l = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

double ls_rng_normal(ls_rng *r)
{
    double u1 = ls_rng_uniform_pos(r), u2 = ls_rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

double ls_rng_exp(ls_rng *r) { return -log(ls_rng_uniform_pos(r)); }

double ls_rng_gamma(ls_rng *r, double shape)
{
    assert(shape > 0);
    if (shape < 1.0) /* boost: G(a) = G(a+1) * U^(1/a) */
        return ls_rng_gamma(r, shape + 1.0) * pow(ls_rng_uniform_pos(r), 1.0 / shape);
    const double d = shape - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
    for (;;) {
        double x, v;
        do {
            x = ls_rng_normal(r);
            v = 1.0 + c * x;
        } while (v <= 0);
        v = v * v * v;
        double u = ls_rng_uniform_pos(r);
        if (u < 1.0 - 0.0331 * x * x * x * x || log(u) < 0.5 * x * x + d * (1.0 - v + log(v)))
            return d * v;
    }
}
