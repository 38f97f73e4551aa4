/* capacity.c -- the highest arrival rate a configuration serves within its SLO.
 *
 * A search on the arrival rate: every run uses the configuration's seed, so
 * two runs differ only by the rate (for synthetic arrivals the same random
 * draws are rescaled in time), which keeps "meets the SLO" close to monotone
 * in the rate. The search brackets the threshold: `capacity_rps` met the SLO,
 * `failing_rps` did not, and they are within rel_tol of each other unless
 * max_runs ran out first. Capacity is a property of the served load, so it
 * depends on duration_s too (a longer window lets queues grow further).
 *
 * The search never looks at the rate the configuration is listed at: it starts
 * at LS_CAPACITY_START_RPS (or the caller's rate_lo or rate_start), doubles until
 * a probe fails (or halves until one passes), then narrows the bracket, so every
 * listing of the same configuration gets the same probes and the identical
 * capacity. Narrowing is plain bisection, or (the default) guided: the rates the
 * caller runs anyway (given_rates: a sweep's listed rates) first, then where the
 * runs seen so far say the SLO breaks (next_rate). Either way the answer is a
 * bracket of probes; the guide only chooses where to probe.
 *
 * Cost: each probe is a full simulation, O(log2(range/tol)) probes (about 11
 * for a capacity near 6 req/s at 5% from 0.25 req/s); guided, fewer of them
 * run whole (docs/PLAN.md, "Speed"). */
#include "capacity.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"
#include "slo_watch.h"
#include "workload.h"

void ls_capacity_opts_default(ls_capacity_opts *o)
{
    o->rate_lo = 0;
    o->rate_hi = 0;
    o->rel_tol = 0.05;
    o->max_runs = 24;
    o->rate_start = 0;
    o->rate_floor = 0;
    o->known = NULL;
    o->known_rate = 0;
    o->hooks = NULL;
    o->given_rates = NULL;
    o->n_given_rates = 0;
    o->bisect = false;
    o->stop = NULL;
}

bool ls_capacity_meets_slo(const ls_run_config *c, const ls_metrics *m)
{
    if (m->status != LS_RUN_OK)
        return false;
    double ttft = m->v[LS_M_TTFT_P99_S], tpot = m->v[LS_M_TPOT_P99_S];
    double succ = m->v[LS_M_SUCCESS_RATE];
    /* NaN TTFT (nothing completed) fails; NaN TPOT (no multi-token output) has nothing to violate */
    return ttft <= c->slo_ttft_s && (isnan(tpot) || tpot <= c->slo_tpot_s) &&
           succ >= LS_CAPACITY_MIN_SUCCESS;
}

/* What the guided search reads from a whole run (NaN where it does not apply). */
typedef struct run_facts {
    /* The larger of TTFT p99 / its limit and TPOT p99 / its limit: > 1 where a latency
     * limit is missed. NaN for a run that is not ok, fails by its success rate (no
     * latency says where the threshold is), or has no TTFT. */
    double margin;
    double ttft_p99_s;
    double n_requests;
} run_facts;

static run_facts facts_of(const ls_run_config *c, const ls_metrics *m)
{
    run_facts f = {NAN, m->v[LS_M_TTFT_P99_S], (double)m->v[LS_M_N_REQUESTS]};
    if (m->status != LS_RUN_OK || !(m->v[LS_M_SUCCESS_RATE] >= LS_CAPACITY_MIN_SUCCESS))
        return f;
    double t = m->v[LS_M_TTFT_P99_S] / c->slo_ttft_s;
    if (!(t > 0) || !isfinite(t))
        return f;
    double q = m->v[LS_M_TPOT_P99_S] / c->slo_tpot_s;
    f.margin = q > t ? q : t; /* a NaN TPOT (no request with two tokens) leaves the TTFT's */
    return f;
}

static const run_facts no_facts = {NAN, NAN, NAN};

typedef struct probe_ctx {
    ls_run_config *c;
    double min_rate;          /* never probe below this (see ls_capacity_search) */
    int runs;
    int max_runs;
    const ls_metrics *known;  /* a run made at known_rate, taken for the first probe at that rate */
    double known_rate;
    const ls_capacity_hooks *h; /* NULL: none */
    int simulated, stopped;
    const double *given;      /* ls_capacity_opts.given_rates */
    int n_given;
    volatile sig_atomic_t *stop; /* ls_capacity_opts.stop */
} probe_ctx;

static ls_status probe_once(probe_ctx *p, double rate, bool *meets, bool *infeasible, run_facts *f,
                            ls_error *e);

/* Whether `rate` is one of the given rates (their runs are whole whatever the hooks do). */
static bool is_given(const probe_ctx *p, double rate)
{
    for (int i = 0; i < p->n_given; i++)
        if (rate == p->given[i]) /* exactly: the sweep's whole() hook compares exactly too */
            return true;
    return false;
}

