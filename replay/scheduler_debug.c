/* scheduler_debug.c -- test-only views of a replica (scheduler.h): the
 * requests of a micro-batch, and a full consistency check of the lazy
 * structures. O(running): never called on the simulation's hot path. */
#include <assert.h>
#include <stdlib.h>

#include "sched_cohort.h"
#include "sched_internal.h"

int64_t ls_replica_debug_batch(const ls_replica *r, int slot, int64_t *ids, int64_t *tokens, int64_t cap)
{
    const mbatch *m = &r->mb[slot];
    int64_t n = m->nex + (m->cohort >= 0 ? r->co[m->cohort].n : 0);
    int64_t *pairs = ls_xmalloc((size_t)(n ? n : 1) * 2 * sizeof *pairs);
    int64_t k = 0;
    for (int64_t i = 0; i < m->nex; i++) {
        pairs[2 * k] = r->req[m->ex[i]].id;
        pairs[2 * k + 1] = m->exn[i];
        k++;
    }
    if (m->cohort >= 0)
        for (int64_t i = 0; i < r->co[m->cohort].n; i++) {
            pairs[2 * k] = r->req[r->co[m->cohort].mem[i]].id;
            pairs[2 * k + 1] = 1;
            k++;
        }
    qsort(pairs, (size_t)k, 2 * sizeof *pairs, cmp_pair);
    for (int64_t i = 0; i < k && i < cap; i++) {
        ids[i] = pairs[2 * i];
        tokens[i] = pairs[2 * i + 1];
    }
    free(pairs);
    return k;
}

void ls_replica_debug_check(const ls_replica *r)
{
    int64_t blocks = 0, running = 0;
    bool seen_explicit = false;
    for (int32_t xi = r->run_head; xi >= 0; xi = r->req[xi].next) {
        const sreq *x = &r->req[xi];
        running++;
        blocks += cur_blocks(r, x);
        assert(x->state == ST_RUN_LAZY || x->state == ST_RUN_EXP);
        if (x->state == ST_RUN_EXP)
            seen_explicit = true;
        else
            assert(!seen_explicit);  /* lazy members precede every explicit request */
        int64_t comp = cur_computed(r, x);
        assert(comp >= 0 && comp <= (int64_t)x->prompt + cur_g(r, x));
        assert(blocks_for(r, comp) <= cur_blocks(r, x));
    }
    for (int32_t q = 0; q < 3; q++) {
        const deque *d = q == 2 ? &r->wait_kv : q ? &r->wait_new : &r->wait_pre;
        for (int64_t i = 0; i < d->n; i++)
            blocks += r->req[dq_at(d, i)].blocks;
    }
    assert(running == r->n_running);
    /* with prefix caching shared blocks count once: the pool checks its own books */
    assert(r->kv ? blocks + r->reserved_blocks >= r->used_blocks : blocks + r->reserved_blocks == r->used_blocks);
    if (r->kv)
        ls_kvcache_debug_check(r->kv, r->used_blocks);
    assert(r->used_blocks >= 0 && r->used_blocks <= r->total_blocks);
    int live = 0;
    for (int ci = 0; ci < r->nco; ci++)
        live += r->co[ci].live;
    assert(live == r->n_live);
    for (int ci = 0; ci < r->nco; ci++) {
        const cohort *c = &r->co[ci];
        if (!c->live)
            continue;
        int64_t sumk = 0;
        for (int64_t i = 0; i < c->n; i++) {
            int32_t xi = c->mem[i];
            const sreq *x = &r->req[xi];
            assert(x->pos[0] == i);
            if (x->pos[1] >= 0) {  /* far: in the heap */
                assert(x->pos[1] < c->nfar && c->far[x->pos[1]] == xi);
                assert(x->key[HEAP_FIN] - c->clock > LS_FIN_SLOTS - 3);
            } else {  /* near: in the ring list of its key */
                assert(x->key[HEAP_FIN] - c->clock <= LS_FIN_SLOTS - 2);
                int32_t h = c->ring[x->key[HEAP_FIN] & (LS_FIN_SLOTS - 1)], f = h;
                assert(h >= 0);
                while (f != xi && r->req[f].fnext != h)
                    f = r->req[f].fnext;
                assert(f == xi);
            }
            assert(x->state == ST_RUN_LAZY && x->cohort == ci);
            sumk += x->computed - x->c0;
            assert(x->key[HEAP_FIN] >= c->clock);
            int64_t key = x->key[HEAP_BLK] + blk_steps(r, c, x) * r->cfg.block_size;
            assert(key >= c->clock && key <= c->clock + r->cfg.block_size);
            /* a whole block ahead: in flight (crossed at this clock) or counted by a walk */
            assert(key < c->clock + r->cfg.block_size || c->mb >= 0 || c->clock < c->far_until);
            int32_t h = c->bk[x->key[HEAP_BLK] % r->cfg.block_size].head;
            while (h >= 0 && h != xi)
                h = r->req[h].bnext;
            assert(h >= 0);  /* in the bucket of its key */
        }
        assert(sumk == c->sumk);
        assert(c->phase == c->clock % r->cfg.block_size);
        int64_t nb = 0;
        for (int b = 0; b < r->cfg.block_size; b++) {
            int64_t k = 0;
            for (int32_t h = c->bk[b].head; h >= 0; h = r->req[h].bnext)
                k++;
            assert(k == c->bk[b].n);  /* the bucket's count */
            nb += k;
        }
        assert(nb == c->n);
        int64_t nring = 0;
        for (int sl = 0; sl < LS_FIN_SLOTS; sl++) {  /* each list: one key, in admission order */
            int32_t h = c->ring[sl];
            for (int32_t f = h; f >= 0; f = r->req[f].fnext == h ? -1 : r->req[f].fnext) {
                nring++;
                assert((r->req[f].key[HEAP_FIN] & (LS_FIN_SLOTS - 1)) == sl && r->req[f].key[HEAP_FIN] == r->req[h].key[HEAP_FIN]);
                assert(r->req[r->req[f].fnext].fprev == f);
                assert(r->req[f].fnext == h || r->req[f].adm_seq < r->req[r->req[f].fnext].adm_seq);
            }
        }
        assert(nring + c->nfar == c->n);
    }
}
