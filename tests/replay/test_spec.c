/* test_spec.c -- speculative decoding against hand arithmetic: the expected
 * tokens per round (1 - a^(k+1)) / (1 - a) and the sampled mean, the TPOT of
 * one request at batch 1 rebuilt from the roofline costs of the verification
 * pass (k + 1 tokens) and of k EAGLE-head passes, the token budget and KV left
 * beside the proposer, and bad input rejected with file:line. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "config_text.h"

#include "config_internal.h"
#include "memory.h"
#include "spec_decode.h"

static ls_run_config *load_text(const char *text, ls_error *e)
{
    ls_run_config *c;
    return test_config_text(text, "<test>", &c, e) ? NULL : c;
}

static ls_run_config *load(const char *text)
{
    ls_error e;
    ls_run_config *c = load_text(text, &e);
    if (!c)
        fail_msg("%s", e.msg);
    return c;
}

static void test_expected_tokens(void **state)
{
    (void)state;
    ls_spec_config s = {0};
    s.method = LS_SPEC_EAGLE;
    const double a[] = {0, 0.3, 0.7, 0.9, 1};
    for (int k = 1; k <= 8; k++) {
        s.k = k;
        for (size_t i = 0; i < sizeof a / sizeof a[0]; i++) {
            for (int j = 0; j < k; j++)
                s.alpha[j] = a[i];
            double want = a[i] == 1 ? k + 1 : (1 - pow(a[i], k + 1)) / (1 - a[i]);
            assert_true(fabs(ls_spec_expected_tokens(&s) - want) < 1e-12);
        }
    }
    /* a per-position table: 1 + .8 + .8*.5 + .8*.5*.25 */
    s.k = 3;
    s.alpha[0] = 0.8, s.alpha[1] = 0.5, s.alpha[2] = 0.25;
    assert_true(fabs(ls_spec_expected_tokens(&s) - 2.3) < 1e-12);
}

/* The sampled mean of accepted + 1 over many rounds, within 5 standard errors. */
static void test_sampled_mean(void **state)
{
    (void)state;
    ls_spec_config s = {0};
    s.method = LS_SPEC_EAGLE;
    const double a[] = {0.5, 0.7, 0.9};
    const int ks[] = {1, 3, 5};
    for (size_t i = 0; i < 3; i++) {
        s.k = ks[i];
        for (int j = 0; j < s.k; j++)
            s.alpha[j] = a[i];
        uint64_t rng = 12345 + i;
        const int n = 200000;
        double sum = 0, sum2 = 0;
        int hist[LS_SPEC_MAX_K + 1] = {0};
        for (int r = 0; r < n; r++) {
            int acc = ls_spec_sample_accepted(&s, s.alpha, &rng);
            assert_true(acc >= 0 && acc <= s.k);
            hist[acc]++;
            sum += acc + 1;
            sum2 += (double)(acc + 1) * (acc + 1);
        }
        double mean = sum / n, sd = sqrt(sum2 / n - mean * mean);
        double want = (1 - pow(a[i], s.k + 1)) / (1 - a[i]);
        if (fabs(mean - want) > 5 * sd / sqrt(n))
            fail_msg("alpha %g k %d: mean %g, want %g", a[i], s.k, mean, want);
        /* truncation: P(all k accepted) = a^k */
        assert_true(fabs((double)hist[s.k] / n - pow(a[i], s.k)) < 0.01);
    }
}

typedef struct one_req {
    int n;
    double first_token, finish;
    int32_t out, generated;
} one_req;

static void on_req(void *ctx, const ls_request_result *r)
{
    one_req *o = ctx;
    o->n++;
    assert_int_equal(r->status, LS_REQ_COMPLETED);
    o->first_token = r->first_token_s;
    o->finish = r->finish_s;
    o->out = r->output_tokens;
    o->generated = r->generated_tokens;
}

static const char *const one_text =
    "model: llama-3-8b\n"
    "hardware: h100-sxm\n"
    "parallelism: tp1\n"
    "scheduler: {num_kv_blocks: 2000}\n"
    "workload:\n"
    "  arrival: {process: constant, rate: 1}\n"
    "  prompt_tokens: {dist: fixed, value: %d}\n"
    "  output_tokens: {dist: fixed, value: %d}\n"
    "  duration_s: 0.5\n"
    "seed: %d\n"
    "%s";

