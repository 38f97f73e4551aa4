/* test_kvswap.c -- preemption by swap (replay/kvswap.h, sched_swap.c): the host swap space, the
 * scheduler's order (out at preemption, no prefill while swapped out, back in after a decode step),
 * and a case timed by hand through ls_run: a swap costs its blocks' bytes over the link. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config_text.h"
#include "kvswap.h"
#include "scheduler.h"

#define assert_double_equal(a, b, eps) assert_true(fabs((double)(a) - (double)(b)) <= (eps))

/* The space: capacity, what each slot holds, the copies pending, the fallbacks. */
static void test_space(void **state)
{
    (void)state;
    ls_kvswap *s = ls_kvswap_new(5);
    assert_true(ls_kvswap_out(s, 3, 2));
    assert_false(ls_kvswap_out(s, 7, 4));  /* 2 + 4 > 5: a fallback */
    assert_true(ls_kvswap_out(s, 7, 3));
    assert_int_equal(ls_kvswap_held(s, 3), 2);
    assert_int_equal(ls_kvswap_held(s, 7), 3);
    assert_int_equal(ls_kvswap_held(s, 1000), 0);
    assert_int_equal(ls_kvswap_count(s), 2);
    int64_t o, i;
    ls_kvswap_transfers(s, &o, &i);
    assert_int_equal(o, 5);
    assert_int_equal(i, 0);
    ls_kvswap_in(s, 3);
    assert_int_equal(ls_kvswap_held(s, 3), 0);
    ls_kvswap_transfers(s, &o, &i);
    assert_int_equal(o, 0);
    assert_int_equal(i, 2);
    assert_true(ls_kvswap_out(s, 9, 2));  /* the space freed is usable again */
    ls_kvswap_stats st;
    ls_kvswap_get_stats(s, &st);
    assert_int_equal(st.outs, 3);
    assert_int_equal(st.ins, 1);
    assert_int_equal(st.fallbacks, 1);
    assert_int_equal(st.blocks_out, 7);
    assert_int_equal(st.blocks_in, 2);
    ls_kvswap_free(s);
}

typedef struct log_t {
    int n;
    ls_req_done d[8];
} log_t;

static void on_done(void *ctx, int replica, const ls_req_done *d)
{
    log_t *l = ctx;
    (void)replica;
    assert_true(l->n < 8);
    l->d[l->n++] = *d;
}

/* One step at time t: the batch's request ids (sorted) and blocks moved; completed at t + 1. */
typedef struct stepped {
    int64_t n, ids[4], tokens[4], out, in;
} stepped;

static stepped step(ls_replica *r, double t)
{
    stepped s = {0};
    ls_mbatch_info b;
    if (ls_replica_schedule(r, t, &b)) {
        s.n = ls_replica_debug_batch(r, b.slot, s.ids, s.tokens, 4);
        s.out = b.swap_out_blocks;
        s.in = b.swap_in_blocks;
        ls_replica_debug_check(r);
        ls_replica_complete(r, b.slot, t + 1);
    }
    return s;
}

/* vllm-v0, 4 blocks of 16 tokens, no watermark. A (0: 32 + 33) and B (1: 16 + 40) prefill at step
 * 1; at step 2 A needs a third block and B, the newest, goes out (1 block); C (2: 16 + 2) arrives
 * at 4.5 but is not admitted while B is out. A ends at step 33; at step 34 B comes back (1 block,
 * then 2 with its 17th token) and decodes; at step 35 C prefills (a V0 prefill step, alone). */
static void test_order(void **state)
{
    (void)state;
    ls_sched_config c;
    memset(&c, 0, sizeof c);
    c.policy = LS_POLICY_VLLM_V0;
    c.max_batched_tokens = 2048;
    c.max_num_seqs = 4;
    c.max_model_len = 4096;
    c.block_size = 16;
    c.kv_blocks = 4;
    c.preempt_swap = true;
    c.swap_blocks = 8;
    log_t l = {0};
    ls_replica *r = ls_replica_new(&c, 1, 0, on_done, NULL, &l);
    ls_replica_add(r, 0, 32, 33, 0, 0);
    ls_replica_add(r, 1, 16, 40, 0, 0);
    stepped s = step(r, 0);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.tokens[0], 32);
    assert_int_equal(s.tokens[1], 16);
    s = step(r, 1);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.ids[0], 0);
    assert_int_equal(s.out, 1);
    assert_int_equal(ls_replica_preemptions(r), 1);
    assert_int_equal(ls_replica_used_blocks(r), 3);
    for (int k = 3; k <= 33; k++) {
        if (k == 5)
            ls_replica_add(r, 2, 16, 2, 4.5, 0);
        s = step(r, k - 1);
        assert_int_equal(s.n, 1);  /* A alone: no prefill for C while B is swapped out */
        assert_int_equal(s.ids[0], 0);
        assert_int_equal(s.out + s.in, 0);
    }
    assert_int_equal(l.n, 1);  /* A done */
    assert_int_equal(l.d[0].id, 0);
    assert_int_equal(l.d[0].finish_s, 33.0);
    s = step(r, 33);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.ids[0], 1);
    assert_int_equal(s.tokens[0], 1);  /* its next token, not a recompute of 17 */
    assert_int_equal(s.in, 1);
    assert_int_equal(ls_replica_used_blocks(r), 2);
    s = step(r, 34);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.ids[0], 2);  /* C's prefill */
    assert_int_equal(s.tokens[0], 16);
    assert_int_equal(ls_replica_recomputed(r), 0);
    ls_kvswap_stats st;
    assert_true(ls_replica_swap_stats(r, &st));
    assert_int_equal(st.outs, 1);
    assert_int_equal(st.ins, 1);
    ls_replica_free(r);
}

