/* catalog.c -- models, GPUs and clusters: YAML loading, lookups, derived sizes.
 *
 * One schema for the built-in text (catalog_data.c) and user files: top-level
 * `models:`, `gpus:`, `clusters:` maps keyed by name. An entry may start from
 * another with `base: NAME` (defined earlier, in this file or before) and
 * override some fields; a name that exists already is replaced in place.
 * Schema and units: docs/HARDWARE.md.
 */
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "catalog_image.h"
#include "collective.h"
#include "cost_kernels.h"

extern const char ls_catalog_builtin_yaml[];
extern const size_t ls_catalog_builtin_yaml_len;
/* The 2026 entries (MoE, MLA, sliding-window models; Blackwell, AMD, ... GPUs), applied after the first. */
extern const char ls_catalog_builtin_2026_yaml[];
extern const size_t ls_catalog_builtin_2026_yaml_len;
extern const char ls_catalog_builtin_sources_yaml[];
extern const size_t ls_catalog_builtin_sources_yaml_len;

struct ls_catalog {
    ls_model *models;
    int n_models, cap_models;
    ls_gpu *gpus;
    int n_gpus, cap_gpus;
    ls_cluster *clusters;
    int n_clusters, cap_clusters;
};

/* ---- storage ---------------------------------------------------------------- */

#define GROW(arr, n, cap)                                                  \
    do {                                                                   \
        if ((n) == (cap)) {                                                \
            (cap) = (cap) ? 2 * (cap) : 16;                                \
            (arr) = ls_xrealloc((arr), (size_t)(cap) * sizeof *(arr));     \
        }                                                                  \
    } while (0)

static int find_model(const ls_catalog *c, const char *name)
{
    for (int i = 0; i < c->n_models; i++)
        if (!strcmp(c->models[i].name, name))
            return i;
    return -1;
}

static int find_gpu(const ls_catalog *c, const char *name)
{
    for (int i = 0; i < c->n_gpus; i++)
        if (!strcmp(c->gpus[i].name, name))
            return i;
    return -1;
}

static int find_cluster(const ls_catalog *c, const char *name)
{
    for (int i = 0; i < c->n_clusters; i++)
        if (!strcmp(c->clusters[i].name, name))
            return i;
    return -1;
}

/* ---- field readers ---------------------------------------------------------- */

/* A parse context: the path prefix of the entry ("models.llama-3-70b") for messages. */
typedef struct entry_ctx {
    const ls_yaml *map;
    char path[160];
    ls_error *e;
} entry_ctx;

static ls_status where_fail(const ls_yaml *n, ls_error *e, const char *fmt, const char *path, const char *what)
{
    char where[512];
    ls_yaml_where(n, where, sizeof where);
    return ls_fail(e, LS_EINVAL, fmt, where, path, what);
}

enum { LS_CATALOG_INT_MAX = 100000000 };

/* Read optional integer `key` into *out when present; check min and LS_CATALOG_INT_MAX. */
static ls_status get_int(entry_ctx *x, const char *key, int *out, int min, bool *seen)
{
    const ls_yaml *n = ls_yaml_get(x->map, key);
    if (seen)
        *seen = n != NULL;
    int64_t v = 0;
    if (!n)
        return LS_OK;
    LS_TRY(ls_yaml_get_int(x->map, x->path, key, min, INT64_MAX, &v, x->e));
    if (v > LS_CATALOG_INT_MAX) { /* keeps every derived size (params, bytes) far from overflow */
        char path[256], what[64];
        snprintf(path, sizeof path, "%s.%s", x->path, key);
        snprintf(what, sizeof what, "at most %d, got %lld", LS_CATALOG_INT_MAX, (long long)v);
        return where_fail(n, x->e, "%s: %s: too large (%s)", path, what);
    }
    *out = (int)v;
    return LS_OK;
}

/* Read optional number `key` times `scale` into *out; the raw value must lie in [lo, hi]. */
static ls_status get_num(entry_ctx *x, const char *key, double scale, double lo, double hi, double *out)
{
    const ls_yaml *n = ls_yaml_get(x->map, key);
    if (!n)
        return LS_OK;
    double v = 0;
    LS_TRY(ls_yaml_get_double_in(x->map, x->path, key, lo, false, hi, NULL, &v, x->e));
    *out = v * scale;
    return LS_OK;
}

