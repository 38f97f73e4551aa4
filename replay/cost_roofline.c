/* cost_roofline.c -- the roofline cost model (domain.md s3, docs/HARDWARE.md).
 *
 * Per layer and TP rank, three operator classes, each timed as
 *   max(FLOPs / (peak * efficiency), bytes / (HBM bandwidth * mbu)):
 *   - attention projections (GQA QKV/output, or MLA's split and replicated ones): GEMMs of T rows
 *   - FFN: dense SwiGLU on dense layers; the MoE layer (experts, router, permutation,
 *     EP all-to-all) from cost_moe.c on the others
 *   - attention core (causal, over the cached context; MLA decodes absorbed, sliding
 *     layers bounded by the window), bytes = KV read + written
 * plus kernel_overhead_s per layer and two all-reduces per layer when
 * t > 1 (one on an MoE layer under EP; collective.c: measured, vLLM custom
 * one-/two-shot, or an NCCL ring). The last stage adds the LM head on the S sampling rows. All inputs
 * are batch aggregates, so an iteration costs O(pp) whatever the batch.
 */
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "collective.h"
#include "cost_kernels.h"
#include "cost.h"
#include "cost_moe.h"
#include "memory.h"
#include "step_overhead.h"

#define ACT_BYTES 2.0 /* activations are bf16 whatever the weight dtype */

/* What an iteration costs that depends on its token count T alone (the
 * projections, the dense FFN, the MoE layer, the all-reduces, the boundary
 * transfers) or on its sampling rows S alone (the LM head): memoised,
 * direct-mapped by T and S, because those repeat from step to step (a decode
 * batch keeps its size) and were most of the cost model's time; only
 * attention depends on the context. Entries hold the values the same
 * expressions give, so results are unchanged (docs/ENGINE.md). */
#define MEMO_SIZE 1024             /* T below it has its own entry: a budget of up to 1024 never misses twice */
typedef struct t_entry {
    double T;                       /* 0: empty (T > 0 always) */
    double pf_s, pf_f, pf_b;        /* proj + dense FFN: time, FLOPs, bytes */
    double pm_s, pm_f, pm_b;        /* proj + MoE layer */
    double transfer_s;
} t_entry;
typedef struct s_entry {
    double S;                       /* 0: empty */
    double t, f, b;                 /* LM head time, FLOPs, bytes */
} s_entry;
typedef struct roof_memo {
    t_entry t[MEMO_SIZE];
    s_entry s[MEMO_SIZE];
    double ar_add[];                /* [MEMO_SIZE][pp]: the stage's all-reduce time for entry t */
} roof_memo;

typedef struct shared_memo shared_memo;
typedef struct roofline {
    ls_cost_model base;
    roof_memo *memo;               /* mutable cache behind the const model */
    shared_memo *share;            /* the memo's owner when shared (plain models, below), else NULL */
    ls_kernels *kn;                /* measured GEMM/attention times (cost: {model: kernels}), or NULL */
    /* per-stage constants */
    int layers[LS_MAX_PP];
    ls_ar_link ar[LS_MAX_PP];      /* each stage's TP group (collective.h) */
    double xfer_alpha[LS_MAX_PP];  /* boundary s -> s+1 */
    double xfer_bw[LS_MAX_PP];
    int moe_layers[LS_MAX_PP];     /* of which MoE layers (ls_model_layer_is_moe) */
    /* per-layer, per-rank constants */
    double proj_params;            /* attention projections per rank (TP-split / t + replicated) */
    double ffn_params;             /* a dense layer's FFN per rank */
    double pair_flops;             /* attention FLOPs per (query, key) pair per rank: 2 (n_q/t)(d + d_v) */
    double pair_flops_absorbed;    /* MLA decode with absorbed weights: 2 (n_q/t)(2 r_kv + rope) */
    double kvb_params;             /* MLA kv_b per rank: re-expands the cached latent for prefill */
    double kv_coef;                /* KV bytes per token per layer per rank */
    double sliding_frac;           /* share of layers with a sliding window */
    double head_params;            /* V * h / t */
    double mm_peak;                /* GEMM peak at the weight dtype, FLOP/s */
    double attn_rate;              /* achieved attention FLOP/s */
    double mem_rate;               /* achieved HBM bytes/s */
    double b_w;
    double b_head, head_peak;      /* the LM head stays BF16 under 4-bit weights */
    ls_moe_cost moe;
    bool plain;                    /* dense, no MLA, no sliding window: plain_stages (pp 1: plain1_iteration) */
    /* plain1_iteration's and plain_stages' constants: layers[] and tp as doubles, the GPU's kernel,
     * step and sequence overheads */
    double layers_d[LS_MAX_PP], layers0, tp_d, kernel_s, iter_s, seq_s;
} roofline;

