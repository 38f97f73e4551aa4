/* transform.h -- composable stream transformations and the synthetic generator.
 *
 * Each wrapper takes ownership of `in` and reports what it did through
 * ls_source_get_report (reader.h). Times stay relative to the first request
 * that comes out.
 */
#ifndef LS_TRANSFORM_H
#define LS_TRANSFORM_H

#include <stdbool.h>
#include <stdint.h>

#include "dist.h"
#include "trace.h"

/* Keep requests with start_ns <= arrival < start_ns + duration_ns
 * (duration_ns < 0: no end), re-based so the first kept one is at 0. */
ls_source *ls_transform_window(ls_source *in, int64_t start_ns, int64_t duration_ns);
/* Requests with prompt > max_prompt or prompt + output > max_total (0: no
 * limit) are dropped, or clipped: the prompt to max_prompt, then the output
 * to max_total - prompt (the prompt to max_total - 1 if needed), >= 1 each. */
ls_source *ls_transform_limit(ls_source *in, int64_t max_prompt, int64_t max_total, bool clip);
/* Shared system prompts (prefix.c): each request gets one of `n` system
 * prompts of `tokens` tokens (uniform, stream "shared_prefix" of `seed`) in
 * front of its prompt, and the hash ids of that prefix (its other ids are
 * fresh). */
ls_source *ls_transform_shared_prefix(ls_source *in, int64_t n, int64_t tokens, uint64_t seed);
/* Multi-turn sessions (session.c): each request opens a session of `turns`
 * turns; turn k+1 arrives Exp(think_s) after turn k (open loop) with the
 * whole history (earlier prompts and answers) plus new tokens as its prompt
 * and hash ids that keep the history's full blocks; follow-ups draw their new
 * tokens and output from `prompt`/`output` (one `pairs` draw when the
 * lengths are empirical pairs), stream "sessions" of `seed`. */
ls_source *ls_transform_sessions(ls_source *in, int64_t turns, double think_s, const ls_dist *prompt,
                                 const ls_dist *output, bool pairs, uint64_t seed);
/* The first n requests. */
ls_source *ls_transform_first(ls_source *in, uint64_t n);
/* Multiply arrival times by factor (> 0): factor = old rate / new rate. */
ls_source *ls_transform_scale(ls_source *in, double factor);

typedef enum ls_arrival_process {
    LS_ARRIVAL_TRACE = 0, /* the trace's own times */
    LS_ARRIVAL_POISSON,   /* exponential gaps, mean 1/rate */
    LS_ARRIVAL_GAMMA,     /* gamma gaps, mean 1/rate, coefficient of variation cv */
    LS_ARRIVAL_CONSTANT   /* request i at i/rate exactly */
} ls_arrival_process;

typedef struct ls_arrival {
    ls_arrival_process process;
    double rate; /* requests per second */
    double cv;   /* gamma only */
} ls_arrival;

const char *ls_arrival_name(ls_arrival_process p);

/* The synthetic generator. Arrival times come from `arr` (NULL: from `in`);
 * prompt/output lengths from the distributions (NULL: from `in`); with
 * `pairs`, `prompt` is an empirical distribution sampled as (prompt, output)
 * rows with one stream. `in` may be NULL when everything is synthetic
 * (then the stream is endless: wrap it in a window or a first-N). Each
 * component draws from its own stream of `seed` ("arrival", "prompt",
 * "output", "pairs"). The distributions are copied. */
ls_source *ls_synth_open(ls_source *in, const ls_arrival *arr, const ls_dist *prompt, const ls_dist *output,
                         bool pairs, uint64_t seed);

#endif
