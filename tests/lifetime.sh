#!/bin/bash
# Process lifetime and signals: a reader that goes away, a COMMAND that
# cannot run, COMMAND's exit status and output, -p of what cannot be
# traced, -p lists, -f with children that exist already (nginx), losses
# said on stderr, and the demo surviving Ctrl-Z.  Prints one line per
# check: "PASS name" or "FAIL name :: detail"; tests/run-all.sh counts them.
#
# usage: lifetime.sh EPOLLTRACE OUTDIR      (as root; ports 63811-63819)
set -u
ET=$1 OUT=$2
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
NGINX_PORT=${NGINX_PORT:-63811}
SOCK=epolltrace-lifetime-$$
T() { tmux -L "$SOCK" "$@"; }
pids=()
cleanup() {
	T kill-server 2>/dev/null
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	[ -s "$OUT/nginx/nginx.pid" ] && kill -9 "$(cat "$OUT/nginx/nginx.pid")" 2>/dev/null
	wait 2>/dev/null
}
trap cleanup EXIT

pass() { echo "PASS lifetime: $1"; }
fail() { echo "FAIL lifetime: $1 :: $(echo "$2" | tr '\n' ' ' | cut -c1-400)"; }
# wait_for TENTHS COMMAND...: until COMMAND succeeds
wait_for() {
	local n=$1 i=0
	shift
	until "$@"; do
		i=$((i + 1))
		[ $i -gt "$n" ] && return 1
		sleep 0.1
	done
}
has_line() { [ -s "$1" ] && grep -q -- "$2" "$1"; }

