/* run.c -- ls_run: feasibility, cost models, token budget, then the engine. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "budget.h"
#include "engine.h"
#include "kvcache.h"
#include "lockstep.h"
#include "memory.h"
#include "pools.h"
#include "replica_mix.h"
#include "workload.h"

const char *ls_req_status_name(ls_req_status s)
{
    switch (s) {
    case LS_REQ_COMPLETED: return "completed";
    case LS_REQ_REJECTED_TOO_LONG: return "rejected_too_long";
    case LS_REQ_REJECTED_KV: return "rejected_kv";
    case LS_REQ_TIMEOUT: return "timeout";
    case LS_REQ_UNFINISHED: return "unfinished";
    }
    return "?";
}

static void deploy_of(const ls_run_config *c, int replica, ls_deploy *d)
{
    ls_run_deploy(c, replica * c->tp * c->pp, d);  /* replicas packed onto consecutive GPUs */
}

void ls_run_deploy(const ls_run_config *c, int first_gpu, ls_deploy *d)
{
    memset(d, 0, sizeof *d);
    d->model = &c->model;
    d->gpu = &c->gpu;
    d->cluster = &c->cluster;
    d->tp = c->tp;
    d->pp = c->pp;
    d->w_dtype = c->w_dtype;
    d->kv_dtype = c->kv_dtype;
    d->first_gpu = first_gpu;
    d->ep = c->ep;
    d->has_e_dtype = c->has_e_dtype;
    d->e_dtype = c->e_dtype;
    d->moe_imbalance = c->moe_imbalance;
    d->redundant_experts = c->redundant_experts;
    d->a2a_fp8 = c->a2a_fp8;
    d->moe_backend = c->moe_backend;
    if (c->model.sliding_window > 0) {  /* bounds the sliding layers' KV per token (memory.h) */
        ls_workload_info info;
        memset(&info, 0, sizeof info);
        ls_workload_info_get(c->workload, &info);
        double mp = info.mean_prompt > 0 && isfinite(info.mean_prompt) ? info.mean_prompt : 0;
        double mo = info.mean_output > 0 && isfinite(info.mean_output) ? info.mean_output : 0;
        d->kv_context_hint = mp + mo / 2;
    }
    d->cpu_offload_bytes = c->offload.weights_bytes;
    d->engine = c->engine;
    d->max_batched_tokens = c->sched.budget_auto ? 0 : c->sched.max_batched_tokens; /* auto: profiled at the default */
    d->max_num_seqs = c->sched.max_num_seqs;
    d->async_scheduling = c->sched.async_scheduling;
}

void ls_run_put_memory(const ls_memory_plan *p, ls_metrics *out)
{
    out->v[LS_M_WEIGHTS_GB_PER_GPU] = p->weights_bytes_max / 1e9;
    out->v[LS_M_ACTIVATION_GB_PER_GPU] = p->activation_bytes / 1e9;
    out->v[LS_M_NON_TORCH_GB_PER_GPU] = p->non_torch_bytes / 1e9;
    out->v[LS_M_GRAPHS_GB_PER_GPU] = p->graphs_bytes / 1e9;
    out->v[LS_M_KV_CACHE_GB_PER_GPU] = p->kv_cache_bytes / 1e9;
}

ls_status ls_run_memory_plan(const ls_run_config *c, ls_memory_plan *plan, ls_error *e)
{
    ls_deploy d;
    deploy_of(c, 0, &d);
    return ls_memory_plan_compute(&d, c->gpu_memory_utilization, c->sched.block_size, c->num_kv_blocks, plan, e);
}

/* The `auto` budget's parameters (docs/CONFIG.md): a mixed iteration of one
 * chunk plus the decodes that fit the KV cache at the workload's mean
 * lengths (at most max_num_seqs), at their mean context, under target_tbt_s. */
int64_t ls_run_auto_budget(const ls_run_config *c, const ls_cost_model *cm, int64_t kv_blocks)
{
    ls_workload_info info;
    memset(&info, 0, sizeof info);
    ls_workload_info_get(c->workload, &info);
    double mp = info.mean_prompt > 0 && isfinite(info.mean_prompt) ? info.mean_prompt : 1024;
    double mo = info.mean_output > 0 && isfinite(info.mean_output) ? info.mean_output : 256;
    double per_req = mp + mo;
    double fit = (double)kv_blocks * c->sched.block_size / per_req;
    int64_t batch = (int64_t)fit;
    if (batch > c->sched.max_num_seqs)
        batch = c->sched.max_num_seqs;
    if (batch < 1)
        batch = 1;
    ls_budget_params p;
    p.target_tbt_s = c->target_tbt_s;
    p.decode_batch = batch;
    p.decode_context = (int64_t)(mp + mo / 2);
    p.granule = 256;
    p.min_budget = c->sched.max_num_seqs > 512 ? c->sched.max_num_seqs : 512;
    p.max_budget = 65536;
    if (p.max_budget < p.min_budget)
        p.max_budget = p.min_budget;
    return ls_budget_auto(cm, &p);
}

