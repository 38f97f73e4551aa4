/* sweep_h5.c -- packed compound tables in one HDF5 file (see sweep_h5.h).
 *
 * Rows are packed by hand (memcpy at computed offsets) from the schema tables,
 * so the on-disk type follows common/schema.h with no padding and one code
 * path serves /configs and /results whatever columns are added later.
 */
#include "sweep_h5.h"

#include <assert.h>
#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sweep_journal.h"

#define RESULTS_CHUNK 128
#define CONFIGS_CHUNK 64
#define REQUESTS_CHUNK 8192 /* 72 B rows: 576 KiB chunks (h5py advice: 10 KiB .. 1 MiB) */
#define STATUS_LEN 16

struct ls_h5file {
    hid_t file;
    bool write;
    char *path;
    ls_journal *journal;     /* writable files: batches land whole (sweep_journal.h) */
    hid_t results, requests; /* open datasets, or H5I_INVALID_HID */
    hid_t results_type, requests_type;
    size_t results_size;     /* packed row bytes */
    hsize_t results_rows, requests_rows;
};

/* ---- errors ------------------------------------------------------------------ */

static herr_t walk_last(unsigned n, const H5E_error2_t *err, void *data)
{
    /* keep the innermost description: it says what went wrong */
    if (n == 0)
        snprintf((char *)data, 256, "%s", err->desc ? err->desc : "");
    return 0;
}

static ls_status h5fail(ls_error *e, const char *path, const char *what)
{
    char detail[256] = "";
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_last, detail);
    H5Eclear2(H5E_DEFAULT);
    return ls_fail(e, LS_EIO, "%s: %s%s%s", path, what, *detail ? ": " : "", detail);
}

/* A failed write of a writable file: the OS error (ENOSPC...) and what is left. */
static ls_status write_fail(ls_h5file *f, ls_error *e, const char *what)
{
    int err = ls_journal_failed(f->journal);
    if (!err)
        return h5fail(e, f->path, what);
    H5Eclear2(H5E_DEFAULT);
    return ls_fail(e, LS_EIO, "%s: %s: %s%s; nothing more is written and the file is rolled back to its last "
                              "flush, which --resume continues", f->path, what, strerror(err),
                   err == ENOSPC ? " (ENOSPC)" : "");
}

void ls_h5_quiet(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

/* ---- types ------------------------------------------------------------------- */

static hid_t str_type(size_t n)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, n);
    H5Tset_strpad(t, H5T_STR_NULLPAD);
    return t;
}

static hid_t vlen_str_type(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    return t;
}

static void insert(hid_t t, const char *name, size_t off, hid_t mt)
{
    H5Tinsert(t, name, off, mt);
}

static void insert_str(hid_t t, const char *name, size_t off, size_t n)
{
    hid_t s = str_type(n);
    H5Tinsert(t, name, off, s);
    H5Tclose(s);
}

static size_t results_row_size(void)
{
    return 8 + LS_HASH_HEX + STATUS_LEN + LS_MESSAGE_MAX + 8 * LS_METRIC_COUNT;
}

static hid_t results_type(void)
{
    hid_t t = H5Tcreate(H5T_COMPOUND, results_row_size());
    size_t off = 0;
    insert(t, "config_id", off, H5T_NATIVE_INT64), off += 8;
    insert_str(t, "config_hash", off, LS_HASH_HEX), off += LS_HASH_HEX;
    insert_str(t, "status", off, STATUS_LEN), off += STATUS_LEN;
    insert_str(t, "message", off, LS_MESSAGE_MAX), off += LS_MESSAGE_MAX;
    for (int i = 0; i < LS_METRIC_COUNT; i++, off += 8)
        insert(t, ls_metric_columns[i].name, off,
               ls_metric_columns[i].type == LS_COL_I64 ? H5T_NATIVE_INT64 : H5T_NATIVE_DOUBLE);
    assert(off == results_row_size());
    return t;
}

static size_t configs_row_size(void)
{
    size_t n = 8 + LS_HASH_HEX;
    for (int i = 0; i < LS_CONFIG_COLUMN_COUNT; i++)
        n += ls_config_columns[i].type == LS_COL_STR ? ls_config_columns[i].size : 8;
    return n;
}

