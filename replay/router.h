/* router.h -- routers: which replica gets an arriving request (internal to replay/).
 *
 * A router is a row of a table of handlers (router.c), found by name. It sees
 * the candidate replicas through an ls_router_view of callbacks, so that a
 * router pays only for what it reads (round-robin reads nothing) and the
 * engine stays free to keep replica state however it likes. A new policy is a
 * new row: a name, a one-line rule for the docs and error messages, a pick
 * function. Routing is deterministic: ties go to the lowest index.
 */
#ifndef LS_ROUTER_H
#define LS_ROUTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trace.h"

/* What a router may ask about candidate replica i (0 <= i < n). */
typedef struct ls_router_view {
    int n;                                     /* candidates, >= 1 */
    void *ctx;
    int64_t (*outstanding)(void *ctx, int i);  /* requests waiting + running */
    int64_t (*kv_load)(void *ctx, int i);      /* KV blocks in use, plus the prompts routed to it
                                                  at the current instant and not yet scheduled */
    /* KV blocks of req's prompt that replica i holds in its prefix cache now
     * (0 without prefix caching) */
    int64_t (*prefix_blocks)(void *ctx, int i, const ls_request *req);
    /* Mixed replicas (replica_mix.h): is_long[i] marks the replicas built for
     * long prompts (NULL: one kind of replica); prompt_threshold is the
     * length-aware router's split in tokens (0: none). */
    const bool *is_long;
    int64_t prompt_threshold;
} ls_router_view;

/* Per-run router state (zeroed at the start of a run). */
typedef struct ls_router_state {
    int64_t next;                              /* round-robin cursor */
} ls_router_state;

typedef struct ls_router_ops {
    const char *name;
    const char *rule;                          /* one line, for docs and messages */
    /* The replica in [0, v->n) that gets `req`. */
    int (*pick)(ls_router_state *st, const ls_router_view *v, const ls_request *req);
    /* pick reads none of the view's callbacks (only its own state and the
     * request), so it picks the same whenever it is called in arrival order:
     * DP run-ahead may route arrivals as it reads them ahead (engine_ahead.h) */
    bool blind;
} ls_router_ops;

/* Does router r split by prompt length (it needs long and short replicas)? */
bool ls_router_is_length_aware(const ls_router_ops *r);
/* The router called `name`, or NULL. */
const ls_router_ops *ls_router_find(const char *name);
/* The default router (round-robin). */
const ls_router_ops *ls_router_default(void);
/* "round-robin, least-outstanding or least-kv": the known names, for messages
 * (truncated to fit `size`). */
void ls_router_names(char *buf, size_t size);
/* Iteration over the table (for docs and `--help`). */
int ls_router_count(void);
const ls_router_ops *ls_router_at(int i);

#endif
