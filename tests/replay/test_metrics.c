/* test_metrics.c -- exact percentiles and the ITL histogram's error bound. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* numpy.percentile(v, q) (linear) on a sorted copy */
static double reference(const double *v, size_t n, double q)
{
    double *s = malloc(n * sizeof *s);
    memcpy(s, v, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp);
    double pos = q / 100 * (double)(n - 1);
    size_t k = (size_t)floor(pos);
    double r = k + 1 < n ? s[k] + (pos - (double)k) * (s[k + 1] - s[k]) : s[k];
    free(s);
    return r;
}

static void test_percentiles_hand(void **state)
{
    (void)state;
    /* 1..5: p50 = 3, p90 = 4.6, p99 = 4.96 (numpy) */
    double v[5] = {5, 1, 4, 2, 3};
    assert_true(fabs(ls_percentile(v, 5, 50) - 3.0) < 1e-12);
    assert_true(fabs(ls_percentile(v, 5, 90) - 4.6) < 1e-12);
    assert_true(fabs(ls_percentile(v, 5, 99) - 4.96) < 1e-12);
    assert_true(fabs(ls_percentile(v, 5, 0) - 1.0) < 1e-12);
    assert_true(fabs(ls_percentile(v, 5, 100) - 5.0) < 1e-12);
    double one = 7;
    assert_true(ls_percentile(&one, 1, 99) == 7);
    assert_true(isnan(ls_percentile(NULL, 0, 50)));
    assert_true(fabs(ls_mean(v, 5) - 3.0) < 1e-12);
}

static void test_percentiles_random(void **state)
{
    (void)state;
    uint64_t s = 12345;
    for (int trial = 0; trial < 50; trial++) {
        size_t n = 1 + (size_t)(trial * 37 % 2000);
        double *v = malloc(n * sizeof *v), *w = malloc(n * sizeof *w);
        for (size_t i = 0; i < n; i++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            /* many ties on purpose */
            v[i] = (double)((s >> 33) % (trial % 3 == 0 ? 7 : 100000));
        }
        double qs[5] = {50, 90, 95, 99, 12.5};
        for (int k = 0; k < 5; k++) {
            memcpy(w, v, n * sizeof *w);
            double got = ls_percentile(w, n, qs[k]);
            double want = reference(v, n, qs[k]);
            assert_true(fabs(got - want) <= 1e-9 * fabs(want) + 1e-12);
        }
        free(v);
        free(w);
    }
}

/* ls_percentiles (Floyd-Rivest selection, narrowed from one rank to the next) gives exactly the
 * sorted array's order statistics and interpolation, and leaves each selected rank in place with
 * nothing larger before it and nothing smaller after it: sizes below and well above the sampling
 * threshold (600), many ties, all equal, ascending and descending input. */
static uint64_t lcg(uint64_t *s);
static void test_percentiles_exact(void **state)
{
    (void)state;
    static const double q[] = {0, 1, 25, 50, 90, 95, 99, 99.9, 100};
    enum { NQ = sizeof q / sizeof q[0] };
    size_t sizes[] = {1, 2, 3, 600, 601, 602, 1000, 9803, 20000, 100001};
    uint64_t seed = 4242;
    for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++)
        for (int kind = 0; kind < 5; kind++) {
            size_t n = sizes[t];
            double *v = malloc(n * sizeof *v), *w = malloc(n * sizeof *w), *sorted = malloc(n * sizeof *sorted);
            for (size_t i = 0; i < n; i++) {
                uint64_t r = lcg(&seed);
                v[i] = kind == 0   ? (double)(r % 1000003) * 1e-4              /* few ties */
                       : kind == 1 ? (double)(r % 17)                         /* many ties */
                       : kind == 2 ? 3.5                                       /* all equal */
                       : kind == 3 ? (double)i * 0.25                          /* ascending */
                                   : (double)(n - i) + (double)(r % 3) * 0.1; /* descending */
            }
            memcpy(sorted, v, n * sizeof *v);
            qsort(sorted, n, sizeof *sorted, cmp);
            memcpy(w, v, n * sizeof *v);
            double got[NQ];
            ls_percentiles(w, n, q, NQ, got);
            for (int j = 0; j < NQ; j++) {
                double pos = q[j] / 100 * (double)(n - 1);
                size_t k = (size_t)floor(pos);
                double want = k + 1 < n ? sorted[k] + (pos - (double)k) * (sorted[k + 1] - sorted[k]) : sorted[k];
                assert_true(got[j] == want);
            }
            for (int j = 0; j < NQ; j++) { /* one rank alone: in place, partitioned */
                memcpy(w, v, n * sizeof *v);
                size_t k = (size_t)floor(q[j] / 100 * (double)(n - 1));
                (void)ls_percentile(w, n, q[j]);
                assert_true(w[k] == sorted[k]);
                for (size_t i = 0; i < n; i++)
                    assert_true(i < k ? w[i] <= w[k] : w[i] >= w[k]);
            }
            free(v);
            free(w);
            free(sorted);
        }
}

