/* plot.h -- `llmsweep plot`: PNG/SVG plots of a result file, drawn by analysis/plot.py.
 *
 * Plotting is done in Python with matplotlib and h5py (Debian's python3-matplotlib,
 * python3-h5py), the conventional tools on clusters, instead of drawing by hand. */
#ifndef LS_PLOT_H
#define LS_PLOT_H

#include "error.h"
#include "report.h"

typedef struct ls_plot_opts {
    const char *python;      /* interpreter; NULL: $LS_PYTHON or /usr/bin/python3 */
    const char *script;      /* plot.py; NULL: $LLMSWEEP_PLOT_SCRIPT or the source tree's */
    ls_slo slo;              /* a NaN latency limit: each configuration's own from the file */
    const char *config_ids;  /* ids for the TTFT CDF, "3,7" (NULL: the script chooses) */
} ls_plot_opts;

/* Check that the interpreter has h5py, numpy and matplotlib. On failure the
 * message names each missing module and the Debian package that provides it. */
ls_status ls_plot_check(const ls_plot_opts *o, ls_error *e);

/* Write the plots of `results` into `outdir` (created). The script's list of
 * files goes to standard output. Fails when the script fails (its messages
 * are on standard error). */
ls_status ls_plot_run(const char *results, const char *outdir, const ls_plot_opts *o, ls_error *e);

#endif
