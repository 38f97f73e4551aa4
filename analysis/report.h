/* report.h -- turn a result file into tables, an SLO ranking and recommendations.
 *
 * ls_report_build groups the rows of a result file by workload (every /configs
 * column that describes the requests: trace or synthetic, arrival process and
 * rate, length distributions, duration) and by any axis the user names, checks
 * each configuration against a service-level objective, ranks those that meet
 * it and finds why the others miss it. ls_report_write prints it as aligned
 * text (<= 100 columns), Markdown or CSV, with the recommendations that
 * recommend.h computes from it. docs/REPORT.md explains every column and rule.
 */
#ifndef LS_REPORT_H
#define LS_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "error.h"
#include "results.h"

/* The SLO a configuration must meet. Defaults: the MLPerf Llama-2-70B server
 * limits (TTFT p99 <= 2 s, TPOT p99 <= 200 ms) and 99% of requests completed. */
typedef struct ls_slo {
    double ttft_p99_s;
    double tpot_p99_s;
    double min_success;   /* completed / all requests */
} ls_slo;

#define LS_SLO_DEFAULT_TTFT_P99_S 2.0
#define LS_SLO_DEFAULT_TPOT_P99_S 0.2
#define LS_SLO_DEFAULT_MIN_SUCCESS 0.99

void ls_slo_default(ls_slo *s);

/* The report's SLO when none is asked for: latency limits NaN ("take each
 * configuration's own, the slo_ttft_s/slo_tpot_s its runs computed goodput
 * with"), success LS_SLO_DEFAULT_MIN_SUCCESS. ls_slo_parse then fills the parts
 * the user names. */
void ls_slo_from_file(ls_slo *s);

/* Parse "ttft_p99=2s,tpot_p99=200ms,success=0.99" (any subset; units s, ms,
 * us; success as a fraction or a percentage "99%") into `s`, keeping the
 * fields not named. Fails naming the bad item. */
ls_status ls_slo_parse(const char *text, ls_slo *s, ls_error *e);

/* Bit mask of the SLO parts a result violates (0: it meets the SLO). A result
 * that is not `ok` violates everything. */
enum { LS_SLO_TTFT = 1, LS_SLO_TPOT = 2, LS_SLO_SUCCESS = 4, LS_SLO_NOT_RUN = 8 };
unsigned ls_slo_violations(const ls_slo *s, const ls_metrics *m);

/* Why a configuration loses (its dominant problem). */
typedef enum ls_loss {
    LS_LOSS_NONE = 0,       /* meets the SLO */
    LS_LOSS_INFEASIBLE,     /* weights do not fit */
    LS_LOSS_ERROR,          /* the run failed */
    LS_LOSS_PENDING,        /* not finished (partial sweep) */
    LS_LOSS_TOO_LONG,       /* prompts rejected as longer than max_model_len */
    LS_LOSS_KV,             /* KV cache too small: rejections or heavy preemption */
    LS_LOSS_COMM,           /* slower than the same strategy on another topology */
    LS_LOSS_QUEUE,          /* over capacity: TTFT dominated by queueing, or unfinished requests */
    LS_LOSS_PREFILL,        /* TTFT over the limit without much queueing */
    LS_LOSS_DECODE          /* TPOT over the limit */
} ls_loss;
const char *ls_loss_name(ls_loss l);    /* "KV-bound" */
const char *ls_loss_short(ls_loss l);   /* "KV", for the table's SLO column */

typedef struct ls_report_entry {
    const ls_result_row *row;
    ls_slo slo;                  /* the SLO this row is judged by (the given parts of the report's,
                                  * the rest from its own configuration, else the defaults) */
    unsigned violations;         /* ls_slo_violations */
    ls_loss loss;
    int comm_ref;                /* LS_LOSS_COMM: index (in the group) of the faster twin, else -1 */
    int rank_goodput;            /* 1-based among the group's SLO-meeting rows; 0 = unranked;
                                  * goodputs within 1% are a tie, broken by lower TTFT p99 */
    int rank_goodput_gpu;
    int rank_capacity;           /* 1-based among rows with a capacity; 0 = none */
    int rank_capacity_gpu;
    /* Capacity does not depend on the rate a configuration is listed at, so
     * every listing of one configuration (same row apart from arrival_rate)
     * carries ONE value: that of its listing with the lowest config_id that has
     * a capacity. Every reader (table, summary, CSV) uses this through
     * ls_report_v(x, LS_M_CAPACITY_RPS); the table and the summary show only
     * the representative listing (capacity_rep; for a configuration without
     * a capacity, its first listing). NaN when none. capacity_fail is the same
     * listing's capacity_fail_rps (ls_report_v(x, LS_M_CAPACITY_FAIL_RPS)): the
     * lowest rate found to miss the SLO, so a capacity of 0 reads "< capacity_fail". */
    double capacity;
    double capacity_fail;
    bool capacity_rep;
    /* With speculative decoding: the entry of the same configuration without it
     * (same load and seed; spec_report.h), NULL when none is in the file or the
     * row has no speculation. ls_report_v derives the spec_*_gain metrics from it. */
    const struct ls_report_entry *baseline;
} ls_report_entry;

typedef struct ls_report_group {
    char *title;                 /* workload (and --by axes) of the group */
    char *by;                    /* its --by values, "model llama-3.1-8b" ("" without --by) */
    size_t n;
    ls_report_entry *e;          /* display order: SLO-meeting by goodput, then the rest */
    int best;                    /* index in e of the best SLO-meeting row, -1 when none */
} ls_report_group;

typedef enum ls_report_format { LS_REPORT_TEXT, LS_REPORT_MD, LS_REPORT_CSV } ls_report_format;

typedef struct ls_report_opts {
    ls_slo slo;                  /* a NaN latency limit: each configuration's own (ls_slo_from_file) */
    const char *const *by;       /* extra grouping axes (/configs column names) */
    size_t n_by;
} ls_report_opts;

typedef struct ls_report {
    const ls_results *res;
    ls_slo slo;                  /* the SLO of every row; when slo_mixed, that of the first */
    bool slo_mixed;              /* rows are judged by different SLOs (their own, which differ) */
    char *slo_source;            /* where the SLO comes from, for the header */
    size_t n_axes;
    int axes[LS_CONFIG_COLUMN_COUNT];   /* /configs columns labelling the rows of a table */
    /* Columns labelling the capacity table, whose rows come from every group:
     * parallelism, then every column (the --by axes included) that varies
     * among its rows, but the listed rate. */
    size_t n_cap_axes;
    int cap_axes[LS_CONFIG_COLUMN_COUNT];
    size_t n_groups;
    ls_report_group *groups;
    bool has_capacity;
    bool slo_differs;            /* some run's own SLO (goodput) differs from the report's */
} ls_report;

/* Build the report of `res` (which must outlive it). Fails on an unknown --by
 * axis (naming it and the valid ones). */
ls_status ls_report_build(const ls_results *res, const ls_report_opts *o, ls_report **out,
                          ls_error *e);
void ls_report_free(ls_report *r);   /* accepts NULL */

/* Print the report. */
ls_status ls_report_write(const ls_report *r, ls_report_format f, FILE *out, ls_error *e);

/* "TP=4×PP=2" from "tp4pp2" (the input when it does not parse). */
const char *ls_report_strategy_name(const char *parallelism, char *buf, size_t size);

#endif
