/* transform.c -- window, token limits, first N, time scaling, synthetic generator. */
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "reader.h"
#include "source_impl.h"
#include "transform.h"

/* Every wrapper starts with this: its own vtable and the source it wraps. */
typedef struct wrap {
    ls_source base;
    ls_source *in;
} wrap;

static void wrap_free(ls_source *s)
{
    wrap *w = (wrap *)s;
    ls_source_free(w->in);
    free(w);
}

static void report_inner(const wrap *w, ls_source_report *r)
{
    if (w->in && w->in->vt->report)
        w->in->vt->report(w->in, r);
}

/* ---- window ------------------------------------------------------------------ */

typedef struct window {
    wrap w;
    int64_t start, dur;
    bool started, done;
    int64_t t0;
    uint64_t dropped;
} window;

static int window_next(ls_source *s, ls_request *out, ls_error *e)
{
    window *x = (window *)s;
    if (x->done)
        return 0;
    for (;;) {
        int rc = ls_source_next(x->w.in, out, e);
        if (rc <= 0)
            return rc;
        if (out->arrival_ns < x->start) {
            x->dropped++;
            continue;
        }
        if (x->dur >= 0 && out->arrival_ns >= x->start + x->dur) {
            x->done = true; /* times are non-decreasing: nothing later can be inside */
            return 0;
        }
        if (!x->started) {
            x->started = true;
            x->t0 = out->arrival_ns;
        }
        out->arrival_ns -= x->t0;
        return 1;
    }
}

static void window_report(const ls_source *s, ls_source_report *r)
{
    const window *x = (const window *)s;
    r->window_applied = true;
    r->window_cut = r->window_cut || x->done;
    r->dropped_before_window += x->dropped;
    report_inner(&x->w, r);
}

static const ls_source_vt window_vt = {window_next, wrap_free, window_report};

ls_source *ls_transform_window(ls_source *in, int64_t start_ns, int64_t duration_ns)
{
    window *x = ls_xcalloc(1, sizeof *x);
    x->w.base.vt = &window_vt;
    x->w.in = in;
    x->start = start_ns;
    x->dur = duration_ns;
    return &x->w.base;
}

/* ---- token limits ---------------------------------------------------------------- */

typedef struct limit {
    wrap w;
    int64_t max_prompt, max_total;
    bool clip;
    uint64_t dropped, clipped;
} limit;

static int limit_next(ls_source *s, ls_request *out, ls_error *e)
{
    limit *x = (limit *)s;
    for (;;) {
        int rc = ls_source_next(x->w.in, out, e);
        if (rc <= 0)
            return rc;
        int64_t p = out->prompt_tokens, o = out->output_tokens;
        bool over = (x->max_prompt && p > x->max_prompt) || (x->max_total && p + o > x->max_total);
        if (!over)
            return 1;
        if (!x->clip) {
            x->dropped++;
            continue;
        }
        if (x->max_prompt && p > x->max_prompt)
            p = x->max_prompt;
        if (x->max_total && p + o > x->max_total) {
            o = x->max_total - p;
            if (o < 1) {
                o = 1;
                p = x->max_total - 1 > 0 ? x->max_total - 1 : 1;
            }
        }
        out->prompt_tokens = (int32_t)p;
        out->output_tokens = (int32_t)o;
        /* a clipped prompt is a prefix of the original: its prefix blocks are the first ids */
        uint32_t nb = (uint32_t)((p + LS_MOONCAKE_BLOCK_TOKENS - 1) / LS_MOONCAKE_BLOCK_TOKENS);
        if (out->n_hash_ids > nb)
            out->n_hash_ids = nb;
        x->clipped++;
        return 1;
    }
}

static void limit_report(const ls_source *s, ls_source_report *r)
{
    const limit *x = (const limit *)s;
    r->dropped_over_limit += x->dropped;
    r->clipped_over_limit += x->clipped;
    report_inner(&x->w, r);
}

static const ls_source_vt limit_vt = {limit_next, wrap_free, limit_report};

ls_source *ls_transform_limit(ls_source *in, int64_t max_prompt, int64_t max_total, bool clip)
{
    limit *x = ls_xcalloc(1, sizeof *x);
    x->w.base.vt = &limit_vt;
    x->w.in = in;
    x->max_prompt = max_prompt;
    x->max_total = max_total;
    x->clip = clip;
    return &x->w.base;
}

/* ---- first N ------------------------------------------------------------------ */

typedef struct first {
    wrap w;
    uint64_t n, seen;
    bool cut;
} first;

static int first_next(ls_source *s, ls_request *out, ls_error *e)
{
    first *x = (first *)s;
    if (x->seen >= x->n) {
        x->cut = true;
        return 0;
    }
    int rc = ls_source_next(x->w.in, out, e);
    if (rc > 0)
        x->seen++;
    return rc;
}

static void first_report(const ls_source *s, ls_source_report *r)
{
    const first *x = (const first *)s;
    r->max_requests_cut = r->max_requests_cut || x->cut;
    r->max_requests = x->n;
    report_inner(&x->w, r);
}

static const ls_source_vt first_vt = {first_next, wrap_free, first_report};

ls_source *ls_transform_first(ls_source *in, uint64_t n)
{
    first *x = ls_xcalloc(1, sizeof *x);
    x->w.base.vt = &first_vt;
    x->w.in = in;
    x->n = n;
    return &x->w.base;
}

