/* bench_fidelity.c -- simulate every published calibration point and print
 * simulated beside measured, with the relative error.
 *
 *   build/bench/bench_fidelity [--points bench/fidelity/points.yaml]
 *       [--catalog FILE] [--only SUBSTRING] [--set PATH=VALUE]... [--max-requests N]
 *       [--csv FILE] [--cross-validate PARAMS [--cv-gpu NAME] [--cv-group GROUP] [--band-out FILE]]
 *
 * The points file is data (see bench/fidelity/points.yaml): a `base` run
 * configuration, and a list of `points`, each a configuration fragment
 * deep-merged onto the base plus the `measured` metrics (names of the result
 * schema, e.g. output_tps, ttft_p99_s). Each point belongs to a `group`; the
 * summary gives each group's median and worst absolute relative error beside
 * the group's targets. The program knows nothing about the engine's settings:
 * they all live in the points file. `--set` overrides a dotted path in every
 * point after the merge (e.g. `--set workload.requests=200` for a quick run);
 * `--max-requests` caps every point's request count (a smoke run; the errors
 * then mean nothing); `--catalog` adds a catalog file (e.g. trial GPU parameters while fitting).
 *
 * Exit status: 0 when every point simulated, 1 when one failed to load or run
 * (the error level is reported, never turned into a failure: it is a benchmark).
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calibrate.h"
#include "catalog.h"
#include "memory.h"
#include "replay.h"
#include "schema.h"
#include "yamldoc.h"

#define MAX_ROWS 256
#define MAX_GROUPS 16
#define MAX_SETS 32

typedef struct result_row {
    char point[160];
    char group[32];
    char metric[32];
    double measured, simulated, err; /* err = simulated/measured - 1 */
} result_row;

typedef struct group_target {
    char name[32];
    double median, worst; /* targets on |err|; NaN when not given */
} group_target;

static void usage(FILE *f)
{
    fprintf(f, "usage: bench_fidelity [--points FILE] [--catalog FILE] [--only SUBSTRING]\n"
               "                      [--set PATH=VALUE]... [--max-requests N] [--csv FILE]\n"
               "                      [--cross-validate PARAMS [--cv-gpu NAME] [--cv-group GROUP] [--band-out FILE]]\n"
               "Simulates the calibration points of FILE (default bench/fidelity/points.yaml)\n"
               "and prints simulated vs measured with the relative error.\n");
}

/* Deep copy whose maps and lists are built by appending, so that later
 * ls_yaml_map_set calls may grow them. (ls_yaml_clone sizes its arrays to
 * exactly n entries while the append path assumes power-of-two capacity:
 * setting a new key on a cloned map of 3, 5, 6 or 7 entries overruns it.) */
static ls_yaml *grow_clone(const ls_yaml *n)
{
    if (n->kind == LS_YAML_SCALAR)
        return ls_yaml_clone(n);
    ls_yaml *c = n->kind == LS_YAML_MAP ? ls_yaml_new_map() : ls_yaml_new_seq();
    for (size_t i = 0; i < n->n; i++) {
        if (n->kind == LS_YAML_MAP)
            ls_yaml_map_set(c, n->keys[i], grow_clone(n->vals[i]));
        else
            ls_yaml_seq_push(c, grow_clone(n->vals[i]));
    }
    return c;
}

/* Deep merge: maps merge key by key, anything else replaces. */
static void merge_into(ls_yaml *dst, const ls_yaml *src)
{
    for (size_t i = 0; i < src->n; i++) {
        const ls_yaml *sv = src->vals[i];
        ls_yaml *dv = (ls_yaml *)ls_yaml_get(dst, src->keys[i]);
        if (dv && dv->kind == LS_YAML_MAP && sv->kind == LS_YAML_MAP)
            merge_into(dv, sv);
        else
            ls_yaml_map_set(dst, src->keys[i], grow_clone(sv));
    }
}

/* Parse a "--set path=value" value as YAML, so numbers stay numbers and maps are allowed. */
static ls_status apply_set(ls_yaml *root, const char *spec, ls_error *e)
{
    const char *eq = strchr(spec, '=');
    if (!eq || eq == spec)
        return ls_fail(e, LS_EINVAL, "--set %s: expected PATH=VALUE", spec);
    char path[256];
    size_t n = (size_t)(eq - spec);
    if (n >= sizeof path)
        return ls_fail(e, LS_EINVAL, "--set: path too long");
    memcpy(path, spec, n);
    path[n] = '\0';
    ls_yaml *val = NULL;
    LS_TRY(ls_yaml_load_string(eq + 1, strlen(eq + 1), "--set", &val, e));
    ls_status rc = ls_yaml_set_path(root, path, val, e);
    if (rc)
        ls_yaml_free(val);
    return rc;
}


/* ---- request streams -------------------------------------------------------
 * The harness builds each point's requests itself (ls_run_opts.requests), so
 * that "all requests at time zero" and the derived OpenOrca length
 * distribution do not depend on what the workload parser offers:
 *
 *   requests:
 *     count: 3000
 *     prompt: 128                  # a fixed length, or
 *     output: {mean: 291, cv: 0.8, min: 1, max: 1024}   # log-normal, see parse_length
 *     arrival: offline             # all at t = 0, or {poisson: 101} (requests/s)
 *     seed: 1
 */

typedef struct rng {
    uint64_t s;
} rng;

