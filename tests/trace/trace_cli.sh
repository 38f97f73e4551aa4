#!/usr/bin/env bash
# trace_cli.sh -- `llmsweep trace`: help and usage errors, stats (text and JSON), synth determinism
# and stream independence, convert round trips, bad input, the real shared traces.
set -u
fail() { echo "FAIL: $*"; exit 1; }
T=$(mktemp -d /tmp/ls_trace_cli.XXXXXX)
trap 'rm -rf "$T"' EXIT
TR="$LS_SOURCE_DIR/traces"
PY=${LS_PYTHON:-python3}

# --help everywhere; unknown flags and subcommands exit 2 with the usage on stderr
for sub in "" stats convert synth; do
    "$LLMSWEEP" trace $sub --help >"$T/h" || fail "trace $sub --help exit"
    grep -q "usage: llmsweep trace" "$T/h" || fail "trace $sub --help text"
done
for sub in stats convert synth; do
    "$LLMSWEEP" trace $sub --bogus >/dev/null 2>"$T/e"; rc=$?
    [ $rc -eq 2 ] || fail "trace $sub --bogus exit $rc"
    grep -q "unknown option '--bogus'" "$T/e" && grep -q "usage:" "$T/e" || fail "trace $sub --bogus message"
done
"$LLMSWEEP" trace frobnicate >/dev/null 2>&1; [ $? -eq 2 ] || fail "unknown subcommand"
"$LLMSWEEP" trace stats >/dev/null 2>&1; [ $? -eq 2 ] || fail "stats without FILE"
"$LLMSWEEP" trace synth --rate 1 >/dev/null 2>&1; [ $? -eq 2 ] || fail "synth without -o"

# stats: text and JSON agree with the figures in traces/README.md
"$LLMSWEEP" trace stats "$TR/azure-conv-excerpt.csv.gz" >"$T/s" || fail "stats"
grep -q "^rows *2000" "$T/s" || fail "stats rows: $(cat "$T/s")"
"$LLMSWEEP" trace stats --json "$TR/azure-conv-excerpt.csv.gz" >"$T/j" || fail "stats --json"
$PY - "$T/j" <<'PYEOF' || fail "stats --json figures"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["rows"] == 2000 and j["format"] == "azure", j
assert abs(j["span_s"] - 424.3) < 0.05 and abs(j["prompt"]["mean"] - 1104.8) < 0.05, j
assert j["prompt"]["p50"] == 1032 and j["output"]["max"] == 1000, j
PYEOF
"$LLMSWEEP" trace stats --json "$TR/burstgpt-head42.csv.gz" | grep -q '"failed_requests": 4' || fail "burstgpt failed count"

# synth: the same seed gives the same bytes; another output distribution keeps arrivals and prompts
S="--rate 3 --duration 120 --prompt lognormal:mu=8.7,sigma=0.17"
"$LLMSWEEP" trace synth -o "$T/a.csv.gz" $S --output fixed:100 --seed 5 --quiet || fail "synth a"
"$LLMSWEEP" trace synth -o "$T/b.csv.gz" $S --output fixed:100 --seed 5 --quiet || fail "synth b"
cmp -s "$T/a.csv.gz" "$T/b.csv.gz" || fail "same seed, different bytes"
"$LLMSWEEP" trace synth -o "$T/c.csv" $S --output uniform:low=1,high=900 --seed 5 --quiet || fail "synth c"
diff <(zcat "$T/a.csv.gz" | cut -d, -f1,2) <(cut -d, -f1,2 "$T/c.csv") >/dev/null || fail "output dist changed arrivals/prompts"
! diff <(zcat "$T/a.csv.gz") "$T/c.csv" >/dev/null || fail "output dist had no effect"
"$LLMSWEEP" trace synth -o "$T/d.csv" $S --output fixed:100 --seed 6 --quiet || fail "synth d"
! cmp -s <(zcat "$T/a.csv.gz") "$T/d.csv" || fail "another seed, same bytes"
# the shipped heavy workload regenerates byte for byte
"$LLMSWEEP" trace synth --config "$TR/synthetic-heavy.yaml" --seed 42 -o "$T/heavy.csv.gz" --quiet || fail "heavy"
cmp -s "$T/heavy.csv.gz" "$TR/synthetic-heavy.csv.gz" || fail "synthetic-heavy.csv.gz does not regenerate"
# a bare number is a fixed length, as in `run --prompt 10`
"$LLMSWEEP" trace synth -o "$T/bare.csv" --rate 2 --duration 10 --prompt 10 --output 7 --quiet || fail "synth --prompt 10"
"$LLMSWEEP" trace synth -o "$T/fixed.csv" --rate 2 --duration 10 --prompt fixed:10 --output fixed:7 --quiet || fail "synth fixed"
cmp -s "$T/bare.csv" "$T/fixed.csv" || fail "--prompt 10 differs from --prompt fixed:10"
# no requests is an error: a header with no rows, a window past the end, limits below every request
printf 'arrival_s,prompt_tokens,output_tokens\n' >"$T/ho.csv"
"$LLMSWEEP" trace stats "$T/ho.csv" >/dev/null 2>"$T/e"; [ $? -eq 1 ] || fail "stats on a header-only file"
grep -q "ho.csv: no data rows after the header" "$T/e" || fail "header-only message: $(cat "$T/e")"
"$LLMSWEEP" trace convert "$TR/burstgpt-head42.csv.gz" "$T/w.csv" --start 99999 --duration 10 2>"$T/e"
[ $? -eq 1 ] || fail "convert with an empty window"
grep -q "no request left after the transformations" "$T/e" && [ ! -e "$T/w.csv" ] || fail "empty window message/file"
"$LLMSWEEP" trace synth -o "$T/w.csv" --rate 1 --duration 10 --prompt 5 --output 5 --max-prompt-tokens 3 2>"$T/e"
[ $? -eq 1 ] && grep -q "no request left" "$T/e" || fail "synth with every request over the limit"
# Mooncake hash_ids: a list of the wrong length is an error unless --mooncake-hash-ids any_length
MC="$LS_SOURCE_DIR/tests/trace/regress/mooncake-hash-count.jsonl"
"$LLMSWEEP" trace stats "$MC" >/dev/null 2>"$T/e"; [ $? -eq 1 ] || fail "stats on wrong hash_ids count"
grep -q "mooncake-hash-count.jsonl:3: field 'hash_ids': 2 ids for input_length 1025" "$T/e" || fail "hash count message"
"$LLMSWEEP" trace stats --mooncake-hash-ids any_length "$MC" | grep -q "^rows *3" || fail "stats any_length"
"$LLMSWEEP" trace convert --mooncake-hash-ids any_length "$MC" "$T/mc.csv" --quiet || fail "convert any_length"
grep -q "^3,1025,7,0 1$" "$T/mc.csv" || fail "convert any_length kept the ids: $(cat "$T/mc.csv")"
"$LLMSWEEP" trace convert "$MC" "$T/mc2.csv" --quiet 2>/dev/null; [ $? -eq 1 ] || fail "convert strict"
# values from flags are named as such
"$LLMSWEEP" trace synth -o "$T/w.csv" --rate -1 --duration 10 --prompt 5 --output 5 2>"$T/e"
grep -q "<command line>: workload.arrival.rate" "$T/e" || fail "--rate -1 location: $(cat "$T/e")"
# ambiguous lognormal is refused
"$LLMSWEEP" trace synth -o "$T/x.csv" --rate 1 --duration 5 --prompt lognormal:mu=8,stddev=3 --output fixed:1 \
    2>"$T/e"; [ $? -eq 1 ] || fail "ambiguous lognormal exit"
