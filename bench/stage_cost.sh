#!/bin/bash
# CPU and context switches of each pipeline stage while the workload runs at
# a fixed rate (or "max"), with `nerrf run --print --json` to /dev/null:
# per stage ns of CPU per workload event (schedstat, all threads) and
# voluntary switches per second. CPUS pins the whole pipeline (taskset).
# Needs root.   usage: bench/stage_cost.sh BUILD_DIR RATE|max SECONDS [CPUS]
# NERRF_RUN_ARGS: more `nerrf run` options (e.g. --no-journal), word-split.
set -eu
build=$(cd "$1" && pwd); rate=$2; secs=$3; cpus=${4:-}
[ "$(id -u)" -eq 0 ] || { echo "stage_cost: needs root (BPF)" >&2; exit 77; }
run=$(mktemp -d /dev/shm/nerrf-stage-XXXXXX)
work=$(mktemp -d /var/tmp/nerrf-stage-XXXXXX)
# a journal of its own on disk, as /var/lib/nerrf would be, that nothing else depends on
journal=$(mktemp -d /var/tmp/nerrf-stage-journal-XXXXXX)
pid=
trap '[ -n "$pid" ] && kill -INT $pid 2>/dev/null && wait $pid; rm -rf "$run" "$run.err" "$work" "$journal"' EXIT
trap 'exit 1' INT TERM HUP PIPE
${cpus:+taskset -c "$cpus"} "$build/clients/nerrf" run --rundir "$run" --print --json \
	--journal "$journal" ${NERRF_RUN_ARGS:-} >/dev/null 2>"$run.err" &
pid=$!
ready=
for _ in $(seq 300); do
	# the collector says ready once its programs are attached, which can be
	# seconds after the publisher listens when the verifier meets a busy CPU
	grep -q "nerrf-publisher: publishing" "$run.err" && grep -q "nerrf-collector: ready" "$run.err" && { ready=1; break; }
	sleep 0.1
done
[ -n "$ready" ] || { cat "$run.err" >&2; echo "${0##*/}: the pipeline was not ready within 30 s" >&2; exit 1; }
sleep 0.5
stages="nerrf-collector nerrf-encoder nerrf-publisher nerrf"
fail() { echo "stage_cost: $*" >&2; exit 1; }
declare -A sp c0 s0
for s in $stages; do
	sp[$s]=$(pgrep -P $pid -x "$s") || true
	[[ ${sp[$s]} =~ ^[0-9]+$ ]] || fail "not one $s under nerrf run (pids: ${sp[$s]:-none})"
done
# sum over the stage's threads of field $1 of schedstat (cpu ns) or of status (switches)
cpu() { cat /proc/${sp[$1]}/task/*/schedstat | awk '{t += $1} END {printf "%.0f\n", t}'; }
sw() { cat /proc/${sp[$1]}/task/*/status | awk '/^voluntary_ctxt/ {t += $2} END {printf "%.0f\n", t}'; }
for s in $stages; do c0[$s]=$(cpu $s); s0[$s]=$(sw $s); done
if [ "$rate" = max ]; then
	out=$("$build/bench/workload" --duration "$secs" --dir "$work")
else
	out=$("$build/bench/workload" --rate "$rate" --duration "$secs" --dir "$work")
fi
sleep 0.5
ev=$(echo "$out" | sed -n 's/.*traced_syscalls=\([0-9]*\).*/\1/p')
wall=$(echo "$out" | sed -n 's/.*seconds=\([0-9.]*\).*/\1/p')
echo "$out"
[[ $ev =~ ^[0-9]+$ && $ev -gt 0 && -n $wall ]] || fail "the workload reported no events"
# A cost per event is only one if the pipeline handed every event on.
lost=$("$build/clients/nerrf" stats --once --url "ipc://$run/events.sock" | awk '
	/^  (kernel +lost|ring1 +dropped|encoder +malformed|ring2 +dropped) / && !seen[$1 $2]++ {
		out = out $1 " " $2 " " $3 "; "; n++; t += $3 }
	END { print (n == 4 && t == 0) ? "none" : out }')
[ "$lost" = none ] || fail "the pipeline lost events (${lost:-no stats from it})"
line="rate=$rate${cpus:+ cpus=$cpus} events=$ev"
for s in $stages; do
	ns=$(( ($(cpu $s) - ${c0[$s]}) / ev ))
	[ "$ns" -gt 0 ] || fail "no CPU time for $s"
	line="$line ${s#nerrf-}=${ns}ns"
	line="$line,$(echo "$(sw $s) ${s0[$s]} $wall" | awk '{printf "%.0f", ($1 - $2) / $3}')sw/s"
done
echo "$line"
