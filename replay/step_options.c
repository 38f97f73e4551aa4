/* step_options.c -- async scheduling and multi-step windows (see step_options.h). */
#include <stdio.h>

#include "config_internal.h"
#include "sched_internal.h"
#include "step_options.h"

ls_status ls_step_options_parse(const ls_yaml *sch, ls_sched_config *s, ls_error *e)
{
    s->async_scheduling = false;
    s->num_scheduler_steps = 1;
    if (!sch)
        return LS_OK;
    char w[300];
    LS_TRY(ls_yaml_get_bool(sch, "scheduler", "async_scheduling", &s->async_scheduling, e));
    int64_t n = 1;
    LS_TRY(ls_yaml_get_int(sch, "scheduler", "num_scheduler_steps", 1, LS_MAX_SCHEDULER_STEPS, &n, e));
    s->num_scheduler_steps = (int)n;
    const ls_yaml *an = ls_yaml_get(sch, "async_scheduling"), *mn = ls_yaml_get(sch, "num_scheduler_steps");
    if (s->async_scheduling && s->policy != LS_POLICY_VLLM_V1)
        return ls_fail(e, LS_EINVAL, "%s: scheduler.async_scheduling: vLLM V1's async scheduler needs policy vllm-v1 "
                                     "(got %s)",
                       ls_yaml_where(an, w, sizeof w), ls_policy_name(s->policy));
    if (n > 1 && s->policy != LS_POLICY_VLLM_V0)
        return ls_fail(e, LS_EINVAL, "%s: scheduler.num_scheduler_steps: multi-step scheduling was vLLM V0's "
                                     "(V1 replaced it with async_scheduling): needs policy vllm-v0 (got %s)",
                       ls_yaml_where(mn, w, sizeof w), ls_policy_name(s->policy));
    return LS_OK;
}

double ls_step_stage0_s(const ls_sched_config *s, double gpu_s, double overhead_s, bool back_to_back,
                        bool in_window)
{
    if (in_window)
        return gpu_s;  /* inside a multi-step window: scheduled once, at its start */
    if (s->async_scheduling && back_to_back)
        return gpu_s > overhead_s ? gpu_s : overhead_s;  /* formed while the previous step ran */
    return gpu_s + overhead_s;
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
