/* report_text.c -- the words and numbers every part of the report shares: number
 * formats, strategy and configuration names, an entry's values.
 *
 * A leaf: report.c (grouping, SLO, ranking), recommend.c (recommendations) and
 * report_format.c (layout) all use it; it calls none of them. */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_internal.h"
#include "spec_gain.h"

char *ls_report_strf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = ls_xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

const char *ls_report_fmt_lat(double s, char *buf, size_t size)
{
    if (isnan(s))
        snprintf(buf, size, "-");
    else if (s < 0.01)
        snprintf(buf, size, "%.1fms", s * 1e3);
    else if (s < 1)
        snprintf(buf, size, "%.0fms", s * 1e3);
    else if (s < 10)
        snprintf(buf, size, "%.2fs", s);
    else if (s < 100)
        snprintf(buf, size, "%.1fs", s);
    else
        snprintf(buf, size, "%.0fs", s);
    return buf;
}

const char *ls_report_fmt_rate(double r, char *buf, size_t size)
{
    if (isnan(r))
        snprintf(buf, size, "-");
    else if (r < 10)
        snprintf(buf, size, "%.2f", r);
    else if (r < 100)
        snprintf(buf, size, "%.1f", r);
    else
        snprintf(buf, size, "%.0f", r);
    return buf;
}

const char *ls_report_fmt_pct(double f, char *buf, size_t size)
{
    if (isnan(f))
        snprintf(buf, size, "-");
    else if (f < 1 && f >= 0.9995)
        snprintf(buf, size, "99.9"); /* never round a failure up to 100 */
    else
        snprintf(buf, size, "%.1f", f * 100);
    return buf;
}

const char *ls_report_fmt_count(double c, char *buf, size_t size)
{
    if (isnan(c))
        snprintf(buf, size, "-");
    else
        snprintf(buf, size, "%.0f", c);
    return buf;
}

const char *ls_report_fmt_below(double r, char *buf, size_t size)
{
    /* the shortest of 3 to 6 significant digits that is not below r (a floor of target/16
     * prints whole), else r rounded up at 3 */
    for (int prec = 3; prec <= 6; prec++) {
        snprintf(buf, size, "<%.*g", prec, r);
        if (!(strtod(buf + 1, NULL) < r))
            return buf;
    }
    double step = pow(10, floor(log10(r)) - 2);
    snprintf(buf, size, "<%.3g", ceil(r / step) * step);
    return buf;
}

const char *ls_report_fmt_atleast(double r, char *buf, size_t size)
{
    if (r >= 1e3 && r < 1e15) {
        snprintf(buf, size, ">=%.0f", floor(r));
        return buf;
    }
    for (int prec = 3; prec <= 6; prec++) {
        snprintf(buf, size, ">=%.*g", prec, r);
        if (!(strtod(buf + 2, NULL) > r))
            return buf;
    }
    double step = pow(10, floor(log10(r)) - 2);
    snprintf(buf, size, ">=%.3g", floor(r / step) * step);
    return buf;
}

bool ls_report_cap_atleast(const ls_results *res, double cap, double fail)
{
    return cap > 0 && isfinite(cap) && isnan(fail) && res && res->schema_version >= 6;
}

double ls_report_v(const ls_report_entry *x, ls_metric_id id)
{
    /* capacity: the one value of the configuration (see ls_report_entry.capacity) */
    if (id == LS_M_CAPACITY_RPS)
        return x->capacity;
    if (id == LS_M_CAPACITY_FAIL_RPS)
        return x->capacity_fail;
    if ((id == LS_M_SPEC_TPOT_GAIN || id == LS_M_SPEC_TTFT_GAIN || id == LS_M_SPEC_THROUGHPUT_GAIN) &&
        isnan(x->row->m.v[id]) && x->baseline) {
        /* a sweep writes the gains as NaN: derive them from the paired row */
        ls_metrics m = x->row->m;
        ls_spec_gain_fill(&x->baseline->row->m, &m);
        return m.v[id];
    }
    return x->row->m.v[id];
}

bool ls_report_same_traffic(const ls_report_entry *a, const ls_report_entry *b)
{
    const ls_config_row *x = &a->row->cfg, *y = &b->row->cfg;
    return !strcmp(x->model, y->model) && !strcmp(x->prompt_dist, y->prompt_dist) &&
           !strcmp(x->output_dist, y->output_dist);
}

double ls_report_per_gpu(const ls_report_entry *x, ls_metric_id id)
{
    double g = x->row->m.v[LS_M_N_GPUS];
    if (!(g > 0))
        g = (double)x->row->cfg.n_gpus;
    return g > 0 ? ls_report_v(x, id) / g : NAN;
}

