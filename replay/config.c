/* config.c -- validate and resolve a run configuration (docs/CONFIG.md).
 *
 * Every key is checked against the schema; every error names FILE:LINE and
 * the dotted key path. Names are resolved against the catalog here so that
 * ls_run only fails on I/O. */
#include <assert.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"
#include "pools.h"
#include "replica_mix.h"
#include "kvcache.h"
#include "engine_profile.h"
#include "dist.h" /* ls_fmt_double */
#include "sched_capacity.h"
#include "sched_order.h"
#include "step_options.h"
#include "workload.h"

const char *ls_policy_name(ls_policy p)
{
    switch (p) {
    case LS_POLICY_VLLM_V1: return "vllm-v1";
    case LS_POLICY_VLLM_V0: return "vllm-v0";
    case LS_POLICY_SARATHI: return "sarathi";
    }
    return "?";
}

static const char *where(const ls_yaml *n, char *buf, size_t size)
{
    return ls_yaml_where(n, buf, size);
}

/* "tp4pp2dp2", "dp8", "tp1", "dp8ep8" (any order, each at most once, missing = 1;
 * deg[] = tp, pp, dp, ep). */
static ls_status parse_strategy(const char *s, int deg[4], char *err, size_t errsz)
{
    static const char names[4][3] = {"tp", "pp", "dp", "ep"};
    bool seen[4] = {false, false, false, false};
    for (int i = 0; i < 4; i++)
        deg[i] = 1;
    const char *p = s;
    if (!*p) {
        snprintf(err, errsz, "empty strategy");
        return LS_EINVAL;
    }
    while (*p) {
        int which = -1;
        for (int i = 0; i < 4; i++)
            if (!strncmp(p, names[i], 2))
                which = i;
        if (which < 0) {
            snprintf(err, errsz, "expected tp<N>, pp<N>, dp<N> or ep<N> at '%s'", p);
            return LS_EINVAL;
        }
        p += 2;
        if (!isdigit((unsigned char)*p)) {
            snprintf(err, errsz, "expected a number after '%.2s'", p - 2);
            return LS_EINVAL;
        }
        long v = 0;
        while (isdigit((unsigned char)*p) && v < 1000000)
            v = v * 10 + (*p++ - '0');
        if (v < 1 || v > 65536 || seen[which]) {
            snprintf(err, errsz, "degree out of range or repeated");
            return LS_EINVAL;
        }
        seen[which] = true;
        deg[which] = (int)v;
    }
    return LS_OK;
}

/* Canonical strategy string: degrees of 1 are left out unless all are 1, so it
 * reads as users write it (dp8, pp8, tp4pp2, tp1, dp8ep8). */
static void format_strategy(int tp, int pp, int dp, int ep, char *out, size_t size)
{
    int n = 0;
    out[0] = '\0';
    if (tp > 1 || (pp == 1 && dp == 1))
        n = snprintf(out, size, "tp%d", tp);
    if (pp > 1)
        n += snprintf(out + n, size - (size_t)n, "pp%d", pp);
    if (dp > 1)
        n += snprintf(out + n, size - (size_t)n, "dp%d", dp);
    if (ep > 1)
        snprintf(out + n, size - (size_t)n, "ep%d", ep);
}

/* Join a relative path to base_dir (caller frees). */
static char *resolve_path(const char *base_dir, const char *path)
{
    if (!base_dir || !*base_dir || path[0] == '/')
        return ls_xstrdup(path);
    size_t n = strlen(base_dir) + strlen(path) + 2;
    char *out = ls_xmalloc(n);
    snprintf(out, n, "%s/%s", base_dir, path);
    return out;
}

/* TP must split the attention heads evenly, and the KV heads either evenly
 * or by replication (vLLM's rule: heads % tp == 0 and kv_heads % tp == 0 or
 * tp % kv_heads == 0); anything else is a deployment vLLM refuses to start. */
static bool tp_fits(int heads, int kv_heads, int tp)
{
    return tp >= 1 && heads % tp == 0 && (kv_heads % tp == 0 || tp % kv_heads == 0);
}

static ls_status check_tp(const ls_run_config *c, const ls_yaml *par, const char *key, ls_error *e)
{
    const ls_model *m = &c->model;
    assert(m->heads >= 1 && m->kv_heads >= 1);
    if (tp_fits(m->heads, m->kv_heads, c->tp))
        return LS_OK;
    char valid[256] = "";
    size_t n = 0;
    for (int d = 1; d <= m->heads && n + 16 < sizeof valid; d++)
        if (tp_fits(m->heads, m->kv_heads, d))
            n += (size_t)snprintf(valid + n, sizeof valid - n, "%s%d", n ? ", " : "", d);
    char w[300];
    return ls_fail(e, LS_EINVAL,
                   "%s: %s: tp %d does not fit %s (%d attention heads, %d KV heads): tp must divide the "
                   "attention heads, and the KV heads must divide by tp or tp by them (as vLLM requires); "
                   "valid TP degrees: %s",
                   where(par, w, sizeof w), key, c->tp, m->name, m->heads, m->kv_heads, valid);
}

