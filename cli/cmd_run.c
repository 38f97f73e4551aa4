/* cmd_run.c -- `llmsweep run`: simulate one configuration and print its metrics.
 *
 * Flags are written into the configuration tree at their dotted paths (the
 * same paths a sweep grid uses), then the whole tree goes through
 * ls_config_load: the command line and YAML files share one validation. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "classes.h"
#include "cli.h"
#include "dist.h"
#include "replay.h"
#include "run_h5.h"
#include "spec_gain.h"
#include "yamldoc.h"

static const char *const usage_text =
    "usage: llmsweep run [--config FILE.yaml] [OPTIONS]\n"
    "\n"
    "Simulate one serving configuration on a request stream and print its metrics.\n"
    "The YAML schema is in docs/CONFIG.md; every flag below overrides the file.\n"
    "\n"
    "configuration:\n"
    "  --config FILE           run configuration (YAML)\n"
    "  --model NAME            catalog model (llama-3-70b, ...)\n"
    "  --hardware NAME         catalog GPU (h100-sxm, gh200-96gb, ...)\n"
    "  --cluster NAME          catalog cluster (dgx-h100, gh200-quad, ...)\n"
    "  --catalog FILE          extra catalog file (models, gpus, clusters); repeatable\n"
    "  --parallelism S         strategy string: tp4pp2, tp2pp2dp2, dp8, ...\n"
    "  --tp N, --pp N, --dp N  degrees (instead of --parallelism)\n"
    "  --dtype D               weights dtype (bf16, fp8, nvfp4, mxfp4, int4)\n"
    "  --kv-dtype D            KV-cache dtype (bf16, fp8)\n"
    "  --policy P              vllm-v1 (default), vllm-v0, sarathi\n"
    "  --max-batched-tokens N  token budget per iteration, or 'auto'\n"
    "  --max-num-seqs N        running requests per replica\n"
    "  --max-model-len N       context limit\n"
    "  --prefill-chunk-size N  long_prefill_token_threshold (0 = none)\n"
    "  --no-chunked-prefill    prompts must fit the budget whole\n"
    "  --enable-prefix-caching automatic prefix caching (blocks from the trace's hash_ids)\n"
    "  --preemption-mode M     recompute (default) or swap (vllm-v0, with --swap-space and --swap-link)\n"
    "  --swap-space GB         host swap space per GPU for preemption by swap\n"
    "  --swap-link L           link the swaps cross: pcie4, pcie5 (x86 host) or c2c (Grace)\n"
    "  --gpu-memory-utilization F\n"
    "  --num-kv-blocks N       force the KV block count per replica\n"
    "  --router R              round-robin, least-outstanding, least-kv, prefix-aware\n"
    "  --seed N                random seed (default 42)\n"
    "  --slo-ttft S, --slo-tpot S   SLO limits in seconds (default 2.0 and 0.2)\n"
    "  --timeout S             client timeout while waiting to be scheduled\n"
    "  --no-drain              stop at the end of the arrivals and count what is unfinished\n"
    "  --set PATH=VALUE        set any key (VALUE is YAML: 8192, auto, {tp: 4})\n"
    "\n"
    "workload:\n"
    "  --trace FILE            replay a trace file\n"
    "  --rate R                Poisson arrivals at R requests/s (synthetic, or replacing trace times)\n"
    "  --prompt SPEC           prompt lengths: fixed:128, lognormal:mu=8.7,sigma=0.17, ...\n"
    "  --output SPEC           output lengths, same forms\n"
    "  --duration S            arrival window in seconds\n"
    "\n"
    "output:\n"
    "  --json                  one flat JSON object: status, message and every metric\n"
    "  --no-baseline           with a speculative block: do not also run the configuration\n"
    "                          without it (the spec_*_gain metrics stay null)\n"
    "  --requests-out FILE     per-request table (CSV)\n"
    "  --timeline-out FILE     Chrome/Perfetto trace of the first iterations\n"
    "  --timeline-iterations N iterations per replica in the timeline (default 1000)\n"
    "  -h, --help              this help\n"
    "\n"
    "exit status: 0 ok, 1 error, 2 usage, 3 infeasible configuration\n";

enum {
    O_CONFIG = 1000, O_MODEL, O_HARDWARE, O_CLUSTER, O_CATALOG, O_PAR, O_TP, O_PP, O_DP, O_DTYPE, O_KVDTYPE,
    O_POLICY, O_MBT, O_SEQS, O_MML, O_CHUNK, O_NOCHUNK, O_PREFIX, O_PREEMPT, O_SWAPGB, O_SWAPLINK, O_GMU, O_BLOCKS, O_ROUTER, O_SEED, O_TTFT, O_TPOT,
    O_TIMEOUT, O_NODRAIN, O_SET, O_TRACE, O_RATE, O_PROMPT, O_OUTPUT, O_DURATION, O_JSON, O_REQOUT, O_TLOUT,
    O_TLITER, O_NOBASE, O_HELP
};

static const struct option long_opts[] = {
    {"config", required_argument, NULL, O_CONFIG},
    {"model", required_argument, NULL, O_MODEL},
    {"hardware", required_argument, NULL, O_HARDWARE},
    {"cluster", required_argument, NULL, O_CLUSTER},
    {"catalog", required_argument, NULL, O_CATALOG},
    {"parallelism", required_argument, NULL, O_PAR},
    {"tp", required_argument, NULL, O_TP},
    {"pp", required_argument, NULL, O_PP},
    {"dp", required_argument, NULL, O_DP},
    {"dtype", required_argument, NULL, O_DTYPE},
    {"kv-dtype", required_argument, NULL, O_KVDTYPE},
    {"policy", required_argument, NULL, O_POLICY},
    {"max-batched-tokens", required_argument, NULL, O_MBT},
    {"max-num-seqs", required_argument, NULL, O_SEQS},
    {"max-model-len", required_argument, NULL, O_MML},
    {"prefill-chunk-size", required_argument, NULL, O_CHUNK},
    {"no-chunked-prefill", no_argument, NULL, O_NOCHUNK},
    {"enable-prefix-caching", no_argument, NULL, O_PREFIX},
    {"preemption-mode", required_argument, NULL, O_PREEMPT},
    {"swap-space", required_argument, NULL, O_SWAPGB},
    {"swap-link", required_argument, NULL, O_SWAPLINK},
    {"gpu-memory-utilization", required_argument, NULL, O_GMU},
    {"num-kv-blocks", required_argument, NULL, O_BLOCKS},
    {"router", required_argument, NULL, O_ROUTER},
    {"seed", required_argument, NULL, O_SEED},
    {"slo-ttft", required_argument, NULL, O_TTFT},
    {"slo-tpot", required_argument, NULL, O_TPOT},
    {"timeout", required_argument, NULL, O_TIMEOUT},
    {"no-drain", no_argument, NULL, O_NODRAIN},
    {"set", required_argument, NULL, O_SET},
    {"trace", required_argument, NULL, O_TRACE},
    {"rate", required_argument, NULL, O_RATE},
    {"prompt", required_argument, NULL, O_PROMPT},
    {"output", required_argument, NULL, O_OUTPUT},
    {"duration", required_argument, NULL, O_DURATION},
    {"json", no_argument, NULL, O_JSON},
    {"no-baseline", no_argument, NULL, O_NOBASE},
    {"requests-out", required_argument, NULL, O_REQOUT},
    {"timeline-out", required_argument, NULL, O_TLOUT},
    {"timeline-iterations", required_argument, NULL, O_TLITER},
    {"help", no_argument, NULL, O_HELP},
    {NULL, 0, NULL, 0},
};

/* A flag value as a YAML node: parsed as YAML text so that numbers stay
 * plain scalars and `{tp: 4}` becomes a mapping; file/line say "<command line>". */
