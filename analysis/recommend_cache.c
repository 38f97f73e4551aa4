/* recommend_cache.c -- what prefix caching and a host KV tier change (rule in recommend_cache.h). */
#include "recommend_cache.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_internal.h"

#define MAX_SETTINGS 8

typedef struct setting {
    char caching[24];              /* enable_prefix_caching as the tables print it: "0" / "1" */
    char tier[LS_CFG_LONGSTR + 1]; /* kv_offload: "none" or "grace 100 c2c" */
} setting;

static void setting_of(const ls_report_entry *x, setting *s)
{
    ls_results_cfg_text(x->row, "enable_prefix_caching", s->caching, sizeof s->caching);
    ls_results_cfg_text(x->row, "kv_offload", s->tier, sizeof s->tier);
}

static bool same_setting(const setting *a, const setting *b)
{
    return !strcmp(a->caching, b->caching) && !strcmp(a->tier, b->tier);
}

static bool caching_on(const setting *s)
{
    return strcmp(s->caching, "0") && s->caching[0];
}

static bool has_tier(const setting *s)
{
    return strcmp(s->tier, "none") && s->tier[0];
}

static bool is_cache_column(const char *name)
{
    return !strcmp(name, "enable_prefix_caching") || !strcmp(name, "kv_offload");
}

/* x and y are the same configuration but for their cache settings. */
static bool same_but_cache(const ls_report *r, const ls_report_entry *x, const ls_report_entry *y)
{
    char a[LS_CFG_LONGSTR + 1], b[LS_CFG_LONGSTR + 1];
    for (size_t k = 0; k < r->n_axes; k++) {
        const char *name = ls_config_columns[r->axes[k]].name;
        if (!is_cache_column(name) &&
            strcmp(ls_results_cfg_text(x->row, name, a, sizeof a), ls_results_cfg_text(y->row, name, b, sizeof b)))
            return false;
    }
    return true;
}

/* "TP=4×PP=2 (gh200-quad, fp8)": the label without the cache settings (the sentence says them). */
static const char *who(const ls_report *r, const ls_report_entry *x, char *buf, size_t size)
{
    static const char *const skip[] = {"enable_prefix_caching", "kv_offload", NULL};
    return ls_report_who_except(r->axes, r->n_axes, skip, x, buf, size);
}

#define WHO(r, x) who((r), (x), (char[512]){0}, 512)
#define STRAT(x) ls_report_strategy_name((x)->row->cfg.parallelism, (char[128]){0}, 128)
#define LAT(v) ls_report_fmt_lat((v), (char[24]){0}, 24)
#define RATE(v) ls_report_fmt_rate((v), (char[24]){0}, 24)

static double goodput(const ls_report_entry *x)
{
    return ls_report_v(x, LS_M_GOODPUT_RPS);
}

/* "+35%" (relative change of b over a; "" when a is not positive). */
static const char *gain(double a, double b, char *buf, size_t size)
{
    if (a > 0 && isfinite(b))
        snprintf(buf, size, "%+.0f%%", 100 * (b / a - 1));
    else
        snprintf(buf, size, "from none");
    return buf;
}
#define GAIN(a, b) gain((a), (b), (char[32]){0}, 32)

typedef struct per_setting {
    setting s;
    const ls_report_entry *best;  /* first SLO-meeting entry in display order, NULL none */
    const ls_report_entry *top;   /* first entry that ran (display order: highest goodput) */
    const ls_report_entry *cap;   /* most capacity, NULL none */
} per_setting;

static bool ran(const ls_report_entry *x)
{
    return x->row->has_result && x->row->m.status == LS_RUN_OK;
}

/* Whether strategy `par` meets the SLO within the 1% tie of setting k's best. */
static bool strategy_in_tie(const ls_report_group *g, const per_setting *k, const char *par)
{
    if (!k->best)
        return false;
    for (size_t i = 0; i < g->n; i++) {
        const ls_report_entry *y = &g->e[i];
        setting s;
        setting_of(y, &s);
        if (same_setting(&s, &k->s) && !y->violations && !strcmp(y->row->cfg.parallelism, par) &&
            goodput(y) >= goodput(k->best) * (1 - LS_RANK_TIE))
            return true;
    }
    return false;
}

