/* config_spec.c -- the `speculative:` mapping of a run configuration
 * (docs/CONFIG.md, "Speculative decoding"): method, num_speculative_tokens,
 * model (method draft) and acceptance (one rate or a per-position list),
 * checked against the target model and the scheduler. */
#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "config_internal.h"
#include "workload.h"

static const char *at(const ls_yaml *n, char *buf, size_t size)
{
    ls_yaml_where(n, buf, size);
    return buf;
}

static ls_status get_rate(const ls_yaml *n, const char *key, double *v, ls_error *e)
{
    char w[300];
    LS_TRY(ls_yaml_as_double(n, key, v, e));
    if (!(*v >= 0 && *v <= 1))
        return ls_fail(e, LS_EINVAL, "%s: %s: expected an acceptance rate in [0, 1], got %g", at(n, w, sizeof w),
                       key, *v);
    return LS_OK;
}

/* One rate (geometric) or a list of k (per draft position) into alpha[0..k). */
static ls_status get_rates(const ls_yaml *n, const char *key, int k, double *alpha, ls_error *e)
{
    char w[300];
    if (n->kind == LS_YAML_SEQ) {
        if ((int)n->n != k)
            return ls_fail(e, LS_EINVAL, "%s: %s: expected %d rates (one per draft position), got %zu",
                           at(n, w, sizeof w), key, k, n->n);
        for (size_t i = 0; i < n->n; i++) {
            char ki[128];
            snprintf(ki, sizeof ki, "%s[%zu]", key, i);
            LS_TRY(get_rate(n->vals[i], ki, &alpha[i], e));
        }
        return LS_OK;
    }
    double a;
    LS_TRY(get_rate(n, key, &a, e));
    for (int i = 0; i < k; i++)
        alpha[i] = a;
    return LS_OK;
}

/* The proposer as a small model: EAGLE's head is one dense decoder layer of
 * the target's width (its embedding and LM head shared), MTP one more layer
 * of the target's own last kind (MoE for DeepSeek-V3). */
static void derive_head(ls_model *p, const ls_model *target, ls_spec_method m)
{
    *p = *target;
    p->layers = 1;
    p->dense_layers = 0;
    p->moe_layer_step = 0;  /* the one layer is of the target's last kind */
    p->sliding_window = p->sliding_layers = 0;
    if (m == LS_SPEC_EAGLE) {
        p->experts = p->top_k = 1;
        p->moe_ffn = 0;
        p->shared_experts = 0;
    }
    snprintf(p->name, sizeof p->name, "%.40s-%s", target->name, ls_spec_method_name(m));
}

