/* test_shared.c -- the real public traces in $LS_SHARED_TRACES against the statistics
 * published in its SOURCES.md (skipped when the folder is missing). */
#include <math.h>
#include <sys/stat.h>

#include "trace_test_util.h"
#include "writer.h"

typedef struct expect {
    const char *file, *format;
    uint64_t rows;
    double span_s, rate, ia_cv; /* NaN: no times */
    double pmean;
    int32_t pmin, p50, p90, p99, pmax;
    double omean;
    int32_t omin, o50, o90, o99, omax;
} expect;

/* From SOURCES.md (means to 0.1, span to 0.1 s, rate to 0.01, CV to 0.1 as printed there). */
static const expect table[] = {
    {"AzureLLMInferenceTrace_code.csv.gz", "azure", 8819, 3435.9, 2.57, 13.2, 2047.9, 3, 1469, 5194, 7436, 7437,
     27.9, 6, 13, 55, 252, 1899},
    {"AzureLLMInferenceTrace_conv.csv.gz", "azure", 19366, 3501.7, 5.53, 1.09, 1154.7, 2, 1020, 2735, 4142, 14050,
     211.1, 7, 129, 424, 601, 1000},
    {"splitwise_code.csv.gz", "vidur", 8819, 3435.9, 2.57, 13.2, 2047.9, 3, 1469, 5194, 7436, 7437, 27.9, 6, 13,
     55, 252, 1899},
    {"splitwise_conv.csv.gz", "vidur", 19366, 3501.7, 5.53, 1.09, 1154.7, 2, 1020, 2735, 4142, 14050, 211.1, 7,
     129, 424, 601, 1000},
    {"arxiv_summarization_stats_llama2_tokenizer_filtered_v2.csv.gz", "lengths", 28257, NAN, NAN, NAN, 2588.1, -1,
     2730, 3702, 3934, 4054, 291.4, -1, 167, 372, 3273, 4056},
    {"sharegpt_8k_filtered_stats_llama2_tokenizer.csv.gz", "lengths", 30731, NAN, NAN, NAN, 2340.0, -1, 1730, 5696,
     7434, 8141, 438.7, -1, 415, 834, 998, 1024},
};

static const char *dir(void)
{
    const char *d = getenv("LS_SHARED_TRACES");
    struct stat st;
    if (!d || stat(d, &st) != 0)
        return NULL;
    return d;
}

static void near(double got, double want, double tol, const char *what, const char *file)
{
    if (isnan(want))
        return;
    if (!(fabs(got - want) <= tol))
        fail_msg("%s %s: got %.4f, SOURCES.md says %.4f", file, what, got, want);
}

static void test_sources_md(void **state)
{
    (void)state;
    const char *d = dir();
    if (!d)
        skip();
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        const expect *x = &table[i];
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", d, x->file);
        ls_source *s;
        ls_error e;
        if (ls_trace_open(path, NULL, &s, &e) != LS_OK)
            fail_msg("%s", e.msg);
        ls_trace_stats st;
        if (ls_trace_stats_compute(s, &st, &e) != LS_OK)
            fail_msg("%s", e.msg);
        ls_source_free(s);
        assert_string_equal(st.report.format, x->format);
        assert_int_equal(st.rows, x->rows);
        /* the published figures are rounded: half a unit of the last printed digit, and the
         * code trace's prompt mean 2047.848 is printed as 2047.9 there */
        near(st.span_s, x->span_s, 0.05, "span", x->file);
        near(st.rate, x->rate, 0.005, "rate", x->file);
        near(st.ia_cv, x->ia_cv, x->ia_cv > 10 ? 0.05 : 0.005, "IA CV", x->file);
        near(st.prompt.mean, x->pmean, 0.06, "prompt mean", x->file);
        near(st.output.mean, x->omean, 0.05, "output mean", x->file);
        int32_t got[] = {st.prompt.p50, st.prompt.p90, st.prompt.p99, st.prompt.max,
                         st.output.p50, st.output.p90, st.output.p99, st.output.max};
        int32_t want[] = {x->p50, x->p90, x->p99, x->pmax, x->o50, x->o90, x->o99, x->omax};
        for (int k = 0; k < 8; k++)
            if (got[k] != want[k])
                fail_msg("%s: percentile %d: got %d, SOURCES.md says %d", x->file, k, got[k], want[k]);
        if (x->pmin >= 0) {
            assert_int_equal(st.prompt.min, x->pmin);
            assert_int_equal(st.output.min, x->omin);
        }
        if (isnan(x->span_s))
            assert_false(st.has_times);
    }
}

static void test_burstgpt_head(void **state)
{
    (void)state;
    const char *d = dir();
    if (!d)
        skip();
    char path[1024];
    snprintf(path, sizeof path, "%s/BurstGPT_1.head42.csv.gz", d);
    for (int keep = 0; keep < 2; keep++) {
        ls_trace_opts o;
        ls_trace_opts_default(&o);
        o.burstgpt_keep_failed = keep;
        ls_request_array a;
        ls_error e;
        ls_source *s;
        assert_int_equal(ls_trace_open(path, &o, &s, &e), LS_OK);
        assert_int_equal(ls_source_collect(s, 0, &a, &e), LS_OK);
        ls_source_report rep;
        ls_source_get_report(s, &rep);
        ls_source_free(s);
        assert_int_equal(rep.rows_read, 42);
        /* SOURCES.md's first rows: 5,ChatGPT,472,18 / 45,ChatGPT,1087,230 / 118,GPT-4,417,276 */
        assert_int_equal(a.v[0].arrival_ns, 0);
        assert_int_equal(a.v[0].prompt_tokens, 472);
        assert_int_equal(a.v[1].arrival_ns, 40000000000LL);
        assert_int_equal(a.v[2].output_tokens, 276);
        assert_int_equal(a.n, keep ? 42 : 42 - rep.failed_seen);
        assert_true(rep.failed_seen > 0);
        ls_request_array_free(&a);
    }
}

static void test_azure_equals_splitwise(void **state)
{
    (void)state;
    /* SOURCES.md: the vidur files are the Azure rows with times relative to the first,
     * differing by under 0.3 us */
    const char *d = dir();
    if (!d)
        skip();
    const char *names[][2] = {{"AzureLLMInferenceTrace_code.csv.gz", "splitwise_code.csv.gz"},
                              {"AzureLLMInferenceTrace_conv.csv.gz", "splitwise_conv.csv.gz"}};
    for (int k = 0; k < 2; k++) {
        char p1[1024], p2[1024];
        snprintf(p1, sizeof p1, "%s/%s", d, names[k][0]);
        snprintf(p2, sizeof p2, "%s/%s", d, names[k][1]);
        ls_request_array a, b;
        ls_error e;
        assert_int_equal(read_all(p1, NULL, &a, &e), LS_OK);
        assert_int_equal(read_all(p2, NULL, &b, &e), LS_OK);
        assert_int_equal(a.n, b.n);
        for (size_t i = 0; i < a.n; i++) {
            assert_true(llabs(a.v[i].arrival_ns - b.v[i].arrival_ns) < 300);
            assert_int_equal(a.v[i].prompt_tokens, b.v[i].prompt_tokens);
            assert_int_equal(a.v[i].output_tokens, b.v[i].output_tokens);
        }
        ls_request_array_free(&a);
        ls_request_array_free(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sources_md),
        cmocka_unit_test(test_burstgpt_head),
        cmocka_unit_test(test_azure_equals_splitwise),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
