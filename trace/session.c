/* session.c -- multi-turn sessions: each incoming request opens a session of
 * `turns` turns; turn k+1 arrives an exponential think time (mean think_s)
 * after turn k and its prompt is the whole history (every earlier prompt and
 * answer) plus new user tokens, so that prefix caching can reuse it.
 *
 * Block identity (trace.h: one hash id per 512 prompt tokens): a session's
 * text only grows, so a prompt block that is full lies in the history and
 * keeps its id in every later turn; the last, partial block of a prompt gets
 * a fresh id (the next turn's block there holds more text). Ids are unique
 * across sessions.
 *
 * Timing is open loop: the generator does not know when an answer ends, so
 * the think time counts from the previous turn's arrival (choose think_s
 * above the expected end-to-end latency). Turns of all live sessions come out
 * in arrival order (ties: the earlier session first; a new session before a
 * turn at the same instant). Follow-up turns draw their new tokens and their
 * output from the workload's distributions, stream "sessions" of the seed. */
#include <math.h>
#include <stdlib.h>

#include "rng.h"
#include "source_impl.h"
#include "transform.h"

typedef struct sess {
    int64_t id;         /* session id: its first turn's index among the sessions */
    int32_t turn;       /* turns emitted */
    int64_t next_ns;    /* arrival of its next turn */
    int64_t ctx;        /* history after its last turn: prompt + answer tokens */
    int32_t add, out;   /* the next turn's new tokens and output */
    int64_t *ids;       /* ids of the history's full blocks, in order */
    uint32_t nids, capids;
} sess;

typedef struct sessions {
    ls_source base;
    ls_source *in;
    int64_t turns;
    double think_s;
    ls_dist prompt, output;
    bool pairs;
    ls_rng rng;
    sess **heap;        /* min-heap by (next_ns, id) */
    size_t n, cap;
    ls_request peek;
    bool have_peek, in_done;
    int64_t next_session, next_id;
    int64_t *ids;       /* the emitted request's hash ids */
    uint32_t capout;
} sessions;

static bool before(const sess *a, const sess *b)
{
    return a->next_ns != b->next_ns ? a->next_ns < b->next_ns : a->id < b->id;
}

static void heap_push(sessions *x, sess *s)
{
    if (x->n == x->cap) {
        x->cap = x->cap ? 2 * x->cap : 64;
        x->heap = ls_xrealloc(x->heap, x->cap * sizeof *x->heap);
    }
    size_t i = x->n++;
    while (i > 0 && before(s, x->heap[(i - 1) / 2])) {
        x->heap[i] = x->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    x->heap[i] = s;
}

static sess *heap_pop(sessions *x)
{
    sess *top = x->heap[0], *last = x->heap[--x->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= x->n)
            break;
        if (c + 1 < x->n && before(x->heap[c + 1], x->heap[c]))
            c++;
        if (!before(x->heap[c], last))
            break;
        x->heap[i] = x->heap[c];
        i = c;
    }
    if (x->n)
        x->heap[i] = last;
    return top;
}

/* The new tokens and output of a follow-up turn (>= 1 new token, as a user types something). */
static void draw_turn(sessions *x, sess *s)
{
    int32_t p, o;
    if (x->pairs) {
        ls_dist_sample_pair(&x->prompt, &x->rng, &p, &o);
    } else {
        p = ls_dist_sample(&x->prompt, &x->rng);
        o = ls_dist_sample(&x->output, &x->rng);
    }
    s->add = p < 1 ? 1 : p;
    s->out = o < 1 ? 1 : o;
}

static int sessions_next(ls_source *src, ls_request *out, ls_error *e)
{
    sessions *x = (sessions *)src;
    for (;;) {
        if (!x->have_peek && !x->in_done) {
            int rc = ls_source_next(x->in, &x->peek, e);
            if (rc < 0)
                return rc;
            x->have_peek = rc > 0;
            x->in_done = rc == 0;
        }
        if (x->have_peek && (x->n == 0 || x->peek.arrival_ns <= x->heap[0]->next_ns)) {
            sess *s = ls_xcalloc(1, sizeof *s);  /* a new session: its first turn is the request itself */
            s->id = x->next_session++;
            s->next_ns = x->peek.arrival_ns;
            s->add = x->peek.prompt_tokens;
            s->out = x->peek.output_tokens;
            x->have_peek = false;
            heap_push(x, s);
            continue;
        }
        if (x->n == 0)
            return 0;
        break;
    }
    sess *s = heap_pop(x);
    int64_t p = s->ctx + s->add;
    if (p > INT32_MAX)
        p = INT32_MAX;
    uint32_t nb = (uint32_t)((p + LS_MOONCAKE_BLOCK_TOKENS - 1) / LS_MOONCAKE_BLOCK_TOKENS);
    uint32_t full = (uint32_t)(p / LS_MOONCAKE_BLOCK_TOKENS);
    if (full > s->capids) {
        s->capids = full * 2;
        s->ids = ls_xrealloc(s->ids, (size_t)s->capids * sizeof *s->ids);
    }
    for (; s->nids < full; s->nids++)  /* blocks of the history full for the first time */
        s->ids[s->nids] = x->next_id++;
    if (nb > x->capout) {
        x->capout = nb * 2;
        x->ids = ls_xrealloc(x->ids, (size_t)x->capout * sizeof *x->ids);
    }
    for (uint32_t i = 0; i < full; i++)
        x->ids[i] = s->ids[i];
    if (nb > full)
        x->ids[full] = x->next_id++;  /* the partial last block: this text only */
    *out = (ls_request){.arrival_ns = s->next_ns, .prompt_tokens = (int32_t)p, .output_tokens = s->out,
                        .session_id = s->id, .n_hash_ids = nb, .hash_ids = x->ids, .line = 0, .class_id = -1};
    s->ctx = p + s->out;
    s->turn++;
    if (s->turn < x->turns) {
        double gap = -log(ls_rng_uniform_pos(&x->rng)) * x->think_s;
        s->next_ns += llround(gap * 1e9);
        draw_turn(x, s);
        heap_push(x, s);
    } else {
        free(s->ids);
        free(s);
    }
    return 1;
}

static void sessions_free(ls_source *src)
{
    sessions *x = (sessions *)src;
    ls_source_free(x->in);
    for (size_t i = 0; i < x->n; i++) {
        free(x->heap[i]->ids);
        free(x->heap[i]);
    }
    free(x->heap);
    free(x->ids);
    ls_dist_free(&x->prompt);
    ls_dist_free(&x->output);
    free(x);
}

static void sessions_report(const ls_source *src, ls_source_report *r)
{
    const sessions *x = (const sessions *)src;
    if (x->in && x->in->vt->report)
        x->in->vt->report(x->in, r);
}

static const ls_source_vt sessions_vt = {sessions_next, sessions_free, sessions_report};

ls_source *ls_transform_sessions(ls_source *in, int64_t turns, double think_s, const ls_dist *prompt,
                                 const ls_dist *output, bool pairs, uint64_t seed)
{
    sessions *x = ls_xcalloc(1, sizeof *x);
    x->base.vt = &sessions_vt;
    x->in = in;
    x->turns = turns;
    x->think_s = think_s;
    ls_dist_copy(&x->prompt, prompt);
    if (!pairs)
        ls_dist_copy(&x->output, output);
    x->pairs = pairs;
    ls_rng_stream(&x->rng, seed, "sessions");
    return &x->base;
}
