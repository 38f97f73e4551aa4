/* cmd_sweep.c -- `llmsweep sweep SPEC [-o FILE]`: a grid of configurations over MPI ranks into HDF5.
 *
 * Every rank parses the flags and expands the specification itself (it is
 * deterministic); rank 0 validates every configuration, opens or creates the
 * result file and tells the others whether to go on. Exit statuses: cli.h. */
#include <assert.h>
#include <errno.h>
#include <hdf5.h>
#include <limits.h>
#include <math.h>
#include <mpi.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "sweep_engine.h"
#include "sweep_h5.h"
#include "sweep_history.h"
#include "sweep_inputs.h"
#include "sweep_lock.h"
#include "sweep_spec.h"
#include "sweep.h"

/* Set by SIGTERM/SIGINT. A signal handler can only reach a global; nothing
 * else in the sweep is global (the loop gets a pointer to it). */
static volatile sig_atomic_t g_stop;
/* Set while a one-rank sweep (no other rank to leave waiting) has initialised
 * MPI and not yet touched its output: reading, expanding and validating the
 * spec do not poll g_stop (a 10^6-configuration grid validates for a minute),
 * so a signal then ends the process at once with the interrupted status. Never
 * set with several ranks, nor inside MPI_Init: a rank that exits there leaves
 * mpiexec waiting; those cases are stopped by the check of g_stop before the
 * output is opened (sweep_main). */
static volatile sig_atomic_t g_quick_exit;

static const char g_early_msg[] = "llmsweep: interrupted while reading or validating the specification: "
                                  "nothing was written\n";

/* Rank 0, about to open the output: from here a signal only stops the loop.
 * Whether one came already (then nothing is opened). */
static bool stopped_before_output(void)
{
    g_quick_exit = 0;
    return g_stop != 0;
}

static void on_signal(int sig)
{
    (void)sig;
    if (g_quick_exit) {
        ssize_t w = write(STDERR_FILENO, g_early_msg, sizeof g_early_msg - 1);
        (void)w;
        _exit(LS_EXIT_INTERRUPTED);
    }
    g_stop = 1;
}

/* SIGTERM and SIGINT stop the sweep cleanly (exit 4), and so do SIGUSR1/SIGUSR2: Open MPI's
 * mpirun passes those two on to every rank, where it answers SIGTERM/SIGINT itself by aborting
 * the job with status 1 (docs/SWEEP.md). Installed before MPI_Init, so that a signal during the
 * start is not fatal either. */
static void catch_stop_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    const int sigs[] = {SIGTERM, SIGINT, SIGUSR1, SIGUSR2};
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        sigaction(sigs[i], &sa, NULL);
        sigaddset(&set, sigs[i]);
    }
    /* the lean llmsweep blocked them across its exec of this program (main.c): one that came
     * meanwhile is delivered now, to the handler */
    sigprocmask(SIG_UNBLOCK, &set, NULL);
}

/* How this process was started, repeated by the resume hint (issue 18.7): "mpirun -np N ",
 * "srun -n N " or "" (plain). Open MPI's launcher leaves its contact URI in every rank's
 * environment; srun leaves the step id. */
static void launch_prefix(int size, char *buf, size_t n)
{
    const char *mpi = getenv("SLURM_MPI_TYPE");
    if (getenv("OMPI_MCA_orte_hnp_uri"))
        snprintf(buf, n, "mpirun -np %d ", size);
    else if (getenv("SLURM_STEP_ID") && getenv("SLURM_PROCID"))
        snprintf(buf, n, "srun%s%s -n %d ", mpi && strcmp(mpi, "none") ? " --mpi=" : "",
                 mpi && strcmp(mpi, "none") ? mpi : "", size);
    else if (size > 1)
        snprintf(buf, n, "mpirun -np %d ", size);
    else
        buf[0] = 0;
}

typedef struct sweep_args {
    const char *spec, *out;
    bool dry_run, resume, force, quiet, progress_off;
    bool accept_revision; /* resume a file another build wrote */
    bool requests_set; /* --requests given: resume checks it against the file's mode */
    ls_reqs_mode requests;
    size_t sample_n;
    long shard_i, shard_n;
    size_t show;
} sweep_args;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: llmsweep sweep SPEC [-o FILE] [options]\n"
            "       mpirun -np N llmsweep sweep SPEC -o FILE   (or srun)\n\n"
            "Expand the grid of a sweep specification (docs/SWEEP.md) and simulate every\n"
            "configuration, over MPI ranks when started by mpirun/srun, into one HDF5 file.\n\n"
            "options:\n"
            "  -o, --output FILE     result file (default results.h5)\n"
            "  --dry-run             print the count and the first configurations, validate all, stop\n"
            "  --show N              configurations listed by --dry-run (default 10)\n"
            "  --resume              continue an interrupted sweep, or grow it with added axis values:\n"
            "                        run what FILE lacks (its inputs and build must be unchanged)\n"
            "  --accept-revision     with --resume: accept a FILE written by another llmsweep build\n"
            "  --force               overwrite FILE if it exists\n"
            "  --requests MODE       per-request rows: none (default), all, sample:N\n"
            "  --shard I/N           run only slice I of N (0-based), for job arrays; merge later\n"
            "  --no-progress         no progress lines on stderr\n"
            "  -q, --quiet           no progress and no summary\n"
            "exit status: 0 done, 1 error, 2 usage, 4 interrupted (resume with --resume)\n"
            "SIGTERM, SIGINT, SIGUSR1 stop it cleanly (mpirun and srun pass SIGUSR1 on to the ranks);\n"
            "FILE.lock keeps a second sweep off FILE; docs/SWEEP.md\n");
}

