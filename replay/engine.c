/* engine.c -- the discrete-event loop: arrivals, router, pipeline stages, metrics.
 *
 * Events are (time, sequence number) ordered in a binary heap, so equal
 * times resolve in creation order. The next arrival is held outside the heap
 * (the source is pulled lazily, one request ahead) and goes before heap
 * events of the same time. Each formed micro-batch is pushed through its
 * replica's pipeline at formation: stage s starts when stage s-1 has
 * finished plus the boundary transfer and when stage s is free, so the whole
 * schedule is known at once; two events follow, "stage 0 free" (PP > 1:
 * the next micro-batch may start) and "done" (the last stage finished). */
#include <assert.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "class_metrics.h"
#include "engine.h"
#include "engine_ahead.h"
#include "lockstep.h"
#include "metrics.h"
#include "step_options.h"
#include "workload.h"

enum { EV_STAGE0_FREE = 0, EV_DONE = 1, EV_HOOK = 2 };

typedef struct event {
    double t;
    uint64_t seq;
    int32_t kind, replica, slot, pad;
} event;

typedef struct evheap {
    event *v;
    size_t n, cap;
    bool hole;  /* v[0] is taken (ev_take): the next push goes there, ev_settle closes it */
} evheap;

static inline void ev_sift_down_from_root(evheap *h, event ev);

/* Without branches (the heap's choice between two children is a coin toss to
 * the branch predictor: with DP it was a third of a run's mispredictions). */
#ifdef __SIZEOF_INT128__
static inline unsigned __int128 ev_key(const event *a)
{
    /* times are >= 0 (or -0.0), where the bits shifted past the sign bit order as the
     * values do, and -0.0 meets +0.0 at 0; ties go to the sequence number: one
     * 128-bit comparison instead of two of doubles and one of integers */
    uint64_t tb;
    memcpy(&tb, &a->t, sizeof tb);
    return (unsigned __int128)(tb << 1) << 64 | a->seq;
}

static inline bool ev_less(const event *a, const event *b)
{
    return ev_key(a) < ev_key(b);
}
#else  /* the same order without 128-bit integers */
static inline bool ev_less(const event *a, const event *b)
{
    return (a->t < b->t) | ((a->t == b->t) & (a->seq < b->seq));
}
#endif

static inline __attribute__((always_inline)) void ev_push(evheap *h, event ev)
{
    assert(ev.t >= 0); /* ev_less's 128-bit key orders non-negative times only (-0.0 meets +0.0) */
    if (h->hole) {  /* into the place of the event taken: one sift down instead of a pop's and a push's */
        h->hole = false;
        ev_sift_down_from_root(h, ev);
        return;
    }
    if (h->n == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 64;
        h->v = ls_xrealloc(h->v, h->cap * sizeof *h->v);
    }
    size_t i = h->n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!ev_less(&ev, &h->v[p]))
            break;
        h->v[i] = h->v[p];
        i = p;
    }
    h->v[i] = ev;
}

static inline __attribute__((always_inline)) event ev_pop(evheap *h)
{
    event top = h->v[0];
    event last = h->v[--h->n];
    event *v = h->v;
    size_t i = 0, n = h->n;
    if (n >= 8) {  /* DP: many replicas' events */
        for (;;) {
            size_t l = 2 * i + 1;
            if (l >= n)
                break;
            /* the smaller child, without a branch. When l + 1 == n, v[n] is still
             * a copy of `last`: chosen only if last < v[l], and then the test below
             * keeps last here, as the one child's comparison would. */
            size_t m = l + (size_t)ev_less(&v[l + 1], &v[l]);
            if (!ev_less(&v[m], &last))
                break;
            v[i] = v[m];
            i = m;
        }
    } else {  /* a few events (one replica's stages): the branches are predictable, and fewer */
        for (;;) {
            size_t l = 2 * i + 1;
            if (l >= n)
                break;
            size_t m = l;
            if (l + 1 < n && ev_less(&v[l + 1], &v[l]))
                m = l + 1;
            if (!ev_less(&v[m], &last))
                break;
            v[i] = v[m];
            i = m;
        }
    }
    if (n > 0)
        v[i] = last;
    return top;
}

/* ev at the root's place (taken), sifted down: n stays. */
static inline void ev_sift_down_from_root(evheap *h, event ev)
{
    event *v = h->v;
    size_t i = 0, n = h->n;
    for (;;) {
        size_t l = 2 * i + 1;
        if (l >= n)
            break;
        size_t m = l;
        if (l + 1 < n)
            m += (size_t)ev_less(&v[l + 1], &v[l]);
        if (!ev_less(&v[m], &ev))
            break;
        v[i] = v[m];
        i = m;
    }
    v[i] = ev;
}

/* The first event, taken out but its place left for the next push (ev_settle after the pushes). */
static inline event ev_take(evheap *h)
{
    assert(h->n > 0 && !h->hole);
    h->hole = true;
    return h->v[0];
}

/* No push came after ev_take: the place is removed as ev_pop would. */
static inline void ev_settle(evheap *h)
{
    if (h->hole) {
        h->hole = false;
        ev_pop(h);
    }
}

typedef struct rep_state {
    ls_replica *r;
    const ls_sched_config *sched;
    int pp;
    double busy_s, flops, bytes;  /* this replica's share of the totals (pools.c) */
    double stage_free[LS_MAX_PP];
    int64_t timeline_left;
    int64_t tie_blocks;  /* KV blocks the prompts routed here at the current instant will need */
    bool touched;        /* got an arrival at the current instant: schedule it once they are all in */
    double launch_t;        /* when the step in flight was formed, and its chain depth (engine_ahead.h) */
    int64_t launch_depth;
    double launch_pt;       /* when the step whose end formed it was formed (depth > 0) */
    const ls_cost_model *cost;  /* s->cost[i] */
} rep_state;