static ls_status value_node(const char *text, ls_yaml **out, ls_error *e)
{
    if (!*text) {
        *out = ls_yaml_new_scalar("", false);
        return LS_OK;
    }
    return ls_yaml_load_string(text, strlen(text), "<command line>", out, e);
}

static ls_status set_path(ls_yaml *root, const char *path, const char *text, ls_error *e)
{
    ls_yaml *v;
    LS_TRY(value_node(text, &v, e));
    return ls_yaml_set_path(root, path, v, e);
}

/* The per-request table: CSV, or HDF5 (/requests rows with config_id 0, in
 * the sweep's layout, plus the run's /results row, run_h5.c) when the name ends in .h5. */
typedef struct csv_out {
    FILE *f;
    const ls_class_table *classes;
} csv_out;

/* The columns of common/schema.h (ls_request_columns), status and class by name. */
static void write_csv_header(FILE *f)
{
    for (int i = 0; i < LS_REQUEST_COLUMN_COUNT; i++)
        fprintf(f, "%s%s", i ? "," : "", ls_request_columns[i].name);
    fputc('\n', f);
}

static void write_csv_request(void *ctx, const ls_request_result *r)
{
    const csv_out *o = ctx;
    for (int i = 0; i < LS_REQUEST_COLUMN_COUNT; i++) {
        const ls_request_column *c = &ls_request_columns[i];
        double v = ls_request_value(r, c);
        if (i)
            fputc(',', o->f);
        if (c->text == LS_RQ_STATUS_NAME)
            fputs(ls_req_status_name((ls_req_status)v), o->f);
        else if (c->text == LS_RQ_CLASS_NAME)
            fputs(v >= 0 && v < o->classes->n ? o->classes->c[(int)v].name : "", o->f);
        else if (c->type != LS_RQ_F64)
            fprintf(o->f, "%lld", (long long)v);
        else if (!isnan(v))
            fprintf(o->f, "%.9g", v);
    }
    fputc('\n', o->f);
}