static ls_status get_bool(entry_ctx *x, const char *key, bool *out)
{
    return ls_yaml_get_bool(x->map, x->path, key, out, x->e);
}

static ls_status get_str(entry_ctx *x, const char *key, char *out, size_t size)
{
    const ls_yaml *n = ls_yaml_get(x->map, key);
    if (!n)
        return LS_OK;
    char path[256];
    snprintf(path, sizeof path, "%s.%s", x->path, key);
    const char *s;
    LS_TRY(ls_yaml_as_string(n, path, &s, x->e));
    if (strlen(s) >= size)
        return where_fail(n, x->e, "%s: %s: expected %s", path, "a shorter string");
    snprintf(out, size, "%s", s);
    return LS_OK;
}

/* Check that every field in `required` is present unless the entry has a base. */
static ls_status require(entry_ctx *x, bool has_base, const char *const *required)
{
    if (has_base)
        return LS_OK;
    for (const char *const *r = required; *r; r++)
        if (!ls_yaml_get(x->map, *r)) {
            char where[512];
            ls_yaml_where(x->map, where, sizeof where);
            return ls_fail(x->e, LS_EINVAL, "%s: %s: missing required key '%s' (or give 'base: NAME')",
                           where, x->path, *r);
        }
    return LS_OK;
}

/* Resolve `base:` through `find` into the index of an existing entry (-1 when absent). */
static ls_status get_base(entry_ctx *x, const ls_catalog *c, int (*find)(const ls_catalog *, const char *),
                          const char *kind, int *idx)
{
    *idx = -1;
    const ls_yaml *n = ls_yaml_get(x->map, "base");
    if (!n)
        return LS_OK;
    char path[256];
    snprintf(path, sizeof path, "%s.base", x->path);
    const char *s;
    LS_TRY(ls_yaml_as_string(n, path, &s, x->e));
    *idx = find(c, s);
    if (*idx < 0) {
        char where[512];
        ls_yaml_where(n, where, sizeof where);
        return ls_fail(x->e, LS_EINVAL, "%s: %s: unknown %s '%s' (a base must be defined earlier)", where, path,
                       kind, s);
    }
    return LS_OK;
}

static ls_status entry_fail(entry_ctx *x, const char *what)
{
    char where[512];
    ls_yaml_where(x->map, where, sizeof where);
    return ls_fail(x->e, LS_EINVAL, "%s: %s: %s", where, x->path, what);
}

/* ---- entries ---------------------------------------------------------------- */

/* The optional architecture keys (MoE layout, MLA, separate v head, sliding
 * window) and the checks that tie them together. */
