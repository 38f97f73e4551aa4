/* fuzz_reader.c -- libFuzzer target for one trace reader (LS_FUZZ_FORMAT picks it; auto detects).
 *
 * The input becomes a file (memfd) read through ls_trace_open_fd, so zlib,
 * the line buffer and the format's parser all see it. Inputs starting with the
 * gzip magic exercise the decompressor. An odd last byte also turns on
 * sort: true, whose path materialises and sorts the rows. Any result is fine;
 * a crash, a leak or undefined behaviour is a bug.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_memfd.h"
#include "reader.h"

#ifndef LS_FUZZ_FORMAT
#define LS_FUZZ_FORMAT LS_FMT_AUTO
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = ls_fuzz_memfd(data, size, "fuzz");
    if (fd < 0)
        return 0;
    ls_trace_opts o;
    ls_trace_opts_default(&o);
    o.format = LS_FUZZ_FORMAT;
    o.sort = size && (data[size - 1] & 1);
    o.burstgpt_keep_failed = size > 1 && (data[size - 2] & 1);
    ls_source *s;
    ls_error e;
    if (ls_trace_open_fd(fd, "fuzz-input", &o, &s, &e) != LS_OK) {
        if (!e.msg[0])
            abort(); /* every error must say something */
        return 0;
    }
    ls_request r;
    int rc;
    int64_t prev = 0;
    uint64_t n = 0;
    while ((rc = ls_source_next(s, &r, &e)) == 1) {
        /* the stream's promises: non-decreasing times from 0, non-negative counts */
        if (r.arrival_ns < prev || r.prompt_tokens < 0 || r.output_tokens < 0 || (n == 0 && r.arrival_ns != 0))
            abort();
        for (uint32_t i = 0; i < r.n_hash_ids; i++)
            (void)r.hash_ids[i];
        prev = r.arrival_ns;
        n++;
    }
    if (rc < 0 && !e.msg[0])
        abort();
    ls_source_free(s);
    return 0;
}
