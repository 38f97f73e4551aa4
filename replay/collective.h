/* collective.h -- the time of one tensor-parallel all-reduce, by the algorithm the engine would use.
 *
 * A TP group's link is resolved once (ls_collective_link); each all-reduce
 * then costs O(log table size). The algorithms, a table of handlers in
 * collective.c (docs/HARDWARE.md, "TP all-reduces"):
 *   measured         vLLM's graph-captured all-reduce, interpolated (log-log) in a measured table of the
 *                    cluster's `allreduce_table` (collective_data.c, from ../shared/kernels)
 *   custom-one-shot  vLLM's custom all-reduce, 1 stage: alpha_c + (t-1) M / B
 *   custom-two-shot  2 stages (reduce-scatter + all-gather over P2P): 2 alpha_c + 2 (t-1)/t M / B
 *   nccl-ring        2 (t-1) alpha + 2 (t-1)/t M / B
 * vLLM's choice (custom_all_reduce.py should_custom_ar, custom_all_reduce.cuh): custom for
 * M <= 8 MiB when t is 2, 4, 6 or 8 and the GPUs have P2P over NVLink (over PCIe only for t = 2);
 * one stage when t = 2, or t <= 4 and M < 512 KiB, or t <= 8 and M < 256 KiB; else NCCL.
 * B = link bandwidth x allreduce_eff; a group that spans nodes uses the network and NCCL, and so
 * does every group of an engine without vLLM's custom all-reduce (engine_profile.h: trtllm).
 */
#ifndef LS_COLLECTIVE_H
#define LS_COLLECTIVE_H

#include <stdbool.h>

#include "cost.h"

/* A measured table: latency (us) of one all-reduce of bytes[i] over n_gpus GPUs, bytes ascending. */
typedef struct ls_allreduce_table {
    const char *system;
    int n_gpus;
    int n;
    const double *bytes;
    const double *us;
} ls_allreduce_table;

extern const ls_allreduce_table ls_allreduce_tables[];
extern const int ls_allreduce_n_tables;

/* True when the catalog's `allreduce_table` name has measured data (for any GPU count). */
bool ls_collective_table_known(const char *system);

/* The link of one TP group, resolved at set-up. */
typedef struct ls_ar_link {
    int t;                            /* GPUs in the group */
    double alpha_s;                   /* NCCL, per ring step */
    double custom_alpha_s;            /* custom all-reduce, per stage (barrier + launch) */
    double bw;                        /* effective bytes/s: link x allreduce_eff */
    bool custom;                      /* vLLM's custom all-reduce applies */
    const ls_allreduce_table *table;  /* measured for this t, or NULL */
} ls_ar_link;

typedef enum ls_ar_algo { LS_AR_MEASURED, LS_AR_ONE_SHOT, LS_AR_TWO_SHOT, LS_AR_RING, LS_AR_N } ls_ar_algo;

/* Resolve the link of stage s's TP group of d (GPUs numbered from d->first_gpu). */
void ls_collective_link(const ls_deploy *d, int stage, ls_ar_link *out);
/* The algorithm the engine uses for `bytes` on link l. */
ls_ar_algo ls_collective_choose(const ls_ar_link *l, double bytes);
/* Seconds of one all-reduce of `bytes` (0 when t <= 1 or bytes <= 0), by the chosen algorithm. */
double ls_collective_allreduce_s(const ls_ar_link *l, double bytes);
/* Seconds by a given algorithm (for tests and calibration); LS_AR_MEASURED needs l->table. */
double ls_collective_algo_s(const ls_ar_link *l, ls_ar_algo a, double bytes);
const char *ls_collective_algo_name(ls_ar_algo a);

#endif
