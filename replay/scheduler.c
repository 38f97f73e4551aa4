/* scheduler.c -- per-replica schedulers (vllm-v1, vllm-v0, sarathi) and the paged KV cache.
 *
 * Rules: docs/ENGINE.md (which follows domain.md §5). Data layout, see
 * scheduler.h: requests live in a slot pool (recycled when they end, so
 * memory is O(requests in the system)); running requests form one list in
 * admission order whose front part is "lazy" (decoders kept in cohorts with a
 * shared clock) and whose back part, from the oldest request that still
 * prefills, is "explicit" (visited one by one).
 *
 * Token accounting of a request: it knows prompt + g tokens (g generated);
 * `computed` of them are in the KV cache. A step schedules n of the missing
 * prompt + g - computed; when computed reaches prompt + g a token is sampled
 * (g += 1). A decode is the case computed = prompt + g - 1, n = 1. A lazy
 * member's computed and g both advance by one per cohort step. */
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sched_budget.h"
#include "sched_capacity.h"
#include "sched_cohort.h"
#include "sched_internal.h"
#include "sched_order.h"
#include "sched_swap.h"
#include "step_options.h"

/* ---------------------------------------------------------------- slots */

static int32_t slot_new(ls_replica *r)
{
    if (r->free_head >= 0) {
        int32_t x = r->free_head;
        r->free_head = r->req[x].next;
        return x;
    }
    if (r->nreq == r->capreq) {
        r->capreq = r->capreq ? r->capreq * 2 : 256;
        r->req = ls_xrealloc(r->req, (size_t)r->capreq * sizeof *r->req);
    }
    return r->nreq++;
}
static void slot_free(ls_replica *r, int32_t x)
{
    r->req[x].state = ST_FREE;
    r->req[x].next = r->free_head;
    r->free_head = x;
}

/* ---------------------------------------------------------------- KV blocks */

/* Request xi gives back its blocks (with prefix caching, shared blocks stay held). */
static void kv_release(ls_replica *r, int32_t xi)
{
    sreq *x = &r->req[xi];
    r->used_blocks -= r->kv ? ls_kvcache_release(r->kv, xi, x->blocks) : x->blocks;
    x->blocks = 0;
    r->promised -= x->promise;  /* guaranteed_no_evict (sched_capacity.h) */
    x->promise = 0;
    assert(r->used_blocks >= 0);
}

/* ---------------------------------------------------------------- running list */

static void run_remove(ls_replica *r, int32_t xi)
{
    sreq *x = &r->req[xi];
    if (r->exp_head == xi)
        r->exp_head = x->next;
    if (x->prev >= 0)
        r->req[x->prev].next = x->next;
    else
        r->run_head = x->next;
    if (x->next >= 0)
        r->req[x->next].prev = x->prev;
    else
        r->run_tail = x->prev;
    x->prev = x->next = -1;
    r->n_running--;
}

/* ---------------------------------------------------------------- lifecycle */

static void report(ls_replica *r, int32_t xi, ls_req_status st, double t_finish)
{
    sreq *x = &r->req[xi];
    ls_req_done d;
    d.id = x->id;
    d.prompt_tokens = x->prompt;
    d.output_tokens = x->target;
    d.requested_output = x->requested;
    d.status = st;
    d.preemptions = x->preemptions;
    d.generated = (x->state == ST_RUN_LAZY || x->state == ST_RUN_EXP) ? cur_g(r, x) : x->g;
    d.arrival_s = x->arrival;
    d.first_scheduled_s = x->first_sched;
    d.first_token_s = x->first_token;
    d.finish_s = t_finish;
    if (r->done)
        r->done(r->ctx, r->index, &d);
}

static void finish_request(ls_replica *r, int32_t xi, double now)
{
    sreq *x = &r->req[xi];
    if (x->state == ST_RUN_LAZY) {
        cohort *c = &r->co[x->cohort];
        int64_t d = c->clock - x->c0;
        ls_cohort_remove(r, c, xi);
        x->computed += d;
        x->g += (int32_t)d;
        x->state = ST_RUN_EXP;
    }
    assert(x->g == x->target);
    report(r, xi, LS_REQ_COMPLETED, now);
    kv_release(r, xi);
    run_remove(r, xi);
    slot_free(r, xi);
}

void ls_replica_finish_request(ls_replica *r, int32_t xi, double now)
{
    finish_request(r, xi, now);
}

static void preempt(ls_replica *r, int32_t xi)
{
    sreq *x = &r->req[xi];
    if (x->state == ST_RUN_LAZY) {
        cohort *c = &r->co[x->cohort];
        int64_t d = c->clock - x->c0;
        ls_cohort_remove(r, c, xi);
        x->computed += d;
        x->g += (int32_t)d;
        x->last_token = c->last_token;
    }
    assert(x->mb < 0);
    if (!r->swap || !ls_sched_swap_out(r, xi)) {  /* by swap (sched_swap.c) when it fits, else recompute */
        r->recomputed += x->computed;
        kv_release(r, xi);
        x->computed = 0;
    }
    run_remove(r, xi);
    x->state = ST_WAIT_PRE;
    x->preemptions++;
    r->preemptions++;
    dq_push_front(&r->wait_pre, xi);
}

