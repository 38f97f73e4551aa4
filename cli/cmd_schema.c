/* cmd_schema.c -- `llmsweep schema`: every column of the result file with unit and meaning.
 *
 * Printed from the same tables (common/schema.h) the HDF5 writer iterates, so
 * docs/RESULTS.md, generated with `llmsweep schema --format md`, cannot drift. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "sweep_h5.h"
#include "schema.h"

typedef enum fmt { FMT_TEXT, FMT_MD, FMT_JSON } fmt;

typedef struct col {
    const char *name, *type, *unit, *desc;
} col;

static const char *type_name(ls_col_type t, size_t size, char *buf, size_t n)
{
    if (t == LS_COL_I64)
        return "int64";
    if (t == LS_COL_F64)
        return "float64";
    snprintf(buf, n, "string[%zu]", size);
    return buf;
}

static void json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            printf("\\u%04x", *s);
        else
            putchar(*s);
    }
    putchar('"');
}

static void emit(fmt f, const char *table, const col *c, size_t n, bool last_table)
{
    if (f == FMT_JSON) {
        printf("  ");
        json_str(table);
        printf(": [\n");
        for (size_t i = 0; i < n; i++) {
            printf("    {\"name\": ");
            json_str(c[i].name);
            printf(", \"type\": ");
            json_str(c[i].type);
            printf(", \"unit\": ");
            json_str(c[i].unit);
            printf(", \"description\": ");
            json_str(c[i].desc);
            printf("}%s\n", i + 1 < n ? "," : "");
        }
        printf("  ]%s\n", last_table ? "" : ",");
    } else if (f == FMT_MD) {
        printf("## `%s`\n\n| column | type | unit | meaning |\n|---|---|---|---|\n", table);
        for (size_t i = 0; i < n; i++)
            printf("| `%s` | %s | %s | %s |\n", c[i].name, c[i].type, *c[i].unit ? c[i].unit : "", c[i].desc);
        printf("\n");
    } else {
        printf("%s\n", table);
        for (size_t i = 0; i < n; i++)
            printf("  %-24s %-12s %-9s %s\n", c[i].name, c[i].type, *c[i].unit ? c[i].unit : "-", c[i].desc);
        printf("\n");
    }
}

int ls_cmd_schema(int argc, char **argv)
{
    fmt f = FMT_TEXT;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: llmsweep schema [--format text|md|json]\n\n"
                   "Print every column of the sweep result file (/configs, /results, /requests,\n"
                   "/inputs, /spec_revisions, /history)\n"
                   "with its type, unit and meaning. docs/RESULTS.md is `--format md`.\n");
            return LS_EXIT_OK;
        }
        const char *v = NULL;
        if (!strcmp(argv[i], "--format") && i + 1 < argc)
            v = argv[++i];
        else if (!strncmp(argv[i], "--format=", 9))
            v = argv[i] + 9;
        else {
            ls_cli_error("schema: unknown argument '%s'", argv[i]);
            return LS_EXIT_USAGE;
        }
        if (!strcmp(v, "text"))
            f = FMT_TEXT;
        else if (!strcmp(v, "md"))
            f = FMT_MD;
        else if (!strcmp(v, "json"))
            f = FMT_JSON;
        else {
            ls_cli_error("schema: --format: expected text, md or json, got '%s'", v);
            return LS_EXIT_USAGE;
        }
    }
    char tbuf[LS_CONFIG_COLUMN_COUNT][32];
    col cfg[2 + LS_CONFIG_COLUMN_COUNT];
    cfg[0] = (col){"config_id", "int64", "", "index of the configuration in the expanded grid (0-based)"};
    cfg[1] = (col){"config_hash", "string[17]", "",
                   "FNV-1a 64 of the canonical YAML of the configuration, 16 lowercase hex digits"};
    for (int i = 0; i < LS_CONFIG_COLUMN_COUNT; i++) {
        const ls_config_column *c = &ls_config_columns[i];
        cfg[2 + i] = (col){c->name, type_name(c->type, c->size, tbuf[i], sizeof tbuf[i]), c->unit,
                           c->description};
    }
    col res[4 + LS_METRIC_COUNT];
    res[0] = (col){"config_id", "int64", "", "configuration (row of /configs)"};
    res[1] = (col){"config_hash", "string[17]", "", "hash of the configuration (as in /configs)"};
    res[2] = (col){"status", "string[16]", "", "ok | infeasible (weights do not fit; not simulated) | error"};
    res[3] = (col){"message", "string[256]", "", "why infeasible or what failed; empty when ok"};
    for (int i = 0; i < LS_METRIC_COUNT; i++) {
        const ls_column *c = &ls_metric_columns[i];
        res[4 + i] = (col){c->name, c->type == LS_COL_I64 ? "int64" : "float64", c->unit, c->description};
    }
    col req[1 + LS_REQUEST_COLUMN_COUNT];
    size_t nrq = 1 + LS_REQUEST_COLUMN_COUNT;
    req[0] = (col){"config_id", "int64", "", "configuration (index into /configs)"};
    for (int i = 0; i < LS_REQUEST_COLUMN_COUNT; i++) {
        const ls_request_column *c = &ls_request_columns[i];
        req[1 + i] = (col){c->name, c->type == LS_RQ_I64 ? "int64" : c->type == LS_RQ_I32 ? "int32" : "float64",
                           c->unit, c->description};
    }
    static const col attrs[] = {
        {"tool_version", "string", "", "llmsweep version of the latest run that wrote the file (every run's: /history)"},
        {"git_revision", "string", "", "git revision of that build (resume and merge refuse another one unless "
                                       "--accept-revision)"},
        {"spec_text", "string", "", "the sweep specification, as written"},
        {"spec_name", "string", "", "its `name`"},
        {"set_hash", "string", "", "hash of all config hashes in order: resume and merge compare it"},
        {"seed", "int64", "", "the specification's seed (-1 when it has none)"},
        {"created", "string", "", "creation time, ISO-8601 UTC (kept by resumes and extensions)"},
        {"updated", "string", "", "start of the latest run, ISO-8601 UTC"},
        {"n_runs", "int64", "count", "runs that wrote the file (rows of /history)"},
        {"spec_hash", "string", "", "FNV-1a 64 of the latest run's specification text (a row of /spec_revisions)"},
        {"ranks", "int64", "count", "the most MPI ranks of any run in /history (merge: over the parts' runs)"},
        {"hdf5_version", "string", "", "HDF5 library version"},
        {"mpi_version", "string", "", "MPI library version (first line)"},
        {"n_configs", "int64", "count", "configurations in the specification (rows of /configs)"},
        {"shard_index", "int64", "", "slice I of --shard I/N (0 without sharding)"},
        {"shard_count", "int64", "", "N of --shard I/N (1 without sharding, and after merge)"},
        {"merged_from", "int64", "count", "parts combined by `llmsweep merge` (0 for a sweep's own file)"},
        {"schema_version", "int64", "", "version of the result columns (common/schema.h; absent: 1, before the "
                                        "disaggregated prefill/decode columns of version 2)"},
        {"requests_mode", "string", "", "--requests of the sweep: none, all or sample:N (resume inherits it; merge "
                                        "requires equal modes)"},
    };
    if (f == FMT_JSON)
        printf("{\n");
    if (f == FMT_MD)
        printf("# Result file\n\nGenerated by `llmsweep schema --format md` from common/schema.h and the "
               "writer's tables (do not edit by hand: regenerate).\n\n"
               "One HDF5 file per sweep (`llmsweep sweep`, `llmsweep merge`):\n\n"
               "- `/configs`: one row per configuration of the specification, in config_id order.\n"
               "- `/config_yaml`: the canonical YAML text of each configuration (variable-length UTF-8), "
               "indexed by config_id; config_hash is FNV-1a 64 of this text.\n"
               "- `/results`: one row per finished configuration, in the order they finished.\n"
               "- `/requests` (with `--requests all|sample:N`): one row per request of each finished "
               "configuration.\n"
               "- `/inputs`: one row per file the configurations read (trace, catalog, cost table, "
               "distribution), with its content hash: resume and merge refuse a file whose content changed.\n"
               "- `/spec_revisions`: every specification the file holds results of (a study grows by resuming "
               "with added axis values).\n"
               "- `/history`: one row per run that wrote the file (sweep, resume, extend, merge): times, ranks, "
               "revision, rows added.\n\n"
               "The compound tables are 1-D, chunked, shuffle+deflate, extensible. Every table has a "
               "`columns` attribute: one `name|unit|description` string per column.\n"
               "In `/results`, int64 metrics are -1 when undefined; float64 metrics are NaN when "
               "undefined. Status `infeasible` rows (the weights do not fit) have only the memory "
               "columns set.\n\n");
    emit(f, "/ (root attributes)", attrs, sizeof attrs / sizeof attrs[0], false);
    emit(f, "/configs", cfg, 2 + LS_CONFIG_COLUMN_COUNT, false);
    emit(f, "/results", res, 4 + LS_METRIC_COUNT, false);
    emit(f, "/requests", req, nrq, false);
    col prov[3][LS_HISTORY_NCOLS];
    const ls_column *pc[3] = {ls_input_columns, ls_spec_revision_columns, ls_history_columns};
    const size_t pn[3] = {LS_INPUT_NCOLS, LS_SPECREV_NCOLS, LS_HISTORY_NCOLS};
    const char *const pname[3] = {LS_H5_INPUTS, LS_H5_SPEC_REVISIONS, LS_H5_HISTORY};
    _Static_assert((int)LS_INPUT_NCOLS <= (int)LS_HISTORY_NCOLS && (int)LS_SPECREV_NCOLS <= (int)LS_HISTORY_NCOLS, "prov[] width");
    for (int t = 0; t < 3; t++) {
        for (size_t i = 0; i < pn[t]; i++)
            prov[t][i] = (col){pc[t][i].name, pc[t][i].type == LS_COL_STR ? "string" : pc[t][i].type == LS_COL_I64 ? "int64" : "float64",
                               pc[t][i].unit, pc[t][i].description};
        emit(f, pname[t], prov[t], pn[t], t == 2);
    }
    if (f == FMT_JSON)
        printf("}\n");
    return LS_EXIT_OK;
}
