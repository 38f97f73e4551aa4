/* test_engine.c -- conservation, consistency and determinism of the engine.
 *
 *  - a randomized driver steps each policy's replica directly on a small KV
 *    cache (many preemptions) and checks the full invariants after every
 *    step: blocks held = blocks used, within [0, capacity], lazy cohorts
 *    consistent; at the end the tokens computed equal prompt + output - 1 per
 *    completed request plus the recomputed tokens;
 *  - whole runs (ls_run) with PP and DP: every request reported exactly once
 *    with one status, counts by status add up, tokens conserved;
 *  - determinism: two runs give the same metrics bit for bit (but wall time). */
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

#include "replay.h"
#include "sched_order.h"
#include "scheduler.h"

typedef struct tally {
    int64_t n, completed, other, sum_need;
    unsigned char *seen;
    int64_t cap;
    double last_finish;
} tally;

static void on_done(void *ctx, int replica, const ls_req_done *d)
{
    tally *t = ctx;
    (void)replica;
    assert_true(d->id >= 0 && d->id < t->cap);
    assert_int_equal(t->seen[d->id], 0);
    t->seen[d->id] = 1;
    t->n++;
    if (d->status == LS_REQ_COMPLETED) {
        t->completed++;
        t->sum_need += d->prompt_tokens + d->output_tokens - 1;
        assert_int_equal(d->generated, d->output_tokens);
        assert_true(d->first_scheduled_s >= d->arrival_s && d->first_token_s > d->first_scheduled_s);
        assert_true(d->finish_s >= d->first_token_s);
    } else {
        t->other++;
    }
}

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Drive one replica with `pp` micro-batches in flight: at each unit of time
 * the oldest micro-batch that has spent pp units in the pipeline completes,
 * arrivals are added, and one new micro-batch is formed if a slot is free. */
/* `order`: sched_order.h (priority: each request 0, 1 or 2 at random);
 * `steps`: num_scheduler_steps (vllm-v0 multi-step windows). */
