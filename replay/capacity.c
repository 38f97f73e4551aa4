/* capacity.c -- the highest arrival rate a configuration serves within its SLO.
 *
 * Bisection on the arrival rate: every run uses the configuration's seed, so
 * two runs differ only by the rate (for synthetic arrivals the same random
 * draws are rescaled in time), which keeps "meets the SLO" close to monotone
 * in the rate. The search brackets the threshold: `capacity_rps` met the SLO,
 * `failing_rps` did not, and they are within rel_tol of each other unless
 * max_runs ran out first. Capacity is a property of the served load, so it
 * depends on duration_s too (a longer window lets queues grow further).
 *
 * The search never looks at the rate the configuration is listed at: it starts
 * at LS_CAPACITY_START_RPS (or the caller's rate_lo), doubles until a probe
 * fails (or halves until one passes), then bisects, so every listing of the
 * same configuration gets the same probes and the identical capacity.
 *
 * Cost: each probe is a full simulation, O(log2(range/tol)) probes (about 11
 * for a capacity near 6 req/s at 5%). */
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

typedef struct probe_ctx {
    ls_run_config *c;
    double min_rate;          /* never probe below this (see ls_capacity_search) */
    int runs;
    int max_runs;
    const ls_metrics *known;  /* a run made at known_rate, taken for the first probe at that rate */
    double known_rate;
    const ls_capacity_hooks *h; /* NULL: none */
    int simulated, stopped;
} probe_ctx;

static ls_status probe_once(probe_ctx *p, double rate, bool *meets, bool *infeasible, ls_error *e);

/* Run at `rate`: *meets = the SLO test; *infeasible when the weights do not fit. */
static ls_status probe(probe_ctx *p, double rate, bool *meets, bool *infeasible, ls_error *e)
{
    ls_status rc = probe_once(p, rate, meets, infeasible, e);
    if (p->h && p->h->between)
        p->h->between(p->h->ctx);
    return rc;
}

static ls_status probe_once(probe_ctx *p, double rate, bool *meets, bool *infeasible, ls_error *e)
{
    assert(p->runs < p->max_runs);
    if (p->known && p->runs == 0 && fabs(rate - p->known_rate) <= 1e-9 * rate) {
        /* the caller ran this configuration at this rate already: same seed, same requests */
        *infeasible = p->known->status == LS_RUN_INFEASIBLE;
        *meets = ls_capacity_meets_slo(p->c, p->known);
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
    if (watched) {
        opts.on_request = ls_slo_watch_on_request;
        opts.on_request_ctx = &w;
        opts.stop = &w.stop;
    }
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
    if (h && h->store) /* a watched run that ran to its end is the unwatched run exactly */
        h->store(h->ctx, p->c, &m);
    return LS_OK;
}

static ls_status search(probe_ctx *p, const ls_capacity_opts *o, ls_capacity_result *out,
                        ls_error *e)
{
    bool ok = false, inf = false;
    double lo = NAN, hi = NAN;
    double start = o->rate_lo > 0 ? o->rate_lo : o->rate_start > 0 ? o->rate_start : LS_CAPACITY_START_RPS;
    LS_TRY(probe(p, start, &ok, &inf, e));
    if (inf)
        return LS_OK; /* capacity stays NaN */
    if (ok) {
        lo = start;
    } else {
        hi = start;
        /* a given rate_lo that fails ends the search: capacity 0 */
        if (o->rate_lo > 0) {
            out->capacity_rps = 0;
            out->failing_rps = hi;
            return LS_OK;
        }
        /* halve down to a passing rate, at most 10 times (1/1024 of the start),
         * and never below min_rate: a window with a handful of requests "meets"
         * a TPOT limit the configuration misses for every real load */
        for (int k = 0; k < 10 && p->runs < p->max_runs; k++) {
            double r = hi / 2;
            if (o->rate_floor > 0 && r < o->rate_floor) {
                if (!(hi > o->rate_floor))
                    break; /* failed at the floor itself */
                r = o->rate_floor;
            }
            if (r < p->min_rate)
                break;
            LS_TRY(probe(p, r, &ok, &inf, e));
            if (ok) {
                lo = r;
                break;
            }
            hi = r;
        }
        if (isnan(lo)) {
            out->capacity_rps = 0;
            out->failing_rps = hi;
            out->below_floor = o->rate_floor > 0 && hi == o->rate_floor;
            return LS_OK;
        }
    }
    if (isnan(hi)) {
        /* grow to a failing rate: the given upper end, or doubling */
        if (o->rate_hi > 0 && o->rate_hi > lo) {
            LS_TRY(probe(p, o->rate_hi, &ok, &inf, e));
            if (ok) {
                out->capacity_rps = o->rate_hi; /* meets the SLO up to the end of the range */
                return LS_OK;
            }
            hi = o->rate_hi;
        } else {
            while (p->runs < p->max_runs) {
                double r = lo * 2;
                LS_TRY(probe(p, r, &ok, &inf, e));
                if (!ok) {
                    hi = r;
                    break;
                }
                lo = r;
            }
            if (isnan(hi)) {
                out->capacity_rps = lo;
                return LS_OK;
            }
        }
    }
    /* bisection; geometric midpoints while the bracket is wide */
    while ((hi - lo) / lo > o->rel_tol && p->runs < p->max_runs) {
        double mid = (hi / lo > 4) ? sqrt(lo * hi) : 0.5 * (lo + hi);
        LS_TRY(probe(p, mid, &ok, &inf, e));
        if (ok)
            lo = mid;
        else
            hi = mid;
    }
    out->capacity_rps = lo;
    out->failing_rps = hi;
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
            d.rel_tol = o->rel_tol;
        if (o->max_runs > 0)
            d.max_runs = o->max_runs;
        d.rate_start = o->rate_start;
        d.rate_floor = o->rate_floor;
        d.known = o->known;
        d.known_rate = o->known_rate;
        d.hooks = o->hooks;
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
    probe_ctx p = {ls_config_clone(c), min_rate, 0, d.max_runs, d.known, d.known_rate, d.hooks, 0, 0};
    ls_status rc = search(&p, &d, out, e);
    out->runs = p.runs;
    out->simulated = p.simulated;
    out->stopped = p.stopped;
    ls_config_free(p.c);
    return rc;
}
