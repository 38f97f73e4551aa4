#!/usr/bin/env bash
# plan_flags.sh -- `llmsweep plan` refuses bad command lines before it simulates or writes anything
# (docs/PLAN.md "Flags"): a single-valued flag given twice, a value repeated in a list or across
# repeats, an --slo limit given twice or without a unit, a seed that is not an exact decimal integer,
# a bad --cost-per-gpu-hour item, a model/GPU/cluster name that is not a catalog name (it would be
# written into the YAML specification), an existing -o FILE without --force (its spec untouched),
# and a --plots folder that cannot be written. Each: exit 2 and a one-line message naming the flag
# and the value. The good cases beside them still run.
. "$(dirname "$0")/sweep_lib.bash"
M="--model llama-3-8b"
H="--hardware h100-sxm"
W="--gpus 2 --isl 512 --osl 64 --rate 10 --duration 20"
S="--slo ttft_p99=1s,tpot_p99=50ms"
# refused ARGS... (after "--" the expected words): exit 2, the words in the one-line message,
# nothing written into the scratch output folder
refused() {
    local args=() want
    while [ "$1" != -- ]; do args+=("$1"); shift; done
    want=$2
    rm -rf "$T/u" && mkdir "$T/u"
    rc=0; "$LLMSWEEP" plan "${args[@]}" 2>"$T/u.err" >"$T/u.out" || rc=$?
    [ "$rc" = 2 ] || { cat "$T/u.err"; fail "plan ${args[*]}: exit $rc, expected 2"; }
    grep -q -- "$want" "$T/u.err" || { cat "$T/u.err"; fail "plan ${args[*]}: message lacks '$want'"; }
    [ "$(wc -l <"$T/u.err")" = 1 ] || { cat "$T/u.err"; fail "plan ${args[*]}: not a one-line message"; }
    [ -z "$(ls -A "$T/u")" ] || fail "plan ${args[*]}: wrote $(ls "$T/u")"
}
D=(-o "$T/u/p.h5" --dry-run)

# 1. single-valued flags given twice
refused $M $H $W $S "${D[@]}" --model llama-3-70b -- "--model given twice: 'llama-3-8b' and 'llama-3-70b'"
refused $M $H $W $S "${D[@]}" --gpus 4 -- "--gpus given twice: '2' and '4'"
refused $M $H $W $S "${D[@]}" --rate 5 -- "--rate given twice: '10' and '5'"
refused $M $H $W $S "${D[@]}" --slo ttft_p99=2s,tpot_p99=50ms -- "--slo given twice"
refused $M $H $W $S "${D[@]}" --seed 1 --seed 2 -- "--seed given twice: '1' and '2'"
refused $M $H $W $S "${D[@]}" --output "$T/u/q.h5" -- "-o/--output given twice"
refused $M $H $W $S "${D[@]}" --top 3 --top 4 -- "--top given twice"
refused $M $H $W $S "${D[@]}" --format md --format text -- "--format given twice: 'md' and 'text'"
refused $M $H $W $S "${D[@]}" --capacity-floor 1 --capacity-floor 2 -- "--capacity-floor given twice"
refused $M $H $W $S "${D[@]}" --duration 30 -- "--duration given twice: '20' and '30'"
refused $M $H $W $S "${D[@]}" --modes agg --modes disagg -- "--modes given twice"
refused $M $H $W $S "${D[@]}" --dtype bf16 --dtype fp8 -- "--dtype given twice"
refused $M $H $W $S "${D[@]}" --max-num-seqs 64 --max-num-seqs 128 -- "--max-num-seqs given twice"
refused $M $H $W $S "${D[@]}" --max-batched-tokens auto --max-batched-tokens 2048 -- "--max-batched-tokens given twice"
refused $M $H $W $S "${D[@]}" --power tdp --power h100-sxm=700 -- "--power given twice"
refused $M $H $W $S "${D[@]}" --plots "$T/u/a" --plots "$T/u/b" -- "--plots given twice"
refused $M $H $W $S "${D[@]}" --cluster dgx-h100 --cluster dgx-h100 -- "--cluster given twice"
refused $M $H --gpus 2 --trace x.csv --trace y.csv --slo ttft_p99=1s,tpot_p99=50ms "${D[@]}" -- "--trace given twice"
refused $M $H --gpus 2 --trace x.csv --scale-trace 1 --scale-trace 2 $S "${D[@]}" -- "--scale-trace given twice"
# 2. a value twice in a list or across repeats
refused $M $H $W $S "${D[@]}" --hardware h100-sxm -- "--hardware h100-sxm given twice"
refused $M $H $W $S "${D[@]}" --dtype bf16,bf16 -- "--dtype bf16,bf16: 'bf16' listed twice"
refused $M $H $W $S "${D[@]}" --dtype fp4,nvfp4 -- "'nvfp4' listed twice (fp4 and nvfp4 are one format)"
refused $M $H $W $S "${D[@]}" --max-num-seqs 256,256 -- "--max-num-seqs 256,256: '256' listed twice"
refused $M $H $W $S "${D[@]}" --max-batched-tokens auto,auto -- "--max-batched-tokens auto,auto: 'auto' listed twice"
refused $M $H $W $S "${D[@]}" --modes agg,agg -- "--modes agg,agg: 'agg' listed twice"
refused $M $H $W $S "${D[@]}" --cost-per-gpu-hour h100-sxm=2 --cost-per-gpu-hour h100-sxm=3 -- "--cost-per-gpu-hour: h100-sxm given twice (2 and 3)"
refused $M $H $W $S "${D[@]}" --power h100-sxm=700,h100-sxm=600 -- "--power: h100-sxm given twice (700 and 600)"
# 3. --slo: a limit twice, a latency without its unit, an empty item
refused $M $H $W --slo ttft_p99=1s,tpot_p99=50ms,ttft_p99=3s "${D[@]}" -- "ttft_p99 given twice ('1s' and '3s')"
refused $M $H $W --slo ttft=1s,tpot_p99=50ms,ttft_p99=3s "${D[@]}" -- "ttft_p99 given twice"
refused $M $H $W --slo ttft_p99=1,tpot_p99=50ms "${D[@]}" -- "--slo ttft_p99=1: give a unit, s, ms or us"
refused $M $H $W --slo ttft_p99=1s,tpot_p99=0.05 "${D[@]}" -- "--slo tpot_p99=0.05: give a unit"
refused $M $H $W --slo ttft_p99=1s,,tpot_p99=50ms "${D[@]}" -- "an empty item"
# 4. --seed: decimal digits, 0 .. 2^63-1
for s in 1e30 -1 1.5 0x10 9223372036854775808 "" " 1"; do
    refused $M $H $W $S "${D[@]}" --seed "$s" -- "--seed '$s': expected an integer 0 .. 9223372036854775807"
