/* dist.h -- token-length distributions of synthetic workloads.
 *
 * Each is given in YAML as a mapping with `dist:` and named parameters (see
 * docs/TRACES.md). Samples are integers clamped to >= 1 token:
 *   fixed      {value}            always `value`
 *   uniform    {low, high}        integers low..high inclusive, equally likely
 *   normal     {mean, stddev, min?, max?}  round(N(mean, stddev)), clipped to [min, max]
 *   lognormal  {mu, sigma}        round(exp(N(mu, sigma))): mu/sigma of the underlying normal
 *              {mean, stddev}     the same family, given by the mean/stddev of the lengths
 *   zipf       {s, max}           P(k) proportional to k^-s for k = 1..max (finite support)
 *   empirical  {file, format?}    resample rows of a trace or length-only dataset
 */
#ifndef LS_DIST_H
#define LS_DIST_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "rng.h"
#include "yamldoc.h"

typedef enum ls_dist_kind {
    LS_DIST_FIXED,
    LS_DIST_UNIFORM,
    LS_DIST_NORMAL,
    LS_DIST_LOGNORMAL,
    LS_DIST_ZIPF,
    LS_DIST_EMPIRICAL
} ls_dist_kind;

/* Which column an empirical distribution samples. */
typedef enum ls_dist_role { LS_ROLE_PROMPT = 0, LS_ROLE_OUTPUT = 1 } ls_dist_role;

typedef struct ls_dist {
    ls_dist_kind kind;
    ls_dist_role role;
    double value;          /* fixed */
    double low, high;      /* uniform */
    double mean, stddev;   /* normal; lognormal when by_moments */
    double min, max;       /* normal clip bounds (NaN: none) */
    double mu, sigma;      /* lognormal (resolved when given by moments) */
    bool by_moments;
    double s;              /* zipf exponent */
    int64_t zmax;          /* zipf support 1..zmax */
    double *zcdf;          /* zipf: cumulative probabilities, zmax entries */
    char *file;            /* empirical: path as resolved */
    char *format;          /* empirical: format name ("auto") */
    int32_t *ep, *eo;      /* empirical: prompt and output columns */
    size_t en;
} ls_dist;

/* Parse a distribution mapping; `path` is its key path for messages,
 * base_dir resolves an empirical file (NULL = cwd). Empirical files are read
 * here, once. On failure *d is left empty (safe to free). */
ls_status ls_dist_parse(const ls_yaml *node, const char *path, const char *base_dir, ls_dist_role role,
                        ls_dist *d, ls_error *e);
/* The mapping of the command-line form: "lognormal:mu=8.7,sigma=0.17" -> {dist: lognormal, mu: 8.7,
 * sigma: 0.17}; a bare number "128" is fixed:128; "fixed:128" and "empirical:FILE" take a bare value.
 * One parser for every command (trace synth/convert, run). Nodes are labelled `label` (e.g.
 * "<command line>"; NULL: "<built-in>") for messages. File names are left as given. Fails (LS_EINVAL,
 * naming the spec) on a bare value for a kind that has no single parameter. */
ls_status ls_dist_spec_yaml(const char *spec, const char *label, ls_yaml **out, ls_error *e);
/* Parse the command-line form "lognormal:mu=8.7,sigma=0.17" (or "fixed:128", or "128"). */
ls_status ls_dist_parse_spec(const char *spec, const char *base_dir, ls_dist_role role, ls_dist *d,
                             ls_error *e);
void ls_dist_free(ls_dist *d);
void ls_dist_copy(ls_dist *dst, const ls_dist *src);
/* "lognormal(mu=8.7,sigma=0.17)"; equal text <=> equal samples. Caller frees. */
char *ls_dist_canonical(const ls_dist *d);
/* Mean of the integer samples (approximate for the clipped/rounded ones). */
double ls_dist_mean(const ls_dist *d);
/* One length (>= 1). */
int32_t ls_dist_sample(const ls_dist *d, ls_rng *r);
/* The real-valued variate before rounding and clipping (normal, lognormal);
 * the integer sample for the others. For statistical tests. */
double ls_dist_sample_real(const ls_dist *d, ls_rng *r);
/* CDF of ls_dist_sample_real's distribution at x (exact). */
double ls_dist_cdf(const ls_dist *d, double x);
/* Empirical pairs: one row, both columns, one draw. */
void ls_dist_sample_pair(const ls_dist *d, ls_rng *r, int32_t *prompt, int32_t *output);

/* Format a double with the fewest digits that read back exactly. */
void ls_fmt_double(char *buf, size_t size, double x);

#endif
