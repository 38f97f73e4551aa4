/* recommend.c -- recommendation sentences, computed from a report's ranked results
 * (see recommend.h).
 *
 * Every number a sentence quotes is a cell of the group's tables (results,
 * failures and resources, capacity), formatted the same way, so a reader can
 * check each claim against the table above it. */
#include "recommend.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "recommend_mixed.h"
#include "recommend_cache.h"
#include "report_internal.h"
#include "spec_report.h"

typedef struct sentences {
    char **s;
    size_t n, cap;
} sentences;

static void add(sentences *l, char *s)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 8;
        l->s = ls_xrealloc(l->s, l->cap * sizeof *l->s);
    }
    l->s[l->n++] = s;
}

#define LAT(v) ls_report_fmt_lat((v), (char[24]){0}, 24)
#define RATE(v) ls_report_fmt_rate((v), (char[24]){0}, 24)
#define PCT(v) ls_report_fmt_pct((v), (char[24]){0}, 24)
#define CNT(v) ls_report_fmt_count((v), (char[32]){0}, 32)
#define WHO(r, x) ls_report_who((r), (x), (char[512]){0}, 512)
#define CAPWHO(r, x) ls_report_cap_who((r), (x), (char[512]){0}, 512)
#define STRAT(x) ls_report_strategy_name((x)->row->cfg.parallelism, (char[128]){0}, 128)

static double V(const ls_report_entry *x, ls_metric_id id)
{
    return ls_report_v(x, id);
}

/* "At 2 req/s" or "For this workload". */
static const char *load_phrase(const ls_report_group *g, bool upper, char *buf, size_t size)
{
    double rate = g->n ? g->e[0].row->cfg.arrival_rate : NAN;
    const char *by = g->by && g->by[0] ? g->by : NULL;
    if (isnan(rate))
        snprintf(buf, size, "%s this workload%s%s", upper ? "For" : "for", by ? " with " : "",
                 by ? by : "");
    else
        snprintf(buf, size, "%s %g req/s%s%s", upper ? "At" : "at", rate, by ? " with " : "",
                 by ? by : "");
    return buf;
}

static const char *gpus(int64_t n)
{
    return n == 1 ? "GPU" : "GPUs";
}

