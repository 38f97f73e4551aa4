/* dist.c -- length distributions: parsing, canonical text, sampling, CDFs. */
#include <assert.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist.h"
#include "reader.h"
#include "trace.h"

#define ZIPF_MAX_SUPPORT 10000000

void ls_fmt_double(char *buf, size_t size, double x)
{
    for (int prec = 6; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, x);
        if (strtod(buf, NULL) == x)
            return;
    }
}

void ls_dist_free(ls_dist *d)
{
    if (!d)
        return;
    free(d->zcdf);
    free(d->file);
    free(d->format);
    free(d->ep);
    free(d->eo);
    memset(d, 0, sizeof *d);
}

void ls_dist_copy(ls_dist *dst, const ls_dist *src)
{
    *dst = *src;
    if (src->zcdf) {
        dst->zcdf = ls_xmalloc((size_t)src->zmax * sizeof *dst->zcdf);
        memcpy(dst->zcdf, src->zcdf, (size_t)src->zmax * sizeof *dst->zcdf);
    }
    dst->file = src->file ? ls_xstrdup(src->file) : NULL;
    dst->format = src->format ? ls_xstrdup(src->format) : NULL;
    if (src->en) {
        dst->ep = ls_xmalloc(src->en * sizeof *dst->ep);
        dst->eo = ls_xmalloc(src->en * sizeof *dst->eo);
        memcpy(dst->ep, src->ep, src->en * sizeof *dst->ep);
        memcpy(dst->eo, src->eo, src->en * sizeof *dst->eo);
    }
}

/* ---- parsing ---------------------------------------------------------------- */

static ls_status get_num(const ls_yaml *m, const char *path, const char *key, bool required, double *out,
                         ls_error *e)
{
    const ls_yaml *v = ls_yaml_get(m, key);
    if (!v) {
        if (required) {
            char where[256];
            return ls_fail(e, LS_EINVAL, "%s: %s: missing '%s'", ls_yaml_where(m, where, sizeof where), path,
                           key);
        }
        return LS_OK;
    }
    return ls_yaml_get_double(m, path, key, -INFINITY, false, out, e); /* as_double: finite only */
}

static bool is_count(double x, double lo) { return x == floor(x) && x >= lo && x <= INT32_MAX; }

static ls_status load_empirical(ls_dist *d, const ls_yaml *n, const char *path, ls_error *e)
{
    ls_trace_opts o;
    ls_trace_opts_default(&o);
    if (!ls_trace_format_parse(d->format, &o.format))
        return ls_yaml_fail_at(n, path, "format", "expected auto, native, azure, vidur, lengths, burstgpt or mooncake", e);
    ls_source *s;
    char where[256];
    ls_yaml_where(ls_yaml_get(n, "file"), where, sizeof where);
    ls_status st = ls_trace_open(d->file, &o, &s, e);
    if (st != LS_OK)
        return ls_error_prefix(e, "%s: %s.file", where, path);
    size_t cap = 0;
    for (;;) {
        ls_request r;
        int rc = ls_source_next(s, &r, e);
        if (rc < 0) {
            ls_source_free(s);
            return ls_error_prefix(e, "%s: %s.file", where, path);
        }
        if (rc == 0)
            break;
        if (d->en == cap) {
            cap = cap ? cap * 2 : 4096;
            d->ep = ls_xrealloc(d->ep, cap * sizeof *d->ep);
            d->eo = ls_xrealloc(d->eo, cap * sizeof *d->eo);
        }
        d->ep[d->en] = r.prompt_tokens;
        d->eo[d->en] = r.output_tokens;
        d->en++;
    }
    ls_source_free(s);
    if (!d->en)
        return ls_yaml_fail_at(n, path, "file", "the file has no rows to resample", e);
    return LS_OK;
}

