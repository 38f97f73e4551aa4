/* lockstep.h -- DP ranks that step together (internal to replay/).
 *
 * With data-parallel attention and expert parallelism (dpNepN), vLLM runs the
 * DP ranks of an EP group in lockstep (../shared/brief/vllm-internals.md s7,
 * "Lockstep"; s4, "Dispatch and padding"): every forward pass of the MoE
 * layers meets in the dispatch/combine all-to-all, so
 *  - a rank with no work runs a dummy batch while any rank of the group is
 *    busy (DPEngineCoreProc.run_busy_loop, execute_dummy_batch);
 *  - per step the token counts are padded to the largest rank's
 *    (coordinate_batch_across_dp) when that count is within the CUDA-graph
 *    capture sizes; past them the step runs eagerly, unpadded;
 *  - so every rank's step ends when the slowest rank's does.
 * Here a group step forms one micro-batch (or a dummy) on every rank of the
 * group at once; each pipeline stage lasts the maximum over the ranks. The
 * engine calls ls_lockstep_schedule where it would schedule one replica.
 */
#ifndef LS_LOCKSTEP_H
#define LS_LOCKSTEP_H

#include <stdint.h>

#include "cost.h"

struct ls_engine;
typedef struct ls_lockstep ls_lockstep;

/* Groups of `group` consecutive replicas out of `n_replicas` (group divides it,
 * group >= 2), each of pipeline depth `pp`. `pad_max`: the largest CUDA-graph
 * capture size, up to which a step's token counts are padded to the group's
 * largest (0: never padded). */
ls_lockstep *ls_lockstep_new(int n_replicas, int group, int pp, int64_t pad_max);
void ls_lockstep_free(ls_lockstep *l);

/* Replica `replica` could schedule at `now`: form the group's steps while its
 * first stage is free, fewer than pp steps are in flight and every batch that
 * ended by `now` has been completed (so all ranks see the same instant). */
void ls_lockstep_schedule(ls_lockstep *l, struct ls_engine *g, int replica, double now);

/* Rank-seconds the group steps spent waiting for their slowest rank, out of
 * all their rank-seconds (0 with no step). */
double ls_lockstep_wait_fraction(const ls_lockstep *l);

/* vLLM's largest CUDA-graph capture size (vllm-internals.md s4):
 * min(max_num_seqs x (1 + spec_tokens) x 2, 512), capped at max_batched_tokens. */
int64_t ls_lockstep_capture_max(int64_t max_num_seqs, int64_t spec_tokens, int64_t max_batched_tokens);

#endif
