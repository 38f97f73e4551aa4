/* cmd_plan.c -- `llmsweep plan`: a model, GPU types, a GPU budget, a workload and an SLO in;
 * the ranked deployments, the Pareto frontier, the fewest GPUs and `vllm serve` lines out.
 *
 * Every rank parses the flags and builds the same specification (mpi/plan.h);
 * the sweep runs it as `llmsweep sweep` would (ls_cli_sweep_spec), then rank 0
 * reads the file back and writes the answer (analysis/plan_answer.h). Beside
 * FILE.h5 it writes FILE.spec.yaml (the sweep, to resume or grow with
 * `llmsweep sweep`), FILE.md (the answer in Markdown) and FILE.topK.yaml (the
 * top configurations, for `llmsweep run --config`). docs/PLAN.md. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "plan.h"
#include "plan_answer.h"
#include "plot.h"
#include "report.h"
#include "results.h"
#include "sweep_h5.h"
#include "yamldoc.h"

#define PLAN_MAX_TOP 20

typedef struct plan_args {
    ls_plan_opts p;
    char dtype_buf[LS_PLAN_MAX_LIST][16];
    const char *prices[LS_PLAN_MAX_HW]; /* --cost-per-gpu-hour values, as given */
    int n_prices;
    const char *power;                  /* --power: "tdp" or NAME=W,... */
    const char *plots;                  /* --plots DIR (NULL: none) */
    const char *out, *slo;
    bool force, quiet, markdown, dry_run;
    int top;
} plan_args;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: llmsweep plan --model M --hardware GPU [--hardware GPU2] --gpus N\n"
            "                     (--trace FILE [--rate R | --scale-trace X] | --isl N --osl N --rate R)\n"
            "                     --slo ttft_p99=2s,tpot_p99=50ms [-o plan.h5] [options]\n"
            "       mpirun -np N llmsweep plan ...\n\n"
            "Search every TP/PP/DP (and EP, MoE models) split of 1..N GPUs of each GPU type:\n"
            "prune what does not fit in memory, simulate the rest on the workload at 0.5, 1,\n"
            "1.5 and 2x the target rate with a capacity search each (an ordinary sweep into\n"
            "FILE), and answer: the top deployments by capacity per GPU under the SLO with\n"
            "their `vllm serve` lines, the Pareto frontier (tok/s per GPU vs tok/s per user),\n"
            "and the fewest GPUs meeting the SLO at the target rate.\n\n"
            "options:\n"
            "  --model M             catalog model (llmsweep catalog)\n"
            "  --hardware GPU        catalog GPU; repeat to compare GPU types (at most 8)\n"
            "  --cluster C           topology (default dgx-h100: 8 GPUs per node, NVLink)\n"
            "  --gpus N              GPU budget\n"
            "  --trace FILE          replay this trace (its lengths, its burstiness)\n"
            "  --isl L --osl L       or prompt/output lengths with Poisson arrivals: N tokens, or a\n"
            "                        distribution as trace synth takes it (lognormal:mu=6,sigma=0.5,\n"
            "                        lognormal:mean=1155,stddev=1000, uniform:..., fixed:N)\n"
            "  --rate R              target load, requests/s (default with a trace: its own rate)\n"
            "  --scale-trace X       target load = X times the trace's own rate\n"
            "  --duration S          arrival window of --isl/--osl workloads (default 120 s)\n"
            "  --capacity-floor R    the capacity search probes no lower (req/s; default half the\n"
            "                        target, the lowest load planned; 0: none); a deployment\n"
            "                        missing the SLO there has capacity \"< R\"\n"
            "  --slo LIMITS          ttft_p99=2s,tpot_p99=50ms (both needed, units s, ms or us;\n"
            "                        success=0.99 optional)\n"
            "  --dtype D[,D...]      weights (and KV) formats to search: bf16 (default), fp8, fp4\n"
            "                        (NVFP4, FP8 KV; only on GPUs with FP4 tensor cores), mxfp4, int4\n"
            "  --max-num-seqs N[,N]  vLLM's max_num_seqs values to search (default 256)\n"
            "  --cost-per-gpu-hour GPU=$[,GPU=$]  prices: $/million output tokens in the answer\n"
            "  --power tdp|GPU=W[,GPU=W]  W per GPU (tdp: board power of the datasheet): J/token\n"
            "  --max-batched-tokens B[,B]  token budgets to search: auto (default) or integers\n"
            "  --speculative S       speculative decoding to search (repeat; default off):\n"
            "                        off, or METHOD:k=K,acceptance=A[,model=DRAFT] with METHOD\n"
            "                        eagle, mtp, ngram or draft (e.g. eagle:k=3,acceptance=0.7;\n"
            "                        acceptance per position: 0.8/0.7/0.6); --speculative off\n"
            "                        --speculative eagle:... compares with and without\n"
            "  --seed N              random seed (default 1)\n"
            "  -o, --output FILE     result file (default plan.h5)\n"
            "  --top N               rows of the top table (default 5, at most %d)\n"
            "  --format text|md      the answer on stdout (FILE.md is always written)\n"
            "  --force               overwrite FILE if it exists\n"
            "  --modes M[,M]         agg (default), disagg: prefill/decode pools, every P:D ratio\n"
            "                        and per-role TP on the budget\n"
            "  --dry-run             enumerate, prune and write FILE.spec.yaml; simulate nothing\n"
            "  --plots DIR           also `llmsweep plot FILE -o DIR` (frontier.png: the Pareto frontier)\n"
            "  -q, --quiet           no progress lines\n"
            "exit status: 0 answer found, 1 error, 2 usage, 3 nothing fits or meets the SLO\n",
            PLAN_MAX_TOP);
}