/* The configuration whose goodput the setting raises most over the reference (same configuration
 * otherwise); NULL when none gains more than the tie. *from gets its reference twin. */
static const ls_report_entry *helps_most(const ls_report *r, const ls_report_group *g, const per_setting *k,
                                         const per_setting *ref, const ls_report_entry **from)
{
    const ls_report_entry *best = NULL;
    double most = 0;
    for (size_t i = 0; i < g->n; i++) {
        const ls_report_entry *y = &g->e[i];
        setting sy;
        setting_of(y, &sy);
        if (!ran(y) || !same_setting(&sy, &k->s))
            continue;
        for (size_t j = 0; j < g->n; j++) {
            const ls_report_entry *x = &g->e[j];
            setting sx;
            setting_of(x, &sx);
            if (!ran(x) || !same_setting(&sx, &ref->s) || !same_but_cache(r, x, y))
                continue;
            double d = goodput(y) - goodput(x);
            if (d > most && d > LS_RANK_TIE * goodput(y)) {
                most = d;
                best = y;
                *from = x;
            }
        }
    }
    return best;
}

static void one_setting(const ls_report *r, const ls_report_group *g, const per_setting *k, const per_setting *ref,
                        ls_recommend_sink add, void *ctx)
{
    char name[LS_CFG_LONGSTR + 96], without[LS_CFG_LONGSTR + 64], at[64];
    double rate = g->n ? g->e[0].row->cfg.arrival_rate : NAN;
    if (isnan(rate))
        snprintf(at, sizeof at, "for this workload");
    else
        snprintf(at, sizeof at, "at %g req/s", rate);
    if (!has_tier(&k->s)) {
        snprintf(name, sizeof name, "Prefix caching");
        snprintf(without, sizeof without, "without it");
    } else if (caching_on(&ref->s)) {
        snprintf(name, sizeof name, "A host KV tier (kv_offload %s) on top of prefix caching", k->s.tier);
        snprintf(without, sizeof without, "with caching alone");
    } else {
        snprintf(name, sizeof name, "Prefix caching with a host KV tier (kv_offload %s)", k->s.tier);
        snprintf(without, sizeof without, "without either");
    }
    const ls_report_entry *a = ref->best, *b = k->best;
    char *s;
    if (!a && !b) {
        if (!ref->top || !k->top)
            return;
        s = ls_report_strf("%s makes no configuration meet the SLO %s: the best goodput is %s req/s (%s) "
                           "%s and %s req/s (%s) with it.",
                           name, at, RATE(goodput(ref->top)), WHO(r, ref->top), without, RATE(goodput(k->top)),
                           WHO(r, k->top));
    } else if (!a) {
        s = ls_report_strf("%s makes the difference %s: %s no configuration meets the SLO (best goodput %s "
                           "req/s, %s); with it %s does, goodput %s req/s, TTFT p99 %s.",
                           name, at, without, ref->top ? RATE(goodput(ref->top)) : "-",
                           ref->top ? WHO(r, ref->top) : "none ran", WHO(r, b), RATE(goodput(b)),
                           LAT(ls_report_v(b, LS_M_TTFT_P99_S)));
    } else if (!b) {
        s = ls_report_strf("%s costs the SLO %s: %s %s meets it (goodput %s req/s), with it no configuration "
                           "does.",
                           name, at, without, WHO(r, a), RATE(goodput(a)));
    } else {
        const char *pa = a->row->cfg.parallelism, *pb = b->row->cfg.parallelism;
        double ga = goodput(a), gb = goodput(b);
        double ta = ls_report_v(a, LS_M_TTFT_P99_S), tb = ls_report_v(b, LS_M_TTFT_P99_S);
        if (!strcmp(pa, pb))
            s = ls_report_strf("%s does not change the best strategy %s: %s stays best, its goodput %s → %s req/s "
                               "(%s) and TTFT p99 %s → %s.",
                               name, at, STRAT(b), RATE(ga), RATE(gb), GAIN(ga, gb), LAT(ta), LAT(tb));
        else if (strategy_in_tie(g, k, pa) || strategy_in_tie(g, ref, pb))
            s = ls_report_strf("%s does not change the best strategy %s beyond the %g%% goodput tie: %s %s, "
                               "goodput %s req/s, TTFT p99 %s; with it %s, goodput %s req/s (%s), TTFT p99 %s.",
                               name, at, 100 * LS_RANK_TIE, without, WHO(r, a), RATE(ga), LAT(ta), WHO(r, b),
                               RATE(gb), GAIN(ga, gb), LAT(tb));
        else
            s = ls_report_strf("%s changes the best strategy %s: %s it is %s, goodput %s req/s, TTFT p99 %s; with "
                               "it %s, goodput %s req/s (%s), TTFT p99 %s.",
                               name, at, without, WHO(r, a), RATE(ga), LAT(ta), WHO(r, b), RATE(gb),
                               GAIN(ga, gb), LAT(tb));
    }
    /* the strategy it helps most, and the capacity of the best, when they say more */
    const ls_report_entry *from = NULL, *most = helps_most(r, g, k, ref, &from);
    char extra[1024] = "";
    size_t o = 0;
    if (most && !(b && most == b))
        o += (size_t)snprintf(extra + o, sizeof extra - o, " It helps %s most: goodput %s → %s req/s (%s).",
                              WHO(r, most), RATE(goodput(from)), RATE(goodput(most)),
                              GAIN(goodput(from), goodput(most)));
    if (r->has_capacity && ref->cap && k->cap && o < sizeof extra)
        snprintf(extra + o, sizeof extra - o, " The most capacity: %s %s req/s (%s), with it %s req/s (%s), %s.",
                 without, RATE(ref->cap->capacity), WHO(r, ref->cap), RATE(k->cap->capacity), WHO(r, k->cap),
                 GAIN(ref->cap->capacity, k->cap->capacity));
    if (extra[0]) {
        char *t = ls_report_strf("%s%s", s, extra);
        free(s);
        s = t;
    }
    add(ctx, s);
}

