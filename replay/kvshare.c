/* kvshare.c -- processor sharing of the KV transfer links (contract in kvshare.h).
 *
 * The active transfers are a small array (one per request on the wire); every
 * change of the set advances each by rate x elapsed and recomputes the rates,
 * O(active) per event. */
#include <assert.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#include "error.h"
#include "kvshare.h"

typedef struct act {
    int32_t id;
    int s, r;
    double bytes, left, bw, lat, rate, done_at;  /* bytes left at `t`; at the current rate, bytes done at */
} act;

struct ls_kvshare {
    int ns, nr;
    int *n_s, *n_r;  /* active transfers per sender / receiver */
    act *a;
    int n, cap;
    double t;        /* the time `left` refers to */
};

ls_kvshare *ls_kvshare_new(int n_senders, int n_receivers)
{
    assert(n_senders > 0 && n_receivers > 0);
    ls_kvshare *k = ls_xcalloc(1, sizeof *k);
    k->ns = n_senders;
    k->nr = n_receivers;
    k->n_s = ls_xcalloc((size_t)n_senders, sizeof *k->n_s);
    k->n_r = ls_xcalloc((size_t)n_receivers, sizeof *k->n_r);
    return k;
}

void ls_kvshare_free(ls_kvshare *k)
{
    if (!k)
        return;
    free(k->n_s);
    free(k->n_r);
    free(k->a);
    free(k);
}

/* Move the clock to `now` at the current rates. */
static void advance(ls_kvshare *k, double now)
{
    assert(now >= k->t);
    double dt = now - k->t;
    for (int i = 0; i < k->n; i++) {
        act *x = &k->a[i];
        x->left -= x->rate * dt;
        if (x->left < 1e-12 * x->bytes)  /* done now: rounding must not leave it a moment later */
            x->left = 0;
    }
    k->t = now;
}

static void rerate(ls_kvshare *k)
{
    for (int i = 0; i < k->n; i++) {
        act *x = &k->a[i];
        int share = k->n_s[x->s] > k->n_r[x->r] ? k->n_s[x->s] : k->n_r[x->r];
        x->rate = x->bw / share;
        x->done_at = k->t + x->left / x->rate;
    }
}

void ls_kvshare_add(ls_kvshare *k, int32_t id, int s, int r, double bytes, double bandwidth, double latency_s,
                    double now)
{
    assert(s >= 0 && s < k->ns && r >= 0 && r < k->nr && bytes > 0 && bandwidth > 0 && latency_s >= 0);
    advance(k, now);
    if (k->n == k->cap) {
        k->cap = k->cap ? 2 * k->cap : 16;
        k->a = ls_xrealloc(k->a, (size_t)k->cap * sizeof *k->a);
    }
    k->a[k->n++] = (act){id, s, r, bytes, bytes, bandwidth, latency_s, 0, 0};
    k->n_s[s]++;
    k->n_r[r]++;
    rerate(k);
}

double ls_kvshare_next(const ls_kvshare *k)
{
    double t = INFINITY;
    for (int i = 0; i < k->n; i++)
        if (k->a[i].done_at < t)
            t = k->a[i].done_at;
    return t;
}

bool ls_kvshare_pop(ls_kvshare *k, double now, int32_t *id, double *arrive_s)
{
    /* the earliest done by `now` (ties: the one added first), judged on the done_at times the
     * event was scheduled from, so rounding in `left` cannot lose or delay one */
    int best = -1;
    for (int i = 0; i < k->n; i++)
        if (k->a[i].done_at <= now && (best < 0 || k->a[i].done_at < k->a[best].done_at))
            best = i;
    if (best < 0)
        return false;
    act x = k->a[best];
    advance(k, now);
    for (int i = best; i + 1 < k->n; i++)  /* keep the order of addition (determinism of ties) */
        k->a[i] = k->a[i + 1];
    k->n--;
    k->n_s[x.s]--;
    k->n_r[x.r]--;
    rerate(k);
    *id = x.id;
    *arrive_s = x.done_at + x.lat;
    return true;
}