static ls_status load_map(ls_run_config *c, const ls_yaml *sp, const ls_catalog *cat, ls_error *e)
{
    static const char *const keys[] = {"method", "num_speculative_tokens", "model", "acceptance", NULL};
    static const char *const methods[] = {"none", "draft", "eagle", "mtp", "ngram"};
    char w[300];
    ls_spec_config *s = &c->spec;
    LS_TRY(ls_yaml_check_keys(sp, "speculative", keys, e));
    const ls_yaml *n = ls_yaml_get(sp, "method");
    if (!n)
        return ls_fail(e, LS_EINVAL, "%s: speculative: missing key 'method' (draft, eagle, mtp or ngram)",
                       at(sp, w, sizeof w));
    const char *ms;
    LS_TRY(ls_yaml_as_string(n, "speculative.method", &ms, e));
    if (!strcmp(ms, "eagle3"))
        ms = "eagle";
    else if (!strcmp(ms, "draft_model"))
        ms = "draft";
    s->method = LS_SPEC_NONE;
    for (int i = 1; i < 5; i++)
        if (!strcmp(ms, methods[i]))
            s->method = (ls_spec_method)i;
    if (s->method == LS_SPEC_NONE) {
        if (!strcmp(ms, "none"))
            return LS_OK;
        return ls_fail(e, LS_EINVAL, "%s: speculative.method: unknown method '%s' (expected draft, eagle, mtp, ngram or none)",
                       at(n, w, sizeof w), ms);
    }
    n = ls_yaml_get(sp, "num_speculative_tokens");
    if (!n)
        return ls_fail(e, LS_EINVAL, "%s: speculative: missing key 'num_speculative_tokens' (1 to %d)",
                       at(sp, w, sizeof w), LS_SPEC_MAX_K);
    int64_t k = 0;
    char expect[96];
    snprintf(expect, sizeof expect, "1 to %d with method %s", LS_SPEC_MAX_K, ms);
    LS_TRY(ls_yaml_get_int_in(sp, "speculative", "num_speculative_tokens", 1, LS_SPEC_MAX_K, expect, &k, e));
    s->k = (int)k;
    n = ls_yaml_get(sp, "acceptance");
    if (!n)
        return ls_fail(e, LS_EINVAL,
                       "%s: speculative: missing key 'acceptance' (a rate in [0, 1], one per draft position, "
                       "or a mapping of request classes to those)",
                       at(sp, w, sizeof w));
    if (n->kind == LS_YAML_MAP) {
        /* per request class: each value checked here, names once the classes are known */
        if (n->n == 0)
            return ls_fail(e, LS_EINVAL, "%s: speculative.acceptance: an empty mapping (expected CLASS: RATE, ...)",
                           at(n, w, sizeof w));
        for (size_t i = 0; i < n->n; i++) {
            char key[96];
            snprintf(key, sizeof key, "speculative.acceptance.%.40s", n->keys[i]);
            LS_TRY(get_rates(n->vals[i], key, s->k, s->alpha, e));
        }
        s->by_class = true;
    } else {
        LS_TRY(get_rates(n, "speculative.acceptance", s->k, s->alpha, e));
    }
    const ls_yaml *mn = ls_yaml_get(sp, "model");
    if (s->method == LS_SPEC_DRAFT) {
        if (!mn)
            return ls_fail(e, LS_EINVAL, "%s: speculative: method draft needs 'model' (a catalog model name)",
                           at(sp, w, sizeof w));
        const char *name;
        LS_TRY(ls_yaml_as_string(mn, "speculative.model", &name, e));
        const ls_model *dm;
        if (ls_catalog_model(cat, name, &dm, e))
            return ls_error_prefix(e, "%s: speculative.model", at(mn, w, sizeof w));
        if (dm->vocab != c->model.vocab)
            return ls_fail(e, LS_EINVAL,
                           "%s: speculative.model: draft %s has a vocabulary of %d tokens, target %s has %d "
                           "(a draft model must share the target's tokenizer)",
                           at(mn, w, sizeof w), dm->name, dm->vocab, c->model.name, c->model.vocab);
        if (dm->heads % c->tp || (dm->kv_heads % c->tp && c->tp % dm->kv_heads))
            return ls_fail(e, LS_EINVAL, "%s: speculative.model: draft %s cannot run at the target's tp %d (%d heads, %d KV heads)",
                           at(mn, w, sizeof w), dm->name, c->tp, dm->heads, dm->kv_heads);
        s->proposer = *dm;
        s->has_proposer = true;
    } else if (mn) {
        return ls_fail(e, LS_EINVAL,
                       "%s: speculative.model: only method draft takes a model (the %s proposer is derived from the target)",
                       at(mn, w, sizeof w), ms);
    } else if (s->method != LS_SPEC_NGRAM) {
        derive_head(&s->proposer, &c->model, s->method);
        s->has_proposer = true;
    }
    if (c->pp > 1)
        return ls_fail(e, LS_EINVAL, "%s: speculative: not modelled with pipeline parallelism (pp %d)",
                       at(sp, w, sizeof w), c->pp);
    if (c->sched.policy != LS_POLICY_VLLM_V1)
        return ls_fail(e, LS_EINVAL, "%s: speculative: modelled with scheduler.policy vllm-v1 only (got %s)",
                       at(sp, w, sizeof w), ls_policy_name(c->sched.policy));
    return LS_OK;
}

ls_status ls_config_spec_load(ls_run_config *c, const ls_yaml *root, const ls_catalog *cat, ls_error *e)
{
    char w[300];
    memset(&c->spec, 0, sizeof c->spec);
    c->sched.spec_tokens = 0;
    const ls_yaml *sp = ls_yaml_get(root, "speculative");
    if (!sp || ls_yaml_is_null(sp))
        return LS_OK;
    if (sp->kind != LS_YAML_MAP)
        return ls_fail(e, LS_EINVAL,
                       "%s: speculative: expected a mapping {method, num_speculative_tokens, model, acceptance}",
                       at(sp, w, sizeof w));
    ls_status rc = load_map(c, sp, cat, e);
    if (rc) {
        memset(&c->spec, 0, sizeof c->spec);
        return rc;
    }
    c->sched.spec_tokens = c->spec.method != LS_SPEC_NONE ? c->spec.k : 0;
    return LS_OK;
}

