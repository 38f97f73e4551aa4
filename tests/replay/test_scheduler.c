/* test_scheduler.c -- scheduler conformance: scripted scenarios with the
 * expected batch of every step, for vllm-v1, vllm-v0 and sarathi.
 *
 * Each step is: form a micro-batch at time t, compare it with the expected
 * (request id, tokens) list, complete it at t + 1. The expected batches are
 * worked out by hand from domain.md §5 in the comments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "batch_step.h"
#include "sched_order.h"
#include "scheduler.h"

typedef struct log {
    int n;
    ls_req_done d[64];
} log_t;

static void on_done(void *ctx, int replica, const ls_req_done *d)
{
    log_t *l = ctx;
    (void)replica;
    assert_true(l->n < 64);
    l->d[l->n++] = *d;
}

static ls_sched_config cfg(ls_policy p, int64_t budget, int64_t seqs, int64_t mml, int bs, int64_t blocks)
{
    ls_sched_config c;
    memset(&c, 0, sizeof c);
    c.policy = p;
    c.enable_chunked_prefill = true;
    c.prefill_chunk_size = 0;
    c.max_batched_tokens = budget;
    c.max_num_seqs = seqs;
    c.max_model_len = mml;
    c.block_size = bs;
    c.kv_blocks = blocks;
    c.watermark = p == LS_POLICY_VLLM_V0 ? 0.01 : 0.0;
    return c;
}

/* Form a batch at time t, check it equals the "id:tokens" list (sorted by id),
 * complete it at t + 1. An empty list means: nothing is scheduled. */
static bool g_window_start;  /* of the last batch step() formed */

static void step(ls_replica *r, double t, const char *expect)
{
    ls_mbatch_info b;
    g_window_start = test_batch_step(r, t, expect, &b) && !b.in_window;
}

static const ls_req_done *find(const log_t *l, int64_t id)
{
    for (int i = 0; i < l->n; i++)
        if (l->d[i].id == id)
            return &l->d[i];
    return NULL;
}

/* v1: a 20-token prompt in a budget of 8 is split 8, 8, 4; then decodes. */
static void test_v1_chunk_splitting(void **state)
{
    (void)state;
    log_t l = {0};
    ls_sched_config c = cfg(LS_POLICY_VLLM_V1, 8, 8, 1000, 4, 100);
    ls_replica *r = ls_replica_new(&c, 1, 0, on_done, NULL, &l);
    ls_replica_add(r, 0, 20, 3, 0, 0);
    step(r, 0, "0:8");
    step(r, 1, "0:8");
    step(r, 2, "0:4");  /* last chunk: first token at t = 3 */
    step(r, 3, "0:1");
    step(r, 4, "0:1");  /* third token: done */
    step(r, 5, "");
    const ls_req_done *d = find(&l, 0);
    assert_non_null(d);
    assert_int_equal(d->status, LS_REQ_COMPLETED);
    assert_true(d->first_token_s == 3.0 && d->finish_s == 5.0 && d->first_scheduled_s == 0.0);
    assert_int_equal(ls_replica_used_blocks(r), 0);
    ls_replica_free(r);
}

/* v1: long_prefill_token_threshold caps each chunk. */
static void test_v1_threshold(void **state)
{
    (void)state;
    log_t l = {0};
    ls_sched_config c = cfg(LS_POLICY_VLLM_V1, 16, 8, 1000, 4, 100);
    c.prefill_chunk_size = 3;
    ls_replica *r = ls_replica_new(&c, 1, 0, on_done, NULL, &l);
    ls_replica_add(r, 0, 10, 1, 0, 0);
    ls_replica_add(r, 1, 2, 2, 0, 0);
    /* budget 16: request 0 takes 3 (threshold), request 1 its whole 2-token prompt */
    step(r, 0, "0:3 1:2");
    step(r, 1, "0:3 1:1");  /* 1 decodes (second token: done) */
    step(r, 2, "0:3");
    step(r, 3, "0:1");      /* 3+3+3+1 = 10: first and only token */
    step(r, 4, "");
    assert_int_equal(l.n, 2);
    ls_replica_free(r);
}

