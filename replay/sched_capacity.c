/* sched_capacity.c -- TensorRT-LLM's GUARANTEED_NO_EVICT admission rule (sched_capacity.h). */
#include <string.h>

#include "sched_capacity.h"

static const char *const names[] = {"max_utilization", "guaranteed_no_evict"};

ls_status ls_sched_capacity_parse(const ls_yaml *root, const ls_yaml *sch, ls_sched_config *s, ls_error *e)
{
    char w[300];
    const ls_yaml *n = sch ? ls_yaml_get(sch, "capacity_policy") : NULL;
    s->capacity_policy = LS_CAPACITY_MAX_UTILIZATION;
    if (!n)
        return LS_OK;
    const char *name = NULL;
    if (n->kind != LS_YAML_SCALAR || ls_yaml_is_null(n))
        return ls_fail(e, LS_EINVAL, "%s: scheduler.capacity_policy: expected max_utilization or guaranteed_no_evict",
                       ls_yaml_where(n, w, sizeof w));
    LS_TRY(ls_yaml_as_string(n, "scheduler.capacity_policy", &name, e));
    int found = -1;
    for (int i = 0; i < (int)(sizeof names / sizeof names[0]); i++)
        if (!strcmp(names[i], name))
            found = i;
    if (found < 0)
        return ls_fail(e, LS_EINVAL,
                       "%s: scheduler.capacity_policy: unknown policy '%s' (expected max_utilization or "
                       "guaranteed_no_evict)", ls_yaml_where(n, w, sizeof w), name);
    s->capacity_policy = found;
    if (found != LS_CAPACITY_GUARANTEED_NO_EVICT)
        return LS_OK;
    const char *why = s->policy != LS_POLICY_VLLM_V1 ? "needs scheduler.policy vllm-v1"
                      : s->enable_prefix_caching    ? "is not modelled with enable_prefix_caching"
                      : s->spec_tokens > 0          ? "is not modelled with speculative decoding"
                      : s->preempt_swap             ? "is not modelled with preemption_mode swap"
                      : ls_yaml_get(root, "disaggregation") ? "is not modelled with disaggregation"
                                                            : NULL;
    if (why)
        return ls_fail(e, LS_EINVAL, "%s: scheduler.capacity_policy: guaranteed_no_evict %s",
                       ls_yaml_where(n, w, sizeof w), why);
    return LS_OK;
}

int64_t ls_sched_capacity_blocks(int64_t prompt, int64_t output, int block_size)
{
    int64_t tokens = prompt + output - 1;
    if (tokens < 1)
        tokens = 1;
    return (tokens + block_size - 1) / block_size;
}

bool ls_sched_capacity_fits(int64_t promised, int64_t need, int64_t total)
{
    return promised + need <= total;
}