/* The newest running request that is not in another micro-batch (-1 none). */
static int32_t newest_available(const ls_replica *r, int slot)
{
    for (int32_t xi = r->run_tail; xi >= 0; xi = r->req[xi].prev) {
        const sreq *x = &r->req[xi];
        if (x->state == ST_RUN_EXP && x->mb == slot)
            continue;  /* already in the batch being formed (never chosen in practice) */
        if (!in_flight(r, x))
            return xi;
    }
    return -1;
}

static void mb_take_back(ls_replica *r, mbatch *m, int32_t xi);

/* Allocate `k` blocks for request xi, preempting the newest available
 * requests while they do not fit. Returns false when xi itself was preempted
 * or when the replica is blocked (below).
 *
 * With PP the newest running requests may be in flight and cannot be
 * preempted. vLLM's rule then would pick an *older* request than xi, and old
 * requests could preempt each other forever (a livelock the randomized
 * driver found). So only requests newer than xi are victims; xi preempts
 * itself only when it is the newest running request (vLLM's case); when
 * every newer request is in flight the replica is blocked: this micro-batch
 * is not formed and the replica waits for one in flight to return. The
 * oldest running request is thus never preempted while others run, and it
 * always progresses. Without PP nothing is in flight and this is vLLM's rule. */
static bool alloc_or_preempt(ls_replica *r, int32_t xi, int64_t k, int slot, bool *preempted)
{
    while (!kv_alloc(r, k)) {
        bool newest;  /* v is the running request the rule would pick if nothing were in flight */
        int32_t v;
        if (r->cfg.order == LS_ORDER_PRIORITY) {
            v = ls_order_victim(r, &newest);  /* (priority, arrival): sched_order.c */
        } else {
            v = newest_available(r, slot);
            newest = v == r->run_tail;
            assert(v < 0 || r->req[v].adm_seq >= r->req[xi].adm_seq);
        }
        assert(v >= 0);
        if (v == xi && !newest) {
            r->blocked = true;
            *preempted = true;
            return false;
        }
        *preempted = true;
        if (r->req[v].state == ST_RUN_EXP && r->req[v].mb == slot)
            mb_take_back(r, &r->mb[slot], v);
        preempt(r, v);
        if (v == xi)
            return false;
    }
    r->req[xi].blocks += k;
    return true;
}

/* ---------------------------------------------------------------- public: create / add */

ls_replica *ls_replica_new(const ls_sched_config *cfg, int pp, int index, ls_replica_done_fn done,
                           ls_replica_itl_fn itl, void *ctx)
{
    assert(cfg->max_batched_tokens > 0 && cfg->block_size > 0 && cfg->kv_blocks >= 0 && pp >= 1);
    ls_replica *r = ls_xcalloc(1, sizeof *r);
    r->cfg = *cfg;
    r->pp = pp;
    r->index = index;
    r->done = done;
    r->itl = itl;
    r->ctx = ctx;
    r->free_head = -1;
    r->run_head = r->run_tail = r->exp_head = -1;
    r->mb = ls_xcalloc((size_t)pp, sizeof *r->mb);
    for (int i = 0; i < pp; i++)
        r->mb[i].cohort = -1;
    r->lone_steps = pp == 1 && cfg->num_scheduler_steps <= 1;
    r->bs_shift = -1;
    for (int k = 0; k < 31; k++)
        if (cfg->block_size == 1 << k)
            r->bs_shift = k;
    r->chunk_steps = r->lone_steps && cfg->policy == LS_POLICY_SARATHI && !cfg->enable_prefix_caching &&
                     !cfg->adaptive_budget && cfg->order == LS_ORDER_FCFS;
    r->total_blocks = cfg->kv_blocks;
    r->wm_blocks = cfg->policy == LS_POLICY_VLLM_V0 ? (int64_t)(cfg->watermark * (double)cfg->kv_blocks) : 0;
    if (cfg->enable_prefix_caching) {
        assert(cfg->policy == LS_POLICY_VLLM_V1);
        r->kv = ls_kvcache_new(cfg->block_size, LS_PREFIX_HASH_TOKENS, cfg->kv_blocks, cfg->offload_entries);
    }
    if (cfg->preempt_swap)
        r->swap = ls_kvswap_new(cfg->swap_blocks);
    return r;
}

void ls_replica_set_cost(ls_replica *r, const ls_cost_model *cm)
{
    r->cfg.cost = cm;
}

void ls_replica_set_first_token(ls_replica *r, ls_replica_first_fn first)
{
    r->first = first;
}

void ls_replica_free(ls_replica *r)
{
    if (!r)
        return;
    for (int i = 0; i < r->nco; i++) {
        free(r->co[i].mem);
        free(r->co[i].ring);
        free(r->co[i].far);
        free(r->co[i].bk);
    }
    for (int i = 0; i < r->pp; i++) {
        free(r->mb[i].ex);
        free(r->mb[i].exn);
        free(r->mb[i].gt);
        free(r->mb[i].gn);
    }
    free(r->co);
    free(r->mb);
    free(r->req);
    free(r->wait_pre.v);
    free(r->wait_new.v);
    free(r->wait_kv.v);
    free(r->tmp);
    free(r->chunks);
    ls_kvcache_free(r->kv);
    ls_kvswap_free(r->swap);
    free(r);
}

