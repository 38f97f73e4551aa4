/* sweep_spec.c -- parse a sweep specification and expand its grid (see sweep_spec.h). */
#include "sweep_spec.h"

#include <assert.h>
#include <math.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef LS_HAVE_CAPACITY
#include "capacity.h"
#else
#define LS_CAPACITY_START_RPS 0.25
#endif

/* Bound on the expanded grid, checked on the product before expanding:
 * every configuration holds its tree, canonical text and label (~6-7 KB
 * measured: 10,000 take 62 MB for --dry-run, 300,000 took 2 GB), so a big
 * product is killed by the OOM killer with no message. Raised with the
 * environment variable LLMSWEEP_MAX_CONFIGS. */
#define LS_SWEEP_MAX_POINTS 1000000ull
#define LS_SWEEP_BYTES_PER_CONFIG 7000.0

/* One axis of the product: `n_points` points, each assigning `n_paths` values
 * (one path for a grid key, several for a zip group). */
typedef struct axis {
    size_t n_points, n_paths;
    const char **paths;      /* borrowed from the spec tree */
    const ls_yaml **vals;    /* [point * n_paths + path], borrowed */
} axis;

typedef struct expander {
    const ls_yaml *root, *base, *exclude;
    axis *axes;
    size_t n_axes;
    const char *name;
    unsigned long long max_points; /* LS_SWEEP_MAX_POINTS or LLMSWEEP_MAX_CONFIGS */
    bool *key_hit;       /* per exclude rule key (flattened): its value matched some grid point */
    size_t *key_off;     /* rule i's keys start at key_hit[key_off[i]] */
} expander;

void ls_sweep_hash_hex(const char *canonical, char out[LS_HASH_HEX])
{
    snprintf(out, LS_HASH_HEX, "%016" PRIx64, ls_hash64(canonical, strlen(canonical)));
}

static ls_status where_fail(ls_error *e, const ls_yaml *n, const char *path, const char *what)
{
    char w[160];
    return ls_fail(e, LS_EINVAL, "%s: %s: %s", ls_yaml_where(n, w, sizeof w), path, what);
}

/* ---- axes ------------------------------------------------------------------ */

static void axis_init(axis *a, size_t n_points, size_t n_paths)
{
    a->n_points = n_points;
    a->n_paths = n_paths;
    a->paths = ls_xcalloc(n_paths, sizeof *a->paths);
    a->vals = ls_xcalloc(n_points * n_paths, sizeof *a->vals);
}

static void axes_free(expander *x)
{
    for (size_t i = 0; i < x->n_axes; i++) {
        free(x->axes[i].paths);
        free(x->axes[i].vals);
    }
    free(x->axes);
}

static axis *axis_push(expander *x)
{
    x->axes = ls_xrealloc(x->axes, (x->n_axes + 1) * sizeof *x->axes);
    axis *a = &x->axes[x->n_axes++];
    memset(a, 0, sizeof *a);
    return a;
}

static ls_status check_path(const ls_yaml *at, const char *path, ls_error *e)
{
    if (!strcmp(path, "."))
        return LS_OK;
    if (!*path || path[0] == '.' || path[strlen(path) - 1] == '.' || strstr(path, ".."))
        return where_fail(e, at, path, "expected a dotted path into base (e.g. scheduler.max_num_seqs)");
    return LS_OK;
}

static ls_status parse_grid(expander *x, const ls_yaml *grid, ls_error *e)
{
    if (!grid || ls_yaml_is_null(grid))
        return LS_OK;
    if (grid->kind != LS_YAML_MAP)
        return where_fail(e, grid, "grid", "expected a mapping of dotted paths to lists of values");
    for (size_t i = 0; i < grid->n; i++) {
        const ls_yaml *v = grid->vals[i];
        char path[512];
        snprintf(path, sizeof path, "grid.%s", grid->keys[i]);
        LS_TRY(check_path(v, grid->keys[i], e));
        if (v->kind == LS_YAML_SEQ && v->n == 0)
            return where_fail(e, v, path, "expected a non-empty list of values");
        axis *a = axis_push(x);
        size_t np = v->kind == LS_YAML_SEQ ? v->n : 1;
        axis_init(a, np, 1);
        a->paths[0] = grid->keys[i];
        for (size_t p = 0; p < np; p++)
            a->vals[p] = v->kind == LS_YAML_SEQ ? v->vals[p] : v;
    }
    return LS_OK;
}

