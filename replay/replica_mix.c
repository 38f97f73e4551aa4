/* replica_mix.c -- heterogeneous replica groups and the length-aware router's
 * settings (replica_mix.h, docs/CONFIG.md, docs/ENGINE.md).
 *
 * Configuration: each group is loaded as a complete run configuration (the
 * document with the group's keys written over it, as a disaggregated pool is:
 * ls_pools_member_tree), then the groups are placed on the cluster in the
 * order given and the replicas built for long prompts are marked.
 *
 * Simulation: the engine runs every replica of every group, each with its own
 * cost model, scheduler settings and PP degree, behind the top-level router;
 * this file's hooks only count what each side served and read each replica's
 * busy time, FLOPs and bytes at the end (per-replica peaks: the groups'
 * replicas differ). */
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "memory.h"
#include "metrics.h"
#include "pools.h"
#include "replica_mix.h"
#include "workload.h"

#define MAX_GROUPS 64

/* ================================================================ router key */

ls_status ls_mix_router_load(ls_run_config *c, const ls_yaml *root, ls_error *e)
{
    static const char *const keys[] = {"policy", "prompt_threshold", NULL};
    char w[300];
    c->router = ls_router_default();
    c->router_prompt_threshold = 0;
    const ls_yaml *rn = ls_yaml_get(root, "router");
    if (!rn)
        return LS_OK;
    const ls_yaml *pn = rn;
    const char *path = "router";
    bool map = rn->kind == LS_YAML_MAP;
    if (map) {
        LS_TRY(ls_yaml_check_keys(rn, "router", keys, e));
        pn = ls_yaml_get(rn, "policy");
        if (!pn)
            return ls_yaml_fail_at(rn, "router", NULL,
                                   "missing key 'policy' (e.g. router: {policy: length-aware, prompt_threshold: 4096})",
                                   e);
        path = "router.policy";
    }
    const char *name;
    LS_TRY(ls_yaml_as_string(pn, path, &name, e));
    c->router = ls_router_find(name);
    if (!c->router) {
        char names[256];
        ls_router_names(names, sizeof names);
        return ls_fail(e, LS_EINVAL, "%s: %s: unknown policy '%s' (expected %s)", ls_yaml_where(pn, w, sizeof w), path,
                       name, names);
    }
    int64_t thr = 0;
    if (map)
        LS_TRY(ls_yaml_get_int(rn, "router", "prompt_threshold", 1, INT32_MAX, &thr, e));
    bool la = ls_router_is_length_aware(c->router);
    if (la && thr == 0)
        return ls_fail(e, LS_EINVAL,
                       "%s: router: length-aware needs a prompt length in tokens that splits the prompts: "
                       "router: {policy: length-aware, prompt_threshold: 4096}",
                       ls_yaml_where(rn, w, sizeof w));
    if (!la && thr > 0)
        return ls_yaml_fail_at(rn, "router", "prompt_threshold",
                               "only the length-aware router takes a prompt threshold", e);
    c->router_prompt_threshold = thr;
    return LS_OK;
}

/* ================================================================ configuration */

static int replica_gpus(const ls_mix_group *g)
{
    return g->cfg->tp * g->cfg->pp;
}

static void deploy_of(const ls_mix_group *g, int replica, ls_deploy *d)
{
    ls_run_deploy(g->cfg, g->first_gpu + replica * replica_gpus(g), d);
}

static ls_status load_group(const ls_run_config *top, const ls_yaml *root, const ls_yaml *gn, int i,
                            const char *base_dir, const ls_catalog *cat, ls_mix_group *out, bool *marked, ls_error *e)
{
    static const char *const keys[] = {"parallelism", "count", "hardware", "scheduler", "long", NULL};
    char path[32], w[300];
    snprintf(path, sizeof path, "replicas[%d]", i);
    if (gn->kind != LS_YAML_MAP)
        return ls_fail(e, LS_EINVAL, "%s: %s: expected a mapping {parallelism, count, hardware, scheduler, long}",
                       ls_yaml_where(gn, w, sizeof w), path);
    LS_TRY(ls_yaml_check_keys(gn, path, keys, e));
    const ls_yaml *sn = ls_yaml_get(gn, "scheduler");
    if (sn && sn->kind != LS_YAML_MAP)
        return ls_fail(e, LS_EINVAL, "%s: %s.scheduler: expected a mapping of scheduler keys",
                       ls_yaml_where(sn, w, sizeof w), path);
    int64_t count = 1;
    LS_TRY(ls_yaml_get_int(gn, path, "count", 1, 4096, &count, e));
    *marked = false;
    LS_TRY(ls_yaml_get_bool(gn, path, "long", marked, e));
    LS_TRY(ls_pools_member_load(top, root, "replicas", gn, path, "a group", "count", (int)count, base_dir, cat,
                                &out->cfg, e));
    out->count = (int)count;
    return LS_OK;
}

