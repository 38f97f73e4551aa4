/* test_collective.c -- TP all-reduce algorithms (collective.c).
 *
 * Expected values come from outside the code: the measured vLLM all-reduce latencies of
 * ../shared/kernels/h100_sxm/custom_allreduce_vllm_0.24.0.csv.gz (backend vllm_graph, quoted below)
 * and vLLM's custom all-reduce rules (custom_all_reduce.cuh: one stage for 2 GPUs, <= 4 GPUs under
 * 512 KiB, <= 8 GPUs under 256 KiB; custom only below 8 MiB, with P2P; PCIe only for 2 GPUs).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "collective.h"
#include "engine_profile.h"

static ls_catalog *cat;
static const ls_model *m70;
static const ls_gpu *h100;
static const ls_cluster *dgx, *nvl32, *quad;

static int setup(void **state)
{
    (void)state;
    ls_error e;
    if (ls_catalog_builtin(&cat, &e) || ls_catalog_model(cat, "llama-3-70b", &m70, &e) ||
        ls_catalog_gpu(cat, "h100-sxm", &h100, &e) || ls_catalog_cluster(cat, "dgx-h100", &dgx, &e) ||
        ls_catalog_cluster(cat, "gh200-nvl32", &nvl32, &e) || ls_catalog_cluster(cat, "gh200-quad", &quad, &e))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ls_catalog_free(cat);
    return 0;
}

static ls_ar_link link_of(const ls_cluster *k, int tp, int first_gpu, const char *engine)
{
    ls_deploy d = {.model = m70, .gpu = h100, .cluster = k, .tp = tp, .pp = 1, .first_gpu = first_gpu,
                   .engine = engine ? ls_engine_profile_find(engine) : NULL};
    ls_ar_link l;
    ls_collective_link(&d, 0, &l);
    return l;
}

static void assert_rel(double got, double want, double tol)
{
    if (!(fabs(got / want - 1) <= tol))
        fail_msg("got %.9g, want %.9g", got, want);
}

/* At the table's points the measured figure itself (6 significant digits kept); between them log-log. */
static void test_measured_h100(void **state)
{
    (void)state;
    ls_ar_link l8 = link_of(dgx, 8, 0, NULL), l2 = link_of(dgx, 2, 0, NULL);
    assert_non_null(l8.table);
    assert_int_equal(ls_collective_choose(&l8, 1e6), LS_AR_MEASURED);
    /* CSV rows: 8 GPUs, 65536 elements 0.00786400020122528 ms, 131072 elements 0.010790079832077026 ms */
    assert_rel(ls_collective_allreduce_s(&l8, 131072.0), 7.86400020122528e-6, 1e-5);
    assert_rel(ls_collective_allreduce_s(&l8, 262144.0), 10.790079832077026e-6, 1e-5);
    double mid = ls_collective_allreduce_s(&l8, sqrt(131072.0 * 262144.0));
    assert_rel(mid, sqrt(7.86400020122528e-6 * 10.790079832077026e-6), 1e-5);
    /* 2 GPUs, 128 elements: 0.004291520118713379 ms, the floor below the table */
    assert_rel(ls_collective_allreduce_s(&l2, 100.0), 4.291520118713379e-6, 1e-5);
    /* above the table (512 Mi elements = 1 GiB, 3.2192242431640623 ms): the last point's bandwidth */
    assert_rel(ls_collective_allreduce_s(&l2, 2.0 * 1073741824.0), 2 * 3.2192242431640623e-3, 1e-5);
    /* a decode step of 64 tokens of Llama-3-70B (1 MiB): 15 us at TP8, where the fitted ring gave
     * 14 x 4 us + 1.75 MiB / (450 GB/s x 0.82) = 61 us */
    double ring = 14 * 4e-6 + 1.75 * 1048576 / (450e9 * 0.82);
    assert_rel(ls_collective_algo_s(&l8, LS_AR_RING, 1048576.0), ring, 1e-12);
    assert_rel(ls_collective_allreduce_s(&l8, 1048576.0), 14.96832013130188e-6, 1e-5);
    /* 6 GPUs have no table: vLLM's custom all-reduce rules, analytically */
    ls_ar_link l6 = link_of(dgx, 6, 0, NULL);
    assert_null(l6.table);
    assert_true(l6.custom);
}

