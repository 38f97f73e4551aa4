/* sweep_engine.c -- validation and one simulation per configuration (see sweep_engine.h). */
#include "sweep_engine.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config_key.h"
#include "replay.h"
#ifdef LS_HAVE_CAPACITY
#include "capacity.h"
#endif

/* The cache holds request streams of distinct workload keys. A sweep over
 * rates has one per rate, so bound it by requests held, oldest out first. */
#define CACHE_MAX_ENTRIES 32
#define CACHE_MAX_REQUESTS ((size_t)8 << 20) /* ~0.4 GB of ls_request */

typedef struct cache_entry {
    char *key;
    ls_request_array arr;
    uint64_t used;  /* tick of last use */
} cache_entry;

/* Whole runs kept by (configuration, rate): a listing and a capacity probe of the
 * same configuration at the same rate are one simulation (docs/PLAN.md, "Speed"). */
#define MEMO_MAX 64

typedef struct memo_entry {
    char *key;
    ls_metrics m;
} memo_entry;

struct ls_sweep_engine {
    const ls_sweep_spec *spec;
    cache_entry cache[CACHE_MAX_ENTRIES];
    size_t n_cache;
    size_t cached_requests;
    uint64_t tick;
    bool *fail;     /* injected failures, by config id (NULL: none) */
    ls_catalog *catalog; /* built-in catalog, loaded once (NULL if it failed: each load retries) */
    unsigned char *searches; /* capacity search per config id (NULL: every configuration) */
    int64_t *owner_of;       /* capacity group of each config id: its owner's id (NULL: not known) */
    int64_t *next_in_group;  /* the next id of the same group (-1: none) */
    double *rate_of;         /* listed arrival rate by id (NaN: not looked up yet) */
    memo_entry memo[MEMO_MAX];
    size_t memo_next;
    void (*poll)(void *);    /* between the simulations of one configuration (NULL: none) */
    void *poll_ctx;
    ls_sweep_engine_counts n;
};

static void where_label(const ls_sweep_spec *s, size_t i, char *buf, size_t n)
{
    snprintf(buf, n, "%s: configuration %zu (%s)", s->configs[i].where, i, s->configs[i].label);
}

ls_status ls_sweep_validate(const ls_sweep_spec *s, ls_config_row *rows, double *cost, FILE *report,
                            size_t max_report, size_t *n_bad, ls_error *e)
{
    size_t bad = 0;
    ls_error first;
    ls_error_clear(&first);
    /* the built-in catalog once, not once per configuration (it is parsed from YAML) */
    ls_catalog *cat = NULL;
    LS_TRY(ls_catalog_builtin(&cat, e));
    for (size_t i = 0; i < s->n; i++) {
        ls_run_config *c = NULL;
        ls_error err;
        ls_error_clear(&err);
        ls_status rc = ls_config_load(s->configs[i].tree, s->base_dir, cat, &c, &err);
        if (rc) {
            char w[512];
            where_label(s, i, w, sizeof w);
            ls_error_prefix(&err, "%s", w);
            if (bad < max_report && report)
                fprintf(report, "llmsweep: %s\n", err.msg);
            if (!bad)
                first = err;
            bad++;
            continue;
        }
        if (rows)
            ls_config_get_row(c, &rows[i]);
        if (cost)
            cost[i] = ls_config_cost_estimate(c);
        ls_config_free(c);
    }
    ls_catalog_free(cat);
    if (n_bad)
        *n_bad = bad;
    if (bad) {
        if (report && bad > max_report)
            fprintf(report, "llmsweep: ... and %zu more invalid configurations\n", bad - max_report);
        if (e)
            *e = first;
        return LS_EINVAL;
    }
    return LS_OK;
}