static ls_status get_model_arch(entry_ctx *x, ls_model *m)
{
    bool seen_moe_ffn, seen_shared, seen_dense;
    LS_TRY(get_int(x, "v_head_dim", &m->v_head_dim, 1, NULL));
    LS_TRY(get_int(x, "moe_ffn", &m->moe_ffn, 1, &seen_moe_ffn));
    LS_TRY(get_int(x, "shared_experts", &m->shared_experts, 0, &seen_shared));
    LS_TRY(get_int(x, "dense_layers", &m->dense_layers, 0, &seen_dense));
    bool seen_step;
    LS_TRY(get_int(x, "moe_layer_step", &m->moe_layer_step, 1, &seen_step));
    LS_TRY(get_int(x, "q_lora_rank", &m->q_lora_rank, 0, NULL));
    LS_TRY(get_int(x, "kv_lora_rank", &m->kv_lora_rank, 0, NULL));
    LS_TRY(get_int(x, "qk_rope_dim", &m->qk_rope_dim, 0, NULL));
    LS_TRY(get_int(x, "sliding_window", &m->sliding_window, 0, NULL));
    LS_TRY(get_int(x, "sliding_layers", &m->sliding_layers, 0, NULL));
    if (m->heads % m->kv_heads)
        return entry_fail(x, "heads must be a multiple of kv_heads (grouped-query attention)");
    if (m->top_k > m->experts)
        return entry_fail(x, "top_k must not exceed experts");
    if (m->experts == 1 && (seen_moe_ffn || seen_shared || seen_dense) &&
        (m->moe_ffn || m->shared_experts || m->dense_layers))
        return entry_fail(x, "moe_ffn, shared_experts and dense_layers describe MoE layers: set experts > 1");
    if (m->experts == 1 && seen_step && m->moe_layer_step > 1)
        return entry_fail(x, "moe_layer_step describes MoE layers: set experts > 1");
    if (m->dense_layers >= m->layers && m->experts > 1)
        return entry_fail(x, "dense_layers must be fewer than layers (the rest are MoE layers)");
    if (m->experts > 1 && ls_model_moe_layers(m) < 1)
        return entry_fail(x, "moe_layer_step leaves no MoE layer after dense_layers (expected a step <= layers)");
    if (m->kv_lora_rank > 0 && !(m->qk_rope_dim > 0 && m->qk_rope_dim < m->head_dim))
        return entry_fail(x, "an MLA model (kv_lora_rank > 0) needs 0 < qk_rope_dim < head_dim "
                             "(head_dim = qk_nope_head_dim + qk_rope_head_dim)");
    if (m->kv_lora_rank == 0 && (m->q_lora_rank || m->qk_rope_dim))
        return entry_fail(x, "q_lora_rank and qk_rope_dim are MLA keys: set kv_lora_rank too");
    if (m->sliding_layers > m->layers)
        return entry_fail(x, "sliding_layers must not exceed layers");
    if ((m->sliding_layers > 0) != (m->sliding_window > 0))
        return entry_fail(x, "sliding_window and sliding_layers go together (both > 0, or neither)");
    return LS_OK;
}

static ls_status parse_model(ls_catalog *c, const char *name, const ls_yaml *map, ls_error *e)
{
    static const char *const keys[] = {"base", "description", "source", "layers", "hidden", "heads",
                                       "kv_heads", "head_dim", "v_head_dim", "ffn", "vocab", "max_context",
                                       "experts", "top_k", "moe_ffn", "shared_experts", "dense_layers", "moe_layer_step",
                                       "q_lora_rank", "kv_lora_rank", "qk_rope_dim", "sliding_window",
                                       "sliding_layers", "tied_embeddings", NULL};
    static const char *const req[] = {"layers", "hidden", "heads", "kv_heads", "head_dim", "ffn", "vocab",
                                      "max_context", NULL};
    entry_ctx x = {.map = map, .e = e};
    snprintf(x.path, sizeof x.path, "models.%s", name);
    LS_TRY(ls_yaml_check_keys(map, x.path, keys, e));
    int base;
    LS_TRY(get_base(&x, c, find_model, "model", &base));
    LS_TRY(require(&x, base >= 0, req));
    ls_model m;
    memset(&m, 0, sizeof m); /* padding too: the build's image (catalog_image.h) is these bytes */
    m.experts = 1;
    m.top_k = 1;
    if (base >= 0)
        m = c->models[base];
    snprintf(m.name, sizeof m.name, "%s", name);
    LS_TRY(get_int(&x, "layers", &m.layers, 1, NULL));
    LS_TRY(get_int(&x, "hidden", &m.hidden, 1, NULL));
    LS_TRY(get_int(&x, "heads", &m.heads, 1, NULL));
    LS_TRY(get_int(&x, "kv_heads", &m.kv_heads, 1, NULL));
    LS_TRY(get_int(&x, "head_dim", &m.head_dim, 1, NULL));
    LS_TRY(get_int(&x, "ffn", &m.ffn, 1, NULL));
    LS_TRY(get_int(&x, "vocab", &m.vocab, 1, NULL));
    /* a prompt needs a token and the output one more: a context of 1 would reject every request */
    LS_TRY(get_int(&x, "max_context", &m.max_context, 2, NULL));
    LS_TRY(get_int(&x, "experts", &m.experts, 1, NULL));
    LS_TRY(get_int(&x, "top_k", &m.top_k, 1, NULL));
    LS_TRY(get_bool(&x, "tied_embeddings", &m.tied_embeddings));
    LS_TRY(get_str(&x, "source", m.source, sizeof m.source));
    LS_TRY(get_model_arch(&x, &m));
    int i = find_model(c, name);
    if (i < 0) {
        GROW(c->models, c->n_models, c->cap_models);
        i = c->n_models++;
    }
    c->models[i] = m;
    return LS_OK;
}