static void drive_ex(ls_policy pol, uint64_t seed, int64_t threshold, int pp, bool prefix, int order, int steps)
{
    enum { N = 600 };
    ls_sched_config c;
    memset(&c, 0, sizeof c);
    c.policy = pol;
    c.enable_chunked_prefill = true;
    c.prefill_chunk_size = threshold;
    c.max_batched_tokens = 64;
    c.max_num_seqs = 16;
    c.max_model_len = 200;
    c.block_size = 4;
    c.kv_blocks = 60;
    c.watermark = 0.01;
    c.enable_prefix_caching = prefix;  /* prompts share prefixes: one hash id of 4 covers each (< 512 tokens) */
    c.order = order;
    c.num_scheduler_steps = steps;
    tally t = {0};
    t.cap = N;
    t.seen = calloc(N, 1);
    ls_replica *r = ls_replica_new(&c, pp, 0, on_done, NULL, &t);
    uint64_t s = seed;
    double arr[N];
    int32_t pr[N], out[N];
    int64_t hid[N];
    int32_t prio[N];
    double at = 0;
    for (int i = 0; i < N; i++) {
        at += (double)(rng_next(&s) % 1000) / 250.0;  /* mean gap 2 time units */
        arr[i] = at;
        pr[i] = 1 + (int32_t)(rng_next(&s) % 120);
        out[i] = 1 + (int32_t)(rng_next(&s) % 60);
        hid[i] = (int64_t)(rng_next(&s) % 4);
        prio[i] = (int32_t)(rng_next(&s) % 3);
    }
    int slot_q[8], nq = 0;
    double end_q[8];
    double now = 0;
    int next = 0;
    int64_t tokens = 0;
    for (;;) {
        while (nq > 0 && end_q[0] <= now) {
            ls_replica_complete(r, slot_q[0], now);
            ls_replica_debug_check(r);
            memmove(slot_q, slot_q + 1, (size_t)(nq - 1) * sizeof *slot_q);
            memmove(end_q, end_q + 1, (size_t)(nq - 1) * sizeof *end_q);
            nq--;
        }
        while (next < N && arr[next] <= now) {
            ls_replica_add_prio(r, next, pr[next], out[next], &hid[next], prefix ? 1 : 0, prio[next], arr[next], 0);
            next++;
        }
        ls_mbatch_info b;
        if (nq < pp && ls_replica_schedule(r, now, &b)) {
            ls_replica_debug_check(r);
            tokens += b.agg.tokens;
            assert_true(b.agg.tokens <= c.max_batched_tokens || pol == LS_POLICY_VLLM_V0);
            assert_true(ls_replica_used_blocks(r) <= c.kv_blocks);
            slot_q[nq] = b.slot;
            end_q[nq] = now + pp;
            nq++;
        } else if (nq == 0 && next >= N) {
            break;
        }
        now += 1;
    }
    if (ls_replica_outstanding(r)) fprintf(stderr, "STUCK order %d pp %d prefix %d thr %lld: running %lld waiting %lld pre %lld used %lld/%lld now %g\n", order, pp, prefix, (long long)threshold, (long long)ls_replica_running(r), (long long)ls_replica_waiting(r), (long long)ls_replica_waiting_preempted(r), (long long)ls_replica_used_blocks(r), (long long)c.kv_blocks, now);
    assert_int_equal(ls_replica_outstanding(r), 0);  /* drained: nothing stuck */
    assert_int_equal(t.n, N);
    ls_kvcache_stats st = {0};
    if (prefix) {  /* cached tokens are not computed */
        assert_true(ls_replica_prefix_stats(r, &st));
        assert_true(st.hit_tokens > 0 && tokens + st.hit_tokens <= t.sum_need + ls_replica_recomputed(r));
    } else {
        assert_int_equal(tokens, t.sum_need + ls_replica_recomputed(r));
    }
    assert_int_equal(ls_replica_used_blocks(r), 0);
    print_message("policy %s order %d steps %d pp %d seed %llu: %lld completed, %lld rejected, %lld preemptions, "
                  "%lld recomputed\n",
                  ls_policy_name(pol), order, steps, pp, (unsigned long long)seed, (long long)t.completed, (long long)t.other,
                  (long long)ls_replica_preemptions(r), (long long)ls_replica_recomputed(r));
    assert_true(ls_replica_preemptions(r) > 0);  /* the scenario is meant to exercise preemption */
    ls_replica_free(r);
    free(t.seen);
}

static void drive(ls_policy pol, uint64_t seed, int64_t threshold, int pp)
{
    drive_ex(pol, seed, threshold, pp, false, LS_ORDER_FCFS, 1);
}

static void test_random_driver(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 3; seed++)
        for (int pp = 1; pp <= 3; pp++) {
            drive(LS_POLICY_VLLM_V1, seed, 0, pp);
            drive(LS_POLICY_VLLM_V1, seed, 16, pp);
            drive(LS_POLICY_VLLM_V0, seed, 0, pp);
            drive(LS_POLICY_SARATHI, seed, 0, pp);
            drive_ex(LS_POLICY_VLLM_V1, seed, 0, pp, true, LS_ORDER_FCFS, 1);
            drive_ex(LS_POLICY_VLLM_V1, seed, 16, pp, true, LS_ORDER_FCFS, 1);
            drive_ex(LS_POLICY_VLLM_V1, seed, 0, pp, false, LS_ORDER_PRIORITY, 1);
            drive_ex(LS_POLICY_VLLM_V1, seed, 16, pp, true, LS_ORDER_PRIORITY, 1);
            drive_ex(LS_POLICY_VLLM_V0, seed, 0, pp, false, LS_ORDER_FCFS, 4);
        }
}

/* ---- whole runs */

