/* test_cost_kernels.c -- the kernel-table cost model (cost_kernels.c, `cost: {model: kernels}`).
 *
 * Expected values come from outside the code: the test reads the measured rows itself from
 * ../shared/kernels (AIConfigurator's vLLM 0.24 tables, SOURCES.md) with zlib -- not through
 * kernel_data.c or the generator -- and computes the interpolation by hand (log-log between two
 * measured points, proportional beyond the grid). Without ../shared/kernels (a checkout without the
 * shared data; LS_KERNELS_DIR overrides the path) those cases are skipped; the others still run.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <cmocka.h>

#include "cost_kernels.h"

#ifndef LS_KERNELS_DIR
#define LS_KERNELS_DIR "../shared/kernels"
#endif

static ls_catalog *cat;

static int setup(void **state)
{
    (void)state;
    ls_error e;
    return ls_catalog_builtin(&cat, &e) ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    ls_catalog_free(cat);
    return 0;
}

static const char *kdir(void)
{
    const char *d = getenv("LS_KERNELS_DIR");
    return d && d[0] ? d : LS_KERNELS_DIR;
}

/* The latency (ms) of the first row of FILE whose columns match every name=value pair of `want`
 * (a NULL-terminated list); -1 when none does. Skips the test when the file is absent. */
static double csv_ms(const char *file, const char *const *want)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", kdir(), file);
    gzFile f = gzopen(path, "rb");
    if (!f) {
        print_message("no %s: skipped\n", path);
        skip();
    }
    static char line[4096];
    char *cols[64];
    int ncol = 0;
    int idx[16], lat = -1, nw = 0;
    while (want[2 * nw])
        nw++;
    double found = -1;
    bool header = true;
    while (gzgets(f, line, sizeof line)) {
        line[strcspn(line, "\r\n")] = 0;
        int n = 0;
        for (char *p = line, *tok; (tok = strsep(&p, ",")) && n < 64;)
            cols[n++] = tok;
        if (header) {
            ncol = n;
            for (int i = 0; i < nw; i++) {
                idx[i] = -1;
                for (int c = 0; c < n; c++)
                    if (!strcmp(cols[c], want[2 * i]))
                        idx[i] = c;
                assert_true(idx[i] >= 0);
            }
            for (int c = 0; c < n; c++)
                if (!strcmp(cols[c], "latency"))
                    lat = c;
            assert_true(lat >= 0);
            header = false;
            continue;
        }
        if (n != ncol)
            continue;
        int ok = 1;
        for (int i = 0; i < nw && ok; i++)
            ok = !strcmp(cols[idx[i]], want[2 * i + 1]);
        if (ok) {
            found = strtod(cols[lat], NULL);
            break;
        }
    }
    gzclose(f);
    return found;
}

static double gemm_csv_us(const char *dtype, int m, int n, int k)
{
    char ms[16], ns[16], ks[16];
    snprintf(ms, sizeof ms, "%d", m);
    snprintf(ns, sizeof ns, "%d", n);
    snprintf(ks, sizeof ks, "%d", k);
    const char *const want[] = {"gemm_dtype", dtype, "m", ms, "n", ns, "k", ks, NULL, NULL};
    double v = csv_ms("h100_sxm/gemm_vllm_0.24.0.csv.gz", want);
    assert_true(v > 0);
    return v * 1e3;
}

static double attn_csv_us(bool prefill, const char *kv, int b, int s, int h, int kvh)
{
    char bs[16], ss[16], hs[16], ks[16];
    snprintf(bs, sizeof bs, "%d", b);
    snprintf(ss, sizeof ss, "%d", prefill ? s : s - 1); /* decode: the table's step = KV length - 1 */
    snprintf(hs, sizeof hs, "%d", h);
    snprintf(ks, sizeof ks, "%d", kvh);
    const char *const want[] = {"batch_size", bs, prefill ? "isl" : "step", ss, "num_heads", hs,
                                "num_key_value_heads", ks, "head_dim", "128", "kv_cache_dtype", kv,
                                "window_size", "0", NULL, NULL};
    double v = csv_ms(prefill ? "h100_sxm/context_attention_vllm_0.24.0.csv.gz"
                              : "h100_sxm/generation_attention_vllm_0.24.0.csv.gz",
                      want);
    assert_true(v > 0);
    return v * 1e3;
}

