/* replay.h -- simulate one configuration (the public surface of replay/).
 *
 * A run configuration is the YAML document of `llmsweep run --config`
 * (schema in docs/CONFIG.md). ls_config_load validates all of it -- unknown
 * keys, wrong types, names missing from the catalog, tp*pp*dp larger than the
 * cluster -- and resolves names against the catalog, so that ls_run only
 * fails on I/O (a trace file that cannot be read) or a bug.
 */
#ifndef LS_REPLAY_H
#define LS_REPLAY_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "catalog.h"
#include "error.h"
#include "schema.h"
#include "trace.h"
#include "yamldoc.h"

typedef struct ls_run_config ls_run_config;

/* Validate and resolve a configuration tree. `base_dir` resolves relative
 * paths (trace files, catalog files): the directory of the YAML file, or NULL
 * for the current directory. `catalog` may be NULL for the built-in one. */
ls_status ls_config_load(const ls_yaml *root, const char *base_dir, const ls_catalog *catalog,
                         ls_run_config **out, ls_error *e);
void ls_config_free(ls_run_config *c);
/* An independent copy (free it with ls_config_free); used to vary one
 * configuration (capacity search) without touching the caller's. */
ls_run_config *ls_config_clone(const ls_run_config *c);

/* What the configuration computes differently from what it names (FP8 or
 * 4-bit weights computed in BF16 on a GPU without such tensor cores), for the
 * run summary; "" when nothing. */
void ls_config_compute_note(const ls_run_config *c, char *buf, size_t size);

/* The flattened /configs row of a configuration (common/schema.h). */
void ls_config_get_row(const ls_run_config *c, ls_config_row *row);

/* Canonical text of the workload part plus seed: two configurations with the
 * same key see exactly the same requests (common random numbers). Owned by c. */
const char *ls_config_workload_key(const ls_run_config *c);

/* The request classes of the workload (n = 0: none), for naming a request's class_id. Owned by c. */
const struct ls_class_table *ls_config_classes(const ls_run_config *c);

/* A cheap, relative estimate of how long the configuration takes to simulate
 * (expected requests x tokens / batch), for handing out expensive work first. */
double ls_config_cost_estimate(const ls_run_config *c);

/* Per-request outcome, for --requests-out and the sweep's request tables. */
typedef enum ls_req_status {
    LS_REQ_COMPLETED = 0,
    LS_REQ_REJECTED_TOO_LONG = 1,
    LS_REQ_REJECTED_KV = 2,
    LS_REQ_TIMEOUT = 3,
    LS_REQ_UNFINISHED = 4
} ls_req_status;
const char *ls_req_status_name(ls_req_status s);

/* ls_request_result: one request at its final status (common/schema.h, the per-request columns). */

typedef struct ls_run_opts {
    /* A pre-materialised request stream for this configuration's workload key
     * (NULL: the run opens the workload itself). */
    const ls_request_array *requests;
    /* Called once per request when it reaches its final status (may be NULL). */
    void (*on_request)(void *ctx, const ls_request_result *r);
    void *on_request_ctx;
    /* on_request does not depend on the order of the rows (an SLO watch: it counts):
     * with DP run-ahead it gets them as they come instead of in the event queue's
     * order (false: in that order, as --requests-out). */
    bool on_request_any_order;
    /* Called at each request's first output token, with on_request_ctx (may be NULL; not
     * under disaggregated pools or replica mixes, and in no set order across replicas). */
    void (*on_first_token)(void *ctx, double arrival_s, double first_token_s);
    /* Chrome/Perfetto timeline of the first `timeline_iterations` iterations (NULL: none). */
    const char *timeline_path;
    int64_t timeline_iterations;
    /* Checked between events: when it becomes non-zero the run stops with LS_EINTERRUPTED. */
    volatile sig_atomic_t *stop;
    /* For tests: every DP replica's step through the event queue, as before DP
     * run-ahead (docs/ENGINE.md, "Events"); false (the default) lets a replica
     * run ahead to the next arrival. */
    bool no_run_ahead;
    /* For tests (may be NULL): incremented each time a replica ran steps
     * ahead, to or past the next queued event or arrival (which the queue
     * would have processed first). */
    int64_t *ahead_steps;
} ls_run_opts;

/* The memory check ls_run makes first, alone: *fits false (with the reason
 * in `why`, as ls_run would report it) when one replica's weights, or a KV
 * cache beside them, do not fit. Errors are bad inputs. For `plan`'s pruning. */
ls_status ls_config_memory_fits(const ls_run_config *c, bool *fits, char *why, size_t size, ls_error *e);

/* Simulate. Returns LS_OK when `out` holds a result -- status ok, or
 * infeasible with the reason in out->message -- and an error otherwise. */
ls_status ls_run(const ls_run_config *c, const ls_run_opts *opts, ls_metrics *out, ls_error *e);

/* Change the mean arrival rate of the configuration's workload (synthetic
 * arrivals, or trace timestamps rescaled to this rate); for capacity search. */
ls_status ls_config_set_arrival_rate(ls_run_config *c, double rate, ls_error *e);

/* Open the workload of a configuration as a request stream. */
ls_status ls_config_open_workload(const ls_run_config *c, ls_source **out, ls_error *e);

#endif
