/* plan_answer.c -- the planner's answer (plan_answer.h). */
#include "plan_answer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "config_key.h"
#include "fidelity_band.h"
#include "plan_launch.h"
#include "report_internal.h" /* ls_report_fmt_below */

/* One deployment: its rows at every load, its capacity (searched on one of them). */
typedef struct deployment {
    const ls_result_row *at_target; /* the row at the load multiple 1 (NULL: missing) */
    double capacity;                /* req/s, NaN when not searched or infeasible */
    double cap_fail;                /* req/s, the lowest rate its search missed the SLO at (NaN: none) */
    double cap_per_gpu;
    int n_gpus;
    unsigned violations;            /* at the target rate */
    /* the search met the SLO at every rate it probed (capacity_fail_rps NaN): it stopped at
     * max_runs, and the capacity is only ">= capacity" */
    bool at_least;
} deployment;

static bool same_rate(double a, double b)
{
    return fabs(a - b) <= 1e-6 * fabs(b);
}

static double per_gpu(const ls_result_row *r, double x)
{
    return r->cfg.n_gpus > 0 ? x / (double)r->cfg.n_gpus : NAN;
}

/* Output tokens/s per GPU and per user (1 / mean TPOT) of a row. */
static double tps_gpu(const ls_result_row *r)
{
    return per_gpu(r, r->m.v[LS_M_OUTPUT_TPS]);
}
static double tps_user(const ls_result_row *r)
{
    double t = r->m.v[LS_M_TPOT_MEAN_S];
    return t > 0 ? 1.0 / t : NAN;
}

/* The deployment's name in tables: its split, then what plan varies beside it when it is
 * not vLLM's default (dtype, max_num_seqs, a fixed token budget). */
static const char *label(const ls_result_row *r, char *buf, size_t size)
{
    const ls_config_row *c = &r->cfg;
    int n = snprintf(buf, size, "%s", c->parallelism);
    if (n > 0 && (size_t)n < size && strcmp(c->dtype_weights, "bf16"))
        n += snprintf(buf + n, size - (size_t)n, " %s", c->dtype_weights);
    if (n > 0 && (size_t)n < size && c->max_num_seqs != 256)
        n += snprintf(buf + n, size - (size_t)n, " s%lld", (long long)c->max_num_seqs);
    if (n > 0 && (size_t)n < size && strcmp(c->max_batched_tokens, "auto"))
        n += snprintf(buf + n, size - (size_t)n, " b%s", c->max_batched_tokens);
    char m[16];
    int k;
    /* speculative decoding: its method and k ("eagle k3 a0.7" -> "eagle-k3") */
    if (n > 0 && (size_t)n < size && sscanf(c->speculative, "%15s k%d", m, &k) == 2)
        snprintf(buf + n, size - (size_t)n, " %s-k%d", m, k);
    return buf;
}

/* Rows by deployment (the capacity key: every /configs column but the listed rate). */
typedef struct keyed {
    char *key;
    const ls_result_row *row;
} keyed;

static int cmp_keyed(const void *pa, const void *pb)
{
    const keyed *a = pa, *b = pb;
    int c = strcmp(a->key, b->key);
    return c ? c : (a->row->config_id > b->row->config_id) - (a->row->config_id < b->row->config_id);
}

/* Every row of r with a result under its capacity key, sorted by key (then config id): each
 * deployment's listings are one run of equal keys. *nk of them; free with free_keyed. */
static keyed *group_rows(const ls_results *r, size_t *nk)
{
    keyed *k = ls_xcalloc(r->n ? r->n : 1, sizeof *k);
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++)
        if (r->rows[i].has_result) {
            k[n].key = ls_config_row_capacity_key(&r->rows[i].cfg);
            k[n++].row = &r->rows[i];
        }
    qsort(k, n, sizeof *k, cmp_keyed);
    *nk = n;
    return k;
}

static void free_keyed(keyed *k, size_t nk)
{
    for (size_t i = 0; i < nk; i++)
        free(k[i].key);
    free(k);
}

/* Meeting the SLO at the target rate first (the planner's question); then capacity per GPU
 * descending, unsearched/infeasible last; then fewer GPUs; then config id. */
static int cmp_dep(const void *pa, const void *pb)
{
    const deployment *a = pa, *b = pb;
    if (!a->violations != !b->violations)
        return a->violations ? 1 : -1;
    double x = isnan(a->cap_per_gpu) ? -1 : a->cap_per_gpu, y = isnan(b->cap_per_gpu) ? -1 : b->cap_per_gpu;
    if (x != y)
        return x > y ? -1 : 1;
    if (a->n_gpus != b->n_gpus)
        return a->n_gpus < b->n_gpus ? -1 : 1;
    return a->at_target->config_id < b->at_target->config_id ? -1 : 1;
}

