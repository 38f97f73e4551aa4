/* kvoffload.c -- the host KV tier: configuration, links, and the LRU set (kvoffload.h). */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvcache.h"
#include "kvoffload.h"

/* One-way bandwidth per GPU of each host link, from the specifications:
 * PCIe x16 moves 16 (Gen4) or 32 (Gen5) GT/s per lane with 128b/130b coding,
 * 31.5 / 63 GB/s each way (PCI-SIG; the H100 and A100 data sheets give 64 and
 * 128 GB/s both ways); NVLink-C2C 900 GB/s both ways, 450 each way (NVIDIA
 * GH200 data sheet), below the 512 GB/s of Grace's LPDDR5X. These are line
 * rates: pinned copies reach ~80-90% of them. */
static const struct link {
    const char *name;
    double bw;
    bool grace;  /* reaches Grace memory (else an x86 host's) */
} links[] = {
    {"pcie4", 31.5e9, false},
    {"pcie5", 63.0e9, false},
    {"c2c", 450e9, true},
};
#define N_LINKS ((int)(sizeof links / sizeof links[0]))

bool ls_kvoffload_link(const char *name, double *bw, bool *grace)
{
    for (int i = 0; i < N_LINKS; i++)
        if (!strcmp(name, links[i].name)) {
            *bw = links[i].bw;
            *grace = links[i].grace;
            return true;
        }
    return false;
}

const char *ls_tier_name(ls_tier_kind t)
{
    switch (t) {
    case LS_TIER_NONE: return "none";
    case LS_TIER_CPU: return "cpu";
    case LS_TIER_GRACE: return "grace";
    }
    return "none";
}

/* "FILE:LINE: path.key: what" at map[key] (or map); a top-level key has path "". */
static ls_status fail_key(const ls_yaml *map, const char *path, const char *key, const char *what, ls_error *e)
{
    if (*path)
        return ls_yaml_fail_at(map, path, key, what, e);
    const ls_yaml *n = ls_yaml_get(map, key);
    char w[300];
    return ls_fail(e, LS_EINVAL, "%s: %s: %s", ls_yaml_where(n ? n : map, w, sizeof w), key, what);
}

/* The link named by map[key], checked to reach the GPU's host. */
static ls_status get_link(const ls_yaml *map, const char *path, const char *key, const ls_gpu *gpu, int *li,
                          ls_error *e)
{
    const ls_yaml *l = ls_yaml_get(map, key);
    if (!l)
        return fail_key(map, path, key,
                               gpu->grace_host ? "missing: expected the link to the host: c2c (Grace)"
                                               : "missing: a tier needs the link that reaches it: pcie4 or pcie5 (cpu), c2c (grace)",
                               e);
    char p[64];
    snprintf(p, sizeof p, "%s%s%s", path, *path ? "." : "", key);
    const char *ls;
    LS_TRY(ls_yaml_as_string(l, p, &ls, e));
    *li = -1;
    for (int i = 0; i < N_LINKS; i++)
        if (!strcmp(ls, links[i].name))
            *li = i;
    if (*li < 0)
        return fail_key(map, path, key, "expected pcie4, pcie5 or c2c", e);
    if (links[*li].grace != gpu->grace_host) {
        char msg[200];
        snprintf(msg, sizeof msg, "%s does not reach the %s host of %s (expected %s)", ls,
                 gpu->grace_host ? "Grace" : "x86", gpu->name, gpu->grace_host ? "c2c" : "pcie4 or pcie5");
        return fail_key(map, path, key, msg, e);
    }
    return LS_OK;
}