typedef struct rtally {
    int64_t n, by_status[5], sum_need;
    int rr_dp;                /* > 0: round-robin over this many replicas is checked */
    int64_t per_replica[8];
    unsigned char *seen;
    int64_t cap;
} rtally;

static void on_request(void *ctx, const ls_request_result *r)
{
    rtally *t = ctx;
    assert_true(r->index >= 0 && r->index < t->cap);
    assert_int_equal(t->seen[r->index], 0);
    t->seen[r->index] = 1;
    t->n++;
    assert_true(r->status >= 0 && r->status <= 4);
    t->by_status[r->status]++;
    assert_true(r->replica >= 0 && r->replica < 8);
    t->per_replica[r->replica]++;
    if (t->rr_dp > 0)
        assert_int_equal(r->replica, r->index % t->rr_dp);
    if (r->status == LS_REQ_COMPLETED) {
        /* the target may be capped below the request's own output (max_model_len) */
        assert_true(r->generated_tokens >= 1 && r->generated_tokens <= (r->output_tokens > 1 ? r->output_tokens : 1));
        t->sum_need += r->prompt_tokens + r->generated_tokens - 1;
    }
}

static ls_run_config *load(const char *text)
{
    return test_config(text, "<test>");
}

static const char *const run_text =
    "model: llama-3-8b\n"
    "hardware: h100-sxm\n"
    "cluster: dgx-h100\n"
    "parallelism: %s\n"
    "router: %s\n"
    "scheduler: {policy: %s, num_kv_blocks: 400, max_num_seqs: 64, prefill_chunk_size: 512}\n"
    "workload:\n"
    "  arrival: {process: poisson, rate: 30}\n"
    "  prompt_tokens: {dist: lognormal, mean: 700, stddev: 500}\n"
    "  output_tokens: {dist: lognormal, mean: 150, stddev: 120}\n"
    "  duration_s: 40\n"
    "seed: 9\n";

static void whole_run(const char *par, const char *router, const char *policy)
{
    char text[2048];
    snprintf(text, sizeof text, run_text, par, router, policy);
    ls_run_config *c = load(text);
    rtally t = {0};
    t.cap = 100000;
    t.seen = calloc((size_t)t.cap, 1);
    int dp = c->dp;
    if (!strcmp(router, "round-robin"))
        t.rr_dp = dp;
    ls_run_opts o;
    memset(&o, 0, sizeof o);
    o.on_request = on_request;
    o.on_request_ctx = &t;
    ls_metrics m;
    ls_error e;
    assert_int_equal(ls_run(c, &o, &m, &e), LS_OK);
    assert_int_equal(m.status, LS_RUN_OK);
    /* every replica gets a fair share under each router (identical replicas) */
    for (int i = 0; i < dp; i++)
        assert_true(t.per_replica[i] > 0.8 * (double)t.n / dp && t.per_replica[i] < 1.2 * (double)t.n / dp);
    const double *v = m.v;
    assert_int_equal(t.n, (int64_t)v[LS_M_N_REQUESTS]);
    assert_int_equal(t.by_status[LS_REQ_COMPLETED], (int64_t)v[LS_M_N_COMPLETED]);
    assert_int_equal(t.by_status[LS_REQ_REJECTED_TOO_LONG], (int64_t)v[LS_M_N_REJECTED_TOO_LONG]);
    assert_int_equal(t.by_status[LS_REQ_REJECTED_KV], (int64_t)v[LS_M_N_REJECTED_KV]);
    assert_int_equal(t.by_status[LS_REQ_UNFINISHED], 0);  /* drained */
    assert_true(v[LS_M_N_COMPLETED] + v[LS_M_N_REJECTED_TOO_LONG] + v[LS_M_N_REJECTED_KV] + v[LS_M_N_TIMEOUT] +
                    v[LS_M_N_UNFINISHED] == v[LS_M_N_REQUESTS]);
    double computed = v[LS_M_MEAN_BATCH_TOKENS] * v[LS_M_ITERATIONS];
    assert_true(fabs(computed - ((double)t.sum_need + v[LS_M_RECOMPUTED_TOKENS])) < 1e-6 * computed + 1);
    assert_true(v[LS_M_KV_USAGE_MAX] <= 1.0 && v[LS_M_KV_USAGE_MEAN] >= 0 && v[LS_M_KV_USAGE_MEAN] <= 1.0);
    assert_true(v[LS_M_TTFT_P50_S] <= v[LS_M_TTFT_P90_S] && v[LS_M_TTFT_P90_S] <= v[LS_M_TTFT_P99_S]);
    assert_true(v[LS_M_MFU_MEAN] > 0 && v[LS_M_MFU_MEAN] < 1 && v[LS_M_MBU_MEAN] > 0 && v[LS_M_MBU_MEAN] < 1.5);
    print_message("%s %s %s: %lld requests, %lld preemptions, ttft p50 %.3f s, tpot p50 %.4f s\n", par, router,
                  policy, (long long)t.n, (long long)v[LS_M_N_PREEMPTIONS], v[LS_M_TTFT_P50_S], v[LS_M_TPOT_P50_S]);
    free(t.seen);
    ls_config_free(c);
}

