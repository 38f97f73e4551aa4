/* cmd_trace.c -- `llmsweep trace stats|convert|synth`: inspect, convert, synthesise traces.
 *
 * Flags of convert and synth are turned into a `workload:` mapping and go
 * through ls_workload_parse, so the command line and run configurations
 * share one validation and one pipeline. */
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "dist.h"
#include "reader.h"
#include "workload.h"
#include "writer.h"
#include "yamldoc.h"

static const char *const usage_main =
    "usage: llmsweep trace stats FILE [--format F] [--sort] [--burstgpt-failed exclude|keep]\n"
    "                             [--mooncake-hash-ids strict|any_length] [--json]\n"
    "       llmsweep trace convert IN OUT [--format F] [TRANSFORMATIONS]\n"
    "       llmsweep trace synth -o OUT [--config FRAGMENT.yaml] [--seed N] [GENERATOR] [TRANSFORMATIONS]\n"
    "\n"
    "Read any supported trace (native, azure, vidur, lengths, burstgpt, mooncake; plain or gzip),\n"
    "summarise it, convert it to the native format, or write a synthetic workload.\n"
    "`llmsweep trace SUBCOMMAND --help` describes each.\n";

static const char *const usage_stats =
    "usage: llmsweep trace stats FILE [OPTIONS]\n"
    "\n"
    "Rows, time span, mean rate ((rows-1)/span), inter-arrival coefficient of variation,\n"
    "and prompt/output token mean, p50, p90, p99 (nearest rank), min and max.\n"
    "\n"
    "  --format F              auto (default), native, azure, vidur, lengths, burstgpt, mooncake\n"
    "  --sort                  sort rows by time instead of failing on backwards timestamps\n"
    "  --burstgpt-failed X     exclude (default) or keep BurstGPT rows with 0 response tokens\n"
    "  --mooncake-hash-ids X   strict (default: ceil(input_length/512) ids) or any_length\n"
    "  --json                  print one JSON object\n"
    "  -h, --help              this help\n";

static const char *const usage_transform =
    "transformations (applied in this order):\n"
    "  --format F              input format (default auto)\n"
    "  --sort                  sort rows by time\n"
    "  --burstgpt-failed X     exclude (default) or keep failed BurstGPT rows\n"
    "  --mooncake-hash-ids X   strict (default: ceil(input_length/512) ids) or any_length\n"
    "  --start S               window start, seconds into the trace\n"
    "  --duration S            window length in seconds (synthetic arrivals: stop there)\n"
    "  --max-prompt-tokens N   token limit on the prompt\n"
    "  --max-total-tokens N    token limit on prompt + output\n"
    "  --over-limit drop|clip  what to do with requests over a limit (default drop)\n"
    "  --max-requests N        keep the first N requests\n"
    "  --target-rate R         rescale trace times to a mean rate of R requests/s\n"
    "  --quiet                 do not print what the transformations did\n";

static const char *const usage_convert_head =
    "usage: llmsweep trace convert IN OUT [OPTIONS]\n"
    "\n"
    "Write IN (any readable format) as a native trace; OUT ending in .gz is compressed, - is stdout.\n"
    "A length-only IN needs --process/--rate for its arrival times.\n\n";

static const char *const usage_synth_head =
    "usage: llmsweep trace synth -o OUT [OPTIONS]\n"
    "\n"
    "Write a synthetic workload (deterministic for a seed) as a native trace.\n"
    "\n"
    "generator:\n"
    "  -o, --out OUT           output file (.gz compressed; - for stdout)\n"
    "  --config FILE.yaml      a workload mapping (or a document with a workload: key); flags override it\n"
    "  --seed N                random seed (default 1)\n"
    "  --trace FILE            take requests (or only times) from a trace file\n"
    "  --process P             poisson (default), gamma, constant, trace\n"
    "  --rate R                arrival rate, requests/s\n"
    "  --cv C                  coefficient of variation of gamma gaps\n"
    "  --prompt SPEC           prompt lengths, e.g. lognormal:mu=8.7,sigma=0.17 or fixed:128 or\n"
    "                          uniform:low=100,high=900, normal:mean=500,stddev=100,min=1,\n"
    "                          lognormal:mean=256,stddev=128, zipf:s=1.2,max=4096, empirical:FILE\n"
    "  --output SPEC           output lengths, same forms\n\n";

