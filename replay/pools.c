/* pools.c -- disaggregated prefill/decode serving (pools.h, docs/ENGINE.md).
 *
 * Configuration: each pool is loaded as a complete run configuration (the
 * document with the pool's keys written over it), so its hardware,
 * parallelism and scheduler get every check of the aggregated path; then the
 * pools are placed on the cluster (prefill first, decode after it, on a new
 * node when the GPU types differ) and the link is checked.
 *
 * Simulation: the engine (engine.c) runs the replicas of both pools, prefill
 * replicas first; this file's hooks move each request from one to the other:
 *
 *   prefill done (first token) -> handoff: hold the prefill blocks (delayed
 *   free), pick a decode replica, queue for its KV space (FIFO) -> reserve
 *   the decode blocks, occupy the prefill replica's send link and the decode
 *   replica's receive link (each a FIFO resource; or share them, kvshare.h)
 *   for the wire time (staged through the hosts: the sum of the hops) -> KV
 *   arrived: free the prefill blocks, the decode replica admits the request.
 *
 * A request on a decode replica carries the index of its handoff record as
 * its id, so its final report is rewritten with the real id and the timing
 * of both sides without any lookup. */
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "kvoffload.h"
#include "kvshare.h"
#include "memory.h"
#include "metrics.h"
#include "pools.h"
#include "workload.h"

static const char *const role_name[2] = {"prefill", "decode"};

/* ================================================================ configuration */

static const char *const dis_keys[] = {"prefill", "decode", "kv_transfer", "router", NULL};
static const char *const pool_keys[] = {"replicas", "parallelism", "hardware", "cluster", "scheduler", NULL};
static const char *const xfer_keys[] = {"link", "bandwidth_gbps", "latency_us", "mode", "host_link", "sharing", NULL};

/* kv_transfer.link names (index i means link_of[i]), mode and sharing names (in enum order) */
static const char *const link_names[] = {"auto", "nvlink", "network", "infiniband", "roce", "host", NULL};
static const ls_kv_link link_of[] = {LS_KV_LINK_AUTO,    LS_KV_LINK_NVLINK,
                                     LS_KV_LINK_NETWORK, LS_KV_LINK_NETWORK,
                                     LS_KV_LINK_NETWORK, LS_KV_LINK_HOST};
static const char *const mode_names[] = {"after_prefill", "layerwise", NULL};
static const char *const sharing_names[] = {"fifo", "fair", NULL};

static void deploy_of(const ls_pool *pl, int replica, ls_deploy *d)
{
    ls_run_deploy(pl->cfg, pl->first_gpu + replica * pl->cfg->tp * pl->cfg->pp, d);
}

static int replica_gpus(const ls_pool *pl)
{
    return pl->cfg->tp * pl->cfg->pp;
}

ls_yaml *ls_pools_member_tree(const ls_yaml *root, const char *drop, const ls_yaml *pn)
{
    ls_yaml *t = ls_yaml_clone(root);
    ls_yaml_map_remove(t, drop);
    /* the requests are the top level's (load_pool copies them in): a
     * one-request placeholder spares reading a trace again per pool */
    ls_yaml *wl = NULL;
    ls_error ignore;
    static const char placeholder[] =
        "{arrival: {process: constant, rate: 1}, prompt_tokens: {dist: fixed, value: 1}, "
        "output_tokens: {dist: fixed, value: 1}, max_requests: 1}";
    if (ls_yaml_load_string(placeholder, sizeof placeholder - 1, "<pool>", &wl, &ignore) == LS_OK)
        ls_yaml_map_set(t, "workload", wl);
    static const char *const copy[] = {"parallelism", "hardware", "cluster"};
    for (int k = 0; k < 3; k++) {
        const ls_yaml *v = ls_yaml_get(pn, copy[k]);
        if (v)
            ls_yaml_map_set(t, copy[k], ls_yaml_clone(v));
    }
    const ls_yaml *ps = ls_yaml_get(pn, "scheduler");
    if (ps) {
        const ls_yaml *rs = ls_yaml_get(t, "scheduler");
        ls_yaml *s = rs && rs->kind == LS_YAML_MAP ? ls_yaml_clone(rs) : ls_yaml_new_map();
        for (size_t i = 0; i < ps->n; i++)
            ls_yaml_map_set(s, ps->keys[i], ls_yaml_clone(ps->vals[i]));
        ls_yaml_map_set(t, "scheduler", s);
    }
    return t;
}

ls_status ls_pools_member_load(const ls_run_config *top, const ls_yaml *root, const char *drop, const ls_yaml *member,
                               const char *path, const char *noun, const char *count_key, int count,
                               const char *base_dir, const ls_catalog *cat, ls_run_config **out, ls_error *e)
{
    char w[300];
    ls_yaml *t = ls_pools_member_tree(root, drop, member);
    ls_yaml_map_remove(t, "router");  /* the top level routes: a member is only its replicas */
    ls_run_config *mc = NULL;
    ls_status rc = ls_config_load(t, base_dir, cat, &mc, e);
    ls_yaml_free(t);
    if (rc)
        return ls_error_prefix(e, "%s", path);
    *out = mc;
    /* the top level's requests: the mean lengths that size the auto budget and sliding-window KV */
    ls_workload_free(mc->workload);
    mc->workload = ls_workload_clone(top->workload);
    if (mc->dp != 1) {
        const ls_yaml *par = ls_yaml_get(member, "parallelism") ? ls_yaml_get(member, "parallelism") : member;
        return ls_fail(e, LS_EINVAL, "%s: %s.parallelism: %s has dp %d: %s's data parallelism is its '%s'",
                       ls_yaml_where(par, w, sizeof w), path, mc->parallelism, mc->dp, noun, count_key);
    }
    mc->dp = count;
    return LS_OK;
}

