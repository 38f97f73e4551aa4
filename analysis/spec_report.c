/* spec_report.c -- speculative rows against their baselines, the gain against
 * load and the crossover (spec_report.h; docs/REPORT.md, "Speculative decoding"). */
#include "spec_report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_key.h"
#include "report_internal.h"

static bool is_plain(const ls_report_entry *x)
{
    return !strcmp(x->row->cfg.speculative, "none") || !x->row->cfg.speculative[0];
}

void ls_spec_report_pair(ls_report *r)
{
    size_t n;
    ls_report_keyed *v = ls_report_keyed_all(r, ls_config_row_baseline_key, &n);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && !strcmp(v[j].key, v[i].key))
            j++;
        const ls_report_entry *base = NULL;
        for (size_t k = i; k < j && !base; k++)
            if (is_plain(v[k].x) && v[k].x->row->has_result)
                base = v[k].x;
        for (size_t k = i; k < j; k++)
            v[k].x->baseline = is_plain(v[k].x) ? NULL : base;
        i = j;
    }
    ls_report_keyed_free(v, n);
}

int ls_spec_crossover(const double *rate, const double *gain, size_t n, double *at)
{
    *at = NAN;
    for (size_t i = 0; i + 1 < n; i++)
        if (gain[i] >= 1 && gain[i + 1] < 1) {
            /* the gain linear in the rate between the two listed loads */
            double f = (gain[i] - 1) / (gain[i] - gain[i + 1]);
            *at = rate[i] + f * (rate[i + 1] - rate[i]);
            return (int)i;
        }
    return -1;
}

static int cmp_point(const void *pa, const void *pb)
{
    const ls_spec_point *a = pa, *b = pb;
    if (a->rate != b->rate)
        return a->rate < b->rate ? -1 : 1;
    return (a->x->row->config_id > b->x->row->config_id) - (a->x->row->config_id < b->x->row->config_id);
}

static int cmp_series(const void *pa, const void *pb)
{
    const ls_spec_series *a = pa, *b = pb;
    int64_t ia = a->p[0].x->row->config_id, ib = b->p[0].x->row->config_id;
    for (size_t i = 1; i < a->n; i++)
        ia = a->p[i].x->row->config_id < ia ? a->p[i].x->row->config_id : ia;
    for (size_t i = 1; i < b->n; i++)
        ib = b->p[i].x->row->config_id < ib ? b->p[i].x->row->config_id : ib;
    return (ia > ib) - (ia < ib);
}

static bool usable(const ls_report_entry *x)
{
    const ls_report_entry *b = x->baseline;
    return b && x->row->has_result && b->row->has_result && x->row->m.status == LS_RUN_OK &&
           b->row->m.status == LS_RUN_OK && isfinite(ls_report_v(x, LS_M_SPEC_TPOT_GAIN));
}

ls_spec_study *ls_spec_study_build(const ls_report *r)
{
    ls_spec_study *st = ls_xcalloc(1, sizeof *st);
    size_t n;
    ls_report_keyed *v = ls_report_keyed_all(r, ls_config_row_capacity_key, &n);
    st->s = ls_xcalloc(n + 1, sizeof *st->s);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && !strcmp(v[j].key, v[i].key))
            j++;
        ls_spec_series *s = &st->s[st->n];
        s->p = ls_xcalloc(j - i, sizeof *s->p);
        for (size_t k = i; k < j; k++)
            if (usable(v[k].x))
                s->p[s->n++] = (ls_spec_point){v[k].x, v[k].x->row->cfg.arrival_rate,
                                               ls_report_v(v[k].x, LS_M_SPEC_TPOT_GAIN)};
        if (s->n) {
            qsort(s->p, s->n, sizeof *s->p, cmp_point);
            double *rate = ls_xcalloc(s->n, sizeof *rate), *gain = ls_xcalloc(s->n, sizeof *gain);
            for (size_t k = 0; k < s->n; k++)
                rate[k] = s->p[k].rate, gain[k] = s->p[k].gain;
            s->cross = ls_spec_crossover(rate, gain, s->n, &s->crossover_rps);
            free(rate);
            free(gain);
            st->n++;
        } else {
            free(s->p);
            s->p = NULL;
        }
        i = j;
    }
    ls_report_keyed_free(v, n);
    qsort(st->s, st->n, sizeof *st->s, cmp_series);
    return st;
}

void ls_spec_study_free(ls_spec_study *st)
{
    if (!st)
        return;
    for (size_t i = 0; i < st->n; i++)
        free(st->s[i].p);
    free(st->s);
    free(st);
}

/* ---------------------------------------------------------------- sentences */