/* "1xtp4+4xtp1" */
static void make_label(ls_mix_config *m)
{
    size_t o = 0;
    m->label[0] = '\0';
    for (int i = 0; i < m->n_groups && o < sizeof m->label; i++)
        o += (size_t)snprintf(m->label + o, sizeof m->label - o, "%s%dx%s", i ? "+" : "", m->group[i].count,
                              m->group[i].cfg->parallelism);
}

/* Placement: in the order given, packed; a group of another GPU type starts a new node. */
static ls_status place(const ls_run_config *top, const ls_yaml *rn, ls_mix_config *m, ls_error *e)
{
    const ls_cluster *c = &top->cluster;
    int gpn = c->gpus_per_node > 0 ? c->gpus_per_node : 1;
    int64_t next = 0;
    m->n_replicas = m->n_gpus = 0;
    for (int i = 0; i < m->n_groups; i++) {
        ls_mix_group *g = &m->group[i];
        if (i > 0 && strcmp(g->cfg->gpu.name, m->group[i - 1].cfg->gpu.name))
            next = (next + gpn - 1) / gpn * gpn;
        g->first_gpu = (int)next;
        next += (int64_t)g->count * replica_gpus(g);
        m->n_replicas += g->count;
        m->n_gpus += g->count * replica_gpus(g);
    }
    if (c->max_nodes > 0 && next > (int64_t)c->max_nodes * gpn) {
        char w[300];
        return ls_fail(e, LS_EINVAL, "%s: replicas: %s needs %lld GPUs but cluster %s has %d (%d node%s of %d)",
                       ls_yaml_where(rn, w, sizeof w), m->label, (long long)next, top->cluster_label,
                       c->max_nodes * gpn, c->max_nodes, c->max_nodes == 1 ? "" : "s", gpn);
    }
    return LS_OK;
}

/* Long replicas: the groups marked `long: true`, else those of the largest tp x pp. */
static void mark_long(ls_mix_config *m, const bool *marked)
{
    bool any = false;
    int most = 0;
    for (int i = 0; i < m->n_groups; i++) {
        any |= marked[i];
        if (replica_gpus(&m->group[i]) > most)
            most = replica_gpus(&m->group[i]);
    }
    for (int i = 0; i < m->n_groups; i++)
        m->group[i].is_long = any ? marked[i] : replica_gpus(&m->group[i]) == most;
}

/* The length-aware router needs replicas on both sides of its threshold. */
static ls_status check_router(const ls_run_config *c, const ls_yaml *root, const ls_mix_config *m, ls_error *e)
{
    char w[300];
    const ls_yaml *rn = ls_yaml_get(root, "router");
    const ls_yaml *dr = ls_yaml_get(ls_yaml_get(root, "disaggregation"), "router");
    if (c->pools && dr && ls_router_is_length_aware(c->pools->router)) {
        return ls_fail(e, LS_EINVAL,
                       "%s: disaggregation.router: length-aware splits prompts between replica groups (a replicas: "
                       "list); a decode pool has one kind of instance",
                       ls_yaml_where(dr, w, sizeof w));
    }
    if (!ls_router_is_length_aware(c->router))
        return LS_OK;
    if (!m || m->n_groups < 2)
        return ls_fail(e, LS_EINVAL,
                       "%s: router: length-aware with a prompt threshold needs two replica groups, e.g. replicas: "
                       "[{parallelism: tp4, count: 1}, {parallelism: tp1, count: 4}]; this configuration has %s",
                       ls_yaml_where(rn ? rn : root, w, sizeof w),
                       c->pools ? "disaggregated pools (the router picks a prefill instance)"
                       : m ? "one group" : "one kind of replica");
    int n_long = 0;
    for (int i = 0; i < m->n_groups; i++)
        n_long += m->group[i].is_long;
    if (n_long == m->n_groups)
        return ls_fail(e, LS_EINVAL,
                       "%s: replicas: every group counts as built for long prompts (%s): mark the long one(s) with "
                       "long: true and leave at least one group without",
                       ls_yaml_where(ls_yaml_get(root, "replicas"), w, sizeof w), m->label);
    return LS_OK;
}