static bool parse_num(const char *s, double *out)
{
    char *end;
    *out = strtod(s, &end);
    return end != s && !*end && isfinite(*out);
}

/* "a,b,c" -> up to LS_PLAN_MAX_LIST items of at most 15 characters; false on an empty or
 * too long item, or too many. */
static bool split_list(const char *v, char items[][16], int *n)
{
    *n = 0;
    for (const char *p = v;;) {
        const char *q = strchr(p, ',');
        size_t len = q ? (size_t)(q - p) : strlen(p);
        if (len == 0 || len > 15 || *n == LS_PLAN_MAX_LIST)
            return false;
        memcpy(items[*n], p, len);
        items[(*n)++][len] = 0;
        if (!q)
            return true;
        p = q + 1;
    }
}

/* x as an int, or 0 when it has none (out of range, NaN): the flag checks
 * reject such values, but the assignment beside each check runs first. */
static int as_int(double x)
{
    return x >= INT_MIN && x <= INT_MAX ? (int)x : 0;
}

/* A list of positive integers ("auto" as 0 where `auto_ok`). */
static bool int_list(const char *v, int *out, int *n, bool auto_ok)
{
    char items[LS_PLAN_MAX_LIST][16];
    if (!split_list(v, items, n))
        return false;
    for (int i = 0; i < *n; i++) {
        double x;
        if (auto_ok && !strcmp(items[i], "auto"))
            out[i] = 0;
        else if (parse_num(items[i], &x) && x >= 1 && x <= 1e7 && x == floor(x))
            out[i] = (int)x;
        else
            return false;
    }
    return true;
}

/* v for a one-line message: control characters as \n or \xHH, cut at ~200 characters. */
static const char *shown(const char *v, char *buf, size_t size)
{
    size_t n = 0;
    for (const unsigned char *c = (const unsigned char *)v; *c && n + 8 < size; c++) {
        if (*c == '\n')
            n += (size_t)snprintf(buf + n, size - n, "\\n");
        else if (*c < 0x20 || *c == 0x7f)
            n += (size_t)snprintf(buf + n, size - n, "\\x%02x", *c);
        else
            buf[n++] = (char)*c;
    }
    buf[n] = 0;
    return buf;
}

/* --seed: decimal digits only, 0 .. INT64_MAX (a double would round 2^53 and up). */
static bool parse_seed(const char *v, int64_t *out)
{
    uint64_t x = 0;
    if (!*v)
        return false;
    for (const char *c = v; *c; c++) {
        if (*c < '0' || *c > '9')
            return false;
        uint64_t d = (uint64_t)(*c - '0');
        if (x > ((uint64_t)INT64_MAX - d) / 10)
            return false;
        x = x * 10 + d;
    }
    *out = (int64_t)x;
    return true;
}

/* The flags that take one value (-o counts as --output): given twice, the second would win
 * silently. --hardware, --cost-per-gpu-hour and --speculative are repeatable. */
static const char *const single_flags[] = {
    "--model", "--cluster", "--gpus", "--trace", "--isl", "--osl", "--rate", "--scale-trace",
    "--capacity-floor", "--duration", "--slo", "--dtype", "--power", "--plots", "--modes",
    "--max-num-seqs", "--max-batched-tokens", "--seed", "--output", "--top", "--format"};
#define N_SINGLE_FLAGS (sizeof single_flags / sizeof single_flags[0])

/* The index of the first item of `items` equal to an earlier one (after `canon`), or -1. */
static int list_repeat(char items[][16], int n, const char *(*canon)(const char *))
{
    for (int i = 1; i < n; i++)
        for (int j = 0; j < i; j++)
            if (!strcmp(canon ? canon(items[i]) : items[i], canon ? canon(items[j]) : items[j]))
                return i;
    return -1;
}

/* fp4 is nvfp4 (mpi/plan.c): one format under two words. */
static const char *dtype_canon(const char *d)
{
    return !strcmp(d, "nvfp4") ? "fp4" : d;
}

static int int_repeat(const int *v, int n)
{
    for (int i = 1; i < n; i++)
        for (int j = 0; j < i; j++)
            if (v[i] == v[j])
                return i;
    return -1;
}

/* --slo, before the shared parser (analysis/report.c, which `report --slo` also uses and which
 * takes a bare number as seconds): plan wants a unit on each latency, each limit once and no
 * empty item. The rest (names, numbers) is the shared parser's. */
