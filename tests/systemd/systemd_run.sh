#!/bin/sh
# Under the real service manager: the publisher started as a transient
# Type=notify service with WatchdogSec= is active (its start job done) only
# once it listens, shows its STATUS= line, and when its loop stops (SIGSTOP)
# the watchdog ends it with Result=watchdog.
#   systemd_run.sh PUBLISHER
set -eu
pub=$1
state=$(systemctl is-system-running 2>/dev/null || true)
case $state in
running | degraded) ;;
*)
	echo "SKIP: systemd does not manage this machine (systemctl is-system-running: ${state:-no answer}); run on a host booted with systemd"
	exit 77
	;;
esac
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: starting a system service needs root"
	exit 77
fi
tmp=$(mktemp -d)
chmod 755 "$tmp"
unit=nerrf-notify-test-$$
trap 'systemctl stop "$unit" 2>/dev/null; systemctl reset-failed "$unit" 2>/dev/null; rm -rf "$tmp"' EXIT
# systemd-run returns once the start job is done: for Type=notify, at READY=1.
systemd-run --quiet --unit "$unit" -p Type=notify -p NotifyAccess=main -p WatchdogSec=2s \
	-p WatchdogSignal=SIGKILL -p Environment=NERRF_CONFIG=/dev/null \
	"$pub" --rundir "$tmp" --no-journal
show() { systemctl show -P "$1" "$unit"; }
[ "$(show ActiveState)" = active ] || { echo "FAIL: $unit is $(show ActiveState) after its start job"; exit 1; }
[ -S "$tmp/events.sock" ] || { echo "FAIL: $unit is active but $tmp/events.sock is not there yet"; exit 1; }
case $(show StatusText) in
listening*) ;;
*) echo "FAIL: status '$(show StatusText)', want the publisher's 'listening on ...'"; exit 1 ;;
esac
sleep 5 # more than twice WatchdogSec: the pets keep it alive
[ "$(show ActiveState)" = active ] || { echo "FAIL: $unit did not survive 5 s: $(show Result)"; exit 1; }
kill -STOP "$(show MainPID)"
for _ in $(seq 50); do
	[ "$(show Result)" = watchdog ] && { echo "the watchdog ended the stopped publisher"; exit 0; }
	sleep 0.2
done
echo "FAIL: 10 s after SIGSTOP $unit is $(show ActiveState), result $(show Result), want watchdog"
exit 1