/* The bucket of a gap is floor(log(gap / 1 µs) / log(1.02)) (computed here with log), whatever
 * shortcut ls_itl_add takes: random gaps over the whole range, each bucket's edge and its
 * neighbouring doubles, the extremes. */
static int formula_bucket(double x)
{
    if (!(x >= LS_ITL_MIN_S))
        return LS_ITL_BUCKETS;
    int b = (int)floor(log(x / LS_ITL_MIN_S) / log(LS_ITL_RATIO));
    return b >= LS_ITL_BUCKETS ? LS_ITL_BUCKETS - 1 : b;
}
static void add_and_check(ls_itl_hist *h, double x)
{
    int want = formula_bucket(x < 0 ? 0 : x);
    double before = h->count[want];
    ls_itl_add(h, x, 1);
    assert_true(h->count[want] == before + 1);
}
static void test_itl_buckets_exact(void **state)
{
    (void)state;
    ls_itl_hist *h = calloc(1, sizeof *h);
    uint64_t s = 12345;
    for (int i = 0; i < 200000; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        double u = (double)(s >> 11) / 9007199254740992.0;
        add_and_check(h, 1e-7 * pow(10, 13 * u));  /* 0.1 µs .. 1e6 s */
    }
    for (int b = 1; b < LS_ITL_BUCKETS; b++) {
        double x = LS_ITL_MIN_S * pow(LS_ITL_RATIO, b);
        for (int k = 0; k < 4; k++) {
            add_and_check(h, x);
            add_and_check(h, nextafter(x, 0));
            add_and_check(h, nextafter(x, INFINITY));
            x = nextafter(nextafter(x, 0), 0);
        }
    }
    double odd[] = {0, -1, 1e-300, 5e-7, 1e-6, nextafter(1e-6, 0), 2e-6, 1e5, 3e5, 1e6, 1e300};
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++)
        add_and_check(h, odd[i]);
    free(h);
}

/* The sub-ranges ls_itl_add looks a bucket up by (metrics.h): every sub-range's lower end, its
 * neighbouring doubles and its middle, into a fresh histogram in a scrambled order (a sub-range is
 * found from whichever of its gaps comes first), each in its formula bucket; so are the sub-ranges
 * around 1 µs and 2^16 s, where the lookup gives way to the general path. */
static void test_itl_subranges(void **state)
{
    (void)state;
    ls_itl_hist *h = calloc(1, sizeof *h);
    enum { N = LS_ITL_SUBS + 2 };
    for (int pass = 0; pass < 2; pass++)
        for (int j = 0; j < N; j++) {
            int i = (int)(((int64_t)j * 7919 + pass * 13) % N) - 1;  /* -1 .. LS_ITL_SUBS */
            uint64_t bits = ((uint64_t)(i + (int64_t)LS_ITL_SUB_LO)) << (52 - LS_ITL_SUB_BITS);
            double lo, hi;
            memcpy(&lo, &bits, sizeof lo);
            bits += (uint64_t)1 << (52 - LS_ITL_SUB_BITS);
            memcpy(&hi, &bits, sizeof hi);
            double xs[] = {0.5 * (lo + hi), lo, nextafter(lo, 0), nextafter(lo, INFINITY), nextafter(hi, 0)};
            for (size_t k = 0; k < sizeof xs / sizeof xs[0]; k++)
                add_and_check(h, xs[k]);
        }
    free(h);
}

/* A histogram from ls_itl_new after ls_itl_free starts empty (counts, total, sum zero) and keeps
 * only what is the same for every histogram: its edges and sub-ranges give every gap the bucket
 * a fresh histogram gives it, and its percentiles and mean are those of a fresh one. */
static void test_itl_reuse(void **state)
{
    (void)state;
    ls_itl_hist *a = ls_itl_new();
    for (double x = 3e-6; x < 50; x *= 1.013)
        ls_itl_add(a, x, 2);
    ls_itl_free(a);
    ls_itl_hist *b = ls_itl_new(), *c = calloc(1, sizeof *c);
    assert_true(b->total == 0 && b->sum == 0);
    for (int i = 0; i <= LS_ITL_BUCKETS; i++)
        assert_true(b->count[i] == 0);
    int known = 0;
    for (int i = 0; i < LS_ITL_SUBS; i++)
        known += b->sub[i] != 0;
    assert_true(known > 100);  /* kept from a */
    for (double x = 1e-7; x < 1e3; x *= 1.0071) {
        assert_int_equal(ls_itl_bucket(b, x), ls_itl_bucket(c, x));
        ls_itl_add(b, x, 1);
        ls_itl_add(c, x, 1);
    }
    assert_true(ls_itl_mean(b) == ls_itl_mean(c));
    for (int q = 1; q < 100; q += 7)
        assert_true(ls_itl_percentile(b, q) == ls_itl_percentile(c, q));
    ls_itl_free(b);
    ls_itl_free(NULL);
    free(c);
}