static bool check_slo(const char *v, bool talk)
{
    char *buf = ls_xstrdup(v);
    const char *first[3] = {NULL, NULL, NULL};
    bool ok = true;
    char b1[256];
    for (char *item = buf, *next; item && ok; item = next) {
        char *comma = strchr(item, ',');
        next = comma ? comma + 1 : NULL;
        if (comma)
            *comma = 0;
        char *eq = strchr(item, '=');
        if (!*item) {
            if (talk)
                ls_cli_error("plan: --slo '%s': an empty item (expected ttft_p99=2s,tpot_p99=50ms)", shown(v, b1, sizeof b1));
            ok = false;
            break;
        }
        if (!eq)
            continue; /* the shared parser names it */
        *eq = 0;
        const char *val = eq + 1;
        int k = !strcmp(item, "ttft_p99") || !strcmp(item, "ttft")   ? 0
                : !strcmp(item, "tpot_p99") || !strcmp(item, "tpot") ? 1
                : !strcmp(item, "success")                           ? 2
                                                                     : -1;
        if (k < 0)
            continue;
        static const char *const names[] = {"ttft_p99", "tpot_p99", "success"};
        if (first[k]) {
            if (talk)
                ls_cli_error("plan: --slo %s: %s given twice ('%s' and '%s')", shown(v, b1, sizeof b1), names[k],
                             first[k], val);
            ok = false;
            break;
        }
        first[k] = val;
        char *end;
        (void)strtod(val, &end);
        if (k < 2 && end != val && !*end) {
            if (talk)
                ls_cli_error("plan: --slo %s=%s: give a unit, s, ms or us (e.g. %s=%ss)", item, val, item, val);
            ok = false;
        }
    }
    free(buf);
    return ok;
}