double ls_plan_gpu_tdp_w(const char *hw)
{
    /* Maximum board power from the datasheets (NVIDIA H100/H200/B200/L40S/L4/H20/A100, AMD
     * Instinct MI300X/MI325X/MI355X, GeForce RTX 4090); GB200/GB300/B300 per GPU as NVIDIA
     * states them for NVL72 and HGX systems; GH200: the whole module (Grace CPU included). */
    static const struct { const char *hw; double w; } t[] = {
        {"h100-sxm", 700}, {"h200", 700}, {"gh200-96gb", 1000}, {"gh200-144gb", 1000}, {"a100-80gb", 400},
        {"a100-40gb", 400}, {"b200", 1000}, {"gb200", 1200}, {"b300", 1100}, {"gb300", 1400}, {"h20", 400},
        {"mi300x", 750}, {"mi325x", 1000}, {"mi355x", 1400}, {"l40s", 350}, {"l4", 72}, {"rtx-4090", 450}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (!strcmp(hw, t[i].hw))
            return t[i].w;
    return NAN;
}

static const ls_plan_gpu_figures *figures_of(const ls_plan_answer_opts *o, const char *hw)
{
    for (size_t i = 0; o->figures && i < o->n_figures; i++)
        if (!strcmp(o->figures[i].hardware, hw))
            return &o->figures[i];
    return NULL;
}

/* $/million output tokens and J per output token of a deployment at `tps` output tok/s. */
static void cost_energy(const ls_plan_answer_opts *o, const ls_result_row *r, double tps, double *usd_mtok,
                        double *j_tok)
{
    const ls_plan_gpu_figures *g = figures_of(o, r->cfg.hardware);
    double n = (double)r->cfg.n_gpus;
    *usd_mtok = g && tps > 0 ? n * g->usd_per_hour / (tps * 3600.0) * 1e6 : NAN;
    *j_tok = g && tps > 0 ? n * g->watts / tps : NAN;
}

static void violation_text(const ls_slo *s, const ls_metrics *m, unsigned v, char *buf, size_t size)
{
    if (v & LS_SLO_NOT_RUN) {
        snprintf(buf, size, "%s: %.200s", ls_run_status_name(m->status), m->message);
        return;
    }
    size_t n = 0;
    buf[0] = 0;
    if ((v & LS_SLO_TTFT) && n < size)
        n += (size_t)snprintf(buf + n, size - n, "%sttft_p99 %.3g s > %.3g s", n ? ", " : "",
                              m->v[LS_M_TTFT_P99_S], s->ttft_p99_s);
    if ((v & LS_SLO_TPOT) && n < size)
        n += (size_t)snprintf(buf + n, size - n, "%stpot_p99 %.3g ms > %.3g ms", n ? ", " : "",
                              1e3 * m->v[LS_M_TPOT_P99_S], 1e3 * s->tpot_p99_s);
    if ((v & LS_SLO_SUCCESS) && n < size)
        snprintf(buf + n, size - n, "%scompleted %.1f%% < %.1f%%", n ? ", " : "", 100 * m->v[LS_M_SUCCESS_RATE],
                 100 * s->min_success);
}

/* Whether d's capacity is 0 for a search that missed the SLO at its lowest probe, R =
 * d->cap_fail: the capacity is "< R". That is the floor when the search reached it; it is
 * higher when the search stopped above the floor (its 10 requests minimum, or max_runs). */
static bool below_fail(const deployment *d)
{
    return d->capacity == 0 && d->cap_fail > 0 && isfinite(d->cap_fail);
}

/* A capacity (or, with per = n GPUs, a capacity per GPU) as the tables show it: "< R"
 * when it is below the rate its search missed the SLO at; ">= R" when the search never
 * missed it (R its last probe). */
static const char *cap_text(const deployment *d, int per, char *buf, size_t size)
{
    if (below_fail(d))
        ls_report_fmt_below(d->cap_fail / (per > 0 ? per : 1), buf, size);
    else if (d->at_least)
        ls_report_fmt_atleast(per > 0 ? d->cap_per_gpu : d->capacity, buf, size);
    else
        snprintf(buf, size, "%.3g", per > 0 ? d->cap_per_gpu : d->capacity);
    return buf;
}

/* Why deployment `d` ranks below the first, in numbers. */
static void reason(const deployment *d, const deployment *best, const ls_slo *s, const ls_plan_answer_opts *o,
                   char *buf, size_t size)
{
    char v[256];
    static const char unbounded[] = "met the SLO at every rate probed (the search stopped at max_runs)";
    if (d == best && !d->violations) {
        snprintf(buf, size, "best capacity per GPU%s%s", d->at_least ? "; " : "", d->at_least ? unbounded : "");
        return;
    }
    if (d->violations) {
        violation_text(s, &d->at_target->m, d->violations, v, sizeof v);
        snprintf(buf, size, "misses the SLO at the target rate (%s)", v);
    } else if (isnan(d->cap_per_gpu)) {
        snprintf(buf, size, "no capacity found");
    } else if (d->at_least) { /* a lower bound: not comparable with the first's */
        snprintf(buf, size, "%s", unbounded);
    } else if (below_fail(d)) {
        char r[32];
        ls_report_fmt_below(d->cap_fail, r, sizeof r);
        if (o->capacity_floor > 0 && d->cap_fail == o->capacity_floor)
            snprintf(buf, size, "capacity below the search floor (misses the SLO at %s req/s)", r + 1);
        else
            snprintf(buf, size, "capacity below %s req/s (misses the SLO there, not searched lower)", r + 1);
    } else if (d->cap_per_gpu < best->cap_per_gpu) {
        snprintf(buf, size, "%s%.0f%% less capacity per GPU (%.3g vs %s%.3g req/s)%s", best->at_least ? "at least " : "",
                 100 * (1 - d->cap_per_gpu / best->cap_per_gpu), d->cap_per_gpu, best->at_least ? ">=" : "",
                 best->cap_per_gpu,
                 d->n_gpus > best->n_gpus ? "; more GPUs for the same load" : "");
    } else {
        snprintf(buf, size, "ties on capacity per GPU; uses %d GPUs against %d", d->n_gpus, best->n_gpus);
    }
}

/* Each speculative deployment of the top against its baseline, the same deployment without
 * speculation at the same load and seed (common/config_key.h), when the plan has it. */
static void print_spec_vs_base(const deployment *d, size_t n, size_t top, const ls_plan_answer_opts *o, FILE *f)
{
    bool any = false;
    char lab[128];
    for (size_t i = 0; i < top; i++) {
        const ls_result_row *a = d[i].at_target;
        if (!strcmp(a->cfg.speculative, "none") || !a->cfg.speculative[0])
            continue;
        if (!any)
            fprintf(f, o->markdown ? "\nSpeculative decoding against the same deployment without it (same load, "
                                     "seed and requests):\n\n"
                                   : "speculative decoding against the same deployment without it (same load, seed "
                                     "and requests):\n");
        any = true;
        char *key = ls_config_row_baseline_key(&a->cfg);
        const deployment *b = NULL;
        for (size_t j = 0; j < n && !b; j++) {
            const ls_result_row *x = d[j].at_target;
            if (j == i || strcmp(x->cfg.speculative, "none"))
                continue;
            char *kb = ls_config_row_baseline_key(&x->cfg);
            if (!strcmp(kb, key))
                b = &d[j];
            free(kb);
        }
        free(key);
        fprintf(f, o->markdown ? "- #%zu %s on %s (%s): " : "  #%zu %s on %s (%s): ", i + 1, label(a, lab, sizeof lab),
                a->cfg.hardware, a->cfg.speculative);
        if (!b) {
            fprintf(f, "no baseline in the plan (add --speculative off)\n");
            continue;
        }
        const ls_result_row *r = b->at_target;
        double tp_s = a->m.v[LS_M_TPOT_P99_S], tp_b = r->m.v[LS_M_TPOT_P99_S];
        double g = tp_b / tp_s;
        char ca[32], cb[32], ratio[32] = "";
        cap_text(&d[i], 0, ca, sizeof ca);
        cap_text(b, 0, cb, sizeof cb);
        if (d[i].capacity > 0 && b->capacity > 0 && !d[i].at_least && !b->at_least) /* of capacities found, not bounds */
            snprintf(ratio, sizeof ratio, " (%.2fx)", d[i].capacity / b->capacity);
        fprintf(f, "capacity %s vs %s req/s without%s, tpot_p99 at the target %.3g vs %.3g ms (%.2fx %s), "
                   "%.3g tokens per verification step\n",
                ca, cb, ratio, 1e3 * tp_s, 1e3 * tp_b, g >= 1 ? g : 1 / g, g >= 1 ? "faster" : "slower",
                a->m.v[LS_M_SPEC_MEAN_ACCEPTED_TOKENS]);
    }
}

static void print_top(const deployment *d, size_t n, const ls_plan_answer_opts *o, FILE *f)
{
    size_t top = (size_t)(o->top_n > 0 ? o->top_n : 5);
    if (top > n)
        top = n;
    char why[512], cmd[2048], lab[128], ct[32], cg[32];
    if (o->markdown)
        fprintf(f, "## Top %zu deployments by capacity per GPU under the SLO\n\n"
                   "Goodput: the requests per second completed within the SLO at the target rate.\n\n"
                   "| # | config | hardware | deployment | GPUs | capacity req/s | req/s per GPU | goodput req/s @target | "
                   "tok/s per GPU @target | tok/s per user @target | ttft_p99 s | tpot_p99 ms | why not first |\n"
                   "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n", top);
    else
        fprintf(f, "top %zu deployments by capacity per GPU under the SLO (capacity, req/s/GPU and goodput in req/s; "
                   "goodput: requests/s completed within the SLO at the target rate):\n"
                   "   # config hardware   deployment             GPUs capacity  req/s/GPU  goodput tok/s/GPU tok/s/user "
                   "ttft_p99 tpot_p99  why not first\n", top);
    for (size_t i = 0; i < top; i++) {
        const ls_result_row *r = d[i].at_target;
        reason(&d[i], &d[0], &o->slo, o, why, sizeof why);
        cap_text(&d[i], 0, ct, sizeof ct);
        cap_text(&d[i], d[i].n_gpus, cg, sizeof cg);
        if (o->markdown)
            fprintf(f, "| %zu | %lld | %s | %s | %d | %s | %s | %.4g | %.4g | %.4g | %.3g | %.3g | %s |\n", i + 1,
                    (long long)r->config_id, r->cfg.hardware, label(r, lab, sizeof lab), d[i].n_gpus, ct, cg,
                    r->m.v[LS_M_GOODPUT_RPS], tps_gpu(r), tps_user(r), r->m.v[LS_M_TTFT_P99_S], 1e3 * r->m.v[LS_M_TPOT_P99_S], why);
        else
            fprintf(f, "  %2zu %6lld %-10s %-22s %4d %8s %10s %8.4g %9.4g %10.4g %7.3gs %6.3gms  %s\n", i + 1,
                    (long long)r->config_id, r->cfg.hardware, label(r, lab, sizeof lab), d[i].n_gpus, ct, cg,
                    r->m.v[LS_M_GOODPUT_RPS], tps_gpu(r), tps_user(r), r->m.v[LS_M_TTFT_P99_S], 1e3 * r->m.v[LS_M_TPOT_P99_S], why);
    }
    print_spec_vs_base(d, n, top, o, f);
    if (o->figures) {
        /* at the target rate every deployment serves the same tokens: its cost is its GPUs';
         * at its capacity, what it costs when kept full */
        fprintf(f, o->markdown ? "\nCost and energy per output token (GPU price x count; board power x count):\n\n"
                                 "| # | hardware | deployment | $/Mtok @target | $/Mtok @capacity | J/tok @target | J/tok @capacity |\n"
                                 "|---|---|---|---|---|---|---|\n"
                               : "cost and energy per output token (GPU price x count; board power x count):\n"
                                 "   # hardware   deployment             $/Mtok@target $/Mtok@capacity J/tok@target "
                                 "J/tok@capacity\n");
        for (size_t i = 0; i < top; i++) {
            const ls_result_row *r = d[i].at_target;
            double tps = r->m.v[LS_M_OUTPUT_TPS], rps = r->m.v[LS_M_THROUGHPUT_RPS];
            /* output tokens per request at the target, times the capacity */
            double tps_cap = rps > 0 && d[i].capacity > 0 ? tps / rps * d[i].capacity : NAN;
            double u1, j1, u2, j2;
            cost_energy(o, r, tps, &u1, &j1);
            cost_energy(o, r, tps_cap, &u2, &j2);
            /* at a capacity that is only a lower bound (">=R"), the costs there are upper bounds */
            char su[32], sj[32];
            snprintf(su, sizeof su, "%s%.4g", d[i].at_least && isfinite(u2) ? "<=" : "", u2);
            snprintf(sj, sizeof sj, "%s%.4g", d[i].at_least && isfinite(j2) ? "<=" : "", j2);
            fprintf(f, o->markdown ? "| %zu | %s | %s | %.4g | %s | %.4g | %s |\n"
                                   : "  %2zu %-10s %-22s %13.4g %15s %12.4g %14s\n",
                    i + 1, r->cfg.hardware, label(r, lab, sizeof lab), u1, su, j1, sj);
        }
    }
    fprintf(f, o->markdown ? "\nLaunch commands (vLLM; SGLang's equivalent below each):\n\n"
                           : "launch commands (vLLM; SGLang's equivalent below each):\n");
    for (size_t i = 0; i < top; i++) {
        ls_plan_launch_command("vllm", d[i].at_target, cmd, sizeof cmd);
        fprintf(f, o->markdown ? "%zu. `%s`\n" : "  %zu. %s\n", i + 1, cmd);
        ls_plan_launch_command("sglang", d[i].at_target, cmd, sizeof cmd);
        fprintf(f, o->markdown ? "   SGLang: `%s`\n" : "     sglang: %s\n", cmd);
    }
    fputc('\n', f);
}

typedef struct point {
    double x, y;  /* tok/s per GPU, tok/s per user */
    const ls_result_row *row;
} point;

/* x descending, then y descending, then config id */
static int cmp_point(const void *pa, const void *pb)
{
    const point *a = pa, *b = pb;
    if (a->x != b->x)
        return a->x > b->x ? -1 : 1;
    if (a->y != b->y)
        return a->y > b->y ? -1 : 1;
    return (a->row->config_id > b->row->config_id) - (a->row->config_id < b->row->config_id);
}

/* Disaggregated prefill/decode pools ("1P-tp1+1D-tp1"), as plot.py tells them apart. */
static bool is_disagg(const ls_result_row *r)
{
    return strstr(r->cfg.parallelism, "P-") != NULL;
}

enum { MODE_ANY = -1, MODE_AGG = 0, MODE_DISAGG = 1 };

/* The frontier of one GPU type (and mode: MODE_ANY, or only aggregated or disaggregated
 * deployments) over every row meeting the SLO (any load): sorted by tok/s per GPU, a
 * point is on it when its tok/s per user beats every point before it (equal points: each
 * is listed, none dominates the other). Listed by GPUs then rate. */
static void print_frontier(const ls_results *r, const ls_slo *s, const char *hw, int mode, bool md, FILE *f)
{
    const char *mn = mode == MODE_AGG ? ", aggregated" : mode == MODE_DISAGG ? ", disaggregated prefill/decode" : "";
    fprintf(f, md ? "## Pareto frontier on %s%s: output tok/s per GPU vs tok/s per user\n\n"
                    "| config | deployment | GPUs | rate req/s | tok/s per GPU | tok/s per user |\n|---|---|---|---|---|---|\n"
                  : "Pareto frontier on %s%s (output tok/s per GPU vs tok/s per user = 1/mean TPOT; SLO met):\n",
            hw, mn);
    point *pt = ls_xcalloc(r->n ? r->n : 1, sizeof *pt);
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++) {
        const ls_result_row *a = &r->rows[i];
        if (!a->has_result || strcmp(a->cfg.hardware, hw) || ls_slo_violations(s, &a->m) ||
            (mode != MODE_ANY && is_disagg(a) != (mode == MODE_DISAGG)))
            continue;
        double x = tps_gpu(a), y = tps_user(a);
        if (!isnan(x) && !isnan(y))
            pt[n++] = (point){x, y, a};
    }
    qsort(pt, n, sizeof *pt, cmp_point);
    /* keep[i]: no earlier point (x >= x_i) has y > y_i, and none equal on x has y > ... */
    size_t kept = 0;
    double best_y = -INFINITY;
    for (size_t i = 0; i < n;) {
        size_t j = i; /* the run of points with this x */
        while (j < n && pt[j].x == pt[i].x)
            j++;
        double y_top = pt[i].y; /* the best y of the run (sorted) */
        for (size_t k = i; k < j; k++) {
            bool on = pt[k].y == y_top && pt[k].y > best_y;
            if (on)
                pt[kept++] = pt[k];
        }
        if (y_top > best_y)
            best_y = y_top;
        i = j;
    }
    char lab[128];
    for (size_t i = kept; i-- > 0;) { /* ascending x: fewest tokens per GPU (most per user) first */
        const ls_result_row *a = pt[i].row;
        if (md)
            fprintf(f, "| %lld | %s | %lld | %.4g | %.4g | %.4g |\n", (long long)a->config_id,
                    label(a, lab, sizeof lab), (long long)a->cfg.n_gpus, a->cfg.arrival_rate, pt[i].x, pt[i].y);
        else
            fprintf(f, "  config %-5lld %-22s %3lld GPUs at %8.4g req/s: %9.4g tok/s/GPU %8.4g tok/s/user\n",
                    (long long)a->config_id, label(a, lab, sizeof lab), (long long)a->cfg.n_gpus, a->cfg.arrival_rate,
                    pt[i].x, pt[i].y);
    }
    if (!kept)
        fprintf(f, md ? "No point meets the SLO.\n" : "  (no point meets the SLO)\n");
    free(pt);
    fputc('\n', f);
}

