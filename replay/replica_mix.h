/* replica_mix.h -- heterogeneous replicas in one configuration, and the
 * length-aware router's settings (internal to replay/).
 *
 * A configuration with a `replicas:` list (docs/CONFIG.md) serves its
 * requests on groups of identical replicas that differ between groups, e.g.
 * one TP4 replica and four TP1 replicas on the 8 GPUs of one cluster:
 *
 *   replicas:
 *     - {parallelism: tp4, count: 1}
 *     - {parallelism: tp1, count: 4}
 *   router: {policy: length-aware, prompt_threshold: 4096}
 *
 * Each group is a complete run configuration of its own (the document with
 * the group's parallelism, hardware and scheduler keys written over the top
 * level's, loaded by ls_config_load: every check of the aggregated path holds
 * for it), placed on the cluster after the previous group (on a new node when
 * the GPU type changes). The engine (engine.c) runs every replica of every
 * group side by side behind the top-level router; the length-aware router
 * sends prompts longer than `prompt_threshold` tokens to the replicas built
 * for long prompts (the group(s) marked `long: true`, else those of the
 * largest tp x pp) and the rest to the others. Rules: docs/ENGINE.md.
 */
#ifndef LS_REPLICA_MIX_H
#define LS_REPLICA_MIX_H

#include "config_internal.h"

typedef struct ls_mix_group {
    ls_run_config *cfg;      /* the group's own configuration; cfg->dp = count */
    int count;               /* replicas of the group */
    int first_gpu;           /* placement: the group's first GPU in the cluster */
    bool is_long;            /* built for long prompts (length-aware router) */
} ls_mix_group;

typedef struct ls_mix_config {
    int n_groups;            /* >= 1 */
    ls_mix_group *group;
    int n_replicas;          /* sum of the counts */
    int n_gpus;              /* sum of count x tp x pp */
    char label[LS_NAME_MAX]; /* "1xtp4+4xtp1": the parallelism column */
} ls_mix_config;

/* The top-level `router` key: a policy name, or a mapping {policy,
 * prompt_threshold}. Sets c->router and c->router_prompt_threshold (0 when
 * none). Errors name FILE:LINE and the key. */
ls_status ls_mix_router_load(ls_run_config *c, const ls_yaml *root, ls_error *e);

/* The `replicas:` list of `root` (NULL in *out when absent or null), and the
 * checks that tie the router to it: a length-aware router needs at least
 * two groups with long and short replicas; `replicas` excludes
 * `disaggregation`, `speculative` and the host offload keys. Called once the
 * rest of `c` (the top level) is loaded. Errors name FILE:LINE. */
ls_status ls_mix_config_load(const ls_run_config *c, const ls_yaml *root, const char *base_dir,
                             const ls_catalog *cat, ls_mix_config **out, ls_error *e);
void ls_mix_config_free(ls_mix_config *m);                   /* accepts NULL */
ls_mix_config *ls_mix_config_clone(const ls_mix_config *m);  /* NULL -> NULL */

/* Overwrite the /configs columns of c that a mix or a router threshold
 * changes (parallelism label, hardware, tp/pp/dp, n_gpus, router); nothing
 * for a plain configuration. */
void ls_mix_config_row(const ls_run_config *c, ls_config_row *row);

/* ls_config_memory_fits for a configuration with a mix: every group's
 * weights and a KV cache beside them. */
ls_status ls_mix_memory_fits(const ls_run_config *c, bool *fits, char *why, size_t size, ls_error *e);

/* ls_run for a configuration with a mix (c->mix non-NULL). A group whose
 * weights do not fit makes the result infeasible, naming the group. */
ls_status ls_mix_run(const ls_run_config *c, const ls_run_opts *opts, ls_metrics *out, ls_error *e);

#endif
