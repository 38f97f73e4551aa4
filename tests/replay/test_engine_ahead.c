/* test_engine_ahead.c -- DP run-ahead (replay/engine_ahead.c) against the event queue.
 *
 * Every configuration runs twice through ls_run: as it is (replicas run
 * their steps ahead to their next arrival) and with ls_run_opts.no_run_ahead
 * (every step through the event queue, the engine before run-ahead). Both
 * must give the same per-request rows in the same order (routing, status,
 * preemptions, every time to the bit) and the same metrics, bit for bit but
 * for the sums added per step in global time order (MFU, MBU, the ITL mean,
 * the offload and swap link seconds: within 1e-12 relative). Each case also
 * checks that run-ahead happened (steps run past the next queued event or
 * arrival), so
 * the comparison is not of the old path with itself. Cases: the routers and
 * policies on DP, ties (integer timestamps and a constant step time, so
 * arrivals land exactly on steps' ends and replicas end steps together),
 * client timeouts, no drain (the horizon) and the workload's duration limit,
 * prefix caching with the prefix-aware router, speculative decoding, and a
 * capacity probe watched by slo_watch that stops early. */
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
#include "slo_watch.h"

typedef struct rows {
    ls_request_result *v;
    size_t n, cap;
} rows;

static void on_request(void *ctx, const ls_request_result *r)
{
    rows *t = ctx;
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 256;
        t->v = realloc(t->v, t->cap * sizeof *t->v);
        assert_non_null(t->v);
    }
    t->v[t->n++] = *r;
}

typedef struct outcome {
    ls_status rc;
    ls_metrics m;
    rows r;
    int64_t ahead;  /* steps run past the next queued event or arrival */
} outcome;

static void run_once(const char *text, bool old_path, outcome *out)
{
    ls_run_config *c = test_config(text, "<ahead>");
    memset(out, 0, sizeof *out);
    ls_run_opts o;
    memset(&o, 0, sizeof o);
    o.on_request = on_request;
    o.on_request_ctx = &out->r;
    o.no_run_ahead = old_path;
    o.ahead_steps = &out->ahead;
    ls_error e;
    out->rc = ls_run(c, &o, &out->m, &e);
    ls_config_free(c);
}

static bool per_step_sum(int k)
{
    return k == LS_M_MFU_MEAN || k == LS_M_MBU_MEAN || k == LS_M_ITL_MEAN_S || k == LS_M_OFFLOAD_LINK_S ||
           k == LS_M_SWAP_LINK_S;
}

static void same_metrics(const ls_metrics *a, const ls_metrics *b)
{
    assert_int_equal(a->status, b->status);
    for (int k = 0; k < LS_METRIC_COUNT; k++) {
        if (k == LS_M_WALL_TIME_S)
            continue;
        double x = a->v[k], y = b->v[k];
        if (isnan(x) && isnan(y))
            continue;
        double tol = per_step_sum(k) ? 1e-12 * fabs(x) : 0;
        if (!(fabs(x - y) <= tol))
            fail_msg("%s: queue %.17g, run-ahead %.17g", ls_metric_columns[k].name, x, y);
    }
}

static void same_rows(const rows *a, const rows *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        const ls_request_result *x = &a->v[i], *y = &b->v[i];
        if (memcmp(x, y, sizeof *x) != 0 && getenv("LS_TEST_DUMP")  /* the rows around a difference */) {
            for (size_t j = i > 6 ? i - 6 : 0; j < i + 6 && j < a->n; j++)
                print_message("%zu: q %lld r%d arr %.4g fs %.6g fin %.6g | a %lld r%d arr %.4g fs %.6g fin %.6g\n", j,
                              (long long)a->v[j].index, a->v[j].replica, a->v[j].arrival_s, a->v[j].first_scheduled_s, a->v[j].finish_s,
                              (long long)b->v[j].index, b->v[j].replica, b->v[j].arrival_s, b->v[j].first_scheduled_s, b->v[j].finish_s);
        }
        if (memcmp(x, y, sizeof *x) != 0)
            fail_msg("row %zu: queue request %lld on replica %d status %d finish %.17g, run-ahead request %lld on "
                     "replica %d status %d finish %.17g",
                     i, (long long)x->index, x->replica, x->status, x->finish_s, (long long)y->index, y->replica,
                     y->status, y->finish_s);
    }
}