static hid_t configs_type(void)
{
    hid_t t = H5Tcreate(H5T_COMPOUND, configs_row_size());
    size_t off = 0;
    insert(t, "config_id", off, H5T_NATIVE_INT64), off += 8;
    insert_str(t, "config_hash", off, LS_HASH_HEX), off += LS_HASH_HEX;
    for (int i = 0; i < LS_CONFIG_COLUMN_COUNT; i++) {
        const ls_config_column *c = &ls_config_columns[i];
        if (c->type == LS_COL_STR) {
            insert_str(t, c->name, off, c->size);
            off += c->size;
        } else {
            insert(t, c->name, off, c->type == LS_COL_I64 ? H5T_NATIVE_INT64 : H5T_NATIVE_DOUBLE);
            off += 8;
        }
    }
    return t;
}

_Static_assert(sizeof(ls_sweep_reqrow) == 8 + sizeof(ls_request_result), "ls_sweep_reqrow must have no padding");

/* config_id, then the per-request columns of common/schema.h */
static hid_t requests_type(void)
{
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(ls_sweep_reqrow));
    insert(t, "config_id", offsetof(ls_sweep_reqrow, config_id), H5T_NATIVE_INT64);
    for (int i = 0; i < LS_REQUEST_COLUMN_COUNT; i++) {
        const ls_request_column *c = &ls_request_columns[i];
        insert(t, c->name, offsetof(ls_sweep_reqrow, r) + c->offset,
               c->type == LS_RQ_I64 ? H5T_NATIVE_INT64 : c->type == LS_RQ_I32 ? H5T_NATIVE_INT32 : H5T_NATIVE_DOUBLE);
    }
    return t;
}

/* ---- column documentation ---------------------------------------------------- */

static ls_status write_columns_attr(hid_t obj, char **lines, size_t n, const char *path, ls_error *e)
{
    hsize_t dim = n;
    hid_t sp = H5Screate_simple(1, &dim, NULL), st = vlen_str_type();
    hid_t a = H5Acreate2(obj, "columns", st, sp, H5P_DEFAULT, H5P_DEFAULT);
    herr_t w = a < 0 ? -1 : H5Awrite(a, st, lines);
    if (a >= 0)
        H5Aclose(a);
    H5Tclose(st);
    H5Sclose(sp);
    return w < 0 ? h5fail(e, path, "cannot write the 'columns' attribute") : LS_OK;
}

static char *doc_line(const char *name, const char *unit, const char *desc)
{
    size_t n = strlen(name) + strlen(unit) + strlen(desc) + 3;
    char *s = ls_xmalloc(n);
    snprintf(s, n, "%s|%s|%s", name, unit, desc);
    return s;
}

/* The 'columns' attribute of d: the fixed leading columns `head` ({name, description}, no unit),
 * then n columns of a schema table, line i from col(i, &name, &unit, &description). */
typedef void (*doc_col_fn)(int i, const char **name, const char **unit, const char **desc);

static ls_status columns_attr(hid_t d, const char *path, const char *const (*head)[2], int n_head, int n,
                              doc_col_fn col, ls_error *e)
{
    size_t total = (size_t)(n_head + n);
    char **l = ls_xcalloc(total, sizeof *l);
    for (int i = 0; i < n_head; i++)
        l[i] = doc_line(head[i][0], "", head[i][1]);
    for (int i = 0; i < n; i++) {
        const char *name, *unit, *desc;
        col(i, &name, &unit, &desc);
        l[n_head + i] = doc_line(name, unit, desc);
    }
    ls_status rc = write_columns_attr(d, l, total, path, e);
    for (size_t i = 0; i < total; i++)
        free(l[i]);
    free(l);
    return rc;
}

static void metric_doc(int i, const char **name, const char **unit, const char **desc)
{
    *name = ls_metric_columns[i].name, *unit = ls_metric_columns[i].unit, *desc = ls_metric_columns[i].description;
}

static void config_doc(int i, const char **name, const char **unit, const char **desc)
{
    *name = ls_config_columns[i].name, *unit = ls_config_columns[i].unit, *desc = ls_config_columns[i].description;
}

