#!/bin/sh
# The installed example configuration, read by each stage's own parser
# (common/nerrf_conf.c with that stage's options):
#  - as shipped (all commented out) every stage accepts it;
#  - each "#key = value" line, uncommented, is accepted by its stage, so
#    each key it shows exists and each example value is valid (one at a
#    time: some keys exclude others, like comm and exclude-comm);
#  - every key a stage knows (its long options in --help, but config, help, version
#    and check-config, which a file may not set) is shown in that stage's section.
#   conf_example.sh EXAMPLE STAGE...
set -eu
example=$1; shift
if [ "$(id -u)" -ne 0 ]; then
	# the collector reads only a root-owned file in a root-owned directory
	echo "SKIP: the collector's part needs root (the file must be root's); run the suite as root"
	exit 77
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
install -m 644 "$example" "$tmp/shipped.conf"
fail=0
for bin in "$@"; do
	stage=$(basename "$bin" | sed 's/^nerrf-//')
	if ! out=$("$bin" --config "$tmp/shipped.conf" --help 2>&1 >/dev/null); then
		echo "FAIL: nerrf-$stage refuses the example as shipped: $out"
		fail=1
	fi
	grep -qx "\[$stage\]" "$example" || { echo "FAIL: no [$stage] section"; fail=1; continue; }
	settings=$(awk -v s="[$stage]" '/^\[/ { in_s = ($0 == s); next } in_s && /^#[a-z][a-z0-9-]* = / { print substr($0, 2) }' "$example")
	echo "$settings" | while IFS= read -r line; do
		printf '[%s]\n%s\n' "$stage" "$line" >"$tmp/one.conf"
		chmod 644 "$tmp/one.conf"
		if ! out=$("$bin" --config "$tmp/one.conf" --help 2>&1 >/dev/null); then
			echo "FAIL: nerrf-$stage refuses '$line' from the example: $out"
			echo fail >"$tmp/failed"
		fi
	done
	[ -e "$tmp/failed" ] && fail=1
	keys=$(echo "$settings" | awk '{ print $1 }')
	known=$(NERRF_CONFIG="$tmp/shipped.conf" "$bin" --help | sed -n 's/^ *--\([a-z0-9-]*\).*/\1/p' | grep -vx 'config\|help\|version\|check-config')
	[ -n "$known" ] || { echo "FAIL: no options in nerrf-$stage --help"; fail=1; }
	for k in $known; do
		echo "$keys" | grep -qx -- "$k" || { echo "FAIL: [$stage] does not show the key '$k'"; fail=1; }
	done
	echo "[$stage]: $(echo "$known" | wc -l) keys checked"
done
exit $fail