typedef struct ls_engine {
    const ls_engine_setup *s;
    const ls_engine_hooks *hooks;
    int dp;
    rep_state *rep;
    evheap ev;
    uint64_t seq;
    ls_router_state router;
    ls_timeline *tl;

    /* metrics */
    ls_quantiles ttft, tpot, e2e, queue;  /* exact up to 2^20 requests, then a sketch (metrics.h) */
    ls_itl_hist *itl;
    int64_t n_req, n_status[5], n_good;
    double out_tokens, total_tokens;
    double first_arrival, last_completion, now;
    int64_t iterations, events;
    double sum_seqs, sum_tokens;
    double flops, bytes, busy_s, peak_flops, peak_bw;
    double computed_tokens;
    double arrived_tokens;  /* Σ prompt + output of the arrivals: bounds the work (livelock guard) */
    double offload_s;       /* link time of KV offload copies */
    double swap_s;          /* link time of swap-outs and swap-ins (kvswap.h) */
    ls_spec_track *spec;    /* speculative decoding (spec_decode.h); NULL when off */
    const ls_class_table *class_tab; /* request classes (classes.h): priorities */
    ls_class_track *classes; /* per-class metrics (class_metrics.h); NULL without classes */
    ls_lockstep *lock;      /* DP lockstep of EP groups (lockstep.h); NULL when off */
    int held0, n_held;      /* pp_direct's new events held[held0 .. n_held), in (time, sequence number) order */
    event held[2 * LS_MAX_PP + 2];
    ls_ahead *ahead;        /* DP run-ahead (engine_ahead.h): the reports in queue order; NULL when off */
    ls_ahead_feed *feed;    /* and the arrivals read ahead, routed, under a blind router; NULL otherwise */
    bool row_now;           /* with run-ahead: on_request takes the rows as they come (an SLO watch), not in order */
    int phase;              /* LS_AHEAD_ARRIVAL, _STEP or _END: what the engine is processing */
    bool weight_stream;     /* s->weight_stream_s > 0: every step reads offloaded weights (offload_time) */
    double ahead_t;         /* the latest step a replica ran ahead to */
} engine;

static void count_done(engine *g, int replica, const ls_req_done *d);
static void report_row(const engine *g, int replica, const ls_req_done *d);

/* A new event of the replica pp_direct runs: held, in order (a new event is
 * mostly the latest), or queued when there is no room. */
static inline __attribute__((always_inline)) void hold(engine *g, event ev)
{
    enum { CAP = sizeof g->held / sizeof g->held[0] };
    if (g->n_held == CAP && g->held0 == 0) {
        ev_push(&g->ev, ev);
        return;
    }
    if (g->n_held == CAP) {
        memmove(g->held, g->held + g->held0, (size_t)(CAP - g->held0) * sizeof *g->held);
        g->n_held -= g->held0;
        g->held0 = 0;
    }
    int j = g->n_held++;
    for (; j > g->held0 && ev_less(&ev, &g->held[j - 1]); j--)
        g->held[j] = g->held[j - 1];
    g->held[j] = ev;
}

static void on_done(void *ctx, int replica, const ls_req_done *dr)
{
    engine *g = ctx;
    ls_req_done dd;
    const ls_req_done *d = dr;
    if (g->spec) {  /* with speculation: the real output lengths, not the rounds */
        dd = *dr;
        ls_spec_track_done(g->spec, dd.id, dd.prompt_tokens, &dd.output_tokens, &dd.requested_output, &dd.generated,
                           dd.status == LS_REQ_COMPLETED);
        d = &dd;
    }
    if (g->hooks && g->hooks->on_done(g->hooks->ctx, replica, d))
        return;
    if (g->ahead) {  /* counted in the queue's order at the next arrival or the end */
        const rep_state *rs = &g->rep[replica];
        if (g->row_now)
            report_row(g, replica, d);
        ls_ahead_push(g->ahead, g->now, g->phase, rs->launch_t, rs->launch_pt, rs->launch_depth, replica, d);
        return;
    }
    count_done(g, replica, d);
}

static void emit_done(void *ctx, int replica, const ls_req_done *d)
{
    count_done(ctx, replica, d);
}

static void count_done(engine *g, int replica, const ls_req_done *d)
{
    g->n_status[d->status]++;
    if (!isnan(d->first_scheduled_s))
        ls_quant_add(&g->queue, d->first_scheduled_s - d->arrival_s);
    if (d->status == LS_REQ_COMPLETED) {
        double ttft = d->first_token_s - d->arrival_s;
        double e2e = d->finish_s - d->arrival_s;
        ls_quant_add(&g->ttft, ttft);
        ls_quant_add(&g->e2e, e2e);
        double tpot = NAN;
        if (d->output_tokens > 1) {
            tpot = (e2e - ttft) / (d->output_tokens - 1);
            ls_quant_add(&g->tpot, tpot);
        }
        g->out_tokens += d->output_tokens;
        g->total_tokens += d->output_tokens + d->prompt_tokens;
        if (isnan(g->last_completion) || d->finish_s > g->last_completion)
            g->last_completion = d->finish_s;
        const ls_run_config *c = g->s->cfg;
        if (g->classes ? ls_class_track_done(g->classes, d, ttft, tpot)  /* the class's own SLO */
                       : ttft <= c->slo_ttft_s && (isnan(tpot) || tpot <= c->slo_tpot_s))
            g->n_good++;
    } else if (g->classes) {
        ls_class_track_done(g->classes, d, NAN, NAN);
    }
    if (!g->row_now)
        report_row(g, replica, d);
}

/* The request's row to opts->on_request. */
static void report_row(const engine *g, int replica, const ls_req_done *d)
{
    const ls_run_opts *o = g->s->opts;
    if (o && o->on_request) {
        ls_request_result rr;
        rr.index = d->id;
        rr.replica = replica;
        rr.prompt_tokens = d->prompt_tokens;
        rr.output_tokens = d->requested_output;  /* as asked; generated_tokens says what was produced */
        rr.status = (int32_t)d->status;
        rr.preemptions = d->preemptions;
        rr.generated_tokens = d->generated;
        rr.arrival_s = d->arrival_s;
        rr.first_scheduled_s = d->first_scheduled_s;
        rr.first_token_s = d->first_token_s;
        rr.finish_s = d->finish_s;
        rr.class_id = g->classes ? ls_class_track_class(g->classes, d->id) : -1;
        rr.reserved = 0;
        o->on_request(o->on_request_ctx, &rr);
    }
}

static void on_first(void *ctx, int replica, double arrival_s, double first_token_s)
{
    (void)replica;
    const engine *g = ctx;
    g->s->opts->on_first_token(g->s->opts->on_request_ctx, arrival_s, first_token_s);
}

static void on_itl(void *ctx, int replica, double gap, int64_t count)
{
    engine *g = ctx;
    (void)replica;
    ls_itl_add(g->itl, gap, count);
}

/* The router's view of the replicas (router.h). */
static int64_t view_outstanding(void *ctx, int i)
{
    const engine *g = ctx;
    return ls_replica_outstanding(g->rep[i].r);
}

static int64_t view_kv_load(void *ctx, int i)
{
    const engine *g = ctx;
    return ls_replica_used_blocks(g->rep[i].r) + g->rep[i].tie_blocks;
}

static int64_t view_prefix_blocks(void *ctx, int i, const ls_request *req)
{
    const engine *g = ctx;
    return ls_replica_prefix_probe(g->rep[i].r, req->prompt_tokens, req->hash_ids, req->n_hash_ids);
}

static inline int route(engine *g, const ls_request *req)
{
    ls_router_view v = {g->hooks ? g->hooks->n_route : g->dp, g, view_outstanding, view_kv_load, view_prefix_blocks,
                        g->s->long_replica, g->s->cfg->router_prompt_threshold};
    int i = g->s->cfg->router->pick(&g->router, &v, req);
    assert(i >= 0 && i < v.n);
    return i;
}

