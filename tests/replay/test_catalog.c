/* test_catalog.c -- built-in catalog: derived parameter counts against the published
 * totals, KV sizes, GPU and cluster data; user files (the example file, overrides,
 * base entries) and their errors with file:line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "catalog.h"
#include "catalog_image.h"

static ls_catalog *builtin(void)
{
    ls_catalog *c = NULL;
    ls_error e;
    ls_status rc = ls_catalog_builtin(&c, &e);
    if (rc)
        fprintf(stderr, "%s\n", e.msg);
    assert_int_equal(rc, LS_OK);
    return c;
}

static const ls_model *model(const ls_catalog *c, const char *name)
{
    const ls_model *m = NULL;
    ls_error e;
    assert_int_equal(ls_catalog_model(c, name, &m, &e), LS_OK);
    return m;
}

static void assert_rel(double got, double want, double tol)
{
    double rel = (got - want) / want;
    if (rel < -tol || rel > tol)
        fail_msg("got %.6g, want %.6g (relative error %.3g%% > %.3g%%)", got, want, 100 * rel, 100 * tol);
}

/* Published totals (model cards / domain.md s1); the code derives its counts from the architecture. */
static void test_param_counts(void **state)
{
    (void)state;
    ls_catalog *c = builtin();
    assert_rel(ls_model_params(model(c, "llama-3-8b")), 8.03e9, 0.005);
    assert_rel(ls_model_params(model(c, "llama-3.1-8b")), 8.03e9, 0.005);
    assert_rel(ls_model_params(model(c, "llama-3-70b")), 70.55e9, 0.005);
    assert_rel(ls_model_params(model(c, "llama-3.1-70b")), 70.55e9, 0.005);
    assert_rel(ls_model_params(model(c, "llama-3.3-70b")), 70.55e9, 0.005);
    assert_rel(ls_model_params(model(c, "llama-3.1-405b")), 405.85e9, 0.005);
    assert_rel(ls_model_params(model(c, "llama-2-70b")), 68.98e9, 0.005);
    const ls_model *mx = model(c, "mixtral-8x7b");
    assert_rel(ls_model_params(mx), 46.7e9, 0.005);
    assert_rel(ls_model_active_params(mx), 12.9e9, 0.005);
    /* dense: active == total */
    const ls_model *m = model(c, "llama-3-70b");
    assert_true(ls_model_active_params(m) == ls_model_params(m));
    /* Llama-3-70B by hand: embedding 128256*8192 = 1,050,673,152 (and the same again for the
     * untied head); a layer = 8192*(64+16)*128 + 64*128*8192 + 3*8192*28672 + 2*8192
     * = 83,886,080 + 67,108,864 + 704,643,072 + 16,384 = 855,654,400. */
    assert_true(ls_model_embed_params(m) == 1050673152.0);
    assert_true(ls_model_head_params(m) == 1050673152.0);
    assert_true(ls_model_layer_params(m) == 855654400.0);
    assert_true(ls_model_params(m) == 1050673152.0 * 2 + 80 * 855654400.0 + 8192);
    ls_catalog_free(c);
}

static void test_kv_and_context(void **state)
{
    (void)state;
    ls_catalog *c = builtin();
    /* domain.md s1: 2 * L * n_kv * d * 2 bytes */
    assert_true(ls_model_kv_bytes_per_token(model(c, "llama-3-8b"), LS_DTYPE_BF16) == 131072.0);
    assert_true(ls_model_kv_bytes_per_token(model(c, "llama-3-70b"), LS_DTYPE_BF16) == 327680.0);
    assert_true(ls_model_kv_bytes_per_token(model(c, "llama-3.1-405b"), LS_DTYPE_BF16) == 516096.0);
    assert_true(ls_model_kv_bytes_per_token(model(c, "llama-3-70b"), LS_DTYPE_FP8) == 163840.0);
    assert_int_equal(model(c, "llama-3-70b")->max_context, 8192);
    assert_int_equal(model(c, "llama-3.1-70b")->max_context, 131072);
    assert_int_equal(model(c, "llama-2-70b")->max_context, 4096);
    const ls_model *mx = model(c, "mixtral-8x7b");
    assert_int_equal(mx->experts, 8);
    assert_int_equal(mx->top_k, 2);
    assert_int_equal(model(c, "llama-3-8b")->experts, 1);
    ls_catalog_free(c);
}

