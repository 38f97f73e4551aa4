/* cost_table.c -- a cost model that interpolates measured iteration times.
 *
 * For users with their own profiling data (vLLM step timings, nsys traces,
 * TensorRT-LLM benchmark logs): instead of the roofline's physics, the time of
 * an iteration is looked up in a CSV of measured forward-pass times. The
 * format and the interpolation rules are documented in docs/FIDELITY.md
 * ("Table cost model"); in short:
 *
 *   phase,tp,tokens,context,time_s
 *   prefill,2,512,0,0.061        one prompt chunk of 512 tokens onto 0 cached
 *   decode,2,64,1024,0.0142      a decode step of 64 sequences, 1024 cached each
 *
 * For each (phase, tp) the rows must form a full grid over the distinct
 * `tokens` and `context` values. Inside the grid the time is bilinear in
 * (tokens, context); below the smallest value of either axis it is clamped;
 * above the largest `tokens` it scales in proportion (compute-bound work);
 * above the largest `context` it extends the last context segment's slope
 * (attention is linear in context). A mixed iteration costs its prefill part
 * plus its decode part. The measured times include engine overhead, so
 * overhead_s is 0; with PP the time is split evenly over the stages.
 */
#include <assert.h>
#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cost.h"
#include "cost_moe.h"

enum { PHASE_PREFILL = 0, PHASE_DECODE = 1, N_PHASES = 2 };
static const char *const phase_names[N_PHASES] = {"prefill", "decode"};

enum { COL_PHASE, COL_TP, COL_TOKENS, COL_CONTEXT, COL_TIME, N_COLS };
static const char *const col_names[N_COLS] = {"phase", "tp", "tokens", "context", "time_s"};

#define LINE_MAX_LEN 1024
#define MAX_FIELDS 32

/* One parsed data row, kept with its line number for error messages. */
typedef struct row {
    int phase, tp, line;
    double tokens, context, time_s;
} row;

/* A full grid for one phase at the deployment's TP. */
typedef struct grid {
    int nt, nc;
    double *tokens;  /* ascending, nt values */
    double *context; /* ascending, nc values */
    double *time_s;  /* nt x nc, time_s[i*nc + j] */
} grid;

typedef struct table_model {
    ls_cost_model base;
    grid g[N_PHASES];
    /* per-token and per-layer constants for the flops/bytes estimates */
    double linear_flops_per_token; /* 2 x active matmul parameters of the whole model */
    double attn_flops_coeff;       /* 4 x n_q x d x L: multiplies sum(q*c) + sum(q^2+q)/2 */
    double weight_bytes;           /* weights read once per iteration */
    double kv_bytes_per_token;     /* whole model */
} table_model;

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

/* Split a line in place on commas; returns the field count or -1 if too many. */
static int split_fields(char *line, char **fields)
{
    int n = 0;
    char *p = line;
    for (;;) {
        if (n == MAX_FIELDS)
            return -1;
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        fields[n++] = trim(p);
        if (!comma)
            return n;
        p = comma + 1;
    }
}

static ls_status parse_number(const char *s, const char *path, int line, const char *col, double *out,
                              ls_error *e)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (*s == '\0' || *end != '\0' || errno != 0 || !isfinite(v))
        return ls_fail(e, LS_EINVAL, "%s:%d: column '%s': expected a number, got '%s'", path, line, col, s);
    *out = v;
    return LS_OK;
}

