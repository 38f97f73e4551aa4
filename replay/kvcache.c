/* kvcache.c -- automatic prefix caching over a block pool (rules in kvcache.h).
 *
 * Layout. A "segment" is one hash block of one prefix chain: it owns the
 * `per` engine blocks it spans, whose ref counts are contiguous (a lookup is
 * one hash probe per hash block, then a walk along an array). A block's ref is
 * -1 when it is not cached, 0 when cached and free (then it is in the free
 * queue), > 0 while requests hold it.
 *
 * The free queue is a list of entries, each standing for many blocks: a run of
 * anonymous blocks (interchangeable, so a count), or a range [lo, hi) of one
 * segment's blocks in the order hi-1 ... lo (a request frees its blocks in
 * reverse). Allocating from the front, releasing and acquiring cost O(1) per
 * entry, not per block: a request's blocks of one hash block move together.
 * A segment lists its entries so that an acquire can cut its blocks out.
 * Never-used blocks are a count in front of the queue (vLLM's initial queue
 * holds every block, so they are popped before any freed one).
 *
 * A request keeps the blocks it holds as runs: consecutive blocks of one
 * segment (or anonymous blocks) are one run, so that acquiring, registering
 * and releasing walk a segment's ref counts in one tight loop and keep 8
 * bytes per run, not 4 per block.
 *
 * A segment whose blocks all have the same ref (the usual case: a request
 * registers, takes and frees a whole hash block at once) keeps that ref as one
 * number and leaves its array untouched, so whole-segment operations cost O(1)
 * instead of one per engine block; the first operation on part of it writes
 * the array out (seg_ref_w). The results are those of the per-block rules. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "kvcache.h"
#include "kvoffload.h"

#define NIL (-1)
#define PAGE_SHIFT 10
#define PAGE (1 << PAGE_SHIFT)

typedef struct seg {
    uint64_t key;
    int32_t ncached;   /* blocks with ref >= 0; the segment is dropped at 0 */
    int32_t ent;       /* its entries in the free queue (list through snext) */
    int32_t next_free;
    int32_t uref;      /* the ref of every block when all are equal (no array), else MIXED */
    int32_t refi;      /* MIXED: its ref array (refpg) */
} seg;
#define MIXED INT32_MIN

typedef struct ent {
    int64_t count;     /* anonymous run: blocks; range: hi - lo */
    int32_t s, lo, hi; /* s == NIL: anonymous run */
    int32_t prev, next;   /* free queue */
    int32_t sprev, snext; /* the segment's entries */
} ent;

typedef struct krun {
    int32_t v;         /* first block (segment * per + offset), NIL: anonymous blocks */
    int32_t n;         /* blocks v .. v+n-1, all in one segment */
} krun;

typedef struct slotent {
    uint64_t key;
    int32_t s;         /* segment index, NIL: empty */
} slotent;

typedef struct kreq {
    int32_t prompt;
    uint32_t n;        /* hash ids */
    uint32_t capchain;
    uint64_t *chain;   /* chain key of each hash block */
    krun *run;         /* the blocks 0..h-1 it holds, in order */
    int32_t nrun, caprun;
    int64_t lim;       /* blocks with an identity: full prompt blocks covered by hash ids */
    int64_t h;         /* blocks 0..h-1 are in `run` (hits, then committed) */
} kreq;

struct ls_kvcache {
    int bs, ht, per, k;  /* per: engine blocks per segment; k: hash blocks per engine block (bs > ht) */
    int64_t total, fresh, nfree;
    seg **segpg;         /* segments, in pages of PAGE (never copied when they grow) */
    int32_t **refpg;     /* ref arrays of the mixed segments, in pages of PAGE arrays of `per` */
    int32_t nseg, capseg, seg_free, live;
    int32_t nref, capref, ref_free;
    slotent *tab;        /* open addressing, linear probing; the key beside the index saves a miss */
    uint64_t mask;
    ent **entpg;         /* free-queue entries, in pages of PAGE */
    int32_t nent, capent, ent_free;
    int32_t qhead, qtail;
    kreq *req;
    int32_t capreq;
    ls_kvtier *tier;     /* host tier, NULL none */
    int64_t pend_load, pend_store;
    ls_kvcache_stats st;
};

