#!/bin/sh
# Checks the unit files with systemd-analyze verify, pointed at the binaries
# of this build, so a typo in a directive or a missing binary fails the test.
#   verify-units.sh SRCDIR BINDIR...   (each BINDIR holds one stage binary)
set -eu
src=$1; shift
command -v systemd-analyze >/dev/null || { echo "SKIP: systemd-analyze not installed (apt-get install systemd)"; exit 77; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/libexec"
for d in "$@"; do
	for b in "$d"/nerrf-collector "$d"/nerrf-encoder "$d"/nerrf-publisher; do
		[ -x "$b" ] && ln -s "$(realpath "$b")" "$tmp/libexec/"
	done
done
for u in "$src"/*.service.in; do
	sed -e "s|@LIBEXECDIR@|$tmp/libexec|g" -e "s|@DOCDIR@|/usr/share/doc/nerrf-tracker|g" \
		"$u" >"$tmp/$(basename "$u" .in)"
done
cp "$src/nerrf.target" "$tmp/"
# verify prints problems on stderr and may still exit 0 for some of them.
out=$(cd "$tmp" && systemd-analyze verify --man=no ./*.service ./nerrf.target 2>&1) || { echo "$out"; exit 1; }
if [ -n "$out" ]; then
	echo "$out"
	exit 1
fi
echo "units verified: $(cd "$tmp" && ls ./*.service ./nerrf.target | tr '\n' ' ')"
