/* test_step_overhead.c -- the engine's host time per step (step_overhead.c), by hand:
 * host = iter_overhead + seq_overhead x n_seqs; added whole without async scheduling, only beyond
 * the step's GPU time (besides iter_overhead) with it (vllm-internals.md s3); and the one
 * async setting (step_options.c): the engine profile's default, scheduler.async_scheduling's
 * override, the refusals. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "config_internal.h"
#include "engine.h"
#include "engine_profile.h"
#include "step_overhead.h"
#include "config_text.h"

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
    /* sync: 1.5 ms + 100 x 10 us = 2.5 ms whatever the GPU time */
    d.async_scheduling = false;
    assert_near(ls_step_overhead_s(&d, &b, 0.02), 2.5e-3);
    assert_near(ls_step_overhead_s(&d, &b, 0.0004), 2.5e-3);
    /* async: the 1 ms of per-sequence work hides behind a 20 ms step, shows beyond a 0.4 ms one */
    d.async_scheduling = true;
    assert_near(ls_step_overhead_s(&d, &b, 0.02), 1.5e-3);
    assert_near(ls_step_overhead_s(&d, &b, 0.0004), 1.5e-3 + 0.6e-3);
    /* the profile alone decides nothing here: the resolved setting does */
    d.engine = ls_engine_profile_find("trtllm");
    assert_near(ls_step_overhead_s(&d, &b, 0.0004), 1.5e-3 + 0.6e-3);
    /* no per-sequence time: iter_overhead alone, as before the component existed */
    g.seq_overhead_s = 0;
    d.async_scheduling = false;
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
                   .kv_dtype = LS_DTYPE_FP8, .engine = ls_engine_profile_find("trtllm"),
                   .async_scheduling = false};
    ls_batch_agg b = {.tokens = 256, .n_seqs = 256, .n_decode = 256, .n_sample = 256,
                      .sum_qc = 256 * 1000.0, .sum_q2 = 256, .sum_c = 256 * 1000.0};
    ls_cost_model *cm;
    assert_int_equal(ls_cost_roofline_new(&d, &cm, &e), LS_OK);
    ls_iter_cost ic;
    ls_cost_iteration(cm, &b, &ic);
    assert_near(ic.overhead_s, g.iter_overhead_s + 256 * 20e-6);
    ls_cost_free(cm);
    d.engine = ls_engine_profile_find("vllm-v1"); /* 5.1 ms of host work against a longer GPU step */
    d.async_scheduling = true;
    assert_int_equal(ls_cost_roofline_new(&d, &cm, &e), LS_OK);
    ls_cost_iteration(cm, &b, &ic);
    double gpu = ic.stage_s[0];
    assert_true(gpu > 256 * 20e-6);
    assert_near(ic.overhead_s, g.iter_overhead_s);
    ls_cost_free(cm);
    ls_catalog_free(cat);
}

/* The async setting of `scheduler` (YAML lines under `scheduler:`, may be empty) under `engine`
 * (NULL: none given), as resolved by the configuration and handed to the cost model. */
static bool resolved(const char *engine, const char *scheduler, const char *step_mode)
{
    char text[600];
    snprintf(text, sizeof text, "model: llama-3-8b\n%s%s%sscheduler:\n  max_num_seqs: 64\n%s"
             "workload:\n  arrival: {process: poisson, rate: 1}\n  prompt_tokens: {dist: fixed, value: 10}\n"
             "  output_tokens: {dist: fixed, value: 5}\n  duration_s: 5\n",
             engine ? "engine: " : "", engine ? engine : "", engine ? "\n" : "", scheduler);
    ls_run_config *c = test_config(text, "async.yaml");
    ls_deploy d;
    ls_run_deploy(c, 0, &d);
    assert_int_equal(d.async_scheduling, c->sched.async_scheduling);
    ls_config_row row;
    ls_config_get_row(c, &row);
    assert_string_equal(row.step_mode, step_mode);
    bool a = c->sched.async_scheduling;
    ls_config_free(c);
    return a;
}

static void test_resolve(void **state)
{
    (void)state;
    /* the engine's default */
    assert_true(resolved(NULL, "", "async"));  /* vllm-v1, the default engine */
    assert_true(resolved("vllm-v1", "", "async"));
    assert_false(resolved("vllm-v0", "", "sync"));
    assert_false(resolved("trtllm", "", "sync"));
    assert_false(resolved("sglang", "", "sync"));
    /* off under a policy whose scheduler loop is not V1's */
    assert_false(resolved(NULL, "  policy: vllm-v0\n", "sync"));
    assert_false(resolved(NULL, "  policy: sarathi\n", "sync"));
    assert_false(resolved(NULL, "  policy: vllm-v0\n  num_scheduler_steps: 4\n", "multi-step 4"));
    assert_true(resolved(NULL, "  policy: sjf\n", "async"));  /* vllm-v1 with another order */
    /* the override, both ways */
    assert_false(resolved("vllm-v1", "  async_scheduling: false\n", "sync"));
    assert_true(resolved("vllm-v1", "  async_scheduling: true\n", "async"));
    assert_true(resolved("trtllm", "  async_scheduling: true\n", "async"));
    assert_false(resolved("vllm-v0", "  async_scheduling: false\n", "sync"));
}

static void refused(const char *text, const char *want)
{
    ls_run_config *c;
    ls_error e;
    assert_int_not_equal(test_config_text(text, "bad.yaml", &c, &e), LS_OK);
    if (!strstr(e.msg, want))
        fail_msg("message '%s' lacks '%s'", e.msg, want);
}

static void test_refuse(void **state)
{
    (void)state;
    const char *w = "workload:\n  arrival: {process: poisson, rate: 1}\n  prompt_tokens: {dist: fixed, value: 10}\n"
                    "  output_tokens: {dist: fixed, value: 5}\n  duration_s: 5\n";
    char t[600];
    snprintf(t, sizeof t, "model: llama-3-8b\nengine: vllm-v0\nscheduler:\n  async_scheduling: true\n%s", w);
    refused(t, "bad.yaml:4: scheduler.async_scheduling: engine vllm-v0 at bad.yaml:2 has no async scheduling");
    snprintf(t, sizeof t, "model: llama-3-8b\nscheduler:\n  policy: vllm-v0\n  async_scheduling: true\n%s", w);
    refused(t, "bad.yaml:4: scheduler.async_scheduling: vLLM V1's async scheduler needs policy vllm-v1 (got vllm-v0)");
    snprintf(t, sizeof t, "model: llama-3-8b\nengine: trtllm\nscheduler:\n  policy: sarathi\n"
             "  async_scheduling: true\n%s", w);
    refused(t, "bad.yaml:5: scheduler.async_scheduling: vLLM V1's async scheduler needs policy vllm-v1 (got sarathi)");
    snprintf(t, sizeof t, "model: llama-3-8b\nscheduler:\n  async_scheduling: maybe\n%s", w);
    refused(t, "bad.yaml:3: scheduler.async_scheduling");
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_formula), cmocka_unit_test(test_roofline),
                                       cmocka_unit_test(test_resolve), cmocka_unit_test(test_refuse)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
