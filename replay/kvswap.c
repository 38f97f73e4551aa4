/* kvswap.c -- preemption by swap: its configuration and the host swap space (kvswap.h). */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvswap.h"

const char *ls_preempt_mode_name(ls_preempt_mode m)
{
    return m == LS_PREEMPT_SWAP ? "swap" : "recompute";
}

ls_status ls_kvswap_parse(const ls_yaml *sch, const char *policy_name, bool v0, const ls_gpu *gpu,
                          const ls_cluster *cluster, int replica_gpus, const ls_kvoffload_config *off,
                          ls_kvswap_config *out, ls_error *e)
{
    memset(out, 0, sizeof *out);
    const ls_yaml *pm = sch ? ls_yaml_get(sch, "preemption_mode") : NULL;
    const ls_yaml *sp = sch ? ls_yaml_get(sch, "swap_space_gb") : NULL;
    const ls_yaml *sl = sch ? ls_yaml_get(sch, "swap_link") : NULL;
    char msg[400];
    if (pm) {
        const char *s;
        LS_TRY(ls_yaml_as_string(pm, "scheduler.preemption_mode", &s, e));
        if (!strcmp(s, "swap"))
            out->mode = LS_PREEMPT_SWAP;
        else if (strcmp(s, "recompute"))
            return ls_yaml_fail_at(sch, "scheduler", "preemption_mode", "expected recompute or swap", e);
    }
    if (out->mode == LS_PREEMPT_RECOMPUTE) {
        if (sp || sl)
            return ls_yaml_fail_at(sch, "scheduler", sp ? "swap_space_gb" : "swap_link",
                                   "given without scheduler.preemption_mode: swap", e);
        return LS_OK;
    }
    if (!v0) {
        snprintf(msg, sizeof msg,
                 "swap needs scheduler.policy vllm-v0 (got %s): vLLM V1 preempts by recompute only%s", policy_name,
                 off->tier != LS_TIER_NONE
                     ? "; with kv_offload a preempted request's prompt blocks already come back from the host tier "
                       "as prefix hits"
                     : "");
        return ls_yaml_fail_at(sch, "scheduler", "preemption_mode", msg, e);
    }
    if (!sp)
        return ls_yaml_fail_at(sch, "scheduler", "preemption_mode",
                               "swap needs scheduler.swap_space_gb: the host swap space per GPU in GB (vLLM V0's "
                               "--swap-space)",
                               e);
    double gb;
    LS_TRY(ls_yaml_as_double(sp, "scheduler.swap_space_gb", &gb, e));
    if (!(gb > 0) || gb > 1e6)
        return ls_yaml_fail_at(sch, "scheduler", "swap_space_gb", "expected GB per GPU > 0", e);
    if (!sl) {
        snprintf(msg, sizeof msg, "swap needs scheduler.swap_link: the link from %s to its host (expected %s)",
                 gpu->name, gpu->grace_host ? "c2c" : "pcie4 or pcie5");
        return ls_yaml_fail_at(sch, "scheduler", "preemption_mode", msg, e);
    }
    const char *ln;
    bool grace;
    LS_TRY(ls_yaml_as_string(sl, "scheduler.swap_link", &ln, e));
    if (!ls_kvoffload_link(ln, &out->link_bw, &grace))
        return ls_yaml_fail_at(sch, "scheduler", "swap_link", "expected pcie4, pcie5 or c2c", e);
    if (grace != gpu->grace_host) {
        snprintf(msg, sizeof msg, "%s does not reach the %s host of %s (expected %s)", ln,
                 gpu->grace_host ? "Grace" : "x86", gpu->name, gpu->grace_host ? "c2c" : "pcie4 or pcie5");
        return ls_yaml_fail_at(sch, "scheduler", "swap_link", msg, e);
    }
    snprintf(out->link, sizeof out->link, "%s", ln);
    if (!(cluster->host_memory_bytes > 0)) {
        snprintf(msg, sizeof msg, "cluster %s does not say its host memory (host_memory_gb in the catalog)",
                 cluster->name);
        return ls_yaml_fail_at(sch, "scheduler", "swap_space_gb", msg, e);
    }
    int per_node = cluster->gpus_per_node > 0 ? cluster->gpus_per_node : 1;
    double have = cluster->host_memory_bytes * (double)replica_gpus / (double)per_node -
                  off->weights_bytes * replica_gpus - off->capacity_bytes;
    if (gb * 1e9 * replica_gpus > have) {
        snprintf(msg, sizeof msg,
                 "%g GB per GPU is more than the host memory of the chosen node: %s has %g GB per node of %d GPU%s, "
                 "so a replica of %d GPU%s gets %g GB%s",
                 gb, cluster->name, cluster->host_memory_bytes / 1e9, per_node, per_node == 1 ? "" : "s",
                 replica_gpus, replica_gpus == 1 ? "" : "s", have / 1e9,
                 off->weights_bytes > 0 || off->tier != LS_TIER_NONE ? " beside the CPU offload" : "");
        return ls_yaml_fail_at(sch, "scheduler", "swap_space_gb", msg, e);
    }
    out->space_bytes = gb * 1e9;
    return LS_OK;
}

/* ---------------------------------------------------------------- the swap space */

struct ls_kvswap {
    int64_t cap, used, count;
    int64_t *held;       /* per slot */
    int32_t nheld;
    int64_t pend_out, pend_in;
    ls_kvswap_stats st;
};

ls_kvswap *ls_kvswap_new(int64_t capacity)
{
    assert(capacity >= 0);
    ls_kvswap *s = ls_xcalloc(1, sizeof *s);
    s->cap = capacity;
    return s;
}

void ls_kvswap_free(ls_kvswap *s)
{
    if (!s)
        return;
    free(s->held);
    free(s);
}

bool ls_kvswap_out(ls_kvswap *s, int32_t slot, int64_t blocks)
{
    assert(slot >= 0 && blocks > 0);
    if (s->used + blocks > s->cap) {
        s->st.fallbacks++;  /* vLLM V0 aborts the engine here ("lack of CPU swap space"); we recompute */
        return false;
    }
    if (slot >= s->nheld) {
        int32_t n = s->nheld ? s->nheld : 64;
        while (n <= slot)
            n *= 2;
        s->held = ls_xrealloc(s->held, (size_t)n * sizeof *s->held);
        memset(s->held + s->nheld, 0, (size_t)(n - s->nheld) * sizeof *s->held);
        s->nheld = n;
    }
    assert(s->held[slot] == 0);
    s->held[slot] = blocks;
    s->used += blocks;
    s->count++;
    s->pend_out += blocks;
    s->st.outs++;
    s->st.blocks_out += blocks;
    return true;
}

int64_t ls_kvswap_held(const ls_kvswap *s, int32_t slot)
{
    return slot >= 0 && slot < s->nheld ? s->held[slot] : 0;
}

void ls_kvswap_in(ls_kvswap *s, int32_t slot)
{
    int64_t b = ls_kvswap_held(s, slot);
    assert(b > 0);
    s->held[slot] = 0;
    s->used -= b;
    s->count--;
    s->pend_in += b;
    s->st.ins++;
    s->st.blocks_in += b;
}

int64_t ls_kvswap_count(const ls_kvswap *s)
{
    return s->count;
}

void ls_kvswap_transfers(ls_kvswap *s, int64_t *out_blocks, int64_t *in_blocks)
{
    *out_blocks = s->pend_out;
    *in_blocks = s->pend_in;
    s->pend_out = s->pend_in = 0;
}

void ls_kvswap_get_stats(const ls_kvswap *s, ls_kvswap_stats *out)
{
    *out = s->st;
}
