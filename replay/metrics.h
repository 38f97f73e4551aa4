/* metrics.h -- exact percentiles and the inter-token-latency histogram (internal). */
#ifndef LS_METRICS_H
#define LS_METRICS_H

#include <assert.h>
#include <float.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A growable array of doubles (one value per request). */
typedef struct ls_dvec {
    double *v;
    size_t n, cap;
} ls_dvec;
void ls_dvec_push(ls_dvec *d, double x);
void ls_dvec_free(ls_dvec *d);

/* Exact percentile q in [0, 100] with linear interpolation between order
 * statistics (numpy's default). Reorders `v` (selection, O(n)). NaN when n = 0. */
double ls_percentile(double *v, size_t n, double q);
/* out[i] = ls_percentile(v, n, q[i]) for ascending q[0..nq), the same values
 * bit for bit, each selection starting where the previous one left off. */
void ls_percentiles(double *v, size_t n, const double *q, int nq, double *out);
double ls_mean(const double *v, size_t n);

/* Percentiles and mean of a stream of non-negative values (per-request
 * latencies) in bounded memory.
 *
 * Exact while at most LS_QUANT_EXACT_MAX (2^20) values were added: they are
 * kept and ls_percentile selects, so every run up to a million requests gives
 * exactly today's figures. The 2^20 + 1st value moves them all into a
 * log-linear histogram (the values stop being kept): each binary octave
 * [2^e, 2^(e+1)) is cut into 2^LS_QUANT_SUB_BITS equal buckets and a value is
 * read back at its bucket's centre, clamped to the observed [min, max], so a
 * reported order statistic, and the interpolation between two of them, is
 * within a relative 2^-13 of the exact one (tests/replay/test_metrics.c
 * checks it against a sort). Values below 2^-1022 count as 0. The mean is a
 * running sum in insertion order, bit-identical to ls_mean, in both modes.
 * Memory: 8 MB at most in the exact mode, then 32 KB per octave in use
 * (latencies from 0.1 ms to a day: ~30 octaves, 1 MB). */
#define LS_QUANT_EXACT_MAX ((size_t)1 << 20)
#define LS_QUANT_SUB_BITS 12
#define LS_QUANT_REL_ERROR (1.0 / 8192)  /* 2^-(SUB_BITS + 1) */
typedef struct ls_quantiles {
    ls_dvec exact;          /* the values while n <= LS_QUANT_EXACT_MAX */
    uint64_t n, zeros;      /* zeros: values < 2^-1022 (histogram mode) */
    double sum, min, max;   /* min, max: histogram mode only (found from the kept values when it starts) */
    bool hist;              /* histogram mode */
    uint64_t **oct;         /* histogram mode: per biased exponent 1..2046, 2^SUB_BITS counts or NULL */
} ls_quantiles;
/* Room for n values (a hint: NaN, infinite or < 1 reserves nothing; at most the exact mode's). */
void ls_quant_reserve(ls_quantiles *qs, double n);
/* Adds x (>= 0, finite): inline while the kept values have room, ls_quant_add_rest otherwise. */
void ls_quant_add_rest(ls_quantiles *qs, double x);
static inline void ls_quant_add(ls_quantiles *qs, double x)
{
    assert(x >= 0 && x <= DBL_MAX);
    if (!qs->hist && qs->exact.n < qs->exact.cap && qs->exact.n < LS_QUANT_EXACT_MAX) {
        qs->n++;
        qs->sum += x;
        qs->exact.v[qs->exact.n++] = x;
        return;
    }
    ls_quant_add_rest(qs, x);
}
/* Percentile q in [0, 100] as ls_percentile (exact or within the bound above);
 * NaN when empty. May reorder the kept values; more values may follow. */
double ls_quant_percentile(ls_quantiles *qs, double q);
/* The same for ascending q[0..nq) at once (faster in the exact mode). */
void ls_quant_percentiles(ls_quantiles *qs, const double *q, int nq, double *out);
double ls_quant_mean(const ls_quantiles *qs);
void ls_quant_free(ls_quantiles *qs);

/* Token-weighted log-bucketed histogram of gaps. Buckets grow by a factor of
 * 1.02 from 1 µs, so a value reported from its bucket (the geometric centre)
 * is within 1% of the true one; the mean is exact. Start it zeroed (calloc). */
#define LS_ITL_MIN_S 1e-6
#define LS_ITL_RATIO 1.02
#define LS_ITL_BUCKETS 1400   /* 1 µs · 1.02^1400 ≈ 1e6 s */
/* The gaps of [2^-20, 2^16) s, by their exponent and first LS_ITL_SUB_BITS mantissa bits, fall in
 * LS_ITL_SUBS sub-ranges, each narrower (a factor of at most 1 + 2^-6) than a bucket (1.02): a
 * sub-range's gaps lie in the bucket of its lower end or the next one, which that next bucket's
 * edge decides. */
#define LS_ITL_SUB_BITS 6
#define LS_ITL_SUB_LO ((uint64_t)(1023 - 20) << LS_ITL_SUB_BITS)  /* 2^-20 s: the first sub-range */
#define LS_ITL_SUBS (36 << LS_ITL_SUB_BITS)                       /* to 2^16 s */
typedef struct ls_itl_hist {
    double count[LS_ITL_BUCKETS + 1]; /* last bucket: below 1 µs (incl. zero gaps) */
    double total, sum;
    double edge[LS_ITL_BUCKETS];      /* lower edge of bucket b once found, 0 before (metrics.c) */
    uint16_t sub[LS_ITL_SUBS];        /* 1 + the bucket of sub-range i's lower end once found (its next
                                       * bucket's edge found too), 0 before (metrics.c) */
} ls_itl_hist;
/* A histogram as from calloc but for the edges and sub-ranges the thread's last histogram
 * given to ls_itl_free found (the same values this one would find: they depend on nothing
 * else), so a run does not find them again (a log and a bisection each); ls_itl_free keeps it. */
ls_itl_hist *ls_itl_new(void);
void ls_itl_free(ls_itl_hist *h);  /* accepts NULL */
/* The bucket of gap x (>= 0) where sub[] does not know it yet (metrics.c). */
int ls_itl_bucket_slow(ls_itl_hist *h, double x);
static inline int ls_itl_bucket(ls_itl_hist *h, double x)
{
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    uint64_t i = (bits >> (52 - LS_ITL_SUB_BITS)) - LS_ITL_SUB_LO;  /* wraps around below 2^-20 s */
    if (i < LS_ITL_SUBS && h->sub[i]) {
        int b = h->sub[i] - 1;
        return b + (x >= h->edge[b + 1]);
    }
    return ls_itl_bucket_slow(h, x);
}
/* Adds `count` gaps of gap_s seconds (< 0: 0). */
static inline void ls_itl_add(ls_itl_hist *h, double gap_s, int64_t count)
{
    if (count <= 0)
        return;
    if (gap_s < 0)
        gap_s = 0;
    int b = ls_itl_bucket(h, gap_s);
    h->count[b] += (double)count;
    h->total += (double)count;
    h->sum += gap_s * (double)count;
}
double ls_itl_percentile(const ls_itl_hist *h, double q);
double ls_itl_mean(const ls_itl_hist *h);

#endif