ls_status ls_run_cost_new(const ls_run_config *c, const ls_deploy *d, int index, ls_cost_model **out, ls_error *e)
{
    if (c->cost_kind == 0)
        return ls_cost_roofline_new(d, out, e);
    if (c->cost_kind == 3)
        return ls_cost_table_new(d, c->cost_table_path, out, e);
    if (c->cost_kind == 4)
        return ls_cost_kernels_new(d, out, e);
    return ls_cost_constant_new(d, c->cost_const_s, c->cost_kind == 2, c->seed + 7919u * (uint64_t)index, out, e);
}

ls_status ls_run_engine(const ls_run_config *c, const ls_run_opts *opts, ls_engine_setup *s, ls_metrics *out,
                        ls_error *e)
{
    ls_source *src = NULL;
    ls_status rc = LS_OK;
    s->opts = opts;
    if (opts && opts->requests)
        src = ls_source_from_array(opts->requests);
    else
        LS_TRY(ls_config_open_workload(c, &src, e));
    s->src = src;
    ls_workload_info info;
    memset(&info, 0, sizeof info);
    ls_workload_info_get(c->workload, &info);
    s->expected_requests = opts && opts->requests ? (double)opts->requests->n : info.expected_requests;
    s->arrival_limit_s = info.duration_s > 0 && isfinite(info.duration_s) ? info.duration_s : INFINITY;
    s->horizon_s = !isnan(c->horizon_s) ? c->horizon_s : s->arrival_limit_s;
    rc = ls_engine_simulate(s, out, e);
    if (!rc && out->v[LS_M_N_REQUESTS] == 0) {
        /* Nothing arrived (a header-only trace, a window past its end, a
         * duration before the first arrival): every metric would be NaN
         * under status ok, which a sweep would then rank. */
        char window[64] = "";
        if (isfinite(s->arrival_limit_s))
            snprintf(window, sizeof window, ", arrivals up to %g s", s->arrival_limit_s);
        rc = ls_fail(e, LS_EINVAL, "workload has no requests (%s%s%s): nothing to simulate",
                     opts && opts->requests ? "pre-read stream of " : "", info.source, window);
    }
    ls_source_free(src);
    return rc;
}

void ls_run_set_error(ls_metrics *out, const ls_error *e)
{
    out->status = LS_RUN_ERROR;
    const char *msg = e ? e->msg : "error";
    size_t n = strlen(msg);
    if (n >= sizeof out->message)
        n = sizeof out->message - 1;
    memcpy(out->message, msg, n);
    out->message[n] = '\0';
}

ls_status ls_config_memory_fits(const ls_run_config *c, bool *fits, char *why, size_t size, ls_error *e)
{
    if (c->mix)
        return ls_mix_memory_fits(c, fits, why, size, e);
    ls_deploy d;
    deploy_of(c, 0, &d);
    ls_memory_plan plan;
    LS_TRY(ls_memory_plan_compute(&d, c->gpu_memory_utilization, c->sched.block_size, c->num_kv_blocks, &plan, e));
    *fits = plan.feasible && plan.kv_blocks >= 1;
    snprintf(why, size, "%s", *fits ? "" : !plan.feasible ? plan.reason : "no memory left for the KV cache");
    return LS_OK;
}

