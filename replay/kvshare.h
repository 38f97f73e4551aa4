/* kvshare.h -- concurrent KV transfers sharing their links' bandwidth
 * (processor sharing), for disaggregated serving's `kv_transfer: {sharing:
 * fair}` (pools.c; docs/ENGINE.md).
 *
 * A transfer runs from a sender (a prefill replica's link) to a receiver (a
 * decode replica's link). While n_s transfers leave its sender and n_r reach
 * its receiver, it moves bytes at bandwidth / max(n_s, n_r): an equal share
 * of its busier end (exact when the transfers share one end, as in xPyD with
 * x or y = 1; feasible but not max-min fair in general). Its bytes done, it
 * arrives `latency` later. NIXL issues every ready transfer at once, so its
 * reads share the NIC rather than queue (vllm-internals.md s6). Internal to
 * replay/. */
#ifndef LS_KVSHARE_H
#define LS_KVSHARE_H

#include <stdint.h>

typedef struct ls_kvshare ls_kvshare;

ls_kvshare *ls_kvshare_new(int n_senders, int n_receivers);
void ls_kvshare_free(ls_kvshare *k);  /* accepts NULL */

/* Transfer `id` of `bytes` (> 0) from sender s to receiver r over a link of
 * `bandwidth` bytes/s (> 0) and `latency_s`, starting at `now` (>= the last
 * time given). */
void ls_kvshare_add(ls_kvshare *k, int32_t id, int s, int r, double bytes, double bandwidth, double latency_s,
                    double now);

/* When the next transfer's bytes are done, at the current rates (INFINITY: none). */
double ls_kvshare_next(const ls_kvshare *k);

/* Advance to `now` (<= ls_kvshare_next): the transfers whose bytes are done
 * by then leave; *id and *arrive_s get the first of them (its bytes done +
 * latency). Call until it returns false. */
bool ls_kvshare_pop(ls_kvshare *k, double now, int32_t *id, double *arrive_s);

#endif
