/* sched_decode.c -- the decode-only steady state of a replica in O(1) a step (scheduler.h).
 *
 * Between arrivals most steps of a replica only decode: one cohort of lazy
 * decoders is the whole batch, nothing waits, nothing prefills. For those
 * steps ls_replica_complete + ls_replica_schedule reduce to: the ITL of the
 * cohort, its clock, the members that finish, the members that cross a block
 * boundary, and the batch aggregates from the cohort's running sums. This
 * file does exactly that, in the same order and with the same floating-point
 * expressions as scheduler.c, so that the results are bit-identical (the
 * tests drive both side by side); anything else (a preemption, a new cohort,
 * a waiting request) is left to the general code. Order rules and the
 * adaptive budget only decide between waiting requests and prefills (none
 * here), and victims only when a block is refused (left to scheduler.c). */
#include <assert.h>

#include "kvcache.h"
#include "sched_internal.h"

/* Only the in-flight cohort is live (the others would be merged by lazy_collect). */
static bool lone_cohort(const ls_replica *r, int ci)
{
    for (int i = 0; i < r->nco; i++)
        if (i != ci && r->co[i].live)
            return false;
    return true;
}

/* The members crossing a block boundary at this clock get their block when
 * every one fits (lazy_blocks's first case); false (nothing changed) otherwise. */
static bool cross_blocks(ls_replica *r, cohort *c)
{
    int64_t bs = r->cfg.block_size, n = 0;
    int32_t head = c->bucket[c->clock % bs];
    for (int32_t xi = head; xi >= 0; xi = r->req[xi].bnext)
        n += r->req[xi].key[HEAP_BLK] == c->clock;
    if (r->used_blocks + n > r->total_blocks)
        return false;
    for (int32_t xi = head; xi >= 0; xi = r->req[xi].bnext) {
        sreq *x = &r->req[xi];
        assert(x->key[HEAP_BLK] >= c->clock);
        if (x->key[HEAP_BLK] == c->clock) {
            x->key[HEAP_BLK] += bs;  /* same bucket */
            x->blocks++;
        }
    }
    r->used_blocks += n;
    if (r->used_blocks > r->kv_max)
        r->kv_max = r->used_blocks;
    if (r->kv)  /* prefix caching: the new blocks leave the free pool (maybe evicting cached ones) */
        ls_kvcache_take(r->kv, n);
    return true;
}

int ls_replica_decode_step(ls_replica *r, int slot, double now, ls_mbatch_info *out)
{
    mbatch *m = &r->mb[slot];
    int ci = m->cohort;
    /* the usual reasons first: a request prefills or waits */
    if (r->exp_head >= 0 || r->wait_new.n || m->nex != 0 || ci < 0 || r->wait_pre.n || r->wait_kv.n || r->pp != 1 ||
        !lone_cohort(r, ci) || r->cfg.num_scheduler_steps > 1)  /* windows: step_options.h */
        return -1;
    assert(slot == 0 && m->busy);

    /* ls_replica_complete: no explicit request, none to promote */
    kv_touch(r, now);
    cohort *c = &r->co[ci];
    if (r->itl)
        for (int64_t i = 0; i < m->ng; i++)
            r->itl(r->ctx, now - m->gt[i], m->gn[i]);
    c->clock++;
    c->last_token = now;
    c->mb = -1;
    while (c->n > 0 && r->req[c->heap[HEAP_FIN][0]].key[HEAP_FIN] < c->clock)
        ls_replica_finish_request(r, c->heap[HEAP_FIN][0], now);
    if (c->n == 0)
        c->live = false;
    m->busy = false;
    m->nex = 0;
    m->ng = 0;
    m->cohort = -1;
    r->in_flight--;

    /* ls_replica_schedule: waiting queues empty, so every policy forms the
     * lazy decoders alone (lazy_blocks, then lazy_collect on one cohort) */
    if (c->n == 0 || !cross_blocks(r, c))
        return 0;
    r->kv_t = now;
    r->forming = out;  /* as ls_replica_schedule leaves them */
    r->budget_back = 0;
    r->blocked = false;
    double sum_comp = (double)c->sumk + (double)c->n * (double)c->clock;
    /* the sums lazy_collect adds to 0 */
    *out = (ls_mbatch_info){.slot = slot,
                            .agg = {.tokens = c->n, .n_seqs = c->n, .n_decode = c->n, .n_sample = c->n,
                                    .sum_qc = 0.0 + sum_comp, .sum_q2 = 0.0 + (double)c->n, .sum_c = 0.0 + sum_comp}};
    if (m->capg == 0) {
        m->capg = 4;
        m->gt = ls_xrealloc(m->gt, (size_t)m->capg * sizeof *m->gt);
        m->gn = ls_xrealloc(m->gn, (size_t)m->capg * sizeof *m->gn);
    }
    m->gt[0] = c->last_token;
    m->gn[0] = c->n;
    m->ng = 1;
    c->mb = slot;
    m->cohort = ci;
    m->busy = true;
    r->in_flight++;
    if (r->kv)  /* as ls_replica_schedule (none are pending: lazy decoders register nothing) */
        ls_kvcache_transfers(r->kv, &out->kv_load_blocks, &out->kv_store_blocks);
    return 1;
}