/* A new waiting request in a fresh slot (not queued yet). */
static int32_t req_new(ls_replica *r, int64_t id, int32_t prompt, int32_t output, double t, double deadline)
{
    int32_t xi = slot_new(r);
    sreq *x = &r->req[xi];
    /* every field (a memset compiled to rep stos, slow to start) */
    _Static_assert(sizeof(sreq) == 168, "req_new sets every field of sreq");
    x->adm_seq = x->computed = x->blocks = x->c0 = x->key[0] = x->key[1] = 0;
    x->pos[0] = x->pos[1] = x->fnext = x->fprev = x->bnext = x->bprev = 0;
    x->g = x->preemptions = x->prio = x->promise = 0;
    x->id = id;
    x->prompt = prompt < 1 ? 1 : prompt;  /* an empty prompt still needs one token to start */
    x->requested = output;
    x->state = ST_WAIT_NEW;
    x->cohort = -1;
    x->prev = x->next = -1;
    x->mb = -1;
    x->arrival = t;
    x->deadline = deadline;
    x->first_sched = x->first_token = x->last_token = NAN;
    int64_t room = r->cfg.max_model_len - x->prompt;  /* output is capped so prompt + output <= max_model_len */
    int64_t tgt = output < 1 ? 1 : output;
    if (tgt > room)
        tgt = room;
    x->target = (int32_t)(tgt < 1 ? 1 : tgt);
    return xi;
}

void ls_replica_add(ls_replica *r, int64_t id, int32_t prompt, int32_t output, double t, double timeout_s)
{
    ls_replica_add_hashed(r, id, prompt, output, NULL, 0, t, timeout_s);
}

void ls_replica_add_hashed(ls_replica *r, int64_t id, int32_t prompt, int32_t output, const int64_t *hash_ids,
                           uint32_t n_hash, double t, double timeout_s)
{
    ls_replica_add_prio(r, id, prompt, output, hash_ids, n_hash, 0, t, timeout_s);
}

void ls_replica_add_prio(ls_replica *r, int64_t id, int32_t prompt, int32_t output, const int64_t *hash_ids,
                         uint32_t n_hash, int32_t prio, double t, double timeout_s)
{
    kv_touch(r, t);
    int32_t xi = req_new(r, id, prompt, output, t, timeout_s > 0 ? t + timeout_s : INFINITY);
    if (timeout_s > 0)
        r->deadlines = true;
    sreq *x = &r->req[xi];
    x->prio = prio;
    const ls_sched_config *c = &r->cfg;
    if (c->prefill_only)
        x->target = 1;  /* a prefill instance stops at the first token (max_tokens=1, pools.c) */
    bool too_long = x->prompt >= c->max_model_len;
    /* vllm-v0 drops ("ignores") prompts over the budget; without chunking a
     * vllm-v1 prompt over the budget could never be scheduled either */
    if ((c->policy == LS_POLICY_VLLM_V0 || (c->policy == LS_POLICY_VLLM_V1 && !c->enable_chunked_prefill)) &&
        x->prompt > c->max_batched_tokens)
        too_long = true;
    if (too_long) {
        report(r, xi, LS_REQ_REJECTED_TOO_LONG, NAN);
        slot_free(r, xi);
        return;
    }
    /* The KV cache holds at most prompt + target - 1 tokens (the last token is never fed back). */
    int64_t need = blocks_for(r, (int64_t)x->prompt + x->target - 1);
    int64_t cap = r->total_blocks - r->wm_blocks;
    if (need > r->total_blocks || blocks_for(r, x->prompt) > cap) {
        report(r, xi, LS_REQ_REJECTED_KV, NAN);
        slot_free(r, xi);
        return;
    }
    if (r->kv)
        ls_kvcache_set(r->kv, xi, x->prompt, hash_ids, n_hash);
    dq_push_back(&r->wait_new, xi);
}

void ls_replica_add_prefilled(ls_replica *r, int64_t id, int32_t prompt, int32_t output, double arrival,
                              double first_sched, int64_t blocks, double now)
{
    kv_touch(r, now);
    assert(r->reserved_blocks >= blocks && blocks == blocks_for(r, prompt < 1 ? 1 : prompt));
    r->reserved_blocks -= blocks;  /* the reservation becomes the request's own blocks */
    /* no client timeout: it was scheduled (on the prefill instance) */
    int32_t xi = req_new(r, id, prompt, output, arrival, INFINITY);
    sreq *x = &r->req[xi];
    /* vLLM's NixlConnector: the last prompt token is recomputed, so the first
     * decode step samples the first output token here */
    x->computed = x->prompt - 1;
    x->blocks = blocks;
    x->first_sched = first_sched;
    if (r->kv)  /* its blocks came over the network: anonymous here */
        ls_kvcache_set(r->kv, xi, x->prompt, NULL, 0);
    /* ahead of every other waiting request: it holds its blocks, so admitting
     * it costs none, and a preempted request at the head that waits for
     * blocks could otherwise wait for these forever */
    dq_push_back(&r->wait_kv, xi);
}

