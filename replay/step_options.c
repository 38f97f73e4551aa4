/* step_options.c -- async scheduling and multi-step windows (see step_options.h). */
#include <stdio.h>

#include "config_internal.h"
#include "engine_profile.h"
#include "sched_internal.h"
#include "step_options.h"

ls_status ls_step_options_parse(const ls_yaml *root, const ls_engine_profile *eng, ls_sched_config *s,
                                ls_error *e)
{
    const ls_yaml *sch = ls_yaml_get(root, "scheduler");
    const ls_yaml *an = sch ? ls_yaml_get(sch, "async_scheduling") : NULL;
    const ls_yaml *mn = sch ? ls_yaml_get(sch, "num_scheduler_steps") : NULL;
    int64_t n = 1;
    if (sch)
        LS_TRY(ls_yaml_get_int(sch, "scheduler", "num_scheduler_steps", 1, LS_MAX_SCHEDULER_STEPS, &n, e));
    s->num_scheduler_steps = (int)n;
    char w[300], we[300];
    if (n > 1 && s->policy != LS_POLICY_VLLM_V0)
        return ls_fail(e, LS_EINVAL, "%s: scheduler.num_scheduler_steps: multi-step scheduling was vLLM V0's "
                                     "(V1 replaced it with async_scheduling): needs policy vllm-v0 (got %s)",
                       ls_yaml_where(mn, w, sizeof w), ls_policy_name(s->policy));
    /* the engine's default; vLLM V1's async scheduler is part of its own scheduler loop, so a
     * configuration that replays another policy there (vllm-v0, sarathi) runs without it */
    s->async_scheduling = eng->async == LS_ASYNC_ON && s->policy == LS_POLICY_VLLM_V1;
    if (!an)
        return LS_OK;
    LS_TRY(ls_yaml_get_bool(sch, "scheduler", "async_scheduling", &s->async_scheduling, e));
    if (!s->async_scheduling)
        return LS_OK;
    if (eng->async == LS_ASYNC_NONE) {
        const ls_yaml *en = ls_yaml_get(root, "engine");
        return ls_fail(e, LS_EINVAL, "%s: scheduler.async_scheduling: engine %s%s%s has no async scheduling "
                                     "(vLLM V1 introduced it; V0's answer to the step overhead was "
                                     "num_scheduler_steps): drop the key or use engine vllm-v1",
                       ls_yaml_where(an, w, sizeof w), eng->name, en ? " at " : "",
                       en ? ls_yaml_where(en, we, sizeof we) : "");
    }
    if (s->policy != LS_POLICY_VLLM_V1)
        return ls_fail(e, LS_EINVAL, "%s: scheduler.async_scheduling: vLLM V1's async scheduler needs policy vllm-v1 "
                                     "(got %s)",
                       ls_yaml_where(an, w, sizeof w), ls_policy_name(s->policy));
    return LS_OK;
}

void ls_step_mode_name(const ls_sched_config *s, char *buf, size_t size)
{
    if (s->num_scheduler_steps > 1)
        snprintf(buf, size, "multi-step %d", s->num_scheduler_steps);
    else
        snprintf(buf, size, "%s", s->async_scheduling ? "async" : "sync");
}

bool ls_step_may_admit(ls_replica *r)
{
    if (r->n_running == 0)
        r->ms_left = 0;  /* nothing runs: the window ends */
    return r->ms_left == 0;
}

void ls_step_window_advance(ls_replica *r, ls_mbatch_info *out)
{
    out->in_window = r->ms_left > 0;
    if (r->cfg.num_scheduler_steps > 1)
        r->ms_left = out->in_window ? r->ms_left - 1 : r->cfg.num_scheduler_steps - 1;
}
