/* cmd_plot.c -- `llmsweep plot RESULTS.h5 -o DIR [--slo ...] [--configs ID,...]`. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "plot.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: llmsweep plot RESULTS.h5 -o DIR [--slo LIMITS] [--configs ID,...]\n\n"
            "PNG and SVG plots into DIR: TTFT/TPOT p99 against arrival rate, goodput, request\n"
            "outcomes (success and failure reasons), capacity per GPU, and the TTFT CDF when the\n"
            "file has per-request data. Drawn by analysis/plot.py with /usr/bin/python3\n"
            "(packages python3-matplotlib python3-h5py python3-numpy; LS_PYTHON overrides the\n"
            "interpreter, LLMSWEEP_PLOT_SCRIPT the script).\n\n"
            "  -o, --output DIR  output directory (created)\n"
            "  --slo LIMITS      ttft_p99=2s,tpot_p99=200ms,success=0.99 (any subset; by default\n"
            "                    each configuration's own SLO stored in the file, success 99%%)\n"
            "  --configs IDS     config ids drawn in the TTFT CDF (default: the best of each\n"
            "                    strategy at the highest arrival rate)\n");
}

int ls_cmd_plot(int argc, char **argv)
{
    static const struct option longopts[] = {{"output", required_argument, NULL, 'o'},
                                             {"slo", required_argument, NULL, 's'},
                                             {"configs", required_argument, NULL, 'c'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    ls_plot_opts o = {0};
    ls_slo_from_file(&o.slo);
    const char *outdir = NULL;
    ls_error e = {0};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:s:c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': outdir = optarg; break;
        case 's':
            if (ls_slo_parse(optarg, &o.slo, &e)) {
                ls_cli_error("%s", e.msg);
                return LS_EXIT_USAGE;
            }
            break;
        case 'c': o.config_ids = optarg; break;
        case 'h': usage(stdout); return LS_EXIT_OK;
        default: usage(stderr); return LS_EXIT_USAGE;
        }
    }
    if (optind != argc - 1 || !outdir) {
        ls_cli_error("plot: expected one result file and -o DIR");
        usage(stderr);
        return LS_EXIT_USAGE;
    }
    if (ls_plot_run(argv[optind], outdir, &o, &e)) {
        ls_cli_error("%s", e.msg);
        return LS_EXIT_ERROR;
    }
    return LS_EXIT_OK;
}
