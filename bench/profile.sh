#!/bin/sh
# Where the time goes while nerrf traces the workload at full speed: perf
# record (cpu-clock, all CPUs, call graphs) over one workload run with the
# whole pipeline and a printing subscriber running, then per process: its
# share of the samples, the workload's time inside BPF programs, and each
# stage's hottest functions. Needs root and perf (linux-perf).
#   usage: bench/profile.sh BUILD_DIR [SECONDS] [OUT_DIR]
set -eu
build=$(cd "${1:-build}" && pwd)
secs=${2:-5}
out=${3:-$(mktemp -d /tmp/nerrf-profile-XXXXXX)}
[ "$(id -u)" -eq 0 ] || { echo "profile: needs root (BPF, perf -a)" >&2; exit 77; }
command -v perf >/dev/null || { echo "profile: perf not found: apt-get install linux-perf" >&2; exit 77; }
mkdir -p "$out"
run=$(mktemp -d /dev/shm/nerrf-profile-run-XXXXXX)
work=$(mktemp -d /var/tmp/nerrf-profile-work-XXXXXX)
journal=$(mktemp -d /var/tmp/nerrf-profile-journal-XXXXXX)
pid=
cleanup() {
	[ -n "$pid" ] && kill -INT "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
	rm -rf "$run" "$work" "$journal"
}
# A reader that goes away (| head) must not leave the pipeline tracing the host.
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

"$build/clients/nerrf" run --rundir "$run" --journal "$journal" --print --json >/dev/null 2>"$out/run.err" &
pid=$!
ready=
for _ in $(seq 300); do
	# the collector says ready once its programs are attached, which can be
	# seconds after the publisher listens when the verifier meets a busy CPU
	grep -q "nerrf-publisher: publishing" "$out/run.err" && grep -q "nerrf-collector: ready" "$out/run.err" && { ready=1; break; }
	kill -0 "$pid" 2>/dev/null || { cat "$out/run.err" >&2; exit 1; }
	sleep 0.1
done
[ -n "$ready" ] || { cat "$out/run.err" >&2; echo "${0##*/}: the pipeline was not ready within 30 s" >&2; exit 1; }
sleep 0.5
perf record -q -F 1999 -e cpu-clock -a -g -o "$out/perf.data" -- \
	"$build/bench/workload" --duration "$secs" --dir "$work" >"$out/workload.txt" 2>&1
cat "$out/workload.txt"

report() { perf report -i "$out/perf.data" --stdio --no-header "$@" 2>/dev/null | grep '%' || true; }
{
	echo "## share of all samples, per process"
	report --sort comm --no-children -g none | head -12
	echo
	echo "## workload: time under BPF programs (children of trace_call_bpf), and the hottest BPF parts"
	report --comm workload --children --sort sym -g none |
		grep -E 'trace_call_bpf|bpf_prog_|bpf_probe_read|copy_from_kernel|ringbuf' | head -12
	for c in nerrf-collector nerrf-encoder nerrf-publisher nerrf; do
		echo
		echo "## $c: hottest functions (self)"
		report --comm "$c" --no-children --sort dso,sym -g none | head -10
	done
} | tee "$out/profile.txt"
echo "profile: perf data and this summary in $out"

# A summary with a part missing measured nothing there: say which, and fail.
grep -q 'traced_syscalls=[1-9]' "$out/workload.txt" ||
	{ echo "profile: the workload made no traced syscalls" >&2; exit 1; }
awk '
	/^## share/ { share = 1 }
	/^## / { if (name != "" && !lines && name !~ /hottest functions/) { print "profile: nothing under \"" name "\"" > "/dev/stderr"; bad = 1 }
		 name = substr($0, 4); lines = 0; if (!/^## share/) share = 0; next }
	/%/ { lines++; if (share) seen[$2] = 1 }
	END {
		if (!lines && name !~ /hottest functions/) { print "profile: nothing under \"" name "\"" > "/dev/stderr"; bad = 1 }
		# A one-second smoke may catch no sample of a stage that used little
		# CPU; the workload and the collector, which does per-event work, it must.
		split("workload nerrf-collector", want, " ")
		for (i in want) if (!seen[want[i]]) {
			print "profile: no samples of " want[i] " at all" > "/dev/stderr"; bad = 1 }
		exit bad
	}' "$out/profile.txt"