static ls_run_config *one(int prompt, int output, int seed, const char *spec)
{
    char text[2048];
    snprintf(text, sizeof text, one_text, prompt, output, seed, spec);
    return load(text);
}

static void run_one(const ls_run_config *c, one_req *o, ls_metrics *m)
{
    memset(o, 0, sizeof *o);
    ls_run_opts opts;
    memset(&opts, 0, sizeof opts);
    opts.on_request = on_req;
    opts.on_request_ctx = o;
    ls_error e;
    if (ls_run(c, &opts, m, &e) != LS_OK)
        fail_msg("%s", e.msg);
    assert_int_equal(m->status, LS_RUN_OK);
    assert_int_equal(o->n, 1);
}

/* One round at batch 1, by hand: the target verifies k + 1 tokens onto c
 * cached ones (Σq·c = (k+1)c, Σq² = (k+1)², k + 1 logits), the EAGLE head
 * (one llama-3-8b layer, the LM head included) runs k one-token passes. */
static double round_s(const ls_run_config *c, int k, double ctx)
{
    ls_deploy d;
    memset(&d, 0, sizeof d);
    d.model = &c->model;
    d.gpu = &c->gpu;
    d.cluster = &c->cluster;
    d.tp = d.pp = 1;
    d.w_dtype = d.kv_dtype = LS_DTYPE_BF16;
    ls_model head = c->model;
    head.layers = 1;
    ls_deploy hd = d;
    hd.model = &head;
    ls_cost_model *target, *draft;
    ls_error e;
    assert_int_equal(ls_cost_roofline_new(&d, &target, &e), LS_OK);
    assert_int_equal(ls_cost_roofline_new(&hd, &draft, &e), LS_OK);
    ls_batch_agg v = {k + 1, 1, 1, k + 1, (k + 1) * ctx, (double)(k + 1) * (k + 1), ctx};
    ls_batch_agg one_tok = {1, 1, 1, 1, ctx, 1, ctx};
    ls_iter_cost tv, dv;
    ls_cost_iteration(target, &v, &tv);
    ls_cost_iteration(draft, &one_tok, &dv);
    ls_cost_free(target);
    ls_cost_free(draft);
    return tv.stage_s[0] + tv.overhead_s + k * dv.stage_s[0];
}

/* Acceptance 1 and 0 make the rounds exact: TPOT is the sum of the rounds'
 * costs over the output tokens after the first. */
static void test_batch1_tpot_exact(void **state)
{
    (void)state;
    const int P = 512, O = 257, k = 3;
    for (int full = 0; full <= 1; full++) {
        char spec[256];
        snprintf(spec, sizeof spec, "speculative: {method: eagle, num_speculative_tokens: %d, acceptance: %d}\n", k,
                 full);
        ls_run_config *c = one(P, O, 1, spec);
        one_req o;
        ls_metrics m;
        run_one(c, &o, &m);
        int per = full ? k + 1 : 1;
        int rounds = (O - 1 + per - 1) / per;
        double sum = 0;
        for (int j = 0; j < rounds; j++)
            sum += round_s(c, k, P + j);  /* round j decodes onto P + j cached (one slot per round) */
        double tpot = (o.finish - o.first_token) / (O - 1);
        if (fabs(tpot - sum / (O - 1)) > 1e-9 * tpot)
            fail_msg("acceptance %d: TPOT %.9g, by hand %.9g", full, tpot, sum / (O - 1));
        assert_true(fabs(m.v[LS_M_TPOT_MEAN_S] - tpot) < 1e-12);
        assert_int_equal(o.generated, O);
        assert_true(fabs(m.v[LS_M_SPEC_ACCEPTANCE_RATE] - full) < 1e-12);
        assert_true(fabs(m.v[LS_M_SPEC_MEAN_ACCEPTED_TOKENS] - (full ? k + 1 : 1)) < 1e-12);
        ls_config_free(c);
    }
}

/* Acceptance 0.7, k 3: over many rounds the tokens per round approach
 * (1 - 0.7^4) / 0.3 = 2.533 and TPOT the mean round cost over it. */