/* A memo shared by the models whose entries would hold the same values: DP's replicas of one
 * shape (a memo each was 100 KB, and dp31's 31 of them did not stay in cache: the lookup missed).
 * Only plain models (no MoE, MLA, sliding windows or kernels) share, keyed by every constant the
 * entries are computed from (memo_key_same); the entries are then the same bits whichever model
 * filled them. Per thread, as the models are. */
struct shared_memo {
    shared_memo *next;
    roofline key;   /* a copy of the first model: its constants */
    roof_memo *memo;
    int refs;
};
static _Thread_local shared_memo *shared_memos;

static bool same_bits(const void *a, const void *b, size_t n)
{
    return memcmp(a, b, n) == 0;
}

/* Whether a and b (plain) fill their memo entries from the same constants: those fill_t_entry and
 * head_entry read, compared bit for bit. */
static bool memo_key_same(const roofline *a, const roofline *b)
{
    const ls_deploy *da = &a->base.d, *db = &b->base.d;
    if (!a->plain || !b->plain || a->kn || b->kn || da->model != db->model || da->gpu != db->gpu ||
        da->tp != db->tp || da->pp != db->pp || da->ep != db->ep)
        return false;
#define SAME(f) same_bits(&a->f, &b->f, sizeof a->f)
    if (!(SAME(proj_params) && SAME(ffn_params) && SAME(b_w) && SAME(mm_peak) && SAME(mem_rate) &&
          SAME(head_params) && SAME(b_head) && SAME(head_peak)))
        return false;
    for (int s = 0; s < da->pp; s++) {
        const ls_ar_link *la = &a->ar[s], *lb = &b->ar[s];
        if (a->layers[s] != b->layers[s] || a->moe_layers[s] != b->moe_layers[s] || la->t != lb->t ||
            la->custom != lb->custom || la->table != lb->table || !same_bits(&la->alpha_s, &lb->alpha_s, sizeof la->alpha_s) ||
            !same_bits(&la->custom_alpha_s, &lb->custom_alpha_s, sizeof la->custom_alpha_s) ||
            !same_bits(&la->bw, &lb->bw, sizeof la->bw))
            return false;
        if (s + 1 < da->pp && !(SAME(xfer_alpha[s]) && SAME(xfer_bw[s])))
            return false;
    }
#undef SAME
    return true;
}

/* r's memo: a plain model's shared with an earlier one of the same constants, else its own. */
static void memo_attach(roofline *r)
{
    size_t bytes = sizeof *r->memo + (size_t)MEMO_SIZE * (size_t)r->base.d.pp * sizeof(double);
    if (!r->plain || r->kn) {
        r->memo = ls_xcalloc(1, bytes);
        return;
    }
    for (shared_memo *sm = shared_memos; sm; sm = sm->next)
        if (memo_key_same(&sm->key, r)) {
            sm->refs++;
            r->share = sm;
            r->memo = sm->memo;
            return;
        }
    shared_memo *sm = ls_xcalloc(1, sizeof *sm);
    sm->key = *r;
    sm->memo = ls_xcalloc(1, bytes);
    sm->refs = 1;
    sm->next = shared_memos;
    shared_memos = sm;
    r->share = sm;
    r->memo = sm->memo;
}

