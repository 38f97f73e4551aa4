/* sweep_history.c -- /inputs, /spec_revisions and /history (see sweep_history.h).
 *
 * A table is a 1-D compound dataset whose members follow the schema's column
 * list; in memory a row is ncols 8-byte cells (char *, int64 or double), so
 * one pair of read/write functions serves the three tables. Strings are
 * variable-length UTF-8, like /config_yaml.
 */
#include "sweep_history.h"

#include <assert.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

_Static_assert(sizeof(ls_cell) == 8, "a cell is 8 bytes: the compound member stride");

/* ---- tables in memory ------------------------------------------------------ */

void ls_ptable_init(ls_ptable *t, const ls_column *cols, size_t ncols)
{
    memset(t, 0, sizeof *t);
    t->cols = cols;
    t->ncols = ncols;
}

void ls_ptable_free(ls_ptable *t)
{
    for (size_t r = 0; r < t->n; r++)
        for (size_t c = 0; c < t->ncols; c++)
            if (t->cols[c].type == LS_COL_STR)
                free(t->cell[r * t->ncols + c].s);
    free(t->cell);
    t->cell = NULL;
    t->n = t->cap = 0;
}

ls_cell *ls_ptable_row(const ls_ptable *t, size_t r)
{
    assert(r < t->n);
    return t->cell + r * t->ncols;
}

ls_cell *ls_ptable_add(ls_ptable *t)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 8;
        t->cell = ls_xrealloc(t->cell, t->cap * t->ncols * sizeof *t->cell);
    }
    ls_cell *row = t->cell + t->n++ * t->ncols;
    for (size_t c = 0; c < t->ncols; c++) {
        if (t->cols[c].type == LS_COL_STR)
            row[c].s = ls_xstrdup("");
        else
            row[c].i = 0;
    }
    return row;
}

void ls_ptable_set_str(ls_cell *row, size_t col, const char *s)
{
    free(row[col].s);
    row[col].s = ls_xstrdup(s ? s : "");
}

ls_cell *ls_ptable_add_copy(ls_ptable *t, const ls_cell *from)
{
    ls_cell *to = ls_ptable_add(t);
    for (size_t c = 0; c < t->ncols; c++) {
        if (t->cols[c].type == LS_COL_STR)
            ls_ptable_set_str(to, c, from[c].s);
        else
            to[c] = from[c];
    }
    return to;
}

/* ---- tables in the file ---------------------------------------------------- */

static ls_status fail_h5(ls_error *e, const char *path, const char *what, const char *table)
{
    H5Eclear2(H5E_DEFAULT);
    return ls_fail(e, LS_EIO, "%s: cannot %s %s", path, what, table);
}

static hid_t vlen_utf8(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    return t;
}

/* The compound type of a table: member k at offset 8k (in memory and on disk).
 * With `present` (the type of a table in a file), only the columns it has: a
 * file written before a column was added reads with that column empty. */
static hid_t table_type(const ls_column *cols, size_t ncols, hid_t present)
{
    hid_t t = H5Tcreate(H5T_COMPOUND, ncols * sizeof(ls_cell));
    hid_t s = vlen_utf8();
    for (size_t c = 0; c < ncols; c++)
        if (present < 0 || H5Tget_member_index(present, cols[c].name) >= 0)
            H5Tinsert(t, cols[c].name, c * sizeof(ls_cell),
                      cols[c].type == LS_COL_STR ? s : cols[c].type == LS_COL_I64 ? H5T_NATIVE_INT64 : H5T_NATIVE_DOUBLE);
    H5Tclose(s);
    H5Eclear2(H5E_DEFAULT);
    return t;
}