enum {
    OPT_FORMAT = 1000, OPT_SORT, OPT_FAILED, OPT_JSON, OPT_START, OPT_DURATION, OPT_MAXP, OPT_MAXT, OPT_OVER,
    OPT_MAXN, OPT_TRATE, OPT_QUIET, OPT_CONFIG, OPT_SEED, OPT_TRACE, OPT_PROCESS, OPT_RATE, OPT_CV,
    OPT_PROMPT, OPT_OUTPUT, OPT_MHASH
};

static const struct option long_opts[] = {
    {"help", no_argument, NULL, 'h'},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"sort", no_argument, NULL, OPT_SORT},
    {"burstgpt-failed", required_argument, NULL, OPT_FAILED},
    {"mooncake-hash-ids", required_argument, NULL, OPT_MHASH},
    {"json", no_argument, NULL, OPT_JSON},
    {"start", required_argument, NULL, OPT_START},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"max-prompt-tokens", required_argument, NULL, OPT_MAXP},
    {"max-total-tokens", required_argument, NULL, OPT_MAXT},
    {"over-limit", required_argument, NULL, OPT_OVER},
    {"max-requests", required_argument, NULL, OPT_MAXN},
    {"target-rate", required_argument, NULL, OPT_TRATE},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"seed", required_argument, NULL, OPT_SEED},
    {"trace", required_argument, NULL, OPT_TRACE},
    {"process", required_argument, NULL, OPT_PROCESS},
    {"rate", required_argument, NULL, OPT_RATE},
    {"cv", required_argument, NULL, OPT_CV},
    {"prompt", required_argument, NULL, OPT_PROMPT},
    {"output", required_argument, NULL, OPT_OUTPUT},
    {"out", required_argument, NULL, 'o'},
    {NULL, 0, NULL, 0},
};

/* Which options each subcommand accepts. */
static bool allowed(const char *sub, int opt)
{
    if (opt == 'h' || opt == OPT_FORMAT || opt == OPT_SORT || opt == OPT_FAILED || opt == OPT_MHASH)
        return true;
    if (!strcmp(sub, "stats"))
        return opt == OPT_JSON;
    bool transform = opt == OPT_START || opt == OPT_DURATION || opt == OPT_MAXP || opt == OPT_MAXT ||
                     opt == OPT_OVER || opt == OPT_MAXN || opt == OPT_TRATE || opt == OPT_QUIET ||
                     opt == OPT_PROCESS || opt == OPT_RATE || opt == OPT_CV || opt == OPT_SEED ||
                     opt == OPT_PROMPT || opt == OPT_OUTPUT;
    if (!strcmp(sub, "convert"))
        return transform;
    return transform || opt == OPT_CONFIG || opt == OPT_TRACE || opt == 'o';
}

static void print_usage(FILE *f, const char *sub)
{
    if (!strcmp(sub, "stats"))
        fputs(usage_stats, f);
    else if (!strcmp(sub, "convert"))
        fprintf(f, "%s%s  --process P, --rate R, --cv C, --seed N, --prompt SPEC, --output SPEC:\n"
                   "                          replace times or lengths (see `trace synth --help`)\n"
                   "  -h, --help              this help\n",
                usage_convert_head, usage_transform);
    else
        fprintf(f, "%s%s  -h, --help              this help\n", usage_synth_head, usage_transform);
}

/* Nodes built from flags say so in messages ("<command line>: workload.arrival.rate: ..."). */
#define FROM_FLAGS "<command line>"

static ls_yaml *flag_map(void)
{
    ls_yaml *m = ls_yaml_new_map();
    ls_yaml_set_file(m, FROM_FLAGS);
    return m;
}

static void set(ls_yaml *map, const char *key, const char *val)
{
    ls_yaml *v = ls_yaml_new_scalar(val, true);
    ls_yaml_set_file(v, FROM_FLAGS);
    ls_yaml_map_set(map, key, v);
}

/* Flag values that name files are made absolute: a --config fragment resolves its own relative
 * names against its folder, flags against the current directory. */
static char *abs_path(const char *p)
{
    if (p[0] == '/' || !strcmp(p, "-"))
        return ls_xstrdup(p);
    char cwd[4096];
    if (!getcwd(cwd, sizeof cwd))
        return ls_xstrdup(p);
    size_t n = strlen(cwd) + strlen(p) + 2;
    char *a = ls_xmalloc(n);
    snprintf(a, n, "%s/%s", cwd, p);
    return a;
}

