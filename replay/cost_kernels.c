/* cost_kernels.c -- measured GEMM and attention kernel times for the roofline (cost_kernels.h).
 *
 * The tables (kernel_data.c) are vLLM's own kernels timed one call at a time (AIConfigurator's
 * collectors, ../shared/kernels/SOURCES.md): the GEMM through RowParallelLinear, attention through
 * FlashAttention-3 (Hopper) or the backend vLLM picks on the GPU. What they leave out -- RMSNorm,
 * RoPE, activation quantisation, SwiGLU, residuals -- stays the roofline's kernel_overhead per layer,
 * and the engine's CPU time its iter_overhead.
 */
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cost_kernels.h"

bool ls_kernels_known(const char *system)
{
    for (int i = 0; i < ls_gemm_n_tables; i++)
        if (!strcmp(ls_gemm_tables[i].system, system))
            return true;
    return false;
}

const ls_gemm_table *ls_kernels_find_gemm(const char *system, const char *dtype)
{
    if (!system || !system[0])
        return NULL;
    for (int i = 0; i < ls_gemm_n_tables; i++)
        if (!strcmp(ls_gemm_tables[i].system, system) && !strcmp(ls_gemm_tables[i].dtype, dtype))
            return &ls_gemm_tables[i];
    return NULL;
}

const ls_attn_table *ls_kernels_find_attn(const char *system, ls_attn_phase phase, int heads, int kv_heads,
                                          int head_dim, const char *kv_dtype)
{
    if (!system || !system[0])
        return NULL;
    for (int i = 0; i < ls_attn_n_tables; i++) {
        const ls_attn_table *t = &ls_attn_tables[i];
        if (t->phase == (int)phase && t->heads == heads && t->kv_heads == kv_heads && t->head_dim == head_dim &&
            !strcmp(t->system, system) && !strcmp(t->kv_dtype, kv_dtype))
            return t;
    }
    return NULL;
}

/* Where x falls on axis a[0..n): lo index and log-space weight w of a[lo + 1]; *scale is the
 * factor for x beyond the last point ((x / a[n-1])^power, else 1). Below a[0]: lo 0, w 0. */
static void locate(const float *a, int n, double x, double power, int *lo, double *w, double *scale)
{
    assert(n >= 1);
    *scale = 1;
    if (n == 1 || x <= a[0]) {
        *lo = 0;
        *w = 0;
        return;
    }
    if (x >= a[n - 1]) {
        *lo = n - 2;
        *w = 1;
        *scale = pow(x / a[n - 1], power);
        return;
    }
    int l = 0, h = n - 1; /* a[l] < x <= a[h] */
    while (h - l > 1) {
        int mid = (l + h) / 2;
        if (a[mid] < x)
            l = mid;
        else
            h = mid;
    }
    *lo = l;
    *w = (log(x) - log(a[l])) / (log(a[l + 1]) - log(a[l]));
}

static double lerp_log(double a, double b, double w)
{
    if (w <= 0)
        return a;
    if (w >= 1)
        return b;
    return exp(log(a) + w * (log(b) - log(a)));
}

/* The GEMM time at grid row i of M, interpolated in N and K. */
static double gemm_at_m(const ls_gemm_table *t, int i, double n, double k)
{
    int jn, jk;
    double wn, wk, sn, sk;
    locate(t->n, t->nn, n, 1.0, &jn, &wn, &sn);
    locate(t->k, t->nk, k, 1.0, &jk, &wk, &sk);
    int jn1 = t->nn > 1 ? jn + 1 : jn, jk1 = t->nk > 1 ? jk + 1 : jk;
    const float *row = t->us + (size_t)i * t->nn * t->nk;
    double v0 = lerp_log(row[jn * t->nk + jk], row[jn * t->nk + jk1], wk);
    double v1 = lerp_log(row[jn1 * t->nk + jk], row[jn1 * t->nk + jk1], wk);
    return lerp_log(v0, v1, wn) * sn * sk;
}

