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

struct ls_sweep_engine {
    const ls_sweep_spec *spec;
    cache_entry cache[CACHE_MAX_ENTRIES];
    size_t n_cache;
    size_t cached_requests;
    uint64_t tick;
    bool *fail;     /* injected failures, by config id (NULL: none) */
    ls_catalog *catalog; /* built-in catalog, loaded once (NULL if it failed: each load retries) */
    unsigned char *searches; /* capacity search per config id (NULL: every configuration) */
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

void ls_sweep_capacity_owners(const ls_config_row *rows, size_t n, unsigned char *searches)
{
    owner_item *v = ls_xcalloc(n + 1, sizeof *v);
    for (size_t i = 0; i < n; i++) {
        v[i].key = ls_config_row_capacity_key(&rows[i]);
        v[i].id = i;
    }
    qsort(v, n, sizeof *v, cmp_owner);
    /* sorted by key, then id: the first of each run of equal keys searches */
    for (size_t i = 0; i < n; i++)
        searches[v[i].id] = i == 0 || strcmp(v[i].key, v[i - 1].key) != 0;
    for (size_t i = 0; i < n; i++)
        free(v[i].key);
    free(v);
}

void ls_sweep_engine_set_capacity_owners(ls_sweep_engine *g, const unsigned char *searches)
{
    free(g->searches);
    g->searches = ls_xmalloc(g->spec->n ? g->spec->n : 1);
    memcpy(g->searches, searches, g->spec->n);
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
    const ls_request_array *arr = NULL;
    ls_status rc = cache_get(g, c, &arr, e);
    if (!rc) {
        ls_run_opts opts;
        memset(&opts, 0, sizeof opts);
        opts.requests = arr;
        opts.on_request = rows ? collect_row : NULL;
        opts.on_request_ctx = rows;
        opts.stop = stop;
        rc = ls_run(c, &opts, out, e);
    }
#ifdef LS_HAVE_CAPACITY
    /* one search per configuration, on its first listing (ls_sweep_capacity_owners) */
    if (!rc && out->status == LS_RUN_OK && s->capacity.enabled && (!g->searches || g->searches[id])) {
        ls_capacity_opts co = {.rate_lo = s->capacity.rate_lo,
                               .rate_hi = s->capacity.rate_hi,
                               .rel_tol = s->capacity.rel_tol,
                               .max_runs = s->capacity.max_runs,
                               .rate_start = s->capacity.start};
        /* the listing's own run is the first probe when it is listed at the start */
        ls_config_row row;
        ls_config_get_row(c, &row);
        co.known = out;
        co.known_rate = row.arrival_rate;
        ls_capacity_result cr;
        ls_error ce;
        ls_error_clear(&ce);
        if (ls_capacity_search(c, &co, &cr, &ce) == LS_OK)
            out->v[LS_M_CAPACITY_RPS] = cr.capacity_rps;
        else /* the run itself stands; say why capacity is missing */
            snprintf(out->message, sizeof out->message, "capacity search failed: %.200s", ce.msg);
    }
#endif
    ls_config_free(c);
    return rc;
}
