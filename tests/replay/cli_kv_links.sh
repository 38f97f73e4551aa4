#!/usr/bin/env bash
# cli_kv_links.sh -- issue 13's KV transfer links through the command line: one request whose KV is
# staged through host memory (PCIe Gen5 inside a DGX H100 node) has the hand-computed wire time and
# TTFT = prefill + transfer + one decode step; GH200 staging through Grace over NVLink-C2C; fair
# sharing of one prefill instance's link by two transfers; bad kv_transfer keys rejected with file:line.
set -u
fail() { echo "FAIL: $*"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/pd.yaml" <<'Y'
model: llama-3.1-70b
cluster: dgx-h100
dtype: {weights: fp8, kv: bf16}
cost: {model: constant, time_s: 0.05}
disaggregation:
  prefill: {replicas: 1, parallelism: tp4}
  decode: {replicas: 1, parallelism: tp4}
  kv_transfer: {link: host, host_link: pcie5}
workload:
  arrival: {process: constant, rate: 1}
  prompt_tokens: {dist: fixed, value: 1000}
  output_tokens: {dist: fixed, value: 11}
  duration_s: 0.5
Y
# 63 blocks of 16 tokens x 81,920 B per token per GPU (80 layers x 8 KV heads x 128 x 2 x 2 B / tp4),
# GPU -> host -> GPU at 63 GB/s each: 2 x 82,575,360 / 63e9 = 2.6214 ms
"$LLMSWEEP" run --config "$tmp/pd.yaml" --json >"$tmp/out.json" || fail "host staging run"
"$LS_PYTHON" - "$tmp/out.json" <<'PY' || fail "host staging times"
import json, sys
m = json.load(open(sys.argv[1]))
wire = 2 * 1008 * 81920 / 63e9
assert abs(m["kv_wire_mean_s"] - wire) < 1e-12, m["kv_wire_mean_s"]
assert abs(m["ttft_mean_s"] - (0.05 + wire + 0.05)) < 1e-9, m["ttft_mean_s"]
assert abs(m["tpot_mean_s"] - 0.05) < 1e-9
PY
# GH200, one per node: through Grace over C2C (450 GB/s) and the 25 GB/s network, Llama-3.1-8B BF16 at tp1
"$LLMSWEEP" run --config "$tmp/pd.yaml" --set model=llama-3.1-8b --set dtype=bf16 --set cluster=gh200-single \
  --set hardware=gh200-96gb --set disaggregation.prefill.parallelism=tp1 --set disaggregation.decode.parallelism=tp1 \
  --set 'disaggregation.kv_transfer={link: host}' --json >"$tmp/gh.json" || fail "gh200 run"
"$LS_PYTHON" -c 'import json,sys; m=json.load(open(sys.argv[1])); w=5e-6+1008*131072*(2/450e9+1/25e9); assert abs(m["kv_wire_mean_s"]-w)<1e-12, m["kv_wire_mean_s"]' \
  "$tmp/gh.json" || fail "gh200 c2c wire"
# fair sharing under load completes every request
"$LLMSWEEP" run --config "$tmp/pd.yaml" --set 'disaggregation.kv_transfer={sharing: fair, bandwidth_gbps: 2}' \
  --set disaggregation.decode.replicas=2 --set workload.arrival.rate=20 --set workload.duration_s=3 --json \
  >"$tmp/fair.json" || fail "fair run"
"$LS_PYTHON" -c 'import json,sys; m=json.load(open(sys.argv[1])); assert m["n_completed"]==m["n_requests"]>30' \
  "$tmp/fair.json" || fail "fair run counts"
# bad input: file:line and what was expected
check() {  # kv_transfer value, expected fragment
  sed "s/^  kv_transfer: .*/  kv_transfer: $1/" "$tmp/pd.yaml" >"$tmp/bad.yaml"
  "$LLMSWEEP" run --config "$tmp/bad.yaml" >/dev/null 2>"$tmp/err"; rc=$?
  [ $rc -eq 1 ] || fail "'$1': exit $rc"
  grep -qF -- "$2" "$tmp/err" || fail "'$1': message $(cat "$tmp/err")"
}
check "{link: host}" "bad.yaml:8: disaggregation.kv_transfer.host_link: missing"
check "{link: host, host_link: c2c}" "bad.yaml:8: disaggregation.kv_transfer.host_link: c2c does not reach the x86 host"
check "{sharing: random}" "bad.yaml:8: disaggregation.kv_transfer.sharing: unknown rule 'random'"
check "{link: host, host_link: pcie5, mode: layerwise}" "not with link: host"
echo "cli_kv_links: ok"
