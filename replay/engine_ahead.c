/* engine_ahead.c -- DP run-ahead's reports in the event queue's order, and the
 * arrivals read ahead for a blind router (engine_ahead.h). */
#include "engine_ahead.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- the reports: one queue per replica (its reports come in key order), one
 * for the arrival instants and the end (also in order), and a winner tree over
 * their heads: a report costs two walks of log2(queues) matches. */

typedef struct rec {
    double t, start;  /* start: -1 in the arrival phase (before any step of that time), +inf at the end */
    int64_t depth;    /* steps formed when a step ended since the replica's last formed at an arrival */
    double pstart;    /* depth > 0: when the step that ended at `start` (whose end formed this one) was formed */
    uint64_t n;       /* the order they came in */
    int32_t replica;
    ls_req_done d;
} rec;

typedef struct queue {
    rec *v;
    size_t head, n, cap;  /* a ring */
} queue;

struct ls_ahead {
    int n_q, size;   /* queues (replicas + 1), leaves of the tree (a power of two) */
    queue *q;
    int *win;        /* win[1..size-1]: the queue with the smallest head below that node, -1: all empty */
    double *head_t;  /* per queue: its head's time, +inf when empty (the usual match decided without the head) */
    uint64_t count;
};

ls_ahead *ls_ahead_new(int n_replicas)
{
    ls_ahead *a = ls_xcalloc(1, sizeof(ls_ahead));
    a->n_q = n_replicas + 1;
    a->size = 2;  /* at least one node above the leaves */
    while (a->size < a->n_q)
        a->size *= 2;
    a->q = ls_xcalloc((size_t)a->n_q, sizeof *a->q);
    a->win = ls_xcalloc((size_t)a->size, sizeof *a->win);
    for (int i = 0; i < a->size; i++)
        a->win[i] = -1;
    a->head_t = ls_xcalloc((size_t)a->n_q, sizeof *a->head_t);
    for (int i = 0; i < a->n_q; i++)
        a->head_t[i] = INFINITY;
    return a;
}

void ls_ahead_free(ls_ahead *a)
{
    if (!a)
        return;
    for (int i = 0; i < a->n_q; i++)
        free(a->q[i].v);
    free(a->q);
    free(a->win);
    free(a->head_t);
    free(a);
}

/* The key of engine_ahead.h; a and b in queues qa and qb (the queue is the
 * replica for a step's reports). Keys are unique: the order they came in
 * breaks the last ties. */
static inline bool rec_less(const rec *a, int qa, const rec *b, int qb)
{
    if (a->t != b->t)
        return a->t < b->t;
    if (a->start != b->start)
        return a->start < b->start;
    if ((a->depth == 0) != (b->depth == 0))  /* formed at an arrival: before any formed when a step ended */
        return a->depth == 0;
    if (a->pstart != b->pstart)  /* formed when steps ended at the same instant: as those steps went */
        return a->pstart < b->pstart;
    if (a->depth != b->depth)  /* the chain that reaches a step formed at an arrival first */
        return a->depth < b->depth;
    if (qa != qb)  /* then by replica (only steps' reports have the same start in two queues) */
        return qa < qb;
    return a->n < b->n;
}

static inline const rec *head_of(const ls_ahead *a, int qi)
{
    const queue *q = &a->q[qi];
    return q->n ? &q->v[q->head] : NULL;
}

/* better's rare case: two heads of the same time */
static __attribute__((noinline)) int better_tie(const ls_ahead *a, int x, int y)
{
    const rec *hx = head_of(a, x), *hy = head_of(a, y);
    assert(hx && hy && hx->t == hy->t);
    return rec_less(hy, y, hx, x) ? y : x;
}