/* The fewest GPUs meeting the SLO at the target rate, and the best of one fewer. */
static void print_min_gpus(const deployment *d, size_t n, const ls_plan_answer_opts *o, FILE *f)
{
    char lab[128];
    const deployment *m = NULL;
    for (size_t i = 0; i < n; i++)
        if (!d[i].violations && (!m || d[i].n_gpus < m->n_gpus ||
                                 (d[i].n_gpus == m->n_gpus && tps_user(d[i].at_target) > tps_user(m->at_target))))
            m = &d[i];
    if (!m)
        return;
    fprintf(f, o->markdown ? "## Fewest GPUs at the target rate\n\n" : "fewest GPUs at the target rate:\n");
    fprintf(f, "%s%d GPUs (%s on %s, config %lld) meet the SLO at %.4g req/s.\n", o->markdown ? "" : "  ",
            m->n_gpus, label(m->at_target, lab, sizeof lab), m->at_target->cfg.hardware,
            (long long)m->at_target->config_id, o->target_rate);
    /* one fewer: the closest deployment of that size, by its worst SLO ratio */
    const deployment *c = NULL;
    double cw = INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (d[i].n_gpus != m->n_gpus - 1)
            continue;
        const ls_metrics *x = &d[i].at_target->m;
        double w = x->status != LS_RUN_OK ? INFINITY
                                          : fmax(x->v[LS_M_TTFT_P99_S] / o->slo.ttft_p99_s,
                                                 isnan(x->v[LS_M_TPOT_P99_S]) ? 0 : x->v[LS_M_TPOT_P99_S] / o->slo.tpot_p99_s);
        if (!c || w < cw) {
            c = &d[i];
            cw = w;
        }
    }
    char v[256];
    if (m->n_gpus == 1)
        fprintf(f, "%sone GPU is the least there is.\n", o->markdown ? "" : "  ");
    else if (!c)
        fprintf(f, "%swith %d GPUs no deployment fits in memory or is a valid split.\n", o->markdown ? "" : "  ",
                m->n_gpus - 1);
    else {
        violation_text(&o->slo, &c->at_target->m, c->violations, v, sizeof v);
        fprintf(f, "%swith %d GPUs the closest (%s, config %lld) %s%s%s.\n", o->markdown ? "" : "  ", m->n_gpus - 1,
                label(c->at_target, lab, sizeof lab), (long long)c->at_target->config_id,
                c->violations ? "misses it: " : "meets it (check the grid)", c->violations ? v : "", "");
    }
    fputc('\n', f);
}

