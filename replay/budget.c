/* budget.c -- `max_num_batched_tokens: auto` (docs/HARDWARE.md, "Auto token budget").
 *
 * The mixed iteration of a budget B: decode_batch decodes (q = 1 on
 * decode_context cached tokens each) plus one prefill chunk of
 * B - decode_batch tokens starting at context 0. Its time is the sum of the
 * stage times, the p-1 boundary transfers and the engine overhead -- the time
 * between two tokens of every running decode when PP has one batch in flight.
 * The budget is the largest multiple of `granule` in [min, max] whose time is
 * <= target_tbt_s, found by binary search (time is monotone in B).
 */
#include <assert.h>

#include "budget.h"

/* Time of the mixed iteration with `budget` tokens in total. */
static double mixed_time(const ls_cost_model *cm, const ls_budget_params *p, int64_t budget)
{
    int64_t dec = p->decode_batch > 0 ? p->decode_batch : 0;
    int64_t chunk = budget > dec ? budget - dec : 0;
    double ctx = (double)(p->decode_context > 0 ? p->decode_context : 0);
    ls_batch_agg b = {0};
    b.tokens = chunk + dec;
    b.n_decode = dec;
    b.n_seqs = dec + (chunk > 0);
    b.n_sample = dec + (chunk > 0); /* a full chunk may be a prompt's last: count its sample */
    b.sum_qc = (double)dec * ctx;   /* the chunk starts at context 0 */
    b.sum_q2 = (double)chunk * (double)chunk + (double)dec;
    b.sum_c = (double)dec * ctx;
    return ls_budget_iteration_s(cm, &b);
}

double ls_budget_iteration_s(const ls_cost_model *cm, const ls_batch_agg *b)
{
    ls_iter_cost c;
    ls_cost_iteration(cm, b, &c);
    double t = c.overhead_s + (cm->d.pp - 1) * c.transfer_s;
    for (int s = 0; s < cm->d.pp; s++)
        t += c.stage_s[s];
    return t;
}

int64_t ls_budget_auto(const ls_cost_model *cm, const ls_budget_params *p)
{
    assert(cm && p && p->granule >= 1 && p->min_budget >= 1 && p->max_budget >= p->min_budget);
    int64_t g = p->granule;
    int64_t lo = (p->min_budget + g - 1) / g; /* smallest multiple index in range */
    int64_t hi = p->max_budget / g;           /* largest */
    if (lo > hi || mixed_time(cm, p, lo * g) > p->target_tbt_s)
        return p->min_budget;
    /* invariant: lo passes; find the largest passing index in [lo, hi] */
    while (lo < hi) {
        int64_t mid = lo + (hi - lo + 1) / 2;
        if (mixed_time(cm, p, mid * g) <= p->target_tbt_s)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo * g;
}
