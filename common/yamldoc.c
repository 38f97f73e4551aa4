/* yamldoc.c -- libyaml events folded into an ls_yaml tree. */
#include "yamldoc.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

/* ---- nodes ---------------------------------------------------------------- */

static ls_yaml *node_new(ls_yaml_kind kind, const char *file, int line)
{
    ls_yaml *n = ls_xcalloc(1, sizeof *n);
    n->kind = kind;
    n->file = ls_xstrdup(file ? file : "<built-in>");
    n->line = line;
    return n;
}

void ls_yaml_set_file(ls_yaml *n, const char *file)
{
    if (!n)
        return;
    free(n->file);
    n->file = ls_xstrdup(file ? file : "<built-in>");
    for (size_t i = 0; i < n->n; i++)
        ls_yaml_set_file(n->vals[i], file);
}

void ls_yaml_free(ls_yaml *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n; i++) {
        if (n->keys)
            free(n->keys[i]);
        ls_yaml_free(n->vals[i]);
    }
    free(n->keys);
    free(n->vals);
    free(n->scalar);
    free(n->file);
    free(n);
}

ls_yaml *ls_yaml_clone(const ls_yaml *n)
{
    if (!n)
        return NULL;
    ls_yaml *c = node_new(n->kind, n->file, n->line);
    c->plain = n->plain;
    if (n->scalar)
        c->scalar = ls_xstrdup(n->scalar);
    c->n = n->n;
    if (n->n) {
        /* append() grows only when n is a power of two, so the capacity must be
         * the next power of two >= n, not n itself (a clone is appended to) */
        size_t cap = 1;
        while (cap < n->n)
            cap *= 2;
        c->vals = ls_xmalloc(cap * sizeof *c->vals);
        if (n->kind == LS_YAML_MAP)
            c->keys = ls_xmalloc(cap * sizeof *c->keys);
        for (size_t i = 0; i < n->n; i++) {
            c->vals[i] = ls_yaml_clone(n->vals[i]);
            if (n->kind == LS_YAML_MAP)
                c->keys[i] = ls_xstrdup(n->keys[i]);
        }
    }
    return c;
}

ls_yaml *ls_yaml_new_scalar(const char *text, bool plain)
{
    ls_yaml *n = node_new(LS_YAML_SCALAR, NULL, 0);
    n->scalar = ls_xstrdup(text ? text : "");
    n->plain = plain;
    return n;
}

ls_yaml *ls_yaml_new_map(void) { return node_new(LS_YAML_MAP, NULL, 0); }
ls_yaml *ls_yaml_new_seq(void) { return node_new(LS_YAML_SEQ, NULL, 0); }

static void append(ls_yaml *n, char *key, ls_yaml *val)
{
    /* grow by doubling when n is a power of two: amortised O(1) without a capacity field */
    if ((n->n & (n->n - 1)) == 0) {
        size_t cap = n->n ? n->n * 2 : 4;
        n->vals = ls_xrealloc(n->vals, cap * sizeof *n->vals);
        if (n->kind == LS_YAML_MAP)
            n->keys = ls_xrealloc(n->keys, cap * sizeof *n->keys);
    }
    if (n->kind == LS_YAML_MAP)
        n->keys[n->n] = key;
    n->vals[n->n++] = val;
}

void ls_yaml_map_set(ls_yaml *map, const char *key, ls_yaml *val)
{
    for (size_t i = 0; i < map->n; i++) {
        if (strcmp(map->keys[i], key) == 0) {
            ls_yaml_free(map->vals[i]);
            map->vals[i] = val;
            return;
        }
    }
    append(map, ls_xstrdup(key), val);
}

void ls_yaml_seq_push(ls_yaml *seq, ls_yaml *val) { append(seq, NULL, val); }

bool ls_yaml_map_remove(ls_yaml *map, const char *key)
{
    if (!map || map->kind != LS_YAML_MAP)
        return false;
    for (size_t i = 0; i < map->n; i++) {
        if (strcmp(map->keys[i], key) == 0) {
            free(map->keys[i]);
            ls_yaml_free(map->vals[i]);
            memmove(map->keys + i, map->keys + i + 1, (map->n - i - 1) * sizeof *map->keys);
            memmove(map->vals + i, map->vals + i + 1, (map->n - i - 1) * sizeof *map->vals);
            map->n--;
            return true;
        }
    }
    return false;
}