grep -q "exactly one pair" "$T/e" || fail "ambiguous lognormal message"

# convert: Azure -> native -> native is stable, and stats survive it
"$LLMSWEEP" trace convert "$TR/azure-code-excerpt.csv.gz" "$T/n1.csv.gz" --quiet || fail "convert 1"
"$LLMSWEEP" trace convert "$T/n1.csv.gz" "$T/n2.csv.gz" --quiet || fail "convert 2"
cmp -s "$T/n1.csv.gz" "$T/n2.csv.gz" || fail "native round trip changed bytes"
diff <("$LLMSWEEP" trace stats --json "$TR/azure-code-excerpt.csv.gz" | sed 's/"file": "[^"]*", "format": "[a-z]*", //') \
     <("$LLMSWEEP" trace stats --json "$T/n1.csv.gz" | sed 's/"file": "[^"]*", "format": "[a-z]*", //') \
     >/dev/null || fail "stats changed by convert"
# a length-only file needs an arrival process; with one it converts
"$LLMSWEEP" trace convert "$TR/sharegpt-lengths-excerpt.csv.gz" "$T/l.csv" 2>"$T/e"; [ $? -eq 1 ] || fail "lengths without arrivals"
grep -q "arrival process" "$T/e" || fail "lengths message"
"$LLMSWEEP" trace convert "$TR/sharegpt-lengths-excerpt.csv.gz" "$T/l.csv" --rate 4 --duration 60 2>"$T/e" || fail "lengths convert"
grep -q "requests written" "$T/e" || fail "convert report"
# transformations are reported
"$LLMSWEEP" trace convert "$TR/azure-conv-excerpt.csv.gz" "$T/w.csv" --start 60 --duration 120 \
    --max-total-tokens 2048 --target-rate 8 2>"$T/e" || fail "transform convert"
grep -q "before the start dropped" "$T/e" && grep -q "over the token limit dropped" "$T/e" \
    && grep -q "scaled by" "$T/e" || fail "transform report: $(cat "$T/e")"
# Mooncake keeps its prefix hashes through convert
"$LLMSWEEP" trace convert "$TR/mooncake-fixture.jsonl.gz" "$T/m.csv" --quiet || fail "mooncake convert"
head -1 "$T/m.csv" | grep -q "hash_ids" || fail "hash_ids column"

# bad input: exit 1 and FILE:LINE in the message
printf 'arrival_s,prompt_tokens,output_tokens\n0,1,1\n1,-4,1\n' >"$T/bad.csv"
"$LLMSWEEP" trace stats "$T/bad.csv" 2>"$T/e"; [ $? -eq 1 ] || fail "bad input exit"
grep -q "bad.csv:3: column 2" "$T/e" || fail "bad input message: $(cat "$T/e")"
: >"$T/empty.csv"
"$LLMSWEEP" trace stats "$T/empty.csv" 2>"$T/e"; [ $? -eq 1 ] || fail "empty exit"
grep -q "empty file" "$T/e" || fail "empty message"

# the real traces: SOURCES.md's Azure conv figures
if [ -f "${LS_SHARED_TRACES:-/nonexistent}/AzureLLMInferenceTrace_conv.csv.gz" ]; then
    "$LLMSWEEP" trace stats --json "$LS_SHARED_TRACES/AzureLLMInferenceTrace_conv.csv.gz" >"$T/j" || fail "shared stats"
    $PY - "$T/j" <<'PYEOF' || fail "shared conv figures"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["rows"] == 19366, j
assert abs(j["prompt"]["mean"] - 1154.7) < 0.05 and abs(j["output"]["mean"] - 211.1) < 0.05, j
assert abs(j["span_s"] - 3501.7) < 0.05 and abs(j["rate"] - 5.53) < 0.005, j
PYEOF
else
    echo "skip: shared traces not found"
fi
echo "trace_cli: ok"