static void memo_detach(roofline *r)
{
    shared_memo *sm = r->share;
    if (!sm) {
        free(r->memo);
        return;
    }
    if (--sm->refs > 0)
        return;
    for (shared_memo **p = &shared_memos; *p; p = &(*p)->next)
        if (*p == sm) {
            *p = sm->next;
            break;
        }
    free(sm->memo);
    free(sm);
}

double ls_cost_matmul_eff(const ls_gpu *g, double rows)
{
    if (rows <= 0)
        return 0;
    return g->mfu_max * rows / (rows + g->mfu_half_tokens);
}

static int node_of(const ls_deploy *d, int gpu)
{
    return gpu / d->cluster->gpus_per_node;
}

double ls_cost_allreduce_s(const ls_deploy *d, int stage, double bytes)
{
    if (d->tp <= 1 || bytes <= 0)
        return 0;
    ls_ar_link l;
    ls_collective_link(d, stage, &l);
    return ls_collective_allreduce_s(&l, bytes);
}

/* Rank r of stage s sends to rank r of stage s+1; the boundary pays the network if any pair crosses nodes. */
static void xfer_link(const ls_deploy *d, int s, double *alpha, double *bw)
{
    bool net = false;
    for (int r = 0; r < d->tp; r++) {
        int a = d->first_gpu + s * d->tp + r, b = a + d->tp;
        if (node_of(d, a) != node_of(d, b))
            net = true;
    }
    *alpha = net ? d->cluster->inter_lat_s : d->cluster->intra_lat_s;
    *bw = net ? d->cluster->inter_bw : d->cluster->intra_bw;
}

double ls_cost_transfer_s(const ls_deploy *d, int stage, double bytes)
{
    double alpha, bw;
    xfer_link(d, stage, &alpha, &bw);
    assert(bw > 0);
    return alpha + bytes / bw;
}

/* max(compute, memory) of one operator class; 0 work costs 0. */
static double roof(double flops, double flop_rate, double bytes, double byte_rate)
{
    double tc = flops > 0 ? flops / flop_rate : 0;
    double tm = bytes > 0 ? bytes / byte_rate : 0;
    return tc > tm ? tc : tm;
}

/* The engine's host time beside the step's GPU time, all stages and transfers (step_overhead.h). */
static inline void set_overhead(const ls_deploy *d, const ls_batch_agg *b, ls_iter_cost *out)
{
    double gpu_s = (d->pp - 1) * out->transfer_s;
    for (int s = 0; s < d->pp; s++)
        gpu_s += out->stage_s[s];
    out->overhead_s = ls_step_overhead_at(d->gpu->iter_overhead_s, d->gpu->seq_overhead_s, d->async_scheduling,
                                          b->n_seqs, gpu_s);
}

/* The LM head and sampler of n_sample sequences (the last stage), memoized by n_sample: measured
 * kernel times where the tables have them (only on the general path: r->plain excludes them). */
static inline __attribute__((always_inline)) const s_entry *head_entry(const roofline *r, int64_t n_sample)
{
    double S = (double)n_sample;
    s_entry *se = &r->memo->s[(uint64_t)n_sample % MEMO_SIZE];
    if (se->S != S) {
        se->f = 2.0 * S * r->head_params;
        se->b = r->b_head * r->head_params;
        se->t = ls_kernels_has_gemm(r->kn)
                    ? ls_kernels_head_s(r->kn, S)
                    : roof(se->f, r->head_peak * ls_cost_matmul_eff(r->base.d.gpu, S), se->b, r->mem_rate);
        se->S = S;
    }
    return se;
}

/* The rest of roofline_iteration for a dense model without MLA or sliding
 * windows, the common case: the general expressions with their zero terms
 * left out (x + 0 and 1 * x are exact, so the results are the same bits). */
