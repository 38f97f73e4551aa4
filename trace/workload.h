/* workload.h -- the `workload:` part of a run configuration, as a request stream.
 *
 * A workload is a trace file (any format of reader.h), a synthetic generator,
 * or a trace with some parts replaced (its times by an arrival process, its
 * lengths by distributions), followed by transformations in this order:
 *   read (sort) -> time window (start_s, duration_s) -> synthetic overlay ->
 *   token limits -> first max_requests -> rescale to target_rate.
 * With synthetic arrivals, duration_s ends the arrivals instead of cutting the
 * trace. The YAML schema is in docs/TRACES.md.
 */
#ifndef LS_WORKLOAD_H
#define LS_WORKLOAD_H

#include <stdint.h>

#include "classes.h"
#include "error.h"
#include "trace.h"
#include "yamldoc.h"

/* The most requests a synthetic workload may expect (rate x duration_s, or max_requests): a sweep rank
 * materialises the stream (~40 bytes a request), so 1e8 is ~4 GB; more is a typo, not a workload. */
#define LS_WORKLOAD_MAX_REQUESTS 1e8

typedef struct ls_workload ls_workload;
/* Parse the `workload:` mapping of a run configuration. `path` is its dotted key path for messages
 * ("workload"); base_dir resolves relative file names (NULL = cwd). Validates everything (unknown keys,
 * types, parameter ranges, that a trace file exists and its format is recognised). A trace file is
 * read once here (O(rows) time, O(1) memory) to check every row and to measure its rate. */
ls_status ls_workload_parse(const ls_yaml *node, const char *path, const char *base_dir, ls_workload **out,
                            ls_error *e);
void ls_workload_free(ls_workload *w);
ls_workload *ls_workload_clone(const ls_workload *w);
/* Open the request stream. Same (workload, seed) -> identical stream. */
ls_status ls_workload_open(const ls_workload *w, uint64_t seed, ls_source **out, ls_error *e);
/* Canonical text of the workload (equal text <=> same requests for the same seed). Caller frees. */
char *ls_workload_canonical(const ls_workload *w);
typedef struct ls_workload_info {
    char source[160];          /* trace path as given, or "synthetic" */
    char arrival_process[64];  /* poisson, gamma, constant, trace */
    double arrival_rate;       /* 1/s asked for; NaN when replaying trace times unscaled */
    double arrival_cv;         /* gamma cv, 1 for poisson, 0 constant, NaN trace */
    char prompt_dist[160], output_dist[160]; /* canonical text, or "trace" */
    double duration_s;         /* arrival window (trace times: after rescaling); NaN when the whole trace */
    double expected_requests;  /* estimate, for cost estimates */
    double mean_prompt, mean_output; /* estimates */
} ls_workload_info;
void ls_workload_info_get(const ls_workload *w, ls_workload_info *out);
/* The workload's request classes (classes.h; n = 0 when it defines none). */
const ls_class_table *ls_workload_classes(const ls_workload *w);
/* Set the mean arrival rate (synthetic arrivals; or rescale trace times to reach it). For capacity search. */
ls_status ls_workload_set_rate(ls_workload *w, double rate, ls_error *e);

#endif