static ls_status parse_zip(expander *x, const ls_yaml *zip, ls_error *e)
{
    if (!zip || ls_yaml_is_null(zip))
        return LS_OK;
    if (zip->kind != LS_YAML_SEQ)
        return where_fail(e, zip, "zip", "expected a list of groups {path: [values], path: [values]}");
    for (size_t g = 0; g < zip->n; g++) {
        const ls_yaml *grp = zip->vals[g];
        char gpath[64];
        snprintf(gpath, sizeof gpath, "zip[%zu]", g);
        if (grp->kind != LS_YAML_MAP || grp->n == 0)
            return where_fail(e, grp, gpath, "expected a mapping of dotted paths to lists of equal length");
        size_t len = 0;
        for (size_t k = 0; k < grp->n; k++) {
            const ls_yaml *v = grp->vals[k];
            char path[600];
            snprintf(path, sizeof path, "%s.%s", gpath, grp->keys[k]);
            LS_TRY(check_path(v, grp->keys[k], e));
            if (v->kind != LS_YAML_SEQ || v->n == 0)
                return where_fail(e, v, path, "expected a non-empty list of values");
            if (k == 0)
                len = v->n;
            else if (v->n != len) {
                char what[160];
                snprintf(what, sizeof what, "has %zu values but '%s' has %zu: zipped axes need equal lengths",
                         v->n, grp->keys[0], len);
                return where_fail(e, v, path, what);
            }
        }
        axis *a = axis_push(x);
        axis_init(a, len, grp->n);
        for (size_t k = 0; k < grp->n; k++) {
            a->paths[k] = grp->keys[k];
            for (size_t p = 0; p < len; p++)
                a->vals[p * grp->n + k] = grp->vals[k]->vals[p];
        }
    }
    return LS_OK;
}

static ls_status parse_capacity(const ls_yaml *c, ls_sweep_capacity *cap, ls_error *e)
{
    cap->enabled = false;
    cap->rel_tol = 0.05;
    cap->max_runs = 20;
    cap->rate_lo = cap->rate_hi = cap->start = cap->floor = 0;
    if (!c || ls_yaml_is_null(c))
        return LS_OK;
    if (c->kind == LS_YAML_SCALAR) {
        bool on;
        LS_TRY(ls_yaml_as_bool(c, "capacity", &on, e));
        cap->enabled = on;
        return LS_OK;
    }
    static const char *const keys[] = {"rel_tol", "max_runs", "rate_lo", "rate_hi", "start", "floor", "method", "enabled", NULL};
    LS_TRY(ls_yaml_check_keys(c, "capacity", keys, e));
    cap->enabled = true;
    const ls_yaml *v;
    if ((v = ls_yaml_get(c, "enabled")))
        LS_TRY(ls_yaml_as_bool(v, "capacity.enabled", &cap->enabled, e));
    if ((v = ls_yaml_get(c, "rel_tol"))) {
        LS_TRY(ls_yaml_as_double(v, "capacity.rel_tol", &cap->rel_tol, e));
        if (!(cap->rel_tol >= 1e-9 && cap->rel_tol < 1))
            return where_fail(e, v, "capacity.rel_tol", "expected a number in [1e-9, 1)");
    }
    if ((v = ls_yaml_get(c, "max_runs"))) {
        int64_t m;
        LS_TRY(ls_yaml_as_int64(v, "capacity.max_runs", &m, e));
        if (m < 1 || m > 1000)
            return where_fail(e, v, "capacity.max_runs", "expected an integer in 1..1000");
        cap->max_runs = (int)m;
    }
    if ((v = ls_yaml_get(c, "rate_lo")))
        LS_TRY(ls_yaml_as_double(v, "capacity.rate_lo", &cap->rate_lo, e));
    if ((v = ls_yaml_get(c, "rate_hi")))
        LS_TRY(ls_yaml_as_double(v, "capacity.rate_hi", &cap->rate_hi, e));
    if ((v = ls_yaml_get(c, "start"))) {
        LS_TRY(ls_yaml_as_double(v, "capacity.start", &cap->start, e));
        if (!(cap->start > 0) || !isfinite(cap->start))
            return where_fail(e, v, "capacity.start", "expected a rate > 0 (req/s)");
    }
    if ((v = ls_yaml_get(c, "method"))) {
        const char *mth = v->kind == LS_YAML_SCALAR ? v->scalar : NULL;
        if (mth && !strcmp(mth, "bisect"))
            cap->bisect = true;
        else if (mth && !strcmp(mth, "guided"))
            cap->bisect = false;
        else
            return where_fail(e, v, "capacity.method", "expected guided or bisect");
    }
    if ((v = ls_yaml_get(c, "floor"))) {
        LS_TRY(ls_yaml_as_double(v, "capacity.floor", &cap->floor, e));
        if (!(cap->floor > 0) || !isfinite(cap->floor))
            return where_fail(e, v, "capacity.floor", "expected a rate > 0 (req/s)");
        /* a search from a given rate_lo never halves: the floor would be ignored */
        if (cap->rate_lo > 0)
            return where_fail(e, v, "capacity.floor",
                              "not with capacity.rate_lo: the search never probes below rate_lo (if it misses the "
                              "SLO there the capacity is 0); give start instead of rate_lo");
        double start = cap->start > 0 ? cap->start : LS_CAPACITY_START_RPS;
        if (cap->floor > start) {
            char msg[160];
            snprintf(msg, sizeof msg, "expected a rate no higher than where the search starts (%s %g req/s)",
                     cap->start > 0 ? "start" : "the default start", start);
            return where_fail(e, v, "capacity.floor", msg);
        }
    }
    return LS_OK;
}