static ls_status parse_gpu(ls_catalog *c, const char *name, const ls_yaml *map, ls_error *e)
{
    static const char *const keys[] = {"base", "description", "memory_gb", "device_memory_gib", "hbm_tbps", "bf16_tflops",
                                       "fp8_tflops", "fp4_tflops", "source", "mfu_max", "mfu_half_tokens", "mbu", "attn_eff",
                                       "kernel_overhead_us", "moe_overhead_us", "iter_overhead_ms", "activation_reserve_gb",
                                       "host", "kernel_tables", "seq_overhead_us", NULL};
    static const char *const req[] = {"memory_gb", "hbm_tbps", "bf16_tflops", "mfu_max", "mbu", "attn_eff",
                                      NULL};
    entry_ctx x = {.map = map, .e = e};
    snprintf(x.path, sizeof x.path, "gpus.%s", name);
    LS_TRY(ls_yaml_check_keys(map, x.path, keys, e));
    int base;
    LS_TRY(get_base(&x, c, find_gpu, "gpu", &base));
    LS_TRY(require(&x, base >= 0, req));
    ls_gpu g;
    memset(&g, 0, sizeof g);
    if (base >= 0)
        g = c->gpus[base];
    /* measured tables belong to one physical GPU: kept by an overlay of the same name, not by a derived GPU */
    if (base >= 0 && strcmp(c->gpus[base].name, name))
        g.kernel_tables[0] = 0;
    snprintf(g.name, sizeof g.name, "%s", name);
    LS_TRY(get_num(&x, "memory_gb", 1e9, 1e-3, 1e6, &g.mem_bytes));
    if (ls_yaml_get(map, "memory_gb"))
        g.device_mem_bytes = 0;  /* a new capacity does not inherit the base's driver figure */
    LS_TRY(get_num(&x, "device_memory_gib", 1073741824.0, 0, 1e6, &g.device_mem_bytes));
    LS_TRY(get_num(&x, "hbm_tbps", 1e12, 1e-3, 1e3, &g.hbm_bw));
    LS_TRY(get_num(&x, "bf16_tflops", 1e12, 1e-3, 1e6, &g.flops_bf16));
    LS_TRY(get_num(&x, "fp8_tflops", 1e12, 0, 1e6, &g.flops_fp8));
    LS_TRY(get_num(&x, "fp4_tflops", 1e12, 0, 1e6, &g.flops_fp4));
    LS_TRY(get_str(&x, "source", g.source, sizeof g.source));
    LS_TRY(get_num(&x, "mfu_max", 1, 1e-3, 1, &g.mfu_max));
    LS_TRY(get_num(&x, "mfu_half_tokens", 1, 0, 1e6, &g.mfu_half_tokens));
    LS_TRY(get_num(&x, "mbu", 1, 1e-3, 1, &g.mbu));
    LS_TRY(get_num(&x, "attn_eff", 1, 1e-3, 1, &g.attn_eff));
    LS_TRY(get_num(&x, "kernel_overhead_us", 1e-6, 0, 1e6, &g.kernel_overhead_s));
    LS_TRY(get_num(&x, "moe_overhead_us", 1e-6, 0, 1e6, &g.moe_overhead_s));
    LS_TRY(get_num(&x, "iter_overhead_ms", 1e-3, 0, 1e6, &g.iter_overhead_s));
    LS_TRY(get_num(&x, "seq_overhead_us", 1e-6, 0, 1e6, &g.seq_overhead_s));
    LS_TRY(get_num(&x, "activation_reserve_gb", 1e9, 0, 1e6, &g.activation_reserve_bytes));
    char host[16] = "";
    LS_TRY(get_str(&x, "host", host, sizeof host));
    if (host[0] && strcmp(host, "x86") && strcmp(host, "grace"))
        return entry_fail(&x, "host must be x86 or grace");
    if (host[0])
        g.grace_host = !strcmp(host, "grace");
    /* measured kernel tables (cost: {model: kernels}); "none" clears a base's */
    LS_TRY(get_str(&x, "kernel_tables", g.kernel_tables, sizeof g.kernel_tables));
    if (!strcmp(g.kernel_tables, "none"))
        g.kernel_tables[0] = 0;
    if (g.kernel_tables[0] && !ls_kernels_known(g.kernel_tables))
        return entry_fail(&x, "kernel_tables names no measured tables (known: h100_sxm, h200_sxm, b200_sxm, a100_sxm, "
                              "l40s; none clears)");
    int i = find_gpu(c, name);
    if (i < 0) {
        GROW(c->gpus, c->n_gpus, c->cap_gpus);
        i = c->n_gpus++;
    }
    c->gpus[i] = g;
    return LS_OK;
}

