/* sweep_h5.h -- the sweep's HDF5 result file (layout in docs/RESULTS.md).
 *
 *   /configs      one row per configuration: config_id, config_hash, ls_config_columns
 *   /config_yaml  canonical YAML text per configuration (variable-length UTF-8)
 *   /results      one row per finished configuration: config_id, config_hash, status,
 *                 message, ls_metric_columns (I64 metrics: -1 when undefined)
 *   /requests     optional per-request rows: config_id + ls_request_result
 *   root attributes: tool_version, git_revision, spec_text, spec_name, seed, created,
 *                 ranks, hdf5_version, mpi_version, n_configs (+ set_hash, shard_index,
 *                 shard_count, merged_from, requests_mode: additions for resume and merge)
 *
 * One process writes (rank 0) with the default (sec2) driver: rows are
 * packed into compound buffers here and appended in batches; call
 * ls_h5_flush after each batch so a killed job loses only unflushed rows.
 * Every dataset carries a `columns` attribute: "name|unit|description" per column.
 */
#ifndef LS_SWEEP_H5RESULTS_H
#define LS_SWEEP_H5RESULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "replay.h"
#include "schema.h"
#include "sweep_spec.h"

/* One /results row in memory. */
typedef struct ls_sweep_result {
    int64_t config_id;
    char hash[LS_HASH_HEX];
    ls_metrics m;
} ls_sweep_result;

/* One /requests row, in memory and on disk (no padding: 80 bytes; columns: common/schema.h). */
typedef struct ls_sweep_reqrow {
    int64_t config_id;
    ls_request_result r;
} ls_sweep_reqrow;

typedef struct ls_h5_meta {
    const char *tool_version, *git_revision;
    const char *spec_text, *spec_name, *set_hash;
    int64_t seed;            /* -1 when the spec has none */
    int64_t ranks;
    int64_t n_configs;
    int64_t shard_index, shard_count; /* 0/1 without sharding */
    int64_t merged_from;     /* number of merged parts; 0 for a sweep's own file */
    const char *requests_mode; /* "none", "all", "sample:N"; NULL: attribute not written */
    const char *created;     /* ISO-8601 UTC; NULL: now (a rewrite keeps the original's) */
} ls_h5_meta;

typedef struct ls_h5file ls_h5file;

/* Turn off HDF5's automatic error printing (errors come back as ls_error). */
void ls_h5_quiet(void);

/* Create `path` (truncating it) with root attributes, /configs and
 * /config_yaml filled from `spec` and `rows` (n = spec->n), and an empty
 * /results. /requests is created when `requests` is true. */
ls_status ls_h5_create(const char *path, const ls_h5_meta *m, const ls_sweep_spec *spec,
                       const ls_config_row *rows, bool requests, ls_h5file **out, ls_error *e);

/* Open an existing result file; `write` for appending (resume). */
ls_status ls_h5_open(const char *path, bool write, ls_h5file **out, ls_error *e);

/* Close (flushing first when writable). Accepts NULL. Returns the first error. */
ls_status ls_h5_close(ls_h5file *f, ls_error *e);

ls_status ls_h5_append_results(ls_h5file *f, const ls_sweep_result *rows, size_t n, ls_error *e);
/* Creates /requests on first use if the file has none. */
ls_status ls_h5_append_requests(ls_h5file *f, const ls_sweep_reqrow *rows, size_t n, ls_error *e);
ls_status ls_h5_flush(ls_h5file *f, ls_error *e);

/* Root attributes: strings (caller frees) and integers. */
ls_status ls_h5_attr_string(ls_h5file *f, const char *name, char **out, ls_error *e);
ls_status ls_h5_attr_int(ls_h5file *f, const char *name, int64_t *out, ls_error *e);
/* Set (create or replace) a root attribute: the history's attributes change per run. */
ls_status ls_h5_set_attr_string(ls_h5file *f, const char *name, const char *val, ls_error *e);
ls_status ls_h5_set_attr_int(ls_h5file *f, const char *name, int64_t val, ls_error *e);

/* The config_hash column of /configs, in config_id order (n x LS_HASH_HEX bytes; caller frees). */
ls_status ls_h5_read_config_hashes(ls_h5file *f, char (**out)[LS_HASH_HEX], size_t *n, ls_error *e);

/* Every /results row (caller frees *rows). Metrics come back as doubles (I64 -1 -> NaN). */
ls_status ls_h5_read_results(ls_h5file *f, ls_sweep_result **rows, size_t *n, ls_error *e);

/* Replace the whole /results table by `rows` (resume drops error rows this way). */
ls_status ls_h5_rewrite_results(ls_h5file *f, const ls_sweep_result *rows, size_t n, ls_error *e);

/* Number of /requests rows (0 without the dataset), and all of them (caller frees). */
ls_status ls_h5_count_requests(ls_h5file *f, size_t *n, ls_error *e);
ls_status ls_h5_read_requests(ls_h5file *f, ls_sweep_reqrow **rows, size_t *n, ls_error *e);
/* Keep only the /requests rows whose config_id has keep[config_id] set
 * (rows of configurations lost in a crash). No-op without /requests. */
ls_status ls_h5_filter_requests(ls_h5file *f, const bool *keep, size_t n_keep, ls_error *e);

/* Copy /configs and /config_yaml (with their attributes) from `src` into `dst`. */
ls_status ls_h5_copy_configs(ls_h5file *src, ls_h5file *dst, ls_error *e);

/* The file's HDF5 id (a hid_t) and its path, for the provenance tables of
 * mpi/sweep_history.c, which live beside the result tables. */
int64_t ls_h5_hid(const ls_h5file *f);
const char *ls_h5_path(const ls_h5file *f);

/* Create an empty result file with root attributes only (merge fills it). */
ls_status ls_h5_create_bare(const char *path, const ls_h5_meta *m, ls_h5file **out, ls_error *e);

#endif
