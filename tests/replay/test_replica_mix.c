/* test_replica_mix.c -- heterogeneous replica groups and the length-aware
 * router (replay/replica_mix.c, router.c).
 *
 *  - hand-computed routing: prompts of known lengths around the threshold,
 *    some arriving at one instant, a batch-independent iteration time: the
 *    replica of every request is known by hand (longer than the threshold:
 *    the TP2 replica; the others: the least outstanding TP1 replica, ties to
 *    the lower index), and so are their first-token times;
 *  - the configuration: label, GPU count, placement, long marking, the
 *    /configs row, an infeasible group named in the result;
 *  - one group of four TP1 replicas behind round-robin is exactly dp4;
 *  - a whole run: every request ends once, on the side its prompt length says;
 *  - bad input rejected with FILE:LINE. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "replica_mix.h"
#include "config_text.h"
#include "replay.h"

static ls_status load_text(const char *text, ls_run_config **c, ls_error *e)
{
    return test_config_text(text, "mix.yaml", c, e);
}

static ls_run_config *load(const char *text)
{
    return test_config(text, "mix.yaml");
}

/* Per-request results collected through the run's callback. */
typedef struct seen {
    int n;
    ls_request_result r[4096];
} seen;

static void on_request(void *ctx, const ls_request_result *r)
{
    seen *s = ctx;
    assert_true(s->n < 4096);
    s->r[s->n++] = *r;
}

static const ls_request_result *find(const seen *s, int64_t index)
{
    for (int i = 0; i < s->n; i++)
        if (s->r[i].index == index)
            return &s->r[i];
    fail_msg("request %lld not reported", (long long)index);
    return NULL;
}

static const char *const hand_text =
    "model: llama-3-8b\n"
    "cluster: dgx-h100\n"
    "cost: {model: constant, time_s: 0.05}\n"
    "replicas:\n"
    "  - {parallelism: tp2, count: 1}\n"
    "  - {parallelism: tp1, count: 2}\n"
    "router: {policy: length-aware, prompt_threshold: 1000}\n"
    "workload:\n"
    "  arrival: {process: constant, rate: 1}\n"
    "  prompt_tokens: {dist: fixed, value: 1}\n"
    "  output_tokens: {dist: fixed, value: 3}\n"
    "  duration_s: 10\n";

