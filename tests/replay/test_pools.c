/* test_pools.c -- disaggregated prefill/decode serving (replay/pools.c).
 *
 *  - hand-computed cases: one request, a known prompt, a batch-independent
 *    iteration time and the link of the catalog (NVLink inside a DGX H100
 *    node, 450 GB/s and 4 us; the network between nodes, 50 GB/s and 5 us) or
 *    a configured one: TTFT = prefill + transfer + the decode instance's first
 *    step, TPOT = decode steps only, transfer = latency + whole blocks x KV
 *    bytes per token per GPU / bandwidth;
 *  - whole runs (xPyD, policies, KV-starved decode side): every request
 *    reported once, tokens conserved (prefill computes the prompt, decode
 *    the last prompt token again and the rest), deterministic;
 *  - bad input rejected with FILE:LINE. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pools.h"
#include "config_text.h"
#include "replay.h"
#include "scheduler.h"

static ls_status load_text(const char *text, ls_run_config **c, ls_error *e)
{
    return test_config_text(text, "pd.yaml", c, e);
}

static ls_run_config *load(const char *text)
{
    return test_config(text, "pd.yaml");
}

/* One request of `prompt` tokens and 11 output tokens, 50 ms per iteration. */
static const char *const one_text =
    "model: llama-3.1-70b\n"
    "cluster: dgx-h100\n"
    "dtype: {weights: fp8, kv: bf16}\n"
    "cost: {model: constant, time_s: 0.05}\n"
    "disaggregation:\n"
    "  prefill: {replicas: 1, parallelism: %s}\n"
    "  decode: {replicas: 1, parallelism: %s}\n"
    "  kv_transfer: %s\n"
    "workload:\n"
    "  arrival: {process: constant, rate: 1}\n"
    "  prompt_tokens: {dist: fixed, value: %d}\n"
    "  output_tokens: {dist: fixed, value: 11}\n"
    "  duration_s: 0.5\n";

static void one_request_ttft(const char *ptp, const char *dtp, const char *xfer, int prompt, double wire,
                             double exposed);
static void one_request(const char *ptp, const char *dtp, const char *xfer, int prompt, double wire)
{
    one_request_ttft(ptp, dtp, xfer, prompt, wire, wire);
}

/* `exposed`: the part of the transfer after the prefill's end (= wire unless layer-wise) */
static void one_request_ttft(const char *ptp, const char *dtp, const char *xfer, int prompt, double wire,
                             double exposed)
{
    char text[2048];
    snprintf(text, sizeof text, one_text, ptp, dtp, xfer, prompt);
    ls_run_config *c = load(text);
    assert_non_null(c->pools);
    assert_true(fabs(ls_pools_transfer_s(c->pools, 0, 0, prompt) - wire) < 1e-15);
    ls_metrics m;
    ls_error e;
    assert_int_equal(ls_run(c, NULL, &m, &e), LS_OK);
    assert_int_equal(m.status, LS_RUN_OK);
    const double *v = m.v;
    assert_int_equal((int64_t)v[LS_M_N_COMPLETED], 1);
    /* prefill (one iteration: the prompt fits the 8192-token budget), the wire, one decode step */
    assert_true(fabs(v[LS_M_TTFT_MEAN_S] - (0.05 + exposed + 0.05)) < 1e-12);
    assert_true(fabs(v[LS_M_TPOT_MEAN_S] - 0.05) < 1e-12);
    assert_true(fabs(v[LS_M_E2E_MEAN_S] - (0.05 + exposed + 11 * 0.05)) < 1e-12);
    assert_true(fabs(v[LS_M_KV_TRANSFER_MEAN_S] - exposed) < 1e-15);
    assert_true(fabs(v[LS_M_KV_TRANSFER_P99_S] - exposed) < 1e-15);
    assert_true(fabs(v[LS_M_KV_WIRE_MEAN_S] - exposed) < 1e-15);
    assert_true(fabs(v[LS_M_PREFILL_TTFT_MEAN_S] - 0.05) < 1e-12);
    assert_true(fabs(v[LS_M_DECODE_FIRST_TOKEN_MEAN_S] - 0.05) < 1e-12);
    double sim = 0.05 + exposed + 11 * 0.05;
    assert_true(fabs(v[LS_M_PREFILL_UTILIZATION] - 0.05 / sim) < 1e-12);
    assert_true(fabs(v[LS_M_DECODE_UTILIZATION] - 0.55 / sim) < 1e-12);
    assert_int_equal((int64_t)v[LS_M_ITERATIONS], 12);
    ls_config_free(c);
}