/* ---- applying values ------------------------------------------------------- */

/* Merge mapping `src` into mapping `dst`, key by key, recursing where both are maps. */
static void merge_map(ls_yaml *dst, const ls_yaml *src)
{
    assert(dst->kind == LS_YAML_MAP && src->kind == LS_YAML_MAP);
    for (size_t i = 0; i < src->n; i++) {
        ls_yaml *cur = (ls_yaml *)ls_yaml_get(dst, src->keys[i]);
        if (cur && cur->kind == LS_YAML_MAP && src->vals[i]->kind == LS_YAML_MAP)
            merge_map(cur, src->vals[i]);
        else
            ls_yaml_map_set(dst, src->keys[i], ls_yaml_clone(src->vals[i]));
    }
}

static ls_status apply(ls_yaml *tree, const char *path, const ls_yaml *val, ls_error *e)
{
    if (!strcmp(path, ".")) {
        if (val->kind != LS_YAML_MAP)
            return where_fail(e, val, ".", "a value at the root path '.' must be a mapping");
        merge_map(tree, val);
        return LS_OK;
    }
    ls_yaml *cur = (ls_yaml *)ls_yaml_get_path(tree, path);
    if (val->kind == LS_YAML_MAP && cur && cur->kind == LS_YAML_MAP) {
        merge_map(cur, val);
        return LS_OK;
    }
    ls_status rc = ls_yaml_set_path(tree, path, ls_yaml_clone(val), e);
    if (rc) {
        char w[160];
        ls_error_prefix(e, "%s", ls_yaml_where(val, w, sizeof w));
    }
    return rc;
}

/* ---- exclusion ------------------------------------------------------------- */

static bool scalar_equal(const ls_yaml *a, const ls_yaml *b)
{
    if (!strcmp(a->scalar, b->scalar))
        return true;
    /* numbers written differently (1 vs 1.0) are the same value */
    double x, y;
    if (ls_yaml_as_double(a, "", &x, NULL) == LS_OK && ls_yaml_as_double(b, "", &y, NULL) == LS_OK)
        return x == y;
    return false;
}

/* Does configuration node `n` match rule value `r`? A list in the rule means
 * "any of"; a mapping means "every key matches". */
static bool rule_match(const ls_yaml *n, const ls_yaml *r)
{
    if (!n)
        return false;
    if (r->kind == LS_YAML_SEQ && n->kind != LS_YAML_SEQ) {
        for (size_t i = 0; i < r->n; i++)
            if (rule_match(n, r->vals[i]))
                return true;
        return false;
    }
    if (r->kind == LS_YAML_MAP) {
        if (n->kind != LS_YAML_MAP)
            return false;
        for (size_t i = 0; i < r->n; i++)
            if (!rule_match(ls_yaml_get(n, r->keys[i]), r->vals[i]))
                return false;
        return true;
    }
    if (r->kind == LS_YAML_SCALAR)
        return n->kind == LS_YAML_SCALAR && scalar_equal(n, r);
    /* both sequences: equal content */
    char *a = ls_yaml_canonical(n), *b = ls_yaml_canonical(r);
    bool eq = !strcmp(a, b);
    free(a);
    free(b);
    return eq;
}

static const ls_yaml *path_get(const ls_yaml *tree, const char *path)
{
    return strcmp(path, ".") ? ls_yaml_get_path(tree, path) : tree;
}

/* Every key of every rule is evaluated (no short cut) so that x->key_hit
 * records which rule values occur at all: one that never does is a typo. */
static bool excluded(const ls_yaml *tree, const expander *x)
{
    const ls_yaml *exclude = x->exclude;
    if (!exclude)
        return false;
    bool any = false;
    for (size_t i = 0; i < exclude->n; i++) {
        const ls_yaml *rule = exclude->vals[i];
        bool all = true;
        for (size_t k = 0; k < rule->n; k++) {
            bool m = rule_match(path_get(tree, rule->keys[k]), rule->vals[k]);
            if (m)
                x->key_hit[x->key_off[i] + k] = true;
            all = all && m;
        }
        any = any || all;
    }
    return any;
}

/* Is `key` (an exclude rule path) on an axis: the axis path itself, below it
 * (scheduler.policy for an axis of scheduler mappings), above it, or anything
 * when an axis merges at the root? */
static bool key_on_axis(const expander *x, const char *key)
{
    for (size_t a = 0; a < x->n_axes; a++)
        for (size_t k = 0; k < x->axes[a].n_paths; k++) {
            const char *p = x->axes[a].paths[k];
            size_t lp = strlen(p), lk = strlen(key);
            if (!strcmp(p, ".") || !strcmp(p, key) || (lk > lp && !strncmp(key, p, lp) && key[lp] == '.') ||
                (lp > lk && !strncmp(p, key, lk) && p[lk] == '.'))
                return true;
        }
    return false;
}

/* Exclude keys must name axes: a rule on a misspelt or constant path would
 * silently exclude nothing. */
