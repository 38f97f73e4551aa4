/* test_moe.c -- the 2026 catalog entries and the model side of MoE, MLA,
 * sliding windows and 4-bit formats, against published figures and hand
 * arithmetic: parameter counts against the model cards, MLA KV bytes per token,
 * the sliding-window KV bound, per-GPU weights under EP, one DeepSeek-V3 MoE
 * layer's FLOPs and its all-to-all on NVLink and across InfiniBand, and bad
 * catalog entries rejected with file:line. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cost_moe.h"
#include "memory.h"

static ls_catalog *cat;

static int setup(void **state)
{
    (void)state;
    ls_error e;
    if (ls_catalog_builtin(&cat, &e)) {
        fprintf(stderr, "%s\n", e.msg);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ls_catalog_free(cat);
    return 0;
}

static const ls_model *model(const char *name)
{
    const ls_model *m = NULL;
    ls_error e;
    if (ls_catalog_model(cat, name, &m, &e))
        fail_msg("%s", e.msg);
    return m;
}

static const ls_gpu *gpu(const char *name)
{
    const ls_gpu *g = NULL;
    ls_error e;
    if (ls_catalog_gpu(cat, name, &g, &e))
        fail_msg("%s", e.msg);
    return g;
}

static const ls_cluster *cluster(const char *name)
{
    const ls_cluster *k = NULL;
    ls_error e;
    if (ls_catalog_cluster(cat, name, &k, &e))
        fail_msg("%s", e.msg);
    return k;
}

static void assert_rel(double got, double want, double tol)
{
    double rel = (got - want) / want;
    if (!(rel >= -tol && rel <= tol))
        fail_msg("got %.9g, want %.9g (relative error %.3g%% > %.3g%%)", got, want, 100 * rel, 100 * tol);
}

/* Published totals: model cards and technical reports, as cited in catalog_data_2026.c. */
static void test_param_counts(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        double total, active, tol;  /* active 0: dense (= total) */
    } rows[] = {
        {"deepseek-v3", 671e9, 37.6e9, 0.005},    /* DeepSeek-V3 report: 671 B, 37 B activated (domain.md: 37.6) */
        {"deepseek-r1", 671e9, 37.6e9, 0.005},
        {"kimi-k2", 1.04e12, 32.6e9, 0.015},      /* report: 1.04 T / 32.6 B; derived 1.026 T (1.3% low) */
        {"qwen3-235b-a22b", 235e9, 22e9, 0.015},  /* model card: 235 B / 22 B, rounded */
        {"qwen3-30b-a3b", 30.5e9, 3.3e9, 0.02},    /* the card rounds 3.35 B to 3.3 */
        {"qwen3-32b", 32.8e9, 0, 0.005},
        {"qwen3-8b", 8.2e9, 0, 0.005},
        {"mixtral-8x22b", 141e9, 39e9, 0.01},
        {"llama-3.2-1b", 1.24e9, 0, 0.005},
        {"llama-3.2-3b", 3.21e9, 0, 0.005},
        {"llama-4-scout", 109e9, 17e9, 0.015},    /* 109 B includes the vision encoder */
        {"llama-4-maverick", 400e9, 17e9, 0.02}, /* model card: 400 B / 17 B (hand count below) */
        {"gemma-3-27b", 27.0e9, 0, 0.01},         /* 27.4 B minus the 0.4 B SigLIP vision encoder */
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const ls_model *m = model(rows[i].name);
        assert_rel(ls_model_params(m), rows[i].total, rows[i].tol);
        if (rows[i].active > 0)
            assert_rel(ls_model_active_params(m), rows[i].active, rows[i].tol);
        else
            assert_true(ls_model_active_params(m) == ls_model_params(m));
    }
    /* gpt-oss model card: totals and active counts exclude the input embedding from "active" */
    const ls_model *g = model("gpt-oss-120b");
    assert_rel(ls_model_params(g), 116.83e9, 0.002);
    assert_rel(ls_model_active_params(g) - ls_model_embed_params(g), 5.13e9, 0.01);
    g = model("gpt-oss-20b");
    assert_rel(ls_model_params(g), 20.91e9, 0.002);
    assert_rel(ls_model_active_params(g) - ls_model_embed_params(g), 3.61e9, 0.01);

    /* DeepSeek-V3 by hand (config.json): an expert 3*7168*2048 = 44,040,192; MLA attention split
     * q_b 1536*128*192 + kv_b 512*128*256 + o 128*128*7168 = 171,966,464, replicated q_a 7168*1536 +
     * 1536 + kv_a 7168*576 + 512 = 15,140,864. */
    const ls_model *d = model("deepseek-v3");
    assert_true(ls_model_expert_params(d) == 44040192.0);
    double split, repl, routed;
    ls_model_attn_params(d, &split, &repl);
    assert_true(split == 171966464.0 && repl == 15140864.0);
    ls_model_layers_parts(d, 0, 61, &split, &repl, &routed);
    assert_true(routed == 58.0 * 256 * 44040192.0);
    /* 61 x (attention + 2 norms) + 3 dense FFNs + 58 x (shared expert + router 7168 x 256) */
    assert_true(split == 61 * (171966464.0 + 14336) + 3 * 396361728.0 + 58 * (44040192.0 + 1835008.0));
    assert_true(repl == 61 * 15140864.0);

    /* Llama-4 Maverick by hand (config.json text_config: hidden 5120, 48 layers, 40 heads / 8 KV of 128,
     * vocab 202048 untied, 128 experts top-1 + 1 shared of 8192, interleave_moe_layer_step 2, dense
     * layers of 16384). MoE layers are 1, 3, ..., 47 (transformers: range(step - 1, layers, step)).
     *   embedding = head = 202048 * 5120 = 1,034,485,760
     *   attention + 2 norms = 5120*40*128 * 2 + 5120*8*128 * 2 + 10240 = 62,924,800 per layer
     *   dense FFN = 3 * 5120 * 16384 = 251,658,240 (24 layers); an expert = 3 * 5120 * 8192 = 125,829,120
     *   MoE FFN = 129 experts + router 5120 * 128 = 16,232,611,840 (24 layers)
     *   total = 2 * 1,034,485,760 + 48 * 62,924,800 + 24 * 251,658,240 + 24 * 16,232,611,840 + 5120
     *         = 400,711,848,960; active: 24 * (2 * 125,829,120 + 655,360) routed + shared instead of
     *         the MoE FFN = 17,184,691,200. */
    const ls_model *mv = model("llama-4-maverick");
    assert_int_equal(ls_model_moe_layers(mv), 24);
    assert_false(ls_model_layer_is_moe(mv, 0));
    assert_true(ls_model_layer_is_moe(mv, 1) && ls_model_layer_is_moe(mv, 47));
    assert_int_equal(ls_model_moe_layers_in(mv, 0, 7), 3);  /* 1, 3, 5 */
    assert_int_equal(ls_model_moe_layers_in(mv, 24, 24), 12);
    assert_true(ls_model_params(mv) == 400711848960.0);
    assert_true(ls_model_active_params(mv) == 17184691200.0);
    ls_model_layers_parts(mv, 0, 48, &split, &repl, &routed);
    assert_true(routed == 24 * 128 * 125829120.0);
    /* Scout: every layer MoE (step 1) */
    assert_int_equal(ls_model_moe_layers(model("llama-4-scout")), 48);
}

