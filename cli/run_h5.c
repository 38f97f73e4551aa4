/* run_h5.c -- the HDF5 per-request table of `llmsweep run` (llmsweep-mpi only, see run_h5.h). */
#include <stdlib.h>
#include <string.h>

#include "run_h5.h"
#include "sweep_h5.h"
#include "sweep_spec.h"

#define ROWS_PER_FLUSH 65536

struct ls_cli_run_h5 {
    ls_h5file *h5;
    char hash[LS_HASH_HEX];
    ls_sweep_reqrow *buf;
    size_t n, cap;
    ls_status rc;   /* first error of a flush, reported at close */
    ls_error err;
};

ls_status ls_cli_run_h5_open(const char *path, const ls_yaml *root, const char *spec_name, const ls_run_config *cfg,
                             ls_cli_run_h5 **out, ls_error *e)
{
    char *canon = ls_yaml_canonical(root);
    ls_cli_run_h5 *w = ls_xcalloc(1, sizeof *w);
    ls_sweep_hash_hex(canon, w->hash);
    ls_h5_quiet();
    ls_h5_meta meta;
    memset(&meta, 0, sizeof meta);
    meta.tool_version = LLMSWEEP_VERSION;
    meta.git_revision = LLMSWEEP_GIT_REV;
    meta.spec_text = canon;
    meta.spec_name = spec_name;
    ls_config_row row;
    ls_config_get_row(cfg, &row);
    meta.seed = row.seed;
    meta.ranks = 1;
    meta.n_configs = 1;
    meta.shard_count = 1;
    ls_status rc = ls_h5_create_bare(path, &meta, &w->h5, e);
    free(canon);
    if (rc) {
        free(w);
        return rc;
    }
    *out = w;
    return LS_OK;
}

static void flush_rows(ls_cli_run_h5 *w)
{
    if (w->n && !w->rc)
        w->rc = ls_h5_append_requests(w->h5, w->buf, w->n, &w->err);
    w->n = 0;
}

void ls_cli_run_h5_request(void *ctx, const ls_request_result *r)
{
    ls_cli_run_h5 *w = ctx;
    if (w->n == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 4096;
        if (w->cap > ROWS_PER_FLUSH)
            w->cap = ROWS_PER_FLUSH;
        w->buf = ls_xrealloc(w->buf, w->cap * sizeof *w->buf);
    }
    memset(&w->buf[w->n], 0, sizeof w->buf[w->n]);
    w->buf[w->n].config_id = 0;
    w->buf[w->n].r = *r;
    if (++w->n == ROWS_PER_FLUSH)
        flush_rows(w);
}

ls_status ls_cli_run_h5_close(ls_cli_run_h5 *w, const ls_metrics *m, ls_error *e)
{
    flush_rows(w);
    ls_status rc = LS_OK;
    if (w->rc) {
        rc = w->rc;
        *e = w->err;
    }
    if (!rc && m) {
        ls_sweep_result res;
        memset(&res, 0, sizeof res);
        res.config_id = 0;
        memcpy(res.hash, w->hash, sizeof res.hash);
        res.m = *m;
        rc = ls_h5_append_results(w->h5, &res, 1, e);
    }
    ls_error e2;
    if (ls_h5_close(w->h5, &e2) && !rc) {
        rc = LS_EIO;
        *e = e2;
    }
    free(w->buf);
    free(w);
    return rc;
}