ls_status ls_run(const ls_run_config *c, const ls_run_opts *opts, ls_metrics *out, ls_error *e)
{
    if (c->pools || c->mix) {
        ls_status prc = c->pools ? ls_pools_run(c, opts, out, e) : ls_mix_run(c, opts, out, e);
        if (prc)
            ls_run_set_error(out, e);
        return prc;
    }
    ls_metrics_init(out);
    out->v[LS_M_N_GPUS] = (double)c->tp * c->pp * c->dp;
    ls_memory_plan plan;
    LS_TRY(ls_run_memory_plan(c, &plan, e));
    ls_run_put_memory(&plan, out);
    if (!plan.feasible || plan.kv_blocks < 1) {
        out->status = LS_RUN_INFEASIBLE;
        snprintf(out->message, sizeof out->message, "%s",
                 !plan.feasible ? plan.reason : "no memory left for the KV cache");
        out->v[LS_M_KV_BLOCKS] = (double)(plan.kv_blocks > 0 ? plan.kv_blocks : 0);
        return LS_OK;
    }
    ls_cost_model **cost = ls_xcalloc((size_t)c->dp, sizeof *cost);
    ls_status rc = LS_OK;
    for (int i = 0; i < c->dp && !rc; i++) {
        ls_deploy di;
        deploy_of(c, i, &di);
        rc = ls_run_cost_new(c, &di, i, &cost[i], e);
        if (!rc && c->spec.method != LS_SPEC_NONE) {
            ls_cost_model *target = cost[i];
            rc = ls_spec_cost_new(&c->spec, &di, target, &cost[i], e);
            if (rc) {
                ls_cost_free(target);
                cost[i] = NULL;
            }
        }
    }
    if (rc)
        goto done;
    ls_engine_setup s;
    memset(&s, 0, sizeof s);
    s.cfg = c;
    s.sched = c->sched;
    s.sched.kv_blocks = plan.kv_blocks;
    if (c->spec.method != LS_SPEC_NONE && !plan.kv_blocks_from_user) {
        /* the proposer's weights and KV come out of the target's KV memory */
        ls_deploy d;
        deploy_of(c, 0, &d);
        s.sched.kv_blocks = ls_spec_kv_blocks(&c->spec, &d, plan.kv_bytes_per_token_gpu, plan.block_size, plan.kv_blocks);
        if (s.sched.kv_blocks < 1) {
            out->status = LS_RUN_INFEASIBLE;
            snprintf(out->message, sizeof out->message, "no memory left for the KV cache beside the %s proposer",
                     ls_spec_method_name(c->spec.method));
            out->v[LS_M_KV_BLOCKS] = 0;
            goto done;
        }
    }
    if (c->sched.budget_auto)
        s.sched.max_batched_tokens = ls_run_auto_budget(c, cost[0], s.sched.kv_blocks);
    int64_t per_decode = 1 + s.sched.spec_tokens;  /* a speculative decode holds 1 + k slots */
    if (s.sched.max_num_seqs * per_decode > s.sched.max_batched_tokens)
        s.sched.max_num_seqs = s.sched.max_batched_tokens / per_decode;  /* every decode must fit the budget */
    if (s.sched.max_num_seqs < 1)
        s.sched.max_num_seqs = 1;
    if (c->ep > c->tp) {
        /* DP attention + EP: the replicas of an EP group step together (lockstep.h) */
        s.lockstep = c->ep / c->tp;
        s.lockstep_pad_max = ls_lockstep_capture_max(s.sched.max_num_seqs, s.sched.spec_tokens,
                                                     s.sched.max_batched_tokens);
    }
    if (c->offload.tier != LS_TIER_NONE) {
        /* every GPU of the replica holds its share of a block and copies it over its own link */
        double block_gpu = plan.kv_bytes_per_token_gpu * c->sched.block_size;
        double entry = block_gpu * c->tp * c->pp * (LS_PREFIX_HASH_TOKENS / c->sched.block_size);
        s.sched.offload_entries = (int64_t)(c->offload.capacity_bytes / entry);
        s.offload_s_per_block = block_gpu / c->offload.link_bw;
    }
    if (c->swap.mode == LS_PREEMPT_SWAP) {
        /* vLLM V0: num_cpu_blocks = swap_space_bytes // cache_block_size, one GPU's bytes of a block;
         * every GPU of the replica copies its share over its own link */
        double block_gpu = plan.kv_bytes_per_token_gpu * c->sched.block_size;
        s.sched.swap_blocks = (int64_t)(c->swap.space_bytes / block_gpu);
        s.swap_s_per_block = block_gpu / c->swap.link_bw;
        s.swap_block_bytes = block_gpu * c->tp * c->pp;
    }
    if (c->offload.weights_bytes > 0) {
        /* UVA: the offloaded weights are read over the link on every forward pass (the most loaded stage) */
        ls_deploy full;
        deploy_of(c, 0, &full);
        full.cpu_offload_bytes = 0;
        ls_memory_plan whole;
        rc = ls_memory_plan_compute(&full, c->gpu_memory_utilization, c->sched.block_size, 0, &whole, e);
        if (rc)
            goto done;
        double moved = whole.weights_bytes_max - plan.weights_bytes_max;
        s.weight_stream_s = moved / c->offload.weights_link_bw;
    }
    s.cost = cost;
    rc = ls_run_engine(c, opts, &s, out, e);
    if (!rc) {
        out->v[LS_M_N_GPUS] = (double)c->tp * c->pp * c->dp;
        ls_run_put_memory(&plan, out);
    }
done:
    for (int i = 0; i < c->dp; i++)
        ls_cost_free(cost[i]);
    free(cost);
    if (rc)
        ls_run_set_error(out, e);
    return rc;
}