/* 0 ok, -1 help, LS_EXIT_USAGE (message printed when `talk`). */
static int parse_args(int argc, char **argv, plan_args *a, bool talk)
{
    memset(a, 0, sizeof *a);
    a->out = "plan.h5";
    a->top = 5;
    a->p.seed = 1;
    a->p.seqs[0] = 256; /* vLLM's default */
    a->p.n_seqs = 1;
    a->p.budgets[0] = 0; /* auto */
    a->p.n_budgets = 1;
    a->p.agg = true; /* --modes agg */
    const char *seen[N_SINGLE_FLAGS] = {0}; /* the value of each single-valued flag given */
    char b1[256], b2[256];
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (!strcmp(s, "-h") || !strcmp(s, "--help"))
            return -1;
        if (!strcmp(s, "--force")) {
            a->force = true;
            continue;
        }
        if (!strcmp(s, "--dry-run")) {
            a->dry_run = true;
            continue;
        }
        if (!strcmp(s, "-q") || !strcmp(s, "--quiet")) {
            a->quiet = true;
            continue;
        }
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (s[0] != '-' || !v) {
            if (talk)
                ls_cli_error(s[0] != '-' ? "plan: unexpected argument '%s'" : "plan: %s needs a value", s);
            return LS_EXIT_USAGE;
        }
        i++;
        const char *fname = !strcmp(s, "-o") ? "--output" : s;
        for (size_t k = 0; k < N_SINGLE_FLAGS; k++)
            if (!strcmp(fname, single_flags[k])) {
                if (seen[k]) {
                    if (talk)
                        ls_cli_error("plan: %s given twice: '%s' and '%s'",
                                     !strcmp(fname, "--output") ? "-o/--output" : s, shown(seen[k], b1, sizeof b1),
                                     shown(v, b2, sizeof b2));
                    return LS_EXIT_USAGE;
                }
                seen[k] = v;
            }
        /* names go into the YAML specification as written */
        const char *kind = !strcmp(s, "--model") ? "model" : !strcmp(s, "--hardware") ? "GPU"
                           : !strcmp(s, "--cluster") ? "cluster" : NULL;
        if (kind && !ls_plan_plain_name(v)) {
            if (talk)
                ls_cli_error("plan: %s '%s': not a %s name (letters, digits, . _ + -)", s, shown(v, b1, sizeof b1), kind);
            return LS_EXIT_USAGE;
        }
        double x = 0;
        bool num = parse_num(v, &x);
        bool bad = false;
        if (!strcmp(s, "--model"))
            a->p.model = v;
        else if (!strcmp(s, "--hardware")) {
            if (a->p.n_hardware == LS_PLAN_MAX_HW) {
                if (talk)
                    ls_cli_error("plan: --hardware: at most %d GPU types", LS_PLAN_MAX_HW);
                return LS_EXIT_USAGE;
            }
            for (int h = 0; h < a->p.n_hardware; h++)
                if (!strcmp(a->p.hardware[h], v)) {
                    if (talk)
                        ls_cli_error("plan: --hardware %s given twice (each GPU type is searched once)", v);
                    return LS_EXIT_USAGE;
                }
            a->p.hardware[a->p.n_hardware++] = v;
        } else if (!strcmp(s, "--cluster"))
            a->p.cluster = v;
        else if (!strcmp(s, "--gpus"))
            bad = !num || x < 1 || x != floor(x) || x > 4096, a->p.gpus = as_int(x);
        else if (!strcmp(s, "--trace"))
            a->p.trace = v; /* any name: the specification quotes it (mpi/plan.c, write_str) */
        else if (!strcmp(s, "--isl") || !strcmp(s, "--osl")) { /* N, or a distribution (checked by the plan) */
            bool isl = !strcmp(s, "--isl");
            if (num)
                bad = x < 1 || x != floor(x) || x > 1e7, *(isl ? &a->p.isl : &a->p.osl) = as_int(x);
            else
                *(isl ? &a->p.isl_dist : &a->p.osl_dist) = v;
        } else if (!strcmp(s, "--rate"))
            bad = !num || !(x > 0), a->p.rate = x;
        else if (!strcmp(s, "--scale-trace"))
            bad = !num || !(x > 0), a->p.scale_trace = x;
        else if (!strcmp(s, "--capacity-floor"))
            bad = !num || !(x >= 0) || !isfinite(x), a->p.capacity_floor = x, a->p.capacity_floor_set = true;
        else if (!strcmp(s, "--duration"))
            bad = !num || !(x > 0), a->p.duration_s = x;
        else if (!strcmp(s, "--slo")) {
            if (!check_slo(v, talk))
                return LS_EXIT_USAGE;
            a->slo = v;
        }
        else if (!strcmp(s, "--dtype")) {
            bad = !split_list(v, a->dtype_buf, &a->p.n_dtypes);
            for (int k = 0; k < a->p.n_dtypes; k++)
                a->p.dtypes[k] = a->dtype_buf[k];
            int r = bad ? -1 : list_repeat(a->dtype_buf, a->p.n_dtypes, dtype_canon);
            if (r >= 0) {
                if (talk)
                    ls_cli_error("plan: --dtype %s: '%s' listed twice%s", v, a->dtype_buf[r],
                                 strcmp(a->dtype_buf[r], dtype_canon(a->dtype_buf[r])) ||
                                         !strcmp(a->dtype_buf[r], "fp4") ? " (fp4 and nvfp4 are one format)" : "");
                return LS_EXIT_USAGE;
            }
        } else if (!strcmp(s, "--cost-per-gpu-hour")) {
            bad = a->n_prices == LS_PLAN_MAX_HW;
            if (!bad)
                a->prices[a->n_prices++] = v;
        } else if (!strcmp(s, "--power"))
            a->power = v;
        else if (!strcmp(s, "--plots"))
            a->plots = v;
        else if (!strcmp(s, "--modes")) {
            char m[LS_PLAN_MAX_LIST][16];
            int nm = 0;
            bad = !split_list(v, m, &nm);
            int r = bad ? -1 : list_repeat(m, nm, NULL);
            if (r >= 0) {
                if (talk)
                    ls_cli_error("plan: --modes %s: '%s' listed twice", v, m[r]);
                return LS_EXIT_USAGE;
            }
            a->p.agg = a->p.disagg = false;
            for (int k = 0; k < nm && !bad; k++) {
                if (!strcmp(m[k], "agg"))
                    a->p.agg = true;
                else if (!strcmp(m[k], "disagg"))
                    a->p.disagg = true;
                else
                    bad = true;
            }
        }
        else if (!strcmp(s, "--speculative")) {
            ls_error se;
            if (a->p.n_specs == LS_PLAN_MAX_LIST) {
                if (talk)
                    ls_cli_error("plan: --speculative: at most %d values", LS_PLAN_MAX_LIST);
                return LS_EXIT_USAGE;
            }
            if (ls_plan_spec_parse(v, &a->p.specs[a->p.n_specs], &se)) {
                if (talk)
                    ls_cli_error("%s", se.msg);
                return LS_EXIT_USAGE;
            }
            a->p.n_specs++;
        } else if (!strcmp(s, "--max-num-seqs") || !strcmp(s, "--max-batched-tokens")) {
            bool seqs = !strcmp(s, "--max-num-seqs");
            int *vals = seqs ? a->p.seqs : a->p.budgets, *n = seqs ? &a->p.n_seqs : &a->p.n_budgets;
            bad = !int_list(v, vals, n, !seqs);
            int r = bad ? -1 : int_repeat(vals, *n);
            if (r >= 0) {
                if (talk) {
                    char w[16];
                    snprintf(w, sizeof w, "%d", vals[r]);
                    ls_cli_error("plan: %s %s: '%s' listed twice", s, v, vals[r] ? w : "auto");
                }
                return LS_EXIT_USAGE;
            }
        } else if (!strcmp(s, "--seed")) {
            if (!parse_seed(v, &a->p.seed)) {
                if (talk)
                    ls_cli_error("plan: --seed '%s': expected an integer 0 .. %lld in decimal digits",
                                 shown(v, b1, sizeof b1), (long long)INT64_MAX);
                return LS_EXIT_USAGE;
            }
        }
        else if (!strcmp(s, "-o") || !strcmp(s, "--output"))
            a->out = v;
        else if (!strcmp(s, "--top"))
            bad = !num || x < 1 || x > PLAN_MAX_TOP || x != floor(x), a->top = as_int(x);
        else if (!strcmp(s, "--format")) {
            bad = strcmp(v, "text") && strcmp(v, "md");
            a->markdown = !strcmp(v, "md");
        } else {
            if (talk) {
                ls_cli_error("plan: unknown option '%s'", s);
                usage(stderr);
            }
            return LS_EXIT_USAGE;
        }
        if (bad) {
            if (talk)
                ls_cli_error("plan: %s: bad value '%s' (llmsweep plan --help)", s, v);
            return LS_EXIT_USAGE;
        }
    }
    if (!a->slo) {
        if (talk)
            ls_cli_error("plan: --slo is required, e.g. --slo ttft_p99=2s,tpot_p99=50ms");
        return LS_EXIT_USAGE;
    }
    if (!ls_cli_is_h5_name(a->out)) {
        if (talk)
            ls_cli_error("plan: -o %s: expected an HDF5 file name (.h5)", a->out);
        return LS_EXIT_USAGE;
    }
    return 0;
}

/* NAME=X[,NAME=X...] into figures (usd or watts), each GPU once. 0, or LS_EXIT_USAGE with a
 * message quoting the bad item. */
