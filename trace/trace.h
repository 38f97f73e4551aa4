/* trace.h -- requests and request streams (the public surface of trace/).
 *
 * A request is (arrival time, prompt tokens, output tokens) plus optional
 * fields. Times are integer nanoseconds relative to the stream's first
 * request. Every source of requests -- a trace file in any supported format,
 * a synthetic workload, a transformation of another source -- is an
 * ls_source: a pull iterator that holds O(1) requests in memory.
 */
#ifndef LS_TRACE_H
#define LS_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Request classes a workload may define (classes.h); the result schema has
 * this many per-class column groups. */
#define LS_MAX_CLASSES 4

typedef struct ls_request {
    int64_t arrival_ns;       /* >= 0, non-decreasing along a stream */
    int32_t prompt_tokens;    /* >= 0 */
    int32_t output_tokens;    /* >= 0 (0 only for failed BurstGPT rows kept on request) */
    int64_t session_id;       /* -1 when the format has none */
    uint32_t n_hash_ids;      /* prefix-block hash ids (Mooncake: 512-token blocks) */
    const int64_t *hash_ids;  /* owned by the source; valid until its next call */
    uint64_t line;            /* 1-based line in the source file; 0 for synthetic requests */
    int32_t class_id;         /* request class (classes.h): index < LS_MAX_CLASSES; -1 = none given */
} ls_request;

typedef struct ls_source ls_source;

/* Pull the next request. Returns 1 and fills *out, 0 at the end of the
 * stream, or -1 on error with `e` filled (file:line: what was expected). */
int ls_source_next(ls_source *s, ls_request *out, ls_error *e);

/* Free a source and everything it owns (accepts NULL). */
void ls_source_free(ls_source *s);

/* A materialised stream, for callers that need random access or replay the
 * same requests many times (common random numbers across a sweep). */
typedef struct ls_request_array {
    ls_request *v;            /* hash_ids pointers into `hash_pool` */
    size_t n, cap;
    int64_t *hash_pool;
    size_t n_hash, cap_hash;
} ls_request_array;

/* Read everything a source yields (at most `limit`, 0 = no limit). */
ls_status ls_source_collect(ls_source *s, size_t limit, ls_request_array *out, ls_error *e);
void ls_request_array_free(ls_request_array *a);
/* A source over an array (not copied: the array must outlive the source). */
ls_source *ls_source_from_array(const ls_request_array *a);

#endif