/* ---- parsing ---------------------------------------------------------------- */

typedef struct anchor {
    char *name;
    ls_yaml *node;
    size_t size; /* nodes in the subtree: what one alias of it costs */
} anchor;

typedef struct loader {
    yaml_parser_t parser;
    const char *name;
    anchor *anchors;
    size_t n_anchors;
    size_t nodes;        /* nodes of the tree so far, alias copies included */
    size_t alias_nodes;  /* of which copied by aliases */
    int depth;           /* nesting of the collection being parsed */
    ls_error *e;
} loader;

/* Every node created counts against the budgets, so a document is refused
 * before it is built, never after: an alias is priced (its anchor's subtree
 * size) before it is copied. */
static ls_status count_nodes(loader *L, size_t k, int line, const char *alias)
{
    if (alias && L->alias_nodes + k > LS_YAML_MAX_ALIAS_NODES)
        return ls_fail(L->e, LS_EINVAL,
                       "%s:%d: alias '*%s' would expand aliases to more than %d nodes (this one copies %zu, "
                       "%zu copied before): refusing nested aliases that multiply (a 'billion laughs' "
                       "document); write the values out or use fewer levels of aliases",
                       L->name, line, alias, LS_YAML_MAX_ALIAS_NODES, k, L->alias_nodes);
    if (L->nodes + k > LS_YAML_MAX_NODES)
        return ls_fail(L->e, LS_EINVAL, "%s:%d: more than %d YAML nodes: not a configuration file", L->name,
                       line, LS_YAML_MAX_NODES);
    L->nodes += k;
    if (alias)
        L->alias_nodes += k;
    return LS_OK;
}

static size_t subtree_size(const ls_yaml *n)
{
    size_t k = 1;
    for (size_t i = 0; i < n->n; i++)
        k += subtree_size(n->vals[i]);
    return k;
}

static ls_status parse_error(loader *L, const char *what)
{
    yaml_parser_t *p = &L->parser;
    return ls_fail(L->e, LS_EINVAL, "%s:%zu:%zu: invalid YAML: %s%s%s", L->name,
                   p->problem_mark.line + 1, p->problem_mark.column + 1,
                   p->problem ? p->problem : what, p->context ? " " : "",
                   p->context ? p->context : "");
}

static void remember_anchor(loader *L, const yaml_char_t *name, ls_yaml *n)
{
    if (!name)
        return;
    L->anchors = ls_xrealloc(L->anchors, (L->n_anchors + 1) * sizeof *L->anchors);
    L->anchors[L->n_anchors].name = ls_xstrdup((const char *)name);
    L->anchors[L->n_anchors].node = n;
    L->anchors[L->n_anchors].size = subtree_size(n);
    L->n_anchors++;
}

static ls_status parse_node(loader *L, yaml_event_t *ev, ls_yaml **out);

/* Parse the children of a map or sequence until its end event. */
static ls_status parse_children(loader *L, ls_yaml *n)
{
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&L->parser, &ev))
            return parse_error(L, "syntax error");
        if (ev.type == YAML_MAPPING_END_EVENT || ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            return LS_OK;
        }
        if (n->kind == LS_YAML_SEQ) {
            ls_yaml *item = NULL;
            ls_status rc = parse_node(L, &ev, &item);
            yaml_event_delete(&ev);
            if (rc)
                return rc;
            ls_yaml_seq_push(n, item);
            continue;
        }
        /* a map: key event, then value */
        if (ev.type != YAML_SCALAR_EVENT) {
            ls_status rc = ls_fail(L->e, LS_EINVAL, "%s:%zu: map keys must be plain strings",
                                   L->name, ev.start_mark.line + 1);
            yaml_event_delete(&ev);
            return rc;
        }
        char *key = ls_xstrdup((const char *)ev.data.scalar.value);
        int key_line = (int)ev.start_mark.line + 1;
        yaml_event_delete(&ev);
        for (size_t i = 0; i < n->n; i++) {
            if (strcmp(n->keys[i], key) == 0) {
                ls_status rc = ls_fail(L->e, LS_EINVAL, "%s:%d: duplicate key '%s'", L->name,
                                       key_line, key);
                free(key);
                return rc;
            }
        }
        yaml_event_t vev;
        if (!yaml_parser_parse(&L->parser, &vev)) {
            free(key);
            return parse_error(L, "syntax error");
        }
        ls_yaml *val = NULL;
        ls_status rc = parse_node(L, &vev, &val);
        yaml_event_delete(&vev);
        if (rc) {
            free(key);
            return rc;
        }
        append(n, key, val);
    }
}