static void test_batch1_tpot_geometric(void **state)
{
    (void)state;
    const int P = 256, O = 4001, k = 3;
    const double a = 0.7, E = (1 - pow(a, k + 1)) / (1 - a);
    ls_run_config *base = one(P, O, 5, "");
    one_req o0;
    ls_metrics m0;
    run_one(base, &o0, &m0);
    ls_run_config *c = one(P, O, 5, "speculative: {method: eagle, num_speculative_tokens: 3, acceptance: 0.7}\n");
    one_req o;
    ls_metrics m;
    run_one(c, &o, &m);
    /* rounds ~ 4000 / 2.533 = 1579: the standard error of the mean is 1.24 / sqrt(1579) = 0.031 */
    double got = m.v[LS_M_SPEC_MEAN_ACCEPTED_TOKENS];
    if (fabs(got - E) > 0.15)
        fail_msg("mean accepted tokens %g, want %g", got, E);
    assert_true(fabs(m.v[LS_M_SPEC_ACCEPTANCE_RATE] - (got - 1) / k) < 1e-12);
    /* the rounds the run took, from its own mean; their cost by hand */
    int rounds = (int)llround((O - 1) / got);
    double sum = 0;
    for (int j = 0; j < rounds; j++)
        sum += round_s(c, k, P + j);
    double tpot = (o.finish - o.first_token) / (O - 1);
    if (fabs(tpot - sum / (O - 1)) > 1e-3 * tpot)
        fail_msg("TPOT %.9g, by hand %.9g", tpot, sum / (O - 1));
    /* and the gain over plain decoding at batch 1 is large (memory-bound) */
    double tpot0 = (o0.finish - o0.first_token) / (O - 1);
    assert_true(tpot0 / tpot > 1.8);
    ls_config_free(base);
    ls_config_free(c);
}

/* Same spec and seed: the same rounds; another seed: other rounds. */
static void test_deterministic(void **state)
{
    (void)state;
    const char *spec = "speculative: {method: ngram, num_speculative_tokens: 4, acceptance: [0.6, 0.5, 0.4, 0.3]}\n";
    ls_run_config *a = one(128, 801, 3, spec), *b = one(128, 801, 3, spec), *c = one(128, 801, 4, spec);
    one_req oa, ob, oc;
    ls_metrics ma, mb, mc;
    run_one(a, &oa, &ma);
    run_one(b, &ob, &mb);
    run_one(c, &oc, &mc);
    assert_true(oa.finish == ob.finish && ma.v[LS_M_SPEC_MEAN_ACCEPTED_TOKENS] == mb.v[LS_M_SPEC_MEAN_ACCEPTED_TOKENS]);
    assert_true(ma.v[LS_M_SPEC_MEAN_ACCEPTED_TOKENS] != mc.v[LS_M_SPEC_MEAN_ACCEPTED_TOKENS]);
    ls_config_free(a);
    ls_config_free(b);
    ls_config_free(c);
}

