/* bench_prefix.c -- what automatic prefix caching costs the replay.
 *
 * Usage: bench_prefix [TRACE_DIR [CASE]]   (CASE: 1-based index, to profile one case)
 * Each case replays the Mooncake conversation trace (12,031 requests with
 * hash_ids; materialised first, parsing not timed) twice, prefix caching off
 * and on, alternating, best of 5 in process CPU seconds, and prints both times, their
 * ratio, the iterations each run simulated (caching changes the schedule, so
 * it changes how many steps there are) and the cost per iteration. The issue's
 * target: on <= 2x off. Results are recorded in docs/ENGINE.md and bench/bench_prefix.txt. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "replay.h"

typedef struct bench_case {
    const char *name;
    const char *yaml;     /* %s: the trace directory; %s: "true"/"false" */
} bench_case;

#define MOONCAKE "workload: {trace: %s/mooncake_conversation_trace.jsonl.gz"

static const bench_case cases[] = {
    {"8B dp4 h100, trace at 1 req/s, KV of the memory model",
     "model: llama-3.1-8b\nhardware: h100-sxm\nparallelism: tp1dp4\ndrain: true\n"
     MOONCAKE ", target_rate: 1.0}\nscheduler: {enable_prefix_caching: %s}\n"},
    {"8B dp4 h100 least-kv, trace's own rate, KV of the memory model",
     "model: llama-3.1-8b\nhardware: h100-sxm\nparallelism: tp1dp4\nrouter: least-kv\ndrain: true\n"
     MOONCAKE "}\nscheduler: {enable_prefix_caching: %s}\n"},
    {"8B tp1 h100, trace's own rate, unbounded KV (10^9 blocks)",
     "model: llama-3.1-8b\nhardware: h100-sxm\nparallelism: tp1\ndrain: true\n"
     MOONCAKE "}\nscheduler: {enable_prefix_caching: %s, num_kv_blocks: 1000000000}\n"},
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);  /* CPU time: the machine is shared */
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#define ROUNDS 5

/* One configuration loaded; with `arr`, one run of it timed into *t (CPU seconds), metrics in *m. */
static int time_case(const char *name, const char *text, const ls_request_array *arr, ls_run_config **cfg_out,
                     double *t, ls_metrics *m)
{
    ls_error e;
    ls_yaml *root;
    ls_run_config *c;
    if (ls_yaml_load_string(text, strlen(text), name, &root, &e) || ls_config_load(root, NULL, NULL, &c, &e)) {
        fprintf(stderr, "%s: %s\n", name, e.msg);
        return 1;
    }
    ls_yaml_free(root);
    ls_run_opts o;
    memset(&o, 0, sizeof o);
    o.requests = arr;
    *t = INFINITY;
    if (arr) {
        double t0 = now_s();
        if (ls_run(c, &o, m, &e)) {
            fprintf(stderr, "%s: %s\n", name, e.msg);
            return 1;
        }
        *t = now_s() - t0;
    }
    *cfg_out = c;
    return 0;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "../shared/traces";
    size_t only = argc > 2 ? (size_t)strtoul(argv[2], NULL, 10) : 0;
    printf("%-62s %8s %8s %6s %10s %10s %9s %9s %8s\n", "case", "off_s", "on_s", "on/off", "iter_off", "iter_on",
           "us/it_off", "us/it_on", "hit_rate");
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        if (only && k + 1 != only)
            continue;
        const bench_case *bc = &cases[k];
        char off[2048], on[2048];
        snprintf(off, sizeof off, bc->yaml, dir, "false");
        snprintf(on, sizeof on, bc->yaml, dir, "true");
        /* the requests, once (not timed) */
        ls_run_config *c0;
        ls_metrics m0, m1;
        double t0, t1;
        if (time_case(bc->name, off, NULL, &c0, &t0, &m0))
            return 1;
        ls_request_array arr = {0};
        ls_source *src;
        ls_error e;
        if (ls_config_open_workload(c0, &src, &e) || ls_source_collect(src, 0, &arr, &e)) {
            fprintf(stderr, "%s: %s\n", bc->name, e.msg);
            return 1;
        }
        ls_source_free(src);
        ls_config_free(c0);
        /* off and on alternate, best of ROUNDS each: both see the same moments of a shared machine */
        t0 = t1 = INFINITY;
        for (int r = 0; r < ROUNDS; r++) {
            ls_run_config *a, *b;
            double x0, x1;
            if (time_case(bc->name, off, &arr, &a, &x0, &m0) || time_case(bc->name, on, &arr, &b, &x1, &m1))
                return 1;
            t0 = x0 < t0 ? x0 : t0;
            t1 = x1 < t1 ? x1 : t1;
            ls_config_free(a);
            ls_config_free(b);
        }
        double i0 = m0.v[LS_M_ITERATIONS], i1 = m1.v[LS_M_ITERATIONS];
        printf("%-62s %8.3f %8.3f %6.2f %10.0f %10.0f %9.3f %9.3f %8.4f\n", bc->name, t0, t1, t1 / t0, i0, i1,
               1e6 * t0 / i0, 1e6 * t1 / i1, m1.v[LS_M_PREFIX_HIT_RATE]);
        fflush(stdout);
        ls_request_array_free(&arr);
    }
    return 0;
}
