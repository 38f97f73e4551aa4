/* test_capacity.c -- capacity search on the real engine.
 *
 * The search must bracket the threshold: a run at the capacity it returns
 * meets the SLO, a run at the failing rate it returns does not, and the two
 * are within the stated tolerance. The SLO test is re-done here from the raw
 * metrics with the limits written in the YAML below, not with the search's
 * own predicate. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "capacity.h"
#include "replay.h"

/* Llama-3.1-8B on one H100: short fixed requests keep every run cheap. */
static const char *cfg_text =
    "model: llama-3.1-8b\n"
    "cluster: dgx-h100\n"
    "parallelism: tp1\n"
    "workload:\n"
    "  arrival: {process: poisson, rate: 4}\n"
    "  prompt_tokens: {dist: fixed, value: 1024}\n"
    "  output_tokens: {dist: fixed, value: 64}\n"
    "  duration_s: 40\n"
    "seed: 7\n"
    "slo: {ttft_s: 0.5, tpot_s: 0.05}\n";

#define SLO_TTFT 0.5
#define SLO_TPOT 0.05

static ls_run_config *load(const char *text)
{
    ls_yaml *y = NULL;
    ls_error e = {0};
    assert_int_equal(ls_yaml_load_string(text, strlen(text), "<test>", &y, &e), LS_OK);
    ls_run_config *c = NULL;
    if (ls_config_load(y, NULL, NULL, &c, &e) != LS_OK)
        fail_msg("config: %s", e.msg);
    ls_yaml_free(y);
    return c;
}

/* Run a copy of the configuration text at `rate` and apply the SLO by hand. */
static bool meets_at(double rate)
{
    ls_run_config *c = load(cfg_text);
    ls_error e = {0};
    assert_int_equal(ls_config_set_arrival_rate(c, rate, &e), LS_OK);
    ls_metrics m;
    ls_run_opts o;
    memset(&o, 0, sizeof o);
    if (ls_run(c, &o, &m, &e) != LS_OK)
        fail_msg("run: %s", e.msg);
    ls_config_free(c);
    assert_int_equal(m.status, LS_RUN_OK);
    return m.v[LS_M_TTFT_P99_S] <= SLO_TTFT && m.v[LS_M_TPOT_P99_S] <= SLO_TPOT &&
           m.v[LS_M_SUCCESS_RATE] >= 0.99;
}

static void test_brackets_threshold(void **state)
{
    (void)state;
    ls_run_config *c = load(cfg_text);
    ls_config_row before, after;
    ls_config_get_row(c, &before);
    char *key_before = strdup(ls_config_workload_key(c));
    ls_capacity_opts o;
    ls_capacity_opts_default(&o);
    o.rel_tol = 0.05;
    ls_capacity_result r;
    ls_error e = {0};
    if (ls_capacity_search(c, &o, &r, &e) != LS_OK)
        fail_msg("search: %s", e.msg);
    printf("capacity %.3f req/s, failing %.3f req/s, %d runs\n", r.capacity_rps, r.failing_rps, r.runs);
    assert_true(r.capacity_rps > 0);
    assert_true(isfinite(r.failing_rps));
    assert_true(r.failing_rps > r.capacity_rps);
    assert_true((r.failing_rps - r.capacity_rps) / r.capacity_rps <= 0.05 + 1e-12);
    assert_in_range(r.runs, 2, o.max_runs);
    /* the caller's configuration is untouched */
    ls_config_get_row(c, &after);
    assert_true(after.arrival_rate == before.arrival_rate);
    assert_string_equal(ls_config_workload_key(c), key_before);
    free(key_before);
    ls_config_free(c);
    /* independent runs: at the capacity the SLO holds, at the failing rate it does not,
     * and well below / above the bracket the answers agree */
    assert_true(meets_at(r.capacity_rps));
    assert_false(meets_at(r.failing_rps));
    assert_true(meets_at(0.7 * r.capacity_rps));
    assert_false(meets_at(1.5 * r.failing_rps));
}

/* The same configuration listed at two different arrival rates (as a sweep
 * with a rate axis lists it) must get exactly the same capacity: the search
 * may not start from the listed rate. Before the fix the start was the listed
 * rate, and the two listings landed on different probes. */
static void test_independent_of_listed_rate(void **state)
{
    (void)state;
    double cap[3], fail[3];
    const double listed[3] = {1.0, 2.5, 4.0};
    for (int i = 0; i < 3; i++) {
        ls_run_config *c = load(cfg_text);
        ls_error e = {0};
        assert_int_equal(ls_config_set_arrival_rate(c, listed[i], &e), LS_OK);
        ls_capacity_result r;
        if (ls_capacity_search(c, NULL, &r, &e) != LS_OK)
            fail_msg("search: %s", e.msg);
        cap[i] = r.capacity_rps;
        fail[i] = r.failing_rps;
        ls_config_free(c);
    }
    printf("capacity at listed rates 1, 2.5, 4: %.6f %.6f %.6f\n", cap[0], cap[1], cap[2]);
    assert_true(cap[0] > 0);
    /* exact equality, not a tolerance: same probes, same answer */
    assert_true(cap[0] == cap[1] && cap[1] == cap[2]);
    assert_true(fail[0] == fail[1] && fail[1] == fail[2]);
}

