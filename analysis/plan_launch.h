/* plan_launch.h -- the launch commands of a plan's deployment (docs/PLAN.md,
 * "The answer"): what would deploy the configuration of a result row with a
 * serving engine, read from its /configs columns and the budget the run used.
 *
 *   vllm    `vllm serve MODEL --tensor-parallel-size ... ` (vLLM's engine
 *           arguments; --speculative-config '{"method": ...}' for speculative
 *           decoding, --kv-transfer-config per role of disaggregated pools)
 *   sglang  `python -m sglang.launch_server --model-path MODEL --tp-size ...`
 *           (SGLang's server arguments; --disaggregation-mode per role,
 *           --speculative-algorithm ...)
 *
 * A table of engines, one line builder each. Model names are the catalog's:
 * the user replaces them with the Hugging Face ids deployed (an EAGLE head is
 * named MODEL-eagle, as the simulator's derived proposer). Disaggregated
 * pools give one command per role: "prefill xP: ...  |  decode xD: ...". */
#ifndef LS_PLAN_LAUNCH_H
#define LS_PLAN_LAUNCH_H

#include <stdbool.h>
#include <stddef.h>

#include "results.h"

/* The command deploying `row` with `engine` ("vllm" or "sglang") into buf
 * (truncated to size). False for an engine not in the table. */
bool ls_plan_launch_command(const char *engine, const ls_result_row *row, char *buf, size_t size);

/* ls_plan_launch_command("vllm", ...). */
void ls_plan_vllm_command(const ls_result_row *row, char *buf, size_t size);

#endif
