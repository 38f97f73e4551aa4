/* test_sweep_loop_mpi.c -- the distribution loop with a fake runner, on 1, 2 and 3 ranks:
 * every configuration recorded exactly once with the runner's values; failures
 * recorded as status error; request rows all there; a stop part way leaves a
 * consistent file that a second pass over the missing configurations completes. */
#include <math.h>
#include <mpi.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sweep.h"

#define N_CFG 40

typedef struct fake {
    int stop_after; /* set *stop after this many runs on this rank (0: never) */
    int runs;
} fake;

/* Values depend on the id only, like a deterministic simulation. */
static ls_status fake_run(void *ctx, size_t id, ls_metrics *out, ls_sweep_rowbuf *rows,
                          volatile sig_atomic_t *stop, ls_error *e)
{
    fake *f = ctx;
    if (f->stop_after && ++f->runs >= f->stop_after)
        *stop = 1;
    if (id % 13 == 7)
        return ls_fail(e, LS_EIO, "fake: trace %zu unreadable", id);
    if (id == 11) {
        out->status = LS_RUN_INFEASIBLE;
        snprintf(out->message, sizeof out->message, "weights do not fit");
    } else {
        out->v[LS_M_TTFT_MEAN_S] = 0.5 * (double)id;
        out->v[LS_M_N_REQUESTS] = (double)(id % 5);
    }
    if (rows)
        for (size_t k = 0; k < id % 5; k++) {
            ls_sweep_reqrow r;
            memset(&r, 0, sizeof r);
            r.r.index = (int64_t)k;
            r.r.prompt_tokens = (int32_t)(100 * id + k);
            r.r.arrival_s = (double)k;
            ls_sweep_rowbuf_push(rows, &r);
        }
    usleep(1000); /* so that several ranks really share the work */
    return LS_OK;
}

static ls_sweep_spec *make_spec(void)
{
    const char *t = "name: fake\nbase: {a: 1}\ngrid: {x: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], y: [p, q, r, s]}\n";
    ls_sweep_spec *s = NULL;
    ls_error e;
    if (ls_sweep_spec_parse(t, strlen(t), "fake.yaml", NULL, &s, &e))
        fail_msg("%s", e.msg);
    assert_int_equal(s->n, N_CFG);
    return s;
}

static void path_for(char *buf, size_t n, const char *tag)
{
    int pid = (int)getpid();
    MPI_Bcast(&pid, 1, MPI_INT, 0, MPI_COMM_WORLD);
    snprintf(buf, n, "/tmp/ls_test_loop_%s_%d.h5", tag, pid);
}

static ls_h5file *create_file(const char *path, const ls_sweep_spec *s)
{
    ls_config_row *rows = ls_xcalloc(s->n, sizeof *rows);
    ls_h5_meta m = {.spec_text = s->text, .spec_name = s->name, .set_hash = s->set_hash, .seed = -1,
                    .ranks = 1, .n_configs = (int64_t)s->n, .shard_count = 1};
    ls_h5file *f = NULL;
    ls_error e;
    if (ls_h5_create(path, &m, s, rows, true, &f, &e))
        fail_msg("%s", e.msg);
    free(rows);
    return f;
}

