/* sched_decode.c -- the common steps of a replica without the general scheduler (scheduler.h).
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
 * here), and victims only when a block is refused (left to scheduler.c).
 *
 * Under sarathi the other common step is that cohort plus prefill chunks: the
 * step completes the general way (ls_replica_complete) and the next batch is
 * formed by sarathi_form below, form_sarathi for one cohort, prefilling
 * explicit requests only, FCFS admission and no prefix cache: the same
 * additions in the same order, without the general loops (issue 17.5).
 *
 * With PP the engine forms every micro-batch through ls_replica_schedule_fast:
 * the decode-only batch (decode_form) is the one cohort not in flight, the
 * others being in the pipeline; under vllm-v1 the common step (v1_form) is
 * that cohort plus the explicit requests' chunks and first-come admissions,
 * formed by form_v1's rules when no block it takes can be refused (so nothing
 * is preempted): the same additions in the same order; under sarathi, its
 * chunk step (sarathi_form_at) with the micro-batches in flight skipped. */
#include <assert.h>

#include "kvcache.h"
#include "sched_budget.h"
#include "sched_capacity.h"
#include "sched_cohort.h"
#include "sched_internal.h"
#include "sched_order.h"
#include "step_options.h"

/* The one live cohort not in flight: its index, -1 when there is none, -2 when
 * lazy_collect would merge (two or more) or retire (an empty one). */
static inline int available_cohort(const ls_replica *r)
{
    int ci = -1;
    for (int i = 0; i < r->nco; i++)
        if (r->co[i].live && r->co[i].mb < 0) {
            if (ci >= 0 || r->co[i].n == 0)
                return -2;
            ci = i;
        }
    return ci;
}

/* The first micro-batch slot not in flight (ls_replica_schedule's choice). */
static int free_slot(const ls_replica *r)
{
    int slot = 0;
    while (r->mb[slot].busy)
        slot++;
    assert(slot < r->pp);
    return slot;
}

/* The members crossing a block boundary at this clock get their block when
 * every one fits (lazy_blocks's first case); false (nothing changed) otherwise. */
static inline bool cross_blocks(ls_replica *r, cohort *c)
{
    int64_t n = cohort_crossers(r, c);
    if (r->used_blocks + n > r->total_blocks)
        return false;
    cohort_crossed(c);
    r->used_blocks += n;
    if (r->used_blocks > r->kv_max)
        r->kv_max = r->used_blocks;
    if (r->kv)  /* prefix caching: the new blocks leave the free pool (maybe evicting cached ones) */
        ls_kvcache_take(r->kv, n);
    return true;
}

/* Micro-batch m (in `slot`) takes cohort ci, c, as its one group of lazy decoders. */
static inline void mb_take_cohort(mbatch *m, int slot, int ci, cohort *c)
{
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
}

/* ls_replica_schedule with form_sarathi, nothing in flight (pp 1; with `pp`,
 * micro-batches in flight, whose cohorts and requests are skipped), at most
 * one live cohort (not in flight), only prefilling explicit requests (not in
 * flight), no expired waiting request, and the cohort's block crossings
 * fitting: false (nothing changed) otherwise, or when the batch would be
 * empty. `pp` is a constant at each call, so that pp 1's copy is as before. */