static void test_hand_computed_routing(void **state)
{
    (void)state;
    ls_run_config *c = load(hand_text);
    assert_non_null(c->mix);
    assert_string_equal(c->mix->label, "1xtp2+2xtp1");
    assert_int_equal(c->mix->n_replicas, 3);
    assert_int_equal(c->mix->n_gpus, 4);
    assert_true(c->mix->group[0].is_long && !c->mix->group[1].is_long);  /* the largest TP */
    assert_int_equal(c->mix->group[0].first_gpu, 0);
    assert_int_equal(c->mix->group[1].first_gpu, 2);
    /* t = 0: 999, 1000, 10, 1001, 4000 (all at once); t = 1: 1500; t = 2: 1000; t = 3: 1001.
     * Replicas: 0 = tp2 (long), 1 and 2 = tp1. At t = 0 the shorts go 1 (both idle: the lower
     * index), 2 (0 < 1 outstanding), 1 (1 = 1: the lower index); the longs both to 0. Later
     * arrivals find everything idle again (3 output tokens: 3 iterations of 50 ms). */
    static const struct {
        int64_t t_ns;
        int32_t prompt;
        int replica;
    } want[] = {{0, 999, 1},          {0, 1000, 2},         {0, 10, 1},          {0, 1001, 0},
                {0, 4000, 0},         {1000000000, 1500, 0}, {2000000000, 1000, 1}, {3000000000, 1001, 0}};
    enum { N = sizeof want / sizeof want[0] };
    ls_request_array a;
    memset(&a, 0, sizeof a);
    a.v = calloc(N, sizeof *a.v);
    a.n = a.cap = N;
    for (int i = 0; i < N; i++) {
        a.v[i].arrival_ns = want[i].t_ns;
        a.v[i].prompt_tokens = want[i].prompt;
        a.v[i].output_tokens = 3;
        a.v[i].session_id = -1;
    }
    static seen s;
    s.n = 0;
    ls_run_opts o;
    memset(&o, 0, sizeof o);
    o.requests = &a;
    o.on_request = on_request;
    o.on_request_ctx = &s;
    ls_metrics m;
    ls_error e;
    assert_int_equal(ls_run(c, &o, &m, &e), LS_OK);
    assert_int_equal(m.status, LS_RUN_OK);
    assert_int_equal(s.n, N);
    for (int i = 0; i < N; i++) {
        const ls_request_result *r = find(&s, i);
        assert_int_equal(r->prompt_tokens, want[i].prompt);
        assert_int_equal(r->replica, want[i].replica);
        assert_int_equal(r->status, LS_REQ_COMPLETED);
        /* every prompt (at most 5,000 tokens on one replica at once) fits the 8,192-token budget:
         * the first token comes with the first 50 ms iteration, the last two 50 ms apart */
        assert_true(fabs(r->first_token_s - (r->arrival_s + 0.05)) < 1e-9);
        assert_true(fabs(r->finish_s - (r->arrival_s + 0.15)) < 1e-9);
    }
    /* 4 of the 8 prompts are longer than 1000 tokens (1000 itself is not) */
    assert_true(fabs(m.v[LS_M_MIX_LONG_SHARE] - 4.0 / 8.0) < 1e-12);
    assert_int_equal((int64_t)m.v[LS_M_N_GPUS], 4);
    /* busy: the long replica 4 x 3 iterations (the t = 0 pair shares its steps), of 3.15 s */
    assert_true(fabs(m.v[LS_M_SIM_TIME_S] - 3.15) < 1e-9);
    assert_true(fabs(m.v[LS_M_MIX_LONG_UTILIZATION] - 3 * 0.15 / 3.15) < 1e-9);
    assert_true(fabs(m.v[LS_M_MIX_SHORT_UTILIZATION] - (2 * 0.15 + 0.15) / (2 * 3.15)) < 1e-9);
    /* every TTFT is one 50 ms step, every TPOT too */
    assert_true(fabs(m.v[LS_M_MIX_LONG_TTFT_P99_S] - 0.05) < 1e-9 && fabs(m.v[LS_M_MIX_SHORT_TTFT_P99_S] - 0.05) < 1e-9);
    assert_true(fabs(m.v[LS_M_MIX_LONG_TPOT_P99_S] - 0.05) < 1e-9 && fabs(m.v[LS_M_MIX_SHORT_TPOT_P99_S] - 0.05) < 1e-9);
    ls_config_row row;
    ls_config_get_row(c, &row);
    assert_string_equal(row.parallelism, "1xtp2+2xtp1");
    assert_string_equal(row.router, "length-aware>1000");
    assert_int_equal(row.n_gpus, 4);
    assert_int_equal(row.dp, 3);
    assert_int_equal(row.tp, 2);
    /* a clone runs the same */
    ls_run_config *k = ls_config_clone(c);
    ls_metrics m2;
    s.n = 0;
    assert_int_equal(ls_run(k, &o, &m2, &e), LS_OK);
    assert_memory_equal(m.v + LS_M_TTFT_MEAN_S, m2.v + LS_M_TTFT_MEAN_S, (LS_M_WALL_TIME_S - LS_M_TTFT_MEAN_S) * sizeof(double));
    ls_config_free(k);
    free(a.v);
    ls_config_free(c);
}

/* `long: true` picks the long side whatever the sizes; a group of another GPU type starts a node. */
static void test_marks_and_placement(void **state)
{
    (void)state;
    ls_run_config *c = load("model: llama-3-8b\n"
                            "cluster: {base: dgx-h100, max_nodes: 2}\n"
                            "replicas:\n"
                            "  - {parallelism: tp4, count: 1}\n"
                            "  - {parallelism: tp1, count: 2, long: true}\n"
                            "  - {parallelism: tp2, count: 1, hardware: h200}\n"
                            "router: {policy: length-aware, prompt_threshold: 512}\n"
                            "workload: {arrival: {process: poisson, rate: 1}, prompt_tokens: {dist: fixed, value: 10},"
                            " output_tokens: {dist: fixed, value: 2}, duration_s: 1}\n");
    const ls_mix_config *m = c->mix;
    assert_int_equal(m->n_groups, 3);
    assert_false(m->group[0].is_long);
    assert_true(m->group[1].is_long);
    assert_false(m->group[2].is_long);
    assert_int_equal(m->group[1].first_gpu, 4);
    assert_int_equal(m->group[2].first_gpu, 8);  /* h200: a node of its own */
    assert_int_equal(m->n_gpus, 8);
    ls_config_row row;
    ls_config_get_row(c, &row);
    assert_string_equal(row.parallelism, "1xtp4+2xtp1+1xtp2");
    assert_string_equal(row.hardware, "h100-sxm/h200");
    assert_int_equal(row.n_gpus, 8);
    ls_config_free(c);
}