static inline __attribute__((always_inline)) int better(const ls_ahead *a, int x, int y)
{
    if (x < 0)
        return y;
    if (y < 0)
        return x;
    double tx = a->head_t[x], ty = a->head_t[y];  /* (x and y are not empty: -1 stands for an empty queue) */
    if (tx != ty)  /* the usual decision, without the heads */
        return ty < tx ? y : x;
    return better_tie(a, x, y);
}

/* Queue qi's head changed: the matches on its way to the root again. */
static void replay(ls_ahead *a, int qi)
{
    int node = (a->size + qi) / 2;
    int left = node * 2 - a->size, right = left + 1;  /* the queues below a bottom node */
    int w = better(a, a->q[left].n ? left : -1, right < a->n_q && a->q[right].n ? right : -1);
    a->win[node] = w;
    for (node /= 2; node >= 1; node /= 2) {
        a->win[node] = better(a, a->win[2 * node], a->win[2 * node + 1]);
    }
}

void ls_ahead_push(ls_ahead *a, double t, int phase, double start, double pstart, int64_t depth, int replica,
                   const ls_req_done *d)
{
    bool step = phase == LS_AHEAD_STEP;
    int qi = step ? replica : a->n_q - 1;
    assert(qi >= 0 && qi < a->n_q);
    queue *q = &a->q[qi];
    if (q->n == q->cap) {
        size_t nc = q->cap ? 2 * q->cap : 16;
        rec *v = ls_xmalloc(nc * sizeof *v);
        for (size_t i = 0; i < q->n; i++)
            v[i] = q->v[(q->head + i) & (q->cap - 1)];
        free(q->v);
        q->v = v;
        q->head = 0;
        q->cap = nc;
    }
    rec *r = &q->v[(q->head + q->n) & (q->cap - 1)];  /* cap: a power of two */
    r->t = t;
    r->start = step ? start : phase == LS_AHEAD_ARRIVAL ? -1.0 : INFINITY;
    r->depth = step ? depth : 0;
    r->pstart = step && depth > 0 ? pstart : -1.0;
    r->n = a->count++;
    r->replica = replica;
    r->d = *d;
    assert(q->n == 0 || rec_less(&q->v[(q->head + q->n - 1) & (q->cap - 1)], qi, r, qi));  /* in key order */
    assert(isfinite(t));
    if (q->n++ == 0) {
        a->head_t[qi] = t;
        replay(a, qi);
    }
}

void ls_ahead_flush(ls_ahead *a, double before, ls_ahead_emit_fn emit, void *ctx)
{
    if (!a)
        return;
    for (;;) {
        int w = a->win[1];
        if (w < 0)
            return;
        queue *q = &a->q[w];
        rec *r = &q->v[q->head];
        if (!(r->t < before))
            return;
        q->head = (q->head + 1) & (q->cap - 1);
        q->n--;
        a->head_t[w] = q->n ? q->v[q->head].t : INFINITY;
        emit(ctx, r->replica, &r->d);  /* r stays valid: emit does not push */
        replay(a, w);
    }
}

/* ---- arrivals read ahead */

typedef struct entry {
    ls_request r;
    int replica;
    int next_same;  /* the ring index of the next request routed to the same replica (-1: none read yet) */
    int64_t *hash;  /* the request's hash ids, copied (the source's are valid until its next call) */
    uint32_t hash_cap;
} entry;

struct ls_ahead_feed {
    ls_source *src;
    ls_ahead_route_fn route;
    void *ctx;
    double limit_s, stop_s;
    int n_rep;
    entry *ring;
    int depth, head, count;  /* ring[head] is the request last returned (when `returned`) */
    bool returned, eof;
    int status;              /* -1 after a source error (e holds it) */
    double last_t;           /* the last request read */
    double *next_t;          /* per replica: the first request not yet arrived routed to it (NAN: none read) */
    int *last_of;            /* per replica: the ring index of the last request read routed to it (-1: none) */
};

