/* cost_moe.h -- the FFN of an MoE layer in the roofline model (docs/HARDWARE.md,
 * "MoE layers and expert parallelism").
 *
 * Per MoE layer and GPU: the routed experts as a grouped GEMM over each expert's
 * own token rows, the shared experts and the router (TP-split like a dense FFN),
 * the permutation of token rows, and -- under expert parallelism -- the dispatch
 * and combine all-to-all on the links the EP group spans (NVLink/NVSwitch inside
 * a node, the network between nodes). Load imbalance: the busiest EP rank, with
 * `moe_imbalance` times the mean load, sets the step; EPLB's redundant experts
 * shrink the excess. Inputs are the replica's token count only, so it is O(1).
 */
#ifndef LS_COST_MOE_H
#define LS_COST_MOE_H

#include <stdbool.h>

#include "cost.h"

typedef struct ls_moe_cost ls_moe_cost;

/* How the tokens reach their experts and come back (vllm-internals.md s7):
 * deepep_ll one copy per (token, expert); deepep_ht one per destination rank;
 * allgather (vLLM's default allgather_reducescatter) every token to every rank,
 * as a ring on the slowest link, and the kernel then routes all of them. */
typedef struct ls_moe_backend {
    const char *name;
    double (*out_copies)(const ls_moe_cost *mc);   /* copies of a token's hidden vector leaving its GPU */
    double (*phase_s)(const ls_moe_cost *mc, double bytes); /* one phase moving `bytes` out of a GPU */
    bool all_tokens;                                /* every GPU's kernel sees every token of the group */
} ls_moe_backend;

/* The backend named `name`, or NULL; ls_moe_backend_names lists them for messages. */
const ls_moe_backend *ls_moe_backend_find(const char *name);
const char *ls_moe_backend_names(void);

/* The time, work and traffic of one operator (per GPU). */
typedef struct ls_op_cost {
    double s;          /* seconds, compute/memory roofline plus communication */
    double comm_s;     /* of which all-to-all */
    double flops;      /* per GPU */
    double bytes;      /* HBM bytes per GPU */
} ls_op_cost;

/* Constants of one replica's MoE layers, fixed at deployment. */
struct ls_moe_cost {
    const ls_deploy *d;
    double expert_params;      /* one routed expert, whole (EP) or its TP slice */
    double shared_params;      /* shared experts + router, TP slice */
    double local_experts;      /* expert slots per GPU under EP; E under TP */
    double imbalance;          /* effective max/mean load of an EP rank (>= 1) */
    double e_peak, w_peak;     /* GEMM peaks of the expert and of the shared weights, FLOP/s */
    double b_e, b_w;
    double mem_rate;
    /* all-to-all of the EP group: per-GPU share of peers inside / outside the node */
    double on_frac, off_frac;
    double a2a_lat_s;
    double intra_rate, inter_rate; /* achieved bytes/s */
    double disp_bytes;         /* bytes per element of a dispatched token (BF16 or FP8 + scales) */
    const ls_moe_backend *backend;
};

/* The GEMM peak for weights of dtype w on g: FP8/FP4 tensor cores where the GPU
 * has them, else the next wider rate it has (FP4 -> FP8 only for NVFP4 with FP8
 * activations is not modelled: 4-bit weights without FP4 cores compute in BF16,
 * as Marlin-style W4A16 kernels do). *widened, when not NULL, says so. */
double ls_cost_gemm_peak(const ls_gpu *g, ls_dtype w, bool *widened);

/* Set up the MoE constants of deployment d (d must outlive mc). Fails when the
 * EP group has no link bandwidth. A dense model gives a model that is never asked. */
ls_status ls_moe_cost_init(ls_moe_cost *mc, const ls_deploy *d, ls_error *e);

/* One MoE layer's FFN for a replica batch of T tokens. */
void ls_moe_layer(const ls_moe_cost *mc, double T, ls_op_cost *out);

/* The dispatch + combine all-to-all alone, for tests and worked examples:
 * bytes leaving one GPU (both phases) and seconds on the busiest rank. */
double ls_moe_a2a_bytes(const ls_moe_cost *mc, double T);
double ls_moe_a2a_s(const ls_moe_cost *mc, double T);

#endif
