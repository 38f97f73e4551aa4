/* test_report.c -- the reader and the report on a hand-made result file.
 *
 * The file is written in the layout of docs/SWEEP.md by fixture_h5.h with
 * numbers chosen by hand, so the expected best configuration, ranks and
 * reasons follow from the numbers written here (see each row's comment). */
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

/* The recommendations of a report (recommend.h), kept until the next call or
 * rec_done(). */
static ls_recommendations *g_rec;

static void rec_done(void)
{
    ls_recommend_free(g_rec);
    g_rec = NULL;
}

static const ls_recommendations *recs_of(const ls_report *rep)
{
    rec_done();
    g_rec = ls_recommend_build(rep);
    return g_rec;
}

static void cfg(fx_row *r, const char *par, int gpus, const char *cluster, const char *dtype,
                double rate)
{
    memset(r, 0, sizeof *r);
    for (int i = 0; i < LS_METRIC_COUNT; i++)
        r->v[i] = NAN;
    snprintf(r->cfg.model, sizeof r->cfg.model, "llama-3-70b");
    snprintf(r->cfg.hardware, sizeof r->cfg.hardware, "gh200-96gb");
    snprintf(r->cfg.cluster, sizeof r->cfg.cluster, "%s", cluster);
    snprintf(r->cfg.parallelism, sizeof r->cfg.parallelism, "%s", par);
    r->cfg.n_gpus = gpus;
    snprintf(r->cfg.dtype_weights, sizeof r->cfg.dtype_weights, "%s", dtype);
    snprintf(r->cfg.dtype_kv, sizeof r->cfg.dtype_kv, "bf16");
    snprintf(r->cfg.policy, sizeof r->cfg.policy, "vllm-v1");
    snprintf(r->cfg.workload, sizeof r->cfg.workload, "synthetic");
    snprintf(r->cfg.arrival_process, sizeof r->cfg.arrival_process, "poisson");
    snprintf(r->cfg.prompt_dist, sizeof r->cfg.prompt_dist, "{dist: lognormal, mu: 8.7, sigma: 0.17}");
    snprintf(r->cfg.output_dist, sizeof r->cfg.output_dist, "{dist: constant, value: 256}");
    snprintf(r->cfg.max_batched_tokens, sizeof r->cfg.max_batched_tokens, "auto");
    r->cfg.arrival_rate = rate;
    r->cfg.arrival_cv = NAN;
    r->cfg.duration_s = 300;
    r->cfg.max_model_len = 8192;
    r->cfg.gpu_memory_utilization = 0.9;
    r->cfg.slo_ttft_s = 2;
    r->cfg.slo_tpot_s = 0.2;
}

/* A run that finished: the metrics the report reads. */
static void ok(fx_row *r, double n, double done, double goodput, double ttft99, double tpot99,
               double queue99)
{
    r->status = "ok";
    r->v[LS_M_N_REQUESTS] = n;
    r->v[LS_M_N_COMPLETED] = done;
    r->v[LS_M_SUCCESS_RATE] = done / n;
    r->v[LS_M_THROUGHPUT_RPS] = done / 300;
    r->v[LS_M_GOODPUT_RPS] = goodput;
    r->v[LS_M_SLO_ATTAINMENT] = goodput * 300 / n;
    r->v[LS_M_TTFT_P50_S] = ttft99 / 3;
    r->v[LS_M_TTFT_P99_S] = ttft99;
    r->v[LS_M_TPOT_P50_S] = tpot99 / 2;
    r->v[LS_M_TPOT_P99_S] = tpot99;
    r->v[LS_M_E2E_P99_S] = ttft99 + 255 * tpot99;
    r->v[LS_M_QUEUE_P99_S] = queue99;
    r->v[LS_M_N_REJECTED_TOO_LONG] = 0;
    r->v[LS_M_N_REJECTED_KV] = 0;
    r->v[LS_M_N_TIMEOUT] = 0;
    r->v[LS_M_N_UNFINISHED] = n - done;
    r->v[LS_M_N_PREEMPTIONS] = 0;
    r->v[LS_M_KV_BLOCKS] = 20000;
    r->v[LS_M_KV_USAGE_MAX] = 0.5;
    r->v[LS_M_MEAN_BATCH_SIZE] = 12;
    r->v[LS_M_N_GPUS] = r->cfg.n_gpus;
}

enum { N_ROWS = 9 };

