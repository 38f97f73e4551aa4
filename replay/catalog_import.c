/* catalog_import.c -- a catalog model entry from a Hugging Face config.json
 * (`llmsweep catalog import`). One table of handlers by `model_type` says how
 * each architecture family names its fields; the entry is written as catalog
 * YAML and checked by loading it, so what is written always loads.
 * Supported architectures and the field mapping: docs/HARDWARE.md, "Importing".
 */
#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "catalog_import.h"

typedef struct imp {
    const char *path;
    const json_t *cfg;       /* the text config (text_config of a multimodal model, else the root) */
    ls_error *e;
    ls_model m;
} imp;

static ls_status field_fail(imp *x, const char *field, const char *what)
{
    return ls_fail(x->e, LS_EINVAL, "%s: field '%s': %s", x->path, field, what);
}

/* An integer field: required (def < 0) or defaulting to def when absent or null. */
static ls_status get_i(imp *x, const char *field, long long def, int *out)
{
    const json_t *v = json_object_get(x->cfg, field);
    if (!v || json_is_null(v)) {
        if (def < 0)
            return field_fail(x, field, "missing (required for this architecture)");
        *out = (int)def;
        return LS_OK;
    }
    double d = json_is_integer(v) ? (double)json_integer_value(v) : json_is_real(v) ? json_real_value(v) : NAN;
    if (!(d >= 0 && d <= 1e8 && d == floor(d)))
        return field_fail(x, field, "expected an integer in [0, 100000000]");
    *out = (int)d;
    return LS_OK;
}

static ls_status get_b(imp *x, const char *field, bool def, bool *out)
{
    const json_t *v = json_object_get(x->cfg, field);
    if (!v || json_is_null(v)) {
        *out = def;
        return LS_OK;
    }
    if (!json_is_boolean(v))
        return field_fail(x, field, "expected true or false");
    *out = json_is_true(v);
    return LS_OK;
}

/* Fields every decoder-only transformer has, under their Llama names. */
static ls_status common_fields(imp *x)
{
    ls_model *m = &x->m;
    LS_TRY(get_i(x, "num_hidden_layers", -1, &m->layers));
    LS_TRY(get_i(x, "hidden_size", -1, &m->hidden));
    LS_TRY(get_i(x, "num_attention_heads", -1, &m->heads));
    LS_TRY(get_i(x, "num_key_value_heads", m->heads, &m->kv_heads));
    if (m->heads < 1 || m->hidden < 1)
        return field_fail(x, "num_attention_heads", "expected at least one head");
    LS_TRY(get_i(x, "head_dim", m->hidden / m->heads, &m->head_dim));
    LS_TRY(get_i(x, "intermediate_size", -1, &m->ffn));
    LS_TRY(get_i(x, "vocab_size", -1, &m->vocab));
    LS_TRY(get_i(x, "max_position_embeddings", -1, &m->max_context));
    LS_TRY(get_b(x, "tie_word_embeddings", false, &m->tied_embeddings));
    m->experts = m->top_k = 1;
    return LS_OK;
}

/* A field that must be absent, null, false or a given value for the family's layout to hold. */
static ls_status forbid(imp *x, const char *field, long long allowed, const char *why)
{
    const json_t *v = json_object_get(x->cfg, field);
    if (!v || json_is_null(v) || json_is_false(v))
        return LS_OK;
    if (json_is_integer(v) && json_integer_value(v) == allowed)
        return LS_OK;
    if (json_is_array(v) && json_array_size(v) == 0)
        return LS_OK;
    return field_fail(x, field, why);
}

static ls_status arch_dense(imp *x)
{
    LS_TRY(common_fields(x));
    /* Mistral-style sliding window on every layer */
    int w = 0;
    LS_TRY(get_i(x, "sliding_window", 0, &w));
    bool use = true;
    LS_TRY(get_b(x, "use_sliding_window", true, &use)); /* Qwen: the window is off unless asked for */
    if (w > 0 && use && w < x->m.max_context) {
        x->m.sliding_window = w;
        x->m.sliding_layers = x->m.layers;
    }
    return LS_OK;
}

static ls_status arch_mixtral(imp *x)
{
    LS_TRY(arch_dense(x));
    LS_TRY(get_i(x, "num_local_experts", -1, &x->m.experts));
    return get_i(x, "num_experts_per_tok", -1, &x->m.top_k);
}

static ls_status arch_qwen_moe(imp *x)
{
    LS_TRY(arch_dense(x));
    LS_TRY(get_i(x, "num_experts", -1, &x->m.experts));
    LS_TRY(get_i(x, "num_experts_per_tok", -1, &x->m.top_k));
    LS_TRY(get_i(x, "moe_intermediate_size", -1, &x->m.moe_ffn));
    LS_TRY(forbid(x, "mlp_only_layers", -1, "dense layers between MoE layers are not modelled (expected [])"));
    LS_TRY(forbid(x, "decoder_sparse_step", 1, "MoE on every n-th layer is not modelled (expected 1)"));
    /* Qwen2-MoE's shared expert has its own size, which the catalog cannot express */
    return forbid(x, "shared_expert_intermediate_size", -1, "a shared expert of its own size is not modelled");
}