/* A deployment's TTFT p99 at no load, estimated from its two lowest loads r1 < r2 (TTFTs
 * t1, t2): the queueing delay grows convexly with the load from 0, so it falls by no more
 * from r1 to 0 than in proportion to its fall from r2 to r1, and the unloaded TTFT is at
 * least about t1 - (t2 - t1) r1 / (r2 - r1) (t1 when the load does not raise it). NaN
 * when fewer than two loads ran. The deployment: the rows k[0..n) (one run of group_rows);
 * equal rates go by their order in the file. */
static double ttft_unloaded(const keyed *k, size_t n, const ls_result_row **lowest)
{
    const ls_result_row *a = NULL, *b = NULL; /* the lowest two loads */
    for (size_t i = 0; i < n; i++) {
        const ls_result_row *x = k[i].row;
        if (x->m.status != LS_RUN_OK || isnan(x->m.v[LS_M_TTFT_P99_S]))
            continue;
        if (!a || x->cfg.arrival_rate < a->cfg.arrival_rate || (x->cfg.arrival_rate == a->cfg.arrival_rate && x < a))
            b = a, a = x;
        else if (!b || x->cfg.arrival_rate < b->cfg.arrival_rate || (x->cfg.arrival_rate == b->cfg.arrival_rate && x < b))
            b = x;
    }
    *lowest = a;
    if (!a || !b || !(b->cfg.arrival_rate > a->cfg.arrival_rate))
        return NAN;
    double t1 = a->m.v[LS_M_TTFT_P99_S], t2 = b->m.v[LS_M_TTFT_P99_S];
    double r1 = a->cfg.arrival_rate, r2 = b->cfg.arrival_rate;
    return t2 > t1 ? t1 - (t2 - t1) * r1 / (r2 - r1) : t1;
}