/* v1: decodes and a new prefill share the budget (running first). */
static void test_v1_budget_sharing(void **state)
{
    (void)state;
    log_t l = {0};
    ls_sched_config c = cfg(LS_POLICY_VLLM_V1, 8, 8, 1000, 4, 100);
    ls_replica *r = ls_replica_new(&c, 1, 0, on_done, NULL, &l);
    ls_replica_add(r, 0, 4, 5, 0, 0);
    step(r, 0, "0:4");
    ls_replica_add(r, 1, 10, 2, 0.5, 0);
    step(r, 1, "0:1 1:7");  /* 1 decode + 7 of the 10-token prompt */
    step(r, 2, "0:1 1:3");  /* the rest: 1's first token */
    step(r, 3, "0:1 1:1");  /* 1 done (2 tokens) */
    step(r, 4, "0:1");      /* 0's fifth token */
    step(r, 5, "");
    assert_int_equal(l.n, 2);
    ls_replica_free(r);
}

/* v1: the newest running request is preempted by recompute when blocks run
 * out, goes to the front of the waiting queue, and no admission happens in
 * that step. block_size 2, 6 blocks; two requests of prompt 4, output 8.
 *  1: both prefill (2 blocks each, 4 used)
 *  2: both decode, context 5 -> 3 blocks each (6 used)
 *  3: context 6 -> still 3 blocks each
 *  4: 0 needs a 4th block: 1 (newest) is preempted (6 computed tokens freed)
 *  5..8: 0 alone (1 waits: it needs 4 blocks for prompt 4 + 3 generated)
 *  8: 0 produces its 8th token and finishes, freeing everything
 *  9: 1 recomputes 7 tokens; 10..13: it decodes to 8 tokens. */
static void test_v1_preemption(void **state)
{
    (void)state;
    log_t l = {0};
    ls_sched_config c = cfg(LS_POLICY_VLLM_V1, 16, 8, 1000, 2, 6);
    ls_replica *r = ls_replica_new(&c, 1, 0, on_done, NULL, &l);
    ls_replica_add(r, 0, 4, 8, 0, 0);
    ls_replica_add(r, 1, 4, 8, 0, 0);
    step(r, 0, "0:4 1:4");
    step(r, 1, "0:1 1:1");
    step(r, 2, "0:1 1:1");
    step(r, 3, "0:1");
    assert_int_equal(ls_replica_preemptions(r), 1);
    assert_int_equal(ls_replica_recomputed(r), 6);
    assert_int_equal(ls_replica_waiting(r), 1);
    step(r, 4, "0:1");
    step(r, 5, "0:1");
    step(r, 6, "0:1");
    step(r, 7, "0:1");
    assert_int_equal(l.n, 1);
    step(r, 8, "1:7");
    step(r, 9, "1:1");
    step(r, 10, "1:1");
    step(r, 11, "1:1");
    step(r, 12, "1:1");
    step(r, 13, "");
    const ls_req_done *d = find(&l, 1);
    assert_non_null(d);
    assert_int_equal(d->status, LS_REQ_COMPLETED);
    assert_int_equal(d->preemptions, 1);
    assert_int_equal(d->generated, 8);
    assert_true(d->first_token_s == 1.0 && d->finish_s == 13.0);
    ls_replica_free(r);
}

/* v1: first come, first served -- a head that does not fit blocks a smaller
 * request behind it. block_size 2, 6 blocks. 0: prompt 6, output 4 (3 blocks,
 * up to 5). 1: prompt 8 (4 blocks), 2: prompt 2 (1 block) arrive after step 1. */
