/* test_recommend_mixed.c -- the recommendation rule for mixed replica groups
 * (analysis/recommend_mixed.c) on a hand-made result file.
 *
 * Two loads on one cluster, each with a mix of 1 x TP4 + 4 x TP1, TP8 and DP8:
 *  - at 2 req/s the mix meets the SLO with the most goodput (1.9 against 1.0
 *    and 1.5), both of its sides within the limits: "the mix wins";
 *  - at 6 req/s DP8 meets it (5.5) while the mix's long-prompt side has a TTFT
 *    p99 of 5 s (2.5x the limit; the short side 1 s): "DP=8 wins", the long
 *    side is the further over the limits, "a higher threshold";
 *  - a TP4 x DP2 row at 6 req/s beats all three: named;
 *  - the summary: the winner at each load. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixture_h5.h"
#include "recommend.h"
#include "report.h"

/* A finished row: the columns the report and the rule read. */
static void row(fx_row *r, const char *par, int tp, int dp, double rate, double goodput, double ttft99, double queue99)
{
    memset(r, 0, sizeof *r);
    for (int i = 0; i < LS_METRIC_COUNT; i++)
        r->v[i] = NAN;
    snprintf(r->cfg.model, sizeof r->cfg.model, "llama-3.1-70b");
    snprintf(r->cfg.hardware, sizeof r->cfg.hardware, "gh200-96gb");
    snprintf(r->cfg.cluster, sizeof r->cfg.cluster, "gh200-quad");
    snprintf(r->cfg.parallelism, sizeof r->cfg.parallelism, "%s", par);
    snprintf(r->cfg.router, sizeof r->cfg.router, "%s", par[0] == '1' ? "length-aware>4096" : "least-outstanding");
    r->cfg.tp = tp;
    r->cfg.pp = 1;
    r->cfg.dp = dp;
    r->cfg.n_gpus = 8;
    snprintf(r->cfg.dtype_weights, sizeof r->cfg.dtype_weights, "fp8");
    snprintf(r->cfg.dtype_kv, sizeof r->cfg.dtype_kv, "bf16");
    snprintf(r->cfg.speculative, sizeof r->cfg.speculative, "none");
    snprintf(r->cfg.workload, sizeof r->cfg.workload, "synthetic");
    snprintf(r->cfg.arrival_process, sizeof r->cfg.arrival_process, "poisson");
    snprintf(r->cfg.prompt_dist, sizeof r->cfg.prompt_dist, "{dist: lognormal, mean: 2500, stddev: 2500}");
    snprintf(r->cfg.output_dist, sizeof r->cfg.output_dist, "{dist: fixed, value: 256}");
    r->cfg.arrival_rate = rate;
    r->cfg.arrival_cv = NAN;
    r->cfg.duration_s = 300;
    r->cfg.max_model_len = 32768;
    r->cfg.slo_ttft_s = 2;
    r->cfg.slo_tpot_s = 0.2;
    double n = rate * 300, done = n;
    r->status = "ok";
    r->v[LS_M_N_REQUESTS] = n;
    r->v[LS_M_N_COMPLETED] = done;
    r->v[LS_M_SUCCESS_RATE] = 1;
    r->v[LS_M_THROUGHPUT_RPS] = rate;
    r->v[LS_M_GOODPUT_RPS] = goodput;
    r->v[LS_M_SLO_ATTAINMENT] = goodput / rate;
    r->v[LS_M_TTFT_P50_S] = ttft99 / 4;
    r->v[LS_M_TTFT_P99_S] = ttft99;
    r->v[LS_M_TPOT_P50_S] = 0.03;
    r->v[LS_M_TPOT_P99_S] = 0.05;
    r->v[LS_M_E2E_P99_S] = ttft99 + 10;
    r->v[LS_M_QUEUE_P99_S] = queue99;
    r->v[LS_M_N_REJECTED_TOO_LONG] = 0;
    r->v[LS_M_N_REJECTED_KV] = 0;
    r->v[LS_M_N_TIMEOUT] = 0;
    r->v[LS_M_N_UNFINISHED] = 0;
    r->v[LS_M_N_PREEMPTIONS] = 0;
    r->v[LS_M_KV_BLOCKS] = 20000;
    r->v[LS_M_KV_USAGE_MAX] = 0.5;
    r->v[LS_M_MEAN_BATCH_SIZE] = 8;
    r->v[LS_M_N_GPUS] = 8;
}

