/* plan.h -- `llmsweep plan`: from a model, GPU types, a GPU budget, a workload
 * and an SLO to a sweep specification of every deployment worth simulating.
 *
 * The candidates are every TP/PP/DP split (tp and pp powers of two, any dp) of
 * 1..gpus GPUs on each GPU type, and for a MoE model the same splits with
 * expert parallelism over the whole TP x DP group (pp 1), each with every
 * dtype, scheduler limit and speculative-decoding value asked for. Each candidate is
 * loaded as a run configuration (ls_config_load: vLLM's TP rules, the cluster)
 * and checked for memory (ls_config_memory_fits) before anything is
 * simulated; the others are pruned with their reason. The survivors form one
 * grid axis of an ordinary sweep specification (mpi/sweep_spec.h), crossed
 * with the load multipliers LS_PLAN_LOADS of the target rate, with a capacity
 * search per configuration, so the MPI sweep runs it unchanged (docs/PLAN.md).
 * Deterministic: every rank builds the same specification.
 */
#ifndef LS_PLAN_H
#define LS_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "plan_spec.h"
#include "sweep_spec.h"

#define LS_PLAN_MAX_HW 8
#define LS_PLAN_MAX_LIST 8 /* values of a list flag (--dtype, --max-num-seqs, --max-batched-tokens) */
#define LS_PLAN_N_LOADS 4
/* Multiples of the target rate every configuration is simulated at: 1 is the
 * answer; the others give the frontier its spread and the sensitivity. */
extern const double LS_PLAN_LOADS[LS_PLAN_N_LOADS];

typedef struct ls_plan_opts {
    const char *model;
    const char *hardware[LS_PLAN_MAX_HW];  /* catalog GPU names */
    int n_hardware;
    const char *cluster;   /* NULL: the configuration default (dgx-h100 topology) */
    int gpus;              /* budget: candidates use 1..gpus GPUs */
    const char *trace;     /* a trace file, or NULL for isl/osl */
    int isl, osl;          /* fixed prompt/output lengths (synthetic Poisson arrivals), 0: none or a distribution */
    /* or distributions of them, in the command-line form of `trace synth --prompt` (dist.h:
     * "lognormal:mu=6,sigma=0.5"); NULL: none or fixed (isl/osl) */
    const char *isl_dist, *osl_dist;
    double rate;           /* target req/s; <= 0: scale_trace x the trace's own rate */
    double scale_trace;    /* <= 0: 1 */
    double duration_s;     /* synthetic arrival window (default 120) */
    double slo_ttft_s, slo_tpot_s;
    const char *dtypes[LS_PLAN_MAX_LIST]; /* --dtype words: bf16, fp8, fp4 (= nvfp4), mxfp4, int4 */
    int n_dtypes;          /* 0: bf16 */
    int seqs[LS_PLAN_MAX_LIST];    /* max_num_seqs values (at least one) */
    int n_seqs;
    int budgets[LS_PLAN_MAX_LIST]; /* max_num_batched_tokens values, 0 = auto (at least one) */
    int n_budgets;
    bool agg, disagg;      /* --modes: aggregated and/or disaggregated prefill/decode (default agg) */
    ls_plan_spec specs[LS_PLAN_MAX_LIST]; /* --speculative values (plan_spec.h); 0 of them: off only */
    int n_specs;
    int64_t seed;
    /* The capacity search's floor (--capacity-floor, docs/PLAN.md "Speed"): it never
     * probes below it, and a deployment that misses the SLO there has capacity "< floor".
     * Not set: LS_PLAN_FLOOR_FRACTION of the target rate; set to 0: no floor. */
    bool capacity_floor_set;
    double capacity_floor;
} ls_plan_opts;

/* The most candidates a plan enumerates: each is loaded as a configuration and checked for memory
 * and bounds (~0.25 ms each: 25 s for 100,000) before anything is simulated, and each kept one is
 * LS_PLAN_N_LOADS configurations of the sweep. More is a usage error saying how many. */