static slotent *tab_alloc(uint64_t n);

static inline seg *seg_at(const ls_kvcache *kv, int32_t s)
{
    return &kv->segpg[s >> PAGE_SHIFT][s & (PAGE - 1)];
}
static inline ent *ent_at(const ls_kvcache *kv, int32_t e)
{
    return &kv->entpg[e >> PAGE_SHIFT][e & (PAGE - 1)];
}

/* The ref counts of a mixed segment's blocks. */
static inline int32_t *seg_ref(const ls_kvcache *kv, int32_t s)
{
    int32_t i = seg_at(kv, s)->refi;
    return kv->refpg[i >> PAGE_SHIFT] + (int64_t)(i & (PAGE - 1)) * kv->per;
}

/* The ref counts of segment s, written out for per-block work (a uniform segment stops being one). */
static int32_t *seg_ref_w(ls_kvcache *kv, int32_t s)
{
    seg *g = seg_at(kv, s);
    if (g->uref == MIXED)
        return seg_ref(kv, s);
    int32_t i = kv->ref_free;
    if (i != NIL) {  /* a free array keeps the next free one in its first ref */
        kv->ref_free = kv->refpg[i >> PAGE_SHIFT][(int64_t)(i & (PAGE - 1)) * kv->per];
    } else {
        if (kv->nref == kv->capref) {
            kv->refpg = ls_xrealloc(kv->refpg, (size_t)(kv->capref / PAGE + 1) * sizeof *kv->refpg);
            kv->refpg[kv->capref / PAGE] = ls_xmalloc((size_t)PAGE * (size_t)kv->per * sizeof **kv->refpg);
            kv->capref += PAGE;
        }
        i = kv->nref++;
    }
    g->refi = i;
    int32_t *ref = seg_ref(kv, s);
    for (int k = 0; k < kv->per; k++)
        ref[k] = g->uref;
    g->uref = MIXED;
    return ref;
}

static inline int32_t ref_at(const ls_kvcache *kv, int32_t s, int i)
{
    int32_t u = seg_at(kv, s)->uref;
    return u != MIXED ? u : seg_ref(kv, s)[i];
}

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

bool ls_kvcache_sizes_ok(int block_size, int hash_tokens)
{
    if (block_size <= 0 || hash_tokens <= 0)
        return false;
    return block_size <= hash_tokens ? hash_tokens % block_size == 0 : block_size % hash_tokens == 0;
}

ls_kvcache *ls_kvcache_new(int block_size, int hash_tokens, int64_t total_blocks, int64_t tier_entries)
{
    assert(ls_kvcache_sizes_ok(block_size, hash_tokens) && total_blocks >= 0);
    ls_kvcache *kv = ls_xcalloc(1, sizeof *kv);
    kv->bs = block_size;
    kv->ht = hash_tokens;
    kv->per = block_size <= hash_tokens ? hash_tokens / block_size : 1;
    kv->k = block_size <= hash_tokens ? 1 : block_size / hash_tokens;
    kv->total = kv->fresh = kv->nfree = total_blocks;
    kv->seg_free = kv->ent_free = kv->ref_free = NIL;
    kv->qhead = kv->qtail = NIL;
    kv->mask = 1023;
    kv->tab = tab_alloc(kv->mask + 1);
    if (tier_entries > 0) {
        assert(block_size <= hash_tokens);
        kv->tier = ls_kvtier_new(tier_entries);
    }
    return kv;
}

void ls_kvcache_free(ls_kvcache *kv)
{
    if (!kv)
        return;
    for (int32_t i = 0; i < kv->capreq; i++) {
        free(kv->req[i].chain);
        free(kv->req[i].run);
    }
    free(kv->req);
    for (int32_t i = 0; i < kv->capseg / PAGE; i++)
        free(kv->segpg[i]);
    free(kv->segpg);
    for (int32_t i = 0; i < kv->capref / PAGE; i++)
        free(kv->refpg[i]);
    free(kv->refpg);
    for (int32_t i = 0; i < kv->capent / PAGE; i++)
        free(kv->entpg[i]);
    free(kv->entpg);
    free(kv->tab);
    ls_kvtier_free(kv->tier);
    free(kv);
}

