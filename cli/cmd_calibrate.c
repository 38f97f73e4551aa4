/* cmd_calibrate.c -- `llmsweep calibrate`: fit a GPU's efficiency parameters to the user's own
 * measured vLLM benchmark runs and write a catalog overlay (replay/calibrate.h; docs/FIDELITY.md). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calibrate.h"
#include "cli.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: llmsweep calibrate --gpu NAME --point CONFIG.yaml=RESULT.json [--point ...]\n"
            "                          [--fit PARAMS] [--catalog FILE]... [--out OVERLAY.yaml]\n\n"
            "Fit the efficiency parameters of catalog GPU NAME to measured serving runs: each --point\n"
            "pairs the run configuration that was measured with the result JSON of vLLM's serving\n"
            "benchmark (vllm bench serve --save-result --save-detailed: per-request input_lens,\n"
            "output_lens, ttfts, itls). Prints the errors before and after the fit and the\n"
            "leave-one-out (held-out) errors, and writes a catalog overlay that --catalog then uses.\n\n"
            "  --gpu NAME            the GPU to calibrate (every point's configuration must use it)\n"
            "  --point C=R           a configuration and its measured result (repeatable)\n"
            "  --fit PARAMS          comma-separated: mfu_max, mbu, iter_overhead_ms, kernel_overhead_us,\n"
            "                        seq_overhead_us, attn_eff (default mfu_max,mbu,iter_overhead_ms);\n"
            "                        (needs at least as many points as parameters)\n"
            "  --catalog FILE        extra catalog file (repeatable)\n"
            "  --out FILE            overlay to write (default: none)\n");
}

int ls_cmd_calibrate(int argc, char **argv)
{
    static const struct option opts[] = {{"gpu", required_argument, 0, 'g'},   {"point", required_argument, 0, 'p'},
                                         {"fit", required_argument, 0, 'f'},   {"catalog", required_argument, 0, 'c'},
                                         {"out", required_argument, 0, 'o'},   {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *gpu = NULL, *fit = NULL, *outp = NULL;
    char *points[LS_CAL_MAX_POINTS];
    const char *catalogs[16];
    int n_points = 0, n_cat = 0, ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'g': gpu = optarg; break;
        case 'f': fit = optarg; break;
        case 'o': outp = optarg; break;
        case 'p':
            if (n_points == LS_CAL_MAX_POINTS) {
                ls_cli_error("calibrate: at most %d --point", LS_CAL_MAX_POINTS);
                return LS_EXIT_USAGE;
            }
            points[n_points++] = optarg;
            break;
        case 'c':
            if (n_cat == 16) {
                ls_cli_error("calibrate: at most 16 --catalog");
                return LS_EXIT_USAGE;
            }
            catalogs[n_cat++] = optarg;
            break;
        case 'h': usage(stdout); return LS_EXIT_OK;
        default: usage(stderr); return LS_EXIT_USAGE;
        }
    }
    if (optind < argc || !gpu || n_points == 0) {
        ls_cli_error("calibrate: %s", optind < argc ? "unexpected argument" : !gpu ? "--gpu is required"
                                                                                  : "at least one --point is required");
        usage(stderr);
        return LS_EXIT_USAGE;
    }
    ls_error e;
    ls_catalog *cat = NULL;
    ls_calibration *cal = NULL;
    ls_status rc = ls_catalog_builtin(&cat, &e);
    for (int i = 0; i < n_cat && !rc; i++)
        rc = ls_catalog_load_file(cat, catalogs[i], &e);
    if (!rc)
        rc = ls_calibration_new(cat, gpu, fit, &cal, &e);
    for (int i = 0; i < n_points && !rc; i++) {
        char *eq = strchr(points[i], '=');
        if (!eq || eq == points[i] || !eq[1]) {
            ls_cli_error("calibrate: --point %s: expected CONFIG.yaml=RESULT.json", points[i]);
            ls_calibration_free(cal);
            ls_catalog_free(cat);
            return LS_EXIT_USAGE;
        }
        *eq = '\0';
        rc = ls_calibration_add_point(cal, points[i], eq + 1, &e);
        *eq = '=';
    }
    if (!rc)
        rc = ls_calibration_fit(cal, stdout, &e);
    if (!rc && outp) {
        rc = ls_calibration_write_overlay(cal, outp, &e);
        if (!rc)
            printf("\nwrote %s (use it with --catalog %s)\n", outp, outp);
    }
    if (rc)
        ls_cli_error("%s", e.msg);
    ls_calibration_free(cal);
    ls_catalog_free(cat);
    return rc ? LS_EXIT_ERROR : LS_EXIT_OK;
}
