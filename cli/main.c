/* main.c -- llmsweep: dispatch to a subcommand.
 *
 * Built twice (cli/CMakeLists.txt). `llmsweep-mpi` has every command. The lean
 * `llmsweep` (LS_CLI_LEAN) links neither MPI nor HDF5, whose loading cost a tiny
 * `run` most of its time: it runs run/trace/catalog/calibrate itself and execs its sibling
 * llmsweep-mpi for the others (and for a run writing HDF5). The exec comes first
 * thing, before MPI_Init, and keeps the pid, the environment and the signal
 * dispositions, so `mpirun -n 4 llmsweep sweep` and `srun llmsweep sweep` work as before. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

typedef struct command {
    const char *name;
    int (*fn)(int argc, char **argv);  /* NULL: llmsweep-mpi runs it (lean executable) */
    const char *summary;
} command;

#ifdef LS_CLI_LEAN
#define MPI_CMD(fn) NULL
#else
#define MPI_CMD(fn) fn
#endif

static const command commands[] = {
    {"run", ls_cmd_run, "simulate one configuration and print its metrics"},
    {"plan", MPI_CMD(ls_cmd_plan), "search every deployment of a GPU budget for a model, traffic and SLO"},
    {"sweep", MPI_CMD(ls_cmd_sweep), "run a grid of configurations (MPI) into one HDF5 file"},
    {"merge", MPI_CMD(ls_cmd_merge), "combine sweep shards into one HDF5 file"},
    {"report", MPI_CMD(ls_cmd_report), "tables, SLO ranking and recommendations from a result file"},
    {"plot", MPI_CMD(ls_cmd_plot), "PNG/SVG plots from a result file"},
    {"trace", ls_cmd_trace, "inspect, convert and synthesise request traces"},
    {"catalog", ls_cmd_catalog, "list the built-in models, GPUs and clusters"},
    {"schema", MPI_CMD(ls_cmd_schema), "print the result columns with their units"},
    {"calibrate", ls_cmd_calibrate, "fit a GPU's efficiency parameters to measured vLLM benchmark runs"},
};

#ifdef LS_CLI_LEAN
/* Replace this process by llmsweep-mpi from the same directory as this
 * executable (/proc/self/exe: right whatever PATH or argv[0] say), same arguments
 * (argv[0] included).
 * Returns only on failure. */
static int exec_mpi(char **argv)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n < 0) {
        ls_cli_error("cannot find this executable (/proc/self/exe): %s", strerror(errno));
        return LS_EXIT_ERROR;
    }
    self[n] = '\0';
    const char *slash = strrchr(self, '/');
    int dir = slash ? (int)(slash - self + 1) : 0;
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%.*sllmsweep-mpi", dir, self);
    /* A sweep's stop signals are blocked across the exec (the mask and pending signals survive
     * it) until llmsweep-mpi has its handlers (catch_stop_signals in cmd_sweep.c unblocks them):
     * a SIGTERM, or the SIGUSR1 mpirun and srun pass on, during the tens of milliseconds its
     * dynamic loader takes would otherwise kill the rank and abort the job (docs/SWEEP.md). */
    if (!strcmp(argv[1], "sweep")) {
        sigset_t stop;
        sigemptyset(&stop);
        sigaddset(&stop, SIGTERM);
        sigaddset(&stop, SIGINT);
        sigaddset(&stop, SIGUSR1);
        sigaddset(&stop, SIGUSR2);
        sigprocmask(SIG_BLOCK, &stop, NULL);
    }
    /* argv[0] stays as typed: the process keeps the command line that ps, pgrep -f
     * and job scripts saw (tests/slurm/slurm_signals.sh finds its task by it) */
    execv(path, argv);
    ls_cli_error("cannot run %s, which the '%s' command needs (it is built and installed beside llmsweep): %s",
                 path, argv[1], strerror(errno));
    return LS_EXIT_ERROR;
}
#endif

static void usage(FILE *f)
{
    fprintf(f, "usage: llmsweep COMMAND [OPTIONS]\n\n"
               "Simulate LLM serving strategies (TP/PP/DP, schedulers, hardware) on request\n"
               "traces, and sweep configuration grids over MPI into HDF5.\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n`llmsweep COMMAND --help` describes a command.\n"
               "exit status: 0 ok, 1 error, 2 usage, 3 infeasible configuration, 4 interrupted\n");
}

void ls_cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("llmsweep: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return LS_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage(stdout);
        return LS_EXIT_OK;
    }
    if (!strcmp(cmd, "--version")) {
        printf("llmsweep %s (%s)\n", LLMSWEEP_VERSION, LLMSWEEP_GIT_REV);
        return LS_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(cmd, commands[i].name))
            continue;
#ifdef LS_CLI_LEAN
        if (!commands[i].fn || (commands[i].fn == ls_cmd_run && ls_cmd_run_wants_hdf5(argc - 1, argv + 1)))
            return exec_mpi(argv);
#endif
        return commands[i].fn(argc - 1, argv + 1);
    }
    ls_cli_error("unknown command '%s'", cmd);
    usage(stderr);
    return LS_EXIT_USAGE;
}
