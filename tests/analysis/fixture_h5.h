/* fixture_h5.h -- write a result file in the sweep's HDF5 layout from hand-made rows.
 *
 * Independent of mpi/'s writer on purpose: it follows the layout document
 * (docs/SWEEP.md) member by member, so the reader is checked against the
 * contract, not against the other implementation. Included by the tests. */
#ifndef LS_TEST_FIXTURE_H5_H
#define LS_TEST_FIXTURE_H5_H

#include <hdf5.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "schema.h"

typedef struct fx_row {
    ls_config_row cfg;
    const char *status;     /* "ok", "infeasible", "error"; NULL: not finished */
    const char *message;
    double v[LS_METRIC_COUNT];
} fx_row;

static hid_t fx_str(size_t n)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, n);
    H5Tset_strpad(t, H5T_STR_NULLPAD);
    return t;
}

static hid_t fx_table(hid_t f, const char *name, hid_t type, const void *buf, size_t n)
{
    hsize_t dims[1] = {n}, maxd[1] = {H5S_UNLIMITED}, chunk[1] = {64};
    hid_t s = H5Screate_simple(1, dims, maxd);
    hid_t p = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(p, 1, chunk);
    H5Pset_deflate(p, 4);
    hid_t d = H5Dcreate2(f, name, type, s, H5P_DEFAULT, p, H5P_DEFAULT);
    if (n)
        H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
    H5Pclose(p);
    H5Sclose(s);
    return d;
}

static void fx_attr_str(hid_t f, const char *name, const char *v)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    hid_t s = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(f, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, t, &v);
    H5Aclose(a);
    H5Sclose(s);
    H5Tclose(t);
}

/* Write rows[0..n) as configurations 0..n-1 (results for those with a status). */
static int fx_write(const char *path, const fx_row *rows, size_t n)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0)
        return -1;
    /* /configs: config_id, config_hash, every config column, packed */
    size_t csize = 8 + 17;
    for (int i = 0; i < LS_CONFIG_COLUMN_COUNT; i++)
        csize += ls_config_columns[i].type == LS_COL_STR ? ls_config_columns[i].size : 8;
    hid_t ct = H5Tcreate(H5T_COMPOUND, csize);
    hid_t h17 = fx_str(17);
    H5Tinsert(ct, "config_id", 0, H5T_NATIVE_INT64);
    H5Tinsert(ct, "config_hash", 8, h17);
    size_t off = 25;
    hid_t strs[LS_CONFIG_COLUMN_COUNT];
    for (int i = 0; i < LS_CONFIG_COLUMN_COUNT; i++) {
        const ls_config_column *c = &ls_config_columns[i];
        strs[i] = -1;
        if (c->type == LS_COL_STR) {
            strs[i] = fx_str(c->size);
            H5Tinsert(ct, c->name, off, strs[i]);
            off += c->size;
        } else {
            H5Tinsert(ct, c->name, off, c->type == LS_COL_I64 ? H5T_NATIVE_INT64 : H5T_NATIVE_DOUBLE);
            off += 8;
        }
    }
    char *cbuf = calloc(n ? n : 1, csize);
    for (size_t r = 0; r < n; r++) {
        char *p = cbuf + r * csize;
        int64_t id = (int64_t)r;
        memcpy(p, &id, 8);
        snprintf(p + 8, 17, "%016llx", (unsigned long long)(0x1234 + r));
        off = 25;
        for (int i = 0; i < LS_CONFIG_COLUMN_COUNT; i++) {
            const ls_config_column *c = &ls_config_columns[i];
            const char *src = (const char *)&rows[r].cfg + c->offset;
            size_t sz = c->type == LS_COL_STR ? c->size : 8;
            memcpy(p + off, src, sz);
            off += sz;
        }
    }
    H5Dclose(fx_table(f, "/configs", ct, cbuf, n));
    free(cbuf);
    /* /results: only finished rows, written in reverse order (any order is allowed) */
    size_t rsize = 8 + 17 + 16 + LS_MESSAGE_MAX + 8 * LS_METRIC_COUNT;
    hid_t rt = H5Tcreate(H5T_COMPOUND, rsize);
    hid_t s16 = fx_str(16), s256 = fx_str(LS_MESSAGE_MAX);
    H5Tinsert(rt, "config_id", 0, H5T_NATIVE_INT64);
    H5Tinsert(rt, "config_hash", 8, h17);
    H5Tinsert(rt, "status", 25, s16);
    H5Tinsert(rt, "message", 41, s256);
    for (int i = 0; i < LS_METRIC_COUNT; i++)
        H5Tinsert(rt, ls_metric_columns[i].name, 41 + LS_MESSAGE_MAX + 8 * (size_t)i,
                  ls_metric_columns[i].type == LS_COL_I64 ? H5T_NATIVE_INT64 : H5T_NATIVE_DOUBLE);
    char *rbuf = calloc(n ? n : 1, rsize);
    size_t nr = 0;
    for (size_t k = n; k-- > 0;) {
        if (!rows[k].status)
            continue;
        char *p = rbuf + nr++ * rsize;
        int64_t id = (int64_t)k;
        memcpy(p, &id, 8);
        snprintf(p + 8, 17, "%016llx", (unsigned long long)(0x1234 + k));
        strncpy(p + 25, rows[k].status, 16);
        strncpy(p + 41, rows[k].message ? rows[k].message : "", LS_MESSAGE_MAX);
        for (int i = 0; i < LS_METRIC_COUNT; i++) {
            double v = rows[k].v[i];
            char *q = p + 41 + LS_MESSAGE_MAX + 8 * i;
            if (ls_metric_columns[i].type == LS_COL_I64) {
                int64_t iv = isnan(v) ? -1 : (int64_t)v;
                memcpy(q, &iv, 8);
            } else {
                memcpy(q, &v, 8);
            }
        }
    }
    H5Dclose(fx_table(f, "/results", rt, rbuf, nr));
    free(rbuf);
    fx_attr_str(f, "spec_name", "fixture");
    fx_attr_str(f, "created", "2026-01-01T00:00:00Z");
    for (int i = 0; i < LS_CONFIG_COLUMN_COUNT; i++)
        if (strs[i] >= 0)
            H5Tclose(strs[i]);
    H5Tclose(s16);
    H5Tclose(s256);
    H5Tclose(h17);
    H5Tclose(ct);
    H5Tclose(rt);
    H5Fclose(f);
    return 0;
}

#endif