/* Run at `rate`: *meets = the SLO test; *infeasible when the weights do not fit;
 * *f = the run's facts where the search may use them: a run that met the SLO (always
 * whole), or one at a given rate; none otherwise. A failing run elsewhere is whole
 * without hooks and stopped early with them, so using its facts would let the hooks
 * change the answer. */
static ls_status probe(probe_ctx *p, double rate, bool *meets, bool *infeasible, run_facts *f,
                       ls_error *e)
{
    run_facts m = no_facts;
    if (p->stop && *p->stop)
        return ls_fail(e, LS_EINTERRUPTED, "capacity search interrupted");
    ls_status rc = probe_once(p, rate, meets, infeasible, &m, e);
    *f = (rc == LS_OK && (*meets || is_given(p, rate))) ? m : no_facts;
    if (p->h && p->h->between)
        p->h->between(p->h->ctx);
    return rc;
}

static ls_status probe_once(probe_ctx *p, double rate, bool *meets, bool *infeasible, run_facts *f,
                            ls_error *e)
{
    assert(p->runs < p->max_runs);
    if (p->known && p->runs == 0 && fabs(rate - p->known_rate) <= 1e-9 * rate) {
        /* the caller ran this configuration at this rate already: same seed, same requests */
        *infeasible = p->known->status == LS_RUN_INFEASIBLE;
        *meets = ls_capacity_meets_slo(p->c, p->known);
        *f = facts_of(p->c, p->known);
        p->known = NULL;
        p->runs++;
        return LS_OK;
    }
    LS_TRY(ls_config_set_arrival_rate(p->c, rate, e));
    p->runs++;
    const ls_capacity_hooks *h = p->h;
    const ls_metrics *seen = h && h->lookup ? h->lookup(h->ctx, p->c) : NULL;
    if (seen) {
        /* the same configuration at the same rate, run whole before: its outcome */
        *infeasible = seen->status == LS_RUN_INFEASIBLE;
        *meets = ls_capacity_meets_slo(p->c, seen);
        *f = facts_of(p->c, seen);
        return LS_OK;
    }
    ls_run_opts opts;
    memset(&opts, 0, sizeof opts);
    if (h && h->requests)
        LS_TRY(h->requests(h->ctx, p->c, &opts.requests, e));
    /* only the verdict is wanted unless a listing will want the metrics */
    ls_slo_watch w;
    bool watched = opts.requests && !(h->whole && h->whole(h->ctx, p->c)) &&
                   ls_slo_watch_init(&w, p->c, opts.requests->n);
    opts.stop = p->stop; /* a watched run's own flag replaces it: the search checks p->stop next */
    if (watched)
        ls_slo_watch_attach(&w, &opts); /* its own stop flag */
    ls_metrics m;
    ls_metrics_init(&m);
    p->simulated++;
    ls_status rc = ls_run(p->c, &opts, &m, e);
    if (rc == LS_EINTERRUPTED && watched && w.stop) {
        ls_error_clear(e);
        p->stopped++;
        *infeasible = false;
        *meets = false; /* certain: see slo_watch.h */
        return LS_OK;
    }
    LS_TRY(rc);
    *infeasible = m.status == LS_RUN_INFEASIBLE;
    *meets = ls_capacity_meets_slo(p->c, &m);
    *f = facts_of(p->c, &m);
    if (h && h->store) /* a watched run that ran to its end is the unwatched run exactly */
        h->store(h->ctx, p->c, &m);
    return LS_OK;
}

/* What the search knows: the bracket, the margin at its passing end, and the lowest
 * failing rate with a margin (at or above hi). */
/* What the search knows: the bracket, the facts at its passing end, and the facts of
 * the lowest failing run that has them (at or above hi). */
typedef struct bracket {
    double lo, hi;      /* lo met the SLO, hi did not (NaN: not found yet) */
    run_facts at_lo;
    double fail_r;      /* lowest failing rate with facts (NaN: none) */
    run_facts at_fail;
    int same_side;      /* guided probes in a row that moved the same end */
    int last_side;      /* +1: the last guided probe passed, -1: failed, 0: none */
} bracket;

static void note(bracket *b, double r, bool ok, const run_facts *f)
{
    if (ok) {
        b->lo = r;
        b->at_lo = *f;
    } else {
        b->hi = r;
        if (isfinite(f->margin) && (isnan(b->fail_r) || r < b->fail_r)) {
            b->fail_r = r;
            b->at_fail = *f;
        }
    }
}

