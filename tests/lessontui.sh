#!/bin/bash
# The lesson layout, end to end: a lesson's recording (a made-up lesson,
# tests/lesson_stream.h, written with the recording writer by
# tests/lesson_rec.c) replayed with `epolltrace replay FILE` in tmux, keys
# pressed, screens read.  No root, no kernel: a student's laptop.
# Prints one line per check: "PASS name" or "FAIL name :: detail".
#
# usage: lessontui.sh EPOLLTRACE OUTDIR
set -u
ET=$1 OUT=$2
ROOT=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$OUT"
SOCK=epolltrace-lessontui-$$
T() { tmux -L "$SOCK" "$@"; }
cleanup() {
	T kill-server 2>/dev/null
}
trap cleanup EXIT

pass() { echo "PASS lessontui: $1"; }
fail() { echo "FAIL lessontui: $1 :: $(echo "$2" | tr '\n' ' ' | cut -c1-400)"; }
screen() { T capture-pane -p -t "$1" 2>/dev/null; }
# wait_screen SESSION PATTERN [TENTHS]: the screen shows PATTERN (grep -E)
wait_screen() {
	local i=0
	while ! screen "$1" | grep -Eq -- "$2"; do
		i=$((i + 1))
		[ $i -gt "${3:-50}" ] && return 1
		sleep 0.1
	done
}
# check NAME SESSION PATTERN [TENTHS]
check() {
	if wait_screen "$2" "$3" "${4:-50}"; then
		pass "$1"
	else
		fail "$1" "no /$3/ on: $(screen "$2" | grep -v '^ *$' | head -n 14)"
		screen "$2" >"$OUT/fail-$(echo "$1" | tr -c 'a-z0-9' _).txt"
	fi
}
# absent NAME SESSION PATTERN: after a moment, the screen does not show it
absent() {
	sleep 0.3
	if screen "$2" | grep -Eq -- "$3"; then
		fail "$1" "/$3/ on: $(screen "$2" | grep -E -- "$3" | head -n 3)"
	else
		pass "$1"
	fi
}
# exited NAME SESSION: epolltrace left with status 0 and the terminal restored
exited() {
	local i=0 rc
	while [ ! -s "$OUT/rc-$2" ] && [ $i -lt 50 ]; do
		i=$((i + 1))
		sleep 0.1
	done
	rc=$(cat "$OUT/rc-$2" 2>/dev/null)
	if [ -z "$rc" ]; then
		fail "$1" "no exit status (still running, or killed): $(screen "$2" | grep -v '^ *$' | tail -n 2)"
	elif [ "$rc" != 0 ]; then
		fail "$1" "exit status $rc: $(screen "$2" | grep -v '^ *$' | tail -n 3)"
	elif [ "$(T display -p -t "$2" '#{alternate_on}')" != 0 ]; then
		fail "$1" "the terminal was left in the alternate screen"
	else
		pass "$1"
	fi
}
# start SESSION WIDTH HEIGHT COMMAND...: a pane that stays after its command
start() {
	local s=$1 w=$2 h=$3
	shift 3
	rm -f "$OUT/rc-$s"
	T new-session -d -s "$s" -x "$w" -y "$h" bash -c '"$@"; echo $? > "$0"' "$OUT/rc-$s" "$@"
}
keys() {	# SESSION KEY...: one at a time, as a presenter presses them
	local s=$1
	shift
	for k in "$@"; do
		T send-keys -t "$s" "$k"
		sleep 0.15
	done
}

