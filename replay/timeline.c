/* timeline.c -- iterations as Chrome/Perfetto trace events ("ph": "X").
 *
 * One process per replica, one thread per pipeline stage; each event is a
 * micro-batch on a stage with its composition in args. Times in µs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

struct ls_timeline {
    FILE *f;
    char *path;
    bool first;
};

ls_status ls_timeline_open(const char *path, ls_timeline **out, ls_error *e)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return ls_fail(e, LS_EIO, "%s: cannot write the timeline: %s", path, strerror(errno));
    ls_timeline *t = ls_xcalloc(1, sizeof *t);
    t->f = f;
    t->path = ls_xstrdup(path);
    t->first = true;
    fputs("{\"displayTimeUnit\": \"ms\", \"traceEvents\": [\n", f);
    *out = t;
    return LS_OK;
}

void ls_timeline_add(ls_timeline *t, int replica, int stage, double start_s, double end_s,
                     const ls_mbatch_info *b)
{
    fprintf(t->f,
            "%s{\"name\": \"batch %lld seqs %lld tok\", \"cat\": \"iteration\", \"ph\": \"X\", "
            "\"ts\": %.3f, \"dur\": %.3f, \"pid\": %d, \"tid\": %d, \"args\": {\"n_seqs\": %lld, "
            "\"tokens\": %lld, \"n_decode\": %lld, \"n_prefill\": %lld, \"prefill_tokens\": %lld}}",
            t->first ? "" : ",\n", (long long)b->agg.n_seqs, (long long)b->agg.tokens, start_s * 1e6,
            (end_s - start_s) * 1e6, replica, stage, (long long)b->agg.n_seqs, (long long)b->agg.tokens,
            (long long)b->agg.n_decode, (long long)b->n_prefill, (long long)b->prefill_tokens);
    t->first = false;
}

ls_status ls_timeline_close(ls_timeline *t, ls_error *e)
{
    if (!t)
        return LS_OK;
    fputs("\n]}\n", t->f);
    int bad = ferror(t->f);
    if (fclose(t->f) != 0)
        bad = 1;
    ls_status rc = bad ? ls_fail(e, LS_EIO, "%s: error writing the timeline", t->path) : LS_OK;
    free(t->path);
    free(t);
    return rc;
}