static void test_gpus_and_clusters(void **state)
{
    (void)state;
    ls_catalog *c = builtin();
    ls_error e;
    const ls_gpu *g;
    /* data-sheet figures, domain.md s2 */
    struct { const char *name; double mem, bw, bf16, fp8; } want[] = {
        {"h100-sxm", 80e9, 3.35e12, 989e12, 1979e12},   {"h200", 141e9, 4.8e12, 989e12, 1979e12},
        {"gh200-96gb", 96e9, 4.0e12, 989e12, 1979e12}, {"gh200-144gb", 144e9, 4.9e12, 989e12, 1979e12},
        {"a100-80gb", 80e9, 2.039e12, 312e12, 0},       {"b200", 180e9, 8e12, 2250e12, 4500e12},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_int_equal(ls_catalog_gpu(c, want[i].name, &g, &e), LS_OK);
        assert_rel(g->mem_bytes, want[i].mem, 1e-12);
        assert_rel(g->hbm_bw, want[i].bw, 1e-12);
        assert_rel(g->flops_bf16, want[i].bf16, 1e-12);
        assert_true(want[i].fp8 == 0 ? g->flops_fp8 == 0 : g->flops_fp8 == want[i].fp8);
        assert_true(g->mfu_max > 0 && g->mfu_max <= 1 && g->mbu > 0 && g->mbu <= 1);
        assert_true(g->activation_reserve_bytes == 0); /* derived by the engine's memory rule */
    }
    const ls_cluster *k;
    assert_int_equal(ls_catalog_cluster(c, "gh200-quad", &k, &e), LS_OK);
    assert_int_equal(k->gpus_per_node, 4);
    assert_rel(k->intra_bw, 150e9, 1e-12);
    assert_rel(k->inter_bw, 25e9, 1e-12);
    assert_false(k->intra_switch);
    assert_string_equal(k->default_gpu, "gh200-96gb");
    assert_int_equal(ls_catalog_cluster(c, "gh200-nvl32", &k, &e), LS_OK);
    assert_int_equal(k->gpus_per_node, 32);
    assert_true(k->intra_switch);
    assert_int_equal(ls_catalog_cluster(c, "gh200-single", &k, &e), LS_OK);
    assert_int_equal(k->gpus_per_node, 1);
    assert_int_equal(ls_catalog_cluster(c, "dgx-h100", &k, &e), LS_OK);
    assert_int_equal(k->gpus_per_node, 8);
    assert_rel(k->intra_bw * k->allreduce_eff, 370e9, 0.01); /* NCCL bus bandwidth, calibration.md C */
    const char *others[] = {"dgx-h200", "dgx-a100", "dgx-b200"};
    for (int i = 0; i < 3; i++)
        assert_int_equal(ls_catalog_cluster(c, others[i], &k, &e), LS_OK);
    ls_catalog_free(c);
}

static void test_lookup_errors(void **state)
{
    (void)state;
    ls_catalog *c = builtin();
    ls_error e;
    const ls_model *m;
    assert_int_equal(ls_catalog_model(c, "llama-4", &m, &e), LS_EINVAL);
    assert_non_null(strstr(e.msg, "unknown model 'llama-4'"));
    assert_non_null(strstr(e.msg, "llama-3-70b"));
    assert_non_null(strstr(e.msg, "mixtral-8x7b"));
    const ls_gpu *g;
    assert_int_equal(ls_catalog_gpu(c, "h300", &g, &e), LS_EINVAL);
    assert_non_null(strstr(e.msg, "gh200-96gb"));
    const ls_cluster *k;
    assert_int_equal(ls_catalog_cluster(c, "x", &k, &e), LS_EINVAL);
    assert_non_null(strstr(e.msg, "gh200-quad"));
    ls_catalog_free(c);
}

/* The example file of docs/HARDWARE.md loads on top of the built-ins. */
static void test_example_user_file(void **state)
{
    (void)state;
    const char *src = getenv("LS_SOURCE_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/examples/catalog-custom.yaml", src ? src : ".");
    if (access(path, R_OK) != 0)
        skip();
    ls_catalog *c = builtin();
    int n0 = ls_catalog_n_gpus(c);
    ls_error e;
    ls_status rc = ls_catalog_load_file(c, path, &e);
    if (rc)
        fail_msg("%s", e.msg);
    assert_int_equal(ls_catalog_n_gpus(c), n0 + 2);
    const ls_model *q = model(c, "qwen2-7b");
    assert_rel(ls_model_params(q), 7.62e9, 0.005); /* Qwen2-7B model card: 7.6 B */
    assert_int_equal(model(c, "llama-3-70b-32k")->max_context, 32768);
    assert_int_equal(model(c, "llama-3-70b-32k")->layers, 80);
    const ls_gpu *g;
    assert_int_equal(ls_catalog_gpu(c, "h100-pcie", &g, &e), LS_OK);
    assert_rel(g->hbm_bw, 2.0e12, 1e-12);
    assert_rel(g->mem_bytes, 80e9, 1e-12); /* inherited from base h100-sxm */
    const ls_cluster *k;
    assert_int_equal(ls_catalog_cluster(c, "pcie-box", &k, &e), LS_OK);
    assert_string_equal(k->default_gpu, "h100-pcie");
    ls_catalog_free(c);
}