/* The TTFT limit when it binds: met at a load below the target (the load is the trouble),
 * or over what every deployment reaches at every load simulated, and then over what its
 * unloaded TTFT is estimated at (no load meets it) or not (a lower load may). */
static void print_ttft_hint(const ls_results *r, const ls_plan_answer_opts *o, FILE *f)
{
    const char *pre = o->markdown ? "\n" : "";
    char lab[128], v[32], l[32];
    const ls_result_row *b = NULL; /* the fastest TTFT p99 of any row that ran */
    for (size_t i = 0; i < r->n; i++) {
        const ls_result_row *a = &r->rows[i];
        if (a->has_result && a->m.status == LS_RUN_OK && !isnan(a->m.v[LS_M_TTFT_P99_S]) &&
            (!b || a->m.v[LS_M_TTFT_P99_S] < b->m.v[LS_M_TTFT_P99_S]))
            b = a;
    }
    double lim = o->slo.ttft_p99_s;
    if (!b || b->m.v[LS_M_TTFT_P99_S] <= lim) {
        if (b)
            fprintf(f, "%sTTFT binds: the load is over every deployment's capacity (%s on %s meets the TTFT "
                       "limit at %.4g req/s); lower --rate or raise --gpus.\n",
                    pre, label(b, lab, sizeof lab), b->cfg.hardware, b->cfg.arrival_rate);
        return;
    }
    /* every deployment's unloaded TTFT over the limit: no load meets it. Otherwise `may`, of
     * the deployments whose estimate does not rule the limit out, the one first in the file */
    size_t nk;
    keyed *k = group_rows(r, &nk);
    const ls_result_row *may = NULL, *may_first = NULL;
    for (size_t i = 0, j; i < nk; i = j) {
        const ls_result_row *first = k[i].row, *low = NULL;
        for (j = i; j < nk && !strcmp(k[j].key, k[i].key); j++)
            if (k[j].row < first)
                first = k[j].row;
        if (!(ttft_unloaded(k + i, j - i, &low) > lim) && low && (!may || first < may_first))
            may = low, may_first = first;
    }
    free_keyed(k, nk);
    double bt = b->m.v[LS_M_TTFT_P99_S];
    snprintf(v, sizeof v, bt < 1 ? "%.3g ms" : "%.3g s", bt < 1 ? 1e3 * bt : bt);
    snprintf(l, sizeof l, lim < 1 ? "%g ms" : "%g s", lim < 1 ? 1e3 * lim : lim);
    fprintf(f, "%sTTFT binds, and its limit is below what any deployment reaches at any load simulated: the fastest "
               "TTFT p99, %s at %.4g req/s by %s on %s, is %.3gx the %s limit: ",
            pre, v, b->cfg.arrival_rate, label(b, lab, sizeof lab), b->cfg.hardware, bt / lim, l);
    if (!may)
        fprintf(f, "no load meets it (each deployment's TTFT at its two lowest loads puts its unloaded TTFT over the "
                   "limit); relax ttft_p99 or use faster GPUs.\n");
    else
        fprintf(f, "%s on %s still falls with the load enough that a rate below %.4g req/s may meet it.\n",
                label(may, lab, sizeof lab), may->cfg.hardware, may->cfg.arrival_rate);
}