ls_sweep_engine *ls_sweep_engine_new(const ls_sweep_spec *s)
{
    ls_sweep_engine *g = ls_xcalloc(1, sizeof *g);
    g->spec = s;
    if (ls_catalog_builtin(&g->catalog, NULL))
        g->catalog = NULL;
    const char *ids = getenv("LS_SWEEP_FAIL_IDS");
    if (ids && *ids) {
        g->fail = ls_xcalloc(s->n ? s->n : 1, sizeof *g->fail);
        for (const char *p = ids; *p;) {
            char *end;
            long long v = strtoll(p, &end, 10);
            if (end == p)
                break;
            if (v >= 0 && (size_t)v < s->n)
                g->fail[v] = true;
            p = *end ? end + 1 : end;
        }
    }
    return g;
}

void ls_sweep_engine_free(ls_sweep_engine *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->n_cache; i++) {
        free(g->cache[i].key);
        ls_request_array_free(&g->cache[i].arr);
    }
    free(g->fail);
    free(g->searches);
    free(g->owner_of);
    free(g->next_in_group);
    free(g->rate_of);
    for (size_t i = 0; i < MEMO_MAX; i++)
        free(g->memo[i].key);
    ls_catalog_free(g->catalog);
    free(g);
}

static void cache_drop(ls_sweep_engine *g, size_t i)
{
    g->cached_requests -= g->cache[i].arr.n;
    free(g->cache[i].key);
    ls_request_array_free(&g->cache[i].arr);
    g->cache[i] = g->cache[--g->n_cache];
}

/* The request stream of c's workload: read or generated once per rank. */
static ls_status cache_get(ls_sweep_engine *g, const ls_run_config *c, const ls_request_array **out,
                           ls_error *e)
{
    const char *key = ls_config_workload_key(c);
    g->tick++;
    for (size_t i = 0; i < g->n_cache; i++)
        if (!strcmp(g->cache[i].key, key)) {
            g->cache[i].used = g->tick;
            *out = &g->cache[i].arr;
            return LS_OK;
        }
    ls_source *src = NULL;
    LS_TRY(ls_config_open_workload(c, &src, e));
    ls_request_array arr;
    memset(&arr, 0, sizeof arr);
    ls_status rc = ls_source_collect(src, 0, &arr, e);
    ls_source_free(src);
    if (rc) {
        ls_request_array_free(&arr);
        return rc;
    }
    /* make room: least recently used out first */
    while (g->n_cache > 0 &&
           (g->n_cache == CACHE_MAX_ENTRIES || g->cached_requests + arr.n > CACHE_MAX_REQUESTS)) {
        size_t lru = 0;
        for (size_t i = 1; i < g->n_cache; i++)
            if (g->cache[i].used < g->cache[lru].used)
                lru = i;
        cache_drop(g, lru);
    }
    cache_entry *ce = &g->cache[g->n_cache++];
    ce->key = ls_xstrdup(key);
    ce->arr = arr;
    ce->used = g->tick;
    g->cached_requests += arr.n;
    *out = &ce->arr;
    return LS_OK;
}

static void collect_row(void *ctx, const ls_request_result *r)
{
    ls_sweep_reqrow row = {.config_id = -1, .r = *r};
    ls_sweep_rowbuf_push(ctx, &row);
}

typedef struct owner_item {
    char *key;
    size_t id;
} owner_item;

static int cmp_owner(const void *pa, const void *pb)
{
    const owner_item *a = pa, *b = pb;
    int c = strcmp(a->key, b->key);
    return c ? c : (a->id > b->id) - (a->id < b->id);
}

void ls_sweep_capacity_groups(const ls_config_row *rows, size_t n, int64_t *owner_of)
{
    owner_item *v = ls_xcalloc(n + 1, sizeof *v);
    for (size_t i = 0; i < n; i++) {
        v[i].key = ls_config_row_capacity_key(&rows[i]);
        v[i].id = i;
    }
    qsort(v, n, sizeof *v, cmp_owner);
    /* sorted by key, then id: the first of each run of equal keys searches */
    size_t owner = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || strcmp(v[i].key, v[i - 1].key) != 0)
            owner = v[i].id;
        owner_of[v[i].id] = (int64_t)owner;
    }
    for (size_t i = 0; i < n; i++)
        free(v[i].key);
    free(v);
}

