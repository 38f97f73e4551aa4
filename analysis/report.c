/* report.c -- group results, check the SLO, rank, and find why each configuration loses.
 *
 * The rules (documented in docs/REPORT.md):
 * - a configuration meets the SLO when it ran (`ok`), its TTFT p99 and TPOT p99
 *   are within the limits and at least min_success of ALL its requests completed
 *   (percentiles cover completed requests only, so success guards against a
 *   configuration that looks fast because it rejects most of its load);
 * - rows meeting it are ranked by goodput and by goodput per GPU;
 * - a row that misses it gets one dominant reason (ls_loss), chosen from its
 *   own counters, or by comparing it with the same configuration on another
 *   cluster (communication). */
#include "report.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "config_key.h"
#include "report_internal.h"
#include "spec_report.h"

/* /configs columns that describe the requests: rows sharing them saw the
 * same requests (same seed) and are compared in one table. */
static const char *const workload_cols[] = {"workload", "arrival_process", "arrival_rate",
                                            "arrival_cv", "prompt_dist", "output_dist",
                                            "duration_s", NULL};
/* Columns never used to label a row: derived from parallelism, or SLO settings. */
static const char *const hidden_cols[] = {"tp", "pp", "dp", "ep", "n_gpus", "slo_ttft_s", "slo_tpot_s",
                                          NULL};

/* ---- SLO ------------------------------------------------------------------ */

void ls_slo_default(ls_slo *s)
{
    s->ttft_p99_s = LS_SLO_DEFAULT_TTFT_P99_S;
    s->tpot_p99_s = LS_SLO_DEFAULT_TPOT_P99_S;
    s->min_success = LS_SLO_DEFAULT_MIN_SUCCESS;
}

void ls_slo_from_file(ls_slo *s)
{
    s->ttft_p99_s = NAN;
    s->tpot_p99_s = NAN;
    s->min_success = LS_SLO_DEFAULT_MIN_SUCCESS;
}

/* The SLO a row is judged by: the parts given, else its configuration's own,
 * else the built-in defaults (*fell_back says so). */
static ls_slo row_slo(const ls_slo *given, const ls_config_row *c, bool *from_file, bool *fell_back)
{
    ls_slo s = *given;
    if (isnan(s.ttft_p99_s)) {
        bool own = !isnan(c->slo_ttft_s) && c->slo_ttft_s > 0;
        s.ttft_p99_s = own ? c->slo_ttft_s : LS_SLO_DEFAULT_TTFT_P99_S;
        *from_file |= own;
        *fell_back |= !own;
    }
    if (isnan(s.tpot_p99_s)) {
        bool own = !isnan(c->slo_tpot_s) && c->slo_tpot_s > 0;
        s.tpot_p99_s = own ? c->slo_tpot_s : LS_SLO_DEFAULT_TPOT_P99_S;
        *from_file |= own;
        *fell_back |= !own;
    }
    return s;
}

static bool slo_equal(const ls_slo *a, const ls_slo *b)
{
    return fabs(a->ttft_p99_s - b->ttft_p99_s) <= 1e-12 && fabs(a->tpot_p99_s - b->tpot_p99_s) <= 1e-12 &&
           a->min_success == b->min_success;
}

static ls_status parse_seconds(const char *item, const char *v, double *out, ls_error *e)
{
    char *end = NULL;
    double x = strtod(v, &end);
    if (end == v || !isfinite(x) || x <= 0)
        return ls_fail(e, LS_EINVAL, "--slo: '%s': expected a positive duration such as 2s or 200ms",
                       item);
    double scale = 1;
    if (!strcmp(end, "ms"))
        scale = 1e-3;
    else if (!strcmp(end, "us"))
        scale = 1e-6;
    else if (strcmp(end, "s") && strcmp(end, ""))
        return ls_fail(e, LS_EINVAL, "--slo: '%s': unknown unit '%s' (use s, ms or us)", item, end);
    *out = x * scale;
    return LS_OK;
}

