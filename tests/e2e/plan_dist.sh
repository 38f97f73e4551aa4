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
[ "$rc" = 2 ] && grep -q -- "--isl 9000 does not fit llama-3-8b's context of 8192 tokens" "$T/u.err" ||
    { cat "$T/u.err"; fail "--isl 9000: exit $rc"; }
$B0 --rate 1 --isl lognormal:mu=8.7,sigma=0.3 --osl 64 --duration 100 -o "$T/w.h5" --dry-run >/dev/null 2>"$T/w.err" ||
    { cat "$T/w.err"; fail "plan with long prompts"; }
grep -Eq "^plan: warning: [0-9]+ of the [0-9]+ requests \([0-9.]+%\) have a prompt over llama-3-8b's context of 8192" "$T/w.err" ||
    { cat "$T/w.err"; fail "no warning about prompts over the context"; }
# too few requests a run for a p99 (rate x duration under 10, the capacity search's own minimum): refused, both flags named
rc=0; $B0 --rate 0.001 --isl 512 --osl 64 --duration 20 -o "$T/u.h5" --dry-run >/dev/null 2>"$T/u.err" || rc=$?
[ "$rc" = 2 ] && grep -q -- "--rate 0.001 over --duration 20 s gives about 0.02 requests a run" "$T/u.err" ||
    { cat "$T/u.err"; fail "--rate 0.001: exit $rc"; }
# a budget whose candidates would not fit in memory is refused at once, naming the flags to narrow
rc=0; timeout 60 $LLMSWEEP plan --model llama-3-8b --hardware h100-sxm --gpus 4096 --modes agg,disagg --isl 512 --osl 64 \
    --rate 10 --slo ttft_p99=1s,tpot_p99=50ms -o "$T/u.h5" --dry-run >/dev/null 2>"$T/u.err" || rc=$?
[ "$rc" = 2 ] && grep -q "more than 100000 candidate deployments" "$T/u.err" && grep -q -- "--gpus" "$T/u.err" ||
    { cat "$T/u.err"; fail "--gpus 4096 --modes disagg: exit $rc"; }
# any file name: a trace path with a space, '#', '"' and '\\' is quoted in the spec and read back
d="$T/a b#\"c\\d"
mkdir -p "$d" && cp "$LS_SOURCE_DIR/traces/azure-conv-excerpt.csv.gz" "$d/t #\".csv.gz"
$LLMSWEEP plan --model llama-3-8b --hardware h100-sxm --gpus 1 --trace "$d/t #\".csv.gz" --slo ttft_p99=2s,tpot_p99=50ms \
    -o "$T/q.h5" -q >"$T/q.txt" 2>"$T/q.err" || { cat "$T/q.err"; fail "plan on a trace with an odd name"; }
grep -q "^top .* deployments" "$T/q.txt" || fail "no answer for the odd trace name"
echo "plan_dist: ok"
