#!/bin/sh
# The bash completion of nerrf, sourced in bash with bash-completion, against
# this build's nerrf: commands, each command's options, directory names where
# an option takes a DIR.
#   completion.sh COMPLETION_FILE NERRF
set -eu
lib=/usr/share/bash-completion/bash_completion
[ -r "$lib" ] || { echo "SKIP: $lib missing (apt-get install bash-completion)"; exit 77; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/subdir"
: >"$tmp/subfile"
exec bash --norc --noprofile -c '
set -u
source "$1" && source "$2" || { echo "FAIL: sourcing $2"; exit 1; }
nerrf=$3 tmp=$4 fail=0
# Completes a command line whose last word is being typed; one candidate a line.
complete_line() {
	COMP_WORDS=("$nerrf" "$@")
	COMP_CWORD=$#
	COMP_LINE="${COMP_WORDS[*]}"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_nerrf "$nerrf" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
	[ ${#COMPREPLY[@]} -eq 0 ] || printf "%s\n" "${COMPREPLY[@]}" | sort
}
expect() {
	local want=$1; shift
	local got
	got=$(complete_line "$@" | tr "\n" " ")
	if [ "$got" != "$want" ]; then
		echo "FAIL: nerrf $*<TAB>: got \"$got\", want \"$want\""
		fail=1
	else
		echo "ok: nerrf $*<TAB> -> $got"
	fi
}
expect "run " ru
expect "tail " ta
expect "replay " rep
all=$(complete_line "" | tr "\n" " ")
for c in run tail stats replay; do
	case " $all" in *" $c "*) ;; *) echo "FAIL: nerrf <TAB> offers \"$all\", not $c"; fail=1 ;; esac
done
expect "--help --version " --
expect "--syscall " tail --sys
expect "--once " stats --o
expect "--no-journal --no-pin " run --no-
expect "--from " replay --fr
expect "--tls-ca --tls-cert --tls-key --tls-server-name " stats --tls
expect "$tmp/subdir " tail --rundir "$tmp/sub"
expect "$tmp/subdir $tmp/subfile " tail --tls-ca "$tmp/sub"
expect "" tail --count ""
exit $fail
' completion "$lib" "$1" "$2" "$tmp"
