/* test_kvcache.c -- prefix caching: the block pool on its own (hand-built LRU
 * cases) and through the vllm-v1 scheduler. Expected values are worked out by
 * hand from vLLM V1's rules (../shared/brief/vllm-internals.md §2) in the
 * comments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kvcache.h"
#include "router.h"
#include "scheduler.h"

/* One request's life in the pool: look up, take the hits, allocate the rest,
 * register its full blocks. Returns the hit blocks. */
static int64_t admit(ls_kvcache *kv, int64_t *used, int32_t slot, int32_t prompt, const int64_t *ids, uint32_t n,
                     int bs, int64_t *pinned_out)
{
    ls_kvcache_set(kv, slot, prompt, ids, n);
    int64_t pinned, loaded;
    int64_t hit = ls_kvcache_match(kv, slot, prompt, &pinned, &loaded);
    assert_int_equal(loaded, 0);
    ls_kvcache_acquire(kv, slot, hit, 0, true);
    *used += pinned;
    int64_t need = (prompt + bs - 1) / bs - hit;
    ls_kvcache_take(kv, need);
    *used += need;
    ls_kvcache_commit(kv, slot, prompt);
    ls_kvcache_debug_check(kv, *used);
    if (pinned_out)
        *pinned_out = pinned;
    return hit;
}

static void release(ls_kvcache *kv, int64_t *used, int32_t slot, int64_t blocks)
{
    *used -= ls_kvcache_release(kv, slot, blocks);
    ls_kvcache_debug_check(kv, *used);
}

/* Three requests A, B, C of two full blocks each (block = hash block = 4
 * tokens) go through a 6-block pool and are released in turn. The free queue
 * then reads A2 A1 B2 B1 C2 C1 (each request's blocks in reverse). D shares
 * B's prefix and needs a third block: it takes B1 B2 out of the queue and its
 * new block evicts the front, A2. So A's first block survives (a request with
 * A's prefix hits 1 block, not 2) and C's two do. */
static void test_lru_three_requests(void **state)
{
    (void)state;
    ls_kvcache *kv = ls_kvcache_new(4, 4, 6, 0);
    int64_t used = 0;
    const int64_t A[] = {1, 2}, B[] = {3, 4}, C[] = {5, 6};
    assert_int_equal(admit(kv, &used, 0, 8, A, 2, 4, NULL), 0);
    release(kv, &used, 0, 2);
    assert_int_equal(admit(kv, &used, 1, 8, B, 2, 4, NULL), 0);  /* never-used blocks go first: nothing evicted */
    release(kv, &used, 1, 2);
    assert_int_equal(admit(kv, &used, 2, 8, C, 2, 4, NULL), 0);
    release(kv, &used, 2, 2);
    ls_kvcache_stats st;
    ls_kvcache_get_stats(kv, &st);
    assert_int_equal(st.evicted_blocks, 0);
    assert_int_equal(used, 0);

    /* D = B's two blocks + one more: 12 tokens, at most (12-1)/4 = 2 blocks can hit */
    const int64_t D[] = {3, 4, 7};
    int64_t pinned;
    assert_int_equal(admit(kv, &used, 3, 12, D, 3, 4, &pinned), 2);
    assert_int_equal(pinned, 2);  /* both hits were free: they count against the free blocks */
    ls_kvcache_get_stats(kv, &st);
    assert_int_equal(st.evicted_blocks, 1);
    assert_false(ls_kvcache_debug_cached(kv, 0, 1)); /* A2 evicted, */
    assert_true(ls_kvcache_debug_cached(kv, 0, 0));  /* A1 kept */
    assert_true(ls_kvcache_debug_cached(kv, 2, 0));
    assert_true(ls_kvcache_debug_cached(kv, 2, 1));

    /* E with A's prefix (12 tokens): the front A1 hits and leaves the queue
     * (A2 is gone, so only 1 block); its 2 new blocks evict C2, then C1 */
    const int64_t E[] = {1, 2, 8};
    assert_int_equal(admit(kv, &used, 4, 12, E, 3, 4, &pinned), 1);
    assert_int_equal(pinned, 1);
    assert_false(ls_kvcache_debug_cached(kv, 2, 1));
    assert_false(ls_kvcache_debug_cached(kv, 2, 0));
    ls_kvcache_get_stats(kv, &st);
    assert_int_equal(st.evicted_blocks, 3);
    assert_int_equal(used, 6);
    /* hit rate: (2 + 1) blocks of 4 tokens over 8+8+8+12+12 prompt tokens */
    assert_int_equal(st.lookups, 5);
    assert_int_equal(st.query_tokens, 48);
    assert_int_equal(st.hit_tokens, 12);
    release(kv, &used, 3, 3);
    release(kv, &used, 4, 3);
    ls_kvcache_free(kv);
}

