/* sched_swap.c -- the scheduler's side of preemption by swap (kvswap.h), vLLM V0's rules:
 *
 * - A victim whose blocks fit the swap space left is swapped out: its blocks
 *   leave the GPU, its computed tokens stay, and it waits among the preempted
 *   requests. When they do not fit it is preempted by recompute (V0 aborts
 *   the engine instead: "Aborted due to the lack of CPU swap space").
 * - While any request is swapped out no prefill is admitted (V0's
 *   _schedule_default schedules prefills only when `swapped` is empty).
 * - After a decode step that preempted nothing, swapped requests come back
 *   oldest swap-out first (V0's FIFO `swapped` queue; within one step the
 *   newest victim went out first) while their blocks fit above the watermark
 *   and max_num_seqs allows; the first that does not fit stops the pass. They
 *   join this step's batch with their next token. With nothing running the
 *   watermark is waived, so a request that outgrew it can still come back.
 *
 * Swapped requests stay in the replica's wait_pre queue (so timeouts, the
 * end of the run and the counters see them); preempt() pushes at the front,
 * so the oldest swap-out is the one nearest the back. */
#include "sched_internal.h"
#include "sched_swap.h"

bool ls_sched_swap_out(ls_replica *r, int32_t xi)
{
    sreq *x = &r->req[xi];
    assert(r->kv == NULL);  /* vllm-v0: no prefix caching, every block is the request's own */
    if (x->blocks == 0 || !ls_kvswap_out(r->swap, xi, x->blocks))
        return false;
    r->used_blocks -= x->blocks;
    x->blocks = 0;
    assert(r->used_blocks >= 0);
    return true;
}

bool ls_sched_swapped(const ls_replica *r)
{
    return r->swap && ls_kvswap_count(r->swap) > 0;
}

int32_t ls_sched_swap_in(ls_replica *r)
{
    if (!ls_sched_swapped(r) || r->n_running >= r->cfg.max_num_seqs)
        return -1;
    for (int64_t i = r->wait_pre.n - 1; i >= 0; i--) {
        int32_t xi = dq_at(&r->wait_pre, i);
        int64_t held = ls_kvswap_held(r->swap, xi);
        if (held == 0)
            continue;  /* preempted by recompute: admitted as a prefill once nothing is swapped out */
        sreq *x = &r->req[xi];
        int64_t need = blocks_for(r, x->computed + 1);  /* its blocks and this step's token */
        if (need < held)
            need = held;
        int64_t wm = r->n_running > 0 ? r->wm_blocks : 0;
        if (r->used_blocks + held + wm > r->total_blocks || r->used_blocks + need > r->total_blocks)
            return -1;
        dq_remove_at(&r->wait_pre, i);
        ls_kvswap_in(r->swap, xi);
        r->used_blocks += need;
        if (r->used_blocks > r->kv_max)
            r->kv_max = r->used_blocks;
        x->blocks = need;
        return xi;
    }
    return -1;
}

bool ls_replica_swap_stats(const ls_replica *r, ls_kvswap_stats *out)
{
    if (r->swap)
        ls_kvswap_get_stats(r->swap, out);
    return r->swap != NULL;
}
