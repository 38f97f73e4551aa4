/* engine_profile.c -- the table of serving-engine profiles and their memory rules.
 *
 * Sources (../shared/brief/vllm-internals.md s1 and s9, vLLM main @ 9aaf83ef):
 *   vLLM V1  vllm/v1/worker/gpu_worker.py determine_available_memory():
 *              available_kv = ceil(util x total) - (weights + torch_peak_increase + non_torch_increase)
 *                             - cudagraph_memory_estimate
 *            gpu_model_runner.py profile_run(): one eager forward of max_num_batched_tokens tokens over
 *              num_reqs = min(max_num_batched_tokens, max_num_seqs) dummy requests; logits and the full
 *              sampler on num_reqs x vocab rows (the sampler's fp32 sort is often the peak).
 *            profile_cudagraph_memory(): max over modes of the first capture + (n_graphs - 1) x
 *              max(second capture, 1 MiB) per mode; PIECEWISE graphs for every capture size up to
 *              min(2 x max_num_seqs, 512), FULL graphs for the decode sizes up to max_num_seqs.
 *   vLLM V0  the same profile run, without the CUDA-graph estimate (V0 captured graphs after
 *            allocating the KV cache, inside the 1 - util margin: vllm/worker/worker.py
 *            determine_num_available_blocks, vLLM 0.6; not in the brief, noted from the V0 code).
 *   TRT-LLM  kv_cache_free_gpu_mem_fraction of the memory free after the engine is loaded
 *            (weights, activation buffers sized for max_num_tokens, the CUDA context) -- calibration.md A.
 *   SGLang   python/sglang/srt/server_args.py _handle_gpu_memory_settings: mem_fraction_static x total
 *            holds weights and the KV pool; default mem_fraction_static = (total - reserved) / total.
 *
 * Figures marked [est] are estimates of allocator behaviour that the brief gives as ranges; they are
 * chosen so that the 24 GB / Llama-3.1-8B case leaves about 1.2 GB besides weights and KV inside vLLM's
 * budget, as vLLM's own profile does (issue 11), and stated in docs/HARDWARE.md.
 */
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "engine_profile.h"

#define GIB 1073741824.0
#define MIB 1048576.0
#define ACT_BYTES 2.0            /* activations are bf16 */

/* [est] vLLM's sampler on num_reqs x vocab fp32 logits: logits (4) + sorted values (4) + int64 sort
 * indices (8) + probabilities (4) bytes per element; the brief's range is 0.6-0.9 GiB for 256 x 128256,
 * i.e. 19.6-29.4 bytes per element. */
#define SAMPLER_BYTES_PER_LOGIT 20.0
/* [est] non-torch increase during profiling: cuBLAS/attention workspaces (0.1-0.3 GiB at TP 1), plus
 * lazily created NCCL communicator buffers with TP > 1. */
#define NON_TORCH_TP1 (0.15 * GIB)
#define NON_TORCH_NCCL (0.2 * GIB)
/* [est] what each CUDA graph after the first adds to the shared pool (the code's floor is 1 MiB). */
#define GRAPH_EACH (3.0 * MIB)
/* [est] CUDA context, taken before TRT-LLM measures its free memory. */
#define CUDA_CONTEXT (0.5 * GIB)

static double total_of(const ls_gpu *g)
{
    return g->device_mem_bytes > 0 ? g->device_mem_bytes : g->mem_bytes;
}

/* Peak bytes of one forward pass over T tokens on one GPU: the residual stream and the normed hidden
 * states, plus the larger of the attention phase (QKV and attention output) and the MLP phase
 * (gate_up and the activated output; MoE: top_k rows per token). Buffers live for one layer only. */
static double forward_peak(const ls_deploy *d, double T)
{
    const ls_model *m = d->model;
    double t = d->tp;
    double stream = 2.0 * T * m->hidden;
    double attn = T * ((m->heads + 2.0 * m->kv_heads) * m->head_dim + m->heads * m->head_dim) / t;
    double rows = m->experts > 1 ? T * m->top_k : T;
    double mlp = rows * 3.0 * m->ffn / t;
    return ACT_BYTES * (stream + (attn > mlp ? attn : mlp));
}