static void make_rows(fx_row *rows)
{
    /* 0: TP=8 on NVL32 meets the SLO with the highest goodput (1.98) -> best */
    cfg(&rows[0], "tp8", 8, "gh200-nvl32", "bf16", 2);
    ok(&rows[0], 600, 599, 1.98, 0.8, 0.06, 0.1);
    /* 1: same on the quad nodes: TPOT 0.31 s = 5.2x the NVL32 twin -> communication-bound */
    cfg(&rows[1], "tp8", 8, "gh200-quad", "bf16", 2);
    ok(&rows[1], 600, 599, 0.4, 1.5, 0.31, 0.1);
    /* 2: TP=4xPP=2 meets it with less goodput (1.9) -> rank 2 */
    cfg(&rows[2], "tp4pp2", 8, "gh200-nvl32", "bf16", 2);
    ok(&rows[2], 600, 598, 1.9, 1.2, 0.09, 0.2);
    /* 3: one GPU in BF16: infeasible */
    cfg(&rows[3], "tp1", 1, "gh200-nvl32", "bf16", 2);
    rows[3].status = "infeasible";
    rows[3].message = "weights 141 GB > 86 GB usable";
    /* 4: one GPU in FP8 meets the SLO at 0.5 req/s per GPU -> best per GPU (0.5 > 1.98/8) */
    cfg(&rows[4], "tp1", 1, "gh200-nvl32", "fp8", 2);
    ok(&rows[4], 600, 600, 0.5, 1.9, 0.15, 0.5);
    /* 5: DP=8 in FP8: 580 of 600 rejected as never fitting in KV -> KV-bound */
    cfg(&rows[5], "dp8", 8, "gh200-nvl32", "fp8", 2);
    ok(&rows[5], 600, 20, 0.06, 0.5, 0.05, 0.1);
    rows[5].v[LS_M_N_REJECTED_KV] = 580;
    rows[5].v[LS_M_N_UNFINISHED] = 0;
    rows[5].v[LS_M_KV_BLOCKS] = 900;
    /* 6: PP=8: TTFT 9 s, of which queueing 8 s -> queueing */
    cfg(&rows[6], "pp8", 8, "gh200-nvl32", "bf16", 2);
    ok(&rows[6], 600, 599, 0.2, 9, 0.12, 8);
    /* 7: a second load level: TP=8 at 4 req/s misses through unfinished requests */
    cfg(&rows[7], "tp8", 8, "gh200-nvl32", "bf16", 4);
    ok(&rows[7], 1200, 1000, 1.0, 30, 0.08, 28);
    /* 8: not finished yet (partial sweep) */
    cfg(&rows[8], "pp8", 8, "gh200-nvl32", "bf16", 4);
}

static char path[256];

static int setup(void **state)
{
    (void)state;
    fx_row rows[N_ROWS];
    make_rows(rows);
    snprintf(path, sizeof path, "/tmp/ls_test_report_%d.h5", (int)getpid());
    return fx_write(path, rows, N_ROWS);
}

static int teardown(void **state)
{
    (void)state;
    if (getenv("LS_TEST_KEEP")) /* keep the fixture for a look: LS_TEST_KEEP=1 */
        printf("fixture kept: %s\n", path);
    else
        unlink(path);
    return 0;
}

static const ls_report_entry *find(const ls_report_group *g, int64_t id)
{
    for (size_t i = 0; i < g->n; i++)
        if (g->e[i].row->config_id == id)
            return &g->e[i];
    return NULL;
}

static void test_reader(void **state)
{
    (void)state;
    ls_results *r = NULL;
    ls_error e = {0};
    assert_int_equal(ls_results_read(path, &r, &e), LS_OK);
    assert_int_equal(r->n, N_ROWS);
    assert_int_equal(r->n_finished, N_ROWS - 1);
    assert_string_equal(r->spec_name, "fixture");
    assert_string_equal(r->rows[5].cfg.parallelism, "dp8");
    assert_string_equal(r->rows[1].cfg.cluster, "gh200-quad");
    assert_true(r->rows[0].cfg.arrival_rate == 2);
    assert_true(isnan(r->rows[0].cfg.arrival_cv));
    assert_int_equal(r->rows[3].m.status, LS_RUN_INFEASIBLE);
    assert_string_equal(r->rows[3].m.message, "weights 141 GB > 86 GB usable");
    assert_true(r->rows[5].m.v[LS_M_N_REJECTED_KV] == 580);
    /* counts written as -1 read as undefined */
    assert_true(isnan(r->rows[3].m.v[LS_M_N_REQUESTS]));
    assert_false(r->rows[8].has_result);
    assert_string_equal(r->rows[0].config_hash, "0000000000001234");
    ls_results_free(r);
}

