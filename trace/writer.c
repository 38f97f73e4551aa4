/* writer.c -- native trace writer (plain or gzip) and trace statistics. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "writer.h"

#define WBUF 65536

struct ls_trace_writer {
    gzFile gz;    /* NULL for stdout */
    char *path;
    unsigned flags;
    char buf[WBUF];
    size_t len;
};

static ls_status flush(ls_trace_writer *w, ls_error *e)
{
    if (!w->len)
        return LS_OK;
    if (w->gz) {
        if (gzwrite(w->gz, w->buf, (unsigned)w->len) != (int)w->len) {
            int zerr;
            return ls_fail(e, LS_EIO, "%s: write failed: %s", w->path, gzerror(w->gz, &zerr));
        }
    } else if (fwrite(w->buf, 1, w->len, stdout) != w->len) {
        return ls_fail(e, LS_EIO, "stdout: write failed: %s", strerror(errno));
    }
    w->len = 0;
    return LS_OK;
}

ls_status ls_trace_writer_open(const char *path, unsigned flags, ls_trace_writer **out, ls_error *e)
{
    *out = NULL;
    ls_trace_writer *w = ls_xcalloc(1, sizeof *w);
    w->path = ls_xstrdup(path);
    w->flags = flags;
    if (strcmp(path, "-")) {
        size_t n = strlen(path);
        bool gz = n > 3 && !strcmp(path + n - 3, ".gz");
        /* "T": zlib writes plain bytes, one code path for both */
        w->gz = gzopen(path, gz ? "wb6" : "wbT");
        if (!w->gz) {
            ls_status st = ls_fail(e, LS_EIO, "%s: cannot create: %s", path, strerror(errno));
            free(w->path);
            free(w);
            return st;
        }
        gzbuffer(w->gz, 256 * 1024);
    }
    int k = snprintf(w->buf, WBUF, "arrival_s,prompt_tokens,output_tokens%s%s\n",
                     flags & LS_WRITE_SESSION ? ",session_id" : "", flags & LS_WRITE_HASH_IDS ? ",hash_ids" : "");
    w->len = (size_t)k;
    *out = w;
    return LS_OK;
}

/* Decimal digits of v (>= 0) at p, returns the count. */
static int put_u64(char *p, uint64_t v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (int i = 0; i < n; i++)
        p[i] = tmp[n - 1 - i];
    return n;
}

ls_status ls_trace_writer_write(ls_trace_writer *w, const ls_request *r, ls_error *e)
{
    if (w->len + 96 > WBUF) /* one row without hash ids fits in 96 bytes; ids flush as they go */
        LS_TRY(flush(w, e));
    char *p = w->buf + w->len;
    int64_t t = r->arrival_ns;
    if (t < 0) {
        *p++ = '-';
        t = -t;
    }
    p += put_u64(p, (uint64_t)(t / 1000000000));
    int64_t frac = t % 1000000000;
    if (frac) {
        char d[9];
        for (int i = 8; i >= 0; i--, frac /= 10)
            d[i] = (char)('0' + frac % 10);
        int last = 8;
        while (d[last] == '0')
            last--;
        *p++ = '.';
        memcpy(p, d, (size_t)last + 1);
        p += last + 1;
    }
    *p++ = ',';
    p += put_u64(p, (uint64_t)(r->prompt_tokens < 0 ? 0 : r->prompt_tokens));
    *p++ = ',';
    p += put_u64(p, (uint64_t)(r->output_tokens < 0 ? 0 : r->output_tokens));
    if (w->flags & LS_WRITE_SESSION) {
        *p++ = ',';
        if (r->session_id >= 0)
            p += put_u64(p, (uint64_t)r->session_id);
        else
            *p++ = '-', *p++ = '1';
    }
    w->len = (size_t)(p - w->buf);
    if (w->flags & LS_WRITE_HASH_IDS) {
        w->buf[w->len++] = ',';
        for (uint32_t i = 0; i < r->n_hash_ids; i++) {
            if (w->len + 24 > WBUF)
                LS_TRY(flush(w, e));
            if (i)
                w->buf[w->len++] = ' ';
            int64_t h = r->hash_ids[i];
            if (h < 0) {
                w->buf[w->len++] = '-';
                w->len += (size_t)put_u64(w->buf + w->len, (uint64_t)(-(h + 1)) + 1);
            } else {
                w->len += (size_t)put_u64(w->buf + w->len, (uint64_t)h);
            }
        }
    }
    if (w->len + 1 > WBUF)
        LS_TRY(flush(w, e));
    w->buf[w->len++] = '\n';
    return LS_OK;
}