/* ---- time scaling --------------------------------------------------------------- */

typedef struct scale {
    wrap w;
    double f;
} scale;

static int scale_next(ls_source *s, ls_request *out, ls_error *e)
{
    scale *x = (scale *)s;
    int rc = ls_source_next(x->w.in, out, e);
    if (rc > 0) {
        double t = (double)out->arrival_ns * x->f;
        out->arrival_ns = t >= 9.2e18 ? INT64_MAX : (int64_t)llround(t);
    }
    return rc;
}

static void scale_report(const ls_source *s, ls_source_report *r)
{
    const scale *x = (const scale *)s;
    r->time_scale *= x->f;
    report_inner(&x->w, r);
}

static const ls_source_vt scale_vt = {scale_next, wrap_free, scale_report};

ls_source *ls_transform_scale(ls_source *in, double factor)
{
    assert(factor > 0 && isfinite(factor));
    scale *x = ls_xcalloc(1, sizeof *x);
    x->w.base.vt = &scale_vt;
    x->w.in = in;
    x->f = factor;
    return &x->w.base;
}

/* ---- synthetic generator ------------------------------------------------------------ */

const char *ls_arrival_name(ls_arrival_process p)
{
    switch (p) {
    case LS_ARRIVAL_TRACE:
        return "trace";
    case LS_ARRIVAL_POISSON:
        return "poisson";
    case LS_ARRIVAL_GAMMA:
        return "gamma";
    case LS_ARRIVAL_CONSTANT:
        return "constant";
    }
    return "?";
}

typedef struct synth {
    wrap w;
    bool has_arr, has_prompt, has_output, pairs;
    ls_arrival arr;
    ls_dist prompt, output;
    ls_rng r_arr, r_prompt, r_output, r_pairs;
    uint64_t i;
    double t_s;
} synth;

static int synth_next(ls_source *s, ls_request *out, ls_error *e)
{
    synth *x = (synth *)s;
    if (x->w.in) {
        int rc = ls_source_next(x->w.in, out, e);
        if (rc <= 0)
            return rc;
    } else {
        memset(out, 0, sizeof *out);
        out->session_id = -1;
        out->class_id = -1;
    }
    if (x->has_arr) {
        /* the first request arrives at 0; then one gap per request */
        if (x->i > 0) {
            switch (x->arr.process) {
            case LS_ARRIVAL_POISSON:
                x->t_s += ls_rng_exp(&x->r_arr) / x->arr.rate;
                break;
            case LS_ARRIVAL_GAMMA: {
                double k = 1.0 / (x->arr.cv * x->arr.cv);
                x->t_s += ls_rng_gamma(&x->r_arr, k) / (k * x->arr.rate);
                break;
            }
            case LS_ARRIVAL_CONSTANT:
                x->t_s = (double)x->i / x->arr.rate; /* no accumulated rounding */
                break;
            case LS_ARRIVAL_TRACE:
                assert(0);
                break;
            }
        }
        double ns = x->t_s * 1e9;
        out->arrival_ns = ns >= 9.2e18 ? INT64_MAX : (int64_t)llround(ns);
    }
    if (x->pairs) {
        ls_dist_sample_pair(&x->prompt, &x->r_pairs, &out->prompt_tokens, &out->output_tokens);
    } else {
        if (x->has_prompt)
            out->prompt_tokens = ls_dist_sample(&x->prompt, &x->r_prompt);
        if (x->has_output)
            out->output_tokens = ls_dist_sample(&x->output, &x->r_output);
    }
    x->i++;
    return 1;
}

static void synth_free(ls_source *s)
{
    synth *x = (synth *)s;
    ls_dist_free(&x->prompt);
    ls_dist_free(&x->output);
    wrap_free(s);
}

static void synth_report(const ls_source *s, ls_source_report *r)
{
    const synth *x = (const synth *)s;
    report_inner(&x->w, r);
    if (x->has_arr) {
        r->synthetic_arrivals = true;
        r->has_times = true;
    }
    if (x->has_prompt || x->has_output || x->pairs)
        r->synthetic_lengths = true;
}

static const ls_source_vt synth_vt = {synth_next, synth_free, synth_report};

ls_source *ls_synth_open(ls_source *in, const ls_arrival *arr, const ls_dist *prompt, const ls_dist *output,
                         bool pairs, uint64_t seed)
{
    assert(in || (arr && prompt && (output || pairs)));
    synth *x = ls_xcalloc(1, sizeof *x);
    x->w.base.vt = &synth_vt;
    x->w.in = in;
    if (arr && arr->process != LS_ARRIVAL_TRACE) {
        x->has_arr = true;
        x->arr = *arr;
        assert(arr->rate > 0);
    }
    x->pairs = pairs;
    if (prompt) {
        x->has_prompt = true;
        ls_dist_copy(&x->prompt, prompt);
    }
    if (output && !pairs) {
        x->has_output = true;
        ls_dist_copy(&x->output, output);
    }
    ls_rng_stream(&x->r_arr, seed, "arrival");
    ls_rng_stream(&x->r_prompt, seed, "prompt");
    ls_rng_stream(&x->r_output, seed, "output");
    ls_rng_stream(&x->r_pairs, seed, "pairs");
    return &x->w.base;
}