static void request_doc(int i, const char **name, const char **unit, const char **desc)
{
    *name = ls_request_columns[i].name, *unit = ls_request_columns[i].unit,
    *desc = ls_request_columns[i].description;
}

static const char *const config_id_doc[2] = {"config_id", "configuration (index into /configs)"};
static const char *const hash_doc[2] = {"config_hash", "FNV-1a 64 of the canonical configuration YAML, 16 hex digits"};

static ls_status results_columns_attr(hid_t d, ls_error *e)
{
    const char *const head[4][2] = {{config_id_doc[0], config_id_doc[1]}, {hash_doc[0], hash_doc[1]},
                                    {"status", "ok | infeasible | error"},
                                    {"message", "why infeasible, what failed (empty when ok)"}};
    return columns_attr(d, "/results", head, 4, LS_METRIC_COUNT, metric_doc, e);
}

static ls_status configs_columns_attr(hid_t d, ls_error *e)
{
    const char *const head[2][2] = {{"config_id", "index of the configuration in the expanded grid"},
                                    {hash_doc[0], hash_doc[1]}};
    return columns_attr(d, "/configs", head, 2, LS_CONFIG_COLUMN_COUNT, config_doc, e);
}

static ls_status requests_columns_attr(hid_t d, ls_error *e)
{
    const char *const head[1][2] = {{config_id_doc[0], config_id_doc[1]}};
    return columns_attr(d, "/requests", head, 1, LS_REQUEST_COLUMN_COUNT, request_doc, e);
}

/* ---- datasets ---------------------------------------------------------------- */

static hid_t create_table(hid_t file, const char *name, hid_t type, hsize_t chunk, int level)
{
    hsize_t dim = 0, max = H5S_UNLIMITED;
    hid_t sp = H5Screate_simple(1, &dim, &max);
    hid_t pl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(pl, 1, &chunk);
    H5Pset_shuffle(pl);
    H5Pset_deflate(pl, (unsigned)level);
    hid_t d = H5Dcreate2(file, name, type, sp, H5P_DEFAULT, pl, H5P_DEFAULT);
    H5Pclose(pl);
    H5Sclose(sp);
    return d;
}

static hsize_t rows_of(hid_t d)
{
    hid_t sp = H5Dget_space(d);
    hsize_t n = 0;
    H5Sget_simple_extent_dims(sp, &n, NULL);
    H5Sclose(sp);
    return n;
}

/* Write `n` rows of `type` at row `at` (growing the dataset if needed). */
static herr_t write_rows(hid_t d, hid_t type, hsize_t at, const void *buf, hsize_t n)
{
    if (n == 0)
        return 0;
    hsize_t cur = rows_of(d), end = at + n;
    if (end > cur && H5Dset_extent(d, &end) < 0)
        return -1;
    hid_t fs = H5Dget_space(d);
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, &at, NULL, &n, NULL);
    hid_t ms = H5Screate_simple(1, &n, NULL);
    herr_t rc = H5Dwrite(d, type, ms, fs, H5P_DEFAULT, buf);
    H5Sclose(ms);
    H5Sclose(fs);
    return rc;
}

/* ---- attributes -------------------------------------------------------------- */

