/* test_sweep_history.c -- the provenance of a result file: /history rows across runs (a run
 * that never ended becomes "aborted"), /spec_revisions, root attributes; /inputs collected from
 * the configurations with an independent FNV-1a of the file bytes, a changed content refused;
 * merge of parts; the specification diff of a refused resume. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sweep_history.h"
#include "sweep_inputs.h"

static char dir[128];

static int setup(void **st)
{
    (void)st;
    snprintf(dir, sizeof dir, "/tmp/ls_test_hist_%d", (int)getpid());
    char cmd[256];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", dir);
    return system(cmd);
}

static int teardown(void **st)
{
    (void)st;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

static void write_file(const char *name, const char *text)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* FNV-1a 64 written out here, not through ls_hash64 */
static void fnv_hex(const char *text, char out[LS_HASH_HEX])
{
    unsigned long long h = 14695981039346656037ULL;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    snprintf(out, LS_HASH_HEX, "%016llx", h);
}

static ls_sweep_spec *spec(const char *text)
{
    ls_sweep_spec *s = NULL;
    ls_error e;
    if (ls_sweep_spec_parse(text, strlen(text), "hist.yaml", dir, &s, &e))
        fail_msg("%s", e.msg);
    return s;
}

static const char *spec_a = "name: a\nbase: {workload: {trace: t1.csv}, catalog: [c.yaml]}\n"
                            "grid: {x: [1, 2], workload.trace: [t1.csv, t2.csv]}\n";

static ls_h5file *create(const char *name, const ls_sweep_spec *s)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    ls_config_row *rows = calloc(s->n, sizeof *rows);
    ls_h5_meta m = {.tool_version = "t", .git_revision = "g", .spec_text = s->text, .spec_name = s->name,
                    .set_hash = s->set_hash, .seed = -1, .ranks = 1, .n_configs = (int64_t)s->n, .shard_count = 1};
    ls_h5file *f = NULL;
    ls_error e;
    if (ls_h5_create(p, &m, s, rows, false, &f, &e))
        fail_msg("%s", e.msg);
    free(rows);
    return f;
}

static ls_hist_run run_of(const ls_sweep_spec *s, const char *command, int64_t ranks, char hash[LS_HASH_HEX])
{
    ls_hist_spec_hash(s->text, s->text_len, hash);
    return (ls_hist_run){.command = command, .ranks = ranks, .shard_index = 0, .shard_count = 1,
                         .spec_hash = hash, .set_hash = s->set_hash, .spec_name = s->name,
                         .spec_text = s->text, .n_configs = (int64_t)s->n, .tool_version = "t",
                         .git_revision = "g", .output = "x.h5"};
}

static void test_inputs(void **st)
{
    (void)st;
    write_file("t1.csv", "a,b\n1,2\n");
    write_file("t2.csv", "a,b\n3,4\n");
    write_file("c.yaml", "models: {}\n");
    ls_sweep_spec *s = spec(spec_a);
    ls_ptable in;
    ls_error e;
    assert_int_equal(ls_inputs_collect(s, &in, &e), LS_OK);
    /* t1.csv and c.yaml from configuration 0, t2.csv first at configuration 1 (x varies slowest) */
    assert_int_equal(in.n, 3);
    const ls_cell *r0 = ls_ptable_row(&in, 0), *r1 = ls_ptable_row(&in, 1), *r2 = ls_ptable_row(&in, 2);
    assert_string_equal(r0[LS_IN_kind].s, "trace");
    assert_string_equal(r0[LS_IN_name].s, "t1.csv");
    assert_string_equal(r1[LS_IN_kind].s, "catalog");
    assert_string_equal(r1[LS_IN_key].s, "catalog");
    assert_string_equal(r2[LS_IN_name].s, "t2.csv");
    assert_int_equal(r2[LS_IN_first_config].i, 1);
    char hex[LS_HASH_HEX];
    fnv_hex("a,b\n1,2\n", hex);
    assert_string_equal(r0[LS_IN_content_hash].s, hex);
    assert_int_equal(r0[LS_IN_bytes].i, 8);

    ls_h5file *f = create("in.h5", s);
    bool recorded = true;
    assert_int_equal(ls_inputs_check(f, &in, "resume", &recorded, &e), LS_OK);
    assert_false(recorded); /* a file without /inputs: nothing to compare */
    assert_int_equal(ls_inputs_record(f, &in, &e), LS_OK);
    assert_int_equal(ls_inputs_check(f, &in, "resume", &recorded, &e), LS_OK);
    assert_true(recorded);
    /* the second trace changes: refused, naming it */
    write_file("t2.csv", "a,b\n3,5\n");
    ls_ptable now;
    assert_int_equal(ls_inputs_collect(s, &now, &e), LS_OK);
    assert_int_equal(ls_inputs_check(f, &now, "resume", &recorded, &e), LS_EINVAL);
    assert_non_null(strstr(e.msg, "the trace 't2.csv' (workload.trace, first read by configuration 1) changed"));
    /* a missing file is listed as unreadable and not a change */
    char p[256];
    snprintf(p, sizeof p, "%s/t2.csv", dir);
    remove(p);
    ls_ptable gone;
    assert_int_equal(ls_inputs_collect(s, &gone, &e), LS_OK);
    assert_int_equal(ls_ptable_row(&gone, 2)[LS_IN_bytes].i, -1);
    assert_int_equal(ls_inputs_check(f, &gone, "resume", &recorded, &e), LS_OK);
    assert_int_equal(ls_h5_close(f, &e), LS_OK);
    ls_ptable_free(&in);
    ls_ptable_free(&now);
    ls_ptable_free(&gone);
    ls_sweep_spec_free(s);
    write_file("t2.csv", "a,b\n3,4\n");
}