static void assert_rel(double got, double want, double tol)
{
    if (!(fabs(got / want - 1) <= tol))
        fail_msg("got %.9g, want %.9g (rel %.2g)", got, want, got / want - 1);
}

/* log-log interpolation by hand: x between x0 (value v0) and x1 (v1) */
static double loglog(double x, double x0, double v0, double x1, double v1)
{
    double w = log(x / x0) / log(x1 / x0);
    return exp(log(v0) + w * log(v1 / v0));
}

#define ROUND 6e-4 /* kernel_data.c keeps 4 significant digits */

static void test_gemm_interpolation(void **state)
{
    (void)state;
    const ls_gemm_table *t = ls_kernels_find_gemm("h100_sxm", "fp8");
    assert_non_null(t);
    /* a measured point */
    assert_rel(ls_gemm_table_us(t, 256, 4096, 4096), gemm_csv_us("fp8", 256, 4096, 4096), ROUND);
    /* between two M values (256, 512) */
    double a = gemm_csv_us("fp8", 256, 4096, 4096), b = gemm_csv_us("fp8", 512, 4096, 4096);
    assert_rel(ls_gemm_table_us(t, 300, 4096, 4096), loglog(300, 256, a, 512, b), 2 * ROUND);
    /* between two N values (5120, 6144) at a measured M and K */
    a = gemm_csv_us("fp8", 1024, 5120, 8192);
    b = gemm_csv_us("fp8", 1024, 6144, 8192);
    assert_rel(ls_gemm_table_us(t, 1024, 5632, 8192), loglog(5632, 5120, a, 6144, b), 2 * ROUND);
    /* between two K values (12288, 16384): Llama-3.1-8B's down projection, K = 14336 */
    a = gemm_csv_us("fp8", 64, 4096, 12288);
    b = gemm_csv_us("fp8", 64, 4096, 16384);
    assert_rel(ls_gemm_table_us(t, 64, 4096, 14336), loglog(14336, 12288, a, 16384, b), 2 * ROUND);
    /* beyond the largest M (32768): in proportion to M */
    assert_rel(ls_gemm_table_us(t, 65536, 4096, 4096), 2 * gemm_csv_us("fp8", 32768, 4096, 4096), ROUND);
    /* bf16 is its own table */
    const ls_gemm_table *tb = ls_kernels_find_gemm("h100_sxm", "bf16");
    assert_non_null(tb);
    assert_rel(ls_gemm_table_us(tb, 1, 8192, 8192), gemm_csv_us("bfloat16", 1, 8192, 8192), ROUND);
    assert_null(ls_kernels_find_gemm("h100_sxm", "nvfp4"));
    assert_null(ls_kernels_find_gemm("gh200", "fp8"));
}

static void test_attention_interpolation(void **state)
{
    (void)state;
    const ls_attn_table *p = ls_kernels_find_attn("h100_sxm", LS_ATTN_PREFILL, 32, 8, 128, "fp8");
    const ls_attn_table *d = ls_kernels_find_attn("h100_sxm", LS_ATTN_DECODE, 32, 8, 128, "fp8");
    assert_non_null(p);
    assert_non_null(d);
    /* prefill: measured point, then between isl 2048 and 3072 */
    assert_rel(ls_attn_table_us(p, 4, 2048), attn_csv_us(true, "fp8", 4, 2048, 32, 8), ROUND);
    double a = attn_csv_us(true, "fp8", 4, 2048, 32, 8), b = attn_csv_us(true, "fp8", 4, 3072, 32, 8);
    assert_rel(ls_attn_table_us(p, 4, 2500), loglog(2500, 2048, a, 3072, b), 2 * ROUND);
    /* decode: batch 64 at KV length 1024 (step 1023), then between batches 64 and 128 */
    a = attn_csv_us(false, "fp8", 64, 1024, 32, 8);
    b = attn_csv_us(false, "fp8", 128, 1024, 32, 8);
    assert_rel(ls_attn_table_us(d, 64, 1024), a, ROUND);
    assert_rel(ls_attn_table_us(d, 100, 1024), loglog(100, 64, a, 128, b), 2 * ROUND);
    /* other head shapes have no table (the roofline's attention is used) */
    assert_null(ls_kernels_find_attn("h100_sxm", LS_ATTN_PREFILL, 40, 8, 128, "fp8"));
}

