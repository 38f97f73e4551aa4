/* fidelity_band.c -- the expected error band reports print (fidelity_band.h). */
#include <string.h>

#include "fidelity_band.h"

const ls_fidelity_band *ls_fidelity_band_find(const char *cost_model)
{
    for (int i = 0; i < ls_fidelity_n_bands; i++)
        if (!strcmp(ls_fidelity_bands[i].cost_model, cost_model))
            return &ls_fidelity_bands[i];
    return NULL;
}

char *ls_fidelity_band_text(const char *cost_model, char *buf, size_t size)
{
    const ls_fidelity_band *b = ls_fidelity_band_find(cost_model);
    if (!b)
        snprintf(buf, size, "no measured error band for the %s cost model (docs/FIDELITY.md)", cost_model);
    else
        snprintf(buf, size,
                 "expected error of throughput figures (%s cost model): held-out median %.1f%%, worst %.1f%% over "
                 "%d %s (bench_fidelity cross-validation, docs/FIDELITY.md); more near saturation and on "
                 "uncalibrated GPUs or engines",
                 b->cost_model, 100 * b->held_median, 100 * b->held_worst, b->rows, b->points);
    return buf;
}

void ls_fidelity_band_write(FILE *f, int markdown)
{
    char buf[512];
    fprintf(f, "%s%s\n", markdown ? "- " : "note: ", ls_fidelity_band_text("roofline", buf, sizeof buf));
}