static const char *const top_keys[] = {"model", "dtype", "hardware", "cluster", "parallelism", "scheduler",
                                       "router", "workload", "seed", "slo", "timeout_s", "drain",
                                       "horizon_s", "catalog", "cost", "moe", "disaggregation", "replicas", "kv_offload",
                                       "cpu_offload_gb", "cpu_offload_link", "engine", "speculative", NULL};
static const char *const sched_keys[] = {"policy", "enable_chunked_prefill", "prefill_chunk_size",
                                         "max_batched_tokens", "max_num_seqs", "max_model_len",
                                         "gpu_memory_utilization", "block_size", "num_kv_blocks",
                                         "target_tbt_s", "watermark", "capacity_policy", "enable_prefix_caching",
                                         "order", "sjf_max_wait_s", "adaptive_budget",
                                         "async_scheduling", "num_scheduler_steps", "preemption_mode",
                                         "swap_space_gb", "swap_link", NULL};

static ls_status load_catalog(const ls_yaml *root, const char *base_dir, const ls_catalog *given,
                              ls_catalog **owned, const ls_catalog **use, ls_error *e)
{
    const ls_yaml *files = ls_yaml_get(root, "catalog");
    const ls_yaml *cl = ls_yaml_get(root, "cluster");
    bool inline_cluster = cl && cl->kind == LS_YAML_MAP;
    *owned = NULL;
    *use = given;
    if (!files && !inline_cluster && given)
        return LS_OK;
    if (files && files->kind != LS_YAML_SEQ && files->kind != LS_YAML_SCALAR) {
        char w[300];
        return ls_fail(e, LS_EINVAL, "%s: catalog: expected a list of catalog files", where(files, w, sizeof w));
    }
    /* A private catalog: the built-in entries plus the configuration's own files.
     * (A caller-supplied catalog cannot be copied, so its extra entries are
     * not visible when a configuration names catalog files of its own.) */
    LS_TRY(ls_catalog_builtin(owned, e));
    *use = *owned;
    size_t nf = files ? (files->kind == LS_YAML_SEQ ? files->n : 1) : 0;
    for (size_t i = 0; i < nf; i++) {
        const ls_yaml *f = files->kind == LS_YAML_SEQ ? files->vals[i] : files;
        char path[64];
        snprintf(path, sizeof path, "catalog[%zu]", i);
        const char *name;
        LS_TRY(ls_yaml_as_string(f, path, &name, e));
        char *full = resolve_path(base_dir, name);
        ls_status rc = ls_catalog_load_file(*owned, full, e);
        free(full);
        if (rc) {
            char w[300];
            return ls_error_prefix(e, "%s: %s", where(f, w, sizeof w), path);
        }
    }
    if (inline_cluster) {
        /* An inline topology is a catalog entry named by its 'name' key (or "custom"). */
        ls_yaml *copy = ls_yaml_clone(cl);
        const ls_yaml *nm = ls_yaml_get(copy, "name");
        char name[LS_NAME_MAX] = "custom";
        if (nm && nm->kind == LS_YAML_SCALAR)
            snprintf(name, sizeof name, "%s", nm->scalar);
        ls_yaml_map_remove(copy, "name");
        ls_yaml *clusters = ls_yaml_new_map();
        ls_yaml_map_set(clusters, name, copy);
        ls_yaml *doc = ls_yaml_new_map();
        ls_yaml_map_set(doc, "clusters", clusters);
        ls_status rc = ls_catalog_load_yaml(*owned, doc, e);
        ls_yaml_free(doc);
        if (rc) {
            char w[300];
            return ls_error_prefix(e, "%s: cluster", where(cl, w, sizeof w));
        }
    }
    return LS_OK;
}

/* cost: {model: table, file: F}: resolve F against base_dir and open it once
 * here, so that a malformed table or a TP it lacks fails at load time. */
static ls_status load_cost_table(ls_run_config *c, const ls_yaml *cost, const char *base_dir, ls_error *e)
{
    char w[300];
    const char *file = NULL;
    LS_TRY(ls_yaml_get_string(cost, "cost", "file", &file, e));
    if (!file)
        return ls_fail(e, LS_EINVAL, "%s: cost.file: required (a CSV of measured times) for the table cost model",
                       where(cost, w, sizeof w));
    int n = file[0] == '/' || !base_dir || !*base_dir
                ? snprintf(c->cost_table_path, sizeof c->cost_table_path, "%s", file)
                : snprintf(c->cost_table_path, sizeof c->cost_table_path, "%s/%s", base_dir, file);
    if (n < 0 || (size_t)n >= sizeof c->cost_table_path)
        return ls_fail(e, LS_EINVAL, "%s: cost.file: path too long", where(ls_yaml_get(cost, "file"), w, sizeof w));
    ls_deploy d = {.model = &c->model, .gpu = &c->gpu, .cluster = &c->cluster, .tp = c->tp, .pp = c->pp,
                   .w_dtype = c->w_dtype, .kv_dtype = c->kv_dtype, .first_gpu = 0};
    ls_cost_model *cm = NULL;
    if (ls_cost_table_new(&d, c->cost_table_path, &cm, e))
        return ls_error_prefix(e, "%s: cost.file", where(ls_yaml_get(cost, "file"), w, sizeof w));
    ls_cost_free(cm);
    return LS_OK;
}