/* Where the SLO is expected to break, from the lowest failing run with facts (NaN: no
 * estimate). When its TTFT misses, the run is overloaded: arrivals outpace service, the
 * queue grows through the window, and the request arriving at time t waits about
 * t (1/mu - 1/r) (mu the service rate), so the p99 TTFT of n requests at rate r is
 * about 0.99 n (1/mu - 1/r) over what it is unloaded. Solving that for the rate at which
 * it equals the limit, with mu from the failing run itself, gives
 *     1/r* = 1/r_f + (ttft_f - limit) / (0.99 n).
 * Queueing below saturation makes the real threshold somewhat lower. Otherwise (the
 * TPOT misses), the log of the margin, linear between lo and that run, crossing 1. */
static double threshold_estimate(const probe_ctx *p, const bracket *b)
{
    const run_facts *f = &b->at_fail;
    if (isnan(b->fail_r))
        return NAN;
    double limit = p->c->slo_ttft_s;
    if (f->ttft_p99_s > limit && f->n_requests >= 1 && f->ttft_p99_s / limit >= f->margin * (1 - 1e-12))
        return 1 / (1 / b->fail_r + (f->ttft_p99_s - limit) / (0.99 * f->n_requests));
    double mlo = b->at_lo.margin;
    if (mlo > 0 && isfinite(mlo) && f->margin > mlo) {
        double x = log(mlo), y = log(f->margin);
        return b->lo + (b->fail_r - b->lo) * (-x / (y - x));
    }
    return NAN;
}

/* The next probe inside (lo, hi) while (hi - lo) / lo > tol. Bisection: the midpoint
 * (geometric while the bracket is wide). Guided: a given rate inside the bracket first
 * (the one nearest its geometric middle: its run is made anyway); else the threshold
 * estimate kept at least a tolerance step from either end, so that a probe that lands on
 * the predicted side ends the search; the midpoint where there is no estimate, or after
 * two guided probes in a row moved the same end (the estimate keeps falling on one side). */
static double next_rate(const probe_ctx *p, const bracket *b, double tol, bool bisect, bool *guided)
{
    double lo = b->lo, hi = b->hi;
    double mid = (hi / lo > 4) ? sqrt(lo * hi) : 0.5 * (lo + hi);
    *guided = false;
    if (bisect)
        return mid;
    double best = NAN, gm = log(sqrt(lo) * sqrt(hi));
    for (int i = 0; i < p->n_given; i++) {
        double r = p->given[i];
        if (r > lo * (1 + 1e-9) && r < hi * (1 - 1e-9) &&
            (isnan(best) || fabs(log(r) - gm) < fabs(log(best) - gm)))
            best = r;
    }
    if (!isnan(best))
        return best;
    double est = threshold_estimate(p, b);
    if (!isfinite(est) || b->same_side >= 2)
        return mid;
    double step = 1 + 0.999 * tol;
    double a = lo * step, z = hi / step;
    *guided = true;
    if (!(a < z))
        return sqrt(lo) * sqrt(hi); /* one probe anywhere near the middle ends it */
    return est < a ? a : est > z ? z : est;
}

static ls_status search(probe_ctx *p, const ls_capacity_opts *o, ls_capacity_result *out,
                        ls_error *e)
{
    bool ok = false, inf = false;
    run_facts m = no_facts;
    bracket b = {NAN, NAN, no_facts, NAN, no_facts, 0, 0};
    double start = o->rate_lo > 0 ? o->rate_lo : o->rate_start > 0 ? o->rate_start : LS_CAPACITY_START_RPS;
    LS_TRY(probe(p, start, &ok, &inf, &m, e));
    if (inf)
        return LS_OK; /* capacity stays NaN */
    note(&b, start, ok, &m);
    if (!ok) {
        /* a given rate_lo that fails ends the search: capacity 0 (below the floor when it is the floor) */
        if (o->rate_lo > 0) {
            out->capacity_rps = 0;
            out->failing_rps = b.hi;
            out->below_floor = o->rate_floor > 0 && b.hi == o->rate_floor;
            return LS_OK;
        }
        /* halve down to a passing rate, at most 10 times (1/1024 of the start),
         * and never below min_rate: a window with a handful of requests "meets"
         * a TPOT limit the configuration misses for every real load */
        for (int k = 0; k < 10 && p->runs < p->max_runs; k++) {
            double r = b.hi / 2;
            if (o->rate_floor > 0 && r < o->rate_floor) {
                if (!(b.hi > o->rate_floor))
                    break; /* failed at the floor itself */
                r = o->rate_floor;
            }
            if (r < p->min_rate)
                break;
            LS_TRY(probe(p, r, &ok, &inf, &m, e));
            note(&b, r, ok, &m);
            if (ok)
                break;
        }
        if (isnan(b.lo)) {
            out->capacity_rps = 0;
            out->failing_rps = b.hi;
            out->below_floor = o->rate_floor > 0 && b.hi == o->rate_floor;
            return LS_OK;
        }
    }
    if (isnan(b.hi)) {
        /* grow to a failing rate: the given upper end, or doubling */
        if (o->rate_hi > 0 && o->rate_hi > b.lo) {
            LS_TRY(probe(p, o->rate_hi, &ok, &inf, &m, e));
            if (ok) {
                out->capacity_rps = o->rate_hi; /* meets the SLO up to the end of the range */
                return LS_OK;
            }
            note(&b, o->rate_hi, ok, &m);
        } else {
            while (p->runs < p->max_runs) {
                double r = b.lo * 2;
                LS_TRY(probe(p, r, &ok, &inf, &m, e));
                note(&b, r, ok, &m);
                if (!ok)
                    break;
            }
            if (isnan(b.hi)) {
                out->capacity_rps = b.lo;
                return LS_OK;
            }
        }
    }
    while ((b.hi - b.lo) / b.lo > o->rel_tol && p->runs < p->max_runs) {
        bool guided;
        double r = next_rate(p, &b, o->rel_tol, o->bisect, &guided);
        assert(r > b.lo && r < b.hi);
        LS_TRY(probe(p, r, &ok, &inf, &m, e));
        note(&b, r, ok, &m);
        int side = ok ? 1 : -1;
        if (!guided)
            b.same_side = 0, b.last_side = 0;
        else if (side == b.last_side)
            b.same_side++;
        else
            b.same_side = 1, b.last_side = side;
    }
    out->capacity_rps = b.lo;
    out->failing_rps = b.hi;
    return LS_OK;
}