static ls_status load_text(ls_catalog *c, const char *text, ls_error *e)
{
    ls_yaml *y = NULL;
    ls_status rc = ls_yaml_load_string(text, strlen(text), "user.yaml", &y, e);
    assert_int_equal(rc, LS_OK);
    rc = ls_catalog_load_yaml(c, y, e);
    ls_yaml_free(y);
    return rc;
}

static void test_override_and_errors(void **state)
{
    (void)state;
    ls_catalog *c = builtin();
    ls_error e;
    int n = ls_catalog_n_gpus(c);
    /* overriding a built-in replaces it in place */
    assert_int_equal(load_text(c, "gpus:\n  h100-sxm:\n    base: h100-sxm\n    mbu: 0.7\n", &e), LS_OK);
    assert_int_equal(ls_catalog_n_gpus(c), n);
    const ls_gpu *g;
    assert_int_equal(ls_catalog_gpu(c, "h100-sxm", &g, &e), LS_OK);
    assert_true(g->mbu == 0.7);
    assert_true(g->flops_bf16 == 989e12);

    assert_int_equal(load_text(c, "gpus:\n  x:\n    base: h100-sxm\n    hbm_bandwidth: 3\n", &e), LS_EINVAL);
    assert_non_null(strstr(e.msg, "user.yaml:4"));
    assert_non_null(strstr(e.msg, "gpus.x.hbm_bandwidth"));
    assert_int_equal(load_text(c, "models:\n  m:\n    base: llama-3-8b\n    layers: many\n", &e), LS_EINVAL);
    assert_non_null(strstr(e.msg, "user.yaml:4"));
    assert_non_null(strstr(e.msg, "models.m.layers"));
    assert_int_equal(load_text(c, "models:\n  m:\n    layers: 2\n", &e), LS_EINVAL);
    assert_non_null(strstr(e.msg, "missing required key 'hidden'"));
    assert_int_equal(load_text(c, "models:\n  m:\n    base: nope\n", &e), LS_EINVAL);
    assert_non_null(strstr(e.msg, "unknown model 'nope'"));
    assert_int_equal(load_text(c, "models:\n  m:\n    base: mixtral-8x7b\n    top_k: 9\n", &e), LS_EINVAL);
    assert_non_null(strstr(e.msg, "top_k"));
    assert_int_equal(load_text(c, "models:\n  m:\n    base: llama-3-8b\n    kv_heads: 5\n", &e), LS_EINVAL);
    assert_int_equal(load_text(c, "gpus:\n  y:\n    base: h100-sxm\n    mbu: 1.5\n", &e), LS_EINVAL);
    assert_non_null(strstr(e.msg, "gpus.y.mbu"));
    assert_int_equal(load_text(c, "clusters:\n  z:\n    base: dgx-h100\n    default_gpu: tpu\n", &e), LS_EINVAL);
    assert_non_null(strstr(e.msg, "tpu"));
    /* a context of 1 token leaves no room for a prompt and an output token:
     * every request would be rejected, so it is refused (2 is the least) */
    assert_int_equal(load_text(c, "models:\n  m:\n    base: llama-3-8b\n    max_context: 1\n", &e), LS_EINVAL);
    assert_non_null(strstr(e.msg, "user.yaml:4"));
    assert_non_null(strstr(e.msg, "models.m.max_context: expected an integer >= 2"));
    assert_int_equal(load_text(c, "models:\n  m:\n    base: llama-3-8b\n    max_context: 2\n", &e), LS_OK);
    /* out of range above says so (not "expected an integer >= 1") */
    assert_int_equal(load_text(c, "models:\n  m:\n    base: llama-3-8b\n    layers: 2000000000\n", &e), LS_EINVAL);
    assert_non_null(strstr(e.msg, "models.m.layers: too large (at most 100000000, got 2000000000)"));
    assert_null(strstr(e.msg, ">= 1"));
    assert_int_equal(load_text(c, "models:\n  m:\n    base: llama-3-8b\n    vocab: 1e12\n", &e), LS_EINVAL);
    assert_non_null(strstr(e.msg, "models.m.vocab"));
    assert_non_null(strstr(e.msg, "too large (at most 100000000"));
    assert_int_equal(load_text(c, "clusters:\n  z:\n    base: dgx-h100\n    gpus_per_node: 300000000\n", &e), LS_EINVAL);
    assert_non_null(strstr(e.msg, "clusters.z.gpus_per_node: too large"));
    assert_int_equal(load_text(c, "racks: {}\n", &e), LS_EINVAL);
    assert_non_null(strstr(e.msg, "racks"));
    assert_int_equal(load_text(c, "gpus: [a, b]\n", &e), LS_EINVAL);
    ls_catalog_free(c);
}

