/* classes.h -- request classes: the `classes:` list of a workload and the
 * transformation that gives every request its class.
 *
 * A class is a name, a priority (lower = served sooner, as vLLM's
 * `--scheduling-policy priority`), an optional per-class SLO and, for drawn
 * classes, a share of the requests. A request carries its class as an index
 * into the list (ls_request.class_id). A trace may name it in a `class`
 * column (native format: the 0-based index); otherwise, when the list has
 * shares, each request draws its class from the stream "class" of the run's
 * seed (so the draw never shifts the arrival or length streams); otherwise
 * every request is class 0. The classes are a trace-level description: the
 * replay engine reads priorities and SLOs from here, trace/ knows nothing of
 * the engine. */
#ifndef LS_CLASSES_H
#define LS_CLASSES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "trace.h"
#include "yamldoc.h"

#define LS_CLASS_NAME_MAX 32

typedef struct ls_class_spec {
    char name[LS_CLASS_NAME_MAX];
    double share;                 /* of the requests, in (0, 1]; NaN when the list has no shares */
    int32_t priority;             /* lower first; default 0 */
    double slo_ttft_s, slo_tpot_s; /* NaN: the run's slo */
} ls_class_spec;

typedef struct ls_class_table {
    int n;                        /* 0: no classes (every request is class 0) */
    bool shares;                  /* every class has a share (they sum to 1) */
    ls_class_spec c[LS_MAX_CLASSES];
} ls_class_table;

/* Parse `path` (e.g. "workload.classes"): a sequence of 1..LS_MAX_CLASSES maps
 * {name, share, priority, slo: {ttft_s, tpot_s}}. Names are unique; shares are
 * given for every class or for none, each in (0, 1], summing to 1 (within
 * 1e-6); `need_shares` (synthetic workloads: nothing else names a class)
 * makes them required. Errors name file:line and what was expected. */
ls_status ls_classes_parse(const ls_yaml *node, const char *path, bool need_shares, ls_class_table *out,
                           ls_error *e);

/* Canonical text ("" when t->n == 0), for the workload's identity. */
void ls_classes_canonical(const ls_class_table *t, char *buf, size_t size);

/* Index of the class named `name`, or -1. */
int ls_classes_find(const ls_class_table *t, const char *name);

/* The transformation: requests with a class (class_id >= 0, from the trace)
 * keep it, which must be < max(t->n, 1) ("FILE:LINE: class 3: the workload
 * defines 2 classes (a, b)"); the others draw one by the shares (stream
 * "class" of `seed`) or become class 0. `name` (the trace file, or NULL)
 * prefixes messages. Takes ownership of `in`; copies `t`. */
ls_source *ls_transform_classes(ls_source *in, const ls_class_table *t, uint64_t seed, const char *name);

#endif