/* Nothing meets the SLO at the target: which limit binds, how far the closest is. */
static void print_binding(const ls_results *r, const deployment *d, size_t n, const ls_plan_answer_opts *o, FILE *f)
{
    char lab[128];
    const deployment *c = NULL;
    double cw = INFINITY, rt = NAN, rp = NAN;
    for (size_t i = 0; i < n; i++) {
        const ls_metrics *x = &d[i].at_target->m;
        if (x->status != LS_RUN_OK)
            continue;
        double t = x->v[LS_M_TTFT_P99_S] / o->slo.ttft_p99_s;
        double p = isnan(x->v[LS_M_TPOT_P99_S]) ? 0 : x->v[LS_M_TPOT_P99_S] / o->slo.tpot_p99_s;
        double w = fmax(t, p);
        if (!(w >= cw)) {
            c = &d[i];
            cw = w;
            rt = t;
            rp = p;
        }
    }
    if (!c) {
        fprintf(f, "no deployment ran at the target rate\n");
        return;
    }
    char v[256];
    violation_text(&o->slo, &c->at_target->m, c->violations, v, sizeof v);
    fprintf(f, "%sno deployment meets the SLO at %.4g req/s. The closest is %s on %s (config %lld): %s; the binding "
               "limit is %s (%.2fx its limit; the other at %.2fx)%s\n",
            o->markdown ? "**" : "", o->target_rate, label(c->at_target, lab, sizeof lab), c->at_target->cfg.hardware,
            (long long)c->at_target->config_id, v, rt >= rp ? "TTFT p99" : "TPOT p99", fmax(rt, rp), fmin(rt, rp),
            o->markdown ? "**" : "");
    if (rp > 1)
        fprintf(f, "%sTPOT is a per-token floor that load does not move much: no split of this budget decodes "
                   "fast enough; relax tpot_p99 or use faster GPUs.\n", o->markdown ? "\n" : "");
    else if (rt > 1)
        print_ttft_hint(r, o, f);
    fputc('\n', f);
}