static void test_v1_head_of_line(void **state)
{
    (void)state;
    log_t l = {0};
    ls_sched_config c = cfg(LS_POLICY_VLLM_V1, 16, 8, 1000, 2, 6);
    ls_replica *r = ls_replica_new(&c, 1, 0, on_done, NULL, &l);
    ls_replica_add(r, 0, 6, 4, 0, 0);
    step(r, 0, "0:6");
    ls_replica_add(r, 1, 8, 1, 0.5, 0);
    ls_replica_add(r, 2, 2, 1, 0.5, 0);
    step(r, 1, "0:1");  /* 4 blocks used: 1 needs 4, only 2 free; 2 would fit but waits */
    step(r, 2, "0:1");
    step(r, 3, "0:1");  /* 5 blocks; 0 finishes */
    step(r, 4, "1:8 2:2");
    step(r, 5, "");
    assert_int_equal(l.n, 3);
    ls_replica_free(r);
}

/* v1: max_num_seqs bounds the running set. */
static void test_v1_max_num_seqs(void **state)
{
    (void)state;
    log_t l = {0};
    ls_sched_config c = cfg(LS_POLICY_VLLM_V1, 64, 2, 1000, 4, 100);
    ls_replica *r = ls_replica_new(&c, 1, 0, on_done, NULL, &l);
    ls_replica_add(r, 0, 3, 2, 0, 0);
    ls_replica_add(r, 1, 3, 2, 0, 0);
    ls_replica_add(r, 2, 3, 2, 0, 0);
    step(r, 0, "0:3 1:3");
    step(r, 1, "0:1 1:1");  /* both finish */
    step(r, 2, "2:3");
    step(r, 3, "2:1");
    step(r, 4, "");
    ls_replica_free(r);
}

/* Rejections: prompt >= max_model_len; never fits the KV cache; output capped. */
static void test_rejections(void **state)
{
    (void)state;
    log_t l = {0};
    ls_sched_config c = cfg(LS_POLICY_VLLM_V1, 64, 8, 10, 2, 4);
    ls_replica *r = ls_replica_new(&c, 1, 0, on_done, NULL, &l);
    ls_replica_add(r, 0, 10, 5, 0, 0);   /* prompt = max_model_len: no room for output */
    ls_replica_add(r, 1, 6, 100, 0, 0);  /* output capped to 10 - 6 = 4: 9 tokens = 5 blocks > 4 */
    ls_replica_add(r, 2, 4, 100, 0, 0);  /* capped to 6: 9 tokens > 8: never fits */
    ls_replica_add(r, 3, 5, 100, 0, 0);  /* capped to 5: 9 tokens: never fits */
    ls_replica_add(r, 4, 3, 100, 0, 0);  /* capped to 7: 9 tokens: never fits */
    ls_replica_add(r, 5, 2, 100, 0, 0);  /* capped to 8: 9 tokens: never fits */
    ls_replica_add(r, 6, 2, 5, 0, 0);    /* 6 tokens: 3 blocks: fits */
    assert_int_equal(find(&l, 0)->status, LS_REQ_REJECTED_TOO_LONG);
    for (int i = 1; i <= 5; i++)
        assert_int_equal(find(&l, i)->status, LS_REQ_REJECTED_KV);
    assert_int_equal(find(&l, 1)->output_tokens, 4);
    assert_null(find(&l, 6));
    step(r, 0, "6:2");
    ls_replica_free(r);

    /* output capped at max_model_len: prompt 7, output 100, max_model_len 10 -> 3 tokens */
    log_t l2 = {0};
    c = cfg(LS_POLICY_VLLM_V1, 64, 8, 10, 4, 100);
    r = ls_replica_new(&c, 1, 0, on_done, NULL, &l2);
    ls_replica_add(r, 0, 7, 100, 0, 0);
    step(r, 0, "0:7");
    step(r, 1, "0:1");
    step(r, 2, "0:1");
    step(r, 3, "");
    assert_int_equal(find(&l2, 0)->status, LS_REQ_COMPLETED);
    assert_int_equal(find(&l2, 0)->generated, 3);
    ls_replica_free(r);

    /* client timeout: a request never scheduled within timeout_s is abandoned */
    log_t l3 = {0};
    c = cfg(LS_POLICY_VLLM_V1, 8, 1, 1000, 4, 100);
    r = ls_replica_new(&c, 1, 0, on_done, NULL, &l3);
    ls_replica_add(r, 0, 4, 3, 0, 0);
    ls_replica_add(r, 1, 4, 1, 0, 1.5);  /* deadline 1.5; 0 occupies the only seat until t = 3 */
    step(r, 0, "0:4");
    step(r, 1, "0:1");
    step(r, 2, "0:1");
    step(r, 3, "");
    assert_int_equal(find(&l3, 1)->status, LS_REQ_TIMEOUT);
    assert_true(find(&l3, 1)->finish_s == 1.5);
    ls_replica_free(r);
}

