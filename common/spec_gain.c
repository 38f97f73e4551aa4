/* spec_gain.c -- the gain of speculative decoding over its baseline (spec_gain.h). */
#include "spec_gain.h"

#include <math.h>
#include <stddef.h>

static double ratio(double num, double den)
{
    return num > 0 && den > 0 && isfinite(num) && isfinite(den) ? num / den : NAN;
}

void ls_spec_gain_fill(const ls_metrics *base, ls_metrics *spec)
{
    double *v = spec->v;
    v[LS_M_SPEC_TPOT_GAIN] = v[LS_M_SPEC_TTFT_GAIN] = v[LS_M_SPEC_THROUGHPUT_GAIN] = NAN;
    if (!base || base->status != LS_RUN_OK || spec->status != LS_RUN_OK)
        return;
    const double *b = base->v;
    v[LS_M_SPEC_TPOT_GAIN] = ratio(b[LS_M_TPOT_MEAN_S], v[LS_M_TPOT_MEAN_S]);
    v[LS_M_SPEC_TTFT_GAIN] = ratio(b[LS_M_TTFT_MEAN_S], v[LS_M_TTFT_MEAN_S]);
    v[LS_M_SPEC_THROUGHPUT_GAIN] = ratio(v[LS_M_OUTPUT_TPS], b[LS_M_OUTPUT_TPS]);
}
