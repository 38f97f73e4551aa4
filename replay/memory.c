/* memory.c -- weights per GPU by TP/PP stage, and the KV blocks that remain.
 *
 * Per GPU of stage s (docs/HARDWARE.md, "Memory model"):
 *   weights_s = b_w * (split_s / t + replicated_s) + b_e * routed_s / (t, or ep / (1 + R/E) under EP)
 *               + [s == 0] * embed / t + [s == p-1] * (head + final norm) / t
 *   kv_s      = L_s * KV bytes per token of a layer on one GPU (ls_model_kv_layer_bytes_gpu)
 *   free_s    = what the engine's memory rule leaves for KV on stage s (engine_profile.c:
 *               vLLM: util * total - weights_s - profile peak - non-torch - CUDA graphs)
 *   blocks    = min over s of floor(free_s / (block_size * kv_s))
 * Every tensor is split over the t ranks (vocab-parallel embedding and head,
 * column/row-parallel projections); norm vectors are replicated but tiny.
 */
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "engine_profile.h"
#include "memory.h"

int ls_memory_stage_layers(int layers, int pp, int stage)
{
    assert(pp >= 1 && stage >= 0 && stage < pp && layers >= pp);
    return layers / pp + (stage < layers % pp ? 1 : 0);
}

/* Bytes of the embedding and LM head: the weight dtype, but BF16 under a 4-bit
 * format (vLLM keeps them unquantised in NVFP4/MXFP4/AWQ/GPTQ checkpoints). */
static double embed_dtype_bytes(const ls_deploy *d)
{
    return ls_dtype_is_4bit(d->w_dtype) ? 2.0 : ls_dtype_bytes(d->w_dtype);
}

/* Weights on one GPU of stage s, in bytes: TP-split parts / t, replicated parts
 * whole, routed experts / t (TP-split) or (E + R) / E / ep of them (EP). */
static double stage_weights(const ls_deploy *d, int s)
{
    const ls_model *m = d->model;
    int first = 0;
    for (int i = 0; i < s; i++)
        first += ls_memory_stage_layers(m->layers, d->pp, i);
    double split, repl, routed;
    ls_model_layers_parts(m, first, ls_memory_stage_layers(m->layers, d->pp, s), &split, &repl, &routed);
    if (s == d->pp - 1)
        split += m->hidden; /* final norm */
    double bytes = (split / d->tp + repl) * ls_dtype_bytes(d->w_dtype);
    if (d->ep > 1)
        routed *= (double)(m->experts + d->redundant_experts) / m->experts / d->ep;
    else
        routed /= d->tp;
    bytes += routed * ls_dtype_bytes(ls_deploy_expert_dtype(d));
    double eh = (s == 0 ? ls_model_embed_params(m) : 0) + (s == d->pp - 1 ? ls_model_head_params(m) : 0);
    bytes += eh / d->tp * embed_dtype_bytes(d);
    return bytes > d->cpu_offload_bytes ? bytes - d->cpu_offload_bytes : 0;  /* offloaded weights stay on the host */
}

double ls_memory_kv_bytes_per_token_stage(const ls_deploy *d, int layers)
{
    const ls_model *m = d->model;
    double lb = ls_model_kv_layer_bytes_gpu(m, d->kv_dtype, d->tp);
    if (m->sliding_window <= 0 || !(d->kv_context_hint > 0))
        return layers * lb;
    /* sliding layers assumed spread evenly over the stages (gpt-oss alternates, Gemma-3 5:1) */
    double frac = (double)m->sliding_layers / m->layers;
    double keep = d->kv_context_hint > m->sliding_window ? m->sliding_window / d->kv_context_hint : 1.0;
    return layers * lb * ((1.0 - frac) + frac * keep);
}

static void gb(char *buf, size_t size, double bytes)
{
    snprintf(buf, size, "%.1f GB", bytes / 1e9);
}