ls_status ls_dist_parse(const ls_yaml *n, const char *path, const char *base_dir, ls_dist_role role, ls_dist *d,
                        ls_error *e)
{
    memset(d, 0, sizeof *d);
    d->role = role;
    d->min = d->max = NAN;
    if (!n || n->kind != LS_YAML_MAP) {
        char where[256];
        return ls_fail(e, LS_EINVAL, "%s: %s: expected a mapping like {dist: lognormal, mu: 8.7, sigma: 0.17}",
                       n ? ls_yaml_where(n, where, sizeof where) : "?", path);
    }
    const ls_yaml *kn = ls_yaml_get(n, "dist");
    if (!kn)
        return ls_yaml_fail_at(n, path, NULL, "missing 'dist' (fixed, uniform, normal, lognormal, zipf or empirical)", e);
    const char *kind;
    char kp[256];
    snprintf(kp, sizeof kp, "%s.dist", path);
    LS_TRY(ls_yaml_as_string(kn, kp, &kind, e));
    ls_status st = LS_OK;
    if (!strcmp(kind, "fixed")) {
        static const char *const keys[] = {"dist", "value", NULL};
        d->kind = LS_DIST_FIXED;
        LS_TRY(ls_yaml_check_keys(n, path, keys, e));
        LS_TRY(get_num(n, path, "value", true, &d->value, e));
        if (!is_count(d->value, 1))
            return ls_yaml_fail_at(n, path, "value", "expected an integer token count >= 1", e);
    } else if (!strcmp(kind, "uniform")) {
        static const char *const keys[] = {"dist", "low", "high", NULL};
        d->kind = LS_DIST_UNIFORM;
        LS_TRY(ls_yaml_check_keys(n, path, keys, e));
        LS_TRY(get_num(n, path, "low", true, &d->low, e));
        LS_TRY(get_num(n, path, "high", true, &d->high, e));
        if (!is_count(d->low, 1))
            return ls_yaml_fail_at(n, path, "low", "expected an integer token count >= 1", e);
        if (!is_count(d->high, d->low))
            return ls_yaml_fail_at(n, path, "high", "expected an integer token count >= low", e);
    } else if (!strcmp(kind, "normal")) {
        static const char *const keys[] = {"dist", "mean", "stddev", "min", "max", NULL};
        d->kind = LS_DIST_NORMAL;
        LS_TRY(ls_yaml_check_keys(n, path, keys, e));
        LS_TRY(get_num(n, path, "mean", true, &d->mean, e));
        LS_TRY(get_num(n, path, "stddev", true, &d->stddev, e));
        LS_TRY(get_num(n, path, "min", false, &d->min, e));
        LS_TRY(get_num(n, path, "max", false, &d->max, e));
        if (!(d->stddev > 0))
            return ls_yaml_fail_at(n, path, "stddev", "expected a standard deviation > 0 (use fixed for a constant)", e);
        if (!isnan(d->min) && !is_count(d->min, 1))
            return ls_yaml_fail_at(n, path, "min", "expected an integer token count >= 1", e);
        if (!isnan(d->max) && !is_count(d->max, isnan(d->min) ? 1 : d->min))
            return ls_yaml_fail_at(n, path, "max", "expected an integer token count >= min and >= 1", e);
    } else if (!strcmp(kind, "lognormal")) {
        static const char *const keys[] = {"dist", "mu", "sigma", "mean", "stddev", NULL};
        d->kind = LS_DIST_LOGNORMAL;
        LS_TRY(ls_yaml_check_keys(n, path, keys, e));
        bool has_mu = ls_yaml_get(n, "mu"), has_sigma = ls_yaml_get(n, "sigma");
        bool has_mean = ls_yaml_get(n, "mean"), has_sd = ls_yaml_get(n, "stddev");
        if (has_mu && has_sigma && !has_mean && !has_sd) {
            LS_TRY(get_num(n, path, "mu", true, &d->mu, e));
            LS_TRY(get_num(n, path, "sigma", true, &d->sigma, e));
            if (!(d->sigma > 0))
                return ls_yaml_fail_at(n, path, "sigma", "expected sigma > 0 (of the underlying normal)", e);
            if (d->mu > 21)
                return ls_yaml_fail_at(n, path, "mu", "expected mu <= 21 (exp(mu) is the median length in tokens)", e);
        } else if (has_mean && has_sd && !has_mu && !has_sigma) {
            d->by_moments = true;
            LS_TRY(get_num(n, path, "mean", true, &d->mean, e));
            LS_TRY(get_num(n, path, "stddev", true, &d->stddev, e));
            if (!(d->mean > 0) || d->mean > 1e9)
                return ls_yaml_fail_at(n, path, "mean", "expected a mean length in tokens > 0", e);
            if (!(d->stddev > 0))
                return ls_yaml_fail_at(n, path, "stddev", "expected a standard deviation of the lengths > 0", e);
            double s2 = log1p((d->stddev / d->mean) * (d->stddev / d->mean));
            d->sigma = sqrt(s2);
            d->mu = log(d->mean) - s2 / 2;
        } else {
            return ls_yaml_fail_at(n, path, NULL,
                       "a lognormal takes exactly one pair: mu and sigma (of the underlying normal), or mean "
                       "and stddev (of the lengths), never a mix",
                       e);
        }
    } else if (!strcmp(kind, "zipf")) {
        static const char *const keys[] = {"dist", "s", "max", NULL};
        d->kind = LS_DIST_ZIPF;
        LS_TRY(ls_yaml_check_keys(n, path, keys, e));
        double mx;
        LS_TRY(get_num(n, path, "s", true, &d->s, e));
        LS_TRY(get_num(n, path, "max", true, &mx, e));
        if (!(d->s > 0) || d->s > 100)
            return ls_yaml_fail_at(n, path, "s", "expected an exponent s in (0, 100]", e);
        if (!is_count(mx, 1) || mx > ZIPF_MAX_SUPPORT)
            return ls_yaml_fail_at(n, path, "max", "expected an integer largest length between 1 and 10000000", e);
        d->zmax = (int64_t)mx;
        d->zcdf = ls_xmalloc((size_t)d->zmax * sizeof *d->zcdf);
        double acc = 0;
        for (int64_t k = 1; k <= d->zmax; k++)
            d->zcdf[k - 1] = (acc += pow((double)k, -d->s));
        for (int64_t k = 0; k < d->zmax; k++)
            d->zcdf[k] /= acc;
        d->zcdf[d->zmax - 1] = 1.0;
    } else if (!strcmp(kind, "empirical")) {
        static const char *const keys[] = {"dist", "file", "format", NULL};
        d->kind = LS_DIST_EMPIRICAL;
        LS_TRY(ls_yaml_check_keys(n, path, keys, e));
        const ls_yaml *f = ls_yaml_get(n, "file");
        if (!f)
            return ls_yaml_fail_at(n, path, NULL, "missing 'file' (a trace or length-only dataset to resample)", e);
        const char *file, *fmt = "auto";
        snprintf(kp, sizeof kp, "%s.file", path);
        LS_TRY(ls_yaml_as_string(f, kp, &file, e));
        if (ls_yaml_get(n, "format")) {
            snprintf(kp, sizeof kp, "%s.format", path);
            LS_TRY(ls_yaml_as_string(ls_yaml_get(n, "format"), kp, &fmt, e));
        }
        d->file = ls_path_join(file, base_dir);
        d->format = ls_xstrdup(fmt);
        st = load_empirical(d, n, path, e);
    } else {
        return ls_yaml_fail_at(n, path, "dist", "expected fixed, uniform, normal, lognormal, zipf or empirical", e);
    }
    if (st != LS_OK)
        ls_dist_free(d);
    return st;
}

