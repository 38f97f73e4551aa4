/* report_format.c -- print a report as aligned text, Markdown or CSV.
 *
 * Text and Markdown share one table model (header, unit line, cells, and
 * for rows that did not run a reason spanning the metric columns); CSV is
 * flat, one row per configuration with every column in SI units. */
#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fidelity_band.h"
#include "recommend.h"
#include "report_internal.h"
#include "spec_report.h"

#define MAX_COLS 32
#define TEXT_WIDTH 100

typedef struct table {
    size_t n_cols, n_label;     /* label columns come first, left-aligned */
    size_t span_from;           /* first column a spanning reason replaces */
    const char *head[MAX_COLS];
    const char *unit[MAX_COLS];
    size_t n_rows, cap;
    char **cells;               /* n_rows * n_cols, NULL in spanned rows after the label */
    char **span;                /* per row: text spanning the metric columns, or NULL */
} table;

static void table_init(table *t)
{
    memset(t, 0, sizeof *t);
}

static void col(table *t, const char *head, const char *unit)
{
    assert(t->n_cols < MAX_COLS);
    t->head[t->n_cols] = head;
    t->unit[t->n_cols] = unit;
    t->n_cols++;
}

static char **row_new(table *t)
{
    if (t->n_rows == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 16;
        t->cells = ls_xrealloc(t->cells, t->cap * MAX_COLS * sizeof *t->cells);
        t->span = ls_xrealloc(t->span, t->cap * sizeof *t->span);
    }
    char **r = &t->cells[t->n_rows * MAX_COLS];
    memset(r, 0, MAX_COLS * sizeof *r);
    t->span[t->n_rows] = NULL;
    t->n_rows++;
    return r;
}

static void table_free(table *t)
{
    for (size_t i = 0; i < t->n_rows; i++) {
        for (size_t c = 0; c < MAX_COLS; c++)
            free(t->cells[i * MAX_COLS + c]);
        free(t->span[i]);
    }
    free(t->cells);
    free(t->span);
}

static void wrap_from(FILE *f, const char *first, size_t first_len, const char *indent, const char *s);

static void text_table(FILE *f, const table *t)
{
    size_t w[MAX_COLS];
    for (size_t c = 0; c < t->n_cols; c++) {
        w[c] = strlen(t->head[c]);
        if (strlen(t->unit[c]) > w[c])
            w[c] = strlen(t->unit[c]);
        for (size_t i = 0; i < t->n_rows; i++) {
            const char *s = t->cells[i * MAX_COLS + c];
            if (s && strlen(s) > w[c])
                w[c] = strlen(s);
        }
    }
    for (int line = 0; line < 2; line++) {
        for (size_t c = 0; c < t->n_cols; c++) {
            const char *s = line ? t->unit[c] : t->head[c];
            fprintf(f, c < t->n_label ? "%s%-*s" : "%s%*s", c ? " " : "", (int)w[c], s);
        }
        fputc('\n', f);
    }
    for (size_t i = 0; i < t->n_rows; i++) {
        size_t len = 0;
        for (size_t c = 0; c < t->n_cols; c++) {
            const char *s = t->cells[i * MAX_COLS + c];
            if (c >= t->span_from && t->span[i]) {
                /* the reason in full, wrapped under itself to stay inside the page */
                size_t at = len + 1;
                if (at > TEXT_WIDTH - 30)
                    at = 4;
                char *indent = ls_xmalloc(at + 1);
                memset(indent, ' ', at);
                indent[at] = '\0';
                wrap_from(f, " ", len + 1, indent, t->span[i]);
                free(indent);
                break;
            }
            int n = fprintf(f, c < t->n_label ? "%s%-*s" : "%s%*s", c ? " " : "", (int)w[c],
                            s ? s : "");
            len += (size_t)n;
        }
        if (!t->span[i] || t->span_from >= t->n_cols)
            fputc('\n', f);
    }
}

static void md_cell(FILE *f, const char *s)
{
    fputc(' ', f);
    for (; *s; s++) {
        if (*s == '|')
            fputc('\\', f);
        fputc(*s, f);
    }
    fputs(" |", f);
}

static void md_table(FILE *f, const table *t)
{
    fputc('|', f);
    for (size_t c = 0; c < t->n_cols; c++) {
        char h[96];
        if (t->unit[c][0])
            snprintf(h, sizeof h, "%s (%s)", t->head[c], t->unit[c]);
        else
            snprintf(h, sizeof h, "%s", t->head[c]);
        md_cell(f, h);
    }
    fputs("\n|", f);
    for (size_t c = 0; c < t->n_cols; c++)
        fputs(c < t->n_label ? "---|" : "---:|", f);
    fputc('\n', f);
    for (size_t i = 0; i < t->n_rows; i++) {
        fputc('|', f);
        for (size_t c = 0; c < t->n_cols; c++) {
            const char *s = t->cells[i * MAX_COLS + c];
            if (c >= t->span_from && t->span[i])
                s = (c == t->n_cols - 1) ? t->span[i] : "-";
            md_cell(f, s ? s : "");
        }
        fputc('\n', f);
    }
}

