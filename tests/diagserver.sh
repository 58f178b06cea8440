#!/bin/bash
# Diagnosis on real servers under load (issue 13): Debian's redis-server
# under redis-benchmark, nginx (two workers) under wrk, node's http server
# under wrk, and an idle node server that polls without sleeping (a
# setImmediate loop).  Each is traced by pid while it serves, with the live
# --json-state and a recording (-w); the recording is replayed as --json,
# --json-state and --summary, and in the TUI.  tests/check_diagserver.py
# holds every view to the records it was made from: the anatomy's counts
# and sums are the stream's, --summary's columns the state's, --json's
# finding records the state's findings; busy polling is found on the
# poller and never on the servers, and no stale registration anywhere; no
# level-triggered spin verdict on a server (--question: without callbacks
# a stream of new data that never lets the loop sleep looks like unread
# data, docs/diagnosis.md, so a finding there must say it is unconfirmed;
# with callbacks there must be none).
# The replayed states must equal the live ones (check_replay.py); the
# waiters' chains are their servers' functions under load; the TUI's
# anatomy pane shows the state's count of waits, and its findings pane the
# state's findings, replayed and (on the poller) live.
# Prints one line per check: "PASS name" or "FAIL name :: detail".
#
# usage: diagserver.sh EPOLLTRACE OUTDIR   (DIAG_MODE: --attach mode, default auto)
# ports 19500-19509
set -u
ET=$(readlink -f "$1") OUT=$2
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MODE=${DIAG_MODE:-auto}
TRACE_S=2
rm -rf "$OUT"
mkdir -p "$OUT"
OUT=$(readlink -f "$OUT")
SUITE=diagserver
# shellcheck source=tests/server_lib.sh
. "$ROOT/tests/server_lib.sh"

# ---- one server: trace it live, replay it in every view, check ---------------
# session NAME WHO CHAIN CHECK_ARGS... -- PID...: the server runs, its load
# is on; the live session traces the pids for TRACE_S seconds.  A thread of
# WHO (check_chains.py: PID, PID/TID or 0) waits in CHAIN.
session() {
	local name=$1 who=$2 chain=$3 d=$OUT/$1 args=() pids=()
	shift 3
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		args+=("$1")
		shift
	done
	shift
	pids=("$@")
	mkdir -p "$d"
	timeout -s INT "$TRACE_S" "$ET" --json-state -i 0.5 --attach="$MODE" -w "$d/rec.etr" \
		-p "$(
			IFS=,
			echo "${pids[*]}"
		)" >"$d/live.jsonl" 2>"$d/live.err"
	if ! grep -q '"final":true' "$d/live.jsonl"; then
		fail "$name: the live session ended with its final state" "$(tail -n 3 "$d/live.err")"
		return
	fi
	"$ET" replay "$d/rec.etr" --json >"$d/replay.jsonl" 2>"$d/replay.err"
	"$ET" replay "$d/rec.etr" --json-state -i 0.5 >"$d/rstate.jsonl" 2>>"$d/replay.err"
	"$ET" replay "$d/rec.etr" --summary -i 0.5 >"$d/summary.txt" 2>>"$d/replay.err"
	if [ -s "$d/replay.err" ]; then
		fail "$name: replay ran without a message" "$(head -n 3 "$d/replay.err")"
	fi
	python3 "$ROOT/tests/check_diagserver.py" "$name" "$d" "${args[@]}"
	if python3 "$ROOT/tests/check_replay.py" "$d/live.jsonl" "$d/rstate.jsonl" \
		>"$d/check-replay.txt" 2>&1; then
		pass "$name: replay --json-state equals live, anatomy and findings included" \
			"($(cat "$d/check-replay.txt"))"
	else
		fail "$name: replay --json-state equals live" "$(head -c 400 "$d/check-replay.txt")"
	fi
	if [ -n "$chain" ]; then
		if res=$(python3 "$ROOT/tests/check_chains.py" record "$d/replay.jsonl" "$who" "$chain" \
			2>&1); then
			pass "$name: its waiters wait in $chain ($res)"
		else
			fail "$name: its waiters wait in $chain" "$res"
		fi
	fi
	tui_replay "$name" "$d"
}

# ---- the TUI ------------------------------------------------------------------
# open PANE PID EPFD: in the overview, open the instance of PID and EPFD
# (rows move as their rates change: Enter, read the header, back and down)
open_inst() {
	local pane=$1 pid=$2 epfd=$3 screen
	for _ in $(seq 12); do
		T send-keys -t "$pane" Enter
		sleep 0.3
		screen=$(T capture-pane -p -t "$pane" 2>/dev/null)
		grep -Eq "pid $pid \(.*\) epfd $epfd( |$)" <<<"$screen" && return 0
		T send-keys -t "$pane" Escape
		sleep 0.2
		T send-keys -t "$pane" Down
	done
	return 1
}

