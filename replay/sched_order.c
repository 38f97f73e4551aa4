/* sched_order.c -- order rules for new waiting requests (see sched_order.h).
 *
 * A rule is a row: a name, the one-line rule for the docs and errors, and a
 * pick function (NULL = the front, i.e. arrival order). SJF scans the waiting
 * queue: O(waiting) per admission, paid only by runs that ask for it. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "config_internal.h"
#include "sched_internal.h"
#include "sched_order.h"

typedef struct order_rule {
    const char *name;
    const char *rule;
    int64_t (*pick)(const ls_replica *r);
} order_rule;

/* Shortest prompt first, ties to the earliest arrival; but when the oldest
 * waiting request (the front: wait_new is in arrival order) has waited at
 * least sjf_max_wait_s, it goes first, so a long prompt waits at most about
 * the bound plus the drain of those aged before it. */
static int64_t pick_sjf(const ls_replica *r)
{
    const deque *d = &r->wait_new;
    double bound = r->cfg.sjf_max_wait_s;
    if (bound > 0 && r->kv_t - r->req[dq_front(d)].arrival >= bound)
        return 0;
    int64_t best = 0;
    int32_t bp = r->req[dq_front(d)].prompt;
    for (int64_t i = 1; i < d->n; i++) {
        int32_t p = r->req[dq_at(d, i)].prompt;
        if (p < bp) {
            bp = p;
            best = i;
        }
    }
    return best;
}

/* Is a's key (priority, arrival) smaller than b's? */
static bool key_less(const sreq *a, const sreq *b)
{
    if (a->prio != b->prio)
        return a->prio < b->prio;
    return a->arrival < b->arrival;
}

/* In a micro-batch that is in flight (not the one being formed). */
static bool busy(const ls_replica *r, const sreq *x)
{
    int mb = x->state == ST_RUN_LAZY ? r->co[x->cohort].mb : x->mb;
    return mb >= 0 && r->mb[mb].busy;
}

int32_t ls_order_priority_front(ls_replica *r)
{
    assert(r->cfg.order == LS_ORDER_PRIORITY);
    /* O(waiting) per admission, paid only by runs that ask for it; only a
     * strictly smaller key replaces the best: equal keys go to the preempted
     * request, then in arrival order */
    int32_t best = -1;
    const deque *qs[2] = {&r->wait_pre, &r->wait_new};
    for (int q = 0; q < 2; q++)
        for (int64_t i = 0; i < qs[q]->n; i++) {
            int32_t xi = dq_at(qs[q], i);
            if (best < 0 || key_less(&r->req[xi], &r->req[best])) {
                best = xi;
                r->pick = i;
                r->pick_pre = q == 0;
            }
        }
    return best;
}

int32_t ls_order_victim(const ls_replica *r, bool *top)
{
    int32_t v = -1;
    for (int32_t xi = r->run_head; xi >= 0; xi = r->req[xi].next) {
        const sreq *x = &r->req[xi];
        if (!busy(r, x) && (v < 0 || key_less(&r->req[v], x)))
            v = xi;  /* strictly larger: the first maximum in running order */
    }
    *top = true;
    if (v >= 0)
        for (int32_t xi = r->run_head; xi >= 0; xi = r->req[xi].next)
            if (busy(r, &r->req[xi]) && key_less(&r->req[v], &r->req[xi])) {
                *top = false;
                break;
            }
    return v;
}

static const order_rule rules[] = {
    {"fcfs", "first come, first served (arrival order)", NULL},
    {"sjf", "shortest prompt first; a request waiting longer than sjf_max_wait_s goes first", pick_sjf},
    {"priority", "lowest (priority, arrival) first; preempts the highest (priority, arrival) running request",
     NULL},
};
enum { NRULES = sizeof rules / sizeof rules[0] };

const char *ls_order_name(int kind)
{
    return kind >= 0 && kind < NRULES ? rules[kind].name : "?";
}

bool ls_order_find(const char *name, int *kind)
{
    for (int i = 0; i < NRULES; i++)
        if (!strcmp(name, rules[i].name)) {
            *kind = i;
            return true;
        }
    return false;
}

int64_t ls_order_pick(const ls_replica *r)
{
    assert(r->wait_new.n > 0);
    assert(r->cfg.order >= 0 && r->cfg.order < NRULES);
    const order_rule *o = &rules[r->cfg.order];
    int64_t i = o->pick ? o->pick(r) : 0;
    assert(i >= 0 && i < r->wait_new.n);
    return i;
}

ls_status ls_order_parse(const ls_yaml *sch, ls_sched_config *s, ls_error *e)
{
    char w[300];
    const ls_yaml *n = sch ? ls_yaml_get(sch, "order") : NULL;
    if (n) {
        const char *name = NULL;
        if (n->kind != LS_YAML_SCALAR || ls_yaml_is_null(n))
            return ls_fail(e, LS_EINVAL, "%s: scheduler.order: expected fcfs, sjf or priority",
                           ls_yaml_where(n, w, sizeof w));
        LS_TRY(ls_yaml_as_string(n, "scheduler.order", &name, e));
        if (!ls_order_find(name, &s->order))
            return ls_fail(e, LS_EINVAL, "%s: scheduler.order: unknown order '%s' (expected fcfs, sjf or priority)",
                           ls_yaml_where(n, w, sizeof w), name);
    }
    if (s->order == LS_ORDER_PRIORITY && s->policy != LS_POLICY_VLLM_V1) {
        /* vLLM V0's priority rules differ (it preempts for waiting requests); only V1's are modelled */
        const ls_yaml *at = n ? n : ls_yaml_get(sch, "policy");
        return ls_fail(e, LS_EINVAL, "%s: scheduler.order: priority is vLLM V1's rule and needs policy vllm-v1 "
                                     "(got %s, which ignores request priorities)",
                       ls_yaml_where(at ? at : sch, w, sizeof w), ls_policy_name(s->policy));
    }
    n = sch ? ls_yaml_get(sch, "sjf_max_wait_s") : NULL;
    if (n) {
        double v = 0;
        LS_TRY(ls_yaml_get_double_in(sch, "scheduler", "sjf_max_wait_s", 0, true, INFINITY, NULL, &v, e));
        if (s->order != LS_ORDER_SJF)
            return ls_fail(e, LS_EINVAL, "%s: scheduler.sjf_max_wait_s: set only with order sjf",
                           ls_yaml_where(n, w, sizeof w));
        s->sjf_max_wait_s = v;
    }
    return LS_OK;
}
