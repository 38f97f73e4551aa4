/* sched_cohort.h -- a replica's cohorts of lazy decoders (rules in sched_cohort.c; the
 * layout in sched_internal.h). Internal to replay/: scheduler.c, sched_decode.c and
 * scheduler_debug.c.
 *
 * A member's next block key lies in the bucket key mod block_size. At the
 * clock k of a formation the members of bucket k mod block_size whose key is
 * k each need a block; when every one gets it at once, only the bucket's
 * `done` moves to k: the members' stored keys and blocks stand for the state
 * as of `done` (a stored key at or below `done` has crossed once at each
 * clock ≡ key up to `done`), settled by blk_settle when they are read one by
 * one. So a step costs the bucket's count, not a walk of its members. */
#ifndef LS_SCHED_COHORT_H
#define LS_SCHED_COHORT_H

#include "sched_internal.h"

/* The blocks lazy member x of cohort c took since its stored key and blocks. */
static inline int64_t blk_steps(const ls_replica *r, const cohort *c, const sreq *x)
{
    int64_t k = x->key[HEAP_BLK];
    int64_t done = c->bk[bs_mod(r, k)].done;
    return k <= done ? bs_div(r, done - k) + 1 : 0;
}

/* Lazy member x of cohort c with its stored key and blocks brought up to date. */
static inline void blk_settle(const ls_replica *r, const cohort *c, sreq *x)
{
    int64_t d = blk_steps(r, c, x);
    x->key[HEAP_BLK] += d * r->cfg.block_size;
    x->blocks += d;
}

/* The KV blocks running request x holds. */
static inline int64_t cur_blocks(const ls_replica *r, const sreq *x)
{
    if (x->state == ST_RUN_LAZY)
        return x->blocks + blk_steps(r, &r->co[x->cohort], x);
    return x->blocks;
}

/* The members of cohort c that cross a block boundary at its clock, by a walk of the bucket. */
int64_t ls_cohort_crossers_walk(const ls_replica *r, const cohort *c);

/* The members of cohort c that cross a block boundary at its clock: the bucket's
 * count when no member's key can be a whole block ahead of the clock. */
static inline int64_t cohort_crossers(const ls_replica *r, const cohort *c)
{
    if (c->clock >= c->far_until)
        return c->bk[c->phase].n;
    return ls_cohort_crossers_walk(r, c);
}

/* Every crosser of cohort c got its block at its clock (the caller allocated them). */
static inline void cohort_crossed(cohort *c)
{
    c->bk[c->phase].done = c->clock;
}

/* The crossers of cohort c at its clock were advanced one by one (lazy_blocks, each
 * settled first): some may now hold keys a whole block ahead, so should the cohort be
 * formed again at this clock, its bucket is walked. */
static inline void cohort_walked(cohort *c)
{
    if (c->far_until < c->clock + 1)
        c->far_until = c->clock + 1;
}

/* Far members of cohort c whose finish key came near join the ring (sched_cohort.c). */
void ls_cohort_far_in(ls_replica *r, cohort *c);

/* The member of cohort c to finish next at its clock (its finish key below the
 * clock; the earliest admitted first), -1 none. Called at each clock. */
static inline int32_t cohort_due(ls_replica *r, cohort *c)
{
    if (c->nfar > 0 && r->req[c->far[0]].key[HEAP_FIN] - c->clock <= LS_FIN_SLOTS - 2)
        ls_cohort_far_in(r, c);
    int32_t h = c->ring[(c->clock - 1) & (LS_FIN_SLOTS - 1)];
    assert(h < 0 || r->req[h].key[HEAP_FIN] == c->clock - 1);
    return h;
}

/* A fresh cohort (a free slot reused, or a new one): its index. */
int ls_cohort_new(ls_replica *r, double last_token);
/* Explicit decoder xi becomes a lazy member of cohort ci. */
void ls_cohort_make_lazy(ls_replica *r, int ci, int32_t xi);
/* Member x leaves cohort c (its key and blocks settled; computed and g are the caller's). */
void ls_cohort_remove(ls_replica *r, cohort *c, int32_t x);
/* Every member of cohort `from` moves into `into`; `from` is no longer live. */
void ls_cohort_merge(ls_replica *r, int into, int from);

#endif
