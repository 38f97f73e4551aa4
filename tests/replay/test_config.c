/* test_config.c -- the run configuration: defaults, strategy strings, the
 * /configs row, the workload key, and errors that name FILE:LINE and the key path. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config_internal.h"
#include "replay.h"

static const char *const base_text =
    "model: llama-3-70b\n"
    "dtype: {weights: bf16, kv: fp8}\n"
    "hardware: gh200-96gb\n"
    "cluster: gh200-quad\n"
    "parallelism: tp4pp2\n"
    "scheduler:\n"
    "  policy: vllm-v1\n"
    "  enable_chunked_prefill: true\n"
    "  prefill_chunk_size: 4096\n"
    "  max_batched_tokens: auto\n"
    "  max_num_seqs: 256\n"
    "  max_model_len: 8192\n"
    "  gpu_memory_utilization: 0.9\n"
    "router: least-outstanding\n"
    "workload:\n"
    "  arrival: {process: poisson, rate: 2.0}\n"
    "  prompt_tokens: {dist: lognormal, mu: 8.7, sigma: 0.17}\n"
    "  output_tokens: {dist: lognormal, mean: 256, stddev: 128}\n"
    "  duration_s: 300\n"
    "seed: 42\n"
    "slo: {ttft_s: 2.0, tpot_s: 0.2}\n";

static ls_status load_text(const char *text, ls_run_config **c, ls_error *e)
{
    ls_yaml *root;
    ls_status rc = ls_yaml_load_string(text, strlen(text), "cfg.yaml", &root, e);
    if (rc)
        return rc;
    rc = ls_config_load(root, NULL, NULL, c, e);
    ls_yaml_free(root);
    return rc;
}

/* Load base_text with one line replaced (or appended when `old` is NULL); expect failure containing all needles. */
static void expect_error(const char *old, const char *new_line, const char *n1, const char *n2)
{
    char text[4096];
    if (old) {
        const char *p = strstr(base_text, old);
        assert_non_null(p);
        size_t pre = (size_t)(p - base_text);
        snprintf(text, sizeof text, "%.*s%s%s", (int)pre, base_text, new_line, p + strlen(old));
    } else {
        snprintf(text, sizeof text, "%s%s", base_text, new_line);
    }
    ls_run_config *c = NULL;
    ls_error e;
    ls_error_clear(&e);
    ls_status rc = load_text(text, &c, &e);
    if (rc == LS_OK) {
        print_error("expected an error for '%s'\n", new_line);
        ls_config_free(c);
        fail();
    }
    if ((n1 && !strstr(e.msg, n1)) || (n2 && !strstr(e.msg, n2))) {
        print_error("message '%s' lacks '%s' / '%s'\n", e.msg, n1 ? n1 : "", n2 ? n2 : "");
        fail();
    }
}

static void test_sketch_loads(void **state)
{
    (void)state;
    ls_run_config *c;
    ls_error e;
    if (load_text(base_text, &c, &e)) {
        print_error("%s\n", e.msg);
        fail();
    }
    assert_int_equal(c->tp, 4);
    assert_int_equal(c->pp, 2);
    assert_int_equal(c->dp, 1);
    assert_true(c->sched.budget_auto);
    assert_int_equal(c->sched.prefill_chunk_size, 4096);
    assert_string_equal(c->router->name, "least-outstanding");
    assert_true(c->target_tbt_s == 0.2);  /* defaults to slo.tpot_s */
    ls_config_row row;
    ls_config_get_row(c, &row);
    assert_string_equal(row.model, "llama-3-70b");
    assert_string_equal(row.hardware, "gh200-96gb");
    assert_string_equal(row.cluster, "gh200-quad");
    assert_string_equal(row.parallelism, "tp4pp2");
    assert_int_equal(row.n_gpus, 8);
    assert_string_equal(row.dtype_weights, "bf16");
    assert_string_equal(row.dtype_kv, "fp8");
    assert_string_equal(row.policy, "vllm-v1");
    assert_string_equal(row.max_batched_tokens, "auto");
    assert_string_equal(row.router, "least-outstanding");
    assert_string_equal(row.workload, "synthetic");
    assert_true(row.arrival_rate == 2.0 && row.duration_s == 300 && row.seed == 42);
    assert_true(row.slo_ttft_s == 2.0 && row.slo_tpot_s == 0.2);
    assert_true(ls_config_cost_estimate(c) > 0);

    /* the workload key: same workload + seed -> same key; the rate changes it */
    char *k1 = ls_xstrdup(ls_config_workload_key(c));
    assert_int_equal(ls_config_set_arrival_rate(c, 4.0, &e), LS_OK);
    assert_string_not_equal(k1, ls_config_workload_key(c));
    ls_config_get_row(c, &row);
    assert_true(row.arrival_rate == 4.0);
    assert_int_not_equal(ls_config_set_arrival_rate(c, -1.0, &e), LS_OK);
    free(k1);
    ls_config_free(c);
}

