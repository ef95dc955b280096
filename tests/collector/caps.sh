#!/bin/sh
# The collector needs exactly the capabilities its unit grants
# (CapabilityBoundingSet= in nerrf-collector.service, which the Kubernetes
# manifest's collector container adds too): with those alone, as root
# otherwise stripped of them, it loads, attaches, drops privileges and says
# ready, in a run directory made as tmpfiles.d makes it (0750, the stage
# user's: root may not read it); without any one of them it stops with a
# message and never says ready.
#   caps.sh COLLECTOR UNIT_IN
set -eu
bin=$1 unit=$2
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (it loads BPF programs)"; exit 77; }
command -v setpriv >/dev/null || { echo "SKIP: setpriv missing (apt-get install util-linux)"; exit 77; }
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit" | tr 'A-Z' 'a-z' | sed 's/cap_//g')
[ -n "$caps" ] || { echo "FAIL: no CapabilityBoundingSet= in $unit"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
: >"$tmp/tracker.conf"
mkdir "$tmp/run"

# run CAPS...: 0 once the collector said ready (then stopped), 1 if it exited first
run() {
	rm -f "$tmp/run/"*
	: >"$tmp/err"
	chown nobody:nogroup "$tmp/run"
	chmod 750 "$tmp/run"
	set -- $(echo "$@" | sed 's/[^ ]*/+&/g' | tr ' ' ',')
	NERRF_CONFIG=$tmp/tracker.conf setpriv --bounding-set=-all,"$1" --inh-caps=-all \
		"$bin" --rundir "$tmp/run" --user nobody --pid 1 2>"$tmp/err" &
	pid=$!
	for _ in $(seq 300); do
		if grep -q "ready:" "$tmp/err"; then
			kill -TERM $pid
			wait $pid || true
			return 0
		fi
		kill -0 $pid 2>/dev/null || { wait $pid || true; return 1; }
		sleep 0.1
	done
	kill -KILL $pid
	echo "FAIL: the collector neither said ready nor stopped within 30 s: $(cat "$tmp/err")"
	exit 1
}

run $caps || { echo "FAIL: with $caps the collector did not start: $(cat "$tmp/err")"; exit 1; }
echo "ready with: $caps"
for c in $caps; do
	if run $(echo "$caps" | tr ' ' '\n' | grep -vx "$c"); then
		echo "FAIL: it started without $c, which the unit need not grant then"
		exit 1
	fi
	echo "without $c: $(tail -n 1 "$tmp/err")"
done
