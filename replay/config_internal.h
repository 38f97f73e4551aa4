/* config_internal.h -- the resolved run configuration (inside replay/ only).
 *
 * ls_config_load fills this from a YAML tree; the engine and the CLI's
 * summary read it. Catalog entries are copied by value so that a
 * configuration outlives the catalog it was resolved against. */
#ifndef LS_CONFIG_INTERNAL_H
#define LS_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "catalog.h"
#include "cost.h"
#include "kvoffload.h"
#include "kvswap.h"
#include "replay.h"
#include "router.h"
#include "spec_decode.h"

struct ls_workload;

typedef enum ls_policy { LS_POLICY_VLLM_V1 = 0, LS_POLICY_VLLM_V0 = 1, LS_POLICY_SARATHI = 2 } ls_policy;

const char *ls_policy_name(ls_policy p);

/* Scheduler settings of one replica (also used directly by scheduler tests). */
typedef struct ls_sched_config {
    ls_policy policy;
    bool enable_chunked_prefill;
    int64_t prefill_chunk_size;    /* long_prefill_token_threshold; 0 = none */
    int64_t max_batched_tokens;    /* resolved budget (> 0) */
    bool budget_auto;              /* configured as 'auto' */
    int64_t max_num_seqs;
    int64_t max_model_len;
    int block_size;
    int64_t kv_blocks;             /* per replica (resolved by the memory plan, or forced) */
    double watermark;              /* vllm-v0 admission watermark, fraction of blocks (0.01) */
    bool prefill_only;             /* a prefill instance of disaggregated serving: 1 output token */
    bool enable_prefix_caching;    /* automatic prefix caching (kvcache.c), vllm-v1 only */
    int64_t offload_entries;       /* host KV tier, in 512-token offload blocks (0 = none; resolved at run time) */
    int order;                     /* ls_order_kind of new waiting requests (sched_order.h), 0 = fcfs */
    double sjf_max_wait_s;         /* sjf aging bound; 0 = none (pure SJF) */
    int spec_tokens;               /* speculative drafts per decode: each decode holds 1 + this of the budget */
    bool adaptive_budget;          /* per-step budget so the predicted step time stays <= target_tbt_s (sched_budget.h) */
    double target_tbt_s;           /* its target (the run's target_tbt_s) */
    const struct ls_cost_model *cost; /* adaptive_budget: the replica's cost model (set by the engine) */
    bool async_scheduling;         /* vLLM V1 async scheduling: overhead hidden behind the GPU (step_options.h) */
    int num_scheduler_steps;       /* vLLM V0 multi-step window (1 = off; step_options.h) */
    bool preempt_swap;             /* preemption by swap (kvswap.h), vllm-v0 only */
    int64_t swap_blocks;           /* its host swap space in blocks (resolved at run time) */
    int capacity_policy;           /* ls_capacity_policy (sched_capacity.h), 0 = max_utilization */
} ls_sched_config;

struct ls_run_config {
    ls_model model;
    ls_gpu gpu;
    ls_cluster cluster;
    char cluster_label[LS_NAME_MAX];
    ls_dtype w_dtype, kv_dtype;
    int tp, pp, dp;
    int ep;                         /* expert parallelism (1: routed experts TP-split) */
    bool has_e_dtype;               /* dtype.experts given (gpt-oss MXFP4 experts) */
    ls_dtype e_dtype;
    double moe_imbalance;           /* moe.imbalance: busiest EP rank over the mean (1) */
    int redundant_experts;          /* moe.redundant_experts (EPLB), 0 */
    bool a2a_fp8;                   /* moe.dispatch: fp8 */
    const struct ls_moe_backend *moe_backend; /* moe.backend (cost_moe.h); NULL: deepep_ll */
    ls_spec_config spec;            /* speculative: (config_spec.c); method LS_SPEC_NONE = off */
    char parallelism[LS_NAME_MAX];  /* canonical strategy string (tp4pp2, dp8ep8) */

    ls_sched_config sched;          /* kv_blocks/max_batched_tokens may be 0 = resolved at run time */
    int64_t num_kv_blocks;          /* user override (0 = derived) */
    double gpu_memory_utilization;  /* the engine's memory fraction (NaN: derived by its rule) */
    const struct ls_engine_profile *engine; /* engine_profile.h: memory rule */
    double target_tbt_s;            /* for max_batched_tokens: auto */
    const ls_router_ops *router;    /* router.c */
    int64_t router_prompt_threshold; /* length-aware router: prompts above it go long (replica_mix.c); 0 = none */
    ls_kvoffload_config offload;    /* kv_offload: (kvoffload.c) */
    ls_kvswap_config swap;          /* scheduler.preemption_mode: swap (kvswap.c) */

    struct ls_workload *workload;
    char *workload_key;             /* canonical workload + seed */
    uint64_t seed;
    double slo_ttft_s, slo_tpot_s;
    double timeout_s;               /* client timeout while waiting; 0 = none */
    bool drain;                     /* after the last arrival, run until every request ends */
    double horizon_s;               /* stop simulating at this time when !drain (default: duration) */

    /* cost model override for tests: "roofline" (default) or "constant" */
    int cost_kind;                  /* 0 roofline, 1 constant, 2 exponential, 3 table, 4 kernels */
    double cost_const_s;            /* constant / mean service time per iteration */
    char cost_table_path[1024];     /* table: the CSV (cost_table.c), resolved against the config's folder */

    struct ls_pools_config *pools;  /* disaggregated prefill/decode (pools.c); NULL = aggregated */
    struct ls_mix_config *mix;      /* heterogeneous replica groups (replica_mix.c); NULL = one kind */
};

/* The `moe:` mapping and the checks of parallelism.ep against the model and
 * the other degrees (config_moe.c); called once tp/pp/dp/ep are parsed. */
ls_status ls_config_moe_load(ls_run_config *c, const ls_yaml *root, ls_error *e);

/* The `speculative:` mapping (config_spec.c); called once the scheduler is
 * parsed. Sets c->spec and c->sched.spec_tokens. */
ls_status ls_config_spec_load(ls_run_config *c, const ls_yaml *root, const ls_catalog *cat, ls_error *e);
/* Once the workload is parsed: an acceptance given per request class
 * (`acceptance: {CLASS: RATE, ..., default: RATE}`) resolved against its
 * classes, each class's rates into c->spec.alpha_class (file:line for a name
 * that is no class, a class without a rate, or no workload.classes). */
ls_status ls_config_spec_classes(ls_run_config *c, const ls_yaml *root, ls_error *e);
/* "none", or "eagle k3 a0.7" (per-position rates listed; a draft model named). */
void ls_config_spec_label(const ls_run_config *c, char *buf, size_t size);

/* A cost model with a fixed (or exponentially distributed, mean `mean_s`)
 * time per iteration, independent of the batch: for queueing tests. */
ls_status ls_cost_constant_new(const ls_deploy *d, double mean_s, bool exponential, uint64_t seed,
                               ls_cost_model **out, ls_error *e);

#endif
