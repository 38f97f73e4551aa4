/* plan.c -- the candidates of `llmsweep plan` and their sweep specification (plan.h). */
#include "plan.h"

#include <assert.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bound.h"
#include "capacity.h"
#include "catalog.h"
#include "dist.h" /* ls_fmt_double */
#include "replay.h"
#include "trace.h"
#include "yamldoc.h"

/* The target first: it is each deployment's first listing, the one that searches its
 * capacity, and the search starts there (capacity.start), so that run is its first probe. */
const double LS_PLAN_LOADS[LS_PLAN_N_LOADS] = {1.0, 0.5, 1.5, 2.0};

/* The `dtype:` value of a --dtype word: 4-bit weights keep an FP8 KV cache (int4: BF16),
 * as deployed with vLLM's --kv-cache-dtype. NULL: not a word plan knows. */
static const char *dtype_yaml(const char *w)
{
    static const struct { const char *word, *yaml; } t[] = {
        {"bf16", "bf16"}, {"fp8", "fp8"}, {"fp4", "{weights: nvfp4, kv: fp8}"}, {"nvfp4", "{weights: nvfp4, kv: fp8}"},
        {"mxfp4", "{weights: mxfp4, kv: fp8}"}, {"int4", "{weights: int4, kv: bf16}"}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (!strcmp(w, t[i].word))
            return t[i].yaml;
    return NULL;
}

static bool is_fp4(const char *w)
{
    return !strcmp(w, "fp4") || !strcmp(w, "nvfp4") || !strcmp(w, "mxfp4");
}

static const char *first_dtype(const ls_plan_opts *o)
{
    return o->n_dtypes > 0 ? o->dtypes[0] : "bf16";
}

/* The candidate's speculative decoding (NULL: off). */
static const ls_plan_spec *spec_of(const ls_plan_opts *o, const ls_plan_candidate *c)
{
    return c && c->spec >= 0 && c->spec < o->n_specs && ls_plan_spec_on(&o->specs[c->spec]) ? &o->specs[c->spec]
                                                                                              : NULL;
}

static void write_sched(FILE *f, int seqs, int budget)
{
    /* vLLM's defaults: the budget as the simulator resolves "auto", 256 sequences, 90% of HBM */
    if (budget > 0)
        fprintf(f, "{policy: vllm-v1, max_batched_tokens: %d, max_num_seqs: %d, gpu_memory_utilization: 0.9}", budget,
                seqs);
    else
        fprintf(f, "{policy: vllm-v1, max_batched_tokens: auto, max_num_seqs: %d, gpu_memory_utilization: 0.9}", seqs);
}

/* s as a YAML double-quoted scalar: any file name survives the spec (a space, '#', '"', '\\'). */
static void write_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(f, "\\x%02x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

/* Whether s is valid UTF-8: YAML text must be, and a double-quoted scalar's \xNN is a code point,
 * not a byte, so a name that is not cannot be written into the spec. */
static bool utf8_ok(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        int n = *p < 0x80 ? 0 : (*p & 0xe0) == 0xc0 && *p >= 0xc2 ? 1 : (*p & 0xf0) == 0xe0 ? 2
                              : (*p & 0xf8) == 0xf0 && *p <= 0xf4 ? 3 : -1;
        if (n < 0)
            return false;
        p++;
        for (int i = 0; i < n; i++, p++)
            if ((*p & 0xc0) != 0x80)
                return false;
    }
    return true;
}

bool ls_plan_plain_name(const char *s)
{
    if (!*s)
        return false;
    for (const char *c = s; *c; c++)
        if (!(((*c | 32) >= 'a' && (*c | 32) <= 'z') || (*c >= '0' && *c <= '9') || strchr("._+-", *c)))
            return false;
    return true;
}

/* A name (model, GPU, cluster): bare when plain (the catalog's names: the spec reads as before),
 * else quoted by write_str, so that an odd name from a caller other than the command line (which
 * refuses it) reaches the catalog's "unknown" message instead of breaking the YAML. */
static void write_name(FILE *f, const char *s)
{
    if (ls_plan_plain_name(s))
        fputs(s, f);
    else
        write_str(f, s);
}

/* The workload's length mapping: {dist: fixed, value: N}, or the distribution's (dist.h's
 * command-line form parsed as `trace synth` parses it, written as canonical flow YAML). */
static void write_lengths(FILE *f, int fixed, const char *dist)
{
    ls_yaml *m = NULL;
    ls_error e = {0};
    if (dist && ls_dist_spec_yaml(dist, "plan", &m, &e) == LS_OK) {
        char *t = ls_yaml_canonical(m);
        fputs(t, f);
        free(t);
        ls_yaml_free(m);
        return;
    }
    assert(!dist); /* checked by ls_plan_check_lengths */
    fprintf(f, "{dist: fixed, value: %d}", fixed);
}

/* The arrival window of --isl/--osl workloads (plan.h: default 120 s). */
static double window_s(const ls_plan_opts *o)
{
    return o->duration_s > 0 ? o->duration_s : 120;
}

/* The workload: the trace (its lengths; its times, or gamma arrivals with `burst_cv`; at `rate`
 * when > 0), or --isl/--osl lengths with Poisson (or gamma) arrivals over the window. */
static void write_workload(FILE *f, const char *ind, const ls_plan_opts *o, const char *trace_abs, double rate,
                           double burst_cv)
{
    if (trace_abs) {
        fprintf(f, "%sworkload: {trace: ", ind);
        write_str(f, trace_abs);
        if (burst_cv > 0) /* the trace's lengths, its times replaced by gamma arrivals */
            fprintf(f, ", arrival: {process: gamma, rate: %.10g, cv: %g}", rate, burst_cv);
        else if (rate > 0) /* without a rate: the trace's own times, to measure its rate */
            fprintf(f, ", target_rate: %.10g", rate);
        fputs("}\n", f);
        return;
    }
    fprintf(f, "%sworkload: {arrival: ", ind);
    if (burst_cv > 0)
        fprintf(f, "{process: gamma, rate: %.10g, cv: %g}", rate, burst_cv);
    else
        fprintf(f, "{process: poisson, rate: %.10g}", rate);
    fputs(", prompt_tokens: ", f);
    write_lengths(f, o->isl, o->isl_dist);
    fputs(", output_tokens: ", f);
    write_lengths(f, o->osl, o->osl_dist);
    fprintf(f, ", duration_s: %g}\n", window_s(o));
}

/* A complete configuration (`ind` spaces before each line): the candidate's hardware,
 * split, dtype and scheduler limits, or the first values with `c` NULL (the spec's base). */
static void write_config(FILE *f, const char *ind, const ls_plan_opts *o, const ls_plan_candidate *c,
                         const char *trace_abs, double rate, double burst_cv)
{
    fprintf(f, "%smodel: ", ind);
    write_name(f, o->model);
    fprintf(f, "\n%shardware: ", ind);
    write_name(f, c ? c->hardware : o->hardware[0]);
    fputc('\n', f);
    if (o->cluster) {
        fprintf(f, "%scluster: ", ind);
        write_name(f, o->cluster);
        fputc('\n', f);
    }
    char par[32];
    snprintf(par, sizeof par, "tp%d", c && c->disagg ? c->pre_tp : 1);
    fprintf(f, "%sdtype: %s\n%sparallelism: %s\n%sscheduler: ", ind, dtype_yaml(c ? c->dtype : first_dtype(o)), ind,
            c && !c->disagg ? c->parallelism : par, ind);
    write_sched(f, c ? c->max_num_seqs : o->seqs[0], c ? c->budget : o->budgets[0]);
    fputc('\n', f);
    if (c && c->disagg)
        fprintf(f, "%sdisaggregation: {prefill: {replicas: %d, parallelism: tp%d}, decode: {replicas: %d, "
                   "parallelism: tp%d}}\n", ind, c->pre_n, c->pre_tp, c->dec_n, c->dec_tp);
    const ls_plan_spec *sp = spec_of(o, c);
    if (sp) {
        fprintf(f, "%sspeculative: ", ind);
        ls_plan_spec_yaml(sp, f);
        fputc('\n', f);
    }
    write_workload(f, ind, o, trace_abs, rate, burst_cv);
    fprintf(f, "%sslo: {ttft_s: %.10g, tpot_s: %.10g}\n", ind, o->slo_ttft_s, o->slo_tpot_s);
}

/* One grid item: every key a candidate sets over the base. */
static void write_item(FILE *f, const ls_plan_opts *o, const ls_plan_candidate *c, bool all)
{
    fputs("    - {hardware: ", f);
    write_name(f, c->hardware);
    if (c->disagg)
        fprintf(f, ", parallelism: tp%d, disaggregation: {prefill: {replicas: %d, parallelism: tp%d}, "
                   "decode: {replicas: %d, parallelism: tp%d}}",
                c->pre_tp, c->pre_n, c->pre_tp, c->dec_n, c->dec_tp);
    else
        fprintf(f, ", parallelism: %s", c->parallelism);
    if (all || o->n_dtypes > 1)
        fprintf(f, ", dtype: %s", dtype_yaml(c->dtype));
    if (all || o->n_seqs > 1 || o->n_budgets > 1) {
        fprintf(f, ", scheduler: ");
        write_sched(f, c->max_num_seqs, c->budget);
    }
    /* the base has none: an item without the key runs without speculation */
    const ls_plan_spec *sp = spec_of(o, c);
    if (sp) {
        fprintf(f, ", speculative: ");
        ls_plan_spec_yaml(sp, f);
    }
    fputc('}', f);
}

/* A message of the trace reader (e->msg: "PATH:LINE: ..." or text) as --trace's: the path as the
 * user gave it, and LS_EIO, so that a malformed or unreadable trace exits 1 as in `llmsweep run`. */
static ls_status trace_error(const ls_plan_opts *o, const char *trace_abs, ls_error *e)
{
    char m[sizeof e->msg];
    snprintf(m, sizeof m, "%s", e->msg);
    size_t tl = strlen(trace_abs);
    if (!strncmp(m, trace_abs, tl))
        return ls_fail(e, LS_EIO, "plan: --trace %s%s", o->trace, m + tl);
    return ls_fail(e, LS_EIO, "plan: --trace %s: %s", o->trace, m);
}

/* An error from loading the plan's own YAML, said as the flag whose value caused it: the
 * internal "plan:LINE:" location goes (the user never saw that text), the field maps to its flag
 * (cluster -> --cluster, workload.trace -> --trace with the user's own path), and anything else
 * keeps `fallback` (e.g. "plan: --hardware h100-sxm"). A trace the loader cannot read or parse
 * becomes LS_EIO: exit 1, as `llmsweep run` gives for it. */
static ls_status blame(const ls_plan_opts *o, const char *trace_abs, const char *fallback, ls_error *e)
{
    char m[sizeof e->msg];
    const char *s = e->msg;
    if (!strncmp(s, "plan:", 5) && s[5] >= '0' && s[5] <= '9') {
        s += 5;
        while ((*s >= '0' && *s <= '9') || *s == ':')
            s++;
        while (*s == ' ')
            s++;
    }
    snprintf(m, sizeof m, "%s", s);
    if (!strncmp(m, "workload.trace: ", 16) && trace_abs) {
        snprintf(e->msg, sizeof e->msg, "%s", m + 16);
        trace_error(o, trace_abs, e);
    } else if (!strncmp(m, "cluster: ", 9) && o->cluster)
        ls_fail(e, e->code, "plan: --cluster %s: %s", o->cluster, m + 9);
    else if (!strncmp(m, "hardware: ", 10) && !strncmp(fallback, "plan: --hardware ", 17))
        ls_fail(e, e->code, "%s: %s", fallback, m + 10);
    else if (!strncmp(m, "model: ", 7))
        ls_fail(e, e->code, "plan: --model %s: %s", o->model, m + 7);
    else if (!strncmp(m, "dtype: ", 7))
        ls_fail(e, e->code, "plan: --dtype %s: %s", first_dtype(o), m + 7);
    else if (!strncmp(m, "scheduler.", 10))
        ls_fail(e, e->code, "plan: --max-num-seqs/--max-batched-tokens: %s", m);
    else
        ls_fail(e, e->code, "%s: %s", fallback, m);
    return e->code;
}

/* Load one candidate (NULL: the base) at `rate`. */
static ls_status load_candidate(const ls_plan_opts *o, const ls_plan_candidate *c, const char *trace_abs, double rate,
                                const ls_catalog *cat, ls_run_config **out, ls_error *e)
{
    size_t len = 0;
    char *text = NULL;
    FILE *f = open_memstream(&text, &len);
    write_config(f, "", o, c, trace_abs, rate, 0);
    fclose(f);
    ls_yaml *y = NULL;
    ls_status rc = ls_yaml_load_string(text, len, "plan", &y, e);
    if (!rc)
        rc = ls_config_load(y, NULL, cat, out, e);
    ls_yaml_free(y);
    free(text);
    return rc;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sum of the smallest `k` of v[0..n). Sorts v. */
static double smallest_sum(double *v, size_t n, size_t k)
{
    qsort(v, n, sizeof *v, cmp_double);
    double s = 0;
    for (size_t i = 0; i < k && i < n; i++)
        s += v[i];
    return s;
}

/* Read c's request stream: its mean arrival rate ((requests - 1) / (last - first
 * arrival)) when `rate` is given, and what the bounds need (bound.h) when `w` is. */
static ls_status measure(const ls_run_config *c, double *rate, ls_bound_work *w, ls_error *e)
{
    ls_config_row row;
    ls_config_get_row(c, &row);
    double mml = row.max_model_len > 0 ? (double)row.max_model_len : INFINITY;
    ls_source *src = NULL;
    LS_TRY(ls_config_open_workload(c, &src, e));
    ls_request r;
    int64_t first = -1, last = 0, n = 0;
    size_t cap = 0;
    double *tok = NULL, *dec = NULL, *pr = NULL, max_out = 0;
    int k;
    while ((k = ls_source_next(src, &r, e)) == 1) {
        if (first < 0)
            first = r.arrival_ns;
        last = r.arrival_ns;
        if ((size_t)n == cap) {
            cap = cap ? 2 * cap : 1024;
            tok = ls_xrealloc(tok, cap * sizeof *tok);
            dec = ls_xrealloc(dec, cap * sizeof *dec);
            pr = ls_xrealloc(pr, cap * sizeof *pr);
        }
        /* what the engine serves: a prompt over max_model_len is rejected (no work),
         * an output is capped so that prompt + output fit */
        double p = r.prompt_tokens, o = r.output_tokens;
        if (w && p + o > mml)
            w->n_over_context++;
        if (p > mml) {
            p = o = 0;
            if (w)
                w->n_too_long++;
        }
        else if (p + o > mml)
            o = mml - p;
        tok[n] = p + o;
        pr[n] = p;
        dec[n] = o > 1 ? o - 1 : 0;
        if (o > max_out)
            max_out = o;
        n++;
    }
    ls_source_free(src);
    ls_status rc = k < 0 ? (e->code ? e->code : LS_EINVAL) : LS_OK;
    if (!rc && rate) {
        if (n < 2 || last <= first)
            rc = ls_fail(e, LS_EINVAL, "plan: the trace has %lld requests over %.3g s: it gives no arrival rate; "
                                       "pass --rate", (long long)n, (double)(last - first) / 1e9);
        else
            *rate = (double)(n - 1) / ((double)(last - first) / 1e9);
    }
    if (!rc && w) {
        w->n_requests = n;
        /* the SLO needs LS_CAPACITY_MIN_SUCCESS (99%) of the requests completed */
        size_t need = (size_t)ceil(0.99 * (double)n);
        w->span_s = n > 1 ? (double)(last - first) / 1e9 : 0;
        w->tokens_99 = smallest_sum(tok, (size_t)n, need);
        w->decodes_99 = smallest_sum(dec, (size_t)n, need);
        w->max_output = max_out;
        /* of those, the p99 may leave ceil(1%) + 1 over the TTFT limit (linear interpolation) */
        size_t late = (size_t)ceil(0.01 * (double)n) + 1;
        w->prompts_98 = smallest_sum(pr, (size_t)n, need > late ? need - late : 0);
    }
    free(tok);
    free(dec);
    free(pr);
    return rc;
}

ls_status ls_plan_check_lengths(const char *flag, const char *spec, ls_error *e)
{
    if (!spec)
        return LS_OK;
    ls_dist d;
    if (ls_dist_parse_spec(spec, NULL, !strcmp(flag, "--osl") ? LS_ROLE_OUTPUT : LS_ROLE_PROMPT, &d, e) != LS_OK) {
        char m[sizeof e->msg];
        snprintf(m, sizeof m, "%s", e->msg);
        return ls_fail(e, LS_EINVAL, "plan: %s '%s': %s", flag, spec, m);
    }
    bool empirical = d.kind == LS_DIST_EMPIRICAL;
    ls_dist_free(&d);
    if (empirical)
        return ls_fail(e, LS_EINVAL, "plan: %s '%s': measured lengths come with their arrivals: pass the trace "
                                     "with --trace", flag, spec);
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
    bool has_isl = o->isl > 0 || o->isl_dist, has_osl = o->osl > 0 || o->osl_dist;
    bool lengths = has_isl || has_osl;
    if (o->trace && lengths)
        return ls_fail(e, LS_EINVAL, "plan: --trace and --isl/--osl contradict each other: the trace gives the "
                                     "lengths; pass one or the other");
    if (!o->trace && !lengths)
        return ls_fail(e, LS_EINVAL, "plan: a workload is required: --trace FILE, or --isl N --osl N");
    if (lengths && !(has_isl && has_osl))
        return ls_fail(e, LS_EINVAL, "plan: --isl and --osl go together, each at least 1 token");
    LS_TRY(ls_plan_check_lengths("--isl", o->isl_dist, e));
    LS_TRY(ls_plan_check_lengths("--osl", o->osl_dist, e));
    if (o->rate > 0 && o->scale_trace > 0)
        return ls_fail(e, LS_EINVAL, "plan: --rate and --scale-trace contradict each other: both set the load; "
                                     "pass one");
    if (o->scale_trace > 0 && !o->trace)
        return ls_fail(e, LS_EINVAL, "plan: --scale-trace multiplies a trace's own rate: it needs --trace "
                                     "(with --isl/--osl pass --rate)");
    if (!o->trace && !(o->rate > 0))
        return ls_fail(e, LS_EINVAL, "plan: --isl/--osl need the target load: --rate R (requests/s)");
    for (int i = 0; i < o->n_dtypes; i++)
        if (!dtype_yaml(o->dtypes[i]))
            return ls_fail(e, LS_EINVAL, "plan: --dtype %s: expected bf16, fp8, fp4 (nvfp4), mxfp4 or int4",
                           o->dtypes[i]);
    if (!o->agg && !o->disagg)
        return ls_fail(e, LS_EINVAL, "plan: --modes: expected agg, disagg or agg,disagg");
    if (o->n_seqs < 1 || o->n_budgets < 1)
        return ls_fail(e, LS_EINVAL, "plan: --max-num-seqs and --max-batched-tokens need at least one value");
    for (int i = 0; i < o->n_seqs; i++)
        if (o->seqs[i] < 1)
            return ls_fail(e, LS_EINVAL, "plan: --max-num-seqs: expected integers >= 1, got %d", o->seqs[i]);
    for (int i = 0; i < o->n_budgets; i++)
        if (o->budgets[i] < 0)
            return ls_fail(e, LS_EINVAL, "plan: --max-batched-tokens: expected auto or integers >= 1, got %d",
                           o->budgets[i]);
    /* every pair of the two lists is searched: a budget under a sequence count never loads */
    for (int i = 0; i < o->n_budgets; i++)
        for (int j = 0; j < o->n_seqs; j++)
            if (o->budgets[i] > 0 && o->budgets[i] < o->seqs[j])
                return ls_fail(e, LS_EINVAL, "plan: --max-batched-tokens %d is below --max-num-seqs %d (vLLM needs "
                                             "max_num_batched_tokens >= max_num_seqs)", o->budgets[i], o->seqs[j]);
    bool spec_on = false, spec_off = o->n_specs == 0;
    for (int i = 0; i < o->n_specs; i++) {
        spec_on |= ls_plan_spec_on(&o->specs[i]);
        spec_off |= !ls_plan_spec_on(&o->specs[i]);
        for (int j = 0; j < i; j++)
            if (ls_plan_spec_same(&o->specs[i], &o->specs[j]))
                return ls_fail(e, LS_EINVAL, "plan: --speculative: value %d repeats value %d (each is searched once)",
                               i + 1, j + 1);
    }
    if (spec_on && !o->agg)
        return ls_fail(e, LS_EINVAL, "plan: --speculative and --modes disagg contradict each other: speculative "
                                     "decoding is not modelled with disaggregated pools; add agg to --modes");
    if (o->disagg && !spec_off)
        return ls_fail(e, LS_EINVAL, "plan: --modes disagg and --speculative contradict each other: pools run "
                                     "without speculative decoding; add --speculative off to search them");
    if (!(o->slo_ttft_s > 0) || !(o->slo_tpot_s > 0) || !isfinite(o->slo_ttft_s) || !isfinite(o->slo_tpot_s))
        return ls_fail(e, LS_EINVAL, "plan: --slo needs both limits, e.g. --slo ttft_p99=2s,tpot_p99=50ms");
    return LS_OK;
}

/* How many candidates enumerate() makes, counted without making them (its loops, the innermost
 * summed): the limit is checked before anything is allocated. */
static double count_candidates(const ls_plan_opts *o, bool moe)
{
    double g = o->gpus, agg = 0, dis = 0;
    for (int tp = 1; o->agg && tp <= o->gpus; tp *= 2)
        for (int pp = 1; tp * pp <= o->gpus; pp *= 2) {
            double dps = floor(g / (tp * pp));
            agg += dps;
            if (moe && pp == 1) /* the EP variant of every dp with tp * dp > 1 */
                agg += tp > 1 ? dps : dps - 1;
        }
    for (int ta = 1; o->disagg && 2 * ta <= o->gpus; ta *= 2)
        for (int tb = 1; ta + tb <= o->gpus; tb *= 2)
            for (int np = 1; np * ta + tb <= o->gpus; np++)
                dis += floor((g - (double)np * ta) / tb);
    double lists = (double)(o->n_dtypes > 0 ? o->n_dtypes : 1) * o->n_seqs * o->n_budgets;
    return o->n_hardware * lists * (agg * (o->n_specs > 0 ? o->n_specs : 1) + dis);
}

static void add(ls_plan *p, size_t *cap, const ls_plan_candidate *c)
{
    if (p->n == *cap) {
        *cap = *cap ? 2 * *cap : 64;
        p->c = ls_xrealloc(p->c, *cap * sizeof *p->c);
    }
    p->c[p->n++] = *c;
}

/* Every split of 1..gpus GPUs on `hw`: tp, pp powers of two; dp any; EP variants for MoE;
 * each with every dtype, max_num_seqs and budget asked for. */
static void enumerate(ls_plan *p, size_t *cap, const ls_plan_opts *o, const char *hw, bool moe)
{
    int gpus = o->gpus;
    int n_specs = o->n_specs > 0 ? o->n_specs : 1;
    for (int xi = 0; xi < n_specs; xi++)
    for (int di = 0; di < (o->n_dtypes > 0 ? o->n_dtypes : 1); di++)
        for (int si = 0; si < o->n_seqs; si++)
            for (int bi = 0; bi < o->n_budgets; bi++)
                for (int tp = 1; o->agg && tp <= gpus; tp *= 2)
                    for (int pp = 1; tp * pp <= gpus; pp *= 2)
                        for (int dp = 1; tp * pp * dp <= gpus; dp++)
                            for (int ep_on = 0; ep_on <= (moe && pp == 1 && tp * dp > 1); ep_on++) {
                                ls_plan_candidate c;
                                memset(&c, 0, sizeof c);
                                snprintf(c.hardware, sizeof c.hardware, "%s", hw);
                                snprintf(c.dtype, sizeof c.dtype, "%s", o->n_dtypes > 0 ? o->dtypes[di] : "bf16");
                                c.max_num_seqs = o->seqs[si];
                                c.budget = o->budgets[bi];
                                c.spec = o->n_specs > 0 ? xi : -1;
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
    /* disaggregated: P prefill instances of TP a beside D decode instances of TP b (issue 13's
     * pools; pp 1), every P:D ratio and per-role TP on the budget; without speculation (not
     * modelled with pools: check_opts made sure off is among the values) */
    int off = -1;
    for (int xi = 0; xi < o->n_specs && off < 0; xi++)
        if (!ls_plan_spec_on(&o->specs[xi]))
            off = xi;
    for (int di = 0; o->disagg && di < (o->n_dtypes > 0 ? o->n_dtypes : 1); di++)
        for (int si = 0; si < o->n_seqs; si++)
            for (int bi = 0; bi < o->n_budgets; bi++)
                for (int ta = 1; 2 * ta <= gpus; ta *= 2)
                    for (int tb = 1; ta + tb <= gpus; tb *= 2)
                        for (int np = 1; np * ta + tb <= gpus; np++)
                            for (int nd = 1; np * ta + nd * tb <= gpus; nd++) {
                                ls_plan_candidate c;
                                memset(&c, 0, sizeof c);
                                snprintf(c.hardware, sizeof c.hardware, "%s", hw);
                                snprintf(c.dtype, sizeof c.dtype, "%s", o->n_dtypes > 0 ? o->dtypes[di] : "bf16");
                                c.max_num_seqs = o->seqs[si];
                                c.budget = o->budgets[bi];
                                c.spec = off;
                                c.disagg = true;
                                c.pre_n = np, c.pre_tp = ta, c.dec_n = nd, c.dec_tp = tb;
                                c.tp = ta;
                                c.pp = 1;
                                c.dp = np + nd;
                                c.ep = 1;
                                c.n_gpus = np * ta + nd * tb;
                                snprintf(c.parallelism, sizeof c.parallelism, "%dP-tp%d+%dD-tp%d", np, ta, nd, tb);
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
    /* fixed lengths the model cannot take: vLLM rejects a prompt over max_model_len (the model's
     * context here) and needs room for one output token */
    if (o->isl > 0 && o->osl > 0 && (int64_t)o->isl + o->osl > m->max_context && m->max_context > 0) {
        int ctx = m->max_context; /* m points into cat */
        ls_catalog_free(cat);
        return ls_fail(e, LS_EINVAL, "plan: --isl %d + --osl %d exceed %s's context of %d tokens: vLLM rejects every "
                                     "request (prompt + max_tokens over max_model_len)",
                       o->isl, o->osl, o->model, ctx);
    }
    if (o->isl > 0 && o->isl >= m->max_context) {
        int ctx = m->max_context; /* m points into cat */
        ls_catalog_free(cat);
        return ls_fail(e, LS_EINVAL, "plan: --isl %d does not fit %s's context of %d tokens (max_model_len): vLLM "
                                     "rejects every request; give prompts under %d tokens",
                       o->isl, o->model, ctx, ctx);
    }
    /* synthetic arrivals need requests in the window at the target: under the capacity search's
     * own minimum (LS_CAPACITY_MIN_REQUESTS) it cannot probe at all, and a p99 of a handful is
     * meaningless */
    double window = window_s(o);
    if (!o->trace && o->rate > 0 && o->rate * window < LS_CAPACITY_MIN_REQUESTS) {
        ls_catalog_free(cat);
        return ls_fail(e, LS_EINVAL, "plan: --rate %g over --duration %g s gives about %.3g requests a run; the p99s "
                                     "need at least %g: raise --duration or --rate",
                       o->rate, window, o->rate * window, LS_CAPACITY_MIN_REQUESTS);
    }
    char trace_abs[PATH_MAX];
    if (o->trace && !realpath(o->trace, trace_abs)) {
        ls_catalog_free(cat);
        return ls_fail(e, LS_EIO, "plan: --trace %s: cannot open it", o->trace);
    }
    const char *tr = o->trace ? trace_abs : NULL;
    const char *bad = tr && !utf8_ok(tr) ? "--trace" : o->cluster && !utf8_ok(o->cluster) ? "--cluster" : NULL;
    for (int h = 0; h < o->n_hardware && !bad; h++)
        bad = utf8_ok(o->hardware[h]) ? NULL : "--hardware";
    if (bad) {
        ls_catalog_free(cat);
        return ls_fail(e, LS_EINVAL, "plan: %s: the value (or the trace's full path) is not valid UTF-8, which the "
                                     "YAML of the specification must be: rename it", bad);
    }
    ls_plan *p = ls_xcalloc(1, sizeof *p);
    p->trace_path = tr ? ls_xstrdup(tr) : NULL;
    p->trace_rate = NAN;
    p->max_context = m->max_context;
    p->target_rate = o->rate > 0 ? o->rate : 1.0;
    /* the base on the first GPU, at tp1: catches a bad GPU name, trace or dtype once, clearly */
    for (int h = 0; h < o->n_hardware && !rc; h++) {
        ls_run_config *c = NULL;
        bool measure_rate = h == 0 && tr && !(o->rate > 0);
        ls_plan_candidate b;
        memset(&b, 0, sizeof b);
        snprintf(b.hardware, sizeof b.hardware, "%s", o->hardware[h]);
        snprintf(b.parallelism, sizeof b.parallelism, "tp1");
        snprintf(b.dtype, sizeof b.dtype, "%s", first_dtype(o));
        b.max_num_seqs = o->seqs[0];
        b.budget = o->budgets[0];
        b.spec = -1;
        rc = load_candidate(o, &b, tr, measure_rate ? 0 : p->target_rate, cat, &c, e);
        if (rc) {
            char fb[128];
            snprintf(fb, sizeof fb, "plan: --hardware %s", o->hardware[h]);
            blame(o, tr, fb, e);
        }
        else if (measure_rate) {
            rc = measure(c, &p->trace_rate, NULL, e);
            if (rc && strncmp(e->msg, "plan:", 5))
                rc = trace_error(o, tr, e);
            if (!rc)
                p->target_rate = p->trace_rate * (o->scale_trace > 0 ? o->scale_trace : 1.0);
        }
        ls_config_free(c);
    }
    /* each speculative value on the first GPU at tp1: an unknown draft model or one with
     * another tokenizer is the value's fault, said once (not as every candidate's) */
    for (int i = 0; i < o->n_specs && !rc; i++) {
        if (!ls_plan_spec_on(&o->specs[i]))
            continue;
        ls_plan_candidate b;
        memset(&b, 0, sizeof b);
        snprintf(b.hardware, sizeof b.hardware, "%s", o->hardware[0]);
        snprintf(b.parallelism, sizeof b.parallelism, "tp1");
        snprintf(b.dtype, sizeof b.dtype, "%s", first_dtype(o));
        b.max_num_seqs = o->seqs[0];
        b.budget = o->budgets[0];
        b.spec = i;
        ls_run_config *c = NULL;
        rc = load_candidate(o, &b, tr, p->target_rate, cat, &c, e);
        if (rc) {
            char fb[160];
            snprintf(fb, sizeof fb, "plan: --speculative %s", o->specs[i].given);
            blame(o, tr, fb, e);
        }
        ls_config_free(c);
    }
    /* the capacity search starts at the target: its floor is below it */
    p->capacity_floor = o->capacity_floor_set ? o->capacity_floor : LS_PLAN_FLOOR_FRACTION * p->target_rate;
    if (!rc && !(p->capacity_floor >= 0 && p->capacity_floor <= p->target_rate))
        rc = ls_fail(e, LS_EINVAL,
                     "plan: --capacity-floor %g req/s must be in [0, the target rate %g req/s]: the capacity "
                     "search starts at the target and halves down to the floor",
                     p->capacity_floor, p->target_rate);
    /* what the workload asks at the target rate, once, for the bounds */
    ls_bound_work work;
    memset(&work, 0, sizeof work);
    work.rate = p->target_rate;
    work.fixed_window = !tr;
    work.window_s = window_s(o);
    if (!rc) {
        ls_run_config *c = NULL;
        rc = load_candidate(o, NULL, tr, p->target_rate, cat, &c, e);
        if (rc)
            blame(o, tr, "plan: the workload", e);
        else if ((rc = measure(c, NULL, &work, e)) && tr && strncmp(e->msg, "plan:", 5))
            rc = trace_error(o, tr, e); /* a row the reader rejects */
        ls_config_free(c);
        p->n_requests = work.n_requests;
        p->n_too_long = work.n_too_long;
        p->n_over_context = work.n_over_context;
    }
    size_t cap = 0;
    double want = count_candidates(o, moe);
    if (!rc && want > LS_PLAN_MAX_CANDIDATES)
        rc = ls_fail(e, LS_EINVAL,
                     "plan: %.0f candidate deployments, more than the %d a plan enumerates (each is loaded and checked "
                     "before anything is simulated, and each becomes %d configurations): lower --gpus, or give fewer "
                     "--hardware, --dtype, --max-num-seqs, --max-batched-tokens or --speculative values%s",
                     want, LS_PLAN_MAX_CANDIDATES, LS_PLAN_N_LOADS,
                     o->disagg ? ", or leave disagg out of --modes (its P:D ratios grow with the square of --gpus)" : "");
    for (int h = 0; h < o->n_hardware && !rc; h++)
        enumerate(p, &cap, o, o->hardware[h], moe);
    assert(rc || (double)p->n == want); /* count_candidates follows enumerate */
    double lowest = LS_PLAN_LOADS[0];
    for (int k = 1; k < LS_PLAN_N_LOADS; k++)
        if (LS_PLAN_LOADS[k] < lowest)
            lowest = LS_PLAN_LOADS[k];
    for (size_t i = 0; i < p->n && !rc; i++) {
        ls_plan_candidate *c = &p->c[i];
        c->tpot_floor_s = NAN;
        c->capacity_ceiling = INFINITY;
        ls_run_config *rc_cfg = NULL;
        ls_error le;
        const ls_gpu *g = NULL;
        if (is_fp4(c->dtype) && !ls_catalog_gpu(cat, c->hardware, &g, &le) && !(g->flops_fp4 > 0)) {
            /* vLLM's FP4 kernels need FP4 tensor cores (Blackwell) */
            snprintf(c->why, sizeof c->why, "%s weights: %s has no FP4 tensor cores", c->dtype, c->hardware);
            p->n_invalid++;
            continue;
        }
        if (load_candidate(o, c, tr, p->target_rate, cat, &rc_cfg, &le)) {
            /* vLLM's split rules (heads, KV heads, experts) or the cluster's size */
            snprintf(c->why, sizeof c->why, "%.250s", le.msg);
            p->n_invalid++;
            continue;
        }
        bool fits = false;
        rc = ls_config_memory_fits(rc_cfg, &fits, c->why, sizeof c->why, e);
        ls_bounds b = {NAN, INFINITY};
        if (!rc && fits)
            rc = ls_config_bounds(rc_cfg, &work, &b, e);
        ls_config_free(rc_cfg);
        if (rc)
            break;
        c->tpot_floor_s = b.tpot_floor_s;
        c->capacity_ceiling = b.capacity_rps;
        if (!fits) {
            c->by_memory = true;
            p->n_memory++;
        } else if (b.tpot_floor_s > o->slo_tpot_s) {
            /* every inter-token gap spans at least this iteration: no load meets tpot_p99 */
            c->by_bound = true;
            snprintf(c->why, sizeof c->why, "TPOT floor %.3g ms (one decode alone) > tpot_p99 limit %.3g ms",
                     1e3 * b.tpot_floor_s, 1e3 * o->slo_tpot_s);
            p->n_bound++;
        } else if (b.capacity_rps < lowest * p->target_rate) {
            c->by_bound = true;
            snprintf(c->why, sizeof c->why, "capacity ceiling %.3g req/s < the lowest load simulated, %.4g req/s",
                     b.capacity_rps, lowest * p->target_rate);
            p->n_bound++;
        } else {
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
    fprintf(f, "# written by llmsweep plan (docs/PLAN.md): %zu candidates, %zu pruned by memory, %zu by bound, "
               "%zu invalid splits\n", p->n, p->n_memory, p->n_bound, p->n_invalid);
    char nm[300];
    snprintf(nm, sizeof nm, "plan-%s-%dgpus", o->model, o->gpus);
    fputs("name: ", f);
    write_name(f, nm);
    fprintf(f, "\nseed: %lld\nbase:\n", (long long)o->seed);
    write_config(f, "  ", o, NULL, tr, p->target_rate, 0);
    fprintf(f, "grid:\n  .:\n");
    for (size_t i = 0; i < p->n; i++)
        if (p->c[i].kept) {
            const ls_plan_candidate *c = &p->c[i];
            write_item(f, o, c, false);
            fprintf(f, "   # bounds: capacity <= %.4g req/s, tpot >= %.4g ms\n", c->capacity_ceiling,
                    1e3 * c->tpot_floor_s);
        }
    /* the rates exactly (shortest round trip): the search's probes at 2x, 1.5x and 0.5x the
     * start are then the listed rates bit for bit, and one simulation serves both */
    fprintf(f, "  %s:", tr ? "workload.target_rate" : "workload.arrival.rate");
    char num[40];
    for (int k = 0; k < LS_PLAN_N_LOADS; k++) {
        ls_fmt_double(num, sizeof num, LS_PLAN_LOADS[k] * p->target_rate);
        fprintf(f, "%s%s", k ? ", " : " [", num);
    }
    ls_fmt_double(num, sizeof num, p->target_rate);
    fprintf(f, "]\ncapacity: {rel_tol: 0.05, max_runs: 16, start: %s", num);
    if (p->capacity_floor > 0) {
        ls_fmt_double(num, sizeof num, p->capacity_floor);
        fprintf(f, ", floor: %s", num);
    }
    fputs("}\n", f);
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

ls_status ls_plan_burst_spec(const ls_plan_opts *o, const ls_plan *p, const int64_t *ids, size_t n,
                             const char *spec_path, char **text, ls_sweep_spec **out, ls_error *e)
{
    *text = NULL;
    *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(text, &len);
    fprintf(f, "# written by llmsweep plan (docs/PLAN.md, \"Sensitivity\"): its top %zu deployments at the target "
               "rate with gamma arrivals of cv %g\n", n, LS_PLAN_BURST_CV);
    char nm[300];
    snprintf(nm, sizeof nm, "plan-%s-%dgpus-burst", o->model, o->gpus);
    fputs("name: ", f);
    write_name(f, nm);
    fprintf(f, "\nseed: %lld\nbase:\n", (long long)o->seed);
    write_config(f, "  ", o, NULL, p->trace_path, p->target_rate, LS_PLAN_BURST_CV);
    fprintf(f, "grid:\n  .:\n");
    for (size_t k = 0; k < n; k++) {
        /* the plan's configuration ids are deployment x load, the loads varying fastest */
        size_t dep = (size_t)ids[k] / LS_PLAN_N_LOADS, seen = 0, i = 0;
        for (; i < p->n; i++)
            if (p->c[i].kept && seen++ == dep)
                break;
        if (i == p->n) {
            fclose(f);
            return ls_fail(e, LS_EINVAL, "plan: configuration %lld is not one of the plan's", (long long)ids[k]);
        }
        write_item(f, o, &p->c[i], true);
        fputc('\n', f);
    }
    fclose(f);
    return ls_sweep_spec_parse(*text, strlen(*text), spec_path, NULL, out, e);
}

void ls_plan_free(ls_plan *p)
{
    if (!p)
        return;
    free(p->trace_path);
    free(p->c);
    free(p->spec_text);
    ls_sweep_spec_free(p->spec);
    free(p);
}