/* vLLM's choice of algorithm, analytically (a cluster without a table: one NVLink-switch domain). */
static void test_custom_rules(void **state)
{
    (void)state;
    ls_ar_link l2 = link_of(nvl32, 2, 0, NULL), l4 = link_of(nvl32, 4, 0, NULL), l8 = link_of(nvl32, 8, 0, NULL);
    assert_null(l8.table);
    assert_true(l8.custom);
    assert_int_equal(ls_collective_choose(&l2, 4e6), LS_AR_ONE_SHOT);
    assert_int_equal(ls_collective_choose(&l4, 500 * 1024.0), LS_AR_ONE_SHOT);
    assert_int_equal(ls_collective_choose(&l4, 512 * 1024.0), LS_AR_TWO_SHOT);
    assert_int_equal(ls_collective_choose(&l8, 255 * 1024.0), LS_AR_ONE_SHOT);
    assert_int_equal(ls_collective_choose(&l8, 256 * 1024.0), LS_AR_TWO_SHOT);
    assert_int_equal(ls_collective_choose(&l8, 8 * 1048576.0), LS_AR_TWO_SHOT);
    assert_int_equal(ls_collective_choose(&l8, 8 * 1048576.0 + 2), LS_AR_RING);
    /* one shot: 4.5 us + (t-1) M / B; two shots: 2 x 4.5 us + 2 (t-1)/t M / B; B = 450 GB/s x 0.82 */
    double B = 450e9 * 0.82;
    assert_rel(ls_collective_allreduce_s(&l8, 131072.0), 4.5e-6 + 7 * 131072.0 / B, 1e-12);
    assert_rel(ls_collective_allreduce_s(&l8, 4194304.0), 9e-6 + 1.75 * 4194304.0 / B, 1e-12);
    /* TP8 over two quad nodes is cross-node: NCCL on the network */
    ls_ar_link x = link_of(quad, 8, 0, NULL);
    assert_false(x.custom);
    assert_int_equal(ls_collective_choose(&x, 1e4), LS_AR_RING);
    /* TensorRT-LLM's profile keeps the fitted ring */
    ls_ar_link t = link_of(dgx, 8, 0, "trtllm");
    assert_null(t.table);
    assert_int_equal(ls_collective_choose(&t, 1e4), LS_AR_RING);
}

/* PCIe boxes: P2P allows the custom all-reduce for a pair only; without P2P NCCL always. */
static void test_pcie(void **state)
{
    (void)state;
    ls_error e;
    ls_yaml *doc = NULL;
    static const char y[] = "clusters:\n"
                            "  pcie4:\n    gpus_per_node: 4\n    intra_gbps: 25\n    intra_link: pcie\n"
                            "    inter_gbps: 3\n    allreduce_eff: 0.8\n"
                            "  pcie4-nop2p:\n    base: pcie4\n    intra_link: pcie-nop2p\n"
                            "  bad:\n    base: pcie4\n    intra_link: nvlink5\n";
    assert_int_equal(ls_yaml_load_string(y, sizeof y - 1, "t.yaml", &doc, &e), LS_OK);
    assert_int_equal(ls_catalog_load_yaml(cat, doc, &e), LS_EINVAL);
    assert_non_null(strstr(e.msg, "clusters.bad: intra_link must be nvlink, pcie or pcie-nop2p"));
    ls_yaml_free(doc);
    const ls_cluster *p, *n;
    assert_int_equal(ls_catalog_cluster(cat, "pcie4", &p, &e), LS_OK);
    assert_int_equal(ls_catalog_cluster(cat, "pcie4-nop2p", &n, &e), LS_OK);
    ls_ar_link p2 = link_of(p, 2, 0, NULL), p4 = link_of(p, 4, 0, NULL), n2 = link_of(n, 2, 0, NULL);
    assert_int_equal(ls_collective_choose(&p2, 1e5), LS_AR_ONE_SHOT);
    assert_int_equal(ls_collective_choose(&p4, 1e5), LS_AR_RING);
    assert_int_equal(ls_collective_choose(&n2, 1e5), LS_AR_RING);
    assert_rel(ls_collective_allreduce_s(&p2, 1e6), 4.5e-6 + 1e6 / 20e9, 1e-12);
}

static void test_unknown_table(void **state)
{
    (void)state;
    ls_error e;
    ls_yaml *doc = NULL;
    static const char y[] = "clusters:\n  x:\n    base: dgx-h100\n    allreduce_table: mi300x\n";
    assert_int_equal(ls_yaml_load_string(y, sizeof y - 1, "t.yaml", &doc, &e), LS_OK);
    assert_int_equal(ls_catalog_load_yaml(cat, doc, &e), LS_EINVAL);
    assert_non_null(strstr(e.msg, "t.yaml:3"));
    assert_non_null(strstr(e.msg, "clusters.x"));
    assert_non_null(strstr(e.msg, "allreduce_table names no measured table"));
    ls_yaml_free(doc);
    assert_true(ls_collective_table_known("h100_sxm") && !ls_collective_table_known("mi300x"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_measured_h100),
        cmocka_unit_test(test_custom_rules),
        cmocka_unit_test(test_pcie),
        cmocka_unit_test(test_unknown_table),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