static void test_missing_file(void **state)
{
    (void)state;
    ls_results *r = NULL;
    ls_error e = {0};
    assert_int_equal(ls_results_read("/nonexistent/x.h5", &r, &e), LS_EIO);
    assert_non_null(strstr(e.msg, "/nonexistent/x.h5"));
}

static void test_slo_parse(void **state)
{
    (void)state;
    ls_slo s;
    ls_slo_default(&s);
    assert_true(s.ttft_p99_s == 2.0 && s.tpot_p99_s == 0.2 && s.min_success == 0.99);
    ls_error e = {0};
    assert_int_equal(ls_slo_parse("ttft_p99=500ms,tpot_p99=0.05s,success=95%", &s, &e), LS_OK);
    assert_true(fabs(s.ttft_p99_s - 0.5) < 1e-12 && fabs(s.tpot_p99_s - 0.05) < 1e-12);
    assert_true(fabs(s.min_success - 0.95) < 1e-12);
    assert_int_equal(ls_slo_parse("ttft_p50=1s", &s, &e), LS_EINVAL);
    assert_non_null(strstr(e.msg, "ttft_p50"));
    assert_int_equal(ls_slo_parse("tpot_p99=3 hours", &s, &e), LS_EINVAL);
}

static void test_ranking_and_reasons(void **state)
{
    (void)state;
    ls_results *res = NULL;
    ls_report *rep = NULL;
    ls_error e = {0};
    assert_int_equal(ls_results_read(path, &res, &e), LS_OK);
    ls_report_opts o = {0};
    ls_slo_default(&o.slo);
    assert_int_equal(ls_report_build(res, &o, &rep, &e), LS_OK);
    assert_int_equal(rep->n_groups, 2); /* two load levels */
    const ls_report_group *g = &rep->groups[0];
    assert_int_equal(g->n, 7);
    assert_true(g->best >= 0);
    assert_int_equal(g->e[g->best].row->config_id, 0);
    assert_int_equal(find(g, 0)->rank_goodput, 1);
    assert_int_equal(find(g, 2)->rank_goodput, 2);
    assert_int_equal(find(g, 4)->rank_goodput, 3);
    assert_int_equal(find(g, 4)->rank_goodput_gpu, 1); /* 0.5 per GPU */
    assert_int_equal(find(g, 0)->rank_goodput_gpu, 2); /* 1.98/8 = 0.2475 */
    assert_int_equal(find(g, 1)->loss, LS_LOSS_COMM);
    assert_int_equal(find(g, 3)->loss, LS_LOSS_INFEASIBLE);
    assert_int_equal(find(g, 5)->loss, LS_LOSS_KV);
    assert_int_equal(find(g, 6)->loss, LS_LOSS_QUEUE);
    assert_int_equal(find(g, 1)->rank_goodput, 0);
    const ls_report_group *g2 = &rep->groups[1];
    assert_int_equal(g2->best, -1);
    assert_int_equal(find(g2, 7)->loss, LS_LOSS_QUEUE);
    assert_int_equal(find(g2, 8)->loss, LS_LOSS_PENDING);
    /* the recommendations name the winner with its numbers, and the reasons */
    bool best_said = false, inf_said = false, kv_said = false, comm_said = false;
    const ls_recommend_list *L = &recs_of(rep)->groups[0];
    for (size_t i = 0; i < L->n; i++) {
        const char *s = L->s[i];
        best_said |= strstr(s, "TP=8 (gh200-nvl32, bf16) is the best") && strstr(s, "1.98 req/s");
        inf_said |= strstr(s, "weights 141 GB > 86 GB usable") != NULL;
        kv_said |= strstr(s, "DP=8") && strstr(s, "900 blocks") && strstr(s, "96.7% of requests");
        comm_said |= strstr(s, "communication-bound") && strstr(s, "310ms") && strstr(s, "60ms");
    }
    assert_true(best_said);
    assert_true(inf_said);
    assert_true(kv_said);
    assert_true(comm_said);
    /* a tighter SLO changes the answer: TPOT 70 ms leaves TP=4xPP=2 (90 ms) out, and TTFT 1 s
     * leaves only TP=8 on NVL32 (0.8 s) */
    rec_done();
    ls_report_free(rep);
    assert_int_equal(ls_slo_parse("ttft_p99=1s", &o.slo, &e), LS_OK);
    assert_int_equal(ls_report_build(res, &o, &rep, &e), LS_OK);
    assert_int_equal(find(&rep->groups[0], 2)->rank_goodput, 0);
    assert_int_equal(find(&rep->groups[0], 0)->rank_goodput, 1);
    assert_int_equal(find(&rep->groups[0], 0)->rank_goodput_gpu, 1);
    rec_done();
    ls_report_free(rep);
    ls_results_free(res);
}