static ls_status load_body(ls_run_config *c, const ls_yaml *root, const char *base_dir, const ls_catalog *cat,
                           ls_error *e)
{
    char w[300];
    /* model */
    const char *model_name = NULL;
    LS_TRY(ls_yaml_get_string(root, "", "model", &model_name, e));
    if (!model_name)
        return ls_fail(e, LS_EINVAL, "%s: missing key 'model' (a catalog model name, e.g. llama-3-70b)",
                       where(root, w, sizeof w));
    const ls_model *m;
    if (ls_catalog_model(cat, model_name, &m, e))
        return ls_error_prefix(e, "%s: model", where(ls_yaml_get(root, "model"), w, sizeof w));
    c->model = *m;

    /* dtype: {weights, kv} or one string for both */
    c->w_dtype = c->kv_dtype = LS_DTYPE_BF16;
    const ls_yaml *dt = ls_yaml_get(root, "dtype");
    if (dt && dt->kind == LS_YAML_SCALAR) {
        const char *s;
        LS_TRY(ls_yaml_as_string(dt, "dtype", &s, e));
        if (ls_dtype_parse(s, &c->w_dtype, e))
            return ls_error_prefix(e, "%s: dtype", where(dt, w, sizeof w));
        c->kv_dtype = c->w_dtype;
    } else if (dt) {
        static const char *const k[] = {"weights", "kv", "experts", NULL};
        LS_TRY(ls_yaml_check_keys(dt, "dtype", k, e));
        const char *s = NULL;
        LS_TRY(ls_yaml_get_string(dt, "dtype", "weights", &s, e));
        if (s && ls_dtype_parse(s, &c->w_dtype, e))
            return ls_error_prefix(e, "%s: dtype.weights", where(ls_yaml_get(dt, "weights"), w, sizeof w));
        s = NULL;
        LS_TRY(ls_yaml_get_string(dt, "dtype", "kv", &s, e));
        if (s && ls_dtype_parse(s, &c->kv_dtype, e))
            return ls_error_prefix(e, "%s: dtype.kv", where(ls_yaml_get(dt, "kv"), w, sizeof w));
        s = NULL;
        LS_TRY(ls_yaml_get_string(dt, "dtype", "experts", &s, e));
        if (s && ls_dtype_parse(s, &c->e_dtype, e))
            return ls_error_prefix(e, "%s: dtype.experts", where(ls_yaml_get(dt, "experts"), w, sizeof w));
        c->has_e_dtype = s != NULL;
    }
    if (c->kv_dtype != LS_DTYPE_BF16 && c->kv_dtype != LS_DTYPE_FP8)
        return ls_fail(e, LS_EINVAL, "%s: dtype%s: a KV cache of %s is not modelled (expected bf16 or fp8)",
                       where(dt, w, sizeof w), dt->kind == LS_YAML_SCALAR ? "" : ".kv", ls_dtype_name(c->kv_dtype));

    /* cluster, then hardware (defaults to the cluster's GPU) */
    const ls_yaml *cl = ls_yaml_get(root, "cluster");
    const char *cluster_name = "dgx-h100";
    if (cl && cl->kind == LS_YAML_MAP) {
        const ls_yaml *nm = ls_yaml_get(cl, "name");
        cluster_name = nm && nm->kind == LS_YAML_SCALAR ? nm->scalar : "custom";
    } else if (cl) {
        LS_TRY(ls_yaml_get_string(root, "", "cluster", &cluster_name, e));
    }
    const ls_cluster *clu;
    if (ls_catalog_cluster(cat, cluster_name, &clu, e))
        return ls_error_prefix(e, "%s: cluster", where(cl ? cl : root, w, sizeof w));
    c->cluster = *clu;
    snprintf(c->cluster_label, sizeof c->cluster_label, "%s", cluster_name);

    const char *gpu_name = c->cluster.default_gpu[0] ? c->cluster.default_gpu : NULL;
    LS_TRY(ls_yaml_get_string(root, "", "hardware", &gpu_name, e));
    if (!gpu_name)
        return ls_fail(e, LS_EINVAL, "%s: missing key 'hardware' (a catalog GPU name, e.g. h100-sxm)",
                       where(root, w, sizeof w));
    const ls_gpu *g;
    if (ls_catalog_gpu(cat, gpu_name, &g, e))
        return ls_error_prefix(e, "%s: hardware", where(ls_yaml_get(root, "hardware") ? ls_yaml_get(root, "hardware") : root, w, sizeof w));
    c->gpu = *g;

    /* parallelism */
    c->tp = c->pp = c->dp = c->ep = 1;
    const ls_yaml *par = ls_yaml_get(root, "parallelism");
    if (par && par->kind == LS_YAML_MAP) {
        static const char *const k[] = {"tp", "pp", "dp", "ep", NULL};
        LS_TRY(ls_yaml_check_keys(par, "parallelism", k, e));
        int64_t v[4] = {1, 1, 1, 1};
        LS_TRY(ls_yaml_get_int(par, "parallelism", "tp", 1, INT64_MAX, &v[0], e));
        LS_TRY(ls_yaml_get_int(par, "parallelism", "pp", 1, INT64_MAX, &v[1], e));
        LS_TRY(ls_yaml_get_int(par, "parallelism", "dp", 1, INT64_MAX, &v[2], e));
        LS_TRY(ls_yaml_get_int(par, "parallelism", "ep", 1, INT64_MAX, &v[3], e));
        if (v[0] > 65536 || v[1] > 65536 || v[2] > 65536 || v[3] > 65536)
            return ls_fail(e, LS_EINVAL, "%s: parallelism: degrees must be <= 65536", where(par, w, sizeof w));
        c->tp = (int)v[0];
        c->pp = (int)v[1];
        c->dp = (int)v[2];
        c->ep = (int)v[3];
    } else if (par) {
        const char *s;
        LS_TRY(ls_yaml_get_string(root, "", "parallelism", &s, e));
        char err[128];
        int deg[4];
        if (parse_strategy(s, deg, err, sizeof err))
            return ls_fail(e, LS_EINVAL,
                           "%s: parallelism: '%s': %s (e.g. tp4pp2, tp2pp2dp2, dp8, dp8ep8, or {tp: 4, pp: 2, dp: 1})",
                           where(par, w, sizeof w), s, err);
        c->tp = deg[0];
        c->pp = deg[1];
        c->dp = deg[2];
        c->ep = deg[3];
    }
    if (c->pp > LS_MAX_PP)
        return ls_fail(e, LS_EINVAL, "%s: parallelism: pp %d exceeds the maximum of %d", where(par, w, sizeof w),
                       c->pp, LS_MAX_PP);
    if (c->pp > c->model.layers)
        return ls_fail(e, LS_EINVAL, "%s: parallelism: pp %d exceeds the %d layers of %s", where(par, w, sizeof w),
                       c->pp, c->model.layers, c->model.name);
    if (par && par->kind == LS_YAML_MAP && ls_yaml_get(par, "tp"))
        LS_TRY(check_tp(c, ls_yaml_get(par, "tp"), "parallelism.tp", e));
    else
        LS_TRY(check_tp(c, par ? par : root, "parallelism", e));
    LS_TRY(ls_config_moe_load(c, root, e));
    format_strategy(c->tp, c->pp, c->dp, c->ep, c->parallelism, sizeof c->parallelism);
    int64_t n_gpus = (int64_t)c->tp * c->pp * c->dp;
    if (c->cluster.max_nodes > 0) {
        int64_t have = (int64_t)c->cluster.max_nodes * c->cluster.gpus_per_node;
        if (n_gpus > have)
            return ls_fail(e, LS_EINVAL,
                           "%s: parallelism: %s needs %lld GPUs but cluster %s has %lld (%d nodes of %d)",
                           where(par ? par : root, w, sizeof w), c->parallelism, (long long)n_gpus,
                           c->cluster_label, (long long)have, c->cluster.max_nodes, c->cluster.gpus_per_node);
    }

    /* scheduler */
    ls_sched_config *s = &c->sched;
    s->policy = LS_POLICY_VLLM_V1;
    s->enable_chunked_prefill = true;
    s->prefill_chunk_size = 0;
    bool big = c->gpu.mem_bytes >= 70.0 * 1073741824.0;  /* vLLM's defaults depend on the GPU size */
    s->max_batched_tokens = big ? 8192 : 2048;
    s->budget_auto = false;
    s->max_num_seqs = big ? 1024 : 256;
    s->max_model_len = c->model.max_context;
    s->block_size = 16;
    s->kv_blocks = 0;
    s->watermark = 0.01;
    s->order = LS_ORDER_FCFS;
    s->sjf_max_wait_s = 10.0;
    /* the engine's memory rule and its fraction's default (engine_profile.c) */
    c->engine = ls_engine_profile_default();
    const char *eng = NULL;
    LS_TRY(ls_yaml_get_string(root, "", "engine", &eng, e));
    if (eng && !(c->engine = ls_engine_profile_find(eng))) {
        char names[128];
        ls_engine_profile_names(names, sizeof names);
        return ls_fail(e, LS_EINVAL, "%s: engine: unknown engine '%s' (expected %s)",
                       where(ls_yaml_get(root, "engine"), w, sizeof w), eng, names);
    }
    c->gpu_memory_utilization = c->engine->default_fraction;
    c->num_kv_blocks = 0;
    c->target_tbt_s = NAN;
    bool seqs_given = false;
    const ls_yaml *sch = ls_yaml_get(root, "scheduler");
    if (sch) {
        LS_TRY(ls_yaml_check_keys(sch, "scheduler", sched_keys, e));
        const char *pol = NULL;
        LS_TRY(ls_yaml_get_string(sch, "scheduler", "policy", &pol, e));
        if (pol) {
            if (!strcmp(pol, "vllm-v1") || !strcmp(pol, "vllm"))
                s->policy = LS_POLICY_VLLM_V1;
            else if (!strcmp(pol, "vllm-v0"))
                s->policy = LS_POLICY_VLLM_V0;
            else if (!strcmp(pol, "sarathi"))
                s->policy = LS_POLICY_SARATHI;
            else if (strcmp(pol, "fcfs") && ls_order_find(pol, &s->order))
                s->policy = LS_POLICY_VLLM_V1;  /* `policy: sjf|priority` = vllm-v1 with that order */
            else
                return ls_fail(e, LS_EINVAL, "%s: scheduler.policy: unknown policy '%s' (expected vllm-v1, vllm-v0, sarathi, sjf or priority)",
                               where(ls_yaml_get(sch, "policy"), w, sizeof w), pol);
        }
        LS_TRY(ls_yaml_get_bool(sch, "scheduler", "enable_chunked_prefill", &s->enable_chunked_prefill, e));
        LS_TRY(ls_yaml_get_int(sch, "scheduler", "prefill_chunk_size", 0, INT64_MAX, &s->prefill_chunk_size, e));
        const ls_yaml *mbt = ls_yaml_get(sch, "max_batched_tokens");
        if (mbt && mbt->kind == LS_YAML_SCALAR && !strcmp(mbt->scalar, "auto")) {
            s->budget_auto = true;
            s->max_batched_tokens = 0;
        } else if (mbt) {
            if (mbt->kind != LS_YAML_SCALAR || !mbt->plain)
                return ls_fail(e, LS_EINVAL, "%s: scheduler.max_batched_tokens: expected 'auto' or an integer",
                               where(mbt, w, sizeof w));
            LS_TRY(ls_yaml_get_int(sch, "scheduler", "max_batched_tokens", 1, INT64_MAX, &s->max_batched_tokens, e));
        }
        seqs_given = ls_yaml_get(sch, "max_num_seqs") != NULL;
        LS_TRY(ls_yaml_get_int(sch, "scheduler", "max_num_seqs", 1, INT64_MAX, &s->max_num_seqs, e));
        LS_TRY(ls_yaml_get_int(sch, "scheduler", "max_model_len", 2, INT64_MAX, &s->max_model_len, e));
        LS_TRY(ls_yaml_get_double(sch, "scheduler", "gpu_memory_utilization", 0.0, true, &c->gpu_memory_utilization, e));
        if (c->gpu_memory_utilization > 1.0)
            return ls_fail(e, LS_EINVAL, "%s: scheduler.gpu_memory_utilization: expected a fraction in (0, 1], got %g",
                           where(ls_yaml_get(sch, "gpu_memory_utilization"), w, sizeof w), c->gpu_memory_utilization);
        int64_t bs = s->block_size;
        LS_TRY(ls_yaml_get_int(sch, "scheduler", "block_size", 1, INT64_MAX, &bs, e));
        if (bs > 4096)
            return ls_fail(e, LS_EINVAL, "%s: scheduler.block_size: expected at most 4096",
                           where(ls_yaml_get(sch, "block_size"), w, sizeof w));
        s->block_size = (int)bs;
        LS_TRY(ls_yaml_get_int(sch, "scheduler", "num_kv_blocks", 0, INT64_MAX, &c->num_kv_blocks, e));
        LS_TRY(ls_yaml_get_double(sch, "scheduler", "target_tbt_s", 0.0, true, &c->target_tbt_s, e));
        LS_TRY(ls_yaml_get_double(sch, "scheduler", "watermark", 0.0, false, &s->watermark, e));
        LS_TRY(ls_yaml_get_bool(sch, "scheduler", "enable_prefix_caching", &s->enable_prefix_caching, e));
        const ls_yaml *pc = ls_yaml_get(sch, "enable_prefix_caching");
        if (s->enable_prefix_caching && s->policy != LS_POLICY_VLLM_V1)
            return ls_fail(e, LS_EINVAL, "%s: scheduler.enable_prefix_caching: needs scheduler.policy vllm-v1 (got %s)",
                           where(pc, w, sizeof w), ls_policy_name(s->policy));
        if (s->enable_prefix_caching && !ls_kvcache_sizes_ok(s->block_size, LS_PREFIX_HASH_TOKENS))
            return ls_fail(e, LS_EINVAL,
                           "%s: scheduler.enable_prefix_caching: block_size %d does not map onto the trace's "
                           "%d-token hash blocks: expected a divisor or a multiple of %d",
                           where(pc, w, sizeof w), s->block_size, LS_PREFIX_HASH_TOKENS, LS_PREFIX_HASH_TOKENS);
        LS_TRY(ls_order_parse(sch, s, e));
        LS_TRY(ls_yaml_get_bool(sch, "scheduler", "adaptive_budget", &s->adaptive_budget, e));
        if (s->adaptive_budget && (s->policy == LS_POLICY_VLLM_V0 || !s->enable_chunked_prefill))
            return ls_fail(e, LS_EINVAL, "%s: scheduler.adaptive_budget: sizes prefill chunks, so it needs chunked "
                                         "prefill and policy vllm-v1 or sarathi (got %s%s)",
                           where(ls_yaml_get(sch, "adaptive_budget"), w, sizeof w), ls_policy_name(s->policy),
                           s->enable_chunked_prefill ? "" : ", enable_chunked_prefill false");
    }
    if (s->max_model_len > c->model.max_context && c->model.max_context > 0)
        return ls_fail(e, LS_EINVAL, "%s: scheduler.max_model_len: %lld exceeds %s's context of %d",
                       where(ls_yaml_get(sch, "max_model_len"), w, sizeof w), (long long)s->max_model_len,
                       c->model.name, c->model.max_context);
    if (!s->budget_auto && s->max_batched_tokens < s->max_num_seqs) {
        if (seqs_given)
            return ls_fail(e, LS_EINVAL,
                           "%s: scheduler.max_batched_tokens (%lld) must be >= scheduler.max_num_seqs (%lld), as in vLLM",
                           where(sch, w, sizeof w), (long long)s->max_batched_tokens, (long long)s->max_num_seqs);
        s->max_num_seqs = s->max_batched_tokens;  /* default max_num_seqs follows a small budget */
    }

    LS_TRY(ls_kvoffload_parse(root, &c->gpu, &c->cluster, c->tp * c->pp, s->enable_prefix_caching, s->block_size,
                              &c->offload, e));
    LS_TRY(ls_kvswap_parse(sch, ls_policy_name(s->policy), s->policy == LS_POLICY_VLLM_V0, &c->gpu, &c->cluster,
                           c->tp * c->pp, &c->offload, &c->swap, e));
    s->preempt_swap = c->swap.mode == LS_PREEMPT_SWAP;
    if (s->preempt_swap && (ls_yaml_get(root, "disaggregation") || ls_yaml_get(root, "replicas")))
        return ls_yaml_fail_at(sch, "scheduler", "preemption_mode",
                               "swap is modelled for identical aggregated replicas only (not with disaggregation: "
                               "or replicas:)", e);
    LS_TRY(ls_config_spec_load(c, root, cat, e));
    LS_TRY(ls_step_options_parse(root, c->engine, s, e));
    LS_TRY(ls_sched_capacity_parse(root, sch, s, e));

    /* router: a name, or {policy, prompt_threshold} (replica_mix.c) */
    LS_TRY(ls_mix_router_load(c, root, e));

    /* seed, slo, timeouts, horizon */
    int64_t seed = 42;
    LS_TRY(ls_yaml_get_int(root, "", "seed", 0, INT64_MAX, &seed, e));
    c->seed = (uint64_t)seed;
    c->slo_ttft_s = 2.0;
    c->slo_tpot_s = 0.2;
    const ls_yaml *slo = ls_yaml_get(root, "slo");
    if (slo) {
        static const char *const k[] = {"ttft_s", "tpot_s", NULL};
        LS_TRY(ls_yaml_check_keys(slo, "slo", k, e));
        LS_TRY(ls_yaml_get_double(slo, "slo", "ttft_s", 0.0, true, &c->slo_ttft_s, e));
        LS_TRY(ls_yaml_get_double(slo, "slo", "tpot_s", 0.0, true, &c->slo_tpot_s, e));
    }
    if (isnan(c->target_tbt_s))
        c->target_tbt_s = c->slo_tpot_s;
    s->target_tbt_s = c->target_tbt_s;
    c->timeout_s = 0.0;
    LS_TRY(ls_yaml_get_double(root, "", "timeout_s", 0.0, false, &c->timeout_s, e));
    c->drain = true;
    LS_TRY(ls_yaml_get_bool(root, "", "drain", &c->drain, e));
    c->horizon_s = NAN;
    LS_TRY(ls_yaml_get_double(root, "", "horizon_s", 0.0, true, &c->horizon_s, e));

    /* cost model (tests and calibration) */
    c->cost_kind = 0;
    c->cost_const_s = 0.0;
    const ls_yaml *cost = ls_yaml_get(root, "cost");
    if (cost) {
        static const char *const k[] = {"model", "time_s", "file", NULL};
        LS_TRY(ls_yaml_check_keys(cost, "cost", k, e));
        const char *cm = "roofline";
        LS_TRY(ls_yaml_get_string(cost, "cost", "model", &cm, e));
        if (!strcmp(cm, "roofline"))
            c->cost_kind = 0;
        else if (!strcmp(cm, "constant"))
            c->cost_kind = 1;
        else if (!strcmp(cm, "exponential"))
            c->cost_kind = 2;
        else if (!strcmp(cm, "table"))
            c->cost_kind = 3;
        else if (!strcmp(cm, "kernels")) /* roofline + measured kernel tables (cost_kernels.h) */
            c->cost_kind = 4;
        else
            return ls_fail(e, LS_EINVAL, "%s: cost.model: unknown cost model '%s' (expected roofline, kernels, constant, exponential or table)",
                           where(ls_yaml_get(cost, "model"), w, sizeof w), cm);
        if (c->cost_kind == 3) /* measured times from a CSV (cost_table.c, docs/FIDELITY.md) */
            LS_TRY(load_cost_table(c, cost, base_dir, e));
        LS_TRY(ls_yaml_get_double(cost, "cost", "time_s", 0.0, true, &c->cost_const_s, e));
        if ((c->cost_kind == 1 || c->cost_kind == 2) && !(c->cost_const_s > 0))
            return ls_fail(e, LS_EINVAL, "%s: cost.time_s: required (> 0) for the %s cost model",
                           where(cost, w, sizeof w), cm);
    }

    /* workload */
    const ls_yaml *wl = ls_yaml_get(root, "workload");
    if (!wl)
        return ls_fail(e, LS_EINVAL, "%s: missing key 'workload' (a trace file or a synthetic workload)",
                       where(root, w, sizeof w));
    LS_TRY(ls_workload_parse(wl, "workload", base_dir, &c->workload, e));
    LS_TRY(ls_config_spec_classes(c, root, e));
    char *canon = ls_workload_canonical(c->workload);
    size_t n = strlen(canon) + 48;
    c->workload_key = ls_xmalloc(n);
    snprintf(c->workload_key, n, "%s seed=%llu", canon, (unsigned long long)c->seed);
    free(canon);

    /* disaggregated prefill/decode pools (pools.c); null = aggregated, for sweeps */
    const ls_yaml *dg = ls_yaml_get(root, "disaggregation");
    if (dg && !ls_yaml_is_null(dg))
        LS_TRY(ls_pools_config_load(c, root, dg, base_dir, cat, &c->pools, e));
    if (c->pools && c->sched.order == LS_ORDER_PRIORITY)
        return ls_fail(e, LS_EINVAL, "%s: scheduler: order priority is not modelled with disaggregation (pools)",
                       where(ls_yaml_get(root, "scheduler"), w, sizeof w));
    if (c->pools && c->spec.method != LS_SPEC_NONE)
        return ls_fail(e, LS_EINVAL, "%s: speculative: not modelled with disaggregation (pools)",
                       where(ls_yaml_get(root, "speculative"), w, sizeof w));
    /* heterogeneous replica groups, and the length-aware router's need of them (replica_mix.c) */
    LS_TRY(ls_mix_config_load(c, root, base_dir, cat, &c->mix, e));
    return LS_OK;
}

