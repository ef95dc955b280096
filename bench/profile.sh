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
pid=
cleanup() {
	[ -n "$pid" ] && kill -INT "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
	rm -rf "$run" "$work"
}
trap cleanup EXIT INT TERM

"$build/clients/nerrf" run --rundir "$run" --print --json >/dev/null 2>"$out/run.err" &
pid=$!
for _ in $(seq 100); do
	grep -q "nerrf-publisher: publishing" "$out/run.err" && break
	kill -0 "$pid" 2>/dev/null || { cat "$out/run.err" >&2; exit 1; }
	sleep 0.1
done
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
