/* test_cost.c -- the roofline cost model against hand arithmetic (domain.md s3):
 * a Llama-3-70B prefill chunk and decode batch at TP 1, 4, 8 on dgx-h100, ring
 * all-reduces inside and across nodes (the worked example's 51 / 125 / 750 ms),
 * PP boundaries, MoE expert reads, fp8 without fp8 tensor cores, monotonicity. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cost.h"

typedef struct fx {
    ls_catalog *cat;
    const ls_model *m70, *mix;
    const ls_gpu *h100, *gh200, *a100;
    const ls_cluster *dgx, *quad, *nvl32, *single;
} fx;

static int setup(void **state)
{
    static fx f;
    ls_error e;
    if (ls_catalog_builtin(&f.cat, &e))
        return -1;
    if (ls_catalog_model(f.cat, "llama-3-70b", &f.m70, &e) || ls_catalog_model(f.cat, "mixtral-8x7b", &f.mix, &e) ||
        ls_catalog_gpu(f.cat, "h100-sxm", &f.h100, &e) || ls_catalog_gpu(f.cat, "gh200-96gb", &f.gh200, &e) ||
        ls_catalog_gpu(f.cat, "a100-80gb", &f.a100, &e) || ls_catalog_cluster(f.cat, "dgx-h100", &f.dgx, &e) ||
        ls_catalog_cluster(f.cat, "gh200-quad", &f.quad, &e) ||
        ls_catalog_cluster(f.cat, "gh200-nvl32", &f.nvl32, &e) ||
        ls_catalog_cluster(f.cat, "gh200-single", &f.single, &e))
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

static ls_cost_model *mk(const ls_model *m, const ls_gpu *g, const ls_cluster *k, int tp, int pp, ls_dtype w,
                         int first)
{
    ls_deploy d = {.model = m, .gpu = g, .cluster = k, .tp = tp, .pp = pp, .w_dtype = w,
                   .kv_dtype = LS_DTYPE_BF16, .first_gpu = first};
    ls_cost_model *cm = NULL;
    ls_error e;
    ls_status rc = ls_cost_roofline_new(&d, &cm, &e);
    if (rc)
        fail_msg("%s", e.msg);
    return cm;
}

static void assert_rel(double got, double want, double tol)
{
    double rel = (got - want) / want;
    if (!(rel >= -tol && rel <= tol))
        fail_msg("got %.9g, want %.9g (relative error %.3g > %.3g)", got, want, rel, tol);
}

static double mx(double a, double b)
{
    return a > b ? a : b;
}

static double total_s(const ls_cost_model *cm, const ls_batch_agg *b)
{
    ls_iter_cost c;
    ls_cost_iteration(cm, b, &c);
    double t = c.overhead_s + (cm->d.pp - 1) * c.transfer_s;
    for (int s = 0; s < cm->d.pp; s++)
        t += c.stage_s[s];
    return t;
}

/* One prefill of q tokens at context c that samples once; n decodes at context ctx. */
static ls_batch_agg batch(int64_t q, int64_t c, int64_t n, int64_t ctx)
{
    ls_batch_agg b = {0};
    b.tokens = q + n;
    b.n_seqs = (q > 0) + n;
    b.n_decode = n;
    b.n_sample = (q > 0) + n;
    b.sum_qc = (double)q * c + (double)n * ctx;
    b.sum_q2 = (double)q * q + n;
    b.sum_c = (double)c + (double)n * ctx;
    if (q == 0)
        b.sum_c = (double)n * ctx;
    return b;
}

/* Llama-3-70B (h 8192, n_q 64, n_kv 8, d 128, f 28672, V 128256, 80 layers), BF16, per TP rank:
 *   QKV + output projection parameters = 8192*(64+2*8)*128 + 64*128*8192 = 150,994,944
 *   SwiGLU MLP parameters               = 3*8192*28672                    = 704,643,072
 *   LM head parameters                  = 128256*8192                     = 1,050,673,152
 * a 4096-token chunk at context 0: Σq·c = 0, Σq(q+1)/2 = 4096*4097/2 = 8,390,656. */