static void test_kv_bytes(void **state)
{
    (void)state;
    /* MLA (DeepSeek-V3 config: kv_lora_rank 512, qk_rope_head_dim 64): the cache holds the 576-wide
     * latent per layer, 61 * 576 * 2 = 70,272 bytes per token in BF16, against 2 * 61 * 128 * 192 * 2
     * ... for materialised heads; the latent is the same on every TP rank. */
    const ls_model *d = model("deepseek-v3");
    assert_true(ls_model_kv_bytes_per_token(d, LS_DTYPE_BF16) == 70272.0);
    assert_true(ls_model_kv_bytes_per_token(d, LS_DTYPE_FP8) == 35136.0);
    assert_true(ls_model_kv_layer_bytes_gpu(d, LS_DTYPE_BF16, 8) == 1152.0);
    /* GQA with the same head for k and v: 2 * n_kv * d * b (Qwen3-235B: 94 * 4 * 256 * 2 = 192,512) */
    const ls_model *q = model("qwen3-235b-a22b");
    assert_true(ls_model_kv_bytes_per_token(q, LS_DTYPE_BF16) == 192512.0);
    assert_true(ls_model_kv_layer_bytes_gpu(q, LS_DTYPE_BF16, 8) == 256.0 * 2); /* one KV head per rank */
    /* Sliding window (gpt-oss-120b: 18 of 36 layers keep 128 tokens; a layer 8 * (64 + 64) * 2 = 2048 B):
     * 1000 tokens = 18 * 1000 * 2048 + 18 * 128 * 2048 = 41,582,592 bytes; under the window every
     * layer keeps everything: 100 tokens = 36 * 100 * 2048. */
    const ls_model *g = model("gpt-oss-120b");
    assert_true(ls_model_kv_bytes_context(g, LS_DTYPE_BF16, 1000) == 41582592.0);
    assert_true(ls_model_kv_bytes_context(g, LS_DTYPE_BF16, 100) == 7372800.0);
    assert_true(ls_model_kv_bytes_context(g, LS_DTYPE_BF16, 128) == ls_model_kv_bytes_per_token(g, LS_DTYPE_BF16) * 128);
    /* the memory plan charges the sliding layers at window / mean context: 1000-token contexts ->
     * 18 + 18 * 0.128 layers per token on one GPU */
    ls_deploy dep = {.model = g, .gpu = gpu("h100-sxm"), .cluster = cluster("dgx-h100"), .tp = 1, .pp = 1,
                     .w_dtype = LS_DTYPE_BF16, .kv_dtype = LS_DTYPE_BF16, .kv_context_hint = 1000};
    assert_rel(ls_memory_kv_bytes_per_token_stage(&dep, 36), (18 + 18 * 0.128) * 2048, 1e-12);
}