static void test_history(void **st)
{
    (void)st;
    write_file("t1.csv", "a,b\n1,2\n");
    write_file("t2.csv", "a,b\n3,4\n");
    write_file("c.yaml", "models: {}\n");
    ls_sweep_spec *s = spec(spec_a);
    ls_h5file *f = create("h.h5", s);
    ls_error e;
    char hash[LS_HASH_HEX];
    ls_hist_run r = run_of(s, "sweep", 2, hash);
    int64_t run = -1;
    assert_int_equal(ls_hist_begin(f, &r, &run, &e), LS_OK);
    assert_int_equal(run, 0);
    assert_int_equal(ls_hist_end(f, run, 3, "interrupted", &e), LS_OK);
    /* a second run that never ends (killed), then a third with 4 ranks and another spec */
    r = run_of(s, "resume", 1, hash);
    assert_int_equal(ls_hist_begin(f, &r, &run, &e), LS_OK);
    assert_int_equal(run, 1);
    ls_sweep_spec *s2 = spec("name: a\nbase: {workload: {trace: t1.csv}, catalog: [c.yaml]}\n"
                             "grid: {x: [1, 2, 3], workload.trace: [t1.csv, t2.csv]}\n");
    char hash2[LS_HASH_HEX];
    r = run_of(s2, "extend", 4, hash2);
    assert_int_equal(ls_hist_begin(f, &r, &run, &e), LS_OK);
    assert_int_equal(run, 2);
    assert_int_equal(ls_hist_end(f, run, 2, "complete", &e), LS_OK);
    assert_int_equal(ls_hist_end(f, 7, 2, "complete", &e), LS_EINVAL);

    ls_ptable h, revs;
    bool exists;
    assert_int_equal(ls_ptable_read(f, LS_H5_HISTORY, ls_history_columns, LS_HISTORY_NCOLS, &h, &exists, &e), LS_OK);
    assert_true(exists);
    assert_int_equal(h.n, 3);
    assert_string_equal(ls_ptable_row(&h, 0)[LS_HI_outcome].s, "interrupted");
    assert_int_equal(ls_ptable_row(&h, 0)[LS_HI_rows_added].i, 3);
    assert_string_equal(ls_ptable_row(&h, 1)[LS_HI_outcome].s, "aborted");
    assert_int_equal(ls_ptable_row(&h, 1)[LS_HI_rows_added].i, -1);
    assert_string_equal(ls_ptable_row(&h, 1)[LS_HI_end_utc].s, "");
    assert_string_equal(ls_ptable_row(&h, 2)[LS_HI_command].s, "extend");
    assert_string_equal(ls_ptable_row(&h, 2)[LS_HI_spec_hash].s, hash2);
    assert_int_equal(ls_ptable_read(f, LS_H5_SPEC_REVISIONS, ls_spec_revision_columns, LS_SPECREV_NCOLS, &revs,
                                    &exists, &e), LS_OK);
    assert_int_equal(revs.n, 2);
    assert_string_equal(ls_ptable_row(&revs, 1)[LS_SR_spec_text].s, s2->text);
    assert_int_equal(ls_ptable_row(&revs, 1)[LS_SR_first_run].i, 2);
    int64_t v = 0;
    assert_int_equal(ls_h5_attr_int(f, "ranks", &v, &e), LS_OK);
    assert_int_equal(v, 4); /* the most ranks of any run */
    assert_int_equal(ls_h5_attr_int(f, "n_runs", &v, &e), LS_OK);
    assert_int_equal(v, 3);
    char *sh = NULL;
    assert_int_equal(ls_h5_attr_string(f, "spec_hash", &sh, &e), LS_OK);
    assert_string_equal(sh, hash2);
    free(sh);
    assert_int_equal(ls_hist_check_revision(f, "t", "g", "resuming", &e), LS_OK);
    assert_int_equal(ls_hist_check_revision(f, "t", "h", "resuming", &e), LS_EINVAL);
    assert_non_null(strstr(e.msg, "(revision g), this is llmsweep t (revision h)"));

    /* merge: histories one after the other, renumbered; revisions united */
    ls_h5file *g = create("g.h5", s);
    r = run_of(s, "sweep", 1, hash);
    assert_int_equal(ls_hist_begin(g, &r, &run, &e), LS_OK);
    ls_h5file *m = create("m.h5", s);
    ls_h5file *parts[2] = {f, g};
    assert_int_equal(ls_hist_merge(parts, 2, m, &e), LS_OK);
    ls_ptable mh;
    assert_int_equal(ls_ptable_read(m, LS_H5_HISTORY, ls_history_columns, LS_HISTORY_NCOLS, &mh, &exists, &e), LS_OK);
    assert_int_equal(mh.n, 4);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(ls_ptable_row(&mh, i)[LS_HI_run].i, (int64_t)i);
    assert_string_equal(ls_ptable_row(&mh, 3)[LS_HI_outcome].s, "running");
    ls_ptable mr;
    assert_int_equal(ls_ptable_read(m, LS_H5_SPEC_REVISIONS, ls_spec_revision_columns, LS_SPECREV_NCOLS, &mr,
                                    &exists, &e), LS_OK);
    assert_int_equal(mr.n, 2);
    /* copy for a rewrite keeps all three tables */
    ls_h5file *c = create("c.h5", s);
    assert_int_equal(ls_hist_copy(f, c, &e), LS_OK);
    ls_ptable ch;
    assert_int_equal(ls_ptable_read(c, LS_H5_HISTORY, ls_history_columns, LS_HISTORY_NCOLS, &ch, &exists, &e), LS_OK);
    assert_int_equal(ch.n, 3);
    ls_ptable_free(&h);
    ls_ptable_free(&revs);
    ls_ptable_free(&mh);
    ls_ptable_free(&mr);
    ls_ptable_free(&ch);
    assert_int_equal(ls_h5_close(f, &e), LS_OK);
    assert_int_equal(ls_h5_close(g, &e), LS_OK);
    assert_int_equal(ls_h5_close(m, &e), LS_OK);
    assert_int_equal(ls_h5_close(c, &e), LS_OK);
    ls_sweep_spec_free(s);
    ls_sweep_spec_free(s2);
}

