/* sched_budget.c -- the adaptive token budget (rule: sched_budget.h). */
#include <assert.h>

#include "budget.h"
#include "cost.h"
#include "sched_budget.h"
#include "sched_internal.h"

/* Time of the decodes `dec` plus one chunk of p tokens on context c. */
static double step_time(const ls_cost_model *cm, const ls_batch_agg *dec, int64_t p, int64_t c)
{
    ls_batch_agg b = *dec;
    if (p > 0) {
        b.tokens += p;
        b.n_seqs++;
        b.n_sample++;  /* a chunk may be a prompt's last */
        b.sum_qc += (double)p * (double)c;
        b.sum_q2 += (double)p * (double)p;
        b.sum_c += (double)c;
    }
    return ls_budget_iteration_s(cm, &b);
}

int64_t ls_sched_budget(const ls_replica *r)
{
    const ls_sched_config *cfg = &r->cfg;
    assert(cfg->adaptive_budget && cfg->cost);
    int64_t cap = cfg->max_batched_tokens;
    ls_batch_agg dec = {0};
    for (int ci = 0; ci < r->nco; ci++) {
        const cohort *co = &r->co[ci];
        if (!co->live || co->mb >= 0)
            continue;
        double ctx = (double)co->sumk + (double)co->n * (double)co->clock;
        dec.tokens += co->n;
        dec.n_seqs += co->n;
        dec.n_decode += co->n;
        dec.n_sample += co->n;
        dec.sum_qc += ctx;
        dec.sum_q2 += (double)co->n;
        dec.sum_c += ctx;
    }
    int64_t first_ctx = -1;  /* context of the first prefill in line; -1: none running */
    for (int32_t xi = r->exp_head; xi >= 0; xi = r->req[xi].next) {
        const sreq *x = &r->req[xi];
        if (x->mb >= 0)
            continue;
        bool decode = x->g >= 1 && x->computed == (int64_t)x->prompt + x->g - 1;
        if (decode) {
            dec.tokens++;
            dec.n_seqs++;
            dec.n_decode++;
            dec.n_sample++;
            dec.sum_qc += (double)x->computed;
            dec.sum_q2 += 1.0;
            dec.sum_c += (double)x->computed;
        } else if (first_ctx < 0) {
            first_ctx = x->computed;
        }
    }
    int64_t dec_budget = dec.n_decode * (1 + cfg->spec_tokens);  /* as form_v1 charges decodes */
    bool waiting = r->wait_kv.n + r->wait_pre.n + r->wait_new.n > 0;
    if (first_ctx < 0 && !waiting)
        return cap;  /* nothing to prefill: the budget does not matter */
    if (first_ctx < 0)
        first_ctx = 0;
    int64_t room = cap - dec_budget;
    if (room <= 0)
        return cap;
    double target = cfg->target_tbt_s;
    const ls_cost_model *cm = cfg->cost;
    if (step_time(cm, &dec, room, first_ctx) <= target)
        return cap;
    /* largest multiple of the granule with T(P) <= target; invariant: lo passes (or is 0), hi fails */
    int64_t g = LS_SCHED_BUDGET_GRANULE;
    int64_t lo = 0, hi = room / g + 1;  /* units of g; hi * g > room or T(room) fails */
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        if (step_time(cm, &dec, mid * g, first_ctx) <= target)
            lo = mid;
        else
            hi = mid;
    }
    int64_t p = lo * g;
    if (p < LS_SCHED_BUDGET_FLOOR)
        p = LS_SCHED_BUDGET_FLOOR < room ? LS_SCHED_BUDGET_FLOOR : room;
    return dec_budget + p;
}
