/* test_yamldoc.c -- the YAML tree: parsing, positions, typed reads, paths, canonical text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "yamldoc.h"

static ls_yaml *load(const char *text)
{
    ls_yaml *y = NULL;
    ls_error e;
    assert_int_equal(ls_yaml_load_string(text, strlen(text), "t.yaml", &y, &e), LS_OK);
    return y;
}

static void test_parse_and_lines(void **state)
{
    (void)state;
    ls_yaml *y = load("model: llama-3-70b\nscheduler:\n  max_num_seqs: 256\n  chunked: true\n"
                      "grid: [1, 2.5, x]\n");
    const ls_yaml *n = ls_yaml_get_path(y, "scheduler.max_num_seqs");
    assert_non_null(n);
    assert_int_equal(n->line, 3);
    int64_t v;
    ls_error e;
    assert_int_equal(ls_yaml_as_int64(n, "scheduler.max_num_seqs", &v, &e), LS_OK);
    assert_int_equal(v, 256);
    bool b;
    assert_int_equal(ls_yaml_as_bool(ls_yaml_get_path(y, "scheduler.chunked"), "c", &b, &e), LS_OK);
    assert_true(b);
    const ls_yaml *g = ls_yaml_get(y, "grid");
    assert_int_equal(g->kind, LS_YAML_SEQ);
    assert_int_equal(g->n, 3);
    double d;
    assert_int_equal(ls_yaml_as_double(g->vals[1], "grid[1]", &d, &e), LS_OK);
    assert_true(d == 2.5);
    assert_int_equal(ls_yaml_as_double(g->vals[2], "grid[2]", &d, &e), LS_EINVAL);
    assert_non_null(strstr(e.msg, "t.yaml:5"));
    assert_non_null(strstr(e.msg, "expected a finite number"));
    ls_yaml_free(y);
}

static void test_errors(void **state)
{
    (void)state;
    ls_yaml *y = NULL;
    ls_error e;
    const char *bad = "a: [1, 2\nb: 3\n";
    assert_int_equal(ls_yaml_load_string(bad, strlen(bad), "bad.yaml", &y, &e), LS_EINVAL);
    assert_non_null(strstr(e.msg, "bad.yaml:"));
    const char *dup = "a: 1\na: 2\n";
    assert_int_equal(ls_yaml_load_string(dup, strlen(dup), "dup.yaml", &y, &e), LS_EINVAL);
    assert_non_null(strstr(e.msg, "duplicate key 'a'"));
    assert_int_equal(ls_yaml_load_file("/nonexistent/x.yaml", &y, &e), LS_EIO);
    /* a quoted number is not a number */
    y = load("n: \"12\"\n");
    int64_t v;
    assert_int_equal(ls_yaml_as_int64(ls_yaml_get(y, "n"), "n", &v, &e), LS_EINVAL);
    ls_yaml_free(y);
}

static void test_check_keys(void **state)
{
    (void)state;
    ls_yaml *y = load("scheduler:\n  policy: vllm-v1\n  max_num_sqs: 3\n");
    static const char *const allowed[] = {"policy", "max_num_seqs", NULL};
    ls_error e;
    assert_int_equal(ls_yaml_check_keys(ls_yaml_get(y, "scheduler"), "scheduler", allowed, &e),
                     LS_EINVAL);
    assert_non_null(strstr(e.msg, "t.yaml:3"));
    assert_non_null(strstr(e.msg, "scheduler.max_num_sqs"));
    ls_yaml_free(y);
}

static void test_set_path_and_canonical(void **state)
{
    (void)state;
    ls_yaml *a = load("b: 1\na: {y: 2, x: [1, \"two\"]}\n");
    ls_yaml *b = load("a:\n  x: [1, \"two\"]\n  y: 2\nb: 1\n");
    char *ca = ls_yaml_canonical(a), *cb = ls_yaml_canonical(b);
    assert_string_equal(ca, cb);
    assert_string_equal(ca, "{a: {x: [1, two], y: 2}, b: 1}");
    free(ca);
    free(cb);
    ls_error e;
    assert_int_equal(ls_yaml_set_path(a, "w.arrival.rate", ls_yaml_new_scalar("2.5", true), &e), LS_OK);
    assert_string_equal(ls_yaml_get_path(a, "w.arrival.rate")->scalar, "2.5");
    assert_int_equal(ls_yaml_set_path(a, "b.c", ls_yaml_new_scalar("1", true), &e), LS_EINVAL);
    ls_yaml *c = ls_yaml_clone(a);
    char *c1 = ls_yaml_canonical(a), *c2 = ls_yaml_canonical(c);
    assert_string_equal(c1, c2);
    free(c1);
    free(c2);
    /* a quoted "true" stays a string in canonical text */
    ls_yaml *q = load("s: \"true\"\n");
    char *cq = ls_yaml_canonical(q);
    assert_string_equal(cq, "{s: \"true\"}");
    free(cq);
    char *dump = ls_yaml_dump(a);
    ls_yaml *back = load(dump);
    char *c3 = ls_yaml_canonical(back), *c4 = ls_yaml_canonical(a);
    assert_string_equal(c3, c4);
    free(c3);
    free(c4);
    free(dump);
    ls_yaml_free(back);
    ls_yaml_free(q);
    ls_yaml_free(a);
    ls_yaml_free(b);
    ls_yaml_free(c);
}

