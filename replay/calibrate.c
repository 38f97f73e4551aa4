/* calibrate.c -- fit a GPU's efficiency parameters to measured vLLM benchmark runs (calibrate.h).
 *
 * Each point replays its benchmark's requests through ls_run with trial parameters written into the
 * point's resolved configuration (the GPU is held by value there). The loss is the sum over points and
 * figures of log(simulated / measured)^2; Nelder-Mead searches bounded coordinates
 * (x = lo + (hi - lo) * sigmoid(u)) from the catalog's values, deterministically, so the same inputs
 * give the same overlay.
 */
#include <assert.h>
#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "calibrate.h"
#include "config_internal.h"
#include "metrics.h"

typedef struct cal_param {
    const char *name;
    size_t offset;      /* double field of ls_gpu */
    double unit;        /* catalog unit -> field (iter_overhead_ms -> seconds) */
    double lo, hi;      /* bounds, in catalog units */
} cal_param;

static const cal_param param_table[] = {
    {"mfu_max", offsetof(ls_gpu, mfu_max), 1.0, 0.02, 1.0},
    {"mbu", offsetof(ls_gpu, mbu), 1.0, 0.02, 1.0},
    {"iter_overhead_ms", offsetof(ls_gpu, iter_overhead_s), 1e-3, 0.0, 100.0},
    {"kernel_overhead_us", offsetof(ls_gpu, kernel_overhead_s), 1e-6, 0.0, 1000.0},
    {"seq_overhead_us", offsetof(ls_gpu, seq_overhead_s), 1e-6, 0.0, 1000.0},
    {"attn_eff", offsetof(ls_gpu, attn_eff), 1.0, 0.02, 1.0},
};
#define N_PARAM_TABLE ((int)(sizeof param_table / sizeof param_table[0]))

static const char *const metric_names[LS_CAL_N_METRICS] = {"output_tps", "ttft_p50_s", "tpot_p50_s"};
static const int metric_ids[LS_CAL_N_METRICS] = {LS_M_OUTPUT_TPS, LS_M_TTFT_P50_S, LS_M_TPOT_P50_S};

typedef struct cal_point {
    char name[256];
    char group[256];
    ls_run_config *cfg;
    ls_request_array reqs;
    double measured[LS_CAL_N_METRICS];  /* NaN: not measured */
} cal_point;

struct ls_calibration {
    const ls_catalog *cat;
    ls_gpu gpu;                          /* the catalog's entry: the starting values */
    const cal_param *params[LS_CAL_MAX_PARAMS];
    int n_params;
    cal_point points[LS_CAL_MAX_POINTS];
    int n_points;
    double fitted[LS_CAL_MAX_PARAMS];    /* catalog units; NaN before a fit */
    double in_median, in_worst, loo_median, loo_worst;
    ls_cal_figure *figs;                 /* after a fit */
    int n_figs;
    double fold[LS_CAL_MAX_POINTS][LS_CAL_MAX_PARAMS]; /* after a fit: the values of the fold that held out
                                                        * point p's group (= fitted without leave-one-out) */
};

/* ---- set-up ------------------------------------------------------------------- */

ls_status ls_calibration_new(const ls_catalog *cat, const char *gpu, const char *params, ls_calibration **out,
                             ls_error *e)
{
    *out = NULL;
    const ls_gpu *g;
    LS_TRY(ls_catalog_gpu(cat, gpu, &g, e));
    ls_calibration *c = ls_xcalloc(1, sizeof *c);
    c->cat = cat;
    c->gpu = *g;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", params ? params : "mfu_max,mbu,iter_overhead_ms");
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int k = -1;
        for (int i = 0; i < N_PARAM_TABLE; i++)
            if (!strcmp(param_table[i].name, tok))
                k = i;
        bool dup = false;
        for (int i = 0; i < c->n_params && k >= 0; i++)
            dup |= c->params[i] == &param_table[k];
        if (k < 0 || dup || c->n_params == LS_CAL_MAX_PARAMS) {
            free(c);
            return ls_fail(e, LS_EINVAL,
                           "--fit: %s parameter '%s' (expected a comma-separated subset of mfu_max, mbu, "
                           "iter_overhead_ms, kernel_overhead_us, seq_overhead_us, attn_eff)",
                           dup ? "repeated" : "unknown", tok);
        }
        c->params[c->n_params++] = &param_table[k];
    }
    if (c->n_params == 0) {
        free(c);
        return ls_fail(e, LS_EINVAL, "--fit: no parameter to fit");
    }
    for (int i = 0; i < LS_CAL_MAX_PARAMS; i++)
        c->fitted[i] = NAN;
    c->in_median = c->in_worst = c->loo_median = c->loo_worst = NAN;
    *out = c;
    return LS_OK;
}