ls_status ls_slo_parse(const char *text, ls_slo *s, ls_error *e)
{
    char *copy = ls_xstrdup(text);
    ls_status rc = LS_OK;
    char *save = NULL;
    for (char *item = strtok_r(copy, ",", &save); item && rc == LS_OK;
         item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        if (!eq) {
            rc = ls_fail(e, LS_EINVAL, "--slo: '%s': expected NAME=VALUE (ttft_p99=2s)", item);
            break;
        }
        *eq = '\0';
        const char *v = eq + 1;
        if (!strcmp(item, "ttft_p99") || !strcmp(item, "ttft")) {
            rc = parse_seconds(item, v, &s->ttft_p99_s, e);
        } else if (!strcmp(item, "tpot_p99") || !strcmp(item, "tpot")) {
            rc = parse_seconds(item, v, &s->tpot_p99_s, e);
        } else if (!strcmp(item, "success")) {
            char *end = NULL;
            double x = strtod(v, &end);
            if (end && *end == '%') {
                x /= 100;
                end++;
            }
            if (end == v || *end || !(x >= 0 && x <= 1))
                rc = ls_fail(e, LS_EINVAL, "--slo: success=%s: expected a fraction in [0,1] or a "
                             "percentage", v);
            else
                s->min_success = x;
        } else {
            rc = ls_fail(e, LS_EINVAL, "--slo: unknown limit '%s' (known: ttft_p99, tpot_p99, "
                         "success)", item);
        }
    }
    free(copy);
    return rc;
}

unsigned ls_slo_violations(const ls_slo *s, const ls_metrics *m)
{
    if (m->status != LS_RUN_OK)
        return LS_SLO_TTFT | LS_SLO_TPOT | LS_SLO_SUCCESS | LS_SLO_NOT_RUN;
    unsigned v = 0;
    /* NaN (no completed request) fails every comparison: a violation */
    if (!(m->v[LS_M_TTFT_P99_S] <= s->ttft_p99_s))
        v |= LS_SLO_TTFT;
    /* TPOT is undefined when every output is one token long: nothing to violate */
    double tpot = m->v[LS_M_TPOT_P99_S];
    if (!isnan(tpot) && !(tpot <= s->tpot_p99_s))
        v |= LS_SLO_TPOT;
    if (!(m->v[LS_M_SUCCESS_RATE] >= s->min_success))
        v |= LS_SLO_SUCCESS;
    return v;
}

const char *ls_loss_short(ls_loss l)
{
    switch (l) {
    case LS_LOSS_NONE: return "ok";
    case LS_LOSS_INFEASIBLE: return "infeasible";
    case LS_LOSS_ERROR: return "error";
    case LS_LOSS_PENDING: return "pending";
    case LS_LOSS_TOO_LONG: return "too long";
    case LS_LOSS_KV: return "KV";
    case LS_LOSS_COMM: return "comm";
    case LS_LOSS_QUEUE: return "queue";
    case LS_LOSS_PREFILL: return "prefill";
    case LS_LOSS_DECODE: return "decode";
    }
    return "?";
}

const char *ls_loss_name(ls_loss l)
{
    switch (l) {
    case LS_LOSS_NONE: return "meets SLO";
    case LS_LOSS_INFEASIBLE: return "infeasible";
    case LS_LOSS_ERROR: return "error";
    case LS_LOSS_PENDING: return "pending";
    case LS_LOSS_TOO_LONG: return "too long";
    case LS_LOSS_KV: return "KV-bound";
    case LS_LOSS_COMM: return "comm-bound";
    case LS_LOSS_QUEUE: return "queueing";
    case LS_LOSS_PREFILL: return "slow prefill";
    case LS_LOSS_DECODE: return "slow decode";
    }
    return "?";
}

/* ---- grouping -------------------------------------------------------------- */

static bool in_list(const char *const *list, const char *name)
{
    for (; *list; list++)
        if (!strcmp(*list, name))
            return true;
    return false;
}

static bool column_varies(const ls_results *res, int col)
{
    char a[LS_CFG_LONGSTR + 1], b[LS_CFG_LONGSTR + 1];
    for (size_t i = 1; i < res->n; i++)
        if (strcmp(ls_results_cfg_text(&res->rows[0], ls_config_columns[col].name, a, sizeof a),
                   ls_results_cfg_text(&res->rows[i], ls_config_columns[col].name, b, sizeof b)))
            return true;
    return false;
}

/* The group key of a row: workload columns, then --by axes, joined by 0x1f. */
static void key_append(char **k, size_t *len, size_t *cap, const char *v)
{
    size_t need = *len + strlen(v) + 2;
    if (need > *cap) {
        *cap = 2 * need;
        *k = ls_xrealloc(*k, *cap);
    }
    *len += (size_t)sprintf(*k + *len, "%s\x1f", v);
}

