/* main.c -- llmsweep: dispatch to a subcommand. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

typedef struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"run", ls_cmd_run, "simulate one configuration and print its metrics"},
    {"sweep", ls_cmd_sweep, "run a grid of configurations (MPI) into one HDF5 file"},
    {"merge", ls_cmd_merge, "combine sweep shards into one HDF5 file"},
    {"report", ls_cmd_report, "tables, SLO ranking and recommendations from a result file"},
    {"plot", ls_cmd_plot, "PNG/SVG plots from a result file"},
    {"trace", ls_cmd_trace, "inspect, convert and synthesise request traces"},
    {"catalog", ls_cmd_catalog, "list the built-in models, GPUs and clusters"},
    {"schema", ls_cmd_schema, "print the result columns with their units"},
};

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
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(cmd, commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    ls_cli_error("unknown command '%s'", cmd);
    usage(stderr);
    return LS_EXIT_USAGE;
}
