/* recommend_mixed.c -- mixed replica groups against TP-only and DP-only
 * deployments of the same GPUs (recommend_mixed.h). Every number quoted is a
 * cell of the report's tables or a /results column (mix_*), formatted as the
 * tables format it. */
#include "recommend_mixed.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report_internal.h"

#define LAT(v) ls_report_fmt_lat((v), (char[24]){0}, 24)
#define RATE(v) ls_report_fmt_rate((v), (char[24]){0}, 24)
#define PCT(v) ls_report_fmt_pct((v), (char[24]){0}, 24)
#define WHO(r, x) ls_report_who((r), (x), (char[512]){0}, 512)
#define STRAT(x) ls_report_strategy_name((x)->row->cfg.parallelism, (char[128]){0}, 128)

static double V(const ls_report_entry *x, ls_metric_id id)
{
    return ls_report_v(x, id);
}

/* "1xtp4+4xtp1": count x strategy (replica_mix.c's label). */
static bool is_mixed(const ls_report_entry *x)
{
    const char *p = x->row->cfg.parallelism;
    if (!isdigit((unsigned char)*p))
        return false;
    while (isdigit((unsigned char)*p))
        p++;
    return *p == 'x';
}

/* A plain strategy string (not a mix, not P/D pools "1P-tp4+1D-tp4"). */
static bool is_plain(const ls_report_entry *x)
{
    return isalpha((unsigned char)x->row->cfg.parallelism[0]);
}

static bool is_widest(const ls_report_entry *x)
{
    const ls_config_row *c = &x->row->cfg;
    return is_plain(x) && c->n_gpus > 1 && c->tp == c->n_gpus;
}

static bool is_narrowest(const ls_report_entry *x)
{
    const ls_config_row *c = &x->row->cfg;
    return is_plain(x) && c->n_gpus > 1 && c->tp == 1 && c->pp == 1 && c->dp == c->n_gpus;
}

/* Rows compared with each other: the same model, GPUs, cluster and formats. */
static bool same_scope(const ls_report_entry *a, const ls_report_entry *b)
{
    const ls_config_row *x = &a->row->cfg, *y = &b->row->cfg;
    return x->n_gpus == y->n_gpus && !strcmp(x->model, y->model) && !strcmp(x->cluster, y->cluster) &&
           !strcmp(x->dtype_weights, y->dtype_weights) && !strcmp(x->dtype_kv, y->dtype_kv) &&
           !strcmp(x->speculative, y->speculative) && x->enable_prefix_caching == y->enable_prefix_caching;
}

static bool ran(const ls_report_entry *x)
{
    return x->row->has_result && x->row->m.status == LS_RUN_OK;
}

/* < 0 when a is better: runs, meets the SLO, more goodput (beyond the tie), lower TTFT p99. */
static int cmp(const ls_report_entry *a, const ls_report_entry *b)
{
    if (ran(a) != ran(b))
        return ran(a) ? -1 : 1;
    if (!a->violations != !b->violations)
        return !a->violations ? -1 : 1;
    double ga = V(a, LS_M_GOODPUT_RPS), gb = V(b, LS_M_GOODPUT_RPS);
    if (isfinite(ga) && isfinite(gb)) {
        if (ga > gb * (1 + LS_RANK_TIE))
            return -1;
        if (gb > ga * (1 + LS_RANK_TIE))
            return 1;
    }
    double ta = V(a, LS_M_TTFT_P99_S), tb = V(b, LS_M_TTFT_P99_S);
    if (ta < tb || (isnan(tb) && !isnan(ta)))
        return -1;
    if (tb < ta || (isnan(ta) && !isnan(tb)))
        return 1;
    return a->row->config_id < b->row->config_id ? -1 : 1;
}

typedef struct contest {
    const ls_report_entry *mix, *wide, *narrow, *plain;  /* the best of each kind in the scope (NULL: none) */
} contest;

static const ls_report_entry *better(const ls_report_entry *a, const ls_report_entry *b)
{
    return !a ? b : !b ? a : cmp(a, b) <= 0 ? a : b;
}

static contest contest_of(const ls_report_group *g, const ls_report_entry *scope)
{
    contest c = {0};
    for (size_t i = 0; i < g->n; i++) {
        const ls_report_entry *x = &g->e[i];
        if (!same_scope(x, scope))
            continue;
        if (is_mixed(x))
            c.mix = better(c.mix, x);
        if (is_widest(x))
            c.wide = better(c.wide, x);
        if (is_narrowest(x))
            c.narrow = better(c.narrow, x);
        if (is_plain(x))
            c.plain = better(c.plain, x);
    }
    return c;
}

static const ls_report_entry *winner(const contest *c)
{
    return better(better(c->mix, c->wide), c->narrow);
}

/* "gh200-quad, fp8/bf16" */
static const char *scope_name(const ls_report_entry *x, char *buf, size_t size)
{
    snprintf(buf, size, "%s on %s, %s/%s", x->row->cfg.model, x->row->cfg.cluster, x->row->cfg.dtype_weights,
             x->row->cfg.dtype_kv);
    return buf;
}

