/* test_sweep_journal.c -- the rollback journal under a writable result file (mpi/sweep_journal.c):
 * a write that fails part way through a batch (RLIMIT_FSIZE makes the file's growth fail with
 * EFBIG, as a full disk does with ENOSPC) leaves, after close, the very bytes of the last flush; a
 * writer that dies in the middle of a batch leaves a journal that the next open rolls back, again to
 * the very bytes of the last flush. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "sweep_h5.h"
#include "sweep_journal.h"

#define N_COMMITTED 200
#define N_BATCH 3000

static ls_sweep_spec *spec3(void)
{
    const char *t = "name: jtest\nseed: 9\nbase: {a: 1}\ngrid: {x: [1, 2, 3]}\n";
    ls_sweep_spec *s = NULL;
    ls_error e;
    if (ls_sweep_spec_parse(t, strlen(t), "jtest.yaml", NULL, &s, &e))
        fail_msg("%s", e.msg);
    return s;
}

static ls_sweep_result *results(const ls_sweep_spec *s, size_t n, double salt)
{
    ls_sweep_result *r = calloc(n, sizeof *r);
    for (size_t i = 0; i < n; i++) {
        ls_metrics_init(&r[i].m);
        r[i].config_id = (int64_t)(i % 3);
        memcpy(r[i].hash, s->configs[i % 3].hash, LS_HASH_HEX);
        r[i].m.status = LS_RUN_OK;
        snprintf(r[i].m.message, sizeof r[i].m.message, "row %zu salt %g", i, salt);
        for (int k = 0; k < LS_METRIC_COUNT; k++) /* poorly compressible: chunks change size */
            r[i].m.v[k] = salt + (double)((i * 2654435761u + (size_t)k * 40503u) % 100003) / 7.0;
    }
    return r;
}

static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(sz > 0 ? (size_t)sz : 1);
    *n = fread(b, 1, (size_t)sz, f);
    fclose(f);
    return b;
}

typedef struct fixture {
    char path[128], jpath[160];
    ls_sweep_spec *s;
    unsigned char *committed;
    size_t n_committed;
} fixture;

/* A file with N_COMMITTED rows, closed; its bytes kept. */
static void make_file(fixture *x)
{
    snprintf(x->path, sizeof x->path, "/tmp/ls_test_journal_%d.h5", (int)getpid());
    snprintf(x->jpath, sizeof x->jpath, "%s.journal", x->path);
    x->s = spec3();
    ls_config_row rows[3];
    memset(rows, 0, sizeof rows);
    ls_h5_meta m = {.tool_version = "t", .git_revision = "g", .spec_text = x->s->text,
                    .spec_name = x->s->name, .set_hash = x->s->set_hash, .seed = 9, .ranks = 1,
                    .n_configs = 3, .shard_count = 1};
    ls_h5file *f = NULL;
    ls_error e;
    assert_int_equal(ls_h5_create(x->path, &m, x->s, rows, false, &f, &e), LS_OK);
    ls_sweep_result *r = results(x->s, N_COMMITTED, 1);
    assert_int_equal(ls_h5_append_results(f, r, N_COMMITTED, &e), LS_OK);
    assert_int_equal(ls_h5_flush(f, &e), LS_OK);
    assert_int_equal(ls_h5_close(f, &e), LS_OK);
    free(r);
    assert_int_equal(access(x->jpath, F_OK), -1); /* a clean close leaves no journal */
    x->committed = slurp(x->path, &x->n_committed);
    assert_non_null(x->committed);
}

static void check_committed(fixture *x)
{
    size_t n = 0;
    unsigned char *b = slurp(x->path, &n);
    assert_non_null(b);
    assert_int_equal(n, x->n_committed);
    assert_memory_equal(b, x->committed, n);
    free(b);
    ls_h5file *f = NULL;
    ls_error e;
    assert_int_equal(ls_h5_open(x->path, false, &f, &e), LS_OK);
    ls_sweep_result *r = NULL, *want = results(x->s, N_COMMITTED, 1);
    size_t nr = 0;
    assert_int_equal(ls_h5_read_results(f, &r, &nr, &e), LS_OK);
    assert_int_equal(nr, N_COMMITTED);
    for (size_t i = 0; i < nr; i++) {
        assert_string_equal(r[i].m.message, want[i].m.message);
        assert_true(r[i].m.v[3] == want[i].m.v[3]);
    }
    free(r);
    free(want);
    assert_int_equal(ls_h5_close(f, &e), LS_OK);
}

