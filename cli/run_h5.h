/* run_h5.h -- `llmsweep run --requests-out FILE.h5`: the per-request rows and the
 * run's /results row in the sweep's HDF5 layout (config_id 0).
 *
 * Only llmsweep-mpi has it: the lean `llmsweep` (no HDF5 linked) hands a run
 * whose --requests-out names an HDF5 file over to llmsweep-mpi before it
 * parses anything (ls_cmd_run_wants_hdf5, main.c). */
#ifndef LS_CLI_RUN_H5_H
#define LS_CLI_RUN_H5_H

#include <stdbool.h>

#include "replay.h"
#include "yamldoc.h"

typedef struct ls_cli_run_h5 ls_cli_run_h5;

/* Create `path` (truncating it) with the run's configuration `root` as the
 * spec text and `spec_name` as its name. */
ls_status ls_cli_run_h5_open(const char *path, const ls_yaml *root, const char *spec_name, const ls_run_config *cfg,
                             ls_cli_run_h5 **out, ls_error *e);

/* ls_run_opts.on_request callback (ctx = the writer); rows are buffered, an
 * error is kept for ls_cli_run_h5_close. */
void ls_cli_run_h5_request(void *ctx, const ls_request_result *r);

/* Flush the rows, append the /results row when `m` is not NULL (the run
 * succeeded), close and free `w`. The first error wins. */
ls_status ls_cli_run_h5_close(ls_cli_run_h5 *w, const ls_metrics *m, ls_error *e);

#endif
