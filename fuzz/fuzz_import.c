/* fuzz_import.c -- libFuzzer target for `llmsweep catalog import` of a Hugging Face config.json
 * (replay/catalog_import.c). The input becomes a file (memfd, read by path as the command does);
 * an import that succeeds must produce a catalog YAML that the catalog loader accepts (or refuses
 * with a message): import and catalog agree on the schema. A crash, a leak, undefined behaviour or
 * an error without a message is a bug. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "catalog.h"
#include "fuzz_memfd.h"
#include "catalog_import.h"
#include "yamldoc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = ls_fuzz_memfd(data, size, "config.json");
    if (fd < 0)
        return 0;
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ls_error e;
    char *yaml = NULL;
    /* the last byte picks between a given name and the one from _name_or_path */
    const char *name = size && (data[size - 1] & 1) ? "fuzzed-model" : NULL;
    if (ls_catalog_import_hf(path, name, &yaml, &e) == LS_OK) {
        ls_yaml *y;
        if (ls_yaml_load_string(yaml, strlen(yaml), "imported.yaml", &y, &e) != LS_OK)
            abort(); /* the importer wrote YAML it cannot read back */
        ls_catalog *c;
        if (ls_catalog_builtin(&c, &e) != LS_OK)
            abort();
        if (ls_catalog_load_yaml(c, y, &e) != LS_OK && !e.msg[0])
            abort();
        ls_catalog_free(c);
        ls_yaml_free(y);
        free(yaml);
    } else if (!e.msg[0]) {
        abort();
    } else if (getenv("LS_FUZZ_VERBOSE")) {
        fprintf(stderr, "refused: %s\n", e.msg); /* to check that the seeds load */
    }
    close(fd);
    return 0;
}