/* Both ways; returns the steps run ahead. */
static int64_t compare(const char *text)
{
    outcome q, a;
    run_once(text, true, &q);
    run_once(text, false, &a);
    assert_int_equal(q.rc, LS_OK);
    assert_int_equal(a.rc, LS_OK);
    assert_int_equal(q.ahead, 0);
    same_metrics(&q.m, &a.m);
    same_rows(&q.r, &a.r);
    assert_true(q.r.n > 0);
    assert_int_equal((int64_t)q.r.n, (int64_t)q.m.v[LS_M_N_REQUESTS]);
    free(q.r.v);
    free(a.r.v);
    return a.ahead;
}

static const char *const syn_text =
    "model: llama-3-8b\n"
    "hardware: h100-sxm\n"
    "cluster: dgx-h100\n"
    "parallelism: %s\n"
    "router: %s\n"
    "scheduler: {policy: %s, num_kv_blocks: %d, max_num_seqs: 64, prefill_chunk_size: 512}\n"
    "workload:\n"
    "  arrival: {process: poisson, rate: %g}\n"
    "  prompt_tokens: {dist: lognormal, mean: 700, stddev: 500}\n"
    "  output_tokens: {dist: lognormal, mean: 150, stddev: 120}\n"
    "  duration_s: 30\n"
    "seed: 5\n"
    "%s";

static int64_t syn(const char *par, const char *router, const char *policy, int blocks, double rate, const char *extra)
{
    char text[4096];
    snprintf(text, sizeof text, syn_text, par, router, policy, blocks, rate, extra);
    return compare(text);
}

/* Every router and policy on DP; small caches (preemption); the routers that read the replicas
 * stop at every arrival, round-robin at the replica's own next arrival. */
static void test_routers_and_policies(void **state)
{
    (void)state;
    assert_true(syn("dp4", "round-robin", "vllm-v1", 400, 60, "") > 0);
    assert_true(syn("dp4", "least-outstanding", "vllm-v1", 400, 60, "") > 0);
    assert_true(syn("dp3", "least-kv", "sarathi", 300, 50, "") > 0);
    assert_true(syn("tp2dp2", "round-robin", "vllm-v0", 250, 30, "") > 0);
    assert_true(syn("dp8", "round-robin", "sarathi", 200, 120, "") > 0);
    /* an overloaded round-robin dp2: long queues, many preemptions */
    assert_true(syn("dp2", "round-robin", "vllm-v1", 120, 40, "") > 0);
}

/* Client timeouts (reported when a replica schedules), no drain (the horizon
 * cuts steps), a window of the workload (the arrival limit). */
static void test_timeouts_and_limits(void **state)
{
    (void)state;
    assert_true(syn("dp3", "round-robin", "vllm-v1", 150, 80, "timeout_s: 4\n") > 0);
    assert_true(syn("dp3", "least-outstanding", "sarathi", 150, 80, "timeout_s: 3\ndrain: false\n") > 0);
    assert_true(syn("dp4", "round-robin", "vllm-v1", 400, 60, "drain: false\n") > 0);
    assert_true(syn("dp4", "round-robin", "sarathi", 400, 60, "drain: false\nhorizon_s: 12\n") > 0);
}

/* A trace with integer timestamps and a constant step time of 0.25 s: arrivals land
 * exactly on steps' ends, tied arrivals share an instant, and replicas end steps at the
 * same instants (the order of their reports then follows the queue's tie rules). */
static void test_ties(void **state)
{
    (void)state;
    char path[] = "/tmp/ls_test_aheadXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "arrived_at,num_prefill_tokens,num_decode_tokens\n");
    uint64_t s = 12345;
    for (int t = 0; t < 120; t++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        int k = 1 + (int)((s >> 33) % 3);  /* 1 to 3 requests at this second */
        for (int j = 0; j < k; j++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            int prompt = 20 + (int)((s >> 33) % 400), out = 1 + (int)((s >> 45) % 12);
            fprintf(f, "%d,%d,%d\n", t, prompt, out);
        }
    }
    fclose(f);
    static const char *const routers[] = {"round-robin", "least-outstanding", "least-kv"};
    for (int r = 0; r < 3; r++)
        for (int timeout = 0; timeout < 2; timeout++) {
            char text[2048];
            snprintf(text, sizeof text,
                     "model: llama-3-8b\nhardware: h100-sxm\ncluster: dgx-h100\nparallelism: dp3\nrouter: %s\n"
                     "scheduler: {max_batched_tokens: 512, max_num_seqs: 4, num_kv_blocks: 60}\n"
                     "cost: {model: constant, time_s: 0.25}\n"
                     "workload: {trace: %s}\n%s",
                     routers[r], path, timeout ? "timeout_s: 3\n" : "");
            assert_true(compare(text) > 0);
        }
    remove(path);
}

