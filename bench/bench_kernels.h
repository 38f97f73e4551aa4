/* bench_kernels.h -- what the benches over ../shared/kernels (bench_moe, bench_mla)
 * share: their command line, the catalog, and the GPU name of a kernel-table system.
 * Header-only: each bench is one executable. */
#ifndef LS_BENCH_KERNELS_H
#define LS_BENCH_KERNELS_H

#include <stdio.h>
#include <string.h>

#include "catalog.h"

enum { LS_BENCH_MAX_GPUS = 8 };

typedef struct ls_bench_args {
    const char *dir;                        /* the kernel tables (default ../shared/kernels) */
    const char *gpus[LS_BENCH_MAX_GPUS];    /* table systems (default h100_sxm, h200_sxm, b200_sxm) */
    int n_gpus;
    ls_catalog *cat;                        /* the built-in catalog */
} ls_bench_args;

/* Parse [--kernels DIR] [--gpu SYSTEM]... and load the catalog; 0, or the exit status. */
static inline int ls_bench_args_parse(int argc, char **argv, const char *prog, ls_bench_args *a)
{
    a->dir = "../shared/kernels";
    a->n_gpus = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--kernels") && i + 1 < argc)
            a->dir = argv[++i];
        else if (!strcmp(argv[i], "--gpu") && i + 1 < argc && a->n_gpus < LS_BENCH_MAX_GPUS)
            a->gpus[a->n_gpus++] = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--kernels DIR] [--gpu h100_sxm|h200_sxm|b200_sxm]...\n", prog);
            return 2;
        }
    }
    if (!a->n_gpus) {
        a->gpus[a->n_gpus++] = "h100_sxm";
        a->gpus[a->n_gpus++] = "h200_sxm";
        a->gpus[a->n_gpus++] = "b200_sxm";
    }
    ls_error e;
    if (ls_catalog_builtin(&a->cat, &e)) {
        fprintf(stderr, "%s\n", e.msg);
        return 1;
    }
    return 0;
}

/* The catalog GPU of a kernel-table system. */
static inline const char *ls_bench_our_gpu(const char *sys)
{
    return !strcmp(sys, "h100_sxm") ? "h100-sxm" : !strcmp(sys, "h200_sxm") ? "h200" : "b200";
}

#endif