# a process with one epoll instance (a pipe in it), asleep in epoll_wait
cat >"$OUT/ep.py" <<'EOF'
import os, select, sys, time
ep = select.epoll()
r, w = os.pipe()
ep.register(r, select.EPOLLIN)
print("ready", flush=True)
ep.poll(60)
EOF
# python3 ep.py, in the background; its pid in $EP
ep_start() {
	python3 "$OUT/ep.py" >"$OUT/ep.$1" &
	EP=$!
	pids+=("$EP")
	wait_for 100 has_line "$OUT/ep.$1" ready
}
# the owners of the instances a --json stream's snapshots show
owners() { python3 -c '
import json, sys
print(" ".join(sorted({str(e["owner"]) for e in map(json.loads, open(sys.argv[1]))
                      if e["type"] == "snapshot"})))' "$1" 2>/dev/null; }

# ---- 1. the reader goes away: the session ends, the recording is complete --
ep_start pipe
rm -f "$OUT/pipe.etr"	# a recording an earlier run left
"$ET" --json -w "$OUT/pipe.etr" -p "$EP" 2>"$OUT/pipe.err" | head -n 1 >"$OUT/pipe.head"
rc=${PIPESTATUS[0]}
info=$("$ET" info "$OUT/pipe.etr" 2>&1)
if [ "$rc" = 0 ] && [ ! -s "$OUT/pipe.err" ] && [ -s "$OUT/pipe.head" ] &&
	grep -q "complete *yes" <<<"$info"; then
	pass "--json -w F | head -1: exit 0, quiet, the recording complete"
else
	fail "--json -w F | head -1" "exit $rc; stderr: $(cat "$OUT/pipe.err"); info: $(grep complete <<<"$info")"
fi
# an idle target: nothing more is written, the reader's going is noticed anyway
timeout 30 "$ET" --text -p "$EP" 2>"$OUT/idle.err" | head -n 1 >"$OUT/idle.head"
rc=${PIPESTATUS[0]}
if [ "$rc" = 0 ] && [ ! -s "$OUT/idle.err" ] && [ -s "$OUT/idle.head" ]; then
	pass "--text -p IDLE | head -1: the session ends (exit 0)"
else
	fail "--text -p IDLE | head -1" "exit $rc (124: still running after 30 s); $(cat "$OUT/idle.err")"
fi
# a real write error is still one: /dev/full is no pipe
"$ET" --json -p "$EP" -d 5 >/dev/full 2>"$OUT/full.err"
rc=$?
if [ "$rc" = 1 ] && grep -q "writing output: No space left" "$OUT/full.err"; then
	pass "--json >/dev/full: an error (exit 1), the session ended early"
else
	fail "--json >/dev/full" "exit $rc; stderr: $(cat "$OUT/full.err")"
fi
kill "$EP"

# ---- 2. a COMMAND that cannot run: fail before tracing, as a shell does ----
touch "$OUT/not-executable"
chmod 0644 "$OUT/not-executable"
cant_run() {	# name want pattern cmd
	"$ET" --json -- "$4" >"$OUT/cr.out" 2>"$OUT/cr.err"
	local rc=$?
	if [ "$rc" = "$2" ] && [ "$(wc -l <"$OUT/cr.err")" = 1 ] && grep -q -- "$3" "$OUT/cr.err" &&
		[ ! -s "$OUT/cr.out" ]; then
		pass "$1"
	else
		fail "$1" "exit $rc; stderr: $(head -c 300 "$OUT/cr.err"); stdout: $(head -c 100 "$OUT/cr.out")"
	fi
}
cant_run "-- /nonexistent/cmd: exit 127, one line" 127 \
	"cannot run /nonexistent/cmd: No such file or directory" /nonexistent/cmd
cant_run "-- a name not in PATH: exit 127, command not found" 127 \
	"cannot run no-such-command-$$: command not found" "no-such-command-$$"
cant_run "-- a file without x: exit 126, Permission denied" 126 \
	"cannot run $OUT/not-executable: Permission denied" "$OUT/not-executable"

# on a terminal: no TUI opens, the shell gets 127
T -f /dev/null new-session -d -s keep "sleep 3600"
T set-option -g remain-on-exit on
T set-option -g default-terminal xterm-256color
tstart() {	# session width height command...: the status goes to OUT/rc-SESSION
	local s=$1 w=$2 h=$3
	shift 3
	rm -f "$OUT/rc-$s"
	T new-session -d -s "$s" -x "$w" -y "$h" bash -c '"$@"; echo $? > "$0"' "$OUT/rc-$s" "$@"
}
screen() { T capture-pane -p -t "$1" 2>/dev/null; }
on_screen() { screen "$1" | grep -Eq -- "$2"; }
# (stdout and stdin are the terminal; stderr is kept, for the message)
tstart nocmd 100 30 sh -c 'exec env LANG=C.UTF-8 "$0" -- /nonexistent/cmd 2>"$1"' \
	"$ET" "$OUT/nocmd.err"
if wait_for 100 test -s "$OUT/rc-nocmd" && [ "$(cat "$OUT/rc-nocmd")" = 127 ] &&
	grep -q "cannot run /nonexistent/cmd" "$OUT/nocmd.err"; then
	pass "on a terminal, -- /nonexistent/cmd: no TUI, exit 127"
else
	fail "on a terminal, -- /nonexistent/cmd" "status '$(cat "$OUT/rc-nocmd" 2>/dev/null)'; $(screen nocmd | grep -v '^ *$' | head -n 4)"
	T send-keys -t nocmd q
fi

# ---- 3. COMMAND's exit status, as strace gives it -----------------------------
status_is() {	# name want args...
	local name=$1 want=$2
	shift 2
	"$ET" --json "$@" >/dev/null 2>"$OUT/st.err"
	local rc=$?
	if [ "$rc" = "$want" ]; then
		pass "$name"
	else
		fail "$name" "exit $rc, want $want; stderr: $(head -c 300 "$OUT/st.err")"
	fi
}
status_is "-- sh -c 'exit 3': exit 3" 3 -- sh -c 'exit 3'
status_is "-- a command killed by SIGTERM: exit 143" 143 -- sh -c 'kill -TERM $$'
status_is "-d 1 -- sleep 60: the session ended first, exit 0" 0 -d 1 -- sleep 60
status_is "a tracing error wins over the command's status: exit 1" 1 \
	-w "$OUT/no/such/dir/x.etr" -- sh -c 'exit 3'

# ---- 4. COMMAND's output: the TUI's message log; never in --json's stdout ----
"$ET" --json -- sh -c 'echo to-stdout; echo to-stderr >&2' >"$OUT/cmdout.json" 2>"$OUT/cmdout.err"
if python3 -c '
import json, sys
for l in open(sys.argv[1]):
    json.loads(l)' "$OUT/cmdout.json" 2>"$OUT/cmdout.py" &&
	grep -qx to-stdout "$OUT/cmdout.err" && grep -qx to-stderr "$OUT/cmdout.err"; then
	pass "--json -- COMMAND: stdout JSON only, COMMAND's output on stderr"
else
	fail "--json -- COMMAND output" "$(tail -n 1 "$OUT/cmdout.py"); stderr: $(head -c 200 "$OUT/cmdout.err")"
fi
tstart cmdlog 120 30 env LANG=C.UTF-8 "$ET" -- sh -c \
	'echo hello-from-cmd; echo oops-from-cmd >&2; sleep 1; exit 5'
if wait_for 150 on_screen cmdlog "2 msg \(m\)"; then
	T send-keys -t cmdlog m
	if wait_for 30 on_screen cmdlog "\[sh\] hello-from-cmd" &&
		on_screen cmdlog "\[sh\] oops-from-cmd"; then
		pass "TUI: COMMAND's stdout and stderr lines in the message log"
	else
		fail "TUI: COMMAND's output in the log" "$(screen cmdlog | grep -v '^ *$' | head -n 8)"
	fi
else
	fail "TUI: COMMAND's output in the log" "no '2 msg': $(screen cmdlog | grep -v '^ *$' | head -n 8)"
fi
# the command ends the session (q before that would end it first: exit 0)
wait_for 100 on_screen cmdlog "LIVE ENDED"
T send-keys -t cmdlog Escape q
if wait_for 50 test -s "$OUT/rc-cmdlog" && [ "$(cat "$OUT/rc-cmdlog")" = 5 ]; then
	pass "TUI: after q, COMMAND's exit status (5)"
else
	fail "TUI: COMMAND's exit status" "status '$(cat "$OUT/rc-cmdlog" 2>/dev/null)'"
fi

# ---- 5. -p of what cannot be traced ------------------------------------------
# a zombie: its parent never reaps it
python3 -c '
import os, sys, time
pid = os.fork()
if pid == 0:
    os._exit(0)
print(pid, flush=True)
time.sleep(60)' >"$OUT/zombie.pid" &
pids+=($!)
wait_for 100 has_line "$OUT/zombie.pid" .
Z=$(cat "$OUT/zombie.pid")
wait_for 100 sh -c "[ \"\$(awk '{print \$3}' /proc/$Z/stat)\" = Z ]"
not_traceable() {	# name pid pattern
	"$ET" --json -d 2 -p "$2" >"$OUT/nt.out" 2>"$OUT/nt.err"
	local rc=$?
	if [ "$rc" = 1 ] && [ "$(wc -l <"$OUT/nt.err")" = 1 ] && grep -q -- "$3" "$OUT/nt.err" &&
		[ ! -s "$OUT/nt.out" ]; then
		pass "$1"
	else
		fail "$1" "exit $rc; stderr: $(head -c 300 "$OUT/nt.err"); stdout: $(head -c 100 "$OUT/nt.out")"
	fi
}
not_traceable "-p ZOMBIE: refused, one line" "$Z" "cannot trace $Z (python3): a zombie"
not_traceable "-p 2 (kthreadd): refused, a kernel thread" 2 "cannot trace 2 (kthreadd): a kernel thread"

# ---- 9. -p lists: commas, spaces, duplicates; a bad element named -------------
ep_start list-a
A=$EP
ep_start list-b
B=$EP
plist() {	# name arg
	"$ET" --json -d 1 -p "$2" >"$OUT/plist.json" 2>"$OUT/plist.err"
	local rc=$? got
	got=$(owners "$OUT/plist.json")
	if [ "$rc" = 0 ] && [ "$got" = "$(printf '%s\n' "$A" "$B" | sort | tr '\n' ' ' | sed 's/ $//')" ]; then
		pass "$1"
	else
		fail "$1" "exit $rc, owners '$got', want $A $B; $(head -c 200 "$OUT/plist.err")"
	fi
}
plist "-p A,B traces both" "$A,$B"
plist "-p \"A B A\" (pidof's form, a duplicate) traces both" "$A $B $A"
"$ET" --json -p "$A,12x" >"$OUT/pbad.out" 2>"$OUT/pbad.err"
rc=$?
if [ "$rc" = 2 ] && [ "$(wc -l <"$OUT/pbad.err")" = 1 ] &&
	grep -q "invalid pid: '12x' in '$A,12x'" "$OUT/pbad.err" && [ ! -s "$OUT/pbad.out" ]; then
	pass "-p A,12x: one line naming '12x'"
else
	fail "-p A,12x" "exit $rc; $(cat "$OUT/pbad.err")"
fi
kill "$A" "$B"

# ---- 7. -p MASTER -f: the children that exist already -------------------------
# a tree forked before tracing: master (no epoll) -> child -> grandchild
cat >"$OUT/tree.py" <<'EOF'
import os, select, sys, time
def serve(tag):
    ep = select.epoll()
    r, w = os.pipe()
    ep.register(r, select.EPOLLIN)
    print(tag, os.getpid(), flush=True)
    ep.poll(60)
    os._exit(0)
if os.fork() == 0:
    if os.fork() == 0:
        serve("grandchild")
    serve("child")
time.sleep(60)
EOF
python3 "$OUT/tree.py" >"$OUT/tree.txt" &
M=$!
pids+=("$M")
wait_for 100 sh -c "[ \$(wc -l <'$OUT/tree.txt') = 2 ]"
want=$(awk '{print $2}' "$OUT/tree.txt" | sort | tr '\n' ' ' | sed 's/ $//')
pids+=($want)
"$ET" --json -d 1 -f -p "$M" >"$OUT/tree.json" 2>"$OUT/tree.err"
got=$(owners "$OUT/tree.json")
if [ "$got" = "$want" ]; then
	pass "-p MASTER -f: a child and a grandchild forked before tracing are traced"
else
	fail "-p MASTER -f, existing tree" "owners '$got', want '$want'; $(head -c 200 "$OUT/tree.err")"
fi
kill "$M" $want

# nginx: a master and two workers, on a private prefix
if command -v nginx >/dev/null; then
	N=$OUT/nginx
	mkdir -p "$N/logs"
	cat >"$N/nginx.conf" <<EOF
worker_processes 2;
pid $N/nginx.pid;
error_log $N/logs/error.log;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $N/body;
	proxy_temp_path $N/proxy;
	fastcgi_temp_path $N/fastcgi;
	uwsgi_temp_path $N/uwsgi;
	scgi_temp_path $N/scgi;
	server { listen 127.0.0.1:$NGINX_PORT; location / { return 200 "ok\n"; } }
}
EOF
	nginx -p "$N" -c "$N/nginx.conf" -g 'daemon off;' 2>"$N/start.err" &
	NM=$!
	pids+=("$NM")
	wait_for 100 sh -c "[ \$(cat /proc/$NM/task/*/children 2>/dev/null | wc -w) = 2 ]"
	workers=$(cat /proc/"$NM"/task/*/children | tr ' ' '\n' | grep . | sort | tr '\n' ' ' | sed 's/ $//')
	"$ET" --json -d 3 -f -p "$NM" >"$N/trace.json" 2>"$N/trace.err" &
	tp=$!
	wait_for 300 has_line "$N/trace.json" '"snapshot"'
	for _ in 1 2 3 4; do
		(exec 3<>/dev/tcp/127.0.0.1/"$NGINX_PORT" && printf 'GET / HTTP/1.0\r\n\r\n' >&3 &&
			cat <&3 >/dev/null) 2>/dev/null
	done
	wait "$tp"
	got=$(owners "$N/trace.json")
	if [ -n "$workers" ] && [ "$got" = "$workers" ] && python3 -c '
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
w = set(map(int, sys.argv[2:]))
assert any(e["type"] == "ctl" and e["owner"] in w for e in ev), "no ctl by a worker"' \
		"$N/trace.json" $workers 2>"$N/check.err"; then
		pass "-p NGINX_MASTER -f: its running workers traced (instances, and ctl per request)"
	else
		fail "-p NGINX_MASTER -f" "workers '$workers', owners '$got'; $(tail -n 1 "$N/check.err") $(head -c 200 "$N/trace.err" "$N/start.err")"
	fi
	kill "$NM"
	wait "$NM" 2>/dev/null
else
	fail "-p NGINX_MASTER -f" "nginx is not installed (make test-deps)"
fi

# ---- 8. ring-buffer losses said on stderr too ---------------------------------
"$ET" --json -f --ring-size 1 -- sh -c \
	"for i in \$(seq 40); do '$ET' demo --scenario mixed --scale 8 || exit 1; done" \
	>"$OUT/loss.json" 2>"$OUT/loss.err" &
tp=$!
wait_for 300 has_line "$OUT/loss.json" '"ep_create"'
kill -STOP $tp	# the reader stalls; the workload goes on to its end
sh_pid=$(pgrep -P $tp | head -n 1)
wait_for 1200 sh -c "[ \"\$(awk '{print \$3}' /proc/$sh_pid/stat 2>/dev/null)\" = Z ]"
kill -CONT $tp
wait $tp
lost=$(python3 -c '
import json, sys
print(sum(e["count"] for e in map(json.loads, open(sys.argv[1])) if e["type"] == "lost" and e["ring"] == "events"))' \
	"$OUT/loss.json" 2>/dev/null)
if [ -n "$lost" ] && [ "$lost" -gt 0 ] &&
	grep -q "^epolltrace: warning: records lost: $lost events" "$OUT/loss.err"; then
	pass "losses: one line on stderr with the stream's count ($lost events)"
else
	fail "losses on stderr" "stream lost '$lost'; stderr: $(head -c 300 "$OUT/loss.err")"
fi

# ---- 6. demo survives Ctrl-Z (10 s) and fg, in the TUI -------------------------
T new-session -d -s job -x 160 -y 40 env LANG=C.UTF-8 PS1='$ ' bash --norc --noprofile -i
T send-keys -t job "'$ET' demo --rate 5" Enter
if wait_for 300 on_screen job "^ *[0-9]+ classroom "; then
	cpid=$(screen job | sed -nE 's/^ *([0-9]+) classroom .*/\1/p' | head -n 1)
	T send-keys -t job C-z
	wait_for 50 on_screen job "Stopped"
	sleep 10
	T send-keys -t job "fg" Enter
	wait_for 50 on_screen job "classroom"
	sleep 3	# the watchdog fired within 2 s of fg (no echo within 1.8 s at rate 5)
	st=$(awk '{print $3}' /proc/"$cpid"/stat 2>/dev/null)
	if [ -n "$st" ] && [ "$st" != Z ] && ! on_screen job " msg \(m\)"; then
		pass "demo: Ctrl-Z for 10 s, fg: the workload lives on, no error"
	else
		fail "demo survives Ctrl-Z" "workload $cpid state '$st'; $(screen job | grep -v '^ *$' | head -n 4)"
	fi
	T send-keys -t job q
	# the final snapshot and the workload's teardown: seconds on a loaded machine
	wait_for 200 on_screen job '^\$ $'
	T send-keys -t job 'echo rc=$?' Enter
	if wait_for 30 on_screen job "^rc=0"; then
		pass "demo: q after fg, exit 0"
	else
		fail "demo: q after fg" "$(screen job | grep -v '^ *$' | tail -n 4)"
	fi
else
	fail "demo survives Ctrl-Z" "the TUI did not show the workload: $(screen job | grep -v '^ *$' | head -n 4)"
fi

# ---- 10. the command does not outlive a tracer killed with SIGKILL ---------------
"$ET" --json -- sleep 300 >"$OUT/orphan.jsonl" 2>"$OUT/orphan.err" &
tp=$!
pids+=("$tp")
child=""
for _ in $(seq 100); do
	child=$(pgrep -P "$tp" -x sleep | head -n 1)
	[ -n "$child" ] && grep -q '"type":"session"' "$OUT/orphan.jsonl" 2>/dev/null && break
	sleep 0.1
done
kill -9 "$tp" 2>/dev/null
wait "$tp" 2>/dev/null
gone=no
for _ in $(seq 100); do
	{ [ -z "$child" ] || ! kill -0 "$child" 2>/dev/null; } && { gone=yes; break; }
	sleep 0.1
done
if [ -n "$child" ] && [ $gone = yes ]; then
	pass "-- COMMAND: ends when its tracer is killed with SIGKILL"
else
	fail "-- COMMAND outlives a killed tracer" "child '${child}' still there: $(ps -o pid,stat,cmd -p "${child:-1}" | tail -n 1)"
	[ -n "$child" ] && kill -9 "$child" 2>/dev/null
fi