ls_status ls_config_load(const ls_yaml *root, const char *base_dir, const ls_catalog *catalog,
                         ls_run_config **out, ls_error *e)
{
    *out = NULL;
    if (!root || root->kind != LS_YAML_MAP) {
        char w[300];
        return ls_fail(e, LS_EINVAL, "%s: a run configuration must be a mapping", root ? where(root, w, sizeof w) : "<null>");
    }
    LS_TRY(ls_yaml_check_keys(root, "", top_keys, e));
    ls_catalog *owned = NULL;
    const ls_catalog *cat = NULL;
    ls_status rc = load_catalog(root, base_dir, catalog, &owned, &cat, e);
    if (rc) {
        ls_catalog_free(owned);
        return rc;
    }
    if (!cat) {
        rc = ls_catalog_builtin(&owned, e);
        if (rc)
            return rc;
        cat = owned;
    }
    ls_run_config *c = ls_xcalloc(1, sizeof *c);
    rc = load_body(c, root, base_dir, cat, e);
    ls_catalog_free(owned);
    if (rc) {
        ls_config_free(c);
        return rc;
    }
    *out = c;
    return LS_OK;
}

void ls_config_free(ls_run_config *c)
{
    if (!c)
        return;
    ls_workload_free(c->workload);
    free(c->workload_key);
    ls_pools_config_free(c->pools);
    ls_mix_config_free(c->mix);
    free(c);
}