#define PROJ 150994944.0
#define MLP 704643072.0
#define HEAD 1050673152.0

/* all-reduce on dgx-h100 inside one node: vLLM's graph-captured all-reduce as MEASURED on 8 x H100
 * (../shared/kernels/h100_sxm/custom_allreduce_vllm_0.24.0.csv.gz, backend vllm_graph; the table holds
 * 6 significant digits of these, hence the 1e-6 tolerance below) at the two message sizes used here:
 * 64 MiB (a 4096-token chunk, 33,554,432 bf16 elements) and 1 MiB (64 decodes, 524,288 elements). */
static double ar_dgx(const ls_cluster *k, int t, double M)
{
    (void)k;
    if (t == 1)
        return 0;
    if (M == 4096 * 8192 * 2.0)
        return (t == 4 ? 0.32994335174560546 : 0.3439641571044922) * 1e-3;
    assert_true(M == 64 * 8192 * 2.0);
    return (t == 4 ? 0.012757439613342286 : 0.01496832013130188) * 1e-3;
}

static void test_prefill_chunk_70b(void **state)
{
    fx *f = *state;
    const ls_gpu *g = f->h100;
    double P = 989e12, BW = 3.35e12 * g->mbu;
    double eff = g->mfu_max * 4096 / (4096 + g->mfu_half_tokens);
    double attn_rate = P * g->mfu_max * g->attn_eff;
    int tps[] = {1, 4, 8};
    for (int i = 0; i < 3; i++) {
        int t = tps[i];
        double kvh = 8.0 / t; /* KV heads per rank (t <= 8) */
        /* compute-bound GEMMs: T = 4096 rows is far above the ridge point */
        double proj = mx(2 * 4096 * PROJ / t / (P * eff), 2 * PROJ / t / BW);
        double mlp = mx(2 * 4096 * MLP / t / (P * eff), 2 * MLP / t / BW);
        double attn = mx(4 * (64.0 / t) * 128 * 8390656.0 / attn_rate, 2 * kvh * 128 * 2 * 4096 / BW);
        double head_eff = g->mfu_max * 1 / (1 + g->mfu_half_tokens); /* one sampled row */
        double head = mx(2 * 1 * HEAD / t / (P * head_eff), 2 * HEAD / t / BW);
        double want = 80 * (proj + mlp + attn + g->kernel_overhead_s) + 160 * ar_dgx(f->dgx, t, 4096 * 8192 * 2.0) +
                      head;
        ls_cost_model *cm = mk(f->m70, g, f->dgx, t, 1, LS_DTYPE_BF16, 0);
        ls_batch_agg b = batch(4096, 0, 0, 0);
        ls_iter_cost c;
        ls_cost_iteration(cm, &b, &c);
        assert_rel(c.stage_s[0], want, 1e-6);
        assert_true(c.transfer_s == 0);
        assert_true(c.overhead_s == g->iter_overhead_s);
        /* the whole chunk is ~5.8e14 FLOPs (domain.md worked example), whatever t */
        double flops = 80 * (2 * 4096 * (PROJ + MLP) + 4 * 64 * 128 * 8390656.0) + 2 * HEAD;
        assert_rel(c.flops, flops, 1e-9);
        assert_rel(c.flops, 5.8e14, 0.01);
        /* compute-bound: the GEMMs are the binding side */
        assert_true(2 * 4096 * MLP / t / (P * eff) > 2 * MLP / t / BW);
        double mfu = c.flops / ((c.stage_s[0] + c.overhead_s) * cm->peak_flops);
        print_message("prefill 4096 tp%d: stage %.1f ms (all-reduce %.1f ms), MFU %.2f\n", t, c.stage_s[0] * 1e3,
                      160 * ar_dgx(f->dgx, t, 4096 * 8192 * 2.0) * 1e3, mfu);
        if (t == 1)
            assert_true(mfu > 0.4 && mfu < 0.65); /* H100 prefill MFU 0.45-0.6 (calibration brief) */
        ls_cost_free(cm);
    }
}

