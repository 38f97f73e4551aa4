#!/usr/bin/env bash
# readme_bundled.sh -- the README's tour works in a fresh clone (issue 18.7): every input file it names
# (traces/..., examples/...) is in the repository, it names nothing outside it (../shared), and its
# `trace stats` line runs and prints the bundled excerpt's row count (traces/README.md: 2,000).
set -euo pipefail
: "${LLMSWEEP:?set by ctest}"
root=$(cd "$(dirname "$0")/../.." && pwd)
tour=$(awk '/^## A tour/{on=1} on&&/^```sh/{inb=1; next} inb&&/^```/{exit} inb{print}' "$root/README.md")
[ -n "$tour" ] || { echo "README.md has no tour code block"; exit 1; }
if grep -n '\.\./' <<<"$tour"; then echo "the tour names a path outside the repository"; exit 1; fi
n=0
for p in $(grep -o '\b\(traces\|examples\)/[A-Za-z0-9._/-]*' <<<"$tour" | sort -u); do
  [ -e "$root/$p" ] || { echo "the tour names $p, which is not in the repository"; exit 1; }
  n=$((n + 1))
done
[ "$n" -ge 3 ] || { echo "expected the tour to name bundled files, found $n"; exit 1; }
line=$(grep '^build/llmsweep trace stats ' <<<"$tour" | head -1)
[ -n "$line" ] || { echo "no trace stats line in the tour"; exit 1; }
cmd=${line%%#*}
out=$(cd "$root" && eval "\"\$LLMSWEEP\" ${cmd#build/llmsweep }")
grep -Eq '2,?000' <<<"$out" || { echo "trace stats printed:"; echo "$out"; exit 1; }
echo ok
