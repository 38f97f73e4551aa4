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
    return true;
}

void ls_slo_watch_on_request(void *ctx, const ls_request_result *r)
{
    ls_slo_watch *w = ctx;
    if (r->status != LS_REQ_COMPLETED) {
        if ((double)++w->n_failed > w->max_failed)
            w->stop = 1;
        return;
    }
    double ttft = r->first_token_s - r->arrival_s;
    if (ttft > w->ttft_over && (double)++w->n_ttft >= w->need)
        w->stop = 1;
    if (r->generated_tokens > 1) {
        double e2e = r->finish_s - r->arrival_s;
        double tpot = (e2e - ttft) / (r->generated_tokens - 1);
        if (tpot > w->tpot_over && (double)++w->n_tpot >= w->need)
            w->stop = 1;
    }
}