static inline __attribute__((always_inline)) void plain_stages(const roofline *r, const t_entry *te,
                                                               const double *ar_add, const s_entry *se,
                                                               const ls_batch_agg *b, double T, double pairs,
                                                               ls_iter_cost *out)
{
    const ls_deploy *d = &r->base.d;
    double attn_f = r->pair_flops * pairs;
    double attn_b = r->kv_coef * (b->sum_c + T);
    double attn_s = roof(attn_f, r->attn_rate, attn_b, r->mem_rate);
    double dense_s = te->pf_s + attn_s + d->gpu->kernel_overhead_s;
    double dense_f = te->pf_f + attn_f, dense_b = te->pf_b + attn_b;
    double flops = 0, bytes = 0;
    const int pp = d->pp;
    const bool ar = d->tp > 1;
    double t = 0;
    for (int s = 0; s < pp; s++) {
        double Ld = r->layers_d[s];
        t = Ld * dense_s;
        if (ar)
            t += ar_add[s];
        flops += Ld * dense_f;
        bytes += Ld * dense_b;
        out->stage_s[s] = t;
    }
    if (se) { /* the last stage's LM head, after its layers */
        out->stage_s[pp - 1] = t + se->t;
        flops += se->f;
        bytes += se->b;
    }
    out->transfer_s = te->transfer_s;
    out->flops = flops * r->tp_d;
    out->bytes = bytes * r->tp_d;
}

/* The memo's entry for T tokens (and its stages' all-reduce times ar_add[0 .. pp)). */
static __attribute__((noinline)) void fill_t_entry(const roofline *r, t_entry *te, double *ar_add, double T)
{
    const ls_deploy *d = &r->base.d;
    const ls_model *m = d->model;
    const ls_gpu *g = d->gpu;
    /* Per layer, per rank. */
    double proj_f = 2.0 * T * r->proj_params;
    double proj_b = r->b_w * r->proj_params;
    double eff_T = ls_cost_matmul_eff(g, T);
    double t_proj = roof(proj_f, r->mm_peak * eff_T, proj_b, r->mem_rate);

    /* Dense FFN (a dense model's every layer, an MoE model's first dense_layers). */
    double ffn_f = 2.0 * T * r->ffn_params, ffn_b = r->b_w * r->ffn_params;
    double t_ffn = roof(ffn_f, r->mm_peak * eff_T, ffn_b, r->mem_rate);
    if (ls_kernels_has_gemm(r->kn)) { /* measured GEMM times of the same shapes */
        t_proj = ls_kernels_proj_s(r->kn, T);
        t_ffn = ls_kernels_ffn_s(r->kn, T);
    }
    ls_op_cost moe = {0};
    if (ls_model_is_moe(m))
        ls_moe_layer(&r->moe, T, &moe);
    te->pf_s = t_proj + t_ffn;
    te->pm_s = t_proj + moe.s;
    te->pf_f = proj_f + ffn_f;
    te->pf_b = proj_b + ffn_b;
    te->pm_f = proj_f + moe.flops;
    te->pm_b = proj_b + moe.bytes;

    double ar_bytes = T * m->hidden * ACT_BYTES;
    /* Under EP a MoE layer's combine returns the sums to the tokens' ranks: no FFN all-reduce. */
    int ar_per_moe = d->ep > 1 ? 1 : 2;
    for (int s = 0; s < d->pp; s++) {
        int L = r->layers[s], Lm = r->moe_layers[s], Ld = L - Lm;
        ar_add[s] = d->tp > 1 ? (2.0 * Ld + ar_per_moe * Lm) * ls_collective_allreduce_s(&r->ar[s], ar_bytes)
                                  : 0.0;
    }
    /* Boundaries: hidden states plus residual, 2·T·h·b_a bytes; the slowest boundary is reported. */
    double xfer_bytes = 2.0 * T * m->hidden * ACT_BYTES;
    te->transfer_s = 0;
    for (int s = 0; s + 1 < d->pp; s++) {
        double t = r->xfer_alpha[s] + xfer_bytes / r->xfer_bw[s];
        if (t > te->transfer_s)
            te->transfer_s = t;
    }
    te->T = T;
}