static void test_dtypes(void **state)
{
    (void)state;
    /* scales included: NVFP4 16-element blocks with an FP8 scale, MXFP4 32 with E8M0, int4 group 128 */
    assert_true(ls_dtype_bytes(LS_DTYPE_NVFP4) == 0.5625);
    assert_true(ls_dtype_bytes(LS_DTYPE_MXFP4) == 0.53125);
    assert_true(ls_dtype_bytes(LS_DTYPE_INT4) == 0.53125);
    ls_dtype d;
    ls_error e;
    assert_int_equal(ls_dtype_parse("awq", &d, &e), LS_OK);
    assert_int_equal(d, LS_DTYPE_INT4);
    assert_int_equal(ls_dtype_parse("fp3", &d, &e), LS_EINVAL);
    assert_non_null(strstr(e.msg, "mxfp4"));
    /* FP4 tensor cores on Blackwell; Hopper computes 4-bit weights in BF16 and says so */
    bool wide;
    assert_true(ls_cost_gemm_peak(gpu("b200"), LS_DTYPE_NVFP4, &wide) == 9000e12 && !wide);
    assert_true(ls_cost_gemm_peak(gpu("h100-sxm"), LS_DTYPE_MXFP4, &wide) == 989e12 && wide);
    assert_true(ls_cost_gemm_peak(gpu("b200"), LS_DTYPE_INT4, &wide) == 2250e12 && !wide);
    assert_true(ls_cost_gemm_peak(gpu("a100-80gb"), LS_DTYPE_FP8, &wide) == 312e12 && wide);
}

/* DeepSeek-V3 FP8, dp8ep8 on 8 x H200: per GPU 32 of the 256 experts of each of the 58 MoE layers,
 * the rest (attention, dense layers, shared experts, router, embedding, head) whole. */