/* The proposer's weights and KV come out of the KV cache; ngram costs none. */
static void test_memory(void **state)
{
    (void)state;
    const char *t = "model: llama-3-70b\nhardware: h100-sxm\nparallelism: tp4\n%s"
                    "workload: {arrival: {process: poisson, rate: 1}, prompt_tokens: {dist: fixed, value: 100}, output_tokens: {dist: fixed, value: 10}, duration_s: 5}\n";
    char text[512];
    snprintf(text, sizeof text, t, "");
    ls_run_config *c0 = load(text);
    snprintf(text, sizeof text, t, "speculative: {method: draft, model: llama-3.2-1b, num_speculative_tokens: 4, acceptance: 0.6}\n");
    ls_run_config *c1 = load(text);
    ls_deploy d;
    memset(&d, 0, sizeof d);
    d.model = &c0->model;
    d.gpu = &c0->gpu;
    d.cluster = &c0->cluster;
    d.tp = 4;
    d.pp = 1;
    d.w_dtype = d.kv_dtype = LS_DTYPE_BF16;
    ls_memory_plan p;
    ls_error e;
    assert_int_equal(ls_memory_plan_compute(&d, 0.9, 16, 0, &p, &e), LS_OK);
    int64_t blocks = ls_spec_kv_blocks(&c1->spec, &d, p.kv_bytes_per_token_gpu, 16, p.kv_blocks);
    /* by hand: llama-3.2-1b's 1.24e9 parameters in BF16 over 4 GPUs, and its KV
     * (16 layers x 8 KV heads x 64 x 2 x 2 bytes = 32768 B/token, 8192 per GPU at tp 4) beside the target's */
    double draft_w = ls_model_params(&c1->spec.proposer) * 2 / 4;
    double kvd = 16.0 * 8 * 64 * 2 * 2 / 4;
    double want = floor(((double)p.kv_blocks * 16 * p.kv_bytes_per_token_gpu - draft_w) /
                        (16 * (p.kv_bytes_per_token_gpu + kvd)));
    assert_int_equal(blocks, (int64_t)want);
    assert_true(blocks < p.kv_blocks);
    ls_spec_config ng = {0};
    ng.method = LS_SPEC_NGRAM;
    ng.k = 3;
    assert_int_equal(ls_spec_kv_blocks(&ng, &d, p.kv_bytes_per_token_gpu, 16, p.kv_blocks), p.kv_blocks);
    ls_config_free(c0);
    ls_config_free(c1);
}

/* Acceptance per request class: every request of class `hi` accepts at 0.9,
 * of `lo` at 0.1, so the run's mean tokens per step is (1 - a^4) / (1 - a)
 * of the class its requests belong to; with both classes at half the
 * requests it lies between, and the label names each class's rate. */
static double class_mean(const char *classes, const char *acceptance, char *label, size_t size)
{
    char text[2048];
    snprintf(text, sizeof text,
             "model: llama-3-8b\nhardware: h100-sxm\nparallelism: tp1\n"
             "workload:\n  arrival: {process: poisson, rate: 2}\n"
             "  prompt_tokens: {dist: fixed, value: 128}\n  output_tokens: {dist: fixed, value: 200}\n"
             "  duration_s: 20\n  classes: %s\n"
             "speculative: {method: eagle, num_speculative_tokens: 3, acceptance: %s}\nseed: 5\n",
             classes, acceptance);
    ls_run_config *c = load(text);
    ls_metrics m;
    ls_run_opts opts;
    memset(&opts, 0, sizeof opts);
    ls_error e;
    if (ls_run(c, &opts, &m, &e) != LS_OK)
        fail_msg("%s", e.msg);
    ls_config_row row;
    ls_config_get_row(c, &row);
    snprintf(label, size, "%s", row.speculative);
    ls_config_free(c);
    return m.v[LS_M_SPEC_MEAN_ACCEPTED_TOKENS];
}

static void test_acceptance_by_class(void **state)
{
    (void)state;
    const double hi = (1 - pow(0.9, 4)) / 0.1, lo = (1 - pow(0.1, 4)) / 0.9;
    char label[LS_CFG_STR];
    double m = class_mean("[{name: hi, share: 1}]", "{hi: 0.9, default: 0.1}", label, sizeof label);
    assert_true(fabs(m - hi) < 0.05 * hi);
    assert_string_equal(label, "eagle k3 hi:0.9");
    m = class_mean("[{name: hi, share: 1}]", "{default: 0.1}", label, sizeof label);
    assert_true(fabs(m - lo) < 0.05 * lo);
    m = class_mean("[{name: hi, share: 0.5}, {name: lo, share: 0.5}]", "{hi: 0.9, lo: [0.1, 0.1, 0.1]}", label,
                   sizeof label);
    assert_true(m > lo + 0.3 && m < hi - 0.3);
    assert_string_equal(label, "eagle k3 hi:0.9 lo:0.1");
}

static void expect_error(const char *spec, const char *want)
{
    char text[1024];
    snprintf(text, sizeof text,
             "model: llama-3-70b\nhardware: h100-sxm\nparallelism: tp4\n%s"
             "workload: {arrival: {process: poisson, rate: 1}, prompt_tokens: {dist: fixed, value: 100}, output_tokens: {dist: fixed, value: 10}, duration_s: 5}\n",
             spec);
    ls_error e;
    ls_run_config *c = load_text(text, &e);
    if (c)
        fail_msg("accepted: %s", spec);
    if (!strstr(e.msg, "<test>:4") || !strstr(e.msg, want))
        fail_msg("message '%s' lacks '<test>:4' or '%s'", e.msg, want);
}

