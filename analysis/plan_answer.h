/* plan_answer.h -- the planner's answer, from the result file of `llmsweep plan`.
 *
 * Reads the rows of a plan's sweep (mpi/plan.h: every deployment at the load
 * multiples LS_PLAN_LOADS of the target rate, capacity searched once per
 * deployment) and writes, as text or Markdown:
 *   - the top-N deployments by capacity per GPU under the SLO, each with its goodput,
 *     tokens/s per GPU and per user at the target, the reason it lost to the first
 *     and its `vllm serve` command line (a capacity its search never saw missed: ">=R");
 *   - the Pareto frontier of output tokens/s per GPU against tokens/s per user
 *     (1 / mean TPOT) over every (deployment, load) that meets the SLO, per GPU
 *     type (and mode, when both aggregated and disaggregated deployments ran): the
 *     points no other point of the group beats on both;
 *   - the fewest GPUs meeting the SLO at the target rate, and what one GPU
 *     fewer gives;
 *   - when nothing meets the SLO: which limit binds, how far the closest is, and
 *     whether any load meets a binding TTFT limit;
 *   - with prices or power: $/million output tokens and joules per output token of
 *     each top deployment, at the target rate and at its capacity.
 * Every number is a cell of the file (analysis/results.h); the SLO rule is the
 * report's (ls_slo_violations).
 */
#ifndef LS_PLAN_ANSWER_H
#define LS_PLAN_ANSWER_H

#include <stdbool.h>
#include <stdio.h>

#include "plan_launch.h"
#include "report.h"
#include "results.h"

typedef struct ls_plan_answer_opts {
    double target_rate;  /* req/s of the load multiple 1 */
    int gpus;            /* the budget */
    ls_slo slo;
    int top_n;           /* rows of the top table (default 5) */
    bool markdown;
    /* Cost and energy (NULL: not asked): $ per GPU-hour and W per GPU of a GPU type, or
     * NaN when not given; see ls_plan_gpu_figures. */
    const struct ls_plan_gpu_figures *figures;
    size_t n_figures;
    /* The sensitivity sweep (NULL: none): the top deployments, in the order of
     * ls_plan_answer_top, once each at the target rate with gamma arrivals of cv burst_cv. */
    const ls_results *burst;
    double burst_cv;
    /* The capacity search's floor (req/s; 0: none; mpi/plan.h, capacity_floor). A capacity
     * of 0 is shown "< R" with R its row's capacity_fail_rps; the reason names the floor when
     * R is the floor (a search can stop above it: its 10 requests minimum, max_runs). */
    double capacity_floor;
} ls_plan_answer_opts;

/* What one GPU of a type costs and draws, for $/million tokens and joules per token. */
typedef struct ls_plan_gpu_figures {
    char hardware[64];
    double usd_per_hour;  /* NaN: no price */
    double watts;         /* NaN: no power */
} ls_plan_gpu_figures;

/* Board power (max TDP, W) of a catalog GPU from its vendor's datasheet; NaN when unknown. */
double ls_plan_gpu_tdp_w(const char *hardware);

/* Write the answer. Returns true when some deployment meets the SLO at the
 * target rate (false: the answer says what binds). */
bool ls_plan_answer_write(const ls_results *r, const ls_plan_answer_opts *o, FILE *f);

/* The config ids of the first `max` deployments of the ranking (their rows
 * at the target rate), best first; returns how many. */
size_t ls_plan_answer_top(const ls_results *r, const ls_plan_answer_opts *o, int64_t *ids, size_t max);

#endif
