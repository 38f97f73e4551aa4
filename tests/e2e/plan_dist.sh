#!/usr/bin/env bash
# plan_dist.sh -- `plan --isl/--osl` with length distributions (issue 16: "--isl/--osl (with a
# distribution) instead of a trace"), in `trace synth --prompt`'s syntax: the spec's workload holds
# the distribution, and the requests a top configuration replays have the lengths it describes:
# their mean prompt within 6% of exp(mu + sigma^2/2) = 457.1 for lognormal mu=6, sigma=0.5 (the
# lognormal's own mean: about 3.5 standard errors over 1,000 requests), every output 64. A bare N
# (and fixed:N) writes the fixed mapping as before. Bad distributions are usage errors naming the flag.
. "$(dirname "$0")/sweep_lib.bash"
B0="$LLMSWEEP plan --model llama-3-8b --hardware h100-sxm --gpus 2 --slo ttft_p99=1s,tpot_p99=50ms"
B="$B0 --rate 10"
$B --isl lognormal:mu=6,sigma=0.5 --osl fixed:64 --duration 100 -o "$T/d.h5" -q >"$T/d.txt" 2>"$T/d.err" ||
    { cat "$T/d.err"; fail "plan with a lognormal --isl"; }
grep -q "prompt_tokens: {dist: lognormal, mu: 6, sigma: 0.5}, output_tokens: {dist: fixed, value: 64}" "$T/d.spec.yaml" ||
    { grep workload "$T/d.spec.yaml"; fail "the distribution is not in the spec"; }
grep -q "^top .* deployments" "$T/d.txt" || fail "no answer"
"$LLMSWEEP" run --config "$T/d.top1.yaml" --requests-out "$T/r.csv" >/dev/null || fail "run of the top configuration"
"$PY" - "$T/r.csv" <<'PY' || fail "lengths of the replayed requests"
import csv, math, sys
r = list(csv.DictReader(open(sys.argv[1])))
p = [float(x["prompt_tokens"]) for x in r]
want = math.exp(6 + 0.5 ** 2 / 2)
assert len(r) > 900, len(r)
assert abs(sum(p) / len(p) / want - 1) < 0.06, (sum(p) / len(p), want)
assert {x["output_tokens"] for x in r} == {"64"}, {x["output_tokens"] for x in r}
print("requests: %d, mean prompt %.1f (lognormal mean %.1f)" % (len(r), sum(p) / len(p), want))
PY
# fixed lengths: a bare N and fixed:N give the same fixed mapping (the form before distributions)
$B --isl 512 --osl 64 --duration 20 -o "$T/f.h5" --dry-run >/dev/null 2>&1 || fail "plan --isl 512 --dry-run"
$B --isl fixed:512 --osl 64 --duration 20 -o "$T/g.h5" --dry-run >/dev/null 2>&1 || fail "plan --isl fixed:512 --dry-run"
grep -q "prompt_tokens: {dist: fixed, value: 512}, output_tokens: {dist: fixed, value: 64}" "$T/f.spec.yaml" ||
    fail "fixed lengths: $(grep workload "$T/f.spec.yaml")"
diff "$T/f.spec.yaml" "$T/g.spec.yaml" >/dev/null || fail "--isl fixed:512 differs from --isl 512"
# bad distributions: exit 2, the flag and the value named
for v in lognormal:mu=6 bogus:1 uniform:lo=5; do
    rc=0; $B --isl "$v" --osl 64 -o "$T/u.h5" --dry-run >/dev/null 2>"$T/u.err" || rc=$?
    [ "$rc" = 2 ] || fail "--isl $v: exit $rc, expected 2"
    grep -q -- "--isl '$v'" "$T/u.err" || { cat "$T/u.err"; fail "--isl $v: message"; }
done
rc=0; $B --isl 512 --osl normal:mean=-5 -o "$T/u.h5" --dry-run >/dev/null 2>"$T/u.err" || rc=$?
[ "$rc" = 2 ] && grep -q -- "--osl 'normal:mean=-5'" "$T/u.err" || { cat "$T/u.err"; fail "--osl normal:mean=-5: exit $rc"; }
# lengths the model cannot take (llama-3-8b: 8192 tokens): fixed, refused; drawn, a warning with the share
rc=0; $B --isl 9000 --osl 64 -o "$T/u.h5" --dry-run >/dev/null 2>"$T/u.err" || rc=$?
[ "$rc" = 2 ] && grep -q -- "--isl 9000 + --osl 64 exceed llama-3-8b's context of 8192 tokens: vLLM rejects every request" "$T/u.err" ||
    { cat "$T/u.err"; fail "--isl 9000: exit $rc"; }