static int parse_figures(const char *flag, const char *v, const plan_args *a, ls_plan_gpu_figures *fig, bool watts,
                         bool talk)
{
    char *buf = ls_xstrdup(v);
    int st = 0;
    char b1[256];
    const char *unit = watts ? "W" : "$";
    for (char *item = buf, *next; item && !st; item = next) {
        char *comma = strchr(item, ',');
        next = comma ? comma + 1 : NULL;
        if (comma)
            *comma = 0;
        if (!*item) {
            if (talk)
                ls_cli_error("plan: %s '%s': an empty item (expected GPU=%s[,GPU=%s], e.g. %s=%s)", flag,
                             shown(v, b1, sizeof b1), unit, unit, a->p.hardware[0], watts ? "700" : "2.5");
            st = LS_EXIT_USAGE;
            break;
        }
        char *eq = strchr(item, '=');
        double x = NAN;
        if (!eq || !parse_num(eq[1] == '$' && !watts ? eq + 2 : eq + 1, &x) || !(x > 0)) {
            if (talk)
                ls_cli_error("plan: %s: expected GPU=%s with %s a number above 0 (e.g. %s=%s), got '%s'", flag, unit,
                             watts ? "W (watts)" : "$ (dollars per GPU-hour)", a->p.hardware[0],
                             watts ? "700" : "2.5", shown(item, b1, sizeof b1));
            st = LS_EXIT_USAGE;
            break;
        }
        *eq = 0;
        int h = 0;
        while (h < a->p.n_hardware && strcmp(a->p.hardware[h], item))
            h++;
        if (h == a->p.n_hardware) {
            if (talk)
                ls_cli_error("plan: %s: %s is not one of the --hardware searched", flag, shown(item, b1, sizeof b1));
            st = LS_EXIT_USAGE;
            break;
        }
        double *slot = watts ? &fig[h].watts : &fig[h].usd_per_hour;
        if (!isnan(*slot)) {
            if (talk)
                ls_cli_error("plan: %s: %s given twice (%g and %g)", flag, item, *slot, x);
            st = LS_EXIT_USAGE;
            break;
        }
        *slot = x;
    }
    free(buf);
    return st;
}

/* The figures of every --hardware: prices and power as given, board TDP for --power tdp.
 * *n 0 when neither flag was given. */
static int build_figures(const plan_args *a, ls_plan_gpu_figures *fig, size_t *n, bool talk)
{
    *n = 0;
    if (!a->n_prices && !a->power)
        return 0;
    for (int h = 0; h < a->p.n_hardware; h++) {
        snprintf(fig[h].hardware, sizeof fig[h].hardware, "%s", a->p.hardware[h]);
        fig[h].usd_per_hour = fig[h].watts = NAN;
    }
    for (int i = 0; i < a->n_prices; i++)
        if (parse_figures("--cost-per-gpu-hour", a->prices[i], a, fig, false, talk))
            return LS_EXIT_USAGE;
    if (a->power && !strcmp(a->power, "tdp")) {
        for (int h = 0; h < a->p.n_hardware; h++)
            if (isnan(fig[h].watts = ls_plan_gpu_tdp_w(a->p.hardware[h]))) {
                if (talk)
                    ls_cli_error("plan: --power tdp: no board power known for %s; give it: --power %s=W",
                                 a->p.hardware[h], a->p.hardware[h]);
                return LS_EXIT_USAGE;
            }
    } else if (a->power && parse_figures("--power", a->power, a, fig, true, talk))
        return LS_EXIT_USAGE;
    *n = (size_t)a->p.n_hardware;
    return 0;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* "plan.h5" -> "plan" + suffix. Caller frees. */
static char *sibling(const char *out, const char *suffix)
{
    size_t n = strlen(out);
    const char *dot = strrchr(out, '.');
    if (dot && !strchr(dot, '/'))
        n = (size_t)(dot - out);
    char *p = ls_xmalloc(n + strlen(suffix) + 1);
    memcpy(p, out, n);
    strcpy(p + n, suffix);
    return p;
}

static int write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f)) {
        ls_cli_error("plan: cannot write %s", path);
        return LS_EXIT_ERROR;
    }
    return 0;
}

/* A candidate as the pruning lines name it: its split, then its speculative decoding when
 * more than one value was asked for (a dtype's reason names the dtype). */
static const char *cand_name(const ls_plan_candidate *c, const plan_args *a, char *buf, size_t size)
{
    int n = snprintf(buf, size, "%s", c->parallelism);
    if (n > 0 && (size_t)n < size && c->spec >= 0 && a->p.n_specs > 1)
        snprintf(buf + n, size - (size_t)n, " --speculative %s", a->p.specs[c->spec].given);
    return buf;
}