static void on_count(void *ctx, int replica, const ls_req_done *d)
{
    (void)replica;
    int64_t *n = ctx;
    assert_int_equal(d->status, LS_REQ_COMPLETED);
    n[0]++;
    n[1] += d->generated;
}

/* Random load on a small cache and a smaller swap space: swaps and fallbacks both happen, the
 * structures stay consistent at every step, every request completes with all its tokens, and
 * every request swapped out came back. */
static void test_random(void **state)
{
    (void)state;
    ls_sched_config c;
    memset(&c, 0, sizeof c);
    c.policy = LS_POLICY_VLLM_V0;
    c.max_batched_tokens = 512;
    c.max_num_seqs = 16;
    c.max_model_len = 4096;
    c.block_size = 16;
    c.kv_blocks = 48;
    c.watermark = 0.01;
    c.preempt_swap = true;
    c.swap_blocks = 20;
    int64_t n[2] = {0, 0}, want = 0;
    ls_replica *r = ls_replica_new(&c, 1, 0, on_count, NULL, n);
    uint64_t x = 12345;
    double t = 0;
    int added = 0;
    for (int k = 0; k < 200000 && n[0] < 300; k++) {
        while (added < 300 && (x = x * 6364136223846793005ULL + 1442695040888963407ULL) >> 62 == 0) {
            int32_t p = 1 + (int32_t)((x >> 20) % 200), o = 1 + (int32_t)((x >> 40) % 300);
            ls_replica_add(r, added++, p, o, t, 0);
            want += o;
        }
        ls_mbatch_info b;
        if (ls_replica_schedule(r, t, &b)) {
            ls_replica_debug_check(r);
            ls_replica_complete(r, b.slot, t + 1);
            ls_replica_debug_check(r);
        }
        t += 1;
    }
    assert_int_equal(n[0], 300);
    assert_int_equal(n[1], want);
    ls_kvswap_stats st;
    assert_true(ls_replica_swap_stats(r, &st));
    assert_true(st.outs > 0 && st.fallbacks > 0);
    assert_int_equal(st.outs, st.ins);
    assert_int_equal(st.blocks_out, st.blocks_in);
    print_message("random: %lld swap-outs, %lld fallbacks, %lld preemptions\n", (long long)st.outs,
                  (long long)st.fallbacks, (long long)ls_replica_preemptions(r));
    ls_replica_free(r);
}

typedef struct fin_t {
    double ttft[2], finish[2];
} fin_t;

static void on_request(void *ctx, const ls_request_result *q)
{
    fin_t *f = ctx;
    assert_true(q->index >= 0 && q->index < 2);
    assert_int_equal(q->status, LS_REQ_COMPLETED);
    f->ttft[q->index] = q->first_token_s;
    f->finish[q->index] = q->finish_s;
}

static const char run_text[] = "model: llama-3.1-8b\n"
                               "hardware: h100-sxm\n"
                               "cost: {model: constant, time_s: 0.02}\n"
                               "scheduler:\n"
                               "  policy: vllm-v0\n"
                               "  num_kv_blocks: 4\n"
                               "  watermark: 0\n"
                               "  %s\n"
                               "workload: {arrival: {process: constant, rate: 1}, prompt_tokens: {dist: fixed, value: 16},"
                               " output_tokens: {dist: fixed, value: 2}, duration_s: 1}\n"
                               "drain: true\n";

