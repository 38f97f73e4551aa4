/* kvoffload.h -- a second KV tier in host memory (CPU DRAM over PCIe, or
 * Grace's LPDDR5X over NVLink-C2C on GH200), as vLLM's native
 * OffloadingConnector (../shared/brief/vllm-internals.md §8), internal to replay/.
 *
 * The configuration (`kv_offload: {tier, capacity_gb, link}`) and the link
 * table live here; the tier itself is an LRU set of offload blocks (one per
 * 512-token hash block of a prompt: vLLM's offload block is a multiple of the
 * GPU block) that the prefix cache (kvcache.c) stores into write-through and
 * loads hits back from. The transfer time over the link is charged by the
 * engine on the step that moves the bytes.
 */
#ifndef LS_KVOFFLOAD_H
#define LS_KVOFFLOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "catalog.h"
#include "error.h"
#include "yamldoc.h"

typedef enum ls_tier_kind { LS_TIER_NONE = 0, LS_TIER_CPU = 1, LS_TIER_GRACE = 2 } ls_tier_kind;

typedef struct ls_kvoffload_config {
    ls_tier_kind tier;       /* LS_TIER_NONE: no offload */
    double capacity_bytes;   /* per replica (vLLM's kv_offloading_size: total over its TP ranks) */
    char link[16];           /* pcie4, pcie5, c2c */
    double link_bw;          /* bytes/s one way per GPU */
    /* CPU weight offload (vLLM's --cpu-offload-gb): bytes of weights per GPU kept
     * in host memory and read over the link on every forward pass */
    double weights_bytes;    /* 0: none */
    char weights_link[16];
    double weights_link_bw;
} ls_kvoffload_config;

/* Read the optional top-level `kv_offload:` mapping and `cpu_offload_gb` /
 * `cpu_offload_link` keys of a configuration and check them against the
 * deployment: a tier needs prefix caching; each needs a link that reaches the
 * host (c2c only to Grace, PCIe only to an x86 host); together they must fit
 * the host memory the replica's `replica_gpus` GPUs get on the cluster's
 * nodes. Errors name FILE:LINE and the key. */
ls_status ls_kvoffload_parse(const ls_yaml *root, const ls_gpu *gpu, const ls_cluster *cluster, int replica_gpus,
                             bool prefix_caching, int block_size, ls_kvoffload_config *out, ls_error *e);
const char *ls_tier_name(ls_tier_kind t);  /* "none", "cpu", "grace" */
/* The GPU-to-host link named `name` (pcie4, pcie5, c2c): bytes/s one way per
 * GPU and whether it reaches a Grace host; false when unknown. */
bool ls_kvoffload_link(const char *name, double *bw, bool *grace);

/* The tier: an LRU set of 64-bit block keys with a fixed capacity (> 0). */
typedef struct ls_kvtier ls_kvtier;
ls_kvtier *ls_kvtier_new(int64_t capacity);
void ls_kvtier_free(ls_kvtier *t);
/* Whether `key` is in the tier; a hit becomes the most recently used. */
bool ls_kvtier_lookup(ls_kvtier *t, uint64_t key);
/* Store `key` (most recently used), evicting the least recently used when
 * full; false when it was there already (nothing to copy). */
bool ls_kvtier_store(ls_kvtier *t, uint64_t key);
int64_t ls_kvtier_size(const ls_kvtier *t);

#endif