static void test_hand_computed(void **state)
{
    (void)state;
    /* Llama-3.1-70B: 80 layers x 8 KV heads x 128 x 2 (K, V) x 2 bytes = 327,680 B/token; per GPU at tp4
     * 81,920 B. 1000 tokens move as 63 blocks of 16 = 1008 tokens. */
    double nv = 4e-6 + 1008.0 * 81920.0 / 450e9;  /* NVLink inside the node: 187.5008 us */
    one_request("tp4", "tp4", "{link: auto}", 1000, nv);
    one_request("tp4", "tp4", "{link: nvlink}", 1000, nv);
    /* the same pair over the NIC: 50 GB/s per GPU, 5 us */
    one_request("tp4", "tp4", "{link: network}", 1000, 5e-6 + 1008.0 * 81920.0 / 50e9);
    /* tp8 + tp8 fill one node each: the network, at 40,960 B/token per GPU */
    one_request("tp8", "tp8", "{}", 1000, 5e-6 + 1008.0 * 40960.0 / 50e9);
    /* a configured link: 10 GB/s, 100 us; 17 tokens move as 2 blocks */
    one_request("tp4", "tp4", "{bandwidth_gbps: 10, latency_us: 100}", 17, 1e-4 + 32.0 * 81920.0 / 10e9);
    /* tp2 -> tp4: each decode GPU reads from the larger prefill shard's link: 163,840 B/token decides */
    one_request("tp2", "tp4", "{}", 1000, 4e-6 + 1008.0 * 163840.0 / 450e9);
    /* layer-wise push during the 50 ms prefill: a fast link leaves only the last of 80 layers' share
     * after it; a slow one (0.1 GB/s: 0.826 s of wire) shows all but the 50 ms it overlapped */
    double bytes = 1008.0 * 81920.0;
    one_request_ttft("tp4", "tp4", "{mode: layerwise}", 1000, nv, 4e-6 + bytes / 450e9 / 80);
    one_request_ttft("tp4", "tp4", "{mode: layerwise, bandwidth_gbps: 0.1, latency_us: 0}", 1000, bytes / 0.1e9,
                     bytes / 0.1e9 - 0.05);
    /* staged through host memory (vLLM kv_buffer_device: cpu), store and forward: inside a node GPU -> host
     * -> GPU over PCIe Gen5 (63 GB/s each way), no latency modelled; between nodes the network in between */
    one_request("tp4", "tp4", "{link: host, host_link: pcie5}", 1000, bytes / 63e9 + bytes / 63e9);
    one_request("tp8", "tp8", "{link: host, host_link: pcie4}", 1000,
                5e-6 + 1008.0 * 40960.0 * (2 / 31.5e9 + 1 / 50e9));
}

/* GH200 (one per node, 25 GB/s network, 5 us): the KV staged through Grace memory over NVLink-C2C (450 GB/s
 * each way, kvoffload.c's link table) and the network between the Graces: 5 us + bytes x (2/450e9 + 1/25e9);
 * Llama-3.1-8B in BF16 at tp1: 32 layers x 8 x 128 x 2 x 2 = 131,072 B/token, 1000 tokens as 1008. */
static void test_c2c_staging(void **state)
{
    (void)state;
    const char *text = "model: llama-3.1-8b\ncluster: gh200-single\nhardware: gh200-96gb\n"
                       "cost: {model: constant, time_s: 0.05}\n"
                       "disaggregation:\n  prefill: {replicas: 1, parallelism: tp1}\n"
                       "  decode: {replicas: 1, parallelism: tp1}\n  kv_transfer: {link: %s}\n"
                       "workload: {arrival: {process: constant, rate: 1}, prompt_tokens: {dist: fixed, value: 1000},"
                       " output_tokens: {dist: fixed, value: 11}, duration_s: 0.5}\n";
    double bytes = 1008.0 * 131072.0;
    const struct {
        const char *link;
        double wire;
    } rows[] = {{"host", 5e-6 + bytes * (2 / 450e9 + 1 / 25e9)}, {"network", 5e-6 + bytes / 25e9}};
    for (int k = 0; k < 2; k++) {
        char t[1024];
        snprintf(t, sizeof t, text, rows[k].link);
        ls_run_config *c = load(t);
        assert_true(fabs(ls_pools_transfer_s(c->pools, 0, 0, 1000) - rows[k].wire) < 1e-15);
        ls_metrics m;
        ls_error e;
        assert_int_equal(ls_run(c, NULL, &m, &e), LS_OK);
        assert_int_equal((int64_t)m.v[LS_M_N_COMPLETED], 1);
        assert_true(fabs(m.v[LS_M_TTFT_MEAN_S] - (0.05 + rows[k].wire + 0.05)) < 1e-12);
        assert_true(fabs(m.v[LS_M_KV_TRANSFER_MEAN_S] - rows[k].wire) < 1e-15);
        ls_config_free(c);
    }
    /* staging costs the two C2C hops on top of the direct GPU-RDMA network path */
    assert_true(rows[0].wire > rows[1].wire);
}

