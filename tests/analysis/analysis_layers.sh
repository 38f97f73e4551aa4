#!/usr/bin/env bash
# analysis_layers.sh -- the analysis module's files call one way (issue 17.7: the recommend.c <->
# report.c call circle goes). From the symbols of the built objects (nm, not the sources):
#   report_text.c  (formats, names)             calls none of the other three
#   spec_report.c  (speculative pairs, series)  calls report_text only
#   report.c       (group, SLO, rank, classify) calls report_text and spec_report's pairing only
#   recommend.c    (recommendations)            calls report_text and report.c's data, never
#                                               report_format.c
#   report_format.c (layout)                    may call all of them
set -euo pipefail
: "${LLMSWEEP:?set by ctest}"
lib=$(find "$(dirname "$LLMSWEEP")" -name libls_analysis.a -print -quit)
[ -n "$lib" ] || { echo "libls_analysis.a not found under $(dirname "$LLMSWEEP")"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for o in report_text spec_report report recommend report_format; do
  nm "$lib" 2>/dev/null | awk -v m="$o.c.o:" '$0==m{on=1; next} /\.o:$/{on=0} on' > "$tmp/$o.nm"
  [ -s "$tmp/$o.nm" ] || { echo "no $o.c.o in $lib"; exit 1; }
  awk '$2 ~ /^[TDBR]$/ {print $3}' "$tmp/$o.nm" | sort -u > "$tmp/$o.def"
  awk '$1 == "U" {print $2}' "$tmp/$o.nm" | sort -u > "$tmp/$o.use"
done
bad=0
check() { # FILE must not call anything defined in OTHER
  local hits
  hits=$(comm -12 "$tmp/$1.use" "$tmp/$2.def")
  if [ -n "$hits" ]; then echo "$1.c calls $2.c: $hits"; bad=1; fi
}
for other in spec_report report recommend report_format; do check report_text "$other"; done
for other in report recommend report_format; do check spec_report "$other"; done
check report recommend
check report report_format
check recommend report_format
# and the ones that must hold: the layers are used
[ -n "$(comm -12 "$tmp/recommend.use" "$tmp/report_text.def")" ] || { echo "recommend.c uses no report_text.c helper?"; bad=1; }
[ -n "$(comm -12 "$tmp/report_format.use" "$tmp/recommend.def")" ] || { echo "report_format.c does not call recommend.c"; bad=1; }
[ "$bad" -eq 0 ] && echo ok
exit "$bad"
