#!/bin/sh
# `meson install` into a scratch DESTDIR, and what an operator then finds:
#  - man nerrf, man 8 nerrf-collector, ... (every page, by man's own lookup);
#  - every Documentation= of every installed unit resolves: man:PAGE(N) to an
#    installed page, file://PATH to an installed file;
#  - /etc/nerrf/tracker.conf from the example, and kept, edited, by the next
#    install (noreplace); the example, trace.proto and the bash completion;
#  - the Python package, importable from where it was installed, with its
#    generated trace_pb2.
#   layout.sh BUILDDIR SRCDIR PREFIX MANDIR DATADIR
set -eu
build=$1 src=$2 prefix=$3 mandir=$4 datadir=$5
command -v man >/dev/null || { echo "SKIP: man missing (apt-get install man-db)"; exit 77; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
meson install -C "$build" --destdir "$tmp" --no-rebuild --quiet >"$tmp.log" 2>&1 ||
	{ cat "$tmp.log"; rm -f "$tmp.log"; echo "FAIL: meson install"; exit 1; }
rm -f "$tmp.log"
root=$tmp$prefix
fail=0
bad() { echo "FAIL: $*"; fail=1; }

export MANPATH="$root/$mandir"
for page in 1:nerrf 8:nerrf-collector 8:nerrf-encoder 8:nerrf-publisher 8:nerrf-exporter; do
	man -w "${page%%:*}" "${page#*:}" >/dev/null 2>&1 || bad "man ${page%%:*} ${page#*:} finds nothing"
done

units=$(find "$root" -name 'nerrf-*.service')
[ "$(echo "$units" | wc -l)" -ge 4 ] || bad "only these units were installed: $units"
for u in $units; do
	for d in $(sed -n 's/^Documentation=//p' "$u"); do
		case $d in
		man:*)
			n=${d#man:}
			man -w "$(echo "$n" | sed 's/.*(\(.*\))/\1/')" "${n%%(*}" >/dev/null 2>&1 ||
				bad "$(basename "$u"): Documentation=$d is not installed" ;;
		file://*)
			[ -f "$tmp${d#file://}" ] || bad "$(basename "$u"): Documentation=$d is not installed" ;;
		*) bad "$(basename "$u"): Documentation=$d: neither man: nor file://" ;;
		esac
	done
done

conf=$tmp/etc/nerrf/tracker.conf example=$root/$datadir/doc/nerrf-tracker/examples/tracker.conf
cmp -s "$src/docs/tracker.conf" "$example" || bad "the example is not at $example"
cmp -s "$example" "$conf" || bad "no $conf from the example"
[ "$(stat -c %a "$conf")" = 644 ] || bad "$conf has mode $(stat -c %a "$conf"), want 644"
cmp -s "$src/proto/trace.proto" "$root/$datadir/nerrf/trace.proto" || bad "trace.proto is not installed"
[ -f "$root/$datadir/bash-completion/completions/nerrf" ] || bad "no bash completion for nerrf"

if [ -x /usr/bin/python3 ]; then
	init=$(find "$root" -path '*/nerrf/__init__.py' | head -n 1)
	if [ -z "$init" ]; then
		bad "the Python package nerrf is not installed"
	else
		site=$(dirname "$(dirname "$init")")
		got=$(cd "$tmp" && PYTHONPATH=$site /usr/bin/python3 -c \
			'import nerrf, nerrf.trace_pb2; nerrf.Subscriber; print(nerrf.trace_pb2.__file__)' 2>&1) ||
			bad "the installed package does not import: $got"
		case $got in
		"$site"/nerrf/trace_pb2.py) ;;
		*) bad "nerrf.trace_pb2 came from $got, not from $site" ;;
		esac
	fi
fi

# An operator's edits survive the next install.
echo "[encoder]" >"$conf"
echo "max-batch = 64" >>"$conf"
meson install -C "$build" --destdir "$tmp" --no-rebuild >"$tmp/log" 2>&1 || { cat "$tmp/log"; bad "second meson install"; }
[ "$(cat "$conf")" = "$(printf '[encoder]\nmax-batch = 64')" ] || bad "the second install replaced the edited $conf"
[ $fail = 0 ] && echo "installed layout checked under $tmp"
exit $fail