/* Every value read back from its bucket is within 1% of itself; the mean is exact. */
static void test_itl_hist(void **state)
{
    (void)state;
    for (double x = 2e-6; x < 1e4; x *= 1.0137) {
        ls_itl_hist *h = calloc(1, sizeof *h);
        ls_itl_add(h, x, 3);
        double p = ls_itl_percentile(h, 50);
        assert_true(fabs(p - x) <= 0.01 * x);
        assert_true(fabs(ls_itl_mean(h) - x) <= 1e-12 * x);
        free(h);
    }
    /* token weighting: 9 gaps of 10 ms and 1 of 1 s -> p50 = 10 ms, p95 = 1 s, mean 0.109 s */
    ls_itl_hist *h = calloc(1, sizeof *h);
    ls_itl_add(h, 0.010, 9);
    ls_itl_add(h, 1.0, 1);
    assert_true(fabs(ls_itl_percentile(h, 50) - 0.010) <= 0.0001);
    assert_true(fabs(ls_itl_percentile(h, 90) - 0.010) <= 0.0001);
    assert_true(fabs(ls_itl_percentile(h, 95) - 1.0) <= 0.01);
    assert_true(fabs(ls_itl_mean(h) - 0.109) < 1e-12);
    ls_itl_add(h, 0.0, 5);  /* zero gaps land in the lowest bucket */
    assert_true(ls_itl_percentile(h, 10) == 0.0);
    free(h);
    ls_itl_hist empty;
    memset(&empty, 0, sizeof empty);
    assert_true(isnan(ls_itl_percentile(&empty, 50)) && isnan(ls_itl_mean(&empty)));
}

static uint64_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 11;
}

/* numpy's linear percentile on sorted s[0..n) */
static double sorted_pct(const double *s, size_t n, double q)
{
    double pos = q / 100 * (double)(n - 1);
    size_t k = (size_t)floor(pos);
    return k + 1 < n ? s[k] + (pos - (double)k) * (s[k + 1] - s[k]) : s[k];
}

static const double qs_list[] = {0, 0.1, 1, 10, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 100};
#define N_Q (sizeof qs_list / sizeof qs_list[0])

/* Up to 2^20 values the stream keeps them: the same figures, bit for bit, as
 * ls_percentile and ls_mean on the whole array (what the engine gave before). */
static void test_quant_exact(void **state)
{
    (void)state;
    uint64_t seed = 99;
    size_t sizes[] = {1, 2, 7, 1000, 65537};
    for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++) {
        size_t n = sizes[t];
        ls_quantiles q;
        memset(&q, 0, sizeof q);
        double *v = malloc(n * sizeof *v), *w = malloc(n * sizeof *w);
        for (size_t i = 0; i < n; i++) {
            v[i] = (double)(lcg(&seed) % 1000) * 1e-3 + (i % 5 == 0 ? 0 : 1e-6 * (double)(lcg(&seed) % 7));
            ls_quant_add(&q, v[i]);
        }
        assert_false(q.hist);
        assert_true(ls_quant_mean(&q) == ls_mean(v, n));
        double all[N_Q], fresh[N_Q];
        for (size_t k = 0; k < N_Q; k++) {
            memcpy(w, v, n * sizeof *w);
            fresh[k] = ls_percentile(w, n, qs_list[k]);
            assert_true(ls_quant_percentile(&q, qs_list[k]) == fresh[k]);
        }
        /* all at once, each selection narrowed by the previous one: the same bits */
        ls_quant_percentiles(&q, qs_list, (int)N_Q, all);
        for (size_t k = 0; k < N_Q; k++)
            assert_true(all[k] == fresh[k]);
        memcpy(w, v, n * sizeof *w);
        ls_percentiles(w, n, qs_list, (int)N_Q, all);
        for (size_t k = 0; k < N_Q; k++)
            assert_true(all[k] == fresh[k]);
        ls_quant_free(&q);
        free(v);
        free(w);
    }
    ls_quantiles e;
    memset(&e, 0, sizeof e);
    assert_true(isnan(ls_quant_percentile(&e, 50)) && isnan(ls_quant_mean(&e)));
}

/* A freed stream's array serves the next reserve that fits (the smallest such), the values a
 * stream already kept move with it, and the figures are those of a fresh stream. */
