/* recommend_mixed.h -- the recommendation rule for mixed replica groups
 * (a `replicas:` list such as 1 x TP4 + 4 x TP1 behind the length-aware
 * router, replay/replica_mix.c) against the plain strategies of the same GPUs.
 *
 * Called by recommend.c. For each report group (one load) that holds a mixed
 * row, per cluster: which of {the best mix, TP over all its GPUs (TP8), DP over
 * all of them (DP8)} wins, with the
 * numbers of the tables and why -- what each side of the mix serves and how
 * busy it is, which side saturates first and which way to move the threshold,
 * and the losers' reasons (report.c's classification). Across groups, one
 * sentence per cluster: the winner at each load, and the capacities when the
 * file has them. Nothing without mixed rows. A mixed row is one whose
 * `mix_long_share` is defined. */
#ifndef LS_RECOMMEND_MIXED_H
#define LS_RECOMMEND_MIXED_H

#include "report.h"

/* Receives each sentence (a fresh string the callee owns). */
typedef void (*ls_recommend_add_fn)(void *ctx, char *sentence);

void ls_recommend_mixed_group(const ls_report *r, const ls_report_group *g, ls_recommend_add_fn add, void *ctx);
void ls_recommend_mixed_summary(const ls_report *r, ls_recommend_add_fn add, void *ctx);

#endif