static ls_status load_pool(const ls_run_config *top, const ls_yaml *root, const ls_yaml *dis, int role,
                           const char *base_dir, const ls_catalog *cat, ls_pool *out, ls_error *e)
{
    char path[64], w[300];
    snprintf(path, sizeof path, "disaggregation.%s", role_name[role]);
    const ls_yaml *pn = ls_yaml_get(dis, role_name[role]);
    if (!pn)
        return ls_yaml_fail_at(dis, "disaggregation", role_name[role],
                               role == LS_ROLE_PREFILL
                                   ? "missing key 'prefill' (a mapping: replicas, parallelism, hardware, scheduler)"
                                   : "missing key 'decode' (a mapping: replicas, parallelism, hardware, scheduler)",
                               e);
    LS_TRY(ls_yaml_check_keys(pn, path, pool_keys, e));
    const ls_yaml *ps = ls_yaml_get(pn, "scheduler");
    if (ps && ps->kind != LS_YAML_MAP)
        return ls_fail(e, LS_EINVAL, "%s: %s.scheduler: expected a mapping of scheduler keys",
                       ls_yaml_where(ps, w, sizeof w), path);
    int64_t replicas = 1;
    char expected[64];
    snprintf(expected, sizeof expected, "1 to 4096 %s instances", role_name[role]);
    LS_TRY(ls_yaml_get_int_in(pn, path, "replicas", 1, 4096, expected, &replicas, e));
    LS_TRY(ls_pools_member_load(top, root, "disaggregation", pn, path, "a pool", "replicas", (int)replicas, base_dir,
                                cat, &out->cfg, e));
    ls_run_config *pc = out->cfg;
    out->replicas = (int)replicas;
    /* weights that do not fit are an error here (aggregated: an infeasible result),
     * because the pool's hardware and parallelism are the user's explicit choice */
    ls_deploy d;
    deploy_of(out, 0, &d);
    ls_memory_plan plan;
    LS_TRY(ls_memory_plan_compute(&d, pc->gpu_memory_utilization, pc->sched.block_size, pc->num_kv_blocks, &plan, e));
    if (!plan.feasible || plan.kv_blocks < 1)
        return ls_fail(e, LS_EINVAL, "%s: %s: %s %s on %s: %s", ls_yaml_where(pn, w, sizeof w), path, pc->model.name,
                       pc->parallelism, pc->gpu.name, !plan.feasible ? plan.reason : "no memory left for the KV cache");
    out->kv_bytes_per_token_gpu = plan.kv_bytes_per_token_gpu;
    return LS_OK;
}

static int node_of(const ls_cluster *c, int gpu)
{
    return c->gpus_per_node > 0 ? gpu / c->gpus_per_node : 0;
}

/* Prefill replica i and decode replica j within one node? */
static bool same_node(const ls_pools_config *p, int i, int j)
{
    if (p->split)
        return false;
    const ls_pool *a = &p->pool[LS_ROLE_PREFILL], *b = &p->pool[LS_ROLE_DECODE];
    const ls_cluster *c = &a->cfg->cluster;
    int a0 = a->first_gpu + i * replica_gpus(a), b0 = b->first_gpu + j * replica_gpus(b);
    int n = node_of(c, a0);
    return node_of(c, a0 + replica_gpus(a) - 1) == n && node_of(c, b0) == n && node_of(c, b0 + replica_gpus(b) - 1) == n;
}

/* The network between the pools: the prefill cluster's, or between two clusters the slower end's. */
static void network(const ls_pools_config *p, double *bw, double *lat)
{
    const ls_cluster *a = &p->pool[LS_ROLE_PREFILL].cfg->cluster, *b = &p->pool[LS_ROLE_DECODE].cfg->cluster;
    *bw = a->inter_bw;
    *lat = a->inter_lat_s;
    if (p->split) {
        *bw = b->inter_bw < *bw ? b->inter_bw : *bw;
        *lat = b->inter_lat_s > *lat ? b->inter_lat_s : *lat;
    }
}

void ls_pools_link(const ls_pools_config *p, int i, int j, double *bandwidth, double *latency_s)
{
    const ls_cluster *c = &p->pool[LS_ROLE_PREFILL].cfg->cluster;
    double net_bw, net_lat;
    network(p, &net_bw, &net_lat);
    if (p->link == LS_KV_LINK_HOST) {
        /* GPU -> host, [host -> host], host -> GPU, one after another; the host links' latency is not modelled */
        double inv = 1.0 / p->host_bw[LS_ROLE_PREFILL] + 1.0 / p->host_bw[LS_ROLE_DECODE], lat = 0;
        if (!same_node(p, i, j)) {
            inv += 1.0 / (!isnan(p->bandwidth) ? p->bandwidth : net_bw);
            lat = !isnan(p->latency_s) ? p->latency_s : net_lat;
        }
        *bandwidth = 1.0 / inv;
        *latency_s = lat;
        return;
    }
    bool nv = p->link == LS_KV_LINK_NVLINK || (p->link == LS_KV_LINK_AUTO && c->intra_bw > 0 && same_node(p, i, j));
    *bandwidth = !isnan(p->bandwidth) ? p->bandwidth : nv ? c->intra_bw : net_bw;
    *latency_s = !isnan(p->latency_s) ? p->latency_s : nv ? c->intra_lat_s : net_lat;
}

/* The bytes each GPU moves: whole blocks (the partial last one too) of the larger per-GPU shard. */
static double transfer_bytes(const ls_pools_config *p, int64_t prompt)
{
    const ls_pool *a = &p->pool[LS_ROLE_PREFILL], *b = &p->pool[LS_ROLE_DECODE];
    int64_t bs = a->cfg->sched.block_size;
    double tokens = (double)((prompt + bs - 1) / bs * bs);
    double per_gpu = a->kv_bytes_per_token_gpu > b->kv_bytes_per_token_gpu ? a->kv_bytes_per_token_gpu
                                                                           : b->kv_bytes_per_token_gpu;
    return tokens * per_gpu;
}

