/* model.c -- number formats and the sizes derived from a model's architecture:
 * parameters by layer kind (attention, MLA, dense FFN, routed and shared
 * experts), and KV bytes (MLA latent, sliding-window bound). Catalog loading is
 * in catalog.c; the formulas are written out in docs/HARDWARE.md, "Models".
 */
#include <assert.h>
#include <string.h>

#include "catalog.h"

/* ---- dtypes --------------------------------------------------------------- */

static const struct {
    const char *name;
    double bytes;
} dtypes[] = {
    [LS_DTYPE_BF16] = {"bf16", 2.0},
    [LS_DTYPE_FP8] = {"fp8", 1.0},
    [LS_DTYPE_NVFP4] = {"nvfp4", 0.5 + 1.0 / 16},  /* E2M1 + an E4M3 scale per 16 (NVIDIA NVFP4) */
    [LS_DTYPE_MXFP4] = {"mxfp4", 0.5 + 1.0 / 32},  /* E2M1 + an E8M0 scale per 32 (OCP MX spec v1.0) */
    [LS_DTYPE_INT4] = {"int4", 0.5 + 4.0 / 128},   /* fp16 scale + fp16 zero per group of 128 (AWQ, GPTQ) */
};

const char *ls_dtype_name(ls_dtype d)
{
    assert((unsigned)d < sizeof dtypes / sizeof dtypes[0]);
    return dtypes[d].name;
}

double ls_dtype_bytes(ls_dtype d)
{
    assert((unsigned)d < sizeof dtypes / sizeof dtypes[0]);
    return dtypes[d].bytes;
}

bool ls_dtype_is_4bit(ls_dtype d)
{
    return d == LS_DTYPE_NVFP4 || d == LS_DTYPE_MXFP4 || d == LS_DTYPE_INT4;
}

ls_status ls_dtype_parse(const char *s, ls_dtype *out, ls_error *e)
{
    static const struct {
        const char *alias;
        ls_dtype d;
    } aliases[] = {
        /* fp16 has the same size and tensor-core rate as bf16 */
        {"bf16", LS_DTYPE_BF16},   {"bfloat16", LS_DTYPE_BF16}, {"fp16", LS_DTYPE_BF16},
        {"float16", LS_DTYPE_BF16}, {"fp8", LS_DTYPE_FP8},      {"fp8_e4m3", LS_DTYPE_FP8},
        {"fp8_e5m2", LS_DTYPE_FP8}, {"nvfp4", LS_DTYPE_NVFP4},  {"fp4", LS_DTYPE_NVFP4},
        {"mxfp4", LS_DTYPE_MXFP4},  {"int4", LS_DTYPE_INT4},    {"awq", LS_DTYPE_INT4},
        {"gptq", LS_DTYPE_INT4},    {"w4a16", LS_DTYPE_INT4},
    };
    for (size_t i = 0; s && i < sizeof aliases / sizeof aliases[0]; i++)
        if (!strcmp(s, aliases[i].alias)) {
            *out = aliases[i].d;
            return LS_OK;
        }
    return ls_fail(e, LS_EINVAL, "unknown dtype '%s' (expected bf16, fp8, nvfp4, mxfp4 or int4)", s ? s : "");
}

/* ---- parameters ----------------------------------------------------------- */

bool ls_model_is_moe(const ls_model *m)
{
    return m->experts > 1;
}

bool ls_model_is_mla(const ls_model *m)
{
    return m->kv_lora_rank > 0;
}

int ls_model_moe_layers(const ls_model *m)
{
    return ls_model_moe_layers_in(m, 0, m->layers);
}

/* Layer i's FFN: dense (the first dense_layers, and between interleaved MoE
 * layers), or routed experts + shared experts + router. Llama-4's rule:
 * moe_layers = range(step - 1, layers, step) (transformers Llama4TextConfig). */
bool ls_model_layer_is_moe(const ls_model *m, int i)
{
    if (!ls_model_is_moe(m) || i < m->dense_layers)
        return false;
    return m->moe_layer_step <= 1 || (i + 1) % m->moe_layer_step == 0;
}

int ls_model_moe_layers_in(const ls_model *m, int first, int count)
{
    assert(first >= 0 && count >= 0);
    if (!ls_model_is_moe(m))
        return 0;
    int lo = first > m->dense_layers ? first : m->dense_layers, hi = first + count;
    if (hi <= lo)
        return 0;
    int step = m->moe_layer_step > 1 ? m->moe_layer_step : 1;
    return hi / step - lo / step;  /* the i in [lo, hi) with (i + 1) % step == 0 */
}

int ls_model_expert_ffn(const ls_model *m)
{
    return m->moe_ffn > 0 ? m->moe_ffn : m->ffn;
}

int ls_model_v_dim(const ls_model *m)
{
    return m->v_head_dim > 0 ? m->v_head_dim : m->head_dim;
}