# wait_screen PANE REGEX FILE: until the screen matches (or 10 s)
wait_screen() {
	for _ in $(seq 100); do
		T capture-pane -p -t "$1" >"$3" 2>/dev/null
		grep -Eq "$2" "$3" && return 0
		sleep 0.1
	done
	return 1
}

# tui_replay NAME DIR: the replay in the TUI, the busiest instance opened:
# its anatomy pane ('a') comes to show the state's count of waits, its
# findings pane ('F') each of the state's findings
tui_replay() {
	local name=$1 d=$2 pid epfd waits nfind pane=r-$1
	read -r pid epfd waits nfind <"$d/main.txt" 2>/dev/null || return
	T -f /dev/null new-session -d -s "$pane" -x 150 -y 45 "LANG=C.UTF-8 $ET replay $d/rec.etr"
	if ! wait_screen "$pane" "epfd" "$d/tui0.txt" || ! open_inst "$pane" "$pid" "$epfd"; then
		fail "$name: TUI replay opens pid $pid epfd $epfd" "$(head -n 12 "$d/tui0.txt")"
		T kill-session -t "$pane" 2>/dev/null
		return
	fi
	T send-keys -t "$pane" a
	if wait_screen "$pane" "^. *events per wait +$waits " "$d/tui-a.txt" &&
		grep -q "latency anatomy" "$d/tui-a.txt"; then
		pass "$name: TUI replay, 'a': the anatomy pane, $waits waits as the state has"
	else
		fail "$name: TUI replay, 'a': the anatomy pane with $waits waits" \
			"$(grep -E "anatomy|events per" "$d/tui-a.txt" | head -n 3)"
	fi
	T send-keys -t "$pane" a
	sleep 0.2
	T send-keys -t "$pane" F
	if [ "$nfind" -gt 0 ]; then
		want=$(python3 -c '
import json, sys
s = [json.loads(l) for l in open(sys.argv[1]) if l.strip()][-1]
i = [i for i in s["instances"] if i["pid"] == int(sys.argv[2]) and i["epfd"] == int(sys.argv[3])][0]
print("|".join(f["text"].split(":")[0] for f in i["findings"]))' \
			"$d/rstate.jsonl" "$pid" "$epfd")
		if wait_screen "$pane" "findings" "$d/tui-f.txt" &&
			python3 - "$d/tui-f.txt" "$want" <<'PY'
import sys
screen = open(sys.argv[1]).read()
sys.exit(0 if all(w in screen for w in sys.argv[2].split("|")) else 1)
PY
		then
			pass "$name: TUI replay, 'F': the findings pane names $want"
		else
			fail "$name: TUI replay, 'F': the findings pane names $want" \
				"$(grep -iE "finding|$want" "$d/tui-f.txt" | head -n 4)"
		fi
	fi
	T kill-session -t "$pane" 2>/dev/null
}

if ! command -v tmux >/dev/null || ! command -v wrk >/dev/null ||
	! command -v redis-benchmark >/dev/null || ! command -v nginx >/dev/null ||
	! command -v node >/dev/null; then
	fail "the servers and their loads" "tmux, wrk, redis-benchmark, nginx or node is missing (TEST_DEPS)"
	exit 0
fi

# ---- redis-server under redis-benchmark -----------------------------------------
redis-server --port 19500 --bind 127.0.0.1 --save '' --appendonly no --dir "$OUT" \
	>"$OUT/redis.log" 2>&1 &
RP=$!
PIDS+=("$RP")
for _ in $(seq 50); do
	redis-cli -p 19500 ping >/dev/null 2>&1 && break
	sleep 0.1
done
redis-benchmark -p 19500 -n 10000000 -c 8 -q >/dev/null 2>&1 &
LP=$!
PIDS+=("$LP")
sleep 0.3
session redis "$RP" "epoll_wait,aeApiPoll|aeProcessEvents|@redis,aeMain,main" \
	--forbid busy-poll,stale-registration --question lt-spin -- "$RP"
kill "$LP" "$RP" 2>/dev/null

# ---- nginx, two workers, under wrk ----------------------------------------------
mkdir -p "$OUT/nginx/srv"
cat >"$OUT/nginx/srv/nginx.conf" <<NGX
daemon off;
worker_processes 2;
pid $OUT/nginx/srv/nginx.pid;
error_log $OUT/nginx/srv/error.log;
events { worker_connections 256; }
http {
	access_log off;
	client_body_temp_path $OUT/nginx/srv;
	proxy_temp_path $OUT/nginx/srv;
	fastcgi_temp_path $OUT/nginx/srv;
	uwsgi_temp_path $OUT/nginx/srv;
	scgi_temp_path $OUT/nginx/srv;
	server { listen 127.0.0.1:19501; location / { return 200 "ok\n"; } }
}
NGX
nginx -c "$OUT/nginx/srv/nginx.conf" -p "$OUT/nginx/srv" >"$OUT/nginx.log" 2>&1 &
NP=$!
PIDS+=("$NP")
if up 19501; then
	workers=$(pgrep -P "$NP" | tr '\n' ' ')
	wrk -t 1 -c 16 -d 20s http://127.0.0.1:19501/ >"$OUT/wrk-nginx.txt" 2>&1 &
	LP=$!
	PIDS+=("$LP")
	sleep 0.3
	# shellcheck disable=SC2086 # the workers' pids, one argument each
	session nginx 0 "epoll_wait,ngx_epoll_process_events|@nginx,ngx_process_events_and_timers" \
		--forbid busy-poll,stale-registration --question lt-spin -- $workers
	kill "$LP" 2>/dev/null
else
	fail "nginx: it serves" "$(cat "$OUT/nginx.log")"
fi
# the master, politely: it takes its workers with it
kill -TERM "$NP" 2>/dev/null
wait "$NP" 2>/dev/null

# ---- node's http server under wrk ---------------------------------------------------
cat >"$OUT/server.js" <<'JS'
require('http').createServer((q, r) => r.end('ok\n')).listen(+process.argv[2], '127.0.0.1');
if (process.argv[3] === 'spin') {	// a job that yields with setImmediate: never sleeps
	const spin = () => setImmediate(spin);
	spin();
}
JS
node "$OUT/server.js" 19502 >"$OUT/node.log" 2>&1 &
JP=$!
PIDS+=("$JP")
if up 19502; then
	wrk -t 1 -c 16 -d 20s http://127.0.0.1:19502/ >"$OUT/wrk-node.txt" 2>&1 &
	LP=$!
	PIDS+=("$LP")
	sleep 0.3
	session node "$JP/$JP" "uv__io_poll,uv_run" --forbid busy-poll,stale-registration \
		--question lt-spin -- "$JP"
	kill "$LP" 2>/dev/null
else
	fail "node: it serves" "$(cat "$OUT/node.log")"
fi
kill "$JP" 2>/dev/null

# ---- an idle node server that polls without sleeping ---------------------------------
node "$OUT/server.js" 19503 spin >"$OUT/nodespin.log" 2>&1 &
SP=$!
PIDS+=("$SP")
if up 19503; then
	TRACE_S=2.5	# 100k-200k waits a second; the detector needs a 1 s window of them
	session nodespin "$SP/$SP" "uv__io_poll,uv_run" --expect busy-poll --forbid stale-registration -- "$SP"
	# live, in the TUI: the row's flag, the findings pane, the anatomy
	d=$OUT/nodespin
	read -r pid epfd _ _ <"$d/main.txt" 2>/dev/null
	T -f /dev/null new-session -d -s live -x 150 -y 45 \
		"LANG=C.UTF-8 $ET --attach=$MODE -p $SP"
	if wait_screen live "^ +([0-9]+ +[^ ]+ +)?$epfd +[0-9].*!1" "$d/live-tui0.txt" && open_inst live "$pid" "$epfd"; then
		pass "nodespin: live TUI, the instance's row flags its finding (!1)"
		T send-keys -t live F
		if wait_screen live "busy polling" "$d/live-tui-f.txt"; then
			pass "nodespin: live TUI, 'F': the findings pane names busy polling"
		else
			fail "nodespin: live TUI, 'F': busy polling" "$(head -n 30 "$d/live-tui-f.txt")"
		fi
		# one lower pane at a time: each key takes the place of the one shown
		T send-keys -t live w
		if wait_screen live "where threads wait" "$d/live-tui-w.txt" &&
			! grep -q "busy polling" "$d/live-tui-w.txt"; then
			pass "nodespin: live TUI, 'w' from the findings: where the waiter waits"
		else
			fail "nodespin: live TUI, 'w' from the findings" "$(head -n 30 "$d/live-tui-w.txt")"
		fi
		T send-keys -t live a
		if wait_screen live "^. *events per wait +[1-9][0-9]* " "$d/live-tui-a.txt" &&
			grep -q "latency anatomy" "$d/live-tui-a.txt"; then
			pass "nodespin: live TUI, 'a' from the chains: the anatomy pane counts its waits"
		else
			fail "nodespin: live TUI, 'a': the anatomy pane" \
				"$(grep -E "anatomy|events per" "$d/live-tui-a.txt" | head -n 3)"
		fi
	else
		fail "nodespin: live TUI, the instance's row flags its finding (!1)" \
			"$(head -n 12 "$d/live-tui0.txt")"
	fi
	T send-keys -t live q
else
	fail "nodespin: it serves" "$(cat "$OUT/nodespin.log")"
fi
kill "$SP" 2>/dev/null
exit 0