/* ---------------------------------------------------------------- segment table */

/* n empty slots. */
static slotent *tab_alloc(uint64_t n)
{
    slotent *t = ls_xmalloc(n * sizeof *t);
    for (uint64_t i = 0; i < n; i++)
        t[i] = (slotent){0, NIL};
    return t;
}

/* Where `key` is, or the empty slot where it would go. */
static uint64_t tab_slot(const ls_kvcache *kv, uint64_t key)
{
    for (uint64_t i = key & kv->mask;; i = (i + 1) & kv->mask) {
        const slotent *t = &kv->tab[i];
        if (t->s == NIL || t->key == key)
            return i;
    }
}

static int32_t tab_find(const ls_kvcache *kv, uint64_t key)
{
    return kv->tab[tab_slot(kv, key)].s;
}

static void tab_put(ls_kvcache *kv, uint64_t key, int32_t s)
{
    uint64_t i = key & kv->mask;
    while (kv->tab[i].s != NIL)
        i = (i + 1) & kv->mask;
    kv->tab[i] = (slotent){key, s};
}

static void tab_grow(ls_kvcache *kv)
{
    slotent *old = kv->tab;
    uint64_t n = kv->mask + 1;
    kv->mask = 2 * n - 1;
    kv->tab = tab_alloc(2 * n);
    for (uint64_t i = 0; i < n; i++)
        if (old[i].s != NIL)
            tab_put(kv, old[i].key, old[i].s);
    free(old);
}

/* Backward-shift deletion keeps probe chains unbroken without tombstones. */
static void tab_del(ls_kvcache *kv, int32_t s)
{
    uint64_t i = seg_at(kv, s)->key & kv->mask;
    while (kv->tab[i].s != s)
        i = (i + 1) & kv->mask;
    for (uint64_t j = (i + 1) & kv->mask;; j = (j + 1) & kv->mask) {
        slotent t = kv->tab[j];
        if (t.s == NIL)
            break;
        uint64_t home = t.key & kv->mask;
        /* t may move to i when its home is not in (i, j] (cyclically) */
        if (((j - home) & kv->mask) >= ((j - i) & kv->mask)) {
            kv->tab[i] = t;
            i = j;
        }
    }
    kv->tab[i] = (slotent){0, NIL};
}

/* A new segment for `key`, absent from the table, whose empty slot is `slot`. */
static int32_t seg_new(ls_kvcache *kv, uint64_t key, uint64_t slot)
{
    int32_t s = kv->seg_free;
    if (s != NIL) {
        kv->seg_free = seg_at(kv, s)->next_free;
    } else {
        if (kv->nseg == kv->capseg) {
            kv->segpg = ls_xrealloc(kv->segpg, (size_t)(kv->capseg / PAGE + 1) * sizeof *kv->segpg);
            kv->segpg[kv->capseg / PAGE] = ls_xmalloc((size_t)PAGE * sizeof **kv->segpg);
            kv->capseg += PAGE;
        }
        s = kv->nseg++;
    }
    seg_at(kv, s)->key = key;
    seg_at(kv, s)->ncached = 0;
    seg_at(kv, s)->ent = NIL;
    seg_at(kv, s)->uref = -1;  /* every block uncached */
    if (2 * (uint64_t)(kv->live + 1) > kv->mask + 1) {
        tab_grow(kv);
        tab_put(kv, key, s);
    } else {
        kv->tab[slot] = (slotent){key, s};  /* where tab_put would put it */
    }
    kv->live++;
    return s;
}

