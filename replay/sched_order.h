/* sched_order.h -- the order in which a replica admits its new waiting requests.
 *
 * The policies (vllm-v1, vllm-v0, sarathi) decide how a step is formed; the
 * order rule decides which never-scheduled request is tried next. Requests
 * preempted or whose KV arrived (pools.c) still go first, as in vLLM. The
 * waiting queue itself stays in arrival order (timeouts expire from its
 * front); a rule only picks an index in it. Rules come from a table in
 * sched_order.c. */
#ifndef LS_SCHED_ORDER_H
#define LS_SCHED_ORDER_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "yamldoc.h"

struct ls_replica;
struct ls_sched_config;

typedef enum ls_order_kind {
    LS_ORDER_FCFS = 0,    /* arrival order (the default; the historic behaviour) */
    LS_ORDER_SJF = 1,     /* shortest prompt first; a request waiting > sjf_max_wait_s goes first */
    LS_ORDER_PRIORITY = 2 /* vLLM V1 --scheduling-policy priority (below) */
} ls_order_kind;

/* Order priority (vLLM V1's `--scheduling-policy priority`,
 * vllm-internals.md §3, "Preemption happens when allocation fails"):
 * - waiting: requests, preempted ones included (vLLM's priority queue has no
 *   front: a preempted request re-enters by its key), are tried by the key
 *   (priority, arrival), lowest first; ties by arrival order. Requests whose
 *   KV arrived (pools.c) would still go first; config.c refuses priority with
 *   disaggregation.
 * - preemption: when a running request cannot get its KV blocks, the victim
 *   is max(running, key=(priority, arrival)) -- the lowest priority, then
 *   the latest arrival; the first such in running order on ties, as
 *   Python's max -- even when it was already placed in this step's batch
 *   (its tokens go back to the budget), until the allocation fits or the
 *   victim is the request itself. With PP, requests in flight cannot be
 *   victims: when the rule's pick is in flight and the request itself is the
 *   largest key left, the replica waits for a micro-batch to return
 *   (scheduler.c, alloc_or_preempt), as under fcfs. The waiting pass is
 *   skipped after a preemption, and a waiting request never preempts (vLLM V1:
 *   a failed admission stops the pass). */

/* Order priority: the waiting request to try next (wait_pre and wait_new by
 * key); sets r->pick / r->pick_pre for the pop. -1 when none waits. */
int32_t ls_order_priority_front(struct ls_replica *r);

/* Order priority: the victim among the running requests that are not in
 * flight (the request being allocated is one of them). *top: no request in
 * flight has a larger key, i.e. vLLM's rule would pick this one. */
int32_t ls_order_victim(const struct ls_replica *r, bool *top);

/* Name of an order rule ("fcfs", "sjf", "priority"). */
const char *ls_order_name(int kind);

/* Looks an order rule up by name; false if unknown. */
bool ls_order_find(const char *name, int *kind);

/* Index in r->wait_new of the request to try next at the replica's current
 * time (r->kv_t); wait_new must not be empty. FCFS: 0. */
int64_t ls_order_pick(const struct ls_replica *r);

/* Reads scheduler.order and scheduler.sjf_max_wait_s of the `scheduler` map
 * into s (defaults: fcfs, 10 s); bad values fail with file:line. */
ls_status ls_order_parse(const ls_yaml *sch, struct ls_sched_config *s, ls_error *e);

#endif