/* A configuration that misses the SLO at every load (TPOT limit 1 ms; an 8B
 * model on an H100 takes several ms per token) has capacity exactly 0, and the
 * search stops halving at the rate where the 400 s window expects 10 requests
 * (0.025 req/s): 0.25, 0.125, 0.0625, 0.03125 fail, 0.015625 is not tried.
 * (Halving 10 times from 0.25 reached 0.0002 req/s, under one request per
 * window, where a lone request "met" the SLO and the capacity came out
 * positive.) */
static void test_misses_everywhere(void **state)
{
    (void)state;
    ls_run_config *c = load("model: llama-3.1-8b\ncluster: dgx-h100\nparallelism: tp1\n"
                            "workload: {arrival: {process: poisson, rate: 4},\n"
                            "  prompt_tokens: {dist: fixed, value: 1024},\n"
                            "  output_tokens: {dist: fixed, value: 64}, duration_s: 400}\n"
                            "seed: 7\nslo: {ttft_s: 0.5, tpot_s: 0.001}\n");
    ls_capacity_result r;
    ls_error e = {0};
    assert_int_equal(ls_capacity_search(c, NULL, &r, &e), LS_OK);
    printf("capacity %g, failing %g, %d runs\n", r.capacity_rps, r.failing_rps, r.runs);
    assert_true(r.capacity_rps == 0);
    assert_true(r.failing_rps == 0.03125);
    assert_int_equal(r.runs, 4);
    ls_config_free(c);
}

static void test_given_range(void **state)
{
    (void)state;
    ls_run_config *c = load(cfg_text);
    ls_capacity_opts o;
    ls_capacity_opts_default(&o);
    ls_capacity_result r;
    ls_error e = {0};
    /* a lower end that already fails: capacity 0, the lower end is the failing rate */
    o.rate_lo = 1000;
    assert_int_equal(ls_capacity_search(c, &o, &r, &e), LS_OK);
    assert_true(r.capacity_rps == 0);
    assert_true(r.failing_rps == 1000);
    assert_int_equal(r.runs, 1);
    /* an inverted range is an error */
    o.rate_lo = 4;
    o.rate_hi = 2;
    assert_int_equal(ls_capacity_search(c, &o, &r, &e), LS_EINVAL);
    ls_config_free(c);
}

/* A start near the capacity brackets the same threshold with fewer probes, and a
 * run already made at the start (`known`, as a sweep passes its listing's own run)
 * replaces the first probe without changing the answer. */
static void test_start_and_known(void **state)
{
    (void)state;
    ls_run_config *c = load(cfg_text);
    ls_capacity_opts o;
    ls_capacity_opts_default(&o);
    ls_capacity_result from0, r, rk;
    ls_error e = {0};
    assert_int_equal(ls_capacity_search(c, &o, &from0, &e), LS_OK);
    o.rate_start = from0.capacity_rps / 2; /* a planner's target below the capacity */
    assert_int_equal(ls_capacity_search(c, &o, &r, &e), LS_OK);
    printf("from 0.25: %.3f req/s in %d runs; from %.3f: %.3f in %d runs\n", from0.capacity_rps, from0.runs,
           o.rate_start, r.capacity_rps, r.runs);
    assert_true(r.runs < from0.runs);
    assert_true(r.failing_rps > r.capacity_rps);
    assert_true((r.failing_rps - r.capacity_rps) / r.capacity_rps <= 0.05 + 1e-12);
    assert_true(meets_at(r.capacity_rps));
    assert_false(meets_at(r.failing_rps));
    /* the known run at the start: same result, same probe count, one simulation fewer */
    ls_run_config *k = load(cfg_text);
    assert_int_equal(ls_config_set_arrival_rate(k, o.rate_start, &e), LS_OK);
    ls_metrics m;
    ls_run_opts ro;
    memset(&ro, 0, sizeof ro);
    assert_int_equal(ls_run(k, &ro, &m, &e), LS_OK);
    ls_config_free(k);
    o.known = &m;
    o.known_rate = o.rate_start;
    assert_int_equal(ls_capacity_search(c, &o, &rk, &e), LS_OK);
    assert_true(rk.capacity_rps == r.capacity_rps);
    assert_true(rk.failing_rps == r.failing_rps);
    assert_int_equal(rk.runs, r.runs);
    /* a known run at another rate is ignored */
    o.known_rate = 2 * o.rate_start;
    m.status = LS_RUN_INFEASIBLE;
    assert_int_equal(ls_capacity_search(c, &o, &rk, &e), LS_OK);
    assert_true(rk.capacity_rps == r.capacity_rps);
    ls_config_free(c);
}

static void test_infeasible(void **state)
{
    (void)state;
    /* Llama-3-70B in BF16 (141 GB of weights) on one 96 GB GH200 */
    ls_run_config *c = load("model: llama-3-70b\ncluster: gh200-single\nparallelism: tp1\n"
                            "workload: {arrival: {process: poisson, rate: 1},\n"
                            "  prompt_tokens: {dist: fixed, value: 100},\n"
                            "  output_tokens: {dist: fixed, value: 10}, duration_s: 10}\n");
    ls_capacity_result r;
    ls_error e = {0};
    assert_int_equal(ls_capacity_search(c, NULL, &r, &e), LS_OK);
    assert_true(isnan(r.capacity_rps));
    assert_int_equal(r.runs, 1);
    ls_config_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_brackets_threshold),
        cmocka_unit_test(test_independent_of_listed_rate),
        cmocka_unit_test(test_misses_everywhere),
        cmocka_unit_test(test_given_range),
        cmocka_unit_test(test_start_and_known),
        cmocka_unit_test(test_infeasible),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