static ls_status parse_node(loader *L, yaml_event_t *ev, ls_yaml **out)
{
    int line = (int)ev->start_mark.line + 1;
    switch (ev->type) {
    case YAML_SCALAR_EVENT: {
        LS_TRY(count_nodes(L, 1, line, NULL));
        ls_yaml *n = node_new(LS_YAML_SCALAR, L->name, line);
        n->scalar = ls_xstrdup((const char *)ev->data.scalar.value);
        n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        remember_anchor(L, ev->data.scalar.anchor, n);
        *out = n;
        return LS_OK;
    }
    case YAML_MAPPING_START_EVENT:
    case YAML_SEQUENCE_START_EVENT: {
        bool map = ev->type == YAML_MAPPING_START_EVENT;
        LS_TRY(count_nodes(L, 1, line, NULL));
        if (L->depth >= LS_YAML_MAX_DEPTH) /* the parser recurses per level: bound the stack */
            return ls_fail(L->e, LS_EINVAL, "%s:%d: nested deeper than %d levels: not a configuration file",
                           L->name, line, LS_YAML_MAX_DEPTH);
        ls_yaml *n = node_new(map ? LS_YAML_MAP : LS_YAML_SEQ, L->name, line);
        L->depth++;
        ls_status rc = parse_children(L, n);
        L->depth--;
        if (rc) {
            ls_yaml_free(n);
            return rc;
        }
        remember_anchor(L, map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor, n);
        *out = n;
        return LS_OK;
    }
    case YAML_ALIAS_EVENT:
        for (size_t i = L->n_anchors; i-- > 0;) {
            if (strcmp(L->anchors[i].name, (const char *)ev->data.alias.anchor) == 0) {
                LS_TRY(count_nodes(L, L->anchors[i].size, line, L->anchors[i].name));
                *out = ls_yaml_clone(L->anchors[i].node);
                return LS_OK;
            }
        }
        return ls_fail(L->e, LS_EINVAL, "%s:%d: unknown alias '*%s'", L->name, line,
                       (const char *)ev->data.alias.anchor);
    default:
        return ls_fail(L->e, LS_EINVAL, "%s:%d: unexpected YAML event", L->name, line);
    }
}

ls_status ls_yaml_load_string(const char *text, size_t len, const char *name, ls_yaml **out,
                              ls_error *e)
{
    loader L = {.name = name ? name : "<string>", .e = e};
    *out = NULL;
    if (!yaml_parser_initialize(&L.parser))
        return ls_fail(e, LS_ENOMEM, "%s: cannot initialise the YAML parser", L.name);
    yaml_parser_set_input_string(&L.parser, (const unsigned char *)text, len);

    ls_status rc = LS_OK;
    ls_yaml *root = NULL;
    int docs = 0;
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&L.parser, &ev)) {
            rc = parse_error(&L, "syntax error");
            break;
        }
        yaml_event_type_t t = ev.type;
        if (t == YAML_STREAM_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        if (t == YAML_DOCUMENT_START_EVENT) {
            if (++docs > 1) {
                rc = ls_fail(e, LS_EINVAL, "%s:%zu: expected a single YAML document", L.name,
                             ev.start_mark.line + 1);
                yaml_event_delete(&ev);
                break;
            }
        } else if (t == YAML_SCALAR_EVENT || t == YAML_MAPPING_START_EVENT ||
                   t == YAML_SEQUENCE_START_EVENT || t == YAML_ALIAS_EVENT) {
            rc = parse_node(&L, &ev, &root);
            if (rc) {
                yaml_event_delete(&ev);
                break;
            }
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&L.parser);
    for (size_t i = 0; i < L.n_anchors; i++)
        free(L.anchors[i].name);
    free(L.anchors);
    if (rc) {
        ls_yaml_free(root);
        return rc;
    }
    if (!root) { /* empty document: an empty map */
        root = node_new(LS_YAML_MAP, L.name, 1);
    }
    *out = root;
    return LS_OK;
}