static void test_decode_batch_70b(void **state)
{
    fx *f = *state;
    const ls_gpu *g = f->h100;
    double P = 989e12, BW = 3.35e12 * g->mbu;
    double eff = g->mfu_max * 64 / (64 + g->mfu_half_tokens);
    double attn_rate = P * g->mfu_max * g->attn_eff;
    int tps[] = {1, 4, 8};
    /* 64 decodes at context 2048: T = 64, Σq·c = Σc = 131,072, Σq(q+1)/2 = 64, S = 64 */
    for (int i = 0; i < 3; i++) {
        int t = tps[i];
        double kvh = 8.0 / t;
        double proj = mx(2 * 64 * PROJ / t / (P * eff), 2 * PROJ / t / BW);
        double mlp = mx(2 * 64 * MLP / t / (P * eff), 2 * MLP / t / BW);
        double attn = mx(4 * (64.0 / t) * 128 * (131072.0 + 64) / attn_rate,
                         2 * kvh * 128 * 2 * (131072.0 + 64) / BW);
        double head = mx(2 * 64 * HEAD / t / (P * eff), 2 * HEAD / t / BW);
        double want = 80 * (proj + mlp + attn + g->kernel_overhead_s) + 160 * ar_dgx(f->dgx, t, 64 * 8192 * 2.0) +
                      head;
        ls_cost_model *cm = mk(f->m70, g, f->dgx, t, 1, LS_DTYPE_BF16, 0);
        ls_batch_agg b = batch(0, 0, 64, 2048);
        ls_iter_cost c;
        ls_cost_iteration(cm, &b, &c);
        assert_rel(c.stage_s[0], want, 1e-6);
        /* memory-bound: weights (141.1 GB / t) plus the KV of 131,072 tokens (43 GB / t) */
        assert_true(2 * 64 * MLP / t / (P * eff) < 2 * MLP / t / BW);
        double bytes = 80 * (2 * (PROJ + MLP) + 2 * 8 * 128 * 2 * (131072.0 + 64)) + 2 * HEAD;
        assert_rel(c.bytes, bytes, 1e-9);
        double mbu = c.bytes / (c.stage_s[0] * cm->peak_bw);
        print_message("decode 64 @ 2048 tp%d: stage %.2f ms, MBU %.2f\n", t, c.stage_s[0] * 1e3, mbu);
        ls_cost_free(cm);
    }
}

/* domain.md: 160 all-reduces of 64 MiB cost ~51 ms at 370 GB/s, 125 ms at 150 GB/s, ~750 ms at 25 GB/s
 * (bandwidth term only: α = 0, efficiency folded into the bandwidth). */
static void test_allreduce_worked_example(void **state)
{
    fx *f = *state;
    ls_cluster k = {.name = "ideal", .gpus_per_node = 4, .intra_bw = 150e9, .inter_bw = 25e9, .allreduce_eff = 1};
    ls_deploy d = {.model = f->m70, .gpu = f->gh200, .cluster = &k, .tp = 8, .pp = 1};
    double M = 64.0 * 1024 * 1024;
    double across = 160 * ls_cost_allreduce_s(&d, 0, M); /* 8 GPUs on 4-GPU nodes: the network */
    assert_true(across > 740e-3 && across < 760e-3);
    k.gpus_per_node = 8;
    double inside = 160 * ls_cost_allreduce_s(&d, 0, M);
    assert_true(inside > 124e-3 && inside < 126e-3);
    k.intra_bw = 370e9;
    inside = 160 * ls_cost_allreduce_s(&d, 0, M);
    assert_true(inside > 50e-3 && inside < 52e-3);
    /* 1.75 * 64 MiB / 370 GB/s = 0.3174 ms each */
    assert_rel(inside, 160 * 1.75 * M / 370e9, 1e-12);
}