/* 0 ok, LS_EXIT_USAGE on a bad flag (message printed by rank 0 only). */
static int parse_args(int argc, char **argv, sweep_args *a, bool talk)
{
    memset(a, 0, sizeof *a);
    a->out = "results.h5";
    a->shard_n = 1;
    a->show = 10;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED_VALUE()                                                      \
    do {                                                                  \
        if (!val) {                                                       \
            if (talk)                                                     \
                ls_cli_error("sweep: %s needs a value", s);               \
            return LS_EXIT_USAGE;                                         \
        }                                                                 \
        i++;                                                              \
    } while (0)
        if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
            return -1;
        } else if (!strcmp(s, "-o") || !strcmp(s, "--output")) {
            NEED_VALUE();
            a->out = val;
        } else if (!strcmp(s, "--dry-run")) {
            a->dry_run = true;
        } else if (!strcmp(s, "--resume")) {
            a->resume = true;
        } else if (!strcmp(s, "--accept-revision")) {
            a->accept_revision = true;
        } else if (!strcmp(s, "--force")) {
            a->force = true;
        } else if (!strcmp(s, "-q") || !strcmp(s, "--quiet")) {
            a->quiet = true;
        } else if (!strcmp(s, "--no-progress")) {
            a->progress_off = true;
        } else if (!strcmp(s, "--show")) {
            NEED_VALUE();
            a->show = (size_t)strtoull(val, NULL, 10);
        } else if (!strcmp(s, "--requests")) {
            NEED_VALUE();
            ls_error e;
            if (ls_sweep_parse_requests(val, &a->requests, &a->sample_n, &e)) {
                if (talk)
                    ls_cli_error("sweep: %s", e.msg);
                return LS_EXIT_USAGE;
            }
            a->requests_set = true;
        } else if (!strcmp(s, "--shard")) {
            NEED_VALUE();
            char *end;
            a->shard_i = strtol(val, &end, 10);
            if (*end != '/' || (a->shard_n = strtol(end + 1, &end, 10)) < 1 || *end || a->shard_i < 0 ||
                a->shard_i >= a->shard_n) {
                if (talk)
                    ls_cli_error("sweep: --shard: expected I/N with 0 <= I < N, got '%s'", val);
                return LS_EXIT_USAGE;
            }
        } else if (s[0] == '-' && s[1]) {
            if (talk) {
                ls_cli_error("sweep: unknown option '%s'", s);
                usage(stderr);
            }
            return LS_EXIT_USAGE;
        } else if (!a->spec) {
            a->spec = s;
        } else {
            if (talk)
                ls_cli_error("sweep: unexpected argument '%s' (one specification file)", s);
            return LS_EXIT_USAGE;
        }
#undef NEED_VALUE
    }
    if (!a->spec) {
        if (talk) {
            ls_cli_error("sweep: missing the specification file");
            usage(stderr);
        }
        return LS_EXIT_USAGE;
    }
    if (a->resume && a->force) {
        if (talk)
            ls_cli_error("sweep: --resume and --force contradict each other");
        return LS_EXIT_USAGE;
    }
    return 0;
}

static void print_dry_run(const ls_sweep_spec *s, size_t show)
{
    printf("specification: %s (%s)\n", s->name, s->path);
    printf("configurations: %zu (grid points %zu, excluded %zu)\n", s->n, s->n_points, s->n_points - s->n);
    if (s->has_seed)
        printf("seed: %lld (every configuration)\n", (long long)s->seed);
    if (s->capacity.enabled) {
        const ls_sweep_capacity *k = &s->capacity;
        printf("capacity search: rel_tol %g, max_runs %d", k->rel_tol, k->max_runs);
        if (k->rate_lo > 0) /* the rates it will probe from, as given */
            printf(", rate_lo %g", k->rate_lo);
        if (k->rate_hi > 0)
            printf(", rate_hi %g", k->rate_hi);
        if (k->start > 0)
            printf(", start %g", k->start);
        if (k->floor > 0)
            printf(", floor %g", k->floor);
        printf(", %s%s\n", k->bisect ? "bisect" : "guided",
               ls_sweep_engine_has_capacity() ? "" : " (not available in this build: capacity_rps stays NaN)");
    }
    size_t n = show < s->n ? show : s->n;
    for (size_t i = 0; i < n; i++)
        printf("  %6zu  %s  %s\n", i, s->configs[i].hash, s->configs[i].label);
    if (n < s->n)
        printf("  ... %zu more\n", s->n - n);
}