#define RATE(v) ls_report_fmt_rate((v), (char[24]){0}, 24)
#define LAT(v) ls_report_fmt_lat((v), (char[24]){0}, 24)

static void push(char ***out, size_t *n, size_t *cap, char *s)
{
    if (*n == *cap) {
        *cap = *cap ? 2 * *cap : 8;
        *out = ls_xrealloc(*out, *cap * sizeof **out);
    }
    (*out)[(*n)++] = s;
}

/* "2.10x at 1 req/s, 0.93x at 4 req/s" */
static void gains_text(const ls_spec_series *s, char *buf, size_t size)
{
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < s->n && o < size; i++) {
        int w = isnan(s->p[i].rate)
                    ? snprintf(buf + o, size - o, "%s%.2fx", i ? ", " : "", s->p[i].gain)
                    : snprintf(buf + o, size - o, "%s%.2fx at %g req/s", i ? ", " : "", s->p[i].gain,
                               s->p[i].rate);
        if (w < 0)
            break;
        o += (size_t)w;
    }
}

/* k of a /configs label "eagle k3 a0.7" (0 when it does not say). */
static int label_k(const char *label)
{
    const char *p = strstr(label, " k");
    int k = 0;
    return p && sscanf(p + 2, "%d", &k) == 1 ? k : 0;
}

static double batch(const ls_spec_point *p)
{
    return ls_report_v(p->x->baseline, LS_M_MEAN_BATCH_SIZE);
}

/* Why the gain moves with load: the batch and MFU at the ends of the series. */
static char *why_text(const ls_spec_series *s)
{
    const ls_spec_point *lo = &s->p[0], *hi = &s->p[s->n - 1];
    int k = label_k(lo->x->row->cfg.speculative);
    double tok = ls_report_v(lo->x, LS_M_SPEC_MEAN_ACCEPTED_TOKENS);
    char kk[48] = "the k + 1 tokens";
    if (k > 0)
        snprintf(kk, sizeof kk, "the k + 1 = %d tokens", k + 1);
    return ls_report_strf(
        "at %g req/s (mean batch %.1f without speculation) a step is bound by reading the weights, so "
        "verifying %s of each request costs little more than one decode, and a step yields %.2f tokens "
        "per request; at %g req/s (mean batch %.1f) the steps carry many more tokens and near the compute "
        "bound (MFU %.0f%% -> %.0f%% with speculation), so the verified tokens are paid more and more in "
        "full",
        lo->rate, batch(lo), kk, tok, hi->rate, batch(hi), 100 * ls_report_v(lo->x, LS_M_MFU_MEAN),
        100 * ls_report_v(hi->x, LS_M_MFU_MEAN));
}

/* Why a series gains at every listed load: what the drafts add to the
 * heaviest step, and what a step yields. "" when the file lacks the numbers. */
static char *pays_text(const ls_spec_series *s)
{
    const ls_spec_point *hi = &s->p[s->n - 1];
    int k = label_k(hi->x->row->cfg.speculative);
    double b = batch(hi), tokens = ls_report_v(hi->x->baseline, LS_M_MEAN_BATCH_TOKENS);
    double tok = ls_report_v(hi->x, LS_M_SPEC_MEAN_ACCEPTED_TOKENS);
    if (!(k > 0 && b > 0 && tokens > 0 && tok > 0))
        return ls_xstrdup(hi->gain < s->p[0].gain ? "the gain shrinks as batches grow, so the crossover "
                                                    "lies above the highest listed rate"
                                                  : "");
    /* at most every request of the step decodes: k drafts each */
    double extra = 100 * k * b / tokens;
    return ls_report_strf(
        "even at %g req/s a step without speculation carries %.0f tokens for %.1f requests%s, so the %d "
        "drafts per request add at most %.0f%% to its tokens while a verification step yields %.2f "
        "tokens per request%s",
        hi->rate, tokens, b, tokens > 4 * b ? " (mostly prompt chunks)" : "", k, extra, tok,
        hi->gain < s->p[0].gain ? "; the gain shrinks as batches grow, so the crossover lies above the "
                                  "highest listed rate"
                                : "");
}

/* Why speculation moves the capacity: which SLO part the speculative rows
 * miss first above it. */