/* A group whose weights do not fit: an infeasible result that names it. */
static void test_infeasible_group(void **state)
{
    (void)state;
    ls_run_config *c = load("model: llama-3.1-70b\n"
                            "cluster: dgx-h100\n"
                            "replicas: [{parallelism: tp4, count: 1}, {parallelism: tp1, count: 4}]\n"
                            "workload: {arrival: {process: poisson, rate: 1}, prompt_tokens: {dist: fixed, value: 10},"
                            " output_tokens: {dist: fixed, value: 2}, duration_s: 1}\n");
    ls_metrics m;
    ls_error e;
    assert_int_equal(ls_run(c, NULL, &m, &e), LS_OK);
    assert_int_equal(m.status, LS_RUN_INFEASIBLE);
    assert_non_null(strstr(m.message, "replicas[1] (4 x tp1 on h100-sxm): weights 141.1 GB"));
    assert_int_equal((int64_t)m.v[LS_M_N_GPUS], 8);
    bool fits = true;
    char why[256];
    assert_int_equal(ls_config_memory_fits(c, &fits, why, sizeof why, &e), LS_OK);
    assert_false(fits);
    assert_non_null(strstr(why, "replicas[1]"));
    ls_config_free(c);
}

/* One group of four TP1 replicas is dp4: the same engine, the same numbers. */
static void test_one_group_is_dp(void **state)
{
    (void)state;
    static const char *const text =
        "model: llama-3-8b\n"
        "cluster: dgx-h100\n"
        "%s\n"
        "router: least-outstanding\n"
        "workload:\n"
        "  arrival: {process: poisson, rate: 40}\n"
        "  prompt_tokens: {dist: lognormal, mean: 1200, stddev: 900}\n"
        "  output_tokens: {dist: lognormal, mean: 150, stddev: 80}\n"
        "  duration_s: 20\n";
    char a[1024], b[1024];
    snprintf(a, sizeof a, text, "parallelism: dp4");
    snprintf(b, sizeof b, text, "replicas: [{parallelism: tp1, count: 4}]");
    ls_run_config *ca = load(a), *cb = load(b);
    ls_metrics ma, mb;
    ls_error e;
    assert_int_equal(ls_run(ca, NULL, &ma, &e), LS_OK);
    assert_int_equal(ls_run(cb, NULL, &mb, &e), LS_OK);
    assert_true(ma.v[LS_M_N_COMPLETED] > 500);
    for (int k = 0; k < LS_METRIC_COUNT; k++) {
        if (k == LS_M_WALL_TIME_S || (k >= LS_M_MIX_LONG_SHARE && k <= LS_M_MIX_SHORT_TPOT_P99_S))
            continue;
        double x = ma.v[k], y = mb.v[k];
        if (isnan(x)) {
            assert_true(isnan(y));
            continue;
        }
        /* MFU/MBU and the ITL mean sum the same terms in another order (dp4 runs its
         * replicas ahead to their next arrivals, the group through the hooks does not:
         * docs/ENGINE.md, "Sixth round") */
        double tol = (k == LS_M_MFU_MEAN || k == LS_M_MBU_MEAN || k == LS_M_ITL_MEAN_S) ? 1e-12 * fabs(x) : 0;
        if (!(fabs(x - y) <= tol))
            fail_msg("%s: dp4 %.17g, one group %.17g", ls_metric_columns[k].name, x, y);
    }
    assert_true(mb.v[LS_M_MIX_LONG_SHARE] == 1.0);  /* one size: every replica counts as long */
    assert_true(mb.v[LS_M_MIX_LONG_TTFT_P99_S] == ma.v[LS_M_TTFT_P99_S]);
    assert_true(mb.v[LS_M_MIX_LONG_TPOT_P99_S] == ma.v[LS_M_TPOT_P99_S]);
    assert_true(isnan(mb.v[LS_M_MIX_SHORT_TTFT_P99_S]) && isnan(mb.v[LS_M_MIX_SHORT_UTILIZATION]));
    ls_config_row ra, rb;
    ls_config_get_row(ca, &ra);
    ls_config_get_row(cb, &rb);
    assert_string_equal(rb.parallelism, "4xtp1");
    assert_int_equal(ra.n_gpus, rb.n_gpus);
    ls_config_free(ca);
    ls_config_free(cb);
}

