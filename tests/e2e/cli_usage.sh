#!/usr/bin/env bash
# cli_usage.sh -- --help works everywhere; unknown commands and flags exit 2 with the usage.
set -u
fail() { echo "FAIL: $*"; exit 1; }
"$LLMSWEEP" --help | grep -q "usage: llmsweep" || fail "--help"
"$LLMSWEEP" --version | grep -q "llmsweep" || fail "--version"
"$LLMSWEEP" bogus >/dev/null 2>/tmp/ls_err_$$; rc=$?
[ $rc -eq 2 ] || fail "unknown command exit $rc"
grep -q "unknown command 'bogus'" /tmp/ls_err_$$ || fail "message"
grep -q "usage:" /tmp/ls_err_$$ || fail "usage on error"
"$LLMSWEEP" >/dev/null 2>&1; [ $? -eq 2 ] || fail "no command"
rm -f /tmp/ls_err_$$
echo "cli_usage: ok"