/* v1 without chunked prefill: a prompt must fit the remaining budget whole. */
static void test_v1_no_chunking(void **state)
{
    (void)state;
    log_t l = {0};
    ls_sched_config c = cfg(LS_POLICY_VLLM_V1, 8, 8, 1000, 4, 100);
    c.enable_chunked_prefill = false;
    ls_replica *r = ls_replica_new(&c, 1, 0, on_done, NULL, &l);
    ls_replica_add(r, 0, 9, 2, 0, 0);  /* over the budget: rejected at arrival */
    ls_replica_add(r, 1, 5, 3, 0, 0);
    ls_replica_add(r, 2, 4, 2, 0, 0);  /* 5 + 4 > 8: waits */
    assert_int_equal(find(&l, 0)->status, LS_REQ_REJECTED_TOO_LONG);
    step(r, 0, "1:5");
    step(r, 1, "1:1 2:4");
    step(r, 2, "1:1 2:1");  /* both done */
    step(r, 3, "");
    ls_replica_free(r);
}

/* vllm-v0: whole-prompt prefills first, never mixed with decodes. */
static void test_v0(void **state)
{
    (void)state;
    log_t l = {0};
    ls_sched_config c = cfg(LS_POLICY_VLLM_V0, 16, 8, 1000, 4, 100);
    ls_replica *r = ls_replica_new(&c, 1, 0, on_done, NULL, &l);
    ls_replica_add(r, 0, 4, 3, 0, 0);
    ls_replica_add(r, 1, 4, 2, 0, 0);
    ls_replica_add(r, 2, 17, 2, 0, 0);  /* longer than the budget: ignored */
    assert_int_equal(find(&l, 2)->status, LS_REQ_REJECTED_TOO_LONG);
    step(r, 0, "0:4 1:4");
    ls_replica_add(r, 3, 10, 3, 0.5, 0);
    ls_replica_add(r, 4, 10, 3, 0.5, 0);
    step(r, 1, "3:10");       /* prefill only; 4 does not fit the rest of the budget */
    step(r, 2, "4:10");
    step(r, 3, "0:1 1:1 3:1 4:1");  /* decode step: 1 finishes */
    step(r, 4, "0:1 3:1 4:1");      /* 0, 3, 4 finish */
    step(r, 5, "");
    ls_replica_free(r);

    /* watermark: 100 blocks keep 1 free at admission */
    log_t l2 = {0};
    c = cfg(LS_POLICY_VLLM_V0, 512, 8, 1000, 4, 100);
    r = ls_replica_new(&c, 1, 0, on_done, NULL, &l2);
    ls_replica_add(r, 0, 396, 1, 0, 0);  /* 99 blocks: 99 + 1 watermark = 100: admitted */
    step(r, 0, "0:396");
    ls_replica_add(r, 1, 397, 1, 1.5, 0);  /* 100 blocks > 100 - 1: never fits */
    assert_int_equal(find(&l2, 1)->status, LS_REQ_REJECTED_KV);
    ls_replica_free(r);
}

