/* classes.c -- request classes (see classes.h): the `classes:` list and the
 * transformation that gives each request its class. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classes.h"
#include "dist.h" /* ls_fmt_double */
#include "rng.h"
#include "source_impl.h"

/* ---- parsing ---------------------------------------------------------------- */

static ls_status parse_one(const ls_yaml *n, const char *path, ls_class_spec *c, ls_error *e)
{
    static const char *const keys[] = {"name", "share", "priority", "slo", NULL};
    if (n->kind != LS_YAML_MAP)
        return ls_yaml_fail_at(n, path, NULL, "expected a mapping like {name: interactive, share: 0.3, priority: 0}",
                               e);
    LS_TRY(ls_yaml_check_keys(n, path, keys, e));
    const char *name = NULL;
    LS_TRY(ls_yaml_get_string(n, path, "name", &name, e));
    if (!name)
        return ls_yaml_fail_at(n, path, NULL, "missing 'name'", e);
    size_t len = strlen(name);
    bool ok = len > 0 && len < LS_CLASS_NAME_MAX;
    for (size_t i = 0; ok && i < len; i++)
        ok = (name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
             (name[i] >= '0' && name[i] <= '9') || name[i] == '_' || name[i] == '-';
    if (!ok)
        return ls_yaml_fail_at(n, path, "name", "expected a name of 1 to 31 letters, digits, '_' or '-'", e);
    snprintf(c->name, sizeof c->name, "%s", name);
    c->share = NAN;
    LS_TRY(ls_yaml_get_double(n, path, "share", 0.0, true, &c->share, e));
    if (c->share > 1.0)
        return ls_yaml_fail_at(n, path, "share", "expected a fraction of the requests in (0, 1]", e);
    int64_t pr = 0;
    LS_TRY(ls_yaml_get_int(n, path, "priority", -1000000, 1000000, &pr, e));
    c->priority = (int32_t)pr;
    c->slo_ttft_s = c->slo_tpot_s = NAN;
    const ls_yaml *slo = ls_yaml_get(n, "slo");
    if (slo) {
        static const char *const sk[] = {"ttft_s", "tpot_s", NULL};
        char kp[300];
        snprintf(kp, sizeof kp, "%.280s.slo", path);
        LS_TRY(ls_yaml_check_keys(slo, kp, sk, e));
        LS_TRY(ls_yaml_get_double(slo, kp, "ttft_s", 0.0, true, &c->slo_ttft_s, e));
        LS_TRY(ls_yaml_get_double(slo, kp, "tpot_s", 0.0, true, &c->slo_tpot_s, e));
    }
    return LS_OK;
}

ls_status ls_classes_parse(const ls_yaml *node, const char *path, bool need_shares, ls_class_table *out,
                           ls_error *e)
{
    memset(out, 0, sizeof *out);
    char w[300], what[300];
    if (!node || node->kind != LS_YAML_SEQ || node->n == 0)
        return ls_fail(e, LS_EINVAL, "%s: %s: expected a list of 1 to %d classes like "
                                     "[{name: interactive, share: 0.3, priority: 0}, {name: batch, share: 0.7, priority: 1}]",
                       node ? ls_yaml_where(node, w, sizeof w) : "?", path, LS_MAX_CLASSES);
    if (node->n > LS_MAX_CLASSES) {
        snprintf(what, sizeof what, "%zu classes: expected at most %d (the result schema's per-class columns)",
                 node->n, LS_MAX_CLASSES);
        return ls_fail(e, LS_EINVAL, "%s: %s: %s", ls_yaml_where(node, w, sizeof w), path, what);
    }
    int with_share = 0;
    double sum = 0;
    for (size_t i = 0; i < node->n; i++) {
        char kp[256];
        snprintf(kp, sizeof kp, "%.200s[%zu]", path, i);
        ls_class_spec *c = &out->c[i];
        LS_TRY(parse_one(node->vals[i], kp, c, e));
        for (size_t j = 0; j < i; j++)
            if (!strcmp(out->c[j].name, c->name)) {
                snprintf(what, sizeof what, "duplicate class name '%s' (also %s[%zu])", c->name, path, j);
                return ls_yaml_fail_at(node->vals[i], kp, "name", what, e);
            }
        if (!isnan(c->share)) {
            with_share++;
            sum += c->share;
        } else if (need_shares) {
            return ls_yaml_fail_at(node->vals[i], kp, NULL,
                                   "missing 'share': a synthetic workload draws each request's class by the shares",
                                   e);
        }
    }
    out->n = (int)node->n;
    if (with_share && with_share != out->n)
        return ls_fail(e, LS_EINVAL, "%s: %s: shares given for %d of %d classes: expected a share for every "
                                     "class, or none (the trace's class column then names them)",
                       ls_yaml_where(node, w, sizeof w), path, with_share, out->n);
    if (with_share && fabs(sum - 1.0) > 1e-6)
        return ls_fail(e, LS_EINVAL, "%s: %s: the shares sum to %.9g: expected 1", ls_yaml_where(node, w, sizeof w),
                       path, sum);
    out->shares = with_share > 0;
    return LS_OK;
}

void ls_classes_canonical(const ls_class_table *t, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < t->n && len < size; i++) {
        const ls_class_spec *c = &t->c[i];
        char sh[40], tt[40], tp[40];
        ls_fmt_double(sh, sizeof sh, c->share);
        ls_fmt_double(tt, sizeof tt, c->slo_ttft_s);
        ls_fmt_double(tp, sizeof tp, c->slo_tpot_s);
        int k = snprintf(buf + len, size - len, "%s%s(share=%s,priority=%" PRId32 ",ttft_s=%s,tpot_s=%s)",
                         i ? "," : "", c->name, sh, c->priority, tt, tp);
        if (k < 0 || len + (size_t)k >= size)
            break;
        len += (size_t)k;
    }
}