/* The last token is always recomputed: a prompt that is all cached, ending on a
 * block boundary, hits all blocks but the last; a shared block held by two
 * requests goes free only when both release it; hits only on full blocks. */
static void test_full_blocks_and_refs(void **state)
{
    (void)state;
    /* 2-token blocks, 8-token hash blocks: 4 engine blocks per hash block */
    ls_kvcache *kv = ls_kvcache_new(2, 8, 64, 0);
    int64_t used = 0;
    const int64_t X[] = {10, 11};
    assert_int_equal(admit(kv, &used, 0, 16, X, 2, 2, NULL), 0);
    assert_int_equal(used, 8);
    /* the same 16 tokens again, while the first holds them: (16-1)/2 = 7 blocks hit, none free */
    int64_t pinned;
    assert_int_equal(admit(kv, &used, 1, 16, X, 2, 2, &pinned), 7);
    assert_int_equal(pinned, 0);
    assert_int_equal(used, 9);  /* one new block for the recomputed last token */
    release(kv, &used, 0, 8);
    assert_int_equal(used, 8);  /* 7 shared blocks still held by request 1, plus its own last one */
    release(kv, &used, 1, 8);
    assert_int_equal(used, 0);
    /* a 13-token prompt with X's first id: 6 full blocks, of which the first hash block's 4 are cached */
    const int64_t Y[] = {10, 12};
    assert_int_equal(admit(kv, &used, 2, 13, Y, 2, 2, &pinned), 4);
    assert_int_equal(pinned, 4);
    release(kv, &used, 2, 7);
    ls_kvcache_free(kv);
}

/* Engine blocks larger than hash blocks (1024-token blocks over 512-token ids):
 * block j is named by the id of its last hash block. */
static void test_big_blocks(void **state)
{
    (void)state;
    ls_kvcache *kv = ls_kvcache_new(1024, 512, 16, 0);
    int64_t used = 0;
    const int64_t P[] = {1, 2, 3, 4, 5}, Q[] = {1, 2, 3, 9, 9};
    assert_int_equal(admit(kv, &used, 0, 2500, P, 5, 1024, NULL), 0);
    /* Q shares ids 1 2 3: block 0 (ids 1 2) hits; block 1 (ids 3 and 9) does not */
    assert_int_equal(admit(kv, &used, 1, 2500, Q, 5, 1024, NULL), 1);
    release(kv, &used, 0, 3);
    release(kv, &used, 1, 3);
    assert_true(ls_kvcache_sizes_ok(16, 512) && ls_kvcache_sizes_ok(1024, 512));
    assert_false(ls_kvcache_sizes_ok(48, 512));
    ls_kvcache_free(kv);
}

/* A host tier of 4 offload blocks behind a GPU pool of 3 blocks (block = hash
 * block = 4 tokens), written through. A (ids 1 2) is computed and stored; B
 * (3 4) takes the last fresh block and evicts A2 from the GPU (the front of
 * the queue A2 A1). A' (ids 1 2 9, 12 tokens) then hits A1 on the GPU, finds
 * A2 in the tier (a load: a new block and a copy, no compute) and computes its
 * third block, whose store evicts the tier's least recently used entry, A1
 * (A2 was just used by the lookup). */
