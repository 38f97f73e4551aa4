/* sched_internal.h -- the replica's data layout, shared by scheduler.c and
 * scheduler_debug.c (internal to replay/; see scheduler.c for the rules).
 *
 * Small helpers are `static inline` here so that the hot path of scheduler.c
 * compiles exactly as when they were file-local. */
#ifndef LS_SCHED_INTERNAL_H
#define LS_SCHED_INTERNAL_H

#include <assert.h>
#include <stdlib.h>

#include "kvcache.h"
#include "kvswap.h"
#include "scheduler.h"

enum { ST_FREE = 0, ST_WAIT_NEW, ST_WAIT_PRE, ST_RUN_EXP, ST_RUN_LAZY };
enum { HEAP_FIN = 0, HEAP_BLK = 1 };

typedef struct sreq {
    int64_t id;
    int64_t adm_seq;      /* admission order (re-admission gets a new one) */
    int64_t computed;     /* explicit: tokens in KV; lazy: at cohort entry */
    int64_t blocks;       /* KV blocks held */
    int64_t c0;           /* lazy: cohort clock at entry */
    int64_t key[2];       /* lazy: cohort clock of the finishing step / of the next block allocation */
    int32_t pos[1];       /* lazy: position in the cohort's finish heap */
    int32_t bnext, bprev; /* lazy: block-crossing bucket list of the cohort */
    int32_t prompt, target, requested;
    int32_t g;            /* explicit: generated tokens; lazy: at cohort entry */
    int32_t state;
    int32_t cohort;
    int32_t prev, next;   /* running list; `next` also links the free list */
    int32_t mb;           /* explicit: micro-batch slot in flight, -1 none */
    int32_t preemptions;
    int32_t prio;         /* priority (lower first; order priority, sched_order.c) */
    double arrival, deadline, first_sched, first_token, last_token;
} sreq;

typedef struct cohort {
    int64_t clock;        /* steps taken */
    int64_t n;
    int64_t sumk;         /* Σ (computed at entry - c0): Σ computed = sumk + n·clock */
    int32_t *heap[1];     /* finish heap */
    int64_t cap;
    int32_t *bucket;      /* block_size list heads: members whose next block key ≡ i (mod block_size) */
    double last_token;    /* when its members produced their last token */
    int mb;               /* in flight in this slot, -1 none */
    bool live;
} cohort;

typedef struct mbatch {
    bool busy;
    int cohort;           /* lazy decoders of the batch, -1 none */
    int32_t *ex;          /* explicit requests and their token counts */
    int64_t *exn;
    int64_t nex, capex;
    double *gt;           /* ITL groups: previous token time and count of the lazy members */
    int64_t *gn;
    int64_t ng, capg;
} mbatch;

typedef struct deque {
    int32_t *v;
    int64_t cap, head, n;
} deque;

struct ls_replica {
    ls_sched_config cfg;
    int pp, index;
    ls_replica_done_fn done;
    ls_replica_itl_fn itl;
    void *ctx;

    sreq *req;
    int32_t nreq, capreq, free_head;

    deque wait_pre, wait_new;  /* waiting order: wait_pre (front first), then wait_new */
    deque wait_kv;             /* before both: requests whose KV arrived (pools.c), FIFO */
    int64_t pick;              /* index in wait_new chosen by the order rule (sched_order.c) */
    bool pick_pre;             /* order priority: the pick is in wait_pre, not wait_new */
    struct ls_mbatch_info *forming; /* the micro-batch being formed (ls_replica_schedule), for take-backs */
    int64_t budget_back;       /* tokens a take-back returned to the budget being spent (form_v1) */
    int ms_left;               /* steps left in the multi-step window (step_options.h); 0: the next opens one */
    int32_t run_head, run_tail, exp_head;
    int64_t n_running;
    int64_t adm_counter;

    cohort *co;
    int nco, capco;
    mbatch *mb;
    int in_flight;