#define LS_PLAN_MAX_CANDIDATES 100000

/* Whether s is a plain catalog-style name (model, GPU, cluster): letters, digits and . _ + -,
 * nothing YAML reads as syntax. The command line refuses others; the spec writes them quoted. */
bool ls_plan_plain_name(const char *s);

/* A --isl/--osl distribution (NULL: none): parses as `trace synth --prompt` does, and is not
 * empirical (measured lengths come with a trace); a message naming FLAG otherwise. */
ls_status ls_plan_check_lengths(const char *flag, const char *spec, ls_error *e);

/* The default floor, as a fraction of the target rate: the plan's lowest load (its first
 * halving from the target), whose run the sweep makes anyway, so a deployment that misses
 * the SLO there costs the search no probe (docs/PLAN.md "Speed"). */
#define LS_PLAN_FLOOR_FRACTION 0.5

typedef struct ls_plan_candidate {
    char hardware[64];
    char parallelism[64];  /* tp2pp1dp4 style, as written in the spec */
    char dtype[16];        /* the --dtype word */
    bool disagg;           /* prefill/decode pools: pre_n instances of tp pre_tp, dec_n of tp dec_tp */
    int pre_n, pre_tp, dec_n, dec_tp;
    int max_num_seqs, budget; /* scheduler limits (budget 0: auto) */
    int spec;              /* index into the options' specs, -1: off (no --speculative) */
    int tp, pp, dp, ep, n_gpus;
    bool kept;
    char why[256];         /* pruning reason when !kept */
    bool by_memory;        /* pruned by the memory check */
    bool by_bound;         /* pruned by a bound (replay/bound.h): no load of the plan can meet the SLO */
    double tpot_floor_s;   /* bound.h (NaN: none or not computed) */
    double capacity_ceiling; /* req/s (INFINITY: none) */
} ls_plan_candidate;

typedef struct ls_plan {
    size_t n;              /* candidates enumerated */
    ls_plan_candidate *c;
    size_t n_kept, n_memory, n_bound, n_invalid;
    double target_rate;    /* req/s */
    double capacity_floor; /* req/s, the search's floor (0: none) */
    double trace_rate;     /* the trace's own mean rate (NaN without a trace) */
    int64_t n_requests, n_too_long; /* of the workload at the target: read, prompts over the context */
    int64_t n_over_context; /* of them, prompt + output over the context (n_too_long included) */
    int max_context;       /* the model's context (tokens) */
    char *trace_path;      /* the trace, absolute (NULL: --isl/--osl) */
    char *spec_text;       /* the sweep specification (YAML) */
    ls_sweep_spec *spec;   /* parsed from spec_text; NULL when nothing was kept */
} ls_plan;

/* Check the options (contradictions and ranges name the flag), enumerate,
 * prune and build the specification. When every candidate is pruned the
 * result is LS_OK with spec NULL (the caller reports plan->c's reasons).
 * `spec_path` is where the caller writes spec_text (named in messages). */
ls_status ls_plan_build(const ls_plan_opts *o, const char *spec_path, ls_plan **out, ls_error *e);
void ls_plan_free(ls_plan *p); /* accepts NULL */

/* The coefficient of variation of the burstier arrivals of the sensitivity check
 * (gamma inter-arrival gaps; Poisson is 1). */
#define LS_PLAN_BURST_CV 2.0

/* The sensitivity sweep: the deployments of the plan's configurations `ids` (each
 * listed once, in this order) at the target rate with gamma arrivals of cv
 * LS_PLAN_BURST_CV (a trace keeps its lengths, its times replaced), no capacity
 * search. *text is its YAML (caller frees, with the spec). */
ls_status ls_plan_burst_spec(const ls_plan_opts *o, const ls_plan *p, const int64_t *ids, size_t n,
                             const char *spec_path, char **text, ls_sweep_spec **out, ls_error *e);

#endif