/* Resume: the file's requests_mode attribute decides the mode; a --requests
 * flag must agree with it (mixing modes would leave /requests holding rows
 * for some configurations only). Files written before the attribute existed
 * take the flag as given. 0 or LS_EXIT_ERROR (message printed). */
static int resume_requests_mode(const sweep_args *a, ls_h5file *f, ls_reqs_mode *mode, size_t *sample_n)
{
    ls_error e;
    char *stored = NULL;
    if (ls_h5_attr_string(f, "requests_mode", &stored, &e))
        return 0; /* older file: no attribute */
    ls_reqs_mode fm;
    size_t fn;
    if (ls_sweep_parse_requests(stored, &fm, &fn, &e)) {
        ls_cli_error("sweep: cannot resume %s: its requests_mode attribute '%s' is not none, all or sample:N",
                     a->out, stored);
        free(stored);
        return LS_EXIT_ERROR;
    }
    if (a->requests_set && (fm != a->requests || fn != a->sample_n)) {
        char given[48];
        ls_sweep_format_requests(a->requests, a->sample_n, given, sizeof given);
        ls_cli_error("sweep: cannot resume %s: it was written with --requests %s, this run asks for "
                     "--requests %s; resume with --requests %s (or leave the flag out), or start a new file",
                     a->out, stored, given, stored);
        free(stored);
        return LS_EXIT_ERROR;
    }
    *mode = fm;
    *sample_n = fn;
    free(stored);
    return 0;
}

typedef struct hash_id {
    const char *hash;
    size_t id;
} hash_id;

static int cmp_hash_id(const void *a, const void *b)
{
    return strcmp(((const hash_id *)a)->hash, ((const hash_id *)b)->hash);
}

/* Resume of a specification that only adds configurations: every configuration
 * of the file (hashes `old`, n_old) must still be in `s`; their ids may move.
 * Writes a new file (the new expansion's /configs, the old results and request
 * rows with config ids mapped through the hashes) next to a->out and renames
 * it over a->out, so a crash leaves either file whole. Closes *f and reopens
 * the new file there. 0 or LS_EXIT_ERROR (message printed). */
/* The root attributes of a file this sweep writes (a new one, or an extension's rewrite). */
static ls_h5_meta file_meta(const sweep_args *a, const ls_sweep_spec *s, int ranks, const char *requests_mode)
{
    return (ls_h5_meta){.tool_version = LLMSWEEP_VERSION,
                        .git_revision = LLMSWEEP_GIT_REV,
                        .spec_text = s->text,
                        .spec_name = s->name,
                        .set_hash = s->set_hash,
                        .seed = s->has_seed ? s->seed : -1,
                        .ranks = ranks,
                        .n_configs = (int64_t)s->n,
                        .shard_index = a->shard_i,
                        .shard_count = a->shard_n,
                        .requests_mode = requests_mode};
}