static char *dup_lat(double v)
{
    char b[24];
    return ls_xstrdup(ls_report_fmt_lat(v, b, sizeof b));
}
static char *dup_rate(double v)
{
    char b[24];
    return ls_xstrdup(ls_report_fmt_rate(v, b, sizeof b));
}
static char *dup_pct(double v)
{
    char b[24];
    return ls_xstrdup(ls_report_fmt_pct(v, b, sizeof b));
}
static char *dup_cnt(double v)
{
    char b[32];
    return ls_xstrdup(ls_report_fmt_count(v, b, sizeof b));
}

/* Label cells and columns over a list of /configs columns: the report's axes
 * (r->axes) for the per-load tables, r->cap_axes for the capacity table. */
static size_t axis_cells(const int *axes, size_t n, const ls_report_entry *x, char **cells)
{
    for (size_t a = 0; a < n; a++) {
        char v[LS_CFG_LONGSTR + 1];
        cells[a] = ls_xstrdup(ls_results_cfg_text(x->row, ls_config_columns[axes[a]].name, v, sizeof v));
    }
    return n;
}

static void axis_cols(const int *axes, size_t n, table *t)
{
    for (size_t a = 0; a < n; a++)
        col(t, ls_report_axis_header(axes[a]), "");
    t->n_label = n;
    t->span_from = n;
}

static size_t label_cells(const ls_report *r, const ls_report_entry *x, char **cells)
{
    return axis_cells(r->axes, r->n_axes, x, cells);
}

static void label_cols(const ls_report *r, table *t)
{
    axis_cols(r->axes, r->n_axes, t);
}

static char *not_run_text(const ls_report_entry *x)
{
    if (!x->row->has_result)
        return ls_xstrdup("pending: not finished");
    const ls_metrics *m = &x->row->m;
    return ls_report_strf("%s%s%s", ls_run_status_name(m->status), m->message[0] ? ": " : "",
                          m->message);
}

static void main_table(const ls_report *r, const ls_report_group *g, table *t)
{
    table_init(t);
    label_cols(r, t);
    col(t, "GPUs", "");
    t->span_from = t->n_cols; /* the GPU count stays visible on rows that did not run */
    col(t, "succ", "%");
    col(t, "thrpt", "req/s");
    col(t, "goodput", "req/s");
    col(t, "/GPU", "req/s");
    col(t, "TTFT", "p50");
    col(t, "TTFT", "p99");
    col(t, "TPOT", "p50");
    col(t, "TPOT", "p99");
    col(t, "E2E", "p99");
    col(t, "SLO", "");
    for (size_t i = 0; i < g->n; i++) {
        const ls_report_entry *x = &g->e[i];
        char **c = row_new(t);
        size_t k = label_cells(r, x, c);
        c[k++] = dup_cnt((double)x->row->cfg.n_gpus);
        if (!x->row->has_result || x->row->m.status != LS_RUN_OK) {
            t->span[t->n_rows - 1] = not_run_text(x);
            continue;
        }
        c[k++] = dup_pct(ls_report_v(x, LS_M_SUCCESS_RATE));
        c[k++] = dup_rate(ls_report_v(x, LS_M_THROUGHPUT_RPS));
        c[k++] = dup_rate(ls_report_v(x, LS_M_GOODPUT_RPS));
        c[k++] = dup_rate(ls_report_per_gpu(x, LS_M_GOODPUT_RPS));
        c[k++] = dup_lat(ls_report_v(x, LS_M_TTFT_P50_S));
        c[k++] = dup_lat(ls_report_v(x, LS_M_TTFT_P99_S));
        c[k++] = dup_lat(ls_report_v(x, LS_M_TPOT_P50_S));
        c[k++] = dup_lat(ls_report_v(x, LS_M_TPOT_P99_S));
        c[k++] = dup_lat(ls_report_v(x, LS_M_E2E_P99_S));
        c[k++] = x->violations ? ls_xstrdup(ls_loss_short(x->loss))
                               : ls_report_strf("#%d", x->rank_goodput);
    }
}