static char *capacity_text(const ls_spec_series *s, double cs, double cb)
{
    int k = label_k(s->p[0].x->row->cfg.speculative);
    if (cs >= cb * 0.99 && cs <= cb * 1.01)
        return ls_xstrdup("the same within 1%");
    const ls_spec_point *above = NULL;
    for (size_t i = 0; i < s->n && !above; i++)
        if (s->p[i].rate > cs && s->p[i].x->violations)
            above = &s->p[i];
    if (cs > cb)
        return ls_xstrdup("speculation raises it: the TPOT it saves keeps the SLO met at a higher rate");
    double tg;
    if (!above) {
        /* every listed rate meets the SLO: the limit nearest at the highest one binds first */
        const ls_spec_point *hi = &s->p[s->n - 1];
        const ls_report_entry *x = hi->x;
        double ttft = ls_report_v(x, LS_M_TTFT_P99_S), tpot = ls_report_v(x, LS_M_TPOT_P99_S);
        tg = ls_report_v(x, LS_M_SPEC_TTFT_GAIN);
        if (!(ttft / x->slo.ttft_p99_s > tpot / x->slo.tpot_p99_s))
            return ls_xstrdup("speculation lowers it");
        return ls_report_strf("speculation lowers it: at %g req/s its TTFT p99 is %s of the %s limit "
                              "while TPOT p99 is %s of %s, so TTFT binds, and speculation raises TTFT "
                              "(TTFT gain %.2fx there: the drafts take %d slots of the token budget per "
                              "decode, and the proposer runs over the prompt chunks too)",
                              hi->rate, LAT(ttft), LAT(x->slo.ttft_p99_s), LAT(tpot), LAT(x->slo.tpot_p99_s),
                              tg, k);
    }
    tg = ls_report_v(above->x, LS_M_SPEC_TTFT_GAIN);
    if (above->x->violations & LS_SLO_TTFT)
        return ls_report_strf("speculation lowers it, as TTFT p99 is the limit it misses first (at %g req/s) "
                              "and speculation raises TTFT (TTFT gain %.2fx there: the drafts take %d slots "
                              "of the token budget per decode, and the proposer runs over the prompt "
                              "chunks too)", above->rate, tg, k);
    return ls_report_strf("speculation lowers it (at %g req/s it misses the SLO on %s)", above->rate,
                          (above->x->violations & LS_SLO_TPOT) ? "TPOT p99" : "completed requests");
}

void ls_spec_report_sentences(const ls_report *r, const ls_spec_study *st, char ***out, size_t *n,
                              size_t *cap)
{
    for (size_t i = 0; i < st->n; i++) {
        const ls_spec_series *s = &st->s[i];
        const ls_spec_point *lo = &s->p[0], *hi = &s->p[s->n - 1];
        char who[512], gains[1024];
        ls_report_who(r, lo->x, who, sizeof who);
        if (!strstr(who, lo->x->row->cfg.speculative)) {  /* --by speculative: name it anyway */
            size_t w = strlen(who);
            snprintf(who + w, sizeof who - w, " with %s", lo->x->row->cfg.speculative);
        }
        gains_text(s, gains, sizeof gains);
        bool rated = !isnan(lo->rate);
        if (s->cross >= 0) {
            char *why = why_text(s);
            push(out, n, cap,
                 ls_report_strf("%s: TPOT gain %s against the same configuration without speculation. "
                                "Speculation wins below about %s req/s (the gain falls through 1 between "
                                "%g and %g req/s) and the configuration without it wins above: %s.",
                                who, gains, RATE(s->crossover_rps), s->p[s->cross].rate,
                                s->p[s->cross + 1].rate, why));
            free(why);
        } else if (s->n > 1 && rated && lo->gain >= 1 && hi->gain >= 1) {
            char *why = pays_text(s);
            push(out, n, cap,
                 ls_report_strf("%s: TPOT gain %s against the same configuration without speculation: "
                                "it wins at every listed load up to %g req/s%s%s.",
                                who, gains, hi->rate, why[0] ? ": " : "", why));
            free(why);
        } else if (s->n > 1 && rated && lo->gain < 1 && hi->gain < 1) {
            push(out, n, cap,
                 ls_report_strf("%s: TPOT gain %s: speculation costs TPOT at every listed load, from %g "
                                "req/s (a step yields %.2f tokens per request, less than the verification "
                                "of its drafts costs); run without it.",
                                who, gains, lo->rate, ls_report_v(lo->x, LS_M_SPEC_MEAN_ACCEPTED_TOKENS)));
        } else {
            push(out, n, cap,
                 ls_report_strf("%s: TPOT gain %s against the same configuration without speculation%s.",
                                who, gains,
                                lo->gain >= 1 ? "" : ": it costs TPOT here, run without it"));
        }
        double cs = lo->x->capacity, cb = lo->x->baseline->capacity;
        if (!isnan(cs) && !isnan(cb)) {
            char *why = capacity_text(s, cs, cb);
            push(out, n, cap,
                 ls_report_strf("Capacity under the SLO (bisection on the rate): %s req/s with speculation "
                                "against %s req/s without; %s.",
                                RATE(cs), RATE(cb), why));
            free(why);
        }
    }
}
