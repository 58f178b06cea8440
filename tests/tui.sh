#!/bin/bash
# The TUI, for real: epolltrace runs in tmux on live traced workloads and
# the tests read the screen (capture-pane), press keys (send-keys) and
# resize the window.  Prints one line per check: "PASS name" or
# "FAIL name :: detail"; tests/run-all.sh counts them.
#
# usage: tui.sh EPOLLTRACE OUTDIR
set -u
ET=$1 OUT=$2
mkdir -p "$OUT"
SOCK=epolltrace-tui-$$
PORT=${PORT:-63791}
T() { tmux -L "$SOCK" "$@"; }
pids=()
cleanup() {
	T kill-server 2>/dev/null
	tmux -L "$SOCK-hup" kill-server 2>/dev/null
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
}
trap cleanup EXIT

pass() { echo "PASS tui: $1"; }
fail() { echo "FAIL tui: $1 :: $(echo "$2" | tr '\n' ' ' | cut -c1-400)"; }
screen() { T capture-pane -p -t "$1" 2>/dev/null; }
# wait_screen SESSION PATTERN [TENTHS]: the screen shows PATTERN (grep -E)
wait_screen() {
	local i=0
	while ! screen "$1" | grep -Eq -- "$2"; do
		i=$((i + 1))
		[ $i -gt "${3:-100}" ] && return 1
		sleep 0.1
	done
}
# check NAME SESSION PATTERN [TENTHS]
check() {
	if wait_screen "$2" "$3" "${4:-100}"; then
		pass "$1"
	else
		fail "$1" "no /$3/ on: $(screen "$2" | grep -v '^ *$' | head -n 12)"
		screen "$2" >"$OUT/fail-$(echo "$1" | tr -c 'a-z0-9' _).txt"
	fi
}
# exited NAME SESSION: epolltrace left with status 0 and the terminal restored
# (bash, the pane's process, writes the status: if epolltrace died of a
# signal instead of handling it, bash dies of it too and writes nothing)
exited() {
	local i=0 rc
	while [ ! -s "$OUT/rc-$2" ] && [ $i -lt 100 ]; do
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

# a session the server keeps, so that remain-on-exit can be set first
T -f /dev/null new-session -d -s keep "sleep 3600"
T set-option -g remain-on-exit on
T set-option -g default-terminal xterm-256color

# ---- a real server from Debian's packages: redis-server ---------------------
redis-server --port "$PORT" --bind 127.0.0.1 --save "" --appendonly no --daemonize no \
	--logfile "$OUT/redis.log" &
RPID=$!
pids+=("$RPID")
for _ in $(seq 100); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done

start redis 160 70 env LANG=C.UTF-8 "$ET" -p "$RPID"
check "redis: the overview shows redis-server's instance" redis \
	"overview: 1 instance.*" 300
check "redis: its row: pid, comm, epfd" redis "^ *$RPID redis-server +[0-9]+ " 50
# load with many clients: the interest set grows to hold them
redis-benchmark -p "$PORT" -n 2000000 -c 30 -t get -q >/dev/null 2>&1 &
BPID=$!
pids+=("$BPID")
check "redis: under load, 30 more fds watched and events flowing" redis \
	"^ *$RPID redis-server +[0-9]+ +(3[2-9]|[4-9][0-9]) .* [0-9.]+k? +[0-9]+ +[A-Z]* *$" 150
check "redis: the event log names kernel functions" redis "epoll_wait|ep_insert" 50
T send-keys -t redis Enter
check "redis: Enter opens the instance: the rb-tree pane" redis "rbr: [0-9]+ epitems, tree order" 30
check "redis: the listening socket in the rb-tree" redis "tcp-listen +IN +(0.0.0.0|127.0.0.1):$PORT" 30
check "redis: connections with their addresses" redis \
	"tcp +IN +127.0.0.1:$PORT -> 127.0.0.1:[0-9]+" 30
check "redis: the ready-list and wait-queue panes" redis "rdllist: [0-9]+ ready.*wq: [0-9]+ asleep" 30

# ---- small terminals: the instance view, the help and the filter -------------
# rows of rbr on screen: between its title and the rdllist/wq edge, with an fd
rbr_rows() {
	screen redis | sed -n '/rbr: [0-9]* epitems/,/rdllist:/p' |
		grep -cE '^(│|\|)( |●|\*) +[0-9]+ +[a-z?]'
}
# count_at_least NAME N COMMAND...: COMMAND prints a number that reaches N
count_at_least() {
	local name=$1 want=$2 i=0 n
	shift 2
	while n=$("$@"); [ "${n:-0}" -lt "$want" ] && [ $i -lt 30 ]; do
		i=$((i + 1))
		sleep 0.1
	done
	if [ "${n:-0}" -ge "$want" ]; then pass "$name"; else
		fail "$name" "$n (want $want): $(screen redis | head -n 14)"; fi
}
# the rows of one pane: from the line matching FROM (excluded) to the one matching TO
pane_rows() { screen redis | sed -n "\\%$1%,\\%$2%p" | sed '1d;$d'; }
# resize W H: resize the redis window and wait for a frame drawn at that width
# (tmux shows the old frame clipped until then; the clock ends the title bar)
resize() {
	local i=0 l
	T resize-window -t redis -x "$1" -y "$2"
	while [ $i -lt 30 ]; do
		l=$(screen redis | head -n 1 | sed 's/ *$//')
		[ "${#l}" -eq $(($1 - 1)) ] && [ "${l%s}" != "$l" ] && return
		i=$((i + 1))
		sleep 0.1
	done
}
resize 80 24
count_at_least "small: 80x24, the instance view shows 8 rows of rbr" 8 rbr_rows
resize 100 30
count_at_least "small: 100x30, 11 rows of rbr" 11 rbr_rows
resize 60 16
count_at_least "small: 60x16, the minimum, rbr shows rows" 1 rbr_rows
# (no bracket expressions around box characters: they must match in any locale)
check "small: 60x16, rdllist and wq side by side, titles whole" redis \
	"^(├|\+)─ rdllist: [0-9]+ ready( \(sampled\))? ─+(┬|\+)─ wq: [0-9]+ asleep" 30
if pane_rows "rdllist: [0-9]* ready" "─ events" | sed 1d |
	grep -qE '^│ *(head|tail|[0-9]+ |\(empty).*│ *([0-9]+ |\(empty)'; then
	pass "small: 60x16, rdllist and wq each show a row"
else
	fail "small: 60x16, rdllist and wq each show a row" "$(screen redis)"
fi
if pane_rows "─ events" "^└" | grep -qE '^│ *([0-9]+\.[0-9]+ [a-z_]|\(no event)'; then
	pass "small: 60x16, the events pane shows rows"
else
	fail "small: 60x16, the events pane shows rows" "$(screen redis)"
fi
if screen redis | grep -E "rbr:|rdllist:|─ events|epolltrace  pid" | grep -q "…"; then
	fail "small: 60x16, no title cut or run into another" \
		"$(screen redis | grep -E 'rbr:|rdllist:|events')"
else
	pass "small: 60x16, no title cut or run into another"
fi
# the help scrolls at the minimum size, and says where it is
T send-keys -t redis '?'
check "help: at 60x16 it says which lines it shows" redis "^ lines 1-13 of [0-9]+ " 30
T send-keys -t redis j
check "help: j scrolls a line" redis "^ lines 2-14 of " 30
T send-keys -t redis NPage
check "help: PgDn scrolls a page" redis "^ lines 14-26 of " 30
T send-keys -t redis End
check "help: End shows the end (the attach plan)" redis \
	"^ lines [0-9]+-([0-9]+) of \\1 +\\(END\\)" 30
check "help: ... its last line" redis "snapshot +iter" 10
T send-keys -t redis Home
check "help: Home goes back to the top" redis "^ lines 1-13 of " 30
T send-keys -t redis k
check "help: k at the top stays there" redis "^ Keys" 30
resize 80 24
check "help: at 80x24 as well" redis "^ lines 1-21 of [0-9]+ " 30
resize 100 30
check "help: at 100x30 as well" redis "^ lines 1-27 of [0-9]+ " 30
resize 160 70
check "help: at 160x70, all of it at once" redis "^ all [0-9]+ lines" 30
T send-keys -t redis Escape
resize 100 30
check "help: Esc closes it" redis "rbr: [0-9]+ epitems" 30
# the filter takes the names the log shows
T send-keys -t redis / t r y _ t o _ w a k e _ u p Enter
check "filter: an event name as the log shows it (try_to_wake_up)" redis \
	"─ events /try_to_wake_up " 30
check "filter: ... the log shows those events" redis "^│ *[0-9.]+ try_to_wake_up tid " 100
rows=$(pane_rows "─ events /" "^└" | grep -E '^│ *[0-9]+\.[0-9]+ ')
if [ -n "$rows" ] && ! grep -vq "try_to_wake_up" <<<"$rows"; then
	pass "filter: ... and only those"
else
	fail "filter: ... and only those" "$(pane_rows '─ events /' '^└')"
fi
T send-keys -t redis /
check "filter: / again shows the filter in force" redis "filter .*/try_to_wake_up_" 30
T send-keys -t redis e p _ s e n d _ e v e n t s Enter
check "filter: typing replaces the old text" redis "─ events /ep_send_events " 30
T send-keys -t redis / x y z C-u k i n d Space w a i t Enter
check "filter: ^U erases the line" redis "─ events /kind wait " 30
T send-keys -t redis / f d Space 6 Space k i n d Space w a i t C-w C-w Enter
check "filter: ^W erases a word" redis "─ events /fd 6 \\(newest last\\)" 30
T send-keys -t redis / b o g u s Enter
check "filter: a rejected filter, and why, on the status line" redis \
	"^ LIVE RUNNING \\| filter rejected: 'bogus' is not an fd, a kind or an event name" 30
check "filter: ... the prompt stays, to put it right" redis "filter .*/bogus_" 10
T send-keys -t redis Escape
check "filter: Esc removes the filter" redis "─ events \\(newest last\\)" 30
resize 160 70
T send-keys -t redis p
check "redis: p pauses the view" redis "LIVE PAUSED" 30
check "redis: paused, events are held (tracing goes on)" redis "\| [1-9][0-9]* held" 50
T send-keys -t redis Space
check "redis: space steps one event and explains it" redis "what the kernel just did" 30
T send-keys -t redis p
check "redis: p resumes" redis "LIVE RUNNING" 30
T send-keys -t redis / k i n d Space w a i t Enter
check "redis: / filters the log by kind" redis "events /kind wait" 30
if screen redis | sed -n '/events \/kind wait/,/^[^|│]/p' | grep -E "^[|│] *[0-9]+\.[0-9]+ " |
	grep -vqE "epoll_wait|ep_send_events|ep_done_scan"; then
	fail "redis: the filtered log holds wait events only" "$(screen redis | tail -n 12)"
else
	pass "redis: the filtered log holds wait events only"
fi
T send-keys -t redis / Escape
T send-keys -t redis Escape
check "redis: Esc returns to the overview" redis "overview: 1 instance" 30
T send-keys -t redis s
check "redis: s sorts by the next column" redis "sorted by watched" 30
T send-keys -t redis '?'
check "redis: ? shows the help" redis "rdllist +the ready list" 30
T send-keys -t redis Escape
check "redis: Esc closes the help" redis "overview: 1 instance" 30
# resizing, at any moment
T resize-window -t redis -x 50 -y 12
check "resize: below the minimum, a clear message" redis "Terminal too small: 50x12, need 60x16" 30
T resize-window -t redis -x 70 -y 30
check "resize: grown back, the overview returns" redis "overview: 1 instance" 30
if screen redis | grep -q "WAKE/s" || ! screen redis | grep -q "READY"; then
	fail "resize: 70 columns drop the least useful columns" "$(screen redis | sed -n 2p)"
else
	pass "resize: 70 columns drop the least useful columns"
fi
kill "$BPID" 2>/dev/null
T send-keys -t redis q
exited "redis: q quits and restores the terminal" redis

# ---- threads asleep in epoll_wait ----------------------------------------------
rm -f "$OUT/sleepers.truth"
"$ET" demo --scenario sleepers --gate --truth "$OUT/sleepers.truth" 2>"$OUT/sleepers.err" &
SPID=$!
pids+=("$SPID")
for _ in $(seq 100); do grep -q '"ready"' "$OUT/sleepers.truth" 2>/dev/null && break; sleep 0.1; done
start sleepers 120 40 env LANG=C.UTF-8 "$ET" -p "$SPID"
check "sleepers: the workload's instance appears" sleepers "overview: [0-9]+ instance" 300
kill -USR1 "$SPID"
for _ in $(seq 300); do grep -q '"done"' "$OUT/sleepers.truth" 2>/dev/null && break; sleep 0.1; done
# the instance the three sleepers wait on
epfd=$(sed -n 's/.*"t":"expect_waiters","epfd":\([0-9]*\).*/\1/p' "$OUT/sleepers.truth" | head -n 1)
check "sleepers: its row shows 3 asleep" sleepers "^ *([0-9]+ +epolltrace +)?$epfd +1 +0 +3 " 100
# sort by asleep, take the top row, open it
T send-keys -t sleepers s s s
check "sleepers: s s s sorts by asleep" sleepers "sorted by asleep" 30
T send-keys -t sleepers g Enter
check "sleepers: the wait queue shows the 3 threads asleep" sleepers "wq: 3 asleep, 3 in epoll_wait" 30
n=$(screen sleepers | grep -cE "[0-9]+ +epolltrace +[0-9.]+(us|ms|s|m) +never")
# (thread comms are cut to 10 columns: "epolltrace" fits)
if [ "$n" = 3 ]; then pass "sleepers: each with its time asleep and no timeout"; else
	fail "sleepers: each with its time asleep and no timeout" "$n rows: $(screen sleepers | grep -E 'asleep|never')"; fi
# the target exits: the last picture stays until q
kill -USR1 "$SPID"
check "target exit: the screen says so and stays" sleepers "ENDED" 100
T send-keys -t sleepers q
exited "target exit: q then quits cleanly" sleepers

# ---- the classroom demo: two processes, sleepers, a ready list that breathes ----
start demo 150 50 env LANG=C.UTF-8 "$ET" demo --snapshot-interval 0.2
check "demo: two processes, classroom and pipeline" demo "overview: 2 instances" 300
check "demo: the server's row" demo "^ *[0-9]+ classroom " 50
T send-keys -t demo s g Enter
check "demo: sorted by watched, the server opens first" demo "pid [0-9]+ \\(classroom\\) epfd" 30
check "demo: its workers asleep on wq" demo "worker-[123] +[0-9.]+(us|ms|s|m) " 100
check "demo: the ready list fills as a burst arrives" demo "rdllist: [1-9][0-9]* ready" 150
check "demo: and drains" demo "rdllist: 0 ready" 150
check "demo: the connections in the rb-tree" demo "tcp +IN +127.0.0.1:[0-9]+ -> 127" 30
check "demo: the one-shot timerfd and the edge-triggered eventfd" demo "timerfd .*ONESHOT" 30
T send-keys -t demo q
exited "demo: q quits" demo

# ---- the TUI and a recording at once (-w) --------------------------------------
rm -f "$OUT/tui-w.etr"
start tuiw 120 40 "$ET" --attach=tracepoint -w "$OUT/tui-w.etr" -f -- \
	"$ET" demo --scenario classroom --duration 3
check "-w: the TUI shows the session it records" tuiw "overview: [12] instance" 300
check "-w: the workload ends, the screen stays" tuiw "LIVE ENDED" 200
T send-keys -t tuiw q
exited "-w: q quits" tuiw
if "$ET" replay "$OUT/tui-w.etr" --summary >"$OUT/tui-w.txt" 2>"$OUT/tui-w.err" &&
	grep -q "WATCHED" "$OUT/tui-w.txt" && [ ! -s "$OUT/tui-w.err" ]; then
	pass "-w: the recording made under the TUI is complete and replays"
else
	fail "-w: the recording made under the TUI" "$(head -c 300 "$OUT/tui-w.err")"
fi

# ---- a recording replayed in the TUI, without root ----------------------------
REC=$OUT/classroom.etr
rm -f "$REC"
"$ET" record --attach=tracepoint --snapshot-interval 0.2 -f -o "$REC" -- \
	"$ET" demo --scenario classroom --duration 5 >/dev/null 2>"$OUT/record.err"
chmod 0644 "$REC"
start replay 150 45 env LANG=C.UTF-8 setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$ET" replay "$REC"
check "replay: without root, the recording plays in the TUI" replay "REPLAY RUNNING" 100
check "replay: the recorded processes' instances" replay "overview: 2 instances" 100
check "replay: the recorded target's comm (from the file, not /proc)" replay \
	"^ *[0-9]+ epolltrace " 50
T send-keys -t replay p
check "replay: p pauses the clock" replay "REPLAY PAUSED" 30
# in the help, End scrolls it (elsewhere in a replay it goes to the end)
T resize-window -t replay -x 60 -y 16
T send-keys -t replay '?'
check "replay: the help at 60x16" replay "^ lines 1-13 of " 30
T send-keys -t replay End
check "replay: End scrolls the help, not the recording" replay \
	"^ lines [0-9-]+ of [0-9]+ +\\(END\\)" 30
T send-keys -t replay Escape
T resize-window -t replay -x 150 -y 45
check "replay: Esc closes the help" replay "overview: 2 instances" 30
T send-keys -t replay :
T send-keys -t replay "#" 4 0 Enter
check "replay: : seeks to an event number" replay "#40/[0-9]+" 30
T send-keys -t replay .
check "replay: . steps one event and explains it" replay "#4[1-9]/[0-9]+.*|what the kernel just did" 30
check "replay: the explanation box" replay "what the kernel just did" 30
T send-keys -t replay + +
check "replay: + speeds up" replay "x5 " 30
T send-keys -t replay :
T send-keys -t replay 3 . 5 Enter
check "replay: : seeks to a time" replay "x5 3\\.[5-9]/" 30
T send-keys -t replay ">"
check "replay: > goes to the end" replay "REPLAY.*ENDED|#([0-9]+)/\\1 " 30
T send-keys -t replay "<"
check "replay: < starts over" replay "#0/[0-9]+|#[0-9]/[0-9]+" 30
T send-keys -t replay q
exited "replay: q quits" replay

# ---- Ctrl-C and SIGTERM restore the terminal ----------------------------------
start ctrlc 100 30 "$ET"
check "Ctrl-C: tracing everything, the overview is up" ctrlc "overview:" 300
T send-keys -t ctrlc C-c
exited "Ctrl-C quits and restores the terminal" ctrlc

start term 100 30 "$ET"
check "SIGTERM: the overview is up" term "overview:" 300
kill -TERM "$(pgrep -P "$(T display -p -t term '#{pane_pid}')")"
exited "SIGTERM quits and restores the terminal" term

# ---- the terminal goes away (window closed, ssh dropped): epolltrace ends ------
gone() {	# NAME PID: the process ends (or is a zombie) within 10 s
	local i=0
	while [ $i -lt 100 ]; do
		st=$(awk '{print $3}' "/proc/$2/stat" 2>/dev/null)
		if [ -z "$st" ] || [ "$st" = Z ]; then
			pass "$1"
			return
		fi
		i=$((i + 1))
		sleep 0.1
	done
	fail "$1" "still running: $(ps -o pid,stat,time,args -p "$2" | tail -n 1)"
	kill -9 "$2" 2>/dev/null
}
H() { tmux -L "$SOCK-hup" "$@"; }
sleep 600 &
SL=$!
pids+=("$SL")
H -f /dev/null new-session -d -s hup -x 100 -y 30 "exec $ET -p $SL"
for _ in $(seq 100); do H capture-pane -p -t hup 2>/dev/null | grep -q "overview:" && break; sleep 0.1; done
hp=$(H display -p -t hup '#{pane_pid}')
H kill-server
gone "hangup: the terminal closed under a live session, epolltrace ends" "$hp"
H -f /dev/null new-session -d -s hup -x 100 -y 30 "exec $ET -p $SL"
for _ in $(seq 100); do H capture-pane -p -t hup 2>/dev/null | grep -q "overview:" && break; sleep 0.1; done
hp=$(H display -p -t hup '#{pane_pid}')
kill "$SL"
for _ in $(seq 100); do H capture-pane -p -t hup 2>/dev/null | grep -q "ENDED" && break; sleep 0.1; done
H kill-server
gone "hangup: the terminal closed while the ended screen waits for q, epolltrace ends" "$hp"

# ---- monochrome and ASCII ---------------------------------------------------------
start mono 100 30 env TERM=vt100 LANG=C "$ET"
check "vt100: the overview is up" mono "overview:" 300
esc=$(T capture-pane -e -p -t mono)
if grep -q $'\e\\[[0-9;]*3[0-7]m\|\e\\[[0-9;]*4[0-7]m\|\e\\[[0-9;]*38;' <<<"$esc"; then
	fail "vt100: no colour" "colour escapes on screen"
elif ! grep -q $'\e\\[[0-9;]*7m' <<<"$esc"; then
	fail "vt100: reverse video marks the bars" "no reverse video"
else
	pass "vt100: monochrome, reverse video for the bars"
fi
if screen mono | grep -q "^+- events"; then pass "LANG=C: ASCII boxes"; else
	fail "LANG=C: ASCII boxes" "$(screen mono | grep -m1 events)"; fi
T send-keys -t mono q
exited "vt100: q quits" mono

start nocolor 100 30 env NO_COLOR=1 LANG=C.UTF-8 "$ET"
check "NO_COLOR: the overview is up" nocolor "overview:" 300
if T capture-pane -e -p -t nocolor | grep -q $'\e\\[[0-9;]*3[0-7]m'; then
	fail "NO_COLOR: no colour" "colour escapes on screen"
else
	pass "NO_COLOR: no colour"
fi
if screen nocolor | grep -q "└"; then pass "UTF-8: box drawing"; else
	fail "UTF-8: box drawing" "$(screen nocolor | tail -n 3)"; fi
T send-keys -t nocolor q
exited "NO_COLOR: q quits" nocolor
exit 0
