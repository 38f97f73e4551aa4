/* bench_sweep.c -- speed of the sweep machinery (numbers recorded in docs/SWEEP.md).
 *
 *   bench_sweep overhead N          N configurations whose run does nothing: the cost per
 *                                   configuration of distribution + HDF5 row + flush
 *   bench_sweep busy N MS           N configurations burning MS ms of CPU each: scaling with ranks
 *   bench_sweep spec FILE           a real specification through the engine (execution only)
 *   bench_sweep rows N [BATCH]      N /requests rows appended in batches (default 1M): rows/s
 *
 * Run under mpiexec for several ranks: `mpiexec -n 2 build/bench/bench_sweep busy 10000 1`.
 * Output: one line of key=value on rank 0. Files go to $TMPDIR (or /tmp) and are removed.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "sweep.h"
#include "sweep_engine.h"
#include "sweep_h5.h"
#include "sweep_spec.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

typedef struct busy {
    double seconds;
} busy;

static ls_status busy_run(void *ctx, size_t id, ls_metrics *out, ls_sweep_rowbuf *rows,
                          volatile sig_atomic_t *stop, ls_error *e)
{
    const busy *b = ctx;
    double t0 = now_s();
    /* burn CPU time (not wall time), like a small simulation: on a shared
     * machine the wall time then shows how much CPU the ranks really got */
    struct timespec c0, c1;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
    volatile double x = 0;
    do {
        for (int i = 0; i < 1000; i++)
            x += 1.0;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
    } while ((double)(c1.tv_sec - c0.tv_sec) + 1e-9 * (double)(c1.tv_nsec - c0.tv_nsec) < b->seconds);
    out->v[LS_M_N_REQUESTS] = (double)id;
    out->v[LS_M_WALL_TIME_S] = now_s() - t0;
    return LS_OK;
}

/* Counts the configurations each rank ran, around the real runner. */
typedef struct counted {
    ls_sweep_run_fn fn;
    void *ctx;
    long runs;
} counted;

static ls_status counted_run(void *ctx, size_t id, ls_metrics *out, ls_sweep_rowbuf *rows,
                             volatile sig_atomic_t *stop, ls_error *e)
{
    counted *c = ctx;
    c->runs++;
    return c->fn(c->ctx, id, out, rows, stop, e);
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_sec +
           1e-6 * (double)ru.ru_stime.tv_usec;
}

static void tmp_path(char *buf, size_t n, const char *tag)
{
    int pid = (int)getpid();
    MPI_Bcast(&pid, 1, MPI_INT, 0, MPI_COMM_WORLD);
    const char *dir = getenv("TMPDIR");
    snprintf(buf, n, "%s/bench_sweep_%s_%d.h5", dir && *dir ? dir : "/tmp", tag, pid);
}

static ls_sweep_spec *grid_spec(size_t n)
{
    /* x: 100 values, y: n/100 values */
    size_t ny = n / 100 ? n / 100 : 1;
    size_t cap = 64 + 8 * (100 + ny);
    char *t = ls_xmalloc(cap), *p = t;
    p += sprintf(p, "name: bench\nbase: {a: 1}\ngrid:\n  x: [");
    for (size_t i = 0; i < 100; i++)
        p += sprintf(p, "%s%zu", i ? ", " : "", i);
    p += sprintf(p, "]\n  y: [");
    for (size_t i = 0; i < ny; i++)
        p += sprintf(p, "%s%zu", i ? ", " : "", i);
    p += sprintf(p, "]\n");
    ls_sweep_spec *s = NULL;
    ls_error e;
    if (ls_sweep_spec_parse(t, strlen(t), "bench.yaml", NULL, &s, &e)) {
        fprintf(stderr, "bench_sweep: %s\n", e.msg);
        exit(1);
    }
    free(t);
    return s;
}

static ls_h5file *create(const char *path, const ls_sweep_spec *s, const ls_config_row *rows, bool reqs)
{
    ls_config_row *zero = NULL;
    if (!rows)
        rows = zero = ls_xcalloc(s->n, sizeof *zero);
    ls_h5_meta m = {.spec_text = s->text, .spec_name = s->name, .set_hash = s->set_hash, .seed = -1,
                    .ranks = 1, .n_configs = (int64_t)s->n, .shard_count = 1};
    ls_h5file *f = NULL;
    ls_error e;
    if (ls_h5_create(path, &m, s, rows, reqs, &f, &e)) {
        fprintf(stderr, "bench_sweep: %s\n", e.msg);
        exit(1);
    }
    free(zero);
    return f;
}