void ls_config_spec_label(const ls_run_config *c, char *buf, size_t size)
{
    const ls_spec_config *s = &c->spec;
    if (s->method == LS_SPEC_NONE) {
        snprintf(buf, size, "none");
        return;
    }
    if (s->by_class) {
        /* "eagle k3 chat:0.8 code:0.6,0.5": each class's rates */
        const ls_class_table *ct = ls_workload_classes(c->workload);
        int n = snprintf(buf, size, "%s k%d", ls_spec_method_name(s->method), s->k);
        for (int j = 0; j < ct->n && n > 0 && (size_t)n < size; j++) {
            const double *a = s->alpha_class[j];
            n += snprintf(buf + n, size - (size_t)n, " %s:%g", ct->c[j].name, a[0]);
            bool table = false;
            for (int q = 1; q < s->k; q++)
                table = table || a[q] != a[0];
            for (int q = 1; table && q < s->k && n > 0 && (size_t)n < size; q++)
                n += snprintf(buf + n, size - (size_t)n, ",%g", a[q]);
        }
        return;
    }
    int n = snprintf(buf, size, "%s k%d a%g", ls_spec_method_name(s->method), s->k, s->alpha[0]);
    bool table = false;
    for (int i = 1; i < s->k; i++)
        table = table || s->alpha[i] != s->alpha[0];
    for (int i = 1; table && i < s->k && n > 0 && (size_t)n < size; i++)
        n += snprintf(buf + n, size - (size_t)n, ",%g", s->alpha[i]);
    if (s->method == LS_SPEC_DRAFT && n > 0 && (size_t)n < size)
        snprintf(buf + n, size - (size_t)n, " %s", s->proposer.name);
}

ls_status ls_config_spec_classes(ls_run_config *c, const ls_yaml *root, ls_error *e)
{
    ls_spec_config *s = &c->spec;
    if (s->method == LS_SPEC_NONE || !s->by_class)
        return LS_OK;
    char w[300];
    const ls_yaml *n = ls_yaml_get(ls_yaml_get(root, "speculative"), "acceptance");
    assert(n && n->kind == LS_YAML_MAP);
    const ls_class_table *ct = ls_workload_classes(c->workload);
    if (ct->n == 0)
        return ls_fail(e, LS_EINVAL,
                       "%s: speculative.acceptance: a mapping names request classes, but the workload defines "
                       "none (workload.classes)", at(n, w, sizeof w));
    /* every key a class or `default` */
    for (size_t i = 0; i < n->n; i++) {
        bool known = !strcmp(n->keys[i], "default");
        for (int j = 0; j < ct->n && !known; j++)
            known = !strcmp(n->keys[i], ct->c[j].name);
        if (!known) {
            char names[LS_MAX_CLASSES * (LS_CLASS_NAME_MAX + 2) + 1] = "";
            for (int j = 0; j < ct->n; j++)
                snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", j ? ", " : "", ct->c[j].name);
            return ls_fail(e, LS_EINVAL,
                           "%s: speculative.acceptance: '%s' is no request class of the workload (classes: %s; "
                           "or default)", at(n->vals[i], w, sizeof w), n->keys[i], names);
        }
    }
    const ls_yaml *def = ls_yaml_get(n, "default");
    for (int j = 0; j < ct->n; j++) {
        const ls_yaml *v = ls_yaml_get(n, ct->c[j].name);
        if (!v)
            v = def;
        if (!v)
            return ls_fail(e, LS_EINVAL, "%s: speculative.acceptance: no rate for request class '%s' (and no default)",
                           at(n, w, sizeof w), ct->c[j].name);
        LS_TRY(get_rates(v, "speculative.acceptance", s->k, s->alpha_class[j], e));
    }
    for (int j = ct->n; j < LS_MAX_CLASSES; j++)
        memcpy(s->alpha_class[j], s->alpha_class[0], sizeof s->alpha_class[j]);
    memcpy(s->alpha, s->alpha_class[0], sizeof s->alpha);
    return LS_OK;
}