/* Check the file: every id in want[] exactly once with the fake's values. */
static void check_file(const char *path, const ls_sweep_spec *s, size_t expect_rows)
{
    ls_h5file *f = NULL;
    ls_error e;
    if (ls_h5_open(path, false, &f, &e))
        fail_msg("%s", e.msg);
    ls_sweep_result *r;
    size_t n;
    assert_int_equal(ls_h5_read_results(f, &r, &n, &e), LS_OK);
    assert_int_equal(n, expect_rows);
    int seen[N_CFG] = {0};
    for (size_t i = 0; i < n; i++) {
        int64_t id = r[i].config_id;
        assert_true(id >= 0 && id < N_CFG);
        seen[id]++;
        assert_string_equal(r[i].hash, s->configs[id].hash);
        if (id % 13 == 7) {
            assert_int_equal(r[i].m.status, LS_RUN_ERROR);
            assert_non_null(strstr(r[i].m.message, "unreadable"));
        } else if (id == 11) {
            assert_int_equal(r[i].m.status, LS_RUN_INFEASIBLE);
            assert_string_equal(r[i].m.message, "weights do not fit");
            assert_true(isnan(r[i].m.v[LS_M_TTFT_MEAN_S]));
            assert_true(isnan(r[i].m.v[LS_M_N_REQUESTS])); /* written as -1, read as NaN */
        } else {
            assert_int_equal(r[i].m.status, LS_RUN_OK);
            assert_true(r[i].m.v[LS_M_TTFT_MEAN_S] == 0.5 * (double)id);
            assert_true(r[i].m.v[LS_M_N_REQUESTS] == (double)(id % 5));
        }
        assert_true(r[i].m.v[LS_M_WALL_TIME_S] >= 0);
    }
    for (int i = 0; i < N_CFG; i++)
        assert_true(seen[i] <= 1);
    /* request rows: one per request of every finished, non-error configuration */
    ls_sweep_reqrow *q;
    size_t nq;
    assert_int_equal(ls_h5_read_requests(f, &q, &nq, &e), LS_OK);
    size_t want = 0;
    for (size_t i = 0; i < n; i++)
        if (r[i].m.status != LS_RUN_ERROR)
            want += (size_t)r[i].config_id % 5;
    assert_int_equal(nq, want);
    for (size_t i = 0; i < nq; i++) {
        assert_true(seen[q[i].config_id] == 1);
        assert_int_equal(q[i].r.prompt_tokens, 100 * q[i].config_id + q[i].r.index);
    }
    free(q);
    free(r);
    ls_h5_close(f, NULL);
}

