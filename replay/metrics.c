/* metrics.c -- exact percentiles by selection, and the ITL log histogram. */
#include <assert.h>
#include <math.h>
#include <stdlib.h>

#include "error.h"
#include "metrics.h"

void ls_dvec_push(ls_dvec *d, double x)
{
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 1024;
        d->v = ls_xrealloc(d->v, d->cap * sizeof *d->v);
    }
    d->v[d->n++] = x;
}

void ls_dvec_free(ls_dvec *d)
{
    free(d->v);
    d->v = NULL;
    d->n = d->cap = 0;
}

static void swap(double *a, double *b)
{
    double t = *a;
    *a = *b;
    *b = t;
}

/* k-th smallest of v[0..n) (0-based), Hoare-style quickselect with a
 * median-of-three pivot; deterministic. Leaves v[k] in place and everything
 * after it >= v[k]. */
static double select_k(double *v, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    while (hi > lo) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] < v[lo])
            swap(&v[mid], &v[lo]);
        if (v[hi] < v[lo])
            swap(&v[hi], &v[lo]);
        if (v[hi] < v[mid])
            swap(&v[hi], &v[mid]);
        double pivot = v[mid];
        size_t i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot)
                i++;
            while (v[j] > pivot)
                j--;
            if (i <= j) {
                swap(&v[i], &v[j]);
                i++;
                if (j == 0)
                    break;
                j--;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return v[k];
    }
    return v[k];
}

double ls_percentile(double *v, size_t n, double q)
{
    if (n == 0)
        return NAN;
    double pos = q / 100.0 * (double)(n - 1);
    size_t k = (size_t)floor(pos);
    if (k >= n - 1)
        k = n - 1;
    double a = select_k(v, n, k);
    double frac = pos - (double)k;
    if (frac <= 0 || k + 1 >= n)
        return a;
    double b = v[k + 1];  /* the smallest of the part after k */
    for (size_t i = k + 2; i < n; i++)
        if (v[i] < b)
            b = v[i];
    return a + frac * (b - a);
}

double ls_mean(const double *v, size_t n)
{
    if (n == 0)
        return NAN;
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += v[i];
    return s / (double)n;
}

static int bucket_of(double x)
{
    if (!(x >= LS_ITL_MIN_S))
        return LS_ITL_BUCKETS;
    int b = (int)floor(log(x / LS_ITL_MIN_S) / log(LS_ITL_RATIO));
    if (b >= LS_ITL_BUCKETS)
        b = LS_ITL_BUCKETS - 1;
    return b;
}

void ls_itl_add(ls_itl_hist *h, double gap_s, int64_t count)
{
    if (count <= 0)
        return;
    if (gap_s < 0)
        gap_s = 0;
    h->count[bucket_of(gap_s)] += (double)count;
    h->total += (double)count;
    h->sum += gap_s * (double)count;
}

double ls_itl_mean(const ls_itl_hist *h)
{
    return h->total > 0 ? h->sum / h->total : NAN;
}

double ls_itl_percentile(const ls_itl_hist *h, double q)
{
    if (h->total <= 0)
        return NAN;
    /* the rank of the q-th percentile among total values, 1-based */
    double rank = ceil(q / 100.0 * h->total);
    if (rank < 1)
        rank = 1;
    double acc = h->count[LS_ITL_BUCKETS];
    if (acc >= rank)
        return 0.0;
    for (int b = 0; b < LS_ITL_BUCKETS; b++) {
        acc += h->count[b];
        if (acc >= rank)
            return LS_ITL_MIN_S * pow(LS_ITL_RATIO, b + 0.5);
    }
    return LS_ITL_MIN_S * pow(LS_ITL_RATIO, LS_ITL_BUCKETS);
}
