/* capacity.h -- the highest arrival rate a configuration serves within its SLO.
 *
 * Bisection on the arrival rate of the configuration's workload, same seed
 * every time (so successive runs differ only by rate), to a stated relative
 * tolerance. "Meets the SLO" is defined in capacity.c and docs/REPORT.md. */
#ifndef LS_CAPACITY_H
#define LS_CAPACITY_H

#include "replay.h"

typedef struct ls_capacity_opts {
    double rate_lo;           /* a rate assumed to pass (checked); <= 0: start from a small guess */
    double rate_hi;           /* upper end of the search; <= 0: grow by doubling until it fails */
    double rel_tol;           /* stop when (hi - lo) / lo <= rel_tol (e.g. 0.05) */
    int max_runs;             /* bound on simulations (e.g. 24) */
} ls_capacity_opts;

typedef struct ls_capacity_result {
    double capacity_rps;      /* highest rate found to meet the SLO (0 when even the lowest fails; NaN when infeasible) */
    double failing_rps;       /* lowest rate found to miss it (NaN when never reached) */
    int runs;                 /* simulations done */
} ls_capacity_result;

ls_status ls_capacity_search(const ls_run_config *c, const ls_capacity_opts *o,
                             ls_capacity_result *out, ls_error *e);

#endif