done
# 5. --cost-per-gpu-hour: the bad item quoted, empty items, bad prices
refused $M $H $W $S "${D[@]}" --cost-per-gpu-hour h100-sxm=-3 -- "got 'h100-sxm=-3'"
refused $M $H $W $S "${D[@]}" --cost-per-gpu-hour h100-sxm=cheap -- "got 'h100-sxm=cheap'"
refused $M $H $W $S "${D[@]}" --cost-per-gpu-hour h100-sxm -- "got 'h100-sxm'"
refused $M $H $W $S "${D[@]}" --cost-per-gpu-hour , -- "--cost-per-gpu-hour ',': an empty item"
refused $M $H $W $S "${D[@]}" --cost-per-gpu-hour h100-sxm=1,,b200=2 -- "an empty item"
refused $M $H $W $S "${D[@]}" --power h100-sxm=-700 -- "--power: expected GPU=W .*got 'h100-sxm=-700'"
# 6. names written into the YAML specification
refused $M --hardware 'h100-sxm #x' $W $S "${D[@]}" -- "--hardware 'h100-sxm #x': not a GPU name (letters, digits, . _ + -)"
refused $M --hardware $'h100-sxm\ncluster: x' $W $S "${D[@]}" -- "--hardware 'h100-sxm\\\\ncluster: x': not a GPU name"
refused $M $H --hardware '"b200"' $W $S "${D[@]}" -- "not a GPU name"
refused --model 'llama-3-8b:x' $H $W $S "${D[@]}" -- "--model 'llama-3-8b:x': not a model name"
refused $M $H --cluster 'dgx h100' $W $S "${D[@]}" -- "--cluster 'dgx h100': not a cluster name"

