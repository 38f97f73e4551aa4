/* test_sweep_h5.c -- the result file on its own: rows round-trip (NaN metrics, -1 counts,
 * strings), root attributes, and the resume helpers (rewrite /results, drop orphan /requests). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sweep_h5.h"

static ls_sweep_spec *spec3(void)
{
    const char *t = "name: h5test\nseed: 9\nbase: {a: 1}\ngrid: {x: [1, 2, 3]}\n";
    ls_sweep_spec *s = NULL;
    ls_error e;
    if (ls_sweep_spec_parse(t, strlen(t), "h5test.yaml", NULL, &s, &e))
        fail_msg("%s", e.msg);
    return s;
}

static ls_sweep_result result(const ls_sweep_spec *s, int64_t id, ls_run_status st)
{
    ls_sweep_result r;
    memset(&r, 0, sizeof r);
    ls_metrics_init(&r.m);
    r.config_id = id;
    memcpy(r.hash, s->configs[id].hash, LS_HASH_HEX);
    r.m.status = st;
    snprintf(r.m.message, sizeof r.m.message, "row %lld", (long long)id);
    r.m.v[LS_M_TTFT_P99_S] = 0.25 * (double)(id + 1);
    r.m.v[LS_M_N_COMPLETED] = 10.0 * (double)id;
    return r;
}

static void test_round_trip_and_resume_helpers(void **st)
{
    (void)st;
    ls_sweep_spec *s = spec3();
    char path[128];
    snprintf(path, sizeof path, "/tmp/ls_test_h5_%d.h5", (int)getpid());
    ls_config_row rows[3];
    memset(rows, 0, sizeof rows);
    snprintf(rows[1].model, sizeof rows[1].model, "llama-3-8b");
    rows[1].tp = 4;
    ls_h5_meta m = {.tool_version = "t", .git_revision = "g", .spec_text = s->text, .spec_name = s->name,
                    .set_hash = s->set_hash, .seed = 9, .ranks = 3, .n_configs = 3, .shard_count = 1};
    ls_h5file *f = NULL;
    ls_error e;
    assert_int_equal(ls_h5_create(path, &m, s, rows, true, &f, &e), LS_OK);
    ls_sweep_result r[3] = {result(s, 0, LS_RUN_OK), result(s, 1, LS_RUN_ERROR), result(s, 2, LS_RUN_INFEASIBLE)};
    ls_sweep_reqrow q[4];
    memset(q, 0, sizeof q);
    for (int i = 0; i < 4; i++) {
        q[i].config_id = i < 2 ? 0 : i - 1; /* rows of configs 0, 0, 1, 2 */
        q[i].r.index = i;
        q[i].r.finish_s = NAN;
    }
    assert_int_equal(ls_h5_append_requests(f, q, 4, &e), LS_OK);
    assert_int_equal(ls_h5_append_results(f, r, 3, &e), LS_OK);
    assert_int_equal(ls_h5_close(f, &e), LS_OK);

    assert_int_equal(ls_h5_open(path, true, &f, &e), LS_OK);
    char *txt = NULL;
    int64_t v = 0;
    assert_int_equal(ls_h5_attr_string(f, "spec_name", &txt, &e), LS_OK);
    assert_string_equal(txt, "h5test");
    free(txt);
    assert_int_equal(ls_h5_attr_int(f, "ranks", &v, &e), LS_OK);
    assert_int_equal(v, 3);
    char(*h)[LS_HASH_HEX] = NULL;
    size_t nh = 0;
    assert_int_equal(ls_h5_read_config_hashes(f, &h, &nh, &e), LS_OK);
    assert_int_equal(nh, 3);
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(h[i], s->configs[i].hash);
    free(h);
    ls_sweep_result *back = NULL;
    size_t n = 0;
    assert_int_equal(ls_h5_read_results(f, &back, &n, &e), LS_OK);
    assert_int_equal(n, 3);
    assert_int_equal(back[1].m.status, LS_RUN_ERROR);
    assert_int_equal(back[2].m.status, LS_RUN_INFEASIBLE);
    assert_string_equal(back[2].m.message, "row 2");
    assert_true(back[1].m.v[LS_M_TTFT_P99_S] == 0.5);
    assert_true(back[2].m.v[LS_M_N_COMPLETED] == 20.0);
    assert_true(isnan(back[0].m.v[LS_M_TTFT_MEAN_S]));   /* NaN double stays NaN */
    assert_true(isnan(back[0].m.v[LS_M_N_PREEMPTIONS])); /* NaN count: -1 on disk, NaN back */
    /* resume: drop the error row of config 1 and its request row */
    ls_sweep_result keep_rows[2] = {back[0], back[2]};
    assert_int_equal(ls_h5_rewrite_results(f, keep_rows, 2, &e), LS_OK);
    bool keep[3] = {true, false, true};
    assert_int_equal(ls_h5_filter_requests(f, keep, 3, &e), LS_OK);
    free(back);
    assert_int_equal(ls_h5_close(f, &e), LS_OK);

    assert_int_equal(ls_h5_open(path, false, &f, &e), LS_OK);
    assert_int_equal(ls_h5_read_results(f, &back, &n, &e), LS_OK);
    assert_int_equal(n, 2);
    assert_int_equal(back[0].config_id, 0);
    assert_int_equal(back[1].config_id, 2);
    free(back);
    ls_sweep_reqrow *qb = NULL;
    assert_int_equal(ls_h5_read_requests(f, &qb, &n, &e), LS_OK);
    assert_int_equal(n, 3);
    assert_int_equal(qb[0].config_id, 0);
    assert_int_equal(qb[1].config_id, 0);
    assert_int_equal(qb[2].config_id, 2);
    assert_true(isnan(qb[2].r.finish_s));
    free(qb);
    assert_int_equal(ls_h5_close(f, &e), LS_OK);
    remove(path);
    ls_sweep_spec_free(s);
}

static void test_open_errors(void **st)
{
    (void)st;
    ls_h5file *f = NULL;
    ls_error e;
    assert_int_not_equal(ls_h5_open("/nonexistent/dir/x.h5", false, &f, &e), LS_OK);
    assert_null(f);
    assert_non_null(strstr(e.msg, "/nonexistent/dir/x.h5"));
    /* a file that is not HDF5 */
    char path[128];
    snprintf(path, sizeof path, "/tmp/ls_test_h5_not_%d.h5", (int)getpid());
    FILE *fp = fopen(path, "w");
    fputs("not hdf5\n", fp);
    fclose(fp);
    assert_int_not_equal(ls_h5_open(path, false, &f, &e), LS_OK);
    assert_non_null(strstr(e.msg, "cannot open"));
    remove(path);
}

int main(void)
{
    ls_h5_quiet();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_and_resume_helpers),
        cmocka_unit_test(test_open_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
