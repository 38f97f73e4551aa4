/* plan.c -- the candidates of `llmsweep plan` and their sweep specification (plan.h). */
#include "plan.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "replay.h"
#include "trace.h"
#include "yamldoc.h"

/* The target first: it is each deployment's first listing, the one that searches its
 * capacity, and the search starts there (capacity.start), so that run is its first probe. */
const double LS_PLAN_LOADS[LS_PLAN_N_LOADS] = {1.0, 0.5, 1.5, 2.0};

/* The `base:` mapping of every configuration, as YAML lines indented by two. */
static void write_base(FILE *f, const ls_plan_opts *o, const char *trace_abs, double rate)
{
    fprintf(f, "  model: %s\n  hardware: %s\n", o->model, o->hardware[0]);
    if (o->cluster)
        fprintf(f, "  cluster: %s\n", o->cluster);
    fprintf(f, "  dtype: %s\n  parallelism: tp1\n", o->dtype ? o->dtype : "bf16");
    /* vLLM's defaults: the budget as the simulator resolves "auto", 256 sequences, 90% of HBM */
    fprintf(f, "  scheduler: {policy: vllm-v1, max_batched_tokens: auto, max_num_seqs: 256, "
               "gpu_memory_utilization: 0.9}\n");
    if (trace_abs && rate > 0)
        fprintf(f, "  workload: {trace: \"%s\", target_rate: %.10g}\n", trace_abs, rate);
    else if (trace_abs) /* the trace's own times: to measure its rate */
        fprintf(f, "  workload: {trace: \"%s\"}\n", trace_abs);
    else
        fprintf(f, "  workload: {arrival: {process: poisson, rate: %.10g}, prompt_tokens: {dist: fixed, value: %d}, "
                   "output_tokens: {dist: fixed, value: %d}, duration_s: %g}\n",
                rate, o->isl, o->osl, o->duration_s > 0 ? o->duration_s : 120);
    fprintf(f, "  slo: {ttft_s: %.10g, tpot_s: %.10g}\n", o->slo_ttft_s, o->slo_tpot_s);
}

static char *base_text(const ls_plan_opts *o, const char *trace_abs, double rate, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    write_base(f, o, trace_abs, rate);
    fclose(f);
    return buf;
}

/* Load one candidate: base + hardware + parallelism. */
static ls_status load_candidate(const ls_plan_opts *o, const char *trace_abs, double rate, const char *hw,
                                const char *par, const ls_catalog *cat, ls_run_config **out, ls_error *e)
{
    size_t len = 0;
    char *text = NULL;
    FILE *f = open_memstream(&text, &len);
    char *b = base_text(o, trace_abs, rate, &(size_t){0});
    /* the base lines, un-indented, with this candidate's hardware and parallelism */
    for (char *line = strtok(b, "\n"); line; line = strtok(NULL, "\n")) {
        const char *l = line + 2;
        if (!strncmp(l, "hardware:", 9))
            fprintf(f, "hardware: %s\n", hw);
        else if (!strncmp(l, "parallelism:", 12))
            fprintf(f, "parallelism: %s\n", par);
        else
            fprintf(f, "%s\n", l);
    }
    fclose(f);
    free(b);
    ls_yaml *y = NULL;
    ls_status rc = ls_yaml_load_string(text, len, "plan", &y, e);
    if (!rc)
        rc = ls_config_load(y, NULL, cat, out, e);
    ls_yaml_free(y);
    free(text);
    return rc;
}

/* The trace's own mean arrival rate: (requests - 1) / (last - first arrival). */
static ls_status trace_rate(const ls_run_config *c, double *rate, ls_error *e)
{
    ls_source *src = NULL;
    LS_TRY(ls_config_open_workload(c, &src, e));
    ls_request r;
    int64_t first = -1, last = 0, n = 0;
    int k;
    while ((k = ls_source_next(src, &r, e)) == 1) {
        if (first < 0)
            first = r.arrival_ns;
        last = r.arrival_ns;
        n++;
    }
    ls_source_free(src);
    if (k < 0)
        return e->code ? e->code : LS_EINVAL;
    if (n < 2 || last <= first)
        return ls_fail(e, LS_EINVAL, "plan: the trace has %lld requests over %.3g s: it gives no arrival rate; "
                                     "pass --rate", (long long)n, (double)(last - first) / 1e9);
    *rate = (double)(n - 1) / ((double)(last - first) / 1e9);
    return LS_OK;
}

