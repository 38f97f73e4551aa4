/* cmd_merge.c -- `llmsweep merge PART... -o FILE`: combine sweep shards into one result file.
 *
 * The parts must come from the same specification (same expansion: equal
 * config hash lists); a configuration may have a result in one part only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "sweep_h5.h"
#include "sweep_history.h"
#include "sweep_inputs.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: llmsweep merge PART.h5... -o FILE [--force] [--accept-revision]\n\n"
               "Combine result files of shards (`llmsweep sweep --shard I/N`) or of partial\n"
               "sweeps of one specification into FILE. Refuses parts of different\n"
               "specifications, configurations present in two parts, parts that read\n"
               "different contents of one input file, and parts written by different\n"
               "llmsweep builds (unless --accept-revision).\n");
}

typedef struct part {
    const char *path;
    ls_h5file *f;
    char(*hashes)[LS_HASH_HEX];
    size_t n_hashes;
    char *set_hash, *spec_text, *spec_name;
    char *requests_mode; /* NULL: a file from before the attribute */
    char *git_revision, *tool_version;
    int64_t seed, ranks;
} part;

static int cmp_hash(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

/* A part whose /configs holds one hash twice (written before specifications
 * with repeated configurations were rejected) cannot be merged: results keyed
 * by hash would be ambiguous. 0 or LS_EXIT_ERROR (message printed). */
static int check_unique_hashes(const part *q)
{
    if (q->n_hashes < 2)
        return 0;
    char(*h)[LS_HASH_HEX] = ls_xmalloc(q->n_hashes * sizeof *h);
    memcpy(h, q->hashes, q->n_hashes * sizeof *h);
    qsort(h, q->n_hashes, sizeof *h, cmp_hash);
    for (size_t k = 1; k < q->n_hashes; k++)
        if (!strcmp(h[k], h[k - 1])) {
            size_t a = 0, b = 0;
            for (size_t i = 0, seen = 0; i < q->n_hashes && seen < 2; i++)
                if (!strcmp(q->hashes[i], h[k]))
                    *(seen++ ? &b : &a) = i;
            ls_cli_error("merge: %s holds configurations %zu and %zu with the same hash %s: refusing a part "
                         "with duplicate configurations", q->path, a, b, h[k]);
            free(h);
            return LS_EXIT_ERROR;
        }
    free(h);
    return 0;
}

/* The merged file's provenance: the parts' inputs, spec revisions and runs,
 * then the merge's own /history row. */
static ls_status record_merge(part *p, int np, const ls_ptable *inputs, size_t rows, ls_h5file *out, ls_error *e)
{
    ls_h5file **files = ls_xcalloc((size_t)np, sizeof *files);
    for (int i = 0; i < np; i++)
        files[i] = p[i].f;
    ls_status rc = ls_hist_merge(files, np, out, e);
    free(files);
    if (!rc)
        rc = ls_inputs_record(out, inputs, e);
    char spec_hash[LS_HASH_HEX];
    ls_hist_spec_hash(p[0].spec_text, strlen(p[0].spec_text), spec_hash);
    ls_hist_run r = {.command = "merge",
                     .ranks = np,
                     .shard_index = 0,
                     .shard_count = 1,
                     .spec_hash = spec_hash,
                     .set_hash = p[0].set_hash,
                     .spec_name = p[0].spec_name,
                     .spec_text = p[0].spec_text,
                     .n_configs = (int64_t)p[0].n_hashes,
                     .tool_version = LLMSWEEP_VERSION,
                     .git_revision = LLMSWEEP_GIT_REV,
                     .output = ls_h5_path(out)};
    int64_t run = 0;
    if (!rc)
        rc = ls_hist_begin(out, &r, &run, e);
    if (!rc)
        rc = ls_hist_end(out, run, (int64_t)rows, "complete", e);
    return rc;
}

static int merge(part *p, int np, const char *out_path, bool accept_revision)
{
    ls_error e;
    ls_error_clear(&e);
    for (int i = 0; i < np; i++) {
        if (ls_h5_open(p[i].path, false, &p[i].f, &e) ||
            ls_h5_read_config_hashes(p[i].f, &p[i].hashes, &p[i].n_hashes, &e) ||
            ls_h5_attr_string(p[i].f, "set_hash", &p[i].set_hash, &e) ||
            ls_h5_attr_string(p[i].f, "spec_text", &p[i].spec_text, &e) ||
            ls_h5_attr_string(p[i].f, "spec_name", &p[i].spec_name, &e) ||
            ls_h5_attr_int(p[i].f, "seed", &p[i].seed, &e) || ls_h5_attr_int(p[i].f, "ranks", &p[i].ranks, &e)) {
            ls_cli_error("merge: %s", e.msg);
            return LS_EXIT_ERROR;
        }
        if (ls_h5_attr_string(p[i].f, "requests_mode", &p[i].requests_mode, &e))
            p[i].requests_mode = NULL;
        if (ls_h5_attr_string(p[i].f, "git_revision", &p[i].git_revision, &e) ||
            ls_h5_attr_string(p[i].f, "tool_version", &p[i].tool_version, &e)) {
            ls_cli_error("merge: %s", e.msg);
            return LS_EXIT_ERROR;
        }
        if (i == 0) {
            if (check_unique_hashes(&p[0]))
                return LS_EXIT_ERROR;
            continue;
        }
        bool same = p[i].n_hashes == p[0].n_hashes && !strcmp(p[i].set_hash, p[0].set_hash);
        for (size_t k = 0; same && k < p[i].n_hashes; k++)
            same = !strcmp(p[i].hashes[k], p[0].hashes[k]);
        if (!same) {
            ls_cli_error("merge: %s and %s come from different specifications (%zu vs %zu configurations, "
                         "expansion hash %s vs %s): refusing to merge",
                         p[0].path, p[i].path, p[0].n_hashes, p[i].n_hashes, p[0].set_hash, p[i].set_hash);
            return LS_EXIT_ERROR;
        }
        /* /requests of the merge must mean one thing for every configuration */
        const char *m0 = p[0].requests_mode ? p[0].requests_mode : "(not recorded)";
        const char *mi = p[i].requests_mode ? p[i].requests_mode : "(not recorded)";
        if (strcmp(m0, mi)) {
            ls_cli_error("merge: %s was written with --requests %s but %s with --requests %s: refusing to mix "
                         "per-request modes", p[0].path, m0, p[i].path, mi);
            return LS_EXIT_ERROR;
        }
        if (!accept_revision &&
            (strcmp(p[i].git_revision, p[0].git_revision) || strcmp(p[i].tool_version, p[0].tool_version))) {
            ls_cli_error("merge: %s was written by llmsweep %s (revision %s) but %s by llmsweep %s (revision %s): "
                         "refusing to mix results of two builds (--accept-revision accepts it)",
                         p[0].path, p[0].tool_version, p[0].git_revision, p[i].path, p[i].tool_version,
                         p[i].git_revision);
            return LS_EXIT_ERROR;
        }
        if (strcmp(p[i].spec_text, p[0].spec_text))
            fprintf(stderr, "llmsweep: note: %s and %s store different specification texts with the same "
                            "expansion; keeping the first\n", p[0].path, p[i].path);
    }
    /* every input file must have one content over all parts */
    ls_ptable inputs;
    {
        ls_h5file **files = ls_xcalloc((size_t)np, sizeof *files);
        const char **paths = ls_xcalloc((size_t)np, sizeof *paths);
        for (int i = 0; i < np; i++) {
            files[i] = p[i].f;
            paths[i] = p[i].path;
        }
        ls_status rc = ls_inputs_check_parts(files, paths, np, &inputs, &e);
        free(files);
        free(paths);
        if (rc) {
            ls_cli_error("merge: %s", e.msg);
            return LS_EXIT_ERROR;
        }
    }
    size_t n = p[0].n_hashes;
    int *owner = ls_xmalloc((n ? n : 1) * sizeof *owner);
    for (size_t k = 0; k < n; k++)
        owner[k] = -1;
    ls_sweep_result **res = ls_xcalloc((size_t)np, sizeof *res);
    size_t *nres = ls_xcalloc((size_t)np, sizeof *nres);
    int status = LS_EXIT_OK;
    int64_t ranks = 0;
    for (int i = 0; i < np && !status; i++) {
        if (ls_h5_read_results(p[i].f, &res[i], &nres[i], &e)) {
            ls_cli_error("merge: %s", e.msg);
            status = LS_EXIT_ERROR;
            break;
        }
        if (p[i].ranks > ranks)
            ranks = p[i].ranks;
        for (size_t r = 0; r < nres[i]; r++) {
            int64_t id = res[i][r].config_id;
            if (id < 0 || (size_t)id >= n || strcmp(res[i][r].hash, p[0].hashes[id])) {
                ls_cli_error("merge: %s: result row %zu names configuration %lld (%s), which is not in the "
                             "specification", p[i].path, r, (long long)id, res[i][r].hash);
                status = LS_EXIT_ERROR;
                break;
            }
            if (owner[id] == i) {
                ls_cli_error("merge: %s holds two results for configuration %lld (hash %s): refusing a part "
                             "with duplicates", p[i].path, (long long)id, res[i][r].hash);
                status = LS_EXIT_ERROR;
                break;
            }
            if (owner[id] >= 0) {
                ls_cli_error("merge: configuration %lld (hash %s) has a result in both %s and %s: refusing "
                             "duplicates", (long long)id, res[i][r].hash, p[owner[id]].path, p[i].path);
                status = LS_EXIT_ERROR;
                break;
            }
            owner[id] = i;
        }
    }
    ls_h5file *out = NULL;
    if (!status) {
        ls_h5_meta m = {.tool_version = LLMSWEEP_VERSION,
                        .git_revision = LLMSWEEP_GIT_REV,
                        .spec_text = p[0].spec_text,
                        .spec_name = p[0].spec_name,
                        .set_hash = p[0].set_hash,
                        .seed = p[0].seed,
                        .ranks = ranks,
                        .n_configs = (int64_t)n,
                        .shard_index = 0,
                        .shard_count = 1,
                        .merged_from = np,
                        .requests_mode = p[0].requests_mode};
        ls_status rc = ls_h5_create_bare(out_path, &m, &out, &e);
        if (!rc)
            rc = ls_h5_copy_configs(p[0].f, out, &e);
        for (int i = 0; i < np && !rc; i++) {
            rc = ls_h5_append_results(out, res[i], nres[i], &e);
            ls_sweep_reqrow *rq = NULL;
            size_t nrq = 0;
            if (!rc)
                rc = ls_h5_read_requests(p[i].f, &rq, &nrq, &e);
            if (!rc)
                rc = ls_h5_append_requests(out, rq, nrq, &e);
            free(rq);
        }
        size_t rows = 0;
        for (int i = 0; i < np; i++)
            rows += nres[i];
        if (!rc)
            rc = record_merge(p, np, &inputs, rows, out, &e);
        if (!rc)
            rc = ls_h5_close(out, &e);
        else
            ls_h5_close(out, NULL);
        if (rc) {
            ls_cli_error("merge: %s", e.msg);
            remove(out_path);
            status = LS_EXIT_ERROR;
        } else {
            size_t done = 0;
            for (size_t k = 0; k < n; k++)
                done += owner[k] >= 0;
            fprintf(stderr, "llmsweep: merged %d parts: %zu of %zu configurations have results -> %s\n", np,
                    done, n, out_path);
        }
    }
    for (int i = 0; i < np; i++)
        free(res[i]);
    ls_ptable_free(&inputs);
    free(res);
    free(nres);
    free(owner);
    return status;
}

int ls_cmd_merge(int argc, char **argv)
{
    const char *out = NULL;
    bool force = false, accept_revision = false;
    part *p = ls_xcalloc((size_t)argc, sizeof *p);
    int np = 0, status = LS_EXIT_OK;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            free(p);
            return LS_EXIT_OK;
        } else if (!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) {
            if (i + 1 >= argc) {
                ls_cli_error("merge: %s needs a value", argv[i]);
                free(p);
                return LS_EXIT_USAGE;
            }
            out = argv[++i];
        } else if (!strcmp(argv[i], "--force")) {
            force = true;
        } else if (!strcmp(argv[i], "--accept-revision")) {
            accept_revision = true;
        } else if (argv[i][0] == '-') {
            ls_cli_error("merge: unknown option '%s'", argv[i]);
            usage(stderr);
            free(p);
            return LS_EXIT_USAGE;
        } else {
            p[np++].path = argv[i];
        }
    }
    if (!out || np == 0) {
        ls_cli_error("merge: need at least one part and -o FILE");
        usage(stderr);
        free(p);
        return LS_EXIT_USAGE;
    }
    struct stat sb;
    for (int i = 0; i < np; i++)
        if (!strcmp(p[i].path, out)) {
            ls_cli_error("merge: the output %s is also an input", out);
            free(p);
            return LS_EXIT_USAGE;
        }
    if (stat(out, &sb) == 0 && !force) {
        ls_cli_error("merge: %s exists: pass --force to overwrite it", out);
        free(p);
        return LS_EXIT_ERROR;
    }
    ls_h5_quiet();
    status = merge(p, np, out, accept_revision);
    for (int i = 0; i < np; i++) {
        ls_h5_close(p[i].f, NULL);
        free(p[i].hashes);
        free(p[i].set_hash);
        free(p[i].spec_text);
        free(p[i].spec_name);
        free(p[i].requests_mode);
        free(p[i].git_revision);
        free(p[i].tool_version);
    }
    free(p);
    return status;
}