static ls_status check_exclude_axes(expander *x, ls_error *e)
{
    if (!x->exclude)
        return LS_OK;
    size_t total = 0;
    x->key_off = ls_xcalloc(x->exclude->n, sizeof *x->key_off);
    for (size_t i = 0; i < x->exclude->n; i++) {
        const ls_yaml *rule = x->exclude->vals[i];
        x->key_off[i] = total;
        total += rule->n;
        for (size_t k = 0; k < rule->n; k++) {
            if (key_on_axis(x, rule->keys[k]))
                continue;
            char p[600], what[1024];
            snprintf(p, sizeof p, "exclude[%zu].%s", i, rule->keys[k]);
            size_t len = (size_t)snprintf(what, sizeof what, "'%s' is not an axis of grid or zip (axes:",
                                          rule->keys[k]);
            for (size_t a = 0; a < x->n_axes && len < sizeof what; a++)
                for (size_t q = 0; q < x->axes[a].n_paths && len < sizeof what; q++)
                    len += (size_t)snprintf(what + len, sizeof what - len, " %s", x->axes[a].paths[q]);
            if (len < sizeof what)
                snprintf(what + len, sizeof what - len, "): this rule would exclude nothing");
            return where_fail(e, rule->vals[k], p, what);
        }
    }
    x->key_hit = ls_xcalloc(total ? total : 1, sizeof *x->key_hit);
    return LS_OK;
}

/* After expansion: a rule value that matched no grid point is a typo (tp3 on an axis of tp1, tp2). */
static ls_status check_exclude_hits(const expander *x, ls_error *e)
{
    if (!x->exclude)
        return LS_OK;
    for (size_t i = 0; i < x->exclude->n; i++) {
        const ls_yaml *rule = x->exclude->vals[i];
        for (size_t k = 0; k < rule->n; k++) {
            if (x->key_hit[x->key_off[i] + k])
                continue;
            char p[600], what[256];
            char *v = ls_yaml_canonical(rule->vals[k]);
            snprintf(p, sizeof p, "exclude[%zu].%s", i, rule->keys[k]);
            snprintf(what, sizeof what, "the value %.100s never occurs on this axis: the rule excludes nothing", v);
            free(v);
            return where_fail(e, rule->vals[k], p, what);
        }
    }
    return LS_OK;
}

/* The same path on two axes (grid and zip, or two zip groups): the later one
 * silently overwrites the earlier, and the product holds duplicates. */
static ls_status check_axes_distinct(const expander *x, const ls_yaml *grid, const ls_yaml *zip, ls_error *e)
{
    for (size_t a = 0; a < x->n_axes; a++)
        for (size_t k = 0; k < x->axes[a].n_paths; k++)
            for (size_t b = 0; b <= a; b++)
                for (size_t q = 0; q < (b == a ? k : x->axes[b].n_paths); q++) {
                    if (strcmp(x->axes[a].paths[k], x->axes[b].paths[q]))
                        continue;
                    /* locate the later occurrence for the message */
                    const ls_yaml *at = NULL;
                    size_t n_grid = grid && grid->kind == LS_YAML_MAP ? grid->n : 0;
                    if (a < n_grid)
                        at = grid->vals[a];
                    else
                        at = zip->vals[a - n_grid]->vals[k];
                    char what[256];
                    snprintf(what, sizeof what, "this axis appears twice (in %s and %s): an axis belongs to "
                             "grid or to one zip group", b < n_grid ? "grid" : "zip",
                             a < n_grid ? "grid" : "zip");
                    return where_fail(e, at, x->axes[a].paths[k], what);
                }
    return LS_OK;
}

static ls_status check_exclude(const ls_yaml *ex, ls_error *e)
{
    if (!ex || ls_yaml_is_null(ex))
        return LS_OK;
    if (ex->kind != LS_YAML_SEQ)
        return where_fail(e, ex, "exclude", "expected a list of rules {path: value-or-list, ...}");
    for (size_t i = 0; i < ex->n; i++) {
        char p[64];
        snprintf(p, sizeof p, "exclude[%zu]", i);
        if (ex->vals[i]->kind != LS_YAML_MAP || ex->vals[i]->n == 0)
            return where_fail(e, ex->vals[i], p, "expected a non-empty mapping of dotted paths to values");
        for (size_t k = 0; k < ex->vals[i]->n; k++)
            LS_TRY(check_path(ex->vals[i]->vals[k], ex->vals[i]->keys[k], e));
    }
    return LS_OK;
}

/* ---- labels ---------------------------------------------------------------- */

static void label_add(char **buf, size_t *len, const char *path, const ls_yaml *v)
{
    char *t = ls_yaml_canonical(v);
    if (strlen(t) > 48)
        strcpy(t + 45, "...");
    size_t add = strlen(path) + strlen(t) + 2;
    *buf = ls_xrealloc(*buf, *len + add + 1);
    *len += (size_t)sprintf(*buf + *len, "%s%s=%s", *len ? " " : "", path, t);
    free(t);
}

/* ---- expansion ------------------------------------------------------------- */

typedef struct hash_ref {
    const char *hash;
    size_t id;
} hash_ref;