/* sarathi: decodes first, then partial prefills, then new prefills; whole prompt reserved. */
static void test_sarathi(void **state)
{
    (void)state;
    log_t l = {0};
    ls_sched_config c = cfg(LS_POLICY_SARATHI, 8, 8, 1000, 4, 100);
    ls_replica *r = ls_replica_new(&c, 1, 0, on_done, NULL, &l);
    ls_replica_add(r, 0, 4, 4, 0, 0);
    step(r, 0, "0:4");
    ls_replica_add(r, 1, 12, 2, 0.5, 0);
    step(r, 1, "0:1 1:7");
    assert_int_equal(ls_replica_used_blocks(r), 2 + 3);  /* 1's whole prompt reserved: 3 blocks */
    step(r, 2, "0:1 1:5");
    step(r, 3, "0:1 1:1");  /* both finish */
    step(r, 4, "");
    assert_int_equal(ls_replica_used_blocks(r), 0);
    ls_replica_free(r);
}

/* PP: a request in flight is not scheduled again until its micro-batch returns. */
static void test_pp_in_flight(void **state)
{
    (void)state;
    log_t l = {0};
    ls_sched_config c = cfg(LS_POLICY_VLLM_V1, 16, 8, 1000, 4, 100);
    ls_replica *r = ls_replica_new(&c, 2, 0, on_done, NULL, &l);
    ls_replica_add(r, 0, 4, 3, 0, 0);
    ls_mbatch_info a, b;
    assert_true(ls_replica_schedule(r, 0, &a));
    assert_false(ls_replica_schedule(r, 0.5, &b));  /* 0 is in flight */
    ls_replica_add(r, 1, 4, 3, 0.6, 0);
    assert_true(ls_replica_schedule(r, 0.6, &b));
    assert_int_equal(ls_replica_in_flight(r), 2);
    int64_t ids[4], tok[4];
    assert_int_equal(ls_replica_debug_batch(r, b.slot, ids, tok, 4), 1);
    assert_int_equal(ids[0], 1);
    ls_replica_complete(r, a.slot, 1.0);
    assert_true(ls_replica_schedule(r, 1.0, &a));  /* 0 alone: 1 is still in flight */
    assert_int_equal(ls_replica_debug_batch(r, a.slot, ids, tok, 4), 1);
    assert_true(ids[0] == 0 && tok[0] == 1);
    ls_replica_complete(r, b.slot, 1.6);
    ls_replica_complete(r, a.slot, 2.0);
    ls_replica_debug_check(r);
    ls_replica_free(r);
}

/* Order rules (sched_order.c). One sequence at a time, three prompts arriving
 * together: 300 (id 0), 100 (id 1), 200 (id 2), two output tokens each.
 * sjf runs 100, 200, 300 (each takes a prefill step and a decode step): they
 * finish at t = 2, 4, 6; fcfs runs them in arrival order. */
static void test_sjf_order(void **state)
{
    (void)state;
    for (int order = 0; order < 2; order++) {
        log_t l = {0};
        ls_sched_config c = cfg(LS_POLICY_VLLM_V1, 512, 1, 1000, 16, 100);
        c.order = order;  /* 0 fcfs, 1 sjf */
        c.sjf_max_wait_s = 0;  /* no aging bound */
        ls_replica *r = ls_replica_new(&c, 1, 0, on_done, NULL, &l);
        ls_replica_add(r, 0, 300, 2, 0, 0);
        ls_replica_add(r, 1, 100, 2, 0, 0);
        ls_replica_add(r, 2, 200, 2, 0, 0);
        step(r, 0, order ? "1:100" : "0:300");
        step(r, 1, order ? "1:1" : "0:1");
        step(r, 2, order ? "2:200" : "1:100");
        step(r, 3, order ? "2:1" : "1:1");
        step(r, 4, order ? "0:300" : "2:200");
        step(r, 5, order ? "0:1" : "2:1");
        step(r, 6, "");
        assert_int_equal(l.n, 3);
        const int64_t want[2][3] = {{0, 1, 2}, {1, 2, 0}};
        for (int i = 0; i < 3; i++) {
            assert_int_equal(l.d[i].id, want[order][i]);
            assert_true(l.d[i].finish_s == 2.0 * (i + 1));
        }
        ls_replica_free(r);
    }
}

