/* bench_moe.c -- the MoE layer of the cost model (replay/cost_moe.c) beside the
 * measured vLLM FusedMoE layer times of NVIDIA AIConfigurator's kernel database
 * (../shared/kernels/<gpu>/moe_vllm_0.24.0.csv.gz; SOURCES.md there says what a
 * row is: one layer on rank 0, routing + expert GEMMs + activation, no router
 * GEMM, no communication; `num_tokens` is every token entering the layer).
 *
 *   build/bench/bench_moe [--kernels DIR] [--gpu h100_sxm|h200_sxm|b200_sxm]...
 *
 * For each shape of a catalog model (hidden, expert FFN, top-k, experts, moe
 * TP/EP, dtype) it prints measured/model at 1 ... 16384 tokens, balanced
 * routing, and the ratio of the power_law_1.2 rows to the balanced ones at EP:
 * the load imbalance those rows imply for `moe.imbalance`, and the measured time
 * of one token beyond the model's (what `moe_overhead_us` stands for; the model
 * includes the GPU's moe_overhead_us, so with it fitted the column centres on 0). The model side is
 * ls_moe_layer with the allgather backend (every token enters the kernel) and
 * the communication left out. It is a benchmark: it never fails on the numbers.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "bench_kernels.h"
#include "catalog.h"
#include "cost_moe.h"

typedef struct shape {
    const char *label, *dtype; /* the table's moe_dtype */
    int h, f, k, E, tp, ep;
    ls_dtype ours;
} shape;

static const shape shapes[] = {
    {"Mixtral-8x7B TP4", "bfloat16", 4096, 14336, 2, 8, 4, 1, LS_DTYPE_BF16},
    {"Mixtral-8x7B TP1", "bfloat16", 4096, 14336, 2, 8, 1, 1, LS_DTYPE_BF16},
    {"Mixtral-8x22B TP8 fp8", "fp8", 6144, 16384, 2, 8, 8, 1, LS_DTYPE_FP8},
    {"Qwen3-30B-A3B EP2", "bfloat16", 2048, 768, 8, 128, 1, 2, LS_DTYPE_BF16},
    {"Qwen3-235B EP8 fp8", "fp8", 4096, 1536, 8, 128, 1, 8, LS_DTYPE_FP8},
    {"DeepSeek-V3 EP8 fp8_block", "fp8_block", 7168, 2048, 8, 256, 1, 8, LS_DTYPE_FP8},
    {"DeepSeek-V3 TP8 fp8_block", "fp8_block", 7168, 2048, 8, 256, 8, 1, LS_DTYPE_FP8},
    {"DeepSeek-V3 EP8 nvfp4", "nvfp4", 7168, 2048, 8, 256, 1, 8, LS_DTYPE_NVFP4},
    {"gpt-oss-120b mxfp4 W4A16", "w4a16_mxfp4", 2880, 2880, 4, 128, 1, 1, LS_DTYPE_INT4},
};

static const int tokens[] = {1, 8, 32, 128, 512, 2048, 8192, 16384};
#define NT (int)(sizeof tokens / sizeof tokens[0])

typedef struct cell {
    double bal, pl;  /* measured ms, balanced and power_law_1.2 (0: none) */
} cell;

/* Fill m[s][t] from the CSV (columns as in SOURCES.md). */
static int read_table(const char *path, cell m[][NT])
{
    gzFile f = gzopen(path, "rb");
    if (!f)
        return -1;
    char line[1024];
    int rows = 0;
    gzgets(f, line, sizeof line); /* header */
    while (gzgets(f, line, sizeof line)) {
        char *fld[16];
        int n = 0;
        for (char *p = strtok(line, ",\n"); p && n < 16; p = strtok(NULL, ",\n"))
            fld[n++] = p;
        if (n < 15)
            continue;
        int N = atoi(fld[6]), h = atoi(fld[7]), ff = atoi(fld[8]), k = atoi(fld[9]), E = atoi(fld[10]);
        int tp = atoi(fld[11]), ep = atoi(fld[12]);
        for (int s = 0; s < (int)(sizeof shapes / sizeof shapes[0]); s++) {
            const shape *x = &shapes[s];
            if (strcmp(fld[5], x->dtype) || h != x->h || ff != x->f || k != x->k || E != x->E || tp != x->tp ||
                ep != x->ep)
                continue;
            for (int t = 0; t < NT; t++)
                if (tokens[t] == N) {
                    if (!strcmp(fld[13], "balanced"))
                        m[s][t].bal = atof(fld[14]);
                    else if (!strcmp(fld[13], "power_law_1.2"))
                        m[s][t].pl = atof(fld[14]);
                    rows++;
                }
        }
    }
    gzclose(f);
    return rows;
}

