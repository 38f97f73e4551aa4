/* engine.h -- the discrete-event loop over DP replicas (internal to replay/). */
#ifndef LS_ENGINE_H
#define LS_ENGINE_H

#include "config_internal.h"
#include "cost.h"
#include "replay.h"
#include "scheduler.h"

typedef struct ls_engine_setup {
    const ls_run_config *cfg;        /* router, dp, pp, timeout, drain, SLO */
    ls_sched_config sched;           /* resolved budget and KV blocks */
    ls_cost_model **cost;            /* one per replica */
    ls_source *src;                  /* requests in arrival order */
    double arrival_limit_s;          /* no arrivals after this (INFINITY: none) */
    double horizon_s;                /* with !drain: stop here */
    const ls_run_opts *opts;         /* callbacks, timeline, stop flag (may be NULL) */
    double expected_requests;        /* hint: room reserved for the latencies (0: unknown) */
} ls_engine_setup;

/* Run the simulation and fill the engine's part of `m` (everything but the
 * deployment columns). Fails on source errors (I/O) and LS_EINTERRUPTED. */
ls_status ls_engine_simulate(const ls_engine_setup *s, ls_metrics *m, ls_error *e);

/* Timeline of iterations (Chrome/Perfetto trace-event JSON). */
typedef struct ls_timeline ls_timeline;
ls_status ls_timeline_open(const char *path, ls_timeline **out, ls_error *e);
void ls_timeline_add(ls_timeline *t, int replica, int stage, double start_s, double end_s,
                     const ls_mbatch_info *b);
ls_status ls_timeline_close(ls_timeline *t, ls_error *e);  /* accepts NULL */

#endif