static void test_allreduce_placement(void **state)
{
    fx *f = *state;
    double M = 64.0 * 1024 * 1024;
    ls_deploy d = {.model = f->m70, .gpu = f->gh200, .cluster = f->quad, .tp = 8, .pp = 1};
    /* TP8 on quad nodes spans two nodes: 25 GB/s network, α = inter_lat */
    double quad8 = ls_cost_allreduce_s(&d, 0, M);
    assert_rel(quad8, 14 * f->quad->inter_lat_s + 1.75 * M / (25e9 * f->quad->allreduce_eff), 1e-12);
    /* TP8 inside the NVL32 domain: 450 GB/s */
    d.cluster = f->nvl32;
    double nvl8 = ls_cost_allreduce_s(&d, 0, M);
    assert_rel(nvl8, 14 * f->nvl32->intra_lat_s + 1.75 * M / (450e9 * f->nvl32->allreduce_eff), 1e-12);
    print_message("TP8 all-reduce of 64 MiB: gh200-quad (network) %.2f ms, gh200-nvl32 %.3f ms; x160 = %.0f / %.0f ms\n",
                  quad8 * 1e3, nvl8 * 1e3, 160 * quad8 * 1e3, 160 * nvl8 * 1e3);
    assert_true(quad8 > 15 * nvl8);
    /* TP4 inside one quad node: 150 GB/s pairs */
    d.cluster = f->quad;
    d.tp = 4;
    assert_rel(ls_cost_allreduce_s(&d, 0, M), 6 * f->quad->intra_lat_s + 1.5 * M / (150e9 * f->quad->allreduce_eff),
               1e-12);
    /* TP4 starting at GPU 2 straddles two nodes: the network */
    d.first_gpu = 2;
    assert_rel(ls_cost_allreduce_s(&d, 0, M), 6 * f->quad->inter_lat_s + 1.5 * M / (25e9 * f->quad->allreduce_eff),
               1e-12);
    /* stage 1 of a tp2pp2 replica from GPU 0 uses GPUs 2, 3: inside the node */
    d.first_gpu = 0;
    d.tp = 2;
    d.pp = 2;
    assert_rel(ls_cost_allreduce_s(&d, 1, M), 2 * f->quad->intra_lat_s + 1.0 * M / (150e9 * f->quad->allreduce_eff),
               1e-12);
    /* one GPU per node: any TP pays the network */
    d = (ls_deploy){.model = f->m70, .gpu = f->gh200, .cluster = f->single, .tp = 2, .pp = 1};
    assert_rel(ls_cost_allreduce_s(&d, 0, M), 2 * f->single->inter_lat_s + M / (25e9 * f->single->allreduce_eff),
               1e-12);
    /* TP1 has no all-reduce */
    d.tp = 1;
    assert_true(ls_cost_allreduce_s(&d, 0, M) == 0);

    /* In a whole iteration the difference between the two clusters is exactly 160 all-reduces
     * of the chunk's activations (4096 x 8192 x 2 bytes = 64 MiB): same GPU, same arithmetic. */
    ls_cost_model *a = mk(f->m70, f->gh200, f->quad, 8, 1, LS_DTYPE_FP8, 0);
    ls_cost_model *b = mk(f->m70, f->gh200, f->nvl32, 8, 1, LS_DTYPE_FP8, 0);
    ls_batch_agg pf = batch(4096, 0, 0, 0);
    ls_iter_cost ca, cb;
    ls_cost_iteration(a, &pf, &ca);
    ls_cost_iteration(b, &pf, &cb);
    assert_rel(ca.stage_s[0] - cb.stage_s[0], 160 * (quad8 - nvl8), 1e-9);
    ls_cost_free(a);
    ls_cost_free(b);
}

