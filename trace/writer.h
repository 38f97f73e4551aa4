/* writer.h -- write request streams as native traces, and summarise them.
 *
 * The native format is CSV with the header `arrival_s,prompt_tokens,output_tokens`
 * (plus `session_id` and `hash_ids` columns when asked for); arrival_s is
 * printed exactly from the integer nanoseconds, so reading a written trace
 * gives back the same requests. A name ending in .gz is gzip-compressed.
 */
#ifndef LS_WRITER_H
#define LS_WRITER_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "reader.h"
#include "trace.h"

enum { LS_WRITE_SESSION = 1, LS_WRITE_HASH_IDS = 2, LS_WRITE_CLASS = 4 /* the request class index (classes.h) */ };

typedef struct ls_trace_writer ls_trace_writer;

/* Create `path` ("-" = stdout, never compressed). `flags`: LS_WRITE_*. */
ls_status ls_trace_writer_open(const char *path, unsigned flags, ls_trace_writer **out, ls_error *e);
ls_status ls_trace_writer_write(ls_trace_writer *w, const ls_request *r, ls_error *e);
/* Flush, close and free (also on error; accepts NULL). */
ls_status ls_trace_writer_close(ls_trace_writer *w, ls_error *e);
/* Drain `s` into a new native trace at `path`; *rows gets the count (may be NULL). */
ls_status ls_trace_write_source(ls_source *s, const char *path, unsigned flags, uint64_t *rows, ls_error *e);

/* Length statistics, percentiles by nearest rank on sorted values. */
typedef struct ls_len_stats {
    double mean;
    int32_t min, p50, p90, p99, max;
} ls_len_stats;

typedef struct ls_trace_stats {
    uint64_t rows;
    bool has_times;
    double span_s;        /* last - first arrival */
    double rate;          /* (rows - 1) / span_s */
    double ia_cv;         /* coefficient of variation of inter-arrival gaps (population) */
    double max_gap_s;
    ls_len_stats prompt, output;
    ls_source_report report;
} ls_trace_stats;

/* Read all of `s` (streaming) and summarise it. Memory does not grow with rows: exact counts per length
 * (up to 2^20 tokens; longer ones, rare, kept in a list) give exact nearest-rank percentiles, and the gaps
 * are summed as they come (Welford). The stream must be in time order, which every source guarantees
 * (a `sort: true` reader holds the file itself to sort it). */
ls_status ls_trace_stats_compute(ls_source *s, ls_trace_stats *out, ls_error *e);

#endif