static void failure_table(const ls_report *r, const ls_report_group *g, table *t)
{
    table_init(t);
    label_cols(r, t);
    col(t, "reqs", "");
    col(t, "done", "");
    col(t, "too", "long");
    col(t, "no", "KV");
    col(t, "time", "out");
    col(t, "unfin", "");
    col(t, "preempt", "");
    col(t, "KV", "blocks");
    col(t, "KV max", "%");
    col(t, "queue", "p99");
    col(t, "batch", "mean");
    for (size_t i = 0; i < g->n; i++) {
        const ls_report_entry *x = &g->e[i];
        if (!x->row->has_result || x->row->m.status != LS_RUN_OK)
            continue;
        char **c = row_new(t);
        size_t k = label_cells(r, x, c);
        c[k++] = dup_cnt(ls_report_v(x, LS_M_N_REQUESTS));
        c[k++] = dup_cnt(ls_report_v(x, LS_M_N_COMPLETED));
        c[k++] = dup_cnt(ls_report_v(x, LS_M_N_REJECTED_TOO_LONG));
        c[k++] = dup_cnt(ls_report_v(x, LS_M_N_REJECTED_KV));
        c[k++] = dup_cnt(ls_report_v(x, LS_M_N_TIMEOUT));
        c[k++] = dup_cnt(ls_report_v(x, LS_M_N_UNFINISHED));
        c[k++] = dup_cnt(ls_report_v(x, LS_M_N_PREEMPTIONS));
        c[k++] = dup_cnt(ls_report_v(x, LS_M_KV_BLOCKS));
        c[k++] = dup_pct(ls_report_v(x, LS_M_KV_USAGE_MAX));
        c[k++] = dup_lat(ls_report_v(x, LS_M_QUEUE_P99_S));
        char b[24];
        snprintf(b, sizeof b, "%.1f", ls_report_v(x, LS_M_MEAN_BATCH_SIZE));
        c[k++] = ls_xstrdup(b);
    }
}

/* Disaggregated prefill/decode rows (docs/ENGINE.md): where TTFT goes, how busy each pool is. */
static void pools_table(const ls_report *r, const ls_report_group *g, table *t)
{
    table_init(t);
    label_cols(r, t);
    col(t, "prefill", "TTFT");
    col(t, "handoff", "mean");
    col(t, "handoff", "p99");
    col(t, "wire", "mean");
    col(t, "decode", "1st tok");
    col(t, "prefill", "busy %");
    col(t, "decode", "busy %");
    col(t, "decode", "KV %");
    for (size_t i = 0; i < g->n; i++) {
        const ls_report_entry *x = &g->e[i];
        if (!x->row->has_result || x->row->m.status != LS_RUN_OK || isnan(ls_report_v(x, LS_M_PREFILL_UTILIZATION)))
            continue;
        char **c = row_new(t);
        size_t k = label_cells(r, x, c);
        c[k++] = dup_lat(ls_report_v(x, LS_M_PREFILL_TTFT_MEAN_S));
        c[k++] = dup_lat(ls_report_v(x, LS_M_KV_TRANSFER_MEAN_S));
        c[k++] = dup_lat(ls_report_v(x, LS_M_KV_TRANSFER_P99_S));
        c[k++] = dup_lat(ls_report_v(x, LS_M_KV_WIRE_MEAN_S));
        c[k++] = dup_lat(ls_report_v(x, LS_M_DECODE_FIRST_TOKEN_MEAN_S));
        c[k++] = dup_pct(ls_report_v(x, LS_M_PREFILL_UTILIZATION));
        c[k++] = dup_pct(ls_report_v(x, LS_M_DECODE_UTILIZATION));
        c[k++] = dup_pct(ls_report_v(x, LS_M_DECODE_KV_USAGE_MEAN));
    }
}

/* Speculative rows against their baselines, one series after another, by
 * listed rate (spec_report.h): the gains and what moves them (batch, tokens a
 * step yields). */