rc=0; $B --isl 8150 --osl 64 -o "$T/u.h5" --dry-run >/dev/null 2>"$T/u.err" || rc=$? # the prompt fits, not with the output
[ "$rc" = 2 ] && grep -q -- "--isl 8150 + --osl 64 exceed" "$T/u.err" || { cat "$T/u.err"; fail "--isl 8150 --osl 64: exit $rc"; }
[ ! -e "$T/u.spec.yaml" ] || fail "a refused plan wrote its spec"
$B0 --rate 1 --isl lognormal:mu=8.7,sigma=0.3 --osl 64 --duration 100 -o "$T/w.h5" --dry-run >/dev/null 2>"$T/w.err" ||
    { cat "$T/w.err"; fail "plan with long prompts"; }
grep -Eq "^plan: warning: [0-9]+ of the [0-9]+ requests \([0-9.]+%\) have prompt \+ output over llama-3-8b's context of 8192" "$T/w.err" ||
    { cat "$T/w.err"; fail "no warning about prompts over the context"; }
[ "$(grep -c warning "$T/w.err")" = 1 ] || fail "more than one warning line"
# its share: P(prompt + 64 > 8192) for lognormal(8.7, 0.3) is 1 - Phi((ln 8128 - 8.7) / 0.3) = 12.2%; over
# ~100 requests (rate 1 x 100 s) the drawn share is within 12.2% +- 10 points
"$PY" - "$T/w.err" <<'PY' || fail "share over the context"
import math, re, sys
m = re.search(r"\(([0-9.]+)%\) have prompt", open(sys.argv[1]).read())
want = 100 * (1 - 0.5 * (1 + math.erf((math.log(8128) - 8.7) / 0.3 / math.sqrt(2))))
assert abs(float(m.group(1)) - want) < 10, (m.group(1), want)
PY
# too few requests a run for a p99 (rate x duration under 10, the capacity search's own minimum): refused, both flags named
rc=0; $B0 --rate 0.001 --isl 512 --osl 64 --duration 20 -o "$T/u.h5" --dry-run >/dev/null 2>"$T/u.err" || rc=$?
[ "$rc" = 2 ] && grep -q -- "--rate 0.001 over --duration 20 s gives about 0.02 requests a run" "$T/u.err" ||
    { cat "$T/u.err"; fail "--rate 0.001: exit $rc"; }
# a budget whose candidates would not fit in memory is refused at once, naming the flags to narrow
rc=0; timeout 60 $LLMSWEEP plan --model llama-3-8b --hardware h100-sxm --gpus 4096 --modes agg,disagg --isl 512 --osl 64 \
    --rate 10 --slo ttft_p99=1s,tpot_p99=50ms -o "$T/u.h5" --dry-run >/dev/null 2>"$T/u.err" || rc=$?
[ "$rc" = 2 ] && grep -q "candidate deployments, more than the 100000 a plan enumerates" "$T/u.err" && grep -q -- "--gpus" "$T/u.err" ||
    { cat "$T/u.err"; fail "--gpus 4096 --modes disagg: exit $rc"; }