static void test_ep_memory(void **state)
{
    (void)state;
    ls_deploy d = {.model = model("deepseek-v3"), .gpu = gpu("h200"), .cluster = cluster("dgx-h200"), .tp = 1,
                   .pp = 1, .w_dtype = LS_DTYPE_FP8, .kv_dtype = LS_DTYPE_FP8, .ep = 8};
    ls_memory_plan p;
    ls_error e;
    assert_int_equal(ls_memory_plan_compute(&d, 0.9, 16, 0, &p, &e), LS_OK);
    double routed = 58.0 * 32 * 44040192.0;
    double rest = 14340682752.0 + 923592704.0 + 2 * 129280.0 * 7168;
    assert_rel(p.weights_bytes_max, routed + rest, 1e-12); /* 98.86 GB */
    assert_true(p.feasible);
    /* KV: 61 layers of the 576-byte FP8 latent per token */
    assert_true(p.kv_bytes_per_token_gpu == 61 * 576.0);
    /* EPLB with 32 redundant experts: 36 slots per GPU */
    d.redundant_experts = 32;
    assert_int_equal(ls_memory_plan_compute(&d, 0.9, 16, 0, &p, &e), LS_OK);
    assert_rel(p.weights_bytes_max, 58.0 * 36 * 44040192.0 + rest, 1e-12);
    /* TP8 instead: everything split 8 ways but the replicated MLA down-projections */
    ls_deploy t = d;
    t.ep = 0;
    t.redundant_experts = 0;
    t.tp = 8;
    assert_int_equal(ls_memory_plan_compute(&t, 0.9, 16, 0, &p, &e), LS_OK);
    assert_rel(p.weights_bytes_max, (58.0 * 256 * 44040192.0 + 14340682752.0 + 2 * 129280.0 * 7168) / 8 + 923592704.0,
               1e-12);
    /* gpt-oss-120b with MXFP4 experts fits one H100: experts 36 * 128 * 3 * 2880^2 * 0.53125 B, the rest BF16 */
    ls_deploy o = {.model = model("gpt-oss-120b"), .gpu = gpu("h100-sxm"), .cluster = cluster("dgx-h100"), .tp = 1,
                   .pp = 1, .w_dtype = LS_DTYPE_BF16, .kv_dtype = LS_DTYPE_BF16, .has_e_dtype = true,
                   .e_dtype = LS_DTYPE_MXFP4};
    assert_int_equal(ls_memory_plan_compute(&o, 0.9, 16, 0, &p, &e), LS_OK);
    double ex = 36.0 * 128 * 3 * 2880.0 * 2880;
    assert_rel(p.weights_bytes_max, ex * 0.53125 + (ls_model_params(o.model) - ex) * 2, 1e-12);
    assert_true(p.feasible && p.weights_bytes_max < 72e9);
}

/* One DeepSeek-V3 MoE layer, 256 tokens per replica, dp ranks with one GPU each (tp1). Message sizes
 * (issue 14, domain.md s3): tokens x top_k x hidden x dtype per phase, BF16 both ways here:
 * 256 * 8 * 7168 = 14,680,064 elements; 7/8 of them leave the GPU over NVLink. Links from the catalog:
 * dgx-h200 NVLink4 450 GB/s each way x allreduce_eff 0.9, 4 us per step; dgx-h100 IB one CX-7
 * 400 Gb/s = 50 GB/s per GPU x 0.82, 5 us. */