static void spec_table(const ls_report *r, const ls_spec_study *st, table *t)
{
    /* the report's label axes, and the speculative column even where --by took it out */
    int axes[LS_CONFIG_COLUMN_COUNT], spec = ls_results_cfg_column("speculative");
    size_t na = 0;
    bool has = false;
    for (size_t a = 0; a < r->n_axes; a++) {
        axes[na++] = r->axes[a];
        has = has || r->axes[a] == spec;
    }
    if (!has)
        axes[na++] = spec;
    table_init(t);
    axis_cols(axes, na, t);
    col(t, "load", "req/s");
    col(t, "batch", "plain");
    col(t, "tok", "/step");
    col(t, "TPOT", "plain");
    col(t, "TPOT", "spec");
    col(t, "TPOT", "gain");
    col(t, "TTFT", "gain");
    col(t, "thrpt", "gain");
    for (size_t i = 0; i < st->n; i++)
        for (size_t j = 0; j < st->s[i].n; j++) {
            const ls_spec_point *p = &st->s[i].p[j];
            const ls_report_entry *x = p->x, *b = x->baseline;
            char **c = row_new(t);
            size_t k = axis_cells(axes, na, x, c);
            c[k++] = isnan(p->rate) ? ls_xstrdup("trace") : ls_report_strf("%g", p->rate);
            c[k++] = ls_report_strf("%.1f", ls_report_v(b, LS_M_MEAN_BATCH_SIZE));
            c[k++] = ls_report_strf("%.2f", ls_report_v(x, LS_M_SPEC_MEAN_ACCEPTED_TOKENS));
            c[k++] = dup_lat(ls_report_v(b, LS_M_TPOT_MEAN_S));
            c[k++] = dup_lat(ls_report_v(x, LS_M_TPOT_MEAN_S));
            c[k++] = ls_report_strf("%.2fx", p->gain);
            c[k++] = ls_report_strf("%.2fx", ls_report_v(x, LS_M_SPEC_TTFT_GAIN));
            c[k++] = ls_report_strf("%.2fx", ls_report_v(x, LS_M_SPEC_THROUGHPUT_GAIN));
        }
}

/* Request classes (workload.classes, docs/TRACES.md): one row per configuration
 * and class it defines, the class named from the /configs column `classes`. */
static void classes_table(const ls_report *r, const ls_report_group *g, table *t)
{
    enum { STRIDE = LS_M_C1_N_REQUESTS - LS_M_C0_N_REQUESTS };
    table_init(t);
    label_cols(r, t);
    col(t, "class", "");
    col(t, "TTFT", "p50");
    col(t, "TTFT", "p99");
    col(t, "TPOT", "p50");
    col(t, "TPOT", "p99");
    col(t, "goodput", "req/s");
    col(t, "SLO", "met %");
    for (size_t i = 0; i < g->n; i++) {
        const ls_report_entry *x = &g->e[i];
        if (!x->row->has_result || x->row->m.status != LS_RUN_OK)
            continue;
        char names[LS_CFG_LONGSTR + 1];
        ls_results_cfg_text(x->row, "classes", names, sizeof names);
        char *save = NULL, *tok = strtok_r(names, " ", &save);
        for (int k = 0; tok && k < LS_SCHEMA_CLASSES; k++, tok = strtok_r(NULL, " ", &save)) {
            int m0 = LS_M_C0_N_REQUESTS + k * STRIDE;
            if (!(ls_report_v(x, m0) > 0))
                continue;
            char *colon = strchr(tok, ':');
            if (colon)
                *colon = '\0';
            char **c = row_new(t);
            size_t n = label_cells(r, x, c);
            c[n++] = ls_xstrdup(tok);
            c[n++] = dup_lat(ls_report_v(x, m0 + (LS_M_C0_TTFT_P50_S - LS_M_C0_N_REQUESTS)));
            c[n++] = dup_lat(ls_report_v(x, m0 + (LS_M_C0_TTFT_P99_S - LS_M_C0_N_REQUESTS)));
            c[n++] = dup_lat(ls_report_v(x, m0 + (LS_M_C0_TPOT_P50_S - LS_M_C0_N_REQUESTS)));
            c[n++] = dup_lat(ls_report_v(x, m0 + (LS_M_C0_TPOT_P99_S - LS_M_C0_N_REQUESTS)));
            c[n++] = dup_rate(ls_report_v(x, m0 + (LS_M_C0_GOODPUT_RPS - LS_M_C0_N_REQUESTS)));
            c[n++] = dup_pct(ls_report_v(x, m0 + (LS_M_C0_SLO_ATTAINMENT - LS_M_C0_N_REQUESTS)));
        }
    }
}

/* Capacity rows: by model and traffic (in order of first appearance), then capacity per
 * GPU, then capacity, descending; then config id. */
typedef struct cap_row {
    const ls_report_entry *x;
    size_t model;               /* index of its model in order of appearance */
    double cap, per;
    size_t rank, rank_gpu;      /* within its model */
} cap_row;

static int cmp_cap_gpu(const void *pa, const void *pb)
{
    const cap_row *a = pa, *b = pb;
    if (a->model != b->model)
        return a->model < b->model ? -1 : 1;
    if (isnan(a->per) != isnan(b->per)) /* no capacity: last in its model */
        return isnan(a->per) ? 1 : -1;
    if (a->per != b->per)
        return a->per > b->per ? -1 : 1;
    if (a->cap != b->cap)
        return a->cap > b->cap ? -1 : 1;
    return (a->x->row->config_id > b->x->row->config_id) - (a->x->row->config_id < b->x->row->config_id);
}