static ls_status arch_deepseek(imp *x)
{
    LS_TRY(common_fields(x));
    ls_model *m = &x->m;
    int nope = 0, rope = 0;
    LS_TRY(get_i(x, "qk_nope_head_dim", -1, &nope));
    LS_TRY(get_i(x, "qk_rope_head_dim", -1, &rope));
    m->head_dim = nope + rope;
    m->qk_rope_dim = rope;
    LS_TRY(get_i(x, "v_head_dim", -1, &m->v_head_dim));
    LS_TRY(get_i(x, "q_lora_rank", 0, &m->q_lora_rank));
    LS_TRY(get_i(x, "kv_lora_rank", -1, &m->kv_lora_rank));
    LS_TRY(get_i(x, "n_routed_experts", -1, &m->experts));
    LS_TRY(get_i(x, "num_experts_per_tok", -1, &m->top_k));
    LS_TRY(get_i(x, "moe_intermediate_size", -1, &m->moe_ffn));
    LS_TRY(get_i(x, "n_shared_experts", 0, &m->shared_experts));
    LS_TRY(get_i(x, "first_k_dense_replace", 0, &m->dense_layers));
    return forbid(x, "moe_layer_freq", 1, "MoE on every n-th layer is not modelled (expected 1)");
}

static ls_status arch_gpt_oss(imp *x)
{
    LS_TRY(common_fields(x));
    ls_model *m = &x->m;
    LS_TRY(get_i(x, "num_local_experts", -1, &m->experts));
    LS_TRY(get_i(x, "num_experts_per_tok", 4, &m->top_k));
    if (json_object_get(x->cfg, "experts_per_token"))
        LS_TRY(get_i(x, "experts_per_token", -1, &m->top_k));
    LS_TRY(get_i(x, "sliding_window", 0, &m->sliding_window));
    const json_t *lt = json_object_get(x->cfg, "layer_types");
    if (m->sliding_window > 0) {
        if (!json_is_array(lt))
            return field_fail(x, "layer_types", "expected the list of sliding_attention / full_attention layers");
        size_t i;
        const json_t *v;
        json_array_foreach(lt, i, v)
            m->sliding_layers += json_is_string(v) && !strcmp(json_string_value(v), "sliding_attention");
    }
    return LS_OK;
}

static ls_status arch_gemma3(imp *x)
{
    LS_TRY(common_fields(x));
    ls_model *m = &x->m;
    if (!json_object_get(x->cfg, "tie_word_embeddings"))
        m->tied_embeddings = true; /* Gemma ties them by default */
    int pattern = 6;
    LS_TRY(get_i(x, "sliding_window", 0, &m->sliding_window));
    LS_TRY(get_i(x, "sliding_window_pattern", 6, &pattern));
    if (m->sliding_window > 0 && pattern > 0) /* layer i is global when (i + 1) % pattern == 0 */
        m->sliding_layers = m->layers - m->layers / pattern;
    return LS_OK;
}

static ls_status arch_llama4(imp *x)
{
    LS_TRY(common_fields(x));
    ls_model *m = &x->m;
    LS_TRY(get_i(x, "interleave_moe_layer_step", 1, &m->moe_layer_step)); /* Maverick: 2 */
    if (m->moe_layer_step < 1 || m->moe_layer_step > m->layers)
        return field_fail(x, "interleave_moe_layer_step", "expected a step between 1 and num_hidden_layers");
    if (json_object_get(x->cfg, "moe_layers") && !json_is_null(json_object_get(x->cfg, "moe_layers")))
        LS_TRY(forbid(x, "moe_layers", -1, "an explicit list of MoE layers is not modelled (expected the "
                                           "interleave_moe_layer_step rule)"));
    m->moe_ffn = m->ffn; /* intermediate_size is the expert's */
    LS_TRY(get_i(x, "intermediate_size_mlp", m->ffn, &m->ffn));
    LS_TRY(get_i(x, "num_local_experts", -1, &m->experts));
    LS_TRY(get_i(x, "num_experts_per_tok", -1, &m->top_k));
    m->shared_experts = 1;
    int chunk = 0;
    LS_TRY(get_i(x, "attention_chunk_size", 0, &chunk));
    if (chunk > 0) { /* every 4th layer is a global NoPE layer, the others attend within chunks */
        m->sliding_window = chunk;
        m->sliding_layers = m->layers - m->layers / 4;
    }
    return LS_OK;
}

typedef struct arch {
    const char *model_type;
    ls_status (*fn)(imp *x);
} arch;

static const arch archs[] = {
    {"llama", arch_dense},         {"mistral", arch_dense},       {"qwen2", arch_dense},
    {"qwen3", arch_dense},         {"mixtral", arch_mixtral},     {"qwen3_moe", arch_qwen_moe},
    {"qwen2_moe", arch_qwen_moe},  {"deepseek_v3", arch_deepseek}, {"deepseek_v2", arch_deepseek},
    {"kimi_k2", arch_deepseek},    {"gpt_oss", arch_gpt_oss},     {"gemma3", arch_gemma3},
    {"gemma3_text", arch_gemma3},  {"llama4", arch_llama4},       {"llama4_text", arch_llama4},
};