/* The sentence saying why entry x misses the SLO (or is infeasible). */
static char *why(const ls_report *r, const ls_report_group *g, const ls_report_entry *x)
{
    const ls_metrics *m = &x->row->m;
    double n = V(x, LS_M_N_REQUESTS), succ = V(x, LS_M_SUCCESS_RATE);
    switch (x->loss) {
    case LS_LOSS_NONE:
        return ls_report_strf("%s meets the SLO with goodput %s req/s.", WHO(r, x),
                              RATE(V(x, LS_M_GOODPUT_RPS)));
    case LS_LOSS_PENDING:
        return ls_report_strf("%s has not finished yet.", WHO(r, x));
    case LS_LOSS_INFEASIBLE:
        return ls_report_strf("%s is infeasible: %s.", WHO(r, x),
                              m->message[0] ? m->message : "it does not fit");
    case LS_LOSS_ERROR:
        return ls_report_strf("%s failed to run: %s.", WHO(r, x), m->message);
    case LS_LOSS_TOO_LONG:
        return ls_report_strf("%s completes only %s%% of requests: %s of %s prompts are longer than "
                              "max_model_len %lld and are rejected at arrival.",
                              WHO(r, x), PCT(succ), CNT(V(x, LS_M_N_REJECTED_TOO_LONG)), CNT(n),
                              (long long)x->row->cfg.max_model_len);
    case LS_LOSS_KV: {
        double blocks = V(x, LS_M_KV_BLOCKS), rej = V(x, LS_M_N_REJECTED_KV);
        double pre = V(x, LS_M_N_PREEMPTIONS);
        char detail[256] = "";
        size_t o = 0;
        if (rej > 0)
            o += (size_t)snprintf(detail + o, sizeof detail - o, "%s requests can never fit and are "
                                  "rejected", CNT(rej));
        if (pre > 0 && o < sizeof detail)
            o += (size_t)snprintf(detail + o, sizeof detail - o, "%s%s preemptions recompute %s "
                                  "tokens", o ? ", and " : "", CNT(pre),
                                  CNT(V(x, LS_M_RECOMPUTED_TOKENS)));
        /* "fails N%" only when the KV cache is what rejects them */
        bool kv_fails = (x->violations & LS_SLO_SUCCESS) && rej > 0;
        const char *fails = kv_fails ? "fails" : "misses the SLO with";
        char fail_part[64];
        if (kv_fails)
            snprintf(fail_part, sizeof fail_part, "%s%% of requests", PCT(1 - succ));
        else
            snprintf(fail_part, sizeof fail_part, "TTFT p99 %s, TPOT p99 %s",
                     LAT(V(x, LS_M_TTFT_P99_S)), LAT(V(x, LS_M_TPOT_P99_S)));
        if (!isnan(blocks))
            return ls_report_strf("%s %s %s: each replica's KV cache holds only %s blocks (about %s "
                                  "tokens, peak use %s%%)%s%s.",
                                  WHO(r, x), fails, fail_part, CNT(blocks),
                                  CNT(blocks * LS_REPORT_BLOCK_TOKENS),
                                  PCT(V(x, LS_M_KV_USAGE_MAX)), o ? "; " : "", detail);
        return ls_report_strf("%s %s %s: its KV cache is too small%s%s.", WHO(r, x), fails,
                              fail_part, o ? "; " : "", detail);
    }
    case LS_LOSS_COMM: {
        const ls_report_entry *y = &g->e[x->comm_ref];
        ls_metric_id lat = (x->violations & LS_SLO_TPOT) ? LS_M_TPOT_P99_S : LS_M_TTFT_P99_S;
        const char *lname = lat == LS_M_TPOT_P99_S ? "TPOT" : "TTFT";
        return ls_report_strf("%s is communication-bound: %s p99 %s against %s for the same "
                              "configuration on %s (%.1fx), so its collectives pay for the slower "
                              "links of %s.",
                              WHO(r, x), lname, LAT(V(x, lat)), LAT(V(y, lat)), y->row->cfg.cluster,
                              V(x, lat) / V(y, lat), x->row->cfg.cluster);
    }
    case LS_LOSS_QUEUE: {
        double unf = V(x, LS_M_N_UNFINISHED) + (isnan(V(x, LS_M_N_TIMEOUT)) ? 0 : V(x, LS_M_N_TIMEOUT));
        if (x->violations & LS_SLO_SUCCESS)
            return ls_report_strf("%s cannot keep up with this load: %s of %s requests time out or "
                                  "are unfinished when the simulation stops (success %s%%, "
                                  "throughput %s req/s).",
                                  WHO(r, x), CNT(unf), CNT(n), PCT(succ),
                                  RATE(V(x, LS_M_THROUGHPUT_RPS)));
        return ls_report_strf("%s is over capacity at this load: queueing dominates its TTFT "
                              "(queue p99 %s of TTFT p99 %s, limit %s).",
                              WHO(r, x), LAT(V(x, LS_M_QUEUE_P99_S)), LAT(V(x, LS_M_TTFT_P99_S)),
                              LAT(x->slo.ttft_p99_s));
    }
    case LS_LOSS_PREFILL:
        return ls_report_strf("%s misses the TTFT limit without much queueing (TTFT p99 %s, queue "
                              "p99 %s): its prefills are slow.",
                              WHO(r, x), LAT(V(x, LS_M_TTFT_P99_S)), LAT(V(x, LS_M_QUEUE_P99_S)));
    case LS_LOSS_DECODE:
        return ls_report_strf("%s decodes too slowly: TPOT p99 %s against a limit of %s (mean batch "
                              "%.1f requests).",
                              WHO(r, x), LAT(V(x, LS_M_TPOT_P99_S)), LAT(x->slo.tpot_p99_s),
                              V(x, LS_M_MEAN_BATCH_SIZE));
    }
    return ls_report_strf("%s: no reason found.", WHO(r, x));
}

