/* fidelity_band.h -- the expected error band of the simulator's figures, as reports print it.
 *
 * The numbers are bench_fidelity's cross-validation (docs/FIDELITY.md): held-out errors of predicted
 * throughput when the calibrated parameters are refitted without the predicted points. They live in
 * one generated table, analysis/fidelity_band_data.c (scripts/make_fidelity_band.sh), never in code.
 */
#ifndef LS_FIDELITY_BAND_H
#define LS_FIDELITY_BAND_H

#include <stddef.h>
#include <stdio.h>

typedef struct ls_fidelity_band {
    const char *cost_model;    /* "roofline", "kernels" */
    int rows;                  /* measured figures */
    double in_median, in_worst;     /* |simulated / measured - 1|, fitted on every row */
    double held_median, held_worst; /* the same, each column predicted by a fit without it */
    const char *points;        /* what was measured */
    const char *command;       /* the bench_fidelity command that gives them */
} ls_fidelity_band;

extern const ls_fidelity_band ls_fidelity_bands[];
extern const int ls_fidelity_n_bands;

/* The band of a cost model (NULL when none was measured). */
const ls_fidelity_band *ls_fidelity_band_find(const char *cost_model);
/* One sentence for reports, e.g. "expected error of throughput figures (roofline cost model): held-out
 * median 5.0%, worst 21.2% over 28 ... (bench_fidelity cross-validation, docs/FIDELITY.md)";
 * names the missing band when there is none. Returns buf. */
char *ls_fidelity_band_text(const char *cost_model, char *buf, size_t size);
/* The default cost model's sentence as a report line: "- " + text in Markdown, else "note: " + text. */
void ls_fidelity_band_write(FILE *f, int markdown);

#endif