static inline __attribute__((always_inline)) bool sarathi_form_at(ls_replica *r, double now, ls_mbatch_info *out,
                                                                  bool pp)
{
    int ci = -1;
    for (int i = 0; i < r->nco; i++)
        if (r->co[i].live && (!pp || r->co[i].mb < 0)) {
            if (ci >= 0 || r->co[i].n == 0)
                return false;  /* lazy_collect merges (or retires) */
            ci = i;
        }
    if ((!pp && r->in_flight) || (ci < 0 && r->exp_head < 0) ||
        waiting_expires(r, now))
        return false;
    bool any = ci >= 0;  /* with pp: something to form besides admissions */
    for (int32_t xi = r->exp_head; xi >= 0; xi = r->req[xi].next) {
        const sreq *x = &r->req[xi];
        if (pp && x->mb >= 0)
            continue;  /* in flight */
        if (x->g >= 1 && x->computed == (int64_t)x->prompt + x->g - 1)
            return false;  /* an explicit decoder (behind an older prefill) */
        any = true;
    }
    if (pp && !any)
        return false;
    cohort *c = ci >= 0 ? &r->co[ci] : NULL;
    if (c && r->used_blocks + c->n > r->total_blocks && r->used_blocks + cohort_crossers(r, c) > r->total_blocks)
        return false;  /* lazy_blocks would preempt */

    /* ls_replica_schedule's set-up */
    kv_touch(r, now);
    r->kv_t = now;
    /* ls_replica_schedule's memset: every field, a new one too (field by field, the swap
     * fields were once left unset) */
    batch_zero(out);
    int slot = pp ? free_slot(r) : 0;
    mbatch *m = &r->mb[slot];
    assert(!m->busy);
    m->nex = 0;
    m->ng = 0;
    m->cohort = -1;
    int64_t budget = r->cfg.max_batched_tokens;
    if (c) {
        bool ok = cross_blocks(r, c);  /* lazy_blocks: they fit, so the order does not matter */
        assert(ok);
        (void)ok;
        budget -= c->n;  /* lazy_decode_tokens */
    }
    /* partial prefills (no explicit decoders) */
    for (int32_t xi = r->exp_head; xi >= 0 && budget > 0; xi = r->req[xi].next) {
        sreq *x = &r->req[xi];
        if (pp && x->mb >= 0)
            continue;  /* in flight */
        assert(x->mb < 0);
        int64_t n = threshold_cap(r, (int64_t)x->prompt + x->g - x->computed);
        if (n > budget)
            n = budget;
        mb_add_explicit(r, m, slot, xi, n, out);
        budget -= n;
    }
    if (c) {  /* lazy_collect of the one cohort */
        agg_add_cohort(&out->agg, c);
        mb_take_cohort(m, slot, ci, c);
    }
    /* admission, first come first served (waiting_front, waiting_pop) */
    while (budget > 0 && r->n_running < r->cfg.max_num_seqs && r->wait_new.n > 0) {
        r->pick = 0;
        int32_t xi = dq_front(&r->wait_new);
        sreq *x = &r->req[xi];
        int64_t total = (int64_t)x->prompt + x->g;
        int64_t need = blocks_for(r, total) - x->blocks;
        if (!kv_alloc(r, need))
            break;
        dq_pop_front(&r->wait_new);
        admit(r, xi);
        x->blocks += need;
        int64_t n = threshold_cap(r, total - x->computed);
        if (n > budget)
            n = budget;
        mb_add_explicit(r, m, slot, xi, n, out);
        budget -= n;
    }
    assert(out->agg.n_seqs > 0);
    m->busy = true;
    r->in_flight++;
    out->slot = slot;
    ls_step_window_advance(r, out);
    return true;
}

static bool sarathi_form(ls_replica *r, double now, ls_mbatch_info *out)
{
    return sarathi_form_at(r, now, out, false);
}

/* The batch aggregates of cohort c alone: the sums lazy_collect adds to a
 * zeroed batch (0 + x is x: no sum here is -0). */
static inline void cohort_batch(ls_mbatch_info *out, int slot, const cohort *c)
{
    double sum_comp = (double)c->sumk + (double)c->n * (double)c->clock;
    out->slot = slot;
    out->agg.tokens = c->n;
    out->agg.n_seqs = c->n;
    out->agg.n_decode = c->n;
    out->agg.n_sample = c->n;
    out->agg.sum_qc = sum_comp;
    out->agg.sum_q2 = (double)c->n;
    out->agg.sum_c = sum_comp;
    out->n_prefill = 0;
    out->prefill_tokens = 0;
    out->kv_load_blocks = out->kv_store_blocks = 0;
    out->swap_out_blocks = out->swap_in_blocks = 0;
    out->in_window = false;
}