static int resume_extend(const sweep_args *a, const ls_sweep_spec *s, const ls_config_row *rows, int ranks,
                         ls_reqs_mode mode, size_t sample_n, char (*old)[LS_HASH_HEX], size_t n_old,
                         const char *old_text, ls_h5file **f)
{
    ls_error e;
    if (a->shard_n > 1) {
        /* shard membership is config_id % N: moved ids would move results between shards */
        ls_cli_error("sweep: cannot resume %s: %s no longer expands to the configurations of this shard "
                     "file (the specification changed; a shard cannot take added configurations): use new "
                     "shard files (or --force)", a->out, a->spec);
        return LS_EXIT_ERROR;
    }
    hash_id *idx = ls_xcalloc(s->n, sizeof *idx);
    for (size_t i = 0; i < s->n; i++)
        idx[i] = (hash_id){s->configs[i].hash, i};
    qsort(idx, s->n, sizeof *idx, cmp_hash_id);
    size_t *map = ls_xcalloc(n_old ? n_old : 1, sizeof *map);
    size_t missing = 0, first_missing = 0;
    for (size_t i = 0; i < n_old; i++) {
        hash_id key = {old[i], 0};
        const hash_id *hit = bsearch(&key, idx, s->n, sizeof *idx, cmp_hash_id);
        if (!hit && missing++ == 0)
            first_missing = i;
        map[i] = hit ? hit->id : 0;
    }
    free(idx);
    if (missing) {
        /* say what changed: the stored specification against this one */
        char *what = ls_sweep_spec_diff(old_text, s->text, 4);
        ls_cli_error("sweep: cannot resume %s: %zu of its %zu configurations are not in %s (the first: "
                     "configuration %zu, hash %s): the specification changed%s%s; resume accepts a "
                     "specification that only adds configurations (new axis values); use a new output file "
                     "(or --force to start over)",
                     a->out, missing, n_old, a->spec, first_missing, old[first_missing],
                     what ? ": " : "", what ? what : "");
        free(what);
        free(map);
        return LS_EXIT_ERROR;
    }
    ls_sweep_result *res = NULL;
    ls_sweep_reqrow *rq = NULL;
    size_t nr = 0, nrq = 0;
    ls_status rc = ls_h5_read_results(*f, &res, &nr, &e);
    if (!rc)
        rc = ls_h5_read_requests(*f, &rq, &nrq, &e);
    size_t kept = 0, kept_rq = 0;
    for (size_t i = 0; !rc && i < nr; i++) /* rows naming no configuration of the file are dropped */
        if (res[i].config_id >= 0 && (size_t)res[i].config_id < n_old &&
            !strcmp(res[i].hash, old[res[i].config_id])) {
            res[kept] = res[i];
            res[kept++].config_id = (int64_t)map[res[i].config_id];
        }
    for (size_t i = 0; !rc && i < nrq; i++)
        if (rq[i].config_id >= 0 && (size_t)rq[i].config_id < n_old) {
            rq[kept_rq] = rq[i];
            rq[kept_rq++].config_id = (int64_t)map[rq[i].config_id];
        }
    free(map);
    char *tmp = NULL;
    ls_h5file *nf = NULL;
    if (!rc) {
        tmp = ls_xmalloc(strlen(a->out) + 16);
        sprintf(tmp, "%s.extend-tmp", a->out);
        char rmode[48];
        ls_sweep_format_requests(mode, sample_n, rmode, sizeof rmode);
        char *created = NULL; /* the study's creation time survives the rewrite */
        ls_error ignore;
        if (ls_h5_attr_string(*f, "created", &created, &ignore))
            created = NULL;
        ls_h5_meta m = file_meta(a, s, ranks, rmode);
        m.created = created;
        rc = ls_h5_create(tmp, &m, s, rows, mode != LS_REQS_NONE, &nf, &e);
        free(created);
        if (!rc)
            rc = ls_hist_copy(*f, nf, &e);
        if (!rc)
            rc = ls_h5_append_results(nf, res, kept, &e);
        if (!rc && kept_rq)
            rc = ls_h5_append_requests(nf, rq, kept_rq, &e);
        if (!rc)
            rc = ls_h5_close(nf, &e);
        else
            ls_h5_close(nf, NULL);
        nf = NULL;
    }
    free(res);
    free(rq);
    ls_status crc = ls_h5_close(*f, rc ? NULL : &e);
    *f = NULL;
    if (!rc)
        rc = crc;
    if (!rc && rename(tmp, a->out) != 0)
        rc = ls_fail(&e, LS_EIO, "cannot rename %s to %s: %s", tmp, a->out, strerror(errno));
    if (!rc)
        rc = ls_h5_open(a->out, true, f, &e);
    if (rc) {
        if (tmp)
            remove(tmp);
        free(tmp);
        ls_cli_error("sweep: cannot resume %s with the added configurations: %s", a->out, e.msg);
        return LS_EXIT_ERROR;
    }
    free(tmp);
    if (!a->quiet)
        fprintf(stderr, "llmsweep: %s adds %zu configurations to the %zu of %s: rewrote its /configs for the "
                        "new expansion (%zu results kept, ids follow the hashes)\n",
                a->spec, s->n - n_old, n_old, a->out, kept);
    return 0;
}

/* Rank 0, once the output is open: record this run's inputs, specification
 * and /history row (*run). 0 or LS_EXIT_ERROR (message printed, *out closed). */
static int record_run(const sweep_args *a, const ls_sweep_spec *s, int ranks, const char *command,
                      const ls_ptable *inputs, ls_h5file **out, int64_t *run)
{
    ls_error e;
    char spec_hash[LS_HASH_HEX];
    ls_hist_spec_hash(s->text, s->text_len, spec_hash);
    ls_hist_run r = {.command = command,
                     .ranks = ranks,
                     .shard_index = a->shard_i,
                     .shard_count = a->shard_n,
                     .spec_hash = spec_hash,
                     .set_hash = s->set_hash,
                     .spec_name = s->name,
                     .spec_text = s->text,
                     .n_configs = (int64_t)s->n,
                     .tool_version = LLMSWEEP_VERSION,
                     .git_revision = LLMSWEEP_GIT_REV,
                     .output = a->out};
    ls_status rc = ls_inputs_record(*out, inputs, &e);
    if (!rc)
        rc = ls_hist_begin(*out, &r, run, &e);
    if (!rc)
        rc = ls_h5_flush(*out, &e);
    if (rc) {
        ls_cli_error("sweep: %s", e.msg);
        ls_h5_close(*out, NULL);
        *out = NULL;
        return LS_EXIT_ERROR;
    }
    return 0;
}