    int64_t used_blocks, total_blocks, wm_blocks, kv_max;
    int64_t reserved_blocks; /* in used_blocks but held by no request: KV in transit (pools.c) */
    double kv_area, kv_t;
    int64_t preemptions, recomputed;
    bool blocked;         /* this formation waits for an in-flight micro-batch (see alloc_or_preempt) */

    ls_kvcache *kv;       /* prefix caching (kvcache.c), NULL when off */
    ls_kvswap *swap;      /* preemption by swap (sched_swap.c), NULL: by recompute */

    int32_t *tmp;         /* crossers of one step */
    int64_t ntmp, captmp;
};

/* ---------------------------------------------------------------- deque */


static inline void dq_grow(deque *d)
{
    int64_t nc = d->cap ? d->cap * 2 : 64;
    int32_t *v = ls_xmalloc((size_t)nc * sizeof *v);
    for (int64_t i = 0; i < d->n; i++)
        v[i] = d->v[(d->head + i) % d->cap];
    free(d->v);
    d->v = v;
    d->cap = nc;
    d->head = 0;
}

static inline void dq_push_back(deque *d, int32_t x)
{
    if (d->n == d->cap)
        dq_grow(d);
    d->v[(d->head + d->n) % d->cap] = x;
    d->n++;
}

static inline void dq_push_front(deque *d, int32_t x)
{
    if (d->n == d->cap)
        dq_grow(d);
    d->head = (d->head + d->cap - 1) % d->cap;
    d->v[d->head] = x;
    d->n++;
}

static inline int32_t dq_front(const deque *d)
{
    assert(d->n > 0);
    return d->v[d->head];
}

static inline int32_t dq_pop_front(deque *d)
{
    int32_t x = dq_front(d);
    d->head = (d->head + 1) % d->cap;
    d->n--;
    return x;
}

/* Removes element i, keeping the others' order. */
static inline void dq_remove_at(deque *d, int64_t i)
{
    assert(i >= 0 && i < d->n);
    for (int64_t j = i; j > 0; j--)
        d->v[(d->head + j) % d->cap] = d->v[(d->head + j - 1) % d->cap];
    d->head = (d->head + 1) % d->cap;
    d->n--;
}

static inline int32_t dq_at(const deque *d, int64_t i)
{
    return d->v[(d->head + i) % d->cap];
}

/* ---------------------------------------------------------------- small helpers */

/* Current computed tokens / generated tokens of a running request. */
static inline int64_t cur_computed(const ls_replica *r, const sreq *x)
{
    if (x->state == ST_RUN_LAZY)
        return x->computed + (r->co[x->cohort].clock - x->c0);
    return x->computed;
}
static inline int32_t cur_g(const ls_replica *r, const sreq *x)
{
    if (x->state == ST_RUN_LAZY)
        return x->g + (int32_t)(r->co[x->cohort].clock - x->c0);
    return x->g;
}
static inline int64_t blocks_for(const ls_replica *r, int64_t tokens)
{
    return (tokens + r->cfg.block_size - 1) / r->cfg.block_size;
}

/* The time-integral of used blocks, brought up to `now`. */
static inline void kv_touch(ls_replica *r, double now)
{
    if (now > r->kv_t) {
        r->kv_area += (double)r->used_blocks * (now - r->kv_t);
        r->kv_t = now;
    }
}

/* A running request that generated its last token leaves (scheduler.c). */
void ls_replica_finish_request(ls_replica *r, int32_t xi, double now);

/* Whether a running request is in a micro-batch in flight. */
static inline bool in_flight(const ls_replica *r, const sreq *x)
{
    if (x->state == ST_RUN_LAZY)
        return r->co[x->cohort].mb >= 0;
    return x->mb >= 0;
}

/* qsort order of (key, value) int64 pairs by key. */
static inline int cmp_pair(const void *a, const void *b)
{
    const int64_t *x = a, *y = b;
    return (x[0] > y[0]) - (x[0] < y[0]);
}

#endif