static void test_host_tier(void **state)
{
    (void)state;
    ls_kvcache *kv = ls_kvcache_new(4, 4, 3, 4);
    int64_t used = 0, pinned, loaded, l, s;
    const int64_t A[] = {1, 2}, B[] = {3, 4}, A2[] = {1, 2, 9};
    assert_int_equal(admit(kv, &used, 0, 8, A, 2, 4, NULL), 0);
    ls_kvcache_transfers(kv, &l, &s);
    assert_int_equal(l, 0);
    assert_int_equal(s, 2);  /* write-through of A's two blocks */
    release(kv, &used, 0, 2);
    assert_int_equal(admit(kv, &used, 1, 8, B, 2, 4, NULL), 0);
    ls_kvcache_transfers(kv, &l, &s);
    assert_int_equal(s, 2);
    release(kv, &used, 1, 2);
    assert_false(ls_kvcache_debug_cached(kv, 0, 1));

    ls_kvcache_set(kv, 2, 12, A2, 3);
    assert_int_equal(ls_kvcache_match(kv, 2, 12, &pinned, &loaded), 1);
    assert_int_equal(pinned, 1);
    assert_int_equal(loaded, 1);
    ls_kvcache_acquire(kv, 2, 1, 1, true);
    used += pinned;
    ls_kvcache_take(kv, 2);  /* the loaded block and the computed one: B2, B1 go */
    used += 2;
    ls_kvcache_commit(kv, 2, 12);
    ls_kvcache_debug_check(kv, used);
    ls_kvcache_transfers(kv, &l, &s);
    assert_int_equal(l, 1);
    assert_int_equal(s, 1);  /* (1 2) is in the tier already; (1 2 9) is new */
    ls_kvcache_stats st;
    ls_kvcache_get_stats(kv, &st);
    assert_int_equal(st.hit_tokens, 4);
    assert_int_equal(st.offload_hit_tokens, 4);
    assert_int_equal(st.query_tokens, 28);
    assert_int_equal(st.loaded_blocks, 1);
    assert_int_equal(st.stored_blocks, 5);
    release(kv, &used, 2, 3);
    /* B's blocks left the GPU for A' but stay in the tier: a lookup of B loads (8-1)/4 = 1 block */
    ls_kvcache_set(kv, 3, 8, B, 2);
    assert_int_equal(ls_kvcache_match(kv, 3, 8, &pinned, &loaded), 0);
    assert_int_equal(loaded, 1);
    ls_kvcache_free(kv);
}

/* ---- through the scheduler ------------------------------------------------ */

typedef struct done_log {
    int n;
    ls_req_done d[16];
} done_log;

static void on_done(void *ctx, int replica, const ls_req_done *d)
{
    (void)replica;
    done_log *l = ctx;
    assert_true(l->n < 16);
    l->d[l->n++] = *d;
}

/* Run the replica until idle, one step per time unit; returns the last time. */
static double drain(ls_replica *r, double t)
{
    ls_mbatch_info b;
    while (ls_replica_schedule(r, t, &b)) {
        ls_replica_debug_check(r);
        t += 1;
        ls_replica_complete(r, b.slot, t);
        ls_replica_debug_check(r);
    }
    return t;
}

/* The same three-request LRU case as above through vllm-v1, with 512-token
 * blocks (one per hash id): A, B, C (1024-token prompts, 1 output token) run
 * one after another in a 6-block cache; D = B's prefix + 512 tokens. Its
 * first step schedules only the 513 uncached tokens (the budget counts the
 * uncached part), and the hit rate is 1024 / (4 x 1024 + 1536). */
