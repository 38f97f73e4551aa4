/* spec_report.h -- speculative decoding in the report: each speculative row
 * against its baseline, the gain against load, and where it stops paying.
 *
 * A speculative row's baseline is the row with the same configuration but no
 * speculation (ls_config_row_baseline_key: every /configs column but
 * `speculative`, the listed rate included), so both replayed the same
 * requests. A series is one speculative configuration at several listed rates
 * (ls_config_row_capacity_key of its rows); its crossover is the load at which
 * the TPOT gain falls through 1, interpolated linearly between the two listed
 * rates that bracket it. docs/REPORT.md, "Speculative decoding".
 *
 * Layering: ls_report_build (report.c) calls ls_spec_report_pair; recommend.c
 * and report_format.c read the series. This file calls only report_text.c.
 */
#ifndef LS_SPEC_REPORT_H
#define LS_SPEC_REPORT_H

#include <stddef.h>

#include "report.h"

/* Set every entry's `baseline`: for a row whose speculative is not "none", the
 * lowest-config_id row with the same baseline key, speculative "none" and a
 * result; NULL otherwise (and for every row without speculation). */
void ls_spec_report_pair(ls_report *r);

typedef struct ls_spec_point {
    const ls_report_entry *x;    /* the speculative row (x->baseline set, both ok) */
    double rate;                 /* its listed arrival rate (NaN: trace times) */
    double gain;                 /* spec_tpot_gain */
} ls_spec_point;

typedef struct ls_spec_series {
    size_t n;
    ls_spec_point *p;            /* by listed rate, ascending */
    /* The first i with gain[i] >= 1 > gain[i+1] (-1: none) and the rate there
     * by linear interpolation of the gain between rate[i] and rate[i+1]
     * (NaN when none). */
    int cross;
    double crossover_rps;
} ls_spec_series;

typedef struct ls_spec_study {
    size_t n;
    ls_spec_series *s;           /* in order of their first row's config_id */
} ls_spec_study;

/* The series of `r` (empty when no row has a baseline). Points whose runs are
 * not both ok, or whose gain is undefined, are left out. */
ls_spec_study *ls_spec_study_build(const ls_report *r);
void ls_spec_study_free(ls_spec_study *s);   /* accepts NULL */

/* The crossover of points (rate, gain) sorted by rate, as above: index of the
 * bracket's lower point or -1, and the rate in *at (NaN when -1). */
int ls_spec_crossover(const double *rate, const double *gain, size_t n, double *at);

/* Recommendation sentences, one or two per series: the gain at each listed
 * load, which wins where (the crossover), and why (mean batch, MFU); the
 * capacities with and without speculation when the file has them. Fresh
 * strings appended to *out (n, cap: a growing array). */
void ls_spec_report_sentences(const ls_report *r, const ls_spec_study *st, char ***out, size_t *n,
                              size_t *cap);

#endif
