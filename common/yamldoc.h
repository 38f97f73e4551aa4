/* yamldoc.h -- a small YAML document tree with source positions.
 *
 * Configuration files (run configurations, sweep specifications, catalogs)
 * are loaded with libyaml into this tree so that every later error can name
 * the file, line and dotted key path. Sweeps clone a base tree and overwrite
 * dotted paths in it (`workload.arrival.rate`).
 *
 * Ownership: a tree owns all its nodes and strings; ls_yaml_free frees a
 * whole tree. Functions that take an `ls_yaml *val` to insert take ownership.
 */
#ifndef LS_YAMLDOC_H
#define LS_YAMLDOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef enum ls_yaml_kind { LS_YAML_SCALAR, LS_YAML_MAP, LS_YAML_SEQ } ls_yaml_kind;

typedef struct ls_yaml ls_yaml;
struct ls_yaml {
    ls_yaml_kind kind;
    char *file;        /* source name ("<string>", "<grid>" for sweep values) */
    int line;          /* 1-based; 0 when built in code */
    char *scalar;      /* SCALAR: its text */
    bool plain;        /* SCALAR: was unquoted (only plain scalars are numbers/bools/null) */
    size_t n;          /* MAP: number of pairs; SEQ: number of items */
    char **keys;       /* MAP: keys, in file order */
    ls_yaml **vals;    /* MAP: values; SEQ: items */
};

/* Limits of a parsed document. Aliases are expanded by copying, so nested
 * aliases multiply (9 levels of 9 aliases: 387 million nodes from 600 bytes);
 * each alias is priced before it is copied, and a document whose aliases
 * would copy more than LS_YAML_MAX_ALIAS_NODES nodes is refused (at most ~20 MB
 * spent). LS_YAML_MAX_NODES bounds the whole tree, LS_YAML_MAX_DEPTH the nesting
 * (the parser recurses per level). */
#define LS_YAML_MAX_ALIAS_NODES 100000
#define LS_YAML_MAX_NODES 4000000
#define LS_YAML_MAX_DEPTH 256

/* Parse a file / a string. The document must be a single YAML document;
 * aliases are expanded (within the limits above). On error, the message names
 * file:line:column. */
ls_status ls_yaml_load_file(const char *path, ls_yaml **out, ls_error *e);
ls_status ls_yaml_load_string(const char *text, size_t len, const char *name, ls_yaml **out,
                              ls_error *e);

/* Read a whole configuration text file (at most 64 MiB, no NUL bytes) into a
 * NUL-terminated buffer the caller frees: for callers that keep the text too
 * (a sweep stores its specification verbatim). */
ls_status ls_yaml_read_text(const char *path, char **text, size_t *len, ls_error *e);

void ls_yaml_free(ls_yaml *n);               /* accepts NULL */
ls_yaml *ls_yaml_clone(const ls_yaml *n);

/* Builders (never fail; they abort on allocation failure). */
ls_yaml *ls_yaml_new_scalar(const char *text, bool plain);
ls_yaml *ls_yaml_new_map(void);
ls_yaml *ls_yaml_new_seq(void);
void ls_yaml_map_set(ls_yaml *map, const char *key, ls_yaml *val);  /* replaces an existing key */
void ls_yaml_seq_push(ls_yaml *seq, ls_yaml *val);
bool ls_yaml_map_remove(ls_yaml *map, const char *key);
/* Relabel n and every node under it as coming from `file` (e.g. "<command line>" for a tree built
 * from flags), so messages name where the value came from instead of "<built-in>". Accepts NULL. */
void ls_yaml_set_file(ls_yaml *n, const char *file);

/* Lookup: NULL when `map` is not a map or has no such key. */
const ls_yaml *ls_yaml_get(const ls_yaml *map, const char *key);
/* Follow a dotted path ("scheduler.max_num_seqs"); NULL if any step is missing. */
const ls_yaml *ls_yaml_get_path(const ls_yaml *root, const char *dotted);
/* Set a dotted path, creating intermediate maps; fails (naming the path) if an
 * intermediate node exists and is not a map. Takes ownership of val. */
ls_status ls_yaml_set_path(ls_yaml *root, const char *dotted, ls_yaml *val, ls_error *e);

/* "file:line" of a node into buf (returns buf). */
const char *ls_yaml_where(const ls_yaml *n, char *buf, size_t size);

/* Typed reads of a scalar. `path` is the dotted key path used in messages
 * ("FILE:LINE: scheduler.max_num_seqs: expected an integer, got 'abc'"). */