ls_status ls_ptable_read(ls_h5file *f, const char *name, const ls_column *cols, size_t ncols, ls_ptable *t,
                         bool *exists, ls_error *e)
{
    ls_ptable_init(t, cols, ncols);
    hid_t file = (hid_t)ls_h5_hid(f);
    *exists = H5Lexists(file, name, H5P_DEFAULT) > 0;
    H5Eclear2(H5E_DEFAULT);
    if (!*exists)
        return LS_OK;
    hid_t d = H5Dopen2(file, name, H5P_DEFAULT);
    if (d < 0)
        return fail_h5(e, ls_h5_path(f), "open", name);
    hid_t sp = H5Dget_space(d);
    hsize_t n = 0;
    H5Sget_simple_extent_dims(sp, &n, NULL);
    hid_t ft = H5Dget_type(d);
    hid_t mt = table_type(cols, ncols, ft);
    H5Tclose(ft);
    ls_cell *buf = ls_xcalloc((size_t)(n ? n : 1) * ncols, sizeof *buf);
    herr_t rc = n ? H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) : 0;
    if (rc >= 0) {
        for (hsize_t r = 0; r < n; r++) {
            ls_cell *row = ls_ptable_add(t);
            for (size_t c = 0; c < ncols; c++) {
                if (cols[c].type == LS_COL_STR)
                    ls_ptable_set_str(row, c, buf[r * ncols + c].s);
                else
                    row[c] = buf[r * ncols + c];
            }
        }
        if (n) {
#if H5_VERSION_GE(1, 12, 0)
            H5Treclaim(mt, sp, H5P_DEFAULT, buf);
#else
            H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, buf);
#endif
        }
    }
    free(buf);
    H5Tclose(mt);
    H5Sclose(sp);
    H5Dclose(d);
    if (rc < 0) {
        ls_ptable_free(t);
        return fail_h5(e, ls_h5_path(f), "read", name);
    }
    return LS_OK;
}

