/* reader.h -- trace file readers (six formats, plain or gzip) and source reports.
 *
 * ls_trace_open reads a trace file as a stream of requests. zlib reads plain
 * and gzip files alike (gzopen/gzread), the format is taken from the header
 * (or the first line for JSON Lines) unless forced, and every malformed input
 * is an error naming FILE:LINE, the column or field, and what was expected.
 * Times come out as integer nanoseconds relative to the first request.
 */
#ifndef LS_READER_H
#define LS_READER_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "trace.h"

typedef enum ls_trace_format {
    LS_FMT_AUTO = 0,
    LS_FMT_NATIVE,   /* arrival_s,prompt_tokens,output_tokens[,...] */
    LS_FMT_AZURE,    /* TIMESTAMP,ContextTokens,GeneratedTokens (2023 and 2024) */
    LS_FMT_VIDUR,    /* arrived_at,num_prefill_tokens,num_decode_tokens[,...] */
    LS_FMT_LENGTHS,  /* num_prefill_tokens,num_decode_tokens[,...]: no times */
    LS_FMT_BURSTGPT, /* Timestamp,[Session ID,Elapsed time,]Model,Request tokens,Response tokens,... */
    LS_FMT_MOONCAKE  /* JSON Lines {"timestamp": ms, "input_length", "output_length", "hash_ids"} */
} ls_trace_format;

/* "auto", "native", ... ; NULL for an unknown value. */
const char *ls_trace_format_name(ls_trace_format f);
/* Parse a format name; false when unknown. */
bool ls_trace_format_parse(const char *name, ls_trace_format *out);

/* The longest line a reader accepts (a Mooncake line with 400 hash ids is ~4 KB). */
#define LS_TRACE_MAX_LINE (1u << 20)
/* Default tolerance for timestamps that go backwards (clock jitter): 1 ms. */
#define LS_TRACE_BACKWARDS_TOLERANCE_NS 1000000

typedef struct ls_trace_opts {
    ls_trace_format format;       /* LS_FMT_AUTO: detect */
    bool burstgpt_keep_failed;    /* keep BurstGPT rows with 0 response tokens (default: exclude) */
    bool sort;                    /* sort by time (materialises the file) instead of failing on disorder */
    int64_t backwards_tolerance_ns; /* < 0: the default LS_TRACE_BACKWARDS_TOLERANCE_NS */
    bool mooncake_any_hash_count; /* accept Mooncake hash_ids lists whose length is not ceil(input_length/512)
                                   * (default: an error; negative ids are always an error) */
} ls_trace_opts;

/* Mooncake prefix blocks: one hash id per LS_MOONCAKE_BLOCK_TOKENS prompt tokens (the format's definition). */
#define LS_MOONCAKE_BLOCK_TOKENS 512

/* Default options (auto format, exclude failed, no sort, default tolerance). */
void ls_trace_opts_default(ls_trace_opts *o);

/* Open a trace file. Fails (LS_EIO / LS_EINVAL) when the file cannot be read,
 * is empty, binary, or its header matches no format (or not the forced one).
 * Rows are checked as they are read: ls_source_next reports bad rows. */
ls_status ls_trace_open(const char *path, const ls_trace_opts *opts, ls_source **out, ls_error *e);
/* The same over an open file descriptor (taken over and closed by the source);
 * `name` is used in messages. For fuzzing and tests. */
ls_status ls_trace_open_fd(int fd, const char *name, const ls_trace_opts *opts, ls_source **out,
                           ls_error *e);
/* The format of an opened trace source (LS_FMT_AUTO for other sources). */
ls_trace_format ls_trace_source_format(const ls_source *s);

/* What a chain of sources did to the requests: each layer adds its counts. */
typedef struct ls_source_report {
    char format[16];              /* reader format name, "" when synthetic */
    bool has_times;               /* false for length-only files */
    uint64_t rows_read;           /* data rows read from the file */
    uint64_t failed_seen;         /* BurstGPT failed rows (0 response tokens) */
    bool failed_kept;
    uint64_t clamped_backwards;   /* backwards timestamps within tolerance, clamped */
    bool sorted;
    bool window_applied, window_cut;
    uint64_t dropped_before_window;
    uint64_t dropped_over_limit, clipped_over_limit;
    bool max_requests_cut;
    uint64_t max_requests;
    double time_scale;            /* factor applied to times (1 = none) */
    bool synthetic_arrivals, synthetic_lengths;
} ls_source_report;

/* Fill r with what s and the sources under it did. */
void ls_source_get_report(const ls_source *s, ls_source_report *r);
/* Human-readable lines of a report (caller frees). */
char *ls_source_report_text(const ls_source_report *r);

#endif