ls_status ls_mix_config_load(const ls_run_config *c, const ls_yaml *root, const char *base_dir,
                             const ls_catalog *cat, ls_mix_config **out, ls_error *e)
{
    char w[300];
    *out = NULL;
    const ls_yaml *rn = ls_yaml_get(root, "replicas");
    if (!rn || ls_yaml_is_null(rn))
        return check_router(c, root, NULL, e);
    if (rn->kind != LS_YAML_SEQ || rn->n < 1 || rn->n > MAX_GROUPS)
        return ls_fail(e, LS_EINVAL,
                       "%s: replicas: expected a list of 1 to %d replica groups, e.g. [{parallelism: tp4, count: 1}, "
                       "{parallelism: tp1, count: 4}]",
                       ls_yaml_where(rn, w, sizeof w), MAX_GROUPS);
    const ls_yaml *dg = ls_yaml_get(root, "disaggregation");
    if (c->pools)
        return ls_fail(e, LS_EINVAL, "%s: disaggregation: not modelled together with replicas (at %s)",
                       ls_yaml_where(dg, w, sizeof w), ls_yaml_where(rn, (char[300]){0}, 300));
    if (c->spec.method != LS_SPEC_NONE)
        return ls_fail(e, LS_EINVAL, "%s: speculative: not modelled with mixed replicas (replicas:)",
                       ls_yaml_where(ls_yaml_get(root, "speculative"), w, sizeof w));
    if (c->offload.tier != LS_TIER_NONE || c->offload.weights_bytes > 0) {
        const ls_yaml *on = ls_yaml_get(root, "kv_offload") ? ls_yaml_get(root, "kv_offload")
                                                            : ls_yaml_get(root, "cpu_offload_gb");
        return ls_fail(e, LS_EINVAL, "%s: %s: host offload is not modelled with mixed replicas (replicas:)",
                       ls_yaml_where(on ? on : root, w, sizeof w), ls_yaml_get(root, "kv_offload") ? "kv_offload"
                                                                                          : "cpu_offload_gb");
    }
    ls_mix_config *m = ls_xcalloc(1, sizeof *m);
    m->group = ls_xcalloc(rn->n, sizeof *m->group);
    bool marked[MAX_GROUPS];
    ls_status rc = LS_OK;
    for (size_t i = 0; i < rn->n && !rc; i++) {
        rc = load_group(c, root, rn->vals[i], (int)i, base_dir, cat, &m->group[i], &marked[i], e);
        m->n_groups = (int)i + 1;  /* what is loaded is freed on failure */
    }
    if (!rc) {
        make_label(m);
        rc = place(c, rn, m, e);
    }
    if (!rc) {
        mark_long(m, marked);
        rc = check_router(c, root, m, e);
    }
    if (rc) {
        ls_mix_config_free(m);
        return rc;
    }
    *out = m;
    return LS_OK;
}

void ls_mix_config_free(ls_mix_config *m)
{
    if (!m)
        return;
    for (int i = 0; i < m->n_groups; i++)
        ls_config_free(m->group[i].cfg);
    free(m->group);
    free(m);
}

ls_mix_config *ls_mix_config_clone(const ls_mix_config *m)
{
    if (!m)
        return NULL;
    ls_mix_config *q = ls_xmalloc(sizeof *q);
    *q = *m;
    q->group = ls_xmalloc((size_t)m->n_groups * sizeof *q->group);
    for (int i = 0; i < m->n_groups; i++) {
        q->group[i] = m->group[i];
        q->group[i].cfg = ls_config_clone(m->group[i].cfg);
    }
    return q;
}

void ls_mix_config_row(const ls_run_config *c, ls_config_row *row)
{
    if (c->router_prompt_threshold > 0) {
        memset(row->router, 0, sizeof row->router);
        snprintf(row->router, sizeof row->router, "%.40s>%lld", c->router->name, (long long)c->router_prompt_threshold);
    }
    const ls_mix_config *m = c->mix;
    if (!m)
        return;
    memset(row->parallelism, 0, sizeof row->parallelism);
    snprintf(row->parallelism, sizeof row->parallelism, "%s", m->label);
    /* the distinct GPU types, in order */
    memset(row->hardware, 0, sizeof row->hardware);
    size_t o = 0;
    int tp = 0, pp = 0;
    for (int i = 0; i < m->n_groups; i++) {
        const ls_run_config *g = m->group[i].cfg;
        bool seen = false;
        for (int j = 0; j < i; j++)
            seen |= !strcmp(m->group[j].cfg->gpu.name, g->gpu.name);
        if (!seen && o < sizeof row->hardware)
            o += (size_t)snprintf(row->hardware + o, sizeof row->hardware - o, "%s%s", o ? "/" : "", g->gpu.name);
        if (g->tp > tp)
            tp = g->tp;
        if (g->pp > pp)
            pp = g->pp;
    }
    row->tp = tp;
    row->pp = pp;
    row->dp = m->n_replicas;
    row->n_gpus = m->n_gpus;
}