static void seg_drop(ls_kvcache *kv, int32_t s)
{
    if (seg_at(kv, s)->uref == MIXED) {  /* its ref array goes to the free list */
        seg_ref(kv, s)[0] = kv->ref_free;
        kv->ref_free = seg_at(kv, s)->refi;
    }
    assert(seg_at(kv, s)->ncached == 0 && seg_at(kv, s)->ent == NIL);
    tab_del(kv, s);
    seg_at(kv, s)->next_free = kv->seg_free;
    kv->seg_free = s;
    kv->live--;
}

/* ---------------------------------------------------------------- free queue */

static int32_t ent_new(ls_kvcache *kv, int32_t s, int32_t lo, int32_t hi, int64_t count)
{
    int32_t e = kv->ent_free;
    if (e != NIL) {
        kv->ent_free = ent_at(kv, e)->next;
    } else {
        if (kv->nent == kv->capent) {
            kv->entpg = ls_xrealloc(kv->entpg, (size_t)(kv->capent / PAGE + 1) * sizeof *kv->entpg);
            kv->entpg[kv->capent / PAGE] = ls_xmalloc((size_t)PAGE * sizeof **kv->entpg);
            kv->capent += PAGE;
        }
        e = kv->nent++;
    }
    ent *x = ent_at(kv, e);
    x->count = count;
    x->s = s;
    x->lo = lo;
    x->hi = hi;
    x->prev = x->next = x->sprev = x->snext = NIL;
    if (s != NIL) {  /* link into the segment's entries */
        x->snext = seg_at(kv, s)->ent;
        if (x->snext != NIL)
            ent_at(kv, x->snext)->sprev = e;
        seg_at(kv, s)->ent = e;
    }
    return e;
}

/* Put e after `after` (NIL: at the front). */
static void q_insert_after(ls_kvcache *kv, int32_t e, int32_t after)
{
    ent *x = ent_at(kv, e);
    x->prev = after;
    x->next = after != NIL ? ent_at(kv, after)->next : kv->qhead;
    if (x->next != NIL)
        ent_at(kv, x->next)->prev = e;
    else
        kv->qtail = e;
    if (after != NIL)
        ent_at(kv, after)->next = e;
    else
        kv->qhead = e;
}

/* Remove e from the queue and its segment, and recycle it. */
static void ent_drop(ls_kvcache *kv, int32_t e)
{
    ent *x = ent_at(kv, e);
    if (x->prev != NIL)
        ent_at(kv, x->prev)->next = x->next;
    else
        kv->qhead = x->next;
    if (x->next != NIL)
        ent_at(kv, x->next)->prev = x->prev;
    else
        kv->qtail = x->prev;
    if (x->s != NIL) {
        if (x->sprev != NIL)
            ent_at(kv, x->sprev)->snext = x->snext;
        else
            seg_at(kv, x->s)->ent = x->snext;
        if (x->snext != NIL)
            ent_at(kv, x->snext)->sprev = x->sprev;
    }
    x->next = kv->ent_free;
    kv->ent_free = e;
}

/* c anonymous blocks to the tail (merged with a run already there). */
static void q_append_anon(ls_kvcache *kv, int64_t c)
{
    if (c <= 0)
        return;
    if (kv->qtail != NIL && ent_at(kv, kv->qtail)->s == NIL) {
        ent_at(kv, kv->qtail)->count += c;
        return;
    }
    q_insert_after(kv, ent_new(kv, NIL, 0, 0, c), kv->qtail);
}

void ls_kvcache_put(ls_kvcache *kv, int64_t k)
{
    assert(k >= 0 && kv->nfree + k <= kv->total);
    q_append_anon(kv, k);
    kv->nfree += k;
}

