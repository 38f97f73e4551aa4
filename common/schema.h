/* schema.h -- the result schema, defined once.
 *
 * Every metric that `llmsweep run --json` prints, every column of the sweep's
 * HDF5 /results and /configs datasets, and every column the report reads is
 * listed here, with its unit and meaning. The JSON writer, the HDF5 writer,
 * the documentation generator (`llmsweep schema`) and the report all iterate
 * these tables, so a name cannot drift between them.
 *
 * Naming: <metric>_<stat>, with the unit in the name where it is not a count
 * (ttft_p99_s, output_tps). Values are doubles in memory; columns of type
 * LS_COL_I64 are written as 64-bit integers. A metric that is undefined for a
 * run (no completed request, capacity not searched) is NaN (JSON null).
 */
#ifndef LS_SCHEMA_H
#define LS_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

typedef enum ls_col_type { LS_COL_F64, LS_COL_I64, LS_COL_STR } ls_col_type;

/* Version of the columns below, written as the result file's `schema_version`
 * attribute. Readers take columns by name (a missing one reads as NaN), so
 * older files stay readable. 1: files without the attribute; 2: the
 * disaggregated prefill/decode columns (kv_transfer_* ... decode_kv_usage_max); 3: the
 * configuration's ep and dp_sync_wait_frac; 4: the /requests column class (older files' rows
 * read as -1); 5: the swap columns (preemption_mode, n_swap_outs ... swap_link_s); 6: capacity_fail_rps
 * (older files read NaN: a capacity of 0 there says nothing of the rate it was missed at). */
#define LS_SCHEMA_VERSION 6

