/* bound.c -- a TPOT floor and a capacity ceiling from the cost model alone (bound.h). */
#include "bound.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"
#include "cost.h"
#include "engine.h"
#include "memory.h"

/* One iteration of `tokens` new tokens (`decodes` of them decodes, the rest one
 * prefill chunk) over context 1 each: the cheapest batch of that size. */
static void cheapest(const ls_cost_model *cm, int64_t tokens, int64_t decodes, ls_iter_cost *ic)
{
    ls_batch_agg b;
    memset(&b, 0, sizeof b);
    int64_t chunk = tokens - decodes;
    b.tokens = tokens;
    b.n_decode = decodes;
    b.n_seqs = decodes + (chunk > 0);
    b.n_sample = b.n_seqs;
    b.sum_qc = (double)tokens;  /* q_i * c_i with c_i = 1 */
    b.sum_q2 = (double)decodes + (double)chunk * (double)chunk;
    b.sum_c = (double)b.n_seqs;
    memset(ic, 0, sizeof *ic);
    ls_cost_iteration(cm, &b, ic);
}

/* Stage st's share of an iteration: the engine adds the overhead to the first. */
static double stage_time(const ls_iter_cost *ic, int st)
{
    return ic->stage_s[st] + (st == 0 ? ic->overhead_s : 0.0);
}

/* The highest rate at which `work` seconds of busy time (at w->rate) fit between the
 * first arrival and `slack` seconds after the last. */
static double ceiling(const ls_bound_work *w, double work, double slack)
{
    if (!(work > 0) || !isfinite(slack))
        return INFINITY;
    if (w->fixed_window) /* requests (and work) grow with the rate: work * r / rate <= window + slack */
        return w->rate * (w->window_s + slack) / work;
    double room = work - slack; /* the span shrinks: work <= span * rate / r + slack */
    return room > 0 ? w->span_s * w->rate / room : INFINITY;
}

ls_status ls_config_bounds(const ls_run_config *c, const ls_bound_work *w, ls_bounds *out, ls_error *e)
{
    out->tpot_floor_s = NAN;
    out->capacity_rps = INFINITY;
    if (c->pools || c->mix || c->spec.method != LS_SPEC_NONE || c->cost_kind != 0 || c->sched.enable_prefix_caching)
        return LS_OK;
    ls_memory_plan plan;
    LS_TRY(ls_run_memory_plan(c, &plan, e));
    if (!plan.feasible || plan.kv_blocks < 1)
        return LS_OK;
    int64_t kv_blocks = c->num_kv_blocks > 0 ? c->num_kv_blocks : plan.kv_blocks;
    double floor_s = INFINITY;
    double tok_s[LS_MAX_PP], dec_s[LS_MAX_PP]; /* per stage, fastest replica: per token, per decode iteration */
    for (int st = 0; st < c->pp; st++)
        tok_s[st] = dec_s[st] = INFINITY;
    int64_t budget = 0, seqs = 0;
    for (int i = 0; i < c->dp; i++) {
        ls_deploy d;
        ls_run_deploy(c, i * c->tp * c->pp, &d);
        ls_cost_model *cm = NULL;
        LS_TRY(ls_run_cost_new(c, &d, i, &cm, e));
        if (i == 0) {
            /* the budget and sequence limit the run resolves (run.c) */
            budget = c->sched.budget_auto ? ls_run_auto_budget(c, cm, kv_blocks) : c->sched.max_batched_tokens;
            seqs = c->sched.max_num_seqs < budget ? c->sched.max_num_seqs : budget;
            if (seqs < 1)
                seqs = 1;
        }
        ls_iter_cost one, full;
        cheapest(cm, 1, 1, &one);
        cheapest(cm, budget, 0, &full);
        double lat = 0;
        for (int st = 0; st < c->pp; st++) {
            lat += stage_time(&one, st) + (st > 0 ? one.transfer_s : 0.0);
            double t = stage_time(&full, st) / (double)budget;
            if (t < tok_s[st])
                tok_s[st] = t;
            if (stage_time(&one, st) < dec_s[st])
                dec_s[st] = stage_time(&one, st);
        }
        if (lat < floor_s)
            floor_s = lat;
        ls_cost_free(cm);
    }
    out->tpot_floor_s = floor_s;
    /* busy time of the busiest stage for the requests that must complete, at rate w->rate */
    double pre = 0, all = 0;
    for (int st = 0; st < c->pp; st++) {
        double a = w->prompts_98 * tok_s[st];
        double b = w->tokens_99 * tok_s[st], d = w->decodes_99 / (double)seqs * dec_s[st];
        if (a > pre)
            pre = a;
        if (b > all)
            all = b;
        if (d > all)
            all = d;
    }
    double ca = ceiling(w, pre / (double)c->dp, c->slo_ttft_s);
    double cb = ceiling(w, all / (double)c->dp, c->slo_ttft_s + w->max_output * c->slo_tpot_s);
    out->capacity_rps = ca < cb ? ca : cb;
    return LS_OK;
}
