/* plot.c -- run analysis/plot.py on a result file. */
#include "plot.h"

#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#ifndef LS_ANALYSIS_DIR
#define LS_ANALYSIS_DIR "analysis"
#endif

static const char *python_of(const ls_plot_opts *o)
{
    if (o->python)
        return o->python;
    const char *p = getenv("LS_PYTHON");
    /* the python3 first on PATH may lack Debian's packages: use the system one */
    return p && *p ? p : "/usr/bin/python3";
}

/* Run argv; quiet: stdout and stderr to /dev/null. Returns the exit status, -1 if it could not start. */
static int run(char *const argv[], bool quiet)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (quiet) {
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    }
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return -1;
    int st = 0;
    while (waitpid(pid, &st, 0) < 0)
        ;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

ls_status ls_plot_check(const ls_plot_opts *o, ls_error *e)
{
    const char *py = python_of(o);
    if (access(py, X_OK) != 0)
        return ls_fail(e, LS_EIO, "plot: no Python interpreter at %s: install python3 "
                       "(apt-get install python3 python3-h5py python3-numpy python3-matplotlib) or "
                       "set LS_PYTHON", py);
    static const char *const mods[][2] = {{"h5py", "python3-h5py"},
                                          {"numpy", "python3-numpy"},
                                          {"matplotlib", "python3-matplotlib"}};
    char missing[256] = "", pkgs[256] = "";
    for (size_t i = 0; i < sizeof mods / sizeof mods[0]; i++) {
        char code[64];
        snprintf(code, sizeof code, "import %s", mods[i][0]);
        char *argv[] = {(char *)py, "-c", code, NULL};
        if (run(argv, true) != 0) {
            size_t n = strlen(missing);
            snprintf(missing + n, sizeof missing - n, "%s%s", n ? ", " : "", mods[i][0]);
            n = strlen(pkgs);
            snprintf(pkgs + n, sizeof pkgs - n, " %s", mods[i][1]);
        }
    }
    if (missing[0])
        return ls_fail(e, LS_EIO, "plot: %s lacks the Python module(s) %s; install them with: "
                       "apt-get install%s", py, missing, pkgs);
    return LS_OK;
}

ls_status ls_plot_run(const char *results, const char *outdir, const ls_plot_opts *o, ls_error *e)
{
    LS_TRY(ls_plot_check(o, e));
    const char *script = o->script ? o->script : getenv("LLMSWEEP_PLOT_SCRIPT");
    if (!script || !*script)
        script = LS_ANALYSIS_DIR "/plot.py";
    if (access(script, R_OK) != 0)
        return ls_fail(e, LS_EIO, "plot: cannot read the plot script %s (set LLMSWEEP_PLOT_SCRIPT "
                       "to analysis/plot.py of the source tree)", script);
    char ttft[32], tpot[32], succ[32];
    snprintf(ttft, sizeof ttft, "%.17g", o->slo.ttft_p99_s);
    snprintf(tpot, sizeof tpot, "%.17g", o->slo.tpot_p99_s);
    snprintf(succ, sizeof succ, "%.17g", o->slo.min_success);
    char *argv[16];
    int k = 0;
    argv[k++] = (char *)python_of(o);
    argv[k++] = (char *)script;
    argv[k++] = (char *)results;
    argv[k++] = "-o";
    argv[k++] = (char *)outdir;
    /* a limit not given (NaN): the script takes each configuration's own from the file */
    if (!isnan(o->slo.ttft_p99_s)) {
        argv[k++] = "--slo-ttft";
        argv[k++] = ttft;
    }
    if (!isnan(o->slo.tpot_p99_s)) {
        argv[k++] = "--slo-tpot";
        argv[k++] = tpot;
    }
    argv[k++] = "--min-success";
    argv[k++] = succ;
    if (o->config_ids) {
        argv[k++] = "--configs";
        argv[k++] = (char *)o->config_ids;
    }
    argv[k] = NULL;
    fflush(stdout);
    int rc = run(argv, false);
    if (rc != 0)
        return ls_fail(e, LS_EIO, "plot: %s %s failed (exit status %d)", argv[0], script, rc);
    return LS_OK;
}