static void roofline_iteration(const ls_cost_model *cm, const ls_batch_agg *b, ls_iter_cost *out)
{
    const roofline *r = (const roofline *)cm;
    const ls_deploy *d = &cm->d;
    const ls_model *m = d->model;
    const ls_gpu *g = d->gpu;
    assert(b->tokens >= 0 && b->n_sample >= 0);
    /* not a memset of the whole struct (LS_MAX_PP stages): only the pp used */
    out->overhead_s = g->iter_overhead_s;
    out->transfer_s = out->flops = out->bytes = 0;
    double T = (double)b->tokens;
    if (T <= 0) {
        for (int s = 0; s < d->pp; s++)
            out->stage_s[s] = 0;
        return;
    }

    uint64_t ti = (uint64_t)b->tokens % MEMO_SIZE;
    t_entry *te = &r->memo->t[ti];
    double *ar_add = &r->memo->ar_add[ti * (uint64_t)d->pp];
    if (te->T != T)
        fill_t_entry(r, te, ar_add, T);

    /* Causal attention: q_i new tokens over c_i cached ones, Σ q_i(q_i+1)/2 = (Σq² + T)/2
     * pairs. MLA decodes attend in the latent space (absorbed weights); the other pairs,
     * and prefill's re-expansion of the cached latent, use the materialised heads. */
    double pairs = b->sum_qc + (b->sum_q2 + T) / 2.0;
    if (r->plain) {
        plain_stages(r, te, ar_add, b->n_sample > 0 ? head_entry(r, b->n_sample) : NULL, b, T, pairs, out);
        set_overhead(d, b, out);
        return;
    }
    double dec_pairs = 0, pre_ctx = 0;
    if (r->pair_flops_absorbed > 0 && b->n_seqs > 0) {
        double dec_c = b->sum_c * (double)b->n_decode / (double)b->n_seqs; /* mean-context estimate */
        dec_pairs = dec_c + (double)b->n_decode;
        if (dec_pairs > pairs)
            dec_pairs = pairs;
        pre_ctx = b->sum_c - dec_c;
    }
    double attn_f = r->pair_flops * (pairs - dec_pairs) + r->pair_flops_absorbed * dec_pairs +
                    2.0 * pre_ctx * r->kvb_params;
    double attn_b = r->kv_coef * (b->sum_c + T);
    double t_attn = roof(attn_f, r->attn_rate, attn_b, r->mem_rate);
    /* Sliding-window layers attend to at most W keys per query and read at most W per sequence. */
    double t_attn_sl = 0, attn_f_sl = 0, attn_b_sl = 0;
    if (r->sliding_frac > 0) {
        double w = m->sliding_window;
        double cap = T * w < pairs ? T * w / pairs : 1.0;
        attn_f_sl = attn_f * cap;
        double ctx = b->sum_c < (double)b->n_seqs * w ? b->sum_c : (double)b->n_seqs * w;
        attn_b_sl = r->kv_coef * (ctx + T);
        t_attn_sl = roof(attn_f_sl, r->attn_rate, attn_b_sl, r->mem_rate);
    }
    double sf = r->sliding_frac;
    double attn_s = (1 - sf) * t_attn + sf * t_attn_sl;
    if (ls_kernels_has_attention(r->kn)) /* full-attention layers only (cost_kernels.c) */
        attn_s = ls_kernels_attn_s(r->kn, b);
    double attn_fl = (1 - sf) * attn_f + sf * attn_f_sl, attn_by = (1 - sf) * attn_b + sf * attn_b_sl;

    double dense_s = te->pf_s + attn_s + g->kernel_overhead_s;
    double moe_s = te->pm_s + attn_s + g->kernel_overhead_s;
    double dense_f = te->pf_f + attn_fl, dense_b = te->pf_b + attn_by;
    double moe_f = te->pm_f + attn_fl, moe_b = te->pm_b + attn_by;

    double flops = 0, bytes = 0;
    for (int s = 0; s < d->pp; s++) {
        int L = r->layers[s], Lm = r->moe_layers[s], Ld = L - Lm;
        double t = Ld * dense_s + Lm * moe_s;
        if (d->tp > 1)
            t += ar_add[s];
        flops += Ld * dense_f + Lm * moe_f;
        bytes += Ld * dense_b + Lm * moe_b;
        if (s == d->pp - 1 && b->n_sample > 0) {
            const s_entry *se = head_entry(r, b->n_sample);
            t += se->t;
            flops += se->f;
            bytes += se->b;
        }
        out->stage_s[s] = t;
    }
    out->transfer_s = te->transfer_s;
    set_overhead(d, b, out);
    out->flops = flops * d->tp;
    out->bytes = bytes * d->tp;
}

