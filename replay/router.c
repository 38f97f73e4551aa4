/* router.c -- the table of routers (router.h). */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "router.h"

static int pick_round_robin(ls_router_state *st, const ls_router_view *v, const ls_request *req)
{
    (void)req;
    int i = (int)(st->next % v->n);
    st->next = (st->next + 1) % v->n;
    return i;
}

static int pick_least_outstanding(ls_router_state *st, const ls_router_view *v, const ls_request *req)
{
    (void)st;
    (void)req;
    int best = 0;
    int64_t best_o = v->outstanding(v->ctx, 0);
    for (int i = 1; i < v->n; i++) {
        int64_t o = v->outstanding(v->ctx, i);
        if (o < best_o) {
            best = i;
            best_o = o;
        }
    }
    return best;
}

typedef int64_t (*cost_fn)(const ls_router_view *v, int i, const ls_request *req);

/* The replica of least cost; ties: fewer outstanding, then the lowest index. */
static int least_cost(const ls_router_view *v, const ls_request *req, cost_fn cost)
{
    int best = 0;
    int64_t best_c = cost(v, 0, req), best_o = v->outstanding(v->ctx, 0);
    for (int i = 1; i < v->n; i++) {
        int64_t c = cost(v, i, req);
        if (c > best_c)
            continue;
        int64_t o = v->outstanding(v->ctx, i);
        if (c < best_c || o < best_o) {
            best = i;
            best_c = c;
            best_o = o;
        }
    }
    return best;
}

/* Used blocks (plus the prompts of this instant's earlier arrivals, queued but
 * not yet scheduled). */
static int64_t kv_cost(const ls_router_view *v, int i, const ls_request *req)
{
    (void)req;
    return v->kv_load(v->ctx, i);
}

static int pick_least_kv(ls_router_state *st, const ls_router_view *v, const ls_request *req)
{
    (void)st;
    return least_cost(v, req, kv_cost);
}

/* llm-d's / Dynamo's KV-aware rule: the cost of replica i is the blocks it
 * would have to compute (prompt - cached there), weighted, plus the blocks it
 * has in use; the prompt is the same everywhere, so: the least
 * kv_load - PREFIX_WEIGHT x cached. Without prefix caching it is least-kv. */
#define PREFIX_WEIGHT 4
static int64_t prefix_cost(const ls_router_view *v, int i, const ls_request *req)
{
    return v->kv_load(v->ctx, i) - PREFIX_WEIGHT * v->prefix_blocks(v->ctx, i, req);
}

static int pick_prefix_aware(ls_router_state *st, const ls_router_view *v, const ls_request *req)
{
    (void)st;
    return least_cost(v, req, prefix_cost);
}

/* Prompts longer than the threshold go to the replicas built for long
 * prompts, the others to the rest; within its side, the replica with the
 * fewest outstanding requests (ties: the lowest index). The configuration
 * guarantees both sides exist (replica_mix.c). */
static int pick_length_aware(ls_router_state *st, const ls_router_view *v, const ls_request *req)
{
    (void)st;
    if (!v->is_long)
        return pick_least_outstanding(st, v, req);  /* one kind of replica: nothing to split */
    bool want = req->prompt_tokens > v->prompt_threshold;
    int best = -1;
    int64_t best_o = 0;
    for (int i = 0; i < v->n; i++) {
        if (v->is_long[i] != want)
            continue;
        int64_t o = v->outstanding(v->ctx, i);
        if (best < 0 || o < best_o) {
            best = i;
            best_o = o;
        }
    }
    assert(best >= 0);
    return best;
}

static const ls_router_ops routers[] = {
    {"round-robin", "replicas in turn", pick_round_robin, true},
    {"least-outstanding", "the replica with the fewest requests waiting or running", pick_least_outstanding, false},
    {"least-kv", "the replica with the fewest KV blocks in use (ties: fewest outstanding)", pick_least_kv, false},
    {"prefix-aware",
     "the replica holding most of the prompt in its prefix cache, balanced against load: the least KV blocks in "
     "use minus 4 times the prompt's cached blocks there (llm-d/Dynamo's KV routing; least-kv without prefix caching)",
     pick_prefix_aware, false},
    {"length-aware",
     "prompts longer than router.prompt_threshold tokens to the replicas built for long prompts (the largest "
     "TP, or replicas marked long), the others to the rest; the least outstanding within each side",
     pick_length_aware, false},
};
#define N_ROUTERS ((int)(sizeof routers / sizeof routers[0]))

const ls_router_ops *ls_router_find(const char *name)
{
    for (int i = 0; i < N_ROUTERS; i++)
        if (!strcmp(routers[i].name, name))
            return &routers[i];
    return NULL;
}

bool ls_router_is_length_aware(const ls_router_ops *r)
{
    return r && r->pick == pick_length_aware;
}

const ls_router_ops *ls_router_default(void)
{
    return &routers[0];
}

int ls_router_count(void)
{
    return N_ROUTERS;
}

const ls_router_ops *ls_router_at(int i)
{
    assert(i >= 0 && i < N_ROUTERS);
    return &routers[i];
}

void ls_router_names(char *buf, size_t size)
{
    assert(size > 0);
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; i < N_ROUTERS && n < size; i++) {
        const char *sep = i == 0 ? "" : (i == N_ROUTERS - 1 ? " or " : ", ");
        n += (size_t)snprintf(buf + n, size - n, "%s%s", sep, routers[i].name);
    }
}
