/* scheduler.h -- one replica: its scheduler and its paged KV cache (internal).
 *
 * The engine hands each replica arrivals (ls_replica_add), asks it to form a
 * micro-batch whenever its first pipeline stage is free (ls_replica_schedule)
 * and tells it when that micro-batch has gone through every stage
 * (ls_replica_complete). Tests drive the same three calls step by step.
 *
 * Speed: decoding requests that sit in front of every prefill in admission
 * order are kept *lazily* in cohorts (the requests of one micro-batch): a
 * cohort has a clock (steps taken) and running sums, plus the members ordered
 * by the clock value at which they finish and bucketed by the one at which
 * they need their next KV block (sched_cohort.c). A decode step therefore
 * touches only the members that finish,
 * cross a block boundary or are preempted: O(1) amortised per step, not
 * O(batch). Requests behind a prefill in admission order ("explicit") are
 * visited one by one, because the token budget may run out before them.
 */
#ifndef LS_SCHEDULER_H
#define LS_SCHEDULER_H

#include <stdbool.h>
#include <stdint.h>

#include "config_internal.h"
#include "cost.h"
#include "kvcache.h"
#include "kvswap.h"
#include "replay.h"

typedef struct ls_replica ls_replica;

/* What the replica reports about a request that reached its final status. */
typedef struct ls_req_done {
    int64_t id;
    int32_t prompt_tokens, output_tokens; /* output_tokens: the (capped) target */
    int32_t requested_output;            /* as in the trace */
    ls_req_status status;
    int32_t preemptions;
    int32_t generated;
    double arrival_s, first_scheduled_s, first_token_s, finish_s;
} ls_req_done;

typedef void (*ls_replica_done_fn)(void *ctx, int replica, const ls_req_done *d);
/* Inter-token gaps: `count` tokens each `gap_s` after the previous one. */
typedef void (*ls_replica_itl_fn)(void *ctx, int replica, double gap_s, int64_t count);
/* A request's first output token, at first_token_s (an SLO watch counts late ones). */
typedef void (*ls_replica_first_fn)(void *ctx, int replica, double arrival_s, double first_token_s);

/* One micro-batch as formed by the scheduler. */
typedef struct ls_mbatch_info {
    int slot;                 /* micro-batch slot in the replica, for ls_replica_complete */
    ls_batch_agg agg;
    int64_t n_prefill;        /* requests with a prefill chunk (q > 1 or first token) */
    int64_t prefill_tokens;
    int64_t kv_load_blocks, kv_store_blocks; /* copied host -> GPU / GPU -> host (KV offload) */
    int64_t swap_out_blocks, swap_in_blocks; /* preemption by swap: GPU -> host / host -> GPU (kvswap.h) */
    bool in_window;           /* inside a multi-step window: the scheduler did not run (step_options.h) */
} ls_mbatch_info;

ls_replica *ls_replica_new(const ls_sched_config *cfg, int pp, int index, ls_replica_done_fn done,
                           ls_replica_itl_fn itl, void *ctx);
void ls_replica_free(ls_replica *r);
/* The replica's cost model, for cfg->adaptive_budget (sched_budget.h); not owned. */
void ls_replica_set_cost(ls_replica *r, const ls_cost_model *cm);
/* Call `first` (with the replica's ctx) at each request's first token (NULL: none). */
void ls_replica_set_first_token(ls_replica *r, ls_replica_first_fn first);

/* A request arrives at time t. Rejections (too long, never fits) are
 * reported through the done callback right away. `timeout_s` 0 = none. */
void ls_replica_add(ls_replica *r, int64_t id, int32_t prompt, int32_t output, double t, double timeout_s);
/* The same with the prompt's prefix-block hash ids (LS_PREFIX_HASH_TOKENS
 * tokens each; copied), used when prefix caching is on. */
void ls_replica_add_hashed(ls_replica *r, int64_t id, int32_t prompt, int32_t output, const int64_t *hash_ids,
                           uint32_t n_hash, double t, double timeout_s);

/* The same with the request's priority (order priority, sched_order.h: lower
 * first; ignored by the other orders). The other add functions give 0. */
void ls_replica_add_prio(ls_replica *r, int64_t id, int32_t prompt, int32_t output, const int64_t *hash_ids,
                         uint32_t n_hash, int32_t prio, double t, double timeout_s);

/* Disaggregated serving (pools.c). A decode instance receives a request whose
 * prompt KV was computed elsewhere: `blocks` (= the prompt's blocks) were
 * reserved with ls_replica_kv_reserve and now belong to the request, which
 * waits to be admitted with computed = prompt - 1 (vLLM's NixlConnector
 * recomputes the last prompt token and samples the first output token). */