static void test_quant_pool(void **state)
{
    (void)state;
    ls_quantiles a, b, c, d;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    memset(&c, 0, sizeof c);
    memset(&d, 0, sizeof d);
    ls_quant_reserve(&a, 5000);
    ls_quant_reserve(&b, 20000);
    assert_true(a.exact.cap == 5000 && b.exact.cap == 20000);
    for (int i = 0; i < 5000; i++)
        ls_quant_add(&a, (double)((i * 7919) % 5000));
    ls_quant_free(&a);
    ls_quant_free(&b);
    for (int i = 0; i < 10; i++) /* kept before the reserve: moved into the pooled array */
        ls_quant_add(&c, (double)(10 - i));
    ls_quant_reserve(&c, 3000);
    assert_true(c.exact.cap == 5000);  /* the smaller pooled array that fits */
    ls_quant_reserve(&d, 6000);
    assert_true(d.exact.cap == 20000);
    for (int i = 0; i < 2990; i++)
        ls_quant_add(&c, 0.5 * (double)(i % 1000));
    double v[3000];
    for (int i = 0; i < 10; i++)
        v[i] = (double)(10 - i);
    for (int i = 0; i < 2990; i++)
        v[10 + i] = 0.5 * (double)(i % 1000);
    assert_true(c.n == 3000 && ls_quant_mean(&c) == ls_mean(v, 3000));
    double got[N_Q];
    ls_quant_percentiles(&c, qs_list, (int)N_Q, got);
    for (size_t k = 0; k < N_Q; k++)
        assert_true(got[k] == ls_percentile(v, 3000, qs_list[k]));
    ls_quant_free(&c);
    ls_quant_free(&d);
}

/* Past 2^20 values: every percentile within a relative 2^-13 of the exact
 * one from a sort, on values spread over 35 octaves with zeros, ties, and
 * values on and just below bucket and octave edges. The bound is tight
 * enough to fail with 2^11 buckets an octave, and min/max are exact. */
static void test_quant_sketch_bound(void **state)
{
    (void)state;
    size_t n = LS_QUANT_EXACT_MAX + 150000;
    double *v = malloc(n * sizeof *v);
    uint64_t seed = 2024;
    ls_quantiles q;
    memset(&q, 0, sizeof q);
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t r = lcg(&seed);
        double x;
        switch (r % 10) {
        case 0: x = 0; break;                                                       /* zeros */
        case 1: x = ldexp(1.0, (int)(r >> 8) % 30 - 15); break;                     /* octave edges */
        case 2: x = nextafter(ldexp(1.0, (int)(r >> 8) % 30 - 15), 0); break;       /* just below */
        case 3: x = ldexp(1.0 + (double)((r >> 8) % 4096) / 4096, -3); break;       /* bucket edges */
        case 4: x = 0.125; break;                                                   /* ties */
        default: x = exp(((double)((r >> 8) % 1000000) / 1e6 - 0.5) * 24); break;  /* e^-12 .. e^12 */
        }
        v[i] = x;
        sum += x;
        ls_quant_add(&q, x);
    }
    assert_true(q.hist);
    assert_null(q.exact.v);  /* the values are no longer kept */
    assert_true(ls_quant_mean(&q) == sum / (double)n);
    qsort(v, n, sizeof *v, cmp);
    for (size_t k = 0; k < N_Q; k++) {
        double ref = sorted_pct(v, n, qs_list[k]);
        double got = ls_quant_percentile(&q, qs_list[k]);
        double err = ref > 0 ? fabs(got - ref) / ref : fabs(got);
        /* 1e-15: the rounding of the interpolation itself */
        assert_true(err <= LS_QUANT_REL_ERROR + 1e-15);
    }
    assert_true(ls_quant_percentile(&q, 0) == v[0]);
    assert_true(ls_quant_percentile(&q, 100) == v[n - 1]);
    /* every rank in a sweep of the distribution, not just the listed q */
    for (int i = 0; i <= 2000; i++) {
        double qq = i / 20.0;
        double ref = sorted_pct(v, n, qq);
        double got = ls_quant_percentile(&q, qq);
        assert_true(ref > 0 ? fabs(got - ref) <= (LS_QUANT_REL_ERROR + 1e-15) * ref : got == 0);
    }
    /* more values after a read still count */
    for (int i = 0; i < 1000; i++)
        ls_quant_add(&q, 1e6);
    assert_true(ls_quant_percentile(&q, 100) == 1e6);
    ls_quant_free(&q);
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_percentiles_hand),
        cmocka_unit_test(test_percentiles_random),
        cmocka_unit_test(test_itl_hist),
        cmocka_unit_test(test_itl_buckets_exact),
        cmocka_unit_test(test_itl_subranges),
        cmocka_unit_test(test_itl_reuse),
        cmocka_unit_test(test_percentiles_exact),
        cmocka_unit_test(test_quant_pool),
        cmocka_unit_test(test_quant_exact),
        cmocka_unit_test(test_quant_sketch_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