ls_status ls_yaml_read_text(const char *path, char **text, size_t *len_out, ls_error *e)
{
    *text = NULL;
    *len_out = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return ls_fail(e, LS_EIO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 4096, len = 0;
    char *buf = ls_xmalloc(cap);
    size_t got;
    while ((got = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += got;
        if (len + 1 == cap)
            buf = ls_xrealloc(buf, cap *= 2);
        if (len > (64u << 20)) {
            free(buf);
            fclose(f);
            return ls_fail(e, LS_EINVAL, "%s: larger than 64 MiB: not a configuration file", path);
        }
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return ls_fail(e, LS_EIO, "%s: read error", path);
    }
    if (memchr(buf, '\0', len)) {
        free(buf);
        return ls_fail(e, LS_EINVAL, "%s: contains NUL bytes: not a YAML text file", path);
    }
    buf[len] = '\0';
    *text = buf;
    *len_out = len;
    return LS_OK;
}

ls_status ls_yaml_load_file(const char *path, ls_yaml **out, ls_error *e)
{
    *out = NULL;
    char *buf;
    size_t len;
    LS_TRY(ls_yaml_read_text(path, &buf, &len, e));
    ls_status rc = ls_yaml_load_string(buf, len, path, out, e);
    free(buf);
    return rc;
}

/* ---- lookup --------------------------------------------------------------- */

const ls_yaml *ls_yaml_get(const ls_yaml *map, const char *key)
{
    if (!map || map->kind != LS_YAML_MAP)
        return NULL;
    for (size_t i = 0; i < map->n; i++)
        if (strcmp(map->keys[i], key) == 0)
            return map->vals[i];
    return NULL;
}

const ls_yaml *ls_yaml_get_path(const ls_yaml *root, const char *dotted)
{
    char key[256];
    const ls_yaml *n = root;
    const char *p = dotted;
    while (n && *p) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (len >= sizeof key)
            return NULL;
        memcpy(key, p, len);
        key[len] = '\0';
        n = ls_yaml_get(n, key);
        p = dot ? dot + 1 : p + len;
    }
    return n;
}

ls_status ls_yaml_set_path(ls_yaml *root, const char *dotted, ls_yaml *val, ls_error *e)
{
    char key[256];
    ls_yaml *n = root;
    const char *p = dotted;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (len == 0 || len >= sizeof key) {
            ls_yaml_free(val);
            return ls_fail(e, LS_EINVAL, "'%s': not a valid dotted key path", dotted);
        }
        memcpy(key, p, len);
        key[len] = '\0';
        if (n->kind != LS_YAML_MAP) {
            ls_yaml_free(val);
            return ls_fail(e, LS_EINVAL,
                           "'%s': cannot set '%s' inside a value that is not a mapping (line %d)",
                           dotted, key, n->line);
        }
        if (!dot) {
            ls_yaml_map_set(n, key, val);
            return LS_OK;
        }
        ls_yaml *child = (ls_yaml *)ls_yaml_get(n, key);
        if (!child) {
            child = ls_yaml_new_map();
            ls_yaml_map_set(n, key, child);
        }
        n = child;
        p = dot + 1;
    }
}

const char *ls_yaml_where(const ls_yaml *n, char *buf, size_t size)
{
    if (!n)
        snprintf(buf, size, "<missing>");
    else if (n->line > 0)
        snprintf(buf, size, "%s:%d", n->file, n->line);
    else
        snprintf(buf, size, "%s", n->file);
    return buf;
}

/* ---- typed reads ---------------------------------------------------------- */

static ls_status type_error(const ls_yaml *n, const char *path, const char *expected, ls_error *e)
{
    char where[512];
    ls_yaml_where(n, where, sizeof where);
    if (!n)
        return ls_fail(e, LS_EINVAL, "%s: missing, expected %s", path, expected);
    if (n->kind != LS_YAML_SCALAR)
        return ls_fail(e, LS_EINVAL, "%s: %s: expected %s, got a %s", where, path, expected,
                       n->kind == LS_YAML_MAP ? "mapping" : "list");
    return ls_fail(e, LS_EINVAL, "%s: %s: expected %s, got '%s'", where, path, expected, n->scalar);
}