/* Rank 0: open (resume) or create the output; fill todo[] and the requests
 * mode to use (*mode, *sample_n: the flag's, or on resume the file's), and
 * record the run (*run: its /history row). Returns an exit status. */
static int prepare_output(const sweep_args *a, const ls_sweep_spec *s, const ls_config_row *rows, int ranks,
                          bool *todo, ls_h5file **out, size_t *n_todo, ls_reqs_mode *mode, size_t *sample_n,
                          int64_t *run)
{
    *mode = a->requests;
    *sample_n = a->sample_n;
    ls_error e;
    ls_error_clear(&e);
    struct stat sb;
    bool exists = stat(a->out, &sb) == 0;
    for (size_t i = 0; i < s->n; i++)
        todo[i] = (long)(i % (size_t)a->shard_n) == a->shard_i;
    if (exists && !a->resume && !a->force) {
        ls_cli_error("sweep: %s exists: pass --resume to continue it or --force to overwrite it", a->out);
        return LS_EXIT_ERROR;
    }
    /* every file the configurations read, by content: a resume must see the same */
    ls_ptable inputs;
    if (ls_inputs_collect(s, &inputs, &e)) {
        ls_cli_error("sweep: %s", e.msg);
        return LS_EXIT_ERROR;
    }
    const char *command = "sweep";
    if (!exists || !a->resume) {
        char rmode[48];
        ls_sweep_format_requests(a->requests, a->sample_n, rmode, sizeof rmode);
        ls_h5_meta m = file_meta(a, s, ranks, rmode);
        if (ls_h5_create(a->out, &m, s, rows, a->requests != LS_REQS_NONE, out, &e)) {
            ls_cli_error("sweep: %s", e.msg);
            ls_ptable_free(&inputs);
            return LS_EXIT_ERROR;
        }
    } else {
        /* resume: the file must describe exactly this expansion */
        ls_h5file *f = NULL;
        if (ls_h5_open(a->out, true, &f, &e)) {
            ls_cli_error("sweep: cannot resume: %s", e.msg);
            ls_ptable_free(&inputs);
            return LS_EXIT_ERROR;
        }
        command = "resume";
        char(*hashes)[LS_HASH_HEX] = NULL;
        size_t nh = 0;
        int64_t si = 0, sn = 1;
        char *text = NULL;
        int bad = 0;
        bool recorded = true; /* the file has /inputs */
        if (ls_h5_read_config_hashes(f, &hashes, &nh, &e) || ls_h5_attr_int(f, "shard_index", &si, &e) ||
            ls_h5_attr_int(f, "shard_count", &sn, &e) || ls_h5_attr_string(f, "spec_text", &text, &e)) {
            ls_cli_error("sweep: cannot resume %s: %s", a->out, e.msg);
            bad = 1;
        } else if (resume_requests_mode(a, f, mode, sample_n)) {
            bad = 1;
        } else if (si != a->shard_i || sn != a->shard_n) {
            ls_cli_error("sweep: cannot resume %s: it is shard %lld/%lld, this run is %ld/%ld", a->out,
                         (long long)si, (long long)sn, a->shard_i, a->shard_n);
            bad = 1;
        } else if (!a->accept_revision &&
                   ls_hist_check_revision(f, LLMSWEEP_VERSION, LLMSWEEP_GIT_REV, "resuming", &e)) {
            ls_cli_error("sweep: cannot resume: %s", e.msg);
            bad = 1;
        } else if (ls_inputs_check(f, &inputs, "resume", &recorded, &e)) {
            ls_cli_error("sweep: %s", e.msg);
            bad = 1;
        } else {
            if (!recorded && inputs.n && !a->quiet)
                fprintf(stderr, "llmsweep: note: %s records no input contents (written before /inputs existed): "
                                "its %zu input files cannot be checked; recording them now\n", a->out, inputs.n);
            bool same = nh == s->n;
            for (size_t i = 0; i < nh && same; i++)
                same = !strcmp(hashes[i], s->configs[i].hash);
            /* not the same expansion: accepted when it only adds configurations */
            if (!same && resume_extend(a, s, rows, ranks, *mode, *sample_n, hashes, nh, text, &f))
                bad = 1;
            if (!same)
                command = "extend";
            if (!bad && same && strcmp(text, s->text))
                fprintf(stderr, "llmsweep: note: %s differs from the specification stored in %s but "
                                "expands to the same configurations: resuming\n", a->spec, a->out);
        }
        free(hashes);
        free(text);
        ls_sweep_result *res = NULL;
        size_t nr = 0;
        if (!bad && ls_h5_read_results(f, &res, &nr, &e)) {
            ls_cli_error("sweep: cannot resume %s: %s", a->out, e.msg);
            bad = 1;
        }
        if (bad) {
            free(res);
            ls_h5_close(f, NULL);
            ls_ptable_free(&inputs);
            return LS_EXIT_ERROR;
        }
        /* keep ok/infeasible rows (once each); error rows are run again */
        bool *done = ls_xcalloc(s->n ? s->n : 1, sizeof *done);
        size_t kept = 0;
        for (size_t i = 0; i < nr; i++) {
            int64_t id = res[i].config_id;
            bool good = id >= 0 && (size_t)id < s->n && !strcmp(res[i].hash, s->configs[id].hash) &&
                        res[i].m.status != LS_RUN_ERROR && !done[id];
            if (good) {
                done[id] = true;
                res[kept++] = res[i];
            }
        }
        ls_status rc = LS_OK;
        if (kept != nr)
            rc = ls_h5_rewrite_results(f, res, kept, &e);
        if (!rc)
            rc = ls_h5_filter_requests(f, done, s->n, &e);
        if (!rc)
            rc = ls_h5_flush(f, &e);
        free(res);
        if (rc) {
            free(done);
            ls_h5_close(f, NULL);
            ls_cli_error("sweep: cannot resume %s: %s", a->out, e.msg);
            ls_ptable_free(&inputs);
            return LS_EXIT_ERROR;
        }
        for (size_t i = 0; i < s->n; i++)
            if (done[i])
                todo[i] = false;
        if (!a->quiet)
            fprintf(stderr, "llmsweep: resuming %s: %zu configurations already done, %zu dropped (error or "
                            "duplicate)\n", a->out, kept, nr - kept);
        free(done);
        *out = f;
    }
    int st = record_run(a, s, ranks, command, &inputs, out, run);
    ls_ptable_free(&inputs);
    if (st)
        return st;
    *n_todo = 0;
    for (size_t i = 0; i < s->n; i++)
        *n_todo += todo[i];
    return LS_EXIT_OK;
}