static int route_ahead(void *ctx, const ls_request *req)
{
    return route(ctx, req);
}

/* KV offload (kvoffload.h): each GPU copies its share of the blocks over its
 * own host link, every stage in parallel. CPU weight offload: every forward
 * pass reads the offloaded weights over the link (UVA), on top of the
 * roofline (which counted them as HBM reads: small beside the link). Loads are needed before the step
 * computes; write-through stores run on their own stream beside it (vLLM
 * defers them to the next step's start), so only what outlasts the compute
 * shows. */
static void offload_time(engine *g, int pp, const ls_mbatch_info *b, ls_iter_cost *ic)
{
    double load = (double)b->kv_load_blocks * g->s->offload_s_per_block;
    double store = (double)b->kv_store_blocks * g->s->offload_s_per_block;
    for (int st = 0; st < pp; st++) {
        double d = ic->stage_s[st] + g->s->weight_stream_s;  /* offloaded weights: read over the link */
        ic->stage_s[st] = (store > d ? store : d) + load;
    }
    g->offload_s += load + store;
}

/* Preemption by swap (kvswap.h): vLLM V0's worker copies the step's
 * swap-outs and swap-ins (cache_engine.swap_out/swap_in) before the forward
 * pass, on the compute stream, so every stage's GPUs pay their share of the
 * blocks over their own link in full, in series with the compute. */
static void swap_time(engine *g, int pp, const ls_mbatch_info *b, ls_iter_cost *ic)
{
    double t = (double)(b->swap_out_blocks + b->swap_in_blocks) * g->s->swap_s_per_block;
    for (int st = 0; st < pp; st++)
        ic->stage_s[st] += t;
    g->swap_s += t;
}

/* step_cost's offload and swap links, when the step has any. */
static __attribute__((noinline)) void link_time(engine *g, int pp, const ls_mbatch_info *b, ls_iter_cost *ic)
{
    if (b->kv_load_blocks || b->kv_store_blocks || g->weight_stream)
        offload_time(g, pp, b, ic);
    if (b->swap_out_blocks || b->swap_in_blocks)
        swap_time(g, pp, b, ic);
}

/* The time of micro-batch b on replica i: the cost model, then the offload and swap links. */
static inline __attribute__((always_inline)) void step_cost(engine *g, int i, const ls_mbatch_info *b,
                                                            ls_iter_cost *ic)
{
    const rep_state *rs = &g->rep[i];
    ls_cost_iteration(rs->cost, &b->agg, ic);
    /* one test for the common case, no copy between host and GPU (weight_stream: weight_stream_s > 0) */
    if (__builtin_expect((b->kv_load_blocks | b->kv_store_blocks | b->swap_out_blocks | b->swap_in_blocks) != 0 ||
                             g->weight_stream,
                         0))
        link_time(g, rs->pp, b, ic);
}

/* Run-ahead's record of the step formed at `now` on a replica (engine_ahead.h: its reports' key). */
static inline void note_launch(const engine *g, rep_state *rs, double now)
{
    rs->launch_pt = rs->launch_t;
    rs->launch_t = now;
    rs->launch_depth = g->phase == LS_AHEAD_ARRIVAL ? 0 : rs->launch_depth + 1;
}

/* run_pipeline for one stage without a timeline, the same operations (the common case): the
 * "done" event's time; its sequence number is g->seq - 1 after the call. */
static inline __attribute__((always_inline)) double one_stage_end(engine *g, int i, double now,
                                                                  const ls_mbatch_info *b, const ls_iter_cost *ic)
{
    rep_state *rs = &g->rep[i];
    double d = ls_step_stage0_s(ic->stage_s[0], ic->overhead_s, b->in_window);
    assert(d >= 0);
    double start = now > rs->stage_free[0] ? now : rs->stage_free[0];
    double end = start + d;
    rs->stage_free[0] = end;
    g->iterations++;
    g->sum_seqs += (double)b->agg.n_seqs;
    g->sum_tokens += (double)b->agg.tokens;
    g->computed_tokens += (double)b->agg.tokens;
    g->flops += ic->flops;
    g->bytes += ic->bytes;
    g->busy_s += d;  /* busy = 0 + d, divided by pp = 1: d exactly */
    rs->busy_s += d;
    rs->flops += ic->flops;
    rs->bytes += ic->bytes;
    g->seq++;
    return end;
}

static inline event run_one_stage(engine *g, int i, double now, const ls_mbatch_info *b, const ls_iter_cost *ic)
{
    double end = one_stage_end(g, i, now, b, ic);
    return (event){end, g->seq - 1, EV_DONE, i, b->slot, 0};
}

/* A step's FLOPs, bytes and busy time (`busy`: summed over its stages) into the run's and
 * the replica's sums. */
static inline void add_step_cost(engine *g, rep_state *rs, const ls_iter_cost *ic, double busy)
{
    g->flops += ic->flops;
    g->bytes += ic->bytes;
    g->busy_s += busy / rs->pp;
    rs->busy_s += busy / rs->pp;
    rs->flops += ic->flops;
    rs->bytes += ic->bytes;
}

/* run_pipeline for pp > 1 stages without a timeline, the same operations in the same order
 * (the stage loop without its timeline and dummy-batch tests). */
static inline __attribute__((always_inline)) event run_stages(engine *g, int i, double now, const ls_mbatch_info *b,
                                                              const ls_iter_cost *ic, bool held)
{
    rep_state *rs = &g->rep[i];
    double busy = 0;
    double d = ls_step_stage0_s(ic->stage_s[0], ic->overhead_s, b->in_window);
    assert(d >= 0);
    double start = now > rs->stage_free[0] ? now : rs->stage_free[0];
    double end = start + d;
    rs->stage_free[0] = end;
    busy += d;
    double stage0_end = end;
    for (int st = 1; st < rs->pp; st++) {
        d = ic->stage_s[st];
        assert(d >= 0);
        double ready = end + ic->transfer_s;
        start = ready > rs->stage_free[st] ? ready : rs->stage_free[st];
        end = start + d;
        rs->stage_free[st] = end;
        busy += d;
    }
    add_step_cost(g, rs, ic, busy);
    assert(rs->timeline_left == 0);  /* no timeline */
    g->iterations++;
    g->sum_seqs += (double)b->agg.n_seqs;
    g->sum_tokens += (double)b->agg.tokens;
    g->computed_tokens += (double)b->agg.tokens;
    if (stage0_end < end) {
        event ev = {stage0_end, g->seq++, EV_STAGE0_FREE, i, b->slot, 0};
        if (held)
            hold(g, ev);  /* pp_direct */
        else
            ev_push(&g->ev, ev);
    }
    return (event){end, g->seq++, EV_DONE, i, b->slot, 0};
}