static int cmp_cap_total(const void *pa, const void *pb)
{
    const cap_row *a = *(const cap_row *const *)pa, *b = *(const cap_row *const *)pb;
    if (a->model != b->model)
        return a->model < b->model ? -1 : 1;
    if (isnan(a->cap) != isnan(b->cap))
        return isnan(a->cap) ? 1 : -1;
    if (a->cap != b->cap)
        return a->cap > b->cap ? -1 : 1;
    return (a->x->row->config_id > b->x->row->config_id) - (a->x->row->config_id < b->x->row->config_id);
}

static void capacity_table(const ls_report *r, table *t)
{
    table_init(t);
    axis_cols(r->cap_axes, r->n_cap_axes, t);
    col(t, "GPUs", "");
    t->span_from = t->n_cols; /* rows without a capacity say why after their GPU count */
    col(t, "capacity", "req/s");
    col(t, "/GPU", "req/s");
    col(t, "rank", "");
    col(t, "rank", "/GPU");
    size_t total = 0;
    for (size_t g = 0; g < r->n_groups; g++)
        total += r->groups[g].n;
    cap_row *v = ls_xcalloc(total + 1, sizeof *v);
    size_t n = 0;
    /* one row per configuration: its representative listing (report.c, assign_capacity),
     * taken in config id order so that models number in order of appearance */
    for (size_t g = 0; g < r->n_groups; g++)
        for (size_t i = 0; i < r->groups[g].n; i++)
            if (r->groups[g].e[i].capacity_rep)
                v[n++].x = &r->groups[g].e[i];
    /* a model with several traffics (a family serving other prompts) ranks each apart */
    const ls_report_entry **models = ls_xcalloc(n + 1, sizeof *models);
    size_t n_models = 0;
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        while (k < n_models && !ls_report_same_traffic(models[k], v[i].x))
            k++;
        if (k == n_models)
            models[n_models++] = v[i].x;
        v[i].model = k;
        v[i].cap = ls_report_v(v[i].x, LS_M_CAPACITY_RPS);
        v[i].per = ls_report_per_gpu(v[i].x, LS_M_CAPACITY_RPS);
    }
    free(models);
    /* ranks within the model and traffic: comparing a 70B with an 8B model, or other prompts, says nothing */
    qsort(v, n, sizeof *v, cmp_cap_gpu);
    cap_row **by_total = ls_xcalloc(n + 1, sizeof *by_total);
    for (size_t i = 0; i < n; i++) {
        v[i].rank_gpu = (i && v[i - 1].model == v[i].model) ? v[i - 1].rank_gpu + 1 : 1;
        by_total[i] = &v[i];
    }
    qsort(by_total, n, sizeof *by_total, cmp_cap_total);
    for (size_t i = 0; i < n; i++)
        by_total[i]->rank = (i && by_total[i - 1]->model == by_total[i]->model) ? by_total[i - 1]->rank + 1 : 1;
    free(by_total);
    for (size_t i = 0; i < n; i++) {
        char **c = row_new(t);
        size_t k = axis_cells(r->cap_axes, r->n_cap_axes, v[i].x, c);
        c[k++] = dup_cnt((double)v[i].x->row->cfg.n_gpus);
        if (isnan(v[i].cap)) { /* why it has none */
            const ls_result_row *w = v[i].x->row;
            t->span[t->n_rows - 1] = (w->has_result && w->m.status == LS_RUN_OK)
                                         ? ls_report_strf("no capacity%s%s", w->m.message[0] ? ": " : "",
                                                          w->m.message)
                                         : not_run_text(v[i].x);
            continue;
        }
        double fail = ls_report_v(v[i].x, LS_M_CAPACITY_FAIL_RPS);
        if (v[i].cap == 0 && fail > 0 && isfinite(fail)) { /* "< the rate it was missed at" (the floor) */
            char b[32];
            double fail_gpu = ls_report_per_gpu(v[i].x, LS_M_CAPACITY_FAIL_RPS);
            c[k++] = ls_xstrdup(ls_report_fmt_below(fail, b, sizeof b));
            c[k++] = isfinite(fail_gpu) ? ls_xstrdup(ls_report_fmt_below(fail_gpu, b, sizeof b)) : dup_rate(NAN);
        } else if (ls_report_cap_atleast(r->res, v[i].cap, fail)) { /* ">= the last rate probed": never missed */
            char b[32];
            c[k++] = ls_xstrdup(ls_report_fmt_atleast(v[i].cap, b, sizeof b));
            c[k++] = isfinite(v[i].per) ? ls_xstrdup(ls_report_fmt_atleast(v[i].per, b, sizeof b)) : dup_rate(NAN);
        } else {
            c[k++] = dup_rate(v[i].cap);
            c[k++] = dup_rate(v[i].per);
        }
        /* 0 req/s: even the lowest rate tried misses the SLO; not ranked */
        c[k++] = v[i].cap > 0 ? ls_report_strf("%zu", v[i].rank) : ls_xstrdup("-");
        c[k++] = v[i].cap > 0 ? ls_report_strf("%zu", v[i].rank_gpu) : ls_xstrdup("-");
    }
    free(v);
}

