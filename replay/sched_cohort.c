/* sched_cohort.c -- a replica's cohorts of lazy decoders (sched_cohort.h): the
 * finishing order, the block-key buckets, joining, leaving and merging.
 *
 * A cohort's members share its clock. Each has two keys: the clock of its
 * finishing step (members finish in the order of that key, then admission:
 * the ring below) and the clock of the step for which it needs its next KV
 * block. Block keys advance by exactly block_size per allocation, so the
 * members crossing a boundary at clock k are those of bucket k mod block_size
 * whose key is k: no heap work per crossing (a heap here cost a quarter of
 * the run time). A member's key
 * is set within one block of the clock and moves by whole blocks, so when no
 * member joined a block or more ahead (far_until), every member of the
 * bucket crosses and the bucket's count is the number of blocks the step
 * takes; when they all get one, the bucket's `done` records it for all of
 * them at once (sched_cohort.h). */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "sched_cohort.h"

/* ---------------------------------------------------------------- finishing order */

/* Members finish in the order of (finish key, admission). A member whose key
 * is at most LS_FIN_SLOTS - 2 steps ahead of the clock when it joins is
 * "near": it waits in the ring's list of its key mod LS_FIN_SLOTS, kept in
 * admission order; the list of slot (clock - 1) then holds exactly the
 * members due at the clock (no other key in the window ≡ it). The others wait
 * in a heap ("far") and move to the ring when their key comes that near. */

static bool far_less(const ls_replica *r, int32_t a, int32_t b)
{
    const sreq *x = &r->req[a], *y = &r->req[b];
    if (x->key[HEAP_FIN] != y->key[HEAP_FIN])
        return x->key[HEAP_FIN] < y->key[HEAP_FIN];
    return x->adm_seq < y->adm_seq;
}
static void far_set(ls_replica *r, cohort *c, int64_t i, int32_t x)
{
    c->far[i] = x;
    r->req[x].pos[1] = (int32_t)i;
}
static void far_up(ls_replica *r, cohort *c, int64_t i)
{
    int32_t x = c->far[i];
    while (i > 0) {
        int64_t p = (i - 1) / 2;
        if (!far_less(r, x, c->far[p]))
            break;
        far_set(r, c, i, c->far[p]);
        i = p;
    }
    far_set(r, c, i, x);
}
static void far_down(ls_replica *r, cohort *c, int64_t i)
{
    int64_t n = c->nfar;
    int32_t x = c->far[i];
    for (;;) {
        int64_t l = 2 * i + 1;
        if (l >= n)
            break;
        int64_t m = l;
        if (l + 1 < n && far_less(r, c->far[l + 1], c->far[l]))
            m = l + 1;
        if (!far_less(r, c->far[m], x))
            break;
        far_set(r, c, i, c->far[m]);
        i = m;
    }
    far_set(r, c, i, x);
}
static void far_push(ls_replica *r, cohort *c, int32_t x)
{
    if (c->nfar == c->capfar) {
        c->capfar = c->capfar ? c->capfar * 2 : 16;
        c->far = ls_xrealloc(c->far, (size_t)c->capfar * sizeof *c->far);
    }
    far_set(r, c, c->nfar++, x);
    far_up(r, c, c->nfar - 1);
}
static void far_remove(ls_replica *r, cohort *c, int32_t x)
{
    int64_t i = r->req[x].pos[1], last = --c->nfar;
    r->req[x].pos[1] = -1;
    if (i != last) {
        far_set(r, c, i, c->far[last]);
        far_down(r, c, i);
        far_up(r, c, i);
    }
}

/* Near member xi joins its slot's list (circular, head first in admission order). */
static void ring_insert(ls_replica *r, cohort *c, int32_t xi)
{
    sreq *x = &r->req[xi];
    int32_t *h = &c->ring[x->key[HEAP_FIN] & (LS_FIN_SLOTS - 1)];
    x->pos[1] = -1;
    if (*h < 0) {
        x->fnext = x->fprev = xi;
        *h = xi;
        return;
    }
    int32_t a = r->req[*h].fprev;  /* from the tail back: members mostly join in admission order */
    while (a != *h && r->req[a].adm_seq > x->adm_seq)
        a = r->req[a].fprev;
    bool first = r->req[a].adm_seq > x->adm_seq;  /* (then a is the head) */
    if (first)
        a = r->req[a].fprev;
    int32_t b = r->req[a].fnext;
    x->fprev = a;
    x->fnext = b;
    r->req[a].fnext = xi;
    r->req[b].fprev = xi;
    if (first)
        *h = xi;
}
static void ring_remove(ls_replica *r, cohort *c, int32_t xi)
{
    sreq *x = &r->req[xi];
    int32_t *h = &c->ring[x->key[HEAP_FIN] & (LS_FIN_SLOTS - 1)];
    if (x->fnext == xi) {
        *h = -1;
        return;
    }
    r->req[x->fprev].fnext = x->fnext;
    r->req[x->fnext].fprev = x->fprev;
    if (*h == xi)
        *h = x->fnext;
}