void ls_sweep_capacity_owners(const ls_config_row *rows, size_t n, unsigned char *searches)
{
    int64_t *own = ls_xmalloc((n ? n : 1) * sizeof *own);
    ls_sweep_capacity_groups(rows, n, own);
    for (size_t i = 0; i < n; i++)
        searches[i] = own[i] == (int64_t)i;
    free(own);
}

void ls_sweep_engine_set_capacity_owners(ls_sweep_engine *g, const unsigned char *searches)
{
    free(g->searches);
    g->searches = ls_xmalloc(g->spec->n ? g->spec->n : 1);
    memcpy(g->searches, searches, g->spec->n);
}

void ls_sweep_engine_set_capacity_groups(ls_sweep_engine *g, const int64_t *owner_of)
{
    size_t n = g->spec->n;
    unsigned char *own = ls_xmalloc(n ? n : 1);
    for (size_t i = 0; i < n; i++)
        own[i] = owner_of[i] == (int64_t)i;
    ls_sweep_engine_set_capacity_owners(g, own);
    free(own);
    free(g->owner_of);
    free(g->next_in_group);
    free(g->rate_of);
    g->owner_of = ls_xmalloc((n ? n : 1) * sizeof *g->owner_of);
    memcpy(g->owner_of, owner_of, n * sizeof *owner_of);
    g->next_in_group = ls_xmalloc((n ? n : 1) * sizeof *g->next_in_group);
    g->rate_of = ls_xmalloc((n ? n : 1) * sizeof *g->rate_of);
    int64_t *last = ls_xmalloc((n ? n : 1) * sizeof *last); /* by owner: the last id linked */
    for (size_t i = 0; i < n; i++) {
        g->next_in_group[i] = -1;
        g->rate_of[i] = NAN;
        last[i] = -1;
    }
    for (size_t i = 0; i < n; i++) {
        int64_t o = owner_of[i];
        if (o < 0 || (size_t)o >= n)
            continue;
        if (last[o] >= 0)
            g->next_in_group[last[o]] = (int64_t)i;
        last[o] = (int64_t)i;
    }
    free(last);
}

void ls_sweep_search_costs(const ls_sweep_spec *s, const int64_t *owner_of, double *cost)
{
#ifdef LS_HAVE_CAPACITY
    if (!s->capacity.enabled)
        return;
    ls_catalog *cat = NULL;
    if (ls_catalog_builtin(&cat, NULL))
        return; /* an estimate only: leave the costs as they are */
    double start = s->capacity.rate_lo > 0 ? s->capacity.rate_lo
                   : s->capacity.start > 0 ? s->capacity.start
                                           : LS_CAPACITY_START_RPS;
    for (size_t i = 0; i < s->n; i++) {
        if (owner_of[i] != (int64_t)i)
            continue;
        ls_run_config *c = NULL;
        if (ls_config_load(s->configs[i].tree, s->base_dir, cat, &c, NULL))
            continue;
        if (ls_config_set_arrival_rate(c, start, NULL) == LS_OK)
            cost[i] += LS_SWEEP_SEARCH_PROBES * ls_config_cost_estimate(c);
        ls_config_free(c);
    }
    ls_catalog_free(cat);
#else
    (void)s;
    (void)owner_of;
    (void)cost;
#endif
}

void ls_sweep_engine_get_counts(const ls_sweep_engine *g, ls_sweep_engine_counts *out)
{
    *out = g->n;
}

/* ---- one simulation per (configuration, rate) ---------------------------------------- */

/* The configuration at its rate: every /configs column but the rate, and the workload's
 * canonical key (the rate written exactly). Caller frees. */
static char *memo_key(const ls_run_config *c)
{
    ls_config_row row;
    ls_config_get_row(c, &row);
    char *k = ls_config_row_capacity_key(&row);
    const char *w = ls_config_workload_key(c);
    size_t n = strlen(k) + strlen(w) + 2;
    char *out = ls_xmalloc(n);
    snprintf(out, n, "%s\n%s", k, w);
    free(k);
    return out;
}

static const ls_metrics *memo_find(const ls_sweep_engine *g, const char *key)
{
    for (size_t i = 0; i < MEMO_MAX; i++)
        if (g->memo[i].key && !strcmp(g->memo[i].key, key))
            return &g->memo[i].m;
    return NULL;
}