/* Pools in different clusters: prefill on an HGX B300 (100 GB/s per GPU), decode on a DGX H100 (50 GB/s),
 * both tp4 of Llama-3.1-70B (81,920 B per token per GPU): the network links them at the slower end's
 * 50 GB/s and 5 us, never NVLink; the /configs row names both clusters. */
static void expect_error(const char *text, const char *n1, const char *n2);
static void test_split_clusters(void **state)
{
    (void)state;
    const char *text = "model: llama-3.1-70b\ncluster: dgx-h100\ndtype: {weights: fp8, kv: bf16}\n"
                       "cost: {model: constant, time_s: 0.05}\n"
                       "disaggregation:\n  prefill: {replicas: 1, parallelism: tp4, cluster: hgx-b300, hardware: b300}\n"
                       "  decode: {replicas: 1, parallelism: tp4}\n  kv_transfer: %s\n"
                       "workload: {arrival: {process: constant, rate: 1}, prompt_tokens: {dist: fixed, value: 1000},"
                       " output_tokens: {dist: fixed, value: 11}, duration_s: 0.5}\n";
    char t[1024];
    snprintf(t, sizeof t, text, "{}");
    ls_run_config *c = load(t);
    double wire = 5e-6 + 1008.0 * 81920.0 / 50e9;
    assert_true(c->pools->split);
    assert_true(fabs(ls_pools_transfer_s(c->pools, 0, 0, 1000) - wire) < 1e-15);
    ls_metrics m;
    ls_error e;
    assert_int_equal(ls_run(c, NULL, &m, &e), LS_OK);
    assert_true(fabs(m.v[LS_M_TTFT_MEAN_S] - (0.05 + wire + 0.05)) < 1e-12);
    assert_int_equal((int64_t)m.v[LS_M_N_GPUS], 8);
    ls_config_row row;
    ls_config_get_row(c, &row);
    assert_string_equal(row.cluster, "hgx-b300/dgx-h100");
    assert_string_equal(row.hardware, "b300/h100-sxm");
    ls_config_free(c);
    snprintf(t, sizeof t, text, "{link: nvlink}");
    expect_error(t, "pd.yaml:8: disaggregation.kv_transfer.link", "different clusters");
}

/* Two transfers at once from one prefill instance (1P2D, 10 GB/s and 100 us configured, 81,920 B per token
 * per GPU at tp4): prompts of 1000 (63 blocks) and 500 tokens (32 blocks) prefilled in one 50 ms step, then
 *  - fifo: A (first in the batch) 100 us + 1008 tokens' bytes / 10 GB/s, B after it: A's wire + B's own;
 *  - fair: both at 5 GB/s until B's 512 tokens are done (2 x 512 x 81920 / 10e9), then A alone at 10 GB/s:
 *    A's bytes are done at (1008 + 512) x 81920 / 10e9 (work-conserving); each arrives 100 us later. */
static double ttft_by_id[2];
static void on_request2(void *ctx, const ls_request_result *r)
{
    (void)ctx;
    assert_true(r->index >= 0 && r->index < 2);
    assert_int_equal(r->status, LS_REQ_COMPLETED);
    ttft_by_id[r->index] = r->first_token_s - r->arrival_s;
}