static void test_pp_transfer(void **state)
{
    fx *f = *state;
    /* the boundary sends hidden states + residual: 2 x 4096 x 8192 x 2 bytes = 128 MiB */
    double M = 2.0 * 4096 * 8192 * 2;
    ls_batch_agg pf = batch(4096, 0, 0, 0);
    ls_iter_cost c;
    /* tp4pp2 on quad nodes: stage 0 on node 0, stage 1 on node 1 -> network */
    ls_cost_model *cm = mk(f->m70, f->gh200, f->quad, 4, 2, LS_DTYPE_FP8, 0);
    ls_cost_iteration(cm, &pf, &c);
    assert_rel(c.transfer_s, f->quad->inter_lat_s + M / 25e9, 1e-12);
    assert_rel(c.transfer_s, ls_cost_transfer_s(&cm->d, 0, M), 1e-12);
    /* both stages hold 40 layers; the last also runs the LM head */
    assert_true(c.stage_s[1] > c.stage_s[0]);
    ls_cost_free(cm);
    /* tp4pp2 on dgx-h100: one node -> NVLink */
    cm = mk(f->m70, f->h100, f->dgx, 4, 2, LS_DTYPE_BF16, 0);
    ls_cost_iteration(cm, &pf, &c);
    assert_rel(c.transfer_s, f->dgx->intra_lat_s + M / 450e9, 1e-12);
    ls_cost_free(cm);
    /* tp4pp2 from GPU 4 on dgx-h100: stage 1 is on the next node */
    cm = mk(f->m70, f->h100, f->dgx, 4, 2, LS_DTYPE_BF16, 4);
    ls_cost_iteration(cm, &pf, &c);
    assert_rel(c.transfer_s, f->dgx->inter_lat_s + M / 50e9, 1e-12);
    ls_cost_free(cm);
}

static void test_moe_expert_reads(void **state)
{
    fx *f = *state;
    ls_cost_model *cm = mk(f->mix, f->h100, f->dgx, 1, 1, LS_DTYPE_BF16, 0);
    /* Mixtral per layer: projections 4096*48*128 + 32*128*4096 = 41,943,040; one expert 3*4096*14336
     * = 176,160,768; head 32000*4096 = 131,072,000. One decode at context 0 (T = 1) reads the
     * 2 experts it routes to, plus its own KV write (2*8*128*2 bytes), the router (4096 x 8 in
     * BF16) and the permutation of its T*k = 2 rows (gather and scatter, read + write: 4*2*4096*2). */
#define MIX_EXTRA_B(T) (4096 * 8 * 2.0 + 4.0 * 2 * (T) * 4096 * 2)
    ls_iter_cost c;
    ls_batch_agg one = batch(0, 0, 1, 0);
    ls_cost_iteration(cm, &one, &c);
    double want = 32 * (2 * 41943040.0 + 2 * 2 * 176160768.0 + 2 * 8 * 128 * 2 * 1 + MIX_EXTRA_B(1)) + 2 * 131072000.0;
    assert_rel(c.bytes, want, 1e-9);
    /* FLOPs per token use top_k = 2 experts: 2 * (active parameters) roughly, plus the router 2*4096*8 */
    assert_rel(c.flops, 2 * (32 * (41943040.0 + 2 * 176160768.0 + 4096 * 8) + 131072000.0) + 32 * 4 * 32 * 128 * 1.0,
               1e-9);
    /* 64 decodes touch E(1 - (1 - 2/8)^64) = 8 * (1 - 0.75^64) experts: all 8 for practical purposes */
    ls_batch_agg many = batch(0, 0, 64, 0);
    ls_cost_iteration(cm, &many, &c);
    double touched = 8 * (1 - pow(0.75, 64));
    want = 32 * (2 * 41943040.0 + 2 * touched * 176160768.0 + 2 * 8 * 128 * 2 * 64 + MIX_EXTRA_B(64)) +
           2 * 131072000.0;
    assert_rel(c.bytes, want, 1e-9);
    /* 3 decodes: 8 * (1 - 0.75^3) = 4.625 experts */
    ls_batch_agg three = batch(0, 0, 3, 0);
    ls_cost_iteration(cm, &three, &c);
    want = 32 * (2 * 41943040.0 + 2 * 4.625 * 176160768.0 + 2 * 8 * 128 * 2 * 3 + MIX_EXTRA_B(3)) + 2 * 131072000.0;
#undef MIX_EXTRA_B
    assert_rel(c.bytes, want, 1e-9);
    ls_cost_free(cm);
}

