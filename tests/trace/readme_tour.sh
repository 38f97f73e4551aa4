#!/usr/bin/env bash
# readme_tour.sh -- every `llmsweep trace ...` command of the README's tour, taken from README.md itself (so
# the test fails when the README drifts from the command line), runs as written from a scratch directory
# laid out like the checkout (traces/ and ../shared/traces/ as links) and exits 0 with its output file.
set -u
fail() { echo "FAIL: $*"; exit 1; }
T=$(mktemp -d /tmp/ls_readme_tour.XXXXXX)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/main" "$T/shared"
ln -s "$LS_SOURCE_DIR/traces" "$T/main/traces"
[ -d "${LS_SHARED_TRACES:-}" ] && ln -s "$LS_SHARED_TRACES" "$T/shared/traces"

# the tour block: from "## A tour" to the end of its ```sh fence; the trace commands in it (one line each)
sed -n '/^## A tour/,/^```$/p' "$LS_SOURCE_DIR/README.md" | grep '^build/llmsweep trace ' | sed 's/  *#.*$//' \
    >"$T/cmds"
n=$(wc -l <"$T/cmds")
[ "$n" -ge 3 ] || fail "expected the stats, convert and synth commands in the README tour, found $n"
for sub in stats convert synth; do
    grep -q "^build/llmsweep trace $sub " "$T/cmds" || fail "no 'trace $sub' command in the README tour"
done

cd "$T/main" || fail "cd"
while IFS= read -r cmd; do
    # a command on a real shared trace is skipped only where the shared traces are not installed
    if [[ "$cmd" == *../shared/traces/* ]] && [ ! -d "$T/shared/traces" ]; then
        echo "skip (no shared traces): $cmd"
        continue
    fi
    args=${cmd#build/llmsweep }
    eval "\"\$LLMSWEEP\" $args" >"$T/out" 2>"$T/err" </dev/null || fail "README tour command failed: $cmd
$(cat "$T/err")"
    echo "ok: $cmd"
done <"$T/cmds"
# convert and synth wrote what the README says they write
for f in trace.csv.gz heavy.csv.gz; do
    grep -q " $f\b" "$T/cmds" || continue
    [ -s "$f" ] || fail "$f not written"
    "$LLMSWEEP" trace stats "$f" >/dev/null || fail "trace stats $f"
done
echo "PASS: $n README trace commands"
