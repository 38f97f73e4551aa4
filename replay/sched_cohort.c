/* sched_cohort.c -- a replica's cohorts of lazy decoders (sched_cohort.h): the finish
 * heap, the block-key buckets, joining, leaving and merging.
 *
 * A cohort's members share its clock. Each has two keys: the clock of its
 * finishing step (the finish heap, ordered by key then admission) and the
 * clock of the step for which it needs its next KV block. Block keys advance
 * by exactly block_size per allocation, so the members crossing a boundary at
 * clock k are those of bucket k mod block_size whose key is k: no heap work
 * per crossing (a heap here cost a quarter of the run time). A member's key
 * is set within one block of the clock and moves by whole blocks, so when no
 * member joined a block or more ahead (far_until), every member of the
 * bucket crosses and the bucket's count is the number of blocks the step
 * takes; when they all get one, the bucket's `done` records it for all of
 * them at once (sched_cohort.h). */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "sched_cohort.h"

/* ---------------------------------------------------------------- finish heap */

static bool heap_less(const ls_replica *r, int w, int32_t a, int32_t b)
{
    const sreq *x = &r->req[a], *y = &r->req[b];
    if (x->key[w] != y->key[w])
        return x->key[w] < y->key[w];
    return x->adm_seq < y->adm_seq;
}
static void heap_set(ls_replica *r, cohort *c, int w, int64_t i, int32_t x)
{
    c->heap[w][i] = x;
    r->req[x].pos[w] = (int32_t)i;
}
static void heap_up(ls_replica *r, cohort *c, int w, int64_t i)
{
    int32_t x = c->heap[w][i];
    while (i > 0) {
        int64_t p = (i - 1) / 2;
        if (!heap_less(r, w, x, c->heap[w][p]))
            break;
        heap_set(r, c, w, i, c->heap[w][p]);
        i = p;
    }
    heap_set(r, c, w, i, x);
}
static void heap_down(ls_replica *r, cohort *c, int w, int64_t i, int64_t n)
{
    int32_t x = c->heap[w][i];
    for (;;) {
        int64_t l = 2 * i + 1;
        if (l >= n)
            break;
        int64_t m = l;
        if (l + 1 < n && heap_less(r, w, c->heap[w][l + 1], c->heap[w][l]))
            m = l + 1;
        if (!heap_less(r, w, c->heap[w][m], x))
            break;
        heap_set(r, c, w, i, c->heap[w][m]);
        i = m;
    }
    heap_set(r, c, w, i, x);
}
static void heap_remove_at(ls_replica *r, cohort *c, int w, int64_t i, int64_t n_before)
{
    int64_t last = n_before - 1;
    if (i != last) {
        heap_set(r, c, w, i, c->heap[w][last]);
        heap_down(r, c, w, i, last);
        heap_up(r, c, w, i);
    }
}

/* ---------------------------------------------------------------- block buckets */

/* Member xi (its key settled) joins the bucket of its block key. */
static void bucket_insert(ls_replica *r, cohort *c, int32_t xi)
{
    sreq *x = &r->req[xi];
    int64_t bs = r->cfg.block_size;
    cbucket *b = &c->bk[x->key[HEAP_BLK] % bs];
    assert(x->key[HEAP_BLK] >= c->clock && x->key[HEAP_BLK] > b->done);
    x->bprev = -1;
    x->bnext = b->head;
    if (x->bnext >= 0)
        r->req[x->bnext].bprev = xi;
    b->head = xi;
    b->n++;
    if (x->key[HEAP_BLK] - c->clock >= bs && x->key[HEAP_BLK] - bs + 1 > c->far_until)
        c->far_until = x->key[HEAP_BLK] - bs + 1;  /* a block or more ahead until then */
}
static void bucket_remove(ls_replica *r, cohort *c, int32_t xi)
{
    sreq *x = &r->req[xi];
    cbucket *b = &c->bk[x->key[HEAP_BLK] % r->cfg.block_size];
    if (x->bprev >= 0)
        r->req[x->bprev].bnext = x->bnext;
    else
        b->head = x->bnext;
    if (x->bnext >= 0)
        r->req[x->bnext].bprev = x->bprev;
    x->bnext = x->bprev = -1;
    b->n--;
}

