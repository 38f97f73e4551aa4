/* class_metrics.h -- per-class latencies and goodput (internal to replay/).
 *
 * The engine records each request's class at arrival (ids are the engine's
 * arrival counter, 0, 1, 2, ...) and hands every final status to the
 * tracker, which keeps TTFT and TPOT per class (exact up to 2^20 requests,
 * then a bounded sketch: metrics.h) and counts the requests that met their
 * class's SLO (its slo:, else the run's). It fills the class<k>_* columns of
 * common/schema.h. */
#ifndef LS_CLASS_METRICS_H
#define LS_CLASS_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "classes.h"
#include "scheduler.h"
#include "schema.h"

typedef struct ls_class_track ls_class_track;

/* NULL when the table defines no classes (nothing is tracked). */
ls_class_track *ls_class_track_new(const ls_class_table *t, double slo_ttft_s, double slo_tpot_s);
void ls_class_track_free(ls_class_track *k);  /* accepts NULL */
/* Request `id` (the next arrival id) is of class `cls` (< t->n). */
void ls_class_track_add(ls_class_track *k, int64_t id, int32_t cls);
/* A request reached its final status; true when it completed within its
 * class's SLO. `ttft`, `tpot`: as the engine computed them (tpot NaN for a
 * single output token). */
bool ls_class_track_done(ls_class_track *k, const ls_req_done *d, double ttft, double tpot);
/* The class of request `id` (added before). */
int32_t ls_class_track_class(const ls_class_track *k, int64_t id);
/* The class<k>_* metrics; `span` is the run's goodput span (NaN: none). */
void ls_class_track_metrics(ls_class_track *k, double span, ls_metrics *m);

#endif