/* A whole run with random lengths: every request ends once, on the side its length says. */
static void test_sides_by_length(void **state)
{
    (void)state;
    ls_run_config *c = load("model: llama-3-8b\n"
                            "cluster: dgx-h100\n"
                            "replicas: [{parallelism: tp4, count: 1}, {parallelism: tp1, count: 4}]\n"
                            "router: {policy: length-aware, prompt_threshold: 2000}\n"
                            "workload:\n"
                            "  arrival: {process: poisson, rate: 30}\n"
                            "  prompt_tokens: {dist: lognormal, mean: 2000, stddev: 2500}\n"
                            "  output_tokens: {dist: lognormal, mean: 120, stddev: 60}\n"
                            "  duration_s: 30\n");
    static seen s;
    s.n = 0;
    ls_run_opts o;
    memset(&o, 0, sizeof o);
    o.on_request = on_request;
    o.on_request_ctx = &s;
    ls_metrics m;
    ls_error e;
    assert_int_equal(ls_run(c, &o, &m, &e), LS_OK);
    assert_int_equal(s.n, (int)m.v[LS_M_N_REQUESTS]);
    int n_long = 0, per[5] = {0};
    for (int i = 0; i < s.n; i++) {
        const ls_request_result *r = &s.r[i];
        assert_true(r->replica >= 0 && r->replica < 5);
        assert_int_equal(r->replica == 0, r->prompt_tokens > 2000);
        n_long += r->replica == 0;
        per[r->replica]++;
    }
    assert_true(n_long > 50 && n_long < s.n - 50);
    for (int i = 1; i < 5; i++)
        assert_true(per[i] > 0);  /* least outstanding spreads the short ones */
    assert_true(fabs(m.v[LS_M_MIX_LONG_SHARE] - (double)n_long / s.n) < 1e-12);
    assert_true(m.v[LS_M_MIX_LONG_UTILIZATION] > 0 && m.v[LS_M_MIX_LONG_UTILIZATION] <= 1);
    assert_true(m.v[LS_M_MIX_SHORT_UTILIZATION] > 0 && m.v[LS_M_MIX_SHORT_UTILIZATION] <= 1);
    ls_config_free(c);
}

static void bad(const char *text, const char *want)
{
    ls_run_config *c = NULL;
    ls_error e;
    ls_status rc = load_text(text, &c, &e);
    if (rc == LS_OK) {
        ls_config_free(c);
        fail_msg("accepted, expected: %s", want);
    }
    if (!strstr(e.msg, want))
        fail_msg("got '%s', expected '%s'", e.msg, want);
}

