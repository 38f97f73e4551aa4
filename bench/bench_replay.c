/* bench_replay.c -- speed of the replay engine on a fixed list of cases.
 *
 * Usage: bench_replay [TRACE_DIR] [--quick] [--only SUBSTRING] [--repeats N]
 * For each case: requests/s, iterations/s and events/s of ls_run (best of 3 or N,
 * requests materialised beforehand so that trace parsing is not timed), and
 * the process's peak resident memory after the case. One core, no threads.
 * Results are recorded in docs/ENGINE.md. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "replay.h"

typedef struct bench_case {
    const char *name;
    const char *yaml;     /* %s: the trace directory */
    int repeats;
} bench_case;

#define SYNTH_AZURE_CONV(rate, dur)                                                                  \
    "workload:\n"                                                                                  \
    "  arrival: {process: poisson, rate: " #rate "}\n"                                              \
    "  prompt_tokens: {dist: lognormal, mean: 1155, stddev: 1000}\n"                    \
    "  output_tokens: {dist: lognormal, mean: 211, stddev: 180}\n"                      \
    "  duration_s: " #dur "\n"

/* llmsweep plan's runs (issue 16): Llama-3.1-70B, vLLM V1 with the auto budget, 10,039 requests of the
 * plan's synthetic trace (`trace synth --prompt lognormal:mu=7,sigma=0.6 --output
 * lognormal:mu=5.2,sigma=0.5`), here generated inline at the plan's target rate */
#define PLAN(par, hw, dtype, seqs, rate)                                                                \
    "model: llama-3.1-70b\nhardware: " hw "\ndtype: " dtype "\nparallelism: " #par "\n"                \
    "scheduler: {policy: vllm-v1, max_batched_tokens: auto, max_num_seqs: " #seqs                      \
    ", gpu_memory_utilization: 0.9}\n"                                                                 \
    "workload:\n"                                                                                      \
    "  arrival: {process: poisson, rate: " #rate "}\n"                                                 \
    "  prompt_tokens: {dist: lognormal, mu: 7, sigma: 0.6}\n"                                          \
    "  output_tokens: {dist: lognormal, mu: 5.2, sigma: 0.5}\n"                                        \
    "  max_requests: 10039\n"                                                                          \
    "slo: {tpot_s: 0.05, ttft_s: 2}\nseed: 1\n"
#define FP4 "{kv: fp8, weights: nvfp4}"

static const bench_case cases[] = {
    /* issue 17.5's engine target (<= 5 ms in-process): 10,000 Poisson requests, materialised */
    {"10k poisson llama-2-70b tp4 h100 sarathi 512",
     "model: llama-2-70b\nhardware: h100-sxm\ncluster: dgx-h100\nparallelism: tp4\n"
     "scheduler: {policy: sarathi, max_batched_tokens: 512}\n"
     "workload:\n"
     "  arrival: {process: poisson, rate: 5}\n"
     "  prompt_tokens: {dist: lognormal, mean: 1155, stddev: 1000}\n"
     "  output_tokens: {dist: lognormal, mean: 211, stddev: 180}\n"
     "  max_requests: 10000\n", 30},
    {"azure-conv 70B tp4 h100 vllm-v1",
     "model: llama-3-70b\nhardware: h100-sxm\ncluster: dgx-h100\nparallelism: tp4\n"
     "workload: {trace: %s/AzureLLMInferenceTrace_conv.csv.gz}\n", 3},
    {"azure-conv 70B tp4pp2 gh200-quad vllm-v1",
     "model: llama-3-70b\nhardware: gh200-96gb\ncluster: gh200-quad\nparallelism: tp4pp2\n"
     "workload: {trace: %s/AzureLLMInferenceTrace_conv.csv.gz}\n", 3},
    {"azure-conv 70B tp4dp2 h100 sarathi",
     "model: llama-3-70b\nhardware: h100-sxm\ncluster: dgx-h100\nparallelism: tp4dp2\n"
     "scheduler: {policy: sarathi, max_batched_tokens: 2048}\nrouter: least-outstanding\n"
     "workload: {trace: %s/AzureLLMInferenceTrace_conv.csv.gz}\n", 3},
    {"azure-conv 70B tp4 h100 vllm-v0",
     "model: llama-3-70b\nhardware: h100-sxm\ncluster: dgx-h100\nparallelism: tp4\n"
     "scheduler: {policy: vllm-v0}\n"
     "workload: {trace: %s/AzureLLMInferenceTrace_conv.csv.gz}\n", 3},
    {"plan tp1pp1dp31 b200 fp4 seqs128 100/s", PLAN(tp1pp1dp31, "b200", FP4, 128, 100), 10},
    {"plan tp2pp1dp8 h200 fp8 seqs256 100/s", PLAN(tp2pp1dp8, "h200", "fp8", 256, 100), 10},
    {"plan tp4pp1dp4 b200 bf16 seqs512 50/s", PLAN(tp4pp1dp4, "b200", "bf16", 512, 50), 10},
    {"plan tp1pp2dp8 b200 fp8 seqs128 100/s", PLAN(tp1pp2dp8, "b200", "fp8", 128, 100), 10},
    {"plan tp8pp1dp1 b200 fp8 seqs256 50/s", PLAN(tp8pp1dp1, "b200", "fp8", 256, 50), 10},
    {"plan tp2pp2dp4 h200 fp8 seqs512 200/s", PLAN(tp2pp2dp4, "h200", "fp8", 512, 200), 10},
    {"plan tp1pp4dp2 b200 fp8 seqs128 100/s", PLAN(tp1pp4dp2, "b200", "fp8", 128, 100), 10},
    {"plan tp4pp2dp1 h200 fp8 seqs256 50/s", PLAN(tp4pp2dp1, "h200", "fp8", 256, 50), 10},
    {"1M synthetic azure-conv-like 70B tp4dp2 h100 vllm-v1 (streamed)",
     "model: llama-3-70b\nhardware: h100-sxm\ncluster: dgx-h100\nparallelism: tp4dp2\n"
     "router: least-outstanding\n" SYNTH_AZURE_CONV(10, 100000), 1},
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);  /* CPU time: the machine is shared */
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double peak_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0;
}