/* roofline_iteration for a plain model (r->plain) on one stage, the common case, as its own entry in
 * the vtable: plain_stages and set_overhead with the loops over one stage unrolled (0 + x and
 * 0 · transfer are exact), the deployment's integers as the doubles the expressions convert them
 * to, and the step overhead inline: the same operations in the same order, so the same bits.
 * te and se (NULL without sampling rows) are the memo's entries for the batch, filled. */
static inline __attribute__((always_inline)) void plain1_cost(const roofline *r, const t_entry *te,
                                                              const double *ar_add, const s_entry *se,
                                                              const ls_batch_agg *b, double T, ls_iter_cost *out)
{
    double pairs = b->sum_qc + (b->sum_q2 + T) / 2.0;
    double attn_f = r->pair_flops * pairs;
    double attn_b = r->kv_coef * (b->sum_c + T);
    double attn_s = roof(attn_f, r->attn_rate, attn_b, r->mem_rate);
    double dense_s = te->pf_s + attn_s + r->kernel_s;
    double dense_f = te->pf_f + attn_f, dense_b = te->pf_b + attn_b;
    double t = r->layers0 * dense_s;
    if (r->tp_d > 1)
        t += ar_add[0];
    double flops = r->layers0 * dense_f, bytes = r->layers0 * dense_b;
    if (se) {
        t += se->t;
        flops += se->f;
        bytes += se->b;
    }
    out->stage_s[0] = t;
    out->transfer_s = te->transfer_s;
    out->flops = flops * r->tp_d;
    out->bytes = bytes * r->tp_d;
    out->overhead_s = ls_step_overhead_at(r->iter_s, r->seq_s, r->base.d.async_scheduling, b->n_seqs, t);
}

/* plain1_iteration when a memo entry is missing, or no token is computed. */
static __attribute__((noinline)) void plain1_fill(const roofline *r, const ls_batch_agg *b, ls_iter_cost *out)
{
    double T = (double)b->tokens;
    if (T <= 0) {
        out->stage_s[0] = out->transfer_s = out->flops = out->bytes = 0;
        out->overhead_s = r->iter_s;
        return;
    }
    uint64_t ti = (uint64_t)b->tokens % MEMO_SIZE;
    t_entry *te = &r->memo->t[ti];
    double *ar_add = &r->memo->ar_add[ti];  /* [ti * pp], pp 1 */
    if (te->T != T)
        fill_t_entry(r, te, ar_add, T);
    plain1_cost(r, te, ar_add, b->n_sample > 0 ? head_entry(r, b->n_sample) : NULL, b, T, out);
}

/* Whether b's token-count entry (and its sampling entry, if it samples) are in the memo: *ti the
 * entry's index, *te it, *se the sampling entry (NULL when b samples no rows). An empty entry has
 * T = 0, so an empty batch would match it: it never hits. */
static inline bool memo_hit(const roofline *r, const ls_batch_agg *b, uint64_t *ti, const t_entry **te,
                            const s_entry **se)
{
    assert(b->tokens >= 0 && b->n_sample >= 0);
    *ti = (uint64_t)b->tokens % MEMO_SIZE;
    *te = &r->memo->t[*ti];
    const s_entry *s = &r->memo->s[(uint64_t)b->n_sample % MEMO_SIZE];
    *se = b->n_sample > 0 ? s : NULL;
    return b->tokens > 0 && (*te)->T == (double)b->tokens && (b->n_sample <= 0 || s->S == (double)b->n_sample);
}

