/* trace_memo.c -- trace files this process has read to their end, replayed from memory (trace_memo.h). */
#include "trace_memo.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "source_impl.h"

/* Entries live as long as the process (a replay points into one), so the memo is small
 * and bounded: a few files, 262,144 requests in all (~19 MB with the counts below).
 * A larger file streams as before, unrecorded past the bound. */
#define MEMO_ENTRIES 4
#define MEMO_MAX_REQUESTS ((size_t)1 << 18)
#define MEMO_MAX_HASH_IDS ((size_t)1 << 20)
/* ... and only files up to this size: a larger one is a long trace, read once per run
 * (a run's one read would only pay for the copy, ~19 MB more resident at the bound). */
#define MEMO_MAX_FILE_BYTES ((off_t)8 << 20)

/* What the reader's report counts, after a given number of its requests. */
typedef struct counts {
    uint64_t rows, failed, clamped;
} counts;

typedef struct memo_entry {
    char *key;
    ls_request_array arr;
    counts *at;           /* at[k]: after the reader returned k requests (k = 0..n) */
    counts end;           /* once it returned the end of the stream */
    ls_source_report rep; /* the reader's report at the end: its format and flags */
} memo_entry;

static memo_entry memo[MEMO_ENTRIES];
static size_t memo_used, memo_requests, memo_hash_ids;

/* path, options and file identity (NULL: the file cannot be stat'ed or is too large). Caller frees. */
static char *memo_key(const char *path, const ls_trace_opts *o)
{
    struct stat st;
    if (stat(path, &st) || st.st_size > MEMO_MAX_FILE_BYTES)
        return NULL;
    size_t n = strlen(path) + 192;
    char *k = ls_xmalloc(n);
    snprintf(k, n, "%s|%d:%d:%d:%lld:%d|%llu:%llu:%lld:%lld.%09ld", path, (int)o->format, (int)o->burstgpt_keep_failed,
             (int)o->sort, (long long)o->backwards_tolerance_ns, (int)o->mooncake_any_hash_count,
             (unsigned long long)st.st_dev, (unsigned long long)st.st_ino, (long long)st.st_size,
             (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    return k;
}

static counts counts_of(const ls_source *s)
{
    ls_source_report r;
    ls_source_get_report(s, &r);
    return (counts){r.rows_read, r.failed_seen, r.clamped_backwards};
}

/* ---- replay: an entry as a source ----------------------------------------------- */

typedef struct replay {
    ls_source base;
    const memo_entry *m;
    size_t i;
    bool ended;
} replay;

static int replay_next(ls_source *s, ls_request *out, ls_error *e)
{
    (void)e;
    replay *p = (replay *)s;
    if (p->i >= p->m->arr.n) {
        p->ended = true;
        return 0;
    }
    *out = p->m->arr.v[p->i++];
    return 1;
}

static void replay_free(ls_source *s) { free(s); }

/* What the reader reported at the same point of the stream. */
static void replay_report(const ls_source *s, ls_source_report *r)
{
    const replay *p = (const replay *)s;
    const ls_source_report *e = &p->m->rep;
    const counts *c = p->ended ? &p->m->end : &p->m->at[p->i];
    memcpy(r->format, e->format, sizeof r->format);
    r->has_times = e->has_times;
    r->rows_read += c->rows;
    r->failed_seen += c->failed;
    r->failed_kept = e->failed_kept;
    r->clamped_backwards += c->clamped;
    r->sorted = r->sorted || e->sorted;
}

static const ls_source_vt replay_vt = {replay_next, replay_free, replay_report};

/* ---- record: the reader, copied as it is read --------------------------------------- */

typedef struct recorder {
    ls_source base;
    ls_source *in;
    char *key;     /* NULL once recording stopped */
    ls_request_array arr;
    counts *at;
    size_t cap_at;
} recorder;

static void record_stop(recorder *r)
{
    free(r->key);
    r->key = NULL;
    ls_request_array_free(&r->arr);
    free(r->at);
    r->at = NULL;
}

static void push_at(recorder *r)
{
    if (r->arr.n + 1 > r->cap_at) {
        r->cap_at = r->cap_at ? 2 * r->cap_at : 1024;
        r->at = ls_xrealloc(r->at, r->cap_at * sizeof *r->at);
    }
    r->at[r->arr.n] = counts_of(r->in);
}

static bool append(recorder *r, const ls_request *q)
{
    const ls_request_array *a = &r->arr;
    if (memo_requests + a->n + 1 > MEMO_MAX_REQUESTS || memo_hash_ids + a->n_hash + q->n_hash_ids > MEMO_MAX_HASH_IDS)
        return false;
    ls_request_array_push(&r->arr, q);
    return true;
}

/* The stream ended cleanly: keep it, if there is room. */
static void record_keep(recorder *r)
{
    if (memo_used == MEMO_ENTRIES || memo_requests + r->arr.n > MEMO_MAX_REQUESTS ||
        memo_hash_ids + r->arr.n_hash > MEMO_MAX_HASH_IDS) { /* another recording filled it meanwhile */
        record_stop(r);
        return;
    }
    memo_entry *m = &memo[memo_used++];
    m->key = r->key;
    m->arr = r->arr;
    ls_request_array_seal(&m->arr);
    m->at = r->at;
    m->end = counts_of(r->in);
    ls_source_get_report(r->in, &m->rep);
    memo_requests += m->arr.n;
    memo_hash_ids += m->arr.n_hash;
    r->key = NULL; /* the entry owns them now */
    memset(&r->arr, 0, sizeof r->arr);
    r->at = NULL;
}

static int record_next(ls_source *s, ls_request *out, ls_error *e)
{
    recorder *r = (recorder *)s;
    int rc = ls_source_next(r->in, out, e);
    if (!r->key)
        return rc;
    if (rc < 0)
        record_stop(r); /* a bad row: never replayed, the next open reads the file and fails again */
    else if (rc == 0)
        record_keep(r);
    else if (!append(r, out))
        record_stop(r);
    else
        push_at(r);
    return rc;
}

static void record_free(ls_source *s)
{
    recorder *r = (recorder *)s;
    record_stop(r); /* not read to its end: nothing kept */
    ls_source_free(r->in);
    free(r);
}

static void record_report(const ls_source *s, ls_source_report *rep)
{
    const recorder *r = (const recorder *)s;
    if (r->in->vt->report)
        r->in->vt->report(r->in, rep);
}

static const ls_source_vt record_vt = {record_next, record_free, record_report};

ls_status ls_trace_memo_open(const char *path, const ls_trace_opts *opts, ls_source **out, ls_error *e)
{
    *out = NULL;
    ls_trace_opts d;
    if (!opts) {
        ls_trace_opts_default(&d);
        opts = &d;
    }
    char *key = memo_key(path, opts);
    for (size_t i = 0; key && i < memo_used; i++)
        if (!strcmp(memo[i].key, key)) {
            free(key);
            replay *p = ls_xcalloc(1, sizeof *p);
            p->base.vt = &replay_vt;
            p->m = &memo[i];
            *out = &p->base;
            return LS_OK;
        }
    ls_source *in = NULL;
    ls_status rc = ls_trace_open(path, opts, &in, e);
    if (rc != LS_OK || !key || memo_used == MEMO_ENTRIES) {
        free(key);
        *out = in;
        return rc;
    }
    recorder *r = ls_xcalloc(1, sizeof *r);
    r->base.vt = &record_vt;
    r->in = in;
    r->key = key;
    push_at(r);
    *out = &r->base;
    return LS_OK;
}