/* The worst ratio of a p99 to its limit (> 1: missed; INFINITY: did not run ok). */
static double worst_ratio(const ls_slo *s, const ls_metrics *m)
{
    if (m->status != LS_RUN_OK)
        return INFINITY;
    double t = m->v[LS_M_TTFT_P99_S] / s->ttft_p99_s;
    double p = isnan(m->v[LS_M_TPOT_P99_S]) ? 0 : m->v[LS_M_TPOT_P99_S] / s->tpot_p99_s;
    return isnan(t) ? INFINITY : fmax(t, p);
}

/* The top deployments at every load multiple and under bursts: which holds, which breaks first. */
static void print_sensitivity(const ls_results *r, const deployment *d, size_t n, const ls_plan_answer_opts *o,
                              FILE *f)
{
    static const double mult[] = {0.5, 1.0, 1.5, 2.0};
    enum { NM = sizeof mult / sizeof mult[0] };
    size_t top = (size_t)(o->top_n > 0 ? o->top_n : 5);
    if (top > n)
        top = n;
    if (!top)
        return;
    fprintf(f, o->markdown ? "## Sensitivity of the top %zu: SLO at 0.5-2x the load and under bursts\n\n"
                             "Each cell: the worst p99 over its limit (met when <= 1).\n\n"
                             "| # | hardware | deployment | 0.5x | 1x | 1.5x | 2x | bursts (gamma cv %g) |\n"
                             "|---|---|---|---|---|---|---|---|\n"
                           : "sensitivity of the top %zu (worst p99 / its limit; met when <= 1; '-' not simulated):\n"
                             "   # hardware   deployment               0.5x     1x   1.5x     2x  bursts (gamma cv %g)\n",
            top, o->burst_cv);
    int best = -1, worst = -1;
    double best_score = -1, worst_score = INFINITY;
    char lab[128], lab2[128];
    for (size_t i = 0; i < top; i++) {
        const ls_result_row *a = d[i].at_target;
        char *key = ls_config_row_capacity_key(&a->cfg);
        double ratio[NM];
        for (int k = 0; k < NM; k++) {
            ratio[k] = NAN;
            for (size_t j = 0; j < r->n && isnan(ratio[k]); j++) {
                const ls_result_row *b = &r->rows[j];
                if (!b->has_result || !same_rate(b->cfg.arrival_rate, mult[k] * o->target_rate))
                    continue;
                char *kb = ls_config_row_capacity_key(&b->cfg);
                if (!strcmp(kb, key))
                    ratio[k] = worst_ratio(&o->slo, &b->m);
                free(kb);
            }
        }
        free(key);
        /* the burst sweep lists the top deployments in this order, one row each */
        double br = NAN;
        if (o->burst && i < o->burst->n && o->burst->rows[i].has_result)
            br = worst_ratio(&o->slo, &o->burst->rows[i].m);
        /* robustness: the highest multiple met from 0.5x up, bursts as the half step */
        double score = 0;
        for (int k = 0; k < NM && ratio[k] <= 1; k++)
            score = mult[k];
        if (br <= 1)
            score += 0.25;
        if (score > best_score)
            best_score = score, best = (int)i;
        if (score < worst_score)
            worst_score = score, worst = (int)i;
        if (o->markdown) {
            fprintf(f, "| %zu | %s | %s |", i + 1, a->cfg.hardware, label(a, lab, sizeof lab));
            for (int k = 0; k < NM; k++)
                fprintf(f, isnan(ratio[k]) ? " - |" : " %.2f |", ratio[k]);
            fprintf(f, isnan(br) ? " - |\n" : " %.2f |\n", br);
        } else {
            fprintf(f, "  %2zu %-10s %-22s", i + 1, a->cfg.hardware, label(a, lab, sizeof lab));
            for (int k = 0; k < NM; k++)
                fprintf(f, isnan(ratio[k]) ? "      -" : " %6.2f", ratio[k]);
            fprintf(f, isnan(br) ? "       -\n" : " %7.2f\n", br);
        }
    }
    const char *pre = o->markdown ? "\n" : "  ";
    if (best >= 0 && best_score > worst_score) {
        fprintf(f, "%smost robust: #%d (%s on %s) meets the SLO up to %gx the load%s; breaks first: #%d (%s on %s), "
                   "%s.\n",
                pre, best + 1, label(d[best].at_target, lab, sizeof lab), d[best].at_target->cfg.hardware,
                floor(best_score * 2) / 2, fmod(best_score, 0.5) > 0 ? " and under bursts" : ", not under bursts",
                worst + 1, label(d[worst].at_target, lab2, sizeof lab2), d[worst].at_target->cfg.hardware,
                worst_score < 0.5 ? "misses it at half the load"
                : fmod(worst_score, 0.5) > 0 ? "the first to miss it as the load grows"
                                             : "misses it under bursts or as the load grows");
    } else if (best >= 0) {
        fprintf(f, "%sall %zu hold alike: each meets the SLO up to %gx the load%s.\n", pre, top,
                floor(best_score * 2) / 2, fmod(best_score, 0.5) > 0 ? " and under bursts" : ", not under bursts");
    }
    fputc('\n', f);
}

