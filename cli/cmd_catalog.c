/* cmd_catalog.c -- `llmsweep catalog [models|gpus|clusters] [--json] [--catalog FILE]...`:
 * the built-in models, GPUs and clusters (plus user catalog files), with the
 * derived sizes (parameters, KV bytes per token). Schema: docs/HARDWARE.md. */
#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "catalog_import.h"
#include "cli.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: llmsweep catalog [models|gpus|clusters] [--json] [--catalog FILE]...\n"
            "       llmsweep catalog --show NAME [--catalog FILE]...\n"
            "       llmsweep catalog import CONFIG.JSON [--name NAME] [--output FILE]\n\n"
            "List the models, GPUs and clusters the simulator knows: the built-in catalog plus\n"
            "any user catalog files (YAML with models:, gpus:, clusters: maps; docs/HARDWARE.md).\n"
            "Parameter counts and KV bytes per token are derived from the architecture.\n\n"
            "  models|gpus|clusters  list only this section (default: all three)\n"
            "  --json                one JSON object {models: [...], gpus: [...], clusters: [...]}\n"
            "                        in SI units (bytes, bytes/s, FLOP/s, seconds)\n"
            "  --catalog FILE        add or override entries from FILE (repeatable, applied in order)\n"
            "  --show NAME           every field of one model, GPU or cluster, its derived sizes and its source\n"
            "  import CONFIG.JSON    write a catalog entry from a Hugging Face config.json (stdout, or\n"
            "                        --output FILE); --name sets the entry's name\n");
}

enum { SEC_MODELS = 1, SEC_GPUS = 2, SEC_CLUSTERS = 4 };

static void print_models(const ls_catalog *c)
{
    printf("%-18s %6s %6s %5s %4s %4s %6s %7s %7s %7s %9s %9s %10s\n", "model", "layers", "hidden", "heads",
           "kv", "hd", "ffn", "vocab", "max_ctx", "experts", "params_B", "active_B", "kv_B/token");
    for (int i = 0; i < ls_catalog_n_models(c); i++) {
        const ls_model *m = ls_catalog_model_at(c, i);
        char ex[16];
        if (m->experts > 1)
            snprintf(ex, sizeof ex, "%d/top%d", m->experts, m->top_k);
        else
            snprintf(ex, sizeof ex, "-");
        printf("%-18s %6d %6d %5d %4d %4d %6d %7d %7d %7s %9.2f %9.2f %10.0f\n", m->name, m->layers, m->hidden,
               m->heads, m->kv_heads, m->head_dim, m->ffn, m->vocab, m->max_context, ex, ls_model_params(m) / 1e9,
               ls_model_active_params(m) / 1e9, ls_model_kv_bytes_per_token(m, LS_DTYPE_BF16));
    }
    printf("(kv_B/token: BF16 KV cache bytes per token for the whole model; FP8 halves it)\n");
}

static void print_gpus(const ls_catalog *c)
{
    printf("%-14s %6s %8s %8s %8s %7s %5s %5s %5s %8s %8s %8s\n", "gpu", "mem_GB", "HBM_TB/s", "bf16_TF",
           "fp8_TF", "mfu_max", "half", "mbu", "attn", "kern_us", "iter_ms", "resv_GB");
    for (int i = 0; i < ls_catalog_n_gpus(c); i++) {
        const ls_gpu *g = ls_catalog_gpu_at(c, i);
        char fp8[16];
        if (g->flops_fp8 > 0)
            snprintf(fp8, sizeof fp8, "%.0f", g->flops_fp8 / 1e12);
        else
            snprintf(fp8, sizeof fp8, "-");
        printf("%-14s %6.0f %8.3f %8.0f %8s %7.2f %5.0f %5.2f %5.2f %8.1f %8.2f %8.1f\n", g->name, g->mem_bytes / 1e9,
               g->hbm_bw / 1e12, g->flops_bf16 / 1e12, fp8, g->mfu_max, g->mfu_half_tokens, g->mbu, g->attn_eff,
               g->kernel_overhead_s * 1e6, g->iter_overhead_s * 1e3, g->activation_reserve_bytes / 1e9);
    }
    printf("(fp8 '-': no FP8 tensor cores; fp8 weights are stored in 1 byte and computed in BF16)\n");
}

