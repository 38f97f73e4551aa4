/* config_key.h -- the identity of a configuration apart from the load it is listed at.
 *
 * A sweep with a rate axis (workload.arrival.rate, or workload.target_rate for a
 * rescaled trace) lists one configuration once per rate. Its capacity (the
 * highest rate meeting the SLO, replay/capacity.c) does not depend on the rate
 * it was listed at, so the sweep searches it once per identity and the report
 * shows it once per identity. This is the one definition both use.
 */
#ifndef LS_CONFIG_KEY_H
#define LS_CONFIG_KEY_H

#include "schema.h"

/* A fresh string naming every /configs column of `row` but the listed rate:
 * arrival_rate is left out, and for a rescaled trace (arrival_process "trace"
 * with a rate) duration_s, the replayed window that rescaling stretches with
 * the rate, is replaced by duration_s * arrival_rate, the trace's own window
 * times its rate, which rescaling leaves unchanged. Two rows have the same key
 * exactly when they differ at most by the rate they are listed at. */
char *ls_config_row_capacity_key(const ls_config_row *row);

/* A fresh string naming every /configs column of `row` but `speculative`
 * (the listed rate included): a speculative row and its baseline, the same
 * configuration without speculation at the same load and seed, have the same
 * key (docs/REPORT.md, "Speculative decoding"; analysis/spec_gain.c). */
char *ls_config_row_baseline_key(const ls_config_row *row);

#endif