/* "goodput 3.78 req/s, TTFT p99 1.65s" (meets the SLO) or "... misses the SLO: queue-bound" */
static char *standing(const ls_report *r, const ls_report_entry *x)
{
    if (!ran(x))
        return ls_report_strf("%s: %s", WHO(r, x), ls_loss_name(x->loss));
    return ls_report_strf("%s: goodput %s req/s, TTFT p99 %s%s%s", WHO(r, x), RATE(V(x, LS_M_GOODPUT_RPS)),
                          LAT(V(x, LS_M_TTFT_P99_S)), x->violations ? ", misses the SLO: " : ", meets the SLO",
                          x->violations ? ls_loss_name(x->loss) : "");
}

/* How close a side of the mix is to the SLO's latency limits (> 1: over). */
static double pressure(const ls_report_entry *m, ls_metric_id ttft, ls_metric_id tpot)
{
    double a = V(m, ttft) / m->slo.ttft_p99_s, b = V(m, tpot) / m->slo.tpot_p99_s;
    return isnan(a) ? b : isnan(b) ? a : fmax(a, b);
}

/* Why the mix stands where it does: what each side serves, and its latencies. */
static char *mix_why(const ls_report *r, const ls_report_entry *m, bool wins)
{
    if (!ran(m))
        return ls_report_strf("%s is %s: %s.", WHO(r, m), ls_loss_name(m->loss),
                              m->row->m.message[0] ? m->row->m.message : "it does not run");
    const char *thr = strchr(m->row->cfg.router, '>');
    char prompts[64] = "";
    if (thr)
        snprintf(prompts, sizeof prompts, " (prompts over %s tokens)", thr + 1);
    double pl = pressure(m, LS_M_MIX_LONG_TTFT_P99_S, LS_M_MIX_LONG_TPOT_P99_S),
           ps = pressure(m, LS_M_MIX_SHORT_TTFT_P99_S, LS_M_MIX_SHORT_TPOT_P99_S);
    char *base = ls_report_strf("In %s the long-prompt replicas serve %s%% of the requests%s, %s%% busy, with "
                                "TTFT p99 %s and TPOT p99 %s; the others serve the rest, %s%% busy, with TTFT p99 "
                                "%s and TPOT p99 %s",
                                STRAT(m), PCT(V(m, LS_M_MIX_LONG_SHARE)), prompts,
                                PCT(V(m, LS_M_MIX_LONG_UTILIZATION)), LAT(V(m, LS_M_MIX_LONG_TTFT_P99_S)),
                                LAT(V(m, LS_M_MIX_LONG_TPOT_P99_S)), PCT(V(m, LS_M_MIX_SHORT_UTILIZATION)),
                                LAT(V(m, LS_M_MIX_SHORT_TTFT_P99_S)), LAT(V(m, LS_M_MIX_SHORT_TPOT_P99_S)));
    bool over_l = pl > 1, over_s = ps > 1;
    const char *side = pl >= ps ? "long-prompt" : "short-prompt", *move = pl >= ps ? "a higher" : "a lower";
    char *s;
    if (!m->violations && !over_l && !over_s)
        s = wins ? ls_report_strf("%s: both sides are within the limits, the long prompts' prefills on the wide "
                                  "replicas and the short requests on the narrow ones side by side.",
                                  base)
                 : ls_report_strf("%s: both sides are within the limits, but the winner has more goodput or, "
                                  "within 1%%, a lower TTFT p99.",
                                  base);
    else if (!m->violations)
        s = ls_report_strf("%s: the whole meets the SLO, but the %s side's own p99 is over the limits: its "
                           "requests are the first to miss as the load grows, and %s threshold moves prompts off "
                           "it.",
                           base, over_l ? "long-prompt" : "short-prompt", over_l ? "a higher" : "a lower");
    else if (isnan(pl) || isnan(ps))
        s = ls_report_strf("%s (%s).", base, ls_loss_name(m->loss));
    else
        s = ls_report_strf("%s: the %s side is the further over the limits (%s), so %s threshold would move "
                           "prompts to the other side.",
                           base, side, ls_loss_name(m->loss), move);
    (void)wins;
    free(base);
    return s;
}

