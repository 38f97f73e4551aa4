/* test_budget.c -- `max_num_batched_tokens: auto`: the binary search agrees with a
 * direct scan over every multiple of the granule, stays in [min, max], falls back
 * to the minimum when nothing fits, and grows with the latency target. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "budget.h"

/* The mixed iteration of the rule written out again (docs/HARDWARE.md): decode_batch
 * decodes at decode_context plus one chunk of budget - decode_batch tokens at context 0. */
static double mixed(const ls_cost_model *cm, const ls_budget_params *p, int64_t budget)
{
    int64_t chunk = budget > p->decode_batch ? budget - p->decode_batch : 0;
    ls_batch_agg b = {.tokens = chunk + p->decode_batch,
                      .n_seqs = p->decode_batch + (chunk > 0),
                      .n_decode = p->decode_batch,
                      .n_sample = p->decode_batch + (chunk > 0),
                      .sum_qc = (double)p->decode_batch * p->decode_context,
                      .sum_q2 = (double)chunk * chunk + p->decode_batch,
                      .sum_c = (double)p->decode_batch * p->decode_context};
    ls_iter_cost c;
    ls_cost_iteration(cm, &b, &c);
    double t = c.overhead_s + (cm->d.pp - 1) * c.transfer_s;
    for (int s = 0; s < cm->d.pp; s++)
        t += c.stage_s[s];
    return t;
}

/* Direct scan: the largest multiple of granule in [min, max] that meets the target. */
static int64_t scan(const ls_cost_model *cm, const ls_budget_params *p)
{
    int64_t best = -1;
    for (int64_t b = p->granule; b <= p->max_budget; b += p->granule)
        if (b >= p->min_budget && mixed(cm, p, b) <= p->target_tbt_s)
            best = b;
    return best < 0 ? p->min_budget : best;
}

typedef struct setup_s {
    const char *model, *gpu, *cluster;
    int tp, pp;
    ls_dtype w;
} setup_s;

static void test_matches_scan(void **state)
{
    (void)state;
    ls_catalog *cat;
    ls_error e;
    assert_int_equal(ls_catalog_builtin(&cat, &e), LS_OK);
    setup_s setups[] = {
        {"llama-3-70b", "h100-sxm", "dgx-h100", 4, 1, LS_DTYPE_BF16},
        {"llama-3-70b", "gh200-96gb", "gh200-quad", 4, 2, LS_DTYPE_BF16},
        {"llama-3-8b", "a100-80gb", "dgx-a100", 1, 1, LS_DTYPE_FP8},
        {"mixtral-8x7b", "h200", "dgx-h200", 2, 1, LS_DTYPE_BF16},
        {"llama-3.1-405b", "h100-sxm", "dgx-h100", 8, 2, LS_DTYPE_FP8},
    };
    double targets[] = {0.005, 0.02, 0.05, 0.1, 0.2, 1.0, 100.0};
    for (size_t i = 0; i < sizeof setups / sizeof setups[0]; i++) {
        const setup_s *s = &setups[i];
        ls_deploy d = {.tp = s->tp, .pp = s->pp, .w_dtype = s->w, .kv_dtype = LS_DTYPE_BF16};
        assert_int_equal(ls_catalog_model(cat, s->model, &d.model, &e), LS_OK);
        assert_int_equal(ls_catalog_gpu(cat, s->gpu, &d.gpu, &e), LS_OK);
        assert_int_equal(ls_catalog_cluster(cat, s->cluster, &d.cluster, &e), LS_OK);
        ls_cost_model *cm;
        assert_int_equal(ls_cost_roofline_new(&d, &cm, &e), LS_OK);
        int64_t prev = 0;
        for (size_t j = 0; j < sizeof targets / sizeof targets[0]; j++) {
            ls_budget_params p = {.target_tbt_s = targets[j], .decode_batch = 64, .decode_context = 2048,
                                  .min_budget = 320, .max_budget = 16384, .granule = 256};
            int64_t got = ls_budget_auto(cm, &p);
            assert_int_equal(got, scan(cm, &p));
            assert_true(got >= p.min_budget && got <= p.max_budget);
            assert_true(got == p.min_budget || got % p.granule == 0);
            if (got > p.min_budget) {
                assert_true(mixed(cm, &p, got) <= p.target_tbt_s);
                if (got + p.granule <= p.max_budget)
                    assert_true(mixed(cm, &p, got + p.granule) > p.target_tbt_s);
            }
            assert_true(got >= prev); /* a looser target never gives a smaller budget */
            prev = got;
            if (i == 0)
                print_message("%s tp%d on %s, 64 decodes @ 2048, target %.3f s -> budget %lld\n", s->model,
                              s->tp, s->gpu, targets[j], (long long)got);
        }
        /* tight target: the minimum; loose target: the maximum */
        ls_budget_params tight = {.target_tbt_s = 1e-6, .decode_batch = 8, .decode_context = 100,
                                  .min_budget = 300, .max_budget = 8192, .granule = 128};
        assert_int_equal(ls_budget_auto(cm, &tight), 300);
        ls_budget_params loose = tight;
        loose.target_tbt_s = 1e6;
        assert_int_equal(ls_budget_auto(cm, &loose), 8192);
        /* no multiple of the granule in range: the minimum */
        ls_budget_params odd = {.target_tbt_s = 1e6, .decode_batch = 1, .decode_context = 1,
                                .min_budget = 300, .max_budget = 400, .granule = 512};
        assert_int_equal(ls_budget_auto(cm, &odd), 300);
        ls_cost_free(cm);
    }
    ls_catalog_free(cat);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_matches_scan)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
