/* workload.c -- `workload:` YAML -> validated description -> request stream. */
#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "classes.h"
#include "dist.h"
#include "reader.h"
#include "transform.h"
#include "workload.h"
#include "trace_memo.h"

struct ls_workload {
    char *trace_given, *trace_path; /* NULL: synthetic */
    ls_trace_opts topts;
    bool trace_has_times;
    bool has_arrival;
    ls_arrival arrival;
    bool has_prompt, has_output, pairs;
    ls_dist prompt, output;
    double start_s, duration_s, target_rate; /* NaN: not set */
    int64_t max_requests;                    /* 0: none */
    int64_t max_prompt, max_total;           /* 0: none */
    int64_t sp_prompts, sp_tokens;           /* shared_prefix: system prompts and their length (0: none) */
    int64_t sess_turns;                      /* sessions: turns per session (0: none; session.c) */
    double sess_think_s;                     /* sessions: mean think time between turns */
    bool clip;
    ls_class_table classes;                  /* request classes (classes.h); n = 0: none */
    /* measured at parse time by reading the pipeline once (trace workloads) */
    double scan_n, scan_span_s, scan_mean_prompt, scan_mean_output;
};

static bool times_kept(const ls_workload *w)
{
    return w->trace_path && w->trace_has_times && (!w->has_arrival || w->arrival.process == LS_ARRIVAL_TRACE);
}

void ls_workload_free(ls_workload *w)
{
    if (!w)
        return;
    free(w->trace_given);
    free(w->trace_path);
    ls_dist_free(&w->prompt);
    ls_dist_free(&w->output);
    free(w);
}

ls_workload *ls_workload_clone(const ls_workload *w)
{
    ls_workload *c = ls_xmalloc(sizeof *c);
    *c = *w;
    c->trace_given = w->trace_given ? ls_xstrdup(w->trace_given) : NULL;
    c->trace_path = w->trace_path ? ls_xstrdup(w->trace_path) : NULL;
    ls_dist_copy(&c->prompt, &w->prompt);
    ls_dist_copy(&c->output, &w->output);
    return c;
}

/* ---- the pipeline -------------------------------------------------------------------- */

/* `scan`: no rescaling and, with synthetic arrivals, no duration cut (to count what the trace offers). */
static ls_status build(const ls_workload *w, uint64_t seed, bool scan, double scale, ls_source **out,
                       ls_error *e)
{
    ls_source *s = NULL;
    bool kept = times_kept(w);
    const ls_arrival *arr = (w->has_arrival && w->arrival.process != LS_ARRIVAL_TRACE) ? &w->arrival : NULL;
    if (w->trace_path) {
        LS_TRY(ls_trace_memo_open(w->trace_path, &w->topts, &s, e));
        if (kept && (!isnan(w->start_s) || !isnan(w->duration_s)))
            s = ls_transform_window(s, isnan(w->start_s) ? 0 : llround(w->start_s * 1e9),
                                    isnan(w->duration_s) ? -1 : llround(w->duration_s * 1e9));
        if (arr || w->has_prompt || w->has_output)
            s = ls_synth_open(s, arr, w->has_prompt ? &w->prompt : NULL, w->has_output ? &w->output : NULL,
                              w->pairs, seed);
    } else {
        s = ls_synth_open(NULL, arr, &w->prompt, &w->output, w->pairs, seed);
    }
    if (!kept && !isnan(w->duration_s) && !(scan && w->trace_path))
        s = ls_transform_window(s, 0, llround(w->duration_s * 1e9));
    if (w->sess_turns)  /* sessions open at the arrivals (in the window); before the limits: whole prompts */
        s = ls_transform_sessions(s, w->sess_turns, w->sess_think_s, &w->prompt, &w->output, w->pairs, seed);
    if (w->sp_prompts)  /* before the limits: they see the whole prompt */
        s = ls_transform_shared_prefix(s, w->sp_prompts, w->sp_tokens, seed);
    if (w->max_prompt || w->max_total)
        s = ls_transform_limit(s, w->max_prompt, w->max_total, w->clip);
    if (w->max_requests)
        s = ls_transform_first(s, (uint64_t)w->max_requests);
    if (!scan && kept && scale != 1.0)
        s = ls_transform_scale(s, scale);
    if (w->classes.n || w->trace_path)  /* a trace's class column is checked even without classes */
        s = ls_transform_classes(s, &w->classes, seed, w->trace_given);
    *out = s;
    return LS_OK;
}

