/* test_lockstep.c -- DP ranks of an EP group stepping together (replay/lockstep.c).
 *
 * The rule (../shared/brief/vllm-internals.md s7 "Lockstep" and s4 "Dispatch
 * and padding"): with DP attention + EP every rank takes part in every step
 * (an idle one runs a dummy batch), token counts are padded to the largest
 * rank's within the CUDA-graph sizes, so a step ends when the slowest rank's
 * does. Checked by hand with a linear cost model (a + b x tokens per step):
 *  - two ranks, unequal loads: both advance at the slower's step time;
 *  - the same within the graph sizes: both run the padded size;
 *  - without lockstep the small rank runs at its own pace (the control);
 *  - whole runs through ls_run (dp2ep2, dp4ep4, pp2 with ep): every request
 *    ends once, tokens conserved, deterministic, and the waiting share is
 *    reported. */
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

#include "engine.h"
#include "lockstep.h"
#include "replay.h"

#define A_S 0.1    /* fixed part of a step */
#define B_S 1e-3   /* per token */

typedef struct lin_cost {
    ls_cost_model base;
} lin_cost;

static void lin_iteration(const ls_cost_model *cm, const ls_batch_agg *b, ls_iter_cost *out)
{
    memset(out, 0, sizeof *out);
    int pp = cm->d.pp > 0 ? cm->d.pp : 1;
    for (int s = 0; s < pp; s++)
        out->stage_s[s] = (A_S + B_S * (double)b->tokens) / pp;
}

static void lin_free(ls_cost_model *cm)
{
    free(cm);
}

static const ls_cost_ops lin_ops = {lin_iteration, lin_free};

static ls_run_config *load(const char *text)
{
    return test_config(text, "ls.yaml");
}

typedef struct req_t {
    double arrival, ttft, finish;
    int done;
} req_t;
static req_t reqs[8];

static void on_request(void *ctx, const ls_request_result *r)
{
    (void)ctx;
    assert_true(r->index >= 0 && r->index < 8);
    req_t *q = &reqs[r->index];
    assert_int_equal(q->done, 0);
    q->done = 1;
    assert_int_equal(r->status, LS_REQ_COMPLETED);
    q->ttft = r->first_token_s - r->arrival_s;
    q->finish = r->finish_s;
}

/* r0 (prompt p0, 1 output token) goes to rank 0, r1 (10 tokens, 3 outputs) to
 * rank 1 (round-robin), both at t = 0. */
static ls_metrics two_ranks(int lockstep, int64_t pad_max, int p0)
{
    ls_run_config *c = load("model: qwen3-30b-a3b\nhardware: h100-sxm\ncluster: dgx-h100\n"
                            "parallelism: dp2ep2\nrouter: round-robin\n"
                            "scheduler: {max_batched_tokens: 2048}\n"
                            "workload: {arrival: {process: constant, rate: 1}, prompt_tokens: {dist: fixed, value: 1},"
                            " output_tokens: {dist: fixed, value: 1}, duration_s: 1}\n");
    ls_request v[2] = {{.prompt_tokens = p0, .output_tokens = 1, .session_id = -1, .class_id = -1},
                       {.prompt_tokens = 10, .output_tokens = 3, .session_id = -1, .class_id = -1}};
    ls_request_array a = {v, 2, 2, NULL, 0, 0};
    ls_cost_model *cost[2];
    for (int i = 0; i < 2; i++) {
        lin_cost *lc = ls_xcalloc(1, sizeof *lc);
        lc->base.ops = &lin_ops;
        lc->base.d.pp = 1;
        cost[i] = &lc->base;
    }
    memset(reqs, 0, sizeof reqs);
    ls_run_opts o;
    memset(&o, 0, sizeof o);
    o.on_request = on_request;
    ls_engine_setup s;
    memset(&s, 0, sizeof s);
    s.cfg = c;
    s.sched = c->sched;
    s.sched.kv_blocks = 4096;
    s.cost = cost;
    s.src = ls_source_from_array(&a);
    s.arrival_limit_s = INFINITY;
    s.horizon_s = INFINITY;
    s.opts = &o;
    s.lockstep = lockstep;
    s.lockstep_pad_max = pad_max;
    ls_metrics m;
    ls_metrics_init(&m);
    ls_error e;
    assert_int_equal(ls_engine_simulate(&s, &m, &e), LS_OK);
    ls_source_free(s.src);
    for (int i = 0; i < 2; i++)
        ls_cost_free(cost[i]);
    ls_config_free(c);
    assert_int_equal((int64_t)m.v[LS_M_N_COMPLETED], 2);
    assert_true(reqs[0].done && reqs[1].done);
    return m;
}

#define NEAR(x, y) assert_true(fabs((x) - (y)) < 1e-12)

