/* test_spec_report.c -- speculative rows against their baselines in the report,
 * on a hand-made result file (fixture_h5.h) whose TPOTs are chosen by hand:
 *
 *   rate  TPOT mean without  with eagle k3   gain
 *   1     20 ms              10 ms           2.00
 *   2     30 ms              25 ms           1.20
 *   4     60 ms              80 ms           0.75
 *
 * so the gain falls through 1 between 2 and 4 req/s, at
 * 2 + (1.2 - 1) / (1.2 - 0.75) * (4 - 2) = 2.889 req/s (linear in the rate).
 * A second speculative variant (k1) gains at every rate; a third strategy has
 * speculative rows but no baseline, and must not be paired. */
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
#include "report_internal.h"
#include "spec_gain.h"
#include "spec_report.h"

static void cfg(fx_row *r, const char *par, const char *spec, double rate)
{
    memset(r, 0, sizeof *r);
    for (int i = 0; i < LS_METRIC_COUNT; i++)
        r->v[i] = NAN;
    snprintf(r->cfg.model, sizeof r->cfg.model, "llama-3-8b");
    snprintf(r->cfg.hardware, sizeof r->cfg.hardware, "h100-sxm");
    snprintf(r->cfg.parallelism, sizeof r->cfg.parallelism, "%s", par);
    r->cfg.n_gpus = 1;
    snprintf(r->cfg.policy, sizeof r->cfg.policy, "vllm-v1");
    snprintf(r->cfg.workload, sizeof r->cfg.workload, "synthetic");
    snprintf(r->cfg.arrival_process, sizeof r->cfg.arrival_process, "poisson");
    snprintf(r->cfg.speculative, sizeof r->cfg.speculative, "%s", spec);
    r->cfg.arrival_rate = rate;
    r->cfg.arrival_cv = NAN;
    r->cfg.duration_s = 60;
    r->cfg.slo_ttft_s = 2;
    r->cfg.slo_tpot_s = 0.2;
}

static void ok(fx_row *r, double tpot_mean, double ttft_mean, double tps, double batch)
{
    r->status = "ok";
    r->v[LS_M_N_REQUESTS] = r->v[LS_M_N_COMPLETED] = 100;
    r->v[LS_M_SUCCESS_RATE] = 1;
    r->v[LS_M_GOODPUT_RPS] = r->v[LS_M_THROUGHPUT_RPS] = r->cfg.arrival_rate;
    r->v[LS_M_TPOT_MEAN_S] = tpot_mean;
    r->v[LS_M_TPOT_P99_S] = 1.5 * tpot_mean;
    r->v[LS_M_TTFT_MEAN_S] = ttft_mean;
    r->v[LS_M_TTFT_P99_S] = 2 * ttft_mean;
    r->v[LS_M_OUTPUT_TPS] = tps;
    r->v[LS_M_MEAN_BATCH_SIZE] = batch;
    r->v[LS_M_MFU_MEAN] = batch / 100;
    r->v[LS_M_N_GPUS] = 1;
    if (strcmp(r->cfg.speculative, "none"))
        r->v[LS_M_SPEC_MEAN_ACCEPTED_TOKENS] = 2.53;
}

enum { N_ROWS = 11 };
static char path[256];

static int setup(void **state)
{
    (void)state;
    fx_row rows[N_ROWS];
    static const double rate[3] = {1, 2, 4}, base[3] = {0.020, 0.030, 0.060}, spec[3] = {0.010, 0.025, 0.080},
                        k1[3] = {0.015, 0.025, 0.050};
    int n = 0;
    for (int i = 0; i < 3; i++) {
        cfg(&rows[n], "tp1", "none", rate[i]);
        ok(&rows[n++], base[i], 0.1 * (i + 1), 1000 * rate[i], 2 * (i + 1) * (i + 1));
        cfg(&rows[n], "tp1", "eagle k3 a0.7", rate[i]);
        ok(&rows[n++], spec[i], 0.1 * (i + 1), 1000 * rate[i] * (i == 2 ? 0.9 : 1), 2 * (i + 1));
        cfg(&rows[n], "tp1", "eagle k1 a0.7", rate[i]);
        ok(&rows[n++], k1[i], 0.08 * (i + 1), 1000 * rate[i], 2 * (i + 1));
    }
    /* tp2: speculative rows only, no baseline in the file */
    cfg(&rows[n], "tp2", "eagle k3 a0.7", 1);
    ok(&rows[n++], 0.01, 0.1, 1000, 2);
    cfg(&rows[n], "tp2", "eagle k3 a0.7", 4);
    ok(&rows[n++], 0.05, 0.1, 4000, 8);
    assert_int_equal(n, N_ROWS);
    snprintf(path, sizeof path, "/tmp/ls_test_spec_report_%d.h5", (int)getpid());
    return fx_write(path, rows, N_ROWS);
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    return 0;
}

