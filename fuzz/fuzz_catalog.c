/* fuzz_catalog.c -- libFuzzer target for a user catalog YAML (replay/catalog.c): models with the
 * architecture fields of issue 14 (experts, MLA, sliding windows, FP4), GPUs, clusters, `base:`
 * inheritance; loaded on top of the built-in catalog, then every entry looked up. Any result is
 * fine; a crash, a leak, undefined behaviour or an error without a message is a bug. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "catalog.h"
#include "yamldoc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ls_error e;
    ls_yaml *y;
    if (ls_yaml_load_string((const char *)data, size, "fuzz.yaml", &y, &e) != LS_OK)
        return 0;
    ls_catalog *c;
    if (ls_catalog_builtin(&c, &e) != LS_OK)
        abort();
    if (ls_catalog_load_yaml(c, y, &e) != LS_OK) {
        if (!e.msg[0])
            abort(); /* every error must say something */
        if (getenv("LS_FUZZ_VERBOSE"))
            fprintf(stderr, "refused: %s\n", e.msg); /* to check that the seeds load */
    }
    ls_catalog_free(c);
    ls_yaml_free(y);
    return 0;
}