static int cmp_hash_ref(const void *a, const void *b)
{
    const hash_ref *x = a, *y = b;
    int c = strcmp(x->hash, y->hash);
    return c ? c : (x->id > y->id) - (x->id < y->id);
}

/* Two configurations with the same hash would be run twice and then refused
 * by resume and merge: reject them, naming both ids and the spec line of the
 * value that differs between their grid points (the repeated one). */
/* The first repeated configuration hash in config_id order: the pair of ids
 * (i0 < i1) with the smallest second id. False when every hash is unique. */
static bool first_repeat(const ls_sweep_spec *s, size_t *i0, size_t *i1)
{
    hash_ref *r = ls_xcalloc(s->n ? s->n : 1, sizeof *r);
    for (size_t i = 0; i < s->n; i++)
        r[i] = (hash_ref){s->configs[i].hash, i};
    qsort(r, s->n, sizeof *r, cmp_hash_ref);
    bool dup = false;
    for (size_t i = 1; i < s->n; i++)
        if (!strcmp(r[i].hash, r[i - 1].hash) && (!dup || r[i].id < *i1) &&
            (i < 2 || strcmp(r[i - 1].hash, r[i - 2].hash))) {
            dup = true;
            *i0 = r[i - 1].id;
            *i1 = r[i].id;
        }
    free(r);
    return dup;
}

static ls_status check_duplicates(const expander *x, const ls_sweep_spec *s, const size_t *point, ls_error *e)
{
    size_t i0 = 0, i1 = 0;
    if (!first_repeat(s, &i0, &i1))
        return LS_OK;
    /* the first axis (slowest) where the two grid points differ holds the repeat */
    const ls_yaml *at = x->base;
    const char *path = "base";
    size_t p0 = point[i0], p1 = point[i1];
    for (size_t a = x->n_axes; a-- > 0;) {
        size_t d0 = p0 % x->axes[a].n_points, d1 = p1 % x->axes[a].n_points;
        p0 /= x->axes[a].n_points;
        p1 /= x->axes[a].n_points;
        if (d0 != d1) {
            at = x->axes[a].vals[d1 * x->axes[a].n_paths];
            path = x->axes[a].paths[0];
        }
    }
    char what[512];
    snprintf(what, sizeof what, "configurations %zu (%s) and %zu (%s) are identical (hash %s): a value is "
             "repeated, or two values mean the same; remove one", i0, s->configs[i0].label, i1,
             s->configs[i1].label, s->configs[i0].hash);
    return where_fail(e, at, path, what);
}

static ls_status expand(expander *x, ls_sweep_spec *s, ls_error *e)
{
    /* the product in floating point first: it may not fit in size_t */
    double product = 1;
    for (size_t a = 0; a < x->n_axes; a++)
        product *= (double)x->axes[a].n_points;
    if (product > (double)x->max_points) {
        char axes[256];
        size_t len = 0;
        axes[0] = 0;
        for (size_t a = 0; a < x->n_axes && len < sizeof axes; a++)
            len += (size_t)snprintf(axes + len, sizeof axes - len, "%s%zu", a ? " x " : "", x->axes[a].n_points);
        return ls_fail(e, LS_EINVAL,
                       "%s: the grid has %.0f points (%s), more than the limit of %llu configurations "
                       "(expanding them would take about %.1f GB of memory); split the sweep, or raise the "
                       "limit with LLMSWEEP_MAX_CONFIGS=N",
                       x->name, product, axes, (unsigned long long)x->max_points,
                       product * LS_SWEEP_BYTES_PER_CONFIG / 1e9);
    }
    size_t total = (size_t)product;
    s->n_points = total;
    size_t cap = total < 1024 ? total : 1024;
    s->configs = ls_xcalloc(cap ? cap : 1, sizeof *s->configs);
    size_t *idx = ls_xcalloc(x->n_axes ? x->n_axes : 1, sizeof *idx);
    size_t *point = ls_xcalloc(cap ? cap : 1, sizeof *point); /* grid point of each configuration */
    ls_status rc = LS_OK;
    for (size_t p = 0; p < total && rc == LS_OK; p++) {
        /* mixed-radix digits of p, last axis fastest */
        size_t q = p;
        for (size_t a = x->n_axes; a-- > 0;) {
            idx[a] = q % x->axes[a].n_points;
            q /= x->axes[a].n_points;
        }
        ls_yaml *tree = ls_yaml_clone(x->base);
        if (s->has_seed) {
            const ls_yaml *sn = ls_yaml_get(x->root, "seed");
            ls_yaml_map_set(tree, "seed", ls_yaml_clone(sn));
        }
        char *label = NULL;
        size_t llen = 0;
        const ls_yaml *first = NULL;
        for (size_t a = 0; a < x->n_axes && rc == LS_OK; a++) {
            const axis *ax = &x->axes[a];
            for (size_t k = 0; k < ax->n_paths && rc == LS_OK; k++) {
                const ls_yaml *v = ax->vals[idx[a] * ax->n_paths + k];
                if (!first)
                    first = v;
                rc = apply(tree, ax->paths[k], v, e);
                label_add(&label, &llen, ax->paths[k], v);
            }
        }
        if (rc || excluded(tree, x)) {
            ls_yaml_free(tree);
            free(label);
            continue;
        }
        if (s->n == cap) {
            cap *= 2;
            s->configs = ls_xrealloc(s->configs, cap * sizeof *s->configs);
            point = ls_xrealloc(point, cap * sizeof *point);
        }
        point[s->n] = p;
        ls_sweep_config *c = &s->configs[s->n++];
        memset(c, 0, sizeof *c);
        c->tree = tree;
        c->canonical = ls_yaml_canonical(tree);
        ls_sweep_hash_hex(c->canonical, c->hash);
        c->label = label ? label : ls_xstrdup("(base)");
        ls_yaml_where(first ? first : x->base, c->where, sizeof c->where);
    }
    free(idx);
    if (!rc)
        rc = check_exclude_hits(x, e);
    if (!rc && s->n == 0)
        rc = ls_fail(e, LS_EINVAL, "%s: every one of the %zu grid points is excluded", x->name, total);
    if (!rc)
        rc = check_duplicates(x, s, point, e);
    free(point);
    return rc;
}