static ls_status parse_row(char **f, const int *colidx, const char *path, int line, row *r, ls_error *e)
{
    const char *ph = f[colidx[COL_PHASE]];
    if (strcmp(ph, "prefill") == 0)
        r->phase = PHASE_PREFILL;
    else if (strcmp(ph, "decode") == 0)
        r->phase = PHASE_DECODE;
    else
        return ls_fail(e, LS_EINVAL, "%s:%d: column 'phase': expected 'prefill' or 'decode', got '%s'", path,
                       line, ph);
    double tp;
    LS_TRY(parse_number(f[colidx[COL_TP]], path, line, "tp", &tp, e));
    if (tp < 1 || tp != floor(tp) || tp > 4096)
        return ls_fail(e, LS_EINVAL, "%s:%d: column 'tp': expected a positive integer, got '%s'", path, line,
                       f[colidx[COL_TP]]);
    r->tp = (int)tp;
    LS_TRY(parse_number(f[colidx[COL_TOKENS]], path, line, "tokens", &r->tokens, e));
    if (r->tokens < 1 || r->tokens != floor(r->tokens))
        return ls_fail(e, LS_EINVAL, "%s:%d: column 'tokens': expected an integer >= 1, got '%s'", path, line,
                       f[colidx[COL_TOKENS]]);
    LS_TRY(parse_number(f[colidx[COL_CONTEXT]], path, line, "context", &r->context, e));
    if (r->context < 0)
        return ls_fail(e, LS_EINVAL, "%s:%d: column 'context': expected a number >= 0, got '%s'", path, line,
                       f[colidx[COL_CONTEXT]]);
    LS_TRY(parse_number(f[colidx[COL_TIME]], path, line, "time_s", &r->time_s, e));
    if (!(r->time_s > 0))
        return ls_fail(e, LS_EINVAL, "%s:%d: column 'time_s': expected seconds > 0, got '%s'", path, line,
                       f[colidx[COL_TIME]]);
    r->line = line;
    return LS_OK;
}

/* Read every data row of the file (all TPs), validating each. */
static ls_status read_rows(const char *path, row **rows_out, int *n_out, ls_error *e)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return ls_fail(e, LS_EIO, "%s: cannot open cost table: %s", path, strerror(errno));
    char buf[LINE_MAX_LEN];
    char *f[MAX_FIELDS];
    int colidx[N_COLS];
    int ncols = 0, line = 0, n = 0, cap = 0;
    bool have_header = false;
    row *rows = NULL;
    ls_status rc = LS_OK;
    while (fgets(buf, sizeof buf, fp)) {
        line++;
        size_t len = strlen(buf);
        if (len == sizeof buf - 1 && buf[len - 1] != '\n' && !feof(fp)) {
            rc = ls_fail(e, LS_EINVAL, "%s:%d: line longer than %d characters", path, line, LINE_MAX_LEN - 2);
            break;
        }
        char *hash = strchr(buf, '#'); /* comments run to the end of the line */
        if (hash)
            *hash = '\0';
        char *s = trim(buf);
        if (*s == '\0')
            continue;
        int nf = split_fields(s, f);
        if (nf < 0) {
            rc = ls_fail(e, LS_EINVAL, "%s:%d: more than %d columns", path, line, MAX_FIELDS);
            break;
        }
        if (!have_header) {
            for (int c = 0; c < N_COLS; c++) {
                colidx[c] = -1;
                for (int k = 0; k < nf; k++)
                    if (strcmp(f[k], col_names[c]) == 0)
                        colidx[c] = k;
                if (colidx[c] < 0) {
                    rc = ls_fail(e, LS_EINVAL,
                                 "%s:%d: header lacks column '%s' (expected phase,tp,tokens,context,time_s)",
                                 path, line, col_names[c]);
                    break;
                }
            }
            if (rc)
                break;
            ncols = nf;
            have_header = true;
            continue;
        }
        if (nf != ncols) {
            rc = ls_fail(e, LS_EINVAL, "%s:%d: %d columns, the header has %d", path, line, nf, ncols);
            break;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            rows = ls_xrealloc(rows, (size_t)cap * sizeof *rows);
        }
        rc = parse_row(f, colidx, path, line, &rows[n], e);
        if (rc)
            break;
        n++;
    }
    if (!rc && ferror(fp))
        rc = ls_fail(e, LS_EIO, "%s: read error", path);
    fclose(fp);
    if (!rc && !have_header)
        rc = ls_fail(e, LS_EINVAL, "%s: empty cost table (expected a header phase,tp,tokens,context,time_s)",
                     path);
    if (rc) {
        free(rows);
        return rc;
    }
    *rows_out = rows;
    *n_out = n;
    return LS_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorted distinct values of v[0..n); returns their count. */
static int unique_sorted(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    int k = 0;
    for (int i = 0; i < n; i++)
        if (k == 0 || v[i] != v[k - 1])
            v[k++] = v[i];
    return k;
}

static int index_of(const double *v, int n, double x)
{
    for (int i = 0; i < n; i++)
        if (v[i] == x)
            return i;
    return -1;
}

static void grid_free(grid *g)
{
    free(g->tokens);
    free(g->context);
    free(g->time_s);
    memset(g, 0, sizeof *g);
}