int64_t ls_cohort_crossers_walk(const ls_replica *r, const cohort *c)
{
    int64_t bs = r->cfg.block_size, n = 0;
    for (int32_t xi = c->bk[c->clock % bs].head; xi >= 0; xi = r->req[xi].bnext) {
        const sreq *x = &r->req[xi];
        int64_t key = x->key[HEAP_BLK] + blk_steps(r, c, x) * bs;
        assert(key >= c->clock);
        n += key == c->clock;
    }
    return n;
}

/* ---------------------------------------------------------------- members */

/* Insert x (its keys settled) into the finish heap and its block bucket; c->n counts members. */
static void cohort_insert(ls_replica *r, cohort *c, int32_t x)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 16;
        c->heap[0] = ls_xrealloc(c->heap[0], (size_t)c->cap * sizeof(int32_t));
    }
    int64_t i = c->n++;
    c->heap[0][i] = x;
    r->req[x].pos[0] = (int32_t)i;
    heap_up(r, c, 0, i);
    bucket_insert(r, c, x);
}

void ls_cohort_remove(ls_replica *r, cohort *c, int32_t x)
{
    int64_t n = c->n;
    blk_settle(r, c, &r->req[x]);
    heap_remove_at(r, c, HEAP_FIN, r->req[x].pos[HEAP_FIN], n);
    bucket_remove(r, c, x);
    c->n--;
    c->sumk -= r->req[x].computed - r->req[x].c0;
}

static void buckets_clear(const ls_replica *r, cohort *c)
{
    for (int i = 0; i < r->cfg.block_size; i++)
        c->bk[i] = (cbucket){.head = -1, .n = 0, .done = -1};
}

int ls_cohort_new(ls_replica *r, double last_token)
{
    int id = -1;
    for (int i = 0; i < r->nco; i++)
        if (!r->co[i].live) {
            id = i;
            break;
        }
    if (id < 0) {
        if (r->nco == r->capco) {
            r->capco = r->capco ? r->capco * 2 : 8;
            r->co = ls_xrealloc(r->co, (size_t)r->capco * sizeof *r->co);
        }
        id = r->nco++;
        memset(&r->co[id], 0, sizeof r->co[id]);
        r->co[id].bk = ls_xmalloc((size_t)r->cfg.block_size * sizeof *r->co[id].bk);
    }
    cohort *c = &r->co[id];
    buckets_clear(r, c);
    c->clock = 0;
    c->n = 0;
    c->sumk = 0;
    c->far_until = 0;
    c->last_token = last_token;
    c->mb = -1;
    c->live = true;
    r->n_live++;
    return id;
}

void ls_cohort_make_lazy(ls_replica *r, int ci, int32_t xi)
{
    sreq *x = &r->req[xi];
    cohort *c = &r->co[ci];
    assert(x->state == ST_RUN_EXP && x->g >= 1 && x->computed == x->prompt + x->g - 1);
    x->state = ST_RUN_LAZY;
    x->cohort = ci;
    x->c0 = c->clock;
    /* The step at clock s produces token g + (s - c0) + 1: the last one when s = c0 + target - 1 - g. */
    x->key[HEAP_FIN] = c->clock + (x->target - 1 - x->g);
    /* It needs a new block for the step at clock s when computed + (s - c0) + 1 > blocks·bs. */
    x->key[HEAP_BLK] = c->clock + x->blocks * r->cfg.block_size - x->computed;
    c->sumk += x->computed - x->c0;
    cohort_insert(r, c, xi);
}

/* (small into large) */
void ls_cohort_merge(ls_replica *r, int into, int from)
{
    cohort *a = &r->co[into], *b = &r->co[from];
    int64_t shift = a->clock - b->clock;
    for (int64_t i = 0; i < b->n; i++) {
        int32_t xi = b->heap[HEAP_FIN][i];
        sreq *x = &r->req[xi];
        blk_settle(r, b, x);  /* b's buckets are dropped wholesale below */
        x->c0 += shift;
        x->key[0] += shift;
        x->key[1] += shift;
        x->cohort = into;
        a->sumk += x->computed - x->c0;
        cohort_insert(r, a, xi);
    }
    b->n = 0;
    b->live = false;
    r->n_live--;
    buckets_clear(r, b);
}