void ls_kvcache_take(ls_kvcache *kv, int64_t k)
{
    assert(k >= 0 && k <= kv->nfree);
    kv->nfree -= k;
    int64_t t = k < kv->fresh ? k : kv->fresh;
    kv->fresh -= t;
    k -= t;
    while (k > 0) {
        int32_t e = kv->qhead;
        assert(e != NIL);
        ent *x = ent_at(kv, e);
        t = k < x->count ? k : x->count;
        x->count -= t;
        k -= t;
        int32_t s = x->s;
        if (s != NIL) {
            /* cached free blocks are reused: evict them (lazily, as vLLM), from hi down */
            x->hi -= (int32_t)t;
            if (seg_at(kv, s)->uref != MIXED && t == kv->per)
                seg_at(kv, s)->uref = -1;  /* a whole free segment (all 0) */
            else
                memset(seg_ref_w(kv, s) + x->hi, 0xff, (size_t)t * sizeof(int32_t));  /* -1 */
            seg_at(kv, s)->ncached -= (int32_t)t;
            kv->st.evicted_blocks += t;
        }
        if (x->count == 0) {
            ent_drop(kv, e);
            if (s != NIL && seg_at(kv, s)->ncached == 0)
                seg_drop(kv, s);
        }
    }
}

/* ---------------------------------------------------------------- requests */

static kreq *req_at(ls_kvcache *kv, int32_t slot)
{
    assert(slot >= 0);
    if (slot >= kv->capreq) {
        int32_t nc = kv->capreq ? kv->capreq : 64;
        while (nc <= slot)
            nc *= 2;
        kv->req = ls_xrealloc(kv->req, (size_t)nc * sizeof *kv->req);
        memset(kv->req + kv->capreq, 0, (size_t)(nc - kv->capreq) * sizeof *kv->req);
        kv->capreq = nc;
    }
    return &kv->req[slot];
}

static uint64_t chain_next(uint64_t c, int64_t id)
{
    return mix64(c ^ mix64((uint64_t)id + 0x9e3779b97f4a7c15ULL));
}
#define CHAIN_ROOT 0x6c6c6d7377656570ULL

void ls_kvcache_set(ls_kvcache *kv, int32_t slot, int32_t prompt, const int64_t *hash_ids, uint32_t n)
{
    kreq *q = req_at(kv, slot);
    assert(q->h == 0 && q->nrun == 0);  /* a recycled slot was released */
    q->prompt = prompt;
    int64_t need = (int64_t)prompt / kv->bs * kv->k;  /* hash blocks that full prompt blocks can use */
    if ((int64_t)n > need + 1)
        n = (uint32_t)(need + 1);  /* a longer list (a clipped prompt) adds nothing */
    q->n = n;
    if (n > q->capchain) {
        q->capchain = n;
        q->chain = ls_xrealloc(q->chain, (size_t)n * sizeof *q->chain);
    }
    uint64_t c = CHAIN_ROOT;
    for (uint32_t i = 0; i < n; i++) {
        c = chain_next(c, hash_ids[i]);
        q->chain[i] = c;
    }
    int64_t covered = kv->bs <= kv->ht ? (int64_t)n * kv->per : (int64_t)n / kv->k;
    int64_t full = prompt / kv->bs;
    q->lim = full < covered ? full : covered;
    q->h = 0;
}

/* Append n blocks from v (NIL: anonymous) to the request's runs, merged with
 * the last run when they continue it within one segment (so a release sees
 * a segment's consecutive blocks together, as a walk of single blocks would). */
static void run_push(const ls_kvcache *kv, kreq *q, int32_t v, int32_t n)
{
    if (q->nrun > 0) {
        krun *p = &q->run[q->nrun - 1];
        if (v == NIL ? p->v == NIL : p->v != NIL && p->v + p->n == v && v % kv->per != 0) {
            p->n += n;
            return;
        }
    }
    if (q->nrun == q->caprun) {  /* allocated at first use: waiting requests cost only their hash ids */
        q->caprun = q->caprun ? 2 * q->caprun : 8;
        q->run = ls_xrealloc(q->run, (size_t)q->caprun * sizeof *q->run);
    }
    q->run[q->nrun++] = (krun){v, n};
}

/* The segment key and the block offset of engine block j. */
static uint64_t block_seg_key(const ls_kvcache *kv, const kreq *q, int64_t j, int *off)
{
    if (kv->bs <= kv->ht) {
        *off = (int)(j % kv->per);
        return q->chain[j / kv->per];
    }
    *off = 0;
    return q->chain[(j + 1) * kv->k - 1];
}