/* splitmix64: small, well mixed, and reproducible everywhere. */
static uint64_t rng_next(rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double rng_uniform(rng *r) /* in (0, 1) */
{
    return ((double)(rng_next(r) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

static double rng_normal(rng *r)
{
    double u = rng_uniform(r), v = rng_uniform(r);
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

typedef struct length_dist {
    double fixed;           /* > 0: every request has this length */
    double mu, sigma;       /* log-normal of the underlying normal */
    double min, max;        /* truncation by resampling */
} length_dist;

/* E[X | a <= X <= b] for X log-normal(mu, sigma). */
static double truncated_lognormal_mean(double mu, double sigma, double a, double b)
{
    double za = (log(a) - mu) / sigma, zb = (log(b) - mu) / sigma;
    double mass = 0.5 * (erfc(-zb / sqrt(2.0)) - erfc(-za / sqrt(2.0)));
    double part = 0.5 * (erfc(-(zb - sigma) / sqrt(2.0)) - erfc(-(za - sigma) / sqrt(2.0)));
    return mass > 0 ? exp(mu + 0.5 * sigma * sigma) * part / mass : (a + b) / 2;
}

static ls_status parse_length(const ls_yaml *n, const char *what, length_dist *d, ls_error *e)
{
    memset(d, 0, sizeof *d);
    if (!n)
        return ls_fail(e, LS_EINVAL, "requests.%s: missing", what);
    if (n->kind == LS_YAML_SCALAR)
        return ls_yaml_as_double(n, what, &d->fixed, e);
    double mean = 0, cv = 0;
    d->min = 1;
    d->max = 1e9;
    const ls_yaml *v;
    if ((v = ls_yaml_get(n, "mean")))
        LS_TRY(ls_yaml_as_double(v, "mean", &mean, e));
    if ((v = ls_yaml_get(n, "cv")))
        LS_TRY(ls_yaml_as_double(v, "cv", &cv, e));
    if ((v = ls_yaml_get(n, "min")))
        LS_TRY(ls_yaml_as_double(v, "min", &d->min, e));
    if ((v = ls_yaml_get(n, "max")))
        LS_TRY(ls_yaml_as_double(v, "max", &d->max, e));
    if (!(mean > 0 && cv > 0 && d->min >= 1 && d->max >= d->min))
        return ls_fail(e, LS_EINVAL, "requests.%s: expected {mean: >0, cv: >0, min, max}", what);
    /* Log-normal whose spread is set by the CV of the untruncated lengths and
     * whose location is chosen so that the mean AFTER truncation to [min, max]
     * is `mean` (the published figure is a mean of the truncated data). */
    d->sigma = sqrt(log(1.0 + cv * cv));
    if (!(mean > d->min && mean < d->max))
        return ls_fail(e, LS_EINVAL, "requests.%s: mean %g must lie inside [min, max]", what, mean);
    double lo = log(d->min) - 10 * d->sigma, hi = log(d->max) + 10 * d->sigma;
    for (int it = 0; it < 200; it++) { /* the truncated mean increases with mu */
        double mid = 0.5 * (lo + hi);
        if (truncated_lognormal_mean(mid, d->sigma, d->min, d->max) < mean)
            lo = mid;
        else
            hi = mid;
    }
    d->mu = 0.5 * (lo + hi);
    return LS_OK;
}

static int32_t draw_length(const length_dist *d, rng *r)
{
    if (d->fixed > 0)
        return (int32_t)d->fixed;
    for (;;) {
        double x = floor(exp(d->mu + d->sigma * rng_normal(r)) + 0.5);
        if (x >= d->min && x <= d->max)
            return (int32_t)x;
    }
}

static ls_status build_requests(const ls_yaml *spec, const char *name, int64_t max_requests, double rate_override,
                                ls_request_array *out, ls_error *e)
{
    memset(out, 0, sizeof *out);
    if (!spec || spec->kind != LS_YAML_MAP)
        return ls_fail(e, LS_EINVAL, "point '%s': 'requests' must be a map", name);
    int64_t count = 0, seed = 1;
    double rate = 0; /* 0: offline */
    const ls_yaml *v;
    if ((v = ls_yaml_get(spec, "count")))
        LS_TRY(ls_yaml_as_int64(v, "requests.count", &count, e));
    if ((v = ls_yaml_get(spec, "seed")))
        LS_TRY(ls_yaml_as_int64(v, "requests.seed", &seed, e));
    if ((v = ls_yaml_get(spec, "arrival")) && v->kind == LS_YAML_MAP) {
        const ls_yaml *p = ls_yaml_get(v, "poisson");
        if (!p)
            return ls_fail(e, LS_EINVAL, "point '%s': requests.arrival: expected offline or {poisson: RATE}", name);
        LS_TRY(ls_yaml_as_double(p, "requests.arrival.poisson", &rate, e));
    } else if (v && strcmp(v->scalar, "offline") != 0)
        return ls_fail(e, LS_EINVAL, "point '%s': requests.arrival: expected offline or {poisson: RATE}", name);
    if (rate_override > 0)
        rate = rate_override;
    length_dist pd, od;
    LS_TRY(parse_length(ls_yaml_get(spec, "prompt"), "prompt", &pd, e));
    LS_TRY(parse_length(ls_yaml_get(spec, "output"), "output", &od, e));
    if (count < 1)
        return ls_fail(e, LS_EINVAL, "point '%s': requests.count must be >= 1", name);
    if (max_requests > 0 && count > max_requests)
        count = max_requests;
    rng r_arr = {(uint64_t)seed * 3 + 1}, r_p = {(uint64_t)seed * 3 + 2}, r_o = {(uint64_t)seed * 3 + 3};
    out->v = ls_xcalloc((size_t)count, sizeof *out->v);
    out->n = out->cap = (size_t)count;
    double t = 0;
    for (int64_t i = 0; i < count; i++) {
        ls_request *q = &out->v[i];
        if (rate > 0 && i > 0)
            t += -log(rng_uniform(&r_arr)) / rate;
        q->arrival_ns = (int64_t)llround(t * 1e9);
        q->prompt_tokens = draw_length(&pd, &r_p);
        q->output_tokens = draw_length(&od, &r_o);
        q->session_id = -1;
    }
    return LS_OK;
}

/* TensorRT-LLM's default capacity scheduler (GUARANTEED_NO_EVICT) reserves KV
 * for prompt + output at admission, so it never preempts. With identical
 * requests that is exactly a cap on running requests: the KV blocks of the
 * memory plan divided by the blocks of one whole request. `no_evict: true` on
 * a point applies that cap to scheduler.max_num_seqs. */
static ls_status apply_no_evict(ls_yaml *cfg, const ls_yaml *reqspec, const char *base_dir, const ls_catalog *cat,
                                const char *name, ls_error *e)
{
    const ls_yaml *pn = reqspec ? ls_yaml_get(reqspec, "prompt") : NULL;
    const ls_yaml *on = reqspec ? ls_yaml_get(reqspec, "output") : NULL;
    double isl, osl;
    if (!pn || !on || pn->kind != LS_YAML_SCALAR || on->kind != LS_YAML_SCALAR)
        return ls_fail(e, LS_EINVAL, "point '%s': no_evict needs fixed prompt and output lengths", name);
    LS_TRY(ls_yaml_as_double(pn, "requests.prompt", &isl, e));
    LS_TRY(ls_yaml_as_double(on, "requests.output", &osl, e));
    /* the plan ls_run will use: the configuration's engine rule, budget and block size */
    ls_run_config *c = NULL;
    LS_TRY(ls_config_load(cfg, base_dir, cat, &c, e));
    ls_memory_plan plan;
    ls_status rc = ls_run_memory_plan(c, &plan, e);
    ls_config_row row;
    ls_config_get_row(c, &row);
    ls_config_free(c);
    LS_TRY(rc);
    if (!plan.feasible)
        return ls_fail(e, LS_EINFEASIBLE, "point '%s': %s", name, plan.reason);
    int64_t per_req = (int64_t)ceil((isl + osl) / (double)plan.block_size);
    int64_t cap = plan.kv_blocks / per_req;
    if (cap < 1)
        return ls_fail(e, LS_EINFEASIBLE, "point '%s': one request needs %lld KV blocks, the plan has %lld", name,
                       (long long)per_req, (long long)plan.kv_blocks);
    if (cap < row.max_num_seqs) {
        char text[32];
        snprintf(text, sizeof text, "%lld", (long long)cap);
        return ls_yaml_set_path(cfg, "scheduler.max_num_seqs", ls_yaml_new_scalar(text, true), e);
    }
    return LS_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    if (n == 0)
        return NAN;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static const char *str_or(const ls_yaml *n, const char *dflt)
{
    return n && n->kind == LS_YAML_SCALAR ? n->scalar : dflt;
}

static void copy_str(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src);
}

/* Simulate one point; append one result row per measured metric. */
/* Run one configuration on the point's requests (Poisson rate replaced when
 * rate > 0); with `report`, one line of context on stderr. */
static ls_status simulate(const ls_run_config *cfg, const ls_yaml *reqspec, const char *name, int64_t max_requests,
                          double rate, bool report, ls_metrics *m, ls_error *e)
{
    ls_request_array reqs;
    LS_TRY(build_requests(reqspec, name, max_requests, rate, &reqs, e));
    double mean_in = 0, mean_out = 0;
    for (size_t i = 0; i < reqs.n; i++) {
        mean_in += reqs.v[i].prompt_tokens / (double)reqs.n;
        mean_out += reqs.v[i].output_tokens / (double)reqs.n;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ls_run_opts opts;
    memset(&opts, 0, sizeof opts);
    opts.requests = &reqs;
    ls_metrics_init(m);
    ls_status rc = ls_run(cfg, &opts, m, e);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    size_t n_req = reqs.n;
    ls_request_array_free(&reqs);
    if (rc || !report)
        return rc;
    fprintf(stderr,
            "  %-48s %5.2f s wall | %zu requests, mean in/out %.0f/%.0f | %lld done, %lld preempted, "
            "mean batch %.0f, %.0f tokens, kv max %.2f\n",
            name, (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec), n_req, mean_in,
            mean_out, (long long)m->v[LS_M_N_COMPLETED], (long long)m->v[LS_M_N_PREEMPTIONS],
            m->v[LS_M_MEAN_BATCH_SIZE], m->v[LS_M_MEAN_BATCH_TOKENS], m->v[LS_M_KV_USAGE_MAX]);
    return LS_OK;
}

/* `match_rate: {metric: M, lo: A, hi: B}`: the Poisson rate in [A, B] at which
 * the simulated M equals the measured M, by bisection (M must grow with the
 * rate, as latencies do; the same seed gives every trial the same random
 * numbers, so the search is deterministic). A diagnostic: it turns a latency
 * miss near saturation into the capacity error it really is. */
static ls_status match_rate(const ls_run_config *cfg, const ls_yaml *pt, const ls_yaml *mr, const char *name,
                            int64_t max_requests, double *rate, ls_error *e)
{
    const char *metric = NULL;
    double lo = 0, hi = 0, want = 0;
    LS_TRY(ls_yaml_as_string(ls_yaml_get(mr, "metric"), "match_rate.metric", &metric, e));
    LS_TRY(ls_yaml_as_double(ls_yaml_get(mr, "lo"), "match_rate.lo", &lo, e));
    LS_TRY(ls_yaml_as_double(ls_yaml_get(mr, "hi"), "match_rate.hi", &hi, e));
    int id = ls_metric_find(metric);
    const ls_yaml *wn = ls_yaml_get(ls_yaml_get(pt, "measured"), metric);
    if (id < 0 || !wn || !(lo > 0 && hi > lo))
        return ls_fail(e, LS_EINVAL, "match_rate: expected a measured metric and 0 < lo < hi");
    LS_TRY(ls_yaml_as_double(wn, metric, &want, e));
    ls_metrics m;
    for (int it = 0; it < 14; it++) {
        double mid = 0.5 * (lo + hi);
        LS_TRY(simulate(cfg, ls_yaml_get(pt, "requests"), name, max_requests, mid, false, &m, e));
        if (m.v[id] < want)
            lo = mid;
        else
            hi = mid;
    }
    *rate = 0.5 * (lo + hi);
    return LS_OK;
}

static ls_status run_point(const ls_yaml *base, const ls_yaml *pt, const char *base_dir, const ls_catalog *cat,
                           char **sets, int n_sets, int64_t max_requests, result_row *rows, int *n_rows, ls_error *e)
{
    const char *name = str_or(ls_yaml_get(pt, "name"), "?");
    const char *group = str_or(ls_yaml_get(pt, "group"), "all");
    const ls_yaml *frag = ls_yaml_get(pt, "config");
    const ls_yaml *meas = ls_yaml_get(pt, "measured");
    if (!meas || meas->kind != LS_YAML_MAP || meas->n == 0)
        return ls_fail(e, LS_EINVAL, "point '%s': 'measured' must be a map of metric: value", name);
    ls_yaml *cfg = grow_clone(base);
    if (frag && frag->kind == LS_YAML_MAP)
        merge_into(cfg, frag);
    ls_status rc = LS_OK;
    for (int i = 0; i < n_sets && !rc; i++)
        rc = apply_set(cfg, sets[i], e);
    const ls_yaml *ne = ls_yaml_get(pt, "no_evict");
    if (!rc && ne && ne->kind == LS_YAML_SCALAR && !strcmp(ne->scalar, "true"))
        rc = apply_no_evict(cfg, ls_yaml_get(pt, "requests"), base_dir, cat, name, e);
    ls_run_config *rc_cfg = NULL;
    if (!rc)
        rc = ls_config_load(cfg, base_dir, cat, &rc_cfg, e);
    ls_yaml_free(cfg);
    ls_metrics m;
    ls_metrics_init(&m);
    double rate = 0;
    const ls_yaml *mr = ls_yaml_get(pt, "match_rate");
    if (!rc && mr)
        rc = match_rate(rc_cfg, pt, mr, name, max_requests, &rate, e);
    if (!rc)
        rc = simulate(rc_cfg, ls_yaml_get(pt, "requests"), name, max_requests, rate, true, &m, e);
    ls_config_free(rc_cfg);
    if (rc)
        return ls_error_prefix(e, "point '%s'", name);
    if (m.status != LS_RUN_OK)
        return ls_fail(e, LS_EINFEASIBLE, "point '%s': %s: %s", name, ls_run_status_name(m.status), m.message);
    char label[160];
    if (rate > 0)
        snprintf(label, sizeof label, "%s [%.1f q/s]", name, rate);
    else
        copy_str(label, sizeof label, name);
    name = label;
    for (size_t i = 0; i < meas->n; i++) {
        int id = ls_metric_find(meas->keys[i]);
        if (id < 0)
            return ls_fail(e, LS_EINVAL, "point '%s': unknown metric '%s' (see `llmsweep schema`)", name,
                           meas->keys[i]);
        double want;
        LS_TRY(ls_yaml_as_double(meas->vals[i], meas->keys[i], &want, e));
        if (*n_rows == MAX_ROWS)
            return ls_fail(e, LS_EINVAL, "more than %d measured values", MAX_ROWS);
        result_row *r = &rows[(*n_rows)++];
        copy_str(r->point, sizeof r->point, name);
        copy_str(r->group, sizeof r->group, group);
        copy_str(r->metric, sizeof r->metric, meas->keys[i]);
        r->measured = want;
        r->simulated = m.v[id];
        r->err = m.v[id] / want - 1.0;
    }
    return LS_OK;
}

static void print_value(const char *metric, double v)
{
    if (strstr(metric, "_s") == metric + strlen(metric) - 2)
        printf(" %9.1f ms |", v * 1e3);
    else
        printf(" %12.1f |", v);
}

static const char *fmt_target(double t, char *buf, size_t size)
{
    if (isnan(t))
        snprintf(buf, size, "-");
    else
        snprintf(buf, size, "%.0f%%", 100 * t);
    return buf;
}

static void print_report(const result_row *rows, int n, const group_target *tg, int n_tg)
{
    printf("| point | metric | measured | simulated | error |\n|---|---|---:|---:|---:|\n");
    for (int i = 0; i < n; i++) {
        printf("| %s | %s |", rows[i].point, rows[i].metric);
        print_value(rows[i].metric, rows[i].measured);
        print_value(rows[i].metric, rows[i].simulated);
        printf(" %+6.1f%% |\n", 100 * rows[i].err);
    }
    printf("\n| group | rows | median abs error | worst abs error | target median / worst |\n"
           "|---|---:|---:|---:|---|\n");
    double *v = ls_xmalloc((size_t)(n + 1) * sizeof *v);
    for (int g = 0; g < n_tg; g++) {
        int k = 0;
        double worst = 0;
        for (int i = 0; i < n; i++)
            if (!strcmp(rows[i].group, tg[g].name)) {
                /* a metric the run could not produce (NaN) counts as infinitely wrong */
                double a = isnan(rows[i].err) ? INFINITY : fabs(rows[i].err);
                v[k++] = a;
                worst = fmax(worst, a);
            }
        if (k == 0)
            continue;
        double med = median(v, k);
        char tm[16], tw[16];
        printf("| %s | %d | %.1f%% | %.1f%% |", tg[g].name, k, 100 * med, 100 * worst);
        if (isnan(tg[g].median) && isnan(tg[g].worst))
            printf(" - |\n");
        else
            printf(" %s / %s: %s |\n", fmt_target(tg[g].median, tm, sizeof tm), fmt_target(tg[g].worst, tw, sizeof tw),
                   (isnan(tg[g].median) || med <= tg[g].median) && (isnan(tg[g].worst) || worst <= tg[g].worst)
                       ? "met"
                       : "MISSED");
    }
    free(v);
}

static void write_csv(const char *path, const result_row *rows, int n)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "bench_fidelity: cannot write %s\n", path);
        return;
    }
    fprintf(f, "point,group,metric,measured,simulated,rel_error\n");
    for (int i = 0; i < n; i++)
        fprintf(f, "\"%s\",%s,%s,%.6g,%.6g,%.6f\n", rows[i].point, rows[i].group, rows[i].metric,
                rows[i].measured, rows[i].simulated, rows[i].err);
    fclose(f);
}

/* ---- cross-validation --------------------------------------------------------
 * `--cross-validate PARAMS`: refit PARAMS (calibrate.h) of the catalog GPU `--cv-gpu` (default h100-sxm,
 * whose values the H200 shares) on the points of group `--cv-group` (default trtllm), holding out one
 * COLUMN at a time -- the points whose names agree up to the last word ("trtllm llama-3.3-70b h200 tp1"
 * for the rows 128/128 ... 20000/2000): fit on the other columns, predict the held-out one. Holding out
 * the H200 column is leave-one-GPU-out; the others leave out a model and TP degree. `--band-out FILE` writes
 * the all-rows figures as one CSV row (the error band reports print: scripts/make_fidelity_band.sh). */
/* What the ordering checks need of each calibration point (in the order they were added). */
typedef struct cv_meta {
    char model[64], column[160], workload[32];
    int64_t gpus;
    double measured; /* output_tps */
} cv_meta;

/* Same-model pairs of deployments: for the held-out column H, every other column D with H's model, at each
 * workload both were measured at, is ordered by output_tps of the whole system and per GPU; the order
 * simulated with the parameters of the fold that held H out is compared with the measured order. */
static ls_status pair_orderings(ls_calibration *cal, const cv_meta *meta, int n, int h0, int *right, int *total,
                                char *wrong, size_t wsize, ls_error *e)
{
    double x[LS_CAL_MAX_PARAMS];
    ls_calibration_fold_values(cal, h0, x);
    *right = *total = 0;
    size_t used = 0;
    wrong[0] = '\0';
    for (int h = 0; h < n; h++) {
        if (strcmp(meta[h].column, meta[h0].column))
            continue;
        for (int d = 0; d < n; d++) {
            if (!strcmp(meta[d].column, meta[h0].column) || strcmp(meta[d].model, meta[h].model) ||
                strcmp(meta[d].workload, meta[h].workload))
                continue;
            double sh[LS_CAL_N_METRICS], sd[LS_CAL_N_METRICS];
            LS_TRY(ls_calibration_simulate(cal, h, x, sh, e));
            LS_TRY(ls_calibration_simulate(cal, d, x, sd, e));
            for (int per_gpu = 0; per_gpu < 2; per_gpu++) {
                double gh = per_gpu ? (double)meta[h].gpus : 1, gd = per_gpu ? (double)meta[d].gpus : 1;
                bool meas = meta[h].measured / gh > meta[d].measured / gd, sim = sh[0] / gh > sd[0] / gd;
                (*total)++;
                if (meas == sim)
                    (*right)++;
                else if (used < wsize)
                    used += (size_t)snprintf(wrong + used, wsize - used, "%s%s %s vs %s%s", used ? "; " : "",
                                             meta[h].workload, meta[h].column, meta[d].column,
                                             per_gpu ? " per GPU" : "");
            }
        }
    }
    return LS_OK;
}

/* `orderings:` of the points file: strategies of one deployment whose measured order is known. Each entry
 * is {name, source, metric, order: increasing|decreasing, config (merged onto `base`), strategies: [config
 * fragments merged onto that], requests}; every strategy runs with the values x written into its GPU. */
static ls_status run_ordering(const ls_calibration *cal, const double *x, const ls_yaml *base, const ls_yaml *ord,
                              const char *base_dir, const ls_catalog *cat, char **sets, int n_sets, double *vals,
                              int *n_vals, bool *ok, ls_error *e)
{
    const char *name = str_or(ls_yaml_get(ord, "name"), "?"), *metric = NULL, *order = NULL;
    LS_TRY(ls_yaml_as_string(ls_yaml_get(ord, "metric"), "orderings.metric", &metric, e));
    LS_TRY(ls_yaml_as_string(ls_yaml_get(ord, "order"), "orderings.order", &order, e));
    const ls_yaml *strat = ls_yaml_get(ord, "strategies");
    int id = ls_metric_find(metric);
    bool inc = !strcmp(order, "increasing");
    if (id < 0 || (!inc && strcmp(order, "decreasing")) || !strat || strat->kind != LS_YAML_SEQ || strat->n < 2 ||
        strat->n > 8)
        return ls_fail(e, LS_EINVAL,
                       "ordering '%s': expected a result metric, order increasing or decreasing, and a list of "
                       "2 to 8 strategies",
                       name);
    *ok = true;
    *n_vals = 0;
    for (size_t i = 0; i < strat->n; i++) {
        ls_yaml *cfg = grow_clone(base);
        const ls_yaml *frag = ls_yaml_get(ord, "config");
        if (frag && frag->kind == LS_YAML_MAP)
            merge_into(cfg, frag);
        if (strat->vals[i]->kind == LS_YAML_MAP)
            merge_into(cfg, strat->vals[i]);
        ls_status rc = LS_OK;
        for (int k = 0; k < n_sets && !rc; k++)
            rc = apply_set(cfg, sets[k], e);
        ls_run_config *c = NULL;
        if (!rc)
            rc = ls_config_load(cfg, base_dir, cat, &c, e);
        ls_yaml_free(cfg);
        ls_metrics m;
        if (!rc) {
            ls_calibration_apply(cal, x, c);
            rc = simulate(c, ls_yaml_get(ord, "requests"), name, 0, 0, false, &m, e);
        }
        ls_config_free(c);
        if (!rc && m.status != LS_RUN_OK)
            rc = ls_fail(e, LS_EINFEASIBLE, "%s: %s", ls_run_status_name(m.status), m.message);
        if (rc)
            return ls_error_prefix(e, "ordering '%s', strategy %zu", name, i + 1);
        vals[(*n_vals)++] = m.v[id];
        if (i > 0 && !(inc ? m.v[id] > vals[i - 1] : m.v[id] < vals[i - 1]))
            *ok = false;
    }
    return LS_OK;
}

/* The strategy orderings of every held-out fold (and of the fit on all columns): same-model deployment pairs
 * of the calibration group, and the `orderings:` entries. `*all_right` is false when one is wrong. */
static ls_status print_orderings(ls_calibration *cal, const cv_meta *meta, int n, const ls_yaml *base,
                                 const ls_yaml *orderings, const char *base_dir, const ls_catalog *cat, char **sets,
                                 int n_sets, bool *all_right, ls_error *e)
{
    *all_right = true;
    printf("\n## Strategy orderings with the parameters of each held-out fold\n\n"
           "| fitted without | check | simulated | order right |\n|---|---|---|---|\n");
    for (int f = -1; f < n; f++) {
        bool first = true;
        for (int j = 0; f >= 0 && j < f; j++)
            first = first && strcmp(meta[j].column, meta[f].column);
        if (!first)
            continue;
        const char *label = f < 0 ? "(nothing: fit on all columns)" : meta[f].column;
        if (f >= 0) {
            int right, total;
            char wrong[512];
            LS_TRY(pair_orderings(cal, meta, n, f, &right, &total, wrong, sizeof wrong, e));
            if (total > 0) {
                printf("| %s | output_tps and output_tps per GPU against the other deployments of %s, each "
                       "workload | %d/%d pairs in the measured order%s%s | %s |\n",
                       label, meta[f].model, right, total, right < total ? ": wrong " : "", wrong,
                       right == total ? "yes" : "**NO**");
                *all_right = *all_right && right == total;
            }
        }
        double x[LS_CAL_MAX_PARAMS];
        ls_calibration_fold_values(cal, f, x);
        for (size_t o = 0; orderings && orderings->kind == LS_YAML_SEQ && o < orderings->n; o++) {
            double vals[8];
            int nv = 0;
            bool ok = false;
            LS_TRY(run_ordering(cal, x, base, orderings->vals[o], base_dir, cat, sets, n_sets, vals, &nv, &ok, e));
            const char *metric = str_or(ls_yaml_get(orderings->vals[o], "metric"), "?");
            bool secs = strlen(metric) > 2 && !strcmp(metric + strlen(metric) - 2, "_s");
            printf("| %s | %s |", label, str_or(ls_yaml_get(orderings->vals[o], "name"), "?"));
            for (int k = 0; k < nv; k++)
                printf(secs ? " %s%.1f ms" : " %s%.0f", k ? "/ " : "", secs ? 1e3 * vals[k] : vals[k]);
            printf(" | %s |\n", ok ? "yes" : "**NO**");
            *all_right = *all_right && ok;
        }
    }
    for (size_t o = 0; orderings && orderings->kind == LS_YAML_SEQ && o < orderings->n; o++)
        printf("%s- %s: %s\n", o ? "" : "\nMeasured orders:\n", str_or(ls_yaml_get(orderings->vals[o], "name"), "?"),
               str_or(ls_yaml_get(orderings->vals[o], "source"), "(no source given)"));
    printf("\nstrategy orderings right in every held-out fold: %s\n", *all_right ? "yes" : "NO");
    return LS_OK;
}

static ls_status cross_validate(const ls_yaml *base, const ls_yaml *points, const ls_yaml *orderings,
                                const char *base_dir, const ls_catalog *cat, const char *params, const char *gpu,
                                const char *group, char **sets, int n_sets, int64_t max_requests,
                                const char *band_out, ls_error *e)
{
    ls_calibration *cal = NULL;
    LS_TRY(ls_calibration_new(cat, gpu, params, &cal, e));
    ls_status rc = LS_OK;
    cv_meta meta[LS_CAL_MAX_POINTS];
    int n_meta = 0;
    for (size_t i = 0; !rc && i < points->n; i++) {
        const ls_yaml *pt = points->vals[i];
        const char *name = str_or(ls_yaml_get(pt, "name"), "?");
        if (strcmp(str_or(ls_yaml_get(pt, "group"), "all"), group) || ls_yaml_get(pt, "match_rate"))
            continue;
        ls_yaml *cfg = grow_clone(base);
        const ls_yaml *frag = ls_yaml_get(pt, "config");
        if (frag && frag->kind == LS_YAML_MAP)
            merge_into(cfg, frag);
        for (int k = 0; k < n_sets && !rc; k++)
            rc = apply_set(cfg, sets[k], e);
        const ls_yaml *ne = ls_yaml_get(pt, "no_evict");
        if (!rc && ne && ne->kind == LS_YAML_SCALAR && !strcmp(ne->scalar, "true"))
            rc = apply_no_evict(cfg, ls_yaml_get(pt, "requests"), base_dir, cat, name, e);
        ls_run_config *c = NULL;
        if (!rc)
            rc = ls_config_load(cfg, base_dir, cat, &c, e);
        ls_yaml_free(cfg);
        ls_request_array reqs;
        memset(&reqs, 0, sizeof reqs);
        if (!rc)
            rc = build_requests(ls_yaml_get(pt, "requests"), name, max_requests, 0, &reqs, e);
        double meas[LS_CAL_N_METRICS] = {NAN, NAN, NAN};
        static const char *const names[LS_CAL_N_METRICS] = {"output_tps", "ttft_p50_s", "tpot_p50_s"};
        const ls_yaml *mv = ls_yaml_get(pt, "measured");
        for (int k = 0; k < LS_CAL_N_METRICS && !rc; k++) {
            const ls_yaml *v = mv ? ls_yaml_get(mv, names[k]) : NULL;
            if (v)
                rc = ls_yaml_as_double(v, names[k], &meas[k], e);
        }
        char column[160];
        copy_str(column, sizeof column, name);
        char *sp = strrchr(column, ' ');
        if (sp)
            *sp = '\0';
        if (!rc && n_meta < LS_CAL_MAX_POINTS) {
            ls_config_row row;
            ls_config_get_row(c, &row);
            cv_meta *mt = &meta[n_meta++];
            copy_str(mt->model, sizeof mt->model, row.model);
            copy_str(mt->column, sizeof mt->column, column);
            copy_str(mt->workload, sizeof mt->workload, sp ? sp + 1 : name);
            mt->gpus = row.n_gpus;
            mt->measured = meas[0];
        }
        if (!rc)
            rc = ls_calibration_add_run(cal, c, &reqs, meas, name, column, e);
        if (rc) {
            ls_config_free(c);
            ls_request_array_free(&reqs);
            rc = ls_error_prefix(e, "point '%s'", name);
        }
    }
    if (!rc)
        rc = ls_calibration_fit(cal, NULL, e);
    if (rc) {
        ls_calibration_free(cal);
        return rc;
    }
    printf("\n## Cross-validation: %s refitted on group %s, one column held out at a time\n\n", params, group);
    printf("| held-out column | rows | in-sample median | in-sample worst | held-out median | held-out worst |\n"
           "|---|---:|---:|---:|---:|---:|\n");
    int n = ls_calibration_n_figures(cal);
    double *in = calloc((size_t)n + 1, sizeof *in), *ho = calloc((size_t)n + 1, sizeof *ho);
    double *all_in = calloc((size_t)n + 1, sizeof *in), *all_ho = calloc((size_t)n + 1, sizeof *ho);
    for (int i = 0; i < n; i++) {
        ls_cal_figure f = ls_calibration_figure(cal, i);
        all_in[i] = f.err_in;
        all_ho[i] = f.err_held;
        bool first = true;
        for (int j = 0; j < i; j++)
            first = first && strcmp(ls_calibration_figure(cal, j).group, f.group);
        if (!first)
            continue;
        int m = 0;
        for (int j = i; j < n; j++) {
            ls_cal_figure g = ls_calibration_figure(cal, j);
            if (!strcmp(g.group, f.group)) {
                in[m] = g.err_in;
                ho[m++] = g.err_held;
            }
        }
        double in_med = median(in, m), ho_med = median(ho, m);
        printf("| %s | %d | %.1f%% | %.1f%% | %.1f%% | %.1f%% |\n", f.group, m, 100 * in_med, 100 * in[m - 1],
               100 * ho_med, 100 * ho[m - 1]);
    }
    double im = median(all_in, n), hm = median(all_ho, n);
    printf("| **all** | %d | %.1f%% | %.1f%% | %.1f%% | %.1f%% |\n", n, 100 * im, 100 * all_in[n - 1], 100 * hm,
           100 * all_ho[n - 1]);
    printf("\nfitted on all columns:");
    char buf[256];
    copy_str(buf, sizeof buf, params);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
        printf(" %s %.4g", tok, ls_calibration_value(cal, tok));
    printf("\n");
    bool order_ok = true;
    ls_status brc = n_meta == ls_calibration_n_points(cal)
                        ? print_orderings(cal, meta, n_meta, base, orderings, base_dir, cat, sets, n_sets, &order_ok, e)
                        : LS_OK;
    if (band_out) {
        /* the band of this cost model, read by scripts/make_fidelity_band.sh into analysis/fidelity_band_data.c */
        const char *cm = "roofline";
        for (int k = 0; k < n_sets; k++)
            if (!strncmp(sets[k], "cost.model=", 11))
                cm = sets[k] + 11;
        FILE *bf = fopen(band_out, "w");
        if (!bf)
            brc = ls_fail(e, LS_EIO, "%s: cannot write: %s", band_out, strerror(errno));
        else {
            fprintf(bf, "cost_model,group,gpu,params,max_requests,rows,in_median,in_worst,held_median,held_worst,"
                        "orderings_right\n");
            char plist[256]; /* the parameters joined by ';' (one CSV field) */
            copy_str(plist, sizeof plist, params);
            for (char *p = plist; *p; p++)
                if (*p == ',')
                    *p = ';';
            fprintf(bf, "%s,%s,%s,%s,%lld,%d,%.4f,%.4f,%.4f,%.4f,%d\n", cm, group, gpu, plist,
                    (long long)max_requests, n, im, all_in[n - 1], hm, all_ho[n - 1], order_ok);
            if (fclose(bf))
                brc = ls_fail(e, LS_EIO, "%s: cannot write: %s", band_out, strerror(errno));
        }
    }
    free(in);
    free(ho);
    free(all_in);
    free(all_ho);
    ls_calibration_free(cal);
    return brc;
}

int main(int argc, char **argv)
{
    const char *points_path = "bench/fidelity/points.yaml", *catalog_path = NULL, *only = NULL,
               *csv_path = NULL;
    char *sets[MAX_SETS];
    int n_sets = 0;
    int64_t max_requests = 0;
    const char *cv_params = NULL, *cv_gpu = "h100-sxm", *cv_group = "trtllm", *band_out = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_val = i + 1 < argc;
        if (!strcmp(a, "--points") && has_val)
            points_path = argv[++i];
        else if (!strcmp(a, "--catalog") && has_val)
            catalog_path = argv[++i];
        else if (!strcmp(a, "--only") && has_val)
            only = argv[++i];
        else if (!strcmp(a, "--csv") && has_val)
            csv_path = argv[++i];
        else if (!strcmp(a, "--cross-validate") && has_val)
            cv_params = argv[++i];
        else if (!strcmp(a, "--cv-gpu") && has_val)
            cv_gpu = argv[++i];
        else if (!strcmp(a, "--cv-group") && has_val)
            cv_group = argv[++i];
        else if (!strcmp(a, "--band-out") && has_val)
            band_out = argv[++i];
        else if (!strcmp(a, "--max-requests") && has_val)
            max_requests = strtoll(argv[++i], NULL, 10);
        else if (!strcmp(a, "--set") && has_val && n_sets < MAX_SETS)
            sets[n_sets++] = argv[++i];
        else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    ls_error e;
    ls_yaml *doc = NULL;
    ls_catalog *cat = NULL;
    if (ls_yaml_load_file(points_path, &doc, &e) || ls_catalog_builtin(&cat, &e) ||
        (catalog_path && ls_catalog_load_file(cat, catalog_path, &e))) {
        fprintf(stderr, "bench_fidelity: %s\n", e.msg);
        ls_yaml_free(doc);
        ls_catalog_free(cat);
        return 1;
    }
    /* relative paths in the points (trace files) are relative to the points file */
    char base_dir[1024];
    copy_str(base_dir, sizeof base_dir, points_path);
    char *slash = strrchr(base_dir, '/');
    if (slash)
        *slash = '\0';
    else
        copy_str(base_dir, sizeof base_dir, ".");

    const ls_yaml *base = ls_yaml_get(doc, "base");
    const ls_yaml *points = ls_yaml_get(doc, "points");
    const ls_yaml *targets = ls_yaml_get(doc, "targets");
    int status = 0;
    if (!base || base->kind != LS_YAML_MAP || !points || points->kind != LS_YAML_SEQ) {
        fprintf(stderr, "bench_fidelity: %s: expected maps 'base' and a list 'points'\n", points_path);
        status = 1;
    }
    group_target tg[MAX_GROUPS];
    int n_tg = 0;
    for (size_t i = 0; !status && targets && i < targets->n && n_tg < MAX_GROUPS; i++) {
        group_target *t = &tg[n_tg++];
        copy_str(t->name, sizeof t->name, targets->keys[i]);
        t->median = t->worst = NAN;
        const ls_yaml *md = ls_yaml_get(targets->vals[i], "median"), *wo = ls_yaml_get(targets->vals[i], "worst");
        if ((md && ls_yaml_as_double(md, "targets.median", &t->median, &e)) ||
            (wo && ls_yaml_as_double(wo, "targets.worst", &t->worst, &e))) {
            fprintf(stderr, "bench_fidelity: %s\n", e.msg);
            status = 1;
        }
    }
    static result_row rows[MAX_ROWS];
    int n_rows = 0;
    for (size_t i = 0; !status && i < points->n; i++) {
        const ls_yaml *pt = points->vals[i];
        const char *name = str_or(ls_yaml_get(pt, "name"), "?");
        if (only && !strstr(name, only))
            continue;
        const char *group = str_or(ls_yaml_get(pt, "group"), "all");
        bool known = false;
        for (int g = 0; g < n_tg; g++)
            known = known || !strcmp(tg[g].name, group);
        if (!known && n_tg < MAX_GROUPS) {
            copy_str(tg[n_tg].name, sizeof tg[n_tg].name, group);
            tg[n_tg].median = tg[n_tg].worst = NAN;
            n_tg++;
        }
        if (run_point(base, pt, base_dir, cat, sets, n_sets, max_requests, rows, &n_rows, &e)) {
            fprintf(stderr, "bench_fidelity: %s\n", e.msg);
            status = 1;
        }
    }
    if (n_rows > 0) {
        print_report(rows, n_rows, tg, n_tg);
        if (csv_path)
            write_csv(csv_path, rows, n_rows);
    }
    if (!status && cv_params &&
        cross_validate(base, points, ls_yaml_get(doc, "orderings"), base_dir, cat, cv_params, cv_gpu, cv_group, sets,
                       n_sets, max_requests, band_out, &e)) {
        fprintf(stderr, "bench_fidelity: cross-validation: %s\n", e.msg);
        status = 1;
    }
    ls_yaml_free(doc);
    ls_catalog_free(cat);
    return status;
}