static ls_status time_scale(const ls_workload *w, double *f, ls_error *e)
{
    *f = 1.0;
    if (!times_kept(w) || isnan(w->target_rate))
        return LS_OK;
    if (w->scan_n < 2 || !(w->scan_span_s > 0))
        return ls_fail(e, LS_EINVAL, "%s: cannot rescale to target_rate %g: the selected requests span no "
                                     "time (%g requests)",
                       w->trace_given, w->target_rate, w->scan_n);
    double rate0 = (w->scan_n - 1) / w->scan_span_s;
    *f = rate0 / w->target_rate;
    return LS_OK;
}

ls_status ls_workload_open(const ls_workload *w, uint64_t seed, ls_source **out, ls_error *e)
{
    double f;
    LS_TRY(time_scale(w, &f, e));
    return build(w, seed, false, f, out, e);
}

/* Scans of trace workloads already made by this process, by canonical text and file
 * identity: `plan` loads thousands of configurations of one trace, and each load would
 * read the whole file again for its count, span and mean lengths. */
#define SCAN_MEMO 8
static struct scan_memo {
    char *key;
    double n, span_s, mean_prompt, mean_output;
} scan_memo[SCAN_MEMO];
static unsigned scan_memo_next;

/* The memo key of w (NULL: not worth one: no trace file, or it cannot be stat'ed). Caller frees. */
static char *scan_key(const ls_workload *w)
{
    struct stat st;
    if (!w->trace_path || stat(w->trace_path, &st))
        return NULL;
    char *c = ls_workload_canonical(w);
    size_t n = strlen(c) + 96;
    char *k = ls_xmalloc(n);
    snprintf(k, n, "%s|%llu:%llu:%lld:%lld.%09ld", c, (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
             (long long)st.st_size, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    free(c);
    return k;
}

static ls_status scan_file(ls_workload *w, ls_error *e);

/* The same for the header probe: file identity and format option -> has times. */
static struct header_memo {
    char *key;
    bool has_times;
} header_memo[SCAN_MEMO];
static unsigned header_memo_next;

static char *header_key(const ls_workload *w)
{
    struct stat st;
    if (!w->trace_path || stat(w->trace_path, &st))
        return NULL;
    size_t n = strlen(w->trace_path) + 128;
    char *k = ls_xmalloc(n);
    snprintf(k, n, "%s|%d|%llu:%llu:%lld:%lld.%09ld", w->trace_path, (int)w->topts.format,
             (unsigned long long)st.st_dev, (unsigned long long)st.st_ino, (long long)st.st_size,
             (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    return k;
}

static bool header_known(ls_workload *w)
{
    char *k = header_key(w);
    for (unsigned i = 0; k && i < SCAN_MEMO; i++)
        if (header_memo[i].key && !strcmp(header_memo[i].key, k)) {
            w->trace_has_times = header_memo[i].has_times;
            free(k);
            return true;
        }
    free(k);
    return false;
}

static void header_remember(const ls_workload *w)
{
    char *k = header_key(w);
    if (!k)
        return;
    struct header_memo *m = &header_memo[header_memo_next++ % SCAN_MEMO];
    free(m->key);
    *m = (struct header_memo){k, w->trace_has_times};
}

static ls_status scan(ls_workload *w, ls_error *e)
{
    char *k = scan_key(w);
    for (unsigned i = 0; k && i < SCAN_MEMO; i++)
        if (scan_memo[i].key && !strcmp(scan_memo[i].key, k)) {
            w->scan_n = scan_memo[i].n;
            w->scan_span_s = scan_memo[i].span_s;
            w->scan_mean_prompt = scan_memo[i].mean_prompt;
            w->scan_mean_output = scan_memo[i].mean_output;
            free(k);
            return LS_OK;
        }
    ls_status rc = scan_file(w, e);
    if (!rc && k) {
        struct scan_memo *m = &scan_memo[scan_memo_next++ % SCAN_MEMO];
        free(m->key);
        *m = (struct scan_memo){k, w->scan_n, w->scan_span_s, w->scan_mean_prompt, w->scan_mean_output};
        k = NULL;
    }
    free(k);
    return rc;
}

static ls_status scan_file(ls_workload *w, ls_error *e)
{
    ls_source *s;
    LS_TRY(build(w, 0, true, 1.0, &s, e));
    double n = 0, sp = 0, so = 0;
    int64_t last = 0;
    for (;;) {
        ls_request r;
        int rc = ls_source_next(s, &r, e);
        if (rc < 0) {
            ls_source_free(s);
            return e ? e->code : LS_EINVAL;
        }
        if (rc == 0)
            break;
        n++;
        sp += r.prompt_tokens;
        so += r.output_tokens;
        last = r.arrival_ns;
    }
    ls_source_report rep;
    ls_source_get_report(s, &rep);
    ls_source_free(s);
    w->scan_n = n;
    w->scan_span_s = (double)last / 1e9;
    w->scan_mean_prompt = n ? sp / n : NAN;
    w->scan_mean_output = n ? so / n : NAN;
    return LS_OK;
}

/* ---- parsing -------------------------------------------------------------------------- */

static ls_status parse_arrival(const ls_yaml *n, const char *path, ls_arrival *a, ls_error *e)
{
    if (!n || n->kind != LS_YAML_MAP) {
        char where[256];
        return ls_fail(e, LS_EINVAL, "%s: %s: expected a mapping like {process: poisson, rate: 2.0}",
                       n ? ls_yaml_where(n, where, sizeof where) : "?", path);
    }
    const char *proc = NULL;
    LS_TRY(ls_yaml_get_string(n, path, "process", &proc, e));
    if (!proc)
        return ls_yaml_fail_at(n, path, NULL, "missing 'process' (poisson, gamma, constant or trace)", e);
    memset(a, 0, sizeof *a);
    a->cv = NAN;
    if (!strcmp(proc, "trace")) {
        static const char *const keys[] = {"process", NULL};
        LS_TRY(ls_yaml_check_keys(n, path, keys, e));
        a->process = LS_ARRIVAL_TRACE;
        a->rate = NAN;
        return LS_OK;
    }
    if (!strcmp(proc, "poisson") || !strcmp(proc, "constant")) {
        static const char *const keys[] = {"process", "rate", NULL};
        LS_TRY(ls_yaml_check_keys(n, path, keys, e));
        a->process = proc[0] == 'p' ? LS_ARRIVAL_POISSON : LS_ARRIVAL_CONSTANT;
        a->cv = proc[0] == 'p' ? 1.0 : 0.0;
    } else if (!strcmp(proc, "gamma")) {
        static const char *const keys[] = {"process", "rate", "cv", NULL};
        LS_TRY(ls_yaml_check_keys(n, path, keys, e));
        a->process = LS_ARRIVAL_GAMMA;
        if (!ls_yaml_get(n, "cv"))
            return ls_yaml_fail_at(n, path, NULL, "missing 'cv' (coefficient of variation of the gaps; 1 = Poisson)", e);
        LS_TRY(ls_yaml_get_double(n, path, "cv", 0, true, &a->cv, e));
        if (a->cv > 100)
            return ls_yaml_fail_at(n, path, "cv", "expected a coefficient of variation in (0, 100]", e);
    } else {
        return ls_yaml_fail_at(n, path, "process", "expected poisson, gamma, constant or trace", e);
    }
    if (!ls_yaml_get(n, "rate"))
        return ls_yaml_fail_at(n, path, NULL, "missing 'rate' (requests per second)", e);
    LS_TRY(ls_yaml_get_double(n, path, "rate", 0, true, &a->rate, e));
    if (a->rate > 1e9)
        return ls_yaml_fail_at(n, path, "rate", "expected a rate in requests per second below 1e9", e);
    return LS_OK;
}

/* A synthetic stream is bounded by rate x duration_s and by max_requests: refuse one that expects more
 * than LS_WORKLOAD_MAX_REQUESTS (it would exhaust a rank's memory long before it finished). */
static ls_status check_size(const ls_workload *w, const ls_yaml *n, const char *path, ls_error *e)
{
    double turns = w->sess_turns ? (double)w->sess_turns : 1.0;  /* every session brings its turns */
    double by_time = isnan(w->duration_s) ? INFINITY : w->arrival.rate * w->duration_s * turns;
    double by_count = w->max_requests ? (double)w->max_requests : INFINITY;
    if (fmin(by_time, by_count) <= LS_WORKLOAD_MAX_REQUESTS)
        return LS_OK;
    char what[512];
    if (by_count < by_time)
        snprintf(what, sizeof what, "%" PRId64 " requests is above the cap of %g: expected at most %g",
                 w->max_requests, LS_WORKLOAD_MAX_REQUESTS, LS_WORKLOAD_MAX_REQUESTS);
    else
        snprintf(what, sizeof what,
                 "%s.arrival.rate %g/s x %s.duration_s %g s = %g expected requests, above the cap of %g: lower "
                 "the rate or the duration, or bound the stream with max_requests",
                 path, w->arrival.rate, path, w->duration_s, by_time, LS_WORKLOAD_MAX_REQUESTS);
    return ls_yaml_fail_at(n, path, by_count < by_time ? "max_requests" : "duration_s", what, e);
}

static ls_status parse_into(ls_workload *w, const ls_yaml *n, const char *path, const char *base_dir,
                            ls_error *e)
{
    static const char *const keys[] = {"trace", "format", "arrival", "prompt_tokens", "output_tokens",
                                       "duration_s", "max_requests", "start_s", "target_rate",
                                       "max_prompt_tokens", "max_total_tokens", "over_limit",
                                       "burstgpt_failed", "sort", "mooncake_hash_ids", "shared_prefix", "sessions", "classes", NULL};
    LS_TRY(ls_yaml_check_keys(n, path, keys, e));
    char kp[512];
    const ls_yaml *sp = ls_yaml_get(n, "shared_prefix");
    if (sp) {
        static const char *const spk[] = {"prompts", "tokens", NULL};
        snprintf(kp, sizeof kp, "%s.shared_prefix", path);
        LS_TRY(ls_yaml_check_keys(sp, kp, spk, e));
        LS_TRY(ls_yaml_get_int(sp, kp, "prompts", 1, INT64_MAX, &w->sp_prompts, e));
        LS_TRY(ls_yaml_get_int(sp, kp, "tokens", 1, INT64_MAX, &w->sp_tokens, e));
        if (w->sp_prompts < 1 || w->sp_prompts > 1000000)
            return ls_yaml_fail_at(sp, kp, "prompts", "expected 1 to 1000000 system prompts", e);
        if (w->sp_tokens < 1 || w->sp_tokens > 1000000)
            return ls_yaml_fail_at(sp, kp, "tokens", "expected a system prompt of 1 to 1000000 tokens", e);
    }
    const ls_yaml *ss = ls_yaml_get(n, "sessions");
    if (ss) {
        static const char *const sk[] = {"turns", "think_s", NULL};
        snprintf(kp, sizeof kp, "%s.sessions", path);
        LS_TRY(ls_yaml_check_keys(ss, kp, sk, e));
        if (!ls_yaml_get(ss, "turns") || !ls_yaml_get(ss, "think_s"))
            return ls_yaml_fail_at(ss, kp, NULL, "expected {turns: N, think_s: SECONDS}", e);
        LS_TRY(ls_yaml_get_int(ss, kp, "turns", 1, 1000, &w->sess_turns, e));
        LS_TRY(ls_yaml_get_double(ss, kp, "think_s", 0, true, &w->sess_think_s, e));
        if (w->sess_think_s > 1e6)
            return ls_yaml_fail_at(ss, kp, "think_s", "expected a mean think time in seconds, at most 1e6", e);
        if (sp)
            return ls_yaml_fail_at(n, path, "sessions", "cannot be combined with shared_prefix (a session's "
                                   "history is its own prefix)", e);
        if (ls_yaml_get(n, "trace"))
            return ls_yaml_fail_at(n, path, "sessions", "only for synthetic workloads (a trace has its own "
                                   "sessions and hash_ids)", e);
    }
    const char *s = NULL;
    LS_TRY(ls_yaml_get_string(n, path, "trace", &s, e));
    if (s) {
        w->trace_given = ls_xstrdup(s);
        w->trace_path = ls_path_join(s, base_dir);
    }
    s = NULL;
    LS_TRY(ls_yaml_get_string(n, path, "format", &s, e));
    if (s && !ls_trace_format_parse(s, &w->topts.format))
        return ls_yaml_fail_at(n, path, "format", "expected auto, native, azure, vidur, lengths, burstgpt or mooncake", e);
    s = NULL;
    LS_TRY(ls_yaml_get_string(n, path, "burstgpt_failed", &s, e));
    if (s) {
        if (strcmp(s, "exclude") && strcmp(s, "keep"))
            return ls_yaml_fail_at(n, path, "burstgpt_failed", "expected exclude or keep", e);
        w->topts.burstgpt_keep_failed = !strcmp(s, "keep");
    }
    s = NULL;
    LS_TRY(ls_yaml_get_string(n, path, "mooncake_hash_ids", &s, e));
    if (s) {
        if (strcmp(s, "strict") && strcmp(s, "any_length"))
            return ls_yaml_fail_at(n, path, "mooncake_hash_ids", "expected strict or any_length", e);
        w->topts.mooncake_any_hash_count = !strcmp(s, "any_length");
    }
    if (ls_yaml_get(n, "sort")) {
        snprintf(kp, sizeof kp, "%s.sort", path);
        LS_TRY(ls_yaml_as_bool(ls_yaml_get(n, "sort"), kp, &w->topts.sort, e));
    }
    if (ls_yaml_get(n, "arrival")) {
        snprintf(kp, sizeof kp, "%s.arrival", path);
        LS_TRY(parse_arrival(ls_yaml_get(n, "arrival"), kp, &w->arrival, e));
        w->has_arrival = true;
    }
    const ls_yaml *pn = ls_yaml_get(n, "prompt_tokens"), *on = ls_yaml_get(n, "output_tokens");
    if (pn) {
        snprintf(kp, sizeof kp, "%s.prompt_tokens", path);
        LS_TRY(ls_dist_parse(pn, kp, base_dir, LS_ROLE_PROMPT, &w->prompt, e));
        w->has_prompt = true;
    }
    if (on) {
        snprintf(kp, sizeof kp, "%s.output_tokens", path);
        LS_TRY(ls_dist_parse(on, kp, base_dir, LS_ROLE_OUTPUT, &w->output, e));
        w->has_output = true;
    }
    /* the same empirical file for both: resample rows as pairs with one stream */
    if (w->has_prompt && w->has_output && w->prompt.kind == LS_DIST_EMPIRICAL &&
        w->output.kind == LS_DIST_EMPIRICAL && !strcmp(w->prompt.file, w->output.file) &&
        !strcmp(w->prompt.format, w->output.format))
        w->pairs = true;
    LS_TRY(ls_yaml_get_double(n, path, "duration_s", 0, true, &w->duration_s, e));
    LS_TRY(ls_yaml_get_double(n, path, "start_s", 0, false, &w->start_s, e));
    LS_TRY(ls_yaml_get_double(n, path, "target_rate", 0, true, &w->target_rate, e));
    LS_TRY(ls_yaml_get_int(n, path, "max_requests", 1, INT64_MAX, &w->max_requests, e));
    LS_TRY(ls_yaml_get_int(n, path, "max_prompt_tokens", 1, INT64_MAX, &w->max_prompt, e));
    LS_TRY(ls_yaml_get_int(n, path, "max_total_tokens", 1, INT64_MAX, &w->max_total, e));
    if (w->max_total == 1)
        return ls_yaml_fail_at(n, path, "max_total_tokens", "expected at least 2 (a prompt and an output token)", e);
    if (w->duration_s > 1e9 || w->start_s > 1e9)
        return ls_yaml_fail_at(n, path, w->duration_s > 1e9 ? "duration_s" : "start_s", "expected seconds below 1e9", e);
    s = NULL;
    LS_TRY(ls_yaml_get_string(n, path, "over_limit", &s, e));
    if (s) {
        if (strcmp(s, "drop") && strcmp(s, "clip"))
            return ls_yaml_fail_at(n, path, "over_limit", "expected drop or clip", e);
        if (!w->max_prompt && !w->max_total)
            return ls_yaml_fail_at(n, path, "over_limit", "needs max_prompt_tokens or max_total_tokens", e);
        w->clip = !strcmp(s, "clip");
    }

    if (ls_yaml_get(n, "classes")) {
        snprintf(kp, sizeof kp, "%s.classes", path);
        LS_TRY(ls_classes_parse(ls_yaml_get(n, "classes"), kp, !w->trace_path, &w->classes, e));
    }

    /* what goes with what */
    if (!w->trace_path) {
        static const char *const trace_only[] = {"format", "start_s", "target_rate", "burstgpt_failed", "sort",
                                                 "mooncake_hash_ids", NULL};
        for (const char *const *k = trace_only; *k; k++)
            if (ls_yaml_get(n, *k))
                return ls_yaml_fail_at(n, path, *k, "only applies to a trace file (add trace: FILE)", e);
        if (!w->has_arrival)
            return ls_yaml_fail_at(n, path, NULL, "a synthetic workload needs arrival, prompt_tokens and output_tokens "
                                          "(or a trace: FILE)", e);
        if (w->arrival.process == LS_ARRIVAL_TRACE)
            return ls_yaml_fail_at(n, path, "arrival", "process trace replays a trace's times: add trace: FILE", e);
        if (!w->has_prompt || (!w->has_output && !w->pairs))
            return ls_yaml_fail_at(n, path, NULL, "a synthetic workload needs both prompt_tokens and output_tokens", e);
        if (isnan(w->duration_s) && !w->max_requests)
            return ls_yaml_fail_at(n, path, NULL, "a synthetic workload needs duration_s or max_requests (it is "
                                          "endless otherwise)", e);
        return check_size(w, n, path, e);
    }
    /* read the header now: the file must exist and its format be known (once per file and
     * format option: a header already read by this process is remembered, as scans are) */
    char where[256];
    ls_yaml_where(ls_yaml_get(n, "trace"), where, sizeof where);
    ls_status st = LS_OK;
    if (!header_known(w)) {
        ls_source *probe;
        st = ls_trace_open(w->trace_path, &w->topts, &probe, e);
        if (st != LS_OK)
            return ls_error_prefix(e, "%s: %s.trace", where, path);
        w->trace_has_times = ls_trace_source_format(probe) != LS_FMT_LENGTHS;
        ls_source_free(probe);
        header_remember(w);
    }
    bool replaced = w->has_arrival && w->arrival.process != LS_ARRIVAL_TRACE;
    if (!w->trace_has_times && !replaced)
        return ls_yaml_fail_at(n, path, "trace", "a length-only file has no times: add an arrival process, e.g. "
                                         "arrival: {process: poisson, rate: 2.0}", e);
    if (!times_kept(w) && ls_yaml_get(n, "start_s"))
        return ls_yaml_fail_at(n, path, "start_s", "a window start needs the trace's own times", e);
    if (!times_kept(w) && ls_yaml_get(n, "target_rate"))
        return ls_yaml_fail_at(n, path, "target_rate", "rescales trace times; with an arrival process set its rate", e);
    if (w->pairs && !w->has_output)
        w->pairs = false;
    st = scan(w, e);
    if (st != LS_OK)
        return ls_error_prefix(e, "%s: %s.trace", where, path);
    if (times_kept(w) && !isnan(w->target_rate)) {
        double f;
        LS_TRY(time_scale(w, &f, e));
    }
    return LS_OK;
}

ls_status ls_workload_parse(const ls_yaml *node, const char *path, const char *base_dir, ls_workload **out,
                            ls_error *e)
{
    *out = NULL;
    if (!path)
        path = "workload";
    ls_workload *w = ls_xcalloc(1, sizeof *w);
    ls_trace_opts_default(&w->topts);
    w->start_s = w->duration_s = w->target_rate = NAN;
    w->prompt.min = w->prompt.max = w->output.min = w->output.max = NAN;
    ls_status st;
    if (!node || node->kind != LS_YAML_MAP) {
        char where[256];
        st = ls_fail(e, LS_EINVAL, "%s: %s: expected a mapping (trace: FILE, or arrival/prompt_tokens/"
                                   "output_tokens)",
                     node ? ls_yaml_where(node, where, sizeof where) : "?", path);
    } else {
        st = parse_into(w, node, path, base_dir, e);
    }
    if (st != LS_OK) {
        ls_workload_free(w);
        return st;
    }
    *out = w;
    return LS_OK;
}

/* ---- description ------------------------------------------------------------------------ */

static void app(char *buf, size_t size, size_t *len, const char *key, double x)
{
    if (isnan(x))
        return;
    char v[40];
    ls_fmt_double(v, sizeof v, x);
    int k = snprintf(buf + *len, size - *len, ";%s=%s", key, v);
    if (k > 0 && *len + (size_t)k < size)
        *len += (size_t)k;
}

char *ls_workload_canonical(const ls_workload *w)
{
    size_t size = 8192 + (w->trace_path ? strlen(w->trace_path) : 0);
    char *buf = ls_xmalloc(size);
    size_t len = 0;
    if (w->trace_path)
        len += (size_t)snprintf(buf, size, "trace=%s;format=%s;burstgpt_failed=%s;sort=%d", w->trace_path,
                                ls_trace_format_name(w->topts.format),
                                w->topts.burstgpt_keep_failed ? "keep" : "exclude", (int)w->topts.sort);
    else
        len += (size_t)snprintf(buf, size, "synthetic");
    if (w->has_arrival) {
        char r[40], c[40];
        ls_fmt_double(r, sizeof r, w->arrival.rate);
        ls_fmt_double(c, sizeof c, w->arrival.cv);
        if (w->arrival.process == LS_ARRIVAL_TRACE)
            len += (size_t)snprintf(buf + len, size - len, ";arrival=trace");
        else if (w->arrival.process == LS_ARRIVAL_GAMMA)
            len += (size_t)snprintf(buf + len, size - len, ";arrival=gamma(rate=%s,cv=%s)", r, c);
        else
            len += (size_t)snprintf(buf + len, size - len, ";arrival=%s(rate=%s)",
                                    ls_arrival_name(w->arrival.process), r);
    }
    if (w->has_prompt) {
        char *d = ls_dist_canonical(&w->prompt);
        len += (size_t)snprintf(buf + len, size - len, ";prompt_tokens=%s%s", d, w->pairs ? "+pairs" : "");
        free(d);
    }
    if (w->has_output) {
        char *d = ls_dist_canonical(&w->output);
        len += (size_t)snprintf(buf + len, size - len, ";output_tokens=%s", d);
        free(d);
    }
    if (len >= size)
        len = size - 1;
    app(buf, size, &len, "start_s", w->start_s);
    app(buf, size, &len, "duration_s", w->duration_s);
    app(buf, size, &len, "target_rate", times_kept(w) ? w->target_rate : NAN);
    app(buf, size, &len, "max_requests", w->max_requests ? (double)w->max_requests : NAN);
    app(buf, size, &len, "shared_prefix_prompts", w->sp_prompts ? (double)w->sp_prompts : NAN);
    app(buf, size, &len, "shared_prefix_tokens", w->sp_prompts ? (double)w->sp_tokens : NAN);
    app(buf, size, &len, "sessions_turns", w->sess_turns ? (double)w->sess_turns : NAN);
    app(buf, size, &len, "sessions_think_s", w->sess_turns ? w->sess_think_s : NAN);
    app(buf, size, &len, "max_prompt_tokens", w->max_prompt ? (double)w->max_prompt : NAN);
    app(buf, size, &len, "max_total_tokens", w->max_total ? (double)w->max_total : NAN);
    if (w->max_prompt || w->max_total)
        len += (size_t)snprintf(buf + len, size - len, ";over_limit=%s", w->clip ? "clip" : "drop");
    if (w->classes.n && len < size) {
        char cl[1024];
        ls_classes_canonical(&w->classes, cl, sizeof cl);
        snprintf(buf + len, size - len, ";classes=%s", cl);
    }
    return buf;
}

const ls_class_table *ls_workload_classes(const ls_workload *w)
{
    return &w->classes;
}

void ls_workload_info_get(const ls_workload *w, ls_workload_info *o)
{
    memset(o, 0, sizeof *o);
    snprintf(o->source, sizeof o->source, "%s", w->trace_given ? w->trace_given : "synthetic");
    bool kept = times_kept(w);
    if (kept) {
        snprintf(o->arrival_process, sizeof o->arrival_process, "trace");
        o->arrival_rate = w->target_rate;
        o->arrival_cv = NAN;
    } else {
        snprintf(o->arrival_process, sizeof o->arrival_process, "%s", ls_arrival_name(w->arrival.process));
        o->arrival_rate = w->arrival.rate;
        o->arrival_cv = w->arrival.cv;
    }
    if (w->has_prompt) {
        char *d = ls_dist_canonical(&w->prompt);
        snprintf(o->prompt_dist, sizeof o->prompt_dist, "%s", d);
        free(d);
    } else {
        snprintf(o->prompt_dist, sizeof o->prompt_dist, "trace");
    }
    if (w->sess_turns) {  /* multi-turn: prompts are histories; say so (the report groups by it) */
        char d[sizeof o->prompt_dist], t[32];
        ls_fmt_double(t, sizeof t, w->sess_think_s);
        int n = snprintf(d, sizeof d, "sessions(%lldx,think=%ss)+", (long long)w->sess_turns, t);
        if (n > 0 && (size_t)n < sizeof d) {
            size_t len = strlen(o->prompt_dist), room = sizeof d - (size_t)n - 1;
            memcpy(d + n, o->prompt_dist, len < room ? len : room);
            d[(size_t)n + (len < room ? len : room)] = '\0';
            memcpy(o->prompt_dist, d, sizeof d);
        }
    }
    if (w->sp_prompts) {  /* the shared system prompt is part of the prompt: say so (the report groups by it) */
        char d[sizeof o->prompt_dist];
        int n = snprintf(d, sizeof d, "shared(%lldx%lld)+", (long long)w->sp_prompts, (long long)w->sp_tokens);
        if (n > 0 && (size_t)n < sizeof d) {
            size_t len = strlen(o->prompt_dist), room = sizeof d - (size_t)n - 1;
            memcpy(d + n, o->prompt_dist, len < room ? len : room);
            d[(size_t)n + (len < room ? len : room)] = '\0';
            memcpy(o->prompt_dist, d, sizeof d);
        }
    }
    if (w->has_output) {
        char *d = ls_dist_canonical(&w->output);
        snprintf(o->output_dist, sizeof o->output_dist, "%s", d);
        free(d);
    } else {
        snprintf(o->output_dist, sizeof o->output_dist, "trace");
    }
    o->duration_s = w->duration_s;
    double f;
    if (kept && !isnan(w->duration_s) && time_scale(w, &f, NULL) == LS_OK)
        o->duration_s = w->duration_s * f; /* the window as replayed, after rescaling */
    /* a trace's scan read the prompts with their shared prefix already */
    o->mean_prompt = w->has_prompt ? ls_dist_mean(&w->prompt) + (double)w->sp_tokens : w->scan_mean_prompt;
    o->mean_output = w->has_output ? ls_dist_mean(&w->output) : w->scan_mean_output;
    if (w->sess_turns) {  /* turn k's prompt: k new parts and k - 1 answers; the mean over turns 1..T */
        double t = (double)w->sess_turns;
        o->mean_prompt = o->mean_prompt * (t + 1) / 2 + o->mean_output * (t - 1) / 2;
    }
    if (kept) {
        o->expected_requests = w->scan_n;
    } else {
        double n = INFINITY;
        if (!isnan(w->duration_s))
            n = (floor(w->arrival.rate * w->duration_s) + 1) * (w->sess_turns ? (double)w->sess_turns : 1.0);
        if (w->trace_path && w->scan_n < n)
            n = w->scan_n;
        if (w->max_requests && (double)w->max_requests < n)
            n = (double)w->max_requests;
        o->expected_requests = n;
    }
}

ls_status ls_workload_set_rate(ls_workload *w, double rate, ls_error *e)
{
    if (!(rate > 0) || !isfinite(rate) || rate > 1e9)
        return ls_fail(e, LS_EINVAL, "workload rate: expected a rate in requests per second in (0, 1e9], got %g",
                       rate);
    if (times_kept(w)) {
        double old = w->target_rate, f;
        w->target_rate = rate;
        ls_status st = time_scale(w, &f, e);
        if (st != LS_OK)
            w->target_rate = old;
        return st;
    }
    w->arrival.rate = rate;
    return LS_OK;
}