static void test_crossover_rule(void **state)
{
    (void)state;
    double at;
    const double r[3] = {1, 2, 4};
    assert_int_equal(ls_spec_crossover(r, (double[]){2.0, 1.2, 0.75}, 3, &at), 1);
    assert_true(fabs(at - (2 + 0.2 / 0.45 * 2)) < 1e-12);
    assert_int_equal(ls_spec_crossover(r, (double[]){2.0, 0.5, 0.4}, 3, &at), 0);
    assert_true(fabs(at - (1 + 1.0 / 1.5)) < 1e-12);
    assert_int_equal(ls_spec_crossover(r, (double[]){1.5, 1.2, 1.1}, 3, &at), -1); /* always pays */
    assert_true(isnan(at));
    assert_int_equal(ls_spec_crossover(r, (double[]){0.9, 0.8, 0.7}, 3, &at), -1); /* never pays */
    assert_int_equal(ls_spec_crossover(r, (double[]){1.0, 0.99}, 2, &at), 0);       /* 1 exactly: pays */
    assert_true(fabs(at - 1) < 1e-12);
}

static void test_gain_fill(void **state)
{
    (void)state;
    ls_metrics b, s;
    ls_metrics_init(&b);
    ls_metrics_init(&s);
    b.v[LS_M_TPOT_MEAN_S] = 0.03, s.v[LS_M_TPOT_MEAN_S] = 0.01;
    b.v[LS_M_TTFT_MEAN_S] = 0.2, s.v[LS_M_TTFT_MEAN_S] = 0.25;
    b.v[LS_M_OUTPUT_TPS] = 100, s.v[LS_M_OUTPUT_TPS] = 90;
    ls_spec_gain_fill(&b, &s);
    assert_true(fabs(s.v[LS_M_SPEC_TPOT_GAIN] - 3) < 1e-12);
    assert_true(fabs(s.v[LS_M_SPEC_TTFT_GAIN] - 0.8) < 1e-12);
    assert_true(fabs(s.v[LS_M_SPEC_THROUGHPUT_GAIN] - 0.9) < 1e-12);
    b.status = LS_RUN_INFEASIBLE;
    ls_spec_gain_fill(&b, &s);
    assert_true(isnan(s.v[LS_M_SPEC_TPOT_GAIN]));
    ls_spec_gain_fill(NULL, &s);
    assert_true(isnan(s.v[LS_M_SPEC_THROUGHPUT_GAIN]));
}

static char *report_text(const ls_report *rep, ls_report_format fmt)
{
    char *buf = NULL;
    size_t len = 0;
    ls_error e = {0};
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(ls_report_write(rep, fmt, f, &e), LS_OK);
    fclose(f);
    if (getenv("LS_TEST_VERBOSE"))
        fputs(buf, stdout);
    return buf;
}

/* Split a CSV line in place (quoted fields with "" escapes). */
static void split_csv(char *line, char **f, int max)
{
    char *w = line;
    for (int k = 0; k < max && line; k++) {
        f[k] = w;
        bool q = *line == '"';
        if (q)
            line++;
        while (*line && (q || *line != ',')) {
            if (q && *line == '"') {
                if (line[1] == '"')
                    line++;
                else {
                    q = false;
                    line++;
                    continue;
                }
            }
            *w++ = *line++;
        }
        bool more = *line == ',';
        *w++ = '\0';
        line = more ? line + 1 : NULL;
        w = line;
    }
}