/* Words of `s` wrapped to TEXT_WIDTH, the first line after `first` (which
 * ends at column first_len), the rest after `indent`. */
static void wrap_from(FILE *f, const char *first, size_t first_len, const char *indent, const char *s)
{
    fputs(first, f);
    size_t len = first_len;
    bool line_start = true;
    while (*s) {
        while (*s == ' ')
            s++;
        size_t w = strcspn(s, " ");
        if (!w)
            break;
        if (!line_start && len + 1 + w > TEXT_WIDTH) {
            fprintf(f, "\n%s", indent);
            len = strlen(indent);
        } else if (!line_start) {
            fputc(' ', f);
            len++;
        }
        fwrite(s, 1, w, f);
        /* UTF-8 continuation bytes take no column */
        for (size_t i = 0; i < w; i++)
            len += ((unsigned char)s[i] & 0xC0) != 0x80;
        line_start = false;
        s += w;
    }
    fputc('\n', f);
}

static void wrap(FILE *f, const char *first, const char *indent, const char *s)
{
    const char *nl = strrchr(first, '\n');
    wrap_from(f, first, strlen(nl ? nl + 1 : first), indent, s);
}

static void rankings_text(const ls_report *r, const ls_report_group *g, FILE *f, bool md)
{
    for (int per_gpu = 0; per_gpu < 2; per_gpu++) {
        char buf[2048];
        size_t o = 0;
        for (int rank = 1; rank <= 5; rank++)
            for (size_t i = 0; i < g->n; i++) {
                const ls_report_entry *x = &g->e[i];
                if ((per_gpu ? x->rank_goodput_gpu : x->rank_goodput) != rank || o >= sizeof buf)
                    continue;
                char who[512], v[24];
                ls_report_who(r, x, who, sizeof who);
                ls_report_fmt_rate(per_gpu ? ls_report_per_gpu(x, LS_M_GOODPUT_RPS)
                                           : ls_report_v(x, LS_M_GOODPUT_RPS),
                                   v, sizeof v);
                o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%d. %s %s", rank > 1 ? ", " : "",
                                      rank, who, v);
            }
        if (!o)
            snprintf(buf, sizeof buf, "none meets the SLO");
        /* the order is the ranking's, not plain goodput order: say so, or a
         * line such as "1. A 0.99, 2. B 1.00" reads as a mistake */
        char *line = ls_report_strf("Ranked by goodput%s (req/s; goodputs within %g%% are a tie, "
                                    "broken by lower TTFT p99): %s", per_gpu ? " per GPU" : "",
                                    100 * LS_RANK_TIE, buf);
        wrap(f, md ? "- " : "", "  ", line);
        free(line);
    }
}

/* The answer first: capacity per GPU by model, then the table it comes from. */
static void lead_section(const ls_report *r, const ls_recommendations *rec, FILE *f, bool md)
{
    if (!r->has_capacity) {
        fputc('\n', f);
        wrap(f, md ? "- " : "", "  ", "No capacity search in this file (add `capacity:` to the sweep "
             "spec for the highest rate each configuration serves): the tables compare the "
             "configurations at each listed load only, where at light load most of them tie.");
        return;
    }
    fprintf(f, md ? "\n## Capacity per GPU, by model\n\n"
                  : "\nCapacity per GPU, by model (the highest arrival rate meeting the SLO)\n");
    for (size_t i = 0; i < rec->lead.n; i++)
        wrap(f, "- ", "  ", rec->lead.s[i]);
    table t;
    capacity_table(r, &t);
    if (t.n_rows) {
        if (md)
            fputc('\n', f);
        else
            wrap(f, "\n", "", "Capacity (bisection on the arrival rate, same seed): one row per "
                 "configuration, by model and traffic, the most per GPU first; ranks within them");
        if (md)
            md_table(f, &t);
        else
            text_table(f, &t);
    }
    table_free(&t);
}

