/* test_engine_profile.c -- the engines' memory rules (engine_profile.c).
 *
 * The worked example is vLLM V1's rule (../shared/brief/vllm-internals.md s1,
 * gpu_worker.py determine_available_memory) written out by hand below for
 * Llama-3.1-8B BF16 on a 24 GB consumer GPU (cudaMemGetInfo total 23.99 GiB),
 * util 0.9, max_num_batched_tokens 2048, max_num_seqs 256 (vLLM's defaults
 * for a GPU under 70 GiB). The sampler, non-torch and per-graph figures are the
 * [est] constants of engine_profile.c; the expected sum of them is checked
 * against issue 11's measurement ("vLLM's own profile leaves about 1.2 GB for
 * everything that is neither weights nor KV").
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "engine_profile.h"
#include "memory.h"

#define GIB 1073741824.0
#define MIB 1048576.0

static const char gpu_yaml[] =
    "gpus:\n"
    "  rtx-4090:\n"
    "    memory_gb: 24\n"
    "    device_memory_gib: 23.99\n"
    "    hbm_tbps: 1.008\n"
    "    bf16_tflops: 165\n"
    "    mfu_max: 0.5\n"
    "    mbu: 0.8\n"
    "    attn_eff: 0.7\n"
    "  rtx-4090-measured:\n"
    "    base: rtx-4090\n"
    "    activation_reserve_gb: 1.0\n";

typedef struct fx {
    ls_catalog *cat;
    const ls_model *m8, *m70;
    const ls_gpu *g4090, *g4090m, *h100;
    const ls_cluster *dgx;
} fx;

static int setup(void **state)
{
    static fx f;
    ls_error e;
    ls_yaml *doc = NULL;
    if (ls_catalog_builtin(&f.cat, &e) || ls_yaml_load_string(gpu_yaml, sizeof gpu_yaml - 1, "test", &doc, &e) ||
        ls_catalog_load_yaml(f.cat, doc, &e))
        return -1;
    ls_yaml_free(doc);
    if (ls_catalog_model(f.cat, "llama-3.1-8b", &f.m8, &e) || ls_catalog_model(f.cat, "llama-3.1-70b", &f.m70, &e) ||
        ls_catalog_gpu(f.cat, "rtx-4090", &f.g4090, &e) || ls_catalog_gpu(f.cat, "rtx-4090-measured", &f.g4090m, &e) ||
        ls_catalog_gpu(f.cat, "h100-sxm", &f.h100, &e) || ls_catalog_cluster(f.cat, "dgx-h100", &f.dgx, &e))
        return -1;
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    ls_catalog_free(f->cat);
    return 0;
}

static ls_memory_plan plan_of(const ls_model *m, const ls_gpu *g, const ls_cluster *k, const char *engine, int tp,
                              double frac, int64_t tokens, int64_t seqs)
{
    ls_deploy d = {.model = m, .gpu = g, .cluster = k, .tp = tp, .pp = 1, .w_dtype = LS_DTYPE_BF16,
                   .kv_dtype = LS_DTYPE_BF16, .engine = ls_engine_profile_find(engine),
                   .max_batched_tokens = tokens, .max_num_seqs = seqs};
    assert_non_null(d.engine);
    ls_memory_plan p;
    ls_error e;
    if (ls_memory_plan_compute(&d, frac, 16, 0, &p, &e))
        fail_msg("%s", e.msg);
    return p;
}

/* vLLM V1 on the 24 GB GPU, by hand. */
static void test_vllm_v1_worked_example(void **state)
{
    fx *f = *state;
    ls_memory_plan p = plan_of(f->m8, f->g4090, f->dgx, "vllm-v1", 1, 0.9, 2048, 256);
    /* requested = ceil(0.9 x 23.99 GiB) (request_memory) */
    double requested = ceil(0.9 * 23.99 * GIB);
    assert_float_equal(p.usable_bytes, requested, 1.0);
    /* weights: 8,030,261,248 parameters (embedding, 32 layers, norm, untied head) x 2 bytes */
    assert_float_equal(p.weights_bytes_max, 8030261248.0 * 2, 1.0);
    /* profile run: 2048 tokens over min(2048, 256) = 256 requests. Forward peak 2 bytes x (residual + hidden
     * 2 x 2048 x 4096 + the MLP phase 2048 x 3 x 14336) = 209,715,200; sampler 256 x 128256 logits x 20 bytes
     * + the hidden states 2048 x 4096 x 2 = 673,447,936, the larger. */
    assert_float_equal(p.activation_bytes, 256.0 * 128256 * 20 + 2048.0 * 4096 * 2, 1.0);
    /* non-torch at TP 1: 0.15 GiB */
    assert_float_equal(p.non_torch_bytes, 0.15 * GIB, 1.0);
    /* graphs: captures [1,2,4] + 8..248/8 + 256..512/16 = 51 PIECEWISE up to min(2 x 256, 512), 35 FULL up to
     * 256; the first (512 tokens) = 2 x (2 x 512 x 4096 + 512 x 3 x 14336) bytes, then 3 MiB per further graph */
    double graphs = 2.0 * (2 * 512 * 4096 + 512 * 3 * 14336) + (50 + 34) * 3 * MIB;
    assert_float_equal(p.graphs_bytes, graphs, 1.0);
    /* blocks = floor(available / (16 tokens x 32 layers x 2 x 8 KV heads x 128 x 2 bytes = 2 MiB)) */
    double avail = requested - 8030261248.0 * 2 - (256.0 * 128256 * 20 + 2048.0 * 4096 * 2) - 0.15 * GIB - graphs;
    int64_t expect = (int64_t)floor(avail / (2 * MIB));
    assert_int_equal(expect, 2847);
    assert_int_equal(p.kv_blocks, expect);
    assert_float_equal(p.kv_cache_bytes, avail, 1.0);
    /* issue 11: about 1.2 GB is neither weights nor KV inside vLLM's budget */
    double other = p.activation_bytes + p.non_torch_bytes + p.graphs_bytes;
    assert_true(other > 1.0e9 && other < 1.4e9);
    /* the retired fixed reserve (3 GB, nominal 24e9 bytes) gave 1,210 blocks: under half */
    assert_true(floor((0.9 * 24e9 - 2 * 8030261248.0 - 3e9) / (2 * MIB)) == 1210);
}

