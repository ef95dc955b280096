#!/bin/bash
# CPU and context switches of each pipeline stage while the workload runs at
# a fixed rate (or "max"), with `nerrf run --print --json` to /dev/null:
# per stage ns of CPU per workload event (schedstat, all threads) and
# voluntary switches per second. CPUS pins the whole pipeline (taskset).
# Needs root.   usage: bench/stage_cost.sh BUILD_DIR RATE|max SECONDS [CPUS]
set -eu
build=$(cd "$1" && pwd); rate=$2; secs=$3; cpus=${4:-}
[ "$(id -u)" -eq 0 ] || { echo "stage_cost: needs root (BPF)" >&2; exit 77; }
run=$(mktemp -d /dev/shm/nerrf-stage-XXXXXX)
work=$(mktemp -d /var/tmp/nerrf-stage-XXXXXX)
pid=
trap '[ -n "$pid" ] && kill -INT $pid 2>/dev/null && wait $pid; rm -rf "$run" "$run.err" "$work"' EXIT
${cpus:+taskset -c "$cpus"} "$build/clients/nerrf" run --rundir "$run" --print --json \
	>/dev/null 2>"$run.err" &
pid=$!
for _ in $(seq 100); do
	grep -q "nerrf-publisher: publishing" "$run.err" && break
	sleep 0.1
done
sleep 0.5
stages="nerrf-collector nerrf-encoder nerrf-publisher nerrf"
# sum over the stage's threads of field $1 of schedstat (cpu ns) or of status (switches)
cpu() { cat /proc/$(pgrep -P $pid -x "$1")/task/*/schedstat | awk '{t += $1} END {print t}'; }
sw() { cat /proc/$(pgrep -P $pid -x "$1")/task/*/status | awk '/^voluntary_ctxt/ {t += $2} END {print t}'; }
declare -A c0 s0
for s in $stages; do c0[$s]=$(cpu $s); s0[$s]=$(sw $s); done
if [ "$rate" = max ]; then
	out=$("$build/bench/workload" --duration "$secs" --dir "$work")
else
	out=$("$build/bench/workload" --rate "$rate" --duration "$secs" --dir "$work")
fi
sleep 0.5
ev=$(echo "$out" | sed 's/.*traced_syscalls=\([0-9]*\).*/\1/')
wall=$(echo "$out" | sed 's/.*seconds=\([0-9.]*\).*/\1/')
echo "$out"
line="rate=$rate${cpus:+ cpus=$cpus} events=$ev"
for s in $stages; do
	line="$line ${s#nerrf-}=$(( ($(cpu $s) - ${c0[$s]}) / ev ))ns"
	line="$line,$(echo "$(sw $s) ${s0[$s]} $wall" | awk '{printf "%.0f", ($1 - $2) / $3}')sw/s"
done
echo "$line"