static void test_sharing(void **state)
{
    (void)state;
    const char *text = "model: llama-3.1-70b\ncluster: dgx-h100\ndtype: {weights: fp8, kv: bf16}\n"
                       "cost: {model: constant, time_s: 0.05}\nrouter: round-robin\n"
                       "disaggregation:\n  prefill: {replicas: 1, parallelism: tp4}\n"
                       "  decode: {replicas: 2, parallelism: tp4}\n"
                       "  kv_transfer: {bandwidth_gbps: 10, latency_us: 100, sharing: %s}\n"
                       "workload: {arrival: {process: constant, rate: 1}, prompt_tokens: {dist: fixed, value: 10},"
                       " output_tokens: {dist: fixed, value: 3}, duration_s: 1}\n";
    ls_request v[2] = {{.prompt_tokens = 1000, .output_tokens = 3, .session_id = -1, .class_id = -1},
                       {.prompt_tokens = 500, .output_tokens = 3, .session_id = -1, .class_id = -1}};
    ls_request_array a = {v, 2, 2, NULL, 0, 0};
    const double bt = 81920.0 / 10e9, lat = 1e-4;  /* seconds per token at the full 10 GB/s */
    const double fifo[2] = {lat + 1008 * bt, 2 * lat + (1008 + 512) * bt};
    const double fair[2] = {lat + (1008 + 512) * bt, lat + 2 * 512 * bt};
    for (int k = 0; k < 2; k++) {
        char t[2048];
        snprintf(t, sizeof t, text, k ? "fair" : "fifo");
        ls_run_config *c = load(t);
        ls_run_opts o;
        memset(&o, 0, sizeof o);
        o.requests = &a;
        o.on_request = on_request2;
        ls_metrics m;
        ls_error e;
        assert_int_equal(ls_run(c, &o, &m, &e), LS_OK);
        assert_int_equal((int64_t)m.v[LS_M_N_COMPLETED], 2);
        const double *want = k ? fair : fifo;
        for (int i = 0; i < 2; i++)  /* prefill step, the handoff, the decode instance's first step */
            assert_true(fabs(ttft_by_id[i] - (0.05 + want[i] + 0.05)) < 1e-12);
        assert_true(fabs(m.v[LS_M_KV_TRANSFER_MEAN_S] - (want[0] + want[1]) / 2) < 1e-12);
        ls_config_free(c);
    }
}

/* A decode replica driven directly: KV reserved, requests added with their
 * prompt in the cache, a small cache (preemptions), the replica's invariants
 * checked after every step (reserved blocks count as used, held by none). */
static int64_t n_done, n_tokens;
static void drv_done(void *ctx, int replica, const ls_req_done *d)
{
    (void)ctx;
    (void)replica;
    assert_int_equal(d->status, LS_REQ_COMPLETED);
    assert_int_equal(d->generated, d->output_tokens);
    assert_true(d->first_token_s > d->first_scheduled_s);
    n_done++;
    n_tokens += d->output_tokens;
}

static void test_decode_replica(void **state)
{
    (void)state;
    for (int pol = 0; pol < 3; pol++) {
        ls_sched_config c;
        memset(&c, 0, sizeof c);
        c.policy = (ls_policy)pol;
        c.enable_chunked_prefill = true;
        c.max_batched_tokens = 64;
        c.max_num_seqs = 16;
        c.max_model_len = 200;
        c.block_size = 4;
        c.kv_blocks = 60;
        c.watermark = 0.01;
        n_done = n_tokens = 0;
        ls_replica *r = ls_replica_new(&c, 1, 0, drv_done, NULL, NULL);
        uint64_t seed = 77 + (uint64_t)pol;
        int64_t added = 0, pending_blocks = 0, pending_prompt = 0;
        for (int step = 0; step < 4000; step++) {
            double now = step;
            if (added < 300 && step % 3 == 0) {
                seed = seed * 6364136223846793005ull + 1442695040888963407ull;
                int32_t prompt = 1 + (int32_t)((seed >> 33) % 60), out = 1 + (int32_t)((seed >> 17) % 40);
                int64_t blocks = (prompt + 3) / 4;
                if (pending_blocks == 0 && ls_replica_kv_reserve(r, blocks, now)) {
                    pending_blocks = blocks;  /* on the wire for one step */
                    pending_prompt = prompt * 1000 + out;
                }
            } else if (pending_blocks > 0) {
                ls_replica_add_prefilled(r, added++, (int32_t)(pending_prompt / 1000), (int32_t)(pending_prompt % 1000),
                                         now - 2, now - 1.5, pending_blocks, now);
                pending_blocks = 0;
            }
            ls_replica_debug_check(r);
            ls_mbatch_info b;
            if (ls_replica_schedule(r, now, &b)) {
                ls_replica_debug_check(r);
                ls_replica_complete(r, b.slot, now + 0.5);
            }
            ls_replica_debug_check(r);
        }
        assert_int_equal(n_done, added);
        assert_int_equal(ls_replica_outstanding(r), 0);
        assert_int_equal(ls_replica_used_blocks(r), 0);
        print_message("%s: %lld requests decoded, %lld preemptions\n", ls_policy_name((ls_policy)pol),
                      (long long)n_done, (long long)ls_replica_preemptions(r));
        ls_replica_free(r);
    }
}

