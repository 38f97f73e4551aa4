/* sweep_inputs.h -- the files a sweep's configurations read, by content.
 *
 * A configuration names its input files (a trace, catalog files, a cost
 * table, empirical length distributions) by path, and the path is part of its
 * config_hash; the content is not. So that a resume or merge never mixes rows
 * computed from different contents of one file, the content hash of every
 * input is recorded in /inputs (common/schema.h) and compared by name.
 *
 * The file-valued keys of a configuration are listed once, in sweep_inputs.c
 * (`input_keys`): a new key that names a file must be added there.
 */
#ifndef LS_SWEEP_INPUTS_H
#define LS_SWEEP_INPUTS_H

#include "sweep_history.h"
#include "sweep_spec.h"

/* Every distinct input file of the configurations of s (an /inputs table),
 * each hashed; relative names resolve against s->base_dir as the
 * configuration loader does. A file that cannot be read is listed with bytes
 * -1 (its configurations fail at run time, as results). */
ls_status ls_inputs_collect(const ls_sweep_spec *s, ls_ptable *out, ls_error *e);

/* Refuse (LS_EINVAL) when an input of `cur` is recorded in f's /inputs with
 * other content, naming the input, the key, both hashes and sizes. *recorded
 * says whether f has /inputs at all (files written before it: nothing to
 * compare). `what` is the operation, for the message ("resume"). */
ls_status ls_inputs_check(ls_h5file *f, const ls_ptable *cur, const char *what, bool *recorded, ls_error *e);

/* Write f's /inputs as the union of what it records and `cur`. */
ls_status ls_inputs_record(ls_h5file *f, const ls_ptable *cur, ls_error *e);

/* Merge: every input recorded by two of the parts must have one content.
 * On success *all is the union (to record in the merged file). */
ls_status ls_inputs_check_parts(ls_h5file *const *parts, const char *const *paths, int np, ls_ptable *all,
                                ls_error *e);

#endif