static void print_clusters(const ls_catalog *c)
{
    printf("%-14s %9s %9s %10s %6s %9s %10s %8s %6s %s\n", "cluster", "gpus/node", "max_nodes", "intra_GB/s",
           "switch", "intra_us", "inter_GB/s", "inter_us", "ar_eff", "default_gpu");
    for (int i = 0; i < ls_catalog_n_clusters(c); i++) {
        const ls_cluster *k = ls_catalog_cluster_at(c, i);
        char nodes[16];
        if (k->max_nodes > 0)
            snprintf(nodes, sizeof nodes, "%d", k->max_nodes);
        else
            snprintf(nodes, sizeof nodes, "-");
        printf("%-14s %9d %9s %10.0f %6s %9.1f %10.1f %8.1f %6.2f %s\n", k->name, k->gpus_per_node, nodes,
               k->intra_bw / 1e9, k->intra_switch ? "yes" : "no", k->intra_lat_s * 1e6, k->inter_bw / 1e9,
               k->inter_lat_s * 1e6, k->allreduce_eff, k->default_gpu[0] ? k->default_gpu : "-");
    }
    printf("(bandwidths one way per GPU; latencies per ring step; ar_eff: achieved fraction in all-reduces)\n");
}

static json_t *json_models(const ls_catalog *c)
{
    json_t *a = json_array();
    for (int i = 0; i < ls_catalog_n_models(c); i++) {
        const ls_model *m = ls_catalog_model_at(c, i);
        json_array_append_new(
            a, json_pack("{s:s, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:b, s:f, s:f, s:f}", "name",
                         m->name, "layers", m->layers, "hidden", m->hidden, "heads", m->heads, "kv_heads",
                         m->kv_heads, "head_dim", m->head_dim, "ffn", m->ffn, "vocab", m->vocab, "max_context",
                         m->max_context, "experts", m->experts, "top_k", m->top_k, "tied_embeddings",
                         m->tied_embeddings, "params", ls_model_params(m), "active_params",
                         ls_model_active_params(m), "kv_bytes_per_token_bf16",
                         ls_model_kv_bytes_per_token(m, LS_DTYPE_BF16)));
        json_t *o = json_array_get(a, json_array_size(a) - 1);
        json_object_set_new(o, "source", json_string(m->source));
        json_object_set_new(o, "v_head_dim", json_integer(ls_model_v_dim(m)));
        json_object_set_new(o, "moe_ffn", json_integer(ls_model_expert_ffn(m)));
        json_object_set_new(o, "shared_experts", json_integer(m->shared_experts));
        json_object_set_new(o, "dense_layers", json_integer(m->dense_layers));
        json_object_set_new(o, "moe_layer_step", json_integer(m->moe_layer_step > 1 ? m->moe_layer_step : 1));
        json_object_set_new(o, "q_lora_rank", json_integer(m->q_lora_rank));
        json_object_set_new(o, "kv_lora_rank", json_integer(m->kv_lora_rank));
        json_object_set_new(o, "qk_rope_dim", json_integer(m->qk_rope_dim));
        json_object_set_new(o, "sliding_window", json_integer(m->sliding_window));
        json_object_set_new(o, "sliding_layers", json_integer(m->sliding_layers));
    }
    return a;
}

static json_t *json_gpus(const ls_catalog *c)
{
    json_t *a = json_array();
    for (int i = 0; i < ls_catalog_n_gpus(c); i++) {
        const ls_gpu *g = ls_catalog_gpu_at(c, i);
        json_array_append_new(
            a, json_pack("{s:s, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "name", g->name,
                         "mem_bytes", g->mem_bytes, "hbm_bw", g->hbm_bw, "flops_bf16", g->flops_bf16, "flops_fp8",
                         g->flops_fp8, "mfu_max", g->mfu_max, "mfu_half_tokens", g->mfu_half_tokens, "mbu", g->mbu,
                         "attn_eff", g->attn_eff, "kernel_overhead_s", g->kernel_overhead_s, "iter_overhead_s",
                         g->iter_overhead_s, "activation_reserve_bytes", g->activation_reserve_bytes));
        json_t *o = json_array_get(a, json_array_size(a) - 1);
        json_object_set_new(o, "flops_fp4", json_real(g->flops_fp4));
        json_object_set_new(o, "source", json_string(g->source));
    }
    return a;
}

static json_t *json_clusters(const ls_catalog *c)
{
    json_t *a = json_array();
    for (int i = 0; i < ls_catalog_n_clusters(c); i++) {
        const ls_cluster *k = ls_catalog_cluster_at(c, i);
        json_array_append_new(
            a, json_pack("{s:s, s:i, s:i, s:f, s:f, s:b, s:f, s:f, s:f, s:s}", "name", k->name, "gpus_per_node",
                         k->gpus_per_node, "max_nodes", k->max_nodes, "intra_bw", k->intra_bw, "intra_lat_s",
                         k->intra_lat_s, "intra_switch", k->intra_switch, "inter_bw", k->inter_bw, "inter_lat_s",
                         k->inter_lat_s, "allreduce_eff", k->allreduce_eff, "default_gpu", k->default_gpu));
        json_object_set_new(json_array_get(a, json_array_size(a) - 1), "source", json_string(k->source));
    }
    return a;
}