/* Run micro-batch b, of stage times ic, through replica i's pipeline from
 * `now` and account for it. Returns its "done" event, which the caller pushes
 * (the "stage 0 free" event of PP is pushed here). b NULL: a DP-lockstep dummy
 * batch, which only holds the GPUs (no events, not an iteration). */
static event run_pipeline(engine *g, int i, double now, const ls_mbatch_info *b, const ls_iter_cost *ic)
{
    rep_state *rs = &g->rep[i];
    double start = now, end = now, stage0_end = now, busy = 0;
    bool in_window = b && b->in_window;  /* multi-step (step_options.h) */
    if (!g->tl && b)
        return rs->pp == 1 ? run_one_stage(g, i, now, b, ic) : run_stages(g, i, now, b, ic, false);
    for (int st = 0; st < rs->pp; st++) {
        double d = st == 0 ? ls_step_stage0_s(ic->stage_s[0], ic->overhead_s, in_window)
                           : ic->stage_s[st];
        assert(d >= 0);
        double ready = st == 0 ? now : end + ic->transfer_s;
        start = ready > rs->stage_free[st] ? ready : rs->stage_free[st];
        end = start + d;
        rs->stage_free[st] = end;
        busy += d;
        if (st == 0)
            stage0_end = end;
        if (b && g->tl && rs->timeline_left > 0)
            ls_timeline_add(g->tl, i, st, start, end, b);
    }
    add_step_cost(g, rs, ic, busy);
    if (!b)
        return (event){end, 0, EV_DONE, i, -1, 0};
    if (rs->timeline_left > 0)
        rs->timeline_left--;
    g->iterations++;
    g->sum_seqs += (double)b->agg.n_seqs;
    g->sum_tokens += (double)b->agg.tokens;
    g->computed_tokens += (double)b->agg.tokens;
    if (rs->pp > 1 && stage0_end < end)
        ev_push(&g->ev, (event){stage0_end, g->seq++, EV_STAGE0_FREE, i, b->slot, 0});
    return (event){end, g->seq++, EV_DONE, i, b->slot, 0};
}

/* Cost the micro-batch just formed on replica i at `now` and run it (run_pipeline). */
static event launch(engine *g, int i, double now, const ls_mbatch_info *b)
{
    ls_iter_cost ic;
    step_cost(g, i, b, &ic);
    return run_pipeline(g, i, now, b, &ic);
}

/* launch on a replica of one stage without a timeline (done_direct's steps): the time of the
 * "done" event, whose sequence number is g->seq - 1 after the call (done_event). */
static inline __attribute__((always_inline)) double launch_one_stage(engine *g, int i, double now,
                                                                     const ls_mbatch_info *b)
{
    ls_iter_cost ic;
    step_cost(g, i, b, &ic);
    return one_stage_end(g, i, now, b, &ic);
}

/* The "done" event of the step launch_one_stage just ran. */
static inline event done_event(const engine *g, int i, double end, int slot)
{
    return (event){end, g->seq - 1, EV_DONE, i, slot, 0};
}

/* Form micro-batches on replica i while its first stage is free and fewer
 * than pp are in flight (in DP lockstep: on its whole group, lockstep.h). */
static void try_schedule(engine *g, int i, double now)
{
    if (g->lock) {
        ls_lockstep_schedule(g->lock, g, i, now);
        return;
    }
    rep_state *rs = &g->rep[i];
    while (rs->stage_free[0] <= now && ls_replica_in_flight(rs->r) < rs->pp) {
        ls_mbatch_info b;
        if (!ls_replica_schedule_fast(rs->r, now, &b))
            return;
        event done;
        if (!g->tl) {  /* launch without run_pipeline's call and tests */
            ls_iter_cost ic;
            step_cost(g, i, &b, &ic);
            done = rs->pp == 1 ? run_one_stage(g, i, now, &b, &ic) : run_stages(g, i, now, &b, &ic, false);
        } else {
            done = launch(g, i, now, &b);
        }
        ev_push(&g->ev, done);
        if (g->ahead)
            note_launch(g, rs, now);
    }
}

/* The limits within which decode steps run without the event queue. */
typedef struct direct_limits {
    double before;   /* a step ending at or after this waits its turn (next arrival, next event) */
    double horizon;  /* a step ending after this is past the horizon */
    volatile sig_atomic_t *stop;
} direct_limits;

/* Replica i's micro-batch ev is done at `now` (no hooks). The decode-only
 * steady state and sarathi's cohort-plus-chunks steps (ls_replica_decode_step)
 * are run step after step here while
 * each step ends before anything else happens (strictly before the next
 * arrival and the next queued event: those would go first), exactly as the
 * main loop would pop it: the same accounting, event count and sequence
 * numbers, only without the queue. Anything else goes the general way.
 * Returns the time of the last step done. */
static double done_direct(engine *g, const event *ev, double now, const direct_limits *lim)
{
    int i = ev->replica;
    rep_state *rs = &g->rep[i];
    int slot = ev->slot;
    assert(rs->pp == 1 && !g->tl);
    double livelock = 100.0 * g->arrived_tokens + 1e7;  /* no arrival in here: the main loop's bound */
    for (;;) {
        ls_mbatch_info b;
        int k = ls_replica_decode_step(rs->r, slot, now, &b);
        if (k < 0)
            ls_replica_complete(rs->r, slot, now);
        if (k <= 0) {
            try_schedule(g, i, now);
            return now;
        }
        assert(rs->stage_free[0] <= now);
        double end = launch_one_stage(g, i, now, &b);
        if (!(end < lim->before && end <= lim->horizon && !(lim->stop && *lim->stop) &&
              !(g->computed_tokens > livelock))) {
            ev_push(&g->ev, done_event(g, i, end, b.slot));
            return now;
        }
        now = end;  /* the main loop would pop this event next */
        g->now = now;
        g->events++;
        slot = b.slot;
    }
}

/* Event ev of replica i, of pp > 1 stages, is due at `now` (no hooks, lockstep or
 * timeline). It is handled as the main loop would, and so is every next event
 * while it is replica i's own and due strictly before the next arrival (which
 * would go first) within the limits: the replica's new events are held here
 * (push) rather than queued, and its queued ones are popped as they come up,
 * so each is taken in the main loop's (time, sequence number) order with the
 * same accounting and event count. Once another replica's event or an
 * arrival comes first, the held events are queued. Returns the time of the
 * last event handled. */