/* Build the grid of one phase at one TP from the rows; every cell must be measured exactly once. */
static ls_status build_grid(const row *rows, int n, int phase, int tp, const char *path, grid *g, ls_error *e)
{
    int m = 0;
    for (int i = 0; i < n; i++)
        if (rows[i].phase == phase && rows[i].tp == tp)
            m++;
    if (m == 0)
        return ls_fail(e, LS_EINVAL, "%s: no %s rows for tp=%d", path, phase_names[phase], tp);
    g->tokens = ls_xmalloc((size_t)m * sizeof *g->tokens);
    g->context = ls_xmalloc((size_t)m * sizeof *g->context);
    int k = 0;
    for (int i = 0; i < n; i++)
        if (rows[i].phase == phase && rows[i].tp == tp) {
            g->tokens[k] = rows[i].tokens;
            g->context[k] = rows[i].context;
            k++;
        }
    g->nt = unique_sorted(g->tokens, m);
    g->nc = unique_sorted(g->context, m);
    size_t cells = (size_t)g->nt * (size_t)g->nc;
    g->time_s = ls_xmalloc(cells * sizeof *g->time_s);
    int *line_of = ls_xcalloc(cells, sizeof *line_of); /* 0 = not measured */
    ls_status rc = LS_OK;
    for (int i = 0; i < n && !rc; i++) {
        const row *r = &rows[i];
        if (r->phase != phase || r->tp != tp)
            continue;
        size_t cell = (size_t)index_of(g->tokens, g->nt, r->tokens) * (size_t)g->nc +
                      (size_t)index_of(g->context, g->nc, r->context);
        if (line_of[cell])
            rc = ls_fail(e, LS_EINVAL, "%s:%d: duplicate row %s tp=%d tokens=%.0f context=%.0f (also line %d)",
                         path, r->line, phase_names[phase], tp, r->tokens, r->context, line_of[cell]);
        line_of[cell] = r->line;
        g->time_s[cell] = r->time_s;
    }
    for (size_t cell = 0; cell < cells && !rc; cell++)
        if (!line_of[cell])
            rc = ls_fail(e, LS_EINVAL,
                         "%s: %s rows for tp=%d do not form a full grid: missing tokens=%.0f context=%.0f", path,
                         phase_names[phase], tp, g->tokens[cell / (size_t)g->nc],
                         g->context[cell % (size_t)g->nc]);
    free(line_of);
    if (rc)
        grid_free(g);
    return rc;
}

/* Time at `tokens` along one context column j: linear inside, clamped
 * below, proportional above (compute-bound work scales with tokens). */
static double along_tokens(const grid *g, int j, double tokens)
{
    const int nc = g->nc;
    if (tokens <= g->tokens[0])
        return g->time_s[j];
    int last = g->nt - 1;
    if (tokens >= g->tokens[last])
        return g->time_s[(size_t)last * nc + j] * tokens / g->tokens[last];
    int i = 0;
    while (g->tokens[i + 1] < tokens)
        i++;
    double w = (tokens - g->tokens[i]) / (g->tokens[i + 1] - g->tokens[i]);
    return (1 - w) * g->time_s[(size_t)i * nc + j] + w * g->time_s[(size_t)(i + 1) * nc + j];
}

/* The interpolation rule of the file header comment, in one place. */
static double grid_lookup(const grid *g, double tokens, double context)
{
    assert(g->nt >= 1 && g->nc >= 1);
    if (g->nc == 1 || context <= g->context[0])
        return along_tokens(g, 0, tokens);
    int j = 0;
    if (context >= g->context[g->nc - 1])
        j = g->nc - 2; /* extend the last segment's slope */
    else
        while (g->context[j + 1] < context)
            j++;
    double a = along_tokens(g, j, tokens), b = along_tokens(g, j + 1, tokens);
    double w = (context - g->context[j]) / (g->context[j + 1] - g->context[j]);
    double t = (1 - w) * a + w * b;
    return t > 0 ? t : b; /* a decreasing last segment must not extrapolate below zero */
}

