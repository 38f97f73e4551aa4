/* results.c -- read a sweep's HDF5 result file (layout in docs/SWEEP.md).
 *
 * Compound members are matched by NAME: the memory type we read into holds
 * only the members the file has, so HDF5 converts each column (int64 counts
 * into doubles, fixed strings of any width into ours) and a column missing
 * from an older file simply stays NaN. */
#include "results.h"

#include <hdf5.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* In-memory images of one /results and one /configs row. */
typedef struct result_img {
    int64_t config_id;
    char hash[18];
    char status[17];
    char message[LS_MESSAGE_MAX + 1];
    double v[LS_METRIC_COUNT];
} result_img;

typedef struct config_img {
    int64_t config_id;
    char hash[18];
    ls_config_row row;
} config_img;

static hid_t str_type(size_t size)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, size);
    H5Tset_strpad(t, H5T_STR_NULLTERM);
    return t;
}

/* Insert member `name` at `off` with type `mt` when the file type has it. */
static void insert_if(hid_t mem, hid_t file, const char *name, size_t off, hid_t mt)
{
    if (H5Tget_member_index(file, name) >= 0)
        H5Tinsert(mem, name, off, mt);
}

/* Read a whole 1-D compound dataset into a freshly allocated array. */
static ls_status read_table(hid_t f, const char *path, const char *fname, hid_t mem, size_t elem,
                            void **out, size_t *n, ls_error *e)
{
    hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
    if (d < 0)
        return ls_fail(e, LS_EINVAL, "%s: cannot open dataset %s", fname, path);
    hid_t s = H5Dget_space(d);
    hsize_t dims[1] = {0};
    int nd = H5Sget_simple_extent_ndims(s);
    if (nd != 1) {
        H5Sclose(s);
        H5Dclose(d);
        return ls_fail(e, LS_EINVAL, "%s: %s has %d dimensions, expected 1", fname, path, nd);
    }
    H5Sget_simple_extent_dims(s, dims, NULL);
    H5Sclose(s);
    void *buf = ls_xcalloc(dims[0] ? dims[0] : 1, elem);
    if (dims[0] && H5Dread(d, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
        free(buf);
        H5Dclose(d);
        return ls_fail(e, LS_EINVAL, "%s: cannot read %s (member types do not convert)", fname, path);
    }
    H5Dclose(d);
    *out = buf;
    *n = (size_t)dims[0];
    return LS_OK;
}

static hid_t dataset_file_type(hid_t f, const char *path)
{
    hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
    if (d < 0)
        return -1;
    hid_t t = H5Dget_type(d);
    H5Dclose(d);
    return t;
}

static ls_status read_results(hid_t f, const char *fname, result_img **out, size_t *n, ls_error *e)
{
    hid_t ft = dataset_file_type(f, "/results");
    if (ft < 0)
        return ls_fail(e, LS_EINVAL, "%s: no /results dataset (not a llmsweep result file?)", fname);
    if (H5Tget_class(ft) != H5T_COMPOUND || H5Tget_member_index(ft, "config_id") < 0) {
        H5Tclose(ft);
        return ls_fail(e, LS_EINVAL, "%s: /results is not a compound table with a config_id member",
                       fname);
    }
    hid_t mem = H5Tcreate(H5T_COMPOUND, sizeof(result_img));
    hid_t s_hash = str_type(sizeof(((result_img *)0)->hash));
    hid_t s_status = str_type(sizeof(((result_img *)0)->status));
    hid_t s_msg = str_type(sizeof(((result_img *)0)->message));
    insert_if(mem, ft, "config_id", offsetof(result_img, config_id), H5T_NATIVE_INT64);
    insert_if(mem, ft, "config_hash", offsetof(result_img, hash), s_hash);
    insert_if(mem, ft, "status", offsetof(result_img, status), s_status);
    insert_if(mem, ft, "message", offsetof(result_img, message), s_msg);
    for (int i = 0; i < LS_METRIC_COUNT; i++)
        insert_if(mem, ft, ls_metric_columns[i].name, offsetof(result_img, v) + (size_t)i * sizeof(double),
                  H5T_NATIVE_DOUBLE);
    /* members absent from the file are left zero by the read: mark them NaN after */
    void *buf = NULL;
    ls_status rc = read_table(f, "/results", fname, mem, sizeof(result_img), &buf, n, e);
    if (rc == LS_OK) {
        result_img *r = buf;
        for (int i = 0; i < LS_METRIC_COUNT; i++) {
            bool present = H5Tget_member_index(ft, ls_metric_columns[i].name) >= 0;
            for (size_t k = 0; k < *n; k++) {
                double *v = &r[k].v[i];
                if (!present)
                    *v = NAN;
                else if (ls_metric_columns[i].type == LS_COL_I64 && *v < 0)
                    *v = NAN; /* -1: an undefined count */
            }
        }
        *out = r;
    }
    H5Tclose(s_hash);
    H5Tclose(s_status);
    H5Tclose(s_msg);
    H5Tclose(mem);
    H5Tclose(ft);
    return rc;
}

static ls_status read_configs(hid_t f, const char *fname, config_img **out, size_t *n, ls_error *e)
{
    *out = NULL;
    *n = 0;
    hid_t ft = dataset_file_type(f, "/configs");
    if (ft < 0)
        return LS_OK; /* optional: the report then labels rows by id */
    if (H5Tget_class(ft) != H5T_COMPOUND || H5Tget_member_index(ft, "config_id") < 0) {
        H5Tclose(ft);
        return ls_fail(e, LS_EINVAL, "%s: /configs is not a compound table with a config_id member",
                       fname);
    }
    hid_t mem = H5Tcreate(H5T_COMPOUND, sizeof(config_img));
    hid_t s_hash = str_type(sizeof(((config_img *)0)->hash));
    insert_if(mem, ft, "config_id", offsetof(config_img, config_id), H5T_NATIVE_INT64);
    insert_if(mem, ft, "config_hash", offsetof(config_img, hash), s_hash);
    hid_t strs[LS_CONFIG_COLUMN_COUNT];
    for (int i = 0; i < LS_CONFIG_COLUMN_COUNT; i++) {
        const ls_config_column *c = &ls_config_columns[i];
        size_t off = offsetof(config_img, row) + c->offset;
        strs[i] = -1;
        if (c->type == LS_COL_STR) {
            strs[i] = str_type(c->size);
            insert_if(mem, ft, c->name, off, strs[i]);
        } else if (c->type == LS_COL_I64) {
            insert_if(mem, ft, c->name, off, H5T_NATIVE_INT64);
        } else {
            insert_if(mem, ft, c->name, off, H5T_NATIVE_DOUBLE);
        }
    }
    void *buf = NULL;
    ls_status rc = read_table(f, "/configs", fname, mem, sizeof(config_img), &buf, n, e);
    if (rc == LS_OK) {
        config_img *c = buf;
        for (int i = 0; i < LS_CONFIG_COLUMN_COUNT; i++) {
            const ls_config_column *col = &ls_config_columns[i];
            if (H5Tget_member_index(ft, col->name) >= 0 || col->type != LS_COL_F64)
                continue;
            for (size_t k = 0; k < *n; k++)
                *(double *)((char *)&c[k].row + col->offset) = NAN;
        }
        *out = c;
    }
    for (int i = 0; i < LS_CONFIG_COLUMN_COUNT; i++)
        if (strs[i] >= 0)
            H5Tclose(strs[i]);
    H5Tclose(s_hash);
    H5Tclose(mem);
    H5Tclose(ft);
    return rc;
}

/* A root attribute as text (fixed or variable-length string, or a number). */
static char *attr_text(hid_t f, const char *name)
{
    if (H5Aexists(f, name) <= 0)
        return ls_xstrdup("");
    hid_t a = H5Aopen(f, name, H5P_DEFAULT);
    hid_t t = H5Aget_type(a);
    char *out = NULL;
    if (H5Tget_class(t) == H5T_STRING) {
        if (H5Tis_variable_str(t) > 0) {
            hid_t mt = H5Tcopy(H5T_C_S1);
            H5Tset_size(mt, H5T_VARIABLE);
            H5Tset_cset(mt, H5Tget_cset(t));
            char *s = NULL;
            if (H5Aread(a, mt, &s) >= 0 && s) {
                out = ls_xstrdup(s);
                H5free_memory(s);
            }
            H5Tclose(mt);
        } else {
            size_t n = H5Tget_size(t);
            hid_t mt = str_type(n + 1);
            out = ls_xcalloc(n + 1, 1);
            if (H5Aread(a, mt, out) < 0)
                out[0] = '\0';
            H5Tclose(mt);
        }
    } else if (H5Tget_class(t) == H5T_INTEGER) {
        int64_t v = 0;
        if (H5Aread(a, H5T_NATIVE_INT64, &v) >= 0) {
            out = ls_xmalloc(32);
            snprintf(out, 32, "%" PRId64, v);
        }
    }
    H5Tclose(t);
    H5Aclose(a);
    return out ? out : ls_xstrdup("");
}

static int64_t attr_int(hid_t f, const char *name)
{
    char *s = attr_text(f, name);
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    int64_t r = (end && end != s) ? (int64_t)v : -1;
    free(s);
    return r;
}

static int cmp_row(const void *a, const void *b)
{
    const ls_result_row *x = a, *y = b;
    return (x->config_id > y->config_id) - (x->config_id < y->config_id);
}

static ls_result_row *row_for(ls_results *r, size_t *cap, int64_t id)
{
    for (size_t i = 0; i < r->n; i++) /* files are small (hundreds of rows): linear is fine */
        if (r->rows[i].config_id == id)
            return &r->rows[i];
    if (r->n == *cap) {
        *cap = *cap ? 2 * *cap : 16;
        r->rows = ls_xrealloc(r->rows, *cap * sizeof *r->rows);
    }
    ls_result_row *row = &r->rows[r->n++];
    memset(row, 0, sizeof *row);
    row->config_id = id;
    for (int i = 0; i < LS_CONFIG_COLUMN_COUNT; i++)
        if (ls_config_columns[i].type == LS_COL_F64)
            *(double *)((char *)&row->cfg + ls_config_columns[i].offset) = NAN;
    ls_metrics_init(&row->m);
    return row;
}

ls_status ls_results_read(const char *path, ls_results **out, ls_error *e)
{
    *out = NULL;
    FILE *probe = fopen(path, "rb");
    if (!probe)
        return ls_fail(e, LS_EIO, "%s: cannot open", path);
    fclose(probe);
    /* Silence HDF5's own error printing for the open: we report in our words. */
    H5E_auto2_t old_fn = NULL;
    void *old_data = NULL;
    H5Eget_auto2(H5E_DEFAULT, &old_fn, &old_data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    ls_status rc = LS_OK;
    if (f < 0) {
        rc = ls_fail(e, LS_EIO, "%s: not an HDF5 file, or it is locked/corrupt", path);
        goto done;
    }
    config_img *cfgs = NULL;
    result_img *res = NULL;
    size_t n_cfg = 0, n_res = 0;
    rc = read_results(f, path, &res, &n_res, e);
    if (rc == LS_OK)
        rc = read_configs(f, path, &cfgs, &n_cfg, e);
    if (rc != LS_OK) {
        free(res);
        free(cfgs);
        H5Fclose(f);
        goto done;
    }
    ls_results *r = ls_xcalloc(1, sizeof *r);
    r->path = ls_xstrdup(path);
    size_t cap = 0;
    for (size_t i = 0; i < n_cfg; i++) {
        ls_result_row *row = row_for(r, &cap, cfgs[i].config_id);
        row->cfg = cfgs[i].row;
        snprintf(row->config_hash, sizeof row->config_hash, "%.16s", cfgs[i].hash);
    }
    for (size_t i = 0; i < n_res; i++) {
        ls_result_row *row = row_for(r, &cap, res[i].config_id);
        /* a resumed sweep may hold a row twice: the last one wins */
        if (!row->has_result)
            r->n_finished++;
        row->has_result = true;
        if (!row->config_hash[0])
            snprintf(row->config_hash, sizeof row->config_hash, "%.16s", res[i].hash);
        int st = ls_run_status_parse(res[i].status);
        row->m.status = st < 0 ? LS_RUN_ERROR : (ls_run_status)st;
        snprintf(row->m.message, sizeof row->m.message, "%.*s", LS_MESSAGE_MAX - 1, res[i].message);
        memcpy(row->m.v, res[i].v, sizeof row->m.v);
    }
    free(res);
    free(cfgs);
    if (r->n)
        qsort(r->rows, r->n, sizeof *r->rows, cmp_row);
    r->has_requests = H5Lexists(f, "/requests", H5P_DEFAULT) > 0;
    r->spec_name = attr_text(f, "spec_name");
    r->spec_text = attr_text(f, "spec_text");
    r->tool_version = attr_text(f, "tool_version");
    r->git_revision = attr_text(f, "git_revision");
    r->created = attr_text(f, "created");
    r->seed = attr_int(f, "seed");
    r->ranks = attr_int(f, "ranks");
    r->n_configs = attr_int(f, "n_configs");
    r->schema_version = attr_int(f, "schema_version");
    H5Fclose(f);
    *out = r;
done:
    H5Eset_auto2(H5E_DEFAULT, old_fn, old_data);
    return rc;
}

void ls_results_free(ls_results *r)
{
    if (!r)
        return;
    free(r->path);
    free(r->rows);
    free(r->spec_name);
    free(r->spec_text);
    free(r->tool_version);
    free(r->git_revision);
    free(r->created);
    free(r);
}

int ls_results_cfg_column(const char *name)
{
    for (int i = 0; i < LS_CONFIG_COLUMN_COUNT; i++)
        if (strcmp(ls_config_columns[i].name, name) == 0)
            return i;
    return -1;
}

const char *ls_results_cfg_text(const ls_result_row *r, const char *column, char *buf, size_t size)
{
    int i = ls_results_cfg_column(column);
    if (i < 0 || size == 0) {
        if (size)
            buf[0] = '\0';
        return buf;
    }
    const ls_config_column *c = &ls_config_columns[i];
    const char *p = (const char *)&r->cfg + c->offset;
    switch (c->type) {
    case LS_COL_STR: snprintf(buf, size, "%.*s", (int)c->size, p); break;
    case LS_COL_I64: snprintf(buf, size, "%" PRId64, *(const int64_t *)p); break;
    case LS_COL_F64: snprintf(buf, size, "%g", *(const double *)p); break;
    }
    return buf;
}