double ls_pools_transfer_s(const ls_pools_config *p, int i, int j, int64_t prompt)
{
    double bw, lat;
    ls_pools_link(p, i, j, &bw, &lat);
    assert(bw > 0);
    return lat + transfer_bytes(p, prompt) / bw;
}

double ls_pools_transfer_end(const ls_pools_config *p, int i, int j, int64_t prompt, double first_sched, double now,
                             double link_free)
{
    double wire = ls_pools_transfer_s(p, i, j, prompt);
    if (p->mode == LS_KV_AFTER_PREFILL)
        return (now > link_free ? now : link_free) + wire;
    double bw, lat;
    ls_pools_link(p, i, j, &bw, &lat);
    int layers = p->pool[LS_ROLE_PREFILL].cfg->model.layers;
    double start = first_sched > link_free ? first_sched : link_free;
    double last = now + lat + (wire - lat) / layers;  /* the last layer's share of the bytes */
    return last > start + wire ? last : start + wire;
}

/* The GPU-host link of each side for host staging: `host_link` (pcie4, pcie5)
 * for an x86 host, NVLink-C2C for a Grace one (GH200). */
static ls_status load_host_links(ls_pools_config *p, const ls_yaml *kt, const ls_yaml *at, ls_error *e)
{
    char w[300];
    const char *path = "disaggregation.kv_transfer";
    const ls_yaml *hn = kt ? ls_yaml_get(kt, "host_link") : NULL;
    const char *given = NULL;
    double bw = 0;  /* of the given link (the sides' own are set below) */
    bool grace = false;
    if (hn) {
        LS_TRY(ls_yaml_get_string(kt, path, "host_link", &given, e));
        if (!ls_kvoffload_link(given, &bw, &grace)) {
            char what[128];
            snprintf(what, sizeof what, "unknown link '%s' (expected pcie4, pcie5 or c2c)", given);
            return ls_yaml_fail_at(kt, path, "host_link", what, e);
        }
        if (p->link != LS_KV_LINK_HOST)
            return ls_fail(e, LS_EINVAL, "%s: %s.host_link: only with link: host (staging through host memory)",
                           ls_yaml_where(hn, w, sizeof w), path);
    }
    if (p->link != LS_KV_LINK_HOST)
        return LS_OK;
    /* host_link names the x86 sides' PCIe link; a Grace side always uses NVLink-C2C */
    bool any_x86 = false;
    for (int r = 0; r < 2; r++) {
        const ls_gpu *g = &p->pool[r].cfg->gpu;
        any_x86 |= !g->grace_host;
        if (!g->grace_host && !given)
            return ls_fail(e, LS_EINVAL, "%s: %s.host_link: missing: the %s pool's %s has an x86 host: pcie4 or pcie5",
                           ls_yaml_where(at, w, sizeof w), path, role_name[r], g->name);
        if (!g->grace_host && grace)
            return ls_fail(e, LS_EINVAL, "%s: %s.host_link: %s does not reach the x86 host of the %s pool's %s "
                           "(expected pcie4 or pcie5)",
                           ls_yaml_where(hn, w, sizeof w), path, given, role_name[r], g->name);
        const char *name = g->grace_host ? "c2c" : given;
        bool gr, ok = ls_kvoffload_link(name, &p->host_bw[r], &gr);
        assert(ok);
        (void)ok;
        snprintf(p->host_link[r], sizeof p->host_link[r], "%s", name);
    }
    if (given && !grace && !any_x86)
        return ls_fail(e, LS_EINVAL, "%s: %s.host_link: %s does not reach the Grace hosts of %s (NVLink-C2C: c2c)",
                       ls_yaml_where(hn, w, sizeof w), path, given, p->pool[0].cfg->gpu.name);
    if (p->mode == LS_KV_LAYERWISE)
        return ls_fail(e, LS_EINVAL, "%s: %s.mode: layerwise pushes GPU to GPU (P2pNcclConnector): not with link: host",
                       ls_yaml_where(at, w, sizeof w), path);
    return LS_OK;
}