static char *group_key(const ls_result_row *row, const ls_report_opts *o)
{
    size_t cap = 1024, len = 0;
    char *k = ls_xmalloc(cap);
    k[0] = '\0';
    char v[LS_CFG_LONGSTR + 1];
    for (size_t i = 0; workload_cols[i]; i++)
        key_append(&k, &len, &cap, ls_results_cfg_text(row, workload_cols[i], v, sizeof v));
    for (size_t i = 0; i < o->n_by; i++)
        key_append(&k, &len, &cap, ls_results_cfg_text(row, o->by[i], v, sizeof v));
    return k;
}

/* "model llama-3.1-8b, cluster dgx-h100": the group's --by values ("" without --by). */
static char *group_by_text(const ls_result_row *row, const ls_report_opts *o)
{
    char *k = ls_xstrdup("");
    for (size_t i = 0; i < o->n_by; i++) {
        char v[LS_CFG_LONGSTR + 1];
        ls_results_cfg_text(row, o->by[i], v, sizeof v);
        char *u = ls_report_strf("%s%s%s %s", k, i ? ", " : "",
                                 ls_report_axis_header(ls_results_cfg_column(o->by[i])), v);
        free(k);
        k = u;
    }
    return k;
}

static char *group_title(const ls_result_row *row, const ls_report_opts *o)
{
    char w[LS_CFG_LONGSTR + 1], ap[LS_CFG_STR + 1], pd[LS_CFG_LONGSTR + 1], od[LS_CFG_LONGSTR + 1];
    char rate[32], cv[32], dur[32], by[512] = "";
    ls_results_cfg_text(row, "workload", w, sizeof w);
    ls_results_cfg_text(row, "arrival_process", ap, sizeof ap);
    ls_results_cfg_text(row, "prompt_dist", pd, sizeof pd);
    ls_results_cfg_text(row, "output_dist", od, sizeof od);
    const ls_config_row *c = &row->cfg;
    if (isnan(c->arrival_rate))
        snprintf(rate, sizeof rate, "trace timestamps");
    else
        snprintf(rate, sizeof rate, "%g req/s", c->arrival_rate);
    cv[0] = '\0';
    if (!strcmp(ap, "gamma") && !isnan(c->arrival_cv))
        snprintf(cv, sizeof cv, " (CV %g)", c->arrival_cv);
    dur[0] = '\0';
    if (!isnan(c->duration_s))
        snprintf(dur, sizeof dur, ", %g s", c->duration_s);
    size_t o2 = 0;
    for (size_t i = 0; i < o->n_by; i++) {
        char v[LS_CFG_LONGSTR + 1];
        ls_results_cfg_text(row, o->by[i], v, sizeof v);
        o2 += (size_t)snprintf(by + o2, sizeof by - o2, "%s%s=%s", i ? ", " : " | ", o->by[i], v);
        if (o2 >= sizeof by)
            break;
    }
    if (!strcmp(w, "synthetic") || !w[0])
        return ls_report_strf("%s arrivals at %s%s%s; prompts %s; outputs %s%s", ap[0] ? ap : "?",
                              rate, cv, dur, pd[0] ? pd : "?", od[0] ? od : "?", by);
    if (isnan(c->arrival_rate))
        return ls_report_strf("trace %s at its own timestamps%s%s", w, dur, by);
    if (!strcmp(ap, "trace")) /* target_rate: the trace's times rescaled to this mean rate */
        return ls_report_strf("trace %s rescaled to %s%s%s", w, rate, dur, by);
    return ls_report_strf("trace %s, %s arrivals at %s%s%s%s", w, ap[0] ? ap : "?", rate, cv, dur, by);
}

/* ---- loss classification ------------------------------------------------- */

/* Two entries differ only by cluster (same label axes otherwise). */
static bool twins_but_cluster(const ls_report *r, const ls_report_entry *a, const ls_report_entry *b)
{
    char x[LS_CFG_LONGSTR + 1], y[LS_CFG_LONGSTR + 1];
    bool cluster_differs = false;
    for (size_t i = 0; i < r->n_axes; i++) {
        const char *name = ls_config_columns[r->axes[i]].name;
        ls_results_cfg_text(a->row, name, x, sizeof x);
        ls_results_cfg_text(b->row, name, y, sizeof y);
        if (!strcmp(name, "cluster"))
            cluster_differs = strcmp(x, y) != 0;
        else if (strcmp(x, y))
            return false;
    }
    return cluster_differs;
}

