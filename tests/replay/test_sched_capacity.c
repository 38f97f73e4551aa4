/* test_sched_capacity.c -- TensorRT-LLM's guaranteed_no_evict admission (sched_capacity.h), by hand.
 *
 * Block size 2. A request with prompt P and output O can hold P + O - 1 tokens of KV, so its life
 * needs ceil((P + O - 1) / 2) blocks, promised at admission; admission stops when the promises of
 * the running requests plus the next one's would exceed the pool. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "batch_step.h"
#include "sched_capacity.h"
#include "scheduler.h"

typedef struct log_t {
    int n;
    ls_req_done d[16];
} log_t;

static void on_done(void *ctx, int replica, const ls_req_done *d)
{
    log_t *l = ctx;
    (void)replica;
    assert_true(l->n < 16);
    l->d[l->n++] = *d;
}

static ls_sched_config cfg(int capacity, int64_t blocks)
{
    ls_sched_config c;
    memset(&c, 0, sizeof c);
    c.policy = LS_POLICY_VLLM_V1;
    c.enable_chunked_prefill = true;
    c.max_batched_tokens = 16;
    c.max_num_seqs = 8;
    c.max_model_len = 1000;
    c.block_size = 2;
    c.kv_blocks = blocks;
    c.capacity_policy = capacity;
    return c;
}

static void step(ls_replica *r, double t, const char *expect)
{
    ls_mbatch_info b;
    test_batch_step(r, t, expect, &b);
}

static void test_life_blocks(void **state)
{
    (void)state;
    assert_int_equal(ls_sched_capacity_blocks(4, 8, 2), 6);   /* 11 tokens */
    assert_int_equal(ls_sched_capacity_blocks(4, 2, 2), 3);   /* 5 tokens */
    assert_int_equal(ls_sched_capacity_blocks(4, 1, 2), 2);   /* 4 tokens: the only token is never fed back */
    assert_int_equal(ls_sched_capacity_blocks(1, 1, 16), 1);
    assert_true(ls_sched_capacity_fits(3, 3, 6));
    assert_false(ls_sched_capacity_fits(4, 3, 6));
}

/* The preemption case of test_scheduler.c (two 4 + 8 requests, 6 blocks): under max_utilization both
 * start and the newer one is preempted at step 3. Under guaranteed_no_evict request 0 promises all 6
 * blocks, so 1 waits: 0 prefills at t 0 and decodes 7 tokens at t 1..7 (done at 8); 1 runs at t 8..15. */
static void test_no_preemption(void **state)
{
    (void)state;
    log_t l = {0};
    ls_sched_config c = cfg(LS_CAPACITY_GUARANTEED_NO_EVICT, 6);
    ls_replica *r = ls_replica_new(&c, 1, 0, on_done, NULL, &l);
    ls_replica_add(r, 0, 4, 8, 0, 0);
    ls_replica_add(r, 1, 4, 8, 0, 0);
    step(r, 0, "0:4");
    for (int t = 1; t <= 7; t++)
        step(r, t, "0:1");
    assert_int_equal(l.n, 1);
    step(r, 8, "1:4");
    for (int t = 9; t <= 15; t++)
        step(r, t, "1:1");
    step(r, 16, "");
    assert_int_equal(l.n, 2);
    assert_int_equal(ls_replica_preemptions(r), 0);
    assert_int_equal(ls_replica_recomputed(r), 0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(l.d[i].status, LS_REQ_COMPLETED);
        assert_int_equal(l.d[i].generated, 8);
        assert_int_equal(l.d[i].preemptions, 0);
    }
    assert_true(l.d[1].first_token_s == 9.0 && l.d[1].finish_s == 16.0);
    ls_replica_free(r);
}

/* Three 4 + 2 requests, 7 blocks. Each prefill needs 2 blocks now (6 in all: max_utilization admits
 * all three) but promises 3 for its life: 3 + 3 + 3 = 9 > 7, so guaranteed_no_evict admits two; they
 * decode their second token at t 1 and finish at 2, when the third starts. */
static void test_admission_stops_at_promises(void **state)
{
    (void)state;
    log_t l = {0};
    ls_sched_config c = cfg(LS_CAPACITY_MAX_UTILIZATION, 7);
    ls_replica *r = ls_replica_new(&c, 1, 0, on_done, NULL, &l);
    for (int i = 0; i < 3; i++)
        ls_replica_add(r, i, 4, 2, 0, 0);
    step(r, 0, "0:4 1:4 2:4");
    ls_replica_free(r);

    memset(&l, 0, sizeof l);
    c = cfg(LS_CAPACITY_GUARANTEED_NO_EVICT, 7);
    r = ls_replica_new(&c, 1, 0, on_done, NULL, &l);
    for (int i = 0; i < 3; i++)
        ls_replica_add(r, i, 4, 2, 0, 0);
    step(r, 0, "0:4 1:4");
    step(r, 1, "0:1 1:1");
    assert_int_equal(l.n, 2);
    step(r, 2, "2:4");
    step(r, 3, "2:1");
    step(r, 4, "");
    assert_int_equal(l.n, 3);
    assert_int_equal(ls_replica_preemptions(r), 0);
    ls_replica_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_life_blocks),
        cmocka_unit_test(test_no_preemption),
        cmocka_unit_test(test_admission_stops_at_promises),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