/* Create or replace attribute `name` of obj. */
static herr_t attr_str(hid_t obj, const char *name, const char *val)
{
    if (H5Aexists(obj, name) > 0 && H5Adelete(obj, name) < 0)
        return -1;
    hid_t sp = H5Screate(H5S_SCALAR), st = vlen_str_type();
    hid_t a = H5Acreate2(obj, name, st, sp, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = a < 0 ? -1 : H5Awrite(a, st, &val);
    if (a >= 0)
        H5Aclose(a);
    H5Tclose(st);
    H5Sclose(sp);
    return rc;
}

static herr_t attr_i64(hid_t obj, const char *name, int64_t v)
{
    if (H5Aexists(obj, name) > 0 && H5Adelete(obj, name) < 0)
        return -1;
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, H5T_NATIVE_INT64, sp, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = a < 0 ? -1 : H5Awrite(a, H5T_NATIVE_INT64, &v);
    if (a >= 0)
        H5Aclose(a);
    H5Sclose(sp);
    return rc;
}

static ls_status write_root_attrs(hid_t file, const ls_h5_meta *m, const char *path, ls_error *e)
{
    char created[32], h5v[32], mpiv[MPI_MAX_LIBRARY_VERSION_STRING];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm);
    unsigned maj, min, rel;
    H5get_libversion(&maj, &min, &rel);
    snprintf(h5v, sizeof h5v, "%u.%u.%u", maj, min, rel);
    int len = 0;
    MPI_Get_library_version(mpiv, &len);
    /* the first line is enough ("Open MPI v4.1.4, package: ...") */
    char *nl = strchr(mpiv, '\n');
    if (nl)
        *nl = 0;
    herr_t rc = 0;
    rc |= attr_str(file, "tool_version", m->tool_version ? m->tool_version : "unknown");
    rc |= attr_str(file, "git_revision", m->git_revision ? m->git_revision : "unknown");
    rc |= attr_str(file, "spec_text", m->spec_text ? m->spec_text : "");
    rc |= attr_str(file, "spec_name", m->spec_name ? m->spec_name : "");
    rc |= attr_str(file, "set_hash", m->set_hash ? m->set_hash : "");
    rc |= attr_i64(file, "seed", m->seed);
    rc |= attr_str(file, "created", m->created ? m->created : created);
    rc |= attr_i64(file, "ranks", m->ranks);
    rc |= attr_str(file, "hdf5_version", h5v);
    rc |= attr_str(file, "mpi_version", mpiv);
    rc |= attr_i64(file, "n_configs", m->n_configs);
    rc |= attr_i64(file, "shard_index", m->shard_index);
    rc |= attr_i64(file, "shard_count", m->shard_count > 0 ? m->shard_count : 1);
    rc |= attr_i64(file, "merged_from", m->merged_from);
    rc |= attr_i64(file, "schema_version", LS_SCHEMA_VERSION);
    if (m->requests_mode)
        rc |= attr_str(file, "requests_mode", m->requests_mode);
    return rc < 0 ? h5fail(e, path, "cannot write the root attributes") : LS_OK;
}

/* ---- row packing ------------------------------------------------------------- */

static void pack_result(unsigned char *p, const ls_sweep_result *r)
{
    memset(p, 0, results_row_size());
    memcpy(p, &r->config_id, 8);
    memcpy(p + 8, r->hash, strnlen(r->hash, LS_HASH_HEX - 1));
    const char *st = ls_run_status_name(r->m.status);
    memcpy(p + 8 + LS_HASH_HEX, st, strlen(st));
    size_t off = 8 + LS_HASH_HEX + STATUS_LEN;
    memcpy(p + off, r->m.message, strnlen(r->m.message, LS_MESSAGE_MAX - 1));
    off += LS_MESSAGE_MAX;
    for (int i = 0; i < LS_METRIC_COUNT; i++, off += 8) {
        double v = r->m.v[i];
        if (ls_metric_columns[i].type == LS_COL_I64) {
            /* counts have no NaN: -1 says "undefined" (documented in docs/RESULTS.md) */
            int64_t x = isfinite(v) ? (int64_t)llround(v) : -1;
            memcpy(p + off, &x, 8);
        } else {
            memcpy(p + off, &v, 8);
        }
    }
}

static void unpack_result(const unsigned char *p, ls_sweep_result *r)
{
    memset(r, 0, sizeof *r);
    ls_metrics_init(&r->m);
    memcpy(&r->config_id, p, 8);
    memcpy(r->hash, p + 8, LS_HASH_HEX - 1);
    char st[STATUS_LEN + 1] = {0};
    memcpy(st, p + 8 + LS_HASH_HEX, STATUS_LEN);
    int s = ls_run_status_parse(st);
    r->m.status = s < 0 ? LS_RUN_ERROR : (ls_run_status)s;
    size_t off = 8 + LS_HASH_HEX + STATUS_LEN;
    memcpy(r->m.message, p + off, LS_MESSAGE_MAX - 1);
    off += LS_MESSAGE_MAX;
    for (int i = 0; i < LS_METRIC_COUNT; i++, off += 8) {
        if (ls_metric_columns[i].type == LS_COL_I64) {
            int64_t x;
            memcpy(&x, p + off, 8);
            r->m.v[i] = x < 0 ? NAN : (double)x;
        } else {
            memcpy(&r->m.v[i], p + off, 8);
        }
    }
}

