/* spec_decode.c -- speculative decoding: acceptance sampling, the cost of a
 * verification round, the proposer's memory, and the engine's bookkeeping
 * (spec_decode.h; docs/ENGINE.md, "Speculative decoding"). */
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "memory.h"
#include "rng.h"
#include "spec_decode.h"

const char *ls_spec_method_name(ls_spec_method m)
{
    static const char *const names[] = {"none", "draft", "eagle", "mtp", "ngram"};
    return (unsigned)m < sizeof names / sizeof names[0] ? names[m] : "?";
}

double ls_spec_expected_tokens(const ls_spec_config *s)
{
    /* 1 + Σ_i Π_{j<=i} alpha_j: the bonus token plus each accepted prefix length */
    double sum = 1, p = 1;
    for (int i = 0; i < s->k; i++) {
        p *= s->alpha[i];
        sum += p;
    }
    return sum;
}

int ls_spec_sample_accepted(const ls_spec_config *s, const double *alpha, uint64_t *rng)
{
    int a = 0;
    while (a < s->k) {
        double u = (double)(ls_splitmix64(rng) >> 11) * 0x1.0p-53;
        if (u >= alpha[a])
            break;  /* first rejected draft: the rest are discarded */
        a++;
    }
    return a;
}

/* ---------------------------------------------------------------- cost */

typedef struct spec_cost {
    ls_cost_model base;
    ls_cost_model *target;
    ls_cost_model *proposer;  /* NULL: ngram */
    ls_model proposer_model;  /* referenced by proposer's deploy */
    int k;
} spec_cost;

static void add_cost(ls_iter_cost *out, const ls_iter_cost *p, double times)
{
    out->stage_s[0] += times * p->stage_s[0];  /* pp == 1 (config.c refuses speculation with pp > 1) */
    out->flops += times * p->flops;
    out->bytes += times * p->bytes;
}

static void spec_iteration(const ls_cost_model *cm, const ls_batch_agg *b, ls_iter_cost *out)
{
    const spec_cost *sc = (const spec_cost *)cm;
    int64_t nd = b->n_decode, k = sc->k;
    /* Decodes' share of the KV read: exact when the batch is all decodes; with
     * prefills in it, the aggregates do not say which context is whose. */
    double cdec = b->n_seqs > 0 ? b->sum_c * (double)nd / (double)b->n_seqs : 0;
    ls_batch_agg v = *b;  /* each decode verifies 1 + k positions onto its context */
    v.tokens += k * nd;
    v.n_sample += k * nd;
    v.sum_q2 += (double)((1 + k) * (1 + k) - 1) * (double)nd;
    v.sum_qc += (double)k * cdec;
    ls_cost_iteration(sc->target, &v, out);
    if (!sc->proposer || b->tokens == 0)
        return;
    /* pass 1: the proposer over the step's own tokens (prefill chunks, one per
     * decode); then k - 1 sequential passes of one token per decoding request */
    ls_iter_cost p;
    ls_cost_iteration(sc->proposer, b, &p);
    add_cost(out, &p, 1);
    if (nd > 0 && k > 1) {
        ls_batch_agg d = {nd, nd, nd, nd, cdec, (double)nd, cdec};
        ls_cost_iteration(sc->proposer, &d, &p);
        add_cost(out, &p, (double)(k - 1));
    }
}

static void spec_free(ls_cost_model *cm)
{
    spec_cost *sc = (spec_cost *)cm;
    ls_cost_free(sc->target);
    ls_cost_free(sc->proposer);
    free(sc);
}

static const ls_cost_ops spec_ops = {spec_iteration, spec_free};

ls_status ls_spec_cost_new(const ls_spec_config *s, const ls_deploy *d, ls_cost_model *target,
                           ls_cost_model **out, ls_error *e)
{
    assert(s->method != LS_SPEC_NONE && s->k >= 1 && d->pp == 1);
    spec_cost *sc = ls_xcalloc(1, sizeof *sc);
    sc->base = *target;
    sc->base.ops = &spec_ops;
    sc->target = target;
    sc->k = s->k;
    if (s->has_proposer) {
        sc->proposer_model = s->proposer;
        ls_deploy pd = *d;
        pd.model = &sc->proposer_model;
        pd.ep = 1;
        pd.has_e_dtype = false;
        ls_status rc = ls_cost_roofline_new(&pd, &sc->proposer, e);
        if (rc) {
            free(sc);  /* the target stays the caller's */
            return rc;
        }
    }
    *out = &sc->base;
    return LS_OK;
}