static void test_by_axis(void **state)
{
    (void)state;
    ls_results *res = NULL;
    ls_report *rep = NULL;
    ls_error e = {0};
    assert_int_equal(ls_results_read(path, &res, &e), LS_OK);
    const char *by[] = {"cluster"};
    ls_report_opts o = {.by = by, .n_by = 1};
    ls_slo_default(&o.slo);
    assert_int_equal(ls_report_build(res, &o, &rep, &e), LS_OK);
    assert_int_equal(rep->n_groups, 3);
    rec_done();
    ls_report_free(rep);
    const char *bad[] = {"colour"};
    o.by = bad;
    assert_int_equal(ls_report_build(res, &o, &rep, &e), LS_EINVAL);
    assert_non_null(strstr(e.msg, "colour"));
    ls_results_free(res);
}

/* Text fits in 100 columns, Markdown tables have a separator row with as many
 * cells as the header, CSV rows have as many fields as the header. */
static void test_formats(void **state)
{
    (void)state;
    ls_results *res = NULL;
    ls_report *rep = NULL;
    ls_error e = {0};
    assert_int_equal(ls_results_read(path, &res, &e), LS_OK);
    ls_report_opts o = {0};
    ls_slo_default(&o.slo);
    assert_int_equal(ls_report_build(res, &o, &rep, &e), LS_OK);
    char *buf = NULL;
    size_t len = 0;
    for (int fmt = LS_REPORT_TEXT; fmt <= LS_REPORT_CSV; fmt++) {
        FILE *f = open_memstream(&buf, &len);
        assert_int_equal(ls_report_write(rep, (ls_report_format)fmt, f, &e), LS_OK);
        fclose(f);
        if (getenv("LS_TEST_VERBOSE"))
            fputs(buf, stdout);
        char *save = NULL;
        int n_fields = -1, md_cols = -1;
        for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            if (fmt == LS_REPORT_TEXT) {
                /* count characters, not bytes (x in strategy names is 2 bytes) */
                size_t chars = 0;
                for (const char *p = line; *p; p++)
                    chars += ((unsigned char)*p & 0xC0) != 0x80;
                assert_in_range(chars, 0, 100);
            } else if (fmt == LS_REPORT_MD && line[0] == '|') {
                int cells = 0;
                for (const char *p = line; *p; p++)
                    cells += *p == '|' && (p == line || p[-1] != '\\');
                if (strstr(line, "---"))
                    assert_int_equal(cells, md_cols);
                md_cols = cells;
            } else if (fmt == LS_REPORT_CSV) {
                int fields = 1;
                bool quoted = false;
                for (const char *p = line; *p; p++) {
                    if (*p == '"')
                        quoted = !quoted;
                    else if (*p == ',' && !quoted)
                        fields++;
                }
                if (n_fields < 0)
                    n_fields = fields;
                assert_int_equal(fields, n_fields);
            }
        }
        if (fmt == LS_REPORT_CSV)
            assert_int_equal(n_fields, 4 + LS_CONFIG_COLUMN_COUNT + 2 + LS_METRIC_COUNT + 9);
        free(buf);
        buf = NULL;
    }
    rec_done();
    ls_report_free(rep);
    ls_results_free(res);
}


/* Prompts longer than max_model_len, rejected alike by every strategy: said once, with the
 * success target that compares the strategies on the rest (0.99 x 570/600 = 94.05% -> 94.0%). */