static void test_whole_runs(void **state)
{
    (void)state;
    whole_run("tp1", "round-robin", "vllm-v1");
    whole_run("tp2pp2", "round-robin", "vllm-v1");
    whole_run("tp1pp4dp2", "least-outstanding", "vllm-v1");
    whole_run("dp3", "least-kv", "sarathi");
    whole_run("tp2dp2", "round-robin", "vllm-v0");
}

static void test_determinism(void **state)
{
    (void)state;
    char text[2048];
    snprintf(text, sizeof text, run_text, "tp2pp2dp2", "least-kv", "vllm-v1");
    ls_metrics a, b;
    ls_error e;
    ls_run_config *c = load(text);
    assert_int_equal(ls_run(c, NULL, &a, &e), LS_OK);
    ls_config_free(c);
    c = load(text);
    assert_int_equal(ls_run(c, NULL, &b, &e), LS_OK);
    ls_config_free(c);
    a.v[LS_M_WALL_TIME_S] = b.v[LS_M_WALL_TIME_S] = 0;
    assert_memory_equal(a.v, b.v, sizeof a.v);
    assert_string_equal(a.message, b.message);
}

/* Stop at the horizon instead of draining: what is left is counted unfinished. */
static void test_no_drain(void **state)
{
    (void)state;
    char text[2048];
    snprintf(text, sizeof text, run_text, "tp1", "round-robin", "vllm-v1");
    strcat(text, "drain: false\n");
    ls_run_config *c = load(text);
    ls_metrics m;
    ls_error e;
    assert_int_equal(ls_run(c, NULL, &m, &e), LS_OK);
    assert_true(m.v[LS_M_N_UNFINISHED] > 0);
    assert_true(m.v[LS_M_SIM_TIME_S] <= 40.0 + 1e-9);
    assert_true(m.v[LS_M_N_COMPLETED] + m.v[LS_M_N_UNFINISHED] + m.v[LS_M_N_REJECTED_KV] +
                    m.v[LS_M_N_REJECTED_TOO_LONG] == m.v[LS_M_N_REQUESTS]);
    ls_config_free(c);
}

/* Infeasible: Llama-3-70B BF16 on one GH200 96 GB returns LS_OK with the reason. */
static void test_infeasible(void **state)
{
    (void)state;
    ls_run_config *c = load("model: llama-3-70b\nhardware: gh200-96gb\ncluster: gh200-quad\nparallelism: tp1\n"
                            "workload: {arrival: {process: poisson, rate: 1}, prompt_tokens: {dist: fixed, value: 100},"
                            " output_tokens: {dist: fixed, value: 10}, duration_s: 10}\n");
    ls_metrics m;
    ls_error e;
    assert_int_equal(ls_run(c, NULL, &m, &e), LS_OK);
    assert_int_equal(m.status, LS_RUN_INFEASIBLE);
    assert_non_null(strstr(m.message, "141.1 GB"));
    assert_true(fabs(m.v[LS_M_WEIGHTS_GB_PER_GPU] - 141.1) < 0.1);
    ls_config_free(c);
}