static const char *const many_text =
    "model: llama-3-8b\n"
    "cluster: dgx-h100\n"
    "scheduler: {policy: %s, max_num_seqs: 64, prefill_chunk_size: 512}\n"
    "router: %s\n"
    "disaggregation:\n"
    "  prefill: {replicas: %d, parallelism: tp1}\n"
    "  decode: {replicas: %d, parallelism: tp2, scheduler: {num_kv_blocks: %d}}\n"
    "  router: %s\n"
    "workload:\n"
    "  arrival: {process: poisson, rate: 40}\n"
    "  prompt_tokens: {dist: lognormal, mean: 700, stddev: 500}\n"
    "  output_tokens: {dist: lognormal, mean: 150, stddev: 120}\n"
    "  duration_s: 20\n"
    "seed: 5\n";

typedef struct rtally {
    int64_t n, by_status[5];
    unsigned char *seen;
    int64_t cap;
    double sum_need;
} rtally;

static void on_request(void *ctx, const ls_request_result *r)
{
    rtally *t = ctx;
    assert_true(r->index >= 0 && r->index < t->cap);
    assert_int_equal(t->seen[r->index], 0);
    t->seen[r->index] = 1;
    t->n++;
    t->by_status[r->status]++;
    if (r->status == LS_REQ_COMPLETED) {
        assert_true(r->first_scheduled_s >= r->arrival_s && r->first_token_s > r->first_scheduled_s);
        assert_true(r->finish_s >= r->first_token_s);
        /* prefill computes the prompt; decode the last prompt token again, then one per further token */
        t->sum_need += r->prompt_tokens + r->generated_tokens;
    }
}

static void whole_run(const char *policy, const char *router, int np, int nd, int d_blocks, const char *d_router,
                      ls_metrics *out)
{
    char text[2048];
    snprintf(text, sizeof text, many_text, policy, router, np, nd, d_blocks, d_router);
    ls_run_config *c = load(text);
    rtally t = {0};
    t.cap = 100000;
    t.seen = calloc((size_t)t.cap, 1);
    ls_run_opts o;
    memset(&o, 0, sizeof o);
    o.on_request = on_request;
    o.on_request_ctx = &t;
    ls_metrics m;
    ls_error e;
    assert_int_equal(ls_run(c, &o, &m, &e), LS_OK);
    assert_int_equal(m.status, LS_RUN_OK);
    const double *v = m.v;
    assert_int_equal(t.n, (int64_t)v[LS_M_N_REQUESTS]);
    assert_int_equal(t.by_status[LS_REQ_COMPLETED], (int64_t)v[LS_M_N_COMPLETED]);
    assert_int_equal(t.by_status[LS_REQ_UNFINISHED], 0);
    assert_true(v[LS_M_N_COMPLETED] > 0.95 * v[LS_M_N_REQUESTS]);
    double computed = v[LS_M_MEAN_BATCH_TOKENS] * v[LS_M_ITERATIONS];
    assert_true(fabs(computed - (t.sum_need + v[LS_M_RECOMPUTED_TOKENS])) < 1e-6 * computed + 1);
    assert_int_equal((int64_t)v[LS_M_N_GPUS], np * 1 + nd * 2);
    assert_true(v[LS_M_KV_TRANSFER_MEAN_S] >= v[LS_M_KV_WIRE_MEAN_S] && v[LS_M_KV_WIRE_MEAN_S] > 0);
    assert_true(v[LS_M_PREFILL_UTILIZATION] > 0 && v[LS_M_PREFILL_UTILIZATION] <= 1);
    assert_true(v[LS_M_DECODE_UTILIZATION] > 0 && v[LS_M_DECODE_UTILIZATION] <= 1);
    assert_true(v[LS_M_DECODE_KV_USAGE_MAX] <= 1 && v[LS_M_DECODE_KV_USAGE_MEAN] > 0);
    /* TTFT decomposes: prefill side + handoff + decode side's first token (means over the completed) */
    assert_true(fabs(v[LS_M_TTFT_MEAN_S] - (v[LS_M_PREFILL_TTFT_MEAN_S] + v[LS_M_KV_TRANSFER_MEAN_S] +
                                            v[LS_M_DECODE_FIRST_TOKEN_MEAN_S])) < 1e-9);
    assert_true(v[LS_M_MFU_MEAN] > 0 && v[LS_M_MFU_MEAN] < 1);
    print_message("%s %dP%dD blocks %d: %lld requests, ttft %.3f s (transfer %.4f s, wire %.5f s), tpot %.4f s, "
                  "%lld preemptions, decode kv max %.2f\n",
                  policy, np, nd, d_blocks, (long long)t.n, v[LS_M_TTFT_MEAN_S], v[LS_M_KV_TRANSFER_MEAN_S],
                  v[LS_M_KV_WIRE_MEAN_S], v[LS_M_TPOT_MEAN_S], (long long)v[LS_M_N_PREEMPTIONS],
                  v[LS_M_DECODE_KV_USAGE_MAX]);
    if (out)
        *out = m;
    free(t.seen);
    ls_config_free(c);
}