/* The percentiles reported for each per-request latency. */
#define LS_LATENCY_STATS(X, M, m, desc)                                                        \
    X(M##_MEAN_S, #m "_mean_s", LS_COL_F64, "s", "mean " desc)                                   \
    X(M##_P50_S, #m "_p50_s", LS_COL_F64, "s", "median " desc)                                   \
    X(M##_P90_S, #m "_p90_s", LS_COL_F64, "s", "90th percentile " desc)                          \
    X(M##_P95_S, #m "_p95_s", LS_COL_F64, "s", "95th percentile " desc)                          \
    X(M##_P99_S, #m "_p99_s", LS_COL_F64, "s", "99th percentile " desc)

/* Per-class columns: a fixed LS_SCHEMA_CLASSES groups (trace.h's
 * LS_MAX_CLASSES, asserted in replay/class_metrics.c), class k being the k-th
 * entry of the workload's `classes:` (its name in the /configs column
 * `classes`); NaN for classes the workload does not define. The row stays
 * bounded whatever the workload. */
#define LS_SCHEMA_CLASSES 4
#define LS_CLASS_STATS(X, K)                                                                        \
    X(C##K##_N_REQUESTS, "class" #K "_n_requests", LS_COL_I64, "count", "class " #K ": requests that arrived") \
    X(C##K##_N_COMPLETED, "class" #K "_n_completed", LS_COL_I64, "count", "class " #K ": requests completed") \
    X(C##K##_TTFT_P50_S, "class" #K "_ttft_p50_s", LS_COL_F64, "s", "class " #K ": median TTFT, completed requests") \
    X(C##K##_TTFT_P99_S, "class" #K "_ttft_p99_s", LS_COL_F64, "s", "class " #K ": 99th percentile TTFT") \
    X(C##K##_TPOT_P50_S, "class" #K "_tpot_p50_s", LS_COL_F64, "s", "class " #K ": median TPOT, completed requests with >1 output token") \
    X(C##K##_TPOT_P99_S, "class" #K "_tpot_p99_s", LS_COL_F64, "s", "class " #K ": 99th percentile TPOT") \
    X(C##K##_GOODPUT_RPS, "class" #K "_goodput_rps", LS_COL_F64, "1/s", "class " #K ": completed requests per second within the class's SLO (its slo:, else the run's), over the run's span") \
    X(C##K##_SLO_ATTAINMENT, "class" #K "_slo_attainment", LS_COL_F64, "fraction", "class " #K ": share of its requests completed within its SLO")

/* X(ENUM, name, type, unit, description) */
#define LS_METRICS(X)                                                                              \
    LS_LATENCY_STATS(X, TTFT, ttft, "time to first token: arrival to first output token, completed requests") \
    LS_LATENCY_STATS(X, TPOT, tpot, "time per output token: (e2e - ttft)/(output tokens - 1), completed requests with >1 output token") \
    LS_LATENCY_STATS(X, ITL, itl, "inter-token latency: every gap between consecutive output tokens (token-weighted; log-histogram, <=1% relative error)") \
    LS_LATENCY_STATS(X, E2E, e2e, "end-to-end latency: arrival to last token, completed requests") \
    LS_LATENCY_STATS(X, QUEUE, queue, "queueing delay: arrival to first scheduled, requests that were scheduled") \
    X(THROUGHPUT_RPS, "throughput_rps", LS_COL_F64, "1/s", "completed requests per second of simulated time (first arrival to last completion)") \
    X(OUTPUT_TPS, "output_tps", LS_COL_F64, "tokens/s", "output tokens of completed requests per second") \
    X(TOTAL_TPS, "total_tps", LS_COL_F64, "tokens/s", "prompt + output tokens of completed requests per second") \
    X(GOODPUT_RPS, "goodput_rps", LS_COL_F64, "1/s", "completed requests per second that met every SLO (TTFT and TPOT limits)") \
    X(SLO_ATTAINMENT, "slo_attainment", LS_COL_F64, "fraction", "share of all requests that completed within every SLO") \
    X(SUCCESS_RATE, "success_rate", LS_COL_F64, "fraction", "completed requests / all requests") \
    X(N_REQUESTS, "n_requests", LS_COL_I64, "count", "requests that arrived") \
    X(N_COMPLETED, "n_completed", LS_COL_I64, "count", "requests that produced all their output tokens") \
    X(N_REJECTED_TOO_LONG, "n_rejected_too_long", LS_COL_I64, "count", "requests rejected at arrival: prompt longer than max_model_len (or, vllm-v0, than the token budget)") \
    X(N_REJECTED_KV, "n_rejected_kv", LS_COL_I64, "count", "requests rejected because they can never fit in the KV cache") \
    X(N_TIMEOUT, "n_timeout", LS_COL_I64, "count", "requests abandoned after the client timeout") \
    X(N_UNFINISHED, "n_unfinished", LS_COL_I64, "count", "requests still queued or running when the simulation stopped") \
    X(N_PREEMPTIONS, "n_preemptions", LS_COL_I64, "count", "preemptions (by recompute or swap) over all requests") \
    X(RECOMPUTED_TOKENS, "recomputed_tokens", LS_COL_I64, "tokens", "tokens computed again after preemption") \
    X(MEAN_BATCH_SIZE, "mean_batch_size", LS_COL_F64, "requests", "mean number of requests per iteration") \
    X(MEAN_BATCH_TOKENS, "mean_batch_tokens", LS_COL_F64, "tokens", "mean number of tokens per iteration") \
    X(KV_USAGE_MEAN, "kv_usage_mean", LS_COL_F64, "fraction", "time-weighted mean share of KV blocks in use") \
    X(KV_USAGE_MAX, "kv_usage_max", LS_COL_F64, "fraction", "largest share of KV blocks in use") \
    X(PREFIX_HIT_RATE, "prefix_hit_rate", LS_COL_F64, "fraction", "prompt tokens served from the prefix cache / prompt tokens looked up, first admissions only (as vLLM; NaN when prefix caching is off)") \
    X(PREFIX_CACHED_TOKENS_MEAN, "prefix_cached_tokens_mean", LS_COL_F64, "tokens", "prompt tokens served from the prefix cache per request looked up (NaN when prefix caching is off)") \
    X(PREFIX_EVICTED_BLOCKS, "prefix_evicted_blocks", LS_COL_I64, "blocks", "cached KV blocks evicted (LRU) to be reused, over all replicas (NaN when prefix caching is off)") \
    X(OFFLOAD_HIT_RATE, "offload_hit_rate", LS_COL_F64, "fraction", "prompt tokens loaded from the host KV tier (kv_offload) / prompt tokens looked up, first admissions (NaN without a tier)") \
    X(OFFLOAD_BLOCKS_LOADED, "offload_blocks_loaded", LS_COL_I64, "blocks", "KV blocks copied host -> GPU, over all replicas (NaN without a tier)") \
    X(OFFLOAD_BLOCKS_STORED, "offload_blocks_stored", LS_COL_I64, "blocks", "KV blocks copied GPU -> host (write-through), over all replicas (NaN without a tier)") \
    X(OFFLOAD_LINK_S, "offload_link_s", LS_COL_F64, "s", "link time of those copies on each GPU, summed over steps and replicas (NaN without a tier)") \
    X(N_SWAP_OUTS, "n_swap_outs", LS_COL_I64, "count", "preemptions by swap: a request's KV blocks copied to the host swap space (NaN when preemption_mode is recompute)") \
    X(N_SWAP_INS, "n_swap_ins", LS_COL_I64, "count", "swapped-out requests whose KV blocks were copied back to resume (NaN when preemption_mode is recompute)") \
    X(N_SWAP_FALLBACKS, "n_swap_fallbacks", LS_COL_I64, "count", "preemptions by recompute because the swap space was full (vLLM V0 aborts there; NaN when preemption_mode is recompute)") \
    X(SWAP_OUT_GB, "swap_out_gb", LS_COL_F64, "GB", "KV bytes swapped out, over all GPUs and replicas, in 1e9 bytes (NaN when preemption_mode is recompute)") \
    X(SWAP_IN_GB, "swap_in_gb", LS_COL_F64, "GB", "KV bytes swapped back in, over all GPUs and replicas, in 1e9 bytes (NaN when preemption_mode is recompute)") \
    X(SWAP_LINK_S, "swap_link_s", LS_COL_F64, "s", "link time of the swaps on each GPU, in series with the steps that made them, summed over steps and replicas (NaN when preemption_mode is recompute)") \
    X(MFU_MEAN, "mfu_mean", LS_COL_F64, "fraction", "estimated model FLOPs utilisation, busy-time weighted, over all GPUs") \
    X(MBU_MEAN, "mbu_mean", LS_COL_F64, "fraction", "estimated memory-bandwidth utilisation, busy-time weighted") \
    X(MAX_NUM_BATCHED_TOKENS, "max_num_batched_tokens", LS_COL_I64, "tokens", "token budget per iteration actually used (resolved when 'auto')") \
    X(KV_BLOCKS, "kv_blocks", LS_COL_I64, "blocks", "KV-cache blocks per replica (16 tokens each by default)") \
    X(WEIGHTS_GB_PER_GPU, "weights_gb_per_gpu", LS_COL_F64, "GB", "weight bytes on the most loaded GPU, in 1e9 bytes") \
    X(ACTIVATION_GB_PER_GPU, "activation_gb_per_gpu", LS_COL_F64, "GB", "peak activation of the engine's profile run (forward + sampler), tightest stage's GPU") \
    X(NON_TORCH_GB_PER_GPU, "non_torch_gb_per_gpu", LS_COL_F64, "GB", "memory outside the framework's allocator (workspaces, NCCL, CUDA context), per GPU") \
    X(GRAPHS_GB_PER_GPU, "graphs_gb_per_gpu", LS_COL_F64, "GB", "CUDA-graph memory the engine sets aside, per GPU") \
    X(KV_CACHE_GB_PER_GPU, "kv_cache_gb_per_gpu", LS_COL_F64, "GB", "bytes left for the KV cache on the tightest stage's GPU") \
    X(N_GPUS, "n_gpus", LS_COL_I64, "count", "GPUs used: tp * pp * dp") \
    X(CAPACITY_RPS, "capacity_rps", LS_COL_F64, "1/s", "highest arrival rate meeting the SLO (capacity search; NaN when not searched)") \
    X(CAPACITY_FAIL_RPS, "capacity_fail_rps", LS_COL_F64, "1/s", "lowest arrival rate the capacity search found to miss the SLO: the capacity lies in [capacity_rps, capacity_fail_rps), so a capacity_rps of 0 means below this rate (the search's floor, capacity.floor, or the lowest rate it probes); NaN when not searched or none missed") \
    X(SIM_TIME_S, "sim_time_s", LS_COL_F64, "s", "simulated time from first arrival to end of simulation") \
    X(WALL_TIME_S, "wall_time_s", LS_COL_F64, "s", "wall-clock time the simulation took") \
    X(ITERATIONS, "iterations", LS_COL_I64, "count", "engine iterations simulated, over all replicas and stages") \
    X(EVENTS, "events", LS_COL_I64, "count", "discrete events processed") \
    LS_LATENCY_STATS(X, KV_TRANSFER, kv_transfer, "KV handoff of disaggregated serving: prefill instance's first token to the prompt KV on the decode instance (waiting for decode KV space and the link, and the wire), completed requests; NaN when aggregated") \
    X(KV_WIRE_MEAN_S, "kv_wire_mean_s", LS_COL_F64, "s", "mean time the prompt KV spends on the link (disaggregated; NaN when aggregated)") \
    X(PREFILL_TTFT_MEAN_S, "prefill_ttft_mean_s", LS_COL_F64, "s", "mean arrival to the prefill instance's first token (queue + prefill), completed requests (disaggregated)") \
    X(DECODE_FIRST_TOKEN_MEAN_S, "decode_first_token_mean_s", LS_COL_F64, "s", "mean KV arrival on the decode instance to its first token (queue + one step), completed requests (disaggregated)") \
    X(PREFILL_UTILIZATION, "prefill_utilization", LS_COL_F64, "fraction", "busy share of the prefill instances over the simulated time (disaggregated)") \
    X(DECODE_UTILIZATION, "decode_utilization", LS_COL_F64, "fraction", "busy share of the decode instances over the simulated time (disaggregated)") \
    X(DECODE_KV_USAGE_MEAN, "decode_kv_usage_mean", LS_COL_F64, "fraction", "time-weighted mean share of the decode instances' KV blocks in use, incl. blocks reserved for KV in transit (disaggregated)") \
    X(DECODE_KV_USAGE_MAX, "decode_kv_usage_max", LS_COL_F64, "fraction", "largest share of a decode instance's KV blocks in use (disaggregated)") \
    X(SPEC_ACCEPTANCE_RATE, "spec_acceptance_rate", LS_COL_F64, "fraction", "speculative decoding: accepted drafts over drafted tokens, completed requests (NaN when off)") \
    X(SPEC_MEAN_ACCEPTED_TOKENS, "spec_mean_accepted_tokens", LS_COL_F64, "tokens", "speculative decoding: tokens per verification step, 1 + accepted / rounds (vLLM's mean acceptance length; NaN when off)") \
    X(SPEC_TPOT_GAIN, "spec_tpot_gain", LS_COL_F64, "ratio", "speculative decoding: mean TPOT of the same configuration without speculation (same load and seed) over this one's, > 1 when speculation helps; llmsweep run fills it by running that baseline, a sweep writes NaN and the report pairs its rows (common/spec_gain.h)") \
    X(SPEC_TTFT_GAIN, "spec_ttft_gain", LS_COL_F64, "ratio", "speculative decoding: mean TTFT without speculation over mean TTFT with it (same baseline as spec_tpot_gain)") \
    X(SPEC_THROUGHPUT_GAIN, "spec_throughput_gain", LS_COL_F64, "ratio", "speculative decoding: output tokens/s with speculation over without it (same baseline as spec_tpot_gain)") \
    LS_CLASS_STATS(X, 0) LS_CLASS_STATS(X, 1) LS_CLASS_STATS(X, 2) LS_CLASS_STATS(X, 3) \
    X(DP_SYNC_WAIT_FRAC, "dp_sync_wait_frac", LS_COL_F64, "fraction", "DP lockstep (dp attention + ep): share of the ranks' step time spent waiting for the group's slowest rank (NaN when the ranks are independent)") \
    X(MIX_LONG_SHARE, "mix_long_share", LS_COL_F64, "fraction", "mixed replicas: share of the requests served by the replicas built for long prompts (NaN without a replicas: list)") \
    X(MIX_LONG_UTILIZATION, "mix_long_utilization", LS_COL_F64, "fraction", "mixed replicas: busy share of the long-prompt replicas over the simulated time (NaN without a replicas: list)") \
    X(MIX_SHORT_UTILIZATION, "mix_short_utilization", LS_COL_F64, "fraction", "mixed replicas: busy share of the other replicas over the simulated time (NaN without a replicas: list or without short replicas)") \
    X(MIX_LONG_TTFT_P99_S, "mix_long_ttft_p99_s", LS_COL_F64, "s", "mixed replicas: 99th percentile TTFT of the completed requests served by the long-prompt replicas") \
    X(MIX_SHORT_TTFT_P99_S, "mix_short_ttft_p99_s", LS_COL_F64, "s", "mixed replicas: 99th percentile TTFT of the completed requests served by the other replicas") \
    X(MIX_LONG_TPOT_P99_S, "mix_long_tpot_p99_s", LS_COL_F64, "s", "mixed replicas: 99th percentile TPOT of the completed requests served by the long-prompt replicas") \
    X(MIX_SHORT_TPOT_P99_S, "mix_short_tpot_p99_s", LS_COL_F64, "s", "mixed replicas: 99th percentile TPOT of the completed requests served by the other replicas")

typedef enum ls_metric_id {
#define LS_X_ENUM(E, name, type, unit, desc) LS_M_##E,
    LS_METRICS(LS_X_ENUM)
#undef LS_X_ENUM
    LS_METRIC_COUNT
} ls_metric_id;

typedef struct ls_column {
    const char *name;
    ls_col_type type;
    const char *unit;
    const char *description;
} ls_column;

/* The metric columns, indexed by ls_metric_id. */
extern const ls_column ls_metric_columns[LS_METRIC_COUNT];

/* Outcome of one configuration. */
typedef enum ls_run_status { LS_RUN_OK = 0, LS_RUN_INFEASIBLE = 1, LS_RUN_ERROR = 2 } ls_run_status;
const char *ls_run_status_name(ls_run_status s);  /* "ok", "infeasible", "error" */
int ls_run_status_parse(const char *s);          /* -1 when unknown */

#define LS_MESSAGE_MAX 256

/* The result of one configuration: status, a one-line message (why it is
 * infeasible, what failed), and every metric. */
typedef struct ls_metrics {
    ls_run_status status;
    char message[LS_MESSAGE_MAX];
    double v[LS_METRIC_COUNT];
} ls_metrics;

/* Set every metric to NaN, status ok, empty message. */
void ls_metrics_init(ls_metrics *m);

/* Index of a metric by name, or -1. */
int ls_metric_find(const char *name);

/* ---- configuration columns (/configs) -------------------------------------
 * One row per configuration of a sweep: what was simulated, flattened so that
 * every grid axis is a readable column. Strings are fixed-width (NUL-padded). */

#define LS_CFG_STR 64
#define LS_CFG_LONGSTR 160

/* X(field, type, c-type-size, unit, description) */
#define LS_CONFIG_COLUMNS(X)                                                                        \
    X(model, LS_COL_STR, LS_CFG_STR, "", "model catalog name")                                       \
    X(hardware, LS_COL_STR, LS_CFG_STR, "", "GPU catalog name")                                     \
    X(cluster, LS_COL_STR, LS_CFG_STR, "", "cluster/topology name")                                 \
    X(parallelism, LS_COL_STR, LS_CFG_STR, "", "strategy string, e.g. tp4pp2")                      \
    X(tp, LS_COL_I64, 0, "count", "tensor-parallel degree")                                         \
    X(pp, LS_COL_I64, 0, "count", "pipeline-parallel degree")                                       \
    X(dp, LS_COL_I64, 0, "count", "data-parallel replicas")                                         \
    X(ep, LS_COL_I64, 0, "count", "expert-parallel degree (1: routed experts TP-sharded)")          \
    X(n_gpus, LS_COL_I64, 0, "count", "tp * pp * dp")                                               \
    X(dtype_weights, LS_COL_STR, LS_CFG_STR, "", "weight dtype (bf16, fp8)")                        \
    X(dtype_kv, LS_COL_STR, LS_CFG_STR, "", "KV-cache dtype (bf16, fp8)")                           \
    X(policy, LS_COL_STR, LS_CFG_STR, "", "scheduler policy (vllm-v1, vllm-v0, sarathi)")           \
    X(engine, LS_COL_STR, LS_CFG_STR, "", "serving-engine profile: memory rule (vllm-v1, vllm-v0, trtllm, sglang)") \
    X(enable_chunked_prefill, LS_COL_I64, 0, "bool", "chunked prefill on (1) or off (0)")           \
    X(prefill_chunk_size, LS_COL_I64, 0, "tokens", "long_prefill_token_threshold (0 = none)")       \
    X(enable_prefix_caching, LS_COL_I64, 0, "bool", "automatic prefix caching on (1) or off (0)")   \
    X(kv_offload, LS_COL_STR, LS_CFG_STR, "", "host KV tier: 'none' or 'TIER CAPACITY_GB LINK' (grace 400 c2c)") \
    X(cpu_offload_gb, LS_COL_F64, 0, "GB", "weights per GPU kept in host memory and read over the link each step (0 = none)") \
    X(preemption_mode, LS_COL_STR, LS_CFG_STR, "", "'recompute', or 'swap SPACE_GB_PER_GPU LINK' (swap 4 pcie5; vllm-v0)") \
    X(max_batched_tokens, LS_COL_STR, LS_CFG_STR, "", "token budget as configured ('auto' or a number)") \
    X(max_num_seqs, LS_COL_I64, 0, "count", "maximum running requests per replica")                 \
    X(max_model_len, LS_COL_I64, 0, "tokens", "maximum context length")                            \
    X(gpu_memory_utilization, LS_COL_F64, 0, "fraction", "the engine's memory fraction (vLLM: share of device memory; trtllm: kv_cache_free_gpu_mem_fraction; sglang: mem_fraction_static, NaN = derived)") \
    X(router, LS_COL_STR, LS_CFG_STR, "", "router policy across DP replicas")                       \
    X(workload, LS_COL_STR, LS_CFG_LONGSTR, "", "trace file, or 'synthetic'")                       \
    X(arrival_process, LS_COL_STR, LS_CFG_STR, "", "poisson, gamma, constant, trace")              \
    X(arrival_rate, LS_COL_F64, 0, "1/s", "mean arrival rate asked for (NaN when replaying trace times)") \
    X(arrival_cv, LS_COL_F64, 0, "", "coefficient of variation of gaps (gamma)")                    \
    X(prompt_dist, LS_COL_STR, LS_CFG_LONGSTR, "", "prompt-length distribution, canonical text")   \
    X(output_dist, LS_COL_STR, LS_CFG_LONGSTR, "", "output-length distribution, canonical text")    \
    X(duration_s, LS_COL_F64, 0, "s", "arrival window")                                             \
    X(seed, LS_COL_I64, 0, "", "random seed")                                                       \
    X(slo_ttft_s, LS_COL_F64, 0, "s", "TTFT limit of the SLO")                                      \
    X(slo_tpot_s, LS_COL_F64, 0, "s", "TPOT limit of the SLO")                                      \
    X(speculative, LS_COL_STR, LS_CFG_STR, "", "speculative decoding: none, or method, k, acceptance (eagle k3 a0.7)") \
    X(order, LS_COL_STR, LS_CFG_STR, "", "scheduler order of waiting requests: fcfs, sjf or priority") \
    X(adaptive_budget, LS_COL_I64, 0, "bool", "per-step token budget targeting target_tbt_s (1) or the fixed budget (0)") \
    X(step_mode, LS_COL_STR, LS_CFG_STR, "", "how steps follow each other: async (per-sequence host time hidden behind the GPU; engine vllm-v1's default), sync or 'multi-step N' (vLLM V0)") \
    X(classes, LS_COL_STR, LS_CFG_LONGSTR, "", "request classes in index order: name:share:priority each, space-separated (empty: none)")

typedef struct ls_config_row {
#define LS_X_FIELD_LS_COL_STR(f, n) char f[n];
#define LS_X_FIELD_LS_COL_I64(f, n) int64_t f;
#define LS_X_FIELD_LS_COL_F64(f, n) double f;
#define LS_X_FIELD(f, type, n, unit, desc) LS_X_FIELD_##type(f, n)
    LS_CONFIG_COLUMNS(LS_X_FIELD)
#undef LS_X_FIELD
} ls_config_row;

typedef struct ls_config_column {
    const char *name;
    ls_col_type type;
    size_t offset;   /* into ls_config_row */
    size_t size;     /* bytes */
    const char *unit;
    const char *description;
} ls_config_column;

#define LS_CONFIG_COLUMN_COUNT 39
extern const ls_config_column ls_config_columns[LS_CONFIG_COLUMN_COUNT];

/* ---- per-request rows ----------------------------------------------------------
 * One row per request at its final status: `llmsweep run --requests-out FILE`
 * (CSV, or HDF5 /requests) and a sweep's /requests (`--requests`, after a
 * config_id). The CSV writer, the HDF5 writer and `llmsweep schema` iterate
 * ls_request_columns, in this order; the row in memory is ls_request_result
 * (its layout has no padding; the table's offsets are taken from it, so a
 * field and its column cannot drift apart). */
typedef struct ls_request_result {
    int64_t index;            /* position in the request stream */
    int32_t replica;
    int32_t prompt_tokens, output_tokens; /* output_tokens: as requested (the trace's, uncapped) */
    int32_t status;           /* ls_req_status */
    int32_t preemptions;
    int32_t generated_tokens; /* output tokens produced; when completed, output_tokens capped so that
                                 prompt + output <= max_model_len */
    int32_t class_id;         /* request class: index into the workload's classes; -1 when it defines none */
    int32_t reserved;         /* 0, no column: keeps the row free of padding (every byte written is set) */
    double arrival_s, first_scheduled_s, first_token_s, finish_s; /* NaN when it never happened */
} ls_request_result;

typedef enum ls_req_col_type { LS_RQ_I64, LS_RQ_I32, LS_RQ_F64 } ls_req_col_type;
/* How the CSV writes a column: the number, or the name it stands for (HDF5 always has the number). */
typedef enum ls_req_col_text { LS_RQ_NUMBER, LS_RQ_STATUS_NAME, LS_RQ_CLASS_NAME } ls_req_col_text;

/* X(field, name, type, text, unit, description) */
#define LS_REQUEST_COLUMNS(X)                                                                        \
    X(index, "index", LS_RQ_I64, LS_RQ_NUMBER, "", "position of the request in the workload stream") \
    X(replica, "replica", LS_RQ_I32, LS_RQ_NUMBER, "", "data-parallel replica that served it")       \
    X(prompt_tokens, "prompt_tokens", LS_RQ_I32, LS_RQ_NUMBER, "tokens", "prompt length")             \
    X(output_tokens, "output_tokens", LS_RQ_I32, LS_RQ_NUMBER, "tokens", "output length asked for")   \
    X(status, "status", LS_RQ_I32, LS_RQ_STATUS_NAME, "",                                            \
      "0 completed, 1 rejected (too long), 2 rejected (KV), 3 timeout, 4 unfinished (CSV: the name)") \
    X(preemptions, "preemptions", LS_RQ_I32, LS_RQ_NUMBER, "count", "times preempted (recompute)")   \
    X(generated_tokens, "generated_tokens", LS_RQ_I32, LS_RQ_NUMBER, "tokens", "output tokens produced") \
    X(arrival_s, "arrival_s", LS_RQ_F64, LS_RQ_NUMBER, "s", "arrival time (NaN when it never happened)") \
    X(first_scheduled_s, "first_scheduled_s", LS_RQ_F64, LS_RQ_NUMBER, "s", "first time scheduled (NaN when never)") \
    X(first_token_s, "first_token_s", LS_RQ_F64, LS_RQ_NUMBER, "s", "time of the first output token (NaN when never)") \
    X(finish_s, "finish_s", LS_RQ_F64, LS_RQ_NUMBER, "s",                                            \
      "time of the last output token or of the final status (NaN when never)")                       \
    X(class_id, "class", LS_RQ_I32, LS_RQ_CLASS_NAME, "",                                            \
      "request class: index into the workload's classes (the /configs column classes, workload.classes); " \
      "-1 when the workload defines none (CSV: the class name, empty when none)")

typedef struct ls_request_column {
    const char *name;
    ls_req_col_type type;
    ls_req_col_text text;
    size_t offset;   /* into ls_request_result */
    const char *unit;
    const char *description;
} ls_request_column;

#define LS_REQUEST_COLUMN_COUNT 12
extern const ls_request_column ls_request_columns[LS_REQUEST_COLUMN_COUNT];

/* The value of column `c` of row `r`, as a double (int columns exactly). */
double ls_request_value(const ls_request_result *r, const ls_request_column *c);

/* ---- provenance tables of a result file -------------------------------------
 * What produced the rows: the content of every file the configurations read
 * (/inputs: resume and merge refuse a file whose content changed), every
 * specification revision the file holds (/spec_revisions: a study grows by
 * resuming with added axis values), and one row per run that wrote the file
 * (/history). Written and read by mpi/sweep_history.c, documented by
 * `llmsweep schema`. Types: LS_COL_STR is a variable-length UTF-8 string. */
#define LS_H5_INPUTS "/inputs"
#define LS_H5_SPEC_REVISIONS "/spec_revisions"
#define LS_H5_HISTORY "/history"

/* X(field, type, unit, description) */
#define LS_INPUT_COLUMNS(X)                                                                         \
    X(kind, LS_COL_STR, "", "trace, catalog, cost_table or distribution")                            \
    X(name, LS_COL_STR, "", "the file as written in the configuration (relative to the specification's directory)") \
    X(key, LS_COL_STR, "", "configuration key that names it, e.g. workload.trace")                   \
    X(first_config, LS_COL_I64, "", "config_id of the first configuration reading it, in the run that recorded it") \
    X(bytes, LS_COL_I64, "bytes", "size of the file; -1 when it could not be read (nothing computed from it)") \
    X(content_hash, LS_COL_STR, "", "FNV-1a 64 of the file's bytes, 16 hex digits (empty when unreadable)")

#define LS_SPEC_REVISION_COLUMNS(X)                                                                  \
    X(spec_hash, LS_COL_STR, "", "FNV-1a 64 of the specification text, 16 hex digits")               \
    X(set_hash, LS_COL_STR, "", "its expansion (hash of all config hashes in order)")                \
    X(n_configs, LS_COL_I64, "count", "configurations it expands to")                                \
    X(first_run, LS_COL_I64, "", "the /history run that first used it")                             \
    X(spec_name, LS_COL_STR, "", "its `name`")                                                        \
    X(spec_text, LS_COL_STR, "", "the specification, as written")

#define LS_HISTORY_COLUMNS(X)                                                                        \
    X(run, LS_COL_I64, "", "0-based index of the run")                                              \
    X(command, LS_COL_STR, "", "sweep (created the file), resume, extend (a resume that added configurations) or merge") \
    X(start_utc, LS_COL_STR, "", "start, ISO-8601 UTC")                                              \
    X(end_utc, LS_COL_STR, "", "end, ISO-8601 UTC; empty when the run never recorded it (aborted)") \
    X(outcome, LS_COL_STR, "", "complete, interrupted; running while it writes; aborted when it never recorded its end (killed, or a failed write rolled the file back)") \
    X(ranks, LS_COL_I64, "count", "MPI ranks of the run (merge: parts merged)")                      \
    X(shard, LS_COL_STR, "", "I/N of --shard (0/1 without)")                                         \
    X(spec_hash, LS_COL_STR, "", "specification revision of the run (a row of /spec_revisions)")    \
    X(n_configs, LS_COL_I64, "count", "configurations of that specification")                       \
    X(rows_added, LS_COL_I64, "count", "/results rows the run recorded (any status); -1 when aborted (unknown)") \
    X(tool_version, LS_COL_STR, "", "llmsweep version of the run")                                   \
    X(git_revision, LS_COL_STR, "", "git revision of that build")                                    \
    X(host, LS_COL_STR, "", "host name of rank 0")                                                   \
    X(output, LS_COL_STR, "", "the result file as the run named it")

/* Column indices: LS_IN_kind, LS_SR_spec_hash, LS_HI_run, ... */
#define LS_X_IN(f, type, unit, desc) LS_IN_##f,
#define LS_X_SR(f, type, unit, desc) LS_SR_##f,
#define LS_X_HI(f, type, unit, desc) LS_HI_##f,
typedef enum ls_input_col { LS_INPUT_COLUMNS(LS_X_IN) LS_INPUT_NCOLS } ls_input_col;
typedef enum ls_specrev_col { LS_SPEC_REVISION_COLUMNS(LS_X_SR) LS_SPECREV_NCOLS } ls_specrev_col;
typedef enum ls_history_col { LS_HISTORY_COLUMNS(LS_X_HI) LS_HISTORY_NCOLS } ls_history_col;
#undef LS_X_IN
#undef LS_X_SR
#undef LS_X_HI

extern const ls_column ls_input_columns[LS_INPUT_NCOLS];
extern const ls_column ls_spec_revision_columns[LS_SPECREV_NCOLS];
extern const ls_column ls_history_columns[LS_HISTORY_NCOLS];

#endif
