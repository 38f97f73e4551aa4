/* config_moe.c -- the MoE part of a run configuration: `parallelism.ep` checked
 * against the model and the other degrees, and the `moe:` mapping (load
 * imbalance, EPLB redundant experts, dispatch dtype). docs/CONFIG.md, "MoE".
 */
#include <stdio.h>
#include <string.h>

#include "config_internal.h"
#include "cost_moe.h"

static const char *at(const ls_yaml *n, char *buf, size_t size)
{
    ls_yaml_where(n, buf, size);
    return buf;
}

static ls_status load_moe_map(ls_run_config *c, const ls_yaml *moe, ls_error *e)
{
    static const char *const keys[] = {"imbalance", "redundant_experts", "dispatch", "backend", NULL};
    static const char *const dispatch[] = {"bf16", "fp8", NULL};
    LS_TRY(ls_yaml_check_keys(moe, "moe", keys, e));
    LS_TRY(ls_yaml_get_double_in(moe, "moe", "imbalance", 1, false, 64,
                                 "the busiest rank's load over the mean, in [1, 64]", &c->moe_imbalance, e));
    int64_t redundant = c->redundant_experts;
    LS_TRY(ls_yaml_get_int_in(moe, "moe", "redundant_experts", 0, 65536, "an integer in [0, 65536]", &redundant, e));
    c->redundant_experts = (int)redundant;
    int fp8 = c->a2a_fp8;
    LS_TRY(ls_yaml_get_choice(moe, "moe", "dispatch", dispatch, NULL, "bf16 or fp8", &fp8, e));
    c->a2a_fp8 = fp8 == 1;
    const char *s = NULL;
    LS_TRY(ls_yaml_get_string(moe, "moe", "backend", &s, e));
    if (s) {
        c->moe_backend = ls_moe_backend_find(s);
        if (!c->moe_backend) {
            char what[512];
            snprintf(what, sizeof what, "unknown all-to-all backend '%s' (expected one of: %s)", s,
                     ls_moe_backend_names());
            return ls_yaml_fail_at(moe, "moe", "backend", what, e);
        }
    }
    return LS_OK;
}

ls_status ls_config_moe_load(ls_run_config *c, const ls_yaml *root, ls_error *e)
{
    char w[300];
    const ls_model *m = &c->model;
    const ls_yaml *par = ls_yaml_get(root, "parallelism");
    const ls_yaml *at_ep = par && par->kind == LS_YAML_MAP && ls_yaml_get(par, "ep") ? ls_yaml_get(par, "ep")
                                                                                    : par ? par : root;
    const ls_yaml *moe = ls_yaml_get(root, "moe");
    c->moe_imbalance = 1.0;
    c->redundant_experts = 0;
    c->a2a_fp8 = false;
    c->moe_backend = NULL;
    if (moe && !ls_yaml_is_null(moe)) {
        if (moe->kind != LS_YAML_MAP)
            return ls_fail(e, LS_EINVAL, "%s: moe: expected a mapping {imbalance, redundant_experts, dispatch, backend}",
                           at(moe, w, sizeof w));
        if (!ls_model_is_moe(m))
            return ls_fail(e, LS_EINVAL, "%s: moe: model %s has no experts", at(moe, w, sizeof w), m->name);
        LS_TRY(load_moe_map(c, moe, e));
    }
    if (c->has_e_dtype && !ls_model_is_moe(m))
        return ls_fail(e, LS_EINVAL, "%s: dtype.experts: model %s has no experts",
                       at(ls_yaml_get(root, "dtype"), w, sizeof w), m->name);
    if (c->ep <= 1) {
        if (c->redundant_experts > 0)
            return ls_fail(e, LS_EINVAL, "%s: moe.redundant_experts: EPLB replicas need expert parallelism (ep > 1)",
                           at(moe, w, sizeof w));
        return LS_OK;
    }
    int width = c->tp * c->dp;
    if (!ls_model_is_moe(m))
        return ls_fail(e, LS_EINVAL, "%s: parallelism: ep %d: model %s has no experts to distribute",
                       at(at_ep, w, sizeof w), c->ep, m->name);
    if (c->ep > width)
        return ls_fail(e, LS_EINVAL,
                       "%s: parallelism: ep %d is larger than dp x tp = %d (the EP group is made of the "
                       "replicas' GPUs)",
                       at(at_ep, w, sizeof w), c->ep, width);
    if (c->ep % c->tp || width % c->ep)
        return ls_fail(e, LS_EINVAL,
                       "%s: parallelism: ep %d must be a multiple of tp %d and divide dp x tp = %d (whole "
                       "replicas per EP group)",
                       at(at_ep, w, sizeof w), c->ep, c->tp, width);
    if ((m->experts + c->redundant_experts) % c->ep)
        return ls_fail(e, LS_EINVAL,
                       "%s: parallelism: ep %d does not divide the %d experts%s of %s (valid: a divisor of %d)",
                       at(at_ep, w, sizeof w), c->ep, m->experts + c->redundant_experts,
                       c->redundant_experts ? " (with the redundant ones)" : "", m->name,
                       m->experts + c->redundant_experts);
    return LS_OK;
}

void ls_config_compute_note(const ls_run_config *c, char *buf, size_t size)
{
    buf[0] = '\0';
    bool ww = false, we = false;
    ls_cost_gemm_peak(&c->gpu, c->w_dtype, &ww);
    if (c->has_e_dtype)
        ls_cost_gemm_peak(&c->gpu, c->e_dtype, &we);
    if (!ww && !we)
        return;
    ls_dtype d = ww ? c->w_dtype : c->e_dtype;
    snprintf(buf, size, "%s has no %s tensor cores: %s%s weights are stored in %s and computed in BF16", c->gpu.name,
             d == LS_DTYPE_FP8 ? "FP8" : "FP4", ww ? "" : "expert ", ls_dtype_name(d), ls_dtype_name(d));
}