static void test_scheduler_prefix(void **state)
{
    (void)state;
    ls_sched_config c;
    memset(&c, 0, sizeof c);
    c.policy = LS_POLICY_VLLM_V1;
    c.enable_chunked_prefill = true;
    c.max_batched_tokens = 4096;
    c.max_num_seqs = 8;
    c.max_model_len = 8192;
    c.block_size = 512;
    c.kv_blocks = 6;
    c.enable_prefix_caching = true;
    done_log log = {0};
    ls_replica *r = ls_replica_new(&c, 1, 0, on_done, NULL, &log);
    const int64_t A[] = {1, 2}, B[] = {3, 4}, C[] = {5, 6}, D[] = {3, 4, 7}, E[] = {1, 2, 8};
    double t = 0;
    ls_replica_add_hashed(r, 0, 1024, 1, A, 2, t, 0);
    t = drain(r, t);
    ls_replica_add_hashed(r, 1, 1024, 1, B, 2, t, 0);
    t = drain(r, t);
    ls_replica_add_hashed(r, 2, 1024, 1, C, 2, t, 0);
    t = drain(r, t);
    assert_int_equal(ls_replica_used_blocks(r), 0);
    ls_replica_add_hashed(r, 3, 1536, 1, D, 3, t, 0);
    ls_mbatch_info b;
    assert_true(ls_replica_schedule(r, t, &b));
    assert_int_equal(b.agg.tokens, 512);          /* 1024 cached tokens skipped, 512 computed */
    assert_int_equal(ls_replica_used_blocks(r), 3);
    ls_replica_complete(r, b.slot, t + 1);
    t = drain(r, t + 1);
    ls_replica_add_hashed(r, 4, 1536, 1, E, 3, t, 0);
    t = drain(r, t);
    ls_kvcache_stats st;
    assert_true(ls_replica_prefix_stats(r, &st));
    assert_int_equal(st.lookups, 5);
    assert_int_equal(st.hit_tokens, 1024 + 512);   /* D: B1 B2; E: A1 only (A2 was evicted for D) */
    assert_int_equal(st.query_tokens, 3 * 1024 + 2 * 1536);
    assert_int_equal(st.evicted_blocks, 3);
    assert_int_equal(log.n, 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(log.d[i].status, LS_REQ_COMPLETED);
    ls_replica_free(r);
}

/* ---- prefix-aware routing ---------------------------------------------------- */

typedef struct fake { int64_t load[3], cached[3], out[3]; } fake;
static int64_t f_out(void *c, int i) { return ((fake *)c)->out[i]; }
static int64_t f_load(void *c, int i) { return ((fake *)c)->load[i]; }
static int64_t f_cached(void *c, int i, const ls_request *q) { (void)q; return ((fake *)c)->cached[i]; }

/* cost = blocks in use - 4 x cached blocks of the prompt; ties: fewer outstanding, then lowest index */
static void test_prefix_router(void **state)
{
    (void)state;
    const ls_router_ops *r = ls_router_find("prefix-aware");
    assert_non_null(r);
    ls_router_state st = {0};
    ls_request q = {0};
    fake f = {{100, 100, 100}, {0, 10, 0}, {5, 5, 5}};
    ls_router_view v = {3, &f, f_out, f_load, f_cached, NULL, 0};
    assert_int_equal(r->pick(&st, &v, &q), 1);   /* the cache wins at equal load */
    f.load[0] = 50;                               /* 50 vs 100 - 40 = 60: load wins */
    assert_int_equal(r->pick(&st, &v, &q), 0);
    f.load[0] = 60;                               /* tie 60 / 60: fewer outstanding */
    f.out[1] = 4;
    assert_int_equal(r->pick(&st, &v, &q), 1);
    f.out[1] = 5;                                 /* full tie: the lowest index */
    assert_int_equal(r->pick(&st, &v, &q), 0);
    char names[128];
    ls_router_names(names, sizeof names);
    assert_non_null(strstr(names, "prefix-aware"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lru_three_requests),
        cmocka_unit_test(test_full_blocks_and_refs),
        cmocka_unit_test(test_big_blocks),
        cmocka_unit_test(test_host_tier),
        cmocka_unit_test(test_scheduler_prefix),
        cmocka_unit_test(test_prefix_router),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