/* a clone of a map whose size is not a power of two must still take new keys */
static void test_clone_then_grow(void **state)
{
    (void)state;
    for (int size = 1; size <= 9; size++) {
        ls_yaml *m = ls_yaml_new_map();
        char key[16];
        for (int i = 0; i < size; i++) {
            snprintf(key, sizeof key, "k%d", i);
            ls_yaml_map_set(m, key, ls_yaml_new_scalar("1", true));
        }
        ls_yaml *c = ls_yaml_clone(m);
        for (int i = size; i < size + 9; i++) {
            snprintf(key, sizeof key, "k%d", i);
            ls_yaml_map_set(c, key, ls_yaml_new_scalar("2", true));
        }
        assert_int_equal(c->n, (size_t)size + 9);
        assert_string_equal(ls_yaml_get(c, "k0")->scalar, "1");
        ls_yaml_free(m);
        ls_yaml_free(c);
    }
}

static void test_alias(void **state)
{
    (void)state;
    ls_yaml *y = load("base: &b {x: 1}\nother: *b\n");
    assert_string_equal(ls_yaml_get_path(y, "other.x")->scalar, "1");
    ls_yaml_free(y);
}

/* Nested aliases that multiply are refused before they are copied; ordinary
 * aliases within the budget still expand. */
static void test_alias_budget(void **state)
{
    (void)state;
    /* 9 levels of 9 aliases: 9^9 scalars if expanded */
    char text[2048];
    size_t n = (size_t)snprintf(text, sizeof text, "a: &a [x, x, x, x, x, x, x, x, x]\n");
    for (char c = 'b'; c <= 'i'; c++)
        n += (size_t)snprintf(text + n, sizeof text - n, "%c: &%c [*%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c]\n",
                              c, c, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1);
    ls_yaml *y = NULL;
    ls_error e;
    assert_int_equal(ls_yaml_load_string(text, n, "bomb.yaml", &y, &e), LS_EINVAL);
    assert_null(y);
    assert_non_null(strstr(e.msg, "bomb.yaml:"));
    assert_non_null(strstr(e.msg, "alias '*"));
    assert_non_null(strstr(e.msg, "100000 nodes"));
    /* 3 levels (9^3 = 729 scalars) are fine and fully expanded */
    n = (size_t)snprintf(text, sizeof text, "a: &a [x, x, x, x, x, x, x, x, x]\n");
    for (char c = 'b'; c <= 'c'; c++)
        n += (size_t)snprintf(text + n, sizeof text - n, "%c: &%c [*%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c]\n",
                              c, c, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1);
    assert_int_equal(ls_yaml_load_string(text, n, "ok.yaml", &y, &e), LS_OK);
    const ls_yaml *c = ls_yaml_get(y, "c");
    assert_int_equal(c->n, 9);
    assert_int_equal(c->vals[8]->n, 9);
    assert_string_equal(c->vals[8]->vals[8]->vals[8]->scalar, "x");
    ls_yaml_free(y);
}

/* Top-level keys from the text: nothing is built, aliases are not expanded. */
static void test_check_top_keys(void **state)
{
    (void)state;
    static const char *const allowed[] = {"name", "base", "grid", NULL};
    ls_error e;
    const char *ok = "name: x\nbase: &b {a: [1, {b: 2}], c: *b}\ngrid: {x: [*b, *b]}\n";
    assert_int_equal(ls_yaml_check_top_keys(ok, strlen(ok), "s.yaml", "(spec)", allowed, &e), LS_OK);
    const char *bad = "name: x\nbase: {a: 1}\ngird: {x: [1]}\n";
    assert_int_equal(ls_yaml_check_top_keys(bad, strlen(bad), "s.yaml", "(spec)", allowed, &e), LS_EINVAL);
    assert_string_equal(e.msg, "s.yaml:3: unknown key '(spec).gird' (expected one of: name, base, grid)");
    /* keys nested below a top-level value are not top-level keys */
    const char *nested = "base: {gird: 1, name: {grid: 2}}\n";
    assert_int_equal(ls_yaml_check_top_keys(nested, strlen(nested), "s.yaml", "(spec)", allowed, &e), LS_OK);
    /* not a mapping, or not YAML: left to the full parse */
    assert_int_equal(ls_yaml_check_top_keys("[1, 2]", 6, "s.yaml", "(spec)", allowed, &e), LS_OK);
    assert_int_equal(ls_yaml_check_top_keys("name: [", 7, "s.yaml", "(spec)", allowed, &e), LS_OK);
}