/* One capacity search per configuration, whatever rate it is listed at: rank 0
 * (which holds the /configs rows) picks the listing that searches, every rank
 * learns it (mpi/sweep_engine.h). Returns the groups (NULL without capacity
 * search; caller frees); on rank 0 the owners' costs grow by their searches. */
static int64_t *share_capacity_owners(const ls_sweep_spec *s, const ls_config_row *rows, int rank,
                                      ls_sweep_engine *g, double *cost)
{
    if (!s->capacity.enabled || !s->n)
        return NULL;
    int64_t *own = ls_xcalloc(s->n, sizeof *own);
    if (rank == 0)
        ls_sweep_capacity_groups(rows, s->n, own);
    assert(s->n <= INT_MAX);
    MPI_Bcast(own, (int)s->n, MPI_INT64_T, 0, MPI_COMM_WORLD);
    ls_sweep_engine_set_capacity_groups(g, own);
    if (rank == 0 && cost)
        ls_sweep_search_costs(s, own, cost);
    return own;
}

/* Collective: what the ranks simulated and their CPU time, summed on rank 0 and
 * printed there (docs/PLAN.md, "Speed": the figures bench/plan.sh reads). */
static void report_work(const ls_sweep_engine *g, int rank, int size, bool quiet)
{
    ls_sweep_engine_counts n;
    ls_sweep_engine_get_counts(g, &n);
    uint64_t mine[7] = {n.listed_simulated, n.listed_reused, n.searches, n.probes, n.probes_simulated,
                        n.probes_stopped, n.probes_reused};
    uint64_t sum[7] = {0};
    MPI_Reduce(mine, sum, 7, MPI_UINT64_T, MPI_SUM, 0, MPI_COMM_WORLD);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_sec +
                 1e-6 * (double)ru.ru_stime.tv_usec;
    double *cpus = rank == 0 ? ls_xcalloc((size_t)size, sizeof *cpus) : NULL;
    MPI_Gather(&cpu, 1, MPI_DOUBLE, cpus, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    if (rank == 0 && !quiet) {
        fprintf(stderr,
                "llmsweep: simulated %llu listed configurations (%llu more taken whole from capacity probes); "
                "%llu capacity searches, %llu probes: %llu simulated (%llu stopped once the SLO was certainly "
                "missed), %llu taken from listed runs\nllmsweep: CPU per rank (user+sys, s):",
                (unsigned long long)sum[0], (unsigned long long)sum[1], (unsigned long long)sum[2],
                (unsigned long long)sum[3], (unsigned long long)sum[4], (unsigned long long)sum[5],
                (unsigned long long)(sum[3] - sum[4]));
        for (int r = 0; r < size; r++)
            fprintf(stderr, " %.2f", cpus[r]);
        fputc('\n', stderr);
    }
    free(cpus);
}

/* Rank 0: the tool's own lock on the output (mpi/sweep_lock.h), whatever HDF5's locking does.
 * 0, or 1 with the message printed. */
static int take_lock(const sweep_args *a, ls_sweep_lock **lock)
{
    ls_error e;
    char *note = NULL;
    if (ls_sweep_lock_take(a->out, lock, &note, &e)) {
        ls_cli_error("sweep: %s", e.msg);
        return 1;
    }
    if (note && !a->quiet)
        fprintf(stderr, "llmsweep: note: %s\n", note);
    free(note);
    return 0;
}

static int sweep_spec_main(int rank, int size, const sweep_args *a, const ls_sweep_spec *s);

static int sweep_main(int rank, int size, const sweep_args *a)
{
    ls_error e;
    ls_error_clear(&e);
    ls_sweep_spec *s = NULL;
    /* every rank reads the spec itself; agree on the outcome so that a rank that
     * cannot read it (another node's file system) does not leave the others waiting */
    int32_t bad = ls_sweep_spec_load(a->spec, &s, &e) != LS_OK, any_bad = 0, bad0 = bad;
    MPI_Allreduce(&bad, &any_bad, 1, MPI_INT32_T, MPI_MAX, MPI_COMM_WORLD);
    MPI_Bcast(&bad0, 1, MPI_INT32_T, 0, MPI_COMM_WORLD);
    if (any_bad) {
        if (rank == 0 && bad)
            ls_cli_error("sweep: %s", e.msg);
        else if (bad && !bad0) /* only this rank failed: say which */
            ls_cli_error("sweep: rank %d: %s", rank, e.msg);
        ls_sweep_spec_free(s);
        return LS_EXIT_ERROR;
    }
    if (a->shard_n > 1 && size > 1) {
        if (rank == 0)
            ls_cli_error("sweep: --shard runs one slice on one rank (a job array): start it without mpirun");
        ls_sweep_spec_free(s);
        return LS_EXIT_USAGE;
    }
    int st = sweep_spec_main(rank, size, a, s);
    ls_sweep_spec_free(s);
    return st;
}

/* The sweep of an expanded specification `s` (borrowed), on every rank. */
static int sweep_spec_main(int rank, int size, const sweep_args *a, const ls_sweep_spec *s)
{
    ls_error e;
    ls_error_clear(&e);
    int32_t verdict = LS_EXIT_OK;
    ls_config_row *rows = NULL;
    double *cost = NULL;
    bool *todo = NULL;
    ls_h5file *out = NULL;
    int64_t run = -1; /* rank 0: this run's /history row */
    ls_sweep_lock *lock = NULL; /* rank 0: FILE.lock, held from before the file is opened until it is closed */
    size_t n_todo = 0;
    int64_t reqs[2] = {(int64_t)a->requests, (int64_t)a->sample_n};
    if (rank == 0) {
        if (a->dry_run)
            print_dry_run(s, a->show);
        rows = ls_xcalloc(s->n, sizeof *rows);
        cost = ls_xcalloc(s->n, sizeof *cost);
        size_t n_bad = 0;
        if (ls_sweep_validate(s, rows, cost, stderr, 20, &n_bad, &e)) {
            ls_cli_error("sweep: %zu of %zu configurations are invalid; nothing was run", n_bad, s->n);
            verdict = LS_EXIT_ERROR;
        } else if (a->dry_run) {
            printf("validated: all %zu configurations load\n", s->n);
            verdict = -1; /* done, successfully */
        } else if (stopped_before_output()) {
            /* signalled before the output exists (in MPI_Init, or any rank of several): stop here */
            fputs(g_early_msg, stderr);
            verdict = LS_EXIT_INTERRUPTED;
        } else if (take_lock(a, &lock)) {
            verdict = LS_EXIT_ERROR;
        } else {
            todo = ls_xcalloc(s->n, sizeof *todo);
            ls_reqs_mode m = a->requests;
            size_t sn = a->sample_n;
            verdict = prepare_output(a, s, rows, size, todo, &out, &n_todo, &m, &sn, &run);
            reqs[0] = (int64_t)m;
            reqs[1] = (int64_t)sn;
        }
    }
    MPI_Bcast(&verdict, 1, MPI_INT32_T, 0, MPI_COMM_WORLD);
    /* on resume rank 0 takes the mode from the file: every rank must use it */
    MPI_Bcast(reqs, 2, MPI_INT64_T, 0, MPI_COMM_WORLD);
    if (verdict != LS_EXIT_OK) {
        ls_sweep_lock_release(lock);
        free(rows);
        free(cost);
        free(todo);
        return verdict < 0 ? LS_EXIT_OK : verdict;
    }
    if (rank == 0 && n_todo == 0 && !a->quiet)
        fprintf(stderr, "llmsweep: nothing to run: %s already holds every configuration\n", a->out);
    ls_sweep_engine *g = ls_sweep_engine_new(s);
    int64_t *groups = share_capacity_owners(s, rows, rank, g, cost);
    ls_sweep_opts o = {.spec = s,
                       .run = ls_sweep_engine_run,
                       .run_ctx = g,
                       .comm = MPI_COMM_WORLD,
                       .stop = &g_stop,
                       .requests = (ls_reqs_mode)reqs[0],
                       .sample_n = (size_t)reqs[1],
                       .cost = cost,
                       .group = groups,
                       .set_poll = ls_sweep_engine_set_poll,
                       .todo = todo,
                       .out = out,
                       .progress = !a->quiet && !a->progress_off};
    ls_sweep_stats st = {0};
    ls_status rc = ls_sweep_execute(&o, &st, &e);
    int status = LS_EXIT_OK;
    if (rank == 0) {
        ls_error ce;
        /* an I/O error (ENOSPC) stopped the writes: the file is rolled back to its last flush,
         * and the next run finds this run's /history row unfinished ("aborted") */
        if (out && (rc == LS_OK || rc == LS_EINTERRUPTED) &&
            ls_hist_end(out, run, (int64_t)st.done, rc == LS_OK ? "complete" : "interrupted", &ce))
            fprintf(stderr, "llmsweep: warning: the end of this run is not recorded in %s: %s\n", a->out, ce.msg);
        if (ls_h5_close(out, &ce) && !rc) {
            rc = ce.code;
            e = ce;
        }
        ls_sweep_lock_release(lock);
        if (rc == LS_EINTERRUPTED) {
            size_t slice = 0; /* configurations of this run's slice (all without --shard) */
            for (size_t i = 0; i < s->n; i++)
                slice += (long)(i % (size_t)a->shard_n) == a->shard_i;
            char how[128];
            launch_prefix(size, how, sizeof how);
            fprintf(stderr,
                    "llmsweep: sweep interrupted: %s holds %zu of %zu configurations (%zu recorded by this "
                    "run); the file is closed and consistent\nllmsweep: resume with: %sllmsweep sweep %s -o "
                    "%s --resume%s\n",
                    a->out, slice - st.total + st.done, slice, st.done, how, a->spec, a->out,
                    a->shard_n > 1 ? " --shard I/N" : "");
            status = LS_EXIT_INTERRUPTED;
        } else if (rc) {
            ls_cli_error("sweep: %s", e.msg);
            status = LS_EXIT_ERROR;
        } else if (!a->quiet) {
            fprintf(stderr,
                    "llmsweep: %zu configurations in %.1f s on %d rank%s (%zu by rank 0): %zu ok, %zu "
                    "infeasible, %zu failed -> %s\n",
                    st.done, st.wall_s, size, size > 1 ? "s" : "", st.by_rank0,
                    st.done - st.failed - st.infeasible, st.infeasible, st.failed, a->out);
        }
    } else {
        status = rc == LS_EINTERRUPTED ? LS_EXIT_INTERRUPTED : rc ? LS_EXIT_ERROR : LS_EXIT_OK;
    }
    report_work(g, rank, size, a->quiet || !s->capacity.enabled);
    ls_sweep_engine_free(g);
    free(groups);
    free(rows);
    free(cost);
    free(todo);
    return status;
}

int ls_cli_sweep_spec(const ls_sweep_spec *s, const char *out, bool force, bool quiet, int rank, int size)
{
    catch_stop_signals(); /* after MPI_Init here: the caller started MPI */
    sweep_args a;
    memset(&a, 0, sizeof a);
    a.spec = s->path;
    a.out = out;
    a.force = force;
    a.quiet = quiet;
    a.shard_n = 1;
    a.show = 10;
    return sweep_spec_main(rank, size, &a, s);
}

int ls_cmd_sweep(int argc, char **argv)
{
    catch_stop_signals();
    int provided = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_SINGLE, &provided);
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    g_quick_exit = size == 1 && !g_stop;
    ls_h5_quiet();
    sweep_args a;
    int status = parse_args(argc, argv, &a, rank == 0);
    if (status < 0) {
        if (rank == 0)
            usage(stdout);
        status = LS_EXIT_OK;
    } else if (status == 0) {
        status = sweep_main(rank, size, &a);
    }
    MPI_Finalize();
    return status;
}