int main(int argc, char **argv)
{
    const char *dir = "../shared/traces";
    bool quick = false;
    const char *only = NULL;
    int repeats = 0;  /* 0: each case's own */
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick"))
            quick = true;
        else if (!strcmp(argv[i], "--only") && i + 1 < argc)
            only = argv[++i];
        else if (!strcmp(argv[i], "--repeats") && i + 1 < argc)
            repeats = atoi(argv[++i]);
        else
            dir = argv[i];
    }
    printf("%-62s %9s %10s %12s %12s %12s %8s\n", "case", "requests", "cpu_s", "requests/s", "iterations/s",
           "events/s", "rss_MB");
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const bench_case *bc = &cases[k];
        if ((quick && strstr(bc->name, "1M")) || (only && !strstr(bc->name, only)))
            continue;
        char text[4096];
        snprintf(text, sizeof text, bc->yaml, dir);
        ls_error e;
        ls_yaml *root;
        ls_run_config *c;
        if (ls_yaml_load_string(text, strlen(text), bc->name, &root, &e) ||
            ls_config_load(root, NULL, NULL, &c, &e)) {
            fprintf(stderr, "%s: %s\n", bc->name, e.msg);
            return 1;
        }
        ls_yaml_free(root);
        /* traces and the 10k case are materialised (not timed); the 1M synthetic case streams */
        ls_request_array arr = {0};
        bool materialise = strstr(bc->yaml, "trace:") != NULL || strstr(bc->yaml, "max_requests:") != NULL;
        if (materialise) {
            ls_source *src;
            if (ls_config_open_workload(c, &src, &e) || ls_source_collect(src, 0, &arr, &e)) {
                fprintf(stderr, "%s: %s\n", bc->name, e.msg);
                return 1;
            }
            ls_source_free(src);
        }
        ls_run_opts o;
        memset(&o, 0, sizeof o);
        o.requests = materialise ? &arr : NULL;
        double best = INFINITY;
        ls_metrics m;
        for (int r = 0; r < (repeats > 0 ? repeats : bc->repeats); r++) {
            double t0 = now_s();
            if (ls_run(c, &o, &m, &e)) {
                fprintf(stderr, "%s: %s\n", bc->name, e.msg);
                return 1;
            }
            double t = now_s() - t0;
            if (t < best)
                best = t;
        }
        double n = m.v[LS_M_N_REQUESTS];
        printf("%-62s %9.0f %10.4f %12.0f %12.0f %12.0f %8.1f\n", bc->name, n, best, n / best,
               m.v[LS_M_ITERATIONS] / best, m.v[LS_M_EVENTS] / best, peak_rss_mb());
        fflush(stdout);
        ls_request_array_free(&arr);
        ls_config_free(c);
    }
    return 0;
}