int ls_classes_find(const ls_class_table *t, const char *name)
{
    for (int i = 0; i < t->n; i++)
        if (!strcmp(t->c[i].name, name))
            return i;
    return -1;
}

/* ---- the transformation ------------------------------------------------------- */

typedef struct classer {
    ls_source base;
    ls_source *in;
    ls_class_table t;
    double cum[LS_MAX_CLASSES];
    ls_rng rng;
    char *name;
} classer;

static int classer_next(ls_source *s, ls_request *out, ls_error *e)
{
    classer *x = (classer *)s;
    int rc = ls_source_next(x->in, out, e);
    if (rc <= 0)
        return rc;
    int n = x->t.n > 0 ? x->t.n : 1;
    if (out->class_id >= n) {
        char names[LS_MAX_CLASSES * (LS_CLASS_NAME_MAX + 2) + 8];
        size_t len = 0;
        names[0] = '\0';
        for (int i = 0; i < x->t.n; i++)
            len += (size_t)snprintf(names + len, sizeof names - len, "%s%s", i ? ", " : "", x->t.c[i].name);
        if (x->t.n)
            return ls_fail(e, LS_EINVAL, "%s:%" PRIu64 ": class %" PRId32 ": the workload defines %d classes (%s), "
                                         "expected an index from 0 to %d",
                           x->name ? x->name : "<requests>", out->line, out->class_id, x->t.n, names, x->t.n - 1),
                   -1;
        return ls_fail(e, LS_EINVAL, "%s:%" PRIu64 ": class %" PRId32 ": the workload defines no classes: add "
                                     "workload.classes, or expected class 0",
                       x->name ? x->name : "<requests>", out->line, out->class_id),
               -1;
    }
    if (out->class_id < 0) {
        out->class_id = 0;
        if (x->t.shares && x->t.n > 1) {
            double u = ls_rng_uniform(&x->rng);
            int k = 0;
            while (k < x->t.n - 1 && u >= x->cum[k])
                k++;
            out->class_id = k;
        }
    }
    return 1;
}

static void classer_free(ls_source *s)
{
    classer *x = (classer *)s;
    ls_source_free(x->in);
    free(x->name);
    free(x);
}

static void classer_report(const ls_source *s, ls_source_report *r)
{
    const classer *x = (const classer *)s;
    if (x->in && x->in->vt->report)
        x->in->vt->report(x->in, r);
}

static const ls_source_vt classer_vt = {classer_next, classer_free, classer_report};

ls_source *ls_transform_classes(ls_source *in, const ls_class_table *t, uint64_t seed, const char *name)
{
    classer *x = ls_xcalloc(1, sizeof *x);
    x->base.vt = &classer_vt;
    x->in = in;
    x->t = *t;
    double c = 0;
    for (int i = 0; i < t->n; i++) {
        c += t->shares ? t->c[i].share : 0;
        x->cum[i] = c;
    }
    ls_rng_stream(&x->rng, seed, "class");
    x->name = name ? ls_xstrdup(name) : NULL;
    return &x->base;
}
