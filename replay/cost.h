/* cost.h -- the cost model interface: how long one iteration takes.
 *
 * The engine describes a batch by aggregates only, so a cost model is O(1)
 * per iteration whatever the batch size. Two implementations exist: the
 * roofline model (cost_roofline.c) and a table of measured times
 * (cost_table.c). Both sit behind this small vtable.
 */
#ifndef LS_COST_H
#define LS_COST_H

#include <stdbool.h>
#include <stdint.h>

#include "catalog.h"
#include "error.h"

#define LS_MAX_PP 64

/* Aggregates of one iteration's batch for one replica. A request i brings q_i
 * new tokens (1 for a decode, a chunk for a prefill) onto c_i cached ones. */
typedef struct ls_batch_agg {
    int64_t tokens;        /* T = Σ q_i */
    int64_t n_seqs;        /* requests in the batch */
    int64_t n_decode;      /* of which decodes (q_i = 1 after the prompt) */
    int64_t n_sample;      /* S: requests that sample a token (decodes + last prefill chunks) */
    double sum_qc;         /* Σ q_i·c_i */
    double sum_q2;         /* Σ q_i² */
    double sum_c;          /* Σ c_i: KV tokens read */
} ls_batch_agg;

typedef struct ls_iter_cost {
    double stage_s[LS_MAX_PP]; /* each PP stage (the first pp are set): compute + memory + TP all-reduces */
    double transfer_s;         /* activations between consecutive stages (each boundary) */
    double overhead_s;         /* engine CPU overhead, once per iteration */
    double flops;              /* whole replica, for MFU estimates */
    double bytes;              /* HBM bytes moved, whole replica, for MBU estimates */
} ls_iter_cost;

/* Everything a cost model needs to know about the deployment of one replica. */
typedef struct ls_deploy {
    const ls_model *model;
    const ls_gpu *gpu;
    const ls_cluster *cluster;
    int tp, pp;
    ls_dtype w_dtype, kv_dtype;
    int first_gpu;             /* index of this replica's first GPU in the cluster (node placement) */
    /* MoE and model-side options; zero values keep the dense/TP behaviour (cost_moe.h). */
    int ep;                    /* expert parallelism: routed experts whole over ep GPUs (0 or 1: TP-split) */
    bool has_e_dtype;          /* routed-expert weights in e_dtype instead of w_dtype (gpt-oss MXFP4) */
    ls_dtype e_dtype;
    double moe_imbalance;      /* busiest EP rank's token load over the mean (0: 1, balanced) */
    int redundant_experts;     /* EPLB replicas: (E + R) / ep expert slots per GPU */
    bool a2a_fp8;              /* dispatch in FP8 (DeepEP with block-FP8 weights); combine stays BF16 */
    const struct ls_moe_backend *moe_backend; /* the all-to-all (cost_moe.h); NULL: deepep_ll */
    double kv_context_hint;    /* mean context of the workload: sliding-window layers' KV per token is
                                  charged as min(1, window / hint) of a full layer's (0: no bound) */
    double cpu_offload_bytes;  /* weights per GPU kept in host memory (vLLM's --cpu-offload-gb), 0 none */
    /* the serving engine (engine_profile.h; NULL = vllm-v1) and the batch limits its memory rule
     * profiles with (0 = vLLM's defaults for the GPU) */
    const struct ls_engine_profile *engine;
    int64_t max_batched_tokens, max_num_seqs;
    /* async scheduling as the configuration resolved it (step_options.h: the engine's default, or
     * scheduler.async_scheduling): the host's per-sequence step work hides behind the GPU step */
    bool async_scheduling;
} ls_deploy;

/* The dtype of the routed experts (d->e_dtype when set, else the weights'). */
static inline ls_dtype ls_deploy_expert_dtype(const ls_deploy *d)
{
    return d->has_e_dtype ? d->e_dtype : d->w_dtype;
}

typedef struct ls_cost_model ls_cost_model;
typedef struct ls_cost_ops {
    void (*iteration)(const ls_cost_model *cm, const ls_batch_agg *b, ls_iter_cost *out);
    void (*free)(ls_cost_model *cm);
} ls_cost_ops;

struct ls_cost_model {
    const ls_cost_ops *ops;
    ls_deploy d;
    double peak_flops;         /* replica peak at the weight dtype, for MFU */
    double peak_bw;            /* replica HBM bandwidth, for MBU */
};

/* Roofline model from the catalog's physical parameters. */
ls_status ls_cost_roofline_new(const ls_deploy *d, ls_cost_model **out, ls_error *e);

/* The roofline with measured vLLM GEMM and attention kernel times where the GPU has tables
 * (catalog key kernel_tables; cost_kernels.h); the roofline itself elsewhere. */
ls_status ls_cost_kernels_new(const ls_deploy *d, ls_cost_model **out, ls_error *e);

/* Pieces of the roofline model, exposed for tests and worked examples
 * (docs/HARDWARE.md). The deploy must be valid (as ls_cost_roofline_new checks). */
/* One all-reduce of `bytes` over the TP group of stage s, by the algorithm the engine picks
 * (collective.h: measured table, vLLM custom one-/two-shot, NCCL ring on the slowest link): seconds. */
double ls_cost_allreduce_s(const ls_deploy *d, int stage, double bytes);
/* Sending `bytes` from stage s to stage s+1 (each TP rank to its peer): seconds. */
double ls_cost_transfer_s(const ls_deploy *d, int stage, double bytes);
/* Achieved fraction of peak of a GEMM with `rows` token rows: mfu_max * rows / (rows + mfu_half_tokens). */
double ls_cost_matmul_eff(const ls_gpu *g, double rows);

/* Measured times interpolated from a CSV (cost_table.c; format in docs/FIDELITY.md:
 * header phase,tp,tokens,context,time_s; prefill and decode rows forming a full
 * tokens x context grid at the deployment's TP). Fails with file:line on a
 * malformed row, and naming what is missing when the grid is incomplete or the
 * file has no rows for d->tp. The model keeps no reference to the file. */
ls_status ls_cost_table_new(const ls_deploy *d, const char *csv_path, ls_cost_model **out, ls_error *e);

static inline void ls_cost_iteration(const ls_cost_model *cm, const ls_batch_agg *b, ls_iter_cost *out)
{
    cm->ops->iteration(cm, b, out);
}
static inline void ls_cost_free(ls_cost_model *cm)
{
    if (cm)
        cm->ops->free(cm);
}

#endif