static void table_iteration(const ls_cost_model *cm, const ls_batch_agg *b, ls_iter_cost *out)
{
    const table_model *m = (const table_model *)cm;
    memset(out, 0, sizeof *out);
    double t = 0;
    int64_t n_d = b->n_decode, n_p = b->n_seqs - b->n_decode;
    double tok_p = (double)(b->tokens - b->n_decode);
    assert(n_d >= 0 && n_p >= 0 && tok_p >= 0);
    /* Split Σc between prefill chunks and decodes. Σq·c − Σc = Σ_prefill (q−1)·c;
     * exact when every prefill chunk in the batch sits on the same cached length. */
    double c_p = 0;
    if (n_p > 0 && tok_p > (double)n_p)
        c_p = fmax(0.0, (b->sum_qc - b->sum_c) / (tok_p - (double)n_p));
    double c_d_sum = fmax(0.0, b->sum_c - (double)n_p * c_p);
    if (n_p > 0 && tok_p > 0)
        t += grid_lookup(&m->g[PHASE_PREFILL], tok_p, c_p);
    if (n_d > 0)
        t += grid_lookup(&m->g[PHASE_DECODE], (double)n_d, c_d_sum / (double)n_d);
    int pp = cm->d.pp;
    for (int s = 0; s < pp; s++)
        out->stage_s[s] = t / pp;
    double T = (double)b->tokens;
    out->flops = m->linear_flops_per_token * T + m->attn_flops_coeff * (b->sum_qc + 0.5 * (b->sum_q2 + T));
    out->bytes = m->weight_bytes + m->kv_bytes_per_token * (b->sum_c + T);
}

static void table_free(ls_cost_model *cm)
{
    if (!cm)
        return;
    table_model *m = (table_model *)cm;
    for (int p = 0; p < N_PHASES; p++)
        grid_free(&m->g[p]);
    free(m);
}

static const ls_cost_ops table_ops = {table_iteration, table_free};

ls_status ls_cost_table_new(const ls_deploy *d, const char *csv_path, ls_cost_model **out, ls_error *e)
{
    assert(d && d->model && d->gpu && csv_path && out);
    if (d->tp < 1 || d->pp < 1 || d->pp > LS_MAX_PP)
        return ls_fail(e, LS_EINVAL, "cost table: tp %d and pp %d must be >= 1 (pp <= %d)", d->tp, d->pp,
                       LS_MAX_PP);
    row *rows = NULL;
    int n = 0;
    LS_TRY(read_rows(csv_path, &rows, &n, e));
    bool has_tp = false;
    for (int i = 0; i < n; i++)
        has_tp = has_tp || rows[i].tp == d->tp;
    if (!has_tp) {
        /* name the TPs the file does have, so the user sees what to measure */
        char have[256] = "";
        size_t len = 0;
        for (int i = 0; i < n; i++) {
            bool seen = false;
            for (int k = 0; k < i; k++)
                seen = seen || rows[k].tp == rows[i].tp;
            if (!seen && len < sizeof have - 16)
                len += (size_t)snprintf(have + len, sizeof have - len, "%s%d", len ? ", " : "", rows[i].tp);
        }
        free(rows);
        return ls_fail(e, LS_EINVAL, "%s: no rows for tp=%d (the file has tp %s)", csv_path, d->tp,
                       n ? have : "none");
    }
    table_model *m = ls_xcalloc(1, sizeof *m);
    ls_status rc = LS_OK;
    for (int p = 0; p < N_PHASES && !rc; p++)
        rc = build_grid(rows, n, p, d->tp, csv_path, &m->g[p], e);
    free(rows);
    if (rc) {
        table_free(&m->base);
        return rc;
    }
    /* Model-side sizes for the MFU/MBU estimates (replay/model.c: MoE, MLA, 4-bit formats included). */
    const ls_model *md = d->model;
    double L = md->layers, embed = ls_model_embed_params(md);
    m->linear_flops_per_token = 2.0 * (ls_model_active_params(md) - embed);
    m->attn_flops_coeff = 2.0 * md->heads * (md->head_dim + ls_model_v_dim(md)) * L;
    m->weight_bytes = (ls_model_params(md) - embed) * ls_dtype_bytes(d->w_dtype);
    m->kv_bytes_per_token = ls_model_kv_bytes_per_token(md, d->kv_dtype);
    m->base.ops = &table_ops;
    m->base.d = *d;
    double peak = ls_cost_gemm_peak(d->gpu, d->w_dtype, NULL);
    m->base.peak_flops = peak * d->tp * d->pp;
    m->base.peak_bw = d->gpu->hbm_bw * d->tp * d->pp;
    *out = &m->base;
    return LS_OK;
}
