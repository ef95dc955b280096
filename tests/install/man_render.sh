#!/bin/sh
# Each generated manual page renders through man-db's pipeline (preconv, tbl,
# groff) on an 80-column terminal with every groff warning on, and says
# nothing; its NAME section is one man-db's index (lexgrog) can read.
#   man_render.sh PAGE...
set -eu
command -v man >/dev/null && command -v lexgrog >/dev/null ||
	{ echo "SKIP: man and lexgrog missing (apt-get install man-db)"; exit 77; }
fail=0
for p in "$@"; do
	err=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings=w -l "$p" 2>&1 >/dev/null) || true
	if [ -n "$err" ]; then
		echo "FAIL: $p: $err"
		fail=1
	fi
	lines=$(LC_ALL=C.UTF-8 MANWIDTH=80 man -l "$p" 2>/dev/null | wc -l)
	[ "$lines" -gt 20 ] || { echo "FAIL: $p renders to $lines lines"; fail=1; }
	lexgrog "$p" || { echo "FAIL: $p: lexgrog cannot read its NAME section"; fail=1; }
done
exit $fail
