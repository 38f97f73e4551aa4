/* test_sweep_spec.c -- specification parsing and grid expansion: counts, order,
 * zip, exclude, merged sub-configurations, seed, hashes and error messages. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sweep_spec.h"

static ls_sweep_spec *parse_ok(const char *text)
{
    ls_sweep_spec *s = NULL;
    ls_error e;
    ls_error_clear(&e);
    ls_status rc = ls_sweep_spec_parse(text, strlen(text), "spec.yaml", NULL, &s, &e);
    if (rc)
        fail_msg("unexpected error: %s", e.msg);
    return s;
}

static void parse_err(const char *text, const char *needle1, const char *needle2)
{
    ls_sweep_spec *s = NULL;
    ls_error e;
    ls_error_clear(&e);
    ls_status rc = ls_sweep_spec_parse(text, strlen(text), "spec.yaml", NULL, &s, &e);
    assert_int_not_equal(rc, LS_OK);
    assert_null(s);
    if (!strstr(e.msg, needle1) || (needle2 && !strstr(e.msg, needle2)))
        fail_msg("message '%s' lacks '%s' / '%s'", e.msg, needle1, needle2 ? needle2 : "");
}

static const char *at(const ls_sweep_spec *s, size_t i, const char *path)
{
    const ls_yaml *n = ls_yaml_get_path(s->configs[i].tree, path);
    return n && n->kind == LS_YAML_SCALAR ? n->scalar : "<none>";
}

static void test_cartesian_order(void **st)
{
    (void)st;
    ls_sweep_spec *s = parse_ok("name: t\n"
                                "base: {model: m, scheduler: {policy: v1, max_num_seqs: 4}}\n"
                                "grid:\n"
                                "  parallelism: [tp1, tp2]\n"
                                "  workload.arrival.rate: [0.5, 1, 2]\n");
    assert_int_equal(s->n, 6);
    assert_int_equal(s->n_points, 6);
    /* first axis slowest, as nested loops written in file order */
    const char *par[] = {"tp1", "tp1", "tp1", "tp2", "tp2", "tp2"};
    const char *rate[] = {"0.5", "1", "2", "0.5", "1", "2"};
    for (size_t i = 0; i < 6; i++) {
        assert_string_equal(at(s, i, "parallelism"), par[i]);
        assert_string_equal(at(s, i, "workload.arrival.rate"), rate[i]);
        assert_string_equal(at(s, i, "scheduler.max_num_seqs"), "4"); /* base kept */
    }
    assert_string_equal(s->name, "t");
    assert_string_equal(s->configs[4].label, "parallelism=tp2 workload.arrival.rate=1");
    /* where: the spec line of the first axis value */
    assert_string_equal(s->configs[4].where, "spec.yaml:4");
    ls_sweep_spec_free(s);
}

