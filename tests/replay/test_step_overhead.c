/* test_step_overhead.c -- the engine's host time per step (step_overhead.c), by hand:
 * host = iter_overhead + seq_overhead x n_seqs; added whole by engines without async scheduling,
 * only beyond the step's GPU time (besides iter_overhead) by vLLM V1 (vllm-internals.md s3). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "engine_profile.h"
#include "step_overhead.h"

static void assert_near(double got, double want)
{
    if (!(fabs(got - want) <= 1e-12 + 1e-9 * fabs(want)))
        fail_msg("got %.12g, want %.12g", got, want);
}

static void test_formula(void **state)
{
    (void)state;
    ls_gpu g = {.iter_overhead_s = 1.5e-3, .seq_overhead_s = 10e-6};
    ls_deploy d = {.gpu = &g, .tp = 1, .pp = 1};
    ls_batch_agg b = {.tokens = 100, .n_seqs = 100, .n_decode = 100, .n_sample = 100};
    /* sync engines: 1.5 ms + 100 x 10 us = 2.5 ms whatever the GPU time */
    d.engine = ls_engine_profile_find("trtllm");
    assert_near(ls_step_overhead_s(&d, &b, 0.02), 2.5e-3);
    d.engine = ls_engine_profile_find("vllm-v0");
    assert_near(ls_step_overhead_s(&d, &b, 0.0004), 2.5e-3);
    /* vLLM V1: the 1 ms of per-sequence work hides behind a 20 ms step, shows beyond a 0.4 ms one */
    d.engine = ls_engine_profile_find("vllm-v1");
    assert_near(ls_step_overhead_s(&d, &b, 0.02), 1.5e-3);
    assert_near(ls_step_overhead_s(&d, &b, 0.0004), 1.5e-3 + 0.6e-3);
    d.engine = NULL; /* the default profile is vllm-v1 */
    assert_near(ls_step_overhead_s(&d, &b, 0.0004), 1.5e-3 + 0.6e-3);
    /* no per-sequence time: iter_overhead alone, as before the component existed */
    g.seq_overhead_s = 0;
    d.engine = ls_engine_profile_find("trtllm");
    assert_near(ls_step_overhead_s(&d, &b, 0.02), 1.5e-3);
}

/* Through the roofline: the iteration's overhead_s is the component's, with the stages' GPU time. */
static void test_roofline(void **state)
{
    (void)state;
    ls_catalog *cat;
    ls_error e;
    assert_int_equal(ls_catalog_builtin(&cat, &e), LS_OK);
    const ls_model *m;
    const ls_gpu *h100;
    const ls_cluster *c;
    assert_int_equal(ls_catalog_model(cat, "llama-3.1-8b", &m, &e), LS_OK);
    assert_int_equal(ls_catalog_gpu(cat, "h100-sxm", &h100, &e), LS_OK);
    assert_int_equal(ls_catalog_cluster(cat, "dgx-h100", &c, &e), LS_OK);
    ls_gpu g = *h100;
    g.seq_overhead_s = 20e-6;
    ls_deploy d = {.model = m, .gpu = &g, .cluster = c, .tp = 1, .pp = 1, .w_dtype = LS_DTYPE_FP8,
                   .kv_dtype = LS_DTYPE_FP8, .engine = ls_engine_profile_find("trtllm")};
    ls_batch_agg b = {.tokens = 256, .n_seqs = 256, .n_decode = 256, .n_sample = 256,
                      .sum_qc = 256 * 1000.0, .sum_q2 = 256, .sum_c = 256 * 1000.0};
    ls_cost_model *cm;
    assert_int_equal(ls_cost_roofline_new(&d, &cm, &e), LS_OK);
    ls_iter_cost ic;
    ls_cost_iteration(cm, &b, &ic);
    assert_near(ic.overhead_s, g.iter_overhead_s + 256 * 20e-6);
    ls_cost_free(cm);
    d.engine = ls_engine_profile_find("vllm-v1"); /* 5.1 ms of host work against a longer GPU step */
    assert_int_equal(ls_cost_roofline_new(&d, &cm, &e), LS_OK);
    ls_cost_iteration(cm, &b, &ic);
    double gpu = ic.stage_s[0];
    assert_true(gpu > 256 * 20e-6);
    assert_near(ic.overhead_s, g.iter_overhead_s);
    ls_cost_free(cm);
    ls_catalog_free(cat);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_formula), cmocka_unit_test(test_roofline)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
