/* metrics.h -- exact percentiles and the inter-token-latency histogram (internal). */
#ifndef LS_METRICS_H
#define LS_METRICS_H

#include <stddef.h>
#include <stdint.h>

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
double ls_mean(const double *v, size_t n);

/* Token-weighted log-bucketed histogram of gaps. Buckets grow by a factor of
 * 1.02 from 1 µs, so a value reported from its bucket (the geometric centre)
 * is within 1% of the true one; the mean is exact. */
#define LS_ITL_MIN_S 1e-6
#define LS_ITL_RATIO 1.02
#define LS_ITL_BUCKETS 1400   /* 1 µs · 1.02^1400 ≈ 1e6 s */
typedef struct ls_itl_hist {
    double count[LS_ITL_BUCKETS + 1]; /* last bucket: below 1 µs (incl. zero gaps) */
    double total, sum;
} ls_itl_hist;
void ls_itl_add(ls_itl_hist *h, double gap_s, int64_t count);
double ls_itl_percentile(const ls_itl_hist *h, double q);
double ls_itl_mean(const ls_itl_hist *h);

#endif