static void configs_free(ls_sweep_config *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        ls_yaml_free(c[i].tree);
        free(c[i].canonical);
        free(c[i].label);
    }
    free(c);
}

/* Move the configurations of block `t` to the end of `s`, their labels
 * prefixed with the family's name (NULL: the main grid). */
static void append_block(ls_sweep_spec *s, ls_sweep_spec *t, const char *family)
{
    s->configs = ls_xrealloc(s->configs, (s->n + t->n + 1) * sizeof *s->configs);
    for (size_t i = 0; i < t->n; i++) {
        ls_sweep_config *c = &s->configs[s->n++];
        *c = t->configs[i];
        if (family) {
            size_t n = strlen(family) + strlen(c->label) + 16;
            char *l = ls_xmalloc(n);
            snprintf(l, n, "family=%s %s", family, c->label);
            free(c->label);
            c->label = l;
        }
    }
    s->n_points += t->n_points;
    free(t->configs);
    t->configs = NULL;
    t->n = 0;
}

/* Across blocks: the same configuration in two families (or in a family and
 * the main grid) would run twice; name both and the line of the second. */
static ls_status check_duplicates_across(const ls_sweep_spec *s, ls_error *e)
{
    size_t i0 = 0, i1 = 0;
    if (!first_repeat(s, &i0, &i1))
        return LS_OK;
    return ls_fail(e, LS_EINVAL, "%s: configurations %zu (%s) and %zu (%s) are identical (hash %s): a family "
                   "repeats a configuration of the grid or of another family; remove one",
                   s->configs[i1].where, i0, s->configs[i0].label, i1, s->configs[i1].label,
                   s->configs[i0].hash);
}

static void set_hash(ls_sweep_spec *s)
{
    /* one hash for the whole expansion: resume and merge compare it */
    size_t n = s->n * 16;
    char *all = ls_xmalloc(n + 1);
    for (size_t i = 0; i < s->n; i++)
        memcpy(all + 16 * i, s->configs[i].hash, 16);
    all[n] = 0;
    ls_sweep_hash_hex(all, s->set_hash);
    free(all);
}

/* Expand one block (the main grid, or one family) of `base` with its own
 * grid, zip and exclude, and append it to `s`. */
static ls_status expand_block(const ls_yaml *root, const ls_yaml *base, const ls_yaml *blk, const char *name,
                              unsigned long long max_points, const char *family, ls_sweep_spec *s, ls_error *e)
{
    expander x = {.root = root, .base = base, .name = name, .max_points = max_points};
    ls_sweep_spec t = {.has_seed = s->has_seed};
    ls_status rc;
    if ((rc = parse_grid(&x, ls_yaml_get(blk, "grid"), e)) ||
        (rc = parse_zip(&x, ls_yaml_get(blk, "zip"), e)) ||
        (rc = check_axes_distinct(&x, ls_yaml_get(blk, "grid"), ls_yaml_get(blk, "zip"), e)))
        goto done;
    x.exclude = ls_yaml_get(blk, "exclude");
    if ((rc = check_exclude(x.exclude, e)))
        goto done;
    if (x.exclude && ls_yaml_is_null(x.exclude))
        x.exclude = NULL;
    if ((rc = check_exclude_axes(&x, e)))
        goto done;
    if ((rc = expand(&x, &t, e)) == LS_OK)
        append_block(s, &t, family);
done:
    configs_free(t.configs, t.n);
    axes_free(&x);
    free(x.key_hit);
    free(x.key_off);
    return rc;
}

/* `families:` -- extra row families appended after the main grid, in file
 * order: each merges its own `base` over the specification's base and
 * expands its own grid, zip and exclude (docs/SWEEP.md). */