# 7. an existing FILE without --force: refused before the spec beside it is rewritten
mkdir -p "$T/o"
"$LLMSWEEP" plan $M $H $W $S --seed 5 -o "$T/o/p.h5" -q >/dev/null 2>"$T/o.err" || { cat "$T/o.err"; fail "first plan"; }
sum=$(cat "$T/o/p.h5" "$T/o/p.spec.yaml" "$T/o/p.md" | md5sum)
for extra in "" "--dry-run"; do
    rc=0; "$LLMSWEEP" plan $M $H $W $S --seed 6 -o "$T/o/p.h5" $extra >/dev/null 2>"$T/o.err" || rc=$?
    [ "$rc" = 2 ] || { cat "$T/o.err"; fail "existing -o $extra: exit $rc, expected 2"; }
    grep -qxF "llmsweep: plan: $T/o/p.h5 exists: pass --force to overwrite it (its sweep resumes with: llmsweep sweep $T/o/p.spec.yaml -o $T/o/p.h5 --resume)" "$T/o.err" ||
        { cat "$T/o.err"; fail "existing -o $extra: message"; }
    [ "$(cat "$T/o/p.h5" "$T/o/p.spec.yaml" "$T/o/p.md" | md5sum)" = "$sum" ] || fail "existing -o $extra: a file was modified"
done
grep -q "^seed: 5" "$T/o/p.spec.yaml" || fail "the spec is not the first plan's"
# the resume line it gives works: nothing left to run
"$LLMSWEEP" sweep "$T/o/p.spec.yaml" -o "$T/o/p.h5" --resume -q >/dev/null 2>"$T/o.err" || { cat "$T/o.err"; fail "the resume line"; }
# the sensitivity file of an earlier plan is guarded the same way
mv "$T/o/p.h5" "$T/o/gone.h5"
rc=0; "$LLMSWEEP" plan $M $H $W $S -o "$T/o/p.h5" -q >/dev/null 2>"$T/o.err" || rc=$?
[ "$rc" = 2 ] && grep -q "p.burst.h5 exists (the sensitivity sweep of an earlier plan): pass --force" "$T/o.err" ||
    { cat "$T/o.err"; fail "existing FILE.burst.h5: exit $rc"; }
[ ! -e "$T/o/p.h5" ] || fail "existing FILE.burst.h5: FILE written"
# --force overwrites
"$LLMSWEEP" plan $M $H $W $S --seed 6 -o "$T/o/p.h5" --force -q >/dev/null 2>"$T/o.err" || { cat "$T/o.err"; fail "--force"; }
grep -q "^seed: 6" "$T/o/p.spec.yaml" || fail "--force: the spec not rewritten"
# `report --slo` (the parser plan shares) still takes a bare number as seconds
"$LLMSWEEP" report "$T/o/p.h5" --slo ttft_p99=1,tpot_p99=0.05 -o "$T/o/r.txt" 2>"$T/o.err" || { cat "$T/o.err"; fail "report --slo without units"; }

# 8. --plots: a folder that cannot be one or cannot be made
touch "$T/afile"
refused $M $H $W $S "${D[@]}" --plots "$T/afile" -- "--plots $T/afile: exists and is not a directory"
refused $M $H $W $S "${D[@]}" --plots "$T/afile/sub" -- "--plots $T/afile/sub: cannot be created: $T/afile is not a directory"
if [ "$(id -u)" != 0 ]; then # root writes anywhere
    mkdir "$T/ro" && chmod 555 "$T/ro"
    refused $M $H $W $S "${D[@]}" --plots "$T/ro" -- "--plots $T/ro: the folder is not writable"
    refused $M $H $W $S "${D[@]}" --plots "$T/ro/new" -- "cannot be created: $T/ro is not writable"
fi

# the good cases: repeatable flags repeated with different values, a list of distinct values,
# success once, a seed of 2^63-1, prices with '$', and --plots into a new nested folder
"$LLMSWEEP" plan $M $H --hardware h200 $W --slo ttft_p99=1s,tpot_p99=50ms,success=0.99 --seed 9223372036854775807 \
    --max-num-seqs 64,256 --dtype bf16,fp8 --speculative off --speculative eagle:k=2,acceptance=0.7 \
    --cost-per-gpu-hour 'h100-sxm=$2.5' --cost-per-gpu-hour h200=3 -o "$T/g/p.h5" --dry-run 2>"$T/g.err" ||
    { cat "$T/g.err"; fail "good repeatable flags"; }
grep -q "on 2 GPU types" "$T/g.err" || { cat "$T/g.err"; fail "good: two GPU types"; }
if "$PY" -c "import matplotlib, h5py, numpy" 2>/dev/null; then
    "$LLMSWEEP" plan $M $H $W $S -o "$T/g/p.h5" -q --plots "$T/g/plots/new" >"$T/g.out" 2>"$T/g.err" ||
        { cat "$T/g.err"; fail "plan --plots into a new folder"; }
    [ -s "$T/g/plots/new/frontier.png" ] || fail "--plots: no frontier.png"
fi
echo "plan_flags: ok"