/* vLLM's profile run: the forward, then logits and the sampler on num_reqs rows (every TP rank samples
 * on the gathered logits; only the last PP stage). The hidden states stay alive through the sampler. */
static double vllm_torch_peak(const ls_mem_ctx *x)
{
    const ls_deploy *d = x->d;
    double T = (double)x->max_batched_tokens;
    double reqs = (double)(x->max_num_seqs < x->max_batched_tokens ? x->max_num_seqs : x->max_batched_tokens);
    double fwd = forward_peak(d, T);
    if (x->stage != d->pp - 1)
        return fwd;
    double sampler = reqs * d->model->vocab * SAMPLER_BYTES_PER_LOGIT + T * d->model->hidden * ACT_BYTES;
    return fwd > sampler ? fwd : sampler;
}

/* Number of PIECEWISE capture sizes, [1, 2, 4] + 8..248 step 8 + 256..max step 16 (vllm/config/compilation.py),
 * below or at max_size; FULL graphs use the same list up to max_num_seqs. */
static int capture_sizes_upto(int64_t max_size)
{
    int n = 0;
    for (int64_t s = 1; s <= max_size; s = s < 4 ? s * 2 : s < 8 ? 8 : s < 256 ? s + 8 : s + 16)
        n++;
    return n;
}

static double vllm_graphs(const ls_mem_ctx *x)
{
    int64_t seqs = x->max_num_seqs;
    int64_t max_pw = 2 * seqs < 512 ? 2 * seqs : 512;
    if (max_pw > x->max_batched_tokens)
        max_pw = x->max_batched_tokens;
    int n_pw = capture_sizes_upto(max_pw), n_full = capture_sizes_upto(seqs < max_pw ? seqs : max_pw);
    double first = forward_peak(x->d, (double)max_pw);  /* the largest capture, taken first */
    return first + (n_pw - 1 + n_full - 1) * GRAPH_EACH;
}

static double vllm_non_torch(const ls_mem_ctx *x)
{
    return NON_TORCH_TP1 + (x->d->tp > 1 ? NON_TORCH_NCCL : 0);
}

static void vllm_v1_memory(const ls_mem_ctx *x, ls_mem_parts *o)
{
    o->budget = ceil(x->fraction * o->total);
    o->activation = vllm_torch_peak(x);
    o->non_torch = vllm_non_torch(x);
    o->graphs = vllm_graphs(x);
    o->kv = o->budget - x->weights - o->activation - o->non_torch - o->graphs;
}

static void vllm_v0_memory(const ls_mem_ctx *x, ls_mem_parts *o)
{
    o->budget = x->fraction * o->total;
    o->activation = vllm_torch_peak(x);
    o->non_torch = vllm_non_torch(x);
    o->graphs = 0;  /* captured after the KV cache, from the 1 - util margin */
    o->kv = o->budget - x->weights - o->activation - o->non_torch;
}

static void trtllm_memory(const ls_mem_ctx *x, ls_mem_parts *o)
{
    o->budget = o->total - CUDA_CONTEXT;
    o->non_torch = CUDA_CONTEXT;
    o->activation = forward_peak(x->d, (double)x->max_batched_tokens);
    o->graphs = 0;
    double free_b = o->budget - x->weights - o->activation;
    o->kv = free_b > 0 ? x->fraction * free_b : free_b;
}

/* SGLang's cuda_graph_max_bs by GPU memory (GB) and TP (< 4 or not), from _handle_gpu_memory_settings. */
static double sglang_graph_bs(double gb, int tp)
{
    if (gb < 20) return 8;
    if (gb < 35) return tp < 4 ? 24 : 80;
    if (gb < 60) return tp < 4 ? 32 : 160;
    if (gb < 160) return tp < 4 ? 256 : 512;
    return 512;
}