static void test_bad_input(void **state)
{
    (void)state;
#define HEAD "model: llama-3-8b\ncluster: dgx-h100\n"
#define WL "workload: {arrival: {process: poisson, rate: 1}, prompt_tokens: {dist: fixed, value: 10}, " \
           "output_tokens: {dist: fixed, value: 2}, duration_s: 1}\n"
#define TWO "replicas: [{parallelism: tp4, count: 1}, {parallelism: tp1, count: 4}]\n"
    /* a router threshold on a configuration without two replica groups */
    bad(HEAD "parallelism: dp4\nrouter: {policy: length-aware, prompt_threshold: 2048}\n" WL,
        "mix.yaml:4: router: length-aware with a prompt threshold needs two replica groups");
    bad(HEAD "replicas: [{parallelism: tp1, count: 4}]\nrouter: {policy: length-aware, prompt_threshold: 2048}\n" WL,
        "mix.yaml:4: router: length-aware with a prompt threshold needs two replica groups");
    bad(HEAD "router: {policy: length-aware, prompt_threshold: 2048}\n"
             "disaggregation: {prefill: {parallelism: tp1}, decode: {parallelism: tp1}}\n" WL,
        "needs two replica groups");
    bad(HEAD "disaggregation: {prefill: {parallelism: tp1}, decode: {parallelism: tp1}, router: length-aware}\n" WL,
        "mix.yaml:3: disaggregation.router: length-aware splits prompts between replica groups");
    /* the threshold itself */
    bad(HEAD TWO "router: length-aware\n" WL, "mix.yaml:4: router: length-aware needs a prompt length");
    bad(HEAD TWO "router: {policy: length-aware}\n" WL, "mix.yaml:4: router: length-aware needs a prompt length");
    bad(HEAD TWO "router: {policy: length-aware, prompt_threshold: 0}\n" WL,
        "mix.yaml:4: router.prompt_threshold: expected an integer between 1 and");
    bad(HEAD TWO "router: {policy: length-aware, prompt_threshold: -5}\n" WL, "mix.yaml:4: router.prompt_threshold");
    bad(HEAD TWO "router: {policy: length-aware, prompt_threshold: many}\n" WL, "mix.yaml:4: router.prompt_threshold");
    bad(HEAD TWO "router: {policy: least-kv, prompt_threshold: 100}\n" WL,
        "mix.yaml:4: router.prompt_threshold: only the length-aware router takes a prompt threshold");
    bad(HEAD TWO "router: {prompt_threshold: 100}\n" WL, "mix.yaml:4: router: missing key 'policy'");
    bad(HEAD TWO "router: {policy: shortest, prompt_threshold: 100}\n" WL,
        "mix.yaml:4: router.policy: unknown policy 'shortest' (expected round-robin");
    bad(HEAD TWO "router: {policy: length-aware, threshold: 100}\n" WL, "mix.yaml:4: unknown key 'router.threshold'");
    /* the groups */
    bad(HEAD "replicas: tp4\n" WL, "mix.yaml:3: replicas: expected a list of 1 to 64 replica groups");
    bad(HEAD "replicas: []\n" WL, "mix.yaml:3: replicas: expected a list");
    bad(HEAD "replicas: [tp4]\n" WL, "mix.yaml:3: replicas[0]: expected a mapping");
    bad(HEAD "replicas: [{parallelism: tp4, cnt: 1}]\n" WL, "unknown key 'replicas[0].cnt'");
    bad(HEAD "replicas: [{parallelism: tp4, count: 0}]\n" WL, "mix.yaml:3: replicas[0].count: expected an integer between 1 and 4096");
    bad(HEAD "replicas: [{parallelism: tp4, long: maybe}]\n" WL, "mix.yaml:3: replicas[0].long");
    bad(HEAD "replicas: [{parallelism: tp4}, {parallelism: tp1dp4}]\n" WL,
        "mix.yaml:3: replicas[1].parallelism: dp4 has dp 4: a group's data parallelism is its 'count'");
    bad(HEAD "replicas: [{parallelism: tp4}, {parallelism: tp3}]\n" WL, "replicas[1]: mix.yaml:3: parallelism: tp 3 does not fit");
    bad(HEAD "replicas: [{parallelism: tp4}, {hardware: b9000}]\n" WL, "replicas[1]: mix.yaml:3: hardware");
    bad(HEAD "replicas: [{parallelism: tp4, scheduler: 5}]\n" WL, "mix.yaml:3: replicas[0].scheduler: expected a mapping");
    bad(HEAD "replicas: [{parallelism: tp4, scheduler: {max_num_seq: 5}}]\n" WL, "unknown key 'scheduler.max_num_seq'");
    bad("model: llama-3-8b\ncluster: {base: dgx-h100, max_nodes: 1}\n"
        "replicas: [{parallelism: tp4, count: 1}, {parallelism: tp1, count: 5}]\n" WL,
        "mix.yaml:3: replicas: 1xtp4+5xtp1 needs 9 GPUs but cluster");
    bad("model: llama-3-8b\ncluster: {base: dgx-h100, max_nodes: 1}\n"
        "replicas: [{parallelism: tp4, count: 1}, {parallelism: tp1, count: 4}, {parallelism: tp1, hardware: h200}]\n" WL,
        "needs 9 GPUs but cluster");
    bad(HEAD "replicas: [{parallelism: tp2, count: 1}, {parallelism: tp2, count: 4}]\n"
             "router: {policy: length-aware, prompt_threshold: 100}\n" WL,
        "mix.yaml:3: replicas: every group counts as built for long prompts (1xtp2+4xtp2)");
    bad(HEAD "replicas: [{parallelism: tp2, long: true}, {parallelism: tp1, long: true}]\n"
             "router: {policy: length-aware, prompt_threshold: 100}\n" WL,
        "every group counts as built for long prompts");
    /* what the mix does not model */
    bad(HEAD TWO "disaggregation: {prefill: {parallelism: tp1}, decode: {parallelism: tp1}}\n" WL,
        "mix.yaml:4: disaggregation: not modelled together with replicas (at mix.yaml:3)");
    bad(HEAD TWO "speculative: {method: ngram, num_speculative_tokens: 2, acceptance: 0.5}\n" WL,
        "mix.yaml:4: speculative: not modelled with mixed replicas");
#undef HEAD
#undef WL
#undef TWO
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_computed_routing),
        cmocka_unit_test(test_marks_and_placement),
        cmocka_unit_test(test_infeasible_group),
        cmocka_unit_test(test_one_group_is_dp),
        cmocka_unit_test(test_sides_by_length),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
