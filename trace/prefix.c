/* prefix.c -- shared system prompts: a transformation that gives every request
 * one of N system prompts of L tokens in front of its own prompt, with the
 * prefix-block hash ids that say so (trace.h: one id per 512 prompt tokens),
 * so that prefix caching (replay/kvcache.c) can reuse them.
 *
 * Request i draws its system prompt k uniformly from the stream "shared_prefix"
 * of the seed. Its prompt becomes L + its own tokens; its ids are those of k's
 * whole 512-token blocks, then fresh ids for the rest (the block holding the
 * seam mixes system and user text, so it is unique). Ids the request carried
 * are replaced: its own text sits L tokens later, in other blocks. */
#include <stdlib.h>

#include "rng.h"
#include "source_impl.h"
#include "transform.h"

typedef struct shared {
    ls_source base;
    ls_source *in;
    int64_t n, tokens;
    ls_rng rng;
    int64_t next_unique;  /* fresh ids, above every system prompt's */
    int64_t *ids;
    uint32_t cap;
} shared;

static int shared_next(ls_source *s, ls_request *out, ls_error *e)
{
    shared *x = (shared *)s;
    int rc = ls_source_next(x->in, out, e);
    if (rc <= 0)
        return rc;
    int64_t k = (int64_t)ls_rng_below(&x->rng, (uint64_t)x->n);
    int64_t p = (int64_t)out->prompt_tokens + x->tokens;
    if (p > INT32_MAX)
        p = INT32_MAX;
    out->prompt_tokens = (int32_t)p;
    uint32_t nb = (uint32_t)((p + LS_MOONCAKE_BLOCK_TOKENS - 1) / LS_MOONCAKE_BLOCK_TOKENS);
    uint32_t sys = (uint32_t)(x->tokens / LS_MOONCAKE_BLOCK_TOKENS);
    if (nb > x->cap) {
        x->cap = nb * 2;
        x->ids = ls_xrealloc(x->ids, (size_t)x->cap * sizeof *x->ids);
    }
    for (uint32_t i = 0; i < nb; i++)
        x->ids[i] = i < sys ? k * (int64_t)sys + i : x->next_unique++;
    out->n_hash_ids = nb;
    out->hash_ids = x->ids;
    return 1;
}

static void shared_free(ls_source *s)
{
    shared *x = (shared *)s;
    ls_source_free(x->in);
    free(x->ids);
    free(x);
}

static void shared_report(const ls_source *s, ls_source_report *r)
{
    const shared *x = (const shared *)s;
    if (x->in && x->in->vt->report)
        x->in->vt->report(x->in, r);
}

static const ls_source_vt shared_vt = {shared_next, shared_free, shared_report};

ls_source *ls_transform_shared_prefix(ls_source *in, int64_t n, int64_t tokens, uint64_t seed)
{
    shared *x = ls_xcalloc(1, sizeof *x);
    x->base.vt = &shared_vt;
    x->in = in;
    x->n = n;
    x->tokens = tokens;
    ls_rng_stream(&x->rng, seed, "shared_prefix");
    x->next_unique = n * (tokens / LS_MOONCAKE_BLOCK_TOKENS);
    return &x->base;
}
