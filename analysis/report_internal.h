/* report_internal.h -- helpers shared by report.c, recommend.c, report_format.c and
 * plan_answer.c, implemented in report_text.c (a leaf: it calls none of them). */
#ifndef LS_REPORT_INTERNAL_H
#define LS_REPORT_INTERNAL_H

#include <stddef.h>

#include "report.h"

#define LS_REPORT_BLOCK_TOKENS 16   /* vLLM's KV block size, the engine's default */

/* Goodputs within this fraction of each other are a tie (broken by lower TTFT
 * p99): the ranking, the "Ranked by goodput" lines and the per-axis sentences
 * all apply it. */
#define LS_RANK_TIE 0.01

/* printf into a fresh string. */
char *ls_report_strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Short human formats ("-" for NaN): latency "183ms" / "2.41s"; rate "3.25";
 * percentage of a fraction "99.8"; count "1234". */
const char *ls_report_fmt_lat(double s, char *buf, size_t size);
const char *ls_report_fmt_rate(double r, char *buf, size_t size);
const char *ls_report_fmt_pct(double f, char *buf, size_t size);
const char *ls_report_fmt_count(double c, char *buf, size_t size);
/* An upper bound, "<R": a capacity of 0 whose search missed the SLO at r (capacity_fail_rps;
 * r > 0). R is r in the fewest of 3 to 6 significant digits that do not print a number below
 * it (0.3125 is "<0.3125", not "<0.312"), else r rounded up at 3 (1/3 is "<0.334"), so the
 * text never claims more than the search found. */
const char *ls_report_fmt_below(double r, char *buf, size_t size);
/* A lower bound, ">=R": a capacity whose search met the SLO at every rate it probed (r, the
 * last, > 0; capacity_fail_rps NaN). R is r whole from 1000 up, else in the fewest of 3 to 6
 * significant digits not above it, else r rounded down at 3: never more than the search found. */
const char *ls_report_fmt_atleast(double r, char *buf, size_t size);
/* Whether a capacity is only a lower bound: searched (cap > 0) in a file that has
 * capacity_fail_rps (schema 6 on) and never missed the SLO (fail NaN). */
bool ls_report_cap_atleast(const ls_results *res, double cap, double fail);

/* Value of an entry's metric. */
double ls_report_v(const ls_report_entry *x, ls_metric_id id);
/* Goodput (or capacity) per GPU; NaN when undefined. */
double ls_report_per_gpu(const ls_report_entry *x, ls_metric_id id);
/* Same model and same traffic (prompt and output distributions): capacities
 * are compared only between such configurations (a family of a study may
 * serve other prompts, e.g. behind shared system prompts). */
bool ls_report_same_traffic(const ls_report_entry *a, const ls_report_entry *b);

/* "gh200-nvl32, fp8": the entry's label axes other than parallelism ("" when none). */
const char *ls_report_variant(const ls_report *r, const ls_report_entry *x, char *buf, size_t size);
/* The same over a given list of /configs columns. */
const char *ls_report_variant_of(const int *axes, size_t n_axes, const ls_report_entry *x, char *buf,
                                 size_t size);
/* "TP=8 (gh200-nvl32, fp8)". */
const char *ls_report_who(const ls_report *r, const ls_report_entry *x, char *buf, size_t size);
/* The same over `axes` less the columns named in `skip` (NULL-terminated). */
const char *ls_report_who_except(const int *axes, size_t n_axes, const char *const *skip, const ls_report_entry *x,
                                 char *buf, size_t size);
/* The same with the capacity table's columns (r->cap_axes: the --by axes too). */
const char *ls_report_cap_who(const ls_report *r, const ls_report_entry *x, char *buf, size_t size);

/* Header name of a /configs column in tables ("strategy" for parallelism). */
const char *ls_report_axis_header(int col);

/* Every entry of every group of `r` with a fresh key_of(its /configs row),
 * sorted by key, then config_id: each run of one key is one identity (the
 * capacity key: one configuration; the baseline key: a speculative row and its
 * baseline). *n: the count. Free with ls_report_keyed_free. */
typedef struct ls_report_keyed {
    char *key;
    ls_report_entry *x;
} ls_report_keyed;
ls_report_keyed *ls_report_keyed_all(const ls_report *r, char *(*key_of)(const ls_config_row *), size_t *n);
void ls_report_keyed_free(ls_report_keyed *v, size_t n);


#endif