/* sjf aging: 300 (id 0) and 100 (id 1) at t = 0, 50 (id 2) at 1.5, 10 (id 3)
 * at 3.5, bound 2.5 s. At t = 0 and t = 2 id 0 has waited 0 and 2 s < 2.5, so
 * 100 then 50 run; at t = 4 it has waited 4 s >= 2.5 and goes before the
 * shorter id 3. Without the bound the order would be 1, 2, 3, 0. */
static void test_sjf_aging(void **state)
{
    (void)state;
    for (int aged = 0; aged < 2; aged++) {
        log_t l = {0};
        ls_sched_config c = cfg(LS_POLICY_VLLM_V1, 512, 1, 1000, 16, 100);
        c.order = 1;
        c.sjf_max_wait_s = aged ? 2.5 : 0;
        ls_replica *r = ls_replica_new(&c, 1, 0, on_done, NULL, &l);
        ls_replica_add(r, 0, 300, 2, 0, 0);
        ls_replica_add(r, 1, 100, 2, 0, 0);
        step(r, 0, "1:100");
        step(r, 1, "1:1");
        ls_replica_add(r, 2, 50, 2, 1.5, 0);
        step(r, 2, "2:50");
        step(r, 3, "2:1");
        ls_replica_add(r, 3, 10, 2, 3.5, 0);
        step(r, 4, aged ? "0:300" : "3:10");
        step(r, 5, aged ? "0:1" : "3:1");
        step(r, 6, aged ? "3:10" : "0:300");
        step(r, 7, aged ? "3:1" : "0:1");
        step(r, 8, "");
        const int64_t want[2][4] = {{1, 2, 3, 0}, {1, 2, 0, 3}};
        assert_int_equal(l.n, 4);
        for (int i = 0; i < 4; i++)
            assert_int_equal(l.d[i].id, want[aged][i]);
        ls_replica_free(r);
    }
}

/* Order priority (sched_order.h; vLLM V1's --scheduling-policy priority).
 * block_size 2, 6 blocks, budget 16. Id 0: priority 1 (batch), at t = 0;
 * id 1: priority 0 (interactive), at 0.5; both prompt 4, output 8. Id 2:
 * priority 0, prompt 2, output 1, at 3.5 (only in the priority run).
 *  t=0 "0:4" (2 blocks). t=1 "0:1 1:4" (0 takes a 3rd block, 1 two: 5).
 *  t=2 "0:1 1:1" (1 takes its 3rd: 6 used).
 *  t=3: 0 (computed 6) needs a 4th block, none free. fcfs preempts the newest,
 *  1; priority preempts max(running, key=(priority, arrival)) = 0 itself
 *  (priority 1), so 1 runs alone: "1:1".
 *  t=4: 1 takes its 4th block (4 used). Waiting: 0 (preempted, priority 1)
 *  and 2 (new, priority 0): by key 2 goes first although 0 was preempted
 *  (fcfs would try the preempted one first): "1:1 2:2"; 2 finishes at 5.
 *  t=5..8 "1:1" (its 5th block at t=6; 0 needs 4 blocks for its 7 tokens and
 *  waits); 1 reaches 8 tokens at t=9. t=9 "0:7" (the recompute: 4 blocks),
 *  t=10..13 "0:1"; 0 finishes at 14. Completions: 2 (5), 1 (9), 0 (14). */