static __attribute__((noinline)) double pp_direct(engine *g, event e, double now, const direct_limits *lim)
{
    int i = e.replica;
    rep_state *rs = &g->rep[i];
    for (;;) {
        if (e.kind == EV_DONE)
            ls_replica_complete(rs->r, e.slot, now);
        /* try_schedule, the new events held */
        while (rs->stage_free[0] <= now && ls_replica_in_flight(rs->r) < rs->pp) {
            ls_mbatch_info b;
            if (!ls_replica_schedule_fast(rs->r, now, &b))
                break;
            ls_iter_cost ic;
            step_cost(g, i, &b, &ic);
            hold(g, run_stages(g, i, now, &b, &ic, true));
        }
        bool held = g->held0 < g->n_held;  /* then held[held0] is the first held event */
        bool queued = g->ev.n && (!held || ev_less(&g->ev.v[0], &g->held[g->held0]));
        if (!queued && !held)
            break;
        const event *nx = queued ? &g->ev.v[0] : &g->held[g->held0];
        if ((queued && (nx->replica != i || nx->kind == EV_HOOK)) || !(nx->t < lim->before && nx->t <= lim->horizon) ||
            (lim->stop && *lim->stop) || g->computed_tokens > 100.0 * g->arrived_tokens + 1e7)
            break;  /* the main loop's turn (an arrival, another replica, the horizon, a stop, a livelock) */
        if (queued) {
            e = ev_pop(&g->ev);
        } else {
            e = g->held[g->held0++];
            if (g->held0 == g->n_held)
                g->held0 = g->n_held = 0;
        }
        assert(e.t >= now);
        now = e.t;
        g->now = now;
        g->events++;
    }
    for (int j = g->held0; j < g->n_held; j++)
        ev_push(&g->ev, g->held[j]);
    g->held0 = g->n_held = 0;
    return now;
}

/* DP run-ahead (engine_ahead.h): as done_direct, but lim->before is the next
 * arrival the replica could be affected by (its own under a blind router, any
 * arrival otherwise), not the next queued event, and a general step (complete,
 * then schedule: try_schedule's one micro-batch of pp 1) continues the run
 * too. The steps run ahead of the queue; their reports wait in g->ahead.
 * Returns the time of the last step done. */
static double done_ahead(engine *g, const event *ev, double now, const direct_limits *lim)
{
    int i = ev->replica;
    rep_state *rs = &g->rep[i];
    int slot = ev->slot;
    assert(rs->pp == 1 && !g->tl);
    double livelock = 100.0 * g->arrived_tokens + 1e7;  /* no arrival in here: the main loop's bound */
    for (;;) {
        ls_mbatch_info b;
        int k = ls_replica_decode_step(rs->r, slot, now, &b);
        if (k <= 0) {
            if (k < 0)
                ls_replica_complete(rs->r, slot, now);
            if (ls_replica_in_flight(rs->r) >= rs->pp || rs->stage_free[0] > now ||
                !ls_replica_schedule_fast(rs->r, now, &b))
                return now;  /* idle until an arrival */
        }
        /* launch (run_pipeline of one stage without a timeline: run_one_stage) for either step */
        double end = launch_one_stage(g, i, now, &b);
        /* note_launch, where the phase is always a step's (the main loop's events) */
        assert(g->phase == LS_AHEAD_STEP);
        rs->launch_pt = rs->launch_t;
        rs->launch_t = now;
        rs->launch_depth++;
        if (!(end < lim->before && end <= lim->horizon && !(lim->stop && *lim->stop) &&
              !(g->computed_tokens > livelock))) {
            ev_push(&g->ev, done_event(g, i, end, b.slot));
            return now;
        }
        now = end;
        g->now = now;
        g->events++;
        slot = b.slot;
    }
}

void ls_engine_step_cost(ls_engine *g, int i, const ls_mbatch_info *b, ls_iter_cost *ic)
{
    assert(i >= 0 && i < g->dp);
    step_cost(g, i, b, ic);
}

double ls_engine_launch(ls_engine *g, int i, const ls_mbatch_info *b, const ls_iter_cost *ic, double now)
{
    assert(i >= 0 && i < g->dp);
    event done = run_pipeline(g, i, now, b, ic);
    if (b)
        ev_push(&g->ev, done);
    return done.t;
}

double ls_engine_stage0_free(const ls_engine *g, int i)
{
    assert(i >= 0 && i < g->dp);
    return g->rep[i].stage_free[0];
}

void ls_engine_push(ls_engine *g, double t, int32_t payload)
{
    assert(t >= g->now && g->hooks);
    ev_push(&g->ev, (event){t, g->seq++, EV_HOOK, -1, payload, 0});
}

ls_replica *ls_engine_replica(ls_engine *g, int i)
{
    assert(i >= 0 && i < g->dp);
    return g->rep[i].r;
}

void ls_engine_kick(ls_engine *g, int i, double now)
{
    try_schedule(g, i, now);
}

void ls_engine_report(ls_engine *g, int replica, const ls_req_done *d)
{
    count_done(g, replica, d);
}

void ls_engine_replica_work(const ls_engine *g, int i, double *busy_s, double *flops, double *bytes)
{
    assert(i >= 0 && i < g->dp);
    *busy_s = g->rep[i].busy_s;
    *flops = g->rep[i].flops;
    *bytes = g->rep[i].bytes;
}

static void fill_latency(ls_metrics *m, int first, ls_quantiles *v)
{
    static const double q[4] = {50, 90, 95, 99};
    m->v[first + 0] = ls_quant_mean(v);
    ls_quant_percentiles(v, q, 4, &m->v[first + 1]);
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A run allocates its replicas' requests, caches and latencies and frees them at the end; a sweep
 * rank runs thousands of runs in one process. glibc gave a run's freed memory back to the kernel
 * (heap top trimmed past 128 KB, blocks past the mmap threshold unmapped), and the next run faulted
 * every page in again: on this VM a fault costs ~15 µs, which was 40% of plan tp2pp1dp8's CPU time
 * and a sixth of the 10k case's (docs/ENGINE.md). Once per process, the heap is kept instead (up to
 * 256 MB of free top, blocks below 32 MB from the heap): peak memory is unchanged. */
static void keep_heap(void)
{
#if defined(__GLIBC__) && defined(M_TRIM_THRESHOLD) && defined(M_MMAP_THRESHOLD)
    static bool done;
    if (done)
        return;
    done = true;
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
#endif
}

