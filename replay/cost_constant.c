/* cost_constant.c -- a batch-independent cost model for queueing tests.
 *
 * Every iteration takes `mean_s` (constant) or an exponential draw of mean
 * `mean_s`; with max_num_seqs 1 the replica is then an M/D/1 or M/M/1 server.
 * The random stream is owned by the model (seeded), so runs are repeatable. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"
#include "cost.h"

typedef struct cost_constant {
    ls_cost_model base;   /* first: the engine sees an ls_cost_model */
    double mean_s;
    bool exponential;
    uint64_t rng;         /* mutable state: iteration() takes a const model, see below */
} cost_constant;

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void constant_iteration(const ls_cost_model *cm, const ls_batch_agg *b, ls_iter_cost *out)
{
    /* The vtable passes a const model, but this object was allocated mutable by
     * ls_cost_constant_new and its RNG is private to it. */
    cost_constant *c = (cost_constant *)(uintptr_t)cm;
    memset(out, 0, sizeof *out);
    double t = c->mean_s;
    if (c->exponential) {
        double u = (double)(splitmix64(&c->rng) >> 11) * 0x1.0p-53; /* [0,1) */
        t = -c->mean_s * log1p(-u);
    }
    int pp = cm->d.pp > 0 ? cm->d.pp : 1;
    for (int s = 0; s < pp; s++)
        out->stage_s[s] = t / pp;
    out->flops = 0.0;
    out->bytes = 0.0;
    (void)b;
}

static void constant_free(ls_cost_model *cm)
{
    free(cm);
}

static const ls_cost_ops constant_ops = {constant_iteration, constant_free};

ls_status ls_cost_constant_new(const ls_deploy *d, double mean_s, bool exponential, uint64_t seed,
                               ls_cost_model **out, ls_error *e)
{
    if (!(mean_s > 0) || !isfinite(mean_s))
        return ls_fail(e, LS_EINVAL, "constant cost model: time per iteration must be > 0, got %g", mean_s);
    if (d->pp < 1 || d->pp > LS_MAX_PP)
        return ls_fail(e, LS_EINVAL, "constant cost model: pp must be in [1, %d], got %d", LS_MAX_PP, d->pp);
    cost_constant *c = ls_xcalloc(1, sizeof *c);
    c->base.ops = &constant_ops;
    c->base.d = *d;
    c->base.peak_flops = 0.0;
    c->base.peak_bw = 0.0;
    c->mean_s = mean_s;
    c->exponential = exponential;
    c->rng = seed ^ 0x5DEECE66Dull;
    *out = &c->base;
    return LS_OK;
}