int64_t ls_kvcache_match(ls_kvcache *kv, int32_t slot, int64_t tokens, int64_t *n_free, int64_t *n_loaded)
{
    kreq *q = req_at(kv, slot);
    assert(q->h == 0 && tokens >= 1);
    int64_t maxb = (tokens - 1) / kv->bs;  /* the last token is always recomputed */
    if (maxb > q->lim)
        maxb = q->lim;
    int64_t j = 0, nf = 0;
    while (j < maxb) {  /* whole segments: a match starts at offset 0 */
        int off;
        int32_t s = tab_find(kv, block_seg_key(kv, q, j, &off));
        if (s == NIL)
            break;
        assert(off == 0);
        int n = kv->per;
        if (n > maxb - j)
            n = (int)(maxb - j);
        int i = 0;
        int32_t u = seg_at(kv, s)->uref;
        if (u != MIXED) {
            assert(u >= 0);  /* a live segment has a cached block */
            i = n;
            nf += u == 0 ? n : 0;
        } else {
            const int32_t *ref = seg_ref(kv, s);
            while (i < n && ref[i] >= 0) {
                nf += ref[i] == 0;
                i++;
            }
        }
        j += i;
        if (i < kv->per)
            break;
    }
    *n_free = nf;
    /* the host tier holds whole hash blocks: what follows the GPU hits */
    int64_t h = j;
    while (kv->tier && j < maxb && ls_kvtier_lookup(kv->tier, q->chain[j / kv->per])) {
        int64_t end = (j / kv->per + 1) * kv->per;
        j = end < maxb ? end : maxb;
    }
    *n_loaded = j - h;
    return h;
}

int64_t ls_kvcache_probe(const ls_kvcache *kv, int32_t prompt, const int64_t *hash_ids, uint32_t n)
{
    if (prompt < 1 || n == 0)
        return 0;
    int64_t maxb = ((int64_t)prompt - 1) / kv->bs;  /* as a lookup: never the last token */
    uint64_t c = CHAIN_ROOT;
    int64_t j = 0;
    for (uint32_t m = 0; m < n && j < maxb; m++) {
        c = chain_next(c, hash_ids[m]);
        if (kv->bs > kv->ht && (m + 1) % (uint32_t)kv->k != 0)
            continue;  /* big blocks: named by the id of their last hash block */
        int32_t s = tab_find(kv, c);
        if (s == NIL)
            break;
        int i = 0;
        while (i < kv->per && j < maxb && ref_at(kv, s, i) >= 0) {
            i++;
            j++;
        }
        if (i < kv->per)
            break;
    }
    return j;
}

/* Cut [0, b) out of segment s's entries in the free queue (the blocks a hit takes). */
static void seg_cut(ls_kvcache *kv, int32_t s, int32_t b)
{
    for (int32_t e = seg_at(kv, s)->ent; e != NIL;) {
        ent *x = ent_at(kv, e);
        int32_t nx = x->snext;
        if (x->lo < b) {
            if (x->hi <= b) {
                ent_drop(kv, e);
            } else {
                x->lo = b;
                x->count = x->hi - x->lo;
            }
        }
        e = nx;
    }
}

void ls_kvcache_acquire(ls_kvcache *kv, int32_t slot, int64_t hit, int64_t loaded, bool first)
{
    kreq *q = req_at(kv, slot);
    assert(q->h == 0 && q->nrun == 0 && hit >= 0 && hit <= q->lim);
    for (int64_t j = 0; j < hit;) {
        int off;
        int32_t s = tab_find(kv, block_seg_key(kv, q, j, &off));
        assert(s != NIL && off == 0);
        int32_t b = kv->per;
        if (b > hit - j)
            b = (int32_t)(hit - j);
        int32_t nf = 0;
        if (seg_at(kv, s)->uref != MIXED && b == kv->per) {
            assert(seg_at(kv, s)->uref >= 0);
            nf = seg_at(kv, s)->uref == 0 ? b : 0;
            seg_at(kv, s)->uref++;
        } else {
            int32_t *ref = seg_ref_w(kv, s);
            for (int32_t i = 0; i < b; i++) {
                assert(ref[i] >= 0);
                nf += ref[i] == 0;
                ref[i]++;
            }
        }
        run_push(kv, q, (int32_t)((int64_t)s * kv->per), b);
        if (nf)
            seg_cut(kv, s, b);
        kv->nfree -= nf;
        j += b;
    }
    q->h = hit;
    kv->pend_load += loaded;
    kv->st.loaded_blocks += loaded;
    if (first) {
        kv->st.lookups++;
        kv->st.query_tokens += q->prompt;
        kv->st.hit_tokens += hit * kv->bs;
        kv->st.offload_hit_tokens += loaded * kv->bs;
    }
}