static void pack_config(unsigned char *p, int64_t id, const char *hash, const ls_config_row *row)
{
    memset(p, 0, configs_row_size());
    memcpy(p, &id, 8);
    memcpy(p + 8, hash, strnlen(hash, LS_HASH_HEX - 1));
    size_t off = 8 + LS_HASH_HEX;
    for (int i = 0; i < LS_CONFIG_COLUMN_COUNT; i++) {
        const ls_config_column *c = &ls_config_columns[i];
        const char *src = (const char *)row + c->offset;
        if (c->type == LS_COL_STR) {
            /* keep a NUL inside the field even if the row's string filled it */
            memcpy(p + off, src, strnlen(src, c->size - 1));
            off += c->size;
        } else {
            memcpy(p + off, src, 8);
            off += 8;
        }
    }
}

/* ---- open / create ----------------------------------------------------------- */

static ls_h5file *file_new(hid_t fid, const char *path, bool write, ls_journal *j)
{
    ls_h5file *f = ls_xcalloc(1, sizeof *f);
    f->file = fid;
    f->journal = j;
    f->write = write;
    f->path = ls_xstrdup(path);
    f->results = f->requests = H5I_INVALID_HID;
    f->results_type = results_type();
    f->requests_type = requests_type();
    f->results_size = results_row_size();
    return f;
}

static ls_status open_tables(ls_h5file *f, ls_error *e)
{
    f->results = H5Dopen2(f->file, "/results", H5P_DEFAULT);
    if (f->results < 0)
        return h5fail(e, f->path, "no /results dataset (not an llmsweep result file?)");
    hid_t t = H5Dget_type(f->results);
    size_t sz = H5Tget_size(t);
    H5Tclose(t);
    if (sz != f->results_size)
        return ls_fail(e, LS_EINVAL,
                       "%s: /results rows are %zu bytes, this llmsweep writes %zu: the file was written "
                       "by a version with other columns",
                       f->path, sz, f->results_size);
    f->results_rows = rows_of(f->results);
    H5Eclear2(H5E_DEFAULT);
    if (H5Lexists(f->file, "/requests", H5P_DEFAULT) > 0) {
        f->requests = H5Dopen2(f->file, "/requests", H5P_DEFAULT);
        if (f->requests < 0)
            return h5fail(e, f->path, "cannot open /requests");
        f->requests_rows = rows_of(f->requests);
    }
    return LS_OK;
}

static ls_status create_results(ls_h5file *f, ls_error *e)
{
    f->results = create_table(f->file, "/results", f->results_type, RESULTS_CHUNK, 4);
    if (f->results < 0)
        return write_fail(f, e, "cannot create /results");
    return results_columns_attr(f->results, e);
}

static ls_status create_requests(ls_h5file *f, ls_error *e)
{
    /* level 1: per-request rows are the bulk of the bytes; speed over ratio */
    f->requests = create_table(f->file, "/requests", f->requests_type, REQUESTS_CHUNK, 1);
    if (f->requests < 0)
        return write_fail(f, e, "cannot create /requests");
    return requests_columns_attr(f->requests, e);
}

_Static_assert(sizeof(hid_t) == sizeof(int64_t), "hid_t is 64-bit since HDF5 1.10");

int64_t ls_h5_hid(const ls_h5file *f) { return f->file; }
const char *ls_h5_path(const ls_h5file *f) { return f->path; }

ls_status ls_h5_create_bare(const char *path, const ls_h5_meta *m, ls_h5file **out, ls_error *e)
{
    *out = NULL;
    ls_journal *j;
    hid_t fapl;
    LS_TRY(ls_journal_fapl(path, &j, &fapl, e));
    hid_t fid = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    if (fid < 0) {
        int err = ls_journal_failed(j);
        ls_journal_free(j, NULL);
        if (err) {
            H5Eclear2(H5E_DEFAULT);
            remove(path); /* a torn new file holds nothing to keep */
            return ls_fail(e, LS_EIO, "%s: cannot create the result file: %s%s", path, strerror(err),
                           err == ENOSPC ? " (ENOSPC)" : "");
        }
        return h5fail(e, path, "cannot create the result file");
    }
    ls_h5file *f = file_new(fid, path, true, j);
    ls_status rc = write_root_attrs(fid, m, path, e);
    if (!rc)
        rc = create_results(f, e);
    if (rc) {
        ls_h5_close(f, NULL);
        remove(path); /* a new file that could not be set up holds nothing to keep */
        return rc;
    }
    *out = f;
    return LS_OK;
}

