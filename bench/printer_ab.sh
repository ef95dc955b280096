#!/bin/sh
# The JSON printer's cost, offline: the same journal printed by several
# nerrf binaries (builds before and after a change), alternating, ROUNDS
# times each; prints the median user, system and wall seconds of each, and
# the least user seconds (this VM has slow spells that a median of few
# rounds does not hide), and fails if their outputs differ. A journal to print: run `nerrf run
# --journal DIR` while bench/workload runs (BENCHMARKS.md, "The JSON printer").
#   usage: bench/printer_ab.sh JOURNAL_DIR ROUNDS NERRF_BINARY...
set -eu
[ $# -ge 3 ] || { echo "usage: $0 JOURNAL_DIR ROUNDS NERRF_BINARY..." >&2; exit 2; }
dir=$1 rounds=$2
shift 2
tmp=$(mktemp -d /tmp/nerrf-printer-ab-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
i=0
for b in "$@"; do
	i=$((i + 1))
	"$b" replay --json "$dir" | md5sum > "$tmp/sum.$i"
	cmp -s "$tmp/sum.1" "$tmp/sum.$i" || { echo "$b prints other JSON than $1" >&2; exit 1; }
done
echo "$("$1" replay --json "$dir" | wc -l) events, $rounds rounds"
for r in $(seq "$rounds"); do
	i=0
	for b in "$@"; do
		i=$((i + 1))
		/usr/bin/time -f "%U %S %e" -a -o "$tmp/t.$i" "$b" replay --json "$dir" > /dev/null
	done
done
median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
printf '%-40s %8s %8s %8s %8s\n' binary user_s sys_s wall_s min_user
i=0
for b in "$@"; do
	i=$((i + 1))
	printf '%-40s %8s %8s %8s %8s\n' "$b" "$(cut -d' ' -f1 "$tmp/t.$i" | median)" \
		"$(cut -d' ' -f2 "$tmp/t.$i" | median)" "$(cut -d' ' -f3 "$tmp/t.$i" | median)" \
		"$(cut -d' ' -f1 "$tmp/t.$i" | sort -n | head -1)"
done