void ls_recommend_mixed_group(const ls_report *r, const ls_report_group *g, ls_recommend_add_fn add, void *ctx)
{
    bool *done = calloc(g->n + 1, sizeof *done);
    double rate = g->n ? g->e[0].row->cfg.arrival_rate : NAN;
    char at[64];
    if (isnan(rate))
        snprintf(at, sizeof at, "For this workload");
    else
        snprintf(at, sizeof at, "At %g req/s", rate);
    for (size_t i = 0; i < g->n; i++) {
        const ls_report_entry *x = &g->e[i];
        if (done[i] || !is_mixed(x))
            continue;
        for (size_t j = i; j < g->n; j++)
            done[j] |= same_scope(&g->e[j], x) && is_mixed(&g->e[j]);
        contest c = contest_of(g, x);
        if (!c.wide && !c.narrow)
            continue;  /* nothing plain to hold it against */
        const ls_report_entry *w = winner(&c);
        char sc[320];
        char *sm = standing(r, c.mix), *sw = c.wide ? standing(r, c.wide) : NULL,
             *sn = c.narrow ? standing(r, c.narrow) : NULL;
        add(ctx, ls_report_strf("%s (%s), mixed replicas against %s%s%s: %s wins (%s; %s%s%s).", at,
                                scope_name(x, sc, sizeof sc), c.wide ? STRAT(c.wide) : "",
                                c.wide && c.narrow ? " and " : "", c.narrow ? STRAT(c.narrow) : "",
                                w == c.mix ? "the mix" : STRAT(w), sm, sw ? sw : "", sw && sn ? "; " : "",
                                sn ? sn : ""));
        free(sm);
        free(sw);
        free(sn);
        add(ctx, mix_why(r, c.mix, w == c.mix));
        const ls_report_entry *lose = w == c.mix ? NULL : w;
        if (lose && ran(lose) && lose->violations)
            add(ctx, ls_report_strf("%s misses the SLO as well (%s): at this load none of the three serves it.",
                                    WHO(r, lose), ls_loss_name(lose->loss)));
        if (c.plain && c.plain != w && cmp(c.plain, w) < 0)
            add(ctx, ls_report_strf("Among all strategies of these GPUs, %s does better than all three (goodput %s "
                                    "req/s, TTFT p99 %s).",
                                    WHO(r, c.plain), RATE(V(c.plain, LS_M_GOODPUT_RPS)),
                                    LAT(V(c.plain, LS_M_TTFT_P99_S))));
    }
    free(done);
}

void ls_recommend_mixed_summary(const ls_report *r, ls_recommend_add_fn add, void *ctx)
{
    /* scopes: the first mixed row of each, over all groups */
    for (size_t g0 = 0; g0 < r->n_groups; g0++)
        for (size_t i0 = 0; i0 < r->groups[g0].n; i0++) {
            const ls_report_entry *x = &r->groups[g0].e[i0];
            if (!is_mixed(x))
                continue;
            bool seen = false;
            for (size_t g = 0; g <= g0 && !seen; g++)
                for (size_t i = 0; i < r->groups[g].n && !seen; i++) {
                    const ls_report_entry *y = &r->groups[g].e[i];
                    if (y == x)
                        break;
                    seen = is_mixed(y) && same_scope(x, y);
                }
            if (seen)
                continue;
            char list[2048] = "", caps[512] = "";
            size_t o = 0, n_loads = 0;
            const ls_report_entry *cap[3] = {NULL, NULL, NULL};  /* the most capacity: mix, wide, narrow */
            const char *wide_name = NULL, *narrow_name = NULL;
            char wn[128] = "", nn[128] = "";
            for (size_t g = 0; g < r->n_groups && o < sizeof list; g++) {
                contest c = contest_of(&r->groups[g], x);
                if (!c.mix || (!c.wide && !c.narrow))
                    continue;
                if (c.wide && !wide_name)
                    wide_name = ls_report_strategy_name(c.wide->row->cfg.parallelism, wn, sizeof wn);
                if (c.narrow && !narrow_name)
                    narrow_name = ls_report_strategy_name(c.narrow->row->cfg.parallelism, nn, sizeof nn);
                const ls_report_entry *w = winner(&c);
                double rate = c.mix->row->cfg.arrival_rate;
                o += (size_t)snprintf(list + o, sizeof list - o, "%sat %g req/s %s%s (goodput %s req/s)",
                                      n_loads ? "; " : "", rate, w->violations ? "none meets the SLO, closest " : "",
                                      w == c.mix ? WHO(r, w) : STRAT(w), RATE(V(w, LS_M_GOODPUT_RPS)));
                n_loads++;
                const ls_report_entry *k[3] = {c.mix, c.wide, c.narrow};
                for (int t = 0; t < 3; t++)
                    if (k[t] && isfinite(V(k[t], LS_M_CAPACITY_RPS)) &&
                        (!cap[t] || V(k[t], LS_M_CAPACITY_RPS) > V(cap[t], LS_M_CAPACITY_RPS)))
                        cap[t] = k[t];
            }
            if (!n_loads)
                continue;
            if (cap[0]) {
                size_t q = (size_t)snprintf(caps, sizeof caps, " Capacity (the highest rate within the SLO): %s %s "
                                            "req/s",
                                            WHO(r, cap[0]), RATE(V(cap[0], LS_M_CAPACITY_RPS)));
                for (int t = 1; t < 3 && q < sizeof caps; t++)
                    if (cap[t])
                        q += (size_t)snprintf(caps + q, sizeof caps - q, ", %s %s req/s", STRAT(cap[t]),
                                              RATE(V(cap[t], LS_M_CAPACITY_RPS)));
                if (q < sizeof caps)
                    snprintf(caps + q, sizeof caps - q, ".");
            }
            char sc[320];
            add(ctx, ls_report_strf("Mixed replicas against %s%s%s (%s), the winner by load: %s.%s",
                                    wide_name ? wide_name : "", wide_name && narrow_name ? " and " : "",
                                    narrow_name ? narrow_name : "", scope_name(x, sc, sizeof sc), list, caps));
        }
}
