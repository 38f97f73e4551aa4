/* test_stats.c -- trace statistics by hand arithmetic: nearest-rank percentiles, rate, gap CV. */
#include <math.h>

#include "trace_test_util.h"
#include "writer.h"

static void test_small(void **state)
{
    (void)state;
    /* times 0, 1, 3, 6: gaps 1, 2, 3 -> mean 2, population sd sqrt(2/3), CV 0.408248;
     * span 6 s, rate (4-1)/6 = 0.5. Prompts 40, 10, 30, 20 -> sorted 10 20 30 40: mean 25,
     * p50 = 2nd (ceil(0.5*4)), p90 = 4th (ceil(3.6)), p99 = 4th. */
    char *p = tmp_text(".csv", "arrival_s,prompt_tokens,output_tokens\n0,40,1\n1,10,2\n3,30,3\n6,20,4\n");
    ls_source *s;
    ls_error e;
    assert_int_equal(ls_trace_open(p, NULL, &s, &e), LS_OK);
    ls_trace_stats st;
    assert_int_equal(ls_trace_stats_compute(s, &st, &e), LS_OK);
    ls_source_free(s);
    assert_int_equal(st.rows, 4);
    assert_true(st.has_times);
    assert_true(fabs(st.span_s - 6) < 1e-12);
    assert_true(fabs(st.rate - 0.5) < 1e-12);
    assert_true(fabs(st.ia_cv - sqrt(2.0 / 3.0) / 2) < 1e-12);
    assert_true(fabs(st.max_gap_s - 3) < 1e-12);
    assert_true(st.prompt.mean == 25);
    assert_int_equal(st.prompt.min, 10);
    assert_int_equal(st.prompt.p50, 20);
    assert_int_equal(st.prompt.p90, 40);
    assert_int_equal(st.prompt.p99, 40);
    assert_int_equal(st.prompt.max, 40);
    assert_true(st.output.mean == 2.5);
    assert_int_equal(st.output.p50, 2);
    unlink(p);
    free(p);
}

static void test_percentile_ranks(void **state)
{
    (void)state;
    /* 1..200: p50 = 100, p90 = 180, p99 = 198 (nearest rank: the ceil(p n)-th value) */
    char *buf = malloc(200 * 16 + 64), *q = buf;
    q += sprintf(q, "num_prefill_tokens,num_decode_tokens\n");
    for (int i = 200; i >= 1; i--)
        q += sprintf(q, "%d,%d\n", i, 201 - i);
    char *p = tmp_text(".csv", buf);
    ls_source *s;
    ls_error e;
    assert_int_equal(ls_trace_open(p, NULL, &s, &e), LS_OK);
    ls_trace_stats st;
    assert_int_equal(ls_trace_stats_compute(s, &st, &e), LS_OK);
    ls_source_free(s);
    assert_false(st.has_times);
    assert_true(isnan(st.rate) && isnan(st.span_s) && isnan(st.ia_cv));
    assert_int_equal(st.prompt.p50, 100);
    assert_int_equal(st.prompt.p90, 180);
    assert_int_equal(st.prompt.p99, 198);
    assert_int_equal(st.output.p99, 198);
    assert_true(fabs(st.prompt.mean - 100.5) < 1e-12);
    unlink(p);
    free(p);
    free(buf);
}

static void test_empty_stream(void **state)
{
    (void)state;
    /* a header-only file is an error ... */
    char *p = tmp_text(".csv", "arrival_s,prompt_tokens,output_tokens\n");
    ls_source *s;
    ls_error e;
    assert_int_equal(ls_trace_open(p, NULL, &s, &e), LS_OK);
    ls_trace_stats st;
    assert_int_not_equal(ls_trace_stats_compute(s, &st, &e), LS_OK);
    assert_non_null(strstr(e.msg, "no data rows after the header"));
    ls_source_free(s);
    unlink(p);
    free(p);
    /* ... while an empty stream (e.g. after transformations) has rows 0 and no figures */
    ls_request_array a = {0};
    s = ls_source_from_array(&a);
    assert_int_equal(ls_trace_stats_compute(s, &st, &e), LS_OK);
    ls_source_free(s);
    assert_int_equal(st.rows, 0);
    assert_true(isnan(st.prompt.mean) && isnan(st.rate));
}

/* Lengths of 2^20 tokens and more are kept outside the count array: percentiles stay exact across the
 * boundary. Nearest rank on 100 rows: p50 = 50th, p90 = 90th, p99 = 99th smallest. */
static void test_long_lengths(void **state)
{
    (void)state;
    size_t size = 100 * 48 + 64;
    char *buf = malloc(size), *q = buf;
    q += sprintf(q, "arrival_s,prompt_tokens,output_tokens\n");
    /* prompts 1..97 then 5000000, 1048576, 2000000 (unsorted); outputs 1048575 except one 1048576 */
    for (int i = 1; i <= 100; i++) {
        int p = i <= 97 ? i : i == 98 ? 5000000 : i == 99 ? 1048576 : 2000000;
        q += sprintf(q, "%d,%d,%d\n", i, p, i == 50 ? 1048576 : 1048575);
    }
    char *path = tmp_text(".csv", buf);
    ls_source *s;
    ls_error e;
    assert_int_equal(ls_trace_open(path, NULL, &s, &e), LS_OK);
    ls_trace_stats st;
    assert_int_equal(ls_trace_stats_compute(s, &st, &e), LS_OK);
    ls_source_free(s);
    assert_int_equal(st.rows, 100);
    assert_int_equal(st.prompt.min, 1);
    assert_int_equal(st.prompt.p50, 50);
    assert_int_equal(st.prompt.p90, 90);
    assert_int_equal(st.prompt.p99, 2000000); /* sorted: 1..97, 1048576, 2000000, 5000000 */
    assert_int_equal(st.prompt.max, 5000000);
    assert_true(fabs(st.prompt.mean - (97.0 * 98 / 2 + 5000000 + 1048576 + 2000000) / 100) < 1e-9);
    assert_int_equal(st.output.min, 1048575);
    assert_int_equal(st.output.p99, 1048575);
    assert_int_equal(st.output.max, 1048576);
    unlink(path);
    free(path);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small),
        cmocka_unit_test(test_percentile_ranks),
        cmocka_unit_test(test_empty_stream),
        cmocka_unit_test(test_long_lengths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