double ls_model_expert_params(const ls_model *m)
{
    return 3.0 * m->hidden * ls_model_expert_ffn(m); /* SwiGLU: gate, up (h x f) and down (f x h) */
}

double ls_model_embed_params(const ls_model *m)
{
    return (double)m->vocab * m->hidden;
}

double ls_model_head_params(const ls_model *m)
{
    return m->tied_embeddings ? 0.0 : (double)m->vocab * m->hidden;
}

/* Attention of one layer, split into the TP-split and the replicated part.
 * GQA: Wq (h x n_q d), Wk (h x n_kv d), Wv (h x n_kv d_v), Wo (n_q d_v x h).
 * MLA (DeepSeek-V2 paper, s2.1): q_a (h x r_q) + its norm, q_b (r_q x n_q d);
 * kv_a (h x (r_kv + rope)) + its norm, kv_b (r_kv x n_q (d - rope + d_v)); Wo. */
void ls_model_attn_params(const ls_model *m, double *split, double *repl)
{
    double h = m->hidden, nq = m->heads, d = m->head_dim, dv = ls_model_v_dim(m);
    if (!ls_model_is_mla(m)) {
        *split = h * nq * d + h * m->kv_heads * (d + dv) + nq * dv * h;
        *repl = 0;
        return;
    }
    double rq = m->q_lora_rank, rkv = m->kv_lora_rank, rope = m->qk_rope_dim;
    double q = rq > 0 ? rq * nq * d : h * nq * d;
    *split = q + rkv * nq * (d - rope + dv) + nq * dv * h;
    *repl = (rq > 0 ? h * rq + rq : 0) + h * (rkv + rope) + rkv;
}

void ls_model_layers_parts(const ls_model *m, int first, int count, double *split, double *replicated,
                           double *routed)
{
    assert(first >= 0 && count >= 0 && first + count <= m->layers);
    double a_split, a_repl;
    ls_model_attn_params(m, &a_split, &a_repl);
    double h = m->hidden;
    *split = *replicated = *routed = 0;
    for (int i = first; i < first + count; i++) {
        *split += a_split + 2.0 * h; /* two RMSNorm vectors */
        *replicated += a_repl;
        if (ls_model_layer_is_moe(m, i)) {
            *split += m->shared_experts * ls_model_expert_params(m) + h * m->experts;
            *routed += m->experts * ls_model_expert_params(m);
        } else {
            *split += 3.0 * h * m->ffn;
        }
    }
}

double ls_model_layer_params(const ls_model *m)
{
    double s, r, e;
    ls_model_layers_parts(m, m->layers - 1, 1, &s, &r, &e);
    return s + r + e;
}

double ls_model_params(const ls_model *m)
{
    double s, r, e;
    ls_model_layers_parts(m, 0, m->layers, &s, &r, &e);
    return ls_model_embed_params(m) + s + r + e + m->hidden /* final norm */ + ls_model_head_params(m);
}

double ls_model_active_params(const ls_model *m)
{
    double s, r, e;
    ls_model_layers_parts(m, 0, m->layers, &s, &r, &e);
    double active_routed = ls_model_moe_layers(m) * (double)m->top_k * ls_model_expert_params(m);
    if (!ls_model_is_moe(m))
        active_routed = 0;
    return ls_model_embed_params(m) + s + r + active_routed + m->hidden + ls_model_head_params(m);
}

/* ---- KV cache ------------------------------------------------------------- */

double ls_model_kv_layer_bytes(const ls_model *m, ls_dtype kv)
{
    if (ls_model_is_mla(m))
        return (double)(m->kv_lora_rank + m->qk_rope_dim) * ls_dtype_bytes(kv);
    return (double)m->kv_heads * (m->head_dim + ls_model_v_dim(m)) * ls_dtype_bytes(kv);
}

double ls_model_kv_layer_bytes_gpu(const ls_model *m, ls_dtype kv, int tp)
{
    assert(tp >= 1);
    if (ls_model_is_mla(m))
        return ls_model_kv_layer_bytes(m, kv); /* one latent per token, on every rank */
    double heads = m->kv_heads >= tp ? (double)m->kv_heads / tp : 1.0;
    return heads * (m->head_dim + ls_model_v_dim(m)) * ls_dtype_bytes(kv);
}

double ls_model_kv_bytes_per_token(const ls_model *m, ls_dtype kv)
{
    return m->layers * ls_model_kv_layer_bytes(m, kv);
}

double ls_model_kv_bytes_context(const ls_model *m, ls_dtype kv, int64_t n)
{
    assert(n >= 0);
    double lb = ls_model_kv_layer_bytes(m, kv);
    int sliding = m->sliding_window > 0 ? m->sliding_layers : 0;
    int64_t bounded = n < m->sliding_window ? n : m->sliding_window;
    return (double)(m->layers - sliding) * (double)n * lb + (double)sliding * (double)bounded * lb;
}
