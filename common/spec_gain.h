/* spec_gain.h -- speculative decoding against the same run without it, defined once.
 *
 * A speculative configuration's baseline is the configuration that differs
 * only by its `speculative` block (method none): the same model, strategy,
 * scheduler, load and seed, so both replay exactly the same requests.
 * `llmsweep run` with a speculative block runs that baseline too (unless
 * --no-baseline) and fills the gains; a sweep writes them as NaN and the report
 * pairs its rows by ls_config_row_baseline_key (common/config_key.h) and fills
 * them the same way (analysis/spec_gain.c; docs/REPORT.md). */
#ifndef LS_SPEC_GAIN_H
#define LS_SPEC_GAIN_H

#include "schema.h"

/* Fill spec's spec_tpot_gain (base mean TPOT / spec mean TPOT), spec_ttft_gain
 * (base mean TTFT / spec mean TTFT) and spec_throughput_gain (spec output
 * tokens/s / base output tokens/s) from `base`. Each is NaN when either run is
 * not ok or a value is undefined or not positive; all are NaN when base is NULL. */
void ls_spec_gain_fill(const ls_metrics *base, ls_metrics *spec);

#endif