int64_t ls_spec_kv_blocks(const ls_spec_config *s, const ls_deploy *d, double kv_bytes, int block_size,
                          int64_t blocks)
{
    if (!s->has_proposer || blocks <= 0)
        return blocks;
    const ls_model *pm = &s->proposer;
    ls_deploy pd = *d;
    pd.model = pm;
    /* EAGLE and MTP heads share the target's embedding and LM head: only
     * their layers are new weights; a draft model brings all of its own */
    double params = s->method == LS_SPEC_DRAFT ? ls_model_params(pm) : ls_model_params(pm)
                                                                          - ls_model_embed_params(pm)
                                                                          - ls_model_head_params(pm);
    double weights = params * ls_dtype_bytes(d->w_dtype) / d->tp;
    double kvd = ls_memory_kv_bytes_per_token_stage(&pd, pm->layers);
    double avail = (double)blocks * block_size * kv_bytes - weights;
    if (avail <= 0)
        return 0;
    return (int64_t)floor(avail / ((double)block_size * (kv_bytes + kvd)));
}

/* ---------------------------------------------------------------- engine bookkeeping */

struct ls_spec_track {
    ls_spec_config s;
    uint64_t seed;
    int64_t max_model_len;
    int32_t *real;      /* requested output + 1 per request id (0: not seen) */
    int32_t *acc;       /* accepted drafts of its rounds */
    int64_t cap;
    double rounds, accepted;  /* over completed requests */
};

ls_spec_track *ls_spec_track_new(const ls_spec_config *s, uint64_t seed, int64_t max_model_len)
{
    if (!s || s->method == LS_SPEC_NONE)
        return NULL;
    ls_spec_track *t = ls_xcalloc(1, sizeof *t);
    t->s = *s;
    t->seed = seed;
    t->max_model_len = max_model_len;
    return t;
}

void ls_spec_track_free(ls_spec_track *t)
{
    if (!t)
        return;
    free(t->real);
    free(t->acc);
    free(t);
}

/* The replica's own cap (prompt + output <= max_model_len), applied first. */
static int64_t capped(const ls_spec_track *t, int32_t prompt, int32_t output)
{
    int64_t p = prompt < 1 ? 1 : prompt;
    int64_t o = output < 1 ? 1 : output;
    if (p < t->max_model_len && o > t->max_model_len - p)
        o = t->max_model_len - p;
    return o < 1 ? 1 : o;
}

int32_t ls_spec_track_add(ls_spec_track *t, int64_t id, int32_t cls, int32_t prompt, int32_t output)
{
    if (!t)
        return output;
    assert(id >= 0);
    if (id >= t->cap) {
        int64_t nc = t->cap ? t->cap : 1024;
        while (nc <= id)
            nc *= 2;
        t->real = ls_xrealloc(t->real, (size_t)nc * sizeof *t->real);
        t->acc = ls_xrealloc(t->acc, (size_t)nc * sizeof *t->acc);
        memset(t->real + t->cap, 0, (size_t)(nc - t->cap) * sizeof *t->real);
        memset(t->acc + t->cap, 0, (size_t)(nc - t->cap) * sizeof *t->acc);
        t->cap = nc;
    }
        int64_t o = capped(t, prompt, output);
    /* per-request stream: independent of routing and of the number of ranks.
     * Both parts are mixed first: splitmix states G·n apart would share their
     * sequences (request n's step j = request n+j's step 0). */
    uint64_t h = (uint64_t)id, sd = t->seed ^ 0x5DEECE66Dull;
    uint64_t rng = ls_splitmix64(&h) ^ ls_splitmix64(&sd);
    int64_t left = o - 1, rounds = 0, acc = 0;
    const double *alpha = t->s.by_class && cls > 0 && cls < LS_MAX_CLASSES ? t->s.alpha_class[cls]
                          : t->s.by_class                                   ? t->s.alpha_class[0]
                                                                            : t->s.alpha;
    while (left > 0) {
        int a = ls_spec_sample_accepted(&t->s, alpha, &rng);
        acc += a;
        left -= a + 1;
        rounds++;
    }
    t->real[id] = output + 1;
    t->acc[id] = (int32_t)acc;
    return (int32_t)(1 + rounds);
}

void ls_spec_track_done(ls_spec_track *t, int64_t id, int32_t prompt, int32_t *output, int32_t *requested,
                        int32_t *generated, bool completed)
{
    if (!t || id < 0 || id >= t->cap || t->real[id] == 0)
        return;
    int32_t sched_out = *output, real = (int32_t)capped(t, prompt, t->real[id] - 1);
    if (completed) {
        t->rounds += sched_out - 1;
        t->accepted += t->acc[id];
        *generated = real;
    } else if (*generated > 1 && sched_out > 1) {
        /* rounds done so far, at the request's mean tokens per round */
        double per = (double)(real - 1) / (sched_out - 1);
        *generated = (int32_t)(1 + floor((*generated - 1) * per));
    }
    *output = real;
    *requested = t->real[id] - 1;
}

void ls_spec_track_metrics(const ls_spec_track *t, ls_metrics *m)
{
    if (!t)
        return;
    m->v[LS_M_SPEC_ACCEPTANCE_RATE] = t->rounds > 0 ? t->accepted / (t->rounds * t->s.k) : NAN;
    m->v[LS_M_SPEC_MEAN_ACCEPTED_TOKENS] = t->rounds > 0 ? 1 + t->accepted / t->rounds : NAN;
}
