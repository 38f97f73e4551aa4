#!/usr/bin/env bash
# yaml_alias_bomb.sh -- a 600-byte specification of nested aliases (9 levels of 9: 387 million nodes
# if expanded, 18.7 GB and 142 s before the alias budget) is refused within 1 s of CPU and 100 MB, naming
# the file: for its unknown top-level keys, checked before anything is expanded, and, with the
# anchors under a known key (`base`) or in a run configuration, by the alias budget; through
# `sweep`, `sweep --dry-run` and `run`. A signal while a large grid is being expanded and
# validated ends the sweep at once with exit 4 and writes nothing.
. "$(dirname "$0")/sweep_lib.bash"
cd "$T"
{
    echo "name: lol"
    echo "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"
    prev=a
    for c in b c d e f g h i; do
        echo "$c: &$c [*$prev, *$prev, *$prev, *$prev, *$prev, *$prev, *$prev, *$prev, *$prev]"
        prev=$c
    done
    echo "base: {model: llama-3-8b, workload: {arrival: {process: poisson, rate: 1}, duration_s: 1}}"
    echo "grid: {parallelism: [tp1]}"
} > bomb.yaml
size=$(wc -c < bomb.yaml)
[ "$size" -lt 800 ] || fail "the bomb is $size bytes"
# the same anchors inside base: the top-level keys are right, the alias budget refuses it
{
    echo "name: lol"
    echo "base:"
    sed -n '2,10p' bomb.yaml | sed 's/^/  /'
    echo "grid: {parallelism: [tp1]}"
} > bomb2.yaml
check() { # NAME MESSAGE COMMAND...: exit 1, stderr matches MESSAGE, < 1 s, < 100 MB
    local name=$1 msg=$2; shift 2
    /usr/bin/time -v -o "$name.time" "$@" >"$name.out" 2>"$name.err"; local rc=$?
    [ $rc -eq 1 ] || fail "$name: exit $rc: $(cat "$name.err")"
    grep -q "$msg" "$name.err" || fail "$name: message: $(cat "$name.err")"
    # CPU time (user + system) is bounded at 1 s: wall time on this shared machine depends on
    # the load (MPI start-up alone can take seconds at a load of 15); it is bounded loosely
    local kb cpu s
    kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$name.time")
    cpu=$(awk -F': ' '/User time|System time/ {v += $2} END {print v}' "$name.time")
    s=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); v = 0; for (i = 1; i <= n; i++) v = v * 60 + p[i]; print v}' "$name.time")
    [ -n "$kb" ] && [ "$kb" -lt 102400 ] || fail "$name: peak RSS ${kb} kB (limit 100 MB)"
    awk -v c="$cpu" 'BEGIN {exit !(c < 1.0)}' || fail "$name: took $cpu s of CPU (limit 1 s)"
    awk -v s="$s" 'BEGIN {exit !(s < 10.0)}' || fail "$name: took $s s wall clock (limit 10 s)"
    echo "$name: rejected in $cpu s of CPU ($s s wall clock), peak RSS $kb kB"
}
KEY="bomb.yaml:2: unknown key '(specification).a' (expected one of: name,"
ALIAS="bomb2.yaml:[0-9]*: alias '\*[a-i]' would expand aliases to more than 100000 nodes"
check dry "$KEY" "$LLMSWEEP" sweep bomb.yaml --dry-run
check sweep "$KEY" "$LLMSWEEP" sweep bomb.yaml -o bomb.h5
check dry2 "$ALIAS" "$LLMSWEEP" sweep bomb2.yaml --dry-run
check sweep2 "$ALIAS" "$LLMSWEEP" sweep bomb2.yaml -o bomb.h5
[ ! -e bomb.h5 ] || fail "the refused spec created its output"
sed -n '2,10p' bomb.yaml > bombcfg.yaml   # the same aliases in a run configuration
echo "model: llama-3-8b" >> bombcfg.yaml
check run "bombcfg.yaml:[0-9]*: alias '\*[a-i]' would expand aliases to more than 100000 nodes" \
    "$LLMSWEEP" run --config bombcfg.yaml
# a signal during the (slow) expansion and validation of a 34,000-configuration grid: exit 4 at once
sed "s/^grid:/grid:\n  workload.prompt_tokens.mean: [RANGE]/" "$SMALL" |
    sed "s/RANGE/$(seq -s, 100 2099)/" > large.yaml
"$LLMSWEEP" sweep large.yaml -o large.h5 2>large.err & pid=$!
# wait until it is expanding (past MPI start-up, handlers installed): its memory grows past 100 MB
for _ in $(seq 1 600); do
    kb=$(awk '/VmRSS/ {print $2}' /proc/$pid/status 2>/dev/null)
    [ "${kb:-0}" -gt 102400 ] && break
    sleep 0.05
done
kill -TERM $pid 2>/dev/null || fail "the large sweep ended before the signal (make the grid larger)"
t0=$(date +%s.%N)
wait $pid; rc=$?
t1=$(date +%s.%N)
[ $rc -eq 4 ] || fail "signal during validation: exit $rc: $(tail -3 large.err)"
grep -q "interrupted while reading or validating the specification: nothing was written" large.err ||
    fail "signal during validation: message: $(tail -3 large.err)"
awk -v a="$t0" -v b="$t1" 'BEGIN {exit !(b - a < 2.0)}' || fail "signal during validation: exit took $(awk -v a="$t0" -v b="$t1" "BEGIN {print b - a}") s"
[ ! -e large.h5 ] || fail "an interrupted validation created its output"
echo "yaml_alias_bomb: ok"