static void test_pairs_and_series(void **state)
{
    (void)state;
    ls_results *res = NULL;
    ls_report *rep = NULL;
    ls_error e = {0};
    assert_int_equal(ls_results_read(path, &res, &e), LS_OK);
    ls_report_opts o = {0};
    ls_slo_default(&o.slo);
    assert_int_equal(ls_report_build(res, &o, &rep, &e), LS_OK);
    /* every row: a baseline exactly for the tp1 speculative rows, the gain from it */
    int paired = 0;
    for (size_t g = 0; g < rep->n_groups; g++)
        for (size_t i = 0; i < rep->groups[g].n; i++) {
            const ls_report_entry *x = &rep->groups[g].e[i];
            const ls_config_row *c = &x->row->cfg;
            bool want = !strcmp(c->parallelism, "tp1") && strcmp(c->speculative, "none");
            assert_int_equal(x->baseline != NULL, want);
            if (!want)
                continue;
            paired++;
            assert_string_equal(x->baseline->row->cfg.speculative, "none");
            assert_true(x->baseline->row->cfg.arrival_rate == c->arrival_rate);
            double g_want = x->baseline->row->m.v[LS_M_TPOT_MEAN_S] / x->row->m.v[LS_M_TPOT_MEAN_S];
            assert_true(fabs(ls_report_v(x, LS_M_SPEC_TPOT_GAIN) - g_want) < 1e-12);
        }
    assert_int_equal(paired, 6);

    ls_spec_study *st = ls_spec_study_build(rep);
    assert_int_equal(st->n, 2); /* k3 and k1 of tp1; tp2 has no baseline */
    const ls_spec_series *k3 = &st->s[0], *k1 = &st->s[1];
    assert_string_equal(k3->p[0].x->row->cfg.speculative, "eagle k3 a0.7");
    assert_int_equal(k3->n, 3);
    /* the known shape: a gain at low load, a loss at high load */
    assert_true(k3->p[0].gain > 1 && fabs(k3->p[0].gain - 2.0) < 1e-12);
    assert_true(k3->p[2].gain < 1 && fabs(k3->p[2].gain - 0.75) < 1e-12);
    assert_int_equal(k3->cross, 1);
    assert_true(k3->crossover_rps > 2 && k3->crossover_rps < 4);
    assert_true(fabs(k3->crossover_rps - (2 + 0.2 / 0.45 * 2)) < 1e-9);
    assert_int_equal(k1->cross, -1); /* 1.33, 1.2, 1.2: pays at every listed rate */
    assert_true(isnan(k1->crossover_rps));
    ls_spec_study_free(st);

    /* the text names the crossover and the two rates that bracket it */
    char *t = report_text(rep, LS_REPORT_TEXT);
    assert_non_null(strstr(t, "Speculative decoding: each speculative configuration"));
    const char *s = strstr(t, "TP=1 (eagle k3 a0.7): TPOT gain 2.00x at 1 req/s, 1.20x at 2 req/s, 0.75x at 4 req/s");
    assert_non_null(s);
    assert_non_null(strstr(s, "Speculation wins below about 2.89 req/s"));
    assert_non_null(strstr(s, "between 2 and 4 req/s"));
    assert_non_null(strstr(t, "TP=1 (eagle k1 a0.7): TPOT gain 1.33x at 1 req/s"));
    assert_non_null(strstr(t, "it wins at every listed load up to 4 req/s"));
    assert_null(strstr(t, "TP=2 (eagle k3 a0.7): TPOT gain"));
    free(t);
    t = report_text(rep, LS_REPORT_MD);
    assert_non_null(strstr(t, "## Speculative decoding"));
    free(t);
    /* CSV: the gain columns, derived for the paired rows, empty for the others */
    t = report_text(rep, LS_REPORT_CSV);
    char *save = NULL, *hdr = strtok_r(t, "\n", &save);
    int col = -1, spec_col = -1, n = 0;
    for (char *p = hdr, *q; p; p = q ? q + 1 : NULL, n++) {
        q = strchr(p, ',');
        size_t w = q ? (size_t)(q - p) : strlen(p);
        if (w == strlen("spec_tpot_gain") && !strncmp(p, "spec_tpot_gain", w))
            col = n;
        if (w == strlen("speculative") && !strncmp(p, "speculative", w))
            spec_col = n;
    }
    assert_true(col > 0 && spec_col > 0);
    int filled = 0;
    for (char *line = strtok_r(NULL, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *f[256] = {0};
        split_csv(line, f, 256);
        if (f[col][0]) {
            filled++;
            assert_string_not_equal(f[spec_col], "none");
        }
    }
    assert_int_equal(filled, 6);
    free(t);
    ls_report_free(rep);

    /* --by speculative: the pairs cross groups, and the section still names each series */
    const char *by[] = {"speculative"};
    ls_report_opts ob = {.by = by, .n_by = 1};
    ls_slo_default(&ob.slo);
    assert_int_equal(ls_report_build(res, &ob, &rep, &e), LS_OK);
    t = report_text(rep, LS_REPORT_TEXT);
    s = strstr(t, "TP=1 with eagle k3 a0.7: TPOT gain 2.00x at 1 req/s");
    assert_non_null(s);
    assert_non_null(strstr(s, "between 2 and 4 req/s"));
    assert_non_null(strstr(t, "tp1      eagle k3 a0.7     4"));
    free(t);
    ls_report_free(rep);
    ls_results_free(res);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crossover_rule),
        cmocka_unit_test(test_gain_fill),
        cmocka_unit_test(test_pairs_and_series),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