/* The best sentence, or the closest miss. */
static void best_sentences(const ls_report *r, const ls_report_group *g, sentences *out)
{
    char at[256];
    load_phrase(g, true, at, sizeof at);
    size_t met = 0, ran = 0;
    for (size_t i = 0; i < g->n; i++) {
        met += !g->e[i].violations;
        ran += g->e[i].row->has_result && g->e[i].row->m.status == LS_RUN_OK;
    }
    if (g->best >= 0) {
        const ls_report_entry *b = &g->e[g->best];
        add(out, ls_report_strf("%s, %s is the best configuration under the SLO: it serves %s%% of "
                                "requests with TTFT p99 %s and TPOT p99 %s, for a goodput of %s "
                                "req/s (%s per GPU on %s %s). %zu of %zu configurations meet the "
                                "SLO.",
                                at, WHO(r, b), PCT(V(b, LS_M_SUCCESS_RATE)),
                                LAT(V(b, LS_M_TTFT_P99_S)), LAT(V(b, LS_M_TPOT_P99_S)),
                                RATE(V(b, LS_M_GOODPUT_RPS)),
                                RATE(ls_report_per_gpu(b, LS_M_GOODPUT_RPS)),
                                CNT((double)b->row->cfg.n_gpus), gpus(b->row->cfg.n_gpus), met,
                                g->n));
        size_t ties = 0;
        double gb = V(b, LS_M_GOODPUT_RPS);
        for (size_t i = 0; i < g->n; i++)
            ties += (int)i != g->best && !g->e[i].violations &&
                    V(&g->e[i], LS_M_GOODPUT_RPS) >= gb * 0.99;
        if (ties)
            add(out, ls_report_strf("%zu other %s the same goodput within 1%% (at this load they "
                                    "serve nearly every request in time); %s has the lowest TTFT p99 among them.",
                                    ties, ties == 1 ? "configuration reaches" : "configurations reach",
                                    STRAT(b)));
        for (size_t i = 0; i < g->n; i++) {
            const ls_report_entry *x = &g->e[i];
            if (x->rank_goodput_gpu == 1 && (int)i != g->best)
                add(out, ls_report_strf("Per GPU, %s does better: %s req/s per GPU on %s %s "
                                        "(goodput %s req/s) against %s.",
                                        WHO(r, x), RATE(ls_report_per_gpu(x, LS_M_GOODPUT_RPS)),
                                        CNT((double)x->row->cfg.n_gpus), gpus(x->row->cfg.n_gpus),
                                        RATE(V(x, LS_M_GOODPUT_RPS)),
                                        RATE(ls_report_per_gpu(b, LS_M_GOODPUT_RPS))));
        }
        return;
    }
    if (!ran) {
        add(out, ls_report_strf("%s, no configuration ran: every one is infeasible, failed or "
                                "pending.", at));
        return;
    }
    /* the closest: highest SLO attainment among those that ran */
    const ls_report_entry *c = NULL;
    for (size_t i = 0; i < g->n; i++) {
        const ls_report_entry *x = &g->e[i];
        if (!x->row->has_result || x->row->m.status != LS_RUN_OK)
            continue;
        double a = V(x, LS_M_SLO_ATTAINMENT), ca = c ? V(c, LS_M_SLO_ATTAINMENT) : -1;
        if (!c || (isnan(ca) && !isnan(a)) || a > ca)
            c = x;
    }
    add(out, ls_report_strf("%s, no configuration meets the SLO (TTFT p99 <= %s, TPOT p99 <= %s, "
                            "success >= %s%%). The closest is %s: success %s%%, TTFT p99 %s, TPOT "
                            "p99 %s, goodput %s req/s.",
                            at, LAT(c->slo.ttft_p99_s), LAT(c->slo.tpot_p99_s),
                            PCT(c->slo.min_success), WHO(r, c), PCT(V(c, LS_M_SUCCESS_RATE)),
                            LAT(V(c, LS_M_TTFT_P99_S)), LAT(V(c, LS_M_TPOT_P99_S)),
                            RATE(V(c, LS_M_GOODPUT_RPS))));
}

/* True when x and y differ in exactly one label axis other than the strategy
 * (its index in r->axes goes to *axis). */
static bool one_axis_apart(const ls_report *r, const ls_report_entry *x, const ls_report_entry *y,
                           size_t *axis)
{
    size_t n_diff = 0, which = 0;
    char vx[LS_CFG_LONGSTR + 1], vy[LS_CFG_LONGSTR + 1];
    for (size_t k = 0; k < r->n_axes; k++) {
        const char *nk = ls_config_columns[r->axes[k]].name;
        ls_results_cfg_text(x->row, nk, vx, sizeof vx);
        ls_results_cfg_text(y->row, nk, vy, sizeof vy);
        if (strcmp(vx, vy)) {
            if (!strcmp(nk, "parallelism"))
                return false;
            n_diff++;
            which = k;
        }
    }
    if (axis)
        *axis = which;
    return n_diff == 1;
}

/* Why each other strategy loses (its best variant), and one sentence listing
 * the other strategies that also meet the SLO. */