void ls_recommend_cache(const ls_report *r, const ls_report_group *g, ls_recommend_sink add, void *ctx)
{
    per_setting k[MAX_SETTINGS];
    size_t n = 0;
    for (size_t i = 0; i < g->n; i++) {
        const ls_report_entry *x = &g->e[i];
        setting s;
        setting_of(x, &s);
        size_t j = 0;
        while (j < n && !same_setting(&k[j].s, &s))
            j++;
        if (j == n) {
            if (n == MAX_SETTINGS)
                continue;
            memset(&k[n], 0, sizeof k[n]);
            k[n++].s = s;
        }
        if (!k[j].best && ran(x) && !x->violations)
            k[j].best = x;
        if (!k[j].top && ran(x))
            k[j].top = x;
        if (!isnan(x->capacity) && (!k[j].cap || x->capacity > k[j].cap->capacity))
            k[j].cap = x;
    }
    if (n < 2)
        return;
    const per_setting *off = NULL, *alone = NULL;
    for (size_t j = 0; j < n; j++) {
        if (!caching_on(&k[j].s) && !has_tier(&k[j].s))
            off = &k[j];
        if (caching_on(&k[j].s) && !has_tier(&k[j].s))
            alone = &k[j];
    }
    /* caching against none first, then each tier against caching alone (else against none) */
    if (off && alone)
        one_setting(r, g, alone, off, add, ctx);
    for (size_t j = 0; j < n; j++)
        if (has_tier(&k[j].s) && (alone || off))
            one_setting(r, g, &k[j], alone ? alone : off, add, ctx);
}
