/* test_dist.c -- every length distribution and arrival process against its exact law:
 * moments, Kolmogorov-Smirnov against the exact CDF (continuous), chi-square (discrete),
 * and the seed study's log-normal figures (domain brief section 7). */
#include <math.h>

#include "trace_test_util.h"
#include "dist.h"
#include "transform.h"

#define N 20000
/* Kolmogorov-Smirnov critical value at p = 0.001 is 1.949/sqrt(n). */
#define KS_CRIT (1.949 / sqrt((double)N))

static ls_dist parse(const char *yaml)
{
    ls_yaml *y;
    ls_error e;
    assert_int_equal(ls_yaml_load_string(yaml, strlen(yaml), "t.yaml", &y, &e), LS_OK);
    ls_dist d;
    if (ls_dist_parse(y, "d", NULL, LS_ROLE_PROMPT, &d, &e) != LS_OK)
        fail_msg("%s", e.msg);
    ls_yaml_free(y);
    return d;
}

static void parse_fails(const char *yaml, const char *needle)
{
    ls_yaml *y;
    ls_error e;
    assert_int_equal(ls_yaml_load_string(yaml, strlen(yaml), "t.yaml", &y, &e), LS_OK);
    ls_dist d;
    assert_int_not_equal(ls_dist_parse(y, "workload.prompt_tokens", NULL, LS_ROLE_PROMPT, &d, &e), LS_OK);
    if (!strstr(e.msg, needle))
        fail_msg("'%s' lacks '%s'", e.msg, needle);
    assert_non_null(strstr(e.msg, "t.yaml:1"));
    ls_yaml_free(y);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* KS statistic of sorted samples v against cdf. */
static double ks(double *v, size_t n, double (*cdf)(const void *, double), const void *ctx)
{
    qsort(v, n, sizeof *v, cmp_d);
    double d = 0;
    for (size_t i = 0; i < n; i++) {
        double f = cdf(ctx, v[i]);
        double a = fabs(f - (double)i / n), b = fabs((double)(i + 1) / n - f);
        d = fmax(d, fmax(a, b));
    }
    return d;
}

static double dist_cdf(const void *ctx, double x) { return ls_dist_cdf(ctx, x); }

static void moments(const double *v, size_t n, double *mean, double *sd)
{
    double m = 0, s = 0;
    for (size_t i = 0; i < n; i++)
        m += v[i];
    m /= n;
    for (size_t i = 0; i < n; i++)
        s += (v[i] - m) * (v[i] - m);
    *mean = m;
    *sd = sqrt(s / (n - 1));
}

static void test_normal(void **state)
{
    (void)state;
    ls_dist d = parse("{dist: normal, mean: 500, stddev: 100}");
    ls_rng r;
    ls_rng_stream(&r, 1, "prompt");
    double *v = malloc(N * sizeof *v), m, sd;
    for (int i = 0; i < N; i++)
        v[i] = ls_dist_sample_real(&d, &r);
    moments(v, N, &m, &sd);
    assert_true(fabs(m - 500) < 4 * 100 / sqrt(N));
    assert_true(fabs(sd - 100) < 4 * 100 / sqrt(2.0 * N));
    assert_true(ks(v, N, dist_cdf, &d) < KS_CRIT);
    /* integer samples: rounded and clipped */
    ls_dist c = parse("{dist: normal, mean: 100, stddev: 80, min: 20, max: 150}");
    int lo = 0, hi = 0;
    for (int i = 0; i < N; i++) {
        int32_t x = ls_dist_sample(&c, &r);
        assert_true(x >= 20 && x <= 150);
        lo += x == 20;
        hi += x == 150;
    }
    /* P(X < 19.5) = Phi((19.5-100)/80) = 0.1572; P(X >= 149.5) = 1 - Phi(0.61875) = 0.2680 */
    assert_true(fabs(lo / (double)N - 0.1572) < 0.012);
    assert_true(fabs(hi / (double)N - 0.2680) < 0.015);
    free(v);
    ls_dist_free(&d);
    ls_dist_free(&c);
}

static void test_lognormal(void **state)
{
    (void)state;
    ls_dist d = parse("{dist: lognormal, mu: 5, sigma: 0.8}");
    ls_rng r;
    ls_rng_stream(&r, 2, "prompt");
    double *v = malloc(N * sizeof *v), m, sd;
    for (int i = 0; i < N; i++)
        v[i] = ls_dist_sample_real(&d, &r);
    moments(v, N, &m, &sd);
    double em = exp(5 + 0.32), esd = em * sqrt(exp(0.64) - 1); /* 204.4, 183.6 */
    assert_true(fabs(m - em) < 4 * esd / sqrt(N));
    assert_true(ks(v, N, dist_cdf, &d) < KS_CRIT);
    ls_dist_free(&d);
    /* by moments of the lengths: mean 256, stddev 128 */
    d = parse("{dist: lognormal, mean: 256, stddev: 128}");
    /* sigma^2 = ln(1 + 0.25), mu = ln 256 - sigma^2/2 */
    assert_true(fabs(d.sigma - sqrt(log(1.25))) < 1e-12);
    assert_true(fabs(d.mu - (log(256) - log(1.25) / 2)) < 1e-12);
    for (int i = 0; i < N; i++)
        v[i] = ls_dist_sample(&d, &r);
    moments(v, N, &m, &sd);
    assert_true(fabs(m - 256) < 4 * 128 / sqrt(N));
    assert_true(fabs(sd - 128) < 0.04 * 128);
    char *c = ls_dist_canonical(&d);
    assert_string_equal(c, "lognormal(mean=256,stddev=128)");
    free(c);
    ls_dist_free(&d);
    free(v);
}

static void test_seed_study(void **state)
{
    (void)state;
    /* LogNormal(mu = 8.7, sigma = 0.17): median 6003, p99 8915, 3.37% above 8192 (domain brief 7) */
    ls_dist d = parse("{dist: lognormal, mu: 8.7, sigma: 0.17}");
    ls_rng r;
    ls_rng_stream(&r, 2024, "prompt");
    enum { M = 200000 };
    double *v = malloc(M * sizeof *v);
    int above = 0;
    for (int i = 0; i < M; i++) {
        v[i] = ls_dist_sample(&d, &r);
        above += v[i] > 8192;
    }
    qsort(v, M, sizeof *v, cmp_d);
    double median = v[M / 2 - 1], p99 = v[(int)ceil(0.99 * M) - 1];
    assert_true(fabs(median - 6003) < 15);
    assert_true(fabs(p99 - 8915) < 40);
    assert_true(fabs(above / (double)M - 0.0337) < 0.0015);
    /* the exact CDF says the same */
    assert_true(fabs(1 - ls_dist_cdf(&d, 8192) - 0.0337) < 0.0001);
    assert_true(fabs(ls_dist_cdf(&d, 6003) - 0.5) < 0.0001);
    assert_true(fabs(ls_dist_mean(&d) - 6090) < 1);
    free(v);
    ls_dist_free(&d);
}

static void test_uniform_fixed(void **state)
{
    (void)state;
    ls_dist d = parse("{dist: uniform, low: 100, high: 109}");
    ls_rng r;
    ls_rng_stream(&r, 3, "prompt");
    int c[10] = {0};
    for (int i = 0; i < N; i++) {
        int32_t x = ls_dist_sample(&d, &r);
        assert_true(x >= 100 && x <= 109);
        c[x - 100]++;
    }
    double chi2 = 0, ex = N / 10.0;
    for (int k = 0; k < 10; k++)
        chi2 += (c[k] - ex) * (c[k] - ex) / ex;
    assert_true(chi2 < 27.88); /* 9 degrees of freedom, p = 0.001 */
    assert_true(fabs(ls_dist_cdf(&d, 104) - 0.5) < 1e-12);
    ls_dist_free(&d);
    d = parse("{dist: fixed, value: 128}");
    for (int i = 0; i < 100; i++)
        assert_int_equal(ls_dist_sample(&d, &r), 128);
    ls_dist_free(&d);
}

static void test_zipf(void **state)
{
    (void)state;
    ls_dist d = parse("{dist: zipf, s: 1.2, max: 20}");
    double p[21], h = 0;
    for (int k = 1; k <= 20; k++)
        h += pow(k, -1.2);
    for (int k = 1; k <= 20; k++)
        p[k] = pow(k, -1.2) / h;
    ls_rng r;
    ls_rng_stream(&r, 4, "prompt");
    int c[21] = {0};
    for (int i = 0; i < N; i++) {
        int32_t x = ls_dist_sample(&d, &r);
        assert_true(x >= 1 && x <= 20);
        c[x]++;
    }
    double chi2 = 0;
    for (int k = 1; k <= 20; k++)
        chi2 += (c[k] - N * p[k]) * (c[k] - N * p[k]) / (N * p[k]);
    assert_true(chi2 < 43.82); /* 19 degrees of freedom, p = 0.001 */
    ls_dist_free(&d);
}

static void test_empirical(void **state)
{
    (void)state;
    char *f = tmp_text(".csv", "num_prefill_tokens,num_decode_tokens\n10,1\n20,2\n30,3\n40,4\n");
    char y[512];
    snprintf(y, sizeof y, "{dist: empirical, file: %s}", f);
    ls_dist d = parse(y);
    assert_int_equal(d.en, 4);
    ls_rng r;
    ls_rng_stream(&r, 5, "pairs");
    int c[5] = {0};
    for (int i = 0; i < N; i++) {
        int32_t a, b;
        ls_dist_sample_pair(&d, &r, &a, &b);
        assert_int_equal(a, b * 10); /* pairs stay together */
        c[b]++;
    }
    double chi2 = 0, ex = N / 4.0;
    for (int k = 1; k <= 4; k++)
        chi2 += (c[k] - ex) * (c[k] - ex) / ex;
    assert_true(chi2 < 16.27); /* 3 degrees of freedom, p = 0.001 */
    assert_true(fabs(ls_dist_mean(&d) - 25) < 1e-12);
    ls_dist_free(&d);
    unlink(f);
    free(f);
}

static void test_parse_errors(void **state)
{
    (void)state;
    parse_fails("{dist: lognormal, mu: 8.7, stddev: 3}", "exactly one pair");
    parse_fails("{dist: lognormal, mu: 8.7, sigma: 0.1, mean: 3, stddev: 1}", "exactly one pair");
    parse_fails("{dist: lognormal, mu: 8.7}", "exactly one pair");
    parse_fails("{dist: lognormal, mu: 8.7, sigma: -1}", "sigma");
    parse_fails("{dist: uniform, low: 10, high: 5}", "high");
    parse_fails("{dist: fixed, value: 0}", "value");
    parse_fails("{dist: fixed, value: 1.5}", "value");
    parse_fails("{dist: fixed, valu: 3}", "unknown key");
    parse_fails("{dist: gauss, mean: 3}", "expected fixed, uniform");
    parse_fails("{dist: zipf, s: 1.1}", "missing 'max'");
    parse_fails("{dist: normal, mean: 3, stddev: 0}", "stddev");
    parse_fails("{dist: empirical, file: /nonexistent.csv}", "nonexistent");
    ls_dist d;
    ls_error e;
    assert_int_equal(ls_dist_parse_spec("lognormal:mu=8.7,sigma=0.17", NULL, LS_ROLE_PROMPT, &d, &e), LS_OK);
    char *c = ls_dist_canonical(&d);
    assert_string_equal(c, "lognormal(mu=8.7,sigma=0.17)");
    free(c);
    ls_dist_free(&d);
    assert_int_equal(ls_dist_parse_spec("fixed:128", NULL, LS_ROLE_OUTPUT, &d, &e), LS_OK);
    assert_true(d.value == 128);
    ls_dist_free(&d);
    /* a bare integer is fixed, as `run --prompt 128` and docs/TRACES.md have it */
    assert_int_equal(ls_dist_parse_spec("128", NULL, LS_ROLE_OUTPUT, &d, &e), LS_OK);
    assert_int_equal(d.kind, LS_DIST_FIXED);
    assert_true(d.value == 128);
    ls_dist_free(&d);
    assert_int_not_equal(ls_dist_parse_spec("12x", NULL, LS_ROLE_OUTPUT, &d, &e), LS_OK);
    ls_dist_free(&d);
    assert_int_not_equal(ls_dist_parse_spec("lognormal:3", NULL, LS_ROLE_OUTPUT, &d, &e), LS_OK);
    ls_dist_free(&d);
    /* the mapping is labelled where it came from */
    ls_yaml *m;
    assert_int_equal(ls_dist_spec_yaml("uniform:low=1,high=9", "<command line>", &m, &e), LS_OK);
    assert_string_equal(ls_yaml_get(m, "dist")->scalar, "uniform");
    assert_string_equal(ls_yaml_get(m, "high")->file, "<command line>");
    assert_string_equal(m->file, "<command line>");
    ls_yaml_free(m);
}

/* ---- arrival processes ---- */

static double *gaps(ls_arrival_process p, double rate, double cv, int n)
{
    ls_arrival a = {p, rate, cv};
    ls_dist one = parse("{dist: fixed, value: 1}");
    ls_source *s = ls_synth_open(NULL, &a, &one, &one, false, 99);
    double *g = malloc((size_t)n * sizeof *g);
    ls_request r;
    ls_error e;
    int64_t prev = 0;
    for (int i = -1; i < n; i++) {
        assert_int_equal(ls_source_next(s, &r, &e), 1);
        if (i < 0)
            assert_int_equal(r.arrival_ns, 0);
        else
            g[i] = (double)(r.arrival_ns - prev) / 1e9;
        prev = r.arrival_ns;
    }
    ls_source_free(s);
    ls_dist_free(&one);
    return g;
}

static double exp_cdf(const void *ctx, double x) { return x <= 0 ? 0 : 1 - exp(-x * *(const double *)ctx); }

/* Regularised lower incomplete gamma P(a, x) by its series (fine for the x of these tests). */
static double gamma_p(double a, double x)
{
    if (x <= 0)
        return 0;
    double term = 1 / a, sum = term;
    for (int n = 1; n < 5000 && term > sum * 1e-15; n++) {
        term *= x / (a + n);
        sum += term;
    }
    return fmin(1.0, sum * exp(-x + a * log(x) - lgamma(a)));
}

typedef struct gctx { double k, theta; } gctx;
static double gamma_cdf(const void *ctx, double x)
{
    const gctx *g = ctx;
    return gamma_p(g->k, x / g->theta);
}

static void test_arrivals(void **state)
{
    (void)state;
    /* Poisson: exponential gaps with mean 1/rate */
    double rate = 4;
    double *g = gaps(LS_ARRIVAL_POISSON, rate, 1, N), m, sd;
    moments(g, N, &m, &sd);
    assert_true(fabs(m - 0.25) < 4 * 0.25 / sqrt(N));
    assert_true(ks(g, N, exp_cdf, &rate) < KS_CRIT + 2e-9 * rate * sqrt(N)); /* ns rounding is negligible */
    free(g);
    /* Gamma gaps: shape 1/cv^2, scale 1/(rate shape) */
    double cvs[] = {0.5, 2.0};
    for (int i = 0; i < 2; i++) {
        double cv = cvs[i];
        g = gaps(LS_ARRIVAL_GAMMA, 2.0, cv, N);
        moments(g, N, &m, &sd);
        assert_true(fabs(m - 0.5) < 4 * 0.5 * cv / sqrt(N));
        assert_true(fabs(sd / m - cv) < 0.08 * cv);
        gctx c = {1 / (cv * cv), 1 / (2.0 / (cv * cv))};
        assert_true(ks(g, N, gamma_cdf, &c) < KS_CRIT);
        free(g);
    }
    /* constant: exactly i/rate */
    g = gaps(LS_ARRIVAL_CONSTANT, 3.0, 0, 1000);
    for (int i = 0; i < 1000; i++)
        assert_true(fabs(g[i] - 1 / 3.0) < 2e-9);
    free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normal),      cmocka_unit_test(test_lognormal),
        cmocka_unit_test(test_seed_study),  cmocka_unit_test(test_uniform_fixed),
        cmocka_unit_test(test_zipf),        cmocka_unit_test(test_empirical),
        cmocka_unit_test(test_parse_errors), cmocka_unit_test(test_arrivals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
