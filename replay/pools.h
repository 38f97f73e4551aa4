/* pools.h -- disaggregated prefill/decode serving: xPyD pools and the KV handoff (internal).
 *
 * A configuration with a `disaggregation:` mapping (docs/CONFIG.md) serves
 * every request on two pools of instances: a prefill instance computes the
 * prompt and its first token (vLLM's proxy sends it with max_tokens=1), a
 * router picks a decode instance, decode-side KV blocks for the prompt are
 * reserved (the request waits for them), the prompt's KV crosses the link
 * between the two instances (NVLink inside a node, the network between
 * nodes), and the decode instance admits the request with the prompt in its
 * cache, recomputes the last prompt token and samples the first output token
 * there (vLLM's NixlConnector, ../shared/brief/vllm-internals.md §6). The
 * prefill instance keeps its blocks until the transfer has read them
 * (delayed free). Each pool is a complete run configuration of its own
 * (hardware, parallelism, scheduler), so everything the aggregated path
 * checks is checked for it too. Rules and metrics: docs/ENGINE.md.
 */
#ifndef LS_POOLS_H
#define LS_POOLS_H

#include "config_internal.h"

enum { LS_ROLE_PREFILL = 0, LS_ROLE_DECODE = 1 };

/* HOST: staged through host memory (vLLM kv_buffer_device: cpu): GPU -> host
 * over PCIe (NVLink-C2C to Grace on GH200), host -> host over the network
 * (none inside a node), host -> GPU on the decode side. */
typedef enum ls_kv_link {
    LS_KV_LINK_AUTO = 0,
    LS_KV_LINK_NVLINK = 1,
    LS_KV_LINK_NETWORK = 2,
    LS_KV_LINK_HOST = 3
} ls_kv_link;

/* Concurrent transfers on one replica's link: one after another (FIFO), or
 * sharing its bandwidth equally (processor sharing, kvshare.h). */
typedef enum ls_kv_sharing { LS_KV_FIFO = 0, LS_KV_FAIR = 1 } ls_kv_sharing;

typedef struct ls_pool {
    ls_run_config *cfg;            /* the pool's own configuration; cfg->dp = replicas */
    int replicas;
    int first_gpu;                 /* placement: the pool's first GPU in the cluster */
    double kv_bytes_per_token_gpu; /* per GPU (the stage with most layers), from its memory plan */
} ls_pool;

/* How the connector moves the KV: after the whole prefill (NixlConnector's
 * pull, the default) or pushed layer by layer during it (P2pNcclConnector). */
typedef enum ls_kv_mode { LS_KV_AFTER_PREFILL = 0, LS_KV_LAYERWISE = 1 } ls_kv_mode;

typedef struct ls_pools_config {
    ls_pool pool[2];               /* LS_ROLE_PREFILL, LS_ROLE_DECODE */
    ls_kv_link link;
    ls_kv_mode mode;
    double bandwidth;              /* bytes/s override of the link's per-GPU bandwidth; NaN = the cluster's */
    double latency_s;              /* override of the link's latency; NaN = the cluster's */
    ls_kv_sharing sharing;
    bool split;                    /* the pools sit in different clusters (a `cluster` key of their own): the
                                      network links them, at the slower cluster's bandwidth and latency */
    double host_bw[2];             /* LS_KV_LINK_HOST: each side's GPU-host link, bytes/s per GPU */
    char host_link[2][16];         /* its name (pcie4, pcie5, c2c) */
    const ls_router_ops *router;   /* picks the decode instance */
    char label[LS_NAME_MAX];       /* "1P-tp4+1D-tp4": the parallelism column */
} ls_pools_config;

/* Validate `node` (the disaggregation mapping of `root`, whose other keys are
 * the defaults of both pools) against the top-level configuration `top`:
 * pool keys, weights that fit each pool's GPUs, both pools in the cluster,
 * the link. Errors name FILE:LINE and the key. */
ls_status ls_pools_config_load(const ls_run_config *top, const ls_yaml *root, const ls_yaml *node,
                               const char *base_dir, const ls_catalog *cat, ls_pools_config **out, ls_error *e);
void ls_pools_config_free(ls_pools_config *p);                      /* accepts NULL */
ls_pools_config *ls_pools_config_clone(const ls_pools_config *p);   /* NULL -> NULL */
/* Overwrite the /configs columns that describe the deployment. */
void ls_pools_config_row(const ls_pools_config *p, ls_config_row *row);

/* The link between prefill replica i and decode replica j (pool indices):
 * per-GPU bandwidth in bytes/s and latency in seconds. Staged through the
 * hosts, the hops run one after another (store and forward): the latencies
 * add and the bandwidth is 1 / (1/host_p + [1/network] + 1/host_d), the
 * network hop only between nodes (its latency and bandwidth as above). */
void ls_pools_link(const ls_pools_config *p, int i, int j, double *bandwidth, double *latency_s);
/* Seconds on the wire of the prompt KV of `prompt` tokens from prefill
 * replica i to decode replica j: every rank moves its shard over its own
 * link at once, so the larger per-GPU shard decides: latency +
 * ceil(prompt / block) * block * max(KV bytes per token per GPU, prefill
 * and decode) / bandwidth. */
double ls_pools_transfer_s(const ls_pools_config *p, int i, int j, int64_t prompt);
/* When the KV of a transfer whose link is free from `link_free` is on the
 * decode side, for a prefill scheduled first at `first_sched` and ending at
 * `done`, the decode blocks reserved at `now` >= done. After the prefill: the
 * wire starts at max(now, link_free). Layer-wise: the wire runs from
 * max(first_sched, link_free) beside the compute, and cannot end before the
 * last layer's share has followed the prefill's end: max(now + latency +
 * bytes / layers / bandwidth, start + wire). The link is busy until then. */
double ls_pools_transfer_end(const ls_pools_config *p, int i, int j, int64_t prompt, double first_sched, double now,
                             double link_free);

/* The document of one member of a deployment of several kinds of instance (a
 * pool here, a replica group in replica_mix.c): `root` without its key `drop`,
 * with the member's `parallelism` and `hardware` (when `member` has them)
 * written over the root's and its `scheduler` keys merged over the root's;
 * the workload is a one-request placeholder (the caller copies the top
 * level's in after loading). The caller frees it. */
ls_yaml *ls_pools_member_tree(const ls_yaml *root, const char *drop, const ls_yaml *member);

/* One member as a complete configuration (*out; the caller frees it, also on
 * failure): the member tree of `root` without `drop` and `router` (members
 * do not route), validated by ls_config_load with its errors prefixed by
 * `path` ("disaggregation.prefill", "replicas[1]"), given the top level's
 * workload and `count` replicas; a member parallelism with dp is an error:
 * "`noun`'s data parallelism is its '`count_key`'". */
ls_status ls_pools_member_load(const ls_run_config *top, const ls_yaml *root, const char *drop, const ls_yaml *member,
                               const char *path, const char *noun, const char *count_key, int count,
                               const char *base_dir, const ls_catalog *cat, ls_run_config **out, ls_error *e);

/* ls_run for a configuration with pools. */
ls_status ls_pools_run(const ls_run_config *c, const ls_run_opts *opts, ls_metrics *out, ls_error *e);

#endif