static void write_text_or_md(const ls_report *r, FILE *f, bool md)
{
    ls_recommendations *rec = ls_recommend_build(r);
    const ls_results *res = r->res;
    char ttft[24], tpot[24], succ[24];
    ls_report_fmt_lat(r->slo.ttft_p99_s, ttft, sizeof ttft);
    ls_report_fmt_lat(r->slo.tpot_p99_s, tpot, sizeof tpot);
    ls_report_fmt_pct(r->slo.min_success, succ, sizeof succ);
    if (md)
        fprintf(f, "# llmsweep report: %s\n\n", res->spec_name[0] ? res->spec_name : res->path);
    else
        fprintf(f, "llmsweep report: %s\n", res->spec_name[0] ? res->spec_name : res->path);
    fprintf(f, "%sfile %s: %zu of %zu configurations finished%s%s\n", md ? "- " : "", res->path,
            res->n_finished, res->n, res->created[0] ? ", created " : "", res->created);
    char *slo = r->slo_mixed
                    ? ls_report_strf("SLO: %s; success >= %s%% of requests", r->slo_source, succ)
                    : ls_report_strf("SLO: TTFT p99 <= %s, TPOT p99 <= %s, success >= %s%% of "
                                     "requests (%s)", ttft, tpot, succ, r->slo_source);
    wrap(f, md ? "- " : "", md ? "  " : "     ", slo);
    free(slo);
    if (r->slo_differs)
        wrap(f, md ? "- " : "", "  ", "note: goodput was computed by the runs against their own SLO "
             "(slo_ttft_s/slo_tpot_s), which differs from this one");
    fprintf(f, md ? "- latencies: p50/p99 over completed requests; SLO column: rank by goodput "
                    "among the configurations that meet the SLO, or why it misses\n"
                  : "Latencies are over completed requests. SLO column: rank by goodput among "
                    "those meeting the SLO,\nor the main reason a configuration misses it.\n");
    char band[512]; /* how far to trust the figures: bench_fidelity's held-out errors (fidelity_band.h) */
    wrap(f, md ? "- " : "", md ? "  " : "     ", ls_fidelity_band_text("roofline", band, sizeof band));
    lead_section(r, rec, f, md);
    for (size_t gi = 0; gi < r->n_groups; gi++) {
        const ls_report_group *g = &r->groups[gi];
        fputc('\n', f);
        if (md)
            fprintf(f, "## %zu. %s\n\n", gi + 1, g->title);
        else {
            char *h = ls_report_strf("== %zu/%zu: %s", gi + 1, r->n_groups, g->title);
            wrap(f, "", "   ", h);
            free(h);
        }
        table t;
        main_table(r, g, &t);
        if (md)
            md_table(f, &t);
        else
            text_table(f, &t);
        table_free(&t);
        failure_table(r, g, &t);
        if (t.n_rows) {
            fprintf(f, md ? "\n### Failures and resources\n\n" : "\nFailures and resources\n");
            if (md)
                md_table(f, &t);
            else
                text_table(f, &t);
        }
        table_free(&t);
        pools_table(r, g, &t);
        if (t.n_rows) {
            fprintf(f, md ? "\n### Disaggregated prefill/decode\n\n"
                          : "\nDisaggregated prefill/decode (TTFT = prefill TTFT + handoff + decode 1st token)\n");
            if (md)
                md_table(f, &t);
            else
                text_table(f, &t);
        }
        table_free(&t);
        classes_table(r, g, &t);
        if (t.n_rows) {
            fprintf(f, md ? "\n### Request classes\n\n" : "\nRequest classes (each against its own SLO)\n");
            if (md)
                md_table(f, &t);
            else
                text_table(f, &t);
        }
        table_free(&t);
        fprintf(f, md ? "\n### Ranking\n\n" : "\n");
        rankings_text(r, g, f, md);
        fprintf(f, md ? "\n### Recommendations\n\n" : "\nRecommendations\n");
        for (size_t i = 0; i < rec->groups[gi].n; i++)
            wrap(f, "- ", "  ", rec->groups[gi].s[i]);
    }
    ls_spec_study *st = ls_spec_study_build(r);
    if (st->n) {
        fprintf(f, md ? "\n## Speculative decoding\n\n"
                      : "\nSpeculative decoding: each speculative configuration against the same one "
                        "without it\n");
        wrap(f, md ? "" : "", "", "Same load and seed, so the same requests; TPOT is the mean over "
             "completed requests, gain = without / with (throughput: with / without), > 1 when "
             "speculation helps; batch: mean requests per step without speculation; tok/step: tokens a "
             "verification step yields per request.");
        if (md)
            fputc('\n', f);
        table t;
        spec_table(r, st, &t);
        if (md)
            md_table(f, &t);
        else
            text_table(f, &t);
        table_free(&t);
        fprintf(f, md ? "\n### Where speculation pays\n\n" : "\nWhere speculation pays\n");
        for (size_t i = 0; i < rec->spec.n; i++)
            wrap(f, "- ", "  ", rec->spec.s[i]);
    }
    ls_spec_study_free(st);
    if (rec->summary.n) {
        fprintf(f, md ? "\n## Summary\n\n" : "\nSummary\n");
        for (size_t i = 0; i < rec->summary.n; i++)
            wrap(f, "- ", "  ", rec->summary.s[i]);
    }
    ls_recommend_free(rec);
}