static void test_hash_is_fnv_of_canonical(void **st)
{
    (void)st;
    ls_sweep_spec *s = parse_ok("base: {b: 2, a: 1}\ngrid: {c: [x]}\n");
    assert_int_equal(s->n, 1);
    assert_string_equal(s->configs[0].canonical, "{a: 1, b: 2, c: x}");
    /* FNV-1a 64 computed here independently */
    uint64_t h = 0xcbf29ce484222325ull;
    for (const char *p = "{a: 1, b: 2, c: x}"; *p; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
    char want[17];
    snprintf(want, sizeof want, "%016" PRIx64, h);
    assert_string_equal(s->configs[0].hash, want);
    assert_int_equal(strlen(s->configs[0].hash), 16);
    ls_sweep_spec_free(s);
}

static void test_deterministic(void **st)
{
    (void)st;
    const char *t = "base: {x: 1}\ngrid: {a: [1, 2, 3], b: [p, q]}\n";
    ls_sweep_spec *s1 = parse_ok(t), *s2 = parse_ok(t);
    assert_int_equal(s1->n, s2->n);
    for (size_t i = 0; i < s1->n; i++)
        assert_string_equal(s1->configs[i].hash, s2->configs[i].hash);
    assert_string_equal(s1->set_hash, s2->set_hash);
    /* distinct configurations, distinct hashes */
    for (size_t i = 0; i < s1->n; i++)
        for (size_t j = i + 1; j < s1->n; j++)
            assert_string_not_equal(s1->configs[i].hash, s1->configs[j].hash);
    ls_sweep_spec_free(s1);
    ls_sweep_spec_free(s2);
}

static void test_zip(void **st)
{
    (void)st;
    ls_sweep_spec *s = parse_ok("base: {w: {d: 10}}\n"
                                "grid: {p: [a, b]}\n"
                                "zip:\n"
                                "  - {w.rate: [1, 2, 4], w.d: [40, 20, 10]}\n");
    assert_int_equal(s->n, 6); /* 2 x 3, not 2 x 3 x 3 */
    const char *rate[] = {"1", "2", "4", "1", "2", "4"};
    const char *d[] = {"40", "20", "10", "40", "20", "10"};
    for (size_t i = 0; i < 6; i++) {
        assert_string_equal(at(s, i, "w.rate"), rate[i]);
        assert_string_equal(at(s, i, "w.d"), d[i]);
        assert_string_equal(at(s, i, "p"), i < 3 ? "a" : "b");
    }
    ls_sweep_spec_free(s);
}

static void test_exclude(void **st)
{
    (void)st;
    ls_sweep_spec *s = parse_ok("base: {x: 0}\n"
                                "grid: {p: [tp1, tp8], r: [1, 2.0, 3], c: [true, false]}\n"
                                "exclude:\n"
                                "  - {p: tp8, r: 2}\n"          /* 2 matches 2.0 numerically */
                                "  - {p: tp1, r: [1, 3], c: false}\n");
    /* 12 points; rule 1 drops tp8 x r=2 x 2 = 2; rule 2 drops tp1 x {1,3} x false = 2 */
    assert_int_equal(s->n_points, 12);
    assert_int_equal(s->n, 8);
    for (size_t i = 0; i < s->n; i++) {
        bool tp8 = !strcmp(at(s, i, "p"), "tp8");
        assert_false(tp8 && !strcmp(at(s, i, "r"), "2.0"));
        assert_false(!tp8 && strcmp(at(s, i, "r"), "2.0") && !strcmp(at(s, i, "c"), "false"));
    }
    ls_sweep_spec_free(s);
}

static void test_mapping_values_merge(void **st)
{
    (void)st;
    ls_sweep_spec *s = parse_ok("base:\n"
                                "  scheduler: {policy: vllm-v1, max_num_seqs: 64, chunk: 512}\n"
                                "grid:\n"
                                "  scheduler:\n"
                                "    - {policy: vllm-v0}\n"
                                "    - {policy: sarathi, max_num_seqs: 8}\n"
                                "  .:\n"
                                "    - {model: a, hardware: h100}\n"
                                "    - {model: b}\n");
    assert_int_equal(s->n, 4);
    assert_string_equal(at(s, 0, "scheduler.policy"), "vllm-v0");
    assert_string_equal(at(s, 0, "scheduler.max_num_seqs"), "64"); /* merged, not replaced */
    assert_string_equal(at(s, 0, "scheduler.chunk"), "512");
    assert_string_equal(at(s, 0, "model"), "a");
    assert_string_equal(at(s, 0, "hardware"), "h100");
    assert_string_equal(at(s, 1, "model"), "b");
    assert_string_equal(at(s, 1, "hardware"), "<none>");
    assert_string_equal(at(s, 3, "scheduler.policy"), "sarathi");
    assert_string_equal(at(s, 3, "scheduler.max_num_seqs"), "8");
    ls_sweep_spec_free(s);
}

static void test_seed_and_capacity(void **st)
{
    (void)st;
    ls_sweep_spec *s = parse_ok("seed: 42\nbase: {seed: 1}\ngrid: {a: [1, 2]}\n"
                                "capacity: {rel_tol: 0.1, max_runs: 12, start: 4.5, floor: 0.5}\n");
    assert_true(s->has_seed);
    assert_int_equal(s->seed, 42);
    for (size_t i = 0; i < s->n; i++)
        assert_string_equal(at(s, i, "seed"), "42");
    assert_true(s->capacity.enabled);
    assert_true(s->capacity.rel_tol == 0.1);
    assert_int_equal(s->capacity.max_runs, 12);
    assert_true(s->capacity.start == 4.5);
    assert_true(s->capacity.floor == 0.5);
    assert_false(s->capacity.bisect); /* guided unless asked */
    ls_sweep_spec_free(s);
    s = parse_ok("base: {a: 1}\ncapacity: {method: bisect}\n");
    assert_true(s->capacity.enabled && s->capacity.bisect);
    ls_sweep_spec_free(s);
    /* no grid: one configuration, the base */
    s = parse_ok("base: {a: 1}\n");
    assert_int_equal(s->n, 1);
    assert_false(s->capacity.enabled);
    ls_sweep_spec_free(s);
}

static void test_errors(void **st)
{
    (void)st;
    parse_err("base: {a: 1}\nbogus: 3\n", "bogus", NULL);
    parse_err("grid: {a: [1]}\n", "missing 'base'", NULL);
    parse_err("base: {a: 1}\ngrid: {a: []}\n", "spec.yaml:2", "grid.a");
    parse_err("base: {a: 1}\nzip:\n  - {x: [1, 2], y: [1]}\n", "spec.yaml:3", "equal length");
    parse_err("base: {a: 1}\ngrid: {p: [x]}\nexclude: [{p: x}]\n", "excluded", NULL);
    parse_err("base: {a: 1}\ngrid: {\"a..b\": [1]}\n", "dotted path", NULL);
    parse_err("base: {a: 1}\ncapacity: {rel_tol: 2}\n", "capacity.rel_tol", NULL);
    /* finer than 1e-9 the probes would round onto the bracket's ends (review of 684a40c) */
    parse_err("base: {a: 1}\ncapacity: {rel_tol: 1e-17}\n", "capacity.rel_tol", "[1e-9, 1)");
    parse_err("base: {a: 1}\ncapacity: {start: 0}\n", "capacity.start", "rate > 0");
    parse_err("base: {a: 1}\ncapacity: {start: 100, floor: -1}\n", "capacity.floor", "rate > 0");
    parse_err("base: {a: 1}\ncapacity: {start: 100, floor: .nan}\n", "capacity.floor", NULL);
    parse_err("base: {a: 1}\ncapacity: {start: 100, floor: 200}\n", "capacity.floor",
              "no higher than where the search starts (start 100 req/s)");
    parse_err("base: {a: 1}\ncapacity: {floor: 1}\n", "capacity.floor", "the default start 0.25");
    parse_err("base: {a: 1}\ncapacity: {method: fast}\n", "capacity.method", "guided or bisect");
    parse_err("base: {a: 1}\ncapacity: {method: [bisect]}\n", "capacity.method", "guided or bisect");
    /* a floor beside rate_lo would be ignored (the search never halves from a given rate_lo) */
    parse_err("base: {a: 1}\ncapacity: {rate_lo: 4, floor: 1}\n", "spec.yaml:2", "capacity.floor: not with capacity.rate_lo");
    parse_err("base: {a: 1}\ncapacity: {rate_lo: 4, floor: 4}\n", "capacity.floor", "not with capacity.rate_lo");
    /* a path through a scalar cannot be set: names the spec line */
    parse_err("base: {a: 1}\ngrid: {a.b: [1]}\n", "spec.yaml:2", NULL);
}

/* Specifications that would silently do something else than written are errors naming the line. */
static void test_spec_checks(void **st)
{
    (void)st;
    /* an exclude key that is not an axis (typo) */
    parse_err("base: {parallelism: tp1}\ngrid: {parallelism: [tp1, tp2]}\nexclude:\n  - {parallism: tp1}\n",
              "spec.yaml:4", "'parallism' is not an axis");
    /* a value that never occurs on its axis */
    parse_err("base: {parallelism: tp1}\ngrid: {parallelism: [tp1, tp2]}\nexclude:\n  - {parallelism: tp3}\n",
              "spec.yaml:4", "tp3 never occurs");
    /* ... also inside a list of alternatives when none occurs, and in a second key of a rule */
    parse_err("base: {}\ngrid: {p: [a, b], q: [1, 2]}\nexclude:\n  - {p: a, q: [7, 8]}\n", "exclude[0].q",
              "never occurs");
    /* two identical configurations: both ids and the line of the repeated value */
    parse_err("base: {}\ngrid:\n  parallelism:\n    - tp1\n    - tp1\n", "spec.yaml:5", "configurations 0");
    parse_err("base: {}\ngrid:\n  parallelism: [tp1, tp1]\n", "and 1 (parallelism=tp1) are identical", NULL);
    /* 1 and 1.0 are different texts, hence different configurations: not duplicates */
    ls_sweep_spec *s = parse_ok("base: {}\ngrid: {r: [1, 1.0]}\n");
    assert_int_equal(s->n, 2);
    ls_sweep_spec_free(s);
    /* the same axis in grid and zip, and in two zip groups */
    parse_err("base: {}\ngrid: {p: [a, b]}\nzip:\n  - {p: [a, b], q: [1, 2]}\n", "spec.yaml:4",
              "appears twice (in grid and zip)");
    parse_err("base: {}\nzip:\n  - {p: [a, b]}\n  - {q: [1, 2], p: [c, d]}\n", "spec.yaml:4", "appears twice");
    /* still fine: a key below an axis of mappings, and any key when an axis merges at the root */
    s = parse_ok("base: {s: {policy: x}}\ngrid:\n  s: [{policy: x}, {policy: y}]\n  p: [1, 2]\n"
                 "exclude: [{s.policy: y, p: 2}]\n");
    assert_int_equal(s->n, 3);
    ls_sweep_spec_free(s);
    s = parse_ok("base: {}\ngrid:\n  .: [{a: 1}, {a: 2}]\nexclude: [{a: 2}]\n");
    assert_int_equal(s->n, 1);
    ls_sweep_spec_free(s);
}

/* A grid whose product exceeds the limit is refused before expansion, with
 * the count and the limit (this one, 10^11 points: 6 grid axes and 5 zip
 * groups of 10 values, would need terabytes if expanded). */
static void test_grid_limit(void **st)
{
    (void)st;
    const char *huge = "base: {}\ngrid:\n"
                       "  a: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]\n  b: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]\n"
                       "  c: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]\n  d: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]\n"
                       "  e: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]\n  f: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]\n"
                       "zip:\n  - {g: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], h: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]}\n"
                       "  - {i: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]}\n"
                       "  - {j: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]}\n"
                       "  - {k: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]}\n"
                       "  - {l: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]}\n";
    parse_err(huge, "100000000000 points (10 x 10 x 10 x 10 x 10 x 10 x 10 x 10 x 10 x 10 x 10)",
              "limit of 1000000 configurations");
    parse_err(huge, "LLMSWEEP_MAX_CONFIGS", NULL);
    /* 1,000,000 exactly is allowed by the limit: checked on a smaller limit set through the
     * environment (6 points against 5, then 6) instead of expanding a million */
    const char *six = "base: {}\ngrid: {a: [1, 2, 3], b: [x, y]}\n";
    setenv("LLMSWEEP_MAX_CONFIGS", "5", 1);
    parse_err(six, "6 points (3 x 2), more than the limit of 5", NULL);
    setenv("LLMSWEEP_MAX_CONFIGS", "6", 1);
    ls_sweep_spec *s = parse_ok(six);
    assert_int_equal(s->n, 6);
    ls_sweep_spec_free(s);
    setenv("LLMSWEEP_MAX_CONFIGS", "lots", 1);
    parse_err(six, "LLMSWEEP_MAX_CONFIGS: expected a positive integer", NULL);
    unsetenv("LLMSWEEP_MAX_CONFIGS");
}

/* `families:` append row families after the main grid, each its base merged
 * over the spec's base, with its own axes and exclusions; ids continue. */
static void test_families(void **st)
{
    (void)st;
    ls_sweep_spec *s = parse_ok("name: t\n"
                                "base: {model: m, parallelism: tp1, scheduler: {policy: v1, max_num_seqs: 4}}\n"
                                "grid:\n"
                                "  parallelism: [tp1, tp2]\n"
                                "families:\n"
                                "  - name: spec\n"
                                "    base: {speculative: {method: eagle, k: 3}, scheduler: {max_num_seqs: 8}}\n"
                                "    grid: {parallelism: [tp2, tp4], speculative.k: [1, 3]}\n"
                                "    exclude: [{parallelism: tp4, speculative.k: 1}]\n"
                                "  - name: mixed\n"
                                "    grid:\n"
                                "      .: [{parallelism: tp8}]\n");
    assert_int_equal(s->n, 2 + 3 + 1);
    assert_int_equal(s->n_points, 2 + 4 + 1);
    assert_string_equal(at(s, 0, "parallelism"), "tp1");
    assert_string_equal(at(s, 1, "parallelism"), "tp2");
    assert_string_equal(at(s, 1, "speculative.method"), "<none>"); /* the family's base stays in the family */
    assert_string_equal(at(s, 2, "parallelism"), "tp2");
    assert_string_equal(at(s, 2, "speculative.k"), "1");
    assert_string_equal(at(s, 2, "speculative.method"), "eagle");
    assert_string_equal(at(s, 2, "scheduler.max_num_seqs"), "8");  /* merged, not replaced */
    assert_string_equal(at(s, 2, "scheduler.policy"), "v1");
    assert_string_equal(at(s, 4, "parallelism"), "tp4");
    assert_string_equal(at(s, 4, "speculative.k"), "3");
    assert_string_equal(at(s, 5, "parallelism"), "tp8");
    assert_string_equal(s->configs[2].label, "family=spec parallelism=tp2 speculative.k=1");
    assert_string_equal(s->configs[2].where, "spec.yaml:8");
    assert_string_equal(s->configs[5].label, "family=mixed .={parallelism: tp8}");
    /* adding a family keeps the earlier ids and hashes: a resume computes only the new rows */
    ls_sweep_spec *g = parse_ok("name: t\n"
                                "base: {model: m, parallelism: tp1, scheduler: {policy: v1, max_num_seqs: 4}}\n"
                                "grid:\n"
                                "  parallelism: [tp1, tp2]\n");
    for (size_t i = 0; i < g->n; i++)
        assert_string_equal(g->configs[i].hash, s->configs[i].hash);
    ls_sweep_spec_free(g);
    ls_sweep_spec_free(s);
    /* a family repeating a configuration of the grid, with the line of the repeat */
    parse_err("base: {parallelism: tp1}\ngrid: {parallelism: [tp1, tp2]}\nfamilies:\n"
              "  - name: again\n    grid: {parallelism: [tp4, tp2]}\n",
              "spec.yaml:5", "configurations 1 (parallelism=tp2) and 3 (family=again parallelism=tp2) are identical");
    parse_err("base: {}\nfamilies:\n  - {name: a, grid: {p: [1]}}\n  - {name: a, grid: {p: [2]}}\n",
              "spec.yaml:4", "already used");
    parse_err("base: {}\nfamilies:\n  - {grid: {p: [1]}}\n", "spec.yaml:3", "expected a 'name'");
    parse_err("base: {}\nfamilies:\n  - {name: a, gird: {p: [1]}}\n", "gird", NULL);
    parse_err("base: {}\nfamilies: {name: a}\n", "spec.yaml:2", "non-empty list");
    parse_err("base: {}\nfamilies:\n  - {name: a, base: 3}\n", "spec.yaml:3", "merged over");
    /* a family's exclusions are checked against its own axes */
    parse_err("base: {}\ngrid: {q: [1, 2]}\nfamilies:\n  - {name: a, grid: {p: [1, 2]}, exclude: [{q: 1}]}\n",
              "spec.yaml:4", "'q' is not an axis");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cartesian_order), cmocka_unit_test(test_hash_is_fnv_of_canonical),
        cmocka_unit_test(test_deterministic),   cmocka_unit_test(test_zip),
        cmocka_unit_test(test_exclude),         cmocka_unit_test(test_mapping_values_merge),
        cmocka_unit_test(test_seed_and_capacity), cmocka_unit_test(test_errors),
        cmocka_unit_test(test_spec_checks),     cmocka_unit_test(test_grid_limit), cmocka_unit_test(test_families),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