static herr_t columns_attr(hid_t d, const ls_column *cols, size_t ncols)
{
    char **l = ls_xcalloc(ncols, sizeof *l);
    for (size_t c = 0; c < ncols; c++) {
        size_t n = strlen(cols[c].name) + strlen(cols[c].unit) + strlen(cols[c].description) + 3;
        l[c] = ls_xmalloc(n);
        snprintf(l[c], n, "%s|%s|%s", cols[c].name, cols[c].unit, cols[c].description);
    }
    hsize_t dim = ncols;
    hid_t sp = H5Screate_simple(1, &dim, NULL), st = vlen_utf8();
    hid_t a = H5Acreate2(d, "columns", st, sp, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = a < 0 ? -1 : H5Awrite(a, st, l);
    if (a >= 0)
        H5Aclose(a);
    H5Tclose(st);
    H5Sclose(sp);
    for (size_t c = 0; c < ncols; c++)
        free(l[c]);
    free(l);
    return rc;
}

ls_status ls_ptable_write(ls_h5file *f, const char *name, const ls_ptable *t, ls_error *e)
{
    hid_t file = (hid_t)ls_h5_hid(f);
    if (H5Lexists(file, name, H5P_DEFAULT) > 0 && H5Ldelete(file, name, H5P_DEFAULT) < 0)
        return fail_h5(e, ls_h5_path(f), "replace", name);
    H5Eclear2(H5E_DEFAULT);
    hsize_t dim = t->n, max = H5S_UNLIMITED, chunk = 16;
    hid_t sp = H5Screate_simple(1, &dim, &max);
    hid_t pl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(pl, 1, &chunk);
    hid_t mt = table_type(t->cols, t->ncols, H5I_INVALID_HID);
    hid_t d = H5Dcreate2(file, name, mt, sp, H5P_DEFAULT, pl, H5P_DEFAULT);
    herr_t rc = d < 0 ? -1 : 0;
    if (rc >= 0 && t->n)
        rc = H5Dwrite(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, t->cell);
    if (rc >= 0)
        rc = columns_attr(d, t->cols, t->ncols);
    if (d >= 0)
        H5Dclose(d);
    H5Tclose(mt);
    H5Pclose(pl);
    H5Sclose(sp);
    return rc < 0 ? fail_h5(e, ls_h5_path(f), "write", name) : LS_OK;
}

/* ---- runs -------------------------------------------------------------------- */

void ls_hist_spec_hash(const char *text, size_t len, char out[17])
{
    snprintf(out, 17, "%016llx", (unsigned long long)ls_hash64(text, len));
}

static void now_utc(char *buf, size_t n)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static bool has_spec(const ls_ptable *revs, const char *hash)
{
    for (size_t r = 0; r < revs->n; r++)
        if (!strcmp(ls_ptable_row(revs, r)[LS_SR_spec_hash].s, hash))
            return true;
    return false;
}

static ls_status read_history(ls_h5file *f, ls_ptable *h, ls_error *e)
{
    bool exists;
    return ls_ptable_read(f, LS_H5_HISTORY, ls_history_columns, LS_HISTORY_NCOLS, h, &exists, e);
}

ls_status ls_hist_begin(ls_h5file *f, const ls_hist_run *r, int64_t *run, ls_error *e)
{
    ls_ptable h, revs;
    LS_TRY(read_history(f, &h, e));
    bool exists;
    ls_status rc = ls_ptable_read(f, LS_H5_SPEC_REVISIONS, ls_spec_revision_columns, LS_SPECREV_NCOLS, &revs,
                                  &exists, e);
    if (rc) {
        ls_ptable_free(&h);
        return rc;
    }
    char start[32], shard[48], host[256] = "";
    now_utc(start, sizeof start);
    snprintf(shard, sizeof shard, "%ld/%ld", r->shard_index, r->shard_count > 0 ? r->shard_count : 1);
    if (gethostname(host, sizeof host - 1) != 0)
        snprintf(host, sizeof host, "unknown");
    /* a run still "running" never recorded its end: it was killed, or its last write failed and
     * the file was rolled back to its last flush (this run holds the file now) */
    for (size_t i = 0; i < h.n; i++) {
        ls_cell *old = ls_ptable_row(&h, i);
        if (!strcmp(old[LS_HI_outcome].s, "running")) {
            ls_ptable_set_str(old, LS_HI_outcome, "aborted");
            old[LS_HI_rows_added].i = -1;
        }
    }
    *run = (int64_t)h.n;
    ls_cell *row = ls_ptable_add(&h);
    row[LS_HI_run].i = *run;
    ls_ptable_set_str(row, LS_HI_command, r->command);
    ls_ptable_set_str(row, LS_HI_start_utc, start);
    ls_ptable_set_str(row, LS_HI_outcome, "running");
    row[LS_HI_ranks].i = r->ranks;
    ls_ptable_set_str(row, LS_HI_shard, shard);
    ls_ptable_set_str(row, LS_HI_spec_hash, r->spec_hash);
    row[LS_HI_n_configs].i = r->n_configs;
    row[LS_HI_rows_added].i = 0;
    ls_ptable_set_str(row, LS_HI_tool_version, r->tool_version);
    ls_ptable_set_str(row, LS_HI_git_revision, r->git_revision);
    ls_ptable_set_str(row, LS_HI_host, host);
    ls_ptable_set_str(row, LS_HI_output, r->output);
    if (r->spec_text && !has_spec(&revs, r->spec_hash)) {
        ls_cell *s = ls_ptable_add(&revs);
        ls_ptable_set_str(s, LS_SR_spec_hash, r->spec_hash);
        ls_ptable_set_str(s, LS_SR_set_hash, r->set_hash);
        s[LS_SR_n_configs].i = r->n_configs;
        s[LS_SR_first_run].i = *run;
        ls_ptable_set_str(s, LS_SR_spec_name, r->spec_name);
        ls_ptable_set_str(s, LS_SR_spec_text, r->spec_text);
    }
    int64_t ranks = 0;
    for (size_t i = 0; i < h.n; i++)
        if (ls_ptable_row(&h, i)[LS_HI_ranks].i > ranks && strcmp(ls_ptable_row(&h, i)[LS_HI_command].s, "merge"))
            ranks = ls_ptable_row(&h, i)[LS_HI_ranks].i;
    rc = ls_ptable_write(f, LS_H5_HISTORY, &h, e);
    if (!rc)
        rc = ls_ptable_write(f, LS_H5_SPEC_REVISIONS, &revs, e);
    if (!rc) {
        rc = ls_h5_set_attr_string(f, "spec_hash", r->spec_hash, e);
        if (!rc)
            rc = ls_h5_set_attr_int(f, "n_runs", (int64_t)h.n, e);
        if (!rc)
            rc = ls_h5_set_attr_string(f, "updated", start, e);
        if (!rc)
            rc = ls_h5_set_attr_int(f, "ranks", ranks ? ranks : r->ranks, e);
        if (!rc)
            rc = ls_h5_set_attr_string(f, "tool_version", r->tool_version, e);
        if (!rc)
            rc = ls_h5_set_attr_string(f, "git_revision", r->git_revision, e);
    }
    ls_ptable_free(&h);
    ls_ptable_free(&revs);
    return rc;
}

ls_status ls_hist_end(ls_h5file *f, int64_t run, int64_t rows_added, const char *outcome, ls_error *e)
{
    ls_ptable h;
    LS_TRY(read_history(f, &h, e));
    ls_status rc = LS_OK;
    if (run < 0 || (size_t)run >= h.n) {
        rc = ls_fail(e, LS_EINVAL, "%s: %s has no run %lld", ls_h5_path(f), LS_H5_HISTORY, (long long)run);
    } else {
        char end[32];
        now_utc(end, sizeof end);
        ls_cell *row = ls_ptable_row(&h, (size_t)run);
        ls_ptable_set_str(row, LS_HI_end_utc, end);
        ls_ptable_set_str(row, LS_HI_outcome, outcome);
        row[LS_HI_rows_added].i = rows_added;
        rc = ls_ptable_write(f, LS_H5_HISTORY, &h, e);
    }
    ls_ptable_free(&h);
    return rc;
}

ls_status ls_hist_copy(ls_h5file *src, ls_h5file *dst, ls_error *e)
{
    static const char *const tables[] = {LS_H5_INPUTS, LS_H5_SPEC_REVISIONS, LS_H5_HISTORY};
    hid_t s = (hid_t)ls_h5_hid(src), d = (hid_t)ls_h5_hid(dst);
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        if (H5Lexists(s, tables[i], H5P_DEFAULT) <= 0) {
            H5Eclear2(H5E_DEFAULT);
            continue;
        }
        if (H5Lexists(d, tables[i], H5P_DEFAULT) > 0)
            H5Ldelete(d, tables[i], H5P_DEFAULT);
        if (H5Ocopy(s, tables[i], d, tables[i], H5P_DEFAULT, H5P_DEFAULT) < 0)
            return fail_h5(e, ls_h5_path(dst), "copy", tables[i]);
    }
    return LS_OK;
}