static void set_path(ls_yaml *map, const char *key, const char *val)
{
    char *a = abs_path(val);
    set(map, key, a);
    free(a);
}

/* --prompt/--output: the parser `run` uses too (ls_dist_spec_yaml: "128" is fixed:128), then a file
 * name made absolute like every other flag's. */
static ls_yaml *spec_map(const char *flag, const char *spec)
{
    ls_yaml *m;
    ls_error e;
    if (ls_dist_spec_yaml(spec, FROM_FLAGS, &m, &e) != LS_OK) {
        ls_cli_error("%s: %s", flag, e.msg);
        return NULL;
    }
    const ls_yaml *file = ls_yaml_get(m, "file");
    if (file && file->kind == LS_YAML_SCALAR)
        set_path(m, "file", file->scalar);
    return m;
}

typedef struct flags {
    bool json, quiet, help;
    const char *out, *config, *seed;
    const char *process, *rate, *cv;
    ls_yaml *map; /* workload mapping built from flags */
} flags;

/* Parse options into f; positional arguments are left in argv[optind..]. */
static int parse_flags(const char *sub, int argc, char **argv, flags *f)
{
    memset(f, 0, sizeof *f);
    f->map = flag_map();
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "ho:", long_opts, NULL)) != -1) {
        if (c == '?' || !allowed(sub, c)) {
            if (c == '?' && optopt)
                ls_cli_error("trace %s: option -%c needs a value or is unknown", sub, optopt);
            else
                ls_cli_error("trace %s: unknown option '%s'", sub, argv[optind - 1]);
            print_usage(stderr, sub);
            return LS_EXIT_USAGE;
        }
        switch (c) {
        case 'h': f->help = true; break;
        case 'o': f->out = optarg; break;
        case OPT_FORMAT: set(f->map, "format", optarg); break;
        case OPT_SORT: set(f->map, "sort", "true"); break;
        case OPT_FAILED: set(f->map, "burstgpt_failed", optarg); break;
        case OPT_MHASH: set(f->map, "mooncake_hash_ids", optarg); break;
        case OPT_JSON: f->json = true; break;
        case OPT_START: set(f->map, "start_s", optarg); break;
        case OPT_DURATION: set(f->map, "duration_s", optarg); break;
        case OPT_MAXP: set(f->map, "max_prompt_tokens", optarg); break;
        case OPT_MAXT: set(f->map, "max_total_tokens", optarg); break;
        case OPT_OVER: set(f->map, "over_limit", optarg); break;
        case OPT_MAXN: set(f->map, "max_requests", optarg); break;
        case OPT_TRATE: set(f->map, "target_rate", optarg); break;
        case OPT_QUIET: f->quiet = true; break;
        case OPT_CONFIG: f->config = optarg; break;
        case OPT_SEED: f->seed = optarg; break;
        case OPT_TRACE: set_path(f->map, "trace", optarg); break;
        case OPT_PROCESS: f->process = optarg; break;
        case OPT_RATE: f->rate = optarg; break;
        case OPT_CV: f->cv = optarg; break;
        case OPT_PROMPT:
        case OPT_OUTPUT: {
            ls_yaml *m = spec_map(c == OPT_PROMPT ? "--prompt" : "--output", optarg);
            if (!m)
                return LS_EXIT_ERROR;
            ls_yaml_map_set(f->map, c == OPT_PROMPT ? "prompt_tokens" : "output_tokens", m);
            break;
        }
        default: break;
        }
    }
    return LS_EXIT_OK;
}

/* ---- stats ------------------------------------------------------------------------------ */

static json_t *jnum(double x) { return isfinite(x) ? json_real(x) : json_null(); }

static json_t *jlen(const ls_len_stats *l, uint64_t rows)
{
    json_t *o = json_object();
    json_object_set_new(o, "mean", jnum(l->mean));
    if (rows) {
        json_object_set_new(o, "min", json_integer(l->min));
        json_object_set_new(o, "p50", json_integer(l->p50));
        json_object_set_new(o, "p90", json_integer(l->p90));
        json_object_set_new(o, "p99", json_integer(l->p99));
        json_object_set_new(o, "max", json_integer(l->max));
    }
    return o;
}

static void print_len(const char *name, const ls_len_stats *l, uint64_t rows)
{
    if (!rows) {
        printf("%-10s -\n", name);
        return;
    }
    printf("%-10s mean %.1f  p50 %" PRId32 "  p90 %" PRId32 "  p99 %" PRId32 "  max %" PRId32 "  (min %" PRId32
           ")\n",
           name, l->mean, l->p50, l->p90, l->p99, l->max, l->min);
}