static void test_bad_input(void **state)
{
    (void)state;
    expect_error("speculative: {method: eagle, num_speculative_tokens: 3, acceptance: 1.5}\n", "[0, 1]");
    expect_error("speculative: {method: eagle, num_speculative_tokens: 3, acceptance: -0.1}\n", "[0, 1]");
    expect_error("speculative: {method: eagle, num_speculative_tokens: 2, acceptance: [0.5, 2]}\n", "acceptance[1]");
    expect_error("speculative: {method: eagle, num_speculative_tokens: 3, acceptance: [0.5, 0.4]}\n", "expected 3 rates");
    expect_error("speculative: {method: draft, model: qwen3-8b, num_speculative_tokens: 3, acceptance: 0.6}\n",
                 "vocabulary");
    expect_error("speculative: {method: eagle, num_speculative_tokens: 0, acceptance: 0.6}\n", "expected 1 to");
    expect_error("speculative: {method: medusa, num_speculative_tokens: 3, acceptance: 0.6}\n", "unknown method");
    expect_error("speculative: {method: draft, model: no-such-model, num_speculative_tokens: 3, acceptance: 0.6}\n",
                 "no-such-model");
    expect_error("speculative: {method: draft, num_speculative_tokens: 3, acceptance: 0.6}\n", "needs 'model'");
    expect_error("speculative: {method: eagle, model: llama-3.2-1b, num_speculative_tokens: 3, acceptance: 0.6}\n",
                 "only method draft");
    expect_error("speculative: {method: eagle, num_speculative_tokens: 3}\n", "missing key 'acceptance'");
    expect_error("speculative: {method: eagle, num_speculative_tokens: 3, acceptance: 0.6, k: 2}\n", "k");
    expect_error("speculative: eagle\n", "expected a mapping");
    expect_error("speculative: {method: eagle, num_speculative_tokens: 3, acceptance: {chat: 0.6}}\n",
                 "the workload defines none");
    expect_error("speculative: {method: eagle, num_speculative_tokens: 3, acceptance: {chat: 1.6}}\n",
                 "speculative.acceptance.chat: expected an acceptance rate in [0, 1]");
}

/* Per-class acceptance against the workload's classes: file:line of the bad name. */
static void test_bad_class_acceptance(void **state)
{
    (void)state;
    static const struct {
        const char *acc, *want;
    } cases[] = {
        {"{chat: 0.8, cod: 0.6}", "'cod' is no request class of the workload (classes: chat, code; or default)"},
        {"{chat: 0.8}", "no rate for request class 'code' (and no default)"},
        {"{chat: 0.8, code: [0.5, 0.4]}", "expected 3 rates"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[1024];
        snprintf(text, sizeof text,
                 "model: llama-3-8b\nhardware: h100-sxm\nparallelism: tp1\n"
                 "speculative: {method: eagle, num_speculative_tokens: 3, acceptance: %s}\n"
                 "workload: {arrival: {process: poisson, rate: 1}, prompt_tokens: {dist: fixed, value: 100}, "
                 "output_tokens: {dist: fixed, value: 10}, duration_s: 5, "
                 "classes: [{name: chat, share: 0.5}, {name: code, share: 0.5}]}\n",
                 cases[i].acc);
        ls_error e;
        ls_run_config *c = load_text(text, &e);
        if (c)
            fail_msg("accepted: %s", cases[i].acc);
        if (!strstr(e.msg, "<test>:4") || !strstr(e.msg, cases[i].want))
            fail_msg("message '%s' lacks '<test>:4' or '%s'", e.msg, cases[i].want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expected_tokens),
        cmocka_unit_test(test_sampled_mean),
        cmocka_unit_test(test_batch1_tpot_exact),
        cmocka_unit_test(test_batch1_tpot_geometric),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_memory),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_acceptance_by_class),
        cmocka_unit_test(test_bad_class_acceptance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
