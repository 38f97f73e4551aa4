/* catalog.h -- models, GPUs and cluster topologies (data, not code).
 *
 * Built-in entries are YAML text compiled into the binary (catalog_data.c);
 * users add or override entries with YAML files of the same schema
 * (`catalog: [my-gpus.yaml]` in a run configuration, or --catalog FILE).
 * Parameter counts are derived from the architecture, never typed in.
 */
#ifndef LS_CATALOG_H
#define LS_CATALOG_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "yamldoc.h"

#define LS_NAME_MAX 64

/* Number formats of weights, KV cache and all-to-all messages (replay/model.c).
 * The 4-bit formats carry block scales, counted in their bytes per element:
 *   nvfp4  4-bit E2M1 + one FP8 scale per 16 elements   = 4.5 bits
 *   mxfp4  4-bit E2M1 + one E8M0 scale per 32 elements  = 4.25 bits
 *   int4   4-bit integers + FP16 scale and zero per 128 (AWQ/GPTQ group 128) = 4.25 bits,
 *          weight-only: the GEMMs compute in BF16 on every GPU. */
typedef enum ls_dtype {
    LS_DTYPE_BF16 = 0,
    LS_DTYPE_FP8 = 1,
    LS_DTYPE_NVFP4 = 2,
    LS_DTYPE_MXFP4 = 3,
    LS_DTYPE_INT4 = 4
} ls_dtype;
const char *ls_dtype_name(ls_dtype d);
double ls_dtype_bytes(ls_dtype d);                    /* per element, block scales included */
bool ls_dtype_is_4bit(ls_dtype d);
ls_status ls_dtype_parse(const char *s, ls_dtype *out, ls_error *e);

/* A model's architecture, from its config.json (docs/HARDWARE.md, "Models").
 * Optional parts are 0 when absent: a dense model has experts = top_k = 1; an
 * MLA model (DeepSeek-V3, Kimi K2) has kv_lora_rank > 0, and then head_dim is
 * the q/k head size (qk_nope + qk_rope) and the KV cache holds the latent. */
typedef struct ls_model {
    char name[LS_NAME_MAX];
    int layers, hidden, heads, kv_heads, head_dim, ffn, vocab;
    int max_context;
    int experts, top_k;        /* routed experts per MoE layer; dense models: experts = 1, top_k = 1 */
    bool tied_embeddings;
    int v_head_dim;            /* value head size when it differs from head_dim (0: = head_dim) */
    int moe_ffn;               /* one routed expert's FFN size (0: = ffn, the Mixtral convention) */
    int shared_experts;        /* experts of moe_ffn every token runs besides the routed ones */
    int dense_layers;          /* the first N layers have a dense FFN of ffn (DeepSeek first_k_dense_replace) */
    int moe_layer_step;        /* after those, layer i is MoE when (i + 1) % step == 0, the others dense
                                  (Llama-4 interleave_moe_layer_step; 0 or 1: every layer) */
    int q_lora_rank;           /* MLA: query compression rank (0: full-rank query projection) */
    int kv_lora_rank;          /* MLA: latent KV size; > 0 makes the model MLA */
    int qk_rope_dim;           /* MLA: the decoupled rope part of head_dim, cached beside the latent */
    int sliding_window;        /* tokens a sliding-window layer attends to (0: none) */
    int sliding_layers;        /* how many layers use the window (the rest attend to the whole context) */
    char source[192];          /* where the numbers come from (config.json, model card) */
} ls_model;

/* Derived sizes (parameters, not bytes). */
double ls_model_params(const ls_model *m);            /* total parameters */
double ls_model_active_params(const ls_model *m);     /* per token (MoE: top_k + shared experts) */
double ls_model_layer_params(const ls_model *m);      /* one layer of the model's last kind (MoE if any, all experts) */
double ls_model_embed_params(const ls_model *m);      /* input embedding */
double ls_model_head_params(const ls_model *m);       /* LM head (0 when tied) */
bool ls_model_is_moe(const ls_model *m);
bool ls_model_is_mla(const ls_model *m);
int ls_model_moe_layers(const ls_model *m);           /* layers with routed experts */
bool ls_model_layer_is_moe(const ls_model *m, int i); /* layer i (0-based) has routed experts */
int ls_model_moe_layers_in(const ls_model *m, int first, int count); /* of layers [first, first + count) */
int ls_model_expert_ffn(const ls_model *m);           /* moe_ffn, or ffn when not given */
double ls_model_expert_params(const ls_model *m);     /* one routed expert: 3 h f_e */
int ls_model_v_dim(const ls_model *m);                /* value head size */

/* One layer's attention parameters: TP-split (GQA: Wq, Wk, Wv, Wo; MLA: q_b,
 * kv_b, Wo) and replicated on every rank (MLA: q_a, kv_a and their norms). */
void ls_model_attn_params(const ls_model *m, double *split, double *replicated);
/* The parameters of layers [first, first + count) in three parts, by how they
 * are laid out over GPUs: `split` is tensor-split over TP ranks (projections,
 * dense and shared FFNs, router, norms), `replicated` is copied on every TP rank
 * (MLA's down-projections, as vLLM's ReplicatedLinear), `routed` is the routed
 * experts (split over TP ranks, or whole experts over EP ranks). */
void ls_model_layers_parts(const ls_model *m, int first, int count, double *split, double *replicated,
                           double *routed);