static double nz(double v)
{
    return isnan(v) ? 0 : v;
}

/* A twin on another cluster at least 30% faster on the violated latency
 * means this configuration pays for its links: communication-bound. */
#define COMM_FACTOR 1.3

static void classify(const ls_report *r, ls_report_group *g, size_t i)
{
    ls_report_entry *x = &g->e[i];
    x->comm_ref = -1;
    const ls_metrics *m = &x->row->m;
    if (!x->row->has_result) {
        x->loss = LS_LOSS_PENDING;
        return;
    }
    if (m->status == LS_RUN_INFEASIBLE) {
        x->loss = LS_LOSS_INFEASIBLE;
        return;
    }
    if (m->status != LS_RUN_OK) {
        x->loss = LS_LOSS_ERROR;
        return;
    }
    if (!x->violations) {
        x->loss = LS_LOSS_NONE;
        return;
    }
    double n = nz(m->v[LS_M_N_REQUESTS]);
    double too_long = nz(m->v[LS_M_N_REJECTED_TOO_LONG]), rej_kv = nz(m->v[LS_M_N_REJECTED_KV]);
    double lost_time = nz(m->v[LS_M_N_TIMEOUT]) + nz(m->v[LS_M_N_UNFINISHED]);
    double preempt = nz(m->v[LS_M_N_PREEMPTIONS]);
    bool heavy_preempt = n > 0 && preempt >= 0.1 * n;
    if (x->violations & LS_SLO_SUCCESS) {
        if (rej_kv >= too_long && rej_kv >= lost_time && rej_kv > 0) {
            x->loss = LS_LOSS_KV;
            return;
        }
        if (too_long > lost_time && too_long > 0) {
            /* rejected prompts are a property of the model's context; a latency miss on
             * top says more about the strategy */
            if (!(x->violations & (LS_SLO_TTFT | LS_SLO_TPOT))) {
                x->loss = LS_LOSS_TOO_LONG;
                return;
            }
        } else {
            x->loss = heavy_preempt ? LS_LOSS_KV : LS_LOSS_QUEUE;
            return;
        }
    }
    /* latency violations: first look for a faster twin on another topology */
    ls_metric_id lat = (x->violations & LS_SLO_TPOT) ? LS_M_TPOT_P99_S : LS_M_TTFT_P99_S;
    double mine = m->v[lat];
    for (size_t j = 0; j < g->n; j++) {
        const ls_report_entry *y = &g->e[j];
        if (j == i || y->row->m.status != LS_RUN_OK || !twins_but_cluster(r, x, y))
            continue;
        double theirs = y->row->m.v[lat];
        if (theirs > 0 && mine >= COMM_FACTOR * theirs &&
            (x->comm_ref < 0 || theirs < g->e[x->comm_ref].row->m.v[lat]))
            x->comm_ref = (int)j;
    }
    if (x->comm_ref >= 0) {
        x->loss = LS_LOSS_COMM;
        return;
    }
    if (heavy_preempt) {
        x->loss = LS_LOSS_KV;
        return;
    }
    if (x->violations & LS_SLO_TTFT) {
        double q = m->v[LS_M_QUEUE_P99_S], t = m->v[LS_M_TTFT_P99_S];
        x->loss = (q >= 0.5 * t) ? LS_LOSS_QUEUE : LS_LOSS_PREFILL;
        return;
    }
    x->loss = LS_LOSS_DECODE;
}

/* Display order: SLO-meeting by goodput, then ran-but-missed by goodput, then
 * pending, infeasible, error; ties by config id. */
static int order_class(const ls_report_entry *x)
{
    if (!x->violations)
        return 0;
    if (x->row->has_result && x->row->m.status == LS_RUN_OK)
        return 1;
    if (!x->row->has_result)
        return 2;
    return x->row->m.status == LS_RUN_INFEASIBLE ? 3 : 4;
}

static int desc(double a, double b)
{
    a = isnan(a) ? -1 : a;
    b = isnan(b) ? -1 : b;
    return (a < b) - (a > b);
}

