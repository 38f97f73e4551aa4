/* test_cost_table.c -- the table cost model: exact at grid points, bilinear
 * between them, the documented rules outside the grid, mixed batches, PP, and
 * errors naming file:line. Expected values are hand arithmetic on
 * tests/fixtures/cost_table_small.csv. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cost.h"

/* Llama-3-70B-like shapes; only the flops/bytes estimates use them. */
static const ls_model model = {.name = "m", .layers = 80, .hidden = 8192, .heads = 64, .kv_heads = 8,
                               .head_dim = 128, .ffn = 28672, .vocab = 128256, .max_context = 8192,
                               .experts = 1, .top_k = 1};
static const ls_gpu gpu = {.name = "g", .mem_bytes = 80e9, .hbm_bw = 3.35e12, .flops_bf16 = 989e12,
                           .flops_fp8 = 1979e12};

static char fixture[1024];

static ls_deploy deploy(int tp, int pp)
{
    ls_deploy d = {.model = &model, .gpu = &gpu, .cluster = NULL, .tp = tp, .pp = pp,
                   .w_dtype = LS_DTYPE_FP8, .kv_dtype = LS_DTYPE_FP8, .first_gpu = 0};
    return d;
}

static ls_cost_model *open_table(int tp, int pp)
{
    ls_deploy d = deploy(tp, pp);
    ls_cost_model *cm = NULL;
    ls_error e;
    ls_status rc = ls_cost_table_new(&d, fixture, &cm, &e);
    if (rc)
        fail_msg("%s", e.msg);
    return cm;
}

/* One prefill chunk of q tokens onto c cached ones. */
static ls_batch_agg prefill(double q, double c)
{
    ls_batch_agg b = {.tokens = (int64_t)q, .n_seqs = 1, .n_decode = 0, .n_sample = 1,
                      .sum_qc = q * c, .sum_q2 = q * q, .sum_c = c};
    return b;
}

/* n decodes, each on c cached tokens. */
static ls_batch_agg decode(double n, double c)
{
    ls_batch_agg b = {.tokens = (int64_t)n, .n_seqs = (int64_t)n, .n_decode = (int64_t)n,
                      .n_sample = (int64_t)n, .sum_qc = n * c, .sum_q2 = n, .sum_c = n * c};
    return b;
}

static double total(const ls_cost_model *cm, const ls_batch_agg *b)
{
    ls_iter_cost c;
    ls_cost_iteration(cm, b, &c);
    double t = c.transfer_s + c.overhead_s;
    for (int s = 0; s < cm->d.pp; s++)
        t += c.stage_s[s];
    return t;
}

#define NEAR(x, y) assert_true(fabs((x) - (y)) < 1e-12)


static void test_exact_at_grid_points(void **state)
{
    (void)state;
    ls_cost_model *cm = open_table(2, 1);
    ls_batch_agg b;
    b = prefill(128, 0), NEAR(total(cm, &b), 0.020);
    b = prefill(512, 0), NEAR(total(cm, &b), 0.060);
    b = prefill(128, 1024), NEAR(total(cm, &b), 0.030);
    b = prefill(512, 1024), NEAR(total(cm, &b), 0.100);
    b = decode(1, 512), NEAR(total(cm, &b), 0.010);
    b = decode(64, 2048), NEAR(total(cm, &b), 0.022);
    b = decode(64, 512), NEAR(total(cm, &b), 0.014);
    ls_cost_free(cm);
}

static void test_interpolation(void **state)
{
    (void)state;
    ls_cost_model *cm = open_table(2, 1);
    ls_batch_agg b;
    /* centre of the prefill cell: mean of its four corners */
    b = prefill(320, 512), NEAR(total(cm, &b), (0.020 + 0.030 + 0.060 + 0.100) / 4);
    /* halfway along context at batch 64 */
    b = decode(64, 1280), NEAR(total(cm, &b), 0.018);
    /* a quarter along tokens at context 0: 0.020 + (0.060-0.020)/4 */
    b = prefill(224, 0), NEAR(total(cm, &b), 0.030);
    ls_cost_free(cm);
}

static void test_outside_the_grid(void **state)
{
    (void)state;
    ls_cost_model *cm = open_table(2, 1);
    ls_batch_agg b;
    b = prefill(64, 0), NEAR(total(cm, &b), 0.020);      /* fewer tokens: clamped */
    b = decode(1, 100), NEAR(total(cm, &b), 0.010);      /* shorter context: clamped */
    b = decode(128, 512), NEAR(total(cm, &b), 0.028);    /* twice the largest batch: twice the time */
    b = decode(1, 3584), NEAR(total(cm, &b), 0.012);     /* last context slope: 0.001 per 1536 tokens */
    b = prefill(1024, 2048), NEAR(total(cm, &b), 0.280); /* 2 x (0.100 + 0.040) */
    ls_cost_free(cm);
    /* tp=1 has one context column: constant along context */
    cm = open_table(1, 1);
    b = decode(12, 99999), NEAR(total(cm, &b), 0.022);
    b = prefill(128, 5000), NEAR(total(cm, &b), 0.050);
    ls_cost_free(cm);
}