static void test_fp8_without_fp8_cores(void **state)
{
    fx *f = *state;
    ls_batch_agg pf = batch(4096, 0, 0, 0), dec = batch(0, 0, 8, 1024);
    /* A100: fp8 weights are storage only -> same compute time for a prefill, less time to decode */
    ls_cost_model *a16 = mk(f->m70, f->a100, f->dgx, 4, 1, LS_DTYPE_BF16, 0);
    ls_cost_model *a8 = mk(f->m70, f->a100, f->dgx, 4, 1, LS_DTYPE_FP8, 0);
    assert_true(a8->peak_flops == a16->peak_flops);
    /* (the only difference is the LM head's one sampled row, memory-bound: its bytes halve) */
    assert_rel(total_s(a8, &pf), total_s(a16, &pf), 1e-3);
    assert_true(total_s(a8, &dec) < 0.7 * total_s(a16, &dec));
    /* H100: fp8 tensor cores double the GEMM peak */
    ls_cost_model *h16 = mk(f->m70, f->h100, f->dgx, 4, 1, LS_DTYPE_BF16, 0);
    ls_cost_model *h8 = mk(f->m70, f->h100, f->dgx, 4, 1, LS_DTYPE_FP8, 0);
    assert_true(h8->peak_flops == 4 * 1979e12 && h16->peak_flops == 4 * 989e12);
    assert_true(total_s(h8, &pf) < 0.7 * total_s(h16, &pf));
    ls_cost_free(a16);
    ls_cost_free(a8);
    ls_cost_free(h16);
    ls_cost_free(h8);
}

static void test_monotone(void **state)
{
    fx *f = *state;
    ls_cost_model *cm = mk(f->m70, f->h100, f->dgx, 4, 2, LS_DTYPE_BF16, 0);
    /* more prefill tokens, more decodes, or longer contexts never cost less */
    double prev = 0;
    for (int64_t q = 1; q <= 32768; q += 1 + q / 7) {
        double t = total_s(cm, &(ls_batch_agg){0});
        ls_batch_agg b = batch(q, 0, 16, 1000);
        t = total_s(cm, &b);
        assert_true(t >= prev);
        prev = t;
    }
    prev = 0;
    for (int64_t n = 1; n <= 2048; n += 1 + n / 5) {
        ls_batch_agg b = batch(0, 0, n, 3000);
        double t = total_s(cm, &b);
        assert_true(t >= prev);
        prev = t;
    }
    prev = 0;
    for (int64_t ctx = 0; ctx <= 131072; ctx += 1 + ctx / 3) {
        ls_batch_agg b = batch(512, ctx, 8, ctx);
        double t = total_s(cm, &b);
        assert_true(t >= prev);
        prev = t;
    }
    ls_cost_free(cm);
    /* more TP never more FLOPs per GPU (nor more per-GPU time for the arithmetic) */
    ls_batch_agg loads[] = {batch(4096, 0, 0, 0), batch(0, 0, 64, 2048), batch(2048, 4096, 100, 500)};
    for (int i = 0; i < 3; i++) {
        double prev_f = INFINITY;
        for (int t = 1; t <= 16; t *= 2) {
            ls_cost_model *c = mk(f->m70, f->gh200, f->nvl32, t, 1, LS_DTYPE_BF16, 0);
            ls_iter_cost ic;
            ls_cost_iteration(c, &loads[i], &ic);
            assert_true(ic.flops / t <= prev_f * (1 + 1e-12));
            prev_f = ic.flops / t;
            ls_cost_free(c);
        }
    }
    /* Mixtral: more tokens touch more experts, never fewer bytes */
    cm = mk(f->mix, f->h100, f->dgx, 2, 1, LS_DTYPE_BF16, 0);
    prev = 0;
    for (int64_t n = 1; n <= 512; n++) {
        ls_batch_agg b = batch(0, 0, n, 100);
        double t = total_s(cm, &b);
        assert_true(t >= prev);
        prev = t;
    }
    ls_cost_free(cm);
}