static void test_a2a_deepseek_layer(void **state)
{
    (void)state;
    ls_deploy d = {.model = model("deepseek-v3"), .gpu = gpu("h200"), .cluster = cluster("dgx-h200"), .tp = 1,
                   .pp = 1, .w_dtype = LS_DTYPE_FP8, .kv_dtype = LS_DTYPE_FP8, .ep = 8, .first_gpu = 3};
    ls_moe_cost mc;
    ls_error e;
    assert_int_equal(ls_moe_cost_init(&mc, &d, &e), LS_OK);
    double elems = 256.0 * 8 * 7168;
    assert_true(ls_moe_a2a_bytes(&mc, 256) == 7.0 / 8 * elems * 4); /* 51,380,224 bytes */
    double phase = 4e-6 + 7.0 / 8 * elems * 2 / (450e9 * 0.9);       /* 67.4 us */
    assert_rel(ls_moe_a2a_s(&mc, 256), 2 * phase, 1e-12);
    print_message("DeepSeek-V3 layer, 256 tokens/GPU, ep8 NVLink: %.1f MB out, %.1f us\n",
                  ls_moe_a2a_bytes(&mc, 256) / 1e6, ls_moe_a2a_s(&mc, 256) * 1e6);
    /* FLOPs on the GPU: 256 * 8 pairs through one expert's 2 * 44,040,192, plus the shared expert
     * and the router on the 256 tokens */
    ls_op_cost oc;
    ls_moe_layer(&mc, 256, &oc);
    assert_rel(oc.flops, 2.0 * 256 * 8 * 44040192.0 + 2.0 * 256 * (44040192.0 + 7168 * 256), 1e-12);
    assert_rel(oc.comm_s, 2 * phase, 1e-12);
    /* imbalance 1.5: the busiest rank receives 1.5x and computes 1.5x the routed pairs */
    d.moe_imbalance = 1.5;
    assert_int_equal(ls_moe_cost_init(&mc, &d, &e), LS_OK);
    assert_rel(ls_moe_a2a_s(&mc, 256), 2 * (4e-6 + 1.5 * 7.0 / 8 * elems * 2 / (450e9 * 0.9)), 1e-12);
    ls_moe_layer(&mc, 256, &oc);
    assert_rel(oc.flops, 1.5 * 2.0 * 256 * 8 * 44040192.0 + 2.0 * 256 * (44040192.0 + 7168 * 256), 1e-12);
    /* the other backends (vllm-internals.md s7), balanced: DeepEP high-throughput sends one copy per
     * distinct destination rank, 7 (1 - (7/8)^8) = 4.595 of them per token; vLLM's default
     * allgather_reducescatter sends every token to the 7 other ranks as a ring of 7 steps, and its
     * kernel then permutes the rows of all 8 x 256 tokens of the group */
    ls_deploy bk = d;
    bk.moe_imbalance = 1;
    bk.moe_backend = ls_moe_backend_find("deepep_ht");
    assert_int_equal(ls_moe_cost_init(&mc, &bk, &e), LS_OK);
    double ht = 7 * (1 - pow(7.0 / 8, 8));
    assert_rel(ls_moe_a2a_bytes(&mc, 256), 256 * ht * 7168 * 4, 1e-12);
    assert_rel(ls_moe_a2a_s(&mc, 256), 2 * (4e-6 + 256 * ht * 7168 * 2 / (450e9 * 0.9)), 1e-12);
    bk.moe_backend = ls_moe_backend_find("allgather");
    assert_int_equal(ls_moe_cost_init(&mc, &bk, &e), LS_OK);
    assert_rel(ls_moe_a2a_bytes(&mc, 256), 7 * 256 * 7168 * 4.0, 1e-12);
    assert_rel(ls_moe_a2a_s(&mc, 256), 2 * (7 * 4e-6 + 7 * 256 * 7168 * 2 / (450e9 * 0.9)), 1e-12);
    ls_op_cost ag;
    ls_moe_layer(&mc, 256, &ag);
    assert_rel(ag.bytes - oc.bytes, 4.0 * (8 * 256 - 1.5 * 256) * 8 * 7168 * 2, 1e-9); /* vs imbalance 1.5 above */
    assert_null(ls_moe_backend_find("pplx")); /* removed from vLLM */
    /* EPLB: 8 redundant experts over 8 ranks relieve every rank: back to balanced */
    d.redundant_experts = 8;
    assert_int_equal(ls_moe_cost_init(&mc, &d, &e), LS_OK);
    assert_true(mc.imbalance == 1.0);

    /* Two DGX H100 nodes, ep16: half the peers sit across InfiniBand, which sets the time:
     * 8/16 * elems * 2 bytes at 41 GB/s = 358 us per phase (the NVLink half takes 35 us in parallel). */
    ls_deploy n = {.model = model("deepseek-v3"), .gpu = gpu("h100-sxm"), .cluster = cluster("dgx-h100"), .tp = 1,
                   .pp = 1, .w_dtype = LS_DTYPE_FP8, .kv_dtype = LS_DTYPE_FP8, .ep = 16, .first_gpu = 0};
    assert_int_equal(ls_moe_cost_init(&mc, &n, &e), LS_OK);
    assert_true(ls_moe_a2a_bytes(&mc, 256) == 15.0 / 16 * elems * 4);
    double ib = 5e-6 + 8.0 / 16 * elems * 2 / (50e9 * 0.82);
    assert_rel(ls_moe_a2a_s(&mc, 256), 2 * ib, 1e-12);
    /* FP8 dispatch (1 byte + a 4-byte scale per 128): the dispatch phase shrinks, the combine not */
    n.a2a_fp8 = true;
    assert_int_equal(ls_moe_cost_init(&mc, &n, &e), LS_OK);
    assert_rel(ls_moe_a2a_s(&mc, 256), ib + 5e-6 + 8.0 / 16 * elems * (1 + 4.0 / 128) / (50e9 * 0.82), 1e-12);
    print_message("DeepSeek-V3 layer, 256 tokens/GPU, ep16 over 2 nodes (IB): %.1f us (bf16 %.1f us)\n",
                  ls_moe_a2a_s(&mc, 256) * 1e6, 2 * ib * 1e6);
    /* PP with EP: the group is one stage of ep/tp replicas. tp4pp2 replicas fill a DGX node each
     * (stage 0 on GPUs 0-3, stage 1 on 4-7); ep8 = stage 0 of replicas 0 and 1, GPUs 0-3 and 8-11:
     * half the peers across InfiniBand, the same time as ep16 over two nodes at a quarter of the
     * tokens per GPU (each GPU sends T / tp) -- while tp4 replicas without PP keep ep8 inside a node. */
    ls_deploy p = n;
    p.a2a_fp8 = false;
    p.tp = 4;
    p.pp = 2;
    p.ep = 8;
    p.first_gpu = 8;  /* the second replica */
    assert_int_equal(ls_moe_cost_init(&mc, &p, &e), LS_OK);
    assert_true(mc.on_frac == 3.0 / 8 && mc.off_frac == 4.0 / 8);
    assert_rel(ls_moe_a2a_s(&mc, 4 * 256),
               2 * (5e-6 + 4.0 / 8 * elems * 2 / (50e9 * 0.82)), 1e-12);
    p.pp = 1;
    p.first_gpu = 4;
    assert_int_equal(ls_moe_cost_init(&mc, &p, &e), LS_OK);
    assert_true(mc.on_frac == 7.0 / 8 && mc.off_frac == 0);
    /* the whole roofline: an ep step of the same model costs more per token on two nodes */
    ls_cost_model *a = NULL, *b = NULL;
    ls_deploy h = n;
    h.ep = 8;
    h.a2a_fp8 = false;
    n.a2a_fp8 = false;
    assert_int_equal(ls_cost_roofline_new(&h, &a, &e), LS_OK);
    assert_int_equal(ls_cost_roofline_new(&n, &b, &e), LS_OK);
    ls_batch_agg batch = {.tokens = 256, .n_seqs = 256, .n_decode = 256, .n_sample = 256, .sum_qc = 256 * 1000.0,
                          .sum_q2 = 256, .sum_c = 256 * 1000.0};
    ls_iter_cost ca, cb;
    ls_cost_iteration(a, &batch, &ca);
    ls_cost_iteration(b, &batch, &cb);
    assert_true(cb.stage_s[0] > ca.stage_s[0]);
    ls_cost_free(a);
    ls_cost_free(b);
}

