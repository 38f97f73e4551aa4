/* cost_kernels.h -- measured GEMM and attention kernel times inside the roofline (`cost: {model: kernels}`).
 *
 * Where the deployment's GPU names measured tables (catalog key `kernel_tables`, kernel_data.c, generated
 * from ../shared/kernels by scripts/make_kernel_data.py), the roofline's GEMMs (QKV, O, gate/up, down, LM
 * head: the step's token rows, N and K sharded by TP) and its attention core (prefill by batch x an
 * equivalent fresh length, decode by batch x KV length) are interpolated in vLLM's measured kernel
 * times; every operator without a table (MoE experts, MLA, sliding windows, other head shapes, 4-bit
 * weights) keeps the roofline (docs/FIDELITY.md, "Kernel-table cost model").
 *
 * Interpolation: piecewise linear in log(time) over log(axis) between grid points. Below a grid's
 * first point the time is the first point's (a launch/weight-read floor); above its last point the
 * time scales in proportion to M, N, K and batch, with the square of a prefill length and in
 * proportion to a decode KV length. After set-up a GEMM costs one binary search over ~16 M values.
 */
#ifndef LS_COST_KERNELS_H
#define LS_COST_KERNELS_H

#include <stdbool.h>

#include "cost.h"

typedef enum ls_attn_phase { LS_ATTN_PREFILL = 0, LS_ATTN_DECODE = 1 } ls_attn_phase;

/* One GEMM table: us[(i * nn + j) * nk + l] is the time of M = m[i], N = n[j], K = k[l], axes ascending. */
typedef struct ls_gemm_table {
    const char *system;  /* "h100_sxm", ... */
    const char *dtype;   /* "bf16" or "fp8" (per-tensor W8A8) */
    int nm, nn, nk;
    const float *m, *n, *k, *us;
} ls_gemm_table;

/* One attention table: us[i * ns + j] is one layer's time for b[i] sequences of length s[j]
 * (prefill: fresh tokens, causal; decode: KV length = cached + 1), per-GPU heads. */
typedef struct ls_attn_table {
    const char *system;
    int phase;           /* ls_attn_phase */
    int heads, kv_heads, head_dim;
    const char *kv_dtype; /* "bf16" or "fp8" */
    int nb, ns;
    const float *b, *s, *us;
} ls_attn_table;

extern const ls_gemm_table ls_gemm_tables[];
extern const int ls_gemm_n_tables;
extern const ls_attn_table ls_attn_tables[];
extern const int ls_attn_n_tables;

/* True when `system` has measured GEMM tables (the catalog's kernel_tables check). */
bool ls_kernels_known(const char *system);
const ls_gemm_table *ls_kernels_find_gemm(const char *system, const char *dtype);
const ls_attn_table *ls_kernels_find_attn(const char *system, ls_attn_phase phase, int heads, int kv_heads,
                                          int head_dim, const char *kv_dtype);
/* Interpolated time in microseconds (rules above), for tests and the worked examples. */
double ls_gemm_table_us(const ls_gemm_table *t, double m, double n, double k);
double ls_attn_table_us(const ls_attn_table *t, double b, double s);

/* The kernels of one deployment, resolved at set-up: the GEMM shapes' curves over M and the
 * attention tables of the model's per-GPU heads. */
typedef struct ls_kernels ls_kernels;
/* NULL when the GPU has no kernel_tables or no table fits the model at all (the roofline then
 * runs unchanged). */
ls_kernels *ls_kernels_new(const ls_deploy *d);
void ls_kernels_free(ls_kernels *k);
/* What the tables cover for this deployment. */
bool ls_kernels_has_gemm(const ls_kernels *k);
bool ls_kernels_has_attention(const ls_kernels *k);
/* Seconds, per layer and TP rank: QKV + O projections, a dense SwiGLU FFN (gate/up + down), of T rows;
 * the LM head of S rows. Only when ls_kernels_has_gemm. */
double ls_kernels_proj_s(const ls_kernels *k, double T);
double ls_kernels_ffn_s(const ls_kernels *k, double T);
double ls_kernels_head_s(const ls_kernels *k, double S);
/* Seconds of one layer's attention core for batch b (prefill part + decode part), per TP rank;
 * only when ls_kernels_has_attention. */
double ls_kernels_attn_s(const ls_kernels *k, const ls_batch_agg *b);

#endif
