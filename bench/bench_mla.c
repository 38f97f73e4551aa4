/* bench_mla.c -- the MLA attention of the cost model (cost_roofline.c: latent KV,
 * absorbed decode, materialised prefill with the latent re-expanded) beside the
 * measured DeepSeek-V3 attention module of vLLM 0.24 in AIConfigurator's kernel
 * database (../shared/kernels/<gpu>/mla_{generation,context}_module_vllm_0.24.0.csv.gz:
 * the whole DeepseekV2MLAAttention forward -- projections, attention, output
 * projection -- on one GPU with `num_heads` heads, SOURCES.md there).
 *
 *   build/bench/bench_mla [--kernels DIR] [--gpu h100_sxm|h200_sxm|b200_sxm]...
 *
 * The model side is one layer of a DeepSeek-V3-shaped model with `num_heads`
 * heads at TP 1 (the replicated q_a/kv_a as on a TP rank), FP8 block weights,
 * FP8 latent cache, its FFN and LM head made negligible, kernel_overhead_us
 * left out (it stands for the layer's other kernels). Prints measured/model. It
 * is a benchmark: it never fails on the numbers.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "bench_kernels.h"
#include "catalog.h"
#include "cost.h"

enum { MAXR = 8192 };
typedef struct row {
    int heads, batch, len; /* len: KV length (generation) or prompt length (context) */
    double ms;
} row;

/* Rows of `kernel` (NULL: any; the decode backend differs by GPU) with FP8 latent cache and
 * fp8_block projections. */
static int read_rows(const char *path, const char *kernel, row *out)
{
    gzFile f = gzopen(path, "rb");
    if (!f)
        return -1;
    char line[1024];
    int n = 0;
    gzgets(f, line, sizeof line);
    while (n < MAXR && gzgets(f, line, sizeof line)) {
        char *fld[20];
        int k = 0;
        for (char *p = strtok(line, ",\n"); p && k < 20; p = strtok(NULL, ",\n"))
            fld[k++] = p;
        if (k < 16 || (kernel && strcmp(fld[4], kernel)) || strcmp(fld[8], "fp8") || strcmp(fld[9], "fp8_block"))
            continue;
        int gen = atoi(fld[12]) == 1 && strstr(path, "generation");
        out[n++] = (row){atoi(fld[10]), atoi(fld[11]), gen ? atoi(fld[14]) : atoi(fld[12]), atof(fld[15])};
    }
    gzclose(f);
    return n;
}

static double model_ms(const ls_catalog *cat, const char *gpu, int heads, int batch, int len, int gen)
{
    const ls_model *ds;
    const ls_gpu *g0;
    const ls_cluster *k;
    ls_error e;
    if (ls_catalog_model(cat, "deepseek-v3", &ds, &e) || ls_catalog_gpu(cat, gpu, &g0, &e) ||
        ls_catalog_cluster(cat, "dgx-h100", &k, &e))
        return NAN;
    ls_model m = *ds;
    m.layers = 1;
    m.heads = m.kv_heads = heads;
    m.experts = m.top_k = 1;
    m.moe_ffn = m.shared_experts = m.dense_layers = 0;
    m.ffn = 1;
    m.vocab = 1;
    ls_gpu g = *g0;
    g.kernel_overhead_s = 0;
    g.iter_overhead_s = 0;
    ls_deploy d = {.model = &m, .gpu = &g, .cluster = k, .tp = 1, .pp = 1, .w_dtype = LS_DTYPE_FP8,
                   .kv_dtype = LS_DTYPE_FP8};
    ls_cost_model *cm;
    if (ls_cost_roofline_new(&d, &cm, &e))
        return NAN;
    double B = batch, L = len;
    ls_batch_agg b = gen ? (ls_batch_agg){.tokens = batch, .n_seqs = batch, .n_decode = batch, .sum_qc = B * L,
                                          .sum_q2 = B, .sum_c = B * L}
                         : (ls_batch_agg){.tokens = batch * len, .n_seqs = batch, .sum_q2 = B * L * L};
    ls_iter_cost c;
    ls_cost_iteration(cm, &b, &c);
    ls_cost_free(cm);
    return c.stage_s[0] * 1e3;
}

static void table(const ls_catalog *cat, const char *gpu, const row *r, int n, int gen, const int *batches,
                  int nb, const int *lens, int nl, int heads)
{
    printf("%s, %d heads: measured / model (rows: batch; columns: %s)\n%8s", gen ? "decode" : "prefill", heads,
           gen ? "KV length" : "prompt length", "");
    for (int j = 0; j < nl; j++)
        printf(" %7d", lens[j]);
    printf("\n");
    for (int i = 0; i < nb; i++) {
        printf("%8d", batches[i]);
        for (int j = 0; j < nl; j++) {
            double ms = 0;
            for (int x = 0; x < n; x++)
                if (r[x].heads == heads && r[x].batch == batches[i] && r[x].len == lens[j])
                    ms = r[x].ms;
            double mod = model_ms(cat, gpu, heads, batches[i], lens[j], gen);
            if (ms > 0 && mod > 0)
                printf(" %7.2f", ms / mod);
            else
                printf(" %7s", "-");
        }
        printf("\n");
    }
}

int main(int argc, char **argv)
{
    ls_bench_args args;
    int rc = ls_bench_args_parse(argc, argv, "bench_mla", &args);
    if (rc)
        return rc;
    const char *dir = args.dir;
    const char **gpus = args.gpus;
    int n_gpus = args.n_gpus;
    ls_catalog *cat = args.cat;
    static const int dec_b[] = {1, 16, 64, 256}, dec_l[] = {1024, 4096, 16384, 65536};
    static const int pre_b[] = {1, 4}, pre_l[] = {512, 2048, 8192, 16384};
    for (int gi = 0; gi < n_gpus; gi++) {
        static row gen[MAXR], ctx[MAXR];
        char path[1024];
        snprintf(path, sizeof path, "%s/%s/mla_generation_module_vllm_0.24.0.csv.gz", dir, gpus[gi]);
        int ng = read_rows(path, NULL, gen);
        snprintf(path, sizeof path, "%s/%s/mla_context_module_vllm_0.24.0.csv.gz", dir, gpus[gi]);
        int nc = read_rows(path, "FLASH_ATTN", ctx);
        printf("== %s (%s): %d decode rows, %d prefill rows (FP8 latent, fp8_block projections)\n", gpus[gi],
               ls_bench_our_gpu(gpus[gi]), ng, nc);
        for (int h = 16; h <= 128; h *= 8) {
            if (ng > 0)
                table(cat, ls_bench_our_gpu(gpus[gi]), gen, ng, 1, dec_b, 4, dec_l, 4, h);
            if (nc > 0)
                table(cat, ls_bench_our_gpu(gpus[gi]), ctx, nc, 0, pre_b, 2, pre_l, 4, h);
        }
        printf("\n");
    }
    ls_catalog_free(cat);
    return 0;
}
