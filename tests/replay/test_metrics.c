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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_percentiles_hand),
        cmocka_unit_test(test_percentiles_random),
        cmocka_unit_test(test_itl_hist),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
