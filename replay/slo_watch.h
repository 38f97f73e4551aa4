/* slo_watch.h -- stop a run as soon as it can no longer meet its SLO.
 *
 * The capacity search only needs to know whether a probe meets the SLO
 * (ls_capacity_meets_slo); for a probe far above the capacity that is
 * settled long before its last request finishes. The watch follows the
 * requests as they reach their final status (ls_run_opts.on_request) and sets
 * its stop flag once failure is certain whatever the requests still to come
 * do; the run then ends with LS_EINTERRUPTED and the probe counts as failed.
 *
 * "Certain" from the request count N of the stream (an upper bound on the
 * requests the run admits, so it needs a pre-read stream): with n <= N
 * completed requests, the p99 (ls_percentile: linear interpolation between
 * order statistics k = floor(0.99 (n - 1)) and k + 1) exceeds a limit L as
 * soon as the n - k < 0.01 n + 2 <= 0.01 N + 2 largest values do, so
 * 0.01 N + 2 completed requests over L settle it; to stay true of the
 * histogram sketch past 2^20 values (metrics.h: a value stands for its
 * bucket's centre), "over L" means over L (1 + 2^-(LS_QUANT_SUB_BITS - 1)).
 * A request's TTFT is known at its first token (on_first_token), before it
 * completes, and is counted then. It is in the TTFT's p99 only if it also
 * completes: where a request can end otherwise after its first token (a
 * timeout while it waits again after a preemption, or the end of a run that
 * does not drain), up to the 0.01 N - F more requests that may still fail
 * without failing the success rate (F those failed so far) could be late
 * ones, so that many more are needed; a late one that does fail no longer
 * counts.
 * Likewise more than 0.01 N requests that end other than completed make the
 * success rate miss LS_CAPACITY_MIN_SUCCESS. A watch that never fires leaves
 * the run whole: its result is exactly the unwatched one. */
#ifndef LS_SLO_WATCH_H
#define LS_SLO_WATCH_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "replay.h"

typedef struct ls_slo_watch {
    volatile sig_atomic_t stop;  /* pass as ls_run_opts.stop */
    double ttft_over, tpot_over; /* a request past these counts against the limit */
    double need;                 /* requests over a limit that settle it (0.01 N + 2) */
    double max_failed;           /* requests not completed beyond which the success rate fails */
    double slack;                /* late first tokens that may yet end other than completed */
    int64_t n_ttft, n_tpot, n_failed;
} ls_slo_watch;

/* Watch a run of c over a stream of n_requests requests (the exact count of a
 * pre-read stream). Returns false (the watch unusable: run unwatched) when c
 * is a configuration whose requests do not all pass through on_request the
 * same way (disaggregated pools, replica mixes) or has no limits. */
bool ls_slo_watch_init(ls_slo_watch *w, const ls_run_config *c, size_t n_requests);

/* Set o's on_request, on_first_token (both with w as ctx, any order) and stop
 * to watch the run. */
void ls_slo_watch_attach(ls_slo_watch *w, ls_run_opts *o);

#endif