/* Rank 0: the pruning, said once. */
static void print_pruning(const ls_plan *p, const plan_args *a, FILE *f)
{
    fprintf(f, "plan: %zu candidate deployments on %d GPU type%s (1..%d GPUs): %zu pruned by memory, %zu by bound "
               "(no load of the plan can meet the SLO), %zu invalid splits, %zu simulated at %d loads (target %.4g "
               "req/s%s)\n",
            p->n, a->p.n_hardware, a->p.n_hardware > 1 ? "s" : "", a->p.gpus, p->n_memory, p->n_bound, p->n_invalid,
            p->n_kept, LS_PLAN_N_LOADS, p->target_rate, isnan(p->trace_rate) ? "" : ", from the trace's rate");
    if (p->n_over_context > 0) /* rejected ones count against the SLO's completed share */
        fprintf(f, "plan: warning: %lld of the %lld requests (%.3g%%) have prompt + output over %s's context of %d "
                   "tokens (max_model_len); %lld of them have the prompt alone over it (vLLM rejects those), the "
                   "simulation cuts the others' outputs at the context\n",
                (long long)p->n_over_context, (long long)p->n_requests,
                100.0 * (double)p->n_over_context / (double)p->n_requests, a->p.model, p->max_context,
                (long long)p->n_too_long);
    char nm[256];
    size_t shown = 0;
    for (size_t i = 0; i < p->n && shown < 4; i++)
        if (p->c[i].by_memory && (i + 1 == p->n || !p->c[i + 1].by_memory || shown < 2)) {
            fprintf(f, "  pruned %s %s: %s\n", p->c[i].hardware, cand_name(&p->c[i], a, nm, sizeof nm), p->c[i].why);
            shown++;
        }
    for (size_t i = 0, k = 0; i < p->n && k < 3; i++)
        if (p->c[i].by_bound) {
            fprintf(f, "  pruned %s %s: %s\n", p->c[i].hardware, cand_name(&p->c[i], a, nm, sizeof nm), p->c[i].why);
            k++;
        }
    for (size_t i = 0, k = 0; i < p->n && k < 2; i++)
        if (!p->c[i].kept && !p->c[i].by_memory && !p->c[i].by_bound) {
            fprintf(f, "  invalid %s %s: %s\n", p->c[i].hardware, cand_name(&p->c[i], a, nm, sizeof nm), p->c[i].why);
            k++;
        }
}

/* Nothing kept: the model fits no GPU count of the budget, or no load can meet the SLO. */
static int report_nothing_fits(const ls_plan *p, const plan_args *a)
{
    const ls_plan_candidate *big = NULL, *fast = NULL, *most = NULL;
    for (size_t i = 0; i < p->n; i++) {
        const ls_plan_candidate *c = &p->c[i];
        if (c->by_memory && (!big || c->n_gpus >= big->n_gpus))
            big = c; /* the largest split that was a valid split */
        if (c->by_bound && (!fast || c->tpot_floor_s < fast->tpot_floor_s))
            fast = c;
        if (c->by_bound && c->tpot_floor_s <= a->p.slo_tpot_s && (!most || c->capacity_ceiling > most->capacity_ceiling))
            most = c;
    }
    if (fast && !most)
        ls_cli_error("plan: no deployment can meet the SLO at any load: tpot_p99 binds. The fastest decode, %s on "
                     "%d %s, takes at least %.3g ms per token (one sequence alone), %.2fx the limit of %.3g ms; "
                     "relax tpot_p99, or use faster GPUs or more of them (--gpus)",
                     fast->parallelism, fast->n_gpus, fast->hardware, 1e3 * fast->tpot_floor_s,
                     fast->tpot_floor_s / a->p.slo_tpot_s, 1e3 * a->p.slo_tpot_s);
    else if (most)
        ls_cli_error("plan: no deployment can meet the SLO at any load of the plan: the load binds. The highest "
                     "capacity ceiling, %s on %d %s, is %.3g req/s, under %.2g of the target %.4g req/s (the "
                     "lowest load simulated); lower --rate or raise --gpus",
                     most->parallelism, most->n_gpus, most->hardware, most->capacity_ceiling,
                     most->capacity_ceiling / p->target_rate, p->target_rate);
    else if (big)
        ls_cli_error("plan: %s fits no GPU count in the budget of %d GPUs: all %zu candidates pruned (%zu by "
                     "memory, %zu invalid splits); the largest, %s on %d %s: %s. Raise --gpus, or use a smaller "
                     "dtype (--dtype fp8)",
                     a->p.model, a->p.gpus, p->n, p->n_memory, p->n_invalid, big->parallelism, big->n_gpus,
                     big->hardware, big->why);
    else
        ls_cli_error("plan: no valid split of %d GPUs for %s (%zu candidates): %s", a->p.gpus, a->p.model, p->n,
                     p->n ? p->c[0].why : "none");
    return LS_EXIT_INFEASIBLE;
}

/* Rank 0, after the sweep: read the file, write the answer and the top configurations. */
static int answer(const plan_args *a, const ls_plan *p, const ls_slo *slo)
{
    ls_error e;
    ls_results *r = NULL;
    if (ls_results_read(a->out, &r, &e)) {
        ls_cli_error("plan: %s", e.msg);
        return LS_EXIT_ERROR;
    }
    ls_plan_gpu_figures fig[LS_PLAN_MAX_HW];
    size_t nfig = 0;
    build_figures(a, fig, &nfig, false); /* checked before the sweep */
    char *bpath = sibling(a->out, ".burst.h5");
    ls_results *burst = NULL;
    if (ls_results_read(bpath, &burst, &e))
        burst = NULL; /* no sensitivity sweep (nothing to rank) */
    free(bpath);
    ls_plan_answer_opts o = {.target_rate = p->target_rate, .gpus = a->p.gpus, .slo = *slo, .top_n = a->top,
                             .figures = nfig ? fig : NULL, .n_figures = nfig, .burst = burst,
                             .burst_cv = LS_PLAN_BURST_CV, .capacity_floor = p->capacity_floor,
                             .markdown = a->markdown};
    bool met = ls_plan_answer_write(r, &o, stdout);
    fflush(stdout);
    int st = 0;
    char *md = sibling(a->out, ".md");
    FILE *f = fopen(md, "w");
    if (!f) {
        ls_cli_error("plan: cannot write %s", md);
        st = LS_EXIT_ERROR;
    } else {
        o.markdown = true;
        ls_plan_answer_write(r, &o, f);
        if (fclose(f)) {
            ls_cli_error("plan: cannot write %s", md);
            st = LS_EXIT_ERROR;
        }
    }
    free(md);
    int64_t ids[PLAN_MAX_TOP];
    size_t k = ls_plan_answer_top(r, &o, ids, (size_t)a->top);
    for (size_t i = 0; i < k && !st; i++) {
        char suf[32];
        snprintf(suf, sizeof suf, ".top%zu.yaml", i + 1);
        char *path = sibling(a->out, suf);
        char *y = ls_yaml_dump(p->spec->configs[ids[i]].tree);
        st = write_text(path, y);
        free(y);
        free(path);
    }
    ls_results_free(r);
    ls_results_free(burst);
    if (!st && !met) {
        ls_cli_error("plan: no deployment meets the SLO at the target rate (the answer above says which limit "
                     "binds)");
        st = LS_EXIT_INFEASIBLE;
    }
    return st;
}

