/* cost_moe.c -- routed and shared experts, router, permutation and the EP
 * all-to-all of an MoE layer (contract in cost_moe.h, formulas in
 * docs/HARDWARE.md "MoE layers and expert parallelism").
 */
#include <assert.h>
#include <math.h>
#include <string.h>

#include "cost_moe.h"

#define ACT_BYTES 2.0                 /* activations and the combine are BF16 */
#define FP8_DISPATCH (1.0 + 4.0 / 128) /* FP8 + one fp32 scale per 128 (DeepEP block-FP8 dispatch) */

double ls_cost_gemm_peak(const ls_gpu *g, ls_dtype w, bool *widened)
{
    double peak = g->flops_bf16;
    bool wide = false;
    if (w == LS_DTYPE_FP8) {
        wide = !(g->flops_fp8 > 0);
        if (!wide)
            peak = g->flops_fp8;
    } else if (w == LS_DTYPE_NVFP4 || w == LS_DTYPE_MXFP4) {
        wide = !(g->flops_fp4 > 0);
        if (!wide)
            peak = g->flops_fp4;
    }
    /* int4 (AWQ/GPTQ) is weight-only by definition: BF16 compute, not a widening */
    if (widened)
        *widened = wide;
    return peak;
}

static int node_of(const ls_deploy *d, int gpu)
{
    return gpu / d->cluster->gpus_per_node;
}

/* The EP group is made of ep/tp consecutive replicas (config.c checks that ep is
 * a multiple of tp dividing dp x tp); replicas sit on consecutive GPUs, tp x pp
 * each. With PP each stage has its own group, the same stage of those replicas
 * (vLLM: EP = TP x DP within a PP stage). Destinations are uniform over the
 * group's ranks; the worst sender of the worst stage, with the fewest peers on
 * its node, decides (one MoE cost serves every stage). */
static int group_gpu(const ls_deploy *d, int r0, int s, int i)
{
    return (r0 + i / d->tp) * d->tp * d->pp + s * d->tp + i % d->tp;
}

static ls_status a2a_links(ls_moe_cost *mc, const ls_deploy *d, ls_error *e)
{
    const ls_cluster *c = d->cluster;
    int ep = d->ep, reps = ep / d->tp;
    int r0 = d->first_gpu / (d->tp * d->pp) / reps * reps;  /* the group's first replica */
    int min_local = ep;
    for (int s = 0; s < d->pp; s++)
        for (int i = 0; i < ep;) {  /* the group's GPUs ascend, so a node's ranks are one run */
            int j = i, node = node_of(d, group_gpu(d, r0, s, i));
            while (j < ep && node_of(d, group_gpu(d, r0, s, j)) == node)
                j++;
            if (j - i < min_local)
                min_local = j - i;
            i = j;
        }
    mc->on_frac = (double)(min_local - 1) / ep;
    mc->off_frac = (double)(ep - min_local) / ep;
    if (mc->on_frac > 0 && !(c->intra_bw > 0))
        return ls_fail(e, LS_EINVAL, "cost model: cluster %s has no intra-node bandwidth for an ep%d group",
                       c->name, ep);
    if (mc->off_frac > 0 && !(c->inter_bw > 0))
        return ls_fail(e, LS_EINVAL, "cost model: cluster %s has no network bandwidth for an ep%d group",
                       c->name, ep);
    mc->intra_rate = c->intra_bw * c->allreduce_eff;
    mc->inter_rate = c->inter_bw * c->allreduce_eff;
    mc->a2a_lat_s = mc->off_frac > 0 ? c->inter_lat_s : c->intra_lat_s;
    return LS_OK;
}

