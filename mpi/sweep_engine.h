/* sweep_engine.h -- the sweep's connection to the replay engine.
 *
 * Validation of every configuration before any work (ls_config_load of each
 * expanded tree), and the ls_sweep_run_fn that simulates one configuration:
 * it keeps the materialised request stream of each distinct workload key
 * (common random numbers: every strategy replays the same requests, read or
 * generated once per rank), and runs the capacity search when the spec asks.
 */
#ifndef LS_SWEEP_ENGINE_H
#define LS_SWEEP_ENGINE_H

#include <stdio.h>

#include "sweep.h"

/* Load every configuration of `s`. For each, fill rows[i] (the /configs row)
 * and cost[i] (relative simulation cost) when those arrays are non-NULL.
 * Every failure is printed to `report` (at most `max_report`, then a count)
 * as "SPEC:LINE: configuration ID (LABEL): ERROR"; returns LS_EINVAL with the
 * first one in `e` when any failed. */
ls_status ls_sweep_validate(const ls_sweep_spec *s, ls_config_row *rows, double *cost, FILE *report,
                            size_t max_report, size_t *n_bad, ls_error *e);

typedef struct ls_sweep_engine ls_sweep_engine;

/* The run context for `s` (borrowed; must outlive the engine). Configuration
 * ids listed in the environment variable LS_SWEEP_FAIL_IDS ("3,7") fail with
 * an injected error: a test hook for the error path of a sweep. */
ls_sweep_engine *ls_sweep_engine_new(const ls_sweep_spec *s);
void ls_sweep_engine_free(ls_sweep_engine *g);

/* An ls_sweep_opts.set_poll: poll(poll_ctx) runs between the simulations of one
 * configuration (after its listing, after each capacity probe). ctx is an ls_sweep_engine. */
void ls_sweep_engine_set_poll(void *ctx, void (*poll)(void *), void *poll_ctx);

/* An ls_sweep_run_fn; ctx is an ls_sweep_engine. */
ls_status ls_sweep_engine_run(void *ctx, size_t id, ls_metrics *out, ls_sweep_rowbuf *rows,
                              volatile sig_atomic_t *stop, ls_error *e);

/* Capacity is a property of a configuration, not of the rate it is listed at
 * (common/config_key.h): of the listings sharing one ls_config_row_capacity_key
 * only the first (lowest id) searches. Fill searches[i] (n entries) with 1 for
 * those, 0 for the others, from the /configs rows of the whole spec (so the
 * choice is the same on any number of ranks and shards). */
void ls_sweep_capacity_owners(const ls_config_row *rows, size_t n, unsigned char *searches);

/* Make only the configurations with searches[i] != 0 run the capacity search
 * (copied; n = the spec's configurations). Without this call every
 * configuration that the spec asks to search does. */
void ls_sweep_engine_set_capacity_owners(ls_sweep_engine *g, const unsigned char *searches);

/* The same, with the groups themselves: owner_of[i] = the id of the owner of i's
 * group (n entries). */
void ls_sweep_capacity_groups(const ls_config_row *rows, size_t n, int64_t *owner_of);

/* ls_sweep_engine_set_capacity_owners from the groups (owner_of[i] == i searches),
 * which the search also uses: a probe at a rate another listing of its group is
 * listed at runs whole and is kept for that listing; any other probe stops once
 * it certainly misses the SLO (replay/slo_watch.h). Without this call every
 * probe runs whole. */
void ls_sweep_engine_set_capacity_groups(ls_sweep_engine *g, const int64_t *owner_of);

/* Adds to cost[i] of each capacity owner (owner_of[i] == i) an estimate of its
 * search: LS_SWEEP_SEARCH_PROBES simulations at the search's start rate
 * (ls_config_cost_estimate), so that the sweep hands the searches out first
 * (mpi/sweep.h, ls_sweep_opts.group). No-op without capacity search. */
#define LS_SWEEP_SEARCH_PROBES 6.0
void ls_sweep_search_costs(const ls_sweep_spec *s, const int64_t *owner_of, double *cost);

/* What this rank's engine simulated. A listing and a probe of the same
 * configuration at the same rate are one simulation (the first made, kept). */
typedef struct ls_sweep_engine_counts {
    uint64_t listed_simulated; /* listed configurations simulated */
    uint64_t listed_reused;    /* ... taken from a probe that had run them whole */
    uint64_t searches;         /* capacity searches */
    uint64_t probes;           /* their probes, all told */
    uint64_t probes_simulated; /* ... simulated (the others: the listing's own run or a kept run) */
    uint64_t probes_stopped;   /* ... of which stopped once the SLO was certainly missed */
    uint64_t probes_reused;    /* ... taken from a kept run */
} ls_sweep_engine_counts;

void ls_sweep_engine_get_counts(const ls_sweep_engine *g, ls_sweep_engine_counts *out);

/* Whether this build can run the capacity search (replay/capacity.c present). */
bool ls_sweep_engine_has_capacity(void);

#endif