/* Both memo entries found: no call (the fills are plain1_fill's), so no registers to save. */
static void plain1_iteration(const ls_cost_model *cm, const ls_batch_agg *b, ls_iter_cost *out)
{
    const roofline *r = (const roofline *)cm;
    uint64_t ti;
    const t_entry *te;
    const s_entry *se;
    if (__builtin_expect(!memo_hit(r, b, &ti, &te, &se), 0)) {
        plain1_fill(r, b, out);
        return;
    }
    plain1_cost(r, te, &r->memo->ar_add[ti], se, b, (double)b->tokens, out);
}

/* roofline_iteration for a plain model on several stages when both memo entries hit: plain_stages and
 * set_overhead without a call (a miss goes to roofline_iteration, which fills them). */
static void plain_n_iteration(const ls_cost_model *cm, const ls_batch_agg *b, ls_iter_cost *out)
{
    const roofline *r = (const roofline *)cm;
    const ls_deploy *d = &cm->d;
    uint64_t ti;
    const t_entry *te;
    const s_entry *se;
    if (__builtin_expect(!memo_hit(r, b, &ti, &te, &se), 0)) {
        roofline_iteration(cm, b, out);
        return;
    }
    double T = (double)b->tokens;
    double pairs = b->sum_qc + (b->sum_q2 + T) / 2.0;
    plain_stages(r, te, &r->memo->ar_add[ti * (uint64_t)d->pp], se, b, T, pairs, out);
    set_overhead(d, b, out);
}

static void roofline_free(ls_cost_model *cm)
{
    memo_detach((roofline *)cm);
    ls_kernels_free(((roofline *)cm)->kn);
    free(cm);
}

static const ls_cost_ops roofline_ops = {roofline_iteration, roofline_free};
static const ls_cost_ops plain1_ops = {plain1_iteration, roofline_free};
static const ls_cost_ops plain_n_ops = {plain_n_iteration, roofline_free};

static ls_status roofline_new(const ls_deploy *d, bool kernels, ls_cost_model **out, ls_error *e);

ls_status ls_cost_roofline_new(const ls_deploy *d, ls_cost_model **out, ls_error *e)
{
    return roofline_new(d, false, out, e);
}

ls_status ls_cost_kernels_new(const ls_deploy *d, ls_cost_model **out, ls_error *e)
{
    return roofline_new(d, true, out, e);
}