/* PP and DP timing with a constant cost model (D per iteration, D/pp per stage),
 * one-token prompts and outputs (one iteration per request), constant arrivals
 * every D/2, numbers worked out by hand:
 *  - tp1pp2 (max_num_seqs 2: the in-flight request counts as running, one
 *    scheduler for the replica as in vLLM V1): stage 0 frees after D/2, just
 *    when the next request arrives, so every request starts on arrival and
 *    ends D later: e2e = D, queue = 0;
 *  - dp2, round-robin: each replica gets a request every D, exactly when its
 *    previous one ends: e2e = D, queue = 0;
 *  - tp1 alone is overloaded (arrivals at 2/D, service 1/D): request k waits
 *    k·D/2, so with n requests the mean wait is (n-1)·D/4. */
static ls_metrics constant_run(const char *par, int seqs, double D, int n)
{
    char text[2048];
    snprintf(text, sizeof text,
             "model: llama-3-8b\nhardware: h100-sxm\ncluster: dgx-h100\nparallelism: %s\n"
             "scheduler: {max_num_seqs: %d, max_batched_tokens: 16}\n"
             "cost: {model: constant, time_s: %.17g}\n"
             "workload: {arrival: {process: constant, rate: %.17g}, prompt_tokens: {dist: fixed, value: 1},"
             " output_tokens: {dist: fixed, value: 1}, duration_s: %.17g}\n",
             par, seqs, D, 2 / D, (n - 0.5) * D / 2);
    ls_run_config *c = load(text);
    ls_metrics m;
    ls_error e;
    assert_int_equal(ls_run(c, NULL, &m, &e), LS_OK);
    ls_config_free(c);
    assert_int_equal((int64_t)m.v[LS_M_N_REQUESTS], n);
    assert_int_equal((int64_t)m.v[LS_M_N_COMPLETED], n);
    return m;
}

static void test_pipeline_timing(void **state)
{
    (void)state;
    const double D = 0.25;  /* exact in binary: no rounding in the sums below */
    const int n = 101;
    ls_metrics m = constant_run("tp1pp2", 2, D, n);
    assert_true(fabs(m.v[LS_M_E2E_MEAN_S] - D) < 1e-12 && fabs(m.v[LS_M_E2E_P99_S] - D) < 1e-12);
    assert_true(fabs(m.v[LS_M_QUEUE_MEAN_S]) < 1e-12);
    assert_true(fabs(m.v[LS_M_SIM_TIME_S] - ((n - 1) * D / 2 + D)) < 1e-12);
    m = constant_run("dp2", 1, D, n);
    assert_true(fabs(m.v[LS_M_E2E_MEAN_S] - D) < 1e-12 && fabs(m.v[LS_M_QUEUE_P99_S]) < 1e-12);
    m = constant_run("tp1", 1, D, n);
    assert_true(fabs(m.v[LS_M_QUEUE_MEAN_S] - (n - 1) * D / 4) < 1e-9);
    assert_true(fabs(m.v[LS_M_QUEUE_P50_S] - (n - 1) / 2 * D / 2) < 1e-9);
    assert_true(fabs(m.v[LS_M_SIM_TIME_S] - n * D) < 1e-9);
}