bool ls_replica_kv_reserve(ls_replica *r, int64_t blocks, double now)
{
    kv_touch(r, now);
    if (!kv_alloc(r, blocks))
        return false;
    r->reserved_blocks += blocks;
    return true;
}

void ls_replica_kv_unreserve(ls_replica *r, int64_t blocks, double now)
{
    kv_touch(r, now);
    assert(r->reserved_blocks >= blocks);
    r->reserved_blocks -= blocks;
    r->used_blocks -= blocks;
    assert(r->used_blocks >= 0);
    if (r->kv)
        ls_kvcache_put(r->kv, blocks);
}

/* ---------------------------------------------------------------- forming a micro-batch */

/* Remove request xi, placed in the micro-batch being formed, from it again:
 * its tokens go back to the budget (r->budget_back) and its aggregates are
 * subtracted (sums of integers: exact). Priority preemption only (vLLM's
 * scheduler hands a victim's scheduled tokens back the same way). */
static void mb_take_back(ls_replica *r, mbatch *m, int32_t xi)
{
    sreq *x = &r->req[xi];
    int64_t i = 0;
    while (i < m->nex && m->ex[i] != xi)
        i++;
    assert(i < m->nex && r->forming);
    int64_t n = m->exn[i];
    memmove(&m->ex[i], &m->ex[i + 1], (size_t)(m->nex - i - 1) * sizeof *m->ex);
    memmove(&m->exn[i], &m->exn[i + 1], (size_t)(m->nex - i - 1) * sizeof *m->exn);
    m->nex--;
    x->mb = -1;
    ls_mbatch_info *out = r->forming;
    ls_batch_agg *a = &out->agg;
    a->tokens -= n;
    a->n_seqs--;
    bool decode = n == 1 && x->g >= 1 && x->computed == (int64_t)x->prompt + x->g - 1;
    if (decode) {
        a->n_decode--;
    } else {
        out->n_prefill--;
        out->prefill_tokens -= n;
    }
    if (x->computed + n == (int64_t)x->prompt + x->g)
        a->n_sample--;
    a->sum_qc -= (double)n * (double)x->computed;
    a->sum_q2 -= (double)n * (double)n;
    a->sum_c -= (double)x->computed;
    r->budget_back += n + (n == 1 && x->g > 0 ? r->cfg.spec_tokens : 0);  /* as form_v1 charged it */
}

static void tmp_push(ls_replica *r, int32_t x)
{
    if (r->ntmp == r->captmp) {
        r->captmp = r->captmp ? r->captmp * 2 : 64;
        r->tmp = ls_xrealloc(r->tmp, (size_t)r->captmp * sizeof *r->tmp);
    }
    r->tmp[r->ntmp++] = x;
}

/* Lazy decoders of every available cohort: allocate the blocks of the members
 * that cross a block boundary, in admission order, preempting the newest
 * available requests when the cache is full. Returns false when a crosser was
 * itself preempted (the phase stops). */
static bool lazy_blocks(ls_replica *r, int slot, bool *preempted)
{
    r->ntmp = 0;
    for (int ci = 0; ci < r->nco; ci++) {
        cohort *c = &r->co[ci];
        if (!c->live || c->mb >= 0)
            continue;
        /* the bucket of this clock: its members whose key is the clock (sched_cohort.h) */
        for (int32_t xi = c->bk[c->phase].head; xi >= 0; xi = r->req[xi].bnext) {
            sreq *x = &r->req[xi];
            blk_settle(r, c, x);  /* its key and blocks read and changed one by one */
            assert(x->key[HEAP_BLK] >= c->clock);
            if (x->key[HEAP_BLK] != c->clock)
                continue;
            x->key[HEAP_BLK] += r->cfg.block_size;  /* same bucket */
            tmp_push(r, xi);
        }
        cohort_walked(c);
    }
    if (r->used_blocks + r->ntmp <= r->total_blocks) {
        /* enough free blocks for every crosser: the order does not matter */
        for (int64_t i = 0; i < r->ntmp; i++)
            r->req[r->tmp[i]].blocks++;
        r->used_blocks += r->ntmp;
        if (r->used_blocks > r->kv_max)
            r->kv_max = r->used_blocks;
        if (r->kv)
            ls_kvcache_take(r->kv, r->ntmp);
        return true;
    }
    if (r->ntmp > 1) {
        /* admission order: sort (adm_seq, slot) pairs */
        int64_t *pairs = ls_xmalloc((size_t)r->ntmp * 2 * sizeof *pairs);
        for (int64_t i = 0; i < r->ntmp; i++) {
            pairs[2 * i] = r->req[r->tmp[i]].adm_seq;
            pairs[2 * i + 1] = r->tmp[i];
        }
        qsort(pairs, (size_t)r->ntmp, 2 * sizeof *pairs, cmp_pair);
        for (int64_t i = 0; i < r->ntmp; i++)
            r->tmp[i] = (int32_t)pairs[2 * i + 1];
        free(pairs);
    }
    bool ok = true;
    for (int64_t i = 0; i < r->ntmp; i++) {
        int32_t xi = r->tmp[i];
        if (r->req[xi].state != ST_RUN_LAZY || alloc_or_preempt(r, xi, 1, slot, preempted))
            continue;  /* (not lazy: preempted as a victim meanwhile) */
        ok = false;  /* xi preempted itself: the phase stops, but the crossers after it (order priority) go on */
        if (r->blocked) {  /* xi and the crossers after it got no block: their keys step back */
            for (int64_t j = i; j < r->ntmp; j++)
                if (r->req[r->tmp[j]].state == ST_RUN_LAZY)
                    r->req[r->tmp[j]].key[HEAP_BLK] -= r->cfg.block_size;
            return false;
        }
    }
    return ok;
}

