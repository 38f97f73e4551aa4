/* test_schema.c -- the result schema is well-formed: unique names, units in names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#include "schema.h"

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static void test_metric_names(void **state)
{
    (void)state;
    for (int i = 0; i < LS_METRIC_COUNT; i++) {
        const ls_column *c = &ls_metric_columns[i];
        assert_int_equal(ls_metric_find(c->name), i);
        /* a metric in seconds says so in its name */
        if (!strcmp(c->unit, "s"))
            assert_true(ends_with(c->name, "_s"));
        for (int j = i + 1; j < LS_METRIC_COUNT; j++)
            assert_string_not_equal(c->name, ls_metric_columns[j].name);
    }
    /* names the sweep's HDF5 file and the report depend on */
    const char *required[] = {"ttft_p50_s", "ttft_p99_s", "tpot_p99_s", "itl_p99_s", "e2e_p99_s",
                              "queue_p99_s", "throughput_rps", "output_tps", "total_tps",
                              "goodput_rps", "success_rate", "n_rejected_kv", "iterations",
                              "max_num_batched_tokens", "kv_usage_mean", "capacity_rps"};
    for (size_t i = 0; i < sizeof required / sizeof *required; i++)
        assert_true(ls_metric_find(required[i]) >= 0);
    assert_int_equal(ls_metric_find("nope"), -1);
}

static void test_init_and_status(void **state)
{
    (void)state;
    ls_metrics m;
    ls_metrics_init(&m);
    assert_true(isnan(m.v[LS_M_TTFT_P99_S]));
    assert_int_equal(ls_run_status_parse("infeasible"), LS_RUN_INFEASIBLE);
    assert_int_equal(ls_run_status_parse("bogus"), -1);
    assert_string_equal(ls_config_columns[0].name, "model");
    assert_int_equal(ls_config_columns[0].size, LS_CFG_STR);
}

/* The per-request table: unique names, every field of ls_request_result once, values read back. */
static void test_request_columns(void **state)
{
    (void)state;
    ls_request_result r = {.index = 1LL << 40, .replica = 3, .prompt_tokens = 100, .output_tokens = 20,
                           .status = 4, .preemptions = 2, .generated_tokens = 7, .class_id = 1,
                           .arrival_s = 0.5, .first_scheduled_s = 0.75, .first_token_s = NAN, .finish_s = 9.25};
    const double want[LS_REQUEST_COLUMN_COUNT] = {1099511627776.0, 3, 100, 20, 4, 2, 7, 0.5, 0.75, NAN, 9.25, 1};
    size_t bytes = 0;
    for (int i = 0; i < LS_REQUEST_COLUMN_COUNT; i++) {
        const ls_request_column *c = &ls_request_columns[i];
        for (int j = i + 1; j < LS_REQUEST_COLUMN_COUNT; j++) {
            assert_string_not_equal(c->name, ls_request_columns[j].name);
            assert_int_not_equal(c->offset, ls_request_columns[j].offset);
        }
        if (!strcmp(c->unit, "s"))
            assert_true(ends_with(c->name, "_s"));
        double v = ls_request_value(&r, c);
        if (isnan(want[i]))
            assert_true(isnan(v));
        else
            assert_true(v == want[i]);
        bytes += c->type == LS_RQ_I32 ? 4 : 8;
    }
    assert_int_equal(bytes + sizeof r.reserved, sizeof(ls_request_result));  /* every other byte is a column */
    assert_string_equal(ls_request_columns[LS_REQUEST_COLUMN_COUNT - 1].name, "class");
    assert_int_equal(ls_request_columns[4].text, LS_RQ_STATUS_NAME);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metric_names),
        cmocka_unit_test(test_init_and_status),
        cmocka_unit_test(test_request_columns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