static void strategy_sentences(const ls_report *r, const ls_report_group *g, bool shared_too_long,
                               sentences *out)
{
    const char *best_par = g->best >= 0 ? g->e[g->best].row->cfg.parallelism : NULL;
    const char *seen[256];
    size_t n_seen = 0;
    char also[2048];
    size_t n_also = 0, o_also = 0;
    for (size_t i = 0; i < g->n && n_seen < 256; i++) {
        const char *par = g->e[i].row->cfg.parallelism;
        bool dup = false;
        for (size_t k = 0; k < n_seen; k++)
            dup |= !strcmp(seen[k], par);
        if (dup)
            continue;
        seen[n_seen++] = par;
        /* display order puts each strategy's best variant first */
        const ls_report_entry *x = &g->e[i];
        size_t n_inf = 0, n_var = 0;
        const ls_report_entry *inf = NULL;
        for (size_t j = 0; j < g->n; j++)
            if (!strcmp(g->e[j].row->cfg.parallelism, par)) {
                n_var++;
                if (g->e[j].loss == LS_LOSS_INFEASIBLE) {
                    n_inf++;
                    if (!inf)
                        inf = &g->e[j];
                }
            }
        char *s = NULL;
        if (best_par && !strcmp(par, best_par)) {
            /* the winner's own variants that miss: say why once (e.g. the other topology) */
            const ls_report_entry *b = &g->e[g->best];
            for (size_t j = 0; j < g->n && !s; j++) {
                const ls_report_entry *y = &g->e[j];
                if (!strcmp(y->row->cfg.parallelism, par) && y->loss != LS_LOSS_NONE &&
                    y->loss != LS_LOSS_INFEASIBLE && !one_axis_apart(r, b, y, NULL))
                    s = why(r, g, y);
            }
            if (!s && inf)
                s = why(r, g, inf);
            else if (s && inf)
                add(out, why(r, g, inf));
            if (s)
                add(out, s);
            continue;
        }
        if (x->loss == LS_LOSS_NONE) {
            if (o_also < sizeof also)
                o_also += (size_t)snprintf(also + o_also, sizeof also - o_also,
                                           "%s%s, goodput %s req/s, TTFT p99 %s, TPOT p99 %s",
                                           n_also ? "; " : "", WHO(r, x), RATE(V(x, LS_M_GOODPUT_RPS)),
                                           LAT(V(x, LS_M_TTFT_P99_S)), LAT(V(x, LS_M_TPOT_P99_S)));
            n_also++;
        } else if (!(shared_too_long && x->loss == LS_LOSS_TOO_LONG)) {
            s = why(r, g, x); /* (a rejection every strategy shares was said once above) */
        }
        if (n_inf && x->loss != LS_LOSS_INFEASIBLE) {
            char *t = ls_report_strf("%s%s%s is infeasible in %zu of its %zu variants: %s (%s).",
                                     s ? s : "", s ? " " : "", STRAT(x), n_inf, n_var,
                                     inf->row->m.message,
                                     ls_report_variant(r, inf, (char[400]){0}, 400));
            free(s);
            s = t;
        } else if (x->loss == LS_LOSS_INFEASIBLE && n_inf > 1) {
            char *t = ls_report_strf("%s (%zu of its %zu variants are infeasible.)", s, n_inf, n_var);
            free(s);
            s = t;
        }
        if (s)
            add(out, s);
    }
    if (n_also)
        add(out, ls_report_strf("Also within the SLO (the best variant of each other strategy): "
                                "%s.", also));
}

/* For the best configuration, its twins that differ in one axis only (the
 * other topology, the other dtype): what that axis costs or gains. */
static void twin_sentences(const ls_report *r, const ls_report_group *g, sentences *out)
{
    if (g->best < 0)
        return;
    const ls_report_entry *b = &g->e[g->best];
    for (size_t a = 0; a < r->n_axes; a++) {
        const char *name = ls_config_columns[r->axes[a]].name;
        if (!strcmp(name, "parallelism"))
            continue;
        for (size_t j = 0; j < g->n; j++) {
            const ls_report_entry *y = &g->e[j];
            if ((int)j == g->best)
                continue;
            size_t axis;
            char vy[LS_CFG_LONGSTR + 1];
            if (!one_axis_apart(r, b, y, &axis) || axis != a)
                continue;
            ls_results_cfg_text(y->row, name, vy, sizeof vy);
            const char *hdr = ls_report_axis_header(r->axes[a]);
            if (y->row->m.status != LS_RUN_OK || !y->row->has_result) {
                add(out, ls_report_strf("With %s %s, the same strategy is not an option: %s.", hdr,
                                        vy, y->row->m.message[0] ? y->row->m.message : "it did not run"));
                continue;
            }
            char *t;
            if (!y->violations) {
                t = ls_report_strf("With %s %s instead, %s has TTFT p99 %s, TPOT p99 %s and goodput "
                                   "%s req/s (against %s, %s and %s).",
                                   hdr, vy, WHO(r, y), LAT(V(y, LS_M_TTFT_P99_S)),
                                   LAT(V(y, LS_M_TPOT_P99_S)), RATE(V(y, LS_M_GOODPUT_RPS)),
                                   LAT(V(b, LS_M_TTFT_P99_S)), LAT(V(b, LS_M_TPOT_P99_S)),
                                   RATE(V(b, LS_M_GOODPUT_RPS)));
            } else {
                /* why() starts with the configuration's name: reuse the rest */
                char *w = why(r, g, y);
                const char *who = WHO(r, y);
                const char *rest = strncmp(w, who, strlen(who)) ? w : w + strlen(who) + 1;
                size_t len = strlen(rest);
                t = ls_report_strf("With %s %s instead, the same strategy %.*s (goodput %s req/s "
                                   "against %s).",
                                   hdr, vy, (int)(len && rest[len - 1] == '.' ? len - 1 : len), rest,
                                   RATE(V(y, LS_M_GOODPUT_RPS)), RATE(V(b, LS_M_GOODPUT_RPS)));
                free(w);
            }
            add(out, t);
        }
    }
}