/* The sensitivity sweep (mpi/plan.h, ls_plan_burst_spec): rank 0 picks the top deployments
 * from the plan's file, every rank runs them under burstier arrivals into FILE.burst.h5. */
static int burst_sweep(const plan_args *a, const ls_plan_opts *po, const ls_plan *p, const ls_slo *slo, int rank,
                       int size)
{
    int64_t ids[PLAN_MAX_TOP + 1];
    int32_t n = 0;
    if (rank == 0) {
        ls_error e;
        ls_results *r = NULL;
        if (ls_results_read(a->out, &r, &e)) {
            ls_cli_error("plan: %s", e.msg);
            n = -1;
        } else {
            ls_plan_answer_opts o = {.target_rate = p->target_rate, .gpus = a->p.gpus, .slo = *slo, .top_n = a->top,
                                     .capacity_floor = p->capacity_floor};
            n = (int32_t)ls_plan_answer_top(r, &o, ids, (size_t)a->top);
            ls_results_free(r);
        }
    }
    MPI_Bcast(&n, 1, MPI_INT32_T, 0, MPI_COMM_WORLD);
    if (n <= 0)
        return n < 0 ? LS_EXIT_ERROR : 0;
    MPI_Bcast(ids, n, MPI_INT64_T, 0, MPI_COMM_WORLD);
    char *path = sibling(a->out, ".burst.spec.yaml"), *out = sibling(a->out, ".burst.h5"), *text = NULL;
    ls_sweep_spec *spec = NULL;
    ls_error e;
    int st = 0;
    if (ls_plan_burst_spec(po, p, ids, (size_t)n, path, &text, &spec, &e)) {
        if (rank == 0)
            ls_cli_error("plan: sensitivity specification: %s", e.msg);
        st = LS_EXIT_ERROR;
    }
    int32_t w = !st && rank == 0 ? write_text(path, text) : st;
    MPI_Bcast(&w, 1, MPI_INT32_T, 0, MPI_COMM_WORLD);
    st = w;
    if (!st)
        st = ls_cli_sweep_spec(spec, out, a->force, true, rank, size);
    ls_sweep_spec_free(spec);
    free(text);
    free(path);
    free(out);
    return st;
}

/* --plots DIR: a folder, or one that can be made (plot.py makes it with its parents): the
 * nearest existing ancestor is a writable folder. */
static int check_plots(const char *dir)
{
    struct stat sb;
    if (stat(dir, &sb) == 0) {
        if (!S_ISDIR(sb.st_mode)) {
            ls_cli_error("plan: --plots %s: exists and is not a directory (expected a folder for the plots)", dir);
            return LS_EXIT_USAGE;
        }
        if (access(dir, W_OK | X_OK)) {
            ls_cli_error("plan: --plots %s: the folder is not writable", dir);
            return LS_EXIT_USAGE;
        }
        return 0;
    }
    char *up = ls_xstrdup(dir);
    int st = 0;
    for (;;) {
        size_t n = strlen(up);
        while (n > 1 && up[n - 1] == '/')
            up[--n] = 0;
        char *slash = strrchr(up, '/');
        if (!slash)
            strcpy(up, ".");
        else
            slash[slash == up ? 1 : 0] = 0;
        errno = 0;
        if (stat(up, &sb) == 0) {
            if (!S_ISDIR(sb.st_mode) || access(up, W_OK | X_OK)) {
                ls_cli_error("plan: --plots %s: cannot be created: %s is %s", dir, up,
                             S_ISDIR(sb.st_mode) ? "not writable" : "not a directory");
                st = LS_EXIT_USAGE;
            }
            break;
        }
        if ((errno != ENOENT && errno != ENOTDIR) || !strcmp(up, ".") || !strcmp(up, "/")) {
            ls_cli_error("plan: --plots %s: cannot be created (%s: %s)", dir, up, strerror(errno));
            st = LS_EXIT_USAGE;
            break;
        }
    }
    free(up);
    return st;
}

/* Rank 0, before anything is written: FILE (and its sensitivity file) absent or --force, and
 * the --plots folder usable with the plot script's Python modules at hand. */
