/* sweep_inputs.c -- input files by content (see sweep_inputs.h). */
#include "sweep_inputs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The keys of a configuration whose value names a file (a list for `catalog`),
 * and the kind recorded for it. Relative names resolve against the
 * specification's directory (replay/config.c, trace/workload.c, trace/dist.c). */
static const struct {
    const char *key, *kind;
} input_keys[] = {
    {"workload.trace", "trace"},
    {"catalog", "catalog"},
    {"cost.file", "cost_table"},
    {"workload.prompt_tokens.file", "distribution"},
    {"workload.output_tokens.file", "distribution"},
};

/* ---- hashing ------------------------------------------------------------------ */

/* FNV-1a 64 of a file's bytes (the config hash's function), in 1 MiB reads. */
static bool hash_file(const char *path, int64_t *bytes, char hex[LS_HASH_HEX])
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return false;
    enum { BUF = 1 << 20 };
    unsigned char *buf = ls_xmalloc(BUF);
    uint64_t h = LS_HASH64_INIT;
    int64_t n = 0;
    size_t got;
    while ((got = fread(buf, 1, BUF, fp)) > 0) {
        h = ls_hash64_update(h, buf, got);
        n += (int64_t)got;
    }
    bool ok = !ferror(fp);
    fclose(fp);
    free(buf);
    if (ok) {
        *bytes = n;
        snprintf(hex, LS_HASH_HEX, "%016llx", (unsigned long long)h);
    }
    return ok;
}

/* ---- collecting ----------------------------------------------------------------- */

/* Distinct (kind, name) pairs: an open-addressing set of row indices. */
typedef struct seen_set {
    size_t *slot; /* row + 1; 0 = empty */
    size_t cap;
} seen_set;

static uint64_t pair_hash(const char *kind, const char *name)
{
    uint64_t h = ls_hash64_update(LS_HASH64_INIT, kind, strlen(kind) + 1);
    return ls_hash64_update(h, name, strlen(name));
}

/* Whether (kind, name) is a row of t; else remember row `add` for it. */
static bool seen_or_add(seen_set *set, const ls_ptable *t, const char *kind, const char *name, size_t add)
{
    if (2 * (t->n + 1) > set->cap) { /* grow and rehash */
        size_t cap = set->cap ? 2 * set->cap : 64;
        size_t *slot = ls_xcalloc(cap, sizeof *slot);
        for (size_t i = 0; i < set->cap; i++) {
            if (!set->slot[i])
                continue;
            const ls_cell *r = ls_ptable_row(t, set->slot[i] - 1);
            size_t j = pair_hash(r[LS_IN_kind].s, r[LS_IN_name].s) & (cap - 1);
            while (slot[j])
                j = (j + 1) & (cap - 1);
            slot[j] = set->slot[i];
        }
        free(set->slot);
        set->slot = slot;
        set->cap = cap;
    }
    size_t j = pair_hash(kind, name) & (set->cap - 1);
    while (set->slot[j]) {
        const ls_cell *r = ls_ptable_row(t, set->slot[j] - 1);
        if (!strcmp(r[LS_IN_kind].s, kind) && !strcmp(r[LS_IN_name].s, name))
            return true;
        j = (j + 1) & (set->cap - 1);
    }
    set->slot[j] = add + 1;
    return false;
}

static void add_input(ls_ptable *t, seen_set *set, const char *base_dir, const char *kind, const char *key,
                      const char *name, size_t config)
{
    if (seen_or_add(set, t, kind, name, t->n))
        return;
    ls_cell *r = ls_ptable_add(t);
    ls_ptable_set_str(r, LS_IN_kind, kind);
    ls_ptable_set_str(r, LS_IN_name, name);
    ls_ptable_set_str(r, LS_IN_key, key);
    r[LS_IN_first_config].i = (int64_t)config;
    char *path;
    if (name[0] == '/' || !base_dir || !*base_dir) {
        path = ls_xstrdup(name);
    } else {
        size_t n = strlen(base_dir) + strlen(name) + 2;
        path = ls_xmalloc(n);
        snprintf(path, n, "%s/%s", base_dir, name);
    }
    char hex[LS_HASH_HEX] = "";
    int64_t bytes = -1;
    if (!hash_file(path, &bytes, hex)) {
        bytes = -1;
        hex[0] = '\0';
    }
    r[LS_IN_bytes].i = bytes;
    ls_ptable_set_str(r, LS_IN_content_hash, hex);
    free(path);
}

ls_status ls_inputs_collect(const ls_sweep_spec *s, ls_ptable *out, ls_error *e)
{
    (void)e;
    ls_ptable_init(out, ls_input_columns, LS_INPUT_NCOLS);
    seen_set set = {0};
    for (size_t i = 0; i < s->n; i++) {
        const ls_yaml *tree = s->configs[i].tree;
        for (size_t k = 0; k < sizeof input_keys / sizeof input_keys[0]; k++) {
            const ls_yaml *v = ls_yaml_get_path(tree, input_keys[k].key);
            if (!v)
                continue;
            /* a list (catalog files) or one name; anything else fails validation */
            size_t n = v->kind == LS_YAML_SEQ ? v->n : 1;
            for (size_t j = 0; j < n; j++) {
                const ls_yaml *item = v->kind == LS_YAML_SEQ ? v->vals[j] : v;
                if (item->kind == LS_YAML_SCALAR && item->scalar[0])
                    add_input(out, &set, s->base_dir, input_keys[k].kind, input_keys[k].key, item->scalar, i);
            }
        }
    }
    free(set.slot);
    return LS_OK;
}