static void test_strategies(void **state)
{
    (void)state;
    static const struct { const char *s; int tp, pp, dp; const char *canon; } cases[] = {
        {"parallelism: tp4pp2\n", 4, 2, 1, "tp4pp2"},  {"parallelism: tp2pp2dp2\n", 2, 2, 2, "tp2pp2dp2"},
        {"parallelism: dp8\n", 1, 1, 8, "dp8"},     {"parallelism: tp1\n", 1, 1, 1, "tp1"},
        {"parallelism: pp2tp4\n", 4, 2, 1, "tp4pp2"},  {"parallelism: {tp: 2, pp: 1, dp: 4}\n", 2, 1, 4, "tp2dp4"},
        /* TP beyond the KV heads replicates them (vLLM allows it) */
        {"parallelism: tp16\n", 16, 1, 1, "tp16"},    {"parallelism: tp64\n", 64, 1, 1, "tp64"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[4096];
        const char *p = strstr(base_text, "parallelism: tp4pp2\n");
        snprintf(text, sizeof text, "%.*s%s%s", (int)(p - base_text), base_text, cases[i].s,
                 p + strlen("parallelism: tp4pp2\n"));
        ls_run_config *c;
        ls_error e;
        if (load_text(text, &c, &e)) {
            print_error("%s: %s\n", cases[i].s, e.msg);
            fail();
        }
        assert_int_equal(c->tp, cases[i].tp);
        assert_int_equal(c->pp, cases[i].pp);
        assert_int_equal(c->dp, cases[i].dp);
        assert_string_equal(c->parallelism, cases[i].canon);
        ls_config_free(c);
    }
}

static void test_errors(void **state)
{
    (void)state;
    /* unknown keys name the file, the line and the path */
    expect_error("  max_num_seqs: 256\n", "  max_num_seq: 256\n", "cfg.yaml:11", "scheduler.max_num_seq");
    expect_error(NULL, "colour: blue\n", "cfg.yaml:22", "colour");
    /* wrong types */
    expect_error("  max_num_seqs: 256\n", "  max_num_seqs: lots\n", "cfg.yaml:11", "scheduler.max_num_seqs");
    expect_error("  enable_chunked_prefill: true\n", "  enable_chunked_prefill: maybe\n", "cfg.yaml:8",
                 "enable_chunked_prefill");
    expect_error("  max_batched_tokens: auto\n", "  max_batched_tokens: lots\n", "cfg.yaml:10", "max_batched_tokens");
    expect_error("  gpu_memory_utilization: 0.9\n", "  gpu_memory_utilization: 1.5\n", "cfg.yaml:13",
                 "gpu_memory_utilization");
    expect_error("seed: 42\n", "seed: -3\n", "cfg.yaml:20", "seed");
    /* names: the catalog lists the known ones */
    expect_error("model: llama-3-70b\n", "model: llama-9\n", "cfg.yaml:1", "llama-3-8b");
    expect_error("hardware: gh200-96gb\n", "hardware: tpu\n", "cfg.yaml:3", "h100-sxm");
    expect_error("router: least-outstanding\n", "router: random\n", "cfg.yaml:14", "round-robin");
    expect_error("  policy: vllm-v1\n", "  policy: orca\n", "cfg.yaml:7", "sarathi");
    /* strategies */
    expect_error("parallelism: tp4pp2\n", "parallelism: tp4xx2\n", "cfg.yaml:5", "tp4xx2");
    expect_error("parallelism: tp4pp2\n", "parallelism: tp4tp2\n", "cfg.yaml:5", "parallelism");
    expect_error("parallelism: tp4pp2\n", "parallelism: {tp: 4, ep: 2}\n", "cfg.yaml:5", "has no experts");
    /* TP must fit the head counts as vLLM requires (llama-3-70b: 64 heads, 8 KV
     * heads): tp | 64 and (tp | 8 or 8 | tp), so 1, 2, 4, 8, 16, 32, 64 */
    expect_error("parallelism: tp4pp2\n", "parallelism: tp3pp2\n", "cfg.yaml:5",
                 "valid TP degrees: 1, 2, 4, 8, 16, 32, 64");
    expect_error("parallelism: tp4pp2\n", "parallelism: {tp: 6, pp: 1}\n", "cfg.yaml:5: parallelism.tp: tp 6",
                 "(64 attention heads, 8 KV heads)");
    expect_error("parallelism: tp4pp2\n", "parallelism: tp128\n", "cfg.yaml:5: parallelism: tp 128",
                 "llama-3-70b");
    /* more GPUs than the cluster has */
    expect_error("cluster: gh200-quad\n", "cluster: {base: gh200-quad, max_nodes: 1}\n", "needs 8 GPUs", "has 4");
    /* max_model_len beyond the model's context */
    expect_error("  max_model_len: 8192\n", "  max_model_len: 100000\n", "cfg.yaml:12", "8192");
    /* numeric budget below max_num_seqs (as vLLM) */
    expect_error("  max_batched_tokens: auto\n", "  max_batched_tokens: 128\n", "max_batched_tokens", "max_num_seqs");
    /* the workload is the trace helper's: its errors come through with the path */
    expect_error("  duration_s: 300\n", "  duration_s: soon\n", "cfg.yaml:19", "duration_s");
    /* missing parts */
    {
        ls_run_config *c;
        ls_error e;
        assert_int_not_equal(load_text("model: llama-3-8b\nhardware: h100-sxm\n", &c, &e), LS_OK);
        assert_non_null(strstr(e.msg, "workload"));
        assert_int_not_equal(load_text("- a\n- b\n", &c, &e), LS_OK);
        assert_non_null(strstr(e.msg, "mapping"));
    }
}

static void test_defaults(void **state)
{
    (void)state;
    ls_run_config *c;
    ls_error e;
    const char *t = "model: llama-3-8b\n"
                    "workload: {arrival: {process: poisson, rate: 1}, prompt_tokens: {dist: fixed, value: 10},"
                    " output_tokens: {dist: fixed, value: 5}, duration_s: 5}\n";
    if (load_text(t, &c, &e)) {
        print_error("%s\n", e.msg);
        fail();
    }
    /* cluster dgx-h100 and its GPU; vLLM's defaults for a GPU of >= 70 GiB */
    assert_string_equal(c->gpu.name, "h100-sxm");
    assert_int_equal(c->sched.policy, LS_POLICY_VLLM_V1);
    assert_int_equal(c->sched.max_batched_tokens, 8192);
    assert_int_equal(c->sched.max_num_seqs, 1024);
    assert_int_equal(c->sched.max_model_len, 8192);
    assert_int_equal(c->sched.block_size, 16);
    assert_true(c->gpu_memory_utilization == 0.9);
    assert_true(c->slo_ttft_s == 2.0 && c->slo_tpot_s == 0.2);
    assert_true(c->drain);
    assert_int_equal(c->tp * c->pp * c->dp, 1);
    ls_config_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sketch_loads),
        cmocka_unit_test(test_strategies),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