ls_status ls_mix_memory_fits(const ls_run_config *c, bool *fits, char *why, size_t size, ls_error *e)
{
    const ls_mix_config *m = c->mix;
    assert(m);
    *fits = true;
    snprintf(why, size, "%s", "");
    for (int i = 0; i < m->n_groups && *fits; i++) {
        LS_TRY(ls_config_memory_fits(m->group[i].cfg, fits, why, size, e));
        if (!*fits) {
            char reason[256];
            snprintf(reason, sizeof reason, "%s", why);
            snprintf(why, size, "replicas[%d] (%d x %s): %s", i, m->group[i].count, m->group[i].cfg->parallelism,
                     reason);
        }
    }
    return LS_OK;
}

/* ================================================================ simulation */

typedef struct mix_run {
    int n;
    const bool *is_long;
    int64_t served[2];          /* requests that ended on a short (0) / long (1) replica */
    ls_quantiles ttft[2], tpot[2];  /* per side, completed requests (as the engine counts them) */
    double *busy, *flops, *bytes;
} mix_run;

static bool hook_done(void *ctx, int replica, const ls_req_done *d)
{
    mix_run *mr = ctx;
    assert(replica >= 0 && replica < mr->n);
    int side = mr->is_long[replica];
    mr->served[side]++;
    if (d->status == LS_REQ_COMPLETED) {
        double ttft = d->first_token_s - d->arrival_s;
        ls_quant_add(&mr->ttft[side], ttft);
        if (d->output_tokens > 1)
            ls_quant_add(&mr->tpot[side], (d->finish_s - d->arrival_s - ttft) / (d->output_tokens - 1));
    }
    return false;  /* the engine counts it */
}

static void hook_after_step(void *ctx, ls_engine *g, int replica, double now)
{
    (void)ctx;
    (void)g;
    (void)replica;
    (void)now;
}

static void hook_event(void *ctx, ls_engine *g, int32_t payload, double now)
{
    (void)ctx;
    (void)g;
    (void)payload;
    (void)now;
    assert(!"replica_mix pushes no events");
}

static void hook_finish(void *ctx, ls_engine *g, double now, ls_metrics *m)
{
    mix_run *mr = ctx;
    (void)now;
    (void)m;
    for (int i = 0; i < mr->n; i++)
        ls_engine_replica_work(g, i, &mr->busy[i], &mr->flops[i], &mr->bytes[i]);
}

/* Utilisation and latency per side, and MFU/MBU against each replica's own peak. */
static void mix_metrics(mix_run *mr, ls_cost_model *const *cost, ls_metrics *out)
{
    double sim = out->v[LS_M_SIM_TIME_S];
    double busy[2] = {0, 0}, flops = 0, bytes = 0, pf = 0, pb = 0;
    int n_side[2] = {0, 0};
    for (int i = 0; i < mr->n; i++) {
        busy[mr->is_long[i]] += mr->busy[i];
        n_side[mr->is_long[i]]++;
        flops += mr->flops[i];
        bytes += mr->bytes[i];
        pf += cost[i]->peak_flops * mr->busy[i];
        pb += cost[i]->peak_bw * mr->busy[i];
    }
    out->v[LS_M_MFU_MEAN] = pf > 0 ? flops / pf : NAN;
    out->v[LS_M_MBU_MEAN] = pb > 0 ? bytes / pb : NAN;
    int64_t all = mr->served[0] + mr->served[1];
    out->v[LS_M_MIX_LONG_SHARE] = all ? (double)mr->served[1] / (double)all : NAN;
    out->v[LS_M_MIX_LONG_UTILIZATION] = sim > 0 && n_side[1] ? busy[1] / (n_side[1] * sim) : NAN;
    out->v[LS_M_MIX_SHORT_UTILIZATION] = sim > 0 && n_side[0] ? busy[0] / (n_side[0] * sim) : NAN;
    out->v[LS_M_MIX_LONG_TTFT_P99_S] = ls_quant_percentile(&mr->ttft[1], 99);
    out->v[LS_M_MIX_SHORT_TTFT_P99_S] = ls_quant_percentile(&mr->ttft[0], 99);
    out->v[LS_M_MIX_LONG_TPOT_P99_S] = ls_quant_percentile(&mr->tpot[1], 99);
    out->v[LS_M_MIX_SHORT_TPOT_P99_S] = ls_quant_percentile(&mr->tpot[0], 99);
}