/* KV cache: bytes per token of one layer (MLA: the latent kv_lora + rope; else
 * n_kv (d + d_v)), and per GPU of a TP group (MLA's latent is replicated on every
 * rank; KV heads are split, one per rank when tp > n_kv). */
double ls_model_kv_layer_bytes(const ls_model *m, ls_dtype kv);
double ls_model_kv_layer_bytes_gpu(const ls_model *m, ls_dtype kv, int tp);
/* KV bytes per token for the whole model, as if every layer kept the whole context. */
double ls_model_kv_bytes_per_token(const ls_model *m, ls_dtype kv);
/* KV bytes of one sequence of n tokens: sliding-window layers keep at most the window. */
double ls_model_kv_bytes_context(const ls_model *m, ls_dtype kv, int64_t n);

typedef struct ls_gpu {
    char name[LS_NAME_MAX];
    char source[192];          /* data sheet the capacity, bandwidth and peaks come from */
    double mem_bytes;          /* HBM capacity */
    double device_mem_bytes;   /* total as the driver reports it (cudaMemGetInfo); 0 = mem_bytes */
    double hbm_bw;             /* bytes/s peak */
    double flops_bf16;         /* dense FLOP/s peak */
    double flops_fp8;          /* 0: no FP8 tensor cores (FP8 weights computed in BF16) */
    double flops_fp4;          /* dense FP4 peak; 0: no FP4 tensor cores (FP4 weights computed wider) */
    /* achieved-efficiency parameters of the cost model (calibrated; see catalog_data.c) */
    double mfu_max;            /* fraction of peak for large matrix work */
    double mfu_half_tokens;    /* token count at which matmul efficiency is half of mfu_max */
    double mbu;                /* fraction of HBM bandwidth achieved */
    double attn_eff;           /* attention-core efficiency relative to mfu_max */
    double kernel_overhead_s;  /* fixed per-layer launch/sync overhead */
    double moe_overhead_s;     /* fixed time of one fused-MoE layer beyond its roofline (routing, sort, tails) */
    double iter_overhead_s;    /* per-iteration serving-engine CPU overhead */
    double seq_overhead_s;     /* host time per sequence of a step (step_overhead.h), 0 = none */
    double activation_reserve_bytes; /* measured non-weight, non-KV bytes; 0 = the engine's rule derives them */
    bool grace_host;           /* host is a Grace CPU over NVLink-C2C (GH200), else x86 over PCIe */
    char kernel_tables[LS_NAME_MAX]; /* measured GEMM/attention tables (cost_kernels.h); "" = none */
} ls_gpu;

enum { LS_LINK_NVLINK = 0, LS_LINK_PCIE = 1, LS_LINK_PCIE_NOP2P = 2 };

typedef struct ls_cluster {
    char name[LS_NAME_MAX];
    char source[192];
    int gpus_per_node;
    int max_nodes;             /* 0 = unlimited */
    double intra_bw;           /* bytes/s one way per GPU on the slowest intra-node path */
    double intra_lat_s;        /* per-hop latency inside a node */
    bool intra_switch;         /* NVSwitch (all GPUs see intra_bw at once) vs point-to-point pairs */
    int intra_link;            /* LS_LINK_*: what the intra-node path is (custom all-reduce needs P2P) */
    double custom_lat_s;       /* vLLM custom all-reduce start-up per stage (collective.h) */
    char allreduce_table[LS_NAME_MAX]; /* measured all-reduce table (collective_data.c); "" = none */
    double inter_bw;           /* bytes/s one way per GPU between nodes */
    double inter_lat_s;
    double allreduce_eff;      /* achieved fraction of link bandwidth in collectives */
    double host_memory_bytes;  /* host (CPU) memory per node, 0 = unknown: for KV offload */
    char default_gpu[LS_NAME_MAX];
} ls_cluster;

typedef struct ls_catalog ls_catalog;

/* The built-in catalog (never fails unless the built-in text is broken): a copy of the image
 * the build made by parsing the built-in text (catalog_image.h). */
ls_status ls_catalog_builtin(ls_catalog **out, ls_error *e);
/* The same catalog parsed from the built-in YAML text now (what the image holds; tests compare). */
ls_status ls_catalog_builtin_parse(ls_catalog **out, ls_error *e);
/* Add or override entries from a YAML file (models:, gpus:, clusters: maps). */
ls_status ls_catalog_load_file(ls_catalog *c, const char *path, ls_error *e);
ls_status ls_catalog_load_yaml(ls_catalog *c, const ls_yaml *doc, ls_error *e);
void ls_catalog_free(ls_catalog *c);

/* Lookups fail with a message listing the known names. */
ls_status ls_catalog_model(const ls_catalog *c, const char *name, const ls_model **out, ls_error *e);
ls_status ls_catalog_gpu(const ls_catalog *c, const char *name, const ls_gpu **out, ls_error *e);
ls_status ls_catalog_cluster(const ls_catalog *c, const char *name, const ls_cluster **out, ls_error *e);

/* Iteration for `llmsweep catalog`. */
int ls_catalog_n_models(const ls_catalog *c);
const ls_model *ls_catalog_model_at(const ls_catalog *c, int i);
int ls_catalog_n_gpus(const ls_catalog *c);
const ls_gpu *ls_catalog_gpu_at(const ls_catalog *c, int i);
int ls_catalog_n_clusters(const ls_catalog *c);
const ls_cluster *ls_catalog_cluster_at(const ls_catalog *c, int i);

#endif