static void fin_insert(ls_replica *r, cohort *c, int32_t xi)
{
    assert(r->req[xi].key[HEAP_FIN] >= c->clock);
    if (r->req[xi].key[HEAP_FIN] - c->clock <= LS_FIN_SLOTS - 2)
        ring_insert(r, c, xi);
    else
        far_push(r, c, xi);
}

void ls_cohort_far_in(ls_replica *r, cohort *c)
{
    while (c->nfar > 0 && r->req[c->far[0]].key[HEAP_FIN] - c->clock <= LS_FIN_SLOTS - 2) {
        int32_t xi = c->far[0];
        far_remove(r, c, xi);
        ring_insert(r, c, xi);
    }
}

/* ---------------------------------------------------------------- block buckets */

/* Member xi (its key settled) joins the bucket of its block key. */
static void bucket_insert(ls_replica *r, cohort *c, int32_t xi)
{
    sreq *x = &r->req[xi];
    int64_t bs = r->cfg.block_size;
    cbucket *b = &c->bk[bs_mod(r, x->key[HEAP_BLK])];
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
    cbucket *b = &c->bk[bs_mod(r, x->key[HEAP_BLK])];
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
    for (int32_t xi = c->bk[c->phase].head; xi >= 0; xi = r->req[xi].bnext) {
        const sreq *x = &r->req[xi];
        int64_t key = x->key[HEAP_BLK] + blk_steps(r, c, x) * bs;
        assert(key >= c->clock);
        n += key == c->clock;
    }
    return n;
}

/* ---------------------------------------------------------------- members */

/* Insert x (its keys settled) among the members, in finishing order and in its block
 * bucket; c->n counts members. */
static void cohort_insert(ls_replica *r, cohort *c, int32_t x)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 16;
        c->mem = ls_xrealloc(c->mem, (size_t)c->cap * sizeof *c->mem);
    }
    c->mem[c->n] = x;
    r->req[x].pos[0] = (int32_t)c->n;
    c->n++;
    fin_insert(r, c, x);
    bucket_insert(r, c, x);
}

void ls_cohort_remove(ls_replica *r, cohort *c, int32_t x)
{
    sreq *y = &r->req[x];
    blk_settle(r, c, y);
    if (y->pos[1] >= 0)
        far_remove(r, c, x);
    else
        ring_remove(r, c, x);
    bucket_remove(r, c, x);
    int32_t last = c->mem[--c->n];
    c->mem[y->pos[0]] = last;
    r->req[last].pos[0] = y->pos[0];
    c->sumk -= y->computed - y->c0;
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
        r->co[id].ring = ls_xmalloc(LS_FIN_SLOTS * sizeof *r->co[id].ring);
        for (int i = 0; i < LS_FIN_SLOTS; i++)
            r->co[id].ring[i] = -1;  /* and empty again whenever the cohort is */
    }
    cohort *c = &r->co[id];
    assert(c->n == 0 && c->nfar == 0);
    buckets_clear(r, c);
    c->clock = 0;
    c->phase = 0;
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
        int32_t xi = b->mem[i];
        sreq *x = &r->req[xi];
        blk_settle(r, b, x);  /* b's buckets are dropped wholesale below */
        if (x->pos[1] < 0)
            ring_remove(r, b, xi);  /* (the far heap too) */
        x->c0 += shift;
        x->key[0] += shift;
        x->key[1] += shift;
        x->cohort = into;
        a->sumk += x->computed - x->c0;
        cohort_insert(r, a, xi);
    }
    b->n = 0;
    b->nfar = 0;
    b->live = false;
    r->n_live--;
    buckets_clear(r, b);
}