static ls_status parse_cluster(ls_catalog *c, const char *name, const ls_yaml *map, ls_error *e)
{
    static const char *const keys[] = {"base", "description", "gpus_per_node", "max_nodes", "intra_gbps",
                                       "intra_lat_us", "intra_switch", "inter_gbps", "inter_lat_us",
                                       "allreduce_eff", "default_gpu", "source", "host_memory_gb", "intra_link",
                                       "custom_lat_us", "allreduce_table", NULL};
    static const char *const req[] = {"gpus_per_node", "inter_gbps", "allreduce_eff", NULL};
    entry_ctx x = {.map = map, .e = e};
    snprintf(x.path, sizeof x.path, "clusters.%s", name);
    LS_TRY(ls_yaml_check_keys(map, x.path, keys, e));
    int base;
    LS_TRY(get_base(&x, c, find_cluster, "cluster", &base));
    LS_TRY(require(&x, base >= 0, req));
    ls_cluster k;
    memset(&k, 0, sizeof k);
    k.custom_lat_s = 4.5e-6;
    if (base >= 0)
        k = c->clusters[base];
    snprintf(k.name, sizeof k.name, "%s", name);
    LS_TRY(get_int(&x, "gpus_per_node", &k.gpus_per_node, 1, NULL));
    LS_TRY(get_int(&x, "max_nodes", &k.max_nodes, 0, NULL));
    LS_TRY(get_num(&x, "intra_gbps", 1e9, 0, 1e6, &k.intra_bw));
    LS_TRY(get_num(&x, "intra_lat_us", 1e-6, 0, 1e6, &k.intra_lat_s));
    LS_TRY(get_bool(&x, "intra_switch", &k.intra_switch));
    LS_TRY(get_num(&x, "inter_gbps", 1e9, 1e-6, 1e6, &k.inter_bw));
    LS_TRY(get_num(&x, "inter_lat_us", 1e-6, 0, 1e6, &k.inter_lat_s));
    LS_TRY(get_num(&x, "allreduce_eff", 1, 1e-3, 1, &k.allreduce_eff));
    LS_TRY(get_str(&x, "default_gpu", k.default_gpu, sizeof k.default_gpu));
    LS_TRY(get_str(&x, "source", k.source, sizeof k.source));
    LS_TRY(get_num(&x, "host_memory_gb", 1e9, 0, 1e9, &k.host_memory_bytes));
    LS_TRY(get_num(&x, "custom_lat_us", 1e-6, 0, 1e6, &k.custom_lat_s));
    LS_TRY(get_str(&x, "allreduce_table", k.allreduce_table, sizeof k.allreduce_table));
    char link[16] = "";
    LS_TRY(get_str(&x, "intra_link", link, sizeof link));
    if (link[0]) {
        static const char *const links[] = {"nvlink", "pcie", "pcie-nop2p"};
        k.intra_link = -1;
        for (int j = 0; j < 3; j++)
            if (!strcmp(link, links[j]))
                k.intra_link = j;
        if (k.intra_link < 0)
            return entry_fail(&x, "intra_link must be nvlink, pcie or pcie-nop2p");
    }
    if (k.allreduce_table[0] && !ls_collective_table_known(k.allreduce_table))
        return entry_fail(&x, "allreduce_table names no measured table (known: h100_sxm, h200_sxm, b200_sxm, gb200, "
                              "a100_sxm, l40s)");
    if (k.gpus_per_node > 1 && !(k.intra_bw > 0))
        return entry_fail(&x, "intra_gbps must be > 0 when gpus_per_node > 1");
    if (k.default_gpu[0] && find_gpu(c, k.default_gpu) < 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "default_gpu '%s' is not a known gpu", k.default_gpu);
        return entry_fail(&x, msg);
    }
    int i = find_cluster(c, name);
    if (i < 0) {
        GROW(c->clusters, c->n_clusters, c->cap_clusters);
        i = c->n_clusters++;
    }
    c->clusters[i] = k;
    return LS_OK;
}