bool ls_yaml_is_null(const ls_yaml *n)
{
    return n && n->kind == LS_YAML_SCALAR && n->plain &&
           (n->scalar[0] == '\0' || strcmp(n->scalar, "~") == 0 || strcasecmp(n->scalar, "null") == 0);
}

ls_status ls_yaml_as_string(const ls_yaml *n, const char *path, const char **out, ls_error *e)
{
    if (!n || n->kind != LS_YAML_SCALAR || ls_yaml_is_null(n))
        return type_error(n, path, "a string", e);
    *out = n->scalar;
    return LS_OK;
}

ls_status ls_yaml_as_double(const ls_yaml *n, const char *path, double *out, ls_error *e)
{
    if (!n || n->kind != LS_YAML_SCALAR || !n->plain || !n->scalar[0])
        return type_error(n, path, "a number", e);
    char *end;
    errno = 0;
    double v = strtod(n->scalar, &end);
    if (*end || errno == ERANGE || !isfinite(v))
        return type_error(n, path, "a finite number", e);
    *out = v;
    return LS_OK;
}

ls_status ls_yaml_as_int64(const ls_yaml *n, const char *path, int64_t *out, ls_error *e)
{
    if (!n || n->kind != LS_YAML_SCALAR || !n->plain || !n->scalar[0])
        return type_error(n, path, "an integer", e);
    char *end;
    errno = 0;
    long long v = strtoll(n->scalar, &end, 10);
    if (*end == '\0' && errno == 0) {
        *out = v;
        return LS_OK;
    }
    /* accept integral floats written like 1e6 or 4096.0 */
    double d = strtod(n->scalar, &end);
    if (*end == '\0' && isfinite(d) && d == floor(d) && fabs(d) < 9.0e18) {
        *out = (int64_t)d;
        return LS_OK;
    }
    return type_error(n, path, "an integer", e);
}

ls_status ls_yaml_as_bool(const ls_yaml *n, const char *path, bool *out, ls_error *e)
{
    if (n && n->kind == LS_YAML_SCALAR && n->plain) {
        const char *s = n->scalar;
        if (!strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcasecmp(s, "on")) {
            *out = true;
            return LS_OK;
        }
        if (!strcasecmp(s, "false") || !strcasecmp(s, "no") || !strcasecmp(s, "off")) {
            *out = false;
            return LS_OK;
        }
    }
    return type_error(n, path, "true or false", e);
}

ls_status ls_yaml_fail_at(const ls_yaml *map, const char *path, const char *key, const char *what,
                          ls_error *e)
{
    char where[512];
    const ls_yaml *v = key ? ls_yaml_get(map, key) : NULL;
    return ls_fail(e, LS_EINVAL, "%s: %s%s%s: %s", ls_yaml_where(v ? v : map, where, sizeof where), path,
                   key ? "." : "", key ? key : "", what);
}

/* "path.key", or "key" at the top level */
static const char *key_path(const char *path, const char *key, char *buf, size_t size)
{
    snprintf(buf, size, "%s%s%s", path, *path ? "." : "", key);
    return buf;
}

ls_status ls_yaml_get_int(const ls_yaml *map, const char *path, const char *key, int64_t lo, int64_t hi,
                          int64_t *out, ls_error *e)
{
    const ls_yaml *n = ls_yaml_get(map, key);
    if (!n)
        return LS_OK;
    char full[512], where[512];
    int64_t v;
    LS_TRY(ls_yaml_as_int64(n, key_path(path, key, full, sizeof full), &v, e));
    if (v < lo || v > hi) {
        ls_yaml_where(n, where, sizeof where);
        if (hi == INT64_MAX)
            return ls_fail(e, LS_EINVAL, "%s: %s: expected an integer >= %lld, got %lld", where, full,
                           (long long)lo, (long long)v);
        return ls_fail(e, LS_EINVAL, "%s: %s: expected an integer between %lld and %lld, got %lld", where, full,
                       (long long)lo, (long long)hi, (long long)v);
    }
    *out = v;
    return LS_OK;
}

