/* calibrate.h -- fit a GPU's efficiency parameters to a user's measured serving runs.
 *
 * A point is a run configuration (the deployment that was measured) and the
 * result JSON of vLLM's serving benchmark (`vllm bench serve --save-result
 * --save-detailed`: per-request input_lens, output_lens, ttfts, itls, and
 * request_rate). The simulator replays the benchmark's requests (lengths
 * from the JSON; arrivals all at t = 0 for request_rate inf, otherwise
 * Poisson at that rate with a fixed seed, since the JSON keeps no arrival
 * times) and compares output throughput, TTFT p50 and TPOT p50. The fit
 * minimises the sum of squared log errors over every point and figure
 * (Nelder-Mead in bounded coordinates, deterministic), and leave-one-out
 * refits without each point (or group of points) to predict it. docs/FIDELITY.md, "Calibrating
 * your own GPU".
 */
#ifndef LS_CALIBRATE_H
#define LS_CALIBRATE_H

#include <stdbool.h>
#include <stdio.h>

#include "catalog.h"
#include "error.h"
#include "replay.h"

#define LS_CAL_MAX_POINTS 64
#define LS_CAL_MAX_PARAMS 5
#define LS_CAL_N_METRICS 3 /* output_tps, ttft_p50_s, tpot_p50_s */

typedef struct ls_calibration ls_calibration;

/* Start a calibration of GPU `gpu` (a name of `cat`, which must outlive the calibration). `params`
 * is a comma-separated subset of mfu_max, mbu, iter_overhead_ms, kernel_overhead_us, attn_eff
 * (NULL: mfu_max,mbu,iter_overhead_ms). Fails on an unknown GPU or parameter. */
ls_status ls_calibration_new(const ls_catalog *cat, const char *gpu, const char *params, ls_calibration **out,
                             ls_error *e);
void ls_calibration_free(ls_calibration *c);

/* Add a point: the run configuration file and the benchmark result JSON. Fails with the file's name
 * on a malformed file, and on a GPU or model that does not match the configuration. */
ls_status ls_calibration_add_point(ls_calibration *c, const char *config_path, const char *result_path,
                                   ls_error *e);

/* Add a point from a resolved configuration and its requests, both taken over (freed with the
 * calibration), with its measured figures (output_tps, ttft_p50_s, tpot_p50_s; NaN = not measured) and
 * a group: leave-one-out holds out a whole group at a time (NULL: the point alone). No GPU check: the
 * trial parameters are written into every point's GPU (e.g. the H100 and H200 of one die). */
ls_status ls_calibration_add_run(ls_calibration *c, ls_run_config *cfg, ls_request_array *reqs,
                                 const double measured[LS_CAL_N_METRICS], const char *name, const char *group,
                                 ls_error *e);

/* Fit, print before/after/leave-one-out errors to `out`, and keep the fitted values. Fails when there
 * are fewer points than parameters (naming the parameters that cannot be fitted). */
ls_status ls_calibration_fit(ls_calibration *c, FILE *out, ls_error *e);

/* After a fit: the fitted value of each parameter, by name (NaN when not fitted). */
double ls_calibration_value(const ls_calibration *c, const char *param);
/* Summary errors of the last fit: median and worst |simulated/measured - 1|, in-sample and held-out
 * (held-out NaN with fewer than params + 1 points). */
void ls_calibration_errors(const ls_calibration *c, double *in_median, double *in_worst, double *loo_median,
                           double *loo_worst);

/* After a fit: every measured figure, with its point, group, metric name, measured value and the
 * |error| before the fit, in-sample and held out (NaN without leave-one-out). */
typedef struct ls_cal_figure {
    const char *point, *group, *metric;
    double measured, err_before, err_in, err_held;
} ls_cal_figure;
int ls_calibration_n_figures(const ls_calibration *c);
ls_cal_figure ls_calibration_figure(const ls_calibration *c, int i);

/* After a fit, for checks beyond the fitted figures (bench_fidelity's held-out orderings): the number of
 * points; the parameter values of the fold that held out point p's group (p = -1: the fit on all points;
 * without leave-one-out every fold is that fit), in the order of `params`; those values written into a
 * resolved configuration's GPU (the fields the fit varies); and point p simulated with values x (the point's
 * configuration is left at the fitted values). */
int ls_calibration_n_points(const ls_calibration *c);
void ls_calibration_fold_values(const ls_calibration *c, int p, double x[LS_CAL_MAX_PARAMS]);
void ls_calibration_apply(const ls_calibration *c, const double x[LS_CAL_MAX_PARAMS], ls_run_config *cfg);
ls_status ls_calibration_simulate(ls_calibration *c, int p, const double x[LS_CAL_MAX_PARAMS],
                                  double sim[LS_CAL_N_METRICS], ls_error *e);

/* Write the catalog overlay (a `gpus:` entry that re-tunes the GPU in place) to `path`. */
ls_status ls_calibration_write_overlay(const ls_calibration *c, const char *path, ls_error *e);

#endif
