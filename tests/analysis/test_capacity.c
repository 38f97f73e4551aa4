/* test_capacity.c -- capacity search on the real engine.
 *
 * The search must bracket the threshold: a run at the capacity it returns
 * meets the SLO, a run at the failing rate it returns does not, and the two
 * are within the stated tolerance. The SLO test is re-done here from the raw
 * metrics with the limits written in the YAML below, not with the search's
 * own predicate. */
#include <math.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "capacity.h"
#include "replay.h"
#include "slo_watch.h"
#include "trace.h"

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

/* TPOT 1 ms: missed at every rate, so a search's probes are hand-countable. */
static const char *misses_everywhere_text =
    "model: llama-3.1-8b\ncluster: dgx-h100\nparallelism: tp1\n"
    "workload: {arrival: {process: poisson, rate: 4},\n"
    "  prompt_tokens: {dist: fixed, value: 1024},\n"
    "  output_tokens: {dist: fixed, value: 64}, duration_s: 400}\n"
    "seed: 7\nslo: {ttft_s: 0.5, tpot_s: 0.001}\n";

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
    ls_run_config *c = load(misses_everywhere_text);
    ls_capacity_result r;
    ls_error e = {0};
    assert_int_equal(ls_capacity_search(c, NULL, &r, &e), LS_OK);
    printf("capacity %g, failing %g, %d runs\n", r.capacity_rps, r.failing_rps, r.runs);
    assert_true(r.capacity_rps == 0);
    assert_true(r.failing_rps == 0.03125);
    assert_int_equal(r.runs, 4);
    ls_config_free(c);
}

/* The floor (capacity.floor, plan --capacity-floor): halving stops at it, the floor itself
 * is the last probe, and missing the SLO there is "below the floor". TPOT 1 ms fails at
 * every rate, so the probes are hand-countable: 4, 2, 1, then the floor. */
static void test_floor(void **state)
{
    (void)state;
    ls_run_config *c = load(misses_everywhere_text);
    ls_capacity_opts o;
    ls_capacity_opts_default(&o);
    ls_capacity_result r;
    ls_error e = {0};
    o.rate_start = 4;
    o.rate_floor = 0.75; /* 4, 2, 1, then 0.75 (not 0.5) */
    assert_int_equal(ls_capacity_search(c, &o, &r, &e), LS_OK);
    assert_true(r.capacity_rps == 0);
    assert_true(r.failing_rps == 0.75);
    assert_true(r.below_floor);
    assert_int_equal(r.runs, 4);
    o.rate_floor = 1; /* a halving lands on it: 4, 2, 1 */
    assert_int_equal(ls_capacity_search(c, &o, &r, &e), LS_OK);
    assert_true(r.failing_rps == 1 && r.below_floor);
    assert_int_equal(r.runs, 3);
    o.rate_floor = 4; /* the start itself: one probe */
    assert_int_equal(ls_capacity_search(c, &o, &r, &e), LS_OK);
    assert_true(r.capacity_rps == 0 && r.failing_rps == 4 && r.below_floor);
    assert_int_equal(r.runs, 1);
    /* without a floor it halves further: not "below the floor" */
    o.rate_floor = 0;
    assert_int_equal(ls_capacity_search(c, &o, &r, &e), LS_OK);
    assert_true(r.capacity_rps == 0 && r.failing_rps < 0.75 && !r.below_floor);
    /* a floor above the start, negative or NaN is an error */
    o.rate_floor = 5;
    assert_int_equal(ls_capacity_search(c, &o, &r, &e), LS_EINVAL);
    assert_non_null(strstr(e.msg, "floor"));
    o.rate_floor = -1;
    assert_int_equal(ls_capacity_search(c, &o, &r, &e), LS_EINVAL);
    o.rate_floor = NAN;
    assert_int_equal(ls_capacity_search(c, &o, &r, &e), LS_EINVAL);
    ls_config_free(c);
    /* a configuration that passes above the floor: the search brackets as before, never
     * probing below the floor (the SLO re-checked by hand at both ends) */
    c = load(cfg_text);
    ls_capacity_opts_default(&o);
    o.rate_start = 64;
    o.rate_floor = 20; /* capacity ~25 req/s: 64 and 32 fail, then 20 where 16 would have been */
    assert_int_equal(ls_capacity_search(c, &o, &r, &e), LS_OK);
    printf("with floor 20 from 64: capacity %.4f, failing %.4f, %d runs\n", r.capacity_rps, r.failing_rps, r.runs);
    assert_false(r.below_floor);
    assert_true(r.capacity_rps >= 20);
    assert_true((r.failing_rps - r.capacity_rps) / r.capacity_rps <= 0.05 + 1e-12);
    assert_true(meets_at(r.capacity_rps));
    assert_false(meets_at(r.failing_rps));
    ls_config_free(c);
}

