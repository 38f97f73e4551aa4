/* fuzz_workload.c -- libFuzzer target for the `workload:` YAML: parse, canonical text, info, open,
 * read up to 2000 requests. Inputs that mention files (trace, empirical) are skipped: the target
 * must not read whatever path the fuzzer writes. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"
#include "yamldoc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (memmem(data, size, "trace", 5) || memmem(data, size, "file", 4) || memmem(data, size, "empirical", 9))
        return 0;
    ls_yaml *y;
    ls_error e;
    if (ls_yaml_load_string((const char *)data, size, "fuzz.yaml", &y, &e) != LS_OK)
        return 0;
    ls_workload *w;
    if (ls_workload_parse(y, "workload", NULL, &w, &e) == LS_OK) {
        char *c = ls_workload_canonical(w);
        free(c);
        ls_workload_info info;
        ls_workload_info_get(w, &info);
        ls_workload *w2 = ls_workload_clone(w);
        ls_source *s;
        if (ls_workload_open(w2, 7, &s, &e) == LS_OK) {
            ls_request r;
            int64_t prev = 0;
            for (int i = 0; i < 2000 && ls_source_next(s, &r, &e) == 1; i++) {
                if (r.arrival_ns < prev || r.prompt_tokens < 1 || r.output_tokens < 1)
                    abort();
                prev = r.arrival_ns;
            }
            ls_source_free(s);
        }
        ls_workload_free(w2);
        ls_workload_free(w);
    } else if (!e.msg[0]) {
        abort();
    }
    ls_yaml_free(y);
    return 0;
}