ls_status ls_mix_run(const ls_run_config *c, const ls_run_opts *opts, ls_metrics *out, ls_error *e)
{
    const ls_mix_config *m = c->mix;
    assert(m);
    ls_metrics_init(out);
    out->v[LS_M_N_GPUS] = (double)m->n_gpus;
    int n = m->n_replicas;
    ls_sched_config *scheds = ls_xcalloc((size_t)n, sizeof *scheds);
    int *pps = ls_xcalloc((size_t)n, sizeof *pps);
    bool *is_long = ls_xcalloc((size_t)n, sizeof *is_long);
    ls_cost_model **cost = ls_xcalloc((size_t)n, sizeof *cost);
    mix_run mr;
    memset(&mr, 0, sizeof mr);
    ls_memory_plan tight;  /* the plan of the GPU with the most weights: the memory columns */
    memset(&tight, 0, sizeof tight);
    int first_long = -1;
    ls_status rc = LS_OK;
    for (int gi = 0, base = 0; gi < m->n_groups && !rc; base += m->group[gi].count, gi++) {
        const ls_mix_group *g = &m->group[gi];
        const ls_run_config *gc = g->cfg;
        ls_deploy d;
        deploy_of(g, 0, &d);
        ls_memory_plan plan;
        rc = ls_memory_plan_compute(&d, gc->gpu_memory_utilization, gc->sched.block_size, gc->num_kv_blocks, &plan, e);
        if (rc)
            break;
        if (gi == 0 || plan.weights_bytes_max > tight.weights_bytes_max)
            tight = plan;
        if (!plan.feasible || plan.kv_blocks < 1) {
            out->status = LS_RUN_INFEASIBLE;
            snprintf(out->message, sizeof out->message, "replicas[%d] (%d x %.20s on %.40s): %.150s", gi, g->count,
                     gc->parallelism, gc->gpu.name, !plan.feasible ? plan.reason : "no memory left for the KV cache");
            out->v[LS_M_KV_BLOCKS] = (double)(plan.kv_blocks > 0 ? plan.kv_blocks : 0);
            ls_run_put_memory(&plan, out);
            goto done;
        }
        for (int r = 0; r < g->count && !rc; r++) {
            deploy_of(g, r, &d);
            rc = ls_run_cost_new(gc, &d, base + r, &cost[base + r], e);
        }
        if (rc)
            break;
        ls_sched_config s = gc->sched;
        s.kv_blocks = plan.kv_blocks;
        if (s.budget_auto)
            s.max_batched_tokens = ls_run_auto_budget(gc, cost[base], plan.kv_blocks);
        if (s.max_num_seqs > s.max_batched_tokens)
            s.max_num_seqs = s.max_batched_tokens;  /* every decode must fit the budget */
        for (int r = 0; r < g->count; r++) {
            scheds[base + r] = s;
            pps[base + r] = gc->pp;
            is_long[base + r] = g->is_long;
        }
        if (g->is_long && first_long < 0)
            first_long = base;
    }
    if (rc)
        goto done;
    mr.n = n;
    mr.is_long = is_long;
    mr.busy = ls_xcalloc((size_t)n, sizeof *mr.busy);
    mr.flops = ls_xcalloc((size_t)n, sizeof *mr.flops);
    mr.bytes = ls_xcalloc((size_t)n, sizeof *mr.bytes);
    ls_engine_hooks hooks = {&mr, n, hook_done, hook_after_step, hook_event, hook_finish};
    ls_engine_setup s;
    memset(&s, 0, sizeof s);
    s.cfg = c;
    /* the budget and KV-block columns are those of the (first) long-prompt replica */
    s.sched = scheds[first_long >= 0 ? first_long : 0];
    s.cost = cost;
    s.n_replicas = n;
    s.scheds = scheds;
    s.pps = pps;
    s.hooks = &hooks;
    s.long_replica = is_long;
    rc = ls_run_engine(c, opts, &s, out, e);
    if (!rc) {
        mix_metrics(&mr, cost, out);
        out->v[LS_M_N_GPUS] = (double)m->n_gpus;
        ls_run_put_memory(&tight, out);
    }
done:
    for (int i = 0; i < n; i++)
        ls_cost_free(cost[i]);
    free(cost);
    free(scheds);
    free(pps);
    free(is_long);
    free(mr.busy);
    free(mr.flops);
    free(mr.bytes);
    for (int k = 0; k < 2; k++) {
        ls_quant_free(&mr.ttft[k]);
        ls_quant_free(&mr.tpot[k]);
    }
    return rc;
}