const char *ls_report_strategy_name(const char *p, char *buf, size_t size)
{
    char out[128] = "";
    size_t o = 0;
    int parts = 0, ones = 0;
    const char *s = p;
    /* "tp1dp8" -> "DP=8": a degree of 1 says nothing unless it is the only one */
    for (int pass = 0; pass < 2; pass++) {
        s = p;
        o = 0;
        out[0] = '\0';
        while (*s) {
            char dim[8];
            size_t k = 0;
            while (isalpha((unsigned char)*s) && k < sizeof dim - 1)
                dim[k++] = (char)toupper((unsigned char)*s++);
            dim[k] = '\0';
            if (!k || !isdigit((unsigned char)*s))
                goto raw;
            long deg = strtol(s, (char **)&s, 10);
            if (pass == 0) {
                parts++;
                ones += deg == 1;
                continue;
            }
            if (deg == 1 && ones < parts)
                continue;
            o += (size_t)snprintf(out + o, sizeof out - o, "%s%s=%ld", o ? "\xc3\x97" : "", dim, deg);
            if (o >= sizeof out)
                goto raw;
        }
    }
    if (!o)
        goto raw;
    snprintf(buf, size, "%s", out);
    return buf;
raw:
    snprintf(buf, size, "%s", p);
    return buf;
}

const char *ls_report_axis_header(int col)
{
    static const struct {
        const char *col, *hdr;
    } names[] = {{"parallelism", "strategy"}, {"dtype_weights", "weights"}, {"dtype_kv", "kv"},
                 {"hardware", "gpu"}, {"enable_chunked_prefill", "chunked"},
                 {"prefill_chunk_size", "chunk"}, {"max_batched_tokens", "budget"},
                 {"max_num_seqs", "max_seqs"}, {"max_model_len", "max_len"},
                 {"gpu_memory_utilization", "mem_util"}};
    const char *name = ls_config_columns[col].name;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(names[i].col, name))
            return names[i].hdr;
    return name;
}

const char *ls_report_variant_of(const int *axes, size_t n_axes, const ls_report_entry *x, char *buf,
                                 size_t size)
{
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n_axes; i++) {
        const char *name = ls_config_columns[axes[i]].name;
        if (!strcmp(name, "parallelism"))
            continue;
        char v[LS_CFG_LONGSTR + 1];
        ls_results_cfg_text(x->row, name, v, sizeof v);
        /* numbers alone say nothing: name the axis */
        bool bare = ls_config_columns[axes[i]].type == LS_COL_STR;
        int n = bare ? snprintf(buf + o, size - o, "%s%s", o ? ", " : "", v)
                     : snprintf(buf + o, size - o, "%s%s %s", o ? ", " : "",
                                ls_report_axis_header(axes[i]), v);
        if (n < 0 || (size_t)n >= size - o)
            break;
        o += (size_t)n;
    }
    return buf;
}

const char *ls_report_variant(const ls_report *r, const ls_report_entry *x, char *buf, size_t size)
{
    return ls_report_variant_of(r->axes, r->n_axes, x, buf, size);
}

static const char *who_of(const int *axes, size_t n_axes, const ls_report_entry *x, char *buf,
                          size_t size)
{
    char s[128], v[400];
    ls_report_strategy_name(x->row->cfg.parallelism, s, sizeof s);
    ls_report_variant_of(axes, n_axes, x, v, sizeof v);
    if (v[0])
        snprintf(buf, size, "%s (%s)", s, v);
    else
        snprintf(buf, size, "%s", s);
    return buf;
}

const char *ls_report_who_except(const int *axes, size_t n_axes, const char *const *skip, const ls_report_entry *x,
                                 char *buf, size_t size)
{
    int keep[LS_CONFIG_COLUMN_COUNT];
    size_t n = 0;
    for (size_t i = 0; i < n_axes && n < LS_CONFIG_COLUMN_COUNT; i++) {
        bool drop = false;
        for (size_t k = 0; skip[k]; k++)
            drop |= !strcmp(ls_config_columns[axes[i]].name, skip[k]);
        if (!drop)
            keep[n++] = axes[i];
    }
    return who_of(keep, n, x, buf, size);
}

const char *ls_report_cap_who(const ls_report *r, const ls_report_entry *x, char *buf, size_t size)
{
    return who_of(r->cap_axes, r->n_cap_axes, x, buf, size);
}

const char *ls_report_who(const ls_report *r, const ls_report_entry *x, char *buf, size_t size)
{
    return who_of(r->axes, r->n_axes, x, buf, size);
}


static int cmp_keyed(const void *pa, const void *pb)
{
    const ls_report_keyed *a = pa, *b = pb;
    int c = strcmp(a->key, b->key);
    if (c)
        return c;
    return (a->x->row->config_id > b->x->row->config_id) - (a->x->row->config_id < b->x->row->config_id);
}

ls_report_keyed *ls_report_keyed_all(const ls_report *r, char *(*key_of)(const ls_config_row *), size_t *n)
{
    size_t total = 0;
    for (size_t g = 0; g < r->n_groups; g++)
        total += r->groups[g].n;
    ls_report_keyed *v = ls_xcalloc(total + 1, sizeof *v);
    *n = 0;
    for (size_t g = 0; g < r->n_groups; g++)
        for (size_t i = 0; i < r->groups[g].n; i++) {
            v[*n].x = &r->groups[g].e[i];
            v[(*n)++].key = key_of(&r->groups[g].e[i].row->cfg);
        }
    qsort(v, *n, sizeof *v, cmp_keyed);
    return v;
}

void ls_report_keyed_free(ls_report_keyed *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i].key);
    free(v);
}