ls_status ls_moe_cost_init(ls_moe_cost *mc, const ls_deploy *d, ls_error *e)
{
    memset(mc, 0, sizeof *mc);
    mc->d = d;
    const ls_model *m = d->model;
    const ls_gpu *g = d->gpu;
    int t = d->tp;
    bool ep = d->ep > 1;
    mc->b_w = ls_dtype_bytes(d->w_dtype);
    mc->b_e = ls_dtype_bytes(ls_deploy_expert_dtype(d));
    mc->w_peak = ls_cost_gemm_peak(g, d->w_dtype, NULL);
    mc->e_peak = ls_cost_gemm_peak(g, ls_deploy_expert_dtype(d), NULL);
    mc->mem_rate = g->hbm_bw * g->mbu;
    if (!ls_model_is_moe(m))
        return LS_OK;
    mc->expert_params = ls_model_expert_params(m) / (ep ? 1 : t);
    mc->shared_params = (m->shared_experts * ls_model_expert_params(m) + (double)m->hidden * m->experts) / t;
    mc->local_experts = ep ? (double)(m->experts + d->redundant_experts) / d->ep : m->experts;
    /* EPLB: R replicas of the hottest experts relieve the busiest ranks; the excess
     * load shrinks with the share of ranks that received a replica (a first cut). */
    double imb = d->moe_imbalance >= 1 ? d->moe_imbalance : 1.0;
    if (ep && d->redundant_experts > 0) {
        double relief = (double)d->redundant_experts / d->ep;
        imb = 1.0 + (imb - 1.0) * (relief >= 1 ? 0.0 : 1.0 - relief);
    }
    mc->imbalance = ep ? imb : 1.0; /* TP: every rank holds a slice of every expert */
    mc->disp_bytes = d->a2a_fp8 ? FP8_DISPATCH : ACT_BYTES;
    mc->backend = d->moe_backend ? d->moe_backend : ls_moe_backend_find("deepep_ll");
    if (ep)
        LS_TRY(a2a_links(mc, d, e));
    return LS_OK;
}

static double roof(double flops, double flop_rate, double bytes, double byte_rate)
{
    double tc = flops > 0 ? flops / flop_rate : 0;
    double tm = bytes > 0 ? bytes / byte_rate : 0;
    return tc > tm ? tc : tm;
}

/* Tokens one GPU sends into the all-to-all: its sequence-parallel share T/t. */
static double tokens_per_gpu(const ls_moe_cost *mc, double T)
{
    return T / mc->d->tp;
}

/* ---- all-to-all backends (a table of handlers found by name) --------------- */

/* DeepEP low latency: one copy per (token, expert) pair, k (ep-1)/ep of them leave the GPU. */
static double ll_copies(const ls_moe_cost *mc)
{
    int ep = mc->d->ep;
    return mc->d->model->top_k * (double)(ep - 1) / ep;
}

/* DeepEP high throughput: one copy per distinct destination rank; each other rank holds one of
 * a token's k experts with probability 1 - (1 - 1/ep)^k (uniform routing). */
static double ht_copies(const ls_moe_cost *mc)
{
    int ep = mc->d->ep;
    return (ep - 1) * (1.0 - pow(1.0 - 1.0 / ep, mc->d->model->top_k));
}

/* Point-to-point phase: NVLink and NIC run in parallel; the busiest rank receives imbalance x the mean. */
static double p2p_phase_s(const ls_moe_cost *mc, double bytes)
{
    double out = mc->on_frac + mc->off_frac;
    double on = bytes * mc->on_frac / out * mc->imbalance, off = bytes * mc->off_frac / out * mc->imbalance;
    double t_on = on > 0 ? on / mc->intra_rate : 0, t_off = off > 0 ? off / mc->inter_rate : 0;
    return mc->a2a_lat_s + (t_on > t_off ? t_on : t_off);
}

/* vLLM's default allgather_reducescatter: every rank gathers every token of the group (and
 * reduce-scatters the sums back), independent of top_k: (ep-1) copies out per token. */
static double ag_copies(const ls_moe_cost *mc)
{
    return mc->d->ep - 1;
}

