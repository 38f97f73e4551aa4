#!/usr/bin/env bash
# scale.sh LLMSWEEP [SIZES...] -- week-long traces in bounded memory (issue 17.4; target bench-scale).
#
# Replays 1M, 10M and 27M requests (27M: about a week of Azure's 2024 production trace at its mean
# rate of 44.6 requests/s) through `llmsweep run`, each as a process of its own on one core, twice:
#   trace      an Azure-format CSV (TIMESTAMP,ContextTokens,GeneratedTokens) of 27M requests,
#              generated once in $LS_SCALE_DIR (default /tmp/llmsweep-scale; ~1 GB, never committed)
#              from `llmsweep trace synth`; the smaller sizes take its first N rows (max_requests)
#   synthetic  the same generator streamed inside the run (Poisson, lognormal lengths)
# and prints wall seconds, CPU seconds (user + sys) and peak RSS (GNU time). The targets: 27M in
# under 60 s and under 1 GB. Results are recorded in docs/ENGINE.md. The deployment is Llama-3-70B
# on 8 DP replicas of H100 TP4 (least-outstanding router), which serves 44.6 requests/s without
# an ever-growing queue, so that what stays in memory is what a real week would keep in flight.
set -euo pipefail
ll=${1:?usage: scale.sh LLMSWEEP [SIZES...]}
shift
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000000 10000000 27000000)
dir=${LS_SCALE_DIR:-/tmp/llmsweep-scale}
mkdir -p "$dir"
rate=44.6
gen=(--rate $rate --prompt lognormal:mean=1155,stddev=1000 --output lognormal:mean=211,stddev=180)
dep=(--model llama-3-70b --hardware h100-sxm --cluster dgx-h100 --parallelism tp4dp8
     --router least-outstanding --seed 7)
trace=$dir/azure-week-27M.csv
if [ ! -s "$trace" ]; then
  echo "scale.sh: writing $trace (27M requests, once)" >&2
  "$ll" trace synth -o "$dir/native-27M.csv" --seed 7 "${gen[@]}" --max-requests 27000000 --quiet
  # native arrival_s -> Azure timestamps from 2024-05-10 00:00:00 (a week: no month boundary)
  awk -F, 'NR == 1 { print "TIMESTAMP,ContextTokens,GeneratedTokens"; next }
           { t = $1; d = int(t / 86400); t -= d * 86400; h = int(t / 3600); t -= h * 3600;
             m = int(t / 60); s = t - m * 60;
             printf "2024-05-%02d %02d:%02d:%010.7f,%d,%d\n", 10 + d, h, m, s, $2, $3 }' \
    "$dir/native-27M.csv" >"$trace.tmp"
  rm -f "$dir/native-27M.csv"
  mv "$trace.tmp" "$trace"
fi
printf '%-10s %10s %9s %9s %9s %12s %9s\n' case requests wall_s cpu_s rss_MB requests/cpu_s completed
one() {  # NAME N ARGS...
  local name=$1 n=$2
  shift 2
  local out=$dir/run.json tm=$dir/time.txt
  /usr/bin/time -f '%e %U %S %M' -o "$tm" taskset -c 0 "$ll" run "${dep[@]}" "$@" \
    --set workload.max_requests="$n" --json >"$out"
  read -r wall user sys rss <"$tm"
  local got done
  got=$(grep -o '"n_requests": [0-9]*' "$out" | grep -o '[0-9]*$')
  done=$(grep -o '"n_completed": [0-9]*' "$out" | grep -o '[0-9]*$')
  local cpu
  cpu=$(echo "$user + $sys" | bc)
  printf '%-10s %10s %9s %9s %9.0f %12.0f %9s\n' "$name" "$got" "$wall" "$cpu" "$(echo "$rss / 1024" | bc -l)" \
    "$(echo "$got / $cpu" | bc -l)" "$done"
}
for n in "${sizes[@]}"; do
  one trace "$n" --trace "$trace"
  one synthetic "$n" "${gen[@]}"
done
