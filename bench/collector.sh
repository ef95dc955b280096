# Sourced by the bench scripts: a collector in $tmp/run with ring #1 drained as
# the encoder would (bench/bpf_bench_drain), and its stop. Needs $coll, $build
# and $tmp (a directory the collector's user can pass through).
coll_start() { # collector arguments...
	rm -rf "$tmp/run"
	mkdir "$tmp/run" && chown nobody "$tmp/run" && chmod 755 "$tmp"
	# emptied here, not by the background redirection: the last run's "ready" would race it
	: >"$tmp/err"
	"$coll" --rundir "$tmp/run" "$@" 2>"$tmp/err" &
	cpid=$!
	while ! grep -q ready "$tmp/err"; do
		kill -0 $cpid 2>/dev/null || { cat "$tmp/err" >&2; exit 1; }
		sleep 0.05
	done
	"$build/bench/bpf_bench_drain" "$tmp/run/ring1.sock" >"$tmp/drained" &
	dpid=$!
}

coll_stop() {
	kill $cpid; wait $cpid || true
	kill $dpid; wait $dpid || true
}