/* A curve over M (one value per grid M) at log-space weight: shared by the table lookup and the
 * per-deployment curves, so both give the same numbers. */
static double curve_at(const float *m, int nm, const double *v, double x)
{
    int i;
    double w, s;
    locate(m, nm, x, 1.0, &i, &w, &s);
    if (nm == 1)
        return v[0] * s;
    return lerp_log(v[i], v[i + 1], w) * s;
}

double ls_gemm_table_us(const ls_gemm_table *t, double m, double n, double k)
{
    assert(t && t->nm >= 1 && t->nm <= 64);
    double v[64];
    for (int i = 0; i < t->nm; i++)
        v[i] = gemm_at_m(t, i, n, k);
    return curve_at(t->m, t->nm, v, m);
}

double ls_attn_table_us(const ls_attn_table *t, double b, double s)
{
    assert(t && t->nb >= 1 && t->ns >= 1);
    int ib, is;
    double wb, ws, sb, ss;
    locate(t->b, t->nb, b, 1.0, &ib, &wb, &sb);
    /* beyond the longest length: causal prefill grows with the square of the length, a decode's KV read linearly */
    locate(t->s, t->ns, s, t->phase == LS_ATTN_PREFILL ? 2.0 : 1.0, &is, &ws, &ss);
    int ib1 = t->nb > 1 ? ib + 1 : ib, is1 = t->ns > 1 ? is + 1 : is;
    double v0 = lerp_log(t->us[ib * t->ns + is], t->us[ib * t->ns + is1], ws);
    double v1 = lerp_log(t->us[ib1 * t->ns + is], t->us[ib1 * t->ns + is1], ws);
    return lerp_log(v0, v1, wb) * sb * ss;
}

/* ---- one deployment ------------------------------------------------------ */

enum { G_QKV, G_O, G_GATE_UP, G_DOWN, G_HEAD, G_N };
#define MAX_M 64

struct ls_kernels {
    const ls_gemm_table *gemm, *head_gemm;
    double curve[G_N][MAX_M];      /* microseconds at each grid M of the shape's table */
    const ls_attn_table *prefill, *decode;
};

static void fill_curve(const ls_gemm_table *t, double n, double k, double *out)
{
    assert(t->nm <= MAX_M);
    for (int i = 0; i < t->nm; i++)
        out[i] = gemm_at_m(t, i, n, k);
}

ls_kernels *ls_kernels_new(const ls_deploy *d)
{
    assert(d && d->model && d->gpu && d->tp >= 1);
    const ls_model *m = d->model;
    const char *sys = d->gpu->kernel_tables;
    if (!sys[0])
        return NULL;
    ls_kernels *k = ls_xcalloc(1, sizeof *k);
    int t = d->tp;
    /* GEMMs: bf16 or per-tensor fp8 weights of a GQA model (MLA's split projections have no table) */
    const char *wd = d->w_dtype == LS_DTYPE_BF16 ? "bf16" : d->w_dtype == LS_DTYPE_FP8 ? "fp8" : NULL;
    if (wd && !ls_model_is_mla(m))
        k->gemm = ls_kernels_find_gemm(sys, wd);
    if (k->gemm) {
        /* vLLM keeps the LM head unquantised (bf16) under fp8 checkpoints */
        k->head_gemm = ls_kernels_find_gemm(sys, "bf16");
        double h = m->hidden, dh = m->head_dim, dv = ls_model_v_dim(m);
        double nq = (double)m->heads / t, nkv = m->kv_heads >= t ? (double)m->kv_heads / t : 1.0;
        fill_curve(k->gemm, (nq + nkv) * dh + nkv * dv, h, k->curve[G_QKV]);
        fill_curve(k->gemm, h, nq * dv, k->curve[G_O]);
        fill_curve(k->gemm, 2.0 * m->ffn / t, h, k->curve[G_GATE_UP]);
        fill_curve(k->gemm, h, (double)m->ffn / t, k->curve[G_DOWN]);
        if (k->head_gemm)
            fill_curve(k->head_gemm, (double)m->vocab / t, h, k->curve[G_HEAD]);
    }
    /* attention: full-attention GQA layers of the per-GPU head pair and KV dtype */
    const char *kd = d->kv_dtype == LS_DTYPE_BF16 ? "bf16" : d->kv_dtype == LS_DTYPE_FP8 ? "fp8" : NULL;
    if (kd && !ls_model_is_mla(m) && m->sliding_window <= 0 && m->heads % t == 0 &&
        ls_model_v_dim(m) == m->head_dim) {
        int nq = m->heads / t, nkv = m->kv_heads >= t ? m->kv_heads / t : 1;
        const ls_attn_table *p = ls_kernels_find_attn(sys, LS_ATTN_PREFILL, nq, nkv, m->head_dim, kd);
        const ls_attn_table *q = ls_kernels_find_attn(sys, LS_ATTN_DECODE, nq, nkv, m->head_dim, kd);
        if (p && q) {
            k->prefill = p;
            k->decode = q;
        }
    }
    if (!k->gemm && !k->prefill) {
        free(k);
        return NULL;
    }
    return k;
}

