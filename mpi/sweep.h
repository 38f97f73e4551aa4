/* sweep.h -- run a sweep's configurations over MPI ranks (the distribution loop).
 *
 * Rank 0 coordinates with dynamic self-scheduling: every worker holds a few
 * configurations (one running, at least one queued, more when configurations
 * are tiny compared with rank 0's writes, so it never waits for rank 0), and
 * each result it sends is its request for the next. Work is handed out
 * most expensive first; rank 0 takes the cheapest from the other end when it
 * has nothing to answer, so it stays responsive. Nobody blocks in MPI_Recv:
 * waiting is MPI_Test/MPI_Improbe plus nanosleep, so an idle coordinator
 * costs no core (../shared/brief/hpc.md section 3). Rank 0 is the only writer
 * of the result file; it flushes every time it has new rows and is about to
 * wait or compute, so a killed job loses only the configurations in flight.
 *
 * Every rank must hold the same expanded specification (each rank loads the
 * spec file itself; expansion is deterministic), so only config ids travel
 * from rank 0 and packed result messages (metrics + request rows) travel back.
 */
#ifndef LS_SWEEP_H
#define LS_SWEEP_H

#include <mpi.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "sweep_h5.h"
#include "sweep_spec.h"

typedef enum ls_reqs_mode { LS_REQS_NONE = 0, LS_REQS_ALL = 1, LS_REQS_SAMPLE = 2 } ls_reqs_mode;

/* Parse "all", "none" or "sample:N". */
ls_status ls_sweep_parse_requests(const char *s, ls_reqs_mode *mode, size_t *n, ls_error *e);
/* The inverse: "none", "all" or "sample:N" into buf (the requests_mode root attribute). */
void ls_sweep_format_requests(ls_reqs_mode mode, size_t n, char *buf, size_t cap);

/* A growable buffer of request rows. */
typedef struct ls_sweep_rowbuf {
    ls_sweep_reqrow *v;
    size_t n, cap;
} ls_sweep_rowbuf;
void ls_sweep_rowbuf_push(ls_sweep_rowbuf *b, const ls_sweep_reqrow *r);
void ls_sweep_rowbuf_free(ls_sweep_rowbuf *b);

/* Run configuration `id` of the spec. Fill `out` (ls_metrics_init done by the
 * caller) and return LS_OK -- status ok, infeasible, or error with the reason
 * in out->message -- or LS_EINTERRUPTED when *stop became set and the run was
 * abandoned; any other status is recorded as status error with e's message.
 * When `rows` is non-NULL, append one row per request to it. */
typedef ls_status (*ls_sweep_run_fn)(void *ctx, size_t id, ls_metrics *out, ls_sweep_rowbuf *rows,
                                     volatile sig_atomic_t *stop, ls_error *e);

typedef struct ls_sweep_opts {
    const ls_sweep_spec *spec;
    ls_sweep_run_fn run;
    void *run_ctx;
    MPI_Comm comm;
    volatile sig_atomic_t *stop;  /* set by a signal handler: stop handing out work */
    ls_reqs_mode requests;
    size_t sample_n;              /* requests per configuration for LS_REQS_SAMPLE */
    /* rank 0 only: */
    const double *cost;           /* relative cost per configuration (NULL: all equal) */
    /* group[i]: the id that stands for i's group (a capacity search's owner), or NULL:
     * each configuration its own. A group is handed out whole to one rank, costliest
     * group (sum of its costs) first, so that its listings and its search's probes at
     * the same rates are one simulation (mpi/sweep_engine.h). Only the order changes. */
    const int64_t *group;
    /* Optional: lets rank 0 answer its workers while it runs a long configuration
     * itself. run_ctx is to call poll(poll_ctx) now and then during o->run (between
     * the simulations of a capacity search); NULL: rank 0 answers between configurations. */
    void (*set_poll)(void *run_ctx, void (*poll)(void *poll_ctx), void *poll_ctx);
    const bool *todo;             /* configurations to run (NULL: all) */
    ls_h5file *out;               /* destination of the rows (NULL: discard, for benchmarks) */
    bool progress;                /* progress on stderr */
} ls_sweep_opts;

typedef struct ls_sweep_stats {
    size_t total;        /* configurations to run in this invocation */
    size_t done;         /* results recorded (any status) */
    size_t failed;       /* of which status error */
    size_t infeasible;   /* of which status infeasible */
    size_t interrupted;  /* abandoned because of a stop */
    size_t by_rank0;     /* computed by rank 0 itself */
    size_t request_rows; /* rows written to /requests */
    double wall_s;
    double write_s;      /* rank 0 time in HDF5 writes and flushes */
    double idle_s;       /* this rank (any rank): time asleep waiting for work or messages */
} ls_sweep_stats;

/* Collective over o->comm. Returns LS_OK when every configuration to run has
 * a recorded result, LS_EINTERRUPTED when a stop left some unrun (the file is
 * consistent; resume runs them), or an I/O error of the result file (rank 0;
 * the other ranks then get LS_EIO too). `st` is filled on rank 0 (idle_s and
 * wall_s on every rank). */
ls_status ls_sweep_execute(const ls_sweep_opts *o, ls_sweep_stats *st, ls_error *e);

#endif