ls_run_config *ls_config_clone(const ls_run_config *c)
{
    /* everything is held by value except the workload and its key */
    ls_run_config *p = ls_xmalloc(sizeof *p);
    *p = *c;
    p->workload = ls_workload_clone(c->workload);
    p->workload_key = ls_xstrdup(c->workload_key);
    p->pools = ls_pools_config_clone(c->pools);
    p->mix = ls_mix_config_clone(c->mix);
    return p;
}

static void copy_str(char *dst, size_t size, const char *src)
{
    memset(dst, 0, size);
    if (src) {
        size_t n = strlen(src);
        memcpy(dst, src, n < size - 1 ? n : size - 1);  /* NUL-padded, truncated */
    }
}

void ls_config_get_row(const ls_run_config *c, ls_config_row *row)
{
    memset(row, 0, sizeof *row);
    copy_str(row->model, sizeof row->model, c->model.name);
    copy_str(row->hardware, sizeof row->hardware, c->gpu.name);
    copy_str(row->cluster, sizeof row->cluster, c->cluster_label);
    copy_str(row->parallelism, sizeof row->parallelism, c->parallelism);
    row->tp = c->tp;
    row->pp = c->pp;
    row->dp = c->dp;
    row->ep = c->ep > 1 ? c->ep : 1;
    row->n_gpus = (int64_t)c->tp * c->pp * c->dp;
    copy_str(row->dtype_weights, sizeof row->dtype_weights, ls_dtype_name(c->w_dtype));
    copy_str(row->dtype_kv, sizeof row->dtype_kv, ls_dtype_name(c->kv_dtype));
    copy_str(row->policy, sizeof row->policy, ls_policy_name(c->sched.policy));
    copy_str(row->engine, sizeof row->engine, c->engine->name);
    row->enable_chunked_prefill = c->sched.enable_chunked_prefill;
    row->enable_prefix_caching = c->sched.enable_prefix_caching;
    copy_str(row->order, sizeof row->order, ls_order_name(c->sched.order));
    row->adaptive_budget = c->sched.adaptive_budget;
    ls_step_mode_name(&c->sched, row->step_mode, sizeof row->step_mode);
    const ls_class_table *ct = ls_workload_classes(c->workload);
    for (int i = 0, len = 0; i < ct->n && len < (int)sizeof row->classes; i++) {
        char sh[32];
        ls_fmt_double(sh, sizeof sh, ct->c[i].share);
        int k = snprintf(row->classes + len, sizeof row->classes - (size_t)len, "%s%s:%s:%d", i ? " " : "",
                         ct->c[i].name, sh, (int)ct->c[i].priority);
        len = k < 0 ? (int)sizeof row->classes : len + k;
    }
    row->cpu_offload_gb = c->offload.weights_bytes / 1e9;
    if (c->swap.mode == LS_PREEMPT_SWAP)
        snprintf(row->preemption_mode, sizeof row->preemption_mode, "swap %g %s", c->swap.space_bytes / 1e9,
                 c->swap.link);
    else
        copy_str(row->preemption_mode, sizeof row->preemption_mode, "recompute");
    if (c->offload.tier == LS_TIER_NONE)
        copy_str(row->kv_offload, sizeof row->kv_offload, "none");
    else
        snprintf(row->kv_offload, sizeof row->kv_offload, "%s %g %s", ls_tier_name(c->offload.tier),
                 c->offload.capacity_bytes / 1e9, c->offload.link);
    row->prefill_chunk_size = c->sched.prefill_chunk_size;
    if (c->sched.budget_auto)
        copy_str(row->max_batched_tokens, sizeof row->max_batched_tokens, "auto");
    else
        snprintf(row->max_batched_tokens, sizeof row->max_batched_tokens, "%lld",
                 (long long)c->sched.max_batched_tokens);
    row->max_num_seqs = c->sched.max_num_seqs;
    row->max_model_len = c->sched.max_model_len;
    row->gpu_memory_utilization = c->gpu_memory_utilization;
    copy_str(row->router, sizeof row->router, c->router->name);
    ls_workload_info info;
    memset(&info, 0, sizeof info);
    ls_workload_info_get(c->workload, &info);
    copy_str(row->workload, sizeof row->workload, info.source);
    copy_str(row->arrival_process, sizeof row->arrival_process, info.arrival_process);
    row->arrival_rate = info.arrival_rate;
    row->arrival_cv = info.arrival_cv;
    copy_str(row->prompt_dist, sizeof row->prompt_dist, info.prompt_dist);
    copy_str(row->output_dist, sizeof row->output_dist, info.output_dist);
    row->duration_s = info.duration_s;
    row->seed = (int64_t)c->seed;
    row->slo_ttft_s = c->slo_ttft_s;
    row->slo_tpot_s = c->slo_tpot_s;
    if (c->pools)
        ls_pools_config_row(c->pools, row);
    ls_mix_config_row(c, row);
    ls_config_spec_label(c, row->speculative, sizeof row->speculative);
}

