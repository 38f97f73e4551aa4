/* kvswap.h -- preemption by swap (vLLM V0's `--preemption-mode swap` with
 * `--swap-space`), internal to replay/.
 *
 * `scheduler.preemption_mode: swap` (default `recompute`) makes a preempted
 * request copy its KV blocks to a host swap space over the GPU's host link
 * instead of dropping them, and copy them back before it runs again, in place
 * of recomputing its prompt and output. vLLM V0 only (V1 preempts by
 * recompute only: ../shared/brief/vllm-internals.md §3). The configuration
 * and the host pool live here; the scheduler's side (which request goes out
 * and comes back when) is sched_swap.c, and the engine charges the copies on
 * the step that moves them (docs/ENGINE.md, "Preemption by swap").
 */
#ifndef LS_KVSWAP_H
#define LS_KVSWAP_H

#include <stdbool.h>
#include <stdint.h>

#include "catalog.h"
#include "error.h"
#include "kvoffload.h"
#include "yamldoc.h"

typedef enum ls_preempt_mode { LS_PREEMPT_RECOMPUTE = 0, LS_PREEMPT_SWAP = 1 } ls_preempt_mode;

typedef struct ls_kvswap_config {
    ls_preempt_mode mode;
    double space_bytes;  /* host swap space per GPU (V0's swap_space is per GPU), 1e9 bytes per GB */
    char link[16];       /* pcie4, pcie5, c2c */
    double link_bw;      /* bytes/s one way per GPU */
} ls_kvswap_config;

/* Read `scheduler.preemption_mode`, `scheduler.swap_space_gb` and
 * `scheduler.swap_link` (map `sch`, may be NULL) for a replica of
 * `replica_gpus` GPUs under `policy_name` ("vllm-v0" is the only one that
 * swaps): swap needs both other keys, a link that reaches the GPU's host, and
 * host memory beside `off` (CPU weights and a KV tier). Errors name FILE:LINE
 * and the key. */
ls_status ls_kvswap_parse(const ls_yaml *sch, const char *policy_name, bool v0, const ls_gpu *gpu,
                          const ls_cluster *cluster, int replica_gpus, const ls_kvoffload_config *off,
                          ls_kvswap_config *out, ls_error *e);
const char *ls_preempt_mode_name(ls_preempt_mode m);  /* "recompute", "swap" */

/* The host swap space of one replica: `capacity` blocks (V0's num_cpu_blocks =
 * swap bytes per GPU / a block's bytes on one GPU), holding the blocks of the
 * requests swapped out, by the scheduler's slot index. */
typedef struct ls_kvswap ls_kvswap;

typedef struct ls_kvswap_stats {
    int64_t outs, ins;       /* requests swapped out / back in */
    int64_t fallbacks;       /* preemptions that recomputed because the swap space was full */
    int64_t blocks_out, blocks_in;
} ls_kvswap_stats;

ls_kvswap *ls_kvswap_new(int64_t capacity);
void ls_kvswap_free(ls_kvswap *s);
/* Request `slot` swaps out its `blocks` (> 0) blocks: true when they fit the
 * space left (they are then held until ls_kvswap_in), false (a fallback is
 * counted) when not. */
bool ls_kvswap_out(ls_kvswap *s, int32_t slot, int64_t blocks);
/* Blocks `slot` holds in the swap space (0: not swapped out). */
int64_t ls_kvswap_held(const ls_kvswap *s, int32_t slot);
/* `slot` swaps its blocks back in (they leave the space). */
void ls_kvswap_in(ls_kvswap *s, int32_t slot);
/* Requests swapped out now. */
int64_t ls_kvswap_count(const ls_kvswap *s);
/* Blocks copied GPU -> host and host -> GPU since the last call (the step being formed moves them). */
void ls_kvswap_transfers(ls_kvswap *s, int64_t *out_blocks, int64_t *in_blocks);
void ls_kvswap_get_stats(const ls_kvswap *s, ls_kvswap_stats *out);

#endif