static void test_bad_deploys(void **state)
{
    fx *f = *state;
    ls_deploy d = {.model = f->m70, .gpu = f->h100, .cluster = f->dgx, .tp = 0, .pp = 1};
    ls_cost_model *cm = NULL;
    ls_error e;
    assert_int_equal(ls_cost_roofline_new(&d, &cm, &e), LS_EINVAL);
    d.tp = 1;
    d.pp = 81;
    assert_int_equal(ls_cost_roofline_new(&d, &cm, &e), LS_EINVAL);
    assert_non_null(strstr(e.msg, "80 layers"));
    /* empty batch: only the engine overhead */
    cm = mk(f->m70, f->h100, f->dgx, 8, 1, LS_DTYPE_BF16, 0);
    ls_batch_agg none = {0};
    assert_rel(total_s(cm, &none), f->h100->iter_overhead_s, 1e-12);
    ls_cost_free(cm);
}

/* The cost of a batch is the same, bit for bit, whether the memo (by token count and by sampling
 * rows) already holds its entries, holds another count's in their slot, or is fresh: random
 * batches on one model beside a new model for each, on the one-stage path (pp 1, with and without
 * TP and async scheduling) and the general ones (pp 2, MoE). */
static void test_memo_same(void **state)
{
    fx *f = *state;
    struct { const ls_model *m; int tp, pp; bool async; } cases[] = {
        {f->m70, 4, 1, false}, {f->m70, 1, 1, true}, {f->m70, 2, 2, false}, {f->mix, 2, 1, false}};
    uint64_t s = 99;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        ls_deploy d = {.model = cases[c].m, .gpu = f->h100, .cluster = f->dgx, .tp = cases[c].tp,
                       .pp = cases[c].pp, .w_dtype = LS_DTYPE_BF16, .kv_dtype = LS_DTYPE_BF16,
                       .async_scheduling = cases[c].async};
        ls_cost_model *one = NULL;
        ls_error e;
        assert_int_equal(ls_cost_roofline_new(&d, &one, &e), LS_OK);
        for (int i = 0; i < 600; i++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            /* token counts T and T + 1024 share a slot; a few counts repeat */
            int64_t q = 1 + (int64_t)((s >> 33) % 64) + (i % 3 == 0 ? 1024 : 0);
            int64_t n = (int64_t)((s >> 45) % 48);
            ls_batch_agg b = batch(q, (int64_t)((s >> 20) % 3000), n, 1 + (int64_t)((s >> 10) % 2000));
            if (i % 7 == 0)
                b.n_sample = 0;
            if (i == 5)
                memset(&b, 0, sizeof b); /* no token: the engine overhead alone */
            ls_cost_model *fresh = NULL;
            assert_int_equal(ls_cost_roofline_new(&d, &fresh, &e), LS_OK);
            ls_iter_cost a, z;
            ls_cost_iteration(one, &b, &a);
            ls_cost_iteration(fresh, &b, &z);
            assert_memory_equal(a.stage_s, z.stage_s, (size_t)d.pp * sizeof a.stage_s[0]);
            assert_true(memcmp(&a.transfer_s, &z.transfer_s, sizeof a.transfer_s) == 0 &&
                        memcmp(&a.overhead_s, &z.overhead_s, sizeof a.overhead_s) == 0 &&
                        memcmp(&a.flops, &z.flops, sizeof a.flops) == 0 &&
                        memcmp(&a.bytes, &z.bytes, sizeof a.bytes) == 0);
            ls_cost_free(fresh);
        }
        ls_cost_free(one);
    }
}