/* The queue's tie rules, hand-built on dp2 round-robin with a constant 0.25 s step
 * (`rows_csv`: arrival s, prompt, output per line). Returns both ways' row orders. */
static void tie_case_cost(const char *rows_csv, const char *cost, int64_t *order, size_t n);

static void tie_case(const char *rows_csv, int64_t *order, size_t n)
{
    tie_case_cost(rows_csv, "{model: constant, time_s: 0.25}", order, n);
}

static void tie_case_cost(const char *rows_csv, const char *cost, int64_t *order, size_t n)
{
    char path[] = "/tmp/ls_test_aheadXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "arrived_at,num_prefill_tokens,num_decode_tokens\n%s", rows_csv);
    fclose(f);
    char text[1024];
    snprintf(text, sizeof text,
             "model: llama-3-8b\nhardware: h100-sxm\ncluster: dgx-h100\nparallelism: dp2\nrouter: round-robin\n"
             "scheduler: {max_batched_tokens: 512, max_model_len: 64}\ncost: %s\nworkload: {trace: %s}\n",
             cost, path);
    outcome q, a;
    run_once(text, true, &q);
    run_once(text, false, &a);
    remove(path);
    assert_int_equal(q.rc, LS_OK);
    assert_int_equal(a.rc, LS_OK);
    assert_true(a.ahead > 0);
    same_rows(&q.r, &a.r);
    assert_int_equal(q.r.n, n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(q.r.v[i].index, order[i]);
    free(q.r.v);
    free(a.r.v);
}

static void test_tie_rules(void **state)
{
    (void)state;
    /* Formed at an arrival first: request 0 (replica 0, 5 tokens) steps at 0, 0.25, ..., 1.0;
     * request 1 arrives at 1.0 on replica 1 (1 token). At 1.0 the queue takes the arrival
     * before replica 0's step end, so replica 1's step is formed first; both end at 1.25 and
     * request 1's row comes first, although replica 0 ran ahead and reported first. */
    int64_t o1[] = {1, 0};
    tie_case("0,10,5\n1,10,1\n", o1, 2);
    /* Same start, both formed when a step ended: requests 0 and 1 (4 tokens) start together at 0
     * on replicas 0 and 1 and end at 1.0; request 2 arrives on replica 0 at 0.5, so replica 1 runs
     * ahead past it and reports request 1 first. The queue formed replica 0's steps first at every
     * instant (its first one at the arrival at 0, in index order): request 0's row comes first. */
    int64_t o2[] = {0, 1, 2, 3};
    tie_case("0,10,4\n0,10,4\n0.5,10,4\n3,10,1\n", o2, 4);
    /* Same start and end, formed when steps ended that had started at different times
     * (review of 684a40c): request 0 is too long (rejected), so request 1 goes to replica 1
     * and prefills over [0, 0.5], request 2 to replica 0 over [0.125, 0.5]; both decode steps
     * run [0.5, 0.75]. The queue took replica 1's prefill end first (its step started
     * first), so request 1's row comes first; replica number alone would put request 2 first. */
    char tpath[] = "/tmp/ls_test_aheadXXXXXX";
    int fd = mkstemp(tpath);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "phase,tp,tokens,context,time_s\n");
    for (int c = 0; c <= 100000; c += 100000)
        fprintf(f, "prefill,1,16,%d,0.375\nprefill,1,32,%d,0.5\ndecode,1,1,%d,0.25\ndecode,1,2,%d,0.5\n", c, c,
                c, c);
    fclose(f);
    char cost[128];
    snprintf(cost, sizeof cost, "{model: table, file: %s}", tpath);
    int64_t o3[] = {0, 1, 2};
    tie_case_cost("0,1000,2\n0,32,2\n0.125,16,2\n", cost, o3, 3);
    remove(tpath);
}