static int cmp_entry(const void *pa, const void *pb)
{
    const ls_report_entry *a = pa, *b = pb;
    int ca = order_class(a), cb = order_class(b);
    if (ca != cb)
        return ca - cb;
    if (ca == 0 && a->rank_goodput != b->rank_goodput)
        return a->rank_goodput - b->rank_goodput;
    int d = desc(a->row->m.v[LS_M_GOODPUT_RPS], b->row->m.v[LS_M_GOODPUT_RPS]);
    if (d)
        return d;
    d = desc(a->row->m.v[LS_M_SUCCESS_RATE], b->row->m.v[LS_M_SUCCESS_RATE]);
    if (d)
        return d;
    return (a->row->config_id > b->row->config_id) - (a->row->config_id < b->row->config_id);
}

/* Goodputs within this relative distance of a better one are a tie: the
 * simulation's own noise (one seed) is larger than that, so lower TTFT p99
 * decides between them. */

typedef struct rank_item {
    ls_report_entry *x;
    double key;
    double tie;     /* key of the class leader */
} rank_item;

static int cmp_key_desc(const void *pa, const void *pb)
{
    const rank_item *a = pa, *b = pb;
    if (a->key != b->key)
        return a->key > b->key ? -1 : 1;
    return (a->x->row->config_id > b->x->row->config_id) - (a->x->row->config_id < b->x->row->config_id);
}

static int cmp_class_then_ttft(const void *pa, const void *pb)
{
    const rank_item *a = pa, *b = pb;
    if (a->tie != b->tie)
        return a->tie > b->tie ? -1 : 1;
    double ta = a->x->row->m.v[LS_M_TTFT_P99_S], tb = b->x->row->m.v[LS_M_TTFT_P99_S];
    if (ta != tb && !isnan(ta) && !isnan(tb))
        return ta < tb ? -1 : 1;
    return cmp_key_desc(pa, pb);
}

/* Rank the entries with a defined key (meeting the SLO when need_slo) by
 * descending key, 1-based; with `ties`, keys within LS_RANK_TIE of their
 * class leader (greedy from the top) are ordered by TTFT p99. */
static void rank_by(ls_report_group *g, bool need_slo, bool ties, double (*key)(const ls_report_entry *),
                    size_t field)
{
    rank_item *v = ls_xcalloc(g->n + 1, sizeof *v);
    size_t n = 0;
    for (size_t i = 0; i < g->n; i++) {
        ls_report_entry *x = &g->e[i];
        *(int *)((char *)x + field) = 0;
        double k = key(x);
        if ((need_slo && x->violations) || isnan(k))
            continue;
        v[n].x = x;
        v[n].key = k;
        n++;
    }
    qsort(v, n, sizeof *v, cmp_key_desc);
    for (size_t i = 0; i < n; i++) {
        bool joins = ties && i > 0 && v[i].key >= v[i - 1].tie * (1 - LS_RANK_TIE);
        v[i].tie = joins ? v[i - 1].tie : v[i].key;
    }
    if (ties)
        qsort(v, n, sizeof *v, cmp_class_then_ttft);
    for (size_t i = 0; i < n; i++)
        *(int *)((char *)v[i].x + field) = (int)i + 1;
    free(v);
}

static double key_goodput(const ls_report_entry *x)
{
    return ls_report_v(x, LS_M_GOODPUT_RPS);
}
static double key_goodput_gpu(const ls_report_entry *x)
{
    return ls_report_per_gpu(x, LS_M_GOODPUT_RPS);
}
static double key_capacity(const ls_report_entry *x)
{
    return x->row->has_result ? ls_report_v(x, LS_M_CAPACITY_RPS) : NAN;
}

/* One capacity per configuration: every listing of it (same
 * ls_config_row_capacity_key: every /configs column but the listed rate) takes
 * the value of the listing with the lowest config_id that has one, the rule
 * docs/REPORT.md states and analysis/plot.py applies too. A sweep searches only
 * that listing (mpi/sweep_engine.c); files written before hold one per listing. */
