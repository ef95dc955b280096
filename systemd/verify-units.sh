#!/bin/sh
# Checks the unit files, pointed at the binaries of this build:
#  - systemd-analyze verify, so a typo in a directive or a missing binary fails;
#  - the publisher with the network drop-in applied verifies too;
#  - each stage may call seccomp() under its unit's SystemCallFilter=, or it
#    could not install its own allowlist and would refuse to start;
#  - each stage reloads on `systemctl reload` (ExecReload= sends SIGHUP);
#  - systemd-analyze security --offline=true: encoder and publisher at most
#    2.0, the collector at most 1.9 (2.3 before IPAddressDeny/PrivateMounts).
#   verify-units.sh SRCDIR BINDIR...   (each BINDIR holds one stage binary)
set -eu
src=$1; shift
command -v systemd-analyze >/dev/null || { echo "SKIP: systemd-analyze not installed (apt-get install systemd)"; exit 77; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/libexec"
for d in "$@"; do
	for b in "$d"/nerrf-collector "$d"/nerrf-encoder "$d"/nerrf-publisher "$d"/nerrf-exporter "$d"/nerrf-forward; do
		[ -x "$b" ] && ln -s "$(realpath "$b")" "$tmp/libexec/"
	done
done
subst() {
	sed -e "s|@LIBEXECDIR@|$tmp/libexec|g" -e "s|@DOCDIR@|/usr/share/doc/nerrf-tracker|g" "$1"
}
for u in "$src"/*.service.in; do
	subst "$u" >"$tmp/$(basename "$u" .in)"
done
# A drop-in's [Service] lines read as if appended to the unit.
{ cat "$tmp/nerrf-publisher.service"; subst "$src/nerrf-publisher-network.conf.in"; } \
	>"$tmp/nerrf-publisher-network.service"
cp "$src/nerrf.target" "$tmp/"
# verify prints problems on stderr and may still exit 0 for some of them.
out=$(cd "$tmp" && systemd-analyze verify --man=no ./*.service ./nerrf.target 2>&1) || { echo "$out"; exit 1; }
if [ -n "$out" ]; then
	echo "$out"
	exit 1
fi
echo "units verified: $(cd "$tmp" && ls ./*.service ./nerrf.target | tr '\n' ' ')"

# The syscalls of a filter group, nested groups expanded.
expand() {
	systemd-analyze syscall-filter "$1" | sed -n 's/^    \([^#]\)/\1/p' | while read -r x; do
		case $x in
		@*) expand "$x" ;;
		*) echo "$x" ;;
		esac
	done
}
# What a unit's SystemCallFilter= lines leave allowed: the allow lists minus the ~ lists.
allowed() {
	sed -n 's/^SystemCallFilter=//p' "$1" | while read -r line; do
		case $line in ~*) sign=-; line=${line#\~} ;; *) sign=+ ;; esac
		for x in $line; do
			case $x in
			@*) expand "$x" ;;
			*) echo "$x" ;;
			esac | sed "s/^/$sign /"
		done
	done >"$tmp/filter"
	sed -n 's/^+ //p' "$tmp/filter" | sort -u >"$tmp/allow"
	sed -n 's/^- //p' "$tmp/filter" | sort -u >"$tmp/deny"
	comm -23 "$tmp/allow" "$tmp/deny"
}
for s in collector encoder publisher forward; do
	if ! allowed "$tmp/nerrf-$s.service" | grep -qx seccomp; then
		echo "nerrf-$s.service: its SystemCallFilter= refuses seccomp(), which the stage needs to install its own allowlist"
		exit 1
	fi
done

# systemctl reload sends SIGHUP, which every stage takes as "read the configuration again".
for s in collector encoder publisher exporter; do
	if ! grep -qx 'ExecReload=/bin/kill -HUP $MAINPID' "$tmp/nerrf-$s.service"; then
		echo "nerrf-$s.service: no ExecReload=/bin/kill -HUP \$MAINPID: systemctl reload would fail"
		exit 1
	fi
done

fail=0
for s in collector:19 encoder:20 publisher:20 publisher-network: forward:12; do
	unit=nerrf-${s%%:*}.service max=${s#*:}
	score=$(cd "$tmp" && systemd-analyze security --offline=true "./$unit" 2>&1 | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
	[ -n "$score" ] || { echo "$unit: no exposure level from systemd-analyze security"; exit 1; }
	if [ -n "$max" ] && [ "$(echo "$score" | tr -d .)" -gt "$max" ]; then
		echo "$unit: exposure $score, above $(echo "$max" | sed 's/.$/.&/')"
		fail=1
	else
		echo "$unit: exposure $score"
	fi
done
exit $fail