void ls_calibration_free(ls_calibration *c)
{
    if (!c)
        return;
    for (int i = 0; i < c->n_points; i++) {
        ls_config_free(c->points[i].cfg);
        ls_request_array_free(&c->points[i].reqs);
    }
    free(c->figs);
    free(c);
}

/* ---- the benchmark result JSON ---------------------------------------------------- */

static ls_status get_list(json_t *root, const char *key, const char *path, json_t **out, ls_error *e)
{
    *out = json_object_get(root, key);
    if (!json_is_array(*out))
        return ls_fail(e, LS_EINVAL, "%s: '%s' missing or not a list (save the result with --save-result "
                                     "--save-detailed)", path, key);
    return LS_OK;
}

/* "meta-llama/Llama-3.1-8B-Instruct" matches catalog "llama-3.1-8b": the lowercased last path part,
 * less a "meta-" prefix, starts with the catalog name. */
static bool model_matches(const char *model_id, const char *catalog_name)
{
    const char *base = strrchr(model_id, '/');
    base = base ? base + 1 : model_id;
    char low[256];
    size_t n = 0;
    for (; base[n] && n + 1 < sizeof low; n++)
        low[n] = (char)tolower((unsigned char)base[n]);
    low[n] = '\0';
    const char *s = strncmp(low, "meta-", 5) ? low : low + 5;
    return !strncmp(s, catalog_name, strlen(catalog_name));
}