ls_status ls_yaml_as_string(const ls_yaml *n, const char *path, const char **out, ls_error *e);
ls_status ls_yaml_as_double(const ls_yaml *n, const char *path, double *out, ls_error *e);
ls_status ls_yaml_as_int64(const ls_yaml *n, const char *path, int64_t *out, ls_error *e);
ls_status ls_yaml_as_bool(const ls_yaml *n, const char *path, bool *out, ls_error *e);
/* True when n is a plain scalar null/~/empty. */
bool ls_yaml_is_null(const ls_yaml *n);

/* Fail (LS_EINVAL) with "FILE:LINE: path.key: what", the position of map[key]
 * when it exists, else of `map` itself (key may be NULL: "path: what"). */
ls_status ls_yaml_fail_at(const ls_yaml *map, const char *path, const char *key, const char *what,
                          ls_error *e);

/* Range-checked reads of an optional key of a map (the one getter family of
 * config, catalog, workload, dist, MoE and pool parsing). A missing key leaves *out
 * untouched and returns LS_OK; a present one must have the type and lie in
 * the range, else "FILE:LINE: path.key: expected ..., got V" (path may be "":
 * "key: ..."). Integers: lo <= v <= hi (INT64_MAX: no upper bound). Numbers:
 * finite, v >= lo (v > lo when lo_open). Strings: a non-null scalar. */
ls_status ls_yaml_get_int(const ls_yaml *map, const char *path, const char *key, int64_t lo, int64_t hi,
                          int64_t *out, ls_error *e);
ls_status ls_yaml_get_double(const ls_yaml *map, const char *path, const char *key, double lo, bool lo_open,
                             double *out, ls_error *e);
ls_status ls_yaml_get_bool(const ls_yaml *map, const char *path, const char *key, bool *out, ls_error *e);
ls_status ls_yaml_get_string(const ls_yaml *map, const char *path, const char *key, const char **out,
                             ls_error *e);

/* The same with the range and its meaning in the message: "FILE:LINE: path.key:
 * expected EXPECTED, got V" (EXPECTED NULL: the default text above). Integers:
 * lo <= v <= hi. Numbers: finite, v >= lo (v > lo when lo_open) and v <= hi
 * (INFINITY: no upper bound). */
ls_status ls_yaml_get_int_in(const ls_yaml *map, const char *path, const char *key, int64_t lo, int64_t hi,
                             const char *expected, int64_t *out, ls_error *e);
ls_status ls_yaml_get_double_in(const ls_yaml *map, const char *path, const char *key, double lo, bool lo_open,
                                double hi, const char *expected, double *out, ls_error *e);
/* An optional string that must be one of the NULL-terminated `names`: *out is
 * its index (untouched when the key is missing). Else "FILE:LINE: path.key:
 * unknown NOUN 'V' (expected EXPECTED)", or with NOUN NULL "expected EXPECTED,
 * got 'V'". */
ls_status ls_yaml_get_choice(const ls_yaml *map, const char *path, const char *key, const char *const *names,
                             const char *noun, const char *expected, int *out, ls_error *e);

/* Fail naming the first key of `map` that is not in the NULL-terminated
 * `allowed` list (and the allowed keys). Fails too if `map` is not a map. */
ls_status ls_yaml_check_keys(const ls_yaml *map, const char *path, const char *const *allowed,
                             ls_error *e);

/* The same for the top-level keys of a document, from its text, without
 * building the tree (so without expanding an alias): a document whose keys
 * are wrong is refused before any cost. Only problems with keys are reported:
 * a syntax error, or a document that is not a mapping, passes (the full
 * parse names them). */
ls_status ls_yaml_check_top_keys(const char *text, size_t len, const char *name, const char *path,
                                 const char *const *allowed, ls_error *e);

/* Canonical one-line flow text: map keys sorted, scalars quoted only when
 * needed. Equal content gives equal text (used for hashes). Caller frees. */
char *ls_yaml_canonical(const ls_yaml *n);
/* Block-style YAML text in file order, for people. Caller frees. */
char *ls_yaml_dump(const ls_yaml *n);

/* 64-bit FNV-1a of a byte string (stable across platforms; used for config hashes). */
uint64_t ls_hash64(const void *data, size_t len);
/* The same, in pieces: h = LS_HASH64_INIT, then h = ls_hash64_update(h, piece, n) per piece. */
#define LS_HASH64_INIT 0xcbf29ce484222325ULL
uint64_t ls_hash64_update(uint64_t h, const void *data, size_t len);

#endif
