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

typedef enum ls_dtype { LS_DTYPE_BF16 = 0, LS_DTYPE_FP8 = 1 } ls_dtype;
const char *ls_dtype_name(ls_dtype d);
int ls_dtype_bytes(ls_dtype d);                       /* 2 or 1 */
ls_status ls_dtype_parse(const char *s, ls_dtype *out, ls_error *e);

typedef struct ls_model {
    char name[LS_NAME_MAX];
    int layers, hidden, heads, kv_heads, head_dim, ffn, vocab;
    int max_context;
    int experts, top_k;        /* dense models: experts = 1, top_k = 1 */
    bool tied_embeddings;
} ls_model;

/* Derived sizes (parameters, not bytes). */
double ls_model_params(const ls_model *m);            /* total parameters */
double ls_model_active_params(const ls_model *m);     /* per token (MoE: top_k experts) */
double ls_model_layer_params(const ls_model *m);      /* one transformer layer (all experts) */
double ls_model_embed_params(const ls_model *m);      /* input embedding */
double ls_model_head_params(const ls_model *m);       /* LM head (0 when tied) */
/* KV bytes per token for the whole model at a given KV dtype (2·L·n_kv·d·b). */
double ls_model_kv_bytes_per_token(const ls_model *m, ls_dtype kv);

typedef struct ls_gpu {
    char name[LS_NAME_MAX];
    double mem_bytes;          /* HBM capacity */
    double hbm_bw;             /* bytes/s peak */
    double flops_bf16;         /* dense FLOP/s peak */
    double flops_fp8;
    /* achieved-efficiency parameters of the cost model (calibrated; see catalog_data.c) */
    double mfu_max;            /* fraction of peak for large matrix work */
    double mfu_half_tokens;    /* token count at which matmul efficiency is half of mfu_max */
    double mbu;                /* fraction of HBM bandwidth achieved */
    double attn_eff;           /* attention-core efficiency relative to mfu_max */
    double kernel_overhead_s;  /* fixed per-layer launch/sync overhead */
    double iter_overhead_s;    /* per-iteration serving-engine CPU overhead */
    double activation_reserve_bytes; /* activation peak + CUDA context/graphs kept aside */
} ls_gpu;

typedef struct ls_cluster {
    char name[LS_NAME_MAX];
    int gpus_per_node;
    int max_nodes;             /* 0 = unlimited */
    double intra_bw;           /* bytes/s one way per GPU on the slowest intra-node path */
    double intra_lat_s;        /* per-hop latency inside a node */
    bool intra_switch;         /* NVSwitch (all GPUs see intra_bw at once) vs point-to-point pairs */
    double inter_bw;           /* bytes/s one way per GPU between nodes */
    double inter_lat_s;
    double allreduce_eff;      /* achieved fraction of link bandwidth in collectives */
    char default_gpu[LS_NAME_MAX];
} ls_cluster;

typedef struct ls_catalog ls_catalog;

/* The built-in catalog (never fails unless the built-in text is broken). */
ls_status ls_catalog_builtin(ls_catalog **out, ls_error *e);
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
