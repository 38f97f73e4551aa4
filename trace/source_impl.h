/* source_impl.h -- how an ls_source is built (internal to trace/).
 *
 * A source is a struct whose first member is `ls_source`, pointing at a table
 * of functions. Wrappers (transformations, synthetic overlays) own their inner
 * source and add their counts to the report on the way down the chain. */
#ifndef LS_SOURCE_IMPL_H
#define LS_SOURCE_IMPL_H

#include "reader.h"
#include "trace.h"

typedef struct ls_source_vt {
    int (*next)(ls_source *s, ls_request *out, ls_error *e);
    void (*free)(ls_source *s);
    /* Add this layer's counts to r, then ask the inner source (may be NULL). */
    void (*report)(const ls_source *s, ls_source_report *r);
} ls_source_vt;

struct ls_source {
    const ls_source_vt *vt;
};

/* Append a copy of q to a, its hash ids into the pool (q's may change at the source's
 * next call); until ls_request_array_seal the copies hold pool offsets, not pointers. */
void ls_request_array_push(ls_request_array *a, const ls_request *q);
/* Point the copies' hash ids into the pool, once nothing more is pushed. */
void ls_request_array_seal(ls_request_array *a);

#endif