/* The profile peak grows with the budget (the forward) and the sampler rows (max_num_seqs). */
static void test_vllm_profile_scales(void **state)
{
    fx *f = *state;
    ls_memory_plan a = plan_of(f->m8, f->h100, f->dgx, "vllm-v1", 1, 0.9, 8192, 1024);
    ls_memory_plan b = plan_of(f->m8, f->h100, f->dgx, "vllm-v1", 1, 0.9, 16384, 1024);
    ls_memory_plan c = plan_of(f->m8, f->h100, f->dgx, "vllm-v1", 1, 0.9, 8192, 256);
    assert_true(b.activation_bytes > a.activation_bytes);
    assert_true(b.kv_blocks < a.kv_blocks);
    assert_true(c.activation_bytes < a.activation_bytes);
    /* 0 = vLLM's defaults for an 80 GB GPU: 8192 / 1024 */
    ls_memory_plan z = plan_of(f->m8, f->h100, f->dgx, "vllm-v1", 1, 0.9, 0, 0);
    assert_int_equal(z.kv_blocks, a.kv_blocks);
    /* TP adds NCCL's non-torch buffers and splits the forward activations, not the sampler */
    ls_memory_plan t = plan_of(f->m70, f->h100, f->dgx, "vllm-v1", 4, 0.9, 8192, 1024);
    assert_float_equal(t.non_torch_bytes, 0.35 * GIB, 1.0);
    assert_float_equal(t.activation_bytes, 1024.0 * 128256 * 20 + 8192.0 * 8192 * 2, 1.0);
}

/* V0 leaves the graphs to the 1 - util margin; TRT-LLM takes a share of what is free; SGLang a static pool. */
static void test_other_engines(void **state)
{
    fx *f = *state;
    ls_memory_plan v1 = plan_of(f->m8, f->g4090, f->dgx, "vllm-v1", 1, 0.9, 2048, 256);
    ls_memory_plan v0 = plan_of(f->m8, f->g4090, f->dgx, "vllm-v0", 1, 0.9, 2048, 256);
    assert_true(v0.graphs_bytes == 0);
    assert_float_equal(v0.kv_cache_bytes, v1.kv_cache_bytes + v1.graphs_bytes, 2.0);

    /* TRT-LLM: 0.9 x (23.99 GiB - 0.5 GiB context - weights - forward buffers at 2048 tokens) */
    ls_memory_plan t = plan_of(f->m8, f->g4090, f->dgx, "trtllm", 1, 0.9, 2048, 256);
    double fwd = 2.0 * (2 * 2048 * 4096 + 2048 * 3 * 14336);
    assert_float_equal(t.kv_cache_bytes, 0.9 * (23.99 * GIB - 0.5 * GIB - 2 * 8030261248.0 - fwd), 2.0);

    /* SGLang, fraction derived: reserved = 512 + 1.5 x 2048 + 2 x 24 MB + 1/8 GiB on a 25.8 GB GPU */
    ls_memory_plan s = plan_of(f->m8, f->g4090, f->dgx, "sglang", 1, NAN, 2048, 256);
    double reserved = (512 + 1.5 * 2048 + 2 * 24) * MIB + GIB / 8;
    assert_float_equal(s.kv_cache_bytes, 23.99 * GIB - reserved - 2 * 8030261248.0, 2.0);
    /* ... or given */
    ls_memory_plan s2 = plan_of(f->m8, f->g4090, f->dgx, "sglang", 1, 0.8, 2048, 256);
    assert_float_equal(s2.kv_cache_bytes, 0.8 * 23.99 * GIB - 2 * 8030261248.0, 2.0);
}

/* A measured reserve on the GPU replaces the derived non-weight, non-KV bytes. */
static void test_measured_reserve(void **state)
{
    fx *f = *state;
    ls_memory_plan p = plan_of(f->m8, f->g4090m, f->dgx, "vllm-v1", 1, 0.9, 2048, 256);
    assert_float_equal(p.reserve_bytes, 1e9, 1.0);
    assert_float_equal(p.kv_cache_bytes, ceil(0.9 * 23.99 * GIB) - 2 * 8030261248.0 - 1e9, 2.0);
}

static void test_lookup(void **state)
{
    (void)state;
    assert_string_equal(ls_engine_profile_default()->name, "vllm-v1");
    assert_string_equal(ls_engine_profile_find("vllm")->name, "vllm-v1");
    assert_null(ls_engine_profile_find("tgi"));
    char names[128];
    ls_engine_profile_names(names, sizeof names);
    assert_string_equal(names, "vllm-v1, vllm-v0, trtllm, sglang");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vllm_v1_worked_example),
        cmocka_unit_test(test_vllm_profile_scales),
        cmocka_unit_test(test_other_engines),
        cmocka_unit_test(test_measured_reserve),
        cmocka_unit_test(test_lookup),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