static ls_status load_transfer(ls_pools_config *p, const ls_yaml *dis, ls_error *e)
{
    char w[300];
    const char *path = "disaggregation.kv_transfer";
    p->link = LS_KV_LINK_AUTO;
    p->mode = LS_KV_AFTER_PREFILL;
    p->sharing = LS_KV_FIFO;
    p->bandwidth = p->latency_s = NAN;
    p->host_bw[0] = p->host_bw[1] = 0;
    p->host_link[0][0] = p->host_link[1][0] = '\0';
    const ls_yaml *kt = ls_yaml_get(dis, "kv_transfer");
    const ls_yaml *ln = NULL;
    if (kt) {
        LS_TRY(ls_yaml_check_keys(kt, path, xfer_keys, e));
        ln = ls_yaml_get(kt, "link");
        int k = -1, mode = (int)p->mode, sharing = (int)p->sharing;
        LS_TRY(ls_yaml_get_choice(kt, path, "link", link_names, "link",
                                  "auto, nvlink, network (also: infiniband, roce) or host", &k, e));
        if (k >= 0)
            p->link = link_of[k];
        LS_TRY(ls_yaml_get_choice(kt, path, "mode", mode_names, "mode",
                                  "after_prefill (NixlConnector) or layerwise (P2pNcclConnector)", &mode, e));
        p->mode = (ls_kv_mode)mode;
        LS_TRY(ls_yaml_get_choice(kt, path, "sharing", sharing_names, "rule",
                                  "fifo (one transfer at a time per link) or fair (concurrent transfers share the "
                                  "bandwidth)",
                                  &sharing, e));
        p->sharing = (ls_kv_sharing)sharing;
        if (p->sharing == LS_KV_FAIR && p->mode == LS_KV_LAYERWISE)
            return ls_yaml_fail_at(kt, path, "sharing", "fair is modelled for transfers after the prefill, not layerwise",
                                   e);
        double v = NAN;
        LS_TRY(ls_yaml_get_double_in(kt, path, "bandwidth_gbps", 0, true, INFINITY, "a number > 0 (GB/s per GPU)", &v,
                                     e));
        if (!isnan(v))
            p->bandwidth = v * 1e9;
        v = NAN;
        LS_TRY(ls_yaml_get_double_in(kt, path, "latency_us", 0, false, INFINITY, NULL, &v, e));
        if (!isnan(v))
            p->latency_s = v * 1e-6;
    }
    /* the link must exist between every pair of instances */
    const ls_pool *a = &p->pool[LS_ROLE_PREFILL], *b = &p->pool[LS_ROLE_DECODE];
    const ls_cluster *c = &a->cfg->cluster;
    const ls_yaml *at = ln ? ln : kt ? kt : dis;
    LS_TRY(load_host_links(p, kt, at, e));
    double net_bw, net_lat;
    network(p, &net_bw, &net_lat);
    if (p->link == LS_KV_LINK_NVLINK && p->split)
        return ls_fail(e, LS_EINVAL, "%s: %s.link: nvlink: the pools sit in different clusters (%s, %s): use network "
                       "or auto",
                       ls_yaml_where(at, w, sizeof w), path, a->cfg->cluster_label, b->cfg->cluster_label);
    if (p->split && isnan(p->bandwidth) && !(net_bw > 0))
        return ls_fail(e, LS_EINVAL, "%s: %s: the pools sit in different clusters but %s has no network (inter_gbps 0)",
                       ls_yaml_where(at, w, sizeof w), path,
                       a->cfg->cluster.inter_bw > 0 ? b->cfg->cluster_label : a->cfg->cluster_label);
    if (p->link == LS_KV_LINK_NVLINK && !(c->intra_bw > 0) && isnan(p->bandwidth))
        return ls_fail(e, LS_EINVAL, "%s: %s.link: nvlink: cluster %s has no NVLink between its GPUs (intra_gbps 0)",
                       ls_yaml_where(at, w, sizeof w), path, a->cfg->cluster_label);
    if (p->link == LS_KV_LINK_NVLINK) {
        for (int i = 0; i < a->replicas; i++)
            for (int j = 0; j < b->replicas; j++)
                if (!same_node(p, i, j)) {
                    int a0 = a->first_gpu + i * replica_gpus(a), b0 = b->first_gpu + j * replica_gpus(b);
                    return ls_fail(e, LS_EINVAL,
                                   "%s: %s.link: nvlink: prefill replica %d (GPUs %d-%d) and decode replica %d "
                                   "(GPUs %d-%d) are not in one node of cluster %s (%d GPUs per node%s): use "
                                   "network or auto",
                                   ls_yaml_where(at, w, sizeof w), path, i, a0, a0 + replica_gpus(a) - 1, j, b0,
                                   b0 + replica_gpus(b) - 1, a->cfg->cluster_label, c->gpus_per_node,
                                   strcmp(a->cfg->gpu.name, b->cfg->gpu.name) ? "; pools of different GPUs sit on different nodes" : "");
                }
    }
    if (!p->split && p->link == LS_KV_LINK_NETWORK && (c->max_nodes == 1 || !(c->inter_bw > 0)))
        return ls_fail(e, LS_EINVAL, "%s: %s.link: network: cluster %s has no network between nodes (%s)",
                       ls_yaml_where(at, w, sizeof w), path, a->cfg->cluster_label,
                       c->max_nodes == 1 ? "max_nodes 1" : "inter_gbps 0");
    if ((p->link == LS_KV_LINK_AUTO || p->link == LS_KV_LINK_HOST) && isnan(p->bandwidth) && !(c->inter_bw > 0))
        for (int i = 0; i < a->replicas; i++)
            for (int j = 0; j < b->replicas; j++)
                if (!same_node(p, i, j))
                    return ls_fail(e, LS_EINVAL, "%s: %s: prefill replica %d and decode replica %d sit on different "
                                   "nodes but cluster %s has no network between nodes (inter_gbps 0)",
                                   ls_yaml_where(at, w, sizeof w), path, i, j, a->cfg->cluster_label);
    return LS_OK;
}