void ls_kvcache_transfers(ls_kvcache *kv, int64_t *load_blocks, int64_t *store_blocks)
{
    *load_blocks = kv->pend_load;
    *store_blocks = kv->pend_store;
    kv->pend_load = kv->pend_store = 0;
}

void ls_kvcache_commit(ls_kvcache *kv, int32_t slot, int64_t tokens)
{
    kreq *q = &kv->req[slot];
    int64_t b = (tokens < q->prompt ? tokens : q->prompt) / kv->bs;
    if (b > q->lim)
        b = q->lim;
    int64_t j = q->h;
    if (j >= b)
        return;
    while (j < b) {  /* one segment (hash block) at a time */
        int off;
        uint64_t key = block_seg_key(kv, q, j, &off);
        uint64_t ts = tab_slot(kv, key);
        int32_t s = kv->tab[ts].s;
        bool fresh = s == NIL;  /* a new segment: every block of it uncached, no check needed */
        if (fresh)
            s = seg_new(kv, key, ts);
        int64_t end = j + (kv->per - off);
        if (end > b)
            end = b;
        int32_t v = (int32_t)((int64_t)s * kv->per + off);
        int32_t n = (int32_t)(end - j), nc = 0;
        int32_t u = seg_at(kv, s)->uref;
        int32_t *ref = NULL;
        if (fresh && n == kv->per) {
            seg_at(kv, s)->uref = 1;  /* the whole segment at once: stays uniform */
            nc = n;
            run_push(kv, q, v, n);
        } else if (!fresh && u != MIXED) {
            assert(u >= 0);
            run_push(kv, q, NIL, n);  /* every block cached already: ours stay anonymous */
            n = 0;
        } else {
            ref = seg_ref_w(kv, s) + off;
            if (fresh) {
                for (int32_t i = 0; i < n; i++)
                    ref[i] = 1;
                nc = n;
                run_push(kv, q, v, n);
            }
        }
        for (int32_t i = fresh ? n : 0; i < n;) {  /* stretches of new blocks (registered) and of cached ones */
            int32_t i0 = i;
            if (ref[i] < 0) {
                for (; i < n && ref[i] < 0; i++)
                    ref[i] = 1;
                nc += i - i0;
                run_push(kv, q, v + i0, i - i0);
            } else {
                while (i < n && ref[i] >= 0)
                    i++;
                run_push(kv, q, NIL, i - i0);  /* an equal block is cached already: ours stays anonymous */
            }
        }
        j = end;
        seg_at(kv, s)->ncached += nc;
        /* write-through: a hash block completed now goes to the host tier unless it is there */
        if (kv->tier && j % kv->per == 0 && ls_kvtier_store(kv->tier, key)) {
            kv->pend_store += kv->per;
            kv->st.stored_blocks += kv->per;
        }
    }
    q->h = b;
}

