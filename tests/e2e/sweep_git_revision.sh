#!/usr/bin/env bash
# sweep_git_revision.sh -- the git_revision root attribute comes from a header generated at build
# time (cli/git_revision.cmake): it follows new commits, is rewritten only when the revision
# changes (so an unchanged revision recompiles nothing), says "unknown" outside a git checkout,
# and is what `llmsweep --version` prints and `sweep` records.
. "$(dirname "$0")/sweep_lib.bash"
SCRIPT=$LS_SOURCE_DIR/cli/git_revision.cmake
command -v git >/dev/null && command -v cmake >/dev/null || { echo "skip: no git or cmake"; exit 0; }
gen() { cmake -DSRC="$1" -DOUT="$T/rev.h" -P "$SCRIPT" || fail "cmake -P $SCRIPT"; }
mkdir "$T/repo"
git -C "$T/repo" init -q
git -C "$T/repo" -c user.name=t -c user.email=t@t commit -q --allow-empty -m one
gen "$T/repo"
h1=$(git -C "$T/repo" rev-parse --short=12 HEAD)
grep -q "#define LLMSWEEP_GIT_REV \"$h1\"" "$T/rev.h" || fail "first commit: $(cat "$T/rev.h")"
# unchanged revision: the header is not rewritten (its mtime stays)
touch -d '2000-01-01' "$T/rev.h"
gen "$T/repo"
[ "$(stat -c %Y "$T/rev.h")" = "$(date -d 2000-01-01 +%s)" ] || fail "header rewritten without a change"
# a new commit: the new revision
git -C "$T/repo" -c user.name=t -c user.email=t@t commit -q --allow-empty -m two
h2=$(git -C "$T/repo" rev-parse --short=12 HEAD)
gen "$T/repo"
grep -q "\"$h2\"" "$T/rev.h" || fail "second commit: $(cat "$T/rev.h")"
# an uncommitted change: -dirty
echo x > "$T/repo/f"; git -C "$T/repo" add f
gen "$T/repo"
grep -q "\"$h2-dirty\"" "$T/rev.h" || fail "dirty tree: $(cat "$T/rev.h")"
# outside a git checkout
mkdir "$T/plain"
GIT_CEILING_DIRECTORIES=$T gen "$T/plain"
grep -q '"unknown"' "$T/rev.h" || fail "outside git: $(cat "$T/rev.h")"
# the binary: --version and the result file carry the same revision
v=$("$LLMSWEEP" --version | sed -n 's/.*(\(.*\)).*/\1/p')
[ -n "$v" ] || fail "--version: $("$LLMSWEEP" --version)"
"$LLMSWEEP" sweep "$SMALL" -o "$T/s.h5" --shard 0/17 -q || fail "sweep"
"$PY" -c "import h5py,sys; r=h5py.File(sys.argv[1],'r').attrs['git_revision']; assert r == sys.argv[2], (r, sys.argv[2])" "$T/s.h5" "$v" ||
    fail "git_revision attribute differs from --version ($v)"
echo "sweep_git_revision: ok ($v)"