static void test_spec_diff(void **st)
{
    (void)st;
    const char *old = "name: a\nseed: 5\nbase: {s: {m: 64, p: v1}}\ngrid: {x: [1, 2, 3], y: [a]}\n";
    /* only additions to lists: nothing to say */
    char *d = ls_sweep_spec_diff(old, "name: a\nseed: 5\nbase: {s: {m: 64, p: v1}}\ngrid: {x: [1, 4, 2, 3], y: [b, a]}\n", 4);
    assert_null(d);
    d = ls_sweep_spec_diff(old, "name: a\nseed: 6\nbase: {s: {m: 32}, z: 1}\ngrid: {x: [1, 3]}\n", 4);
    assert_non_null(d);
    assert_string_equal(d, "seed: was 5, now 6; base.s.m: was 64, now 32; base.s.p: v1 removed; base.z: 1 added; "
                           "and 2 more");
    free(d);
    d = ls_sweep_spec_diff(old, "name: a\nseed: 5\nbase: {s: {m: 64, p: v1}}\ngrid: {x: [1, 3], y: [a]}\n", 4);
    assert_string_equal(d, "grid.x: 2 removed");
    free(d);
    assert_null(ls_sweep_spec_diff("a: [", "a: 1", 4));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inputs),
        cmocka_unit_test(test_history),
        cmocka_unit_test(test_spec_diff),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
