/* capacity.h -- the highest arrival rate a configuration serves within its SLO.
 *
 * A search on the arrival rate of the configuration's workload (bisection, or
 * bisection guided by the runs it has seen), same seed every time (so successive
 * runs differ only by rate), to a stated relative tolerance. "Meets the SLO" is
 * defined in capacity.c and docs/REPORT.md. */
#ifndef LS_CAPACITY_H
#define LS_CAPACITY_H

#include <signal.h>

#include "replay.h"

/* What a caller that holds more than one configuration (the sweep engine) lends
 * the search; every member may be NULL. None changes an answer: they only
 * save work (docs/PLAN.md, "Speed"). */
typedef struct ls_capacity_hooks {
    void *ctx;
    /* The pre-read request stream of c's workload at c's rate (the one a
     * listing of c at that rate replays), so a probe does not read the trace again. */
    ls_status (*requests)(void *ctx, const ls_run_config *c, const ls_request_array **out, ls_error *e);
    /* A whole run of c at its rate made earlier (a listing, or a probe), or NULL. */
    const ls_metrics *(*lookup)(void *ctx, const ls_run_config *c);
    /* Offered every whole run a probe makes (status ok or infeasible). */
    void (*store)(void *ctx, const ls_run_config *c, const ls_metrics *m);
    /* Whether a probe of c must run whole (its metrics are wanted: a listing of
     * c at this rate is still to run). NULL or false: a probe with a pre-read
     * stream stops once it certainly misses the SLO (slo_watch.h). */
    bool (*whole)(void *ctx, const ls_run_config *c);
    /* Called after each probe (NULL: none): a caller that is also a coordinator (the
     * sweep's rank 0) answers its workers there. It must not touch the search. */
    void (*between)(void *ctx);
} ls_capacity_hooks;

typedef struct ls_capacity_opts {
    double rate_lo;           /* a rate assumed to pass (checked); <= 0: start at LS_CAPACITY_START_RPS */
    double rate_hi;           /* upper end of the search; <= 0: grow by doubling until it fails */
    double rel_tol;           /* stop when (hi - lo) / lo <= rel_tol (e.g. 0.05) */
    int max_runs;             /* bound on simulations (e.g. 24) */
    /* Where the search starts when rate_lo is not given (<= 0: LS_CAPACITY_START_RPS):
     * the first probe; it grows by doubling when that passes and halves when it fails,
     * exactly as from the default start. A start near the capacity saves the probes
     * between 0.25 req/s and it (`plan` starts at its target rate). */
    double rate_start;
    /* The lowest rate the search probes (0: none but LS_CAPACITY_MIN_REQUESTS; negative or
     * NaN: an error): when
     * halving from the start would go below it, the next probe is at the floor itself,
     * and a configuration that fails there has capacity 0 with failing_rps = the floor:
     * "below the floor", not searched further. Must not exceed the start. */
    double rate_floor;
    /* The outcome of a run already made at known_rate (NULL: none): when the first
     * probe is at that rate, the search takes it instead of simulating it again. It must
     * be the run of this configuration at that rate (same seed, same requests). */
    const ls_metrics *known;
    double known_rate;
    const ls_capacity_hooks *hooks; /* NULL: every probe simulated whole from the workload */
    /* Rates at which the caller runs the configuration whole anyway (a sweep: the rates
     * its listings are at; NULL/0: none). Part of the question, like the start: the
     * answer depends on them, never on the hooks. With `bisect` false the search uses
     * them: a given rate inside the bracket is probed before any other (its run is
     * made anyway), and the SLO margin of the runs at them guides the next probe. */
    const double *given_rates;
    int n_given_rates;
    /* true: plain bisection (geometric midpoints while the bracket is wide), the
     * search before guided probes; false (default): guided (capacity.c). */
    bool bisect;
    /* Checked before each probe and by probes that are not watched (NULL: none): once
     * non-zero the search ends with LS_EINTERRUPTED within one probe (a sweep's SIGTERM). */
    volatile sig_atomic_t *stop;
} ls_capacity_opts;

typedef struct ls_capacity_result {
    double capacity_rps;      /* highest rate found to meet the SLO (0 when even the lowest fails; NaN when infeasible) */
    double failing_rps;       /* lowest rate found to miss it (NaN when never reached) */
    bool below_floor;         /* it missed the SLO at rate_floor: capacity 0, failing_rps the floor */
    int runs;                 /* probes made (a `known` run counts as one) */
    int simulated;            /* of which simulated here (the others: `known` or hooks->lookup) */
    int stopped;              /* of which stopped once the SLO was certainly missed */
} ls_capacity_result;

/* Search. `c` is not modified: the search runs on a private copy. An
 * infeasible configuration returns LS_OK with capacity NaN after one run. */
ls_status ls_capacity_search(const ls_run_config *c, const ls_capacity_opts *o,
                             ls_capacity_result *out, ls_error *e);

/* ---- additions (analysis helper) ---------------------------------------- */

/* Share of ALL requests that must complete for a run to meet the SLO. */
#define LS_CAPACITY_MIN_SUCCESS 0.99

/* Where the search starts when rate_lo is not given (req/s). Fixed, never the
 * configuration's listed arrival rate, so the capacity of a configuration does
 * not depend on the rate it happens to be listed at in a sweep. */
#define LS_CAPACITY_START_RPS 0.25

/* The search does not halve below the rate at which the arrival window
 * (duration_s) expects this many requests: with fewer, a configuration can
 * "meet" a limit it misses at every real load (one lucky request). Below it
 * the capacity is 0. */
#define LS_CAPACITY_MIN_REQUESTS 10.0

/* rate_lo/rate_hi/rate_start 0 (start at LS_CAPACITY_START_RPS, grow), rel_tol 0.05, max_runs 24, no known run,
 * no given rates, guided. */
void ls_capacity_opts_default(ls_capacity_opts *o);

/* The SLO test of the search, on the configuration's own limits (slo.ttft_s,
 * slo.tpot_s): status ok, ttft_p99 <= ttft limit, tpot_p99 <= tpot limit
 * (or undefined: no request had two output tokens), and success_rate >=
 * LS_CAPACITY_MIN_SUCCESS. The report applies the same rule (docs/REPORT.md). */
bool ls_capacity_meets_slo(const ls_run_config *c, const ls_metrics *m);

#endif