/* ls_replica_schedule's batch when its waiting queues are empty, no request
 * is explicit and cohort ci, whose crossers got their blocks (cross_blocks),
 * is the only live one not in flight: every policy forms the lazy decoders
 * alone (lazy_blocks, then lazy_collect on one cohort), in `slot`. (What
 * ls_replica_schedule leaves in r->forming, budget_back and blocked is read
 * by no one before the next general formation sets them again.) */
static inline void form_cohort(ls_replica *r, int slot, mbatch *m, int ci, cohort *c, double now,
                               ls_mbatch_info *out)
{
    r->kv_t = now;
    cohort_batch(out, slot, c);
    mb_take_cohort(m, slot, ci, c);
    m->busy = true;
    r->in_flight++;
    if (r->kv)  /* as ls_replica_schedule (none are pending: lazy decoders register nothing) */
        ls_kvcache_transfers(r->kv, &out->kv_load_blocks, &out->kv_store_blocks);
}

/* The configurations and waiting queues sarathi_form takes. */
static inline bool sarathi_shape(const ls_replica *r)
{
    const ls_sched_config *cf = &r->cfg;
    return cf->policy == LS_POLICY_SARATHI && !r->kv && !cf->adaptive_budget && cf->order == LS_ORDER_FCFS &&
           !r->wait_kv.n && !r->wait_pre.n && cf->num_scheduler_steps <= 1;
}

/* A step that is not decode-only: under sarathi in the shape above, the
 * general completion and sarathi_form (1: formed; 0: completed, the caller
 * schedules); -1 (nothing done) otherwise. */
static __attribute__((noinline)) int chunk_form(ls_replica *r, int slot, double now, ls_mbatch_info *out)
{
    ls_replica_complete(r, slot, now);
    return sarathi_form(r, now, out) ? 1 : 0;
}
static inline int chunk_step(ls_replica *r, int slot, double now, ls_mbatch_info *out)
{
    if (!r->chunk_steps || r->wait_kv.n || r->wait_pre.n)  /* (sarathi_shape, pp 1) */
        return -1;
    assert(r->pp == 1);
    return chunk_form(r, slot, now, out);
}

int ls_replica_decode_step(ls_replica *r, int slot, double now, ls_mbatch_info *out)
{
    mbatch *m = &r->mb[slot];
    int ci = m->cohort;
    /* the usual reasons first: a request prefills or waits; then another cohort is live,
     * or the configuration (pp > 1, multi-step windows: step_options.h) */
    if ((r->exp_head >= 0) | ((r->wait_new.n | r->wait_pre.n | r->wait_kv.n | m->nex) != 0) | (ci < 0) ||
        r->n_live != 1 || !r->lone_steps)
        return chunk_step(r, slot, now, out);
    assert(slot == 0 && m->busy);

    /* ls_replica_complete: no explicit request, none to promote */
    kv_touch(r, now);
    cohort *c = &r->co[ci];
    if (r->itl)
        for (int64_t i = 0; i < m->ng; i++)
            r->itl(r->ctx, r->index, now - m->gt[i], m->gn[i]);
    cohort_tick(r, c);
    c->last_token = now;
    c->mb = -1;
    for (int32_t xi; (xi = cohort_due(r, c)) >= 0;)
        ls_replica_finish_request(r, xi, now);

    /* ls_replica_schedule: waiting queues empty, so every policy forms the
     * lazy decoders alone (lazy_blocks, then lazy_collect on one cohort):
     * the micro-batch stays busy in its slot (its reset and setting again
     * undone), its one group the cohort */
    if (c->n > 0 && cross_blocks(r, c)) {
        r->kv_t = now;
        cohort_batch(out, slot, c);
        m->gt[0] = now;
        m->gn[0] = c->n;
        m->ng = 1;
        c->mb = slot;
        if (r->kv)  /* as ls_replica_schedule (none are pending: lazy decoders register nothing) */
            ls_kvcache_transfers(r->kv, &out->kv_load_blocks, &out->kv_store_blocks);
        return 1;
    }
    if (c->n == 0)
        cohort_retire(r, c);
    m->busy = false;
    m->nex = 0;
    m->ng = 0;
    m->cohort = -1;
    r->in_flight--;
    return 0;
}