static void test_priority_preemption(void **state)
{
    (void)state;
    for (int order = LS_ORDER_PRIORITY; order >= LS_ORDER_FCFS; order -= LS_ORDER_PRIORITY) {
        log_t l = {0};
        ls_sched_config c = cfg(LS_POLICY_VLLM_V1, 16, 8, 1000, 2, 6);
        c.order = order;
        ls_replica *r = ls_replica_new(&c, 1, 0, on_done, NULL, &l);
        ls_replica_add_prio(r, 0, 4, 8, NULL, 0, 1, 0, 0);
        step(r, 0, "0:4");
        ls_replica_add_prio(r, 1, 4, 8, NULL, 0, 0, 0.5, 0);
        step(r, 1, "0:1 1:4");
        step(r, 2, "0:1 1:1");
        if (order == LS_ORDER_FCFS) {  /* fcfs preempts the newest, 1 */
            step(r, 3, "0:1");
            assert_int_equal(ls_replica_waiting_preempted(r), 1);
            ls_replica_free(r);
            break;
        }
        step(r, 3, "1:1");
        assert_int_equal(ls_replica_preemptions(r), 1);
        assert_int_equal(ls_replica_recomputed(r), 6);
        ls_replica_add_prio(r, 2, 2, 1, NULL, 0, 0, 3.5, 0);
        step(r, 4, "1:1 2:2");
        for (int t = 5; t <= 8; t++)
            step(r, t, "1:1");
        step(r, 9, "0:7");
        for (int t = 10; t <= 13; t++)
            step(r, t, "0:1");
        step(r, 14, "");
        assert_int_equal(l.n, 3);
        const int64_t want[3] = {2, 1, 0};
        const double fin[3] = {5, 9, 14};
        for (int i = 0; i < 3; i++) {
            assert_int_equal(l.d[i].id, want[i]);
            assert_int_equal(l.d[i].status, LS_REQ_COMPLETED);
            assert_true(l.d[i].finish_s == fin[i]);
        }
        assert_int_equal(find(&l, 0)->preemptions, 1);
        ls_replica_free(r);
    }
}

/* Priority preemption takes a victim back out of the batch being formed
 * (vLLM returns its scheduled tokens to the budget). block_size 2, 6 blocks,
 * budget 16, long_prefill_token_threshold 2. P (id 0, priority 0, prompt 8,
 * output 2) and A (id 1, priority 1, prompt 2, output 10) at 0; B (id 2,
 * priority 0, prompt 2, output 10) at 0.5.
 *  t=0 "0:2 1:2" (P first by key; 2 blocks).
 *  t=1: P is still prefilling, so A decodes explicitly behind it:
 *  "0:2 1:1 2:2" (P 2 blocks, A 2, B 1: 5 used).
 *  t=2: P's chunk takes the 6th block; A's decode fits its blocks and joins
 *  the batch; B's decode needs a block: the victim is A (priority 1), already
 *  in the batch: it is taken out and preempted, and B gets one of its
 *  blocks: "0:2 2:1". (fcfs: B is the newest and preempts itself: "0:2 1:1".)
 *  Then B, priority 0, always wins the blocks over A: completions P, B, A. */
static void test_priority_take_back(void **state)
{
    (void)state;
    for (int prio = 0; prio < 2; prio++) {
        log_t l = {0};
        ls_sched_config c = cfg(LS_POLICY_VLLM_V1, 16, 8, 1000, 2, 6);
        c.prefill_chunk_size = 2;
        c.order = prio ? LS_ORDER_PRIORITY : LS_ORDER_FCFS;
        ls_replica *r = ls_replica_new(&c, 1, 0, on_done, NULL, &l);
        ls_replica_add_prio(r, 0, 8, 2, NULL, 0, 0, 0, 0);
        ls_replica_add_prio(r, 1, 2, 10, NULL, 0, 1, 0, 0);
        step(r, 0, "0:2 1:2");
        ls_replica_add_prio(r, 2, 2, 10, NULL, 0, 0, 0.5, 0);
        step(r, 1, "0:2 1:1 2:2");
        step(r, 2, prio ? "0:2 2:1" : "0:2 1:1");
        assert_int_equal(ls_replica_preemptions(r), 1);
        assert_int_equal(ls_replica_recomputed(r), prio ? 3 : 2);  /* A: 2 + 1 decode; B: its prompt */
        double t = 3;
        while (l.n < 3 && t < 200) {
            ls_mbatch_info b;
            if (ls_replica_schedule(r, t, &b))
                ls_replica_complete(r, b.slot, t + 1);
            ls_replica_debug_check(r);
            t += 1;
        }
        assert_int_equal(l.n, 3);
        const int64_t want[2][3] = {{0, 1, 2}, {0, 2, 1}};
        for (int i = 0; i < 3; i++) {
            assert_int_equal(l.d[i].id, want[prio][i]);
            assert_int_equal(l.d[i].status, LS_REQ_COMPLETED);
        }
        ls_replica_free(r);
    }
}

