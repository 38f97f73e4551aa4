/* batch_step.h -- for cmocka tests of the replica scheduler (include after <cmocka.h>): one
 * scheduling step checked against the batch expected, written "id:tokens id:tokens ..." in the
 * scheduler's order ("" when no batch may form), then completed one second later. */
#ifndef LS_TEST_BATCH_STEP_H
#define LS_TEST_BATCH_STEP_H

#include <stdio.h>
#include <string.h>

#include "scheduler.h"

/* Schedule at t, compare the batch with `expect` (and its aggregate with its members), complete it at
 * t + 1. Returns whether a batch formed; *b receives it. */
static inline bool test_batch_step(ls_replica *r, double t, const char *expect, ls_mbatch_info *b)
{
    bool any = ls_replica_schedule(r, t, b);
    ls_replica_debug_check(r);
    if (!*expect) {
        assert_false(any);
        return false;
    }
    assert_true(any);
    int64_t ids[64], tok[64];
    int64_t n = ls_replica_debug_batch(r, b->slot, ids, tok, 64);
    char got[512] = "";
    size_t used = 0;
    for (int64_t i = 0; i < n; i++)
        used += (size_t)snprintf(got + used, sizeof got - used, "%s%lld:%lld", i ? " " : "", (long long)ids[i],
                                 (long long)tok[i]);
    if (strcmp(got, expect)) {
        print_error("t=%g: expected batch [%s], got [%s]\n", t, expect, got);
        fail();
    }
    int64_t sum = 0;
    for (int64_t i = 0; i < n; i++)
        sum += tok[i];
    assert_int_equal(sum, b->agg.tokens);
    assert_int_equal(n, b->agg.n_seqs);
    ls_replica_complete(r, b->slot, t + 1);
    ls_replica_debug_check(r);
    return true;
}

#endif