static ls_status load_text(ls_catalog *c, const char *text, ls_error *e)
{
    ls_yaml *doc = NULL;
    LS_TRY(ls_yaml_load_string(text, strlen(text), "bad.yaml", &doc, e));
    ls_status rc = ls_catalog_load_yaml(c, doc, e);
    ls_yaml_free(doc);
    return rc;
}

static void expect_error(const char *text, const char *where, const char *what)
{
    ls_error e;
    assert_int_equal(load_text(cat, text, &e), LS_EINVAL);
    if (!strstr(e.msg, where) || !strstr(e.msg, what))
        fail_msg("message '%s' lacks '%s' or '%s'", e.msg, where, what);
}

static void test_bad_entries(void **state)
{
    (void)state;
    expect_error("models:\n  x:\n    base: deepseek-v3\n    qk_rope_dim: 0\n", "bad.yaml:3", "qk_rope_dim");
    expect_error("models:\n  x:\n    base: llama-3-8b\n    shared_experts: 1\n", "bad.yaml:3", "experts > 1");
    expect_error("models:\n  x:\n    base: llama-3-8b\n    sliding_window: 4096\n", "bad.yaml:3", "sliding_layers");
    expect_error("models:\n  x:\n    base: llama-3-8b\n    q_lora_rank: 8\n", "bad.yaml:3", "kv_lora_rank");
    expect_error("models:\n  x:\n    base: deepseek-v3\n    dense_layers: 61\n", "bad.yaml:3", "dense_layers");
    expect_error("models:\n  x:\n    base: llama-3-8b\n    sliding_layers: 99\n    sliding_window: 9\n", "bad.yaml:3",
                 "sliding_layers");
    expect_error("models:\n  x:\n    base: llama-3-8b\n    moe_layer_step: 2\n", "bad.yaml:3", "experts > 1");
    expect_error("models:\n  x:\n    base: llama-4-maverick\n    moe_layer_step: 49\n", "bad.yaml:3",
                 "moe_layer_step leaves no MoE layer");
    expect_error("models:\n  x:\n    base: llama-4-maverick\n    moe_layer_step: 0\n", "bad.yaml:4", "moe_layer_step");
    expect_error("gpus:\n  g:\n    base: b200\n    fp4_tflops: -1\n", "bad.yaml:4", "fp4_tflops");
    /* a good override keeps the source of its base unless it gives one */
    ls_error e;
    assert_int_equal(load_text(cat, "models:\n  v3-long:\n    base: deepseek-v3\n    max_context: 200000\n", &e), LS_OK);
    assert_non_null(strstr(model("v3-long")->source, "DeepSeek-V3 config.json"));
}