static void memo_put(ls_sweep_engine *g, const char *key, const ls_metrics *m)
{
    if (memo_find(g, key))
        return;
    memo_entry *me = &g->memo[g->memo_next++ % MEMO_MAX];
    free(me->key);
    me->key = ls_xstrdup(key);
    me->m = *m;
}

#ifdef LS_HAVE_CAPACITY
typedef struct search_ctx {
    ls_sweep_engine *g;
    size_t owner;
} search_ctx;

static ls_status hook_requests(void *ctx, const ls_run_config *c, const ls_request_array **out, ls_error *e)
{
    search_ctx *x = ctx;
    return cache_get(x->g, c, out, e);
}

static const ls_metrics *hook_lookup(void *ctx, const ls_run_config *c)
{
    search_ctx *x = ctx;
    char *k = memo_key(c);
    const ls_metrics *m = memo_find(x->g, k);
    free(k);
    if (m)
        x->g->n.probes_reused++;
    return m;
}

static void hook_store(void *ctx, const ls_run_config *c, const ls_metrics *m)
{
    search_ctx *x = ctx;
    char *k = memo_key(c);
    memo_put(x->g, k, m);
    free(k);
}

/* The listed arrival rate of configuration j (NaN when it does not load). */
static double rate_of(ls_sweep_engine *g, int64_t j)
{
    if (isnan(g->rate_of[j])) {
        ls_run_config *cj = NULL;
        if (ls_config_load(g->spec->configs[j].tree, g->spec->base_dir, g->catalog, &cj, NULL))
            return NAN;
        ls_config_row rj;
        ls_config_get_row(cj, &rj);
        ls_config_free(cj);
        g->rate_of[j] = rj.arrival_rate;
    }
    return g->rate_of[j];
}

/* Whether a listing of the owner's group is at c's rate: its metrics will be wanted. */
static bool hook_whole(void *ctx, const ls_run_config *c)
{
    search_ctx *x = ctx;
    ls_sweep_engine *g = x->g;
    if (!g->owner_of)
        return true; /* groups unknown: keep every probe whole, any listing may want it */
    ls_config_row row;
    ls_config_get_row(c, &row);
    for (int64_t j = (int64_t)x->owner; j >= 0; j = g->next_in_group[j]) {
        double r = rate_of(g, j);
        if (isnan(r) || r == row.arrival_rate)
            return true;
    }
    return false;
}

/* The rates the owner's group is listed at, in spec order (the search's given rates:
 * the same for every rank count and hand-out). Caller frees *out. */
static int group_rates(ls_sweep_engine *g, size_t owner, double **out)
{
    *out = NULL;
    if (!g->owner_of)
        return 0;
    int n = 0, cap = 0;
    for (int64_t j = (int64_t)owner; j >= 0; j = g->next_in_group[j]) {
        double r = rate_of(g, j);
        if (!(r > 0) || !isfinite(r))
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 8;
            *out = ls_xrealloc(*out, (size_t)cap * sizeof **out);
        }
        (*out)[n++] = r;
    }
    return n;
}

static void hook_between(void *ctx)
{
    search_ctx *x = ctx;
    if (x->g->poll)
        x->g->poll(x->g->poll_ctx);
}
#endif

void ls_sweep_engine_set_poll(void *ctx, void (*poll)(void *), void *poll_ctx)
{
    ls_sweep_engine *g = ctx;
    g->poll = poll;
    g->poll_ctx = poll_ctx;
}

bool ls_sweep_engine_has_capacity(void)
{
#ifdef LS_HAVE_CAPACITY
    return true;
#else
    return false;
#endif
}