/* ---- CSV ------------------------------------------------------------------ */

static void csv_str(FILE *f, const char *s)
{
    if (strpbrk(s, ",\"\n\r")) {
        fputc('"', f);
        for (; *s; s++) {
            if (*s == '"')
                fputc('"', f);
            fputc(*s, f);
        }
        fputc('"', f);
    } else {
        fputs(s, f);
    }
}

static void csv_num(FILE *f, double v)
{
    if (!isnan(v))
        fprintf(f, "%.17g", v);
}

static void write_csv(const ls_report *r, FILE *f)
{
    fputs("group,workload_group,config_id,config_hash", f);
    for (int c = 0; c < LS_CONFIG_COLUMN_COUNT; c++)
        fprintf(f, ",%s", ls_config_columns[c].name);
    fputs(",status,message", f);
    for (int m = 0; m < LS_METRIC_COUNT; m++)
        fprintf(f, ",%s", ls_metric_columns[m].name);
    fputs(",goodput_per_gpu_rps,capacity_per_gpu_rps,slo_met,slo_violations,loss,rank_goodput,"
          "rank_goodput_per_gpu,rank_capacity,rank_capacity_per_gpu\n",
          f);
    for (size_t gi = 0; gi < r->n_groups; gi++) {
        const ls_report_group *g = &r->groups[gi];
        for (size_t i = 0; i < g->n; i++) {
            const ls_report_entry *x = &g->e[i];
            fprintf(f, "%zu,", gi + 1);
            csv_str(f, g->title);
            fprintf(f, ",%" PRId64 ",%s", x->row->config_id, x->row->config_hash);
            for (int c = 0; c < LS_CONFIG_COLUMN_COUNT; c++) {
                char v[LS_CFG_LONGSTR + 1];
                fputc(',', f);
                if (ls_config_columns[c].type == LS_COL_F64)
                    csv_num(f, *(const double *)((const char *)&x->row->cfg +
                                                 ls_config_columns[c].offset));
                else
                    csv_str(f, ls_results_cfg_text(x->row, ls_config_columns[c].name, v, sizeof v));
            }
            fputc(',', f);
            csv_str(f, x->row->has_result ? ls_run_status_name(x->row->m.status) : "pending");
            fputc(',', f);
            csv_str(f, x->row->m.message);
            for (int m = 0; m < LS_METRIC_COUNT; m++) {
                fputc(',', f);
                csv_num(f, ls_report_v(x, (ls_metric_id)m)); /* capacity: the configuration's one value */
            }
            fputc(',', f);
            csv_num(f, ls_report_per_gpu(x, LS_M_GOODPUT_RPS));
            fputc(',', f);
            csv_num(f, ls_report_per_gpu(x, LS_M_CAPACITY_RPS));
            char viol[64];
            snprintf(viol, sizeof viol, "%s%s%s%s", (x->violations & LS_SLO_TTFT) ? "ttft " : "",
                     (x->violations & LS_SLO_TPOT) ? "tpot " : "",
                     (x->violations & LS_SLO_SUCCESS) ? "success " : "",
                     (x->violations & LS_SLO_NOT_RUN) ? "not_run " : "");
            size_t vl = strlen(viol);
            if (vl)
                viol[vl - 1] = '\0';
            fprintf(f, ",%d,%s,%s", x->violations ? 0 : 1, viol, ls_loss_name(x->loss));
            fprintf(f, ",%d,%d,%d,%d\n", x->rank_goodput, x->rank_goodput_gpu, x->rank_capacity,
                    x->rank_capacity_gpu);
        }
    }
}

ls_status ls_report_write(const ls_report *r, ls_report_format fmt, FILE *out, ls_error *e)
{
    switch (fmt) {
    case LS_REPORT_TEXT: write_text_or_md(r, out, false); break;
    case LS_REPORT_MD: write_text_or_md(r, out, true); break;
    case LS_REPORT_CSV: write_csv(r, out); break;
    }
    if (ferror(out))
        return ls_fail(e, LS_EIO, "cannot write the report (output error)");
    return LS_OK;
}