ls_status ls_pools_config_load(const ls_run_config *top, const ls_yaml *root, const ls_yaml *node,
                               const char *base_dir, const ls_catalog *cat, ls_pools_config **out, ls_error *e)
{
    char w[300];
    *out = NULL;
    if (node->kind != LS_YAML_MAP)
        return ls_fail(e, LS_EINVAL, "%s: disaggregation: expected a mapping with prefill, decode, kv_transfer, router",
                       ls_yaml_where(node, w, sizeof w));
    LS_TRY(ls_yaml_check_keys(node, "disaggregation", dis_keys, e));
    ls_pools_config *p = ls_xcalloc(1, sizeof *p);
    ls_status rc = LS_OK;
    for (int r = 0; r < 2 && !rc; r++)
        rc = load_pool(top, root, node, r, base_dir, cat, &p->pool[r], e);
    if (rc)
        goto fail;
    /* placement: prefill from GPU 0, decode right after, on a node of its own when the GPU types differ;
     * pools with clusters of their own each from GPU 0 of theirs */
    ls_pool *a = &p->pool[LS_ROLE_PREFILL], *b = &p->pool[LS_ROLE_DECODE];
    p->split = strcmp(a->cfg->cluster_label, b->cfg->cluster_label) != 0;
    if (p->split) {
        for (int r = 0; r < 2 && !rc; r++) {
            const ls_pool *pl = &p->pool[r];
            const ls_cluster *cr = &pl->cfg->cluster;
            int g = cr->gpus_per_node > 0 ? cr->gpus_per_node : 1, need = pl->replicas * replica_gpus(pl);
            if (cr->max_nodes > 0 && (int64_t)need > (int64_t)cr->max_nodes * g)
                rc = ls_fail(e, LS_EINVAL, "%s: disaggregation.%s: %d x %s needs %d GPUs but cluster %s has %d",
                             ls_yaml_where(ls_yaml_get(node, role_name[r]), w, sizeof w), role_name[r], pl->replicas,
                             pl->cfg->parallelism, need, pl->cfg->cluster_label, cr->max_nodes * g);
        }
        if (rc)
            goto fail;
    } else {
        const ls_cluster *c = &a->cfg->cluster;
        int gpn = c->gpus_per_node > 0 ? c->gpus_per_node : 1;
        int na = a->replicas * replica_gpus(a), nb = b->replicas * replica_gpus(b);
        bool hetero = strcmp(a->cfg->gpu.name, b->cfg->gpu.name) != 0;
        a->first_gpu = 0;
        b->first_gpu = hetero ? (na + gpn - 1) / gpn * gpn : na;
        if (c->max_nodes > 0 && (int64_t)b->first_gpu + nb > (int64_t)c->max_nodes * gpn) {
            rc = ls_fail(e, LS_EINVAL,
                         "%s: disaggregation: the pools need %d GPUs (prefill %d x %s, decode %d x %s%s) but cluster %s "
                         "has %d (%d node%s of %d)",
                         ls_yaml_where(node, w, sizeof w), b->first_gpu + nb, a->replicas, a->cfg->parallelism, b->replicas,
                         b->cfg->parallelism, hetero ? ", on separate nodes: different GPUs" : "", a->cfg->cluster_label,
                         c->max_nodes * gpn, c->max_nodes, c->max_nodes == 1 ? "" : "s", gpn);
            goto fail;
        }
    }
    rc = load_transfer(p, node, e);
    if (rc)
        goto fail;
    p->router = top->router;
    const char *name = NULL;
    rc = ls_yaml_get_string(node, "disaggregation", "router", &name, e);
    if (rc)
        goto fail;
    if (name) {
        p->router = ls_router_find(name);
        if (!p->router) {
            char names[256], what[400];
            ls_router_names(names, sizeof names);
            snprintf(what, sizeof what, "unknown policy '%s' (expected %s)", name, names);
            rc = ls_yaml_fail_at(node, "disaggregation", "router", what, e);
            goto fail;
        }
    }
    snprintf(p->label, sizeof p->label, "%dP-%.20s+%dD-%.20s", a->replicas, a->cfg->parallelism, b->replicas,
             b->cfg->parallelism);
    *out = p;
    return LS_OK;
fail:
    ls_pools_config_free(p);
    return rc;
}

void ls_pools_config_free(ls_pools_config *p)
{
    if (!p)
        return;
    for (int r = 0; r < 2; r++)
        ls_config_free(p->pool[r].cfg);
    free(p);
}

ls_pools_config *ls_pools_config_clone(const ls_pools_config *p)
{
    if (!p)
        return NULL;
    ls_pools_config *q = ls_xmalloc(sizeof *q);
    *q = *p;
    for (int r = 0; r < 2; r++)
        q->pool[r].cfg = ls_config_clone(p->pool[r].cfg);
    return q;
}

void ls_pools_config_row(const ls_pools_config *p, ls_config_row *row)
{
    const ls_run_config *a = p->pool[LS_ROLE_PREFILL].cfg, *b = p->pool[LS_ROLE_DECODE].cfg;
    snprintf(row->parallelism, sizeof row->parallelism, "%s", p->label);
    if (p->split)
        snprintf(row->cluster, sizeof row->cluster, "%.31s/%.31s", a->cluster_label, b->cluster_label);
    if (strcmp(a->gpu.name, b->gpu.name))
        snprintf(row->hardware, sizeof row->hardware, "%.31s/%.31s", a->gpu.name, b->gpu.name);
    else
        snprintf(row->hardware, sizeof row->hardware, "%s", a->gpu.name);
    row->tp = a->tp;
    row->pp = a->pp;
    row->dp = p->pool[0].replicas + p->pool[1].replicas;
    row->n_gpus = (int64_t)p->pool[0].replicas * a->tp * a->pp + (int64_t)p->pool[1].replicas * b->tp * b->pp;
}

/* ================================================================ simulation */

enum { XF_FREE = 0, XF_QUEUED, XF_WIRE, XF_DECODE };

typedef struct xfer {
    ls_req_done d;        /* the prefill instance's report (finish_s: the handoff) */
    int p, j;             /* prefill replica (engine index), decode replica (pool index) */
    int64_t p_blocks, d_blocks;
    double t_start, t_kv; /* on the wire from, KV on the decode replica at */
    int32_t next;         /* decode replica's queue, or the free list */
    int32_t stage;
} xfer;

typedef struct pools_run {
    const ls_pools_config *pc;
    ls_engine *g;
    int np, nd;
    xfer *x;
    int32_t nx, capx, free_head;
    int32_t *pend;        /* handoffs reported during the current completion */
    int64_t npend, cappend;
    int32_t *qhead, *qtail;
    int64_t *q_blocks, *bound;  /* per decode replica: queued blocks; requests queued or on the wire */
    double *send_free, *recv_free;
    ls_kvshare *share;    /* sharing: fair (NULL: FIFO links) */
    double tick_at;       /* the earliest pending "bytes done" event of `share` (INFINITY: none) */
    ls_router_state rs;
    ls_quantiles kv_transfer, prefill_ttft, decode_first;  /* bounded memory (metrics.h) */
    double wire_sum;
    int64_t n_wire;
    /* saved at the end of the simulation */
    double *busy, *flops, *bytes;
    double d_area, d_blocks, d_max;
} pools_run;

static int32_t xfer_new(pools_run *pr)
{
    int32_t i;
    if (pr->free_head >= 0) {
        i = pr->free_head;
        pr->free_head = pr->x[i].next;
    } else {
        if (pr->nx == pr->capx) {
            pr->capx = pr->capx ? pr->capx * 2 : 64;
            pr->x = ls_xrealloc(pr->x, (size_t)pr->capx * sizeof *pr->x);
        }
        i = pr->nx++;
    }
    memset(&pr->x[i], 0, sizeof pr->x[i]);
    pr->x[i].next = -1;
    return i;
}