ls_status ls_memory_plan_compute(const ls_deploy *d, double gpu_memory_utilization, int block_size,
                                 int64_t user_blocks, ls_memory_plan *plan, ls_error *e)
{
    assert(d && d->model && d->gpu && plan);
    const ls_model *m = d->model;
    if (d->tp < 1 || d->pp < 1)
        return ls_fail(e, LS_EINVAL, "tp and pp must be >= 1 (got tp %d, pp %d)", d->tp, d->pp);
    if (d->pp > m->layers || d->pp > LS_MAX_PP)
        return ls_fail(e, LS_EINVAL, "pp %d exceeds the %d layers of %s (or the limit %d)", d->pp, m->layers,
                       m->name, LS_MAX_PP);
    if (!(gpu_memory_utilization > 0 && gpu_memory_utilization <= 1) && !isnan(gpu_memory_utilization))
        return ls_fail(e, LS_EINVAL, "gpu_memory_utilization must be in (0, 1], got %g", gpu_memory_utilization);
    if (block_size < 1)
        return ls_fail(e, LS_EINVAL, "block_size must be >= 1, got %d", block_size);

    memset(plan, 0, sizeof *plan);
    plan->feasible = true;
    plan->block_size = block_size;
    int worst = 0;
    for (int s = 0; s < d->pp; s++) {
        plan->weights_bytes[s] = stage_weights(d, s);
        if (plan->weights_bytes[s] > plan->weights_bytes[worst])
            worst = s;
    }
    /* the engine's own accounting of each stage's GPU (engine_profile.c) */
    ls_mem_parts parts[LS_MAX_PP];
    for (int s = 0; s < d->pp; s++) {
        ls_mem_ctx x = {.d = d, .fraction = gpu_memory_utilization, .max_batched_tokens = d->max_batched_tokens,
                        .max_num_seqs = d->max_num_seqs, .stage = s, .weights = plan->weights_bytes[s]};
        ls_engine_profile_memory(d->engine, &x, &parts[s]);
    }
    plan->usable_bytes = parts[0].budget;
    plan->weights_bytes_max = plan->weights_bytes[worst];
    /* stage 0 holds the most layers (earlier stages take the remainder) */
    plan->kv_bytes_per_token_gpu = ls_memory_kv_bytes_per_token_stage(d, ls_memory_stage_layers(m->layers, d->pp, 0));

    char w[20], u[20], cap[20];
    gb(w, sizeof w, plan->weights_bytes_max);
    gb(u, sizeof u, plan->usable_bytes);
    snprintf(cap, sizeof cap, "%.0f GB", d->gpu->mem_bytes / 1e9);
    if (plan->weights_bytes_max > plan->usable_bytes) {
        plan->feasible = false;
        if (d->tp == 1 && d->pp == 1)
            snprintf(plan->reason, sizeof plan->reason, "weights %s need 1 GPU of %s: %s usable", w, cap, u);
        else if (d->pp == 1)
            snprintf(plan->reason, sizeof plan->reason, "weights %s per GPU (tp%d) exceed %s usable on %s", w,
                     d->tp, u, d->gpu->name);
        else
            snprintf(plan->reason, sizeof plan->reason,
                     "weights %s per GPU (tp%d pp%d, stage %d) exceed %s usable on %s", w, d->tp, d->pp, worst,
                     u, d->gpu->name);
        return LS_OK;
    }

    /* The tightest stage decides: every stage must hold the KV of every token in flight. */
    int64_t blocks = INT64_MAX;
    int tight = 0;
    double free_tight = 0;
    for (int s = 0; s < d->pp; s++) {
        double per_token = ls_memory_kv_bytes_per_token_stage(d, ls_memory_stage_layers(m->layers, d->pp, s));
        double free_b = parts[s].kv;
        int64_t b = free_b > 0 ? (int64_t)floor(free_b / (block_size * per_token)) : 0;
        if (b < blocks) {
            blocks = b;
            tight = s;
            free_tight = free_b;
        }
    }
    plan->activation_bytes = parts[tight].activation;
    plan->non_torch_bytes = parts[tight].non_torch;
    plan->graphs_bytes = parts[tight].graphs;
    plan->reserve_bytes = plan->activation_bytes + plan->non_torch_bytes + plan->graphs_bytes;
    plan->kv_cache_bytes = free_tight > 0 ? free_tight : 0;
    if (user_blocks > 0) {
        plan->kv_blocks = user_blocks;
        plan->kv_blocks_from_user = true;
        return LS_OK;
    }
    plan->kv_blocks = blocks;
    if (blocks < 1) {
        char r[20], f[20];
        gb(w, sizeof w, plan->weights_bytes[tight]);
        gb(r, sizeof r, plan->reserve_bytes);
        gb(f, sizeof f, free_tight > 0 ? free_tight : 0);
        plan->feasible = false;
        snprintf(plan->reason, sizeof plan->reason,
                 "no room for a KV block: weights %s + reserve %s per GPU (stage %d) leave %s of %s usable on %.40s",
                 w, r, tight, f, u, d->gpu->name);
    }
    return LS_OK;
}