/* Whether entry x meets the SLO within LS_RANK_TIE of the best goodput among
 * the SLO-meeting entries of g whose column `name` reads `val`. */
static bool in_tie(const ls_report_group *g, const char *name, const char *val,
                   const ls_report_entry *x)
{
    double best = -INFINITY;
    char v[LS_CFG_LONGSTR + 1];
    for (size_t i = 0; i < g->n; i++) {
        const ls_report_entry *y = &g->e[i];
        if (!y->violations && !strcmp(ls_results_cfg_text(y->row, name, v, sizeof v), val))
            best = fmax(best, V(y, LS_M_GOODPUT_RPS));
    }
    return !x->violations && !strcmp(ls_results_cfg_text(x->row, name, v, sizeof v), val) &&
           V(x, LS_M_GOODPUT_RPS) >= best * (1 - LS_RANK_TIE);
}

/* The strategies that, for every value of the axis `name`, are within the
 * goodput tie of that value's best: "the answer changes" is only said when no
 * strategy is. Writes their names ("TP=8, TP=4×PP=2") to buf; returns how many. */
static size_t tied_everywhere(const ls_report_group *g, const char *name,
                              char vals[][LS_CFG_LONGSTR + 1], size_t nv, char *buf, size_t size)
{
    const ls_report_entry *hit[64];
    size_t n = 0, o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < g->n; i++) {
        const char *par = g->e[i].row->cfg.parallelism;
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = !strcmp(g->e[j].row->cfg.parallelism, par);
        if (seen)
            continue;
        bool all = true;
        for (size_t k = 0; k < nv && all; k++) {
            bool here = false;
            for (size_t j = 0; j < g->n && !here; j++)
                here = !strcmp(g->e[j].row->cfg.parallelism, par) &&
                       in_tie(g, name, vals[k], &g->e[j]);
            all = here;
        }
        if (all && n < sizeof hit / sizeof *hit)
            hit[n++] = &g->e[i];
    }
    for (size_t i = 0; i < n && o < size; i++)
        o += (size_t)snprintf(buf + o, size - o, "%s%s", i == 0 ? "" : i + 1 == n ? " and " : ", ",
                              STRAT(hit[i]));
    return n;
}

/* Where the best strategy changes with an axis other than the strategy
 * (cluster, dtype, scheduler ...): best per value of the axis. */
