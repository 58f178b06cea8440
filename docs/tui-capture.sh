#!/bin/bash
# The TUI captures in README.md and docs/tui.md, made for real:
# `epolltrace demo` in a detached tmux at 100x30.  By default the classroom
# server's instance is opened (Enter) and the screen captured once its
# ready list holds three items or more and two workers are asleep (the
# README's); with --overview, the overview a few seconds in, once both
# processes show (docs/tui.md's).  As root, after `make`:
#   docs/tui-capture.sh > capture.txt
#   docs/tui-capture.sh --overview > overview.txt
set -u
OVERVIEW=0
if [ "${1:-}" = --overview ]; then
	OVERVIEW=1
	shift
fi
ET=${1:-$(dirname "$0")/../epolltrace}
SOCK=epolltrace-capture-$$
T() { tmux -L "$SOCK" "$@"; }
trap 'T kill-server 2>/dev/null' EXIT
T -f /dev/null new-session -d -s cap -x 100 -y 30 "LANG=C.UTF-8 $ET demo"
for _ in $(seq 100); do
	T capture-pane -p -t cap | grep -q 'classroom' && break
	sleep 0.1
done
sleep 2
if [ $OVERVIEW = 1 ]; then
	for _ in $(seq 100); do
		s=$(T capture-pane -p -t cap)
		if grep -q 'pipeline' <<<"$s"; then
			sleep 3
			T capture-pane -p -t cap | sed 's/ *$//'
			exit 0
		fi
		sleep 0.1
	done
	echo "tui-capture.sh: the overview never showed both processes" >&2
	exit 1
fi
T send-keys -t cap Enter
for _ in $(seq 200); do
	s=$(T capture-pane -p -t cap)
	if grep -qE 'rdllist: ([3-9]|[1-9][0-9]) ready' <<<"$s" && grep -qE 'wq: [2-9] asleep' <<<"$s"; then
		sed 's/ *$//' <<<"$s"
		exit 0
	fi
	sleep 0.1
done
echo "tui-capture.sh: no moment with a ready list and sleepers in 20 s" >&2
exit 1