ls_status ls_yaml_get_double(const ls_yaml *map, const char *path, const char *key, double lo, bool lo_open,
                             double *out, ls_error *e)
{
    const ls_yaml *n = ls_yaml_get(map, key);
    if (!n)
        return LS_OK;
    char full[512], where[512];
    double v;
    LS_TRY(ls_yaml_as_double(n, key_path(path, key, full, sizeof full), &v, e));
    if (lo_open ? !(v > lo) : !(v >= lo))
        return ls_fail(e, LS_EINVAL, "%s: %s: expected a number %s %g, got %g", ls_yaml_where(n, where, sizeof where),
                       full, lo_open ? ">" : ">=", lo, v);
    *out = v;
    return LS_OK;
}

ls_status ls_yaml_get_bool(const ls_yaml *map, const char *path, const char *key, bool *out, ls_error *e)
{
    const ls_yaml *n = ls_yaml_get(map, key);
    if (!n)
        return LS_OK;
    char full[512];
    return ls_yaml_as_bool(n, key_path(path, key, full, sizeof full), out, e);
}

ls_status ls_yaml_get_string(const ls_yaml *map, const char *path, const char *key, const char **out,
                             ls_error *e)
{
    const ls_yaml *n = ls_yaml_get(map, key);
    if (!n)
        return LS_OK;
    char full[512];
    return ls_yaml_as_string(n, key_path(path, key, full, sizeof full), out, e);
}

ls_status ls_yaml_get_int_in(const ls_yaml *map, const char *path, const char *key, int64_t lo, int64_t hi,
                             const char *expected, int64_t *out, ls_error *e)
{
    if (!expected)
        return ls_yaml_get_int(map, path, key, lo, hi, out, e);
    const ls_yaml *n = ls_yaml_get(map, key);
    if (!n)
        return LS_OK;
    char full[512], where[512];
    int64_t v;
    LS_TRY(ls_yaml_as_int64(n, key_path(path, key, full, sizeof full), &v, e));
    if (v < lo || v > hi)
        return ls_fail(e, LS_EINVAL, "%s: %s: expected %s, got %lld", ls_yaml_where(n, where, sizeof where), full,
                       expected, (long long)v);
    *out = v;
    return LS_OK;
}

ls_status ls_yaml_get_double_in(const ls_yaml *map, const char *path, const char *key, double lo, bool lo_open,
                                double hi, const char *expected, double *out, ls_error *e)
{
    const ls_yaml *n = ls_yaml_get(map, key);
    if (!n)
        return LS_OK;
    char full[512], where[512], dflt[64];
    double v;
    LS_TRY(ls_yaml_as_double(n, key_path(path, key, full, sizeof full), &v, e));
    if ((lo_open ? !(v > lo) : !(v >= lo)) || !(v <= hi) || !isfinite(v)) {
        if (!expected) {
            if (isinf(hi))
                snprintf(dflt, sizeof dflt, "a number %s %g", lo_open ? ">" : ">=", lo);
            else
                snprintf(dflt, sizeof dflt, "a number in %s%g, %g]", lo_open ? "(" : "[", lo, hi);
            expected = dflt;
        }
        return ls_fail(e, LS_EINVAL, "%s: %s: expected %s, got %g", ls_yaml_where(n, where, sizeof where), full,
                       expected, v);
    }
    *out = v;
    return LS_OK;
}

ls_status ls_yaml_get_choice(const ls_yaml *map, const char *path, const char *key, const char *const *names,
                             const char *noun, const char *expected, int *out, ls_error *e)
{
    const ls_yaml *n = ls_yaml_get(map, key);
    if (!n)
        return LS_OK;
    char full[512], where[512];
    const char *s = NULL;
    LS_TRY(ls_yaml_as_string(n, key_path(path, key, full, sizeof full), &s, e));
    for (int i = 0; names[i]; i++)
        if (!strcmp(names[i], s)) {
            *out = i;
            return LS_OK;
        }
    ls_yaml_where(n, where, sizeof where);
    if (noun)
        return ls_fail(e, LS_EINVAL, "%s: %s: unknown %s '%s' (expected %s)", where, full, noun, s, expected);
    return ls_fail(e, LS_EINVAL, "%s: %s: expected %s, got '%s'", where, full, expected, s);
}

