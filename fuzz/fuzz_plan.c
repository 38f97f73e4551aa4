/* fuzz_plan.c -- libFuzzer target for the flags of `llmsweep plan` (cli/cmd_plan.c's parser, its
 * --slo parsing, then ls_plan_build: the contradictions and ranges it checks, the enumeration, the
 * memory and bound pruning, the sweep specification it writes and parses). The input is the
 * argument list, one argument per line. Nothing is simulated and MPI is not started (the parser and
 * the plan builder need neither). Inputs naming a trace file are skipped: the target must not read
 * whatever path the fuzzer writes. A crash, a leak, undefined behaviour, an error without a message,
 * or a built specification that does not parse is a bug. */
#define _GNU_SOURCE
/* the parser is static in cmd_plan.c: compile the command into this target under another name */
#define ls_cmd_plan ls_cmd_plan_fuzzed
#include "../cli/cmd_plan.c"
#undef ls_cmd_plan

#include <stdarg.h>

#define FUZZ_MAX_ARGS 48

/* main.c's (not linked here): the other commands' code calls it */
void ls_cli_error(const char *fmt, ...)
{
    if (!getenv("LS_FUZZ_VERBOSE"))
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 2048 || memmem(data, size, "--trace", 7))
        return 0;
    char *buf = malloc(size + 1);
    memcpy(buf, data, size);
    buf[size] = 0;
    char *argv[FUZZ_MAX_ARGS + 1];
    int argc = 0;
    argv[argc++] = "plan";
    for (char *save = NULL, *t = strtok_r(buf, "\n", &save); t && argc < FUZZ_MAX_ARGS;
         t = strtok_r(NULL, "\n", &save))
        argv[argc++] = t;
    argv[argc] = NULL;
    plan_args a;
    if (parse_args(argc, argv, &a, false) == 0) {
        ls_error e;
        ls_slo slo;
        ls_slo_default(&slo);
        slo.ttft_p99_s = slo.tpot_p99_s = NAN;
        if (ls_slo_parse(a.slo, &slo, &e) == LS_OK) {
            a.p.slo_ttft_s = slo.ttft_p99_s;
            a.p.slo_tpot_s = slo.tpot_p99_s;
            /* a bounded budget: 32 GPUs x 2 GPU types x 8 list values expand to thousands of
             * configurations, 0.4 s in a release build and over 10 s under ASan (the -timeout) */
            ls_plan *p = NULL;
            if (a.p.gpus <= 8 && ls_plan_build(&a.p, "fuzz.spec.yaml", &p, &e) == LS_OK) {
                if (p->spec && p->spec->n == 0)
                    abort(); /* a specification is built only when something was kept */
                ls_plan_free(p);
            } else if (a.p.gpus <= 8 && !e.msg[0]) {
                abort();
            } else if (getenv("LS_FUZZ_VERBOSE")) {
                fprintf(stderr, "refused: %s\n", e.msg);
            }
        } else if (!e.msg[0]) {
            abort();
        }
    }
    free(buf);
    return 0;
}
