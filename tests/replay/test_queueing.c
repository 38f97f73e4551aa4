/* test_queueing.c -- the engine against queueing theory.
 *
 * One replica, max_num_seqs 1, one-token prompts and outputs: every request is
 * one iteration, so the replica is a single FCFS server whose service time is
 * the cost model's iteration time. With Poisson arrivals (rate λ) and
 *   - constant service D (M/D/1): mean wait Wq = ρ·D / (2(1 - ρ))   (Pollaczek–Khinchine)
 *   - exponential service, mean D (M/M/1): Wq = ρ·D / (1 - ρ)
 * with ρ = λ·D. The queueing delay metric (arrival to first scheduled) is
 * exactly the waiting time. 400,000 requests with a fixed seed: the standard
 * error of the mean wait is then ~0.5% at ρ = 0.8 (M/D/1), well inside 2%. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "replay.h"

static void run_queue(const char *cost, double D, double rho, double n_req, uint64_t seed, ls_metrics *m)
{
    double lambda = rho / D;
    char text[2048];
    snprintf(text, sizeof text,
             "model: llama-3-8b\n"
             "hardware: h100-sxm\n"
             "cluster: dgx-h100\n"
             "parallelism: tp1\n"
             "scheduler: {max_num_seqs: 1, max_batched_tokens: 16}\n"
             "cost: {model: %s, time_s: %.17g}\n"
             "workload:\n"
             "  arrival: {process: poisson, rate: %.17g}\n"
             "  prompt_tokens: {dist: fixed, value: 1}\n"
             "  output_tokens: {dist: fixed, value: 1}\n"
             "  duration_s: %.17g\n"
             "seed: %llu\n",
             cost, D, lambda, n_req / lambda, (unsigned long long)seed);
    ls_yaml *root;
    ls_error e;
    assert_int_equal(ls_yaml_load_string(text, strlen(text), "<test>", &root, &e), LS_OK);
    ls_run_config *c;
    if (ls_config_load(root, NULL, NULL, &c, &e) != LS_OK) {
        print_error("%s\n", e.msg);
        fail();
    }
    if (ls_run(c, NULL, m, &e) != LS_OK) {
        print_error("%s\n", e.msg);
        fail();
    }
    assert_int_equal(m->status, LS_RUN_OK);
    assert_true(m->v[LS_M_N_REQUESTS] > 0.95 * n_req && m->v[LS_M_N_REQUESTS] < 1.05 * n_req);
    assert_true(m->v[LS_M_N_COMPLETED] == m->v[LS_M_N_REQUESTS]);
    ls_config_free(c);
    ls_yaml_free(root);
}

static void check(const char *what, double got, double want, double rel)
{
    print_message("%s: mean wait %.5f, theory %.5f (%.2f%%)\n", what, got, want, 100 * (got - want) / want);
    if (!(fabs(got - want) <= rel * want)) {
        print_error("%s: mean wait %.6f not within %.0f%% of %.6f\n", what, got, 100 * rel, want);
        fail();
    }
}

static void test_md1(void **state)
{
    (void)state;
    const double D = 0.01;
    double rhos[2] = {0.5, 0.8};
    for (int i = 0; i < 2; i++) {
        ls_metrics m;
        run_queue("constant", D, rhos[i], 400000, 20240 + (uint64_t)i, &m);
        double wq = rhos[i] * D / (2 * (1 - rhos[i]));
        check(rhos[i] == 0.5 ? "M/D/1 rho 0.5" : "M/D/1 rho 0.8", m.v[LS_M_QUEUE_MEAN_S], wq, 0.02);
        /* every request is served for exactly D: e2e = wait + D */
        assert_true(fabs(m.v[LS_M_E2E_MEAN_S] - (m.v[LS_M_QUEUE_MEAN_S] + D)) < 1e-9);
        assert_true(fabs(m.v[LS_M_MEAN_BATCH_SIZE] - 1.0) < 1e-12);
    }
}

static void test_mm1(void **state)
{
    (void)state;
    const double D = 0.01;
    double rhos[2] = {0.5, 0.8};
    for (int i = 0; i < 2; i++) {
        ls_metrics m;
        run_queue("exponential", D, rhos[i], rhos[i] > 0.6 ? 1200000 : 400000, 777 + (uint64_t)i, &m);
        double wq = rhos[i] * D / (1 - rhos[i]);
        check(rhos[i] == 0.5 ? "M/M/1 rho 0.5" : "M/M/1 rho 0.8", m.v[LS_M_QUEUE_MEAN_S], wq, 0.03);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_md1),
        cmocka_unit_test(test_mm1),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