static void run_two(const char *sched, ls_metrics *m, fin_t *f)
{
    char text[1024];
    snprintf(text, sizeof text, run_text, sched);
    ls_run_config *c = test_config(text, "swap.yaml");
    ls_request v[2] = {{0, 32, 33, -1, 0, NULL, 0, -1}, {0, 16, 40, -1, 0, NULL, 0, -1}};
    ls_request_array arr;
    memset(&arr, 0, sizeof arr);
    arr.v = v;
    arr.n = arr.cap = 2;
    ls_run_opts o;
    memset(&o, 0, sizeof o);
    o.requests = &arr;
    o.on_request = on_request;
    o.on_request_ctx = f;
    ls_error e;
    assert_int_equal(ls_run(c, &o, m, &e), LS_OK);
    assert_int_equal(m->status, LS_RUN_OK);
    ls_config_free(c);
}

/* The case of test_order through the engine, T = 20 ms a step, PCIe Gen4 (31.5 GB/s): a block of
 * Llama-3.1-8B is 32 layers x 2 x 8 heads x 128 x 2 bytes x 16 tokens = 2,097,152 bytes, so a
 * swap takes s = 2,097,152 / 31.5e9 s; A ends at 33T + s (the swap-out rides step 2), B at
 * 72T + 2s (the swap-in rides step 34). By recompute: 33T and 72T, 16 tokens recomputed. */
static void test_timed(void **state)
{
    (void)state;
    const double T = 0.02, s = 2097152.0 / 31.5e9;
    ls_metrics m;
    fin_t f = {0};
    run_two("preemption_mode: swap\n  swap_space_gb: 1\n  swap_link: pcie4", &m, &f);
    assert_double_equal(f.ttft[0], T, 1e-12);
    assert_double_equal(f.ttft[1], T, 1e-12);
    assert_double_equal(f.finish[0], 33 * T + s, 1e-12);
    assert_double_equal(f.finish[1], 72 * T + 2 * s, 1e-12);
    assert_double_equal(m.v[LS_M_SWAP_LINK_S], 2 * s, 1e-15);
    assert_double_equal(m.v[LS_M_SWAP_OUT_GB], 2097152.0 / 1e9, 1e-15);
    assert_double_equal(m.v[LS_M_N_SWAP_OUTS], 1, 0);
    assert_double_equal(m.v[LS_M_N_SWAP_FALLBACKS], 0, 0);
    assert_double_equal(m.v[LS_M_RECOMPUTED_TOKENS], 0, 0);
    fin_t g = {0};
    run_two("preemption_mode: recompute", &m, &g);
    assert_double_equal(g.finish[0], 33 * T, 1e-12);
    assert_double_equal(g.finish[1], 72 * T, 1e-12);
    assert_double_equal(m.v[LS_M_RECOMPUTED_TOKENS], 16, 0);
    assert_true(isnan(m.v[LS_M_N_SWAP_OUTS]));
    /* 1 MB per GPU holds no 2 MB block: every preemption falls back to recompute */
    fin_t h = {0};
    run_two("preemption_mode: swap\n  swap_space_gb: 0.001\n  swap_link: pcie4", &m, &h);
    assert_double_equal(h.finish[1], 72 * T, 1e-12);
    assert_double_equal(m.v[LS_M_N_SWAP_FALLBACKS], 1, 0);
    assert_double_equal(m.v[LS_M_N_SWAP_OUTS], 0, 0);
    assert_double_equal(m.v[LS_M_RECOMPUTED_TOKENS], 16, 0);
}

/* Refusals name FILE:LINE and the key. */
static void test_refused(void **state)
{
    (void)state;
    static const struct {
        const char *sched, *want;
    } cases[] = {
        {"preemption_mode: swap\n  swap_link: pcie4", "swap.yaml:8: scheduler.preemption_mode: swap needs scheduler.swap_space_gb"},
        {"preemption_mode: swap\n  swap_space_gb: 4", "swap.yaml:8: scheduler.preemption_mode: swap needs scheduler.swap_link"},
        {"preemption_mode: swap\n  swap_space_gb: 4\n  swap_link: c2c", "swap.yaml:10: scheduler.swap_link: c2c does not reach the x86 host"},
        {"swap_link: pcie4", "swap.yaml:8: scheduler.swap_link: given without scheduler.preemption_mode: swap"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char text[1024];
        snprintf(text, sizeof text, run_text, cases[k].sched);
        ls_run_config *c;
        ls_error e;
        assert_int_not_equal(test_config_text(text, "swap.yaml", &c, &e), LS_OK);
        if (!strstr(e.msg, cases[k].want)) {
            print_error("got: %s\nwant: %s\n", e.msg, cases[k].want);
            fail();
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_space),
        cmocka_unit_test(test_order),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_timed),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