/* vLLM V0 multi-step scheduling (step_options.h), num_scheduler_steps 3:
 * admission only at a window's first step. A (id 0, prompt 10, output 6) at
 * 0, B (id 1, prompt 5, output 2) at 0.5.
 *  t=0 "0:10" opens a window; t=1, 2 "0:1" inside it: B waits.
 *  t=3 "1:5" (prefill-only, vllm-v0) opens the next; t=4 "0:1 1:1" (B's last
 *  token); t=5 "0:1"; t=6 "0:1" opens a window, A's 6th token; t=7 nothing.
 * With one step per window B's prefill runs at t=1 and it finishes at 3. */
static void test_v0_multi_step(void **state)
{
    (void)state;
    for (int n = 1; n <= 3; n += 2) {
        log_t l = {0};
        ls_sched_config c = cfg(LS_POLICY_VLLM_V0, 64, 8, 1000, 16, 100);
        c.num_scheduler_steps = n;
        ls_replica *r = ls_replica_new(&c, 1, 0, on_done, NULL, &l);
        ls_replica_add(r, 0, 10, 6, 0, 0);
        step(r, 0, "0:10");
        assert_true(g_window_start);
        ls_replica_add(r, 1, 5, 2, 0.5, 0);
        if (n == 1) {
            step(r, 1, "1:5");
            step(r, 2, "0:1 1:1");
            assert_true(g_window_start);
            assert_true(find(&l, 1)->finish_s == 3.0);
            ls_replica_free(r);
            continue;
        }
        step(r, 1, "0:1");
        assert_false(g_window_start);
        step(r, 2, "0:1");
        assert_false(g_window_start);
        step(r, 3, "1:5");
        assert_true(g_window_start);
        step(r, 4, "0:1 1:1");
        step(r, 5, "0:1");
        assert_false(g_window_start);
        step(r, 6, "0:1");
        assert_true(g_window_start);
        step(r, 7, "");
        assert_int_equal(l.n, 2);
        assert_true(find(&l, 1)->finish_s == 5.0 && find(&l, 1)->first_token_s == 4.0);
        assert_true(find(&l, 0)->finish_s == 7.0);
        /* an arrival at an idle replica is not held back: the window ended with the batch */
        ls_replica_add(r, 2, 5, 1, 7.5, 0);
        step(r, 8, "2:5");
        ls_replica_free(r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v1_chunk_splitting), cmocka_unit_test(test_v1_threshold),
        cmocka_unit_test(test_v1_budget_sharing),  cmocka_unit_test(test_v1_preemption),
        cmocka_unit_test(test_v1_head_of_line),    cmocka_unit_test(test_v1_max_num_seqs),
        cmocka_unit_test(test_rejections),         cmocka_unit_test(test_v1_no_chunking),
        cmocka_unit_test(test_v0),                 cmocka_unit_test(test_sarathi),
        cmocka_unit_test(test_pp_in_flight),       cmocka_unit_test(test_sjf_order),
        cmocka_unit_test(test_sjf_aging),          cmocka_unit_test(test_priority_preemption),
        cmocka_unit_test(test_priority_take_back), cmocka_unit_test(test_v0_multi_step),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