static ls_status expand_families(const ls_yaml *root, const ls_yaml *base, const char *name,
                                 unsigned long long max_points, ls_sweep_spec *s, ls_error *e)
{
    const ls_yaml *fams = ls_yaml_get(root, "families");
    if (!fams || ls_yaml_is_null(fams))
        return LS_OK;
    if (fams->kind != LS_YAML_SEQ || fams->n == 0)
        return where_fail(e, fams, "families", "expected a non-empty list of {name, base, grid, zip, exclude}");
    static const char *const fkeys[] = {"name", "description", "base", "grid", "zip", "exclude", NULL};
    for (size_t i = 0; i < fams->n; i++) {
        const ls_yaml *f = fams->vals[i];
        char path[64];
        snprintf(path, sizeof path, "families[%zu]", i);
        if (f->kind != LS_YAML_MAP)
            return where_fail(e, f, path, "expected a mapping {name, base, grid, zip, exclude}");
        LS_TRY(ls_yaml_check_keys(f, path, fkeys, e));
        const ls_yaml *nv = ls_yaml_get(f, "name");
        const char *fname = NULL;
        if (!nv || nv->kind != LS_YAML_SCALAR || !*(fname = nv->scalar) || strchr(fname, ' '))
            return where_fail(e, nv ? nv : f, path, "expected a 'name' (one word: it prefixes the family's labels)");
        for (size_t j = 0; j < i; j++) {
            const ls_yaml *o = ls_yaml_get(fams->vals[j], "name");
            if (o && o->kind == LS_YAML_SCALAR && !strcmp(o->scalar, fname))
                return where_fail(e, nv, path, "this family name is already used by an earlier family");
        }
        const ls_yaml *fb = ls_yaml_get(f, "base");
        if (fb && !ls_yaml_is_null(fb) && fb->kind != LS_YAML_MAP)
            return where_fail(e, fb, path, "base: expected a mapping merged over the specification's base");
        ls_yaml *merged = ls_yaml_clone(base);
        if (fb && fb->kind == LS_YAML_MAP)
            merge_map(merged, fb);
        unsigned long long left = max_points > s->n_points ? max_points - s->n_points : 0;
        ls_status rc = left ? expand_block(root, merged, f, name, left, fname, s, e)
                            : ls_fail(e, LS_EINVAL, "%s: the grid and its families have more than the limit of "
                                      "%llu configurations; split the sweep, or raise the limit with "
                                      "LLMSWEEP_MAX_CONFIGS=N", name, max_points);
        ls_yaml_free(merged);
        if (rc)
            return rc;
    }
    return check_duplicates_across(s, e);
}

ls_status ls_sweep_spec_parse(const char *text, size_t len, const char *name, const char *base_dir,
                              ls_sweep_spec **out, ls_error *e)
{
    *out = NULL;
    ls_yaml *root = NULL;
    static const char *const keys[] = {"name", "description", "seed", "base", "grid", "zip",
                                       "exclude", "capacity", "families", NULL};
    /* the keys first, from the text: a misspelt key is named before any alias is expanded */
    LS_TRY(ls_yaml_check_top_keys(text, len, name, "(specification)", keys, e));
    LS_TRY(ls_yaml_load_string(text, len, name, &root, e));
    ls_sweep_spec *s = ls_xcalloc(1, sizeof *s);
    s->path = ls_xstrdup(name);
    s->base_dir = base_dir ? ls_xstrdup(base_dir) : NULL;
    s->text = ls_xmalloc(len + 1);
    memcpy(s->text, text, len);
    s->text[len] = 0;
    s->text_len = len;
    expander x = {.root = root, .name = name, .max_points = LS_SWEEP_MAX_POINTS};
    const char *lim = getenv("LLMSWEEP_MAX_CONFIGS");
    if (lim && *lim) {
        char *end;
        unsigned long long v = strtoull(lim, &end, 10);
        if (*end || v == 0) {
            ls_yaml_free(root);
            ls_sweep_spec_free(s);
            return ls_fail(e, LS_EINVAL, "LLMSWEEP_MAX_CONFIGS: expected a positive integer, got '%s'", lim);
        }
        x.max_points = v;
    }
    ls_status rc = LS_OK;
    if ((rc = ls_yaml_check_keys(root, "(specification)", keys, e)))
        goto done;
    const ls_yaml *v = ls_yaml_get(root, "name");
    const char *nm = NULL;
    if (v && (rc = ls_yaml_as_string(v, "name", &nm, e)))
        goto done;
    s->name = ls_xstrdup(nm ? nm : "sweep");
    if ((v = ls_yaml_get(root, "seed"))) {
        if ((rc = ls_yaml_as_int64(v, "seed", &s->seed, e)))
            goto done;
        s->has_seed = true;
    }
    x.base = ls_yaml_get(root, "base");
    if (!x.base || x.base->kind != LS_YAML_MAP) {
        rc = x.base ? where_fail(e, x.base, "base", "expected a mapping (a complete run configuration)")
                    : ls_fail(e, LS_EINVAL, "%s: missing 'base' (a complete run configuration)", name);
        goto done;
    }
    if ((rc = parse_capacity(ls_yaml_get(root, "capacity"), &s->capacity, e)))
        goto done;
    if ((rc = expand_block(root, x.base, root, name, x.max_points, NULL, s, e)) ||
        (rc = expand_families(root, x.base, name, x.max_points, s, e)))
        goto done;
    set_hash(s);
done:
    ls_yaml_free(root);
    if (rc) {
        ls_sweep_spec_free(s);
        return rc;
    }
    *out = s;
    return LS_OK;
}