static void test_whole_runs(void **state)
{
    (void)state;
    ls_metrics roomy, starved;
    whole_run("vllm-v1", "round-robin", 1, 1, 0, "round-robin", &roomy);
    whole_run("vllm-v1", "least-outstanding", 2, 1, 0, "least-kv", NULL);
    whole_run("sarathi", "least-kv", 1, 2, 0, "least-outstanding", NULL);
    whole_run("vllm-v0", "round-robin", 2, 2, 0, "round-robin", NULL);
    whole_run("vllm-v1", "round-robin", 2, 1, 0, "least-kv\n  kv_transfer: {mode: layerwise, link: network}", NULL);
    /* fair sharing and host staging under load: every request once, tokens conserved; 2P2D over a slow
     * configured network so transfers overlap */
    ls_metrics fifo, fair;
    whole_run("vllm-v1", "round-robin", 2, 2, 0, "least-kv\n  kv_transfer: {link: network, bandwidth_gbps: 0.5}", &fifo);
    whole_run("vllm-v1", "round-robin", 2, 2, 0,
              "least-kv\n  kv_transfer: {link: network, bandwidth_gbps: 0.5, sharing: fair}", &fair);
    assert_true(fair.v[LS_M_KV_TRANSFER_MEAN_S] != fifo.v[LS_M_KV_TRANSFER_MEAN_S]);
    whole_run("vllm-v1", "round-robin", 2, 2, 0, "least-kv\n  kv_transfer: {link: host, host_link: pcie5, sharing: fair}",
              NULL);
    /* a decode side of 400 blocks (6,400 tokens): requests wait for its KV space before the transfer */
    whole_run("vllm-v1", "round-robin", 1, 1, 400, "round-robin", &starved);
    assert_true(starved.v[LS_M_KV_TRANSFER_MEAN_S] > 10 * starved.v[LS_M_KV_WIRE_MEAN_S]);
    assert_true(starved.v[LS_M_KV_TRANSFER_MEAN_S] > 10 * roomy.v[LS_M_KV_TRANSFER_MEAN_S]);
    assert_true(starved.v[LS_M_DECODE_KV_USAGE_MAX] > 0.9);
}

static void test_determinism(void **state)
{
    (void)state;
    ls_metrics a, b;
    whole_run("vllm-v1", "least-kv", 2, 2, 600, "least-kv", &a);
    whole_run("vllm-v1", "least-kv", 2, 2, 600, "least-kv", &b);
    a.v[LS_M_WALL_TIME_S] = b.v[LS_M_WALL_TIME_S] = 0;
    assert_memory_equal(a.v, b.v, sizeof a.v);
}

/* Different GPUs per pool: a node each, so the KV crosses the network. */
static void test_heterogeneous(void **state)
{
    (void)state;
    char text[2048];
    snprintf(text, sizeof text, one_text, "tp4, hardware: b200", "tp4, hardware: h200", "{}", 1000);
    ls_run_config *c = load(text);
    assert_int_equal(c->pools->pool[LS_ROLE_PREFILL].first_gpu, 0);
    assert_int_equal(c->pools->pool[LS_ROLE_DECODE].first_gpu, 8);
    double bw, lat;
    ls_pools_link(c->pools, 0, 0, &bw, &lat);
    assert_true(fabs(bw - 50e9) < 1 && fabs(lat - 5e-6) < 1e-15);
    assert_true(fabs(ls_pools_transfer_s(c->pools, 0, 0, 1000) - (5e-6 + 1008.0 * 81920.0 / 50e9)) < 1e-15);
    ls_config_row row;
    ls_config_get_row(c, &row);
    assert_string_equal(row.hardware, "b200/h200");
    assert_int_equal(row.n_gpus, 8);
    ls_metrics m;
    ls_error e;
    assert_int_equal(ls_run(c, NULL, &m, &e), LS_OK);
    assert_true(fabs(m.v[LS_M_TTFT_MEAN_S] - (0.1 + 5e-6 + 1008.0 * 81920.0 / 50e9)) < 1e-12);
    ls_config_free(c);
}

