/* metrics.c -- exact percentiles by selection, bounded-memory percentiles, and the ITL log histogram. */
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

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

/* v[lo..hi) into those x with below(x) first, the others after (in some order), without a branch
 * per value (whether a latency is below a pivot is a coin toss to the branch predictor): the value
 * read and the first one not below swap places, which keeps the others together. Returns where
 * the others start. */
#define PARTITION(name, below)                                                 \
    static ptrdiff_t name(double *v, ptrdiff_t lo, ptrdiff_t hi, double t)     \
    {                                                                          \
        ptrdiff_t store = lo;                                                  \
        for (ptrdiff_t i = lo; i < hi; i++) {                                  \
            double x = v[i];                                                   \
            v[i] = v[store];                                                   \
            v[store] = x;                                                      \
            store += (below);                                                  \
        }                                                                      \
        return store;                                                          \
    }
PARTITION(part_less, x < t)
PARTITION(part_not_greater, !(x > t))
#undef PARTITION

/* Rearranges v[left..right] so that v[k] is its (k - left)-th smallest, everything before it <= v[k]
 * and everything after it >= v[k]. Above 600 values the pivot comes as in Floyd and Rivest's SELECT
 * (CACM 18(3), 1975, Algorithm 489): k selected first within a sample-sized range around its
 * expected place, so that one partition of the whole range leaves little; smaller ranges take the
 * median of three. Partitions are branch-free; a pivot equal to the value just below the range (the
 * previous pivot: a run of ties) gathers its equals instead, so ties cannot stall it. */
static void fr_select(double *v, ptrdiff_t left, ptrdiff_t right, ptrdiff_t k)
{
    bool floor_known = false;  /* v[left - 1] <= everything in v[left..right] (a pivot of this call) */
    while (right > left) {
        ptrdiff_t p;
        if (right - left > 600) {
            double n = (double)(right - left + 1), i = (double)(k - left + 1);
            double z = log(n);
            double s = 0.5 * exp(2 * z / 3);
            double sd = 0.5 * sqrt(z * s * (n - s) / n) * (i < n / 2 ? -1 : 1);
            ptrdiff_t nl = (ptrdiff_t)((double)k - i * s / n + sd);
            ptrdiff_t nr = (ptrdiff_t)((double)k + (n - i) * s / n + sd);
            fr_select(v, nl > left ? nl : left, nr < right ? nr : right, k);
            p = k;
        } else {
            p = left + (right - left) / 2;
            if (v[p] < v[left])
                swap(&v[p], &v[left]);
            if (v[right] < v[left])
                swap(&v[right], &v[left]);
            if (v[right] < v[p])
                swap(&v[right], &v[p]);
        }
        double t = v[p];
        if (floor_known && v[left - 1] == t) {
            /* everything here >= t: its equals first, then the larger ones */
            ptrdiff_t eq = part_not_greater(v, left, right + 1, t);
            if (k < eq)
                return;  /* v[left..eq) all t */
            left = eq;
            continue;
        }
        swap(&v[p], &v[right]);
        ptrdiff_t j = part_less(v, left, right, t);  /* v[left..j) < t <= v[j..right) */
        swap(&v[j], &v[right]);                       /* the pivot at j */
        if (k == j)
            return;
        if (k < j) {
            right = j - 1;
        } else {
            left = j + 1;
            floor_known = true;
        }
    }
}

/* k-th smallest of v[0..n) (0-based). Leaves v[k] in place, everything
 * before it <= v[k] and everything after it >= v[k] (ls_percentiles relies
 * on both). */