static void axis_sentences(const ls_report *r, const ls_report_group *g, sentences *out)
{
    for (size_t a = 0; a < r->n_axes; a++) {
        const char *name = ls_config_columns[r->axes[a]].name;
        if (!strcmp(name, "parallelism"))
            continue;
        char vals[16][LS_CFG_LONGSTR + 1];
        const ls_report_entry *best[16];
        size_t nv = 0;
        for (size_t i = 0; i < g->n; i++) {
            char v[LS_CFG_LONGSTR + 1];
            ls_results_cfg_text(g->e[i].row, name, v, sizeof v);
            size_t k = 0;
            while (k < nv && strcmp(vals[k], v))
                k++;
            if (k == nv) {
                if (nv == 16)
                    continue;
                memcpy(vals[nv], v, sizeof v);
                best[nv++] = NULL;
            }
            /* display order: the first SLO-meeting entry of a value is its best */
            if (!best[k] && !g->e[i].violations)
                best[k] = &g->e[i];
        }
        bool any = false;
        for (size_t k = 0; k < nv; k++)
            any |= best[k] != NULL;
        if (nv < 2 || !any)
            continue; /* nothing meets the SLO anywhere: no answer to compare */
        bool same = true;
        for (size_t k = 0; k < nv; k++)
            same &= best[k] && best[0] && !strcmp(best[k]->row->cfg.parallelism,
                                                  best[0]->row->cfg.parallelism);
        char list[1024];
        size_t o = 0;
        const char *hdr = ls_report_axis_header(r->axes[a]);
        /* "on gh200-quad" for places, "with weights fp8" for settings */
        bool bare = !strcmp(name, "cluster") || !strcmp(name, "hardware") || !strcmp(name, "model");
        for (size_t k = 0; k < nv && o < sizeof list; k++) {
            if (best[k])
                o += (size_t)snprintf(list + o, sizeof list - o, "%s%s%s%s%s: %s, goodput %s req/s",
                                      k ? "; " : "", bare ? "on " : "with ", bare ? "" : hdr,
                                      bare ? "" : " ", vals[k],
                                      STRAT(best[k]), RATE(V(best[k], LS_M_GOODPUT_RPS)));
            else
                o += (size_t)snprintf(list + o, sizeof list - o, "%s%s%s%s%s: none meets the SLO",
                                      k ? "; " : "", bare ? "on " : "with ", bare ? "" : hdr,
                                      bare ? "" : " ", vals[k]);
        }
        char common[512] = "";
        size_t n_common = same ? 0 : tied_everywhere(g, name, vals, nv, common, sizeof common);
        if (same)
            add(out, ls_report_strf("The best strategy does not change with %s (%s).", hdr, list));
        else if (n_common)
            add(out, ls_report_strf("Within the %g%% goodput tie the best strategy does not change "
                                    "with %s: %s %s within %g%% of the best goodput for every %s "
                                    "(the tie-break on TTFT p99 picks: %s).",
                                    100 * LS_RANK_TIE, hdr, common, n_common > 1 ? "are" : "is",
                                    100 * LS_RANK_TIE, hdr, list));
        else
            add(out, ls_report_strf("The answer changes with %s (%s).", hdr, list));
    }
}

/* Across groups: the best per load level, and the capacity ranking. */
static void summary_sentences(const ls_report *r, sentences *out)
{
    if (r->n_groups > 1) {
        char list[4096];
        size_t o = 0;
        for (size_t g = 0; g < r->n_groups && o < sizeof list; g++) {
            const ls_report_group *grp = &r->groups[g];
            char at[256];
            load_phrase(grp, false, at, sizeof at);
            if (grp->best >= 0)
                o += (size_t)snprintf(list + o, sizeof list - o, "%s%s: %s (goodput %s req/s)",
                                      g ? "; " : "", at, WHO(r, &grp->e[grp->best]),
                                      RATE(V(&grp->e[grp->best], LS_M_GOODPUT_RPS)));
            else
                o += (size_t)snprintf(list + o, sizeof list - o, "%s%s: none meets the SLO",
                                      g ? "; " : "", at);
        }
        add(out, ls_report_strf("Best configuration per table: %s.", list));
    }
}

/* The same strategy with one label axis changed, in the group of `top`:
 * "cluster gh200-quad: 5.25 req/s; weights bf16: 2.00 req/s" ("" when none). */
static void capacity_twins(const ls_report *r, const ls_report_entry *top, char *twins, size_t size)
{
    const ls_report_group *tg = NULL;
    for (size_t g = 0; g < r->n_groups && !tg; g++)
        if (top >= r->groups[g].e && top < r->groups[g].e + r->groups[g].n)
            tg = &r->groups[g];
    size_t o = 0;
    twins[0] = '\0';
    for (size_t j = 0; tg && j < tg->n && o < size; j++) {
        const ls_report_entry *y = &tg->e[j];
        size_t axis;
        if (y == top || !y->row->has_result || isnan(V(y, LS_M_CAPACITY_RPS)) ||
            !one_axis_apart(r, top, y, &axis) ||
            !strcmp(ls_config_columns[r->axes[axis]].name, "model")) /* another model: not a setting */
            continue;
        char v[LS_CFG_LONGSTR + 1];
        ls_results_cfg_text(y->row, ls_config_columns[r->axes[axis]].name, v, sizeof v);
        o += (size_t)snprintf(twins + o, size - o, "%s%s %s: %s req/s", o ? "; " : "",
                              ls_report_axis_header(r->axes[axis]), v, RATE(V(y, LS_M_CAPACITY_RPS)));
    }
}