/* Replicas of one shape share their memo (cost_roofline.c): models on two placements with the same
 * links, one whose TP group crosses nodes (its own memo), and a pp 2 pair, used in turn on random
 * batches, each give what a fresh model gives, bit for bit; freed in any order. */
static void test_memo_shared(void **state)
{
    fx *f = *state;
    for (int pp = 1; pp <= 2; pp++) {
        ls_cost_model *m[3];
        int first[3] = {0, 8, 6};  /* 6: GPUs 6..9 straddle two dgx-h100 nodes */
        ls_deploy d[3];
        ls_error e;
        for (int j = 0; j < 3; j++) {
            d[j] = (ls_deploy){.model = f->m70, .gpu = f->h100, .cluster = f->dgx, .tp = 4, .pp = pp,
                               .w_dtype = LS_DTYPE_BF16, .kv_dtype = LS_DTYPE_BF16, .first_gpu = first[j]};
            assert_int_equal(ls_cost_roofline_new(&d[j], &m[j], &e), LS_OK);
        }
        uint64_t s = 7 + (uint64_t)pp;
        for (int i = 0; i < 900; i++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            int j = (int)((s >> 50) % 3);
            ls_batch_agg b = batch((int64_t)((s >> 33) % 40) + (i % 2 ? 1024 : 0), (int64_t)((s >> 20) % 3000),
                                   (int64_t)((s >> 45) % 48), 1 + (int64_t)((s >> 10) % 2000));
            ls_cost_model *fresh = NULL;
            assert_int_equal(ls_cost_roofline_new(&d[j], &fresh, &e), LS_OK);
            ls_iter_cost a, z;
            ls_cost_iteration(m[j], &b, &a);
            ls_cost_iteration(fresh, &b, &z);
            assert_memory_equal(a.stage_s, z.stage_s, (size_t)pp * sizeof a.stage_s[0]);
            assert_true(memcmp(&a.transfer_s, &z.transfer_s, sizeof a.transfer_s) == 0 &&
                        memcmp(&a.flops, &z.flops, sizeof a.flops) == 0 &&
                        memcmp(&a.bytes, &z.bytes, sizeof a.bytes) == 0 &&
                        memcmp(&a.overhead_s, &z.overhead_s, sizeof a.overhead_s) == 0);
            ls_cost_free(fresh);
            if (i == 450) { /* the first model goes; the others keep the memo */
                ls_cost_free(m[0]);
                assert_int_equal(ls_cost_roofline_new(&d[0], &m[0], &e), LS_OK);
            }
        }
        /* the straddling group is slower: its links differ, so it could not share */
        ls_batch_agg big = batch(4096, 0, 0, 0);
        assert_true(total_s(m[2], &big) > total_s(m[1], &big));
        for (int j = 0; j < 3; j++)
            ls_cost_free(m[j]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prefill_chunk_70b),     cmocka_unit_test(test_decode_batch_70b),
        cmocka_unit_test(test_allreduce_worked_example), cmocka_unit_test(test_allreduce_placement),
        cmocka_unit_test(test_pp_transfer),           cmocka_unit_test(test_moe_expert_reads),
        cmocka_unit_test(test_fp8_without_fp8_cores), cmocka_unit_test(test_monotone),
        cmocka_unit_test(test_bad_deploys),           cmocka_unit_test(test_memo_same),
        cmocka_unit_test(test_memo_shared),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