static void drop(fixture *x)
{
    remove(x->path);
    remove(x->jpath);
    free(x->committed);
    ls_sweep_spec_free(x->s);
}

enum mode { FAIL_AND_CLOSE, FAIL_AND_DIE, DIE_MID_BATCH };

/* Child: rewrite every row and append N_BATCH more (old chunks are overwritten or freed and
 * reused), growing the file past a limit unless DIE_MID_BATCH; exit status 0 when all went as
 * expected. */
static int child(fixture *x, enum mode mode)
{
    if (mode != DIE_MID_BATCH) {
        signal(SIGXFSZ, SIG_IGN); /* the write fails with EFBIG instead */
        struct rlimit rl = {(rlim_t)x->n_committed + 8192, (rlim_t)x->n_committed + 8192};
        if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
            return 10;
    }
    ls_h5file *f = NULL;
    ls_error e;
    if (ls_h5_open(x->path, true, &f, &e))
        return 11;
    ls_sweep_result *r = results(x->s, N_BATCH, 2);
    ls_status rc = ls_h5_rewrite_results(f, r, N_COMMITTED, &e);
    if (!rc)
        rc = ls_h5_append_results(f, r + N_COMMITTED, N_BATCH - N_COMMITTED, &e);
    if (mode == DIE_MID_BATCH) {
        if (rc)
            return 12;
        _exit(0); /* killed before the flush: chunks evicted so far are on disk */
    }
    if (!rc)
        rc = ls_h5_flush(f, &e);
    if (!rc)
        return 13; /* the limit must have been hit */
    if (!strstr(e.msg, x->path) || !strstr(e.msg, strerror(EFBIG)))
        return 14;
    if (mode == FAIL_AND_DIE)
        _exit(0);
    if (ls_h5_close(f, &e)) /* frozen: the close rolls back and succeeds */
        return 15;
    return access(x->jpath, F_OK) == 0 ? 16 : 0;
}

static void run(enum mode mode)
{
    fixture x;
    make_file(&x);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(child(&x, mode));
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    if (mode != FAIL_AND_CLOSE) {
        struct stat st;
        assert_int_equal(stat(x.jpath, &st), 0); /* the dead writer's batch is still open */
        size_t n = 0; /* ... and it did change the file: the rollback has work to do */
        unsigned char *b = slurp(x.path, &n);
        assert_true(n != x.n_committed || memcmp(b, x.committed, n) != 0);
        free(b);
        bool rolled = false;
        ls_error e;
        assert_int_equal(ls_journal_recover(x.path, &rolled, &e), LS_OK);
        assert_true(rolled);
        assert_int_equal(access(x.jpath, F_OK), -1);
    }
    check_committed(&x);
    drop(&x);
}

static void test_failed_write_rolls_back_on_close(void **st) { run(FAIL_AND_CLOSE); }
static void test_failed_write_then_death_recovers(void **st) { run(FAIL_AND_DIE); }
static void test_death_mid_batch_recovers(void **st) { run(DIE_MID_BATCH); }

static void test_writable_open_recovers(void **st)
{
    /* the resume path: a writable open rolls a dead writer's batch back by itself */
    fixture x;
    make_file(&x);
    pid_t pid = fork();
    if (pid == 0)
        _exit(child(&x, DIE_MID_BATCH));
    int status = 0;
    waitpid(pid, &status, 0);
    assert_int_equal(WEXITSTATUS(status), 0);
    ls_h5file *f = NULL;
    ls_error e;
    assert_int_equal(ls_h5_open(x.path, true, &f, &e), LS_OK);
    ls_sweep_result *r = NULL;
    size_t nr = 0;
    assert_int_equal(ls_h5_read_results(f, &r, &nr, &e), LS_OK);
    assert_int_equal(nr, N_COMMITTED);
    free(r);
    assert_int_equal(ls_h5_close(f, &e), LS_OK);
    check_committed(&x);
    drop(&x);
}

int main(void)
{
    ls_h5_quiet();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_failed_write_rolls_back_on_close),
        cmocka_unit_test(test_failed_write_then_death_recovers),
        cmocka_unit_test(test_death_mid_batch_recovers),
        cmocka_unit_test(test_writable_open_recovers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