ls_status ls_h5_create(const char *path, const ls_h5_meta *m, const ls_sweep_spec *spec,
                       const ls_config_row *rows, bool requests, ls_h5file **out, ls_error *e)
{
    ls_h5file *f = NULL;
    LS_TRY(ls_h5_create_bare(path, m, &f, e));
    ls_status rc = LS_OK;
    /* /configs */
    hid_t ct = configs_type();
    hid_t d = create_table(f->file, "/configs", ct, CONFIGS_CHUNK, 4);
    if (d < 0)
        rc = write_fail(f, e, "cannot create /configs");
    size_t rs = configs_row_size();
    if (!rc) {
        unsigned char *buf = ls_xmalloc(rs * spec->n);
        for (size_t i = 0; i < spec->n; i++)
            pack_config(buf + i * rs, (int64_t)i, spec->configs[i].hash, &rows[i]);
        if (write_rows(d, ct, 0, buf, spec->n) < 0)
            rc = write_fail(f, e, "cannot write /configs");
        free(buf);
    }
    if (!rc)
        rc = configs_columns_attr(d, e);
    if (d >= 0)
        H5Dclose(d);
    H5Tclose(ct);
    /* /config_yaml */
    if (!rc) {
        hsize_t n = spec->n;
        hid_t sp = H5Screate_simple(1, &n, NULL), st = vlen_str_type();
        hid_t y = H5Dcreate2(f->file, "/config_yaml", st, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        const char **txt = ls_xcalloc(spec->n, sizeof *txt);
        for (size_t i = 0; i < spec->n; i++)
            txt[i] = spec->configs[i].canonical;
        if (y < 0 || H5Dwrite(y, st, H5S_ALL, H5S_ALL, H5P_DEFAULT, txt) < 0)
            rc = write_fail(f, e, "cannot write /config_yaml");
        free(txt);
        if (y >= 0)
            H5Dclose(y);
        H5Tclose(st);
        H5Sclose(sp);
    }
    if (!rc && requests)
        rc = create_requests(f, e);
    if (!rc)
        rc = ls_h5_flush(f, e);
    if (rc) {
        ls_h5_close(f, NULL);
        remove(path); /* a new file that could not be set up holds nothing to keep */
        return rc;
    }
    *out = f;
    return LS_OK;
}

ls_status ls_h5_open(const char *path, bool write, ls_h5file **out, ls_error *e)
{
    *out = NULL;
    ls_journal *j = NULL;
    hid_t fapl = H5P_DEFAULT;
    if (write) /* the caller holds the sweep lock: the open may roll back a killed writer's batch */
        LS_TRY(ls_journal_fapl(path, &j, &fapl, e));
    hid_t fid = H5Fopen(path, write ? H5F_ACC_RDWR : H5F_ACC_RDONLY, fapl);
    if (write)
        H5Pclose(fapl);
    if (fid < 0) {
        ls_journal_free(j, NULL);
        return h5fail(e, path, "cannot open the result file");
    }
    ls_h5file *f = file_new(fid, path, write, j);
    ls_status rc = open_tables(f, e);
    if (rc) {
        ls_h5_close(f, NULL);
        return rc;
    }
    *out = f;
    return LS_OK;
}

ls_status ls_h5_close(ls_h5file *f, ls_error *e)
{
    if (!f)
        return LS_OK;
    ls_status rc = LS_OK;
    if (f->results >= 0)
        H5Dclose(f->results);
    if (f->requests >= 0)
        H5Dclose(f->requests);
    H5Tclose(f->results_type);
    H5Tclose(f->requests_type);
    bool failed = ls_journal_failed(f->journal) != 0;
    herr_t c = H5Fclose(f->file);
    if (failed) /* the write error was reported; what the close dropped is rolled back */
        H5Eclear2(H5E_DEFAULT);
    else if (c < 0)
        rc = write_fail(f, e, "cannot close the result file");
    ls_error je;
    if (ls_journal_free(f->journal, &je) && !rc) {
        rc = je.code;
        if (e)
            *e = je;
    }
    free(f->path);
    free(f);
    return rc;
}

/* ---- appending --------------------------------------------------------------- */

ls_status ls_h5_append_results(ls_h5file *f, const ls_sweep_result *rows, size_t n, ls_error *e)
{
    assert(f->write);
    if (n == 0)
        return LS_OK;
    unsigned char *buf = ls_xmalloc(n * f->results_size);
    for (size_t i = 0; i < n; i++)
        pack_result(buf + i * f->results_size, &rows[i]);
    herr_t w = write_rows(f->results, f->results_type, f->results_rows, buf, n);
    free(buf);
    if (w < 0)
        return write_fail(f, e, "cannot append to /results");
    f->results_rows += n;
    return LS_OK;
}

ls_status ls_h5_append_requests(ls_h5file *f, const ls_sweep_reqrow *rows, size_t n, ls_error *e)
{
    assert(f->write);
    if (n == 0)
        return LS_OK;
    if (f->requests < 0)
        LS_TRY(create_requests(f, e));
    if (write_rows(f->requests, f->requests_type, f->requests_rows, rows, n) < 0)
        return write_fail(f, e, "cannot append to /requests");
    f->requests_rows += n;
    return LS_OK;
}

ls_status ls_h5_flush(ls_h5file *f, ls_error *e)
{
    if (ls_journal_failed(f->journal))
        return write_fail(f, e, "cannot flush");
    if (H5Fflush(f->file, H5F_SCOPE_GLOBAL) < 0)
        return write_fail(f, e, "cannot flush");
    ls_journal_commit(f->journal); /* the batch is on disk: it becomes the state a failure returns to */
    return LS_OK;
}

/* ---- reading ----------------------------------------------------------------- */

ls_status ls_h5_attr_string(ls_h5file *f, const char *name, char **out, ls_error *e)
{
    *out = NULL;
    hid_t a = H5Aopen(f->file, name, H5P_DEFAULT);
    if (a < 0)
        return h5fail(e, f->path, "missing root attribute");
    hid_t st = vlen_str_type();
    char *v = NULL;
    herr_t rc = H5Aread(a, st, &v);
    H5Tclose(st);
    H5Aclose(a);
    if (rc < 0)
        return h5fail(e, f->path, "cannot read a string root attribute");
    *out = ls_xstrdup(v ? v : "");
    H5free_memory(v);
    return LS_OK;
}

ls_status ls_h5_attr_int(ls_h5file *f, const char *name, int64_t *out, ls_error *e)
{
    hid_t a = H5Aopen(f->file, name, H5P_DEFAULT);
    if (a < 0)
        return h5fail(e, f->path, "missing root attribute");
    herr_t rc = H5Aread(a, H5T_NATIVE_INT64, out);
    H5Aclose(a);
    if (rc < 0)
        return h5fail(e, f->path, "cannot read an integer root attribute");
    return LS_OK;
}

ls_status ls_h5_set_attr_string(ls_h5file *f, const char *name, const char *val, ls_error *e)
{
    return attr_str(f->file, name, val ? val : "") < 0 ? h5fail(e, f->path, "cannot write a root attribute") : LS_OK;
}

ls_status ls_h5_set_attr_int(ls_h5file *f, const char *name, int64_t val, ls_error *e)
{
    return attr_i64(f->file, name, val) < 0 ? h5fail(e, f->path, "cannot write a root attribute") : LS_OK;
}

ls_status ls_h5_read_config_hashes(ls_h5file *f, char (**out)[LS_HASH_HEX], size_t *n, ls_error *e)
{
    *out = NULL;
    *n = 0;
    hid_t d = H5Dopen2(f->file, "/configs", H5P_DEFAULT);
    if (d < 0)
        return h5fail(e, f->path, "no /configs dataset");
    /* read one member through a one-field compound type */
    hid_t t = H5Tcreate(H5T_COMPOUND, LS_HASH_HEX);
    insert_str(t, "config_hash", 0, LS_HASH_HEX);
    hsize_t rows = rows_of(d);
    char(*h)[LS_HASH_HEX] = ls_xcalloc(rows ? rows : 1, LS_HASH_HEX);
    herr_t rc = rows ? H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, h) : 0;
    H5Tclose(t);
    H5Dclose(d);
    if (rc < 0) {
        free(h);
        return h5fail(e, f->path, "cannot read /configs.config_hash");
    }
    for (hsize_t i = 0; i < rows; i++)
        h[i][LS_HASH_HEX - 1] = 0;
    *out = h;
    *n = rows;
    return LS_OK;
}

