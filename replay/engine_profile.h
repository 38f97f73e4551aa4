/* engine_profile.h -- serving-engine profiles: the rules that differ between engines.
 *
 * A profile (vllm-v1, vllm-v0, trtllm, sglang) is a row of a handler table
 * found by name, like the routers (router.c). Today a profile decides how
 * much memory the engine leaves for the KV cache, following the engine's own
 * rule (docs/HARDWARE.md, "Memory model"; sources in engine_profile.c):
 *
 *   vllm-v1  util x total - weights - profile-run peak - non-torch - CUDA-graph estimate
 *   vllm-v0  util x total - weights - profile-run peak - non-torch (graphs come out of the 1 - util margin)
 *   trtllm   fraction x (total - CUDA context - weights - activation buffers)
 *   sglang   fraction x total - weights (fraction from SGLang's reserve formula when not given)
 *
 * "total" is the device memory the driver reports (ls_gpu.device_mem_bytes,
 * the data-sheet figure when not given). A GPU entry with
 * activation_reserve_gb > 0 replaces the derived non-weight, non-KV bytes by
 * that measured figure (the rule's fraction still applies).
 */
#ifndef LS_ENGINE_PROFILE_H
#define LS_ENGINE_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cost.h"

/* What a memory rule needs about one GPU of one PP stage. */
typedef struct ls_mem_ctx {
    const ls_deploy *d;
    double fraction;             /* the engine's memory fraction; NaN = the engine's default rule */
    int64_t max_batched_tokens;  /* the profile run's tokens (vLLM) / max_num_tokens (TRT-LLM) / chunk (SGLang) */
    int64_t max_num_seqs;
    int stage;                   /* PP stage; only the last one holds the LM head and samples */
    double weights;              /* weight bytes on this GPU */
} ls_mem_ctx;

/* Where the bytes of one GPU go, as the engine accounts them. */
typedef struct ls_mem_parts {
    double total;        /* device memory (driver's figure) */
    double budget;       /* what the engine may use: weights, activations, graphs and KV must fit in it */
    double activation;   /* peak activation of the profile run (forward and sampler) / activation buffers */
    double non_torch;    /* memory outside the framework's allocator: workspaces, NCCL, CUDA context */
    double graphs;       /* CUDA-graph memory the engine sets aside */
    double kv;           /* bytes left for the KV cache (may be <= 0) */
} ls_mem_parts;

/* An engine's async scheduling: the host's per-sequence step work overlapping the previous step's GPU
 * time (step_overhead.h). */
typedef enum ls_async_rule {
    LS_ASYNC_NONE,  /* the engine has none (vLLM V0): scheduler.async_scheduling true is refused */
    LS_ASYNC_OFF,   /* off unless scheduler.async_scheduling turns it on */
    LS_ASYNC_ON     /* on unless scheduler.async_scheduling turns it off (vLLM V1) */
} ls_async_rule;

typedef struct ls_engine_profile {
    const char *name;
    const char *fraction_name;   /* the engine's own name of its memory fraction */
    double default_fraction;     /* NaN: derived by the rule */
    void (*memory)(const ls_mem_ctx *x, ls_mem_parts *out);
    /* TP all-reduce: vLLM's custom all-reduce and the measured vLLM tables (collective.c) apply;
     * false = NCCL rings with the cluster's fitted alpha (TensorRT-LLM: no measured tables here) */
    bool custom_allreduce;
    /* async scheduling (step_options.h): whether the engine has it as modelled here and its default;
     * `scheduler.async_scheduling` overrides the default and is refused where the engine has none */
    ls_async_rule async;
} ls_engine_profile;

/* The profile named `name`, or NULL. */
const ls_engine_profile *ls_engine_profile_find(const char *name);
/* vllm-v1. */
const ls_engine_profile *ls_engine_profile_default(void);
/* "vllm-v1, vllm-v0, trtllm, sglang" into buf. */
void ls_engine_profile_names(char *buf, size_t size);

/* Fill `out` by the profile's memory rule (the GPU's activation_reserve_bytes, when > 0, replaces
 * activation + non-torch + graphs). A NULL profile means the default. */
void ls_engine_profile_memory(const ls_engine_profile *p, const ls_mem_ctx *x, ls_mem_parts *out);

/* vLLM's default token budget and max_num_seqs for the API server by GPU size
 * (EngineArgs.get_batch_defaults: >= 70 GiB and not A100: 8192 / 1024, else 2048 / 256). */
void ls_engine_profile_vllm_batch_defaults(const ls_gpu *g, int64_t *max_batched_tokens, int64_t *max_num_seqs);

#endif
