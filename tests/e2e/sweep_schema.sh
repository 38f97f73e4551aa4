#!/usr/bin/env bash
# sweep_schema.sh -- `llmsweep schema` lists every column the sweep writes, in the three formats,
# and docs/RESULTS.md is its current Markdown output.
. "$(dirname "$0")/sweep_lib.bash"
"$LLMSWEEP" schema > "$T/s.txt" || fail "text"
grep -q "ttft_p99_s" "$T/s.txt" && grep -q "config_hash" "$T/s.txt" || fail "text content"
"$LLMSWEEP" schema --format json > "$T/s.json" || fail "json"
"$LLMSWEEP" sweep "$SMALL" -o "$T/r.h5" --requests sample:3 -q || fail "sweep"
"$PY" - "$T/s.json" "$T/r.h5" <<'PY' || fail "json schema vs file"
import json, sys, h5py
d = json.load(open(sys.argv[1]))
f = h5py.File(sys.argv[2], "r")
for table in ("/configs", "/results", "/requests"):
    names = [c["name"] for c in d[table]]
    assert names == list(f[table].dtype.names), (table, names, f[table].dtype.names)
assert sorted(c["name"] for c in d["/ (root attributes)"]) == sorted(f.attrs.keys())
# sample:3 keeps 3 requests per configuration
assert len(f["/requests"]) == 3 * len(f["/results"])
PY
"$LLMSWEEP" schema --format md > "$T/s.md" || fail "md"
diff -q "$T/s.md" "$LS_SOURCE_DIR/docs/RESULTS.md" >/dev/null ||
    fail "docs/RESULTS.md is stale: regenerate with llmsweep schema --format md > docs/RESULTS.md"
"$LLMSWEEP" schema --format xml 2>/dev/null; [ $? -eq 2 ] || fail "bad format: exit"
echo "sweep_schema: ok"