void ls_kernels_free(ls_kernels *k)
{
    free(k);
}

bool ls_kernels_has_gemm(const ls_kernels *k)
{
    return k && k->gemm;
}

bool ls_kernels_has_attention(const ls_kernels *k)
{
    return k && k->prefill;
}

static double gemm_s(const ls_kernels *k, const ls_gemm_table *t, int which, double rows)
{
    return curve_at(t->m, t->nm, k->curve[which], rows) * 1e-6;
}

double ls_kernels_proj_s(const ls_kernels *k, double T)
{
    assert(k->gemm && T > 0);
    return gemm_s(k, k->gemm, G_QKV, T) + gemm_s(k, k->gemm, G_O, T);
}

double ls_kernels_ffn_s(const ls_kernels *k, double T)
{
    assert(k->gemm && T > 0);
    return gemm_s(k, k->gemm, G_GATE_UP, T) + gemm_s(k, k->gemm, G_DOWN, T);
}

double ls_kernels_head_s(const ls_kernels *k, double S)
{
    assert(k->gemm && S > 0);
    return k->head_gemm ? gemm_s(k, k->head_gemm, G_HEAD, S) : 0;
}

double ls_kernels_attn_s(const ls_kernels *k, const ls_batch_agg *b)
{
    assert(k->prefill && k->decode);
    double t = 0;
    int64_t n_d = b->n_decode, n_p = b->n_seqs - b->n_decode;
    double tok_p = (double)(b->tokens - b->n_decode);
    /* Split the aggregates between prefill chunks and decodes as cost_table.c does: exact when every
     * prefill chunk of the step sits on the same cached length c_p. */
    double c_p = 0;
    if (n_p > 0 && tok_p > (double)n_p)
        c_p = fmax(0.0, (b->sum_qc - b->sum_c) / (tok_p - (double)n_p));
    double c_d_sum = fmax(0.0, b->sum_c - (double)n_p * c_p);
    if (n_p > 0 && tok_p > 0) {
        /* the fresh length s whose n_p causal prompts have the chunks' (query, key) pairs:
         * n_p s (s + 1) / 2 = tok_p c_p + (Σq² + tok_p) / 2 */
        double q2 = fmax(tok_p, b->sum_q2 - (double)n_d);
        double pairs = tok_p * c_p + 0.5 * (q2 + tok_p);
        double s = 0.5 * (sqrt(1.0 + 8.0 * pairs / (double)n_p) - 1.0);
        t += ls_attn_table_us(k->prefill, (double)n_p, s < 1 ? 1 : s);
    }
    if (n_d > 0)
        t += ls_attn_table_us(k->decode, (double)n_d, c_d_sum / (double)n_d + 1.0);
    return t * 1e-6;
}
