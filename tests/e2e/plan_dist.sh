#!/usr/bin/env bash
# plan_dist.sh -- `plan --isl/--osl` with length distributions (issue 16: "--isl/--osl (with a
# distribution) instead of a trace"), in `trace synth --prompt`'s syntax: the spec's workload holds
# the distribution, and the requests a top configuration replays have the lengths it describes:
# their mean prompt within 6% of exp(mu + sigma^2/2) = 457.1 for lognormal mu=6, sigma=0.5 (the
# lognormal's own mean: about 3.5 standard errors over 1,000 requests), every output 64. A bare N
# (and fixed:N) writes the fixed mapping as before. Bad distributions are usage errors naming the flag.
. "$(dirname "$0")/sweep_lib.bash"
B="$LLMSWEEP plan --model llama-3-8b --hardware h100-sxm --gpus 2 --rate 10 --slo ttft_p99=1s,tpot_p99=50ms"
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
echo "plan_dist: ok"