/* Add the available cohorts to the batch and merge them into one cohort. */
static void lazy_collect(ls_replica *r, mbatch *m, int slot, ls_mbatch_info *out)
{
    int best = -1;
    m->ng = 0;
    for (int ci = 0; ci < r->nco; ci++) {
        cohort *c = &r->co[ci];
        if (!c->live || c->mb >= 0)
            continue;
        if (c->n == 0) {
            cohort_retire(r, c);
            continue;
        }
        agg_add_cohort(&out->agg, c);
        if (m->ng == m->capg) {
            m->capg = m->capg ? m->capg * 2 : 4;
            m->gt = ls_xrealloc(m->gt, (size_t)m->capg * sizeof *m->gt);
            m->gn = ls_xrealloc(m->gn, (size_t)m->capg * sizeof *m->gn);
        }
        m->gt[m->ng] = c->last_token;
        m->gn[m->ng] = c->n;
        m->ng++;
        if (best < 0 || c->n > r->co[best].n)
            best = ci;
    }
    if (best >= 0) {
        for (int ci = 0; ci < r->nco; ci++) {
            cohort *c = &r->co[ci];
            if (ci != best && c->live && c->mb < 0)
                ls_cohort_merge(r, best, ci);
        }
        r->co[best].mb = slot;
    }
    m->cohort = best;
}

/* Expire never-scheduled requests whose client deadline has passed. */
static void expire_waiting(ls_replica *r, double now)
{
    while (waiting_expires(r, now)) {
        int32_t xi = dq_pop_front(&r->wait_new);
        report(r, xi, LS_REQ_TIMEOUT, r->req[xi].deadline);
        slot_free(r, xi);
    }
}

static int32_t waiting_front(ls_replica *r)
{
    if (r->wait_kv.n > 0)
        return dq_front(&r->wait_kv);
    if (r->cfg.order == LS_ORDER_PRIORITY)
        return ls_order_priority_front(r);  /* preempted and new by (priority, arrival) */
    if (r->wait_pre.n > 0)
        return dq_front(&r->wait_pre);
    if (r->wait_new.n > 0) {
        r->pick = r->cfg.order == LS_ORDER_FCFS ? 0 : ls_order_pick(r);
        return dq_at(&r->wait_new, r->pick);
    }
    return -1;
}
static void waiting_pop(ls_replica *r)
{
    if (r->wait_kv.n > 0)
        dq_pop_front(&r->wait_kv);
    else if (r->cfg.order == LS_ORDER_PRIORITY)
        dq_remove_at(r->pick_pre ? &r->wait_pre : &r->wait_new, r->pick);
    else if (r->wait_pre.n > 0)
        dq_pop_front(&r->wait_pre);
    else
        dq_remove_at(&r->wait_new, r->pick);  /* the front (pick 0) unless an order rule chose */
}

/* Tokens of the lazy decode cohorts not in flight: one per member, all
 * scheduled this step by lazy_collect (O(cohorts), not O(members)). */
static int64_t lazy_decode_tokens(const ls_replica *r)
{
    int64_t n = 0;
    for (int ci = 0; ci < r->nco; ci++)
        if (r->co[ci].live && r->co[ci].mb < 0)
            n += r->co[ci].n;
    return n;
}

