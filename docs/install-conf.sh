#!/bin/sh
# meson install: /etc/nerrf/tracker.conf (where the stages look, whatever the
# prefix) from the example, only when there is none. An existing file, an
# operator's, is never replaced (noreplace); the new example stays beside the
# documentation for comparison.
#   install-conf.sh EXAMPLE   (relative to the install prefix)
set -eu
[ -z "${MESON_INSTALL_DRY_RUN:-}" ] || exit 0
example=$MESON_INSTALL_DESTDIR_PREFIX/$1
dir=${DESTDIR:-}/etc/nerrf
if [ -e "$dir/tracker.conf" ] || [ -L "$dir/tracker.conf" ]; then
	echo "Keeping $dir/tracker.conf; the current example is $example" >&2
	exit 0
fi
# the collector reads it as root: root's, writable by root alone
[ -d "$dir" ] || install -d -m 755 "$dir"
install -m 644 "$example" "$dir/tracker.conf"
echo "Installing $dir/tracker.conf (every setting commented out)" >&2