static ls_status read_result(cal_point *p, const char *path, const char *model, ls_error *e)
{
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root)
        return ls_fail(e, LS_EINVAL, "%s:%d: not a JSON benchmark result: %s", path, je.line, je.text);
    ls_status rc = LS_OK;
    json_t *in, *outl, *ttfts, *itls;
    if (!json_is_object(root))
        rc = ls_fail(e, LS_EINVAL, "%s: expected a JSON object (vllm bench serve --save-result)", path);
    if (!rc) rc = get_list(root, "input_lens", path, &in, e);
    if (!rc) rc = get_list(root, "output_lens", path, &outl, e);
    if (!rc) rc = get_list(root, "ttfts", path, &ttfts, e);
    if (!rc) rc = get_list(root, "itls", path, &itls, e);
    size_t n = rc ? 0 : json_array_size(in);
    if (!rc && (n == 0 || json_array_size(outl) != n || json_array_size(ttfts) != n || json_array_size(itls) != n))
        rc = ls_fail(e, LS_EINVAL, "%s: input_lens, output_lens, ttfts and itls must be lists of the same "
                                   "non-zero length (got %zu, %zu, %zu, %zu)",
                     path, n, json_array_size(outl), json_array_size(ttfts), json_array_size(itls));
    const char *mid = rc ? NULL : json_string_value(json_object_get(root, "model_id"));
    if (!rc && mid && !model_matches(mid, model))
        rc = ls_fail(e, LS_EINVAL, "%s: model_id '%s' does not match the configuration's model '%s'", path, mid,
                     model);
    double rate = INFINITY;
    json_t *rr = rc ? NULL : json_object_get(root, "request_rate");
    if (json_is_number(rr))
        rate = json_number_value(rr);
    else if (rr && !(json_is_string(rr) && !strcmp(json_string_value(rr), "inf")))
        rc = ls_fail(e, LS_EINVAL, "%s: request_rate must be a number or \"inf\"", path);
    if (!rc && !(rate > 0))
        rc = ls_fail(e, LS_EINVAL, "%s: request_rate must be > 0, got %g", path, rate);
    if (rc) {
        json_decref(root);
        return rc;
    }
    /* requests: lengths from the file, arrivals 0 (inf) or Poisson at the rate (fixed seed) */
    p->reqs.v = ls_xcalloc(n, sizeof *p->reqs.v);
    p->reqs.n = p->reqs.cap = n;
    ls_dvec tt = {0}, tp = {0};
    double out_tokens = 0, t = 0;
    uint64_t s = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < n && !rc; i++) {
        json_t *pi = json_array_get(in, i), *po = json_array_get(outl, i), *ti = json_array_get(ttfts, i);
        json_t *li = json_array_get(itls, i);
        if (!json_is_integer(pi) || !json_is_integer(po) || json_integer_value(pi) < 1 || json_integer_value(po) < 1 ||
            json_integer_value(pi) > INT32_MAX || json_integer_value(po) > INT32_MAX || !json_is_array(li)) {
            rc = ls_fail(e, LS_EINVAL, "%s: request %zu: input_lens/output_lens must be integers >= 1 and itls a list",
                         path, i);
            break;
        }
        if (isfinite(rate) && i > 0) {
            s += 0x9E3779B97F4A7C15ull; /* splitmix64 */
            uint64_t z = s;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
            z ^= z >> 31;
            t += -log(((double)(z >> 11) + 0.5) / 9007199254740992.0) / rate;
        }
        ls_request *q = &p->reqs.v[i];
        q->arrival_ns = (int64_t)llround(t * 1e9);
        q->prompt_tokens = (int32_t)json_integer_value(pi);
        q->output_tokens = (int32_t)json_integer_value(po);
        q->session_id = -1;
        out_tokens += (double)q->output_tokens;
        if (json_is_number(ti) && json_number_value(ti) > 0)
            ls_dvec_push(&tt, json_number_value(ti));
        size_t k = json_array_size(li);
        if (k > 0) {
            double sum = 0;
            for (size_t j = 0; j < k; j++)
                sum += json_number_value(json_array_get(li, j));
            ls_dvec_push(&tp, sum / (double)k);
        }
    }
    if (!rc) {
        json_t *ot = json_object_get(root, "output_throughput"), *du = json_object_get(root, "duration");
        p->measured[0] = json_is_number(ot) ? json_number_value(ot)
                         : json_is_number(du) && json_number_value(du) > 0 ? out_tokens / json_number_value(du)
                                                                           : NAN;
        p->measured[1] = tt.n ? ls_percentile(tt.v, tt.n, 50) : NAN;
        p->measured[2] = tp.n ? ls_percentile(tp.v, tp.n, 50) : NAN;
        if (!(p->measured[0] > 0) && !(p->measured[1] > 0) && !(p->measured[2] > 0))
            rc = ls_fail(e, LS_EINVAL, "%s: no figure to fit (output_throughput, ttfts, itls all empty)", path);
    }
    ls_dvec_free(&tt);
    ls_dvec_free(&tp);
    json_decref(root);
    return rc;
}

ls_status ls_calibration_add_point(ls_calibration *c, const char *config_path, const char *result_path, ls_error *e)
{
    if (c->n_points == LS_CAL_MAX_POINTS)
        return ls_fail(e, LS_EINVAL, "too many points (at most %d)", LS_CAL_MAX_POINTS);
    ls_yaml *doc = NULL;
    LS_TRY(ls_yaml_load_file(config_path, &doc, e));
    ls_status rc = LS_OK;
    if (doc->kind == LS_YAML_MAP && !ls_yaml_get(doc, "workload")) {
        /* the requests come from the result file; the loader wants a workload all the same */
        ls_yaml *w = NULL;
        static const char placeholder[] = "arrival: {process: poisson, rate: 1}\nprompt_tokens: {dist: fixed, value: 1}\n"
                                          "output_tokens: {dist: fixed, value: 1}\nmax_requests: 1\n";
        rc = ls_yaml_load_string(placeholder, sizeof placeholder - 1, "<calibrate>", &w, e);
        if (!rc)
            rc = ls_yaml_set_path(doc, "workload", w, e);
    }
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", config_path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    cal_point *p = &c->points[c->n_points];
    memset(p, 0, sizeof *p);
    if (!rc)
        rc = ls_config_load(doc, slash ? dir : NULL, c->cat, &p->cfg, e);
    ls_yaml_free(doc);
    if (rc)
        return ls_error_prefix(e, "%s", config_path);
    if (strcmp(p->cfg->gpu.name, c->gpu.name)) {
        rc = ls_fail(e, LS_EINVAL, "%s: the configuration runs on gpu '%s', but the calibration is of '%s'",
                     config_path, p->cfg->gpu.name, c->gpu.name);
        ls_config_free(p->cfg);
        return rc;
    }
    rc = read_result(p, result_path, p->cfg->model.name, e);
    if (rc) {
        ls_config_free(p->cfg);
        ls_request_array_free(&p->reqs);
        return rc;
    }
    snprintf(p->name, sizeof p->name, "%s", result_path);
    snprintf(p->group, sizeof p->group, "%s", result_path);
    c->n_points++;
    return LS_OK;
}