/* A stop flag set before the run: LS_EINTERRUPTED, status error, no crash. */
static void test_stop_flag(void **state)
{
    (void)state;
    char text[2048];
    snprintf(text, sizeof text, run_text, "tp1", "round-robin", "vllm-v1");
    ls_run_config *c = load(text);
    volatile sig_atomic_t stop = 1;
    ls_run_opts o;
    memset(&o, 0, sizeof o);
    o.stop = &stop;
    ls_metrics m;
    ls_error e;
    assert_int_equal(ls_run(c, &o, &m, &e), LS_EINTERRUPTED);
    assert_int_equal(m.status, LS_RUN_ERROR);
    assert_non_null(strstr(m.message, "interrupted"));
    ls_config_free(c);
}

/* Token timing with a constant cost model: every iteration takes D, so a
 * lone request of output 5 gets its tokens at D, 2D, ..., 5D: TTFT = D,
 * TPOT = D and every inter-token gap is D (the histogram reads it within 1%). */
static void test_token_timing(void **state)
{
    (void)state;
    const double D = 0.05;
    char text[2048];
    snprintf(text, sizeof text,
             "model: llama-3-8b\nhardware: h100-sxm\nparallelism: tp1pp2\n"
             "cost: {model: constant, time_s: %.17g}\n"
             "workload: {arrival: {process: constant, rate: 1}, prompt_tokens: {dist: fixed, value: 100},"
             " output_tokens: {dist: fixed, value: 5}, duration_s: 9.5}\n", D);
    ls_run_config *c = load(text);
    ls_metrics m;
    ls_error e;
    assert_int_equal(ls_run(c, NULL, &m, &e), LS_OK);
    ls_config_free(c);
    assert_int_equal((int64_t)m.v[LS_M_N_COMPLETED], 10);
    assert_true(fabs(m.v[LS_M_TTFT_MEAN_S] - D) < 1e-12 && fabs(m.v[LS_M_TPOT_P99_S] - D) < 1e-12);
    assert_true(fabs(m.v[LS_M_E2E_MEAN_S] - 5 * D) < 1e-12);
    assert_true(fabs(m.v[LS_M_ITL_MEAN_S] - D) < 1e-12);
    assert_true(fabs(m.v[LS_M_ITL_P50_S] - D) <= 0.01 * D && fabs(m.v[LS_M_ITL_P99_S] - D) <= 0.01 * D);
    assert_true(fabs(m.v[LS_M_MEAN_BATCH_SIZE] - 1.0) < 1e-12);
}

/* Client timeout on an overloaded replica: requests not scheduled in time are
 * counted apart, and the counts still add up. */
static void test_timeouts(void **state)
{
    (void)state;
    char text[2048];
    snprintf(text, sizeof text, run_text, "tp1", "round-robin", "vllm-v1");
    strcat(text, "timeout_s: 5\n");
    ls_run_config *c = load(text);
    rtally t = {0};
    t.cap = 100000;
    t.seen = calloc((size_t)t.cap, 1);
    ls_run_opts o;
    memset(&o, 0, sizeof o);
    o.on_request = on_request;
    o.on_request_ctx = &t;
    ls_metrics m;
    ls_error e;
    assert_int_equal(ls_run(c, &o, &m, &e), LS_OK);
    ls_config_free(c);
    assert_true(m.v[LS_M_N_TIMEOUT] > 0);
    assert_int_equal(t.by_status[LS_REQ_TIMEOUT], (int64_t)m.v[LS_M_N_TIMEOUT]);
    assert_true(m.v[LS_M_N_COMPLETED] + m.v[LS_M_N_REJECTED_TOO_LONG] + m.v[LS_M_N_REJECTED_KV] +
                    m.v[LS_M_N_TIMEOUT] + m.v[LS_M_N_UNFINISHED] == m.v[LS_M_N_REQUESTS]);
    /* nobody waited for a first schedule longer than the timeout */
    assert_true(m.v[LS_M_QUEUE_P99_S] <= 5.0 + 1e-9);
    free(t.seen);
}

