#!/usr/bin/env bash
# readme_plan.sh -- the README's tour starts with `plan` (issue 16), and that one command, taken from
# README.md itself and run as written from a scratch directory laid out like a fresh clone (traces/
# linked, no out/ folder), gives a planner's answer: exit 0, the top deployments with their launch
# lines, the fewest GPUs, the Pareto frontier, and the files it says it writes.
set -u
fail() { echo "FAIL: $*"; exit 1; }
T=$(mktemp -d /tmp/ls_readme_plan.XXXXXX)
trap 'rm -rf "$T"' EXIT
# the tour block's first command (with its continuation lines), comments skipped
cmd=$(sed -n '/^## A tour/,/^```$/p' "$LS_SOURCE_DIR/README.md" | sed '1,/^```sh/d' | grep -v '^#' |
    awk 'NF { line = line $0; if ($0 !~ /\\$/) { print line; exit } sub(/\\$/, "", line) }')
[[ "$cmd" == "build/llmsweep plan "* ]] || fail "the README tour does not start with plan: '$cmd'"
mkdir -p "$T/clone"
ln -s "$LS_SOURCE_DIR/traces" "$T/clone/traces"
cd "$T/clone" || fail "cd"
args=${cmd#build/llmsweep }
eval "\"\$LLMSWEEP\" $args" >"$T/out" 2>"$T/err" </dev/null || { cat "$T/err"; fail "the tour's plan command failed: $cmd"; }
for want in "^top 5 deployments by capacity per GPU under the SLO" "^  1\. vllm serve " "^     sglang: python -m sglang.launch_server " \
    "^fewest GPUs at the target rate:" "^Pareto frontier on " "^sensitivity of the top"; do
    grep -q "$want" "$T/out" || { cat "$T/out"; fail "the answer lacks '$want'"; }
done
o=$(grep -o -- '-o [^ ]*\.h5' <<<"$cmd" | cut -d' ' -f2)
for f in "$o" "${o%.h5}.md" "${o%.h5}.spec.yaml" "${o%.h5}.top1.yaml"; do
    [ -s "$f" ] || fail "$f not written"
done
echo "readme_plan: ok: $cmd"
