/* bench_trace.c -- rows per second of each trace reader on one core.
 *
 * Writes a synthetic file of each format (plain and gzip) into a temporary
 * folder, then times reading it through ls_trace_open/ls_source_next (best of
 * three runs, in CPU time so that other jobs on the machine do not count). Targets (issue 2): gzip'd native >= 5 M rows/s, Azure >= 2 M rows/s.
 * Usage: bench_trace [ROWS] (default 2000000). Results go in docs/TRACES.md.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "reader.h"
#include "rng.h"
#include "trace.h"

/* CPU time of this process: on a shared machine it measures one core's work, not the wait for it */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

typedef enum { NATIVE, AZURE, VIDUR, LENGTHS, BURSTGPT, MOONCAKE } kind;
static const char *const names[] = {"native", "azure", "vidur", "lengths", "burstgpt", "mooncake"};

/* Write `rows` rows of format k; realistic field widths (Poisson times at 5 req/s, lognormal lengths). */
static void make(const char *path, kind k, long rows, int gz)
{
    gzFile f = gzopen(path, gz ? "wb6" : "wbT");
    gzbuffer(f, 1 << 20);
    ls_rng r;
    ls_rng_seed(&r, 1);
    static const char *const hdr[] = {
        "arrival_s,prompt_tokens,output_tokens\n", "TIMESTAMP,ContextTokens,GeneratedTokens\r\n",
        "arrived_at,num_prefill_tokens,num_decode_tokens\n",
        "num_prefill_tokens,num_decode_tokens,num_total_tokens,pd_ratio\n",
        "Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n", ""};
    gzputs(f, hdr[k]);
    double t = 0;
    char line[4096];
    for (long i = 0; i < rows; i++) {
        t += ls_rng_exp(&r) / 5.0;
        int p = 1 + (int)(exp(7 + 0.8 * ls_rng_normal(&r))), o = 1 + (int)ls_rng_below(&r, 600);
        int n = 0;
        switch (k) {
        case NATIVE:
            n = snprintf(line, sizeof line, "%.6f,%d,%d\n", t, p, o);
            break;
        case AZURE: { /* from 2023-11-16 00:00:00, 100 ns resolution as in the 2023 files */
            long long ticks = (long long)(t * 1e7);
            long long sec = ticks / 10000000, frac = ticks % 10000000;
            int h = (int)(sec / 3600 % 24), m = (int)(sec / 60 % 60), s = (int)(sec % 60);
            int day = 16 + (int)(sec / 86400); /* 2 M rows at 5/s: under 5 days */
            n = snprintf(line, sizeof line, "2023-11-%02d %02d:%02d:%02d.%07lld,%d,%d\r\n", day, h, m, s, frac, p, o);
            break;
        }
        case VIDUR:
            n = snprintf(line, sizeof line, "%.17g,%d,%d\n", t, p, o);
            break;
        case LENGTHS:
            n = snprintf(line, sizeof line, "%d,%d,%d,%.17g\n", p, o, p + o, (double)p / o);
            break;
        case BURSTGPT:
            n = snprintf(line, sizeof line, "%lld,ChatGPT,%d,%d,%d,Conversation log\n", (long long)t, p, o, p + o);
            break;
        case MOONCAKE: {
            n = snprintf(line, sizeof line, "{\"timestamp\": %lld, \"input_length\": %d, \"output_length\": %d, "
                                            "\"hash_ids\": [", (long long)(t * 1000), p, o);
            int nb = (p + 511) / 512;
            for (int b = 0; b < nb && n < 4000; b++)
                n += snprintf(line + n, sizeof line - (size_t)n, "%s%ld", b ? ", " : "", i * 4 + b);
            n += snprintf(line + n, sizeof line - (size_t)n, "]}\n");
            break;
        }
        }
        gzwrite(f, line, (unsigned)n);
    }
    gzclose(f);
}

static double bench(const char *path, long *rows_out)
{
    double best = 1e30;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = now();
        ls_source *s;
        ls_error e;
        if (ls_trace_open(path, NULL, &s, &e) != LS_OK) {
            fprintf(stderr, "%s\n", e.msg);
            exit(1);
        }
        ls_request r;
        long n = 0;
        int rc;
        while ((rc = ls_source_next(s, &r, &e)) == 1)
            n++;
        if (rc < 0) {
            fprintf(stderr, "%s\n", e.msg);
            exit(1);
        }
        ls_source_free(s);
        double dt = now() - t0;
        if (dt < best)
            best = dt;
        *rows_out = n;
    }
    return best;
}

int main(int argc, char **argv)
{
    long rows = argc > 1 ? atol(argv[1]) : 2000000;
    char dir[] = "/tmp/ls_bench_trace.XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    printf("%-9s %-4s %10s %10s %12s %10s\n", "format", "gz", "rows", "MB", "rows/s", "MB/s");
    for (int k = NATIVE; k <= MOONCAKE; k++) {
        long nrows = k == MOONCAKE ? rows / 4 : rows;
        for (int gz = 0; gz < 2; gz++) {
            char path[256];
            snprintf(path, sizeof path, "%s/%s%s", dir, names[k], gz ? ".gz" : "");
            make(path, (kind)k, nrows, gz);
            /* uncompressed size, for MB/s */
            gzFile g = gzopen(path, "rb");
            char buf[1 << 16];
            double bytes = 0;
            int got;
            while ((got = gzread(g, buf, sizeof buf)) > 0)
                bytes += got;
            gzclose(g);
            long n;
            double dt = bench(path, &n);
            printf("%-9s %-4s %10ld %10.1f %12.3g %10.0f\n", names[k], gz ? "yes" : "no", n, bytes / 1e6, n / dt,
                   bytes / 1e6 / dt);
            fflush(stdout);
            unlink(path);
        }
    }
    rmdir(dir);
    return 0;
}