static ls_status check_opts(const ls_plan_opts *o, ls_error *e)
{
    if (!o->model)
        return ls_fail(e, LS_EINVAL, "plan: --model is required");
    if (o->n_hardware < 1)
        return ls_fail(e, LS_EINVAL, "plan: --hardware is required (a catalog GPU: llmsweep catalog)");
    if (o->gpus < 1 || o->gpus > 4096)
        return ls_fail(e, LS_EINVAL, "plan: --gpus: expected 1 to 4096, got %d", o->gpus);
    bool lengths = o->isl > 0 || o->osl > 0;
    if (o->trace && lengths)
        return ls_fail(e, LS_EINVAL, "plan: --trace and --isl/--osl contradict each other: the trace gives the "
                                     "lengths; pass one or the other");
    if (!o->trace && !lengths)
        return ls_fail(e, LS_EINVAL, "plan: a workload is required: --trace FILE, or --isl N --osl N");
    if (lengths && (o->isl < 1 || o->osl < 1))
        return ls_fail(e, LS_EINVAL, "plan: --isl and --osl go together, each at least 1 token");
    if (o->rate > 0 && o->scale_trace > 0)
        return ls_fail(e, LS_EINVAL, "plan: --rate and --scale-trace contradict each other: both set the load; "
                                     "pass one");
    if (o->scale_trace > 0 && !o->trace)
        return ls_fail(e, LS_EINVAL, "plan: --scale-trace multiplies a trace's own rate: it needs --trace "
                                     "(with --isl/--osl pass --rate)");
    if (!o->trace && !(o->rate > 0))
        return ls_fail(e, LS_EINVAL, "plan: --isl/--osl need the target load: --rate R (requests/s)");
    if (!(o->slo_ttft_s > 0) || !(o->slo_tpot_s > 0) || !isfinite(o->slo_ttft_s) || !isfinite(o->slo_tpot_s))
        return ls_fail(e, LS_EINVAL, "plan: --slo needs both limits, e.g. --slo ttft_p99=2s,tpot_p99=50ms");
    return LS_OK;
}

static void add(ls_plan *p, size_t *cap, const ls_plan_candidate *c)
{
    if (p->n == *cap) {
        *cap = *cap ? 2 * *cap : 64;
        p->c = ls_xrealloc(p->c, *cap * sizeof *p->c);
    }
    p->c[p->n++] = *c;
}

/* Every split of 1..gpus GPUs on `hw`: tp, pp powers of two; dp any; EP variants for MoE. */
static void enumerate(ls_plan *p, size_t *cap, const char *hw, int gpus, bool moe)
{
    for (int tp = 1; tp <= gpus; tp *= 2)
        for (int pp = 1; tp * pp <= gpus; pp *= 2)
            for (int dp = 1; tp * pp * dp <= gpus; dp++)
                for (int ep_on = 0; ep_on <= (moe && pp == 1 && tp * dp > 1); ep_on++) {
                    ls_plan_candidate c;
                    memset(&c, 0, sizeof c);
                    snprintf(c.hardware, sizeof c.hardware, "%s", hw);
                    c.tp = tp;
                    c.pp = pp;
                    c.dp = dp;
                    c.ep = ep_on ? tp * dp : 1;
                    c.n_gpus = tp * pp * dp;
                    if (ep_on)
                        snprintf(c.parallelism, sizeof c.parallelism, "tp%ddp%dep%d", tp, dp, c.ep);
                    else
                        snprintf(c.parallelism, sizeof c.parallelism, "tp%dpp%ddp%d", tp, pp, dp);
                    add(p, cap, &c);
                }
}