/* The build's image (what ls_catalog_builtin copies) is the built-in text parsed now, byte for
 * byte, entry for entry and in order; and a user file applies on top of it as on a parse. */
static void test_image_is_the_parse(void **state)
{
    (void)state;
    /* the sizes agree, so ls_catalog_builtin takes the copy, not its fallback parse */
    assert_int_equal(ls_catalog_builtin_image.model_size, sizeof(ls_model));
    assert_int_equal(ls_catalog_builtin_image.gpu_size, sizeof(ls_gpu));
    assert_int_equal(ls_catalog_builtin_image.cluster_size, sizeof(ls_cluster));
    ls_catalog *a = builtin(), *b = NULL;
    ls_error e;
    assert_int_equal(ls_catalog_builtin_parse(&b, &e), LS_OK);
    assert_int_equal(ls_catalog_n_models(b), ls_catalog_builtin_image.n_models);
    assert_int_equal(ls_catalog_n_models(a), ls_catalog_n_models(b));
    assert_int_equal(ls_catalog_n_gpus(a), ls_catalog_n_gpus(b));
    assert_int_equal(ls_catalog_n_clusters(a), ls_catalog_n_clusters(b));
    assert_true(ls_catalog_n_models(a) >= 20 && ls_catalog_n_gpus(a) >= 10 && ls_catalog_n_clusters(a) >= 10);
    for (int i = 0; i < ls_catalog_n_models(a); i++)
        if (memcmp(ls_catalog_model_at(a, i), ls_catalog_model_at(b, i), sizeof(ls_model)))
            fail_msg("model %d (%s): the image differs from the parse", i, ls_catalog_model_at(b, i)->name);
    for (int i = 0; i < ls_catalog_n_gpus(a); i++)
        if (memcmp(ls_catalog_gpu_at(a, i), ls_catalog_gpu_at(b, i), sizeof(ls_gpu)))
            fail_msg("gpu %d (%s): the image differs from the parse", i, ls_catalog_gpu_at(b, i)->name);
    for (int i = 0; i < ls_catalog_n_clusters(a); i++)
        if (memcmp(ls_catalog_cluster_at(a, i), ls_catalog_cluster_at(b, i), sizeof(ls_cluster)))
            fail_msg("cluster %d (%s): the image differs from the parse", i, ls_catalog_cluster_at(b, i)->name);
    const char *user = "gpus:\n  h100-x:\n    base: h100-sxm\n    memory_gb: 96\n"
                       "models:\n  llama-3-8b:\n    base: llama-3-8b\n    max_context: 4096\n";
    assert_int_equal(load_text(a, user, &e), LS_OK);
    assert_int_equal(load_text(b, user, &e), LS_OK);
    assert_int_equal(ls_catalog_n_gpus(a), ls_catalog_n_gpus(b));
    const ls_gpu *ga = NULL, *gb = NULL;
    assert_int_equal(ls_catalog_gpu(a, "h100-x", &ga, &e), LS_OK);
    assert_int_equal(ls_catalog_gpu(b, "h100-x", &gb, &e), LS_OK);
    assert_memory_equal(ga, gb, sizeof *ga);
    assert_true(ga->mem_bytes == 96e9);
    assert_int_equal(model(a, "llama-3-8b")->max_context, 4096);
    assert_memory_equal(model(a, "llama-3-8b"), model(b, "llama-3-8b"), sizeof(ls_model));
    ls_catalog_free(a);
    ls_catalog_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_param_counts),      cmocka_unit_test(test_kv_and_context),
        cmocka_unit_test(test_gpus_and_clusters), cmocka_unit_test(test_lookup_errors),
        cmocka_unit_test(test_example_user_file), cmocka_unit_test(test_override_and_errors),
        cmocka_unit_test(test_image_is_the_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