static void test_unequal_ranks(void **state)
{
    (void)state;
    /* Eager (1000 tokens, past the graph sizes: no padding). Step 1: rank 0 takes
     * 0.1 + 1.000 = 1.1 s for its 1000-token prompt, rank 1 0.11 s for its 10: both
     * end at 1.1 s, when r0 is done and r1 has its first token. Steps 2 and 3: rank 1
     * decodes one token (0.101 s), rank 0 runs a one-token dummy (0.101 s): r1 ends at
     * 1.302 s. */
    ls_metrics m = two_ranks(2, 0, 1000);
    NEAR(reqs[0].ttft, 1.1);
    NEAR(reqs[0].finish, 1.1);
    NEAR(reqs[1].ttft, 1.1);
    NEAR(reqs[1].finish, 1.302);
    NEAR(m.v[LS_M_TPOT_MEAN_S], 0.101);
    NEAR(m.v[LS_M_SIM_TIME_S], 1.302);
    assert_int_equal((int64_t)m.v[LS_M_ITERATIONS], 4);  /* dummies are not iterations */
    /* rank 1 waited 1.1 - 0.11 = 0.99 s of 2 x (1.1 + 0.101 + 0.101) = 2.604 rank-seconds */
    NEAR(m.v[LS_M_DP_SYNC_WAIT_FRAC], 0.99 / 2.604);

    /* The control: independent replicas. r1: 0.11 s prefill, two 0.101 s decodes. */
    m = two_ranks(0, 0, 1000);
    NEAR(reqs[0].finish, 1.1);
    NEAR(reqs[1].ttft, 0.11);
    NEAR(reqs[1].finish, 0.312);
    assert_true(isnan(m.v[LS_M_DP_SYNC_WAIT_FRAC]));

    /* Within the graph sizes (512): rank 1's 10 tokens are padded to rank 0's 100, both
     * take 0.2 s; then 0.101 s steps: r1 has its first token at 0.2 s and ends at 0.402 s,
     * and no rank waits (the padding itself is the cost). */
    m = two_ranks(2, 512, 100);
    NEAR(reqs[0].finish, 0.2);
    NEAR(reqs[1].ttft, 0.2);
    NEAR(reqs[1].finish, 0.402);
    NEAR(m.v[LS_M_DP_SYNC_WAIT_FRAC], 0.0);
    /* the same step past a 64-token graph limit: unpadded, rank 1 waits 0.09 of 0.2 s */
    m = two_ranks(2, 64, 100);
    NEAR(reqs[1].finish, 0.402);
    NEAR(m.v[LS_M_DP_SYNC_WAIT_FRAC], 0.09 / (2 * 0.2 + 4 * 0.101));
}

static void test_capture_max(void **state)
{
    (void)state;
    /* min(max_num_seqs x (1 + k) x 2, 512), capped at the token budget (vllm-internals.md s4) */
    assert_int_equal(ls_lockstep_capture_max(256, 0, 8192), 512);
    assert_int_equal(ls_lockstep_capture_max(64, 0, 8192), 128);
    assert_int_equal(ls_lockstep_capture_max(64, 3, 8192), 512);
    assert_int_equal(ls_lockstep_capture_max(256, 0, 256), 256);
}

/* Whole runs with the roofline: every request ends once, deterministic, the
 * lockstep share reported (and NaN without EP). */
static ls_metrics whole(const char *par, const char *cluster)
{
    char text[1024];
    snprintf(text, sizeof text,
             "model: qwen3-30b-a3b\nhardware: h100-sxm\ncluster: %s\nparallelism: %s\n"
             "moe: {imbalance: 1.3}\n"
             "workload: {arrival: {process: poisson, rate: 20}, prompt_tokens: {dist: uniform, low: 10, high: 2000},"
             " output_tokens: {dist: uniform, low: 1, high: 200}, duration_s: 5}\nseed: 3\n",
             cluster, par);
    ls_run_config *c = load(text);
    ls_metrics m, m2;
    ls_error e;
    assert_int_equal(ls_run(c, NULL, &m, &e), LS_OK);
    assert_int_equal(ls_run(c, NULL, &m2, &e), LS_OK);
    ls_config_free(c);
    assert_int_equal(m.status, LS_RUN_OK);
    assert_true(m.v[LS_M_N_REQUESTS] > 50);
    assert_int_equal((int64_t)m.v[LS_M_N_COMPLETED], (int64_t)m.v[LS_M_N_REQUESTS]);
    for (int i = 0; i < LS_METRIC_COUNT; i++)
        if (i != LS_M_WALL_TIME_S)
            assert_true((isnan(m.v[i]) && isnan(m2.v[i])) || m.v[i] == m2.v[i]);
    return m;
}

static void test_whole_runs(void **state)
{
    (void)state;
    ls_metrics a = whole("dp2ep2", "dgx-h100");
    assert_true(a.v[LS_M_DP_SYNC_WAIT_FRAC] > 0 && a.v[LS_M_DP_SYNC_WAIT_FRAC] < 1);
    ls_metrics b = whole("dp4ep4", "dgx-h100");
    assert_true(b.v[LS_M_DP_SYNC_WAIT_FRAC] > 0 && b.v[LS_M_DP_SYNC_WAIT_FRAC] < 1);
    ls_metrics pp = whole("tp1pp2dp2ep2", "dgx-h100");  /* PP with EP: two group steps in flight */
    assert_true(pp.v[LS_M_DP_SYNC_WAIT_FRAC] > 0 && pp.v[LS_M_DP_SYNC_WAIT_FRAC] < 1);
    ls_metrics t = whole("tp2ep2", "dgx-h100");  /* one replica: nothing to wait for */
    assert_true(isnan(t.v[LS_M_DP_SYNC_WAIT_FRAC]));
    ls_metrics d = whole("dp2", "dgx-h100");     /* no EP: independent replicas */
    assert_true(isnan(d.v[LS_M_DP_SYNC_WAIT_FRAC]));
    /* more ranks wait for more: four ranks' slowest is slower than two's */
    assert_true(b.v[LS_M_DP_SYNC_WAIT_FRAC] > a.v[LS_M_DP_SYNC_WAIT_FRAC]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unequal_ranks),
        cmocka_unit_test(test_capture_max),
        cmocka_unit_test(test_whole_runs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