static ls_deploy deploy(const char *model, const char *gpu, int tp, ls_dtype w, ls_dtype kv)
{
    ls_error e;
    const ls_model *m;
    const ls_gpu *g;
    const ls_cluster *c;
    assert_int_equal(ls_catalog_model(cat, model, &m, &e), LS_OK);
    assert_int_equal(ls_catalog_gpu(cat, gpu, &g, &e), LS_OK);
    assert_int_equal(ls_catalog_cluster(cat, "dgx-h100", &c, &e), LS_OK);
    return (ls_deploy){.model = m, .gpu = g, .cluster = c, .tp = tp, .pp = 1, .w_dtype = w, .kv_dtype = kv};
}

/* Llama-3.1-8B at TP 1 on H100, fp8: the layer's GEMM shapes read from the CSV. */
static void test_deployment_shapes(void **state)
{
    (void)state;
    ls_deploy d = deploy("llama-3.1-8b", "h100-sxm", 1, LS_DTYPE_FP8, LS_DTYPE_FP8);
    ls_kernels *k = ls_kernels_new(&d);
    assert_non_null(k);
    assert_true(ls_kernels_has_gemm(k) && ls_kernels_has_attention(k));
    /* QKV: N = (32 + 8 + 8) x 128 = 6144, K = 4096; O: N = K = 4096; at 512 token rows */
    double want = gemm_csv_us("fp8", 512, 6144, 4096) + gemm_csv_us("fp8", 512, 4096, 4096);
    assert_rel(ls_kernels_proj_s(k, 512) * 1e6, want, ROUND);
    /* gate/up: N = 2 x 14336 = 28672 (between the grid's 16384 and 65536), K = 4096; down: N = 4096, K = 14336 */
    double gu = loglog(28672, 16384, gemm_csv_us("fp8", 512, 16384, 4096), 65536, gemm_csv_us("fp8", 512, 65536, 4096));
    double dn = loglog(14336, 12288, gemm_csv_us("fp8", 512, 4096, 12288), 16384, gemm_csv_us("fp8", 512, 4096, 16384));
    assert_rel(ls_kernels_ffn_s(k, 512) * 1e6, gu + dn, 2 * ROUND);
    /* decode attention of 64 sequences at context 1023 (KV length 1024) */
    ls_batch_agg dec = {.tokens = 64, .n_seqs = 64, .n_decode = 64, .n_sample = 64,
                        .sum_qc = 64 * 1023.0, .sum_q2 = 64, .sum_c = 64 * 1023.0};
    assert_rel(ls_kernels_attn_s(k, &dec) * 1e6, attn_csv_us(false, "fp8", 64, 1024, 32, 8), ROUND);
    /* a fresh prompt of 2048 tokens: the prefill table at batch 1, isl 2048 */
    ls_batch_agg pre = {.tokens = 2048, .n_seqs = 1, .n_decode = 0, .n_sample = 1,
                        .sum_qc = 0, .sum_q2 = 2048.0 * 2048, .sum_c = 0};
    assert_rel(ls_kernels_attn_s(k, &pre) * 1e6, attn_csv_us(true, "fp8", 1, 2048, 32, 8), ROUND);
    ls_kernels_free(k);

    /* TP 2 of Llama-3.1-70B: 32 query and 4 KV heads per GPU; QKV N = (32 + 4 + 4) x 128 = 5120, K = 8192 */
    d = deploy("llama-3.1-70b", "h100-sxm", 2, LS_DTYPE_FP8, LS_DTYPE_FP8);
    k = ls_kernels_new(&d);
    assert_non_null(k);
    want = gemm_csv_us("fp8", 256, 5120, 8192) + gemm_csv_us("fp8", 256, 8192, 4096);
    assert_rel(ls_kernels_proj_s(k, 256) * 1e6, want, ROUND);
    ls_kernels_free(k);
}