static void mix(fx_row *r, double share, double long_ttft99, double short_ttft99)
{
    r->v[LS_M_MIX_LONG_SHARE] = share;
    r->v[LS_M_MIX_LONG_UTILIZATION] = 0.8;
    r->v[LS_M_MIX_SHORT_UTILIZATION] = 0.6;
    r->v[LS_M_MIX_LONG_TTFT_P99_S] = long_ttft99;
    r->v[LS_M_MIX_SHORT_TTFT_P99_S] = short_ttft99;
    r->v[LS_M_MIX_LONG_TPOT_P99_S] = 0.04;
    r->v[LS_M_MIX_SHORT_TPOT_P99_S] = 0.05;
}

static char *text_of(const fx_row *rows, size_t n)
{
    char path[128];
    snprintf(path, sizeof path, "/tmp/ls_test_recommend_mixed_%d.h5", (int)getpid());
    assert_int_equal(fx_write(path, rows, n), 0);
    ls_results *res = NULL;
    ls_report *rep = NULL;
    ls_error e = {0};
    assert_int_equal(ls_results_read(path, &res, &e), LS_OK);
    ls_report_opts o = {0};
    ls_slo_default(&o.slo);
    assert_int_equal(ls_report_build(res, &o, &rep, &e), LS_OK);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(ls_report_write(rep, LS_REPORT_TEXT, f, &e), LS_OK);
    fclose(f);
    ls_report_free(rep);
    ls_results_free(res);
    unlink(path);
    /* the sentences are wrapped: join the lines to search them */
    char *w = buf;
    for (const char *p = buf; *p; p++) {
        if (*p == '\n' && p[1] == ' ' && p[2] == ' ') {
            *w++ = ' ';
            p += 2;
        } else {
            *w++ = *p;
        }
    }
    *w = '\0';
    return buf;
}

static void has(const char *text, const char *want)
{
    if (!strstr(text, want)) {
        fputs(text, stderr);
        fail_msg("missing: %s", want);
    }
}

static void test_who_wins_and_why(void **state)
{
    (void)state;
    fx_row r[7];
    row(&r[0], "1xtp4+4xtp1", 4, 5, 2, 1.9, 1.2, 0.1);
    mix(&r[0], 0.16, 1.5, 0.8);
    row(&r[1], "tp8", 8, 1, 2, 1.0, 9, 8);     /* queue-bound */
    row(&r[2], "dp8", 1, 8, 2, 1.5, 2.5, 0.1); /* slow prefill: TTFT over the limit, little queueing */
    row(&r[3], "1xtp4+4xtp1", 4, 5, 6, 3.0, 4.0, 3.5);
    mix(&r[3], 0.16, 5.0, 1.0);
    row(&r[4], "tp8", 8, 1, 6, 1.2, 30, 28);
    row(&r[5], "dp8", 1, 8, 6, 5.5, 1.8, 0.5);
    row(&r[6], "tp4dp2", 4, 2, 6, 5.9, 1.0, 0.2);
    char *t = text_of(r, 7);
    has(t, "At 2 req/s (llama-3.1-70b on gh200-quad, fp8/bf16), mixed replicas against TP=8 and DP=8: the mix wins");
    has(t, "In 1xtp4+4xtp1 the long-prompt replicas serve 16.0% of the requests (prompts over 4096 tokens), 80.0% "
           "busy, with TTFT p99 1.50s and TPOT p99 40ms; the others serve the rest, 60.0% busy, with TTFT p99 800ms "
           "and TPOT p99 50ms: both sides are within the limits");
    has(t, "At 6 req/s (llama-3.1-70b on gh200-quad, fp8/bf16), mixed replicas against TP=8 and DP=8: DP=8 wins");
    has(t, "the long-prompt side is the further over the limits");
    has(t, "so a higher threshold would move prompts to the other side");
    has(t, "Among all strategies of these GPUs, TP=4×DP=2 (least-outstanding) does better than all three"
           " (goodput 5.90 req/s, TTFT p99 1.00s)");
    has(t, "the winner by load: at 2 req/s 1xtp4+4xtp1 (length-aware>4096) (goodput 1.90 req/s); at 6 req/s DP=8 "
           "(goodput 5.50 req/s)");
    free(t);
}

/* Without a mix, the rule says nothing. */
static void test_silent_without_mix(void **state)
{
    (void)state;
    fx_row r[2];
    row(&r[0], "tp8", 8, 1, 2, 1.0, 9, 8);
    row(&r[1], "dp8", 1, 8, 2, 1.5, 2.5, 0.1);
    char *t = text_of(r, 2);
    assert_null(strstr(t, "mixed replicas"));
    assert_null(strstr(t, "Mixed replicas"));
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_who_wins_and_why),
        cmocka_unit_test(test_silent_without_mix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