# ---- the recording ---------------------------------------------------------------
CLI_INC=$(for d in "$ROOT"/cli "$ROOT"/cli/*/; do printf -- "-I%s " "${d%/}"; done)
if ! gcc -std=gnu11 -O1 -Wall -Wextra -Werror -D_GNU_SOURCE -I"$ROOT/include" $CLI_INC \
	"$ROOT/tests/lesson_rec.c" "$ROOT/cli/recordings/recording.c" "$ROOT/cli/kernel/decode.c" \
	"$ROOT/cli/common/grow.c" "$ROOT/cli/kernel/fdkind.c" "$ROOT/cli/common/log.c" \
	"$ROOT/cli/common/outfile.c" -lz -lbpf -o "$OUT/lesson_rec" 2>"$OUT/lesson_rec.build"; then
	fail "the recording helper builds" "$(head -n 5 "$OUT/lesson_rec.build")"
	exit 0
fi
REC=$OUT/lesson.rec PLAIN=$OUT/plain.rec
if "$OUT/lesson_rec" "$REC" && "$OUT/lesson_rec" "$PLAIN" plain; then
	pass "a lesson's recording and an ordinary one written"
else
	fail "a lesson's recording and an ordinary one written" "lesson_rec failed"
	exit 0
fi

# the live sink, driven as `learn` drives it (tests/lesson_live.c)
LIVE=$OUT/lesson_live
gcc -std=gnu11 -O1 -Wall -Wextra -Werror -D_GNU_SOURCE -ffunction-sections -Wl,--gc-sections \
	-I"$ROOT/include" $CLI_INC "$ROOT/tests/lesson_live.c" "$ROOT/cli/views/tui_lesson.c" \
	"$ROOT/cli/views/tui_lesson_view.c" "$ROOT/cli/views/tui.c" "$ROOT/cli/views/tui_view.c" \
	"$ROOT/cli/views/tui_buf.c" "$ROOT/cli/views/describe.c" "$ROOT/cli/model/model.c" \
	"$ROOT/cli/views/tui_tree.c" "$ROOT/cli/views/tui_anatomy.c" "$ROOT/cli/views/tui_findings.c" "$ROOT/cli/model/anatomy.c" \
	"$ROOT/cli/model/detect.c" "$ROOT/cli/common/lang.c" \
	"$ROOT/cli/views/tui_chains.c" "$ROOT/cli/model/chains.c" \
	"$ROOT/cli/common/grow.c" "$ROOT/cli/workloads/lesson.c" "$ROOT/cli/kernel/decode.c" \
	"$ROOT/cli/kernel/fdkind.c" "$ROOT/cli/common/log.c" "$ROOT/cli/recordings/rec_read.c" \
	"$ROOT/cli/common/outfile.c" $(pkg-config --libs ncursesw 2>/dev/null || echo -lncursesw -ltinfo) \
	-lz -lbpf -lpthread -o "$LIVE" 2>"$OUT/lesson_live.build" || LIVE=

T -f /dev/null new-session -d -s keep "sleep 3600"
T set-option -g remain-on-exit on
T set-option -g default-terminal xterm-256color

# ---- 80x24: every stop, forward and back ------------------------------------------
start l80 80 24 env LANG=C.UTF-8 "$ET" replay "$REC"
check "80x24: replay opens a lesson's recording as the lesson" l80 \
	"epolltrace  lesson synthetic: A made-up lesson"
check "80x24: the title screen says how to begin" l80 "Space or → begins the lesson"
keys l80 Space
check "80x24: Space: step 1, what is about to happen" l80 \
	"step 1/5: what is about to happen"
check "80x24: BEFORE's text" l80 "Next: epoll_create1 asks the kernel for an instance"
keys l80 Space
check "80x24: Space: what the kernel did, {0} filled" l80 \
	"The kernel: ep_alloc made a struct eventpoll: epfd 3, with an empty rbr"
check "80x24: the hooks, as the kernel spells them" l80 "hooks: do_epoll_create, ep_alloc"
check "80x24: the step's record, with the hook that saw it and pid/tid/epfd" l80 \
	"tracepoint +ep_alloc +pid 100 tid 100 epfd 3"
check "80x24: the instance's three panes" l80 "rdllist: 0 ready.*wq: 0 asleep"
keys l80 Right Right
check "80x24: →: step 2's ADDs" l80 "step 2/5: what the kernel did"
check "80x24: step 2 lights rbr (colour, and a marker)" l80 "[┌├]> rbr: 2 epitems"
keys l80 Right Right Right Right Right Right
check "80x24: step 5: two instances side by side" l80 "rbr: 3 epitems.*rbr: 1 epitem"
check "80x24: step 5: both ready lists, lit" l80 "> rdllist: 1 ready.*> rdllist: 1 ready"
check "80x24: step 5: LT and ET" l80 "9 [^ ]+ +IN +.*9 [^ ]+ +IN\\|ET"
keys l80 Right
check "80x24: past the end: said" l80 "The lesson is over"
keys l80 Left
check "80x24: ←: step 5's BEFORE" l80 "step 5/5: what is about to happen"
keys l80 Left Left
check "80x24: ← ←: step 4's BEFORE" l80 "step 4/5: what is about to happen"
# the state before step 4 ran: fd 5 ready, nobody waiting yet
check "80x24: ... with the state after step 3: fd 5 queued, no waiter" l80 \
	"rdllist: 1 ready.*wq: 0 asleep"
check "80x24: ... its row in rdllist" l80 "head +5 "
keys l80 r
check "80x24: r: back to step 1" l80 "step 1/5: what is about to happen"
keys l80 a
check "80x24: a: auto-play on" l80 "REPLAY AUTO"
check "80x24: auto-play goes on by itself" l80 "step 1/5: what the kernel did" 80
keys l80 a
absent "80x24: a again: auto-play off" l80 "REPLAY AUTO"
keys l80 q
exited "80x24: q quits, the terminal restored" l80

# ---- 200x50: the same lesson, roomier ----------------------------------------------
start l200 200 50 env LANG=C.UTF-8 "$ET" replay "$REC"
check "200x50: opens" l200 "Space or → begins"
keys l200 Space Space Space Space Space Space Space Space Space Space
check "200x50: step 5, all its records listed" l200 "iter +snapshot: rbr 1, rdllist 1, wq 0"
check "200x50: the two instances named on one row" l200 \
	"epfd 3  pid 100  watched 3  ready 1  asleep 1 .*epfd 4  pid 100  watched 1"
check "200x50: the full key hint" l200 "Space/→ next  ← back  r restart  a auto  q quit"
T send-keys -t l200 C-c
exited "200x50: ^C quits cleanly too" l200

# ---- --ascii, mono: the marker carries what colour cannot ------------------------
start asc 80 24 env LANG=C.UTF-8 NO_COLOR=1 "$ET" replay "$REC" --ascii --theme mono
keys asc Space Space Space Space Space Space
check "--ascii, mono: step 3 lights rdllist with the marker" asc "^\\+> rdllist: 1 ready"
check "--ascii: the ready mark in rbr" asc "^\\|\\* +5 "
keys asc q
exited "--ascii: q quits" asc

# ---- a terminal too small --------------------------------------------------------------
start small 50 12 env LANG=C.UTF-8 "$ET" replay "$REC"
check "50x12: the message, as the TUI says it" small "Terminal too small: 50x12, need 60x16"
T resize-window -t small -x 80 -y 24 2>/dev/null
check "50x12 enlarged to 80x24: the lesson" small "Space or → begins" 30
keys small q
exited "too small: q quits" small

# ---- an ordinary recording is not a lesson -----------------------------------------
start plain 100 30 env LANG=C.UTF-8 "$ET" replay "$PLAIN"
check "an ordinary recording: replay's own screens" plain "overview: 2 instances"
absent "an ordinary recording: no lesson layout" plain "Space or → begins|step [0-9]/"
keys plain q
exited "an ordinary recording: q quits" plain

# ---- live: the sink `learn` feeds, the lesson asked only when no stop is held ------------
if [ -z "$LIVE" ]; then
	fail "live: the test driver builds" "$(head -n 5 "$OUT/lesson_live.build")"
	exit 0
fi
start live 80 24 env LANG=C.UTF-8 "$LIVE" "$OUT/advances"
check "live: the lesson's title" live "Space or → begins the lesson"
keys live Space
check "live: Space with nothing held: 'running step 1…' while it runs" live "running step 1…"
check "live: ... then step 1 when it comes" live "step 1/5: what is about to happen"
for want in "step 1/5: what the kernel did" "step 2/5: what is about to happen" \
	"step 2/5: what the kernel did"; do
	keys live Space
	wait_screen live "$want" 50 || fail "live: Space to '$want'" "$(screen live | head -n 3)"
done
check "live: forward stop by stop, each asked for" live "step 2/5: what the kernel did"
keys live Left Left Space Space
check "live: back and forth over held stops" live "step 2/5: what the kernel did"
absent "live: ... without asking the lesson" live "running step"
for want in "step 3/5: what is about to happen" "step 3/5: what the kernel did" \
	"step 4/5: what is about to happen" "step 4/5: what the kernel did" \
	"step 5/5: what is about to happen" "step 5/5: what the kernel did"; do
	keys live Space
	wait_screen live "$want" 50 || fail "live: Space to '$want'" "$(screen live | head -n 3)"
done
check "live: the last step, both instances" live "rbr: 3 epitems.*rbr: 1 epitem"
# the workload is done and the session over: the screen stays for the class
sleep 0.6
keys live Space
check "live: the session over: the screen stays, the end said" live "The lesson is over"
keys live Left
check "live: ... and ← still works" live "step 5/5: what is about to happen"
keys live q
exited "live: q quits" live
if grep -qx "advances 10" "$OUT/advances" 2>/dev/null; then
	pass "live: the lesson asked once per stop, never for a held one (10)"
else
	fail "live: the lesson asked once per stop, never for a held one (10)" \
		"$(cat "$OUT/advances" 2>/dev/null || echo 'no count written')"
fi