typedef ls_status (*parse_fn)(ls_catalog *, const char *, const ls_yaml *, ls_error *);

static ls_status parse_section(ls_catalog *c, const ls_yaml *doc, const char *section, parse_fn fn, ls_error *e)
{
    const ls_yaml *s = ls_yaml_get(doc, section);
    if (!s || ls_yaml_is_null(s))
        return LS_OK;
    if (s->kind != LS_YAML_MAP) {
        char where[512];
        ls_yaml_where(s, where, sizeof where);
        return ls_fail(e, LS_EINVAL, "%s: %s: expected a mapping of names to entries", where, section);
    }
    for (size_t i = 0; i < s->n; i++) {
        const char *name = s->keys[i];
        if (!name[0] || strlen(name) >= LS_NAME_MAX) {
            char where[512];
            ls_yaml_where(s->vals[i], where, sizeof where);
            return ls_fail(e, LS_EINVAL, "%s: %s: names must have 1 to %d characters", where, section,
                           LS_NAME_MAX - 1);
        }
        LS_TRY(fn(c, name, s->vals[i], e));
    }
    return LS_OK;
}

ls_status ls_catalog_load_yaml(ls_catalog *c, const ls_yaml *doc, ls_error *e)
{
    assert(c);
    static const char *const top[] = {"models", "gpus", "clusters", NULL};
    LS_TRY(ls_yaml_check_keys(doc, "", top, e));
    /* GPUs before clusters: a cluster's default_gpu may name a GPU of the same file. */
    LS_TRY(parse_section(c, doc, "models", parse_model, e));
    LS_TRY(parse_section(c, doc, "gpus", parse_gpu, e));
    LS_TRY(parse_section(c, doc, "clusters", parse_cluster, e));
    return LS_OK;
}

ls_status ls_catalog_load_file(ls_catalog *c, const char *path, ls_error *e)
{
    ls_yaml *doc = NULL;
    LS_TRY(ls_yaml_load_file(path, &doc, e));
    ls_status rc = ls_catalog_load_yaml(c, doc, e);
    ls_yaml_free(doc);
    return rc;
}

ls_status ls_catalog_builtin_parse(ls_catalog **out, ls_error *e)
{
    ls_catalog *c = ls_xcalloc(1, sizeof *c);
    const struct {
        const char *text;
        size_t len;
        const char *name;
    } parts[] = {{ls_catalog_builtin_yaml, ls_catalog_builtin_yaml_len, "<built-in catalog>"},
                 {ls_catalog_builtin_sources_yaml, ls_catalog_builtin_sources_yaml_len, "<built-in sources>"},
                 {ls_catalog_builtin_2026_yaml, ls_catalog_builtin_2026_yaml_len, "<built-in catalog 2026>"}};
    ls_status rc = LS_OK;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0] && rc == LS_OK; i++) {
        ls_yaml *doc = NULL;
        rc = ls_yaml_load_string(parts[i].text, parts[i].len, parts[i].name, &doc, e);
        if (rc == LS_OK)
            rc = ls_catalog_load_yaml(c, doc, e);
        ls_yaml_free(doc);
    }
    if (rc != LS_OK) {
        ls_catalog_free(c);
        *out = NULL;
        return rc;
    }
    *out = c;
    return LS_OK;
}

#ifdef LS_CATALOG_NO_IMAGE
/* The image's generator (replay/gen/catalog_image.c) has no image yet: it parses. */
ls_status ls_catalog_builtin(ls_catalog **out, ls_error *e) { return ls_catalog_builtin_parse(out, e); }
#else
/* A copy of the build's image: what ls_catalog_builtin_parse gives, without parsing 32 KB of YAML
 * (about 6 M instructions, 0.5 ms, most of a tiny `llmsweep run`: docs/ENGINE.md "Start-up"). The
 * generator is built from the same sources by the same compiler, so the sizes agree; if they did
 * not, parsing is still right. */
