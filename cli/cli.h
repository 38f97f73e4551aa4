/* cli.h -- subcommands of the llmsweep command line.
 *
 * The command line owns no logic: each subcommand parses its flags, calls
 * the modules, and prints. Exit statuses are the same everywhere. */
#ifndef LS_CLI_H
#define LS_CLI_H

#include <stdbool.h>

enum {
    LS_EXIT_OK = 0,
    LS_EXIT_ERROR = 1,       /* bad input, I/O error: a message on stderr */
    LS_EXIT_USAGE = 2,       /* unknown subcommand or flag, missing argument */
    LS_EXIT_INFEASIBLE = 3,  /* `run`: the configuration cannot run (weights do not fit) */
    LS_EXIT_INTERRUPTED = 4  /* `sweep`: stopped by SIGTERM/SIGINT; resume with --resume */
};

/* Each returns the process exit status. argv[0] is the subcommand name. */
int ls_cmd_trace(int argc, char **argv);
int ls_cmd_run(int argc, char **argv);
int ls_cmd_catalog(int argc, char **argv);
int ls_cmd_sweep(int argc, char **argv);
int ls_cmd_merge(int argc, char **argv);
int ls_cmd_report(int argc, char **argv);
int ls_cmd_plot(int argc, char **argv);
int ls_cmd_schema(int argc, char **argv);
int ls_cmd_calibrate(int argc, char **argv);
int ls_cmd_plan(int argc, char **argv);

struct ls_sweep_spec;
/* The sweep of an expanded specification (borrowed) into `out`, as `llmsweep
 * sweep` runs it, on every rank of MPI_COMM_WORLD (MPI started by the caller).
 * For `plan`. Returns an exit status. */
int ls_cli_sweep_spec(const struct ls_sweep_spec *s, const char *out, bool force, bool quiet, int rank, int size);

/* True when `path` names an HDF5 file (.h5 or .hdf5). */
bool ls_cli_is_h5_name(const char *path);

/* True when a `run` command line (argv[0] = "run") writes its request table
 * as HDF5, which only llmsweep-mpi can do. Leaves argv as it was. */
bool ls_cmd_run_wants_hdf5(int argc, char **argv);

/* Print "llmsweep: <msg>" on stderr. */
void ls_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
