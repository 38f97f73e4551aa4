/* bench_startup.c -- start-up time of a tiny `llmsweep run` beside /bin/true.
 *
 * Usage: bench_startup LLMSWEEP [N]   (target bench-startup; default N = 2000)
 * Runs, N times each and interleaved (so that both see the same machine load):
 * /bin/true, the tiny run in LLMSWEEP, and the same run in its sibling
 * llmsweep-mpi (what every command cost before the split, for reference).
 * Each is one posix_spawn + waitpid timed on the monotonic clock, output to
 * /dev/null. Prints the median and mean per command and the ratio of medians to
 * /bin/true; exits 1 when the lean run's ratio is 2 or more (issue 17.5). */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define TINY_RUN "run", "--model", "llama-3-8b", "--hardware", "h100-sxm", "--cluster", "dgx-h100", "--rate", "1", \
                 "--duration", "1", "--prompt", "fixed:100", "--output", "fixed:10"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* One spawn-to-exit of argv, stdout/stderr to /dev/null; -1 on failure. */
static double time_one(char *const argv[])
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    double t0 = now_s();
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return -1;
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return -1;
    return now_s() - t0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_startup LLMSWEEP [N]\n");
        return 2;
    }
    int n = argc > 2 ? atoi(argv[2]) : 2000;
    if (n < 1)
        n = 1;
    char mpi[4096];
    const char *slash = strrchr(argv[1], '/');
    snprintf(mpi, sizeof mpi, "%.*sllmsweep-mpi", slash ? (int)(slash - argv[1] + 1) : 0, argv[1]);
    char *cmd_true[] = {"/bin/true", NULL};
    char *cmd_lean[] = {argv[1], TINY_RUN, NULL};
    char *cmd_mpi[] = {mpi, TINY_RUN, NULL};
    char *const *cmds[] = {cmd_true, cmd_lean, cmd_mpi};
    const char *names[] = {"/bin/true", "llmsweep run (tiny)", "llmsweep-mpi run (tiny)"};
    enum { K = 3 };
    double *t[K];
    for (int k = 0; k < K; k++)
        t[k] = malloc((size_t)n * sizeof *t[k]);
    for (int k = 0; k < K; k++)  /* warm the page cache */
        if (time_one(cmds[k]) < 0) {
            fprintf(stderr, "bench_startup: %s failed\n", cmds[k][0]);
            return 1;
        }
    for (int i = 0; i < n; i++)
        for (int k = 0; k < K; k++)
            if ((t[k][i] = time_one(cmds[k])) < 0) {
                fprintf(stderr, "bench_startup: %s failed\n", cmds[k][0]);
                return 1;
            }
    double med[K];
    printf("%-26s %10s %10s %10s   (%d runs each, interleaved)\n", "command", "median_ms", "mean_ms", "x_true", n);
    for (int k = 0; k < K; k++) {
        double s = 0;
        for (int i = 0; i < n; i++)
            s += t[k][i];
        qsort(t[k], (size_t)n, sizeof *t[k], cmp_double);
        med[k] = n % 2 ? t[k][n / 2] : 0.5 * (t[k][n / 2 - 1] + t[k][n / 2]);
        printf("%-26s %10.3f %10.3f %10.2f\n", names[k], 1e3 * med[k], 1e3 * s / n, med[k] / med[0]);
    }
    for (int k = 0; k < K; k++)
        free(t[k]);
    if (med[1] >= 2 * med[0]) {
        printf("bench_startup: the tiny run takes %.2fx /bin/true, the target is under 2x\n", med[1] / med[0]);
        return 1;
    }
    return 0;
}