static void show_model(const ls_model *m)
{
    printf("model          %s\nsource         %s\n", m->name, m->source[0] ? m->source : "-");
    printf("architecture   %d layers, hidden %d, %d heads (%d KV) of %d", m->layers, m->hidden, m->heads, m->kv_heads,
           m->head_dim);
    if (m->v_head_dim)
        printf(" (v %d)", m->v_head_dim);
    printf(", ffn %d, vocab %d, context %d%s\n", m->ffn, m->vocab, m->max_context,
           m->tied_embeddings ? ", tied embeddings" : "");
    if (ls_model_is_moe(m))
        printf("MoE            %d routed experts of ffn %d, top-%d, %d shared, %d dense layers first, %d MoE layers%s\n",
               m->experts, ls_model_expert_ffn(m), m->top_k, m->shared_experts, m->dense_layers,
               ls_model_moe_layers(m), m->moe_layer_step > 1 ? " (interleaved with dense ones)" : "");
    if (ls_model_is_mla(m))
        printf("MLA            kv_lora_rank %d, qk_rope_dim %d, q_lora_rank %d\n", m->kv_lora_rank, m->qk_rope_dim,
               m->q_lora_rank);
    if (m->sliding_window > 0)
        printf("sliding window %d tokens on %d of %d layers\n", m->sliding_window, m->sliding_layers, m->layers);
    printf("parameters     %.3f B total, %.3f B active per token\n", ls_model_params(m) / 1e9,
           ls_model_active_params(m) / 1e9);
    printf("KV cache       %.0f bytes per token in BF16 (%.0f in FP8)%s\n", ls_model_kv_bytes_per_token(m, LS_DTYPE_BF16),
           ls_model_kv_bytes_per_token(m, LS_DTYPE_FP8), m->sliding_window > 0 ? ", before the window bound" : "");
}

static void show_gpu(const ls_gpu *g)
{
    printf("gpu            %s\nsource         %s\n", g->name, g->source[0] ? g->source : "-");
    printf("memory         %.0f GB at %.3f TB/s\n", g->mem_bytes / 1e9, g->hbm_bw / 1e12);
    char fp8[32] = "-", fp4[32] = "-";
    if (g->flops_fp8 > 0)
        snprintf(fp8, sizeof fp8, "%.1f", g->flops_fp8 / 1e12);
    if (g->flops_fp4 > 0)
        snprintf(fp4, sizeof fp4, "%.1f", g->flops_fp4 / 1e12);
    printf("dense peaks    BF16 %.1f, FP8 %s, FP4 %s TFLOP/s ('-': no such tensor cores, computed in BF16)\n",
           g->flops_bf16 / 1e12, fp8, fp4);
    printf("efficiency     mfu_max %.2f, mfu_half_tokens %.0f, mbu %.2f, attn_eff %.2f\n", g->mfu_max,
           g->mfu_half_tokens, g->mbu, g->attn_eff);
    printf("overheads      kernel %.1f us per layer, iteration %.2f ms, reserve %.1f GB\n", g->kernel_overhead_s * 1e6,
           g->iter_overhead_s * 1e3, g->activation_reserve_bytes / 1e9);
}

static void show_cluster(const ls_cluster *k)
{
    printf("cluster        %s\nsource         %s\n", k->name, k->source[0] ? k->source : "-");
    printf("node           %d GPUs, %.1f GB/s each way per GPU%s, %.1f us per step\n", k->gpus_per_node,
           k->intra_bw / 1e9, k->intra_switch ? " (switch)" : " (per pair, no switch)", k->intra_lat_s * 1e6);
    printf("network        %.1f GB/s each way per GPU, %.1f us per step; %s nodes\n", k->inter_bw / 1e9,
           k->inter_lat_s * 1e6, k->max_nodes > 0 ? "limited" : "unlimited");
    printf("collectives    allreduce_eff %.2f; default gpu %s\n", k->allreduce_eff,
           k->default_gpu[0] ? k->default_gpu : "-");
}

/* --show NAME: a model, a GPU or a cluster (in that order when names collide). */
static int show_entry(const ls_catalog *c, const char *name)
{
    ls_error e;
    const ls_model *m;
    const ls_gpu *g;
    const ls_cluster *k;
    if (ls_catalog_model(c, name, &m, &e) == LS_OK)
        show_model(m);
    else if (ls_catalog_gpu(c, name, &g, &e) == LS_OK)
        show_gpu(g);
    else if (ls_catalog_cluster(c, name, &k, &e) == LS_OK)
        show_cluster(k);
    else {
        ls_cli_error("catalog: no model, gpu or cluster named '%s' (see `llmsweep catalog`)", name);
        return LS_EXIT_USAGE;
    }
    return LS_EXIT_OK;
}

