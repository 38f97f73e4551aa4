/* fuzz_config.c -- libFuzzer target for a run configuration YAML (replay/config.c and the blocks it
 * wires: disaggregation (replay/pools.c), moe: and parallelism with ep (replay/config_moe.c),
 * speculative (replay/config_spec.c), scheduler order (replay/sched_order.c), the
 * workload, scheduler, dtype): load against the built-in catalog, then the /configs row, the
 * compute note, the cost estimate and a clone. Inputs that mention files (trace, catalog, cost
 * tables, empirical lengths) are skipped: the target must not read whatever path the fuzzer writes.
 * Any result is fine; a crash, a leak, undefined behaviour or an error without a message is a bug. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay.h"
#include "yamldoc.h"

static ls_catalog *catalog;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const skip[] = {"trace", "file", "empirical", "catalog", "table", "csv", "path"};
    for (size_t i = 0; i < sizeof skip / sizeof *skip; i++)
        if (memmem(data, size, skip[i], strlen(skip[i])))
            return 0;
    ls_error e;
    if (!catalog && ls_catalog_builtin(&catalog, &e) != LS_OK)
        abort();
    ls_yaml *y;
    if (ls_yaml_load_string((const char *)data, size, "fuzz.yaml", &y, &e) != LS_OK)
        return 0;
    ls_run_config *c;
    if (ls_config_load(y, NULL, catalog, &c, &e) == LS_OK) {
        ls_config_row row;
        ls_config_get_row(c, &row);
        char note[256];
        ls_config_compute_note(c, note, sizeof note);
        (void)ls_config_cost_estimate(c);
        (void)ls_config_workload_key(c);
        ls_run_config *c2 = ls_config_clone(c);
        ls_config_free(c);
        ls_config_get_row(c2, &row);
        ls_config_free(c2);
    } else if (!e.msg[0]) {
        abort(); /* every error must say something */
    } else if (getenv("LS_FUZZ_VERBOSE")) {
        fprintf(stderr, "refused: %s\n", e.msg); /* to check that the seeds load */
    }
    ls_yaml_free(y);
    return 0;
}
