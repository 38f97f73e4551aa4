/* kvcache.h -- automatic prefix caching over a replica's KV block pool (internal to replay/).
 *
 * vLLM V1's rules (../shared/brief/vllm-internals.md §2), on block identities
 * taken from the trace: a request's prompt is described by prefix-block hash
 * ids of `hash_tokens` tokens each (Mooncake: 512), chained so that equal
 * chains mean equal prefixes. Engine block j of a prompt (block_size tokens)
 * is identified by the chain of the hash block holding its last token and its
 * position; only full prompt blocks covered by hash ids have an identity.
 *
 * - A lookup (ls_kvcache_match) walks the request's blocks until the first
 *   that is not cached, at most (tokens - 1) / block_size blocks: the last
 *   token is always recomputed.
 * - Blocks are registered (ls_kvcache_commit) when scheduled, not after the
 *   forward pass, so a chunk's full blocks can be hit by the next admission.
 * - A released request returns its blocks in reverse order to the tail of one
 *   free queue; allocation (ls_kvcache_take) pops from the front, never-used
 *   blocks first, evicting a cached block lazily when it is reused (LRU).
 *   Anonymous blocks (generated tokens, partial blocks, blocks without hash
 *   ids) sit in the same queue as runs, so they keep their place in the order.
 * - A block computed while an equal one is cached stays anonymous (vLLM keeps
 *   both; the difference only shows when the registered copy is evicted).
 *
 * The scheduler keeps the block count (used = blocks with a holder); this
 * module keeps which blocks are which. Requests are named by the scheduler's
 * slot index. Cost: one hash lookup per hash block on match and commit, O(1)
 * per engine block otherwise; memory: per cached hash block, block-size nodes
 * of 12 bytes for the hash_tokens / block_size engine blocks it spans.
 */
#ifndef LS_KVCACHE_H
#define LS_KVCACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "reader.h"

/* Tokens per hash id of a trace (Mooncake's 512; the native format's hash_ids too). */
#define LS_PREFIX_HASH_TOKENS LS_MOONCAKE_BLOCK_TOKENS

typedef struct ls_kvcache ls_kvcache;

typedef struct ls_kvcache_stats {
    int64_t lookups;          /* first admissions looked up (preempted requests excluded, as vLLM) */
    int64_t query_tokens;     /* their prompt tokens */
    int64_t hit_tokens;       /* of which served from the cache */
    int64_t evicted_blocks;   /* cached blocks evicted for reuse */
    int64_t offload_hit_tokens; /* of the query tokens, loaded from the host tier (first admissions) */
    int64_t loaded_blocks;    /* blocks copied host -> GPU (every admission) */
    int64_t stored_blocks;    /* blocks copied GPU -> host (write-through) */
} ls_kvcache_stats;

/* True when hash blocks of `hash_tokens` map onto engine blocks of `block_size`
 * (one divides the other). */
bool ls_kvcache_sizes_ok(int block_size, int hash_tokens);

/* A pool of `total_blocks` blocks, all free and never used; with a host tier
 * of `tier_entries` > 0 offload blocks (one per hash block; block_size must
 * divide hash_tokens), 0 for none. */
ls_kvcache *ls_kvcache_new(int block_size, int hash_tokens, int64_t total_blocks, int64_t tier_entries);
void ls_kvcache_free(ls_kvcache *kv);

/* Request `slot` (new, or recycled) has `prompt` tokens described by `n` hash
 * ids (copied; n may be 0: nothing of it can be cached). It holds no block. */
void ls_kvcache_set(ls_kvcache *kv, int32_t slot, int32_t prompt, const int64_t *hash_ids, uint32_t n);

/* Longest cached prefix of `slot` for a request of `tokens` tokens, in blocks;
 * *n_free gets how many of them sit in the free queue (they count against the
 * free blocks when acquired), *n_loaded how many blocks after them the host
 * tier holds (they need new blocks and a copy, not compute). No effect on the
 * GPU cache (tier hits become its most recently used). */
int64_t ls_kvcache_match(ls_kvcache *kv, int32_t slot, int64_t tokens, int64_t *n_free, int64_t *n_loaded);

/* For a router: how many blocks of a prompt of `prompt` tokens described by
 * `n` hash ids this pool would serve from its cache now (held or free), under
 * the lookup's rules. No effect on the cache. */
int64_t ls_kvcache_probe(const ls_kvcache *kv, int32_t prompt, const int64_t *hash_ids, uint32_t n);

/* The request takes the `hit` blocks of the match just made (ref counts up,
 * out of the free queue) and has `loaded` blocks copied from the host tier.
 * `first` counts it in the hit-rate statistics. */
void ls_kvcache_acquire(ls_kvcache *kv, int32_t slot, int64_t hit, int64_t loaded, bool first);

/* Blocks copied host -> GPU and GPU -> host since the last call (the step
 * being formed moves them). */
void ls_kvcache_transfers(ls_kvcache *kv, int64_t *load_blocks, int64_t *store_blocks);

/* `k` blocks leave the free pool for new allocations (never-used first, then
 * the front of the queue, evicting cached blocks). The scheduler has checked
 * that they are free. */
void ls_kvcache_take(ls_kvcache *kv, int64_t k);

/* `k` anonymous blocks return to the free pool (a reservation given back). */
void ls_kvcache_put(ls_kvcache *kv, int64_t k);

/* `slot` has scheduled its tokens up to `tokens`: register its full prompt
 * blocks up to there. */
void ls_kvcache_commit(ls_kvcache *kv, int32_t slot, int64_t tokens);

/* `slot` releases all `blocks` blocks it holds; returns how many became free
 * (shared blocks still held by others do not). */
int64_t ls_kvcache_release(ls_kvcache *kv, int32_t slot, int64_t blocks);

void ls_kvcache_get_stats(const ls_kvcache *kv, ls_kvcache_stats *out);

/* Tests: whether engine block j of `slot`'s prompt is cached now. */
bool ls_kvcache_debug_cached(ls_kvcache *kv, int32_t slot, int64_t j);
/* Tests: full consistency check (O(pool)): counts, queue links, ref counts. */
void ls_kvcache_debug_check(const ls_kvcache *kv, int64_t used_blocks);

#endif