static double model_ms(const ls_catalog *cat, const char *gpu, const shape *x, int N)
{
    const ls_gpu *g;
    const ls_cluster *k;
    ls_error e;
    if (ls_catalog_gpu(cat, gpu, &g, &e) || ls_catalog_cluster(cat, "dgx-h100", &k, &e))
        return NAN;
    ls_model m = {.layers = 2, .hidden = x->h, .heads = 8, .kv_heads = 8, .head_dim = 128, .ffn = x->f,
                  .vocab = 1000, .max_context = 4096, .experts = x->E, .top_k = x->k};
    ls_deploy d = {.model = &m, .gpu = g, .cluster = k, .tp = x->tp, .pp = 1, .w_dtype = x->ours,
                   .kv_dtype = LS_DTYPE_BF16, .ep = x->ep, .moe_backend = ls_moe_backend_find("allgather")};
    ls_moe_cost mc;
    if (ls_moe_cost_init(&mc, &d, &e))
        return NAN;
    ls_op_cost oc;
    /* AIC's num_tokens is every token entering the layer: under EP that is the group's, T_replica * ep */
    ls_moe_layer(&mc, (double)N / (x->ep > 1 ? x->ep : 1), &oc);
    return (oc.s - oc.comm_s) * 1e3;
}

int main(int argc, char **argv)
{
    ls_bench_args args;
    int rc = ls_bench_args_parse(argc, argv, "bench_moe", &args);
    if (rc)
        return rc;
    const char *dir = args.dir;
    const char **gpus = args.gpus;
    int n_gpus = args.n_gpus;
    ls_catalog *cat = args.cat;
    enum { NS = sizeof shapes / sizeof shapes[0] };
    for (int gi = 0; gi < n_gpus; gi++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s/moe_vllm_0.24.0.csv.gz", dir, gpus[gi]);
        static cell m[NS][NT];
        memset(m, 0, sizeof m);
        if (read_table(path, m) < 0) {
            fprintf(stderr, "bench_moe: cannot read %s\n", path);
            continue;
        }
        printf("== %s (%s): measured / model, balanced routing; last column: power_law_1.2 / balanced at 8192\n",
               gpus[gi], ls_bench_our_gpu(gpus[gi]));
        printf("%-27s", "shape");
        for (int t = 0; t < NT; t++)
            printf(" %6d", tokens[t]);
        printf("  %7s %8s\n", "skew", "fixed_us");
        for (int s = 0; s < NS; s++) {
            int any = 0;
            for (int t = 0; t < NT; t++)
                any |= m[s][t].bal > 0;
            if (!any)
                continue;
            printf("%-27s", shapes[s].label);
            for (int t = 0; t < NT; t++) {
                double mod = model_ms(cat, ls_bench_our_gpu(gpus[gi]), &shapes[s], tokens[t]);
                if (m[s][t].bal > 0 && mod > 0)
                    printf(" %6.2f", m[s][t].bal / mod);
                else
                    printf(" %6s", "-");
            }
            if (m[s][6].bal > 0 && m[s][6].pl > 0)
                printf("  %7.2f", m[s][6].pl / m[s][6].bal);
            else
                printf("  %7s", "-");
            /* what one token costs beyond the roofline: the fixed part of a fused-MoE call */
            double one = model_ms(cat, ls_bench_our_gpu(gpus[gi]), &shapes[s], 1);
            if (m[s][0].bal > 0)
                printf(" %8.1f", (m[s][0].bal - one) * 1e3);
            printf("\n");
        }
        printf("\n");
    }
    ls_catalog_free(cat);
    return 0;
}
