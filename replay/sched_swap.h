/* sched_swap.h -- preemption by swap inside a replica's scheduler (rules in
 * sched_swap.c; the host space in kvswap.h). Internal to replay/: called by
 * scheduler.c only when the replica swaps (r->swap != NULL). */
#ifndef LS_SCHED_SWAP_H
#define LS_SCHED_SWAP_H

#include <stdbool.h>
#include <stdint.h>

#include "scheduler.h"

/* Preempt running request xi by swap: true when its blocks went to the host
 * (the caller keeps its computed tokens), false when they do not fit (the
 * caller recomputes). */
bool ls_sched_swap_out(ls_replica *r, int32_t xi);
/* Whether any request is swapped out now (then no prefill is admitted). */
bool ls_sched_swapped(const ls_replica *r);
/* The next request to swap back in, out of the waiting queue, holding its
 * blocks again plus room for its next token (the caller admits it and adds
 * that token); -1 when none is swapped out or the next does not fit. */
int32_t ls_sched_swap_in(ls_replica *r);

#endif