const char *ls_config_workload_key(const ls_run_config *c)
{
    return c->workload_key;
}

const ls_class_table *ls_config_classes(const ls_run_config *c)
{
    return ls_workload_classes(c->workload);
}

double ls_config_cost_estimate(const ls_run_config *c)
{
    ls_workload_info info;
    memset(&info, 0, sizeof info);
    ls_workload_info_get(c->workload, &info);
    double nreq = info.expected_requests > 0 && isfinite(info.expected_requests) ? info.expected_requests : 1000.0;
    double out = info.mean_output > 0 && isfinite(info.mean_output) ? info.mean_output : 256.0;
    /* Work is dominated by decode iterations: requests x output tokens / the batch of a
     * replica. That batch is the replica's concurrency (Little: its share of the rate x
     * a request's decode time, output x TPOT, taken at the SLO's TPOT) up to max_num_seqs:
     * so more DP replicas and a lower rate mean smaller batches and more iterations. Each
     * request costs about as much as 5 iterations besides (arrival, admission, metrics).
     * Against the wall times of a 10,328-configuration plan (docs/PLAN.md, "Speed") this
     * correlates 0.59; requests x tokens / max_num_seqs x PP did not (0.02). */
    double seqs = (double)c->sched.max_num_seqs;
    if (seqs > 256)
        seqs = 256;
    double batch = seqs;
    double tpot = c->slo_tpot_s > 0 && c->slo_tpot_s <= 1 ? c->slo_tpot_s : 0.05;
    if (info.arrival_rate > 0 && isfinite(info.arrival_rate)) {
        double conc = info.arrival_rate / (double)(c->dp > 0 ? c->dp : 1) * out * tpot;
        batch = conc < 1 ? 1 : conc < seqs ? conc : seqs;
    }
    return nreq * out / batch + 5.0 * nreq;
}

ls_status ls_config_set_arrival_rate(ls_run_config *c, double rate, ls_error *e)
{
    if (!(rate > 0) || !isfinite(rate))
        return ls_fail(e, LS_EINVAL, "arrival rate must be a positive number, got %g", rate);
    LS_TRY(ls_workload_set_rate(c->workload, rate, e));
    char *canon = ls_workload_canonical(c->workload);
    size_t n = strlen(canon) + 48;
    free(c->workload_key);
    c->workload_key = ls_xmalloc(n);
    snprintf(c->workload_key, n, "%s seed=%llu", canon, (unsigned long long)c->seed);
    free(canon);
    return LS_OK;
}

ls_status ls_config_open_workload(const ls_run_config *c, ls_source **out, ls_error *e)
{
    return ls_workload_open(c->workload, c->seed, out, e);
}