ls_status ls_engine_simulate(const ls_engine_setup *s, ls_metrics *m, ls_error *e)
{
    keep_heap();
    double wall0 = wall_now(), now = 0;
    engine g;
    memset(&g, 0, sizeof g);
    g.s = s;
    g.hooks = s->hooks;
    g.dp = s->n_replicas > 0 ? s->n_replicas : s->cfg->dp;
    g.itl = ls_itl_new();
    g.first_arrival = NAN;
    g.last_completion = NAN;
    g.rep = ls_xcalloc((size_t)g.dp, sizeof *g.rep);
    int *touched = ls_xcalloc((size_t)g.dp, sizeof *touched), n_touched = 0;  /* rep[i].touched: i ascending */
    /* one allocation each instead of doublings: their copies into fresh pages
     * were a tenth of a 10k-request run (docs/ENGINE.md) */
    ls_quant_reserve(&g.ttft, s->expected_requests);
    ls_quant_reserve(&g.tpot, s->expected_requests);
    ls_quant_reserve(&g.e2e, s->expected_requests);
    ls_quant_reserve(&g.queue, s->expected_requests);
    const ls_run_opts *o = s->opts;
    ls_status rc = LS_OK;
    if (o && o->timeline_path) {
        rc = ls_timeline_open(o->timeline_path, &g.tl, e);
        if (rc)
            goto out;
    }
    for (int i = 0; i < g.dp; i++) {
        g.rep[i].sched = s->scheds ? &s->scheds[i] : &s->sched;
        g.rep[i].pp = s->pps ? s->pps[i] : s->cfg->pp;
        g.rep[i].r = ls_replica_new(g.rep[i].sched, g.rep[i].pp, i, on_done, on_itl, &g);
        ls_replica_set_cost(g.rep[i].r, s->cost[i]);
        g.rep[i].cost = s->cost[i];
        if (o && o->on_first_token && !s->hooks)
            ls_replica_set_first_token(g.rep[i].r, on_first);
        g.rep[i].timeline_left = o && o->timeline_path ? (o->timeline_iterations > 0 ? o->timeline_iterations : 1000) : 0;
    }
    g.spec = ls_spec_track_new(&s->cfg->spec, s->cfg->seed, s->sched.max_model_len);
    if (s->lockstep > 1) {
        assert(!s->hooks && !s->pps && g.dp % s->lockstep == 0);
        g.lock = ls_lockstep_new(g.dp, s->lockstep, s->cfg->pp, s->lockstep_pad_max);
    }
    g.class_tab = s->cfg->workload ? ls_workload_classes(s->cfg->workload) : NULL;
    g.classes = ls_class_track_new(g.class_tab, s->cfg->slo_ttft_s, s->cfg->slo_tpot_s);
    /* DP run-ahead: replicas that do not interact between arrivals (docs/ENGINE.md, "Events") */
    bool ahead = g.dp > 1 && !g.hooks && !g.lock && !g.tl && !(o && o->no_run_ahead);
    for (int i = 0; i < g.dp && ahead; i++)
        ahead = g.rep[i].pp == 1;
    if (ahead)
        g.ahead = ls_ahead_new(g.dp);
    /* An SLO watch (on_request_any_order) only counts the rows: given them as the replicas run ahead, it stops
     * the run as soon as the set of rows settles the verdict (slo_watch.h), instead of
     * waiting for the queue's order, which a replica draining ahead would hold back. */
    g.row_now = ahead && o && o->on_request_any_order;
    if (ahead && s->cfg->router->blind)  /* each replica runs ahead to its own next arrival */
        g.feed = ls_ahead_feed_new(s->src, g.dp, g.dp, s->arrival_limit_s, s->cfg->drain ? INFINITY : s->horizon_s,
                                   route_ahead, &g);
    g.phase = LS_AHEAD_STEP;
    g.weight_stream = s->weight_stream_s > 0;
    g.peak_flops = s->cost[0]->peak_flops * g.dp;
    g.peak_bw = s->cost[0]->peak_bw * g.dp;

    ls_request next;
    int next_replica = -1;  /* with a feed: the replica `next` was routed to */
    int have = g.feed ? ls_ahead_feed_next(g.feed, &next, &next_replica, e) : ls_source_next(s->src, &next, e);
    if (have < 0) {
        rc = e ? e->code : LS_EIO;
        if (rc == LS_OK)
            rc = LS_EIO;
        goto out;
    }
    bool stop_at_horizon = !s->cfg->drain;
    /* pp_direct with one replica (with DP, other replicas' events interleave: it would rarely run) */
    bool pp_direct_ok = !g.hooks && !g.lock && !g.tl && g.dp == 1;
    double horizon = s->horizon_s, arrival_limit = s->arrival_limit_s;
    /* the run's invariants as locals (g's address is out: its fields are reloaded after every call) */
    volatile sig_atomic_t *stop = o ? o->stop : NULL;
    bool plain_events = !g.hooks && !g.lock && !g.tl;  /* a one-stage replica's "done" goes to done_direct/ahead */
    for (;;) {
        if (stop && *stop) {
            rc = ls_fail(e, LS_EINTERRUPTED, "simulation interrupted at t = %.3f s", now);
            goto out;
        }
        double t_arr = have ? (double)next.arrival_ns * 1e-9 : INFINITY;
        if (have && t_arr > arrival_limit) {
            have = 0;  /* arrivals stop at the workload's duration */
            t_arr = INFINITY;
        }
        double t_ev = g.ev.n ? g.ev.v[0].t : INFINITY;
        if (!have && g.ev.n == 0)
            break;
        double t = t_arr <= t_ev ? t_arr : t_ev;
        if (stop_at_horizon && t > horizon) {
            now = horizon;
            break;
        }
        assert(t >= now);  /* time never goes back */
        now = t;
        g.now = now;
        g.events++;
        if (t_arr <= t_ev) {
            if (isnan(g.first_arrival))
                g.first_arrival = t_arr;
            /* Every request arriving at this instant is queued before any
             * replica schedules (vLLM drains its input queue before each
             * step): otherwise tied arrivals would land in different steps.
             * The router still sees the earlier ones (outstanding, tie_blocks). */
            int64_t t_ns = next.arrival_ns;
            if (g.ahead) {  /* every replica has run its steps that end before now: their reports are final */
                ls_ahead_flush(g.ahead, now, emit_done, &g);
                g.phase = LS_AHEAD_ARRIVAL;
            }
            g.events--;  /* counted below, one per arrival */
            do {
                g.events++;
                int i = g.feed ? next_replica : route(&g, &next);
                int32_t out_sched = g.spec ? ls_spec_track_add(g.spec, g.n_req, next.class_id, next.prompt_tokens,
                                                               next.output_tokens)
                                           : next.output_tokens;
                int32_t cls = next.class_id > 0 && g.classes ? next.class_id : 0, prio = 0;
                if (g.classes) {
                    ls_class_track_add(g.classes, g.n_req, cls);
                    prio = g.class_tab->c[cls].priority;
                }
                ls_replica_add_prio(g.rep[i].r, g.n_req, next.prompt_tokens, out_sched, next.hash_ids,
                                    next.n_hash_ids, prio, t_arr, s->cfg->timeout_s);
                int bs = g.rep[i].sched->block_size;
                g.rep[i].tie_blocks += ((int64_t)next.prompt_tokens + bs - 1) / bs;
                if (!g.rep[i].touched) {
                    g.rep[i].touched = true;
                    int j = n_touched++;  /* kept in replica order (an instant's arrivals mostly touch one) */
                    for (; j > 0 && touched[j - 1] > i; j--)
                        touched[j] = touched[j - 1];
                    touched[j] = i;
                }
                g.n_req++;
                g.arrived_tokens += (double)next.prompt_tokens + (double)next.output_tokens + 2.0;
                have = g.feed ? ls_ahead_feed_next(g.feed, &next, &next_replica, e) : ls_source_next(s->src, &next, e);
                if (have < 0) {
                    rc = e ? e->code : LS_EIO;
                    if (rc == LS_OK)
                        rc = LS_EIO;
                    goto out;
                }
            } while (have && next.arrival_ns == t_ns);
            for (int j = 0; j < n_touched; j++) {
                int i = touched[j];
                g.rep[i].touched = false;
                g.rep[i].tie_blocks = 0;
                if (g.hooks)
                    g.hooks->after_step(g.hooks->ctx, &g, i, now);
                try_schedule(&g, i, now);
            }
            n_touched = 0;
            g.phase = LS_AHEAD_STEP;
        } else {
            /* A scheduler that recomputes without end would hang a sweep rank:
             * fail instead once the work is 100x what the arrivals need. */
            if (g.computed_tokens > 100.0 * g.arrived_tokens + 1e7) {
                rc = ls_fail(e, LS_EINTERNAL,
                             "the simulation makes no progress at t = %.3f s (%.3g tokens computed for %.3g requested): "
                             "a scheduler livelock, please report it",
                             now, g.computed_tokens, g.arrived_tokens);
                goto out;
            }
            if (plain_events && !pp_direct_ok && !(g.ev.v[0].kind == EV_DONE && g.rep[g.ev.v[0].replica].pp == 1)) {
                /* the general way without hooks or lockstep (PP under DP): the event's place in the
                 * heap goes to the first event its step pushes (nothing reads the queue before) */
                event ev = ev_take(&g.ev);
                if (ev.kind == EV_DONE)
                    ls_replica_complete(g.rep[ev.replica].r, ev.slot, now);
                /* not the call where try_schedule does nothing (a step done while the next one holds stage 0) */
                if (g.rep[ev.replica].stage_free[0] <= now)
                    try_schedule(&g, ev.replica, now);
                ev_settle(&g.ev);
                continue;
            }
            event ev = ev_pop(&g.ev);
            if (ev.kind == EV_HOOK) {
                g.hooks->on_event(g.hooks->ctx, &g, ev.slot, now);
                continue;
            }
            if (ev.kind == EV_DONE && plain_events && g.rep[ev.replica].pp == 1) {
                double t_next = g.ev.n ? g.ev.v[0].t : INFINITY;
                if (t_arr < t_next)
                    t_next = t_arr;  /* INFINITY when no arrival is left */
                if (g.ahead) {
                    direct_limits lim = {g.feed ? ls_ahead_feed_limit(g.feed, ev.replica) : t_arr,
                                         stop_at_horizon ? horizon : INFINITY, stop};
                    double t_done = done_ahead(&g, &ev, now, &lim);
                    if (t_done > g.ahead_t)  /* ahead of the queue: the loop's clock stays with the queue */
                        g.ahead_t = t_done;
                    if (o && o->ahead_steps && t_done >= t_next)
                        ++*o->ahead_steps;
                    continue;
                }
                direct_limits lim = {t_next, stop_at_horizon ? horizon : INFINITY, stop};
                now = done_direct(&g, &ev, now, &lim);
                continue;
            }
            if (pp_direct_ok) {  /* pp > 1 here */
                direct_limits lim = {t_arr, stop_at_horizon ? horizon : INFINITY, stop};
                now = pp_direct(&g, ev, now, &lim);
                continue;
            }
            if (ev.kind == EV_DONE)
                ls_replica_complete(g.rep[ev.replica].r, ev.slot, now);
            if (g.hooks)
                g.hooks->after_step(g.hooks->ctx, &g, ev.replica, now);
            /* not the call where try_schedule does nothing (PP: a step done while the next one holds stage 0) */
            if (g.lock || g.rep[ev.replica].stage_free[0] <= now)
                try_schedule(&g, ev.replica, now);
        }
    }
    if (now < g.ahead_t)  /* the last step run ahead (not past a horizon: no step was run beyond it) */
        now = g.ahead_t;
    ls_ahead_flush(g.ahead, INFINITY, emit_done, &g);
    /* What is left: unfinished (or timed out) requests. */
    g.phase = LS_AHEAD_END;
    g.now = now;
    for (int i = 0; i < g.dp; i++)
        ls_replica_finish_all(g.rep[i].r, now);
    ls_ahead_flush(g.ahead, INFINITY, emit_done, &g);
    g.now = now;
    if (g.hooks)
        g.hooks->finish(g.hooks->ctx, &g, now, m);

    /* ---- metrics */
    double t0 = isnan(g.first_arrival) ? 0.0 : g.first_arrival;
    double sim = now - t0;
    fill_latency(m, LS_M_TTFT_MEAN_S, &g.ttft);
    fill_latency(m, LS_M_TPOT_MEAN_S, &g.tpot);
    fill_latency(m, LS_M_E2E_MEAN_S, &g.e2e);
    fill_latency(m, LS_M_QUEUE_MEAN_S, &g.queue);
    m->v[LS_M_ITL_MEAN_S] = ls_itl_mean(g.itl);
    m->v[LS_M_ITL_P50_S] = ls_itl_percentile(g.itl, 50);
    m->v[LS_M_ITL_P90_S] = ls_itl_percentile(g.itl, 90);
    m->v[LS_M_ITL_P95_S] = ls_itl_percentile(g.itl, 95);
    m->v[LS_M_ITL_P99_S] = ls_itl_percentile(g.itl, 99);
    int64_t done = g.n_status[LS_REQ_COMPLETED];
    double span = isnan(g.last_completion) ? NAN : g.last_completion - t0;
    bool span_ok = span > 0;
    m->v[LS_M_THROUGHPUT_RPS] = span_ok ? (double)done / span : (done ? NAN : 0.0);
    m->v[LS_M_OUTPUT_TPS] = span_ok ? g.out_tokens / span : (done ? NAN : 0.0);
    m->v[LS_M_TOTAL_TPS] = span_ok ? g.total_tokens / span : (done ? NAN : 0.0);
    m->v[LS_M_GOODPUT_RPS] = span_ok ? (double)g.n_good / span : (done ? NAN : 0.0);
    m->v[LS_M_SLO_ATTAINMENT] = g.n_req ? (double)g.n_good / (double)g.n_req : NAN;
    m->v[LS_M_SUCCESS_RATE] = g.n_req ? (double)done / (double)g.n_req : NAN;
    m->v[LS_M_N_REQUESTS] = (double)g.n_req;
    m->v[LS_M_N_COMPLETED] = (double)done;
    m->v[LS_M_N_REJECTED_TOO_LONG] = (double)g.n_status[LS_REQ_REJECTED_TOO_LONG];
    m->v[LS_M_N_REJECTED_KV] = (double)g.n_status[LS_REQ_REJECTED_KV];
    m->v[LS_M_N_TIMEOUT] = (double)g.n_status[LS_REQ_TIMEOUT];
    m->v[LS_M_N_UNFINISHED] = (double)g.n_status[LS_REQ_UNFINISHED];
    int64_t pre = 0, rec = 0;
    double area = 0, all_blocks = 0, kv_max = 0;
    for (int i = 0; i < g.dp; i++) {
        pre += ls_replica_preemptions(g.rep[i].r);
        rec += ls_replica_recomputed(g.rep[i].r);
        area += ls_replica_kv_area(g.rep[i].r, now);
        double nb = (double)g.rep[i].sched->kv_blocks;
        all_blocks += nb;
        if (nb > 0 && (double)ls_replica_kv_max(g.rep[i].r) / nb > kv_max)
            kv_max = (double)ls_replica_kv_max(g.rep[i].r) / nb;
    }
    ls_kvcache_stats pst = {0}, one;
    bool caching = false;
    for (int i = 0; i < g.dp; i++)
        if (ls_replica_prefix_stats(g.rep[i].r, &one)) {
            caching = true;
            pst.lookups += one.lookups;
            pst.query_tokens += one.query_tokens;
            pst.hit_tokens += one.hit_tokens;
            pst.evicted_blocks += one.evicted_blocks;
            pst.offload_hit_tokens += one.offload_hit_tokens;
            pst.loaded_blocks += one.loaded_blocks;
            pst.stored_blocks += one.stored_blocks;
        }
    if (caching) {
        m->v[LS_M_PREFIX_HIT_RATE] = pst.query_tokens ? (double)pst.hit_tokens / (double)pst.query_tokens : NAN;
        m->v[LS_M_PREFIX_CACHED_TOKENS_MEAN] = pst.lookups ? (double)pst.hit_tokens / (double)pst.lookups : NAN;
        m->v[LS_M_PREFIX_EVICTED_BLOCKS] = (double)pst.evicted_blocks;
    }
    if (caching && s->offload_s_per_block > 0) {
        m->v[LS_M_OFFLOAD_HIT_RATE] = pst.query_tokens ? (double)pst.offload_hit_tokens / (double)pst.query_tokens : NAN;
        m->v[LS_M_OFFLOAD_BLOCKS_LOADED] = (double)pst.loaded_blocks;
        m->v[LS_M_OFFLOAD_BLOCKS_STORED] = (double)pst.stored_blocks;
        m->v[LS_M_OFFLOAD_LINK_S] = g.offload_s;
    }
    ls_kvswap_stats sw = {0}, w1;
    bool swapping = false;
    for (int i = 0; i < g.dp; i++)
        if (ls_replica_swap_stats(g.rep[i].r, &w1)) {
            swapping = true;
            sw.outs += w1.outs;
            sw.ins += w1.ins;
            sw.fallbacks += w1.fallbacks;
            sw.blocks_out += w1.blocks_out;
            sw.blocks_in += w1.blocks_in;
        }
    if (swapping) {
        m->v[LS_M_N_SWAP_OUTS] = (double)sw.outs;
        m->v[LS_M_N_SWAP_INS] = (double)sw.ins;
        m->v[LS_M_N_SWAP_FALLBACKS] = (double)sw.fallbacks;
        m->v[LS_M_SWAP_OUT_GB] = (double)sw.blocks_out * s->swap_block_bytes / 1e9;
        m->v[LS_M_SWAP_IN_GB] = (double)sw.blocks_in * s->swap_block_bytes / 1e9;
        m->v[LS_M_SWAP_LINK_S] = g.swap_s;
    }
    double blocks = (double)s->sched.kv_blocks;
    m->v[LS_M_N_PREEMPTIONS] = (double)pre;
    m->v[LS_M_RECOMPUTED_TOKENS] = (double)rec;
    m->v[LS_M_MEAN_BATCH_SIZE] = g.iterations ? g.sum_seqs / (double)g.iterations : NAN;
    m->v[LS_M_MEAN_BATCH_TOKENS] = g.iterations ? g.sum_tokens / (double)g.iterations : NAN;
    m->v[LS_M_KV_USAGE_MEAN] = sim > 0 && all_blocks > 0 ? area / (all_blocks * sim) : NAN;
    m->v[LS_M_KV_USAGE_MAX] = all_blocks > 0 ? kv_max : NAN;
    /* busy_s sums each replica's busy time; peak_* are over all replicas */
    m->v[LS_M_MFU_MEAN] = g.busy_s > 0 && g.peak_flops > 0 ? g.flops / (g.peak_flops / g.dp * g.busy_s) : NAN;
    m->v[LS_M_MBU_MEAN] = g.busy_s > 0 && g.peak_bw > 0 ? g.bytes / (g.peak_bw / g.dp * g.busy_s) : NAN;
    m->v[LS_M_MAX_NUM_BATCHED_TOKENS] = (double)s->sched.max_batched_tokens;
    m->v[LS_M_KV_BLOCKS] = blocks;
    m->v[LS_M_SIM_TIME_S] = sim;
    m->v[LS_M_ITERATIONS] = (double)g.iterations;
    m->v[LS_M_EVENTS] = (double)g.events;
    ls_spec_track_metrics(g.spec, m);
    if (g.lock)
        m->v[LS_M_DP_SYNC_WAIT_FRAC] = ls_lockstep_wait_fraction(g.lock);
    if (g.classes)
        ls_class_track_metrics(g.classes, span, m);
    m->v[LS_M_WALL_TIME_S] = wall_now() - wall0;
out:
    ls_ahead_flush(g.ahead, now, emit_done, &g);  /* a failed run: the reports before the queue's clock */
    ls_ahead_free(g.ahead);
    ls_ahead_feed_free(g.feed);
    ls_spec_track_free(g.spec);
    ls_lockstep_free(g.lock);
    ls_class_track_free(g.classes);
    if (g.tl) {
        ls_status rc2 = ls_timeline_close(g.tl, rc ? NULL : e);
        if (!rc)
            rc = rc2;
    }
    for (int i = 0; i < g.dp; i++)
        ls_replica_free(g.rep[i].r);
    free(g.rep);
    free(touched);
    free(g.ev.v);
    ls_itl_free(g.itl);
    ls_quant_free(&g.ttft);
    ls_quant_free(&g.tpot);
    ls_quant_free(&g.e2e);
    ls_quant_free(&g.queue);
    return rc;
}
