#!/bin/sh
# The collector-crash scenario as an operator meets it: `nerrf run`, a
# subscriber writing `nerrf tail --json` to a file, the ransomware-shaped
# workload at a fixed rate, and kill -9 of the collector part-way. Reports
# what the workload made against what reached the file, the widest hole
# between the workload's delivered events (kernel time), and what the
# pipeline counted: lost events and capture gaps. Root.
#   sudo bench/crash_hole.sh BUILD [RATE SECONDS KILL_AT [nerrf run options...]]
#   defaults: 20000 iterations/s (80k traced syscalls/s), 120 s, kill at 40 s
set -eu
build=$(cd "$1" && pwd)
shift
rate=${1:-20000} secs=${2:-120} kill_at=${3:-40}
[ $# -ge 3 ] && shift 3 || set --
[ "$(id -u)" -eq 0 ] || { echo "crash_hole.sh: needs root (it runs the collector)" >&2; exit 1; }
tmp=$(mktemp -d /tmp/nerrf-crash-hole-XXXXXX)
chmod 755 "$tmp"
mkdir "$tmp/work"
cleanup() {
	[ -n "${tail:-}" ] && kill "$tail" 2>/dev/null
	[ -n "${run:-}" ] && kill "$run" 2>/dev/null && wait "$run" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

"$build/clients/nerrf" run --no-journal --rundir "$tmp/run" --comm workload "$@" 2>"$tmp/run.err" &
run=$!
until grep -q "publishing" "$tmp/run.err"; do
	kill -0 "$run" 2>/dev/null || { cat "$tmp/run.err" >&2; exit 1; }
	sleep 0.1
done
"$build/clients/nerrf" tail --wait --json --url "ipc://$tmp/run/events.sock" >"$tmp/events.json" 2>"$tmp/tail.err" &
tail=$!
sleep 1
"$build/bench/workload" -d "$tmp/work" -r "$rate" -t "$secs" >"$tmp/workload.out" &
wl=$!
sleep "$kill_at"
coll=$(sed -n 's/.*nerrf run: collector \([0-9]*\),.*/\1/p' "$tmp/run.err" | head -n 1)
kill -9 "$coll"
wait "$wl"
sleep 3 # the pipeline's last batches
"$build/clients/nerrf" stats --once --url "ipc://$tmp/run/events.sock" >"$tmp/stats.out" 2>&1 || true
kill "$tail"
wait "$tail" 2>/dev/null || true
tail=

python3 - "$tmp" <<'EOF'
import json, re, sys

tmp = sys.argv[1]
kv = dict(re.findall(r"(\w+)=(\S+)", open(tmp + "/workload.out").read()))
made = {k: int(kv[k]) for k in ("openat", "write", "rename", "unlink")}
got, mono = {}, []
for line in open(tmp + "/events.json"):
    ev = json.loads(line)
    if "stats" in ev or ev.get("comm") != "workload":
        continue
    sc = ev.get("syscall", "")
    key = next((k for k in made if sc.startswith(k[:4])), None)
    if key and (ev.get("path", "").startswith(tmp + "/work/")):
        got[key] = got.get(key, 0) + 1
        mono.append(int(ev["mono_ns"]))
mono.sort()
hole, at = 0, 0
for a, b in zip(mono, mono[1:]):
    if b - a > hole:
        hole, at = b - a, a
print("made      ", " ".join("%s %d" % kv for kv in sorted(made.items())))
print("delivered ", " ".join("%s %d" % (k, got.get(k, 0)) for k in sorted(made)))
print("missing   %d of %d" % (sum(made.values()) - sum(got.get(k, 0) for k in made),
                              sum(made.values())))
print("widest hole between the workload's delivered events: %.1f ms" % (hole / 1e6))
for line in open(tmp + "/stats.out"):
    if re.search(r"kernel_lost |ring1_dropped|capture gaps|seq_gaps", line):
        print("stats:", line.rstrip())
EOF
grep -h "restarted\|capture gap\|reopened" "$tmp/run.err" "$tmp/tail.err" | sed 's/^/log: /'