static void xfer_free(pools_run *pr, int32_t i)
{
    pr->x[i].stage = XF_FREE;
    pr->x[i].next = pr->free_head;
    pr->free_head = i;
}

static int64_t ceil_blocks(int64_t tokens, int bs)
{
    return (tokens + bs - 1) / bs;
}

static const ls_sched_config *sched_of(const pools_run *pr, int role)
{
    return &pr->pc->pool[role].cfg->sched;
}

/* The decode router's view: outstanding and KV load count what is bound for the replica. */
static int64_t view_outstanding(void *ctx, int j)
{
    pools_run *pr = ctx;
    return ls_replica_outstanding(ls_engine_replica(pr->g, pr->np + j)) + pr->bound[j];
}

static int64_t view_kv_load(void *ctx, int j)
{
    pools_run *pr = ctx;
    return ls_replica_used_blocks(ls_engine_replica(pr->g, pr->np + j)) + pr->q_blocks[j];
}

/* A request that never reaches a decode replica: counted with the prefill side's times. */
static void drop(pools_run *pr, int32_t i, int replica, ls_req_status st)
{
    ls_req_done r = pr->x[i].d;
    r.status = st;
    r.generated = 0;  /* the prefill instance's token is not the client's (the decode side samples it again) */
    r.first_token_s = r.finish_s = NAN;
    ls_engine_report(pr->g, replica, &r);
    xfer_free(pr, i);
}

/* Fair sharing: hand the transfers whose bytes are done by `now` to their
 * arrival events (after the latency), then make sure an event comes when the
 * next one's bytes are done at the new rates. */
static void share_tick(pools_run *pr, double now)
{
    int32_t id;
    double arrive;
    while (ls_kvshare_pop(pr->share, now, &id, &arrive))
        ls_engine_push(pr->g, arrive, id);
    double next = ls_kvshare_next(pr->share);
    if (next < pr->tick_at) {
        ls_engine_push(pr->g, next, -1);
        pr->tick_at = next;
    }
}

/* Start every queued transfer whose decode-side KV blocks can be reserved, in order. */
static void pump(pools_run *pr, int j, double now)
{
    ls_replica *dr = ls_engine_replica(pr->g, pr->np + j);
    /* as in vLLM, whose scheduler allocates for remote KV in its waiting
     * loop behind the preempted requests: they get the freed blocks first */
    if (ls_replica_waiting_preempted(dr) > 0)
        return;
    while (pr->qhead[j] >= 0) {
        int32_t i = pr->qhead[j];
        xfer *x = &pr->x[i];
        if (!ls_replica_kv_reserve(dr, x->d_blocks, now))
            break;  /* first come, first served */
        pr->qhead[j] = x->next;
        if (pr->qhead[j] < 0)
            pr->qtail[j] = -1;
        x->next = -1;
        pr->q_blocks[j] -= x->d_blocks;
        if (pr->share) {
            double bw, lat;
            ls_pools_link(pr->pc, x->p, j, &bw, &lat);
            ls_kvshare_add(pr->share, i, x->p, j, transfer_bytes(pr->pc, x->d.prompt_tokens), bw, lat, now);
            x->t_start = now;
            x->stage = XF_WIRE;
            share_tick(pr, now);
            continue;
        }
        double link_free = pr->send_free[x->p] > pr->recv_free[j] ? pr->send_free[x->p] : pr->recv_free[j];
        double end = ls_pools_transfer_end(pr->pc, x->p, j, x->d.prompt_tokens, x->d.first_scheduled_s, now, link_free);
        pr->send_free[x->p] = pr->recv_free[j] = end;
        x->t_start = now > link_free ? now : link_free;  /* layer-wise: only the part after this shows */
        x->stage = XF_WIRE;
        ls_engine_push(pr->g, end, i);
    }
}

/* A handed-off request brings its KV: no prefix of it is looked up on the decode side. */
static int64_t view_no_prefix(void *ctx, int i, const ls_request *req)
{
    (void)ctx;
    (void)i;
    (void)req;
    return 0;
}

static void handoff(pools_run *pr, int32_t i, double now)
{
    xfer *x = &pr->x[i];
    const ls_sched_config *ps = sched_of(pr, LS_ROLE_PREFILL), *ds = sched_of(pr, LS_ROLE_DECODE);
    int32_t prompt = x->d.prompt_tokens;
    /* delayed free: the prefill blocks stay until the decode side has read them */
    x->p_blocks = ceil_blocks(prompt, ps->block_size);
    bool held = ls_replica_kv_reserve(ls_engine_replica(pr->g, x->p), x->p_blocks, now);
    assert(held);  /* they were released by this completion */
    (void)held;
    ls_router_view v = {pr->nd, pr, view_outstanding, view_kv_load, view_no_prefix, NULL, 0};  /* one kind of decode instance */
    ls_request req = {.arrival_ns = (int64_t)llround(x->d.arrival_s * 1e9), .prompt_tokens = prompt,
                      .output_tokens = x->d.requested_output};
    int j = pr->pc->router->pick(&pr->rs, &v, &req);
    assert(j >= 0 && j < pr->nd);
    x->j = j;
    int64_t room = ds->max_model_len - prompt, tgt = x->d.requested_output < 1 ? 1 : x->d.requested_output;
    if (tgt > room)
        tgt = room;
    ls_replica *dr = ls_engine_replica(pr->g, pr->np + j);
    ls_req_status st = LS_REQ_COMPLETED;
    if (prompt >= ds->max_model_len)
        st = LS_REQ_REJECTED_TOO_LONG;
    else if (ceil_blocks((int64_t)prompt + tgt - 1, ds->block_size) > ls_replica_total_blocks(dr))
        st = LS_REQ_REJECTED_KV;  /* it could never run alone on the decode side */
    if (st != LS_REQ_COMPLETED) {
        ls_replica_kv_unreserve(ls_engine_replica(pr->g, x->p), x->p_blocks, now);
        drop(pr, i, pr->np + j, st);
        return;
    }
    x->d_blocks = ceil_blocks(prompt, ds->block_size);
    x->stage = XF_QUEUED;
    if (pr->qtail[j] >= 0)
        pr->x[pr->qtail[j]].next = i;
    else
        pr->qhead[j] = i;
    pr->qtail[j] = i;
    pr->q_blocks[j] += x->d_blocks;
    pr->bound[j]++;
    pump(pr, j, now);
}

