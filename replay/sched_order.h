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
    LS_ORDER_FCFS = 0, /* arrival order (the default; the historic behaviour) */
    LS_ORDER_SJF = 1   /* shortest prompt first; a request waiting > sjf_max_wait_s goes first */
} ls_order_kind;

/* Name of an order rule ("fcfs", "sjf"). */
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
