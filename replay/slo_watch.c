/* slo_watch.c -- stop a run once it certainly misses its SLO (slo_watch.h). */
#include "slo_watch.h"

#include <math.h>
#include <string.h>

#include "capacity.h"
#include "config_internal.h"
#include "metrics.h"

bool ls_slo_watch_init(ls_slo_watch *w, const ls_run_config *c, size_t n_requests)
{
    memset(w, 0, sizeof *w);
    if (c->pools || c->mix || n_requests == 0)
        return false;
    if (!(c->slo_ttft_s >= 0) || !(c->slo_tpot_s >= 0))
        return false;
    double margin = 1.0 + ldexp(1.0, -(LS_QUANT_SUB_BITS - 1));
    w->ttft_over = c->slo_ttft_s * margin;
    w->tpot_over = c->slo_tpot_s * margin;
    w->need = 0.01 * (double)n_requests + 2.0;
    w->max_failed = (1.0 - LS_CAPACITY_MIN_SUCCESS) * (double)n_requests;
    w->slack = c->timeout_s > 0 || !c->drain ? w->max_failed : 0;
    return true;
}

/* Late first tokens that settle the TTFT's p99, with the failures seen so far. */
static void check_ttft(ls_slo_watch *w)
{
    double slack = w->slack > 0 ? w->slack - (double)w->n_failed : 0;
    if ((double)w->n_ttft - slack >= w->need)
        w->stop = 1;
}

static void on_first_token(void *ctx, double arrival_s, double first_token_s)
{
    ls_slo_watch *w = ctx;
    if (first_token_s - arrival_s > w->ttft_over) {
        w->n_ttft++;
        check_ttft(w);
    }
}

static void on_request(void *ctx, const ls_request_result *r)
{
    ls_slo_watch *w = ctx;
    double ttft = r->first_token_s - r->arrival_s; /* counted at the first token */
    if (r->status != LS_REQ_COMPLETED) {
        if ((double)++w->n_failed > w->max_failed)
            w->stop = 1;
        if (ttft > w->ttft_over) /* NaN (no first token) is not */
            w->n_ttft--;
        return;
    }
    if (r->generated_tokens > 1) {
        double e2e = r->finish_s - r->arrival_s;
        double tpot = (e2e - ttft) / (r->generated_tokens - 1);
        if (tpot > w->tpot_over && (double)++w->n_tpot >= w->need)
            w->stop = 1;
    }
}

void ls_slo_watch_attach(ls_slo_watch *w, ls_run_opts *o)
{
    o->on_request = on_request;
    o->on_first_token = on_first_token;
    o->on_request_ctx = w;
    o->on_request_any_order = true; /* it counts */
    o->stop = &w->stop;
}