ls_status ls_sweep_spec_load(const char *path, ls_sweep_spec **out, ls_error *e)
{
    *out = NULL;
    char *buf;
    size_t len;
    LS_TRY(ls_yaml_read_text(path, &buf, &len, e));
    char *dir = ls_xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (slash)
        slash[slash == dir ? 1 : 0] = 0;
    else
        strcpy(dir, ".");
    ls_status rc = ls_sweep_spec_parse(buf, len, path, dir, out, e);
    free(buf);
    free(dir);
    return rc;
}

void ls_sweep_spec_free(ls_sweep_spec *s)
{
    if (!s)
        return;
    configs_free(s->configs, s->n);
    free(s->path);
    free(s->base_dir);
    free(s->text);
    free(s->name);
    free(s);
}

/* ---- differences between two specifications (resume messages) ------------------ */

typedef struct diff_out {
    char *s;
    size_t len;
    int n, max;
} diff_out;

/* Short canonical text of a node (at most 60 characters), into buf. */
static const char *short_text(const ls_yaml *n, char *buf, size_t size)
{
    char *c = ls_yaml_canonical(n);
    if (strlen(c) > 60)
        snprintf(buf, size, "%.57s...", c);
    else
        snprintf(buf, size, "%s", c);
    free(c);
    return buf;
}

static void diff_add(diff_out *d, const char *fmt, const char *path, const char *a, const char *b)
{
    if (d->n++ >= d->max)
        return;
    char line[512];
    int k = snprintf(line, sizeof line, fmt, path, a, b);
    if (k < 0)
        return;
    size_t n = strlen(line);
    d->s = ls_xrealloc(d->s, d->len + n + 3);
    if (d->len) {
        memcpy(d->s + d->len, "; ", 2);
        d->len += 2;
    }
    memcpy(d->s + d->len, line, n + 1);
    d->len += n;
}

static void diff_nodes(diff_out *d, const char *path, const ls_yaml *o, const ls_yaml *n)
{
    char a[80], b[80], sub[512];
    if (o->kind == LS_YAML_MAP && n->kind == LS_YAML_MAP) {
        for (size_t i = 0; i < o->n; i++) {
            snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", o->keys[i]);
            const ls_yaml *nv = ls_yaml_get(n, o->keys[i]);
            if (nv)
                diff_nodes(d, sub, o->vals[i], nv);
            else
                diff_add(d, "%s: %s removed%s", sub, short_text(o->vals[i], a, sizeof a), "");
        }
        for (size_t i = 0; i < n->n; i++)
            if (!ls_yaml_get(o, n->keys[i])) {
                snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", n->keys[i]);
                diff_add(d, "%s: %s added%s", sub, short_text(n->vals[i], b, sizeof b), "");
            }
    } else if (o->kind == LS_YAML_SEQ && n->kind == LS_YAML_SEQ) {
        /* as sets of canonical items: order and additions do not drop configurations */
        for (size_t i = 0; i < o->n; i++) {
            char *ci = ls_yaml_canonical(o->vals[i]);
            bool found = false;
            for (size_t j = 0; j < n->n && !found; j++) {
                char *cj = ls_yaml_canonical(n->vals[j]);
                found = !strcmp(ci, cj);
                free(cj);
            }
            free(ci);
            if (!found)
                diff_add(d, "%s: %s removed%s", path, short_text(o->vals[i], a, sizeof a), "");
        }
    } else {
        char *co = ls_yaml_canonical(o), *cn = ls_yaml_canonical(n);
        if (strcmp(co, cn))
            diff_add(d, "%s: was %s, now %s", path, short_text(o, a, sizeof a), short_text(n, b, sizeof b));
        free(co);
        free(cn);
    }
}

char *ls_sweep_spec_diff(const char *old_text, const char *new_text, int max)
{
    ls_yaml *o = NULL, *n = NULL;
    ls_error e;
    if (ls_yaml_load_string(old_text, strlen(old_text), "old", &o, &e) ||
        ls_yaml_load_string(new_text, strlen(new_text), "new", &n, &e)) {
        ls_yaml_free(o);
        return NULL;
    }
    diff_out d = {.max = max > 0 ? max : 1};
    diff_nodes(&d, "", o, n);
    ls_yaml_free(o);
    ls_yaml_free(n);
    if (d.s && d.n > d.max) {
        char more[48];
        snprintf(more, sizeof more, "; and %d more", d.n - d.max);
        d.s = ls_xrealloc(d.s, d.len + strlen(more) + 1);
        strcpy(d.s + d.len, more);
    }
    return d.s;
}
