/* engine_ahead.h -- DP run-ahead: the reports in the event queue's order, and
 * the arrivals read ahead for a blind router (internal to replay/).
 *
 * With independent DP replicas (pp 1, no lockstep, no P/D hooks, no timeline)
 * the engine lets a replica run its steps without the event queue as long as
 * each ends strictly before the next arrival the replica could be affected
 * by: the next arrival of all when the router reads the replicas, the next
 * one routed to this replica when it does not (round-robin: ls_router_ops.blind)
 * (docs/ENGINE.md, "Events" and "Sixth round"). The steps of different
 * replicas then happen out of the global time order, so the requests they
 * end would reach the metrics and `on_request` out of order.
 *
 * ls_ahead holds those reports and hands them on sorted by the key the event
 * queue would have processed them in, once nothing can come before them:
 *
 *   (time, phase, step start, chain depth, replica, the order they came in)
 *
 * phase LS_AHEAD_ARRIVAL: an arrival instant (rejections; timeouts when the
 * replicas schedule), in the order they came; LS_AHEAD_STEP: a step that
 * ended at `time` on `replica`; LS_AHEAD_END: the end of the run, in the
 * order they came. The queue ordered steps ending at the same time by when
 * they were formed (its sequence numbers): the earlier start first; at the
 * same start a step formed at an arrival (for each replica in index order)
 * before one formed when a step ended; two steps formed at the same instant
 * when a step ended each, as the steps that ended then, recursively. A
 * step's chain depth counts the steps formed when a step ended since its
 * replica's last step formed at an arrival (0: formed at an arrival): when
 * two chains of steps tie level by level (every step ending and starting at
 * the same instants, e.g. a constant step time) the shallower reaches its
 * step formed at an arrival first and went first, equal depths reach two
 * formed at the same arrival, in replica order. Two steps ending and
 * starting at the same instants, both formed when steps ended, go in the
 * order of those steps' starts (the queue took their ends in that order).
 * That is the queue's order except where those steps' own predecessors
 * also tie in both instants but not before (different step times summing to
 * the same instants exactly, two levels back): docs/ENGINE.md, "Sixth round". */
#ifndef LS_ENGINE_AHEAD_H
#define LS_ENGINE_AHEAD_H

#include <stdint.h>

#include "error.h"
#include "scheduler.h"
#include "trace.h"

typedef struct ls_ahead ls_ahead;

enum { LS_AHEAD_ARRIVAL = 0, LS_AHEAD_STEP = 1, LS_AHEAD_END = 2 };

ls_ahead *ls_ahead_new(int n_replicas);
void ls_ahead_free(ls_ahead *a);  /* accepts NULL */

/* Replica `replica` reported d at `t` in `phase`; for LS_AHEAD_STEP, `start`
 * is when the step that ended at t was formed and `depth` its chain depth. */
void ls_ahead_push(ls_ahead *a, double t, int phase, double start, double pstart, int64_t depth, int replica,
                   const ls_req_done *d);

/* Hand the buffered reports of time < `before` to emit, in key order (the
 * caller passes a time by which every replica has run all its earlier steps;
 * INFINITY: all). emit must not push. Accepts a NULL a. */
typedef void (*ls_ahead_emit_fn)(void *ctx, int replica, const ls_req_done *d);
void ls_ahead_flush(ls_ahead *a, double before, ls_ahead_emit_fn emit, void *ctx);

/* Arrivals read ahead and routed as they are read, for a router that reads
 * no replica state (so the picks are the same whenever they are made, as long
 * as they are made in arrival order). `route` picks the replica of a request;
 * requests arriving after `limit_s` end the stream unrouted (the engine's
 * arrival limit); the first request after `stop_s` (the horizon of a run
 * that does not drain: the engine stops there) is the last one read, as the
 * engine reads no further. Reads at most `depth` requests ahead. */
typedef struct ls_ahead_feed ls_ahead_feed;
typedef int (*ls_ahead_route_fn)(void *ctx, const ls_request *req);
ls_ahead_feed *ls_ahead_feed_new(ls_source *src, int n_replicas, int depth, double limit_s, double stop_s,
                                 ls_ahead_route_fn route, void *ctx);
void ls_ahead_feed_free(ls_ahead_feed *f);  /* accepts NULL */
/* As ls_source_next (1, 0 at the end, -1 on error), with the replica the
 * request was routed to; the previous request returned counts as arrived.
 * out->hash_ids stays valid until the next call. */
int ls_ahead_feed_next(ls_ahead_feed *f, ls_request *out, int *replica, ls_error *e);
/* No request not yet arrived (the one last returned included) is routed to
 * `replica` before this time (INFINITY: none is left). */
double ls_ahead_feed_limit(const ls_ahead_feed *f, int replica);

#endif
