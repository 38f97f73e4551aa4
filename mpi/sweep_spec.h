/* sweep_spec.h -- sweep specifications and their expansion into configurations.
 *
 * A specification (docs/SWEEP.md) is a YAML document:
 *
 *   name: gh200-strategies
 *   seed: 42                      # written at `seed` of every configuration
 *   base: {...}                   # a complete `llmsweep run` configuration
 *   grid:                         # dotted path -> list of values; cartesian product
 *     parallelism: [tp1, tp8]
 *     scheduler: [{policy: vllm-v1}, {policy: sarathi}]   # mappings are merged at the path
 *   zip:                          # groups of axes that vary together (equal lengths)
 *     - {workload.arrival.rate: [1, 2], workload.duration_s: [60, 30]}
 *   exclude:                      # drop every configuration matching all keys of a rule
 *     - {parallelism: tp8, scheduler.policy: sarathi}
 *   capacity: {rel_tol: 0.05, max_runs: 20}   # optional capacity search per ok configuration
 *   families:                     # optional row families appended after the grid
 *     - {name: spec, base: {...merged over base...}, grid: {...}, zip: [...], exclude: [...]}
 *
 * Expansion order is deterministic: the axes are the grid keys in file order,
 * then the zip groups in file order; the first axis varies slowest (nested
 * loops as written). Excluded points are dropped before numbering, so
 * config_id is the index in the expanded list. A value that is a mapping is
 * merged key by key into the mapping at its path (the path "." is the root);
 * anything else replaces the node at the path. Every node keeps the file:line
 * it came from, so a validation error names the spec line.
 */
#ifndef LS_SWEEP_SPEC_H
#define LS_SWEEP_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "yamldoc.h"

#define LS_HASH_HEX 17 /* 16 lowercase hex digits + NUL */

typedef struct ls_sweep_config {
    ls_yaml *tree;        /* the expanded configuration */
    char *canonical;      /* ls_yaml_canonical(tree) */
    char hash[LS_HASH_HEX];
    char *label;          /* "parallelism=tp8 workload.arrival.rate=2", for messages */
    char where[128];      /* "spec.yaml:12": line of the first axis value (or of base) */
} ls_sweep_config;

typedef struct ls_sweep_capacity {
    bool enabled;
    double rel_tol;       /* default 0.05 */
    int max_runs;         /* default 20 */
    double rate_lo, rate_hi; /* <= 0: let the search choose */
    double start;         /* first probe, req/s (<= 0: LS_CAPACITY_START_RPS); see ls_capacity_opts */
    double floor;         /* lowest probe, req/s (0: none); see ls_capacity_opts.rate_floor */
    bool bisect;          /* method: bisect (true) or guided (false, default); see ls_capacity_opts */
} ls_sweep_capacity;

typedef struct ls_sweep_spec {
    char *path;           /* as given */
    char *base_dir;       /* directory of the spec: relative paths in configurations resolve here */
    char *text;           /* the specification as written */
    size_t text_len;
    char *name;
    bool has_seed;
    int64_t seed;
    ls_sweep_capacity capacity;
    size_t n_points;      /* grid points before exclusion */
    size_t n;             /* configurations after exclusion */
    ls_sweep_config *configs;
    char set_hash[LS_HASH_HEX]; /* hash of all config hashes in order: one value per expansion */
} ls_sweep_spec;

/* Parse and expand a specification file. Errors name file:line and the key. */
ls_status ls_sweep_spec_load(const char *path, ls_sweep_spec **out, ls_error *e);

/* Same, from text. `name` is used in messages; `base_dir` may be NULL (cwd). */
ls_status ls_sweep_spec_parse(const char *text, size_t len, const char *name, const char *base_dir,
                              ls_sweep_spec **out, ls_error *e);

void ls_sweep_spec_free(ls_sweep_spec *s); /* accepts NULL */

/* What differs between two specification texts that can drop configurations:
 * changed, removed and added keys, changed scalars, list items removed, as
 * "path: was A, now B" / "path: B added" / "path: A removed", '; '-separated,
 * at most `max` (then "and N more"). Items only added to a list (new axis
 * values) are not listed. NULL when a text does not parse or nothing else
 * differs. Caller frees. */
char *ls_sweep_spec_diff(const char *old_text, const char *new_text, int max);

/* "%016llx" of ls_hash64 over the canonical text. */
void ls_sweep_hash_hex(const char *canonical, char out[LS_HASH_HEX]);

#endif