ls_status ls_calibration_add_run(ls_calibration *c, ls_run_config *cfg, ls_request_array *reqs,
                                 const double measured[LS_CAL_N_METRICS], const char *name, const char *group,
                                 ls_error *e)
{
    if (c->n_points == LS_CAL_MAX_POINTS)
        return ls_fail(e, LS_EINVAL, "too many points (at most %d)", LS_CAL_MAX_POINTS);
    cal_point *p = &c->points[c->n_points++];
    memset(p, 0, sizeof *p);
    p->cfg = cfg;
    p->reqs = *reqs;
    memset(reqs, 0, sizeof *reqs);
    memcpy(p->measured, measured, sizeof p->measured);
    snprintf(p->name, sizeof p->name, "%s", name);
    snprintf(p->group, sizeof p->group, "%s", group ? group : name);
    return LS_OK;
}

int ls_calibration_n_figures(const ls_calibration *c)
{
    return c->n_figs;
}

ls_cal_figure ls_calibration_figure(const ls_calibration *c, int i)
{
    assert(i >= 0 && i < c->n_figs);
    return c->figs[i];
}

/* ---- evaluation and fit ---------------------------------------------------------- */

static void apply(ls_gpu *g, const ls_calibration *c, const double *x)
{
    for (int i = 0; i < c->n_params; i++)
        *(double *)((char *)g + c->params[i]->offset) = x[i] * c->params[i]->unit;
}

/* Simulated figures of point p with parameters x (catalog units). False when the run failed. */
static bool simulate(ls_calibration *c, int p, const double *x, double sim[LS_CAL_N_METRICS])
{
    cal_point *pt = &c->points[p];
    apply(&pt->cfg->gpu, c, x);
    ls_run_opts opts;
    memset(&opts, 0, sizeof opts);
    opts.requests = &pt->reqs;
    ls_metrics m;
    ls_error e;
    ls_status rc = ls_run(pt->cfg, &opts, &m, &e);
    for (int k = 0; k < LS_CAL_N_METRICS; k++)
        sim[k] = m.v[metric_ids[k]];
    return rc == LS_OK && m.status == LS_RUN_OK;
}

/* Sum of squared log errors over the points with use[p]. */
static double loss(ls_calibration *c, const bool *use, const double *x)
{
    double L = 0;
    for (int p = 0; p < c->n_points; p++) {
        if (!use[p])
            continue;
        double sim[LS_CAL_N_METRICS];
        if (!simulate(c, p, x, sim))
            return 1e9;
        for (int k = 0; k < LS_CAL_N_METRICS; k++) {
            double m = c->points[p].measured[k];
            if (!(m > 0))
                continue;
            double r = sim[k] > 0 && isfinite(sim[k]) ? log(sim[k] / m) : 10.0;
            L += r * r;
        }
    }
    return L;
}

static double to_x(const cal_param *p, double u)
{
    return p->lo + (p->hi - p->lo) / (1.0 + exp(-u));
}

static double to_u(const cal_param *p, double x)
{
    double f = (x - p->lo) / (p->hi - p->lo);
    f = f < 1e-4 ? 1e-4 : f > 1 - 1e-4 ? 1 - 1e-4 : f;
    return log(f / (1 - f));
}

static double loss_u(ls_calibration *c, const bool *use, const double *u)
{
    double x[LS_CAL_MAX_PARAMS];
    for (int i = 0; i < c->n_params; i++)
        x[i] = to_x(c->params[i], u[i]);
    return loss(c, use, x);
}