/* Prefix caching read by the prefix-aware router at each arrival; speculative decoding. */
static void test_prefix_and_speculative(void **state)
{
    (void)state;
    assert_true(compare("model: llama-3.1-8b\nhardware: h100-sxm\ncluster: dgx-h100\nparallelism: dp3\n"
                        "router: prefix-aware\nscheduler: {enable_prefix_caching: true, num_kv_blocks: 1500}\n"
                        "workload: {arrival: {process: poisson, rate: 25}, shared_prefix: {prompts: 8, tokens: 1024},\n"
                        "  prompt_tokens: {dist: lognormal, mean: 2000, stddev: 500},\n"
                        "  output_tokens: {dist: lognormal, mean: 100, stddev: 50}, duration_s: 30}\nseed: 3\n") > 0);
    assert_true(compare("model: llama-3-8b\nhardware: h100-sxm\ncluster: dgx-h100\nparallelism: dp2\n"
                        "scheduler: {max_num_seqs: 64}\n"
                        "speculative: {method: eagle, num_speculative_tokens: 3, acceptance: 0.7}\n"
                        "workload: {arrival: {process: poisson, rate: 20}, prompt_tokens: {dist: fixed, value: 500},\n"
                        "  output_tokens: {dist: uniform, low: 1, high: 300}, duration_s: 30}\nseed: 8\n") > 0);
}

/* A capacity probe watched by slo_watch (capacity.c's use): a probe far above the
 * capacity stops early both ways (LS_EINTERRUPTED, the watch's stop flag set:
 * the same verdict), and one within the SLO runs whole and equal. */
static outcome watched(const char *text, bool old_path, size_t n_requests, bool *fired)
{
    ls_run_config *c = test_config(text, "<ahead>");
    ls_slo_watch w;
    assert_true(ls_slo_watch_init(&w, c, n_requests));
    outcome out;
    memset(&out, 0, sizeof out);
    ls_run_opts o;
    memset(&o, 0, sizeof o);
    ls_slo_watch_attach(&w, &o);
    o.no_run_ahead = old_path;
    o.ahead_steps = &out.ahead;
    ls_error e;
    out.rc = ls_run(c, &o, &out.m, &e);
    *fired = w.stop != 0;
    ls_config_free(c);
    return out;
}

static void test_slo_watch(void **state)
{
    (void)state;
    static const char *const text =
        "model: llama-3-8b\nhardware: h100-sxm\ncluster: dgx-h100\nparallelism: dp4\nrouter: %s\n"
        "scheduler: {num_kv_blocks: 600}\n"
        "slo: {ttft_s: 0.5, tpot_s: 0.05}\n"
        "workload: {arrival: {process: poisson, rate: %g}, prompt_tokens: {dist: lognormal, mean: 900, stddev: 500},\n"
        "  output_tokens: {dist: lognormal, mean: 150, stddev: 80}, max_requests: 3000}\nseed: 11\n";
    static const char *const routers[] = {"round-robin", "least-outstanding"};
    for (int r = 0; r < 2; r++) {
        char text_hi[1024], text_lo[1024];
        snprintf(text_hi, sizeof text_hi, text, routers[r], 400.0);
        snprintf(text_lo, sizeof text_lo, text, routers[r], 4.0);
        bool fq, fa;
        outcome q = watched(text_hi, true, 3000, &fq), a = watched(text_hi, false, 3000, &fa);
        assert_true(fq && fa);
        assert_int_equal(q.rc, LS_EINTERRUPTED);
        assert_int_equal(a.rc, LS_EINTERRUPTED);
        assert_true(a.ahead > 0);
        q = watched(text_lo, true, 3000, &fq);
        a = watched(text_lo, false, 3000, &fa);
        assert_false(fq || fa);
        assert_int_equal(q.rc, LS_OK);
        assert_int_equal(a.rc, LS_OK);
        assert_true(a.ahead > 0);
        same_metrics(&q.m, &a.m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routers_and_policies), cmocka_unit_test(test_timeouts_and_limits),
        cmocka_unit_test(test_ties), cmocka_unit_test(test_tie_rules), cmocka_unit_test(test_prefix_and_speculative),
        cmocka_unit_test(test_slo_watch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