static int cmd_stats(int argc, char **argv)
{
    flags f;
    int rc = parse_flags("stats", argc, argv, &f);
    if (rc == LS_EXIT_OK && f.help) {
        print_usage(stdout, "stats");
        ls_yaml_free(f.map);
        return LS_EXIT_OK;
    }
    if (rc == LS_EXIT_OK && argc - optind != 1) {
        ls_cli_error("trace stats: expected one FILE");
        print_usage(stderr, "stats");
        rc = LS_EXIT_USAGE;
    }
    if (rc != LS_EXIT_OK) {
        ls_yaml_free(f.map);
        return rc;
    }
    const char *path = argv[optind];
    ls_trace_opts o;
    ls_trace_opts_default(&o);
    const ls_yaml *v;
    if ((v = ls_yaml_get(f.map, "format")) && !ls_trace_format_parse(v->scalar, &o.format)) {
        ls_cli_error("trace stats: --format: expected auto, native, azure, vidur, lengths, burstgpt or mooncake");
        ls_yaml_free(f.map);
        return LS_EXIT_USAGE;
    }
    if ((v = ls_yaml_get(f.map, "burstgpt_failed"))) {
        if (strcmp(v->scalar, "keep") && strcmp(v->scalar, "exclude")) {
            ls_cli_error("trace stats: --burstgpt-failed: expected exclude or keep");
            ls_yaml_free(f.map);
            return LS_EXIT_USAGE;
        }
        o.burstgpt_keep_failed = !strcmp(v->scalar, "keep");
    }
    if ((v = ls_yaml_get(f.map, "mooncake_hash_ids"))) {
        if (strcmp(v->scalar, "strict") && strcmp(v->scalar, "any_length")) {
            ls_cli_error("trace stats: --mooncake-hash-ids: expected strict or any_length");
            ls_yaml_free(f.map);
            return LS_EXIT_USAGE;
        }
        o.mooncake_any_hash_count = !strcmp(v->scalar, "any_length");
    }
    o.sort = ls_yaml_get(f.map, "sort") != NULL;
    ls_yaml_free(f.map);
    ls_error e;
    ls_source *s;
    ls_trace_stats st;
    if (ls_trace_open(path, &o, &s, &e) != LS_OK) {
        ls_cli_error("%s", e.msg);
        return LS_EXIT_ERROR;
    }
    ls_status rs = ls_trace_stats_compute(s, &st, &e);
    ls_source_free(s);
    if (rs != LS_OK) {
        ls_cli_error("%s", e.msg);
        return LS_EXIT_ERROR;
    }
    if (f.json) {
        json_t *j = json_object();
        json_object_set_new(j, "file", json_string(path));
        json_object_set_new(j, "format", json_string(st.report.format));
        json_object_set_new(j, "rows", json_integer((json_int_t)st.rows));
        json_object_set_new(j, "has_times", json_boolean(st.has_times));
        json_object_set_new(j, "span_s", jnum(st.span_s));
        json_object_set_new(j, "rate", jnum(st.rate));
        json_object_set_new(j, "ia_cv", jnum(st.ia_cv));
        json_object_set_new(j, "max_gap_s", jnum(st.max_gap_s));
        json_object_set_new(j, "prompt", jlen(&st.prompt, st.rows));
        json_object_set_new(j, "output", jlen(&st.output, st.rows));
        json_object_set_new(j, "failed_requests", json_integer((json_int_t)st.report.failed_seen));
        json_object_set_new(j, "failed_kept", json_boolean(st.report.failed_kept));
        json_object_set_new(j, "clamped_backwards", json_integer((json_int_t)st.report.clamped_backwards));
        char *text = json_dumps(j, JSON_REAL_PRECISION(10));
        printf("%s\n", text);
        free(text);
        json_decref(j);
        return LS_EXIT_OK;
    }
    printf("%-10s %s\n%-10s %s\n%-10s %" PRIu64 "\n", "file", path, "format", st.report.format, "rows", st.rows);
    if (st.has_times) {
        printf("%-10s %.1f s\n%-10s %.3f req/s\n%-10s %.3f (max gap %.2f s)\n", "span", st.span_s, "rate",
               st.rate, "ia_cv", st.ia_cv, st.max_gap_s);
    } else {
        printf("%-10s none (a length-only file: pair it with an arrival process)\n", "times");
    }
    print_len("prompt", &st.prompt, st.rows);
    print_len("output", &st.output, st.rows);
    if (st.report.failed_seen)
        printf("%-10s %" PRIu64 " (zero response tokens; %s)\n", "failed", st.report.failed_seen,
               st.report.failed_kept ? "kept" : "excluded from the figures above");
    if (st.report.clamped_backwards)
        printf("%-10s %" PRIu64 " timestamps slightly backwards, clamped\n", "clamped", st.report.clamped_backwards);
    return LS_EXIT_OK;
}