ls_status ls_capacity_search(const ls_run_config *c, const ls_capacity_opts *o,
                             ls_capacity_result *out, ls_error *e)
{
    ls_capacity_opts d;
    ls_capacity_opts_default(&d);
    if (o) {
        d.rate_lo = o->rate_lo;
        d.rate_hi = o->rate_hi;
        if (o->rel_tol > 0)
            d.rel_tol = o->rel_tol < 1e-9 ? 1e-9 : o->rel_tol; /* finer: midpoints and tolerance steps round onto the ends */
        if (o->max_runs > 0)
            d.max_runs = o->max_runs;
        d.rate_start = o->rate_start;
        d.rate_floor = o->rate_floor;
        d.known = o->known;
        d.known_rate = o->known_rate;
        d.hooks = o->hooks;
        d.given_rates = o->given_rates;
        d.n_given_rates = o->n_given_rates;
        d.bisect = o->bisect;
        d.stop = o->stop;
    }
    out->capacity_rps = NAN;
    out->failing_rps = NAN;
    out->below_floor = false;
    out->runs = 0;
    out->simulated = 0;
    out->stopped = 0;
    if (d.rate_lo > 0 && d.rate_hi > 0 && d.rate_hi <= d.rate_lo)
        return ls_fail(e, LS_EINVAL, "capacity search: rate_hi %g must exceed rate_lo %g", d.rate_hi,
                       d.rate_lo);
    double start = d.rate_lo > 0 ? d.rate_lo : d.rate_start > 0 ? d.rate_start : LS_CAPACITY_START_RPS;
    if (d.rate_floor < 0 || isnan(d.rate_floor) || d.rate_floor > start)
        return ls_fail(e, LS_EINVAL, "capacity search: floor %g must be in [0, the start %g] req/s", d.rate_floor,
                       start);
    /* The start is a fixed rate, never the configuration's listed rate: the SLO
     * test is only nearly monotone in the rate, so a start that depends on the
     * listing lands on different probes and can give the same configuration
     * different capacities when the sweep lists it at several rates. */
    /* lowest rate worth probing: LS_CAPACITY_MIN_REQUESTS expected arrivals in
     * the window (from duration_s, not from the listed rate) */
    ls_config_row row;
    ls_config_get_row(c, &row);
    double min_rate = (row.duration_s > 0 && isfinite(row.duration_s))
                          ? LS_CAPACITY_MIN_REQUESTS / row.duration_s
                          : 0;
    if (d.n_given_rates < 0 || (d.n_given_rates > 0 && !d.given_rates))
        return ls_fail(e, LS_EINVAL, "capacity search: %d given rates without a list", d.n_given_rates);
    for (int i = 0; i < d.n_given_rates; i++)
        if (!(d.given_rates[i] > 0) || !isfinite(d.given_rates[i]))
            return ls_fail(e, LS_EINVAL, "capacity search: given rate %g must be a finite rate > 0 req/s",
                           d.given_rates[i]);
    probe_ctx p = {ls_config_clone(c), min_rate, 0, d.max_runs, d.known, d.known_rate, d.hooks, 0, 0,
                   d.given_rates, d.n_given_rates, d.stop};
    ls_status rc = search(&p, &d, out, e);
    out->runs = p.runs;
    out->simulated = p.simulated;
    out->stopped = p.stopped;
    ls_config_free(p.c);
    return rc;
}