/* import CONFIG.JSON [--name NAME] [--output FILE] */
static int cmd_import(int argc, char **argv)
{
    static const struct option longopts[] = {{"name", required_argument, NULL, 'n'},
                                             {"output", required_argument, NULL, 'o'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *name = NULL, *output = NULL;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "n:o:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'n': name = optarg; break;
        case 'o': output = optarg; break;
        case 'h': usage(stdout); return LS_EXIT_OK;
        default: usage(stderr); return LS_EXIT_USAGE;
        }
    }
    if (optind + 1 != argc) {
        ls_cli_error("catalog import: expected one config.json");
        usage(stderr);
        return LS_EXIT_USAGE;
    }
    ls_error e = {0};
    char *yaml = NULL;
    if (ls_catalog_import_hf(argv[optind], name, &yaml, &e)) {
        ls_cli_error("%s", e.msg);
        return LS_EXIT_ERROR;
    }
    FILE *f = output ? fopen(output, "w") : stdout;
    if (!f) {
        ls_cli_error("catalog import: cannot write %s", output);
        free(yaml);
        return LS_EXIT_ERROR;
    }
    bool ok = fputs(yaml, f) >= 0;
    if (output)
        ok = fclose(f) == 0 && ok;
    free(yaml);
    if (!ok) {
        ls_cli_error("catalog import: cannot write %s", output ? output : "stdout");
        return LS_EXIT_ERROR;
    }
    return LS_EXIT_OK;
}

int ls_cmd_catalog(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "import"))
        return cmd_import(argc - 1, argv + 1);
    static const struct option longopts[] = {{"json", no_argument, NULL, 'j'},
                                             {"catalog", required_argument, NULL, 'c'},
                                             {"show", required_argument, NULL, 's'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    bool json = false;
    const char *show = NULL;
    const char **files = ls_xcalloc((size_t)argc + 1, sizeof *files);
    int n_files = 0;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "jc:s:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'j': json = true; break;
        case 's': show = optarg; break;
        case 'c': files[n_files++] = optarg; break;
        case 'h':
            usage(stdout);
            free(files);
            return LS_EXIT_OK;
        default:
            usage(stderr);
            free(files);
            return LS_EXIT_USAGE;
        }
    }
    int sections = 0;
    for (int i = optind; i < argc; i++) {
        if (!strcmp(argv[i], "models"))
            sections |= SEC_MODELS;
        else if (!strcmp(argv[i], "gpus"))
            sections |= SEC_GPUS;
        else if (!strcmp(argv[i], "clusters"))
            sections |= SEC_CLUSTERS;
        else {
            ls_cli_error("catalog: unknown section '%s' (expected models, gpus or clusters)", argv[i]);
            usage(stderr);
            free(files);
            return LS_EXIT_USAGE;
        }
    }
    if (!sections)
        sections = SEC_MODELS | SEC_GPUS | SEC_CLUSTERS;

    ls_catalog *cat = NULL;
    ls_error e = {0};
    if (ls_catalog_builtin(&cat, &e)) {
        ls_cli_error("built-in catalog: %s", e.msg);
        free(files);
        return LS_EXIT_ERROR;
    }
    for (int i = 0; i < n_files; i++)
        if (ls_catalog_load_file(cat, files[i], &e)) {
            ls_cli_error("%s", e.msg);
            ls_catalog_free(cat);
            free(files);
            return LS_EXIT_ERROR;
        }
    free(files);

    if (show) {
        int rc = show_entry(cat, show);
        ls_catalog_free(cat);
        return rc;
    }
    if (json) {
        json_t *o = json_object();
        if (sections & SEC_MODELS)
            json_object_set_new(o, "models", json_models(cat));
        if (sections & SEC_GPUS)
            json_object_set_new(o, "gpus", json_gpus(cat));
        if (sections & SEC_CLUSTERS)
            json_object_set_new(o, "clusters", json_clusters(cat));
        char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
        puts(s);
        free(s);
        json_decref(o);
    } else {
        bool first = true;
        if (sections & SEC_MODELS) {
            print_models(cat);
            first = false;
        }
        if (sections & SEC_GPUS) {
            if (!first)
                putchar('\n');
            print_gpus(cat);
            first = false;
        }
        if (sections & SEC_CLUSTERS) {
            if (!first)
                putchar('\n');
            print_clusters(cat);
        }
    }
    ls_catalog_free(cat);
    return LS_EXIT_OK;
}
