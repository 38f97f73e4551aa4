/* recommend_cache.h -- the recommendation rule for prefix caching and host KV
 * tiers (issue 12): whether, and by how much, they change the best strategy.
 *
 * In a report group whose rows differ by `enable_prefix_caching` and/or
 * `kv_offload` (its "cache settings"), each setting is compared with its
 * reference: prefix caching with no caching, a tier with caching alone (or,
 * without such rows, with no caching). For each, one sentence: the best
 * SLO-meeting configuration with and without it (goodput, TTFT p99), whether
 * the best strategy changes (not when the reference's best strategy is within
 * the report's 1% goodput tie of the setting's best, or the reverse), the
 * goodput gain in percent, the capacity gain when the file has a capacity
 * search, and the strategy it helps most. Every number is a cell of the
 * group's tables. Groups without two cache settings get no sentence. */
#ifndef LS_RECOMMEND_CACHE_H
#define LS_RECOMMEND_CACHE_H

#include "report.h"

/* Called with each new sentence (ownership passes to the callee). */
typedef void (*ls_recommend_sink)(void *ctx, char *sentence);

void ls_recommend_cache(const ls_report *r, const ls_report_group *g, ls_recommend_sink add, void *ctx);

#endif