/* A given rate_lo equal to the floor that misses the SLO missed it at the floor:
 * below_floor, as when halving reaches the floor. */
static void test_floor_at_rate_lo(void **state)
{
    (void)state;
    ls_run_config *c = load(misses_everywhere_text);
    ls_capacity_opts o;
    ls_capacity_opts_default(&o);
    ls_capacity_result r;
    ls_error e = {0};
    o.rate_lo = 4;
    o.rate_floor = 4;
    assert_int_equal(ls_capacity_search(c, &o, &r, &e), LS_OK);
    assert_true(r.capacity_rps == 0 && r.failing_rps == 4);
    assert_int_equal(r.runs, 1);
    assert_true(r.below_floor);
    ls_config_free(c);
}

/* A stop flag (a sweep's SIGTERM) ends the search before its next probe. */
static void test_stop(void **state)
{
    (void)state;
    ls_run_config *c = load(cfg_text);
    volatile sig_atomic_t stop = 1;
    ls_capacity_opts o;
    ls_capacity_opts_default(&o);
    o.stop = &stop;
    ls_capacity_result r;
    ls_error e = {0};
    assert_int_equal(ls_capacity_search(c, &o, &r, &e), LS_EINTERRUPTED);
    assert_int_equal(r.runs, 0);
    stop = 0; /* not set: the search runs as without the flag */
    ls_capacity_result plain;
    assert_int_equal(ls_capacity_search(c, &o, &r, &e), LS_OK);
    o.stop = NULL;
    assert_int_equal(ls_capacity_search(c, &o, &plain, &e), LS_OK);
    assert_true(r.capacity_rps == plain.capacity_rps && r.runs == plain.runs);
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

/* ---- the hooks a sweep lends the search, and the early stop -------------------------- */

/* The caller's side: one pre-read stream per rate, whole runs kept by rate. */
typedef struct fake_sweep {
    ls_request_array arr[32];
    char *key[32];
    int n_streams;
    double kept_rate[32];
    ls_metrics kept[32];
    int n_kept, lookups, hits, stores;
    double listed[4]; /* rates a listing of the configuration is at: whole probes */
} fake_sweep;

static ls_status fs_requests(void *ctx, const ls_run_config *c, const ls_request_array **out, ls_error *e)
{
    fake_sweep *f = ctx;
    for (int i = 0; i < f->n_streams; i++)
        if (!strcmp(f->key[i], ls_config_workload_key(c))) {
            *out = &f->arr[i];
            return LS_OK;
        }
    assert_true(f->n_streams < 32);
    ls_source *src = NULL;
    LS_TRY(ls_config_open_workload(c, &src, e));
    ls_status rc = ls_source_collect(src, 0, &f->arr[f->n_streams], e);
    ls_source_free(src);
    LS_TRY(rc);
    f->key[f->n_streams] = strdup(ls_config_workload_key(c));
    *out = &f->arr[f->n_streams++];
    return LS_OK;
}

static double rate_of(const ls_run_config *c)
{
    ls_config_row row;
    ls_config_get_row(c, &row);
    return row.arrival_rate;
}

static const ls_metrics *fs_lookup(void *ctx, const ls_run_config *c)
{
    fake_sweep *f = ctx;
    f->lookups++;
    for (int i = 0; i < f->n_kept; i++)
        if (f->kept_rate[i] == rate_of(c)) {
            f->hits++;
            return &f->kept[i];
        }
    return NULL;
}

static void fs_store(void *ctx, const ls_run_config *c, const ls_metrics *m)
{
    fake_sweep *f = ctx;
    f->stores++;
    if (f->n_kept < 32) {
        f->kept_rate[f->n_kept] = rate_of(c);
        f->kept[f->n_kept++] = *m;
    }
}

static bool fs_whole(void *ctx, const ls_run_config *c)
{
    fake_sweep *f = ctx;
    for (int i = 0; i < 4; i++)
        if (f->listed[i] == rate_of(c))
            return true;
    return false;
}

static void fs_free(fake_sweep *f)
{
    for (int i = 0; i < f->n_streams; i++) {
        ls_request_array_free(&f->arr[i]);
        free(f->key[i]);
    }
}

/* With the hooks the search gives exactly the answer it gives alone, in the same
 * probes; probes at a listed rate are run whole and stored, the others may stop
 * early, and a second search takes the stored runs instead of simulating them. */
static void hooks_same_answer(bool bisect)
{
    ls_run_config *c = load(cfg_text);
    ls_capacity_opts o;
    ls_capacity_opts_default(&o);
    o.rate_start = 4;
    static const double listed[4] = {4, 2, 6, 8};
    o.given_rates = listed;
    o.n_given_rates = 4;
    o.bisect = bisect;
    ls_capacity_result plain, hooked, again;
    ls_error e = {0};
    assert_int_equal(ls_capacity_search(c, &o, &plain, &e), LS_OK);
    assert_int_equal(plain.simulated, plain.runs);
    assert_int_equal(plain.stopped, 0); /* no pre-read stream: nothing watched */
    fake_sweep f;
    memset(&f, 0, sizeof f);
    memcpy(f.listed, listed, sizeof listed);
    ls_capacity_hooks h = {&f, fs_requests, fs_lookup, fs_store, fs_whole, NULL};
    o.hooks = &h;
    assert_int_equal(ls_capacity_search(c, &o, &hooked, &e), LS_OK);
    printf("capacity %.4f (%d probes); hooked: %.4f, %d probes, %d simulated, %d stopped early, %d stored\n",
           plain.capacity_rps, plain.runs, hooked.capacity_rps, hooked.runs, hooked.simulated, hooked.stopped,
           f.stores);
    assert_true(hooked.capacity_rps == plain.capacity_rps);
    assert_true(hooked.failing_rps == plain.failing_rps);
    assert_int_equal(hooked.runs, plain.runs);
    assert_int_equal(hooked.simulated, hooked.runs);
    assert_true(hooked.stopped >= 1);
    assert_int_equal(hooked.stopped + f.stores, hooked.simulated); /* what ran to its end is kept */
    /* again: the stored probes are taken, the rest simulated again */
    assert_int_equal(ls_capacity_search(c, &o, &again, &e), LS_OK);
    assert_true(again.capacity_rps == plain.capacity_rps);
    assert_int_equal(again.runs, plain.runs);
    assert_int_equal(again.simulated, plain.runs - f.hits);
    assert_int_equal(again.simulated, hooked.stopped); /* only the stopped ones again */
    assert_true(f.hits >= 1);
    fs_free(&f);
    ls_config_free(c);
}

static void test_hooks_same_answer(void **state)
{
    (void)state;
    hooks_same_answer(true);
    hooks_same_answer(false);
}

/* Guided probes (the default) bracket the threshold as bisection does, in fewer
 * simulations when the listed rates are given: over starts from 2 to 48 req/s, each
 * with listings at 0.5, 1, 1.5 and 2 times the start (the plan's loads), every answer
 * is within the tolerance, meets / misses the SLO when run on its own, and the
 * simulations not at a listed rate (those the search adds) are fewer in all. */
static void test_guided(void **state)
{
    (void)state;
    ls_run_config *c = load(cfg_text);
    int extra[2] = {0, 0};
    static const double starts[] = {2, 8, 14, 16, 20, 24, 30, 40, 48};
    for (size_t si = 0; si < sizeof starts / sizeof *starts; si++) {
        double start = starts[si];
        double listed[4] = {start, 0.5 * start, 1.5 * start, 2 * start};
        double cap[2];
        for (int bisect = 0; bisect < 2; bisect++) {
            ls_capacity_opts o;
            ls_capacity_opts_default(&o);
            o.rate_start = start;
            o.given_rates = listed;
            o.n_given_rates = 4;
            o.bisect = bisect;
            fake_sweep f;
            memset(&f, 0, sizeof f);
            memcpy(f.listed, listed, sizeof listed);
            ls_capacity_hooks h = {&f, fs_requests, fs_lookup, fs_store, fs_whole, NULL};
            o.hooks = &h;
            ls_capacity_result r;
            ls_error e = {0};
            assert_int_equal(ls_capacity_search(c, &o, &r, &e), LS_OK);
            int at_listed = 0;
            for (int i = 0; i < f.n_kept; i++)
                for (int k = 0; k < 4; k++)
                    at_listed += f.kept_rate[i] == listed[k];
            extra[bisect] += r.simulated - at_listed;
            printf("start %g %s: capacity %.4f failing %.4f, %d probes, %d simulated (%d at listed rates)\n",
                   start, bisect ? "bisect" : "guided", r.capacity_rps, r.failing_rps, r.runs, r.simulated,
                   at_listed);
            assert_true(r.capacity_rps > 0);
            assert_true((r.failing_rps - r.capacity_rps) / r.capacity_rps <= 0.05 + 1e-12);
            assert_true(meets_at(r.capacity_rps));
            assert_false(meets_at(r.failing_rps));
            cap[bisect] = r.capacity_rps;
            fs_free(&f);
        }
        /* two valid answers to one question: within a tolerance of each other */
        assert_true(fabs(cap[0] - cap[1]) <= 0.05 * fmax(cap[0], cap[1]) + 1e-12);
    }
    printf("probes added to the listed runs: guided %d, bisect %d\n", extra[0], extra[1]);
    assert_true(extra[0] < extra[1]);
    ls_config_free(c);
}

/* The watch stops a run only when the whole run misses the SLO: over a range of rates
 * from well under to far over the capacity, and with a TTFT-bound and a TPOT-bound
 * SLO, every stopped run is one that fails whole, and every run it lets finish is the
 * unwatched run exactly. It does stop the overloaded ones. */
/* Counts what a watch is given, around it: the completed late rows seen when it stops. */
typedef struct watch_spy {
    ls_slo_watch w;
    void (*row)(void *, const ls_request_result *);
    int64_t late_rows, late_rows_at_stop;
} watch_spy;

static void spy_row(void *ctx, const ls_request_result *r)
{
    watch_spy *s = ctx; /* w is its first member: the watch's own callbacks take s as the watch */
    bool was = s->w.stop;
    if (r->status == LS_REQ_COMPLETED && r->first_token_s - r->arrival_s > s->w.ttft_over)
        s->late_rows++;
    s->row(ctx, r);
    if (!was && s->w.stop)
        s->late_rows_at_stop = s->late_rows;
}

static void test_watch_never_wrong(void **state)
{
    (void)state;
    /* TTFT-bound, TPOT-bound; a timeout and a run that does not drain: a request with a
     * late first token may still end other than completed, out of the TTFT's p99 */
    static const char *slos[4] = {"slo: {ttft_s: 0.5, tpot_s: 0.05}\n", "slo: {ttft_s: 30, tpot_s: 0.012}\n",
                                  "slo: {ttft_s: 0.5, tpot_s: 0.05}\ntimeout_s: 3\n",
                                  "slo: {ttft_s: 0.5, tpot_s: 0.05}\ndrain: false\n"};
    int stopped = 0, runs = 0, before_rows = 0;
    for (int k = 0; k < 4; k++) {
        char text[1024];
        snprintf(text, sizeof text,
                 "model: llama-3.1-8b\ncluster: dgx-h100\nparallelism: tp1\n"
                 "workload: {arrival: {process: poisson, rate: 4}, prompt_tokens: {dist: lognormal, mu: 6.5, "
                 "sigma: 0.8}, output_tokens: {dist: lognormal, mu: 4.5, sigma: 0.6}, duration_s: 40}\n"
                 "seed: 3\n%s",
                 slos[k]);
        for (double rate = 1; rate <= 64; rate *= 1.5) {
            ls_run_config *c = load(text);
            ls_error e = {0};
            assert_int_equal(ls_config_set_arrival_rate(c, rate, &e), LS_OK);
            ls_source *src = NULL;
            assert_int_equal(ls_config_open_workload(c, &src, &e), LS_OK);
            ls_request_array arr;
            assert_int_equal(ls_source_collect(src, 0, &arr, &e), LS_OK);
            ls_source_free(src);
            ls_run_opts o;
            memset(&o, 0, sizeof o);
            o.requests = &arr;
            ls_metrics whole, watched;
            assert_int_equal(ls_run(c, &o, &whole, &e), LS_OK);
            watch_spy spy;
            memset(&spy, 0, sizeof spy);
            assert_true(ls_slo_watch_init(&spy.w, c, arr.n));
            ls_slo_watch_attach(&spy.w, &o);
            spy.row = o.on_request;
            o.on_request = spy_row;
            ls_status rc = ls_run(c, &o, &watched, &e);
            bool meets = ls_capacity_meets_slo(c, &whole);
            runs++;
            if (spy.w.stop) /* the watch is never wrong */
                assert_false(meets);
            if (rc == LS_EINTERRUPTED) {
                assert_true(spy.w.stop);
                stopped++;
                /* settled by first tokens before the completed late rows would have */
                before_rows += spy.late_rows_at_stop < (int64_t)spy.w.need;
            } else { /* a run that ends is the unwatched run (a verdict its last events settled, too) */
                assert_int_equal(rc, LS_OK);
                for (int i = 0; i < LS_METRIC_COUNT; i++)
                    if (i != LS_M_WALL_TIME_S)
                        assert_true(memcmp(&whole.v[i], &watched.v[i], sizeof whole.v[i]) == 0);
            }
            ls_request_array_free(&arr);
            ls_config_free(c);
        }
    }
    printf("%d of %d runs stopped early, %d before their late rows settled it\n", stopped, runs, before_rows);
    assert_true(stopped >= 8);
    assert_true(before_rows >= 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_brackets_threshold),
        cmocka_unit_test(test_independent_of_listed_rate),
        cmocka_unit_test(test_misses_everywhere),
        cmocka_unit_test(test_floor),
        cmocka_unit_test(test_floor_at_rate_lo),
        cmocka_unit_test(test_stop),
        cmocka_unit_test(test_given_range),
        cmocka_unit_test(test_start_and_known),
        cmocka_unit_test(test_infeasible),
        cmocka_unit_test(test_hooks_same_answer),
        cmocka_unit_test(test_guided),
        cmocka_unit_test(test_watch_never_wrong),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