/* ls_replica_schedule when nothing waits, no request is explicit and at most
 * one live cohort is not in flight (PP: the others are in the pipeline): that
 * cohort alone is the batch, or nothing is formed when there is none. 1:
 * formed, 0: nothing to form (the general answer, false), -1: not that
 * state, or the cohort's crossers might not all get a block (nothing done
 * but bringing the KV integral up to now, which the general call repeats as
 * a no-op). */
static int decode_form(ls_replica *r, double now, ls_mbatch_info *out)
{
    if (r->exp_head >= 0 || r->wait_new.n || r->wait_pre.n || r->wait_kv.n || r->cfg.num_scheduler_steps > 1)
        return -1;
    int ci = available_cohort(r);
    if (ci < -1)
        return -1;  /* lazy_collect merges (or retires) */
    assert(r->in_flight < r->pp);
    kv_touch(r, now);
    int slot = free_slot(r);
    if (ci < 0) {  /* ls_replica_schedule forms nothing: its effects */
        mbatch *m = &r->mb[slot];
        r->kv_t = now;
        batch_zero(out);
        m->nex = 0;
        m->ng = 0;
        m->cohort = -1;
        return 0;
    }
    if (!cross_blocks(r, &r->co[ci]))
        return -1;
    r->mb[slot].nex = 0;
    form_cohort(r, slot, &r->mb[slot], ci, &r->co[ci], now, out);
    if (r->swap)  /* as ls_replica_schedule (none are pending: a swap-out leaves a request waiting) */
        ls_kvswap_transfers(r->swap, &out->swap_out_blocks, &out->swap_in_blocks);
    return 1;
}

/* ls_replica_schedule with form_v1 (FCFS, no prefix caching) when nothing
 * was preempted (wait_pre, wait_kv empty), no waiting request expires, at
 * most one live cohort is not in flight (PP: the others are in the pipeline)
 * and every block the step allocates is free (the cohort's crossers and the
 * explicit requests' chunks: then nothing is preempted): the same steps in
 * the same order (crossers, explicit requests not in flight, the cohort's
 * sums, admissions), without the general loops over cohorts and the
 * preemption machinery. 1: formed, 0: nothing to form, -1: not that state
 * (nothing done but bringing the KV integral up to now, which the general
 * call repeats as a no-op). */