static int check_outputs(const plan_args *a)
{
    struct stat sb;
    char *burst = sibling(a->out, ".burst.h5"), *spec = sibling(a->out, ".spec.yaml");
    int st = 0;
    if (!a->force && stat(a->out, &sb) == 0) {
        ls_cli_error("plan: %s exists: pass --force to overwrite it (its sweep resumes with: llmsweep sweep %s -o %s "
                     "--resume)", a->out, spec, a->out);
        st = LS_EXIT_USAGE;
    } else if (!a->force && !a->dry_run && stat(burst, &sb) == 0) {
        ls_cli_error("plan: %s exists (the sensitivity sweep of an earlier plan): pass --force to overwrite it",
                     burst);
        st = LS_EXIT_USAGE;
    }
    free(burst);
    free(spec);
    if (!st && a->plots)
        st = check_plots(a->plots);
    if (!st && a->plots && !a->dry_run) {
        ls_plot_opts po = {0};
        ls_error pe = {0};
        if (ls_plot_check(&po, &pe)) {
            ls_cli_error("plan: --plots %s: %s", a->plots, pe.msg);
            st = LS_EXIT_ERROR;
        }
    }
    return st;
}

static int plan_main(int rank, int size, const plan_args *a)
{
    double t0 = now_s();
    ls_error e;
    ls_slo slo;
    ls_slo_default(&slo);
    slo.ttft_p99_s = slo.tpot_p99_s = NAN;
    if (ls_slo_parse(a->slo, &slo, &e)) {
        if (rank == 0)
            ls_cli_error("plan: --slo: %s", e.msg);
        return LS_EXIT_USAGE;
    }
    ls_plan_gpu_figures fig[LS_PLAN_MAX_HW];
    size_t nfig;
    if (build_figures(a, fig, &nfig, rank == 0))
        return LS_EXIT_USAGE;
    plan_args b = *a;
    b.p.slo_ttft_s = slo.ttft_p99_s;
    b.p.slo_tpot_s = slo.tpot_p99_s;
    char *spec_path = sibling(a->out, ".spec.yaml");
    ls_plan *p = NULL;
    /* deterministic: every rank builds the same plan, or every rank fails the same way */
    if (ls_plan_build(&b.p, spec_path, &p, &e)) {
        if (rank == 0)
            ls_cli_error("%s", e.msg);
        free(spec_path);
        return e.code == LS_EIO ? LS_EXIT_ERROR : LS_EXIT_USAGE;
    }
    /* before anything is written: the output, and the plots' folder */
    int32_t pre = rank == 0 ? check_outputs(a) : 0;
    MPI_Bcast(&pre, 1, MPI_INT32_T, 0, MPI_COMM_WORLD);
    if (pre) {
        ls_plan_free(p);
        free(spec_path);
        return pre;
    }
    int st = 0;
    if (rank == 0)
        print_pruning(p, a, stderr);
    if (!p->spec) {
        st = rank == 0 ? report_nothing_fits(p, &b) : LS_EXIT_INFEASIBLE;
    } else {
        /* the output's folder (one level: `-o out/plan.h5` in a fresh clone) */
        const char *slash = strrchr(a->out, '/');
        if (rank == 0 && slash && slash != a->out) {
            char *dir = ls_xstrdup(a->out);
            dir[slash - a->out] = 0;
            mkdir(dir, 0777); /* failure shows as the write error below */
            free(dir);
        }
        int32_t w = rank == 0 ? write_text(spec_path, p->spec_text) : 0;
        MPI_Bcast(&w, 1, MPI_INT32_T, 0, MPI_COMM_WORLD);
        st = w;
    }
    double t1 = now_s();
    if (!st && a->dry_run) {
        if (rank == 0)
            fprintf(stderr, "plan: dry run: %zu configurations (%zu deployments x %d loads) in %s, %.2f s; nothing "
                            "simulated\n", p->spec->n, p->n_kept, LS_PLAN_N_LOADS, spec_path, t1 - t0);
        ls_plan_free(p);
        free(spec_path);
        return 0;
    }
    if (!st)
        st = ls_cli_sweep_spec(p->spec, a->out, a->force, a->quiet, rank, size);
    double t2 = now_s();
    if (!st)
        st = burst_sweep(a, &b.p, p, &slo, rank, size);
    double t3 = now_s();
    if (!st && rank == 0) {
        st = answer(a, p, &slo);
        if ((!st || st == LS_EXIT_INFEASIBLE) && a->plots) {
            /* the plots judge every row by the SLO the plan wrote into it */
            ls_plot_opts po = {0};
            ls_slo_from_file(&po.slo);
            ls_error pe = {0};
            if (ls_plot_run(a->out, a->plots, &po, &pe)) {
                ls_cli_error("plan: --plots %s: %s", a->plots, pe.msg);
                st = LS_EXIT_ERROR;
            }
        }
        char *md = sibling(a->out, ".md");
        if (!a->quiet)
            fprintf(stderr, "plan: %.2f s in all: candidates and pruning %.2f s, sweep %.2f s, sensitivity %.2f s, "
                            "answer %.2f s (%d rank%s); sweep written to %s, answer to %s, specification %s\n",
                    now_s() - t0, t1 - t0, t2 - t1, t3 - t2, now_s() - t3, size, size > 1 ? "s" : "", a->out, md,
                    spec_path);
        free(md);
    }
    ls_plan_free(p);
    free(spec_path);
    return st;
}

int ls_cmd_plan(int argc, char **argv)
{
    int provided = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_SINGLE, &provided);
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    ls_h5_quiet();
    plan_args a;
    int st = parse_args(argc, argv, &a, rank == 0);
    if (st < 0) {
        if (rank == 0)
            usage(stdout);
        st = 0;
    } else if (!st) {
        st = plan_main(rank, size, &a);
    }
    MPI_Finalize();
    return st;
}