static bool key_allowed(const char *key, const char *const *allowed)
{
    for (const char *const *a = allowed; *a; a++)
        if (strcmp(*a, key) == 0)
            return true;
    return false;
}

static ls_status unknown_key(const char *where, const char *path, const char *key, const char *const *allowed,
                             ls_error *e)
{
    char list[512] = "";
    size_t used = 0;
    for (const char *const *a = allowed; *a && used < sizeof list - 64; a++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", a == allowed ? "" : ", ", *a);
    return ls_fail(e, LS_EINVAL, "%s: unknown key '%s%s%s' (expected one of: %s)", where, path && *path ? path : "",
                   path && *path ? "." : "", key, list);
}

ls_status ls_yaml_check_keys(const ls_yaml *map, const char *path, const char *const *allowed,
                             ls_error *e)
{
    if (!map || map->kind != LS_YAML_MAP)
        return type_error(map, path, "a mapping", e);
    for (size_t i = 0; i < map->n; i++) {
        if (key_allowed(map->keys[i], allowed))
            continue;
        char where[512];
        ls_yaml_where(map->vals[i], where, sizeof where);
        return unknown_key(where, path, map->keys[i], allowed, e);
    }
    return LS_OK;
}

ls_status ls_yaml_check_top_keys(const char *text, size_t len, const char *name, const char *path,
                                 const char *const *allowed, ls_error *e)
{
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p))
        return LS_OK; /* the full parse reports it */
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    ls_status rc = LS_OK;
    int depth = 0;         /* collections open */
    bool root_map = false; /* the document is a mapping */
    bool want_key = false; /* the next node directly under the root mapping is a key */
    for (bool done = false; !done && !rc;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev))
            break; /* a syntax error: the full parse names it */
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_SCALAR_EVENT:
        case YAML_ALIAS_EVENT:
            if (depth == 0) {
                done = true; /* not a mapping */
            } else if (root_map && depth == 1) {
                if (want_key && ev.type == YAML_SCALAR_EVENT &&
                    !key_allowed((const char *)ev.data.scalar.value, allowed)) {
                    char where[512];
                    snprintf(where, sizeof where, "%s:%zu", name, ev.start_mark.line + 1);
                    rc = unknown_key(where, path, (const char *)ev.data.scalar.value, allowed, e);
                }
                want_key = !want_key;
            }
            break;
        case YAML_MAPPING_START_EVENT:
        case YAML_SEQUENCE_START_EVENT:
            if (depth == 0) {
                root_map = ev.type == YAML_MAPPING_START_EVENT;
                done = !root_map;
                want_key = true;
            } else if (root_map && depth == 1) {
                want_key = !want_key; /* a collection as a key or a value */
            }
            depth++;
            break;
        case YAML_MAPPING_END_EVENT:
        case YAML_SEQUENCE_END_EVENT:
            done = --depth == 0;
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    return rc;
}

/* ---- emitting ------------------------------------------------------------- */

