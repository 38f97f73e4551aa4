/* memory.h -- where the bytes go on each GPU, and how many KV blocks are left.
 *
 * Weights per GPU by TP/PP stage (the embedding on the first stage, the LM
 * head on the last), KV bytes per token per GPU (KV heads replicate when TP
 * exceeds their number), the engine's own accounting of activations, non-torch
 * memory and CUDA graphs (engine_profile.h), and the KV blocks that remain. A plan whose weights do not fit is infeasible,
 * with a reason in numbers ("weights 141.1 GB need 1 GPU of 96 GB: 86.4 GB usable").
 */
#ifndef LS_MEMORY_H
#define LS_MEMORY_H

#include <stdbool.h>
#include <stdint.h>

#include "cost.h"
#include "error.h"

typedef struct ls_memory_plan {
    bool feasible;
    char reason[256];               /* why not, when !feasible */
    double usable_bytes;            /* gpu_memory_utilization * HBM per GPU */
    double weights_bytes[LS_MAX_PP];/* per GPU of each stage */
    double weights_bytes_max;       /* the most loaded GPU */
    double reserve_bytes;           /* activation + non_torch + graphs, per GPU of the tightest stage */
    double activation_bytes;        /* the engine's profile-run peak (engine_profile.h) */
    double non_torch_bytes;         /* outside the framework's allocator */
    double graphs_bytes;            /* CUDA graphs */
    double kv_cache_bytes;          /* left for KV on the tightest stage's GPU */
    double kv_bytes_per_token_gpu;  /* per GPU, on the stage with the most layers */
    int block_size;                 /* tokens per KV block */
    int64_t kv_blocks;              /* blocks per replica (the tightest stage decides) */
    bool kv_blocks_from_user;       /* set explicitly instead of derived */
} ls_memory_plan;

/* Compute the plan of one replica by the memory rule of d->engine (NULL: vllm-v1),
 * with `gpu_memory_utilization` the engine's memory fraction (NaN: the
 * engine's default). `user_blocks` > 0 overrides the derived block count
 * (vLLM's own figure, for calibration). Infeasibility is not an error: it
 * returns LS_OK with plan->feasible false. Errors are bad inputs (tp, pp < 1,
 * pp > layers, a fraction outside (0, 1]). */
ls_status ls_memory_plan_compute(const ls_deploy *d, double gpu_memory_utilization, int block_size,
                                 int64_t user_blocks, ls_memory_plan *plan, ls_error *e);

/* KV bytes per token on one GPU of a stage with `layers` layers: MLA's latent
 * replicated on each TP rank, GQA heads split; sliding-window layers charged at
 * min(1, window / d->kv_context_hint) of a full layer's when the hint is set. */
double ls_memory_kv_bytes_per_token_stage(const ls_deploy *d, int layers);
/* The plan ls_run computes for replica 0 of a loaded configuration (defined in run.c). */
struct ls_run_config;
ls_status ls_run_memory_plan(const struct ls_run_config *c, ls_memory_plan *plan, ls_error *e);

/* Layers held by stage s of p (layers split as evenly as possible, earlier stages take the remainder). */
int ls_memory_stage_layers(int layers, int pp, int stage);

#endif