/* ---- convert and synth -------------------------------------------------------------------- */

static int run_workload(const char *sub, flags *f, const char *out, const char *base_dir, bool from_trace)
{
    ls_error e;
    /* arrival flags: merge into (or create) the arrival mapping */
    if (f->process || f->rate || f->cv) {
        const ls_yaml *old = ls_yaml_get(f->map, "arrival");
        ls_yaml *a = old && old->kind == LS_YAML_MAP ? ls_yaml_clone(old) : flag_map();
        if (f->process)
            set(a, "process", f->process);
        else if (!ls_yaml_get(a, "process"))
            set(a, "process", f->cv ? "gamma" : "poisson");
        if (f->rate)
            set(a, "rate", f->rate);
        if (f->cv)
            set(a, "cv", f->cv);
        ls_yaml_map_set(f->map, "arrival", a);
    }
    uint64_t seed = 1;
    if (f->seed) {
        char *end;
        seed = strtoull(f->seed, &end, 10);
        if (!*f->seed || *end) {
            ls_cli_error("trace %s: --seed: expected a non-negative integer, got '%s'", sub, f->seed);
            return LS_EXIT_USAGE;
        }
    }
    ls_workload *w;
    if (ls_workload_parse(f->map, "workload", base_dir, &w, &e) != LS_OK) {
        ls_cli_error("%s", e.msg);
        return LS_EXIT_ERROR;
    }
    unsigned wflags = 0;
    const ls_yaml *tr = ls_yaml_get(f->map, "trace");
    if (from_trace || tr) {
        /* keep Mooncake prefix hashes and BurstGPT/native session ids when converting */
        ls_source *probe;
        ls_trace_opts o;
        ls_trace_opts_default(&o);
        const ls_yaml *fm = ls_yaml_get(f->map, "format");
        if (fm)
            ls_trace_format_parse(fm->scalar, &o.format);
        const ls_yaml *mh = ls_yaml_get(f->map, "mooncake_hash_ids");
        o.mooncake_any_hash_count = mh && mh->scalar && !strcmp(mh->scalar, "any_length");
        char tpath[4096] = "";
        if (tr && tr->scalar)
            snprintf(tpath, sizeof tpath, "%s%s%s", tr->scalar[0] != '/' && base_dir ? base_dir : "",
                     tr->scalar[0] != '/' && base_dir ? "/" : "", tr->scalar);
        if (tr && ls_trace_open(tpath, &o, &probe, &e) == LS_OK) {
            if (ls_trace_source_format(probe) == LS_FMT_MOONCAKE)
                wflags |= LS_WRITE_HASH_IDS;
            ls_request first;
            if (ls_source_next(probe, &first, &e) == 1) { /* optional columns the input has */
                if (first.session_id >= 0)
                    wflags |= LS_WRITE_SESSION;
                if (first.n_hash_ids)
                    wflags |= LS_WRITE_HASH_IDS;
                if (first.class_id >= 0)
                    wflags |= LS_WRITE_CLASS;
            }
            ls_source_free(probe);
        }
    }
    if (ls_workload_classes(w)->n > 0)  /* classes drawn or read: keep them */
        wflags |= LS_WRITE_CLASS;
    ls_source *s;
    if (ls_workload_open(w, seed, &s, &e) != LS_OK) {
        ls_workload_free(w);
        ls_cli_error("%s", e.msg);
        return LS_EXIT_ERROR;
    }
    uint64_t rows = 0;
    ls_status st = ls_trace_write_source(s, out, wflags, &rows, &e);
    if (st == LS_OK && rows == 0) {
        /* an empty workload is always a mistake (a window past the end, limits below every request) */
        ls_source_report rep;
        ls_source_get_report(s, &rep);
        char *text = ls_source_report_text(&rep);
        size_t tl = strlen(text);
        while (tl && text[tl - 1] == '\n')
            text[--tl] = '\0';
        if (strcmp(out, "-"))
            remove(out);
        st = ls_fail(&e, LS_EINVAL,
                     "trace %s: no request left after the transformations, %s not written:\n%s", sub,
                     strcmp(out, "-") ? out : "nothing", text);
        free(text);
    }
    if (st == LS_OK && !f->quiet) {
        ls_source_report rep;
        ls_source_get_report(s, &rep);
        char *text = ls_source_report_text(&rep);
        fprintf(stderr, "%s%" PRIu64 " requests written to %s\n", text, rows, out);
        free(text);
    }
    ls_source_free(s);
    ls_workload_free(w);
    if (st != LS_OK) {
        ls_cli_error("%s", e.msg);
        return LS_EXIT_ERROR;
    }
    return LS_EXIT_OK;
}