static bool hook_done(void *ctx, int replica, const ls_req_done *d)
{
    pools_run *pr = ctx;
    if (replica < pr->np) {
        if (d->status != LS_REQ_COMPLETED)
            return false;  /* rejected or unfinished on the prefill side: counted as it is */
        int32_t i = xfer_new(pr);
        pr->x[i].d = *d;
        pr->x[i].p = replica;
        if (pr->npend == pr->cappend) {
            pr->cappend = pr->cappend ? pr->cappend * 2 : 16;
            pr->pend = ls_xrealloc(pr->pend, (size_t)pr->cappend * sizeof *pr->pend);
        }
        pr->pend[pr->npend++] = i;
        return true;
    }
    /* decode side: the id is the handoff record */
    assert(d->id >= 0 && d->id < pr->nx && pr->x[d->id].stage == XF_DECODE);
    xfer *x = &pr->x[d->id];
    ls_req_done r = *d;
    r.id = x->d.id;
    r.first_scheduled_s = x->d.first_scheduled_s;
    if (d->status == LS_REQ_COMPLETED) {
        ls_quant_add(&pr->kv_transfer, x->t_kv - x->d.finish_s);
        ls_quant_add(&pr->prefill_ttft, x->d.first_token_s - x->d.arrival_s);
        ls_quant_add(&pr->decode_first, d->first_token_s - x->t_kv);
    }
    ls_engine_report(pr->g, replica, &r);
    xfer_free(pr, (int32_t)d->id);
    return true;
}

static void hook_after_step(void *ctx, ls_engine *g, int replica, double now)
{
    pools_run *pr = ctx;
    pr->g = g;
    for (int64_t k = 0; k < pr->npend; k++)
        handoff(pr, pr->pend[k], now);
    pr->npend = 0;
    if (replica >= pr->np)
        pump(pr, replica - pr->np, now);  /* decode blocks may have been freed */
}

static void hook_event(void *ctx, ls_engine *g, int32_t i, double now)
{
    pools_run *pr = ctx;
    pr->g = g;
    if (i < 0) {  /* fair sharing: some transfer's bytes may be done */
        if (now == pr->tick_at)
            pr->tick_at = INFINITY;
        share_tick(pr, now);
        return;
    }
    xfer *x = &pr->x[i];
    assert(x->stage == XF_WIRE);
    x->stage = XF_DECODE;
    x->t_kv = now;
    pr->wire_sum += now - x->t_start;
    pr->n_wire++;
    pr->bound[x->j]--;
    ls_replica_kv_unreserve(ls_engine_replica(g, x->p), x->p_blocks, now);
    ls_replica_add_prefilled(ls_engine_replica(g, pr->np + x->j), i, x->d.prompt_tokens, x->d.requested_output,
                             x->d.arrival_s, x->d.first_scheduled_s, x->d_blocks, now);
    ls_engine_kick(g, pr->np + x->j, now);
    ls_engine_kick(g, x->p, now);  /* its held blocks are free again */
}

static void hook_finish(void *ctx, ls_engine *g, double now, ls_metrics *m)
{
    pools_run *pr = ctx;
    (void)m;
    pr->g = g;
    for (int32_t i = 0; i < pr->nx; i++)
        if (pr->x[i].stage == XF_QUEUED || pr->x[i].stage == XF_WIRE)
            drop(pr, i, pr->np + pr->x[i].j, LS_REQ_UNFINISHED);
    for (int i = 0; i < pr->np + pr->nd; i++)
        ls_engine_replica_work(g, i, &pr->busy[i], &pr->flops[i], &pr->bytes[i]);
    for (int j = 0; j < pr->nd; j++) {
        ls_replica *dr = ls_engine_replica(g, pr->np + j);
        double nb = (double)ls_replica_total_blocks(dr);
        pr->d_area += ls_replica_kv_area(dr, now);
        pr->d_blocks += nb;
        if (nb > 0 && (double)ls_replica_kv_max(dr) / nb > pr->d_max)
            pr->d_max = (double)ls_replica_kv_max(dr) / nb;
    }
}

static void role_metrics(pools_run *pr, ls_cost_model *const *cost, ls_metrics *m)
{
    double sim = m->v[LS_M_SIM_TIME_S];
    double busy[2] = {0, 0}, flops = 0, bytes = 0, pf = 0, pb = 0;
    for (int i = 0; i < pr->np + pr->nd; i++) {
        busy[i >= pr->np] += pr->busy[i];
        flops += pr->flops[i];
        bytes += pr->bytes[i];
        pf += cost[i]->peak_flops * pr->busy[i];
        pb += cost[i]->peak_bw * pr->busy[i];
    }
    m->v[LS_M_PREFILL_UTILIZATION] = sim > 0 ? busy[0] / (pr->np * sim) : NAN;
    m->v[LS_M_DECODE_UTILIZATION] = sim > 0 ? busy[1] / (pr->nd * sim) : NAN;
    m->v[LS_M_MFU_MEAN] = pf > 0 ? flops / pf : NAN;  /* per replica peak: the pools may differ */
    m->v[LS_M_MBU_MEAN] = pb > 0 ? bytes / pb : NAN;
    static const double q[4] = {50, 90, 95, 99};
    m->v[LS_M_KV_TRANSFER_MEAN_S] = ls_quant_mean(&pr->kv_transfer);
    ls_quant_percentiles(&pr->kv_transfer, q, 4, &m->v[LS_M_KV_TRANSFER_P50_S]);
    m->v[LS_M_KV_WIRE_MEAN_S] = pr->n_wire ? pr->wire_sum / (double)pr->n_wire : NAN;
    m->v[LS_M_PREFILL_TTFT_MEAN_S] = ls_quant_mean(&pr->prefill_ttft);
    m->v[LS_M_DECODE_FIRST_TOKEN_MEAN_S] = ls_quant_mean(&pr->decode_first);
    m->v[LS_M_DECODE_KV_USAGE_MEAN] = sim > 0 && pr->d_blocks > 0 ? pr->d_area / (pr->d_blocks * sim) : NAN;
    m->v[LS_M_DECODE_KV_USAGE_MAX] = pr->d_blocks > 0 ? pr->d_max : NAN;
}

