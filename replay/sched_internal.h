/* sched_internal.h -- the replica's data layout, shared by scheduler.c,
 * scheduler_debug.c, sched_decode.c and sched_cohort.c (internal to replay/; see
 * scheduler.c for the rules).
 *
 * Small helpers are `static inline` here so that the hot path of scheduler.c
 * compiles exactly as when they were file-local. */
#ifndef LS_SCHED_INTERNAL_H
#define LS_SCHED_INTERNAL_H

#include <assert.h>
#include <math.h>
#include <stdlib.h>

#include "kvcache.h"
#include "kvswap.h"
#include "scheduler.h"

enum { ST_FREE = 0, ST_WAIT_NEW, ST_WAIT_PRE, ST_RUN_EXP, ST_RUN_LAZY };
enum { HEAP_FIN = 0, HEAP_BLK = 1 };
#ifndef LS_FIN_SLOTS  /* (a power of two >= 4; tests build with a few to exercise the far heap) */
#define LS_FIN_SLOTS 1024  /* finish slots of a cohort (sched_cohort.c) */
#endif

typedef struct sreq {
    int64_t id;
    int64_t adm_seq;      /* admission order (re-admission gets a new one) */
    int64_t computed;     /* explicit: tokens in KV; lazy: at cohort entry */
    int64_t blocks;       /* KV blocks held */
    int64_t c0;           /* lazy: cohort clock at entry */
    int64_t key[2];       /* lazy: cohort clock of the finishing step / of the next block allocation
                           * (with `blocks`, as of the bucket's `done`: sched_cohort.h) */
    int32_t pos[2];       /* lazy: position in the cohort's members, in its far finish heap */
    int32_t fnext, fprev; /* lazy: its finish slot's ring (a near finish key: sched_cohort.c) */
    int32_t bnext, bprev; /* lazy: block-crossing bucket list of the cohort */
    int32_t prompt, target, requested;
    int32_t g;            /* explicit: generated tokens; lazy: at cohort entry */
    int32_t state;
    int32_t cohort;
    int32_t prev, next;   /* running list; `next` also links the free list */
    int32_t mb;           /* explicit: micro-batch slot in flight, -1 none */
    int32_t preemptions;
    int32_t prio;         /* priority (lower first; order priority, sched_order.c) */
    int32_t promise;      /* guaranteed_no_evict: blocks promised to it at admission (sched_capacity.h) */
    double arrival, deadline, first_sched, first_token, last_token;
} sreq;

/* The members of a cohort whose block key is ≡ i (mod block_size), for each i (sched_cohort.h). */
typedef struct cbucket {
    int32_t head;         /* their list (bnext, bprev) */
    int32_t n;            /* their number */
    int64_t done;         /* the last clock at which all its members due got a block at once, -1 none */
} cbucket;

typedef struct cohort {
    int64_t clock;        /* steps taken */
    int32_t phase;        /* clock mod block_size */
    int64_t n;
    int64_t sumk;         /* Σ (computed at entry - c0): Σ computed = sumk + n·clock */
    int32_t *mem;         /* the members, in no order (pos[0]) */
    int64_t cap;
    int32_t *ring;        /* LS_FIN_SLOTS lists of the members finishing soon, by finish key mod the slots */
    int32_t *far;         /* the others' finish heap (pos[1]) */
    int64_t nfar, capfar;
    cbucket *bk;          /* block_size buckets of block keys */
    int64_t far_until;    /* before this clock a member's block key may be block_size or more ahead */
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
    ls_replica_first_fn first; /* NULL: none */
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
    int n_live;                /* live cohorts */
    bool lone_steps;           /* pp 1 and no multi-step windows: ls_replica_decode_step's configurations */
    bool chunk_steps;          /* and sarathi, FCFS, a fixed budget, no prefix caching: its chunk steps' */
    bool deadlines;            /* a request with a client deadline came (else every deadline is infinite) */
    int bs_shift;              /* log2 block_size when it is a power of two, else -1 (bs_div, bs_mod) */
    mbatch *mb;
    int in_flight;

    int64_t used_blocks, total_blocks, wm_blocks, kv_max;
    int64_t promised;        /* guaranteed_no_evict: blocks promised to running requests */
    int64_t reserved_blocks; /* in used_blocks but held by no request: KV in transit (pools.c) */
    double kv_area, kv_t;
    int64_t preemptions, recomputed;
    bool blocked;         /* this formation waits for an in-flight micro-batch (see alloc_or_preempt) */

    ls_kvcache *kv;       /* prefix caching (kvcache.c), NULL when off */
    ls_kvswap *swap;      /* preemption by swap (sched_swap.c), NULL: by recompute */

    int32_t *tmp;         /* crossers of one step */
    int64_t ntmp, captmp;
    struct ls_sched_chunk { int64_t xi, n, need; } *chunks; /* v1_form's explicit chunks (sched_decode.c) */
    int64_t capchunks;
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

/* x / block_size and x mod block_size for x >= 0 (a shift and a mask when it is a power of two). */
static inline int64_t bs_div(const ls_replica *r, int64_t x)
{
    return r->bs_shift >= 0 ? x >> r->bs_shift : x / r->cfg.block_size;
}
static inline int64_t bs_mod(const ls_replica *r, int64_t x)
{
    return r->bs_shift >= 0 ? x & (r->cfg.block_size - 1) : x % r->cfg.block_size;
}

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
    assert(tokens >= 0);
    return bs_div(r, tokens + r->cfg.block_size - 1);
}

