/* cmd_report.c -- `llmsweep report RESULTS.h5 [--by AXIS[,AXIS]] [--slo ...] [--format ...]`. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "report.h"
#include "sweep_lock.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: llmsweep report RESULTS.h5 [--by AXIS[,AXIS...]] [--slo LIMITS]\n"
            "                       [--format text|md|csv] [-o FILE]\n\n"
            "Tables per workload (one row per configuration), the configurations that meet the\n"
            "SLO ranked by goodput and goodput per GPU, the reason each other one misses it, and\n"
            "recommendations (docs/REPORT.md).\n\n"
            "  --by AXIS,...    also make a table per value of these /configs columns (cluster,\n"
            "                   dtype_weights, policy, ...)\n"
            "  --slo LIMITS     ttft_p99=2s,tpot_p99=200ms,success=0.99 (any subset; by default\n"
            "                   each configuration's own slo_ttft_s/slo_tpot_s stored in the file,\n"
            "                   else 2s and 200ms, the MLPerf Llama-2-70B server limits; 99%%)\n"
            "  --format FMT     text (default, 100 columns), md (Markdown) or csv (one row per\n"
            "                   configuration, every column, SI units)\n"
            "  -o FILE          write to FILE instead of standard output\n");
}

int ls_cmd_report(int argc, char **argv)
{
    static const struct option longopts[] = {{"by", required_argument, NULL, 'b'},
                                             {"slo", required_argument, NULL, 's'},
                                             {"format", required_argument, NULL, 'f'},
                                             {"output", required_argument, NULL, 'o'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    ls_report_opts o = {0};
    ls_slo_from_file(&o.slo);
    ls_report_format fmt = LS_REPORT_TEXT;
    char *by_text = NULL;
    const char *out_path = NULL;
    ls_error e = {0};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "b:s:f:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'b':
            free(by_text);
            by_text = ls_xstrdup(optarg);
            break;
        case 's':
            if (ls_slo_parse(optarg, &o.slo, &e)) {
                ls_cli_error("%s", e.msg);
                free(by_text);
                return LS_EXIT_USAGE;
            }
            break;
        case 'f':
            if (!strcmp(optarg, "text"))
                fmt = LS_REPORT_TEXT;
            else if (!strcmp(optarg, "md") || !strcmp(optarg, "markdown"))
                fmt = LS_REPORT_MD;
            else if (!strcmp(optarg, "csv"))
                fmt = LS_REPORT_CSV;
            else {
                ls_cli_error("--format: '%s': expected text, md or csv", optarg);
                free(by_text);
                return LS_EXIT_USAGE;
            }
            break;
        case 'o': out_path = optarg; break;
        case 'h':
            usage(stdout);
            free(by_text);
            return LS_EXIT_OK;
        default:
            usage(stderr);
            free(by_text);
            return LS_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        ls_cli_error("report: expected one result file");
        usage(stderr);
        free(by_text);
        return LS_EXIT_USAGE;
    }
    const char *by[LS_CONFIG_COLUMN_COUNT];
    if (by_text) {
        char *save = NULL;
        for (char *t = strtok_r(by_text, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            if (o.n_by == LS_CONFIG_COLUMN_COUNT) {
                ls_cli_error("--by: too many axes");
                free(by_text);
                return LS_EXIT_USAGE;
            }
            by[o.n_by++] = t;
        }
        o.by = by;
    }
    int rc = LS_EXIT_OK;
    ls_results *res = NULL;
    ls_report *rep = NULL;
    FILE *f = stdout;
    /* a file a sweep is writing is read through a snapshot of its last flush (mpi/sweep_lock.h) */
    char *snap = NULL, host[256];
    long pid = 0;
    if (ls_sweep_lock_live_snapshot(argv[optind], &snap, &pid, host, sizeof host, &e)) {
        ls_cli_error("%s", e.msg);
        rc = LS_EXIT_ERROR;
        goto done;
    }
    if (snap)
        fprintf(stderr, "llmsweep: note: %s is being written by a running sweep (pid %ld, host %s): reporting "
                        "a snapshot of its last flush\n", argv[optind], pid, host);
    if (ls_results_read(snap ? snap : argv[optind], &res, &e) || ls_report_build(res, &o, &rep, &e)) {
        ls_cli_error("%s", e.msg);
        rc = LS_EXIT_ERROR;
        goto done;
    }
    if (out_path && !(f = fopen(out_path, "w"))) {
        ls_cli_error("%s: cannot open for writing", out_path);
        rc = LS_EXIT_ERROR;
        goto done;
    }
    if (ls_report_write(rep, fmt, f, &e)) {
        ls_cli_error("%s", e.msg);
        rc = LS_EXIT_ERROR;
    }
    if (f != stdout && fclose(f)) {
        ls_cli_error("%s: write failed", out_path);
        rc = LS_EXIT_ERROR;
    }
done:
    ls_sweep_lock_snapshot_drop(snap);
    ls_report_free(rep);
    ls_results_free(res);
    free(by_text);
    return rc;
}
