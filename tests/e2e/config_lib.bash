# config_lib.bash -- shared by the run-configuration end-to-end tests (prefix_cache.sh,
# kv_offload.sh; sourced, not a test itself): a temporary folder and a check of refused files.
set -u
fail() { echo "FAIL: $*"; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# bad NAME EXPECTED LINE...: write the lines to $T/NAME.yaml; `llmsweep run` must refuse it with
# a message containing EXPECTED (its FILE:LINE and what was expected).
bad() {
    local name=$1 want=$2
    shift 2
    printf '%s\n' "$@" >"$T/$name.yaml"
    if "$LLMSWEEP" run --config "$T/$name.yaml" --json >/dev/null 2>"$T/err"; then fail "$name: accepted"; fi
    grep -q -- "$want" "$T/err" || fail "$name: message: $(cat "$T/err")"
}
