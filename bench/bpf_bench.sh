#!/bin/sh
# Kernel capture cost per event (BPF run time per program, from
# kernel.bpf_stats_enabled) and collector CPU per event, for three workloads:
# openat with path resolution, 4 KiB writes without a sample, with a 64-byte
# sample. A drain process empties ring #1 as the encoder would, so the collector
# writes into reused pages. Needs root.   usage: bench/bpf_bench.sh BUILD_DIR [N]
set -eu
build=${1:-build}
n=${2:-500000}
coll=$build/collector/nerrf-collector
load=$build/bench/bpf_bench_load
[ "$(id -u)" -eq 0 ] || { echo "bpf_bench: needs root (CAP_BPF, CAP_PERFMON)" >&2; exit 77; }
tmp=$(mktemp -d /tmp/nerrf-bpfbench-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
old=$(sysctl -n kernel.bpf_stats_enabled)
sysctl -qw kernel.bpf_stats_enabled=1

# prog_stats NAME...: "run_time_ns run_cnt" summed over programs of these names
prog_stats() {
	bpftool prog show -j | python3 -c '
import json, sys
names = set(sys.argv[1:]); t = c = 0
for p in json.load(sys.stdin):
    if p.get("name") in names:
        t += p.get("run_time_ns", 0); c += p.get("run_cnt", 0)
print(t, c)' "$@"
}
. "$(dirname "$0")/collector.sh"
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

run() { # label syscall sample mode enter exit
	label=$1; sc=$2; sample=$3; mode=$4; enter=$5; exit=$6
	coll_start --ring1-size 64M --syscalls "$sc" --sample-bytes "$sample" --comm bpf_bench_load
	c0=$(cpu_ticks $cpid)
	"$load" "$mode" "$n" "$tmp/file"
	sleep 0.3
	c1=$(cpu_ticks $cpid)
	set -- $(prog_stats "$enter") $(prog_stats "$exit")
	coll_stop
	hz=$(getconf CLK_TCK)
	python3 -c "
e_t, e_c, x_t, x_c, n, ticks, hz = $1, $2, $3, $4, $n, $c1 - $c0, $hz
en, ex = e_t / max(e_c, 1), x_t / max(x_c, 1)
print(f'$label: enter {en:.0f} ns + exit {ex:.0f} ns = {en + ex:.0f} ns/event '
      f'({en + ex - 2 * $floor:.0f} above the floor); collector {ticks / hz * 1e9 / n:.0f} ns/event; '
      f'drained {$(cat "$tmp/drained")} records')"
}

floor=$("$build/bench/bpf_bench_floor" "$build/bench/bpf_bench_floor.bpf.o" "$n")
echo "floor: an empty program measures $floor ns per run (bpf_stats overhead on this machine)"
run "openat" openat 0 open enter_openat exit_openat
run "write, no sample" pwrite64 0 write enter_pwrite64 exit_pwrite64
run "write, 64 B sample" pwrite64 64 write enter_pwrite64 exit_pwrite64
sysctl -qw kernel.bpf_stats_enabled="$old"