ls_ahead_feed *ls_ahead_feed_new(ls_source *src, int n_replicas, int depth, double limit_s, double stop_s,
                                 ls_ahead_route_fn route, void *ctx)
{
    ls_ahead_feed *f = ls_xcalloc(1, sizeof *f);
    f->src = src;
    f->route = route;
    f->ctx = ctx;
    f->limit_s = limit_s;
    f->stop_s = stop_s;
    f->n_rep = n_replicas;
    f->depth = depth > 1 ? depth : 1;
    f->ring = ls_xcalloc((size_t)f->depth, sizeof *f->ring);
    f->next_t = ls_xcalloc((size_t)n_replicas, sizeof *f->next_t);
    f->last_of = ls_xcalloc((size_t)n_replicas, sizeof *f->last_of);
    for (int i = 0; i < n_replicas; i++) {
        f->next_t[i] = NAN;
        f->last_of[i] = -1;
    }
    f->last_t = -INFINITY;
    return f;
}

void ls_ahead_feed_free(ls_ahead_feed *f)
{
    if (!f)
        return;
    for (int i = 0; i < f->depth; i++)
        free(f->ring[i].hash);
    free(f->ring);
    free(f->next_t);
    free(f->last_of);
    free(f);
}

/* Read one more request into the ring's tail: 1, 0 at the end (or past the limit), -1 on error. */
static int read_one(ls_ahead_feed *f, ls_error *e)
{
    int at = f->head + f->count;
    if (at >= f->depth)
        at -= f->depth;
    entry *x = &f->ring[at];  /* a free slot */
    ls_request *r = &x->r;
    int got = ls_source_next(f->src, r, e);
    if (got <= 0)
        return got;
    double t = (double)r->arrival_ns * 1e-9;
    if (t > f->limit_s)
        return 0;  /* arrivals stop at the workload's duration: never routed */
    if (r->n_hash_ids) {
        if (r->n_hash_ids > x->hash_cap) {
            x->hash_cap = r->n_hash_ids;
            x->hash = ls_xrealloc(x->hash, (size_t)x->hash_cap * sizeof *x->hash);
        }
        memcpy(x->hash, r->hash_ids, (size_t)r->n_hash_ids * sizeof *x->hash);
        r->hash_ids = x->hash;
    }
    int j = f->route(f->ctx, r);
    x->replica = j;
    x->next_same = -1;
    f->last_t = t;
    if (f->last_of[j] >= 0)
        f->ring[f->last_of[j]].next_same = at;
    else
        f->next_t[j] = f->last_t;
    f->last_of[j] = at;
    f->count++;
    if (t > f->stop_s)
        f->eof = true;  /* past the horizon: the engine reads no further */
    return 1;
}

int ls_ahead_feed_next(ls_ahead_feed *f, ls_request *out, int *replica, ls_error *e)
{
    if (f->status < 0)
        return -1;
    if (f->returned) {  /* it has arrived: its replica's next one is further in the ring */
        const entry *x = &f->ring[f->head];
        int j = x->replica;
        if (x->next_same >= 0) {
            f->next_t[j] = (double)f->ring[x->next_same].r.arrival_ns * 1e-9;
        } else {
            f->next_t[j] = NAN;
            f->last_of[j] = -1;
        }
        if (++f->head == f->depth)
            f->head = 0;
        f->count--;
        f->returned = false;
    }
    while (!f->eof && f->count < f->depth) {
        int got = read_one(f, e);
        if (got < 0) {
            f->status = -1;
            return -1;
        }
        if (got == 0)
            f->eof = true;
    }
    if (f->count == 0)
        return 0;
    f->returned = true;
    *out = f->ring[f->head].r;
    *replica = f->ring[f->head].replica;
    return 1;
}

double ls_ahead_feed_limit(const ls_ahead_feed *f, int replica)
{
    double t = f->next_t[replica];
    if (!isnan(t))
        return t;
    return f->eof ? INFINITY : f->last_t;  /* an unread request arrives at or after the last one read */
}