static void test_shared_too_long(void **state)
{
    (void)state;
    fx_row rows[2];
    cfg(&rows[0], "tp8", 8, "gh200-nvl32", "bf16", 2);
    ok(&rows[0], 600, 570, 1.9, 0.8, 0.06, 0.1);
    cfg(&rows[1], "tp4pp2", 8, "gh200-nvl32", "bf16", 2);
    ok(&rows[1], 600, 570, 1.8, 0.9, 0.07, 0.1);
    for (int i = 0; i < 2; i++) {
        rows[i].v[LS_M_N_REJECTED_TOO_LONG] = 30;
        rows[i].v[LS_M_N_UNFINISHED] = 0;
    }
    char p2[300];
    snprintf(p2, sizeof p2, "%s.toolong.h5", path);
    assert_int_equal(fx_write(p2, rows, 2), 0);
    ls_results *res = NULL;
    ls_report *rep = NULL;
    ls_error e = {0};
    assert_int_equal(ls_results_read(p2, &res, &e), LS_OK);
    ls_report_opts o = {0};
    ls_slo_default(&o.slo);
    assert_int_equal(ls_report_build(res, &o, &rep, &e), LS_OK);
    const ls_report_group *g = &rep->groups[0];
    assert_int_equal(g->best, -1);
    assert_int_equal(g->e[0].loss, LS_LOSS_TOO_LONG);
    bool said = false;
    size_t n_too_long = 0;
    const ls_recommend_list *L = &recs_of(rep)->groups[0];
    for (size_t i = 0; i < L->n; i++) {
        said |= strstr(L->s[i], "Every configuration rejects 30 of 600") &&
                strstr(L->s[i], "--slo success=94.0%");
        n_too_long += strstr(L->s[i], "longer than max_model_len") != NULL;
    }
    assert_true(said);
    assert_int_equal(n_too_long, 0); /* not repeated per strategy */
    rec_done();
    ls_report_free(rep);
    assert_int_equal(ls_slo_parse("success=94%", &o.slo, &e), LS_OK);
    assert_int_equal(ls_report_build(res, &o, &rep, &e), LS_OK);
    assert_int_equal(rep->groups[0].e[rep->groups[0].best].row->config_id, 0);
    rec_done();
    ls_report_free(rep);
    ls_results_free(res);
    unlink(p2);
}

/* A sweep that has just started: configurations, no result yet. Every format still prints. */
static void test_nothing_finished(void **state)
{
    (void)state;
    fx_row rows[2];
    cfg(&rows[0], "tp8", 8, "gh200-nvl32", "bf16", 2);
    cfg(&rows[1], "tp1", 1, "gh200-nvl32", "bf16", 2);
    char p2[300];
    snprintf(p2, sizeof p2, "%s.empty.h5", path);
    assert_int_equal(fx_write(p2, rows, 2), 0);
    ls_results *res = NULL;
    ls_report *rep = NULL;
    ls_error e = {0};
    assert_int_equal(ls_results_read(p2, &res, &e), LS_OK);
    assert_int_equal(res->n, 2);
    assert_int_equal(res->n_finished, 0);
    ls_report_opts o = {0};
    ls_slo_default(&o.slo);
    assert_int_equal(ls_report_build(res, &o, &rep, &e), LS_OK);
    assert_int_equal(rep->groups[0].best, -1);
    assert_int_equal(rep->groups[0].e[0].loss, LS_LOSS_PENDING);
    for (int fmt = LS_REPORT_TEXT; fmt <= LS_REPORT_CSV; fmt++) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        assert_int_equal(ls_report_write(rep, (ls_report_format)fmt, f, &e), LS_OK);
        fclose(f);
        assert_true(len > 0);
        if (fmt == LS_REPORT_TEXT)
            assert_non_null(strstr(buf, "pending"));
        free(buf);
    }
    rec_done();
    ls_report_free(rep);
    ls_results_free(res);
    unlink(p2);
}

/* One capacity per configuration. A file written before capacity search
 * stopped depending on the listed rate holds 6.00 for TP=8 listed at 2 req/s
 * (config 0) and 6.22 for the same configuration listed at 4 req/s (config
 * 1). The report picks ONE value by one rule (the listing with the lowest
 * config_id: 6.00) and the table, the summary sentence and the CSV all show
 * it; the 6.22 appears nowhere. */
/* The report (default SLO) of rows[0..n) written to a scratch file and read back; *res too. */
static ls_report *report_of(const fx_row *rows, size_t n, ls_results **res)
{
    char p2[300];
    snprintf(p2, sizeof p2, "%s.rows.h5", path);
    assert_int_equal(fx_write(p2, rows, n), 0);
    ls_report *rep = NULL;
    ls_error e = {0};
    assert_int_equal(ls_results_read(p2, res, &e), LS_OK);
    unlink(p2);
    ls_report_opts o = {0};
    ls_slo_default(&o.slo);
    assert_int_equal(ls_report_build(*res, &o, &rep, &e), LS_OK);
    return rep;
}

/* The report in format fmt (caller frees). */
static char *written(const ls_report *rep, ls_report_format fmt)
{
    char *buf = NULL;
    size_t len = 0;
    ls_error e = {0};
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(ls_report_write(rep, fmt, f, &e), LS_OK);
    fclose(f);
    return buf;
}