ls_status ls_hist_merge(ls_h5file *const *parts, int np, ls_h5file *dst, ls_error *e)
{
    ls_ptable h, revs;
    ls_ptable_init(&h, ls_history_columns, LS_HISTORY_NCOLS);
    ls_ptable_init(&revs, ls_spec_revision_columns, LS_SPECREV_NCOLS);
    ls_status rc = LS_OK;
    for (int i = 0; i < np && !rc; i++) {
        ls_ptable ph, pr;
        bool exists;
        rc = read_history(parts[i], &ph, e);
        if (rc)
            break;
        rc = ls_ptable_read(parts[i], LS_H5_SPEC_REVISIONS, ls_spec_revision_columns, LS_SPECREV_NCOLS, &pr,
                            &exists, e);
        if (rc) {
            ls_ptable_free(&ph);
            break;
        }
        int64_t base = (int64_t)h.n;
        for (size_t r = 0; r < ph.n; r++) {
            ls_cell *to = ls_ptable_add_copy(&h, ls_ptable_row(&ph, r));
            to[LS_HI_run].i = base + (int64_t)r;
        }
        for (size_t r = 0; r < pr.n; r++) {
            const ls_cell *from = ls_ptable_row(&pr, r);
            if (has_spec(&revs, from[LS_SR_spec_hash].s))
                continue;
            ls_ptable_add_copy(&revs, from)[LS_SR_first_run].i += base;
        }
        ls_ptable_free(&ph);
        ls_ptable_free(&pr);
    }
    if (!rc)
        rc = ls_ptable_write(dst, LS_H5_HISTORY, &h, e);
    if (!rc)
        rc = ls_ptable_write(dst, LS_H5_SPEC_REVISIONS, &revs, e);
    ls_ptable_free(&h);
    ls_ptable_free(&revs);
    return rc;
}

ls_status ls_hist_check_revision(ls_h5file *f, const char *tool_version, const char *git_revision,
                                 const char *what, ls_error *e)
{
    char *rev = NULL, *ver = NULL;
    ls_error ignore;
    if (ls_h5_attr_string(f, "git_revision", &rev, &ignore) || ls_h5_attr_string(f, "tool_version", &ver, &ignore)) {
        free(rev);
        return LS_OK; /* not recorded: nothing to compare */
    }
    ls_status rc = LS_OK;
    if (strcmp(rev, git_revision) || strcmp(ver, tool_version))
        rc = ls_fail(e, LS_EINVAL,
                     "%s was written by llmsweep %s (revision %s), this is llmsweep %s (revision %s): %s would mix "
                     "results of two builds; use the same build, or pass --accept-revision to accept it "
                     "(the /history table keeps the revision of every run)",
                     ls_h5_path(f), ver, rev, tool_version, git_revision, what);
    free(rev);
    free(ver);
    return rc;
}