static void assign_capacity(ls_report *r)
{
    size_t n;
    ls_report_keyed *v = ls_report_keyed_all(r, ls_config_row_capacity_key, &n);
    for (size_t i = 0; i < n; i++) {
        v[i].x->capacity = NAN;
        v[i].x->capacity_fail = NAN;
        v[i].x->capacity_rep = false;
    }
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && !strcmp(v[j].key, v[i].key))
            j++;
        const ls_report_entry *rep = NULL;
        for (size_t k = i; k < j && !rep; k++) {
            const ls_result_row *w = v[k].x->row;
            if (w->has_result && !isnan(w->m.v[LS_M_CAPACITY_RPS]))
                rep = v[k].x;
        }
        for (size_t k = i; rep && k < j; k++) {
            v[k].x->capacity = rep->row->m.v[LS_M_CAPACITY_RPS];
            v[k].x->capacity_fail = rep->row->m.v[LS_M_CAPACITY_FAIL_RPS];
            v[k].x->capacity_rep = rep == v[k].x;
        }
        /* none (infeasible, failed, pending): its first listing stands for it in
         * the capacity table, which says why, so the table loses no configuration */
        if (!rep)
            v[i].x->capacity_rep = true;
        i = j;
    }
    ls_report_keyed_free(v, n);
}
/* The capacity table's label columns: parallelism, then every column that
 * varies among its rows (one per configuration), the --by axes included. */
static void cap_axes(ls_report *r)
{
    static const char *const derived[] = {"parallelism", "tp", "pp", "dp", "ep", "n_gpus", "arrival_rate",
                                          NULL};
    int par = ls_results_cfg_column("parallelism");
    r->n_cap_axes = 0;
    r->cap_axes[r->n_cap_axes++] = par;
    for (int c = 0; c < LS_CONFIG_COLUMN_COUNT; c++) {
        const char *name = ls_config_columns[c].name;
        if (in_list(derived, name))
            continue;
        const ls_report_entry *first = NULL;
        bool varies = false;
        char a[LS_CFG_LONGSTR + 1], b[LS_CFG_LONGSTR + 1];
        for (size_t g = 0; g < r->n_groups && !varies; g++)
            for (size_t i = 0; i < r->groups[g].n && !varies; i++) {
                const ls_report_entry *x = &r->groups[g].e[i];
                if (!x->capacity_rep)
                    continue;
                if (!first)
                    first = x;
                else
                    varies = strcmp(ls_results_cfg_text(first->row, name, a, sizeof a),
                                    ls_results_cfg_text(x->row, name, b, sizeof b)) != 0;
            }
        if (varies)
            r->cap_axes[r->n_cap_axes++] = c;
    }
}

static double key_capacity_gpu(const ls_report_entry *x)
{
    return x->row->has_result ? ls_report_per_gpu(x, LS_M_CAPACITY_RPS) : NAN;
}