int64_t ls_kvcache_release(ls_kvcache *kv, int32_t slot, int64_t blocks)
{
    kreq *q = &kv->req[slot];
    assert(q->h <= blocks);
    /* reverse order: the tail (anonymous) first, so it is reused before the prefix */
    int64_t freed = blocks - q->h;
    q_append_anon(kv, blocks - q->h);
    for (int32_t r = q->nrun - 1; r >= 0; r--) {
        krun x = q->run[r];
        if (x.v == NIL) {
            q_append_anon(kv, x.n);
            freed += x.n;
            continue;
        }
        int32_t s = x.v / kv->per, off = x.v - s * kv->per;
        if (seg_at(kv, s)->uref != MIXED && x.n == kv->per) {  /* a whole uniform segment: one step */
            assert(seg_at(kv, s)->uref > 0);
            if (--seg_at(kv, s)->uref == 0) {
                freed += kv->per;
                q_insert_after(kv, ent_new(kv, s, 0, kv->per, kv->per), kv->qtail);
            }
            continue;
        }
        int32_t *ref = seg_ref_w(kv, s) + off;
        for (int32_t i = x.n - 1; i >= 0;) {
            if (--ref[i] > 0) {
                i--;
                continue;  /* still held by another request */
            }
            /* a range of one segment going free together: i, i-1, ... while no one else holds them */
            int32_t hi = i + 1, lo = i;
            while (lo > 0 && ref[lo - 1] == 1)
                lo--;
            memset(ref + lo, 0, (size_t)(i - lo) * sizeof *ref);
            i = lo - 1;
            freed += hi - lo;
            q_insert_after(kv, ent_new(kv, s, off + lo, off + hi, hi - lo), kv->qtail);
        }
    }
    q->h = 0;
    q->nrun = 0;
    kv->nfree += freed;
    return freed;
}

void ls_kvcache_get_stats(const ls_kvcache *kv, ls_kvcache_stats *out)
{
    *out = kv->st;
}

/* ---------------------------------------------------------------- tests */

bool ls_kvcache_debug_cached(ls_kvcache *kv, int32_t slot, int64_t j)
{
    kreq *q = req_at(kv, slot);
    if (j < 0 || j >= q->lim)
        return false;
    int off;
    int32_t s = tab_find(kv, block_seg_key(kv, q, j, &off));
    return s != NIL && ref_at(kv, s, off) >= 0;
}

void ls_kvcache_debug_check(const ls_kvcache *kv, int64_t used_blocks)
{
    int64_t nf = kv->fresh, in_ranges = 0;
    int32_t prev = NIL;
    for (int32_t e = kv->qhead; e != NIL; e = ent_at(kv, e)->next) {
        const ent *x = ent_at(kv, e);
        assert(x->prev == prev && x->count > 0);
        if (x->s != NIL) {
            assert(x->lo < x->hi && x->count == x->hi - x->lo);
            for (int32_t i = x->lo; i < x->hi; i++)
                assert(ref_at(kv, x->s, i) == 0);
            in_ranges += x->count;
        }
        nf += x->count;
        prev = e;
    }
    assert(prev == kv->qtail);
    assert(nf == kv->nfree);
    assert(kv->total - kv->nfree == used_blocks);
    /* every held reference is counted once in its block's ref; every free cached block is in a range */
    int64_t refs = 0, held = 0, zeros = 0;
    int32_t live = 0;
    for (int32_t s = 0; s < kv->nseg; s++) {
        if (tab_find(kv, seg_at(kv, s)->key) != s)
            continue;  /* on the free list */
        live++;
        int32_t nc = 0;
        for (int i = 0; i < kv->per; i++) {
            int32_t r = ref_at(kv, s, i);
            nc += r >= 0;
            zeros += r == 0;
            refs += r > 0 ? r : 0;
        }
        assert(nc == seg_at(kv, s)->ncached && nc > 0);
    }
    assert(live == kv->live && zeros == in_ranges);
    for (int32_t i = 0; i < kv->capreq; i++) {
        int64_t nb = 0;
        for (int32_t r = 0; r < kv->req[i].nrun; r++) {
            const krun *x = &kv->req[i].run[r];
            assert(x->n > 0 && (x->v == NIL || x->v % kv->per + x->n <= kv->per));
            nb += x->n;
            held += x->v != NIL ? x->n : 0;
        }
        assert(nb == kv->req[i].h);
        (void)nb;
    }
    assert(refs == held);
    (void)refs;
    (void)held;
    (void)nf;
    (void)in_ranges;
    (void)zeros;
}
