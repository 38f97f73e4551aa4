/* test_memory.c -- feasibility and KV blocks: Llama-3-70B on one GH200 96 GB (BF16
 * infeasible, FP8 fits, TP8 fits), KV head replication, PP stage split, user blocks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "memory.h"

typedef struct fx {
    ls_catalog *cat;
    const ls_model *m70, *m405, *m8;
    const ls_gpu *gh200, *h100;
    const ls_cluster *quad, *dgx;
} fx;

static int setup(void **state)
{
    static fx f;
    ls_error e;
    if (ls_catalog_builtin(&f.cat, &e))
        return -1;
    if (ls_catalog_model(f.cat, "llama-3-70b", &f.m70, &e) || ls_catalog_model(f.cat, "llama-3.1-405b", &f.m405, &e) ||
        ls_catalog_model(f.cat, "llama-3-8b", &f.m8, &e) || ls_catalog_gpu(f.cat, "gh200-96gb", &f.gh200, &e) ||
        ls_catalog_gpu(f.cat, "h100-sxm", &f.h100, &e) || ls_catalog_cluster(f.cat, "gh200-quad", &f.quad, &e) ||
        ls_catalog_cluster(f.cat, "dgx-h100", &f.dgx, &e))
        return -1;
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    ls_catalog_free(f->cat);
    return 0;
}

static ls_memory_plan plan_of(const ls_model *m, const ls_gpu *g, const ls_cluster *k, int tp, int pp, ls_dtype w,
                              ls_dtype kv, int64_t user_blocks)
{
    ls_deploy d = {.model = m, .gpu = g, .cluster = k, .tp = tp, .pp = pp, .w_dtype = w, .kv_dtype = kv};
    ls_memory_plan p;
    ls_error e;
    ls_status rc = ls_memory_plan_compute(&d, 0.9, 16, user_blocks, &p, &e);
    if (rc)
        fail_msg("%s", e.msg);
    return p;
}

static void test_70b_on_one_gh200(void **state)
{
    fx *f = *state;
    /* BF16: 70.55 B params x 2 bytes = 141.1 GB > 0.9 x 96 GB = 86.4 GB usable */
    ls_memory_plan p = plan_of(f->m70, f->gh200, f->quad, 1, 1, LS_DTYPE_BF16, LS_DTYPE_BF16, 0);
    assert_false(p.feasible);
    assert_string_equal(p.reason, "weights 141.1 GB need 1 GPU of 96 GB: 86.4 GB usable");
    assert_true(p.usable_bytes == 0.9 * 96e9);

    /* FP8 weights: 70.55 GB; KV blocks = floor((86.4e9 - 70.5537e9 - reserve) / (16 x 327,680)), the reserve
     * (profile peak + non-torch + CUDA graphs) by vLLM V1's rule, checked by hand in test_engine_profile.c */
    p = plan_of(f->m70, f->gh200, f->quad, 1, 1, LS_DTYPE_FP8, LS_DTYPE_BF16, 0);
    assert_true(p.feasible);
    assert_true(p.weights_bytes[0] == ls_model_params(f->m70));
    assert_true(p.reserve_bytes > 2e9 && p.reserve_bytes < 4.5e9); /* the sampler on 1024 x 128256 logits dominates */
    double free_b = 86.4e9 - ls_model_params(f->m70) - p.reserve_bytes;
    assert_int_equal(p.kv_blocks, (int64_t)(free_b / (16 * 327680.0)));
    assert_true(p.kv_blocks > 2000); /* ~2,400: ~38K tokens of context */
    assert_true(p.kv_bytes_per_token_gpu == 327680.0);

    /* TP8 (two quad nodes): 141.1 / 8 = 17.6 GB per GPU; one KV head per GPU */
    p = plan_of(f->m70, f->gh200, f->quad, 8, 1, LS_DTYPE_BF16, LS_DTYPE_BF16, 0);
    assert_true(p.feasible);
    assert_true(p.weights_bytes_max > 17.6e9 && p.weights_bytes_max < 17.7e9);
    assert_true(p.kv_bytes_per_token_gpu == 2.0 * 80 * 1 * 128 * 2); /* 40,960 */
    free_b = 86.4e9 - ls_model_params(f->m70) * 2 / 8 - p.reserve_bytes;
    assert_int_equal(p.kv_blocks, (int64_t)(free_b / (16 * 40960.0)));
}

static void test_messages_tp_pp(void **state)
{
    fx *f = *state;
    /* 405B BF16 at TP4: 405.85 x 2 / 4 = 202.9 GB per GPU */
    ls_memory_plan p = plan_of(f->m405, f->gh200, f->quad, 4, 1, LS_DTYPE_BF16, LS_DTYPE_BF16, 0);
    assert_false(p.feasible);
    assert_string_equal(p.reason, "weights 202.9 GB per GPU (tp4) exceed 86.4 GB usable on gh200-96gb");
    /* TP4 PP2: 126 layers -> 63 + 63; stage 0 has the embedding, stage 1 the head (same size) */
    p = plan_of(f->m405, f->gh200, f->quad, 4, 2, LS_DTYPE_BF16, LS_DTYPE_BF16, 0);
    assert_false(p.feasible);
    assert_non_null(strstr(p.reason, "per GPU (tp4 pp2, stage "));
    assert_non_null(strstr(p.reason, "exceed 86.4 GB usable on gh200-96gb"));
    /* 405B FP8 at TP8 on 8 x H100: 50.7 GB per GPU fits in 72 GB */
    p = plan_of(f->m405, f->h100, f->dgx, 8, 1, LS_DTYPE_FP8, LS_DTYPE_FP8, 0);
    assert_true(p.feasible);
    assert_true(p.kv_blocks > 0);
}