/* "TP=8 (h200, dgx-h200)": the capacity table's label, without the model. */
static const char *who_no_model(const ls_report *r, const ls_report_entry *x, char *buf, size_t size)
{
    static const char *const skip[] = {"model", NULL};
    return ls_report_who_except(r->cap_axes, r->n_cap_axes, skip, x, buf, size);
}
#define WHO_NM(r, x) who_no_model((r), (x), (char[512]){0}, 512)

/* The lead: per model and traffic (in order of appearance), the configuration with the
 * most capacity per GPU and the one with the most capacity, over the rows the
 * capacity table shows (one per configuration: capacity_rep), so every number
 * is a cell of that table. */
static void lead_sentences(const ls_report *r, sentences *out)
{
    if (!r->has_capacity)
        return;
    size_t total = 0;
    for (size_t g = 0; g < r->n_groups; g++)
        total += r->groups[g].n;
    const ls_report_entry **reps = ls_xcalloc(total + 1, sizeof *reps);
    size_t n = 0;
    for (size_t g = 0; g < r->n_groups; g++)
        for (size_t i = 0; i < r->groups[g].n; i++)
            if (r->groups[g].e[i].capacity_rep && !isnan(r->groups[g].e[i].capacity))
                reps[n++] = &r->groups[g].e[i];
    bool *done = ls_xcalloc(n + 1, sizeof *done);
    size_t n_models = 0;
    for (size_t i = 0; i < n; i++)
        if (!done[i]) {
            const ls_report_entry *first = reps[i];
            /* one sentence per model and traffic: with several traffics of one model the
             * sentence names its prompts (capacities of other prompts do not compare) */
            bool several = false;
            for (size_t j = 0; j < n; j++)
                several |= !strcmp(reps[j]->row->cfg.model, first->row->cfg.model) &&
                           !ls_report_same_traffic(reps[j], first);
            char label[640];
            snprintf(label, sizeof label, several ? "%s, prompts %s" : "%s",
                     first->row->cfg.model[0] ? first->row->cfg.model : "(no model)", first->row->cfg.prompt_dist);
            const char *model = label;
            const ls_report_entry *top = NULL, *top_gpu = NULL;
            for (size_t j = i; j < n; j++) {
                const ls_report_entry *x = reps[j];
                if (done[j] || !ls_report_same_traffic(x, first))
                    continue;
                done[j] = true;
                /* ties as the capacity table orders them: more capacity, then lower id */
                double c = V(x, LS_M_CAPACITY_RPS), cg = ls_report_per_gpu(x, LS_M_CAPACITY_RPS);
                if (!top || c > V(top, LS_M_CAPACITY_RPS) ||
                    (c == V(top, LS_M_CAPACITY_RPS) && x->row->config_id < top->row->config_id))
                    top = x;
                double tg = top_gpu ? ls_report_per_gpu(top_gpu, LS_M_CAPACITY_RPS) : 0;
                if (!top_gpu || cg > tg ||
                    (cg == tg && (c > V(top_gpu, LS_M_CAPACITY_RPS) ||
                                  (c == V(top_gpu, LS_M_CAPACITY_RPS) &&
                                   x->row->config_id < top_gpu->row->config_id))))
                    top_gpu = x;
            }
            n_models++;
            if (!(V(top, LS_M_CAPACITY_RPS) > 0)) {
                add(out, ls_report_strf("%s: no configuration meets the SLO even at the lowest rate "
                                        "tried (capacity 0).", model[0] ? model : "(no model)"));
                continue;
            }
            /* a search that met the SLO at every rate it probed found a lower bound only */
#define ATLEAST(x) (ls_report_cap_atleast(r->res, V(x, LS_M_CAPACITY_RPS), V(x, LS_M_CAPACITY_FAIL_RPS)) ? "at least " : "")
            char *s1 = ls_report_strf("%s: the most capacity per GPU is %s, %s%s req/s per GPU (%s%s "
                                      "req/s on %s %s)",
                                      model[0] ? model : "(no model)", WHO_NM(r, top_gpu), ATLEAST(top_gpu),
                                      RATE(ls_report_per_gpu(top_gpu, LS_M_CAPACITY_RPS)), ATLEAST(top_gpu),
                                      RATE(V(top_gpu, LS_M_CAPACITY_RPS)),
                                      CNT((double)top_gpu->row->cfg.n_gpus),
                                      gpus(top_gpu->row->cfg.n_gpus));
            char *s2 = top == top_gpu
                           ? ls_report_strf("%s; it also serves the most in total.", s1)
                           : ls_report_strf("%s; the most in total is %s, %s%s req/s on %s %s (%s per "
                                            "GPU).",
                                            s1, WHO_NM(r, top), ATLEAST(top), RATE(V(top, LS_M_CAPACITY_RPS)),
                                            CNT((double)top->row->cfg.n_gpus),
                                            gpus(top->row->cfg.n_gpus),
                                            RATE(ls_report_per_gpu(top, LS_M_CAPACITY_RPS)));
#undef ATLEAST
            free(s1);
            add(out, s2);
            char twins[1024];
            capacity_twins(r, top_gpu, twins, sizeof twins);
            if (twins[0])
                add(out, ls_report_strf("%s with one setting changed: %s.", WHO_NM(r, top_gpu),
                                        twins));
        }
    free(done);
    free(reps);
    (void)n_models;
}