static void default_name(const json_t *root, const char *model_type, char *out, size_t size)
{
    const json_t *n = json_object_get(root, "_name_or_path");
    const char *s = json_is_string(n) ? json_string_value(n) : model_type;
    const char *slash = strrchr(s, '/');
    if (slash && slash[1])
        s = slash + 1;
    size_t j = 0;
    for (size_t i = 0; s[i] && j + 1 < size; i++)
        out[j++] = isalnum((unsigned char)s[i]) || s[i] == '.' || s[i] == '-' ? (char)tolower((unsigned char)s[i]) : '-';
    out[j] = '\0';
}

static void emit_int(FILE *f, const char *key, int v, bool always)
{
    if (always || v)
        fprintf(f, "    %s: %d\n", key, v);
}

ls_status ls_catalog_import_hf(const char *path, const char *name, char **yaml_out, ls_error *e)
{
    *yaml_out = NULL;
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return ls_fail(e, je.line > 0 ? LS_EINVAL : LS_EIO, "%s:%d: %s", path, je.line > 0 ? je.line : 0, je.text);
    ls_status rc = LS_OK;
    imp x = {.path = path, .cfg = root, .e = e};
    const json_t *mt = json_object_get(root, "model_type");
    if (!json_is_object(root) || !json_is_string(mt)) {
        rc = ls_fail(e, LS_EINVAL, "%s: field 'model_type': missing (not a Hugging Face config.json?)", path);
        goto done;
    }
    const char *type = json_string_value(mt);
    const arch *a = NULL;
    for (size_t i = 0; i < sizeof archs / sizeof archs[0]; i++)
        if (!strcmp(archs[i].model_type, type))
            a = &archs[i];
    if (!a) {
        char list[512] = "";
        size_t n = 0;
        for (size_t i = 0; i < sizeof archs / sizeof archs[0]; i++)
            n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", i ? ", " : "", archs[i].model_type);
        rc = ls_fail(e, LS_EINVAL, "%s: field 'model_type': unsupported architecture '%s' (supported: %s)", path,
                     type, list);
        goto done;
    }
    const json_t *tc = json_object_get(root, "text_config");
    if (json_is_object(tc))
        x.cfg = tc;
    if ((rc = a->fn(&x)))
        goto done;
    char nm[LS_NAME_MAX];
    if (name && *name)
        snprintf(nm, sizeof nm, "%s", name);
    else
        default_name(root, type, nm, sizeof nm);

    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    const ls_model *m = &x.m;
    fprintf(f, "# imported by `llmsweep catalog import %s`\nmodels:\n  %s:\n", path, nm);
    fprintf(f, "    source: \"%s (model_type %s)\"\n", path, type);
    emit_int(f, "layers", m->layers, true);
    emit_int(f, "hidden", m->hidden, true);
    emit_int(f, "heads", m->heads, true);
    emit_int(f, "kv_heads", m->kv_heads, true);
    emit_int(f, "head_dim", m->head_dim, true);
    emit_int(f, "v_head_dim", m->v_head_dim, false);
    emit_int(f, "ffn", m->ffn, true);
    emit_int(f, "vocab", m->vocab, true);
    emit_int(f, "max_context", m->max_context, true);
    if (m->experts > 1) {
        emit_int(f, "experts", m->experts, true);
        emit_int(f, "top_k", m->top_k, true);
    }
    emit_int(f, "moe_ffn", m->moe_ffn, false);
    emit_int(f, "shared_experts", m->shared_experts, false);
    emit_int(f, "dense_layers", m->dense_layers, false);
    if (m->moe_layer_step > 1)
        emit_int(f, "moe_layer_step", m->moe_layer_step, false);
    emit_int(f, "q_lora_rank", m->q_lora_rank, false);
    emit_int(f, "kv_lora_rank", m->kv_lora_rank, false);
    emit_int(f, "qk_rope_dim", m->qk_rope_dim, false);
    emit_int(f, "sliding_window", m->sliding_window, false);
    emit_int(f, "sliding_layers", m->sliding_layers, false);
    if (m->tied_embeddings)
        fprintf(f, "    tied_embeddings: true\n");
    fclose(f);

    /* What is written must load: the catalog's own checks (GQA, MLA, MoE layout) apply. */
    ls_catalog *cat = NULL;
    ls_yaml *doc = NULL;
    rc = ls_catalog_builtin(&cat, e);
    if (!rc)
        rc = ls_yaml_load_string(buf, len, path, &doc, e);
    if (!rc)
        rc = ls_catalog_load_yaml(cat, doc, e);
    ls_yaml_free(doc);
    ls_catalog_free(cat);
    if (rc) {
        ls_error_prefix(e, "%s: the imported entry does not load", path);
        free(buf);
        goto done;
    }
    *yaml_out = buf;
done:
    json_decref(root);
    return rc;
}