static void test_one_capacity_per_config(void **state)
{
    (void)state;
    fx_row rows[3];
    cfg(&rows[0], "tp8", 8, "gh200-nvl32", "bf16", 2);
    ok(&rows[0], 600, 599, 1.98, 0.8, 0.06, 0.1);
    rows[0].v[LS_M_CAPACITY_RPS] = 6.0;
    cfg(&rows[1], "tp8", 8, "gh200-nvl32", "bf16", 4);
    ok(&rows[1], 1200, 1199, 3.9, 0.9, 0.07, 0.1);
    rows[1].v[LS_M_CAPACITY_RPS] = 6.21875;
    cfg(&rows[2], "tp4pp2", 8, "gh200-nvl32", "bf16", 2);
    ok(&rows[2], 600, 598, 1.9, 1.2, 0.09, 0.2);
    rows[2].v[LS_M_CAPACITY_RPS] = 3.0;
    ls_results *res = NULL;
    ls_report *rep = report_of(rows, 3, &res);
    assert_int_equal(rep->n_groups, 2);
    const ls_report_entry *a = find(&rep->groups[0], 0), *b = find(&rep->groups[1], 1);
    assert_non_null(a);
    assert_non_null(b);
    assert_true(a->capacity == 6.0 && b->capacity == 6.0);
    assert_true(a->capacity_rep);
    assert_false(b->capacity_rep);
    assert_true(find(&rep->groups[0], 2)->capacity_rep);
    /* the lead (capacity per GPU by model) names the one value */
    bool top_said = false;
    const ls_recommend_list *lead = &recs_of(rep)->lead;
    for (size_t i = 0; i < lead->n; i++) {
        top_said |= strstr(lead->s[i], "0.75 req/s per GPU (6.00 req/s on 8 GPUs)") != NULL;
        assert_null(strstr(lead->s[i], "6.22"));
    }
    assert_true(top_said);
    for (int fmt = LS_REPORT_TEXT; fmt <= LS_REPORT_CSV; fmt++) {
        char *buf = written(rep, (ls_report_format)fmt);
        assert_null(strstr(buf, fmt == LS_REPORT_CSV ? "6.21875" : "6.22"));
        if (fmt != LS_REPORT_CSV) {
            assert_non_null(strstr(buf, "6.00"));
        } else {
            assert_non_null(strstr(buf, ",0.75,")); /* capacity per GPU of both TP=8 rows: 6/8 */
        }
        free(buf);
    }
    rec_done();
    ls_report_free(rep);
    ls_results_free(res);
}

/* A capacity of 0 is "<R", R the rate its search missed the SLO at (capacity_fail_rps, e.g.
 * the search's floor): in the capacity table per configuration and per GPU, R never printed
 * below itself; every listing of the configuration carries R in the CSV; a capacity above 0
 * is shown as before. */
static void test_capacity_below(void **state)
{
    (void)state;
    fx_row rows[4];
    cfg(&rows[0], "tp8", 8, "gh200-nvl32", "bf16", 2);
    ok(&rows[0], 600, 500, 0.5, 9, 0.3, 8);
    rows[0].v[LS_M_CAPACITY_RPS] = 0;
    rows[0].v[LS_M_CAPACITY_FAIL_RPS] = 0.3125; /* a floor of 5/16: "0.312" would claim too much */
    cfg(&rows[1], "tp8", 8, "gh200-nvl32", "bf16", 4); /* the same configuration, not searched */
    ok(&rows[1], 1200, 900, 0.5, 19, 0.4, 18);
    cfg(&rows[2], "tp3", 3, "gh200-nvl32", "bf16", 2);
    ok(&rows[2], 600, 500, 0.5, 9, 0.3, 8);
    rows[2].v[LS_M_CAPACITY_RPS] = 0;
    rows[2].v[LS_M_CAPACITY_FAIL_RPS] = 1; /* per GPU 1/3: rounded up, "<0.334" */
    cfg(&rows[3], "tp2", 2, "gh200-nvl32", "bf16", 2);
    ok(&rows[3], 600, 599, 1.98, 0.8, 0.06, 0.1);
    rows[3].v[LS_M_CAPACITY_RPS] = 5;
    rows[3].v[LS_M_CAPACITY_FAIL_RPS] = 5.25;
    ls_results *res = NULL;
    ls_report *rep = report_of(rows, 4, &res);
    for (int fmt = LS_REPORT_TEXT; fmt <= LS_REPORT_CSV; fmt++) {
        char *buf = written(rep, (ls_report_format)fmt);
        if (fmt != LS_REPORT_CSV) {
            assert_non_null(strstr(buf, "<0.3125"));
            assert_non_null(strstr(buf, "<0.0391")); /* 0.3125 / 8 = 0.0390625 */
            assert_non_null(strstr(buf, "<1 "));
            assert_non_null(strstr(buf, "<0.334"));
            assert_null(strstr(buf, "<0.312 "));
            assert_null(strstr(buf, "<0.333"));
            assert_null(strstr(buf, "<5")); /* a capacity found is a number */
            assert_non_null(strstr(buf, "5.00"));
        } else {
            /* capacity_fail_rps right after capacity_rps: both listings of tp8 carry it */
            const char *s = buf;
            int n = 0;
            while ((s = strstr(s, ",0,0.3125,")))
                n++, s++;
            assert_int_equal(n, 2);
        }
        free(buf);
    }
    ls_report_free(rep);
    ls_results_free(res);
}