ls_status ls_sweep_engine_run(void *ctx, size_t id, ls_metrics *out, ls_sweep_rowbuf *rows,
                              volatile sig_atomic_t *stop, ls_error *e)
{
    ls_sweep_engine *g = ctx;
    const ls_sweep_spec *s = g->spec;
    assert(id < s->n);
    if (g->fail && g->fail[id])
        return ls_fail(e, LS_EIO, "injected failure (LS_SWEEP_FAIL_IDS)");
    ls_run_config *c = NULL;
    LS_TRY(ls_config_load(s->configs[id].tree, s->base_dir, g->catalog, &c, e));
    char *key = memo_key(c);
    /* a capacity probe of this configuration at this rate ran it whole already */
    const ls_metrics *seen = rows ? NULL : memo_find(g, key);
    ls_status rc = LS_OK;
    if (seen) {
        *out = *seen;
        g->n.listed_reused++;
    } else {
        const ls_request_array *arr = NULL;
        rc = cache_get(g, c, &arr, e);
        if (!rc) {
            ls_run_opts opts;
            memset(&opts, 0, sizeof opts);
            opts.requests = arr;
            opts.on_request = rows ? collect_row : NULL;
            opts.on_request_ctx = rows;
            opts.stop = stop;
            rc = ls_run(c, &opts, out, e);
            g->n.listed_simulated++;
        }
        if (!rc && (out->status == LS_RUN_OK || out->status == LS_RUN_INFEASIBLE))
            memo_put(g, key, out);
    }
    free(key);
#ifdef LS_HAVE_CAPACITY
    /* one search per configuration, on its first listing (ls_sweep_capacity_owners) */
    if (!rc && out->status == LS_RUN_OK && s->capacity.enabled && (!g->searches || g->searches[id])) {
        search_ctx x = {g, id};
        ls_capacity_hooks hooks = {&x, hook_requests, hook_lookup, hook_store, hook_whole, hook_between};
        ls_capacity_opts co = {.rate_lo = s->capacity.rate_lo,
                               .rate_hi = s->capacity.rate_hi,
                               .rel_tol = s->capacity.rel_tol,
                               .max_runs = s->capacity.max_runs,
                               .rate_start = s->capacity.start,
                               .rate_floor = s->capacity.floor,
                               .hooks = &hooks,
                               .bisect = s->capacity.bisect,
                               .stop = stop};
        double *given = NULL;
        co.n_given_rates = group_rates(g, id, &given);
        co.given_rates = given;
        /* the listing's own run is the first probe when it is listed at the start */
        ls_config_row row;
        ls_config_get_row(c, &row);
        co.known = out;
        co.known_rate = row.arrival_rate;
        if (g->poll) /* the listing ran: answer the workers before the search */
            g->poll(g->poll_ctx);
        ls_capacity_result cr;
        ls_error ce;
        ls_error_clear(&ce);
        ls_status cs = ls_capacity_search(c, &co, &cr, &ce);
        if (cs == LS_EINTERRUPTED) {
            rc = ls_fail(e, LS_EINTERRUPTED, "interrupted"); /* abandoned: the row is not written, resume redoes it */
        } else if (cs == LS_OK) {
            out->v[LS_M_CAPACITY_RPS] = cr.capacity_rps;
            out->v[LS_M_CAPACITY_FAIL_RPS] = cr.failing_rps; /* the readers' "< R" for a capacity of 0 */
            if (cr.below_floor) /* capacity 0 stands for "< floor": say so in the row */
                snprintf(out->message, sizeof out->message,
                         "capacity below the search floor: the SLO is missed at %g req/s (capacity.floor)",
                         cr.failing_rps);
            else if (cr.capacity_rps > 0 && isnan(cr.failing_rps)) /* never bracketed: a lower bound */
                snprintf(out->message, sizeof out->message,
                         "capacity is a lower bound: the SLO is met at every rate probed, up to %g req/s (%s)",
                         cr.capacity_rps, co.rate_hi > 0 ? "capacity.rate_hi" : "capacity.max_runs");
        } else /* the run itself stands; say why capacity is missing */
            snprintf(out->message, sizeof out->message, "capacity search failed: %.200s", ce.msg);
        free(given);
        g->n.searches++;
        g->n.probes += (uint64_t)cr.runs;
        g->n.probes_simulated += (uint64_t)cr.simulated;
        g->n.probes_stopped += (uint64_t)cr.stopped;
    }
#endif
    ls_config_free(c);
    return rc;
}
