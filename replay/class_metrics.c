/* class_metrics.c -- per-class latencies and goodput (see class_metrics.h). */
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "class_metrics.h"
#include "metrics.h"

_Static_assert(LS_SCHEMA_CLASSES == LS_MAX_CLASSES, "one schema column group per workload class");

/* The columns of class k, in schema order: k's group starts at LS_M_C0_N_REQUESTS + k * stride. */
enum { STRIDE = LS_M_C1_N_REQUESTS - LS_M_C0_N_REQUESTS };
_Static_assert(LS_M_C3_N_REQUESTS == LS_M_C0_N_REQUESTS + 3 * STRIDE, "class column groups are evenly spaced");

typedef struct one_class {
    ls_quantiles ttft, tpot;
    int64_t n, done, good;
    double slo_ttft, slo_tpot;
} one_class;

struct ls_class_track {
    int n;
    one_class c[LS_MAX_CLASSES];
    uint8_t *cls;  /* class of each request id */
    int64_t cap;
};

ls_class_track *ls_class_track_new(const ls_class_table *t, double slo_ttft_s, double slo_tpot_s)
{
    if (!t || t->n == 0)
        return NULL;
    ls_class_track *k = ls_xcalloc(1, sizeof *k);
    k->n = t->n;
    for (int i = 0; i < t->n; i++) {
        k->c[i].slo_ttft = isnan(t->c[i].slo_ttft_s) ? slo_ttft_s : t->c[i].slo_ttft_s;
        k->c[i].slo_tpot = isnan(t->c[i].slo_tpot_s) ? slo_tpot_s : t->c[i].slo_tpot_s;
    }
    return k;
}

void ls_class_track_free(ls_class_track *k)
{
    if (!k)
        return;
    for (int i = 0; i < k->n; i++) {
        ls_quant_free(&k->c[i].ttft);
        ls_quant_free(&k->c[i].tpot);
    }
    free(k->cls);
    free(k);
}

void ls_class_track_add(ls_class_track *k, int64_t id, int32_t cls)
{
    assert(id >= 0 && cls >= 0 && cls < k->n);
    if (id >= k->cap) {
        int64_t nc = k->cap ? k->cap * 2 : 4096;
        while (nc <= id)
            nc *= 2;
        k->cls = ls_xrealloc(k->cls, (size_t)nc);
        k->cap = nc;
    }
    k->cls[id] = (uint8_t)cls;
}

int32_t ls_class_track_class(const ls_class_track *k, int64_t id)
{
    assert(id >= 0 && id < k->cap);
    return k->cls[id];
}

bool ls_class_track_done(ls_class_track *k, const ls_req_done *d, double ttft, double tpot)
{
    assert(d->id >= 0 && d->id < k->cap);
    one_class *c = &k->c[k->cls[d->id]];
    c->n++;
    if (d->status != LS_REQ_COMPLETED)
        return false;
    c->done++;
    ls_quant_add(&c->ttft, ttft);
    if (!isnan(tpot))
        ls_quant_add(&c->tpot, tpot);
    bool good = ttft <= c->slo_ttft && (isnan(tpot) || tpot <= c->slo_tpot);
    c->good += good;
    return good;
}

void ls_class_track_metrics(ls_class_track *k, double span, ls_metrics *m)
{
    static const double q[2] = {50, 99};
    for (int i = 0; i < k->n; i++) {
        one_class *c = &k->c[i];
        double *v = &m->v[LS_M_C0_N_REQUESTS + i * STRIDE];
        v[LS_M_C0_N_REQUESTS - LS_M_C0_N_REQUESTS] = (double)c->n;
        v[LS_M_C0_N_COMPLETED - LS_M_C0_N_REQUESTS] = (double)c->done;
        ls_quant_percentiles(&c->ttft, q, 2, &v[LS_M_C0_TTFT_P50_S - LS_M_C0_N_REQUESTS]);
        ls_quant_percentiles(&c->tpot, q, 2, &v[LS_M_C0_TPOT_P50_S - LS_M_C0_N_REQUESTS]);
        v[LS_M_C0_GOODPUT_RPS - LS_M_C0_N_REQUESTS] = span > 0 ? (double)c->good / span : (c->done ? NAN : 0.0);
        v[LS_M_C0_SLO_ATTAINMENT - LS_M_C0_N_REQUESTS] = c->n ? (double)c->good / (double)c->n : NAN;
    }
}