static void sglang_memory(const ls_mem_ctx *x, ls_mem_parts *o)
{
    double f = x->fraction;
    double gb = o->total / 1e9;
    double chunk = (double)x->max_batched_tokens;
    double bs = sglang_graph_bs(gb, x->d->tp);
    /* reserved = 512 MB + 1.5 MB per token of max(chunk, 2048) + 2 MB per graph batch + TP*PP/8 GB,
     * at least 10 GB on GPUs over 60 GB */
    double reserved = (512 + 1.5 * (chunk > 2048 ? chunk : 2048) + 2 * bs) * MIB + x->d->tp * x->d->pp / 8.0 * GIB;
    if (gb > 60 && reserved < 10 * GIB)
        reserved = 10 * GIB;
    if (isnan(f))
        f = (o->total - reserved) / o->total;
    o->budget = f * o->total;
    o->activation = o->total - o->budget;  /* what SGLang keeps outside its static pool */
    o->non_torch = 0;
    o->graphs = 0;
    o->kv = o->budget - x->weights;
}

static const ls_engine_profile profiles[] = {
    /* async: vLLM V1 resolves scheduler_config.async_scheduling=None to True and its
     * EngineCore.step_with_batch_queue schedules batch N+1 while batch N runs (vllm-internals.md s3,
     * "Async scheduling"): on by default. V0 has no such overlap (multi-step was its answer to CPU
     * overhead, RFC #6854): none. TensorRT-LLM's and SGLang's own overlap schedulers have no source
     * here: off by default, and scheduler.async_scheduling: true applies vLLM V1's rule to them. */
    {"vllm-v1", "gpu_memory_utilization", 0.9, vllm_v1_memory, true, LS_ASYNC_ON},
    {"vllm-v0", "gpu_memory_utilization", 0.9, vllm_v0_memory, true, LS_ASYNC_NONE},
    {"trtllm", "kv_cache_free_gpu_mem_fraction", 0.9, trtllm_memory, false, LS_ASYNC_OFF},
    {"sglang", "mem_fraction_static", NAN, sglang_memory, true, LS_ASYNC_OFF},  /* sgl-kernel ports vLLM's custom all-reduce */
};

const ls_engine_profile *ls_engine_profile_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < sizeof profiles / sizeof profiles[0]; i++)
        if (!strcmp(profiles[i].name, name))
            return &profiles[i];
    if (!strcmp(name, "vllm"))
        return &profiles[0];
    return NULL;
}

const ls_engine_profile *ls_engine_profile_default(void)
{
    return &profiles[0];
}

void ls_engine_profile_names(char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof profiles / sizeof profiles[0] && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? ", " : "", profiles[i].name);
}

void ls_engine_profile_vllm_batch_defaults(const ls_gpu *g, int64_t *max_batched_tokens, int64_t *max_num_seqs)
{
    bool big = total_of(g) >= 70 * GIB && strstr(g->name, "a100") == NULL;
    *max_batched_tokens = big ? 8192 : 2048;
    *max_num_seqs = big ? 1024 : 256;
}

void ls_engine_profile_memory(const ls_engine_profile *p, const ls_mem_ctx *x, ls_mem_parts *out)
{
    assert(x && x->d && x->d->model && x->d->gpu && out);
    if (!p)
        p = ls_engine_profile_default();
    ls_mem_ctx c = *x;
    if (c.max_batched_tokens <= 0 || c.max_num_seqs <= 0) {
        int64_t t, s;
        ls_engine_profile_vllm_batch_defaults(x->d->gpu, &t, &s);
        if (c.max_batched_tokens <= 0)
            c.max_batched_tokens = t;
        if (c.max_num_seqs <= 0)
            c.max_num_seqs = s;
    }
    if (isnan(c.fraction) && !isnan(p->default_fraction))
        c.fraction = p->default_fraction;
    memset(out, 0, sizeof *out);
    out->total = total_of(x->d->gpu);
    p->memory(&c, out);
    double reserve = x->d->gpu->activation_reserve_bytes;
    if (reserve > 0 && p->memory != sglang_memory) {
        /* a measured figure replaces the derived activation, non-torch and graph bytes */
        double derived = out->activation + out->non_torch + out->graphs;
        double scale = p->memory == trtllm_memory ? c.fraction : 1.0;
        out->kv += scale * (derived - reserve);
        out->activation = reserve;
        out->non_torch = out->graphs = 0;
        if (p->memory == trtllm_memory)
            out->budget = out->total;
    }
}