static void test_depth_limit(void **state)
{
    (void)state;
    size_t depth = LS_YAML_MAX_DEPTH + 10;
    char *text = malloc(2 * depth + 1);
    for (size_t i = 0; i < depth; i++) {
        text[i] = '[';
        text[2 * depth - 1 - i] = ']';
    }
    text[2 * depth] = 0;
    ls_yaml *y = NULL;
    ls_error e;
    assert_int_equal(ls_yaml_load_string(text, 2 * depth, "deep.yaml", &y, &e), LS_EINVAL);
    assert_non_null(strstr(e.msg, "deep.yaml:1: nested deeper than"));
    /* within the limit it loads */
    depth = 100;
    for (size_t i = 0; i < depth; i++) {
        text[i] = '[';
        text[2 * depth - 1 - i] = ']';
    }
    assert_int_equal(ls_yaml_load_string(text, 2 * depth, "deep.yaml", &y, &e), LS_OK);
    ls_yaml_free(y);
    free(text);
}

/* The range-checked getters with a domain description and the choice getter: a missing key
 * leaves the value untouched; a bad one fails at its line with "path.key: expected ..., got V". */
static void test_described_getters(void **state)
{
    (void)state;
    ls_yaml *y = load("moe:\n  imbalance: 70\n  redundant: 3\n  dispatch: fp4\n  link: roce\n  ok: 1.5\n");
    const ls_yaml *m = ls_yaml_get(y, "moe");
    ls_error e;
    double d = -1;
    assert_int_equal(ls_yaml_get_double_in(m, "moe", "missing", 1, false, 64, "x", &d, &e), LS_OK);
    assert_true(d == -1);
    assert_int_equal(ls_yaml_get_double_in(m, "moe", "ok", 1, false, 64, "x", &d, &e), LS_OK);
    assert_true(d == 1.5);
    assert_int_equal(ls_yaml_get_double_in(m, "moe", "imbalance", 1, false, 64, "a load ratio in [1, 64]", &d, &e),
                     LS_EINVAL);
    assert_string_equal(e.msg, "t.yaml:2: moe.imbalance: expected a load ratio in [1, 64], got 70");
    assert_true(d == 1.5);
    /* the default text names the closed range; an open lower bound excludes it */
    assert_int_equal(ls_yaml_get_double_in(m, "moe", "imbalance", 1, false, 64, NULL, &d, &e), LS_EINVAL);
    assert_string_equal(e.msg, "t.yaml:2: moe.imbalance: expected a number in [1, 64], got 70");
    assert_int_equal(ls_yaml_get_double_in(m, "moe", "ok", 1.5, true, INFINITY, NULL, &d, &e), LS_EINVAL);
    assert_string_equal(e.msg, "t.yaml:6: moe.ok: expected a number > 1.5, got 1.5");
    int64_t v = 7;
    assert_int_equal(ls_yaml_get_int_in(m, "moe", "redundant", 4, 10, "4 to 10 experts", &v, &e), LS_EINVAL);
    assert_string_equal(e.msg, "t.yaml:3: moe.redundant: expected 4 to 10 experts, got 3");
    assert_int_equal(v, 7);
    assert_int_equal(ls_yaml_get_int_in(m, "moe", "redundant", 0, 10, "x", &v, &e), LS_OK);
    assert_int_equal(v, 3);
    static const char *const dispatch[] = {"bf16", "fp8", NULL}, *const links[] = {"nvlink", "roce", NULL};
    int k = -1;
    assert_int_equal(ls_yaml_get_choice(m, "moe", "dispatch", dispatch, NULL, "bf16 or fp8", &k, &e), LS_EINVAL);
    assert_string_equal(e.msg, "t.yaml:4: moe.dispatch: expected bf16 or fp8, got 'fp4'");
    assert_int_equal(ls_yaml_get_choice(m, "moe", "dispatch", dispatch, "format", "bf16 or fp8", &k, &e), LS_EINVAL);
    assert_string_equal(e.msg, "t.yaml:4: moe.dispatch: unknown format 'fp4' (expected bf16 or fp8)");
    assert_int_equal(k, -1);
    assert_int_equal(ls_yaml_get_choice(m, "moe", "link", links, "link", "nvlink or roce", &k, &e), LS_OK);
    assert_int_equal(k, 1);
    assert_int_equal(ls_yaml_get_choice(m, "moe", "none", links, "link", "nvlink or roce", &k, &e), LS_OK);
    assert_int_equal(k, 1);
    ls_yaml_free(y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_and_lines),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_check_keys),
        cmocka_unit_test(test_set_path_and_canonical),
        cmocka_unit_test(test_alias),
        cmocka_unit_test(test_alias_budget),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_check_top_keys),
        cmocka_unit_test(test_clone_then_grow),
        cmocka_unit_test(test_described_getters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
