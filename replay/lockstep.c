/* lockstep.c -- DP ranks of an EP group stepping together (contract in
 * lockstep.h; docs/ENGINE.md, "DP lockstep").
 *
 * A group step is formed on every rank of the group at the same instant: each
 * rank's scheduler forms its micro-batch as usual, a rank with nothing to run
 * gets a dummy batch (one token, no context, no sampling), token counts are
 * padded to the group's largest within the CUDA-graph sizes, and each stage
 * (and the CPU overhead and the stage boundary) lasts the longest rank's. The
 * ranks' pipelines therefore stay identical, so the first rank's stands for
 * all. A step is in flight on the group until its end; the next one forms only
 * once every rank has completed its batches that ended by then (their "done"
 * events are separate engine events of the same time).
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "lockstep.h"

typedef struct gstep {
    double end;  /* the step's last stage ends */
    int n_real;  /* ranks with a real micro-batch (the others ran a dummy) */
} gstep;

typedef struct group {
    gstep steps[LS_MAX_PP];  /* in flight, in formation order */
    int n_steps;
} group;

struct ls_lockstep {
    int n, size, pp;
    int64_t pad_max;
    group *groups;
    ls_mbatch_info *b;  /* scratch, one per rank of a group */
    ls_iter_cost *ic;
    bool *real;
    double wait_s, total_s;  /* rank-seconds waiting for the slowest rank, and in all */
};

int64_t ls_lockstep_capture_max(int64_t max_num_seqs, int64_t spec_tokens, int64_t max_batched_tokens)
{
    int64_t m = max_num_seqs * (1 + spec_tokens) * 2;
    if (m > 512)
        m = 512;
    if (m > max_batched_tokens)
        m = max_batched_tokens;
    return m > 0 ? m : 0;
}

ls_lockstep *ls_lockstep_new(int n_replicas, int group_size, int pp, int64_t pad_max)
{
    assert(group_size >= 2 && n_replicas % group_size == 0 && pp >= 1 && pp <= LS_MAX_PP);
    ls_lockstep *l = ls_xcalloc(1, sizeof *l);
    l->n = n_replicas;
    l->size = group_size;
    l->pp = pp;
    l->pad_max = pad_max;
    l->groups = ls_xcalloc((size_t)(n_replicas / group_size), sizeof *l->groups);
    l->b = ls_xcalloc((size_t)group_size, sizeof *l->b);
    l->ic = ls_xcalloc((size_t)group_size, sizeof *l->ic);
    l->real = ls_xcalloc((size_t)group_size, sizeof *l->real);
    return l;
}

void ls_lockstep_free(ls_lockstep *l)
{
    if (!l)
        return;
    free(l->groups);
    free(l->b);
    free(l->ic);
    free(l->real);
    free(l);
}

double ls_lockstep_wait_fraction(const ls_lockstep *l)
{
    return l && l->total_s > 0 ? l->wait_s / l->total_s : 0.0;
}

/* vLLM's execute_dummy_batch: a one-token forward without KV context or sampling. */
static void dummy_batch(ls_mbatch_info *b)
{
    memset(b, 0, sizeof *b);
    b->slot = -1;
    b->agg.tokens = 1;
    b->agg.n_seqs = 1;
    b->agg.n_decode = 1;
    b->agg.sum_q2 = 1;
}

/* May the group form a step now? Drops the steps that are over. */
static bool group_ready(ls_lockstep *l, ls_engine *g, group *gr, int first, double now)
{
    int64_t in_flight = 0, pending = 0;
    for (int j = 0; j < l->size; j++)
        in_flight += ls_replica_in_flight(ls_engine_replica(g, first + j));
    for (int k = 0; k < gr->n_steps; k++)
        if (gr->steps[k].end > now)
            pending += gr->steps[k].n_real;
    assert(in_flight >= pending);
    if (in_flight != pending)
        return false;  /* a rank has not yet completed a batch that ended now: it comes next */
    int live = 0;
    for (int k = 0; k < gr->n_steps; k++)
        if (gr->steps[k].end > now)
            gr->steps[live++] = gr->steps[k];
    gr->n_steps = live;
    return live < l->pp && ls_engine_stage0_free(g, first) <= now;
}

void ls_lockstep_schedule(ls_lockstep *l, ls_engine *g, int replica, double now)
{
    assert(replica >= 0 && replica < l->n);
    int first = replica / l->size * l->size;
    group *gr = &l->groups[replica / l->size];
    while (group_ready(l, g, gr, first, now)) {
        int n_real = 0;
        int64_t t_max = 1;
        for (int j = 0; j < l->size; j++) {
            l->real[j] = ls_replica_schedule(ls_engine_replica(g, first + j), now, &l->b[j]);
            if (l->real[j]) {
                n_real++;
                if (l->b[j].agg.tokens > t_max)
                    t_max = l->b[j].agg.tokens;
            }
        }
        if (n_real == 0)
            return;  /* the wave is over: no dummy batches while every rank is idle */
        bool pad = t_max <= l->pad_max;
        ls_iter_cost top;
        memset(&top, 0, sizeof top);
        for (int j = 0; j < l->size; j++) {
            ls_mbatch_info bp;
            if (l->real[j])
                bp = l->b[j];
            else
                dummy_batch(&bp);
            if (pad)
                bp.agg.tokens = t_max;  /* the linear layers run on the padded rows; attention on the real ones */
            ls_engine_step_cost(g, first + j, &bp, &l->ic[j]);
            const ls_iter_cost *c = &l->ic[j];
            for (int st = 0; st < l->pp; st++)
                if (c->stage_s[st] > top.stage_s[st])
                    top.stage_s[st] = c->stage_s[st];
            if (c->overhead_s > top.overhead_s)
                top.overhead_s = c->overhead_s;
            if (c->transfer_s > top.transfer_s)
                top.transfer_s = c->transfer_s;
        }
        double end = now;
        for (int j = 0; j < l->size; j++) {
            ls_iter_cost *c = &l->ic[j];
            double own = c->overhead_s, all = top.overhead_s;
            for (int st = 0; st < l->pp; st++) {
                own += c->stage_s[st];
                all += top.stage_s[st];
                c->stage_s[st] = top.stage_s[st];
            }
            c->overhead_s = top.overhead_s;
            c->transfer_s = top.transfer_s;
            l->wait_s += all - own;
            l->total_s += all;
            end = ls_engine_launch(g, first + j, l->real[j] ? &l->b[j] : NULL, c, now);
        }
        assert(gr->n_steps < l->pp);
        gr->steps[gr->n_steps++] = (gstep){end, n_real};
    }
}