ls_status ls_h5_read_results(ls_h5file *f, ls_sweep_result **rows, size_t *n, ls_error *e)
{
    *rows = NULL;
    *n = 0;
    hsize_t cnt = rows_of(f->results);
    unsigned char *buf = ls_xmalloc((cnt ? cnt : 1) * f->results_size);
    if (cnt && H5Dread(f->results, f->results_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
        free(buf);
        return h5fail(e, f->path, "cannot read /results");
    }
    ls_sweep_result *r = ls_xcalloc(cnt ? cnt : 1, sizeof *r);
    for (hsize_t i = 0; i < cnt; i++)
        unpack_result(buf + i * f->results_size, &r[i]);
    free(buf);
    *rows = r;
    *n = cnt;
    return LS_OK;
}

ls_status ls_h5_rewrite_results(ls_h5file *f, const ls_sweep_result *rows, size_t n, ls_error *e)
{
    assert(f->write);
    hsize_t cnt = n;
    if (H5Dset_extent(f->results, &cnt) < 0)
        return write_fail(f, e, "cannot resize /results");
    f->results_rows = 0;
    return ls_h5_append_results(f, rows, n, e);
}

ls_status ls_h5_count_requests(ls_h5file *f, size_t *n, ls_error *e)
{
    *n = f->requests >= 0 ? rows_of(f->requests) : 0;
    return LS_OK;
}

ls_status ls_h5_read_requests(ls_h5file *f, ls_sweep_reqrow **rows, size_t *n, ls_error *e)
{
    *rows = NULL;
    *n = 0;
    if (f->requests < 0)
        return LS_OK;
    hsize_t cnt = rows_of(f->requests);
    ls_sweep_reqrow *r = ls_xcalloc(cnt ? cnt : 1, sizeof *r);
    for (hsize_t i = 0; i < cnt; i++)
        r[i].r.class_id = -1;  /* files written before the class column read as "none" */
    if (cnt && H5Dread(f->requests, f->requests_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, r) < 0) {
        free(r);
        return h5fail(e, f->path, "cannot read /requests");
    }
    *rows = r;
    *n = cnt;
    return LS_OK;
}

ls_status ls_h5_filter_requests(ls_h5file *f, const bool *keep, size_t n_keep, ls_error *e)
{
    if (f->requests < 0)
        return LS_OK;
    ls_sweep_reqrow *r;
    size_t n;
    LS_TRY(ls_h5_read_requests(f, &r, &n, e));
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (r[i].config_id >= 0 && (size_t)r[i].config_id < n_keep && keep[r[i].config_id])
            r[k++] = r[i];
    ls_status rc = LS_OK;
    if (k != n) {
        hsize_t cnt = k;
        if (H5Dset_extent(f->requests, &cnt) < 0)
            rc = write_fail(f, e, "cannot resize /requests");
        f->requests_rows = 0;
        if (!rc)
            rc = ls_h5_append_requests(f, r, k, e);
    }
    free(r);
    return rc;
}

ls_status ls_h5_copy_configs(ls_h5file *src, ls_h5file *dst, ls_error *e)
{
    if (H5Ocopy(src->file, "/configs", dst->file, "/configs", H5P_DEFAULT, H5P_DEFAULT) < 0)
        return write_fail(dst, e, "cannot copy /configs");
    if (H5Ocopy(src->file, "/config_yaml", dst->file, "/config_yaml", H5P_DEFAULT, H5P_DEFAULT) < 0)
        return write_fail(dst, e, "cannot copy /config_yaml");
    return LS_OK;
}