static double select_k(double *v, size_t n, size_t k)
{
    assert(k < n);
    fr_select(v, 0, (ptrdiff_t)n - 1, (ptrdiff_t)k);
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

void ls_percentiles(double *v, size_t n, const double *q, int nq, double *out)
{
    /* After select_k(k) on v[lo..n), v[k] is in place and v[k+1..n) >= v[k]:
     * v[k..n) holds exactly the order statistics k..n-1, so the next (larger)
     * rank is selected there. Order statistics are unique values, so the
     * results are those of ls_percentile whatever the order of the array. */
    size_t lo = 0;
    for (int i = 0; i < nq; i++) {
        assert(i == 0 || q[i] >= q[i - 1]);
        if (n == 0) {
            out[i] = NAN;
            continue;
        }
        double pos = q[i] / 100.0 * (double)(n - 1);
        size_t k = (size_t)floor(pos);
        if (k >= n - 1)
            k = n - 1;
        assert(k >= lo);
        double a = select_k(v + lo, n - lo, k - lo);
        lo = k;
        double frac = pos - (double)k;
        if (frac <= 0 || k + 1 >= n) {
            out[i] = a;
            continue;
        }
        double b = v[k + 1];
        for (size_t j = k + 2; j < n; j++)
            if (v[j] < b)
                b = v[j];
        out[i] = a + frac * (b - a);
    }
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

/* The bucket by definition: floor(log(x / 1 µs) / log(1.02)). */
static int bucket_formula(double x)
{
    if (!(x >= LS_ITL_MIN_S))
        return LS_ITL_BUCKETS;
    int b = (int)floor(log(x / LS_ITL_MIN_S) / log(LS_ITL_RATIO));
    if (b >= LS_ITL_BUCKETS)
        b = LS_ITL_BUCKETS - 1;
    return b;
}

static uint64_t bits_of(double x);
static double double_of(uint64_t b);

/* The smallest double the formula puts in bucket b or above (1 <= b < LS_ITL_BUCKETS),
 * by bisection over the doubles' bit patterns (ordered like the values, x > 0). */
static double edge_of(ls_itl_hist *h, int b)
{
    if (h->edge[b] > 0)
        return h->edge[b];
    double guess = LS_ITL_MIN_S * pow(LS_ITL_RATIO, b);
    double lo = guess * 0.999, hi = guess * 1.001;
    while (bucket_formula(lo) >= b)
        lo *= 0.999;
    while (bucket_formula(hi) < b)
        hi *= 1.001;
    uint64_t l = bits_of(lo), u = bits_of(hi);  /* formula(l) < b <= formula(u) */
    while (u - l > 1) {
        uint64_t mid = l + (u - l) / 2;
        if (bucket_formula(double_of(mid)) >= b)
            u = mid;
        else
            l = mid;
    }
    return h->edge[b] = double_of(u);
}

/* bucket_formula(x) without a log per value: an estimate from the exponent and
 * a cubic in the mantissa (|error| < 1e-3 in ln, a twentieth of a bucket),
 * settled by the bucket's edges, found once per histogram. Where the formula
 * is monotone in x (glibc's log errs by well under an ulp; the division and
 * the floor are monotone), edge(b) <= x < edge(b + 1) is exactly the
 * formula's bucket: a non-monotone step could only sit within a few ulps of
 * an edge (test_metrics.c checks every edge and its neighbours). */
static int bucket_of(ls_itl_hist *h, double x)
{
    if (!(x >= LS_ITL_MIN_S) || !(x < 1e5))  /* NaN, tiny, huge: the formula itself */
        return bucket_formula(x);
    double y = x / LS_ITL_MIN_S;                /* in [1, 1e11) */
    uint64_t bits = bits_of(y);
    int e = (int)(bits >> 52) - 1023;
    double m = double_of((bits & ((UINT64_C(1) << 52) - 1)) | (UINT64_C(1023) << 52)) - 1.0; /* [0, 1) */
    /* ln(1 + m) on [0, 1): least-squares cubic, max error 9.2e-4 (any error is settled below) */
    double ln = (double)e * 0.6931471805599453 + m * (0.98669098 + m * (-0.40741059 + m * 0.11477816));
    int b = (int)(ln * (1.0 / 0.019802627296179712));
    if (b < 1)
        b = 1;
    if (b > LS_ITL_BUCKETS - 2)
        return bucket_formula(x);
    while (b > 0 && x < edge_of(h, b))
        b--;
    while (b + 1 < LS_ITL_BUCKETS && x >= edge_of(h, b + 1))
        b++;
    return b;
}

/* The thread's last histogram freed: its counts are cleared for the next, its edges kept. */
static _Thread_local ls_itl_hist *itl_kept;

ls_itl_hist *ls_itl_new(void)
{
    ls_itl_hist *h = itl_kept;
    if (!h)
        return ls_xcalloc(1, sizeof *h);
    itl_kept = NULL;
    memset(h->count, 0, sizeof h->count);
    h->total = 0;
    h->sum = 0;
    return h;
}

void ls_itl_free(ls_itl_hist *h)
{
    if (!h)
        return;
    free(itl_kept);
    itl_kept = h;
}

int ls_itl_bucket_slow(ls_itl_hist *h, double x)
{
    uint64_t i = (bits_of(x) >> (52 - LS_ITL_SUB_BITS)) - LS_ITL_SUB_LO;
    double lo = double_of((i + LS_ITL_SUB_LO) << (52 - LS_ITL_SUB_BITS));  /* the sub-range's lower end */
    if (!(i < LS_ITL_SUBS && lo >= LS_ITL_MIN_S))  /* outside the sub-ranges (NaN too), or across 1 µs */
        return bucket_of(h, x);
    int b = bucket_of(h, lo);
    assert(b + 2 < LS_ITL_BUCKETS);
    edge_of(h, b + 1);
    h->sub[i] = (uint16_t)(b + 1);
    return ls_itl_bucket(h, x);
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

/* ---- bounded-memory percentiles (metrics.h) ---------------------------------- */

#define QUANT_SUBS ((size_t)1 << LS_QUANT_SUB_BITS)
#define MANT_BITS 52

static uint64_t bits_of(double x)
{
    uint64_t b;
    memcpy(&b, &x, sizeof b);
    return b;
}

static double double_of(uint64_t b)
{
    double x;
    memcpy(&x, &b, sizeof x);
    return x;
}

static void hist_add(ls_quantiles *qs, double x)
{
    uint64_t b = bits_of(x);
    unsigned ex = (unsigned)(b >> MANT_BITS);  /* sign is 0: x >= 0 */
    if (ex == 0) {                             /* zero or subnormal */
        qs->zeros++;
        return;
    }
    assert(ex < 2047);
    if (!qs->oct[ex - 1])
        qs->oct[ex - 1] = ls_xcalloc(QUANT_SUBS, sizeof *qs->oct[ex - 1]);
    qs->oct[ex - 1][(b >> (MANT_BITS - LS_QUANT_SUB_BITS)) & (QUANT_SUBS - 1)]++;
}

/* Kept-value arrays that ls_quant_free gave back, for the next ls_quant_reserve: a run's latency
 * arrays then come from pages already mapped. Freed to malloc, a run's few hundred KB went back to
 * the kernel (glibc trims the heap's top) and the next run's first touch of each fresh page, a
 * page fault, was a sixth of a 10k-request run's CPU time on this VM (docs/ENGINE.md). At most
 * QUANT_POOL arrays, each at most the exact mode's 8 MB, stay with the thread. */
#define QUANT_POOL 8
static _Thread_local struct {
    double *v;
    size_t cap;
} quant_pool[QUANT_POOL];

/* The pooled array with the least room >= want (its slot), or -1. */
static int pool_fit(size_t want)
{
    int best = -1;
    for (int i = 0; i < QUANT_POOL; i++)
        if (quant_pool[i].v && quant_pool[i].cap >= want && (best < 0 || quant_pool[i].cap < quant_pool[best].cap))
            best = i;
    return best;
}

/* Keeps v (room for cap values) for a later reserve, in place of a smaller one if the pool is full. */
static void pool_put(double *v, size_t cap)
{
    int slot = -1;
    for (int i = 0; i < QUANT_POOL && slot < 0; i++)
        if (!quant_pool[i].v)
            slot = i;
    if (slot < 0) {
        slot = 0;
        for (int i = 1; i < QUANT_POOL; i++)
            if (quant_pool[i].cap < quant_pool[slot].cap)
                slot = i;
        if (quant_pool[slot].cap >= cap) {
            free(v);
            return;
        }
        free(quant_pool[slot].v);
    }
    quant_pool[slot].v = v;
    quant_pool[slot].cap = cap;
}

void ls_quant_reserve(ls_quantiles *qs, double n)
{
    if (!(n >= 1) || qs->hist)  /* NaN too */
        return;
    size_t want = n >= (double)(LS_QUANT_EXACT_MAX + 1) ? LS_QUANT_EXACT_MAX + 1 : (size_t)n;
    if (want > qs->exact.cap) {
        int i = pool_fit(want);
        if (i >= 0) {  /* a pooled array: the kept values (if any) move into it */
            double *v = quant_pool[i].v;
            size_t cap = quant_pool[i].cap;
            quant_pool[i].v = NULL;
            quant_pool[i].cap = 0;
            if (qs->exact.n)
                memcpy(v, qs->exact.v, qs->exact.n * sizeof *v);
            free(qs->exact.v);
            qs->exact.v = v;
            qs->exact.cap = cap;
            return;
        }
        qs->exact.cap = want;
        qs->exact.v = ls_xrealloc(qs->exact.v, want * sizeof *qs->exact.v);
    }
}

/* ls_quant_add past its inline case: the kept values grow, or move into the histogram, or the histogram counts x. */
void ls_quant_add_rest(ls_quantiles *qs, double x)
{
    qs->n++;
    qs->sum += x;
    if (!qs->hist) {
        ls_dvec_push(&qs->exact, x);
        if (qs->exact.n <= LS_QUANT_EXACT_MAX)
            return;
        qs->hist = true;  /* past the exact limit: the kept values go into the histogram */
        qs->oct = ls_xcalloc(2047, sizeof *qs->oct);
        qs->min = qs->max = qs->exact.v[0];  /* in the order they came, as a running min and max */
        for (size_t i = 0; i < qs->exact.n; i++) {
            double v = qs->exact.v[i];
            if (v < qs->min)
                qs->min = v;
            if (v > qs->max)
                qs->max = v;
            hist_add(qs, v);
        }
        ls_dvec_free(&qs->exact);
        return;
    }
    if (x < qs->min)
        qs->min = x;
    if (x > qs->max)
        qs->max = x;
    hist_add(qs, x);
}

/* The value of 0-based rank k in histogram mode: its bucket's centre (the
 * mantissa bit below the bucket's bits set), clamped to [min, max]; the
 * first and last ranks are the exact min and max. */
static double hist_rank(const ls_quantiles *qs, uint64_t k)
{
    if (k == 0)
        return qs->min;
    if (k + 1 >= qs->n)
        return qs->max;
    if (k < qs->zeros)
        return 0.0;
    uint64_t acc = qs->zeros;
    for (unsigned e = 0; e < 2047; e++) {
        const uint64_t *c = qs->oct[e];
        if (!c)
            continue;
        for (size_t j = 0; j < QUANT_SUBS; j++) {
            acc += c[j];
            if (k < acc) {
                uint64_t b = ((uint64_t)(e + 1) << MANT_BITS) | ((uint64_t)j << (MANT_BITS - LS_QUANT_SUB_BITS)) |
                             ((uint64_t)1 << (MANT_BITS - LS_QUANT_SUB_BITS - 1));
                double v = double_of(b);
                return v < qs->min ? qs->min : v > qs->max ? qs->max : v;
            }
        }
    }
    return qs->max;  /* not reached: the counts sum to n */
}

double ls_quant_percentile(ls_quantiles *qs, double q)
{
    if (!qs->hist)
        return ls_percentile(qs->exact.v, qs->exact.n, q);
    if (qs->n == 0)
        return NAN;
    /* the same order statistics and interpolation as ls_percentile */
    double pos = q / 100.0 * (double)(qs->n - 1);
    uint64_t k = (uint64_t)floor(pos);
    if (k >= qs->n - 1)
        k = qs->n - 1;
    double a = hist_rank(qs, k);
    double frac = pos - (double)k;
    if (frac <= 0 || k + 1 >= qs->n)
        return a;
    double b = hist_rank(qs, k + 1);
    return a + frac * (b - a);
}

void ls_quant_percentiles(ls_quantiles *qs, const double *q, int nq, double *out)
{
    if (!qs->hist) {
        ls_percentiles(qs->exact.v, qs->exact.n, q, nq, out);
        return;
    }
    for (int i = 0; i < nq; i++)
        out[i] = ls_quant_percentile(qs, q[i]);
}

double ls_quant_mean(const ls_quantiles *qs)
{
    return qs->n ? qs->sum / (double)qs->n : NAN;
}

void ls_quant_free(ls_quantiles *qs)
{
    if (qs->exact.v && qs->exact.cap >= 1024 && qs->exact.cap <= LS_QUANT_EXACT_MAX + 1) {
        pool_put(qs->exact.v, qs->exact.cap);  /* for the next run's reserve */
        qs->exact.v = NULL;
    }
    ls_dvec_free(&qs->exact);
    if (qs->oct)
        for (unsigned e = 0; e < 2047; e++)
            free(qs->oct[e]);
    free(qs->oct);
    memset(qs, 0, sizeof *qs);
}