ls_status ls_kvoffload_parse(const ls_yaml *root, const ls_gpu *gpu, const ls_cluster *cluster, int replica_gpus,
                             bool prefix_caching, int block_size, ls_kvoffload_config *out, ls_error *e)
{
    static const char *const keys[] = {"tier", "capacity_gb", "link", NULL};
    memset(out, 0, sizeof *out);
    char msg[400];
    int per_node = cluster->gpus_per_node > 0 ? cluster->gpus_per_node : 1;
    double have = cluster->host_memory_bytes * (double)replica_gpus / (double)per_node;  /* the replica's share */
    const ls_yaml *wo = ls_yaml_get(root, "cpu_offload_gb");
    if (wo && !ls_yaml_is_null(wo)) {
        double gb = 0;
        LS_TRY(ls_yaml_get_double_in(root, "", "cpu_offload_gb", 0, false, 1e6, "GB of weights per GPU >= 0", &gb,
                                     e));
        if (gb > 0) {
            int li;
            LS_TRY(get_link(root, "", "cpu_offload_link", gpu, &li, e));
            out->weights_bytes = gb * 1e9;
            snprintf(out->weights_link, sizeof out->weights_link, "%s", links[li].name);
            out->weights_link_bw = links[li].bw;
            if (gb * 1e9 * replica_gpus > have) {
                snprintf(msg, sizeof msg,
                         "%g GB per GPU is more than the host memory of the chosen node: %s has %g GB per node of "
                         "%d GPU%s, %g GB per GPU",
                         gb, cluster->name, cluster->host_memory_bytes / 1e9, per_node, per_node == 1 ? "" : "s",
                         cluster->host_memory_bytes / 1e9 / per_node);
                return fail_key(root, "", "cpu_offload_gb", msg, e);
            }
        }
    } else if (ls_yaml_get(root, "cpu_offload_link")) {
        return fail_key(root, "", "cpu_offload_link", "given without cpu_offload_gb", e);
    }
    have -= out->weights_bytes * replica_gpus;
    const ls_yaml *m = ls_yaml_get(root, "kv_offload");
    if (!m || ls_yaml_is_null(m))
        return LS_OK;
    LS_TRY(ls_yaml_check_keys(m, "kv_offload", keys, e));
    const ls_yaml *t = ls_yaml_get(m, "tier"), *cap = ls_yaml_get(m, "capacity_gb");
    if (!t)
        return ls_yaml_fail_at(m, "kv_offload", "tier", "missing: expected cpu or grace", e);
    const char *ts;
    LS_TRY(ls_yaml_as_string(t, "kv_offload.tier", &ts, e));
    if (!strcmp(ts, "cpu"))
        out->tier = LS_TIER_CPU;
    else if (!strcmp(ts, "grace"))
        out->tier = LS_TIER_GRACE;
    else
        return ls_yaml_fail_at(m, "kv_offload", "tier", "expected cpu or grace", e);
    bool grace = out->tier == LS_TIER_GRACE;
    if (grace != gpu->grace_host) {
        snprintf(msg, sizeof msg, "%s has %s host: the tier must be %s", gpu->name,
                 gpu->grace_host ? "a Grace" : "an x86", gpu->grace_host ? "grace" : "cpu");
        return ls_yaml_fail_at(m, "kv_offload", "tier", msg, e);
    }
    int li;
    LS_TRY(get_link(m, "kv_offload", "link", gpu, &li, e));
    snprintf(out->link, sizeof out->link, "%s", links[li].name);
    out->link_bw = links[li].bw;
    if (!cap)
        return ls_yaml_fail_at(m, "kv_offload", "capacity_gb", "missing: expected the tier's size in GB", e);
    double gb = 0;
    LS_TRY(ls_yaml_get_double_in(m, "kv_offload", "capacity_gb", 0, true, 1e7, "a size in GB > 0", &gb, e));
    if (!(cluster->host_memory_bytes > 0)) {
        snprintf(msg, sizeof msg, "cluster %s does not say its host memory (host_memory_gb in the catalog)",
                 cluster->name);
        return ls_yaml_fail_at(m, "kv_offload", "capacity_gb", msg, e);
    }
    if (gb * 1e9 > have) {
        snprintf(msg, sizeof msg,
                 "%g GB is more than the host memory of the chosen node: %s has %g GB per node of %d GPU%s, "
                 "so a replica of %d GPU%s gets %g GB%s",
                 gb, cluster->name, cluster->host_memory_bytes / 1e9, per_node, per_node == 1 ? "" : "s",
                 replica_gpus, replica_gpus == 1 ? "" : "s", have / 1e9,
                 out->weights_bytes > 0 ? " beside the offloaded weights" : "");
        return ls_yaml_fail_at(m, "kv_offload", "capacity_gb", msg, e);
    }
    out->capacity_bytes = gb * 1e9;
    if (!prefix_caching)
        return ls_yaml_fail_at(m, "kv_offload", NULL,
                               "needs scheduler.enable_prefix_caching: true (offloaded blocks are found by their "
                               "prefix hashes)",
                               e);
    if (block_size > LS_PREFIX_HASH_TOKENS || LS_PREFIX_HASH_TOKENS % block_size) {
        snprintf(msg, sizeof msg, "needs a scheduler.block_size that divides %d (an offload block is one hash block)",
                 LS_PREFIX_HASH_TOKENS);
        return ls_yaml_fail_at(m, "kv_offload", NULL, msg, e);
    }
    return LS_OK;
}

