/* sweep_history.h -- the provenance tables of a result file: /inputs,
 * /spec_revisions and /history (names and columns: common/schema.h).
 *
 * A result file is written by one or more runs (a sweep, resumes, extensions
 * with new axis values, a merge). These tables say what each run was and what
 * its rows were computed from, so that a resume or merge whose inputs differ
 * can be refused (mpi/sweep_inputs.h) and the file describes its whole
 * history. The tables are small (one row per input file, per specification
 * revision, per run): they are read whole and rewritten whole.
 */
#ifndef LS_SWEEP_HISTORY_H
#define LS_SWEEP_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "schema.h"
#include "sweep_h5.h"

/* One cell of a provenance table: a string (owned; never NULL once set), an
 * int64 or a double, as the table's column says. */
typedef union ls_cell {
    char *s;
    int64_t i;
    double d;
} ls_cell;

/* A table in memory: n rows of ncols cells (row r, column c: cell[r * ncols + c]). */
typedef struct ls_ptable {
    const ls_column *cols;
    size_t ncols;
    ls_cell *cell;
    size_t n, cap;
} ls_ptable;

void ls_ptable_init(ls_ptable *t, const ls_column *cols, size_t ncols);
void ls_ptable_free(ls_ptable *t);                 /* frees the strings too */
ls_cell *ls_ptable_row(const ls_ptable *t, size_t r);
/* Append a row: strings are set to "" and numbers to 0; returns the row. */
ls_cell *ls_ptable_add(ls_ptable *t);
void ls_ptable_set_str(ls_cell *row, size_t col, const char *s); /* replaces; copies s */
/* Append a copy of `from`, a row of a table with the same columns; returns the new row. */
ls_cell *ls_ptable_add_copy(ls_ptable *t, const ls_cell *from);

/* Read table `name` of f into t (initialised with cols). *exists is false (and
 * t empty) when the file has no such table (written before it existed). */
ls_status ls_ptable_read(ls_h5file *f, const char *name, const ls_column *cols, size_t ncols, ls_ptable *t,
                         bool *exists, ls_error *e);
/* Replace table `name` of f by t (with its `columns` attribute). */
ls_status ls_ptable_write(ls_h5file *f, const char *name, const ls_ptable *t, ls_error *e);

/* What a run is, for its /history row. */
typedef struct ls_hist_run {
    const char *command;     /* "sweep", "resume", "extend", "merge" */
    int64_t ranks;
    long shard_index, shard_count;
    const char *spec_hash, *set_hash, *spec_name, *spec_text;
    int64_t n_configs;
    const char *tool_version, *git_revision;
    const char *output;      /* the file as the run names it */
} ls_hist_run;

/* "%016llx" of ls_hash64 over a specification text. */
void ls_hist_spec_hash(const char *text, size_t len, char out[17]);

/* Start a run: append its /history row (outcome "running"; an earlier row
 * still "running" never recorded its end and becomes "aborted", rows_added -1:
 * unknown), add its
 * specification to /spec_revisions if the file does not hold it yet, and
 * update the root attributes that describe the whole history: spec_hash,
 * n_runs, updated, ranks (the largest over the runs), tool_version and
 * git_revision (the latest run's). *run is the row's index. */
ls_status ls_hist_begin(ls_h5file *f, const ls_hist_run *r, int64_t *run, ls_error *e);
/* End run `run`: its end time, outcome ("complete" or "interrupted")
 * and the number of /results rows it recorded. */
ls_status ls_hist_end(ls_h5file *f, int64_t run, int64_t rows_added, const char *outcome, ls_error *e);

/* Copy /inputs, /spec_revisions and /history (those present) from src to dst:
 * a resume that rewrites the file keeps its history. */
ls_status ls_hist_copy(ls_h5file *src, ls_h5file *dst, ls_error *e);

/* Merge: dst's /history is the parts' histories one after the other (runs
 * renumbered), its /spec_revisions the union of theirs. The merge's own row
 * is then added with ls_hist_begin/ls_hist_end. */
ls_status ls_hist_merge(ls_h5file *const *parts, int np, ls_h5file *dst, ls_error *e);

/* Read the history's git_revision and tool_version root attributes and
 * compare with this build's. LS_EINVAL naming both revisions when they
 * differ (results of two builds would be mixed). */
ls_status ls_hist_check_revision(ls_h5file *f, const char *tool_version, const char *git_revision,
                                 const char *what, ls_error *e);

#endif