/* vllm-v1 (domain.md §5): running first in admission order, then admission. */
static void form_v1(ls_replica *r, mbatch *m, int slot, ls_mbatch_info *out)
{
    int64_t budget = r->cfg.adaptive_budget ? ls_sched_budget(r) : r->cfg.max_batched_tokens;
    bool preempted = false;
    bool go = lazy_blocks(r, slot, &preempted);
    if (go) {
        /* every available lazy decoder is scheduled: they precede all prefills
         * and number at most max_num_seqs <= budget / (1 + spec_tokens) (run.c);
         * a speculative decode holds its drafts' slots too (spec_decode.h) */
        budget -= lazy_decode_tokens(r) * (1 + r->cfg.spec_tokens);
        assert(budget >= 0 || r->cfg.spec_tokens > 0);
        if (budget < 0)
            budget = 0;
        for (int32_t xi = r->exp_head; xi >= 0 && budget > 0;) {
            sreq *x = &r->req[xi];
            if (x->mb >= 0) {
                xi = x->next;
                continue;
            }
            int64_t n = (int64_t)x->prompt + x->g - x->computed;
            assert(n >= 1);
            n = threshold_cap(r, n);
            if (n > budget)
                n = budget;
            int64_t need = blocks_for(r, x->computed + n) - x->blocks;
            if (need > 0 && !alloc_or_preempt(r, xi, need, slot, &preempted)) {
                go = false;
                break;
            }
            budget += r->budget_back;  /* a victim taken back out of this batch (order priority) */
            r->budget_back = 0;
            mb_add_explicit(r, m, slot, xi, n, out);
            budget -= n + (n == 1 && x->g > 0 ? r->cfg.spec_tokens : 0);
            if (budget < 0)
                budget = 0;  /* vLLM trims drafts the budget clips; their verification is still charged */
            xi = x->next;
        }
    }
    lazy_collect(r, m, slot, out);
    if (preempted)
        return;
    while (budget > 0 && r->n_running < r->cfg.max_num_seqs) {
        int32_t xi = waiting_front(r);
        if (xi < 0)
            break;
        sreq *x = &r->req[xi];
        int64_t total = (int64_t)x->prompt + x->g;
        /* prefix caching: cached blocks skip their tokens and cost no budget;
         * those sitting in the free queue count against the free blocks; blocks
         * loaded from the host tier need new blocks but no compute.
         * computed > 0: the KV arrived from a prefill instance (pools.c) */
        int64_t hit = 0, pinned = 0, loaded = 0;
        if (r->kv && x->computed == 0)
            hit = ls_kvcache_match(r->kv, xi, total, &pinned, &loaded);
        int64_t have = x->computed + (hit + loaded) * r->cfg.block_size;
        int64_t left = total - have;
        int64_t n = threshold_cap(r, left);
        if (n > budget)
            n = budget;
        if (!r->cfg.enable_chunked_prefill && n < left) {
            /* without chunking a prompt must fit the budget whole; a recompute
             * longer than the whole budget runs alone rather than never */
            if (budget < r->cfg.max_batched_tokens || left <= r->cfg.max_batched_tokens)
                break;
            n = left;
        }
        int64_t need = blocks_for(r, have + n) - (x->blocks + hit);
        if (need < 0)
            need = 0;
        if (r->used_blocks + pinned + need > r->total_blocks)
            break;  /* first come, first served: the head blocks the queue */
        int64_t life = r->cfg.capacity_policy ? ls_sched_capacity_blocks(x->prompt, x->target, r->cfg.block_size) : 0;
        if (life && !ls_sched_capacity_fits(r->promised, life, r->total_blocks))
            break;  /* guaranteed_no_evict: its whole life must fit beside the promises */
        if (r->kv) {
            ls_kvcache_acquire(r->kv, xi, hit, loaded, x->preemptions == 0);
            r->used_blocks += pinned;
        }
        kv_alloc(r, need);
        waiting_pop(r);
        admit(r, xi);
        x->promise = (int32_t)life;
        r->promised += life;
        x->blocks += hit + need;
        x->computed = have;
        mb_add_explicit(r, m, slot, xi, n, out);
        budget -= n;
    }
}

/* vllm-v0: whole-prompt prefills first (with the watermark), else a decode step. */
static void form_v0(ls_replica *r, mbatch *m, int slot, ls_mbatch_info *out)
{
    int64_t budget = r->cfg.max_batched_tokens;
    bool any = false;
    bool swapped = r->swap && ls_sched_swapped(r);  /* no prefill while requests are swapped out (sched_swap.c) */
    while (!swapped && ls_step_may_admit(r) && r->n_running < r->cfg.max_num_seqs) {  /* multi-step: at a window's start */
        int32_t xi = waiting_front(r);
        if (xi < 0)
            break;
        sreq *x = &r->req[xi];
        int64_t total = (int64_t)x->prompt + x->g;
        /* a recompute longer than the budget runs alone rather than never */
        if (total - x->computed > budget && !(any == false && budget == r->cfg.max_batched_tokens))
            break;
        int64_t need = blocks_for(r, total) - x->blocks;  /* blocks > 0: KV arrived (pools.c) */
        if (r->used_blocks + need + r->wm_blocks > r->total_blocks)
            break;
        kv_alloc(r, need);
        waiting_pop(r);
        admit(r, xi);
        x->blocks += need;
        mb_add_explicit(r, m, slot, xi, total - x->computed, out);
        budget -= total - x->computed;
        any = true;
        if (budget <= 0)
            break;
    }
    if (any) {
        m->cohort = -1;
        m->ng = 0;
        return;  /* prefill and decode are never mixed */
    }
    bool preempted = false;
    if (lazy_blocks(r, slot, &preempted)) {
        for (int32_t xi = r->exp_head; xi >= 0;) {
            sreq *x = &r->req[xi];
            if (x->mb >= 0) {
                xi = x->next;
                continue;
            }
            int64_t need = blocks_for(r, x->computed + 1) - x->blocks;
            if (need > 0 && !alloc_or_preempt(r, xi, need, slot, &preempted))
                break;
            mb_add_explicit(r, m, slot, xi, 1, out);
            xi = x->next;
        }
    }
    lazy_collect(r, m, slot, out);
    for (int32_t xi; swapped && !preempted && ls_step_may_admit(r) && (xi = ls_sched_swap_in(r)) >= 0;) {
        admit(r, xi);  /* swapped back in: it decodes in this step */
        mb_add_explicit(r, m, slot, xi, (int64_t)r->req[xi].prompt + r->req[xi].g - r->req[xi].computed, out);
    }
}