ls_status ls_trace_writer_close(ls_trace_writer *w, ls_error *e)
{
    if (!w)
        return LS_OK;
    ls_status st = flush(w, e);
    if (w->gz) {
        int rc = gzclose(w->gz);
        if (st == LS_OK && rc != Z_OK)
            st = ls_fail(e, LS_EIO, "%s: close failed (disk full?)", w->path);
    } else if (fflush(stdout) != 0 && st == LS_OK) {
        st = ls_fail(e, LS_EIO, "stdout: write failed: %s", strerror(errno));
    }
    free(w->path);
    free(w);
    return st;
}

ls_status ls_trace_write_source(ls_source *s, const char *path, unsigned flags, uint64_t *rows, ls_error *e)
{
    ls_trace_writer *w;
    LS_TRY(ls_trace_writer_open(path, flags, &w, e));
    uint64_t n = 0;
    ls_status st = LS_OK;
    for (;;) {
        ls_request r;
        int rc = ls_source_next(s, &r, e);
        if (rc < 0) {
            st = e ? e->code : LS_EINVAL;
            break;
        }
        if (rc == 0)
            break;
        if ((st = ls_trace_writer_write(w, &r, e)) != LS_OK)
            break;
        n++;
    }
    ls_error ce;
    ls_status cst = ls_trace_writer_close(w, st == LS_OK ? e : &ce);
    if (st == LS_OK)
        st = cst;
    if (rows)
        *rows = n;
    return st;
}

/* ---- statistics ---------------------------------------------------------------------- */

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static int32_t nearest_rank(const int32_t *v, size_t n, double p)
{
    size_t k = (size_t)ceil(p / 100.0 * (double)n);
    if (k < 1)
        k = 1;
    if (k > n)
        k = n;
    return v[k - 1];
}

static void len_stats(int32_t *v, size_t n, double sum, ls_len_stats *o)
{
    memset(o, 0, sizeof *o);
    if (!n) {
        o->mean = NAN;
        return;
    }
    qsort(v, n, sizeof *v, cmp_i32);
    o->mean = sum / (double)n;
    o->min = v[0];
    o->max = v[n - 1];
    o->p50 = nearest_rank(v, n, 50);
    o->p90 = nearest_rank(v, n, 90);
    o->p99 = nearest_rank(v, n, 99);
}

ls_status ls_trace_stats_compute(ls_source *s, ls_trace_stats *o, ls_error *e)
{
    memset(o, 0, sizeof *o);
    size_t cap = 0, n = 0;
    int32_t *pv = NULL, *ov = NULL;
    double sp = 0, so = 0;
    /* Welford on the gaps: mean and variance without storing times */
    double gm = 0, g2 = 0, gmax = 0;
    uint64_t ng = 0;
    int64_t first = 0, prev = 0;
    for (;;) {
        ls_request r;
        int rc = ls_source_next(s, &r, e);
        if (rc < 0) {
            free(pv);
            free(ov);
            return e ? e->code : LS_EINVAL;
        }
        if (rc == 0)
            break;
        if (n == cap) {
            cap = cap ? cap * 2 : 65536;
            pv = ls_xrealloc(pv, cap * sizeof *pv);
            ov = ls_xrealloc(ov, cap * sizeof *ov);
        }
        pv[n] = r.prompt_tokens;
        ov[n] = r.output_tokens;
        sp += r.prompt_tokens;
        so += r.output_tokens;
        if (n == 0) {
            first = r.arrival_ns;
        } else {
            double g = (double)(r.arrival_ns - prev) / 1e9;
            ng++;
            double d = g - gm;
            gm += d / (double)ng;
            g2 += d * (g - gm);
            if (g > gmax)
                gmax = g;
        }
        prev = r.arrival_ns;
        n++;
    }
    ls_source_get_report(s, &o->report);
    o->rows = n;
    o->has_times = o->report.has_times;
    o->span_s = n ? (double)(prev - first) / 1e9 : 0;
    o->rate = (n > 1 && o->span_s > 0) ? (double)(n - 1) / o->span_s : NAN;
    o->ia_cv = (ng > 0 && gm > 0) ? sqrt(g2 / (double)ng) / gm : NAN;
    o->max_gap_s = gmax;
    if (!o->has_times) {
        o->span_s = o->rate = o->ia_cv = o->max_gap_s = NAN;
    }
    len_stats(pv, n, sp, &o->prompt);
    len_stats(ov, n, so, &o->output);
    free(pv);
    free(ov);
    return LS_OK;
}