/* Build the report of rows[0..n) written to a scratch file; returns the
 * group-0 recommendation containing `needle` (NULL when none), and the text
 * report in *text (caller frees). */
static const char *axis_sentence(const fx_row *rows, size_t n, const char *needle, char **text,
                                 ls_results **res, ls_report **rep)
{
    char p2[300];
    snprintf(p2, sizeof p2, "%s.axis.h5", path);
    assert_int_equal(fx_write(p2, rows, n), 0);
    ls_error e = {0};
    assert_int_equal(ls_results_read(p2, res, &e), LS_OK);
    unlink(p2);
    ls_report_opts o = {0};
    ls_slo_default(&o.slo);
    assert_int_equal(ls_report_build(*res, &o, rep, &e), LS_OK);
    size_t len = 0;
    FILE *f = open_memstream(text, &len);
    assert_int_equal(ls_report_write(*rep, LS_REPORT_TEXT, f, &e), LS_OK);
    fclose(f);
    const ls_recommend_list *L = &recs_of(*rep)->groups[0];
    for (size_t i = 0; i < L->n; i++)
        if (strstr(L->s[i], needle))
            return L->s[i];
    return NULL;
}

/* "The answer changes with cluster" must not rest on a difference inside the
 * report's own 1% goodput tie. Four rows at one load, goodputs by hand:
 * NVL32: TP=8 0.970 (TTFT 0.50 s), TP=4xPP=2 0.968 (0.54 s);
 * quad:  TP=8 0.966 (0.90 s),      TP=4xPP=2 0.970 (0.60 s).
 * All four are within 1% (0.970 * 0.99 = 0.9603), so ranking is by TTFT p99
 * and the tie-break picks TP=8 on NVL32 but TP=4xPP=2 on quad; yet both
 * strategies are within 1% of the best on both clusters, so the answer does
 * NOT change within the tie. Then TP=8 on quad drops to 0.90 and TP=4xPP=2 on
 * NVL32 to 0.90 (both outside 1%): now the answer does change. */
static void test_axis_answer_within_tie(void **state)
{
    (void)state;
    fx_row rows[4];
    cfg(&rows[0], "tp8", 8, "gh200-nvl32", "bf16", 1);
    ok(&rows[0], 300, 300, 0.970, 0.50, 0.05, 0.1);
    cfg(&rows[1], "tp4pp2", 8, "gh200-nvl32", "bf16", 1);
    ok(&rows[1], 300, 300, 0.968, 0.54, 0.05, 0.1);
    cfg(&rows[2], "tp8", 8, "gh200-quad", "bf16", 1);
    ok(&rows[2], 300, 300, 0.966, 0.90, 0.05, 0.1);
    cfg(&rows[3], "tp4pp2", 8, "gh200-quad", "bf16", 1);
    ok(&rows[3], 300, 300, 0.970, 0.60, 0.05, 0.1);
    ls_results *res = NULL;
    ls_report *rep = NULL;
    char *text = NULL;
    const char *s = axis_sentence(rows, 4, "does not change with cluster", &text, &res, &rep);
    assert_non_null(s);
    assert_null(strstr(text, "answer changes"));
    assert_non_null(strstr(s, "Within the 1% goodput tie"));
    assert_non_null(strstr(s, "TP=8 and TP=4×PP=2 are within 1%"));
    /* the "Ranked by goodput" line says the order is not plain goodput order */
    assert_non_null(strstr(text, "Ranked by goodput (req/s; goodputs within 1% are a tie, broken by"));
    free(text);
    rec_done();
    ls_report_free(rep);
    ls_results_free(res);

    rows[2].v[LS_M_GOODPUT_RPS] = 0.90;
    rows[1].v[LS_M_GOODPUT_RPS] = 0.90;
    s = axis_sentence(rows, 4, "The answer changes with cluster", &text, &res, &rep);
    assert_non_null(s);
    assert_non_null(strstr(s, "on gh200-nvl32: TP=8"));
    assert_non_null(strstr(s, "on gh200-quad: TP=4×PP=2"));
    free(text);
    rec_done();
    ls_report_free(rep);
    ls_results_free(res);
}


