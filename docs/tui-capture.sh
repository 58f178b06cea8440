#!/bin/bash
# The TUI capture in README.md, made for real: `epolltrace demo` in a
# detached tmux at 100x30, the classroom server's instance opened (Enter),
# and the screen captured once its ready list holds three items or more
# and two workers are asleep.  As root, after `make`:
#   docs/tui-capture.sh > capture.txt
set -u
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