static void test_all_configs_once(void **st)
{
    (void)st;
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    ls_sweep_spec *s = make_spec();
    char path[256];
    path_for(path, sizeof path, "all");
    ls_h5file *f = rank == 0 ? create_file(path, s) : NULL;
    volatile sig_atomic_t stop = 0;
    fake fk = {0};
    double cost[N_CFG];
    for (int i = 0; i < N_CFG; i++)
        cost[i] = (double)(i % 7); /* an order unlike the ids */
    ls_sweep_opts o = {.spec = s, .run = fake_run, .run_ctx = &fk, .comm = MPI_COMM_WORLD, .stop = &stop,
                       .requests = LS_REQS_ALL, .cost = cost, .out = f};
    ls_sweep_stats stt;
    ls_error e;
    assert_int_equal(ls_sweep_execute(&o, &stt, &e), LS_OK);
    if (rank == 0) {
        assert_int_equal(stt.total, N_CFG);
        assert_int_equal(stt.done, N_CFG);
        assert_int_equal(stt.failed, 3); /* ids 7, 20 and 33 */
        assert_int_equal(ls_h5_close(f, &e), LS_OK);
        check_file(path, s, N_CFG);
        remove(path);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    ls_sweep_spec_free(s);
}

static void test_stop_then_finish(void **st)
{
    (void)st;
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    ls_sweep_spec *s = make_spec();
    char path[256];
    path_for(path, sizeof path, "stop");
    ls_h5file *f = rank == 0 ? create_file(path, s) : NULL;
    volatile sig_atomic_t stop = 0;
    fake fk = {.stop_after = 5}; /* every rank "gets a signal" after 5 runs */
    ls_sweep_opts o = {.spec = s, .run = fake_run, .run_ctx = &fk, .comm = MPI_COMM_WORLD, .stop = &stop,
                       .requests = LS_REQS_ALL, .out = f};
    ls_sweep_stats stt;
    ls_error e;
    assert_int_equal(ls_sweep_execute(&o, &stt, &e), LS_EINTERRUPTED);
    bool todo[N_CFG];
    size_t done1 = 0;
    if (rank == 0) {
        assert_true(stt.done < N_CFG);
        assert_int_equal(ls_h5_close(f, &e), LS_OK);
        check_file(path, s, stt.done);
        done1 = stt.done;
        /* second pass over what is missing, as --resume does */
        assert_int_equal(ls_h5_open(path, true, &f, &e), LS_OK);
        ls_sweep_result *r;
        size_t n;
        assert_int_equal(ls_h5_read_results(f, &r, &n, &e), LS_OK);
        for (int i = 0; i < N_CFG; i++)
            todo[i] = true;
        for (size_t i = 0; i < n; i++)
            todo[r[i].config_id] = false;
        free(r);
    }
    stop = 0;
    fk = (fake){0};
    o.todo = todo;
    o.out = f;
    assert_int_equal(ls_sweep_execute(&o, &stt, &e), LS_OK);
    if (rank == 0) {
        assert_int_equal(stt.done, N_CFG - done1);
        assert_int_equal(ls_h5_close(f, &e), LS_OK);
        check_file(path, s, N_CFG);
        remove(path);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    ls_sweep_spec_free(s);
}

/* Configurations that report a tiny wall time while rank 0's own take 20 ms and the workers'
 * 50 ms: the hand-out depth jumps to its maximum after rank 0's first write, and the next write
 * section (no result has arrived) hands the workers every remaining id. Rank 0 must then not run
 * one itself from its stale "work left" flag: that ran the last id twice (41 results of 40, a
 * duplicate /results row), seen under load. */
static ls_status slow_tiny_run(void *ctx, size_t id, ls_metrics *out, ls_sweep_rowbuf *rows,
                               volatile sig_atomic_t *stop, ls_error *e)
{
    (void)ctx;
    (void)rows;
    (void)stop;
    (void)e;
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    usleep(rank == 0 ? 20000 : 50000);
    out->v[LS_M_TTFT_MEAN_S] = 0.5 * (double)id;
    out->v[LS_M_WALL_TIME_S] = 1e-9;
    return LS_OK;
}

static void test_depth_jump_runs_each_once(void **st)
{
    (void)st;
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    const char *t = "name: jump\nbase: {a: 1}\ngrid: {x: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]}\n";
    ls_sweep_spec *s = NULL;
    ls_error e;
    if (ls_sweep_spec_parse(t, strlen(t), "jump.yaml", NULL, &s, &e))
        fail_msg("%s", e.msg);
    char path[256];
    path_for(path, sizeof path, "jump");
    ls_h5file *f = rank == 0 ? create_file(path, s) : NULL;
    volatile sig_atomic_t stop = 0;
    ls_sweep_opts o = {.spec = s, .run = slow_tiny_run, .comm = MPI_COMM_WORLD, .stop = &stop,
                       .requests = LS_REQS_NONE, .out = f};
    ls_sweep_stats stt;
    assert_int_equal(ls_sweep_execute(&o, &stt, &e), LS_OK);
    if (rank == 0) {
        assert_int_equal(stt.done, s->n);
        assert_int_equal(ls_h5_close(f, &e), LS_OK);
        assert_int_equal(ls_h5_open(path, false, &f, &e), LS_OK);
        ls_sweep_result *r;
        size_t n;
        assert_int_equal(ls_h5_read_results(f, &r, &n, &e), LS_OK);
        assert_int_equal(n, s->n);
        int seen[12] = {0};
        for (size_t i = 0; i < n; i++)
            assert_int_equal(++seen[r[i].config_id], 1);
        free(r);
        ls_h5_close(f, NULL);
        remove(path);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    ls_sweep_spec_free(s);
}

/* Capacity groups (ls_sweep_opts.group) and rank 0's poll (set_poll): a runner whose group
 * owners, on rank 0, run three "probes" and poll between them, as a capacity search does. Every
 * configuration is recorded once with its values; a group goes to one rank whole, but for at
 * most the one where the workers' head meets rank 0's tail; the poll is handed out only for the
 * loop and taken back (NULL) at its end. */
typedef struct grouped {
    void (*poll)(void *);
    void *poll_ctx;
    int set_calls, polls;
} grouped;

static void grouped_set_poll(void *ctx, void (*poll)(void *), void *poll_ctx)
{
    grouped *g = ctx;
    g->poll = poll;
    g->poll_ctx = poll_ctx;
    g->set_calls++;
}

static ls_status grouped_run(void *ctx, size_t id, ls_metrics *out, ls_sweep_rowbuf *rows,
                             volatile sig_atomic_t *stop, ls_error *e)
{
    (void)rows;
    (void)stop;
    (void)e;
    grouped *g = ctx;
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    for (int k = 0; id % 5 == 0 && k < 3; k++) { /* an owner's search: probes, a poll after each */
        usleep(3000);
        if (g->poll) {
            g->poll(g->poll_ctx);
            g->polls++;
        }
    }
    usleep(1000);
    out->v[LS_M_TTFT_MEAN_S] = 0.5 * (double)id;
    out->v[LS_M_TTFT_P50_S] = (double)rank; /* who ran it */
    return LS_OK;
}

static void test_groups_and_poll(void **st)
{
    (void)st;
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    ls_sweep_spec *s = make_spec();
    char path[256];
    path_for(path, sizeof path, "groups");
    ls_h5file *f = rank == 0 ? create_file(path, s) : NULL;
    volatile sig_atomic_t stop = 0;
    int64_t group[N_CFG];
    double cost[N_CFG];
    for (int i = 0; i < N_CFG; i++) {
        group[i] = i - i % 5;                 /* 8 groups of 5, the first of each its owner */
        cost[i] = i % 5 ? 1 : 3 + (i / 5) % 3; /* the owners' searches cost most */
    }
    grouped g = {0};
    ls_sweep_opts o = {.spec = s, .run = grouped_run, .run_ctx = &g, .comm = MPI_COMM_WORLD, .stop = &stop,
                       .requests = LS_REQS_NONE, .cost = cost, .group = group,
                       .set_poll = grouped_set_poll, .out = f};
    ls_sweep_stats stt;
    ls_error e;
    assert_int_equal(ls_sweep_execute(&o, &stt, &e), LS_OK);
    assert_null(g.poll);
    assert_int_equal(g.set_calls, rank == 0 ? 2 : 0); /* lent for the loop, then taken back */
    if (size == 1) /* rank 0 ran every owner, and polled (with no worker to answer) after each probe */
        assert_int_equal(g.polls, 3 * N_CFG / 5);
    if (rank == 0) {
        assert_int_equal(stt.done, N_CFG);
        assert_int_equal(ls_h5_close(f, &e), LS_OK);
        assert_int_equal(ls_h5_open(path, false, &f, &e), LS_OK);
        ls_sweep_result *r;
        size_t n;
        assert_int_equal(ls_h5_read_results(f, &r, &n, &e), LS_OK);
        assert_int_equal(n, N_CFG);
        int seen[N_CFG] = {0}, by[N_CFG];
        for (size_t i = 0; i < n; i++) {
            int64_t id = r[i].config_id;
            assert_int_equal(++seen[id], 1);
            assert_true(r[i].m.v[LS_M_TTFT_MEAN_S] == 0.5 * (double)id);
            by[id] = (int)r[i].m.v[LS_M_TTFT_P50_S];
            assert_true(by[id] >= 0 && by[id] < size);
        }
        int split = 0;
        for (int gi = 0; gi < N_CFG; gi += 5) {
            bool one = true;
            for (int k = 1; k < 5; k++)
                one &= by[gi + k] == by[gi];
            split += !one;
        }
        assert_true(split <= 1);
        free(r);
        ls_h5_close(f, NULL);
        remove(path);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    ls_sweep_spec_free(s);
}

static void test_sampling_is_deterministic(void **st)
{
    (void)st;
    ls_reqs_mode m;
    size_t n;
    ls_error e;
    assert_int_equal(ls_sweep_parse_requests("sample:3", &m, &n, &e), LS_OK);
    assert_int_equal(m, LS_REQS_SAMPLE);
    assert_int_equal(n, 3);
    assert_int_equal(ls_sweep_parse_requests("all", &m, &n, &e), LS_OK);
    assert_int_equal(m, LS_REQS_ALL);
    assert_int_not_equal(ls_sweep_parse_requests("sample:0", &m, &n, &e), LS_OK);
    assert_int_not_equal(ls_sweep_parse_requests("some", &m, &n, &e), LS_OK);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    ls_h5_quiet();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_configs_once),
        cmocka_unit_test(test_stop_then_finish),
        cmocka_unit_test(test_depth_jump_runs_each_once),
        cmocka_unit_test(test_groups_and_poll),
        cmocka_unit_test(test_sampling_is_deterministic),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    MPI_Finalize();
    return rc;
}
