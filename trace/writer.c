/* writer.c -- native trace writer (plain or gzip) and trace statistics. */
#include <assert.h>
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
    int k = snprintf(w->buf, WBUF, "arrival_s,prompt_tokens,output_tokens%s%s%s\n",
                     flags & LS_WRITE_SESSION ? ",session_id" : "", flags & LS_WRITE_CLASS ? ",class" : "",
                     flags & LS_WRITE_HASH_IDS ? ",hash_ids" : "");
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
    if (w->flags & LS_WRITE_CLASS) {
        *p++ = ',';
        if (r->class_id >= 0)  /* empty: none given */
            p += put_u64(p, (uint64_t)r->class_id);
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

/* Exact counts of each length below LEN_DENSE (grown to the largest value seen, so a trace of 32 k-token
 * prompts holds 256 KB), and the rare longer ones in a spill array sorted at the end: exact nearest-rank
 * percentiles in memory that does not grow with rows (stats on 5 M rows used 68 MB when it kept them all). */
#define LEN_DENSE (1 << 20)

typedef struct len_hist {
    uint64_t *cnt;
    size_t ncnt;
    int32_t *spill;
    size_t nspill, cap_spill;
    uint64_t n;
    double sum;
    int32_t min, max;
} len_hist;

static void hist_add(len_hist *h, int32_t v)
{
    assert(v >= 0);
    if (v < LEN_DENSE) {
        if ((size_t)v >= h->ncnt) {
            size_t m = h->ncnt ? h->ncnt : 1024;
            while (m <= (size_t)v)
                m *= 2;
            h->cnt = ls_xrealloc(h->cnt, m * sizeof *h->cnt);
            memset(h->cnt + h->ncnt, 0, (m - h->ncnt) * sizeof *h->cnt);
            h->ncnt = m;
        }
        h->cnt[v]++;
    } else {
        if (h->nspill == h->cap_spill) {
            h->cap_spill = h->cap_spill ? h->cap_spill * 2 : 64;
            h->spill = ls_xrealloc(h->spill, h->cap_spill * sizeof *h->spill);
        }
        h->spill[h->nspill++] = v;
    }
    if (!h->n || v < h->min)
        h->min = v;
    if (!h->n || v > h->max)
        h->max = v;
    h->sum += v;
    h->n++;
}

/* The k-th smallest value, 1 <= k <= n (spill sorted). */
static int32_t hist_kth(const len_hist *h, uint64_t k)
{
    assert(k >= 1 && k <= h->n);
    uint64_t acc = 0;
    for (size_t i = 0; i < h->ncnt; i++) {
        acc += h->cnt[i];
        if (acc >= k)
            return (int32_t)i;
    }
    assert(k - acc - 1 < h->nspill);
    return h->spill[k - acc - 1];
}

static int32_t nearest_rank(const len_hist *h, double p)
{
    uint64_t k = (uint64_t)ceil(p / 100.0 * (double)h->n);
    if (k < 1)
        k = 1;
    if (k > h->n)
        k = h->n;
    return hist_kth(h, k);
}

static void len_stats(len_hist *h, ls_len_stats *o)
{
    memset(o, 0, sizeof *o);
    if (!h->n) {
        o->mean = NAN;
        return;
    }
    if (h->nspill > 1)
        qsort(h->spill, h->nspill, sizeof *h->spill, cmp_i32);
    o->mean = h->sum / (double)h->n;
    o->min = h->min;
    o->max = h->max;
    o->p50 = nearest_rank(h, 50);
    o->p90 = nearest_rank(h, 90);
    o->p99 = nearest_rank(h, 99);
}

static void hist_free(len_hist *h)
{
    free(h->cnt);
    free(h->spill);
}

ls_status ls_trace_stats_compute(ls_source *s, ls_trace_stats *o, ls_error *e)
{
    memset(o, 0, sizeof *o);
    uint64_t n = 0;
    len_hist hp = {0}, ho = {0};
    /* Welford on the gaps: mean and variance without storing times */
    double gm = 0, g2 = 0, gmax = 0;
    uint64_t ng = 0;
    int64_t first = 0, prev = 0;
    for (;;) {
        ls_request r;
        int rc = ls_source_next(s, &r, e);
        if (rc < 0) {
            hist_free(&hp);
            hist_free(&ho);
            return e ? e->code : LS_EINVAL;
        }
        if (rc == 0)
            break;
        hist_add(&hp, r.prompt_tokens);
        hist_add(&ho, r.output_tokens);
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
    len_stats(&hp, &o->prompt);
    len_stats(&ho, &o->output);
    hist_free(&hp);
    hist_free(&ho);
    return LS_OK;
}