/* The caching rule (analysis/recommend_cache.c) on hand-made rows at 2 req/s:
 * TP=8 without caching 1.00 req/s, with it 1.98 (+98%); DP=8 without caching
 * misses the SLO (TTFT 9 s) at 0.50, with it 1.50, with it and a Grace tier
 * 1.90; TP=8 with the tier 1.98. Caching keeps TP=8 best and helps DP=8 most
 * (+1.00 req/s against TP=8's +0.98); the tier keeps TP=8 best (+0%) and
 * helps DP=8 most (1.50 -> 1.90, +27%). Then TP=8 with caching drops to 1.20:
 * caching changes the best strategy to DP=8 (1.50, +50% over TP=8's 1.00),
 * outside the 1% tie. */
static void cache_row(fx_row *r, const char *par, int caching, const char *tier, double goodput, double ttft)
{
    cfg(r, par, 8, "gh200-quad", "fp8", 2);
    r->cfg.enable_prefix_caching = caching;
    snprintf(r->cfg.kv_offload, sizeof r->cfg.kv_offload, "%s", tier);
    ok(r, 600, 600, goodput, ttft, 0.05, ttft / 2);
}

static void test_cache_rule(void **state)
{
    (void)state;
    fx_row rows[6];
    cache_row(&rows[0], "tp8", 0, "none", 1.00, 1.5);
    cache_row(&rows[1], "tp8", 1, "none", 1.98, 0.6);
    cache_row(&rows[2], "dp8", 0, "none", 0.50, 9.0);
    cache_row(&rows[3], "dp8", 1, "none", 1.50, 1.2);
    cache_row(&rows[4], "dp8", 1, "grace 100 c2c", 1.90, 1.0);
    cache_row(&rows[5], "tp8", 1, "grace 100 c2c", 1.98, 0.6);
    ls_results *res = NULL;
    ls_report *rep = NULL;
    char *text = NULL;
    const char *s = axis_sentence(rows, 6, "Prefix caching does not change the best strategy", &text, &res, &rep);
    assert_non_null(s);
    assert_non_null(strstr(s, "at 2 req/s: TP=8 stays best, its goodput 1.00 → 1.98 req/s (+98%)"));
    assert_non_null(strstr(s, "It helps DP=8 most: goodput 0.50 → 1.50 req/s (+200%)"));
    free(text);
    rec_done();
    ls_report_free(rep);
    ls_results_free(res);
    s = axis_sentence(rows, 6, "A host KV tier (kv_offload grace 100 c2c) on top of prefix caching", &text, &res,
                      &rep);
    assert_non_null(s);
    assert_non_null(strstr(s, "does not change the best strategy at 2 req/s: TP=8 stays best, its goodput 1.98 → "
                              "1.98 req/s (+0%)"));
    assert_non_null(strstr(s, "It helps DP=8 most: goodput 1.50 → 1.90 req/s (+27%)"));
    free(text);
    rec_done();
    ls_report_free(rep);
    ls_results_free(res);

    rows[1].v[LS_M_GOODPUT_RPS] = 1.20;
    s = axis_sentence(rows, 6, "Prefix caching changes the best strategy at 2 req/s", &text, &res, &rep);
    assert_non_null(s);
    assert_non_null(strstr(s, "without it it is TP=8, goodput 1.00 req/s"));
    assert_non_null(strstr(s, "with it DP=8, goodput 1.50 req/s (+50%)"));
    free(text);
    rec_done();
    ls_report_free(rep);
    ls_results_free(res);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reader),        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_slo_parse),     cmocka_unit_test(test_ranking_and_reasons),
        cmocka_unit_test(test_by_axis),       cmocka_unit_test(test_formats),
        cmocka_unit_test(test_shared_too_long), cmocka_unit_test(test_nothing_finished),
        cmocka_unit_test(test_one_capacity_per_config),
        cmocka_unit_test(test_capacity_below),
        cmocka_unit_test(test_axis_answer_within_tie),
        cmocka_unit_test(test_cache_rule),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