static void test_kv_replication(void **state)
{
    fx *f = *state;
    /* 8 KV heads: TP 1, 2, 4, 8 split them; TP 16 replicates (each GPU still holds one head) */
    double want[] = {8, 4, 2, 1, 1};
    int tps[] = {1, 2, 4, 8, 16};
    for (int i = 0; i < 5; i++) {
        ls_memory_plan p = plan_of(f->m8, f->h100, f->dgx, tps[i], 1, LS_DTYPE_BF16, LS_DTYPE_BF16, 0);
        assert_true(p.kv_bytes_per_token_gpu == 2.0 * 32 * want[i] * 128 * 2);
    }
    ls_memory_plan p = plan_of(f->m8, f->h100, f->dgx, 2, 1, LS_DTYPE_BF16, LS_DTYPE_FP8, 0);
    assert_true(p.kv_bytes_per_token_gpu == 2.0 * 32 * 4 * 128 * 1);
}

static void test_stage_split(void **state)
{
    fx *f = *state;
    assert_int_equal(ls_memory_stage_layers(80, 3, 0), 27);
    assert_int_equal(ls_memory_stage_layers(80, 3, 1), 27);
    assert_int_equal(ls_memory_stage_layers(80, 3, 2), 26);
    assert_int_equal(ls_memory_stage_layers(126, 4, 0), 32);
    assert_int_equal(ls_memory_stage_layers(126, 4, 3), 31);
    assert_int_equal(ls_memory_stage_layers(32, 1, 0), 32);
    /* Llama-3-70B TP1 PP4 FP8: 20 layers per stage; embedding on stage 0, head + norm on stage 3 */
    ls_memory_plan p = plan_of(f->m70, f->h100, f->dgx, 1, 4, LS_DTYPE_FP8, LS_DTYPE_BF16, 0);
    double layer = ls_model_layer_params(f->m70), emb = 128256.0 * 8192;
    assert_true(p.weights_bytes[0] == 20 * layer + emb);
    assert_true(p.weights_bytes[1] == 20 * layer);
    assert_true(p.weights_bytes[3] == 20 * layer + emb + 8192);
    assert_true(p.weights_bytes_max == p.weights_bytes[3]);
    /* the tightest stage (the last: most weights, same layers) decides the blocks */
    double free_b = 0.9 * 80e9 - p.weights_bytes[3] - p.reserve_bytes;
    assert_int_equal(p.kv_blocks, (int64_t)(free_b / (16 * 2.0 * 20 * 8 * 128 * 2)));
}

static void test_user_blocks_and_bad_input(void **state)
{
    fx *f = *state;
    ls_memory_plan p = plan_of(f->m70, f->h100, f->dgx, 4, 1, LS_DTYPE_BF16, LS_DTYPE_BF16, 12345);
    assert_true(p.feasible);
    assert_true(p.kv_blocks_from_user);
    assert_int_equal(p.kv_blocks, 12345);
    /* infeasible weights stay infeasible whatever the user's block count */
    p = plan_of(f->m70, f->h100, f->dgx, 1, 1, LS_DTYPE_BF16, LS_DTYPE_BF16, 100);
    assert_false(p.feasible);

    ls_deploy d = {.model = f->m70, .gpu = f->h100, .cluster = f->dgx, .tp = 1, .pp = 81};
    ls_error e;
    assert_int_equal(ls_memory_plan_compute(&d, 0.9, 16, 0, &p, &e), LS_EINVAL);
    d.pp = 1;
    assert_int_equal(ls_memory_plan_compute(&d, 0.0, 16, 0, &p, &e), LS_EINVAL);
    assert_int_equal(ls_memory_plan_compute(&d, 1.2, 16, 0, &p, &e), LS_EINVAL);
    d.tp = 0;
    assert_int_equal(ls_memory_plan_compute(&d, 0.9, 16, 0, &p, &e), LS_EINVAL);

    /* weights fit but the reserve leaves no KV block: FP8 70B at utilization 0.77 on a 96 GB GPU
     * (73.9 GB usable - 70.6 GB weights - 3 GB reserve < one block) */
    d = (ls_deploy){.model = f->m70, .gpu = f->gh200, .cluster = f->quad, .tp = 1, .pp = 1,
                    .w_dtype = LS_DTYPE_FP8};
    assert_int_equal(ls_memory_plan_compute(&d, 0.765, 16, 0, &p, &e), LS_OK);
    assert_false(p.feasible);
    assert_non_null(strstr(p.reason, "no room for a KV block"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_70b_on_one_gh200), cmocka_unit_test(test_messages_tp_pp),
        cmocka_unit_test(test_kv_replication),   cmocka_unit_test(test_stage_split),
        cmocka_unit_test(test_user_blocks_and_bad_input),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