/* ---- comparing ------------------------------------------------------------------- */

static const ls_cell *find(const ls_ptable *t, const char *kind, const char *name)
{
    for (size_t r = 0; r < t->n; r++) {
        const ls_cell *row = ls_ptable_row(t, r);
        if (!strcmp(row[LS_IN_kind].s, kind) && !strcmp(row[LS_IN_name].s, name))
            return row;
    }
    return NULL;
}

/* Same content: both read, equal hash and size. An unreadable side has no
 * content to disagree with (nothing was computed from it). */
static bool differ(const ls_cell *a, const ls_cell *b)
{
    if (a[LS_IN_bytes].i < 0 || b[LS_IN_bytes].i < 0)
        return false;
    return a[LS_IN_bytes].i != b[LS_IN_bytes].i || strcmp(a[LS_IN_content_hash].s, b[LS_IN_content_hash].s);
}

ls_status ls_inputs_check(ls_h5file *f, const ls_ptable *cur, const char *what, bool *recorded, ls_error *e)
{
    ls_ptable old;
    LS_TRY(ls_ptable_read(f, LS_H5_INPUTS, ls_input_columns, LS_INPUT_NCOLS, &old, recorded, e));
    ls_status rc = LS_OK;
    for (size_t r = 0; r < cur->n && !rc; r++) {
        const ls_cell *now = ls_ptable_row(cur, r);
        const ls_cell *then = find(&old, now[LS_IN_kind].s, now[LS_IN_name].s);
        if (then && differ(then, now))
            rc = ls_fail(e, LS_EINVAL,
                         "cannot %s %s: the %s '%s' (%s, first read by configuration %lld) changed since the file "
                         "was written: content hash %s (%lld bytes) then, %s (%lld bytes) now; the file's results "
                         "were computed from the old content. Restore its old content, or write a new output "
                         "(or --force to start over)",
                         what, ls_h5_path(f), now[LS_IN_kind].s, now[LS_IN_name].s, now[LS_IN_key].s,
                         (long long)now[LS_IN_first_config].i, then[LS_IN_content_hash].s,
                         (long long)then[LS_IN_bytes].i, now[LS_IN_content_hash].s, (long long)now[LS_IN_bytes].i);
    }
    ls_ptable_free(&old);
    return rc;
}

/* Add the rows of `add` that `t` lacks; an unreadable row of t takes the
 * content of a readable one. */
static void unite(ls_ptable *t, const ls_ptable *add)
{
    for (size_t r = 0; r < add->n; r++) {
        const ls_cell *row = ls_ptable_row(add, r);
        ls_cell *have = (ls_cell *)find(t, row[LS_IN_kind].s, row[LS_IN_name].s);
        if (!have) {
            ls_ptable_add_copy(t, row);
        } else if (have[LS_IN_bytes].i < 0 && row[LS_IN_bytes].i >= 0) {
            have[LS_IN_bytes].i = row[LS_IN_bytes].i;
            ls_ptable_set_str(have, LS_IN_content_hash, row[LS_IN_content_hash].s);
        }
    }
}

ls_status ls_inputs_record(ls_h5file *f, const ls_ptable *cur, ls_error *e)
{
    ls_ptable all;
    bool recorded;
    LS_TRY(ls_ptable_read(f, LS_H5_INPUTS, ls_input_columns, LS_INPUT_NCOLS, &all, &recorded, e));
    unite(&all, cur);
    ls_status rc = ls_ptable_write(f, LS_H5_INPUTS, &all, e);
    ls_ptable_free(&all);
    return rc;
}

ls_status ls_inputs_check_parts(ls_h5file *const *parts, const char *const *paths, int np, ls_ptable *all,
                                ls_error *e)
{
    ls_ptable_init(all, ls_input_columns, LS_INPUT_NCOLS);
    /* owner[r]: the part that contributed row r of `all`, for the message */
    int *owner = NULL;
    ls_status rc = LS_OK;
    for (int i = 0; i < np && !rc; i++) {
        ls_ptable t;
        bool recorded;
        rc = ls_ptable_read(parts[i], LS_H5_INPUTS, ls_input_columns, LS_INPUT_NCOLS, &t, &recorded, e);
        if (rc)
            break;
        for (size_t r = 0; r < t.n && !rc; r++) {
            const ls_cell *row = ls_ptable_row(&t, r);
            const ls_cell *have = find(all, row[LS_IN_kind].s, row[LS_IN_name].s);
            if (have && differ(have, row)) {
                int j = owner[(size_t)(have - all->cell) / LS_INPUT_NCOLS];
                rc = ls_fail(e, LS_EINVAL,
                             "the %s '%s' (%s) differs between the parts: %s read content hash %s (%lld bytes), "
                             "%s read %s (%lld bytes); results computed from two contents of one input cannot be "
                             "merged",
                             row[LS_IN_kind].s, row[LS_IN_name].s, row[LS_IN_key].s, paths[j],
                             have[LS_IN_content_hash].s, (long long)have[LS_IN_bytes].i, paths[i],
                             row[LS_IN_content_hash].s, (long long)row[LS_IN_bytes].i);
            } else if (!have) {
                ls_ptable_add_copy(all, row);
                owner = ls_xrealloc(owner, all->n * sizeof *owner);
                owner[all->n - 1] = i;
            }
        }
        if (!rc)
            unite(all, &t);
        ls_ptable_free(&t);
    }
    free(owner);
    if (rc)
        ls_ptable_free(all);
    return rc;
}