/* A path given on the command line, made absolute against the current directory when the
 * configuration has a directory of its own (base_dir: its relative paths mean that one); NULL when
 * it is already absolute or needs no change (free the result). */
static char *cwd_path(const char *p, const char *base_dir)
{
    char cwd[4096];
    if (p[0] == '/' || !base_dir || !getcwd(cwd, sizeof cwd))
        return NULL;
    return ls_path_join(p, cwd);
}

bool ls_cli_is_h5_name(const char *p)
{
    size_t n = strlen(p);
    return (n > 3 && !strcmp(p + n - 3, ".h5")) || (n > 5 && !strcmp(p + n - 5, ".hdf5"));
}

bool ls_cmd_run_wants_hdf5(int argc, char **argv)
{
    /* getopt_long permutes its argv: scan a copy, the caller may exec the original */
    char **copy = ls_xmalloc(((size_t)argc + 1) * sizeof *copy);
    memcpy(copy, argv, (size_t)argc * sizeof *copy);
    copy[argc] = NULL;
    bool h5 = false;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, copy, "h", long_opts, NULL)) != -1)
        if (c == O_REQOUT)
            h5 = ls_cli_is_h5_name(optarg);  /* the last one counts, as in ls_cmd_run */
    optind = 1;
    free(copy);
    return h5;
}

