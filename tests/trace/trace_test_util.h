/* trace_test_util.h -- helpers shared by the trace tests: temporary files, reading all of a file. */
#ifndef LS_TRACE_TEST_UTIL_H
#define LS_TRACE_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>

#include "reader.h"
#include "trace.h"

/* Write `len` bytes to a new temporary file whose name ends in `suffix`; gzip them when gz. */
static inline char *tmp_file(const char *suffix, const void *data, size_t len, int gz)
{
    static unsigned counter;
    char *path = malloc(256);
    snprintf(path, 256, "/tmp/ls_trace_test_%d_%u%s", (int)getpid(), counter++, suffix);
    if (gz) {
        gzFile g = gzopen(path, "wb6");
        assert_non_null(g);
        if (len)
            assert_int_equal(gzwrite(g, data, (unsigned)len), (int)len);
        gzclose(g);
    } else {
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        if (len)
            assert_int_equal(fwrite(data, 1, len, f), len);
        fclose(f);
    }
    return path;
}

static inline char *tmp_text(const char *suffix, const char *text) { return tmp_file(suffix, text, strlen(text), 0); }

/* Open and read everything; returns LS_OK and the requests, or the error (message in e). */
static inline ls_status read_all(const char *path, const ls_trace_opts *o, ls_request_array *a, ls_error *e)
{
    ls_source *s;
    memset(a, 0, sizeof *a);
    ls_status st = ls_trace_open(path, o, &s, e);
    if (st != LS_OK)
        return st;
    st = ls_source_collect(s, 0, a, e);
    ls_source_free(s);
    return st;
}

/* The error message of reading `text` as a file (fails the test if it reads fine). */
static inline void expect_error(const char *text, size_t len, int gz, const ls_trace_opts *o, const char *const *needles)
{
    char *p = tmp_file(".csv", text, len, gz);
    ls_request_array a;
    ls_error e;
    memset(&e, 0, sizeof e);
    ls_status st = read_all(p, o, &a, &e);
    if (st == LS_OK)
        fail_msg("expected an error for %s", p);
    for (const char *const *n = needles; *n; n++)
        if (!strstr(e.msg, *n))
            fail_msg("error message '%s' lacks '%s'", e.msg, *n);
    /* every message names the file */
    if (!strstr(e.msg, p))
        fail_msg("error message '%s' does not name the file", e.msg);
    unlink(p);
    free(p);
}

#endif
