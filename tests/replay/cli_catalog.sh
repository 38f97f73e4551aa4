#!/usr/bin/env bash
# cli_catalog.sh -- `llmsweep catalog`: tables with derived sizes, --json, user files, usage errors.
set -u
fail() { echo "FAIL: $*"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$LLMSWEEP" catalog --help | grep -q "usage: llmsweep catalog" || fail "--help"
"$LLMSWEEP" catalog >"$tmp/all" || fail "catalog exit $?"
grep -Eq '^llama-3-70b +80 +8192 .* 70\.55 +70\.55 +327680$' "$tmp/all" || fail "llama-3-70b row"
grep -Eq '^mixtral-8x7b .* 8/top2 +46\.70 +12\.88 ' "$tmp/all" || fail "mixtral row"
grep -Eq '^gh200-96gb +96 +4\.000 ' "$tmp/all" || fail "gh200 row"
grep -Eq '^gh200-quad +4 ' "$tmp/all" || fail "gh200-quad row"
"$LLMSWEEP" catalog clusters >"$tmp/cl" || fail "clusters"
grep -q "llama" "$tmp/cl" && fail "clusters only"
"$LLMSWEEP" catalog models --json >"$tmp/json" || fail "--json"
"$LS_PYTHON" - "$tmp/json" <<'PY' || fail "json content"
import json, sys
d = json.load(open(sys.argv[1]))
assert set(d) == {"models"}, d.keys()
m = {x["name"]: x for x in d["models"]}
assert abs(m["llama-3.1-405b"]["params"] / 405.85e9 - 1) < 0.005
assert m["llama-3-70b"]["kv_bytes_per_token_bf16"] == 327680
PY
"$LLMSWEEP" catalog models --catalog "$LS_SOURCE_DIR/examples/catalog-custom.yaml" | grep -q '^qwen2-7b ' \
  || fail "user catalog"
printf 'gpus:\n  x:\n    base: h100-sxm\n    hbm: 3\n' >"$tmp/bad.yaml"
"$LLMSWEEP" catalog --catalog "$tmp/bad.yaml" >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] || fail "bad file exit $rc"
grep -q "bad.yaml:4: unknown key 'gpus.x.hbm'" "$tmp/err" || fail "bad file message"
"$LLMSWEEP" catalog --bogus >/dev/null 2>&1; [ $? -eq 2 ] || fail "bad flag exit"
"$LLMSWEEP" catalog pizza >/dev/null 2>&1; [ $? -eq 2 ] || fail "bad section exit"
echo "cli_catalog: ok"
