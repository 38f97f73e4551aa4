/* engine.h -- the discrete-event loop over DP replicas (internal to replay/). */
#ifndef LS_ENGINE_H
#define LS_ENGINE_H

#include "config_internal.h"
#include "cost.h"
#include "replay.h"
#include "scheduler.h"

typedef struct ls_engine ls_engine;

/* Hooks of disaggregated serving (pools.c), NULL for aggregated serving. The
 * hook owns what happens between the replicas (KV handoff); the engine keeps
 * the events, the pipelines and the metrics. */
typedef struct ls_engine_hooks {
    void *ctx;
    int n_route;  /* arrivals are routed among replicas [0, n_route) */
    /* A request reached its final status on `replica` (called from inside the
     * scheduler: defer any action to after_step). True = the hook takes it
     * over and the engine does not count it now. */
    bool (*on_done)(void *ctx, int replica, const ls_req_done *d);
    /* Replica `replica` completed a micro-batch (its freed blocks are back) or
     * got arrivals, at `now`; called before it schedules again. */
    void (*after_step)(void *ctx, ls_engine *g, int replica, double now);
    /* An event pushed with ls_engine_push fired. */
    void (*on_event)(void *ctx, ls_engine *g, int32_t payload, double now);
    /* End of the simulation: report what the hook still holds, add its metrics. */
    void (*finish)(void *ctx, ls_engine *g, double now, ls_metrics *m);
} ls_engine_hooks;

/* For hooks: an event at t >= now carrying `payload`; the replica i; form its
 * micro-batches now; count a request's final status in the metrics; the busy
 * seconds, FLOPs and bytes of replica i so far. */
void ls_engine_push(ls_engine *g, double t, int32_t payload);
ls_replica *ls_engine_replica(ls_engine *g, int i);
void ls_engine_kick(ls_engine *g, int i, double now);
void ls_engine_report(ls_engine *g, int replica, const ls_req_done *d);
void ls_engine_replica_work(const ls_engine *g, int i, double *busy_s, double *flops, double *bytes);
/* For DP lockstep (lockstep.c): the time of micro-batch b on replica i (cost
 * model and offload links); push b (NULL: a dummy batch, which holds the GPUs
 * but completes nothing) through replica i's pipeline at `now` with the
 * stage times of ic, returning when it leaves the last stage; when replica
 * i's first stage is free. */
void ls_engine_step_cost(ls_engine *g, int i, const ls_mbatch_info *b, ls_iter_cost *ic);
double ls_engine_launch(ls_engine *g, int i, const ls_mbatch_info *b, const ls_iter_cost *ic, double now);
double ls_engine_stage0_free(const ls_engine *g, int i);

typedef struct ls_engine_setup {
    const ls_run_config *cfg;        /* router, dp, pp, timeout, drain, SLO */
    ls_sched_config sched;           /* resolved budget and KV blocks */
    ls_cost_model **cost;            /* one per replica */
    ls_source *src;                  /* requests in arrival order */
    double arrival_limit_s;          /* no arrivals after this (INFINITY: none) */
    double horizon_s;                /* with !drain: stop here */
    const ls_run_opts *opts;         /* callbacks, timeline, stop flag (may be NULL) */
    double expected_requests;        /* hint: room reserved for the latencies (0: unknown) */
    /* Heterogeneous replicas (pools.c): n_replicas (0 = cfg->dp), each with
     * its own scheduler settings and PP degree (NULL = sched and cfg->pp). */
    int n_replicas;
    const ls_sched_config *scheds;
    const int *pps;
    const ls_engine_hooks *hooks;    /* NULL: aggregated serving */
    const bool *long_replica;        /* mixed replicas (replica_mix.c): the router's is_long per replica (NULL: none) */
    double offload_s_per_block;      /* KV offload: link time of one block's copy on each GPU (0: none) */
    double weight_stream_s;          /* CPU weight offload: link time per forward pass of every stage (0: none) */
    double swap_s_per_block;         /* preemption by swap: link time of one block's copy on each GPU (0: none) */
    double swap_block_bytes;         /* its bytes over all GPUs of a replica */
    int lockstep;                    /* DP lockstep (lockstep.h): groups of this many replicas step together
                                        (0, 1: none; not with hooks or per-replica PP) */
    int64_t lockstep_pad_max;        /* its CUDA-graph padding limit (0: no padding) */
} ls_engine_setup;

/* Run the simulation and fill the engine's part of `m` (everything but the
 * deployment columns). Fails on source errors (I/O) and LS_EINTERRUPTED. */
ls_status ls_engine_simulate(const ls_engine_setup *s, ls_metrics *m, ls_error *e);

/* Pieces of ls_run (run.c) shared with disaggregated serving (pools.c). */
/* The deployment of one replica of `c` whose first GPU is `first_gpu`. */
void ls_run_deploy(const ls_run_config *c, int first_gpu, ls_deploy *d);
/* The `auto` token budget of a replica with `kv_blocks` blocks (docs/CONFIG.md). */
int64_t ls_run_auto_budget(const ls_run_config *c, const ls_cost_model *cm, int64_t kv_blocks);
/* The configured cost model of a replica placed by `d` (`index` seeds the random ones). */
ls_status ls_run_cost_new(const ls_run_config *c, const ls_deploy *d, int index, ls_cost_model **out, ls_error *e);
/* Open the requests (opts->requests or the workload), set the arrival limit and
 * horizon of `s`, simulate, and fail on a workload without requests. */
ls_status ls_run_engine(const ls_run_config *c, const ls_run_opts *opts, ls_engine_setup *s, ls_metrics *out,
                        ls_error *e);
/* The memory breakdown columns of the result row (docs/HARDWARE.md, "Memory model"). */
struct ls_memory_plan;
void ls_run_put_memory(const struct ls_memory_plan *p, ls_metrics *out);
/* Status error with e's message. */
void ls_run_set_error(ls_metrics *out, const ls_error *e);

/* Timeline of iterations (Chrome/Perfetto trace-event JSON). */
typedef struct ls_timeline ls_timeline;
ls_status ls_timeline_open(const char *path, ls_timeline **out, ls_error *e);
void ls_timeline_add(ls_timeline *t, int replica, int stage, double start_s, double end_s,
                     const ls_mbatch_info *b);
ls_status ls_timeline_close(ls_timeline *t, ls_error *e);  /* accepts NULL */

#endif