/* A ring over the group on its slowest link: ep-1 steps. */
static double ring_phase_s(const ls_moe_cost *mc, double bytes)
{
    double rate = mc->off_frac > 0 ? mc->inter_rate : mc->intra_rate;
    return (mc->d->ep - 1) * mc->a2a_lat_s + bytes / rate;
}

static const ls_moe_backend backends[] = {
    {"deepep_ll", ll_copies, p2p_phase_s, false},
    {"deepep_ht", ht_copies, p2p_phase_s, false},
    {"allgather", ag_copies, ring_phase_s, true},
};

const ls_moe_backend *ls_moe_backend_find(const char *name)
{
    for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++)
        if (!strcmp(backends[i].name, name))
            return &backends[i];
    return NULL;
}

const char *ls_moe_backend_names(void)
{
    return "deepep_ll, deepep_ht, allgather";
}

double ls_moe_a2a_bytes(const ls_moe_cost *mc, double T)
{
    if (mc->d->ep <= 1 || T <= 0)
        return 0;
    double out = tokens_per_gpu(mc, T) * mc->backend->out_copies(mc) * mc->d->model->hidden;
    return out * (mc->disp_bytes + ACT_BYTES);
}

double ls_moe_a2a_s(const ls_moe_cost *mc, double T)
{
    if (mc->d->ep <= 1 || T <= 0)
        return 0;
    double elems = tokens_per_gpu(mc, T) * mc->backend->out_copies(mc) * mc->d->model->hidden;
    return mc->backend->phase_s(mc, elems * mc->disp_bytes) + mc->backend->phase_s(mc, elems * ACT_BYTES);
}

void ls_moe_layer(const ls_moe_cost *mc, double T, ls_op_cost *out)
{
    memset(out, 0, sizeof *out);
    const ls_deploy *d = mc->d;
    const ls_model *m = d->model;
    assert(ls_model_is_moe(m));
    if (T <= 0)
        return;
    bool ep = d->ep > 1;
    double k = m->top_k, E = m->experts, h = m->hidden;
    /* Routed experts. Token-expert pairs on this GPU: T k (TP: every rank sees every
     * pair, with a slice of each expert) or T k / t on the average EP rank, times
     * the imbalance on the busiest. The weights read are those of the local experts
     * any of the group's tokens touched, E_loc (1 - (1 - k/E)^T_group) under uniform routing. */
    double pairs = ep ? tokens_per_gpu(mc, T) * k * mc->imbalance : T * k;
    double group_tokens = ep ? T * d->ep / d->tp : T;
    double touched = mc->local_experts * (1.0 - pow(1.0 - k / E, group_tokens));
    if (touched < 1)
        touched = 1;
    double rows = pairs / touched;
    double rf = 2.0 * pairs * mc->expert_params, rb = mc->b_e * mc->expert_params * touched;
    double t_routed = roof(rf, mc->e_peak * ls_cost_matmul_eff(d->gpu, rows), rb, mc->mem_rate);
    /* Shared experts and router: a dense FFN on the replica's T tokens, TP-split. */
    double sf = 2.0 * T * mc->shared_params, sb = mc->b_w * mc->shared_params;
    double t_shared = roof(sf, mc->w_peak * ls_cost_matmul_eff(d->gpu, T), sb, mc->mem_rate);
    /* Permutation: token rows gathered into expert order and scattered back, each a
     * read and a write of k h activations per pair -- of every token of the group when
     * the backend gathers them all (the kernel routes them all, and keeps its own). */
    double perm_pairs = ep && mc->backend->all_tokens ? group_tokens * k : pairs;
    double pb = 4.0 * perm_pairs * h * ACT_BYTES;
    double t_perm = pb / mc->mem_rate;
    out->comm_s = ls_moe_a2a_s(mc, T);
    out->s = t_routed + t_shared + t_perm + d->gpu->moe_overhead_s + out->comm_s;
    out->flops = rf + sf;
    out->bytes = rb + sb + pb;
}