/* The time-integral of used blocks, brought up to `now`. */
static inline void kv_touch(ls_replica *r, double now)
{
    if (now > r->kv_t) {
        r->kv_area += (double)r->used_blocks * (now - r->kv_t);
        r->kv_t = now;
    }
}

/* ---------------------------------------------------------------- forming (scheduler.c and sched_decode.c) */

/* The first new waiting request's client deadline has passed (expire_waiting). */
static inline bool waiting_expires(const ls_replica *r, double now)
{
    return r->deadlines && r->wait_new.n > 0 && r->req[dq_front(&r->wait_new)].deadline <= now;
}

/* A zeroed batch, field by field (a compound literal becomes `rep stos`, slow to start). */
static inline void batch_zero(ls_mbatch_info *out)
{
    out->slot = 0;
    out->agg.tokens = out->agg.n_seqs = out->agg.n_decode = out->agg.n_sample = 0;
    out->agg.sum_qc = out->agg.sum_q2 = out->agg.sum_c = 0.0;
    out->n_prefill = out->prefill_tokens = 0;
    out->kv_load_blocks = out->kv_store_blocks = 0;
    out->swap_out_blocks = out->swap_in_blocks = 0;
    out->in_window = false;
}

/* k more blocks in use, if they are free. */
static inline bool kv_alloc(ls_replica *r, int64_t k)
{
    assert(k >= 0);
    if (r->used_blocks + k > r->total_blocks)
        return false;
    r->used_blocks += k;
    if (r->used_blocks > r->kv_max)
        r->kv_max = r->used_blocks;
    if (r->kv)
        ls_kvcache_take(r->kv, k);
    return true;
}

/* A request joins the running list at its end (the explicit part). */
static inline void run_append(ls_replica *r, int32_t xi)
{
    sreq *x = &r->req[xi];
    x->prev = r->run_tail;
    x->next = -1;
    if (r->run_tail >= 0)
        r->req[r->run_tail].next = xi;
    else
        r->run_head = xi;
    r->run_tail = xi;
    if (r->exp_head < 0)
        r->exp_head = xi;
    r->n_running++;
}

/* A waiting request starts running (a new admission order). */
static inline void admit(ls_replica *r, int32_t xi)
{
    sreq *x = &r->req[xi];
    x->state = ST_RUN_EXP;
    x->adm_seq = r->adm_counter++;
    x->mb = -1;
    run_append(r, xi);
}

/* A prefill chunk at most prefill_chunk_size long (when set). */
static inline int64_t threshold_cap(const ls_replica *r, int64_t n)
{
    if (r->cfg.enable_chunked_prefill && r->cfg.prefill_chunk_size > 0 && n > r->cfg.prefill_chunk_size)
        return r->cfg.prefill_chunk_size;
    return n;
}

/* Request xi joins the micro-batch being formed in slot `slot` with n tokens (aggregates in out). */
static inline __attribute__((always_inline)) void mb_add_explicit(ls_replica *r, mbatch *m, int slot, int32_t xi, int64_t n, ls_mbatch_info *out)
{
    sreq *x = &r->req[xi];
    if (m->nex == m->capex) {
        m->capex = m->capex ? m->capex * 2 : 16;
        m->ex = ls_xrealloc(m->ex, (size_t)m->capex * sizeof *m->ex);
        m->exn = ls_xrealloc(m->exn, (size_t)m->capex * sizeof *m->exn);
    }
    m->ex[m->nex] = xi;
    m->exn[m->nex] = n;
    m->nex++;
    x->mb = slot;
    ls_batch_agg *a = &out->agg;
    a->tokens += n;
    a->n_seqs++;
    bool decode = n == 1 && x->g >= 1 && x->computed == (int64_t)x->prompt + x->g - 1;
    if (decode) {
        a->n_decode++;
    } else {
        out->n_prefill++;
        out->prefill_tokens += n;
    }
    if (x->computed + n == (int64_t)x->prompt + x->g)
        a->n_sample++;
    a->sum_qc += (double)n * (double)x->computed;
    a->sum_q2 += (double)n * (double)n;
    a->sum_c += (double)x->computed;
    if (isnan(x->first_sched))
        x->first_sched = r->kv_t;
    if (r->kv)
        ls_kvcache_commit(r->kv, xi, x->computed + n);
}

/* lazy_collect's sums for the whole of cohort c (its members' computed tokens are
 * sumk + n * clock). */
static inline void agg_add_cohort(ls_batch_agg *a, const cohort *c)
{
    double sum_comp = (double)c->sumk + (double)c->n * (double)c->clock;
    a->tokens += c->n;
    a->n_seqs += c->n;
    a->n_decode += c->n;
    a->n_sample += c->n;
    a->sum_qc += sum_comp;
    a->sum_q2 += (double)c->n;
    a->sum_c += sum_comp;
}

/* Cohort c took a step. */
static inline void cohort_tick(const ls_replica *r, cohort *c)
{
    c->clock++;
    if (++c->phase == r->cfg.block_size)
        c->phase = 0;
}

/* Cohort c, live, has no member left: it is no longer live. */
static inline void cohort_retire(ls_replica *r, cohort *c)
{
    assert(c->live && c->n == 0);
    c->live = false;
    r->n_live--;
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