/* Nelder-Mead on u from the catalog's values; writes the best x (catalog units). */
static void fit(ls_calibration *c, const bool *use, double *x_out)
{
    int n = c->n_params;
    double s[LS_CAL_MAX_PARAMS + 1][LS_CAL_MAX_PARAMS], f[LS_CAL_MAX_PARAMS + 1];
    for (int i = 0; i < n; i++)
        s[0][i] = to_u(c->params[i], *(const double *)((const char *)&c->gpu + c->params[i]->offset) /
                                         c->params[i]->unit);
    for (int j = 1; j <= n; j++) {
        memcpy(s[j], s[0], sizeof s[0]);
        s[j][j - 1] += 0.7;
    }
    for (int j = 0; j <= n; j++)
        f[j] = loss_u(c, use, s[j]);
    for (int it = 0; it < 200; it++) {
        /* order: best first */
        for (int a = 0; a <= n; a++)
            for (int b = a + 1; b <= n; b++)
                if (f[b] < f[a]) {
                    double t = f[a];
                    f[a] = f[b];
                    f[b] = t;
                    double tmp[LS_CAL_MAX_PARAMS];
                    memcpy(tmp, s[a], sizeof tmp);
                    memcpy(s[a], s[b], sizeof tmp);
                    memcpy(s[b], tmp, sizeof tmp);
                }
        double spread = 0;
        for (int j = 1; j <= n; j++)
            for (int i = 0; i < n; i++)
                spread = fmax(spread, fabs(s[j][i] - s[0][i]));
        if (spread < 1e-5 || f[0] < 1e-16)
            break;
        double cen[LS_CAL_MAX_PARAMS] = {0}, r[LS_CAL_MAX_PARAMS], q[LS_CAL_MAX_PARAMS];
        for (int j = 0; j < n; j++)
            for (int i = 0; i < n; i++)
                cen[i] += s[j][i] / n;
        for (int i = 0; i < n; i++)
            r[i] = cen[i] + (cen[i] - s[n][i]);
        double fr = loss_u(c, use, r);
        if (fr < f[0]) {
            for (int i = 0; i < n; i++)
                q[i] = cen[i] + 2 * (cen[i] - s[n][i]);
            double fq = loss_u(c, use, q);
            if (fq < fr) {
                memcpy(s[n], q, sizeof q);
                f[n] = fq;
            } else {
                memcpy(s[n], r, sizeof r);
                f[n] = fr;
            }
        } else if (fr < f[n - 1]) {
            memcpy(s[n], r, sizeof r);
            f[n] = fr;
        } else {
            for (int i = 0; i < n; i++)
                q[i] = cen[i] + 0.5 * (s[n][i] - cen[i]);
            double fq = loss_u(c, use, q);
            if (fq < f[n]) {
                memcpy(s[n], q, sizeof q);
                f[n] = fq;
            } else { /* shrink towards the best */
                for (int j = 1; j <= n; j++) {
                    for (int i = 0; i < n; i++)
                        s[j][i] = s[0][i] + 0.5 * (s[j][i] - s[0][i]);
                    f[j] = loss_u(c, use, s[j]);
                }
            }
        }
    }
    int best = 0;
    for (int j = 1; j <= n; j++)
        if (f[j] < f[best])
            best = j;
    for (int i = 0; i < n; i++)
        x_out[i] = to_x(c->params[i], s[best][i]);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void summarise(double *v, int n, double *med, double *worst)
{
    if (n == 0) {
        *med = *worst = NAN;
        return;
    }
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    *med = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    *worst = v[n - 1];
}

/* |sim/meas - 1| of every measured figure of point p with x, appended to errs; rows printed. */
static void point_errors(ls_calibration *c, int p, const double *x, const char *label, FILE *out, double *errs,
                         int *n)
{
    double sim[LS_CAL_N_METRICS];
    bool ok = simulate(c, p, x, sim);
    for (int k = 0; k < LS_CAL_N_METRICS; k++) {
        double m = c->points[p].measured[k];
        if (!(m > 0))
            continue;
        double err = ok && sim[k] > 0 ? sim[k] / m - 1 : NAN;
        errs[(*n)++] = isnan(err) ? INFINITY : fabs(err);
        if (out)
            fprintf(out, "| %s | %s | %s | %.6g | %.6g | %+.1f%% |\n", c->points[p].name, metric_names[k], label, m,
                    sim[k], 100 * err);
    }
}

ls_status ls_calibration_fit(ls_calibration *c, FILE *out, ls_error *e)
{
    int n = c->n_points, k = c->n_params;
    if (n < k) {
        char missing[128] = "";
        size_t used = 0;
        for (int i = n; i < k; i++)
            used += (size_t)snprintf(missing + used, sizeof missing - used, "%s%s", i > n ? ", " : "",
                                     c->params[i]->name);
        return ls_fail(e, LS_EINVAL,
                       "too few points to fit %s: %d parameters need at least %d measured runs, got %d "
                       "(add runs in other regimes, or fit fewer with --fit)",
                       missing, k, k, n);
    }
    bool use[LS_CAL_MAX_POINTS];
    for (int p = 0; p < n; p++)
        use[p] = true;
    double x0[LS_CAL_MAX_PARAMS], x[LS_CAL_MAX_PARAMS];
    for (int i = 0; i < k; i++)
        x0[i] = *(const double *)((const char *)&c->gpu + c->params[i]->offset) / c->params[i]->unit;
    fit(c, use, x);
    memcpy(c->fitted, x, sizeof x);

    double *before = ls_xcalloc((size_t)(n * LS_CAL_N_METRICS), sizeof *before);
    double *after = ls_xcalloc((size_t)(n * LS_CAL_N_METRICS), sizeof *after);
    double *held = ls_xcalloc((size_t)(n * LS_CAL_N_METRICS), sizeof *held);
    int nb = 0, na = 0, nh = 0;
    if (out) {
        fprintf(out, "calibrating %s on %d points: %d parameters\n\n| parameter | catalog | fitted |\n|---|---:|---:|\n",
                c->gpu.name, n, k);
        for (int i = 0; i < k; i++)
            fprintf(out, "| %s | %.6g | %.6g |\n", c->params[i]->name, x0[i], x[i]);
        fprintf(out, "\n| point | metric | fit | measured | simulated | error |\n|---|---|---|---:|---:|---:|\n");
    }
    for (int p = 0; p < n; p++) {
        point_errors(c, p, x0, "before", out, before, &nb);
        point_errors(c, p, x, "in-sample", out, after, &na);
    }
    /* leave-one-out: refit without p's group, predict its points (each group fitted once) */
    bool loo = true;
    for (int p = 0; p < n; p++) {
        int rest = 0;
        for (int q = 0; q < n; q++)
            rest += strcmp(c->points[q].group, c->points[p].group) != 0;
        loo &= rest >= k;
    }
    double (*xg)[LS_CAL_MAX_PARAMS] = c->fold;
    for (int p = 0; p < n; p++)
        memcpy(xg[p], x, sizeof xg[p]);
    for (int p = 0; p < n && loo; p++) {
        int g0 = p;
        for (int q = 0; q < p; q++)
            if (!strcmp(c->points[q].group, c->points[p].group)) {
                g0 = q;
                break;
            }
        if (g0 == p) {
            for (int q = 0; q < n; q++)
                use[q] = strcmp(c->points[q].group, c->points[p].group) != 0;
            fit(c, use, xg[p]);
        } else
            memcpy(xg[p], xg[g0], sizeof xg[p]);
        point_errors(c, p, xg[p], "held-out", out, held, &nh);
    }
    for (int p = 0; p < n; p++)
        use[p] = true;
    /* the figures, in point order (before, in-sample and held-out rows were appended per point) */
    free(c->figs);
    c->figs = ls_xcalloc((size_t)(na > 0 ? na : 1), sizeof *c->figs);
    c->n_figs = 0;
    for (int p = 0, idx = 0; p < n; p++)
        for (int m = 0; m < LS_CAL_N_METRICS; m++) {
            if (!(c->points[p].measured[m] > 0))
                continue;
            ls_cal_figure *f = &c->figs[c->n_figs++];
            f->point = c->points[p].name;
            f->group = c->points[p].group;
            f->metric = metric_names[m];
            f->measured = c->points[p].measured[m];
            f->err_before = before[idx];
            f->err_in = after[idx];
            f->err_held = loo ? held[idx] : NAN;
            idx++;
        }
    double bm, bw;
    summarise(before, nb, &bm, &bw);
    summarise(after, na, &c->in_median, &c->in_worst);
    if (loo)
        summarise(held, nh, &c->loo_median, &c->loo_worst);
    if (out) {
        fprintf(out, "\n| errors | figures | median | worst |\n|---|---:|---:|---:|\n");
        fprintf(out, "| before (catalog values) | %d | %.1f%% | %.1f%% |\n", nb, 100 * bm, 100 * bw);
        fprintf(out, "| in-sample (fitted) | %d | %.1f%% | %.1f%% |\n", na, 100 * c->in_median, 100 * c->in_worst);
        if (loo)
            fprintf(out, "| leave-one-out (held out) | %d | %.1f%% | %.1f%% |\n", nh, 100 * c->loo_median,
                    100 * c->loo_worst);
        else
            fprintf(out, "| leave-one-out | - | needs more points than parameters (%d) | |\n", k);
    }
    /* leave the points' configurations at the fitted values */
    for (int p = 0; p < n; p++)
        apply(&c->points[p].cfg->gpu, c, x);
    free(before);
    free(after);
    free(held);
    return LS_OK;
}

int ls_calibration_n_points(const ls_calibration *c)
{
    return c->n_points;
}

void ls_calibration_fold_values(const ls_calibration *c, int p, double x[LS_CAL_MAX_PARAMS])
{
    assert(p >= -1 && p < c->n_points);
    memcpy(x, p < 0 ? c->fitted : c->fold[p], sizeof c->fitted);
}

void ls_calibration_apply(const ls_calibration *c, const double x[LS_CAL_MAX_PARAMS], ls_run_config *cfg)
{
    apply(&cfg->gpu, c, x);
}

ls_status ls_calibration_simulate(ls_calibration *c, int p, const double x[LS_CAL_MAX_PARAMS],
                                  double sim[LS_CAL_N_METRICS], ls_error *e)
{
    assert(p >= 0 && p < c->n_points);
    bool ok = simulate(c, p, x, sim);
    if (!isnan(c->fitted[0])) /* leave the point at the fitted values, as ls_calibration_fit does */
        apply(&c->points[p].cfg->gpu, c, c->fitted);
    return ok ? LS_OK : ls_fail(e, LS_EINFEASIBLE, "point '%s' did not run with the trial values", c->points[p].name);
}

double ls_calibration_value(const ls_calibration *c, const char *param)
{
    for (int i = 0; i < c->n_params; i++)
        if (!strcmp(c->params[i]->name, param))
            return c->fitted[i];
    return NAN;
}

void ls_calibration_errors(const ls_calibration *c, double *in_median, double *in_worst, double *loo_median,
                           double *loo_worst)
{
    *in_median = c->in_median;
    *in_worst = c->in_worst;
    *loo_median = c->loo_median;
    *loo_worst = c->loo_worst;
}

ls_status ls_calibration_write_overlay(const ls_calibration *c, const char *path, ls_error *e)
{
    if (isnan(c->fitted[0]))
        return ls_fail(e, LS_EINVAL, "no fit to write");
    FILE *f = fopen(path, "w");
    if (!f)
        return ls_fail(e, LS_EIO, "%s: cannot write", path);
    fprintf(f, "# Catalog overlay written by `llmsweep calibrate`: use it with --catalog %s\n", path);
    fprintf(f, "# (or `catalog: [%s]` in a run configuration). Fitted on %d measured runs:\n", path, c->n_points);
    for (int p = 0; p < c->n_points; p++)
        fprintf(f, "#   %s\n", c->points[p].name);
    fprintf(f, "# in-sample median |error| %.1f%%, worst %.1f%%", 100 * c->in_median, 100 * c->in_worst);
    if (!isnan(c->loo_median))
        fprintf(f, "; leave-one-out median %.1f%%, worst %.1f%%", 100 * c->loo_median, 100 * c->loo_worst);
    fprintf(f, "\ngpus:\n  %s:\n    base: %s\n", c->gpu.name, c->gpu.name);
    for (int i = 0; i < c->n_params; i++)
        fprintf(f, "    %s: %.6g\n", c->params[i]->name, c->fitted[i]);
    if (fclose(f))
        return ls_fail(e, LS_EIO, "%s: write failed", path);
    return LS_OK;
}