static int v1_form(ls_replica *r, double now, ls_mbatch_info *out)
{
    const ls_sched_config *cf = &r->cfg;
    if (r->kv || cf->order != LS_ORDER_FCFS || r->wait_pre.n || r->wait_kv.n ||
        waiting_expires(r, now))
        return -1;
    int ci = available_cohort(r);
    if (ci < -1)
        return -1;  /* lazy_collect merges (or retires) */
    assert(r->in_flight < r->pp);
    kv_touch(r, now);
    cohort *c = ci >= 0 ? &r->co[ci] : NULL;
    int64_t budget0 = cf->adaptive_budget ? ls_sched_budget(r) : cf->max_batched_tokens;
    int64_t lazy = c ? c->n : 0;
    /* form_v1's budget after the lazy decoders; then the blocks its explicit pass allocates */
    int64_t budget = budget0 - lazy * (1 + cf->spec_tokens);
    assert(budget >= 0 || cf->spec_tokens > 0);
    if (budget < 0)
        budget = 0;
    int64_t need_all = 0, nch = 0;
    for (int32_t xi = r->exp_head; xi >= 0 && budget > 0; xi = r->req[xi].next) {
        const sreq *x = &r->req[xi];
        if (x->mb >= 0)
            continue;
        int64_t n = threshold_cap(r, (int64_t)x->prompt + x->g - x->computed);
        if (n > budget)
            n = budget;
        int64_t need = blocks_for(r, x->computed + n) - x->blocks;
        need_all += need > 0 ? need : 0;
        if (nch == r->capchunks) {
            r->capchunks = r->capchunks ? 2 * r->capchunks : 8;
            r->chunks = ls_xrealloc(r->chunks, (size_t)r->capchunks * sizeof *r->chunks);
        }
        r->chunks[nch++] = (struct ls_sched_chunk){xi, n, need};
        budget -= n + (n == 1 && x->g > 0 ? cf->spec_tokens : 0);
        if (budget < 0)
            budget = 0;
    }
    if (r->used_blocks + lazy + need_all > r->total_blocks &&
        (!c || r->used_blocks + cohort_crossers(r, c) + need_all > r->total_blocks))
        return -1;  /* alloc_or_preempt might preempt */

    /* ls_replica_schedule's set-up */
    int slot = free_slot(r);
    mbatch *m = &r->mb[slot];
    r->kv_t = now;
    batch_zero(out);
    m->nex = 0;
    m->ng = 0;
    m->cohort = -1;
    if (c) {  /* lazy_blocks: they fit */
        bool ok = cross_blocks(r, c);
        assert(ok);
        (void)ok;
    }
    for (int64_t k = 0; k < nch; k++) {  /* the explicit pass, as counted above (budget: after it) */
        int32_t xi = (int32_t)r->chunks[k].xi;
        int64_t need = r->chunks[k].need;
        if (need > 0) {
            bool ok = kv_alloc(r, need);
            assert(ok);
            (void)ok;
            r->req[xi].blocks += need;
        }
        mb_add_explicit(r, m, slot, xi, r->chunks[k].n, out);
    }
    if (c) {  /* lazy_collect of the one cohort */
        agg_add_cohort(&out->agg, c);
        mb_take_cohort(m, slot, ci, c);
    }
    /* admission, first come first served (waiting_front, waiting_pop; no prefix cache) */
    while (budget > 0 && r->n_running < cf->max_num_seqs && r->wait_new.n > 0) {
        r->pick = 0;
        int32_t xi = dq_front(&r->wait_new);
        sreq *x = &r->req[xi];
        int64_t total = (int64_t)x->prompt + x->g;
        int64_t have = x->computed;
        int64_t left = total - have;
        int64_t n = threshold_cap(r, left);
        if (n > budget)
            n = budget;
        if (!cf->enable_chunked_prefill && n < left) {
            if (budget < cf->max_batched_tokens || left <= cf->max_batched_tokens)
                break;
            n = left;
        }
        int64_t need = blocks_for(r, have + n) - x->blocks;
        if (need < 0)
            need = 0;
        if (r->used_blocks + need > r->total_blocks)
            break;  /* first come, first served: the head blocks the queue */
        int64_t life = cf->capacity_policy ? ls_sched_capacity_blocks(x->prompt, x->target, cf->block_size) : 0;
        if (life && !ls_sched_capacity_fits(r->promised, life, r->total_blocks))
            break;
        kv_alloc(r, need);
        dq_pop_front(&r->wait_new);
        admit(r, xi);
        x->promise = (int32_t)life;
        r->promised += life;
        x->blocks += need;
        mb_add_explicit(r, m, slot, xi, n, out);
        budget -= n;
    }
    if (out->agg.n_seqs == 0)
        return 0;
    m->busy = true;
    r->in_flight++;
    out->slot = slot;
    ls_step_window_advance(r, out);
    if (r->swap)
        ls_kvswap_transfers(r->swap, &out->swap_out_blocks, &out->swap_in_blocks);
    return 1;
}

/* decode_form, then under vllm-v1 v1_form, else the general call (out of line: the caller's
 * early exit stays cheap). */
static __attribute__((noinline)) bool fast_schedule(ls_replica *r, double now, ls_mbatch_info *out)
{
    int k = decode_form(r, now, out);
    if (k < 0 && r->cfg.policy == LS_POLICY_VLLM_V1)
        k = v1_form(r, now, out);
    else if (k < 0 && sarathi_shape(r) && sarathi_form_at(r, now, out, true))
        k = 1;
    return k >= 0 ? k == 1 : ls_replica_schedule(r, now, out);
}

bool ls_replica_schedule_fast(ls_replica *r, double now, ls_mbatch_info *out)
{
    if (r->pp == 1 && r->cfg.policy != LS_POLICY_VLLM_V1)  /* one stage: decode steps take ls_replica_decode_step */
        return ls_replica_schedule(r, now, out);
    return fast_schedule(r, now, out);
}