/* Every built-in entry says where its numbers come from. */
static void test_every_entry_has_a_source(void **state)
{
    (void)state;
    int missing = 0;
    for (int i = 0; i < ls_catalog_n_models(cat); i++)
        missing += !ls_catalog_model_at(cat, i)->source[0];
    for (int i = 0; i < ls_catalog_n_gpus(cat); i++)
        missing += !ls_catalog_gpu_at(cat, i)->source[0];
    for (int i = 0; i < ls_catalog_n_clusters(cat); i++)
        missing += !ls_catalog_cluster_at(cat, i)->source[0];
    assert_int_equal(missing, 0);
    /* every GPU against the figures its source cites (GB, TB/s, dense TFLOP/s; 0: none) */
    static const struct {
        const char *name;
        double mem, bw, bf16, fp8, fp4;
    } sheets[] = {
        {"h100-sxm", 80, 3.35, 989, 1979, 0},       {"h200", 141, 4.8, 989, 1979, 0},
        {"gh200-96gb", 96, 4.0, 989, 1979, 0},      {"gh200-144gb", 144, 4.9, 989, 1979, 0},
        {"a100-80gb", 80, 2.039, 312, 0, 0},        {"a100-40gb", 40, 1.555, 312, 0, 0},
        {"b200", 180, 8.0, 2250, 4500, 9000},       {"gb200", 186, 8.0, 2500, 5000, 10000},
        {"b300", 288, 8.0, 2250, 4500, 13500},      {"gb300", 288, 8.0, 2500, 5000, 15000},
        {"h20", 96, 4.0, 148, 296, 0},              {"mi300x", 192, 5.3, 1307.4, 2614.9, 0},
        {"mi325x", 256, 6.0, 1307.4, 2614.9, 0},    {"mi355x", 288, 8.0, 2516.6, 5033.2, 10066.3},
        {"l40s", 48, 0.864, 362, 733, 0},           {"l4", 24, 0.3, 121, 242.5, 0},
        {"rtx-4090", 24, 1.008, 165.2, 330.3, 0},
    };
    assert_int_equal(ls_catalog_n_gpus(cat), (int)(sizeof sheets / sizeof sheets[0]));
    for (size_t i = 0; i < sizeof sheets / sizeof sheets[0]; i++) {
        const ls_gpu *g = gpu(sheets[i].name);
        assert_true(g->mem_bytes == sheets[i].mem * 1e9 && g->hbm_bw == sheets[i].bw * 1e12);
        assert_true(g->flops_bf16 == sheets[i].bf16 * 1e12 && g->flops_fp8 == sheets[i].fp8 * 1e12);
        assert_true(g->flops_fp4 == sheets[i].fp4 * 1e12);
    }
    assert_int_equal(cluster("gb200-nvl72")->gpus_per_node, 72);
    assert_true(cluster("gb200-nvl72")->intra_bw == 900e9 && cluster("gb300-nvl72")->inter_bw == 100e9);
    assert_true(cluster("mi300x-8")->intra_bw == 64e9 && !cluster("mi300x-8")->intra_switch);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_param_counts), cmocka_unit_test(test_kv_bytes),
        cmocka_unit_test(test_dtypes),       cmocka_unit_test(test_ep_memory),
        cmocka_unit_test(test_a2a_deepseek_layer), cmocka_unit_test(test_bad_entries),
        cmocka_unit_test(test_every_entry_has_a_source),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
