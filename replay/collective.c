/* collective.c -- tensor-parallel all-reduce: measured tables, vLLM's custom all-reduce, NCCL rings.
 *
 * vLLM's rules (vllm/distributed/device_communicators/custom_all_reduce.py, csrc/custom_all_reduce.cuh;
 * read from the vLLM source, not from the brief): the custom all-reduce is used for inputs below
 * max_size (8 MiB) when the world size is 2, 4, 6 or 8 and every pair of GPUs has P2P over NVLink, or
 * over PCIe when there are only 2 GPUs; it runs one stage (every rank reads every peer's buffer) for
 * 2 GPUs, or up to 4 GPUs below 512 KiB, or up to 8 below 256 KiB, and two stages (reduce-scatter then
 * all-gather over P2P) otherwise. Larger messages and groups across nodes go to NCCL (a ring).
 *
 * Engines whose profile says custom_allreduce = false (TensorRT-LLM: its own kernels, no measured
 * table here) use NCCL rings with the cluster's fitted alpha (intra_lat_us, fitted on TensorRT-LLM runs).
 *
 * The measured tables (collective_data.c) already hold vLLM's own choice at every size, so a cluster
 * that names one uses it for the GPU counts it has; the analytic algorithms cover the rest. The
 * custom start-up (custom_lat_us, default 4.5 us) is the small-message floor of those tables on
 * H100/H200 NVLink (4.2-4.7 us at 2-8 GPUs); their bandwidth slope gives 290-340 GB/s, i.e. 0.65-0.75
 * of the 450 GB/s link, which allreduce_eff (0.82 on dgx-h100) slightly overstates.
 */
#include <assert.h>
#include <math.h>
#include <string.h>

#include "collective.h"
#include "engine_profile.h"

#define CUSTOM_MAX_BYTES (8.0 * 1048576)

bool ls_collective_table_known(const char *system)
{
    for (int i = 0; i < ls_allreduce_n_tables; i++)
        if (!strcmp(ls_allreduce_tables[i].system, system))
            return true;
    return false;
}

static const ls_allreduce_table *find_table(const char *system, int t)
{
    if (!system || !system[0])
        return NULL;
    for (int i = 0; i < ls_allreduce_n_tables; i++)
        if (!strcmp(ls_allreduce_tables[i].system, system) && ls_allreduce_tables[i].n_gpus == t)
            return &ls_allreduce_tables[i];
    return NULL;
}

static int node_of(const ls_deploy *d, int gpu)
{
    return gpu / d->cluster->gpus_per_node;
}

void ls_collective_link(const ls_deploy *d, int s, ls_ar_link *l)
{
    const ls_cluster *c = d->cluster;
    memset(l, 0, sizeof *l);
    l->t = d->tp;
    int g0 = d->first_gpu + s * d->tp, g1 = g0 + d->tp - 1;
    bool net = node_of(d, g0) != node_of(d, g1);
    l->alpha_s = net ? c->inter_lat_s : c->intra_lat_s;
    l->bw = (net ? c->inter_bw : c->intra_bw) * c->allreduce_eff;
    l->custom_alpha_s = c->custom_lat_s;
    const ls_engine_profile *eng = d->engine ? d->engine : ls_engine_profile_default();
    if (net || d->tp <= 1 || !eng->custom_allreduce)
        return;
    bool sizes = d->tp == 2 || d->tp == 4 || d->tp == 6 || d->tp == 8;
    bool p2p = c->intra_link == LS_LINK_NVLINK || (c->intra_link == LS_LINK_PCIE && d->tp == 2);
    l->custom = sizes && p2p;
    l->table = find_table(c->allreduce_table, d->tp);
}

ls_ar_algo ls_collective_choose(const ls_ar_link *l, double bytes)
{
    if (l->table)
        return LS_AR_MEASURED;
    if (l->custom && bytes <= CUSTOM_MAX_BYTES) {
        if (l->t == 2 || (l->t <= 4 && bytes < 512 * 1024.0) || (l->t <= 8 && bytes < 256 * 1024.0))
            return LS_AR_ONE_SHOT;
        return LS_AR_TWO_SHOT;
    }
    return LS_AR_RING;
}

/* Log-log interpolation; below the table its first value, above it the last point's bandwidth. */
static double measured_s(const ls_allreduce_table *tb, double bytes)
{
    assert(tb && tb->n >= 2);
    if (bytes <= tb->bytes[0])
        return tb->us[0] * 1e-6;
    int n = tb->n;
    if (bytes >= tb->bytes[n - 1])
        return tb->us[n - 1] * 1e-6 * bytes / tb->bytes[n - 1];
    int lo = 0, hi = n - 1;  /* bytes[lo] < bytes <= bytes[hi] */
    while (hi - lo > 1) {
        int mid = (lo + hi) / 2;
        if (tb->bytes[mid] < bytes)
            lo = mid;
        else
            hi = mid;
    }
    double x = (log(bytes) - log(tb->bytes[lo])) / (log(tb->bytes[hi]) - log(tb->bytes[lo]));
    return exp(log(tb->us[lo]) + x * (log(tb->us[hi]) - log(tb->us[lo]))) * 1e-6;
}

static double one_shot_s(const ls_ar_link *l, double b)
{
    return l->custom_alpha_s + (l->t - 1) * b / l->bw;
}

static double two_shot_s(const ls_ar_link *l, double b)
{
    return 2.0 * l->custom_alpha_s + 2.0 * (l->t - 1) / l->t * b / l->bw;
}

static double ring_s(const ls_ar_link *l, double b)
{
    return 2.0 * (l->t - 1) * l->alpha_s + 2.0 * (l->t - 1) / l->t * b / l->bw;
}

static const struct {
    const char *name;
    double (*time)(const ls_ar_link *, double);
} algos[LS_AR_N] = {
    [LS_AR_MEASURED] = {"measured", NULL},
    [LS_AR_ONE_SHOT] = {"custom-one-shot", one_shot_s},
    [LS_AR_TWO_SHOT] = {"custom-two-shot", two_shot_s},
    [LS_AR_RING] = {"nccl-ring", ring_s},
};

const char *ls_collective_algo_name(ls_ar_algo a)
{
    return a >= 0 && a < LS_AR_N ? algos[a].name : "?";
}

double ls_collective_algo_s(const ls_ar_link *l, ls_ar_algo a, double bytes)
{
    if (l->t <= 1 || bytes <= 0)
        return 0;
    if (a == LS_AR_MEASURED)
        return measured_s(l->table, bytes);
    assert(a > LS_AR_MEASURED && a < LS_AR_N && l->bw > 0);
    return algos[a].time(l, bytes);
}

double ls_collective_allreduce_s(const ls_ar_link *l, double bytes)
{
    if (l->t <= 1 || bytes <= 0)
        return 0;
    return ls_collective_algo_s(l, ls_collective_choose(l, bytes), bytes);
}