static ls_status roofline_new(const ls_deploy *d, bool kernels, ls_cost_model **out, ls_error *e)
{
    *out = NULL;
    if (!d || !d->model || !d->gpu || !d->cluster)
        return ls_fail(e, LS_EINVAL, "cost model: model, gpu and cluster are required");
    const ls_model *m = d->model;
    const ls_gpu *g = d->gpu;
    const ls_cluster *c = d->cluster;
    if (d->tp < 1 || d->pp < 1 || d->first_gpu < 0)
        return ls_fail(e, LS_EINVAL, "cost model: tp %d, pp %d, first_gpu %d: expected tp, pp >= 1", d->tp, d->pp,
                       d->first_gpu);
    if (d->pp > m->layers || d->pp > LS_MAX_PP)
        return ls_fail(e, LS_EINVAL, "cost model: pp %d exceeds the %d layers of %s (or the limit %d)", d->pp,
                       m->layers, m->name, LS_MAX_PP);
    int n_gpus = d->tp * d->pp;
    if (c->max_nodes > 0 && d->first_gpu + n_gpus > c->max_nodes * c->gpus_per_node)
        return ls_fail(e, LS_EINVAL, "cost model: GPUs %d..%d do not exist on %s (%d nodes of %d GPUs)",
                       d->first_gpu, d->first_gpu + n_gpus - 1, c->name, c->max_nodes, c->gpus_per_node);

    roofline *r = ls_xcalloc(1, sizeof *r);
    r->base.ops = &roofline_ops;
    r->base.d = *d;
    int t = d->tp;
    for (int s = 0; s < d->pp; s++) {
        r->layers[s] = ls_memory_stage_layers(m->layers, d->pp, s);
        if (t > 1) {
            ls_collective_link(d, s, &r->ar[s]);
            if (!(r->ar[s].bw > 0)) {
                free(r);
                return ls_fail(e, LS_EINVAL, "cost model: cluster %s has no link bandwidth for a tp%d group", c->name, t);
            }
        }
        if (s + 1 < d->pp) {
            xfer_link(d, s, &r->xfer_alpha[s], &r->xfer_bw[s]);
            if (!(r->xfer_bw[s] > 0)) {
                free(r);
                return ls_fail(e, LS_EINVAL, "cost model: cluster %s has no link bandwidth between stages", c->name);
            }
        }
    }
    int first = 0;
    for (int s = 0; s < d->pp; s++) {
        r->moe_layers[s] = ls_model_moe_layers_in(m, first, r->layers[s]);
        first += r->layers[s];
    }
    double h = m->hidden, dh = m->head_dim, dv = ls_model_v_dim(m);
    double a_split, a_repl;
    ls_model_attn_params(m, &a_split, &a_repl);
    r->proj_params = a_split / t + a_repl;
    r->ffn_params = 3.0 * h * m->ffn / t;
    r->pair_flops = 2.0 * ((double)m->heads / t) * (dh + dv);
    if (ls_model_is_mla(m)) {
        r->pair_flops_absorbed = 2.0 * ((double)m->heads / t) * (2.0 * m->kv_lora_rank + m->qk_rope_dim);
        r->kvb_params = (double)m->kv_lora_rank * m->heads * (dh - m->qk_rope_dim + dv) / t;
    }
    r->kv_coef = ls_model_kv_layer_bytes_gpu(m, d->kv_dtype, t);
    r->sliding_frac = m->sliding_window > 0 ? (double)m->sliding_layers / m->layers : 0;
    r->head_params = (double)m->vocab * h / t;
    r->b_w = ls_dtype_bytes(d->w_dtype);
    /* fp8 weights on a GPU without fp8 tensor cores (A100): weight-only storage, bf16 compute */
    r->mm_peak = ls_cost_gemm_peak(g, d->w_dtype, NULL);
    r->b_head = ls_dtype_is_4bit(d->w_dtype) ? 2.0 : r->b_w;
    r->head_peak = ls_dtype_is_4bit(d->w_dtype) ? g->flops_bf16 : r->mm_peak;
    r->attn_rate = g->flops_bf16 * g->mfu_max * g->attn_eff; /* attention runs in bf16 */
    r->mem_rate = g->hbm_bw * g->mbu;
    ls_status rc = ls_moe_cost_init(&r->moe, &r->base.d, e);
    if (rc) {
        free(r);
        return rc;
    }
    r->plain = !ls_model_is_moe(m) && r->pair_flops_absorbed == 0 && r->kvb_params == 0 && r->sliding_frac == 0;
    for (int s = 0; s < d->pp; s++)
        r->plain = r->plain && r->moe_layers[s] == 0;
    r->base.peak_flops = r->mm_peak * n_gpus;
    r->base.peak_bw = g->hbm_bw * n_gpus;
    if (kernels)
        r->kn = ls_kernels_new(&r->base.d);
    if (r->kn) /* the measured kernels take the general path */
        r->plain = false;
    r->layers0 = r->layers[0];
    for (int s = 0; s < d->pp; s++)
        r->layers_d[s] = r->layers[s];
    r->tp_d = d->tp;
    r->kernel_s = g->kernel_overhead_s;
    r->iter_s = g->iter_overhead_s;
    r->seq_s = g->seq_overhead_s;
    if (r->plain)
        r->base.ops = d->pp == 1 ? &plain1_ops : &plain_n_ops;
    memo_attach(r);  /* after every constant is set: they are its key */
    *out = &r->base;
    return LS_OK;
}