/* A workload property every strategy shares: prompts longer than max_model_len. */
static bool workload_sentences(const ls_report *r, const ls_report_group *g, sentences *out)
{
    double lo = INFINITY, hi = -INFINITY;
    const ls_report_entry *ex = NULL;
    for (size_t i = 0; i < g->n; i++) {
        const ls_report_entry *x = &g->e[i];
        if (!x->row->has_result || x->row->m.status != LS_RUN_OK)
            continue;
        double n = V(x, LS_M_N_REQUESTS), t = V(x, LS_M_N_REJECTED_TOO_LONG);
        if (!(n > 0) || isnan(t))
            continue;
        double f = t / n;
        lo = fmin(lo, f);
        hi = fmax(hi, f);
        ex = x;
    }
    if (!(ex && lo > 0 && hi - lo < 1e-9))
        return false;
    bool blocks = lo > 1 - r->slo.min_success;
    /* the success target that asks the same of the requests the model can accept */
    double fair = floor(1000 * r->slo.min_success * (1 - lo)) / 10;
    char hint[160] = "";
    if (blocks)
        snprintf(hint, sizeof hint, "; it alone keeps success below the SLO's target: use a model "
                 "with a longer context, or compare the strategies on the other requests with "
                 "--slo success=%.1f%%", fair);
    add(out, ls_report_strf("Every configuration rejects %s of %s requests at arrival because "
                            "their prompts exceed max_model_len %lld: a property of the workload "
                            "and model, not of the strategy%s.",
                            CNT(V(ex, LS_M_N_REJECTED_TOO_LONG)), CNT(V(ex, LS_M_N_REQUESTS)),
                            (long long)ex->row->cfg.max_model_len, hint));
    return true;
}

static void add_cb(void *ctx, char *s)
{
    add(ctx, s);
}

static ls_recommend_list list_of(sentences l)
{
    return (ls_recommend_list){.n = l.n, .s = l.s};
}

ls_recommendations *ls_recommend_build(const ls_report *r)
{
    ls_recommendations *rec = ls_xcalloc(1, sizeof *rec);
    rec->n_groups = r->n_groups;
    rec->groups = ls_xcalloc(r->n_groups + 1, sizeof *rec->groups);
    for (size_t g = 0; g < r->n_groups; g++) {
        const ls_report_group *grp = &r->groups[g];
        sentences l = {0};
        best_sentences(r, grp, &l);
        bool shared_too_long = workload_sentences(r, grp, &l);
        strategy_sentences(r, grp, shared_too_long, &l);
        twin_sentences(r, grp, &l);
        axis_sentences(r, grp, &l);
        ls_recommend_mixed_group(r, grp, add_cb, &l);  /* mixed replica groups (recommend_mixed.c) */
        ls_recommend_cache(r, grp, add_cb, &l); /* prefix caching, KV tiers */
        rec->groups[g] = list_of(l);
    }
    sentences lead = {0};
    lead_sentences(r, &lead);
    rec->lead = list_of(lead);
    sentences s = {0};
    summary_sentences(r, &s);
    ls_recommend_mixed_summary(r, add_cb, &s);
    rec->summary = list_of(s);
    sentences sp = {0};
    ls_spec_study *st = ls_spec_study_build(r);
    ls_spec_report_sentences(r, st, &sp.s, &sp.n, &sp.cap);
    ls_spec_study_free(st);
    rec->spec = list_of(sp);
    return rec;
}

static void free_list(ls_recommend_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->s[i]);
    free(l->s);
}

void ls_recommend_free(ls_recommendations *rec)
{
    if (!rec)
        return;
    free_list(&rec->lead);
    for (size_t g = 0; g < rec->n_groups; g++)
        free_list(&rec->groups[g]);
    free(rec->groups);
    free_list(&rec->summary);
    free_list(&rec->spec);
    free(rec);
}