static void test_mixed_batch_and_pp(void **state)
{
    (void)state;
    ls_cost_model *cm = open_table(2, 1);
    /* a 128-token first chunk (no cache) beside 64 decodes at context 512 */
    ls_batch_agg b = {.tokens = 192, .n_seqs = 65, .n_decode = 64, .n_sample = 64,
                      .sum_qc = 64 * 512.0, .sum_q2 = 128 * 128.0 + 64, .sum_c = 64 * 512.0};
    NEAR(total(cm, &b), 0.020 + 0.014);
    /* a later 128-token chunk on 1024 cached beside the same decodes */
    b.sum_qc = 64 * 512.0 + 128 * 1024.0;
    b.sum_c = 64 * 512.0 + 1024.0;
    NEAR(total(cm, &b), 0.030 + 0.014);
    ls_iter_cost c;
    ls_cost_iteration(cm, &b, &c);
    assert_true(c.flops > 0 && c.bytes > 0);
    assert_true(c.overhead_s == 0 && c.transfer_s == 0);
    ls_cost_free(cm);
    /* PP=2 splits the measured time evenly */
    cm = open_table(2, 2);
    ls_batch_agg p = prefill(512, 0);
    ls_cost_iteration(cm, &p, &c);
    NEAR(c.stage_s[0], 0.030);
    NEAR(c.stage_s[1], 0.030);
    ls_cost_free(cm);
}

/* Write `text` to a temporary CSV, try to open it, return the status and message. */
static ls_status try_text(const char *text, int tp, char *msg, char *path)
{
    strcpy(path, "/tmp/ls_cost_table_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
    ls_deploy d = deploy(tp, 1);
    ls_cost_model *cm = NULL;
    ls_error e;
    ls_status rc = ls_cost_table_new(&d, path, &cm, &e);
    unlink(path);
    if (rc == LS_OK)
        ls_cost_free(cm);
    else
        strcpy(msg, e.msg);
    return rc;
}

static void expect_error(const char *text, int tp, const char *needle)
{
    char msg[LS_ERROR_MSG_MAX] = "", path[64];
    assert_int_equal(try_text(text, tp, msg, path), LS_EINVAL);
    if (!strstr(msg, needle))
        fail_msg("message '%s' lacks '%s'", msg, needle);
    if (!strstr(msg, path))
        fail_msg("message '%s' does not name the file", msg);
}

static void test_errors(void **state)
{
    (void)state;
    const char *ok = "phase,tp,tokens,context,time_s\nprefill,1,100,0,0.01\ndecode,1,1,100,0.005\n";
    char msg[LS_ERROR_MSG_MAX], path[64];
    assert_int_equal(try_text(ok, 1, msg, path), LS_OK);
    expect_error("phase,tp,tokens,context,time_s\nprefill,1,100,0,0.01\ndecode,1,1,100,abc\n", 1,
                 ":3: column 'time_s': expected a number");
    expect_error("phase,tp,tokens,context,time_s\nprefil,1,100,0,0.01\n", 1, ":2: column 'phase'");
    expect_error("phase,tp,tokens,context,time_s\nprefill,1,100,0\n", 1, ":2: 4 columns, the header has 5");
    expect_error("phase,tp,tokens,time_s\n", 1, ":1: header lacks column 'context'");
    expect_error("phase,tp,tokens,context,time_s\nprefill,0,100,0,0.01\n", 1, ":2: column 'tp'");
    expect_error("phase,tp,tokens,context,time_s\nprefill,1,100,0,-1\n", 1, ":2: column 'time_s'");
    expect_error("# only a comment\n", 1, "empty cost table");
    /* 2 x 2 grid with a hole */
    expect_error("phase,tp,tokens,context,time_s\nprefill,1,100,0,0.01\nprefill,1,200,0,0.02\n"
                 "prefill,1,100,50,0.011\ndecode,1,1,100,0.005\n",
                 1, "missing tokens=200 context=50");
    expect_error("phase,tp,tokens,context,time_s\nprefill,1,100,0,0.01\nprefill,1,100,0,0.02\n"
                 "decode,1,1,100,0.005\n",
                 1, ":3: duplicate row prefill tp=1 tokens=100 context=0 (also line 2)");
    expect_error(ok, 4, "no rows for tp=4 (the file has tp 1)");
    expect_error("phase,tp,tokens,context,time_s\nprefill,1,100,0,0.01\n", 1, "no decode rows for tp=1");
    ls_deploy d = deploy(1, 1);
    ls_cost_model *cm = NULL;
    ls_error e;
    assert_int_equal(ls_cost_table_new(&d, "/nonexistent/t.csv", &cm, &e), LS_EIO);
    assert_non_null(strstr(e.msg, "/nonexistent/t.csv"));
}

int main(void)
{
    const char *dir = getenv("LS_FIXTURES");
    snprintf(fixture, sizeof fixture, "%s/cost_table_small.csv", dir ? dir : "tests/fixtures");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_at_grid_points),
        cmocka_unit_test(test_interpolation),
        cmocka_unit_test(test_outside_the_grid),
        cmocka_unit_test(test_mixed_batch_and_pp),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