ls_status ls_plan_build(const ls_plan_opts *o, const char *spec_path, ls_plan **out, ls_error *e)
{
    *out = NULL;
    LS_TRY(check_opts(o, e));
    ls_catalog *cat = NULL;
    LS_TRY(ls_catalog_builtin(&cat, e));
    const ls_model *m = NULL;
    ls_status rc = ls_catalog_model(cat, o->model, &m, e);
    if (rc) {
        ls_catalog_free(cat);
        return ls_error_prefix(e, "plan: --model");
    }
    bool moe = m->experts > 1;
    char trace_abs[PATH_MAX];
    if (o->trace && !realpath(o->trace, trace_abs)) {
        ls_catalog_free(cat);
        return ls_fail(e, LS_EIO, "plan: --trace %s: cannot open it", o->trace);
    }
    const char *tr = o->trace ? trace_abs : NULL;
    ls_plan *p = ls_xcalloc(1, sizeof *p);
    p->trace_rate = NAN;
    p->target_rate = o->rate > 0 ? o->rate : 1.0;
    /* the base on the first GPU, at tp1: catches a bad GPU name, trace or dtype once, clearly */
    for (int h = 0; h < o->n_hardware && !rc; h++) {
        ls_run_config *c = NULL;
        bool measure = h == 0 && tr && !(o->rate > 0);
        rc = load_candidate(o, tr, measure ? 0 : p->target_rate, o->hardware[h], "tp1", cat, &c, e);
        if (rc)
            ls_error_prefix(e, "plan: --hardware %s", o->hardware[h]);
        else if (measure) {
            rc = trace_rate(c, &p->trace_rate, e);
            if (!rc)
                p->target_rate = p->trace_rate * (o->scale_trace > 0 ? o->scale_trace : 1.0);
        }
        ls_config_free(c);
    }
    size_t cap = 0;
    for (int h = 0; h < o->n_hardware && !rc; h++)
        enumerate(p, &cap, o->hardware[h], o->gpus, moe);
    for (size_t i = 0; i < p->n && !rc; i++) {
        ls_plan_candidate *c = &p->c[i];
        ls_run_config *rc_cfg = NULL;
        ls_error le;
        if (load_candidate(o, tr, p->target_rate, c->hardware, c->parallelism, cat, &rc_cfg, &le)) {
            /* vLLM's split rules (heads, KV heads, experts) or the cluster's size */
            snprintf(c->why, sizeof c->why, "%.250s", le.msg);
            p->n_invalid++;
            continue;
        }
        bool fits = false;
        rc = ls_config_memory_fits(rc_cfg, &fits, c->why, sizeof c->why, e);
        ls_config_free(rc_cfg);
        if (!rc && !fits) {
            c->by_memory = true;
            p->n_memory++;
        } else if (!rc) {
            c->kept = true;
            p->n_kept++;
        }
    }
    ls_catalog_free(cat);
    if (rc) {
        ls_plan_free(p);
        return rc;
    }
    /* the specification: one axis of the kept deployments, one of the load multiples */
    size_t len = 0;
    FILE *f = open_memstream(&p->spec_text, &len);
    fprintf(f, "# written by llmsweep plan (docs/PLAN.md): %zu candidates, %zu pruned by memory, %zu invalid splits\n",
            p->n, p->n_memory, p->n_invalid);
    fprintf(f, "name: plan-%s-%dgpus\nseed: %lld\nbase:\n", o->model, o->gpus, (long long)o->seed);
    write_base(f, o, tr, p->target_rate);
    fprintf(f, "grid:\n  .:\n");
    for (size_t i = 0; i < p->n; i++)
        if (p->c[i].kept)
            fprintf(f, "    - {hardware: %s, parallelism: %s}\n", p->c[i].hardware, p->c[i].parallelism);
    fprintf(f, "  %s:", tr ? "workload.target_rate" : "workload.arrival.rate");
    for (int k = 0; k < LS_PLAN_N_LOADS; k++)
        fprintf(f, "%s%.10g", k ? ", " : " [", LS_PLAN_LOADS[k] * p->target_rate);
    fprintf(f, "]\ncapacity: {rel_tol: 0.05, max_runs: 16, start: %.10g}\n", p->target_rate);
    fclose(f);
    if (p->n_kept) {
        rc = ls_sweep_spec_parse(p->spec_text, len, spec_path, NULL, &p->spec, e);
        if (rc) {
            ls_error_prefix(e, "plan: internal specification");
            ls_plan_free(p);
            return rc;
        }
    }
    *out = p;
    return LS_OK;
}

void ls_plan_free(ls_plan *p)
{
    if (!p)
        return;
    free(p->c);
    free(p->spec_text);
    ls_sweep_spec_free(p->spec);
    free(p);
}