ls_status ls_dist_spec_yaml(const char *spec, const char *label, ls_yaml **out, ls_error *e)
{
    *out = NULL;
    ls_yaml *m = ls_yaml_new_map();
    const char *colon = strchr(spec, ':');
    if (!colon && spec[0] >= '0' && spec[0] <= '9') { /* "128": fixed (ls_dist_parse checks the number) */
        ls_yaml_map_set(m, "dist", ls_yaml_new_scalar("fixed", true));
        ls_yaml_map_set(m, "value", ls_yaml_new_scalar(spec, true));
        ls_yaml_set_file(m, label);
        *out = m;
        return LS_OK;
    }
    size_t kl = colon ? (size_t)(colon - spec) : strlen(spec);
    char *kind = ls_xmalloc(kl + 1);
    memcpy(kind, spec, kl);
    kind[kl] = '\0';
    ls_yaml_map_set(m, "dist", ls_yaml_new_scalar(kind, true));
    ls_status st = LS_OK;
    if (colon) {
        char *rest = ls_xstrdup(colon + 1), *save = NULL;
        for (char *tok = strtok_r(rest, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            char *eq = strchr(tok, '=');
            if (!eq) {
                const char *key = !strcmp(kind, "fixed") ? "value" : !strcmp(kind, "empirical") ? "file" : NULL;
                if (!key) {
                    st = ls_fail(e, LS_EINVAL, "'%s': expected KIND:key=value,... (e.g. lognormal:mu=8.7,sigma=0.17)",
                                 spec);
                    break;
                }
                ls_yaml_map_set(m, key, ls_yaml_new_scalar(tok, true));
                continue;
            }
            *eq = '\0';
            ls_yaml_map_set(m, tok, ls_yaml_new_scalar(eq + 1, true));
        }
        free(rest);
    }
    free(kind);
    if (st != LS_OK) {
        ls_yaml_free(m);
        return st;
    }
    ls_yaml_set_file(m, label);
    *out = m;
    return LS_OK;
}

ls_status ls_dist_parse_spec(const char *spec, const char *base_dir, ls_dist_role role, ls_dist *d, ls_error *e)
{
    memset(d, 0, sizeof *d);
    ls_yaml *m;
    LS_TRY(ls_dist_spec_yaml(spec, "<command line>", &m, e));
    ls_status st = ls_dist_parse(m, spec, base_dir, role, d, e);
    ls_yaml_free(m);
    return st;
}

/* ---- text ------------------------------------------------------------------- */

char *ls_dist_canonical(const ls_dist *d)
{
    char a[40], b[40], c[40], x[40], buf[4096];
    switch (d->kind) {
    case LS_DIST_FIXED:
        ls_fmt_double(a, sizeof a, d->value);
        snprintf(buf, sizeof buf, "fixed(value=%s)", a);
        break;
    case LS_DIST_UNIFORM:
        ls_fmt_double(a, sizeof a, d->low);
        ls_fmt_double(b, sizeof b, d->high);
        snprintf(buf, sizeof buf, "uniform(low=%s,high=%s)", a, b);
        break;
    case LS_DIST_NORMAL: {
        ls_fmt_double(a, sizeof a, d->mean);
        ls_fmt_double(b, sizeof b, d->stddev);
        int k = snprintf(buf, sizeof buf, "normal(mean=%s,stddev=%s", a, b);
        if (!isnan(d->min)) {
            ls_fmt_double(c, sizeof c, d->min);
            k += snprintf(buf + k, sizeof buf - (size_t)k, ",min=%s", c);
        }
        if (!isnan(d->max)) {
            ls_fmt_double(x, sizeof x, d->max);
            k += snprintf(buf + k, sizeof buf - (size_t)k, ",max=%s", x);
        }
        snprintf(buf + k, sizeof buf - (size_t)k, ")");
        break;
    }
    case LS_DIST_LOGNORMAL:
        if (d->by_moments) {
            ls_fmt_double(a, sizeof a, d->mean);
            ls_fmt_double(b, sizeof b, d->stddev);
            snprintf(buf, sizeof buf, "lognormal(mean=%s,stddev=%s)", a, b);
        } else {
            ls_fmt_double(a, sizeof a, d->mu);
            ls_fmt_double(b, sizeof b, d->sigma);
            snprintf(buf, sizeof buf, "lognormal(mu=%s,sigma=%s)", a, b);
        }
        break;
    case LS_DIST_ZIPF:
        ls_fmt_double(a, sizeof a, d->s);
        snprintf(buf, sizeof buf, "zipf(s=%s,max=%lld)", a, (long long)d->zmax);
        break;
    case LS_DIST_EMPIRICAL:
        snprintf(buf, sizeof buf, "empirical(file=%s,format=%s,column=%s)", d->file, d->format,
                 d->role == LS_ROLE_PROMPT ? "prompt" : "output");
        break;
    }
    return ls_xstrdup(buf);
}

double ls_dist_mean(const ls_dist *d)
{
    switch (d->kind) {
    case LS_DIST_FIXED:
        return d->value;
    case LS_DIST_UNIFORM:
        return (d->low + d->high) / 2;
    case LS_DIST_NORMAL: {
        double m = d->mean;
        if (!isnan(d->min) && m < d->min)
            m = d->min;
        if (!isnan(d->max) && m > d->max)
            m = d->max;
        return m < 1 ? 1 : m;
    }
    case LS_DIST_LOGNORMAL:
        return exp(d->mu + d->sigma * d->sigma / 2);
    case LS_DIST_ZIPF: {
        double acc = 0, prev = 0;
        for (int64_t k = 0; k < d->zmax; k++) {
            acc += (double)(k + 1) * (d->zcdf[k] - prev);
            prev = d->zcdf[k];
        }
        return acc;
    }
    case LS_DIST_EMPIRICAL: {
        double acc = 0;
        const int32_t *v = d->role == LS_ROLE_PROMPT ? d->ep : d->eo;
        for (size_t i = 0; i < d->en; i++)
            acc += v[i] < 1 ? 1 : v[i];
        return d->en ? acc / (double)d->en : NAN;
    }
    }
    return NAN;
}

/* ---- sampling ----------------------------------------------------------------- */

static int32_t clamp_len(double x)
{
    if (!(x >= 1))
        return 1;
    if (x >= INT32_MAX)
        return INT32_MAX;
    return (int32_t)llround(x);
}

static int64_t zipf_draw(const ls_dist *d, ls_rng *r)
{
    double u = ls_rng_uniform(r);
    int64_t lo = 0, hi = d->zmax - 1; /* first k with cdf[k] > u */
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (d->zcdf[mid] > u)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo + 1;
}

double ls_dist_sample_real(const ls_dist *d, ls_rng *r)
{
    switch (d->kind) {
    case LS_DIST_FIXED:
        return d->value;
    case LS_DIST_UNIFORM:
        return d->low + (double)ls_rng_below(r, (uint64_t)(d->high - d->low) + 1);
    case LS_DIST_NORMAL:
        return d->mean + d->stddev * ls_rng_normal(r);
    case LS_DIST_LOGNORMAL:
        return exp(d->mu + d->sigma * ls_rng_normal(r));
    case LS_DIST_ZIPF:
        return (double)zipf_draw(d, r);
    case LS_DIST_EMPIRICAL: {
        size_t i = (size_t)ls_rng_below(r, d->en);
        return d->role == LS_ROLE_PROMPT ? d->ep[i] : d->eo[i];
    }
    }
    return NAN;
}

int32_t ls_dist_sample(const ls_dist *d, ls_rng *r)
{
    double x = ls_dist_sample_real(d, r);
    if (d->kind == LS_DIST_NORMAL) {
        x = nearbyint(x);
        if (!isnan(d->min) && x < d->min)
            x = d->min;
        if (!isnan(d->max) && x > d->max)
            x = d->max;
    }
    return clamp_len(x);
}

void ls_dist_sample_pair(const ls_dist *d, ls_rng *r, int32_t *prompt, int32_t *output)
{
    assert(d->kind == LS_DIST_EMPIRICAL && d->en);
    size_t i = (size_t)ls_rng_below(r, d->en);
    *prompt = d->ep[i] < 1 ? 1 : d->ep[i];
    *output = d->eo[i] < 1 ? 1 : d->eo[i];
}

double ls_dist_cdf(const ls_dist *d, double x)
{
    switch (d->kind) {
    case LS_DIST_FIXED:
        return x >= d->value ? 1.0 : 0.0;
    case LS_DIST_UNIFORM: {
        double k = floor(x);
        if (k < d->low)
            return 0;
        if (k >= d->high)
            return 1;
        return (k - d->low + 1) / (d->high - d->low + 1);
    }
    case LS_DIST_NORMAL:
        return 0.5 * erfc(-(x - d->mean) / (d->stddev * M_SQRT2));
    case LS_DIST_LOGNORMAL:
        return x <= 0 ? 0 : 0.5 * erfc(-(log(x) - d->mu) / (d->sigma * M_SQRT2));
    case LS_DIST_ZIPF: {
        double k = floor(x);
        if (k < 1)
            return 0;
        if (k >= (double)d->zmax)
            return 1;
        return d->zcdf[(int64_t)k - 1];
    }
    case LS_DIST_EMPIRICAL: {
        const int32_t *v = d->role == LS_ROLE_PROMPT ? d->ep : d->eo;
        size_t c = 0;
        for (size_t i = 0; i < d->en; i++)
            c += v[i] <= x;
        return (double)c / (double)d->en;
    }
    }
    return NAN;
}