/* sarathi: decodes, then partial prefills, then new prefills; whole prompt reserved at admission. */
static void form_sarathi(ls_replica *r, mbatch *m, int slot, ls_mbatch_info *out)
{
    int64_t budget = r->cfg.adaptive_budget ? ls_sched_budget(r) : r->cfg.max_batched_tokens;
    bool preempted = false;
    bool go = lazy_blocks(r, slot, &preempted);
    if (go) {
        budget -= lazy_decode_tokens(r);
        /* explicit decoders */
        for (int32_t xi = r->exp_head; xi >= 0 && go;) {
            sreq *x = &r->req[xi];
            bool decode = x->g >= 1 && x->computed == (int64_t)x->prompt + x->g - 1;
            if (x->mb >= 0 || !decode) {
                xi = x->next;
                continue;
            }
            int64_t need = blocks_for(r, x->computed + 1) - x->blocks;
            if (need > 0 && !alloc_or_preempt(r, xi, need, slot, &preempted)) {
                go = false;
                break;
            }
            mb_add_explicit(r, m, slot, xi, 1, out);
            budget -= 1;
            xi = x->next;
        }
        /* partial prefills (their blocks are already reserved) */
        for (int32_t xi = r->exp_head; xi >= 0 && go && budget > 0; xi = r->req[xi].next) {
            sreq *x = &r->req[xi];
            if (x->mb >= 0)
                continue;
            int64_t n = (int64_t)x->prompt + x->g - x->computed;
            n = threshold_cap(r, n);
            if (n > budget)
                n = budget;
            mb_add_explicit(r, m, slot, xi, n, out);
            budget -= n;
        }
    }
    lazy_collect(r, m, slot, out);
    if (preempted)
        return;
    while (budget > 0 && r->n_running < r->cfg.max_num_seqs) {
        int32_t xi = waiting_front(r);
        if (xi < 0)
            break;
        sreq *x = &r->req[xi];
        int64_t total = (int64_t)x->prompt + x->g;
        int64_t need = blocks_for(r, total) - x->blocks;  /* blocks > 0: KV arrived (pools.c) */
        if (!kv_alloc(r, need))
            break;
        waiting_pop(r);
        admit(r, xi);
        x->blocks += need;
        int64_t n = threshold_cap(r, total - x->computed);
        if (n > budget)
            n = budget;
        mb_add_explicit(r, m, slot, xi, n, out);
        budget -= n;
    }
}

bool ls_replica_schedule(ls_replica *r, double now, ls_mbatch_info *out)
{
    assert(r->in_flight < r->pp);
    int64_t pre0 = r->preemptions;
    kv_touch(r, now);
    r->kv_t = now;  /* mb_add_explicit reads the current time from here */
    batch_zero(out);
    int slot = -1;
    for (int i = 0; i < r->pp; i++)
        if (!r->mb[i].busy) {
            slot = i;
            break;
        }
    assert(slot >= 0);
    mbatch *m = &r->mb[slot];
    m->nex = 0;
    m->ng = 0;
    m->cohort = -1;
    r->forming = out;
    r->budget_back = 0;
    expire_waiting(r, now);
    r->blocked = false;
    switch (r->cfg.policy) {
    case LS_POLICY_VLLM_V1: form_v1(r, m, slot, out); break;
    case LS_POLICY_VLLM_V0: form_v0(r, m, slot, out); break;
    case LS_POLICY_SARATHI: form_sarathi(r, m, slot, out); break;
    }
    if (r->blocked) {
        /* Nothing runs now. Blocks already allocated stay with their requests
         * (they are needed at the next attempt); preemptions stand. */
        assert(r->in_flight > 0);
        for (int64_t i = 0; i < m->nex; i++)
            r->req[m->ex[i]].mb = -1;
        m->nex = 0;
        memset(out, 0, sizeof *out);
    }
    if (out->agg.n_seqs == 0) {
        if (m->cohort >= 0) {
            r->co[m->cohort].mb = -1;
            m->cohort = -1;
        }
        /* order priority preempted all it had formed: form again now, as vLLM's next step would */
        return r->cfg.order == LS_ORDER_PRIORITY && r->preemptions > pre0 && !r->blocked && ls_replica_schedule(r, now, out);
    }
    m->busy = true;
    r->in_flight++;
    out->slot = slot;
    ls_step_window_advance(r, out);  /* vllm-v0 multi-step (step_options.h) */
    if (r->kv)  /* the copies to and from the host tier this step makes */
        ls_kvcache_transfers(r->kv, &out->kv_load_blocks, &out->kv_store_blocks);
    if (r->swap)  /* its swap-outs and swap-ins */
        ls_kvswap_transfers(r->swap, &out->swap_out_blocks, &out->swap_in_blocks);
    return true;
}

