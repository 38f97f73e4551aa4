/* spec_decode.h -- speculative decoding: proposer cost, verification, acceptance
 * (docs/ENGINE.md, "Speculative decoding"; docs/CONFIG.md, `speculative:`).
 *
 * Model. A decoding request runs verification *rounds*: the proposer drafts k
 * tokens, the target verifies k + 1 positions in one forward pass, and the
 * request keeps the accepted prefix plus one bonus/recovered token. The number
 * accepted per round is drawn with the run's seed (per request, so that it does
 * not depend on routing or ranks): position i is accepted with probability
 * alpha_i given that 1..i-1 were (one geometric rate alpha: alpha_i = alpha),
 * truncated at k. With one rate, E[accepted + 1] = (1 - alpha^(k+1)) / (1 - alpha).
 *
 * Wiring (kept out of the scheduler): the engine hands the replica a request
 * whose decode part is its number of rounds (ls_spec_track_add); each round is
 * one scheduler decode step that holds 1 + k tokens of the budget; the cost
 * model wrapper (ls_spec_cost_new) turns each decode of a batch into a
 * (1 + k)-token verification and adds the proposer's passes; on completion the
 * request's real output length is restored (ls_spec_track_done) so TTFT/TPOT
 * are per real token. */
#ifndef LS_SPEC_DECODE_H
#define LS_SPEC_DECODE_H

#include <stdbool.h>
#include <stdint.h>

#include "catalog.h"
#include "cost.h"
#include "error.h"
#include "schema.h"
#include "trace.h"

typedef enum ls_spec_method {
    LS_SPEC_NONE = 0,
    LS_SPEC_DRAFT,   /* a separate (catalog) draft model: k sequential forward passes */
    LS_SPEC_EAGLE,   /* EAGLE/EAGLE-3 head: one dense decoder layer of the target's width + LM head, per token */
    LS_SPEC_MTP,     /* DeepSeek-style MTP: one extra layer of the target itself, per token */
    LS_SPEC_NGRAM    /* prompt lookup on the CPU: no GPU cost */
} ls_spec_method;

#define LS_SPEC_MAX_K 16

typedef struct ls_spec_config {
    ls_spec_method method;          /* LS_SPEC_NONE: off */
    int k;                          /* num_speculative_tokens, 1..LS_SPEC_MAX_K */
    double alpha[LS_SPEC_MAX_K];    /* conditional acceptance of draft position i (all = the rate when scalar);
                                     * by class: that of class 0 */
    bool by_class;                  /* acceptance given per request class: alpha_class[class] */
    double alpha_class[LS_MAX_CLASSES][LS_SPEC_MAX_K];
    bool has_proposer;              /* proposer has a GPU cost (all but ngram) */
    ls_model proposer;              /* the draft model / EAGLE head / MTP layer as a small model */
} ls_spec_config;

const char *ls_spec_method_name(ls_spec_method m);

/* Expected tokens a round yields (accepted + 1) under the per-position rates. */
double ls_spec_expected_tokens(const ls_spec_config *s);

/* Accepted drafts of one round, 0..k, drawn from *rng (splitmix64 state),
 * with the rates `alpha` (s->alpha, or a class's row of s->alpha_class). */
int ls_spec_sample_accepted(const ls_spec_config *s, const double *alpha, uint64_t *rng);

/* Wrap `target` (taken over: freed with the wrapper) so that each decode of a
 * batch costs a (1 + k)-token verification plus the proposer's passes, on the
 * deployment `d` (the proposer runs at the target's TP, as vLLM requires).
 * PP must be 1 (config rejects speculation with pp > 1). */
ls_status ls_spec_cost_new(const ls_spec_config *s, const ls_deploy *d, ls_cost_model *target,
                           ls_cost_model **out, ls_error *e);

/* KV blocks left once the proposer's weights and its KV (for the same
 * tokens) share the memory the plan gave to the target's KV: `kv_bytes` is the
 * target's KV bytes per token per GPU, `blocks` the plan's blocks. */
int64_t ls_spec_kv_blocks(const ls_spec_config *s, const ls_deploy *d, double kv_bytes, int block_size,
                          int64_t blocks);

/* Per-run bookkeeping of the engine (NULL-safe no-ops when speculation is off). */
typedef struct ls_spec_track ls_spec_track;
ls_spec_track *ls_spec_track_new(const ls_spec_config *s, uint64_t seed, int64_t max_model_len);
void ls_spec_track_free(ls_spec_track *t);
/* A request of class `cls` (its ls_request.class_id; < 0: class 0) arrives:
 * returns the output length the replica simulates (1 + rounds; the first token
 * comes from the prefill) and remembers the real one. */
int32_t ls_spec_track_add(ls_spec_track *t, int64_t id, int32_t cls, int32_t prompt, int32_t output);
/* A request ended: restore its real output lengths, and count its rounds. */
void ls_spec_track_done(ls_spec_track *t, int64_t id, int32_t prompt, int32_t *output, int32_t *requested,
                        int32_t *generated, bool completed);
/* spec_acceptance_rate and spec_mean_accepted_tokens (NaN when off). */
void ls_spec_track_metrics(const ls_spec_track *t, ls_metrics *m);

#endif