/* Tied arrivals: requests with the same arrival time are all queued before
 * the replica schedules (vLLM drains its input queue before each step).
 * Three 100-token prompts at t = 0 with output 1, budget 8192, constant
 * cost D: one step holds all three, so iterations = 1, mean batch size 3
 * and every TTFT = D (scheduling after each arrival gave a step of one and
 * then a step of two: TTFT 2D for two of them). */
static void tied_run(const char *par, const char *router, const char *rows, rtally *t, ls_metrics *m)
{
    char path[] = "/tmp/ls_test_tiedXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "arrived_at,num_prefill_tokens,num_decode_tokens\n%s", rows);
    fclose(f);
    char text[2048];
    snprintf(text, sizeof text,
             "model: llama-3-8b\nhardware: h100-sxm\ncluster: dgx-h100\nparallelism: %s\nrouter: %s\n"
             "scheduler: {max_batched_tokens: 8192}\n"
             "cost: {model: constant, time_s: 0.25}\n"
             "workload: {trace: %s}\n",
             par, router, path);
    ls_run_config *c = load(text);
    memset(t, 0, sizeof *t);
    t->cap = 64;
    t->seen = calloc((size_t)t->cap, 1);
    ls_run_opts o;
    memset(&o, 0, sizeof o);
    o.on_request = on_request;
    o.on_request_ctx = t;
    ls_error e;
    assert_int_equal(ls_run(c, &o, m, &e), LS_OK);
    ls_config_free(c);
    remove(path);
    free(t->seen);
}

static void test_tied_arrivals(void **state)
{
    (void)state;
    const double D = 0.25;
    rtally t;
    ls_metrics m;
    tied_run("tp1", "round-robin", "0,100,1\n0,100,1\n0,100,1\n", &t, &m);
    assert_int_equal((int64_t)m.v[LS_M_N_COMPLETED], 3);
    assert_int_equal((int64_t)m.v[LS_M_ITERATIONS], 1);
    assert_true(fabs(m.v[LS_M_MEAN_BATCH_SIZE] - 3.0) < 1e-12);
    assert_true(fabs(m.v[LS_M_TTFT_MEAN_S] - D) < 1e-12 && fabs(m.v[LS_M_TTFT_P99_S] - D) < 1e-12);
    /* a later tie (t = 1 s, the replica idle again) forms its own single step */
    tied_run("tp1", "round-robin", "0,100,1\n0,100,1\n1,100,1\n1,100,1\n1,100,1\n", &t, &m);
    assert_int_equal((int64_t)m.v[LS_M_ITERATIONS], 2);
    assert_true(fabs(m.v[LS_M_TTFT_P99_S] - D) < 1e-12);
    /* the routers still see the earlier arrivals of the same instant:
     * four tied requests on two idle replicas go two and two */
    tied_run("dp2", "least-outstanding", "0,100,1\n0,100,1\n0,100,1\n0,100,1\n", &t, &m);
    assert_int_equal(t.per_replica[0], 2);
    assert_int_equal(t.per_replica[1], 2);
    assert_int_equal((int64_t)m.v[LS_M_ITERATIONS], 2);
    /* least-kv counts the blocks the queued prompts will take: one 4000-token
     * prompt (250 blocks) then three 100-token ones (7 blocks each) -> the
     * long prompt alone on one replica, the three short ones on the other */
    tied_run("dp2", "least-kv", "0,4000,1\n0,100,1\n0,100,1\n0,100,1\n", &t, &m);
    assert_int_equal(t.per_replica[0], 1);
    assert_int_equal(t.per_replica[1], 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_driver), cmocka_unit_test(test_whole_runs),
        cmocka_unit_test(test_determinism),   cmocka_unit_test(test_no_drain),
        cmocka_unit_test(test_infeasible),   cmocka_unit_test(test_pipeline_timing), cmocka_unit_test(test_stop_flag), cmocka_unit_test(test_token_timing), cmocka_unit_test(test_timeouts), cmocka_unit_test(test_tied_arrivals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