typedef struct sbuf {
    char *s;
    size_t len, cap;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        while (b->len + n + 1 > b->cap)
            b->cap = b->cap ? b->cap * 2 : 256;
        b->s = ls_xrealloc(b->s, b->cap);
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void sb_str(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

/* Quote a scalar when leaving it plain would change its meaning. */
static bool needs_quotes(const ls_yaml *n)
{
    const char *s = n->scalar;
    if (!n->plain) {
        /* a quoted scalar that would read as a number/bool/null if unquoted keeps its quotes */
        if (!*s)
            return true;
        char *end;
        strtod(s, &end);
        if (*end == '\0')
            return true;
        if (!strcasecmp(s, "true") || !strcasecmp(s, "false") || !strcasecmp(s, "null") ||
            !strcasecmp(s, "yes") || !strcasecmp(s, "no") || !strcmp(s, "~"))
            return true;
    }
    if (!*s)
        return false;
    if (strchr("-?:,[]{}#&*!|>'\"%@` ", s[0]))
        return true;
    for (const char *p = s; *p; p++)
        if (strchr(",[]{}#\"'\n\t", *p) || (*p == ':' && (p[1] == ' ' || !p[1])))
            return true;
    return s[strlen(s) - 1] == ' ';
}

static void emit_scalar(sbuf *b, const ls_yaml *n)
{
    if (!needs_quotes(n)) {
        sb_str(b, n->scalar);
        return;
    }
    sb_put(b, "\"", 1);
    for (const char *p = n->scalar; *p; p++) {
        if (*p == '"' || *p == '\\')
            sb_put(b, "\\", 1);
        if (*p == '\n')
            sb_str(b, "\\n");
        else if (*p == '\t')
            sb_str(b, "\\t");
        else
            sb_put(b, p, 1);
    }
    sb_put(b, "\"", 1);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(**(char *const *const *)a, **(char *const *const *)b);
}

static void emit_flow(sbuf *b, const ls_yaml *n)
{
    if (n->kind == LS_YAML_SCALAR) {
        emit_scalar(b, n);
    } else if (n->kind == LS_YAML_SEQ) {
        sb_put(b, "[", 1);
        for (size_t i = 0; i < n->n; i++) {
            if (i)
                sb_put(b, ", ", 2);
            emit_flow(b, n->vals[i]);
        }
        sb_put(b, "]", 1);
    } else {
        /* sort key indices by key */
        char **order[n->n ? n->n : 1];
        for (size_t i = 0; i < n->n; i++)
            order[i] = &n->keys[i];
        qsort(order, n->n, sizeof order[0], cmp_str);
        sb_put(b, "{", 1);
        for (size_t k = 0; k < n->n; k++) {
            size_t i = (size_t)(order[k] - n->keys);
            if (k)
                sb_put(b, ", ", 2);
            ls_yaml key = {.kind = LS_YAML_SCALAR, .scalar = n->keys[i], .plain = true};
            emit_scalar(b, &key);
            sb_put(b, ": ", 2);
            emit_flow(b, n->vals[i]);
        }
        sb_put(b, "}", 1);
    }
}

char *ls_yaml_canonical(const ls_yaml *n)
{
    sbuf b = {0};
    sb_str(&b, "");
    emit_flow(&b, n);
    return b.s;
}

static void indent(sbuf *b, int depth)
{
    for (int i = 0; i < depth; i++)
        sb_put(b, "  ", 2);
}

static bool is_simple(const ls_yaml *n)
{
    if (n->kind == LS_YAML_SCALAR || n->n == 0)
        return true;
    /* short flow collections of scalars stay on one line */
    if (n->n > 8)
        return false;
    for (size_t i = 0; i < n->n; i++)
        if (n->vals[i]->kind != LS_YAML_SCALAR)
            return false;
    return true;
}

static void emit_block(sbuf *b, const ls_yaml *n, int depth)
{
    if (n->kind == LS_YAML_MAP) {
        for (size_t i = 0; i < n->n; i++) {
            indent(b, depth);
            ls_yaml key = {.kind = LS_YAML_SCALAR, .scalar = n->keys[i], .plain = true};
            emit_scalar(b, &key);
            sb_put(b, ":", 1);
            if (is_simple(n->vals[i])) {
                sb_put(b, " ", 1);
                emit_flow(b, n->vals[i]);
                sb_put(b, "\n", 1);
            } else {
                sb_put(b, "\n", 1);
                emit_block(b, n->vals[i], depth + 1);
            }
        }
    } else if (n->kind == LS_YAML_SEQ) {
        for (size_t i = 0; i < n->n; i++) {
            indent(b, depth);
            sb_put(b, "- ", 2);
            emit_flow(b, n->vals[i]);
            sb_put(b, "\n", 1);
        }
    } else {
        indent(b, depth);
        emit_scalar(b, n);
        sb_put(b, "\n", 1);
    }
}

char *ls_yaml_dump(const ls_yaml *n)
{
    sbuf b = {0};
    sb_str(&b, "");
    if (n->kind == LS_YAML_MAP && n->n == 0)
        sb_str(&b, "{}\n");
    else
        emit_block(&b, n, 0);
    return b.s;
}

uint64_t ls_hash64_update(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

uint64_t ls_hash64(const void *data, size_t len) { return ls_hash64_update(LS_HASH64_INIT, data, len); }