/* The deployments at the target rate, ranked; *n of them. Caller frees. */
static deployment *rank_deployments(const ls_results *r, const ls_plan_answer_opts *o, size_t *count)
{
    deployment *d = ls_xcalloc(r->n ? r->n : 1, sizeof *d);
    size_t nk;
    keyed *k = group_rows(r, &nk);
    size_t n = 0;
    for (size_t i = 0; i < nk;) {
        size_t j = i;
        const ls_result_row *searched = NULL; /* the listing with the capacity: the lowest id, as in report.c */
        const ls_result_row *at = NULL;
        for (; j < nk && !strcmp(k[j].key, k[i].key); j++) { /* one deployment: its listings */
            if (!searched && !isnan(k[j].row->m.v[LS_M_CAPACITY_RPS]))
                searched = k[j].row;
            if (!at && same_rate(k[j].row->cfg.arrival_rate, o->target_rate))
                at = k[j].row;
        }
        if (at) {
            deployment *x = &d[n++];
            x->at_target = at;
            x->n_gpus = (int)at->cfg.n_gpus;
            x->violations = ls_slo_violations(&o->slo, &at->m);
            x->capacity = searched ? searched->m.v[LS_M_CAPACITY_RPS] : NAN;
            x->cap_fail = searched ? searched->m.v[LS_M_CAPACITY_FAIL_RPS] : NAN;
            x->cap_per_gpu = per_gpu(at, x->capacity);
            x->at_least = ls_report_cap_atleast(r, x->capacity, x->cap_fail);
        }
        i = j;
    }
    free_keyed(k, nk);
    qsort(d, n, sizeof *d, cmp_dep);
    *count = n;
    return d;
}

size_t ls_plan_answer_top(const ls_results *r, const ls_plan_answer_opts *o, int64_t *ids, size_t max)
{
    size_t n = 0;
    deployment *d = rank_deployments(r, o, &n);
    size_t k = n < max ? n : max;
    for (size_t i = 0; i < k; i++)
        ids[i] = d[i].at_target->config_id;
    free(d);
    return k;
}

bool ls_plan_answer_write(const ls_results *r, const ls_plan_answer_opts *o, FILE *f)
{
    size_t n = 0;
    deployment *d = rank_deployments(r, o, &n);
    bool met = false;
    for (size_t i = 0; i < n; i++)
        met |= !d[i].violations;
    if (o->markdown)
        fprintf(f, "# Plan: %s, budget %d GPUs, %.4g req/s, SLO ttft_p99 <= %g s, tpot_p99 <= %g ms\n\n",
                n ? d[0].at_target->cfg.model : "?", o->gpus, o->target_rate, o->slo.ttft_p99_s,
                1e3 * o->slo.tpot_p99_s);
    if (!n)
        fprintf(f, "no results at the target rate in %s\n", r->path);
    else {
        if (!met)
            print_binding(r, d, n, o, f);
        print_top(d, n, o, f);
        if (met)
            print_sensitivity(r, d, n, o, f);
        if (met)
            print_min_gpus(d, n, o, f);
        /* one frontier per GPU type, in first-seen order; per GPU type and mode when the
         * plan has both (a disaggregated pair spends its GPUs otherwise: issue 16) */
        bool modes[2] = {false, false};
        for (size_t i = 0; i < r->n; i++)
            if (r->rows[i].has_result)
                modes[is_disagg(&r->rows[i])] = true;
        for (size_t i = 0; i < r->n; i++) {
            bool seen = false;
            for (size_t j = 0; j < i && !seen; j++)
                seen = r->rows[j].has_result && !strcmp(r->rows[j].cfg.hardware, r->rows[i].cfg.hardware);
            if (seen || !r->rows[i].has_result)
                continue;
            const char *hw = r->rows[i].cfg.hardware;
            if (!(modes[0] && modes[1])) {
                print_frontier(r, &o->slo, hw, MODE_ANY, o->markdown, f);
                continue;
            }
            for (int m = MODE_AGG; m <= MODE_DISAGG; m++) {
                bool has = false; /* this GPU type has deployments of the mode */
                for (size_t j = 0; j < r->n && !has; j++)
                    has = r->rows[j].has_result && !strcmp(r->rows[j].cfg.hardware, hw) &&
                          is_disagg(&r->rows[j]) == (m == MODE_DISAGG);
                if (has)
                    print_frontier(r, &o->slo, hw, m, o->markdown, f);
            }
        }
        ls_fidelity_band_write(f, o->markdown); /* how far to trust the figures (fidelity_band.h) */
    }
    free(d);
    return met;
}