/* The configuration row says what was simulated. */
static void test_row(void **state)
{
    (void)state;
    char text[2048];
    snprintf(text, sizeof text, one_text, "tp2", "tp4", "{}", 100);
    ls_run_config *c = load(text);
    ls_config_row row;
    ls_config_get_row(c, &row);
    assert_string_equal(row.parallelism, "1P-tp2+1D-tp4");
    assert_string_equal(row.hardware, "h100-sxm");
    assert_int_equal(row.n_gpus, 6);
    ls_run_config *d = ls_config_clone(c);
    ls_config_free(c);
    ls_config_get_row(d, &row);
    assert_int_equal(row.n_gpus, 6);
    ls_config_free(d);
}

static void expect_error(const char *text, const char *n1, const char *n2)
{
    ls_run_config *c = NULL;
    ls_error e;
    ls_status rc = load_text(text, &c, &e);
    if (rc == LS_OK) {
        print_error("accepted:\n%s\n", text);
        ls_config_free(c);
        fail();
    }
    if (!strstr(e.msg, n1) || (n2 && !strstr(e.msg, n2))) {
        print_error("message '%s' lacks '%s' / '%s'\n", e.msg, n1, n2 ? n2 : "");
        fail();
    }
}

static void test_errors(void **state)
{
    (void)state;
    static const char *const head =
        "model: llama-3.1-70b\n"
        "cluster: %s\n"
        "dtype: {weights: fp8, kv: bf16}\n"
        "disaggregation:\n"
        "  prefill: %s\n"
        "  decode: %s\n"
        "  kv_transfer: %s\n"
        "workload: {arrival: {process: poisson, rate: 1}, prompt_tokens: {dist: fixed, value: 10}, "
        "output_tokens: {dist: fixed, value: 10}, duration_s: 1}\n";
    char t[2048];
#define BAD(cl, p, d, x, n1, n2)                        \
    do {                                                \
        snprintf(t, sizeof t, head, cl, p, d, x);       \
        expect_error(t, n1, n2);                        \
    } while (0)
    const char *ok = "{replicas: 1, parallelism: tp4}";
    /* zero replicas on either side */
    BAD("dgx-h100", "{replicas: 0, parallelism: tp4}", ok, "{}", "pd.yaml:5: disaggregation.prefill.replicas",
        "got 0");
    BAD("dgx-h100", ok, "{replicas: 0, parallelism: tp4}", "{}", "pd.yaml:6: disaggregation.decode.replicas",
        "got 0");
    /* weights that do not fit: 70B in BF16 on one 80 GB GPU */
    BAD("dgx-h100", ok, "{replicas: 1, parallelism: tp1}", "{}", "pd.yaml:6: disaggregation.decode",
        "weights 70.6 GB");
    /* a link that does not exist: NVLink between nodes, a network on a single node, an unknown name */
    BAD("dgx-h100", "{replicas: 1, parallelism: tp8}", ok, "{link: nvlink}", "pd.yaml:7: disaggregation.kv_transfer.link",
        "not in one node");
    BAD("{base: dgx-h100, max_nodes: 1}", ok, ok, "{link: network}", "pd.yaml:7: disaggregation.kv_transfer.link",
        "no network");
    BAD("gh200-single", "{replicas: 1, parallelism: tp1, hardware: gh200-144gb}",
        "{replicas: 1, parallelism: tp1, hardware: gh200-144gb}", "{link: nvlink}", "pd.yaml:7", "no NVLink");
    BAD("dgx-h100", ok, ok, "{link: pcie}", "pd.yaml:7: disaggregation.kv_transfer.link", "unknown link 'pcie'");
    BAD("dgx-h100", ok, ok, "{bandwidth_gbps: 0}", "pd.yaml:7: disaggregation.kv_transfer.bandwidth_gbps", "> 0");
    BAD("dgx-h100", ok, ok, "{mode: pipelined}", "pd.yaml:7: disaggregation.kv_transfer.mode", "layerwise");
    BAD("dgx-h100", ok, ok, "{speed: 1}", "pd.yaml:7", "unknown key 'disaggregation.kv_transfer.speed'");
    /* host staging: the GPU-host link must be named on x86 and reach the host; not layer-wise */
    BAD("dgx-h100", ok, ok, "{link: host}", "pd.yaml:7: disaggregation.kv_transfer.host_link",
        "missing: the prefill pool's h100-sxm has an x86 host");
    BAD("dgx-h100", ok, ok, "{link: host, host_link: c2c}", "pd.yaml:7: disaggregation.kv_transfer.host_link",
        "c2c does not reach the x86 host");
    BAD("dgx-h100", ok, ok, "{link: host, host_link: pcie9}", "pd.yaml:7", "unknown link 'pcie9'");
    BAD("dgx-h100", ok, ok, "{host_link: pcie5}", "pd.yaml:7", "only with link: host");
    BAD("dgx-h100", ok, ok, "{link: host, host_link: pcie5, mode: layerwise}", "pd.yaml:7", "not with link: host");
    BAD("gh200-single", "{replicas: 1, parallelism: tp1, hardware: gh200-144gb}",
        "{replicas: 1, parallelism: tp1, hardware: gh200-144gb}", "{link: host, host_link: pcie5}", "pd.yaml:7",
        "pcie5 does not reach the Grace hosts");
    BAD("dgx-h100", ok, ok, "{sharing: lottery}", "pd.yaml:7: disaggregation.kv_transfer.sharing", "unknown rule");
    BAD("dgx-h100", ok, ok, "{sharing: fair, mode: layerwise}", "pd.yaml:7", "not layerwise");
    /* the pools do not fit the cluster; different GPUs need nodes of their own */
    BAD("{base: dgx-h100, max_nodes: 1}", "{replicas: 1, parallelism: tp4}", "{replicas: 2, parallelism: tp4}", "{}",
        "pd.yaml:5: disaggregation", "need 12 GPUs");
    BAD("{base: dgx-h100, max_nodes: 1}", ok, "{replicas: 1, parallelism: tp4, hardware: h200}", "{}",
        "pd.yaml:5: disaggregation", "separate nodes");
    /* keys of a pool: everything the aggregated path checks */
    BAD("dgx-h100", "{replicas: 1, parallelism: tp4dp2}", ok, "{}", "pd.yaml:5: disaggregation.prefill.parallelism",
        "replicas");
    BAD("dgx-h100", "{replicas: 1, parallelism: tp3}", ok, "{}", "disaggregation.prefill", "tp 3 does not fit");
    BAD("dgx-h100", "{replicas: 1, hardware: h900}", ok, "{}", "disaggregation.prefill", "h900");
    BAD("dgx-h100", "{replica: 1}", ok, "{}", "pd.yaml:5", "unknown key 'disaggregation.prefill.replica'");
    BAD("dgx-h100", "{replicas: 1, parallelism: tp4, scheduler: {policy: fifo}}", ok, "{}", "disaggregation.prefill",
        "unknown policy 'fifo'");
    /* a missing side */
    snprintf(t, sizeof t,
             "model: llama-3.1-70b\ndisaggregation:\n  prefill: {parallelism: tp4}\n"
             "workload: {arrival: {process: poisson, rate: 1}, prompt_tokens: {dist: fixed, value: 10}, "
             "output_tokens: {dist: fixed, value: 10}, duration_s: 1}\n");
    expect_error(t, "pd.yaml:3: disaggregation", "missing key 'decode'");
#undef BAD
}

