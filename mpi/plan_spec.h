/* plan_spec.h -- the speculative-decoding values `llmsweep plan` searches
 * (`--speculative`, repeatable; docs/PLAN.md).
 *
 * One value is `off` (or `none`: no speculation, vLLM's default and the
 * baseline a speculative deployment is compared with) or
 * `METHOD:KEY=VALUE,...` in the words of a run configuration's `speculative:`
 * block (docs/CONFIG.md, which follows vLLM's speculative_config):
 *   eagle:k=3,acceptance=0.7
 *   draft:model=llama-3.2-1b,num_speculative_tokens=4,acceptance=0.8/0.7/0.6/0.5
 *   mtp:k=1,acceptance=0.8          ngram:k=3,acceptance=0.5
 * METHOD: draft (draft_model), eagle (eagle3), mtp (deepseek_mtp), ngram;
 * k = num_speculative_tokens 1..LS_SPEC_MAX_K; acceptance one rate in [0, 1]
 * or k of them separated by '/'; model (method draft only) a catalog model.
 * The engine's own checks (the draft's vocabulary, its heads at the TP, pp 1)
 * run when the candidate is loaded (replay/config_spec.c). */
#ifndef LS_PLAN_SPEC_H
#define LS_PLAN_SPEC_H

#include <stdbool.h>
#include <stdio.h>

#include "error.h"

typedef struct ls_plan_spec {
    char method[16]; /* "none" (off), draft, eagle, mtp, ngram (aliases resolved) */
    int k;           /* num_speculative_tokens (0 when off) */
    char acceptance[160]; /* as YAML: 0.7 or [0.8, 0.7, 0.6] */
    char model[64];  /* the draft model (method draft), else "" */
    char given[128]; /* the value as given (for messages) */
} ls_plan_spec;

/* Parse one --speculative value. Errors name the value and what was expected. */
ls_status ls_plan_spec_parse(const char *value, ls_plan_spec *out, ls_error *e);

static inline bool ls_plan_spec_on(const ls_plan_spec *s)
{
    return s && s->k > 0;
}

/* The `speculative:` value of a run configuration (flow YAML) for s (on). */
void ls_plan_spec_yaml(const ls_plan_spec *s, FILE *f);

/* Two values that search the same thing (off twice, or the same block). */
bool ls_plan_spec_same(const ls_plan_spec *a, const ls_plan_spec *b);

#endif
