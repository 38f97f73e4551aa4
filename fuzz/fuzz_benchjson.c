/* fuzz_benchjson.c -- libFuzzer target for the vLLM benchmark result JSON that `llmsweep calibrate
 * --point CONFIG=RESULT` reads (replay/calibrate.c: input_lens, output_lens, ttfts, itls, model_id,
 * request_rate, output_throughput, duration). The input becomes the RESULT file (a memfd, read by
 * path as the command does); CONFIG is a fixed Llama-3.1-8B on H100 configuration. A point that is
 * accepted is then simulated once by a one-parameter fit's error pass, so the requests it built must
 * be valid engine input. A crash, a leak, undefined behaviour or an error without a message is a bug. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "calibrate.h"
#include "catalog.h"
#include "fuzz_memfd.h"

static ls_catalog *catalog;
static char config_path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ls_error e;
    if (!catalog) {
        static const char cfg[] = "model: llama-3.1-8b\nhardware: h100-sxm\ncluster: dgx-h100\n"
                                  "scheduler: {max_model_len: 8192}\n";
        int cfd = ls_fuzz_memfd((const uint8_t *)cfg, sizeof cfg - 1, "point.yaml");
        if (cfd < 0 || ls_catalog_builtin(&catalog, &e) != LS_OK)
            abort();
        snprintf(config_path, sizeof config_path, "/proc/self/fd/%d", cfd); /* kept open for the run */
    }
    int fd = ls_fuzz_memfd(data, size, "result.json");
    if (fd < 0)
        return 0;
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ls_calibration *c;
    if (ls_calibration_new(catalog, "h100-sxm", "mbu", &c, &e) != LS_OK)
        abort();
    if (ls_calibration_add_point(c, config_path, path, &e) == LS_OK) {
        /* bound the simulation: a fuzzed point may hold many long requests */
        FILE *devnull = fopen("/dev/null", "w");
        if (devnull && size < 4096 && ls_calibration_fit(c, devnull, &e) != LS_OK && !e.msg[0])
            abort();
        if (devnull)
            fclose(devnull);
    } else if (!e.msg[0]) {
        abort();
    } else if (getenv("LS_FUZZ_VERBOSE")) {
        fprintf(stderr, "refused: %s\n", e.msg); /* to check that the seeds load */
    }
    ls_calibration_free(c);
    close(fd);
    return 0;
}