ls_status ls_catalog_builtin(ls_catalog **out, ls_error *e)
{
    const ls_catalog_image *im = &ls_catalog_builtin_image;
    if (im->model_size != sizeof(ls_model) || im->gpu_size != sizeof(ls_gpu) ||
        im->cluster_size != sizeof(ls_cluster))
        return ls_catalog_builtin_parse(out, e);
    ls_catalog *c = ls_xcalloc(1, sizeof *c);
    c->n_models = c->cap_models = im->n_models;
    c->n_gpus = c->cap_gpus = im->n_gpus;
    c->n_clusters = c->cap_clusters = im->n_clusters;
    c->models = ls_xmalloc((size_t)im->n_models * sizeof *c->models);
    c->gpus = ls_xmalloc((size_t)im->n_gpus * sizeof *c->gpus);
    c->clusters = ls_xmalloc((size_t)im->n_clusters * sizeof *c->clusters);
    memcpy(c->models, im->models, (size_t)im->n_models * sizeof *c->models);
    memcpy(c->gpus, im->gpus, (size_t)im->n_gpus * sizeof *c->gpus);
    memcpy(c->clusters, im->clusters, (size_t)im->n_clusters * sizeof *c->clusters);
    *out = c;
    return LS_OK;
}
#endif

void ls_catalog_free(ls_catalog *c)
{
    if (!c)
        return;
    free(c->models);
    free(c->gpus);
    free(c->clusters);
    free(c);
}

/* ---- lookups ---------------------------------------------------------------- */

/* "unknown model 'x' (known: a, b, c)" */
static ls_status unknown(ls_error *e, const char *kind, const char *name, int n, const char *(*name_at)(const ls_catalog *, int),
                         const ls_catalog *c)
{
    char list[800] = "";
    size_t used = 0;
    for (int i = 0; i < n && used < sizeof list - 80; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", name_at(c, i));
    return ls_fail(e, LS_EINVAL, "unknown %s '%s' (known: %s)", kind, name ? name : "", list);
}

static const char *model_name_at(const ls_catalog *c, int i) { return c->models[i].name; }
static const char *gpu_name_at(const ls_catalog *c, int i) { return c->gpus[i].name; }
static const char *cluster_name_at(const ls_catalog *c, int i) { return c->clusters[i].name; }

ls_status ls_catalog_model(const ls_catalog *c, const char *name, const ls_model **out, ls_error *e)
{
    int i = name ? find_model(c, name) : -1;
    if (i < 0)
        return unknown(e, "model", name, c->n_models, model_name_at, c);
    *out = &c->models[i];
    return LS_OK;
}

ls_status ls_catalog_gpu(const ls_catalog *c, const char *name, const ls_gpu **out, ls_error *e)
{
    int i = name ? find_gpu(c, name) : -1;
    if (i < 0)
        return unknown(e, "gpu", name, c->n_gpus, gpu_name_at, c);
    *out = &c->gpus[i];
    return LS_OK;
}

ls_status ls_catalog_cluster(const ls_catalog *c, const char *name, const ls_cluster **out, ls_error *e)
{
    int i = name ? find_cluster(c, name) : -1;
    if (i < 0)
        return unknown(e, "cluster", name, c->n_clusters, cluster_name_at, c);
    *out = &c->clusters[i];
    return LS_OK;
}

int ls_catalog_n_models(const ls_catalog *c) { return c->n_models; }
const ls_model *ls_catalog_model_at(const ls_catalog *c, int i)
{
    assert(i >= 0 && i < c->n_models);
    return &c->models[i];
}
int ls_catalog_n_gpus(const ls_catalog *c) { return c->n_gpus; }
const ls_gpu *ls_catalog_gpu_at(const ls_catalog *c, int i)
{
    assert(i >= 0 && i < c->n_gpus);
    return &c->gpus[i];
}
int ls_catalog_n_clusters(const ls_catalog *c) { return c->n_clusters; }
const ls_cluster *ls_catalog_cluster_at(const ls_catalog *c, int i)
{
    assert(i >= 0 && i < c->n_clusters);
    return &c->clusters[i];
}