# the count is said exactly: --gpus 256 --modes disagg has sum over TP a, b (powers of two) and np of
# floor((256 - np a) / b) P:D splits, 126,719 (computed here, not by the plan)
want=$("$PY" -c '
g = 256; n = 0; a = 1
while 2 * a <= g:
    b = 1
    while a + b <= g:
        n += sum((g - p * a) // b for p in range(1, (g - b) // a + 1)); b *= 2
    a *= 2
print(n)')
rc=0; $LLMSWEEP plan --model llama-3-8b --hardware h100-sxm --gpus 256 --modes disagg --isl 512 --osl 64 --rate 10 \
    --slo ttft_p99=1s,tpot_p99=50ms -o "$T/n.h5" --dry-run >/dev/null 2>"$T/u.err" || rc=$?
[ "$rc" = 2 ] && grep -q "plan: $want candidate deployments" "$T/u.err" && [ ! -e "$T/n.spec.yaml" ] ||
    { cat "$T/u.err"; fail "--gpus 256 --modes disagg ($want candidates): exit $rc"; }
# any file name: a trace path with a space, '#', '"' and '\\' is quoted in the spec and read back
d="$T/a b#\"c\\d"
mkdir -p "$d" && cp "$LS_SOURCE_DIR/traces/azure-conv-excerpt.csv.gz" "$d/t #\".csv.gz"
$LLMSWEEP plan --model llama-3-8b --hardware h100-sxm --gpus 1 --trace "$d/t #\".csv.gz" --slo ttft_p99=2s,tpot_p99=50ms \
    -o "$T/q.h5" -q >"$T/q.txt" 2>"$T/q.err" || { cat "$T/q.err"; fail "plan on a trace with an odd name"; }
grep -q "^top .* deployments" "$T/q.txt" || fail "no answer for the odd trace name"
# control characters go in as \xNN; a path that is not UTF-8 cannot be YAML: refused, naming --trace
d="$T/"$'n\nl\tt'
mkdir -p "$d" && cp "$LS_SOURCE_DIR/traces/azure-conv-excerpt.csv.gz" "$d/t.csv.gz"
$LLMSWEEP plan --model llama-3-8b --hardware h100-sxm --gpus 1 --trace "$d/t.csv.gz" --slo ttft_p99=2s,tpot_p99=50ms \
    -o "$T/c.h5" --dry-run >/dev/null 2>"$T/c.err" || { cat "$T/c.err"; fail "plan on a trace path with a newline and a tab"; }
grep -qF 'n\x0al\x09t/t.csv.gz' "$T/c.spec.yaml" || fail "control characters: $(grep trace "$T/c.spec.yaml")"
d="$T/"$'\xff'
mkdir -p "$d" && cp "$LS_SOURCE_DIR/traces/azure-conv-excerpt.csv.gz" "$d/t.csv.gz"
rc=0; $B --trace "$d/t.csv.gz" -o "$T/u.h5" --dry-run >/dev/null 2>"$T/u.err" || rc=$?
[ "$rc" = 2 ] && grep -q -- "plan: --trace: the value (or the trace's full path) is not valid UTF-8" "$T/u.err" ||
    { cat "$T/u.err"; fail "a path that is not UTF-8: exit $rc"; }
# errors of the generated base name the flag, not the spec's own lines
usage() { # expected-exit message args...
    local want=$1 msg=$2; shift 2; rc=0
    $B "$@" -o "$T/u.h5" --dry-run >/dev/null 2>"$T/u.err" || rc=$?
    [ "$rc" = "$want" ] && grep -qF -- "$msg" "$T/u.err" || { cat "$T/u.err"; fail "$*: exit $rc, expected $want and '$msg'"; }
    ! grep -q "plan:[0-9]" "$T/u.err" || { cat "$T/u.err"; fail "$*: an internal line number"; }
}
usage 2 "plan: --max-batched-tokens 16 is below --max-num-seqs 256 (vLLM needs max_num_batched_tokens >= max_num_seqs)" \
    --isl 512 --osl 64 --max-batched-tokens 16
usage 2 "plan: --cluster nope: unknown cluster 'nope'" --isl 512 --osl 64 --cluster nope
# a malformed or unreadable trace: the user's path and line, exit 1 as `llmsweep run` gives
printf 'arrival_s,prompt_tokens,output_tokens\n0,10,10\n1,x,3\n' >"$T/bad.csv"
: >"$T/empty.csv"
printf 'a,b\n1,2\n' >"$T/hdr.csv"
for t in bad empty hdr nonexistent; do
    printf 'model: llama-3-8b\nhardware: h100-sxm\nworkload: {trace: "%s"}\n' "$T/$t.csv" >"$T/r.yaml"
    rrc=0; "$LLMSWEEP" run --config "$T/r.yaml" >/dev/null 2>&1 || rrc=$?
    [ "$rrc" = 1 ] || fail "run on $t.csv: exit $rrc (the test assumes 1)"
    usage "$rrc" "plan: --trace $T/$t.csv" --trace "$T/$t.csv"
done
usage 1 "plan: --trace $T/bad.csv:3: column 2 (prompt_tokens)" --trace "$T/bad.csv"
echo "plan_dist: ok"
