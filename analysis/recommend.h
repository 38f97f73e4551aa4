/* recommend.h -- recommendations, computed from a report's ranked results.
 *
 * ls_report_build (report.c) groups the results, checks the SLO, ranks and
 * classifies them, and knows nothing of recommendations. ls_recommend_build
 * reads that (const) report and writes the sentences: the lead (capacity per
 * GPU by model), per group (the best configuration, why the others lose, what
 * one setting changes, whether the answer changes with an axis) and a summary
 * across groups. Every number a sentence quotes is a cell of the report's
 * tables, formatted the same way (report_text.c). The report's writer
 * (report_format.c) lays them out as text, Markdown or leaves them out (CSV).
 * Dependencies run one way: report_format -> recommend -> report data.
 */
#ifndef LS_RECOMMEND_H
#define LS_RECOMMEND_H

#include <stddef.h>

#include "report.h"

typedef struct ls_recommend_list {
    size_t n;
    char **s;                    /* sentences, in order */
} ls_recommend_list;

typedef struct ls_recommendations {
    ls_recommend_list lead;      /* capacity per GPU, per model (empty without capacity) */
    size_t n_groups;             /* = the report's */
    ls_recommend_list *groups;   /* per report group, same order */
    ls_recommend_list summary;   /* across groups: the best per load level */
    ls_recommend_list spec;      /* speculative decoding against its baselines, per series
                                  * (spec_report.h; empty without speculative rows) */
} ls_recommendations;

/* The recommendations of `r` (which must outlive nothing: the result owns its strings). */
ls_recommendations *ls_recommend_build(const ls_report *r);
void ls_recommend_free(ls_recommendations *rec);   /* accepts NULL */

#endif