void ls_replica_add_prefilled(ls_replica *r, int64_t id, int32_t prompt, int32_t output, double arrival,
                              double first_sched, int64_t blocks, double now);
/* Hold `blocks` free KV blocks for no request (KV in transit: the decode side
 * before the transfer, the prefill side until it is read). Reserve fails,
 * holding nothing, when they are not free. */
bool ls_replica_kv_reserve(ls_replica *r, int64_t blocks, double now);
void ls_replica_kv_unreserve(ls_replica *r, int64_t blocks, double now);

/* Form one micro-batch at time `now` from what is not in flight. Returns
 * false (nothing to run) or true with *out filled. The caller must not call
 * again when ls_replica_in_flight == pp. */
bool ls_replica_schedule(ls_replica *r, double now, ls_mbatch_info *out);

/* The micro-batch in `slot` has finished its last stage at time `now`. */
void ls_replica_complete(ls_replica *r, int slot, double now);

/* The common steady states (sched_decode.c): ls_replica_complete(r, slot,
 * now) followed by ls_replica_schedule(r, now, out), with the same effects bit
 * for bit, in O(1) plus the members that finish or cross a block, when the
 * batch in `slot` is the replica's only one (pp = 1) and holds only lazy
 * decoders, no other request runs or waits, and prefix caching is off;
 * under sarathi (pp = 1, FCFS, fixed budget, no prefix caching) also a step of
 * one cohort plus prefill chunks, through a lean form_sarathi.
 * Returns -1 when that does not hold (nothing was done: make the two calls),
 * 0 when the micro-batch was completed but the next one needs the general
 * scheduler (call ls_replica_schedule), 1 when both were done and *out is
 * the new micro-batch. */
int ls_replica_decode_step(ls_replica *r, int slot, double now, ls_mbatch_info *out);

/* ls_replica_schedule(r, now, out) with the same effects bit for bit
 * (sched_decode.c): in O(1) plus the block crossers when nothing waits, every
 * running request is a lazy decoder and at most one cohort is not in flight
 * (the PP steady state: each micro-batch one cohort); under vllm-v1 (FCFS, no
 * prefix caching, nothing preempted waiting) also that cohort with the explicit
 * requests' chunks and the admissions, when every block they take is free;
 * under sarathi (FCFS, fixed budget, no prefix caching) that cohort with
 * prefill chunks (sarathi_form beside the micro-batches in flight); the
 * general call otherwise. */
bool ls_replica_schedule_fast(ls_replica *r, double now, ls_mbatch_info *out);

/* End of simulation at `now`: every request still waiting or running is
 * reported (timed out when its client deadline passed, unfinished otherwise). */
void ls_replica_finish_all(ls_replica *r, double now);

/* Counters. */
int ls_replica_in_flight(const ls_replica *r);
int64_t ls_replica_outstanding(const ls_replica *r);  /* waiting + running */
int64_t ls_replica_running(const ls_replica *r);
int64_t ls_replica_waiting(const ls_replica *r);
int64_t ls_replica_waiting_preempted(const ls_replica *r);
int64_t ls_replica_used_blocks(const ls_replica *r);
int64_t ls_replica_total_blocks(const ls_replica *r);
int64_t ls_replica_preemptions(const ls_replica *r);
int64_t ls_replica_recomputed(const ls_replica *r);
/* Time-integral of used blocks up to `now` (block-seconds), and the maximum. */
double ls_replica_kv_area(ls_replica *r, double now);
int64_t ls_replica_kv_max(const ls_replica *r);
/* Blocks of a prompt this replica's prefix cache would serve now (0 when off). */
int64_t ls_replica_prefix_probe(const ls_replica *r, int32_t prompt, const int64_t *hash_ids, uint32_t n_hash);
/* Swap counters (kvswap.h); false (and *out untouched) when preemption is by recompute. */
bool ls_replica_swap_stats(const ls_replica *r, ls_kvswap_stats *out);
/* Prefix-cache counters; false (and *out untouched) when caching is off. */
bool ls_replica_prefix_stats(const ls_replica *r, ls_kvcache_stats *out);

/* Tests: the requests of an in-flight micro-batch with their token counts,
 * sorted by request id (O(batch): for tests only). Returns the count. */
int64_t ls_replica_debug_batch(const ls_replica *r, int slot, int64_t *ids, int64_t *tokens, int64_t cap);
/* Tests: full consistency check of the lazy structures (O(running)). */
void ls_replica_debug_check(const ls_replica *r);

#endif