/* A GPU without tables, or a model no table fits, runs the roofline unchanged. */
static void test_fallback_is_roofline(void **state)
{
    (void)state;
    ls_deploy d = deploy("llama-3.1-8b", "gh200-96gb", 1, LS_DTYPE_FP8, LS_DTYPE_FP8);
    assert_null(ls_kernels_new(&d));
    ls_cost_model *a, *b;
    ls_error e;
    assert_int_equal(ls_cost_roofline_new(&d, &a, &e), LS_OK);
    assert_int_equal(ls_cost_kernels_new(&d, &b, &e), LS_OK);
    ls_batch_agg x = {.tokens = 300, .n_seqs = 40, .n_decode = 39, .n_sample = 40,
                      .sum_qc = 39 * 800.0 + 261 * 100.0, .sum_q2 = 39 + 261.0 * 261, .sum_c = 39 * 800.0 + 100};
    ls_iter_cost ca, cb;
    ls_cost_iteration(a, &x, &ca);
    ls_cost_iteration(b, &x, &cb);
    assert_true(ca.stage_s[0] == cb.stage_s[0] && ca.overhead_s == cb.overhead_s);
    ls_cost_free(a);
    ls_cost_free(b);
    /* 4-bit weights on a GPU that has tables: the GEMMs stay the roofline's, attention is measured */
    d = deploy("llama-3.1-8b", "h100-sxm", 1, LS_DTYPE_NVFP4, LS_DTYPE_FP8);
    ls_kernels *k = ls_kernels_new(&d);
    assert_non_null(k);
    assert_false(ls_kernels_has_gemm(k));
    assert_true(ls_kernels_has_attention(k));
    ls_kernels_free(k);
    /* the tables change the H100's time (they are used) */
    d = deploy("llama-3.1-8b", "h100-sxm", 1, LS_DTYPE_FP8, LS_DTYPE_FP8);
    assert_int_equal(ls_cost_roofline_new(&d, &a, &e), LS_OK);
    assert_int_equal(ls_cost_kernels_new(&d, &b, &e), LS_OK);
    ls_cost_iteration(a, &x, &ca);
    ls_cost_iteration(b, &x, &cb);
    assert_true(ca.stage_s[0] != cb.stage_s[0] && cb.stage_s[0] > 0);
    ls_cost_free(a);
    ls_cost_free(b);
}

/* The catalog key: known tables, "none", and no inheritance by a differently named GPU. */
static void test_catalog_key(void **state)
{
    (void)state;
    ls_error e;
    const ls_gpu *g;
    assert_int_equal(ls_catalog_gpu(cat, "h200", &g, &e), LS_OK);
    assert_string_equal(g->kernel_tables, "h200_sxm");
    assert_int_equal(ls_catalog_gpu(cat, "gh200-96gb", &g, &e), LS_OK);
    assert_string_equal(g->kernel_tables, "");
    assert_true(ls_kernels_known("l40s") && !ls_kernels_known("gb300"));

    ls_catalog *c2;
    assert_int_equal(ls_catalog_builtin(&c2, &e), LS_OK);
    ls_yaml *doc;
    const char *bad = "gpus:\n  x:\n    base: h100-sxm\n    kernel_tables: h100-sxm\n";
    assert_int_equal(ls_yaml_load_string(bad, strlen(bad), "bad.yaml", &doc, &e), LS_OK);
    assert_int_not_equal(ls_catalog_load_yaml(c2, doc, &e), LS_OK);
    assert_non_null(strstr(e.msg, "kernel_tables names no measured tables"));
    ls_yaml_free(doc);
    const char *ok = "gpus:\n  h100-sxm:\n    base: h100-sxm\n    mbu: 0.8\n  y:\n    base: h100-sxm\n"
                     "  z:\n    base: h100-sxm\n    kernel_tables: h100_sxm\n  w:\n    base: z\n    kernel_tables: none\n";
    assert_int_equal(ls_yaml_load_string(ok, strlen(ok), "ok.yaml", &doc, &e), LS_OK);
    assert_int_equal(ls_catalog_load_yaml(c2, doc, &e), LS_OK);
    assert_int_equal(ls_catalog_gpu(c2, "h100-sxm", &g, &e), LS_OK);
    assert_string_equal(g->kernel_tables, "h100_sxm"); /* an overlay of the same name keeps them */
    assert_int_equal(ls_catalog_gpu(c2, "y", &g, &e), LS_OK);
    assert_string_equal(g->kernel_tables, "");
    assert_int_equal(ls_catalog_gpu(c2, "z", &g, &e), LS_OK);
    assert_string_equal(g->kernel_tables, "h100_sxm");
    assert_int_equal(ls_catalog_gpu(c2, "w", &g, &e), LS_OK);
    assert_string_equal(g->kernel_tables, "");
    ls_yaml_free(doc);
    ls_catalog_free(c2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gemm_interpolation),      cmocka_unit_test(test_attention_interpolation),
        cmocka_unit_test(test_deployment_shapes),       cmocka_unit_test(test_fallback_is_roofline),
        cmocka_unit_test(test_catalog_key),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