ls_status ls_report_build(const ls_results *res, const ls_report_opts *o, ls_report **out,
                          ls_error *e)
{
    *out = NULL;
    for (size_t i = 0; i < o->n_by; i++)
        if (ls_results_cfg_column(o->by[i]) < 0) {
            char known[2048];
            size_t k = 0;
            for (int c = 0; c < LS_CONFIG_COLUMN_COUNT && k < sizeof known; c++)
                k += (size_t)snprintf(known + k, sizeof known - k, "%s%s", c ? ", " : "",
                                      ls_config_columns[c].name);
            return ls_fail(e, LS_EINVAL, "--by: unknown axis '%s' (known: %s)", o->by[i], known);
        }
    ls_report *r = ls_xcalloc(1, sizeof *r);
    r->res = res;
    bool from_file = false, fell_back = false;
    ls_slo first = {0};

    /* label axes: parallelism first, then every other column that varies */
    int par = ls_results_cfg_column("parallelism");
    r->axes[r->n_axes++] = par;
    for (int c = 0; c < LS_CONFIG_COLUMN_COUNT; c++) {
        const char *name = ls_config_columns[c].name;
        if (c == par || in_list(workload_cols, name) || in_list(hidden_cols, name))
            continue;
        bool is_by = false;
        for (size_t i = 0; i < o->n_by; i++)
            is_by |= !strcmp(o->by[i], name);
        if (!is_by && column_varies(res, c))
            r->axes[r->n_axes++] = c;
    }

    /* groups, in order of first appearance */
    char **keys = ls_xcalloc(res->n + 1, sizeof *keys);
    size_t *gi = ls_xcalloc(res->n + 1, sizeof *gi);
    r->groups = ls_xcalloc(res->n + 1, sizeof *r->groups);
    for (size_t i = 0; i < res->n; i++) {
        char *k = group_key(&res->rows[i], o);
        size_t g = 0;
        while (g < r->n_groups && strcmp(keys[g], k))
            g++;
        if (g == r->n_groups) {
            keys[g] = k;
            r->groups[g].title = group_title(&res->rows[i], o);
            r->groups[g].by = group_by_text(&res->rows[i], o);
            r->groups[g].e = ls_xcalloc(res->n, sizeof(ls_report_entry));
            r->n_groups++;
        } else {
            free(k);
        }
        gi[i] = g;
        ls_report_group *grp = &r->groups[g];
        ls_report_entry *x = &grp->e[grp->n++];
        x->row = &res->rows[i];
        const ls_config_row *c = &res->rows[i].cfg;
        x->slo = row_slo(&o->slo, c, &from_file, &fell_back);
        if (i == 0)
            first = x->slo;
        else if (!slo_equal(&first, &x->slo))
            r->slo_mixed = true;
        x->violations = res->rows[i].has_result ? ls_slo_violations(&x->slo, &res->rows[i].m)
                                                : (LS_SLO_TTFT | LS_SLO_TPOT | LS_SLO_SUCCESS |
                                                   LS_SLO_NOT_RUN);
        if (res->rows[i].has_result && !isnan(res->rows[i].m.v[LS_M_CAPACITY_RPS]))
            r->has_capacity = true;
        if ((!isnan(c->slo_ttft_s) && fabs(c->slo_ttft_s - x->slo.ttft_p99_s) > 1e-9) ||
            (!isnan(c->slo_tpot_s) && fabs(c->slo_tpot_s - x->slo.tpot_p99_s) > 1e-9))
            r->slo_differs = true;
    }
    if (res->n)
        r->slo = first;
    else
        r->slo = row_slo(&o->slo, &(ls_config_row){.slo_ttft_s = NAN, .slo_tpot_s = NAN}, &from_file,
                         &fell_back);
    bool all = !isnan(o->slo.ttft_p99_s) && !isnan(o->slo.tpot_p99_s);
    bool some = !isnan(o->slo.ttft_p99_s) || !isnan(o->slo.tpot_p99_s);
    const char *rest = r->slo_mixed ? "each configuration's own from the file: its slo_ttft_s and "
                                      "slo_tpot_s differ"
                       : from_file && !fell_back ? "the file's slo_ttft_s/slo_tpot_s"
                       : from_file ? "the file's slo_ttft_s/slo_tpot_s where set, else 2s/200ms"
                                   : "the MLPerf Llama-2-70B server limits: the file stores no SLO";
    r->slo_source = all ? ls_xstrdup("--slo") : ls_report_strf("%s%s", some ? "--slo, the rest " : "", rest);
    for (size_t g = 0; g < r->n_groups; g++)
        free(keys[g]);
    free(keys);
    free(gi);

    assign_capacity(r);
    cap_axes(r);
    for (size_t g = 0; g < r->n_groups; g++) {
        ls_report_group *grp = &r->groups[g];
        /* rank first (order-free), then sort by rank, then classify (keeps indices) */
        rank_by(grp, true, true, key_goodput, offsetof(ls_report_entry, rank_goodput));
        rank_by(grp, true, true, key_goodput_gpu, offsetof(ls_report_entry, rank_goodput_gpu));
        rank_by(grp, false, false, key_capacity, offsetof(ls_report_entry, rank_capacity));
        rank_by(grp, false, false, key_capacity_gpu, offsetof(ls_report_entry, rank_capacity_gpu));
        qsort(grp->e, grp->n, sizeof *grp->e, cmp_entry);
        for (size_t i = 0; i < grp->n; i++)
            classify(r, grp, i);
        grp->best = -1;
        for (size_t i = 0; i < grp->n; i++)
            if (grp->e[i].rank_goodput == 1)
                grp->best = (int)i;
    }
    ls_spec_report_pair(r);  /* entries stay where they are from here on */
    *out = r;
    return LS_OK;
}

void ls_report_free(ls_report *r)
{
    if (!r)
        return;
    for (size_t g = 0; g < r->n_groups; g++) {
        free(r->groups[g].title);
        free(r->groups[g].by);
        free(r->groups[g].e);
    }
    free(r->groups);
    free(r->slo_source);

    free(r);
}