static int run_loop(const char *mode, ls_sweep_spec *s, ls_sweep_run_fn fn, void *ctx, const ls_config_row *rows,
                    const double *cost)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    char path[512];
    tmp_path(path, sizeof path, mode);
    ls_h5file *f = rank == 0 ? create(path, s, rows, false) : NULL;
    volatile sig_atomic_t stop = 0;
    counted cnt = {fn, ctx, 0};
    ls_sweep_opts o = {.spec = s, .run = counted_run, .run_ctx = &cnt, .comm = MPI_COMM_WORLD, .stop = &stop,
                       .cost = cost, .out = f};
    ls_sweep_stats st;
    ls_error e;
    MPI_Barrier(MPI_COMM_WORLD);
    double c0 = cpu_s();
    ls_status rc = ls_sweep_execute(&o, &st, &e);
    /* per rank: configurations run and CPU seconds used during the sweep */
    double mine[3] = {(double)cnt.runs, cpu_s() - c0, st.idle_s};
    double *all = ls_xcalloc(3 * (size_t)size, sizeof *all);
    MPI_Gather(mine, 3, MPI_DOUBLE, all, 3, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    if (rank == 0) {
        for (int r = 0; r < size; r++)
            printf("  rank %d: %.0f configurations, %.2f s CPU, %.3f s asleep waiting for work\n", r,
                   all[3 * r], all[3 * r + 1], all[3 * r + 2]);
        ls_h5_close(f, NULL);
        double per = st.wall_s / (double)s->n;
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        double load[1] = {0};
        getloadavg(load, 1);
        printf("mode=%s ranks=%d configs=%zu wall_s=%.3f per_config_ms=%.4f write_s=%.3f by_rank0=%zu "
               "rank0_cpu_s=%.2f loadavg=%.2f status=%s\n",
               mode, size, s->n, st.wall_s, 1e3 * per, st.write_s, st.by_rank0,
               (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
                   (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec,
               load[0], ls_status_name(rc));
        remove(path);
    }
    free(all);
    return rc ? 1 : 0;
}

static int bench_rows(size_t n, size_t batch)
{
    ls_sweep_spec *s = grid_spec(100);
    char path[512];
    tmp_path(path, sizeof path, "rows");
    ls_h5file *f = create(path, s, NULL, true);
    ls_sweep_reqrow *b = ls_xmalloc(batch * sizeof *b);
    for (size_t i = 0; i < batch; i++) {
        /* plausible values: compression sees realistic, not constant, data */
        memset(&b[i], 0, sizeof b[i]);
        b[i].config_id = (int64_t)(i / 5000);
        b[i].r.index = (int64_t)i;
        b[i].r.prompt_tokens = (int32_t)(200 + (i * 7919) % 3000);
        b[i].r.output_tokens = (int32_t)(20 + (i * 104729) % 500);
        b[i].r.generated_tokens = b[i].r.output_tokens;
        b[i].r.arrival_s = 0.01 * (double)i;
        b[i].r.first_scheduled_s = b[i].r.arrival_s + 0.001 * (double)(i % 97);
        b[i].r.first_token_s = b[i].r.first_scheduled_s + 0.05 + 1e-4 * (double)(i % 31);
        b[i].r.finish_s = b[i].r.first_token_s + 0.02 * b[i].r.output_tokens;
    }
    ls_error e;
    double t0 = now_s();
    for (size_t done = 0; done < n; done += batch) {
        size_t k = n - done < batch ? n - done : batch;
        if (ls_h5_append_requests(f, b, k, &e) || ls_h5_flush(f, &e)) {
            fprintf(stderr, "bench_sweep: %s\n", e.msg);
            return 1;
        }
    }
    ls_h5_close(f, NULL);
    double dt = now_s() - t0;
    FILE *fp = fopen(path, "rb");
    long bytes = 0;
    if (fp) {
        fseek(fp, 0, SEEK_END);
        bytes = ftell(fp);
        fclose(fp);
    }
    printf("mode=rows rows=%zu batch=%zu wall_s=%.3f rows_per_s=%.0f MB_per_s_raw=%.1f file_MB=%.1f\n", n, batch,
           dt, (double)n / dt, (double)n * sizeof(ls_sweep_reqrow) / dt / 1e6, (double)bytes / 1e6);
    remove(path);
    free(b);
    ls_sweep_spec_free(s);
    return 0;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    ls_h5_quiet();
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    int rc = 0;
    const char *mode = argc > 1 ? argv[1] : "";
    if (!strcmp(mode, "overhead") && argc > 2) {
        ls_sweep_spec *s = grid_spec((size_t)atol(argv[2]));
        busy b = {0};
        rc = run_loop("overhead", s, busy_run, &b, NULL, NULL);
        ls_sweep_spec_free(s);
    } else if (!strcmp(mode, "busy") && argc > 3) {
        ls_sweep_spec *s = grid_spec((size_t)atol(argv[2]));
        busy b = {atof(argv[3]) * 1e-3};
        rc = run_loop("busy", s, busy_run, &b, NULL, NULL);
        ls_sweep_spec_free(s);
    } else if (!strcmp(mode, "spec") && argc > 2) {
        ls_sweep_spec *s = NULL;
        ls_error e;
        if (ls_sweep_spec_load(argv[2], &s, &e)) {
            if (rank == 0)
                fprintf(stderr, "bench_sweep: %s\n", e.msg);
            MPI_Finalize();
            return 1;
        }
        ls_config_row *rows = ls_xcalloc(s->n, sizeof *rows);
        double *cost = ls_xcalloc(s->n, sizeof *cost);
        if (rank == 0 && ls_sweep_validate(s, rows, cost, stderr, 5, NULL, &e))
            rc = 1;
        MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
        if (!rc) {
            ls_sweep_engine *g = ls_sweep_engine_new(s);
            rc = run_loop("spec", s, ls_sweep_engine_run, g, rows, cost);
            ls_sweep_engine_free(g);
        }
        free(rows);
        free(cost);
        ls_sweep_spec_free(s);
    } else if (!strcmp(mode, "rows") && argc > 2) {
        if (rank == 0)
            rc = bench_rows((size_t)atol(argv[2]), argc > 3 ? (size_t)atol(argv[3]) : (size_t)1 << 20);
    } else {
        if (rank == 0)
            fprintf(stderr, "usage: bench_sweep overhead N | busy N MS | spec FILE | rows N [BATCH]\n");
        rc = 2;
    }
    MPI_Finalize();
    return rc;
}