static void print_json(const ls_metrics *m)
{
    json_t *o = json_object();
    json_object_set_new(o, "status", json_string(ls_run_status_name(m->status)));
    json_object_set_new(o, "message", json_string(m->message));
    for (int i = 0; i < LS_METRIC_COUNT; i++) {
        double v = m->v[i];
        json_t *j;
        if (!isfinite(v))
            j = json_null();
        else if (ls_metric_columns[i].type == LS_COL_I64)
            j = json_integer((json_int_t)llround(v));
        else
            j = json_real(v);
        json_object_set_new(o, ls_metric_columns[i].name, j);
    }
    char *s = json_dumps(o, JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
    puts(s);
    free(s);
    json_decref(o);
}

/* One line per request class (the /configs column `classes` names them in index order). */
static void print_classes(const ls_config_row *row, const double *v)
{
    enum { STRIDE = LS_M_C1_N_REQUESTS - LS_M_C0_N_REQUESTS };
    char names[sizeof row->classes];
    snprintf(names, sizeof names, "%s", row->classes);
    char *save = NULL, *tok = strtok_r(names, " ", &save);
    for (int k = 0; tok && k < LS_SCHEMA_CLASSES; k++, tok = strtok_r(NULL, " ", &save)) {
        const double *c = &v[LS_M_C0_N_REQUESTS + k * STRIDE];
        char *colon = strchr(tok, ':');
        if (colon)
            *colon = '\0';
        printf("class %-8s %lld/%lld completed, TTFT p50 %.4f p99 %.4f s, TPOT p50 %.4f p99 %.4f s, goodput "
               "%.3f req/s, attainment %.1f%%\n",
               tok, (long long)c[LS_M_C0_N_COMPLETED - LS_M_C0_N_REQUESTS], (long long)c[0],
               c[LS_M_C0_TTFT_P50_S - LS_M_C0_N_REQUESTS], c[LS_M_C0_TTFT_P99_S - LS_M_C0_N_REQUESTS],
               c[LS_M_C0_TPOT_P50_S - LS_M_C0_N_REQUESTS], c[LS_M_C0_TPOT_P99_S - LS_M_C0_N_REQUESTS],
               c[LS_M_C0_GOODPUT_RPS - LS_M_C0_N_REQUESTS], 100 * c[LS_M_C0_SLO_ATTAINMENT - LS_M_C0_N_REQUESTS]);
    }
}

static void print_summary(const ls_run_config *c, const ls_metrics *m)
{
    ls_config_row row;
    ls_config_get_row(c, &row);
    const double *v = m->v;
    printf("configuration  %s on %s (%s), %s, %s/%s, engine %s, policy %s, order %s%s, router %s\n", row.model,
           row.hardware, row.cluster, row.parallelism, row.dtype_weights, row.dtype_kv, row.engine, row.policy,
           row.order, row.adaptive_budget ? ", adaptive budget" : "", row.router);
    printf("workload       %s, seed %lld\n", row.workload, (long long)row.seed);
    char note[256];
    ls_config_compute_note(c, note, sizeof note);
    if (note[0])
        printf("note           %s\n", note);
    if (m->status != LS_RUN_OK) {
        printf("status         %s: %s\n", ls_run_status_name(m->status), m->message);
        return;
    }
    printf("deployment     %lld GPUs, %.1f GB weights per GPU, %lld KV blocks per replica, budget %lld tokens%s\n",
           (long long)v[LS_M_N_GPUS], v[LS_M_WEIGHTS_GB_PER_GPU], (long long)v[LS_M_KV_BLOCKS],
           (long long)v[LS_M_MAX_NUM_BATCHED_TOKENS], strcmp(row.max_batched_tokens, "auto") ? "" : " (auto)");
    printf("memory         per GPU (%s rule): %.2f GB weights, %.2f GB activation, %.2f GB non-torch, "
           "%.2f GB CUDA graphs, %.2f GB KV cache\n",
           row.engine, v[LS_M_WEIGHTS_GB_PER_GPU], v[LS_M_ACTIVATION_GB_PER_GPU], v[LS_M_NON_TORCH_GB_PER_GPU],
           v[LS_M_GRAPHS_GB_PER_GPU], v[LS_M_KV_CACHE_GB_PER_GPU]);
    printf("requests       %lld arrived, %lld completed (%.1f%%), %lld too long, %lld never fit, %lld timed out, "
           "%lld unfinished\n",
           (long long)v[LS_M_N_REQUESTS], (long long)v[LS_M_N_COMPLETED], 100 * v[LS_M_SUCCESS_RATE],
           (long long)v[LS_M_N_REJECTED_TOO_LONG], (long long)v[LS_M_N_REJECTED_KV], (long long)v[LS_M_N_TIMEOUT],
           (long long)v[LS_M_N_UNFINISHED]);
    printf("%-14s %10s %10s %10s %10s %10s\n", "latency (s)", "mean", "p50", "p90", "p95", "p99");
    static const struct { const char *name; int first; } rows[] = {
        {"TTFT", LS_M_TTFT_MEAN_S}, {"TPOT", LS_M_TPOT_MEAN_S}, {"ITL", LS_M_ITL_MEAN_S},
        {"E2E", LS_M_E2E_MEAN_S}, {"queue", LS_M_QUEUE_MEAN_S}};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        printf("%-14s %10.4f %10.4f %10.4f %10.4f %10.4f\n", rows[i].name, v[rows[i].first], v[rows[i].first + 1],
               v[rows[i].first + 2], v[rows[i].first + 3], v[rows[i].first + 4]);
    printf("throughput     %.3f req/s, %.1f output tok/s, %.1f total tok/s\n", v[LS_M_THROUGHPUT_RPS],
           v[LS_M_OUTPUT_TPS], v[LS_M_TOTAL_TPS]);
    printf("SLO            TTFT <= %g s, TPOT <= %g s: goodput %.3f req/s, attainment %.1f%%\n", row.slo_ttft_s,
           row.slo_tpot_s, v[LS_M_GOODPUT_RPS], 100 * v[LS_M_SLO_ATTAINMENT]);
    print_classes(&row, v);
    printf("engine         batch %.1f seqs / %.0f tokens, KV usage mean %.1f%% max %.1f%%, %lld preemptions "
           "(%lld tokens recomputed), MFU %.3f, MBU %.3f\n",
           v[LS_M_MEAN_BATCH_SIZE], v[LS_M_MEAN_BATCH_TOKENS], 100 * v[LS_M_KV_USAGE_MEAN], 100 * v[LS_M_KV_USAGE_MAX],
           (long long)v[LS_M_N_PREEMPTIONS], (long long)v[LS_M_RECOMPUTED_TOKENS], v[LS_M_MFU_MEAN], v[LS_M_MBU_MEAN]);
    if (!isnan(v[LS_M_PREFILL_UTILIZATION]))  /* disaggregated prefill/decode (docs/ENGINE.md) */
        printf("pools          prefill busy %.1f%%, decode busy %.1f%%, decode KV mean %.1f%% max %.1f%%; TTFT = "
               "prefill %.4f + handoff %.4f (p99 %.4f, wire %.5f) + decode first token %.4f s (means)\n",
               100 * v[LS_M_PREFILL_UTILIZATION], 100 * v[LS_M_DECODE_UTILIZATION], 100 * v[LS_M_DECODE_KV_USAGE_MEAN],
               100 * v[LS_M_DECODE_KV_USAGE_MAX], v[LS_M_PREFILL_TTFT_MEAN_S], v[LS_M_KV_TRANSFER_MEAN_S],
               v[LS_M_KV_TRANSFER_P99_S], v[LS_M_KV_WIRE_MEAN_S], v[LS_M_DECODE_FIRST_TOKEN_MEAN_S]);
    if (strcmp(row.speculative, "none")) {
        printf("speculative    %s: %.2f tokens per step (drafts accepted %.1f%%)", row.speculative,
               v[LS_M_SPEC_MEAN_ACCEPTED_TOKENS], 100 * v[LS_M_SPEC_ACCEPTANCE_RATE]);
        if (isnan(v[LS_M_SPEC_TPOT_GAIN]))
            printf("; no baseline run\n");
        else
            printf("; against the same run without it: TPOT gain %.2fx (mean %.4f s vs %.4f s), TTFT gain "
                   "%.2fx, throughput %.2fx\n",
                   v[LS_M_SPEC_TPOT_GAIN], v[LS_M_TPOT_MEAN_S], v[LS_M_TPOT_MEAN_S] * v[LS_M_SPEC_TPOT_GAIN],
                   v[LS_M_SPEC_TTFT_GAIN], v[LS_M_SPEC_THROUGHPUT_GAIN]);
    }
    if (!isnan(v[LS_M_DP_SYNC_WAIT_FRAC]))  /* DP attention + EP: ranks in lockstep (docs/ENGINE.md) */
        printf("lockstep       DP ranks of an EP group step together: %.1f%% of their step time waiting for the "
               "slowest\n",
               100 * v[LS_M_DP_SYNC_WAIT_FRAC]);
    if (!isnan(v[LS_M_MIX_LONG_SHARE]))  /* mixed replica groups (docs/ENGINE.md) */
        printf("replicas       long-prompt replicas served %.1f%% of the requests, busy %.1f%%; the others busy %.1f%%\n",
               100 * v[LS_M_MIX_LONG_SHARE], 100 * v[LS_M_MIX_LONG_UTILIZATION], 100 * v[LS_M_MIX_SHORT_UTILIZATION]);
    printf("simulation     %.1f s simulated, %lld iterations, %lld events, %.3f s wall\n", v[LS_M_SIM_TIME_S],
           (long long)v[LS_M_ITERATIONS], (long long)v[LS_M_EVENTS], v[LS_M_WALL_TIME_S]);
}

/* With speculative decoding: run the same tree without its `speculative` key
 * (same seed, so the same requests; no side outputs) and fill m's gains
 * (common/spec_gain.h). Nothing to do without speculation. */
static ls_status run_baseline(const ls_yaml *root, const char *base_dir, const ls_run_config *cfg, ls_metrics *m,
                              ls_error *e)
{
    ls_config_row row;
    ls_config_get_row(cfg, &row);
    if (!strcmp(row.speculative, "none"))
        return LS_OK;
    ls_yaml *plain = ls_yaml_clone(root);
    ls_yaml_map_remove(plain, "speculative");
    ls_run_config *bc = NULL;
    ls_status rc = ls_config_load(plain, base_dir, NULL, &bc, e);
    ls_metrics bm;
    ls_run_opts opts;
    memset(&opts, 0, sizeof opts);
    if (!rc)
        rc = ls_run(bc, &opts, &bm, e);
    if (rc)
        ls_error_prefix(e, "baseline without speculative decoding (--no-baseline skips it)");
    else
        ls_spec_gain_fill(&bm, m);
    ls_config_free(bc);
    ls_yaml_free(plain);
    return rc;
}

int ls_cmd_run(int argc, char **argv)
{
    ls_error err;
    ls_error_clear(&err);
    ls_yaml *root = NULL;
    ls_run_config *cfg = NULL;
    char *base_dir = NULL;
    bool json = false, baseline = true;
    const char *req_out = NULL, *tl_out = NULL;
    long long tl_iter = 1000;
    int status = LS_EXIT_ERROR;
    const char *config_path = NULL;

    /* first pass: --config and --help, so the file is the base the other flags override */
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
        if (c == '?' || c == ':') {
            ls_cli_error("run: unknown or incomplete option '%s'", argv[optind - 1]);
            fputs(usage_text, stderr);
            return LS_EXIT_USAGE;
        }
        if (c == 'h' || c == O_HELP) {
            fputs(usage_text, stdout);
            return LS_EXIT_OK;
        }
        if (c == O_CONFIG)
            config_path = optarg;
    }
    if (optind < argc) {
        ls_cli_error("run: unexpected argument '%s'", argv[optind]);
        fputs(usage_text, stderr);
        return LS_EXIT_USAGE;
    }
    if (config_path) {
        if (ls_yaml_load_file(config_path, &root, &err)) {
            ls_cli_error("%s", err.msg);
            return LS_EXIT_ERROR;
        }
        char *tmp = ls_xstrdup(config_path);
        base_dir = ls_xstrdup(dirname(tmp));
        free(tmp);
    } else {
        root = ls_yaml_new_map();
    }

    optind = 1;
    ls_status rc = LS_OK;
    while (!rc && (c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
        switch (c) {
        case O_CONFIG: break;
        case O_MODEL: rc = set_path(root, "model", optarg, &err); break;
        case O_HARDWARE: rc = set_path(root, "hardware", optarg, &err); break;
        case O_CLUSTER: rc = set_path(root, "cluster", optarg, &err); break;
        case O_CATALOG: {
            const ls_yaml *cur = ls_yaml_get(root, "catalog");
            ls_yaml *seq = ls_yaml_new_seq();
            if (cur && cur->kind == LS_YAML_SEQ)
                for (size_t i = 0; i < cur->n; i++)
                    ls_yaml_seq_push(seq, ls_yaml_clone(cur->vals[i]));
            else if (cur)
                ls_yaml_seq_push(seq, ls_yaml_clone(cur));
            /* a file named on the command line is relative to the current directory */
            char *abs = cwd_path(optarg, base_dir);
            ls_yaml_seq_push(seq, ls_yaml_new_scalar(abs ? abs : optarg, false));
            free(abs);
            ls_yaml_map_set(root, "catalog", seq);
            break;
        }
        case O_PAR: rc = set_path(root, "parallelism", optarg, &err); break;
        case O_TP:
        case O_PP:
        case O_DP: {
            const ls_yaml *cur = ls_yaml_get(root, "parallelism");
            if (cur && cur->kind != LS_YAML_MAP)
                ls_yaml_map_remove(root, "parallelism");  /* --tp overrides a strategy string */
            rc = set_path(root, c == O_TP ? "parallelism.tp" : c == O_PP ? "parallelism.pp" : "parallelism.dp", optarg,
                          &err);
            break;
        }
        case O_DTYPE: {
            const ls_yaml *cur = ls_yaml_get(root, "dtype");
            if (cur && cur->kind == LS_YAML_SCALAR) {  /* one dtype for both: keep KV as it was */
                ls_yaml *m = ls_yaml_new_map();
                ls_yaml_map_set(m, "kv", ls_yaml_clone(cur));
                ls_yaml_map_set(root, "dtype", m);
            }
            rc = set_path(root, "dtype.weights", optarg, &err);
            break;
        }
        case O_KVDTYPE: {
            const ls_yaml *cur = ls_yaml_get(root, "dtype");
            if (cur && cur->kind == LS_YAML_SCALAR) {
                ls_yaml *m = ls_yaml_new_map();
                ls_yaml_map_set(m, "weights", ls_yaml_clone(cur));
                ls_yaml_map_set(root, "dtype", m);
            }
            rc = set_path(root, "dtype.kv", optarg, &err);
            break;
        }
        case O_POLICY: rc = set_path(root, "scheduler.policy", optarg, &err); break;
        case O_MBT: rc = set_path(root, "scheduler.max_batched_tokens", optarg, &err); break;
        case O_SEQS: rc = set_path(root, "scheduler.max_num_seqs", optarg, &err); break;
        case O_MML: rc = set_path(root, "scheduler.max_model_len", optarg, &err); break;
        case O_CHUNK: rc = set_path(root, "scheduler.prefill_chunk_size", optarg, &err); break;
        case O_NOCHUNK: rc = set_path(root, "scheduler.enable_chunked_prefill", "false", &err); break;
        case O_PREFIX: rc = set_path(root, "scheduler.enable_prefix_caching", "true", &err); break;
        case O_PREEMPT: rc = set_path(root, "scheduler.preemption_mode", optarg, &err); break;
        case O_SWAPGB: rc = set_path(root, "scheduler.swap_space_gb", optarg, &err); break;
        case O_SWAPLINK: rc = set_path(root, "scheduler.swap_link", optarg, &err); break;
        case O_GMU: rc = set_path(root, "scheduler.gpu_memory_utilization", optarg, &err); break;
        case O_BLOCKS: rc = set_path(root, "scheduler.num_kv_blocks", optarg, &err); break;
        case O_ROUTER: rc = set_path(root, "router", optarg, &err); break;
        case O_SEED: rc = set_path(root, "seed", optarg, &err); break;
        case O_TTFT: rc = set_path(root, "slo.ttft_s", optarg, &err); break;
        case O_TPOT: rc = set_path(root, "slo.tpot_s", optarg, &err); break;
        case O_TIMEOUT: rc = set_path(root, "timeout_s", optarg, &err); break;
        case O_NODRAIN: rc = set_path(root, "drain", "false", &err); break;
        case O_SET: {
            char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg) {
                ls_cli_error("run: --set expects PATH=VALUE, got '%s'", optarg);
                status = LS_EXIT_USAGE;
                goto out;
            }
            char *path = strndup(optarg, (size_t)(eq - optarg));
            rc = set_path(root, path, eq + 1, &err);
            free(path);
            break;
        }
        case O_TRACE: {
            /* a path on the command line is relative to the current directory */
            char *abs = cwd_path(optarg, base_dir);
            rc = ls_yaml_set_path(root, "workload.trace", ls_yaml_new_scalar(abs ? abs : optarg, false), &err);
            free(abs);
            break;
        }
        case O_RATE: {
            ls_yaml *m = ls_yaml_new_map();
            ls_yaml_map_set(m, "process", ls_yaml_new_scalar("poisson", true));
            ls_yaml_map_set(m, "rate", ls_yaml_new_scalar(optarg, true));
            ls_yaml_set_file(m, "<command line>");
            rc = ls_yaml_set_path(root, "workload.arrival", m, &err);
            break;
        }
        case O_PROMPT:
        case O_OUTPUT: {
            ls_yaml *m = NULL;
            rc = ls_dist_spec_yaml(optarg, "<command line>", &m, &err);
            if (!rc)
                rc = ls_yaml_set_path(root, c == O_PROMPT ? "workload.prompt_tokens" : "workload.output_tokens", m,
                                      &err);
            break;
        }
        case O_DURATION: rc = set_path(root, "workload.duration_s", optarg, &err); break;
        case O_JSON: json = true; break;
        case O_NOBASE: baseline = false; break;
        case O_REQOUT: req_out = optarg; break;
        case O_TLOUT: tl_out = optarg; break;
        case O_TLITER: {
            char *end;
            errno = 0;
            tl_iter = strtoll(optarg, &end, 10);
            if (*end || errno || tl_iter < 1) {
                ls_cli_error("run: --timeline-iterations expects a positive integer, got '%s'", optarg);
                status = LS_EXIT_USAGE;
                goto out;
            }
            break;
        }
        default: break;
        }
    }
    if (rc) {
        ls_cli_error("%s", err.msg);
        goto out;
    }
    if (ls_config_load(root, base_dir, NULL, &cfg, &err)) {
        ls_cli_error("%s", err.msg);
        goto out;
    }

    FILE *csv = NULL;
    csv_out csv_ctx;
#ifndef LS_CLI_LEAN
    ls_cli_run_h5 *h5 = NULL;
#endif
    ls_run_opts opts;
    memset(&opts, 0, sizeof opts);
    if (req_out && ls_cli_is_h5_name(req_out)) {
#ifdef LS_CLI_LEAN
        /* no HDF5 linked here: main.c hands such a run to llmsweep-mpi first */
        ls_cli_error("run: --requests-out %s: HDF5 output is written by llmsweep-mpi", req_out);
        goto out;
#else
        if (ls_cli_run_h5_open(req_out, root, config_path ? config_path : "llmsweep run", cfg, &h5, &err)) {
            ls_cli_error("%s", err.msg);
            goto out;
        }
        opts.on_request = ls_cli_run_h5_request;
        opts.on_request_ctx = h5;
#endif
    } else if (req_out) {
        csv = fopen(req_out, "w");
        if (!csv) {
            ls_cli_error("%s: cannot write: %s", req_out, strerror(errno));
            goto out;
        }
        write_csv_header(csv);
        csv_ctx = (csv_out){csv, ls_config_classes(cfg)};
        opts.on_request = write_csv_request;
        opts.on_request_ctx = &csv_ctx;
    }
    opts.timeline_path = tl_out;
    opts.timeline_iterations = tl_iter;
    ls_metrics m;
    rc = ls_run(cfg, &opts, &m, &err);
    if (csv && fclose(csv) != 0 && !rc)
        rc = ls_fail(&err, LS_EIO, "%s: error writing the request table", req_out);
#ifndef LS_CLI_LEAN
    if (h5) {
        ls_error e2;
        ls_status rc2 = ls_cli_run_h5_close(h5, rc ? NULL : &m, &e2);
        if (rc2 && !rc) {
            rc = rc2;
            err = e2;
        }
    }
#endif
    if (rc) {
        m.status = LS_RUN_ERROR;
        snprintf(m.message, sizeof m.message, "%.*s", (int)sizeof m.message - 1, err.msg);
        if (json)
            print_json(&m);
        ls_cli_error("%s", err.msg);
        goto out;
    }
    if (baseline && m.status == LS_RUN_OK && run_baseline(root, base_dir, cfg, &m, &err)) {
        ls_cli_error("%s", err.msg);
        goto out;
    }
    if (json)
        print_json(&m);
    else
        print_summary(cfg, &m);
    if (m.status == LS_RUN_INFEASIBLE) {
        ls_cli_error("infeasible configuration: %s", m.message);
        status = LS_EXIT_INFEASIBLE;
    } else {
        status = LS_EXIT_OK;
    }
out:
    ls_config_free(cfg);
    ls_yaml_free(root);
    free(base_dir);
    return status;
}
