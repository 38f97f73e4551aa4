/* results.h -- read a sweep's HDF5 result file into memory.
 *
 * The layout is the one `llmsweep sweep` writes (docs/SWEEP.md): /configs (one
 * row per configuration of the grid), /results (one row per finished
 * configuration), optional /requests, and root attributes. Columns are read by
 * name through common/schema.h's tables, so a file written by an older or newer
 * schema still reads: a metric the file lacks stays NaN. Counts written as -1
 * ("undefined") are read as NaN too.
 */
#ifndef LS_RESULTS_H
#define LS_RESULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "schema.h"

/* One configuration: what was simulated and, when it finished, its result. */
typedef struct ls_result_row {
    int64_t config_id;
    char config_hash[17];
    ls_config_row cfg;      /* from /configs (zeroed/NaN when the file has no /configs row) */
    bool has_result;        /* false: the configuration has not finished (partial sweep) */
    ls_metrics m;           /* status, message and every metric (NaN when undefined) */
} ls_result_row;

typedef struct ls_results {
    char *path;
    size_t n;               /* rows, sorted by config_id */
    ls_result_row *rows;
    size_t n_finished;      /* rows with has_result */
    bool has_requests;      /* the file has a /requests dataset */
    /* Root attributes ("" when absent). */
    char *spec_name, *spec_text, *tool_version, *git_revision, *created;
    int64_t seed, ranks, n_configs;   /* -1 when absent */
    /* The file's schema_version (common/schema.h; -1: absent, a version 1 file): columns newer
     * than the file read NaN, which a reader must not take for their meaning (capacity_fail_rps). */
    int64_t schema_version;
} ls_results;

/* Read a result file. Fails (LS_EIO / LS_EINVAL, message naming the file and
 * dataset) when it cannot be opened or has no /results dataset. */
ls_status ls_results_read(const char *path, ls_results **out, ls_error *e);

/* Accepts NULL. */
void ls_results_free(ls_results *r);

/* Text of a /configs column of a row ("" for an unknown name), for grouping and
 * labels: strings as stored, integers in decimal, doubles with %g. */
const char *ls_results_cfg_text(const ls_result_row *r, const char *column, char *buf, size_t size);

/* Index of a /configs column by name, or -1. */
int ls_results_cfg_column(const char *name);

#endif