/* ---------------------------------------------------------------- completing a micro-batch */

void ls_replica_complete(ls_replica *r, int slot, double now)
{
    assert(slot >= 0 && slot < r->pp && r->mb[slot].busy);
    kv_touch(r, now);
    mbatch *m = &r->mb[slot];
    int ci = m->cohort;
    if (ci >= 0) {
        cohort *c = &r->co[ci];
        if (r->itl)
            for (int64_t i = 0; i < m->ng; i++)
                r->itl(r->ctx, r->index, now - m->gt[i], m->gn[i]);
        cohort_tick(r, c);
        c->last_token = now;
        c->mb = -1;
        for (int32_t xi; (xi = cohort_due(r, c)) >= 0;)
            finish_request(r, xi, now);
    }
    for (int64_t i = 0; i < m->nex; i++) {
        int32_t xi = m->ex[i];
        sreq *x = &r->req[xi];
        assert(x->state == ST_RUN_EXP && x->mb == slot);
        x->mb = -1;
        x->computed += m->exn[i];
        assert(x->computed <= (int64_t)x->prompt + x->g);
        if (x->computed == (int64_t)x->prompt + x->g) {
            x->g++;
            if (isnan(x->first_token)) {
                x->first_token = now;
                if (r->first)
                    r->first(r->ctx, r->index, x->arrival, now);
            } else if (r->itl)
                r->itl(r->ctx, r->index, now - x->last_token, 1);
            x->last_token = now;
            if (x->g >= x->target)
                finish_request(r, xi, now);
        }
    }
    /* Promote decoders at the front of the explicit part that produced a token now. */
    while (r->exp_head >= 0) {
        int32_t xi = r->exp_head;
        sreq *x = &r->req[xi];
        bool decode = x->g >= 1 && x->computed == (int64_t)x->prompt + x->g - 1;
        if (x->mb >= 0 || !decode || x->last_token != now)
            break;
        if (ci < 0 || !r->co[ci].live) {
            ci = ls_cohort_new(r, now);
            m->cohort = ci;
        }
        r->exp_head = x->next;
        ls_cohort_make_lazy(r, ci, xi);
    }
    if (ci >= 0 && r->co[ci].live && r->co[ci].n == 0)
        cohort_retire(r, &r->co[ci]);
    m->busy = false;
    m->nex = 0;
    m->ng = 0;
    m->cohort = -1;
    r->in_flight--;
}

void ls_replica_finish_all(ls_replica *r, double now)
{
    kv_touch(r, now);
    deque *qs[3] = {&r->wait_kv, &r->wait_pre, &r->wait_new};
    for (int q = 0; q < 3; q++)
        while (qs[q]->n > 0) {
            int32_t xi = dq_pop_front(qs[q]);
            sreq *x = &r->req[xi];
            bool to = isnan(x->first_sched) && x->deadline <= now;
            report(r, xi, to ? LS_REQ_TIMEOUT : LS_REQ_UNFINISHED, to ? x->deadline : NAN);
            kv_release(r, xi);  /* holds blocks only when its KV arrived (pools.c) */
            slot_free(r, xi);
        }
    while (r->run_head >= 0) {
        int32_t xi = r->run_head;
        report(r, xi, LS_REQ_UNFINISHED, NAN);
        sreq *x = &r->req[xi];
        if (x->state == ST_RUN_LAZY)
            ls_cohort_remove(r, &r->co[x->cohort], xi);
        kv_release(r, xi);
        run_remove(r, xi);
        slot_free(r, xi);
    }
}

/* ---------------------------------------------------------------- counters and tests */

int ls_replica_in_flight(const ls_replica *r) { return r->in_flight; }
int64_t ls_replica_running(const ls_replica *r) { return r->n_running; }
int64_t ls_replica_waiting(const ls_replica *r) { return r->wait_kv.n + r->wait_pre.n + r->wait_new.n; }
int64_t ls_replica_waiting_preempted(const ls_replica *r) { return r->wait_pre.n; }
int64_t ls_replica_outstanding(const ls_replica *r) { return r->n_running + ls_replica_waiting(r); }
int64_t ls_replica_used_blocks(const ls_replica *r) { return r->used_blocks; }
int64_t ls_replica_total_blocks(const ls_replica *r) { return r->total_blocks; }
int64_t ls_replica_preemptions(const ls_replica *r) { return r->preemptions; }
int64_t ls_replica_recomputed(const ls_replica *r) { return r->recomputed; }
int64_t ls_replica_kv_max(const ls_replica *r) { return r->kv_max; }

int64_t ls_replica_prefix_probe(const ls_replica *r, int32_t prompt, const int64_t *hash_ids, uint32_t n_hash)
{
    return r->kv ? ls_kvcache_probe(r->kv, prompt, hash_ids, n_hash) : 0;
}

bool ls_replica_prefix_stats(const ls_replica *r, ls_kvcache_stats *out)
{
    if (!r->kv)
        return false;
    ls_kvcache_get_stats(r->kv, out);
    return true;
}

double ls_replica_kv_area(ls_replica *r, double now)
{
    kv_touch(r, now);
    return r->kv_area;
}
