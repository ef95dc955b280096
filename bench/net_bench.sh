#!/bin/sh
# Network capture on and off, side by side in one run: a connect/accept-heavy
# loop (bench/net_workload: short local TCP connections with a 64-byte echo),
# bench/compare's file workload (bench/workload) and a UDP loop (net_workload
# --udp: 64-byte datagrams sent with write(2), which nerrf does not follow),
# each untraced and under the collector with
#   file    the file syscalls only (network capture off)
#   net     file + network syscalls, default filters: the loopback echo loop
#           is left out in the kernel (what the hooks cost when they filter)
#   net-lo  the same with --net-loopback: every connection gives connect,
#           accept and two sock_close events
# Modes alternate within each round; medians over the rounds, and the ratio
# to untraced. A drain empties ring #1 as the encoder would. With
# kernel.bpf_stats_enabled, also the network programs' own run time: what
# the rates on a busy machine cannot resolve; for the UDP loop alone, what
# enter_write and exit_write cost on a write they drop (not a regular file):
# the least a hook counting UDP bytes per send would cost. Needs root.
#   usage: bench/net_bench.sh [BUILD_DIR [SECONDS [ROUNDS]]]
set -eu
build=${1:-build}
secs=${2:-5}
rounds=${3:-3}
coll=$build/collector/nerrf-collector
[ "$(id -u)" -eq 0 ] || { echo "net_bench: needs root (CAP_BPF, CAP_PERFMON)" >&2; exit 77; }
tmp=$(mktemp -d /tmp/nerrf-netbench-XXXXXX)
old=$(sysctl -n kernel.bpf_stats_enabled)
trap 'rm -rf "$tmp"; sysctl -qw kernel.bpf_stats_enabled="$old"' EXIT
sysctl -qw kernel.bpf_stats_enabled=1
files=open,openat,openat2,creat,write,pwrite64,writev,pwritev,pwritev2,rename,renameat
files=$files,renameat2,unlink,unlinkat,rmdir,chmod,fchmod,fchmodat,fchmodat2,truncate
files=$files,ftruncate,setxattr,lsetxattr,fsetxattr,removexattr,lremovexattr,fremovexattr
files=$files,execve,execveat

. "$(dirname "$0")/collector.sh"
start() { # collector arguments...
	coll_start --comm net_workload --comm workload "$@"
}

progs() { # tag: our collector's programs' run time and count so far (a fresh load each
	# time), not those of other collectors on the machine: by the ids its fds hold
	ids=$(cat /proc/"$cpid"/fdinfo/* 2>/dev/null | sed -n 's/^prog_id:[[:space:]]*//p')
	bpftool prog show -j | python3 -c '
import json, sys
ours = set(sys.argv[2].split())
for p in json.load(sys.stdin):
    if p.get("run_cnt") and str(p["id"]) in ours:
        print(sys.argv[1], p["name"], p.get("run_time_ns", 0), p["run_cnt"])' "$1" "$ids" >>"$tmp/progs"
}

stop() { # mode
	progs "$1"
	coll_stop
}

measure() { # mode
	rate=$("$build/bench/net_workload" "$secs" | sed 's/.*per_sec //')
	echo "$1 connect $rate" >>"$tmp/results"
	rate=$("$build/bench/workload" --duration "$secs" --random --dir "$tmp" |
		sed 's/.*iter_per_sec=\([0-9]*\).*/\1/')
	echo "$1 file $rate" >>"$tmp/results"
	[ "$1" = off ] || progs "$1-udp"
	rate=$("$build/bench/net_workload" --udp "$secs" | sed 's/.*per_sec //')
	echo "$1 udp $rate" >>"$tmp/results"
}

: >"$tmp/results"
: >"$tmp/progs"
r=0
while [ $r -lt "$rounds" ]; do
	measure off
	start --syscalls "$files"; measure file; stop file
	start; measure net; stop net
	start --net-loopback; measure net-lo; stop net-lo
	echo "net_bench: round $((r + 1)) of $rounds done" >&2
	r=$((r + 1))
done
python3 - "$tmp/results" "$secs" "$rounds" "$tmp/progs" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
progs, before = {}, {}
for mode, name, t, n in (l.split() for l in open(sys.argv[4])):
    t, n = int(t), int(n)
    if mode.endswith("-udp"):
        before[(mode, name)] = (t, n)
        continue
    progs.setdefault((mode, name), []).append(t / n)
    # what ran between the snapshot before the UDP loop and the end
    t0, n0 = before.pop((mode + "-udp", name), (0, 0))
    if n > n0 and name in ("enter_write", "exit_write"):
        progs.setdefault((mode + "-udp", name), []).append((t - t0) / (n - n0))
med = {}
for mode, wl, rate in rows:
    med.setdefault((mode, wl), []).append(float(rate))
med = {k: statistics.median(v) for k, v in med.items()}
print(f"medians of {sys.argv[3]} rounds x {sys.argv[2]} s; ratio = rate / untraced rate")
print(f"{'mode':8} {'connections/s':>14} {'ratio':>6} {'file iterations/s':>18} {'ratio':>6}"
      f" {'datagrams/s':>12} {'ratio':>6}")
for mode in ("off", "file", "net", "net-lo"):
    c, f, u = med[(mode, "connect")], med[(mode, "file")], med[(mode, "udp")]
    print(f"{mode:8} {c:14.0f} {c / med[('off', 'connect')]:6.3f} {f:18.0f} "
          f"{f / med[('off', 'file')]:6.3f} {u:12.0f} {u / med[('off', 'udp')]:6.3f}")
print("\nBPF run time, ns per run (median over rounds; exit_* include the exit_net or")
print("exit_common tail call; enter_close, at every close, the summaries' one)")
names = ("enter_connect", "exit_connect", "enter_accept", "exit_accept", "enter_close",
         "enter_openat", "exit_openat", "exit_write")
print(f"{'mode':8}" + "".join(f" {n:>13}" for n in names))
for mode in ("file", "net", "net-lo"):
    print(f"{mode:8}" + "".join(
        f" {statistics.median(progs[(mode, n)]):13.0f}" if (mode, n) in progs else f" {'-':>13}"
        for n in names))
print("\nUDP loop alone: ns per run of the write hooks, which drop a write to a socket")
for mode in ("file", "net", "net-lo"):
    print(f"{mode:8}" + "".join(f" {n} {statistics.median(progs[(mode + '-udp', n)]):.0f}"
                                for n in ("enter_write", "exit_write")
                                if (mode + "-udp", n) in progs))
PY