ls_status ls_pools_run(const ls_run_config *c, const ls_run_opts *opts, ls_metrics *out, ls_error *e)
{
    const ls_pools_config *pc = c->pools;
    ls_metrics_init(out);
    int np = pc->pool[0].replicas, nd = pc->pool[1].replicas, n = np + nd;
    ls_sched_config *scheds = ls_xcalloc((size_t)n, sizeof *scheds);
    int *pps = ls_xcalloc((size_t)n, sizeof *pps);
    ls_cost_model **cost = ls_xcalloc((size_t)n, sizeof *cost);
    pools_run pr;
    memset(&pr, 0, sizeof pr);
    ls_status rc = LS_OK;
    double weights = 0, gpus = 0;
    int64_t d_blocks = 0;
    for (int role = 0, base = 0; role < 2 && !rc; base += pc->pool[role].replicas, role++) {
        const ls_pool *pl = &pc->pool[role];
        ls_deploy d;
        deploy_of(pl, 0, &d);
        ls_memory_plan plan;
        rc = ls_memory_plan_compute(&d, pl->cfg->gpu_memory_utilization, pl->cfg->sched.block_size,
                                    pl->cfg->num_kv_blocks, &plan, e);
        if (rc)
            break;
        assert(plan.feasible && plan.kv_blocks >= 1);  /* checked at load */
        if (plan.weights_bytes_max > weights)
            weights = plan.weights_bytes_max;
        gpus += (double)pl->replicas * replica_gpus(pl);
        if (role == LS_ROLE_DECODE)
            d_blocks = plan.kv_blocks;
        for (int r = 0; r < pl->replicas && !rc; r++) {
            deploy_of(pl, r, &d);
            rc = ls_run_cost_new(pl->cfg, &d, base + r, &cost[base + r], e);
        }
        if (rc)
            break;
        ls_sched_config s = pl->cfg->sched;
        s.kv_blocks = plan.kv_blocks;
        if (s.budget_auto)
            s.max_batched_tokens = ls_run_auto_budget(pl->cfg, cost[base], plan.kv_blocks);
        if (s.max_num_seqs > s.max_batched_tokens)
            s.max_num_seqs = s.max_batched_tokens;
        s.prefill_only = role == LS_ROLE_PREFILL;
        for (int r = 0; r < pl->replicas; r++) {
            scheds[base + r] = s;
            pps[base + r] = pl->cfg->pp;
        }
    }
    if (rc)
        goto done;
    pr.pc = pc;
    pr.np = np;
    pr.nd = nd;
    pr.free_head = -1;
    pr.qhead = ls_xmalloc((size_t)nd * sizeof *pr.qhead);
    pr.qtail = ls_xmalloc((size_t)nd * sizeof *pr.qtail);
    for (int j = 0; j < nd; j++)
        pr.qhead[j] = pr.qtail[j] = -1;
    pr.q_blocks = ls_xcalloc((size_t)nd, sizeof *pr.q_blocks);
    pr.bound = ls_xcalloc((size_t)nd, sizeof *pr.bound);
    pr.send_free = ls_xcalloc((size_t)np, sizeof *pr.send_free);
    pr.recv_free = ls_xcalloc((size_t)nd, sizeof *pr.recv_free);
    pr.share = pc->sharing == LS_KV_FAIR ? ls_kvshare_new(np, nd) : NULL;
    pr.tick_at = INFINITY;
    pr.busy = ls_xcalloc((size_t)n, sizeof *pr.busy);
    pr.flops = ls_xcalloc((size_t)n, sizeof *pr.flops);
    pr.bytes = ls_xcalloc((size_t)n, sizeof *pr.bytes);
    ls_engine_hooks hooks = {&pr, np, hook_done, hook_after_step, hook_event, hook_finish};
    ls_engine_setup s;
    memset(&s, 0, sizeof s);
    s.cfg = c;
    s.sched = scheds[0];
    s.cost = cost;
    s.n_replicas = n;
    s.scheds = scheds;
    s.pps = pps;
    s.hooks = &hooks;
    rc = ls_run_engine(c, opts, &s, out, e);
    if (!rc) {
        role_metrics(&pr, cost, out);
        out->v[LS_M_N_GPUS] = gpus;
        out->v[LS_M_WEIGHTS_GB_PER_GPU] = weights / 1e9;
        out->v[LS_M_KV_BLOCKS] = (double)d_blocks;  /* the decode side's, where the KV stays */
    }
done:
    for (int i = 0; i < n; i++)
        ls_cost_free(cost[i]);
    free(cost);
    free(scheds);
    free(pps);
    free(pr.x);
    free(pr.pend);
    free(pr.qhead);
    free(pr.qtail);
    free(pr.q_blocks);
    free(pr.bound);
    free(pr.send_free);
    free(pr.recv_free);
    ls_kvshare_free(pr.share);
    free(pr.busy);
    free(pr.flops);
    free(pr.bytes);
    ls_quant_free(&pr.kv_transfer);
    ls_quant_free(&pr.prefill_ttft);
    ls_quant_free(&pr.decode_first);
    return rc;
}