/* disaggregation: null is aggregated serving (a sweep axis can switch it off). */
static void test_null_is_aggregated(void **state)
{
    (void)state;
    ls_run_config *c = load("model: llama-3-8b\nparallelism: tp1\ndisaggregation: null\n"
                            "workload: {arrival: {process: poisson, rate: 1}, prompt_tokens: {dist: fixed, value: 10}, "
                            "output_tokens: {dist: fixed, value: 10}, duration_s: 1}\n");
    assert_null(c->pools);
    ls_metrics m;
    ls_error e;
    assert_int_equal(ls_run(c, NULL, &m, &e), LS_OK);
    assert_true(isnan(m.v[LS_M_KV_TRANSFER_MEAN_S]) && isnan(m.v[LS_M_PREFILL_UTILIZATION]));
    ls_config_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_computed), cmocka_unit_test(test_c2c_staging), cmocka_unit_test(test_sharing), cmocka_unit_test(test_split_clusters), cmocka_unit_test(test_whole_runs),
        cmocka_unit_test(test_determinism),   cmocka_unit_test(test_row),
        cmocka_unit_test(test_errors),        cmocka_unit_test(test_null_is_aggregated),
        cmocka_unit_test(test_decode_replica), cmocka_unit_test(test_heterogeneous),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