static int cmd_convert(int argc, char **argv)
{
    flags f;
    int rc = parse_flags("convert", argc, argv, &f);
    if (rc == LS_EXIT_OK && f.help) {
        print_usage(stdout, "convert");
        ls_yaml_free(f.map);
        return LS_EXIT_OK;
    }
    if (rc == LS_EXIT_OK && argc - optind != 2) {
        ls_cli_error("trace convert: expected IN and OUT");
        print_usage(stderr, "convert");
        rc = LS_EXIT_USAGE;
    }
    if (rc == LS_EXIT_OK) {
        set(f.map, "trace", argv[optind]);
        rc = run_workload("convert", &f, argv[optind + 1], NULL, true);
    }
    ls_yaml_free(f.map);
    return rc;
}

static int cmd_synth(int argc, char **argv)
{
    flags f;
    int rc = parse_flags("synth", argc, argv, &f);
    if (rc == LS_EXIT_OK && f.help) {
        print_usage(stdout, "synth");
        ls_yaml_free(f.map);
        return LS_EXIT_OK;
    }
    if (rc == LS_EXIT_OK && (argc != optind || !f.out)) {
        ls_cli_error(f.out ? "trace synth: unexpected argument '%s'" : "trace synth: -o OUT is required%s",
                     f.out ? argv[optind] : "");
        print_usage(stderr, "synth");
        rc = LS_EXIT_USAGE;
    }
    if (rc == LS_EXIT_OK && f.config) {
        ls_yaml *doc;
        ls_error e;
        if (ls_yaml_load_file(f.config, &doc, &e) != LS_OK) {
            ls_cli_error("%s", e.msg);
            rc = LS_EXIT_ERROR;
        } else {
            const ls_yaml *wl = ls_yaml_get(doc, "workload");
            ls_yaml *base = ls_yaml_clone(wl ? wl : doc);
            if (base->kind != LS_YAML_MAP) {
                ls_cli_error("%s: expected a workload mapping", f.config);
                rc = LS_EXIT_ERROR;
            } else {
                /* flags override the fragment */
                for (size_t i = 0; i < f.map->n; i++)
                    ls_yaml_map_set(base, f.map->keys[i], ls_yaml_clone(f.map->vals[i]));
                ls_yaml_free(f.map);
                f.map = base;
                base = NULL;
            }
            ls_yaml_free(base);
            ls_yaml_free(doc);
        }
    }
    char *base_dir = NULL;
    if (rc == LS_EXIT_OK && f.config) {
        base_dir = ls_xstrdup(f.config);
        char *slash = strrchr(base_dir, '/');
        if (slash)
            *slash = '\0';
        else
            strcpy(base_dir, ".");
    }
    if (rc == LS_EXIT_OK)
        rc = run_workload("synth", &f, f.out, base_dir, false);
    free(base_dir);
    ls_yaml_free(f.map);
    return rc;
}

int ls_cmd_trace(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage_main, stderr);
        return LS_EXIT_USAGE;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
        fputs(usage_main, stdout);
        return LS_EXIT_OK;
    }
    if (!strcmp(sub, "stats"))
        return cmd_stats(argc - 1, argv + 1);
    if (!strcmp(sub, "convert"))
        return cmd_convert(argc - 1, argv + 1);
    if (!strcmp(sub, "synth"))
        return cmd_synth(argc - 1, argv + 1);
    ls_cli_error("trace: unknown subcommand '%s'", sub);
    fputs(usage_main, stderr);
    return LS_EXIT_USAGE;
}