/* ---------------------------------------------------------------- the LRU set */

#define NIL (-1)

typedef struct tent {
    uint64_t key;
    int32_t prev, next;  /* LRU list: head = most recent */
} tent;

struct ls_kvtier {
    int64_t cap;
    tent *v;
    int32_t capv;
    int32_t n, head, tail;
    int32_t *tab;        /* open addressing, linear probing: entry index or -1 */
    uint64_t mask;
};

ls_kvtier *ls_kvtier_new(int64_t capacity)
{
    assert(capacity > 0 && capacity < INT32_MAX / 2);
    ls_kvtier *t = ls_xcalloc(1, sizeof *t);
    t->cap = capacity;
    t->head = t->tail = NIL;
    uint64_t size = 64;
    while (size < 2 * (uint64_t)capacity)
        size *= 2;
    t->mask = size - 1;
    t->tab = ls_xmalloc(size * sizeof *t->tab);
    memset(t->tab, 0xff, size * sizeof *t->tab);
    return t;
}

void ls_kvtier_free(ls_kvtier *t)
{
    if (!t)
        return;
    free(t->v);
    free(t->tab);
    free(t);
}

int64_t ls_kvtier_size(const ls_kvtier *t) { return t->n; }

static uint64_t home(const ls_kvtier *t, uint64_t key) { return (key ^ (key >> 29)) & t->mask; }

static uint64_t find_slot(const ls_kvtier *t, uint64_t key)
{
    uint64_t i = home(t, key);
    while (t->tab[i] != NIL && t->v[t->tab[i]].key != key)
        i = (i + 1) & t->mask;
    return i;
}

static void unlink_e(ls_kvtier *t, int32_t x)
{
    tent *p = &t->v[x];
    if (p->prev != NIL)
        t->v[p->prev].next = p->next;
    else
        t->head = p->next;
    if (p->next != NIL)
        t->v[p->next].prev = p->prev;
    else
        t->tail = p->prev;
}

static void push_front(ls_kvtier *t, int32_t x)
{
    t->v[x].prev = NIL;
    t->v[x].next = t->head;
    if (t->head != NIL)
        t->v[t->head].prev = x;
    else
        t->tail = x;
    t->head = x;
}

/* Remove the table slot i (backward shift: no tombstones). */
static void tab_remove(ls_kvtier *t, uint64_t i)
{
    for (uint64_t j = (i + 1) & t->mask;; j = (j + 1) & t->mask) {
        int32_t x = t->tab[j];
        if (x == NIL)
            break;
        uint64_t h = home(t, t->v[x].key);
        if (((j - h) & t->mask) >= ((j - i) & t->mask)) {
            t->tab[i] = x;
            i = j;
        }
    }
    t->tab[i] = NIL;
}

bool ls_kvtier_lookup(ls_kvtier *t, uint64_t key)
{
    int32_t x = t->tab[find_slot(t, key)];
    if (x == NIL)
        return false;
    unlink_e(t, x);
    push_front(t, x);
    return true;
}

bool ls_kvtier_store(ls_kvtier *t, uint64_t key)
{
    uint64_t i = find_slot(t, key);
    if (t->tab[i] != NIL)
        return false;
    int32_t x;
    if (t->n < t->cap) {
        if (t->n == t->capv) {
            t->capv = t->capv ? 2 * t->capv : 1024;
            t->v = ls_xrealloc(t->v, (size_t)t->capv * sizeof *t->v);
        }
        x = t->n++;
    } else {  /* full: the least recently used goes */
        x = t->tail;
        unlink_e(t, x);
        tab_remove(t, find_slot(t, t->v[x].key));
        i = find_slot(t, key);
    }
    t->v[x].key = key;
    t->tab[i] = x;
    push_front(t, x);
    return true;
}
