#!/bin/bash
# Where each waiter waits (issue 13, section 3): the symbolized user call
# chain of a thread in epoll_wait, from BPF's frame-pointer chain and stack
# copy (bpf/handlers.bpf.h, wait_chain) through the session's libdwfl unwind
# (cli/kernel/chain.c) to --json, --json-state, --text and replay.
#   - tests/chain_load.c, built with and without frame pointers (and with a
#     frame larger than the stack copy): the exact three-level chain;
#   - Debian's redis-server under redis-benchmark, nginx, node: the
#     functions their symbols name (Debian strips .symtab: static functions
#     show as module+offset; what each gives is in the PASS lines);
#   - a recording replayed: the same chains, no binaries needed.
# Prints one line per check: "PASS name" or "FAIL name :: detail".
#
# usage: chains.sh EPOLLTRACE OUTDIR   (CHAINS_MODE: --attach mode, default auto)
# ports 19480-19499
set -u
ET=$(readlink -f "$1") OUT=$2
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MODE=${CHAINS_MODE:-auto}
CHECK="python3 $ROOT/tests/check_chains.py"
rm -rf "$OUT"
mkdir -p "$OUT"
OUT=$(readlink -f "$OUT")
SUITE=chains
# shellcheck source=tests/server_lib.sh
. "$ROOT/tests/server_lib.sh"

# check NAME COMMAND...: PASS with the checker's line, else FAIL with it
check() {
	local name=$1 res
	shift
	if res=$("$@" 2>&1); then
		pass "$name ($res)"
	else
		fail "$name" "$res"
	fi
}

# ---- tests/chain_load.c: the exact chain, fp and DWARF -----------------------
build() {	# NAME FLAGS...
	local n=$1
	shift
	gcc -std=gnu11 -g -Wall -Wextra -Werror "$@" "$ROOT/tests/chain_load.c" -o "$OUT/$n" \
		2>>"$OUT/build.err"
}
if ! build load_fp -O2 -fno-omit-frame-pointer || ! build load_nofp -O2 -fomit-frame-pointer ||
	! build load_deep -O2 -fomit-frame-pointer -DCHAIN_DEEP; then
	fail "the workloads build" "$(cat "$OUT/build.err")"
	exit 0
fi
CHAIN="epoll_wait,chain_inner,chain_middle,chain_outer,main"

timeout -k 5 30 "$ET" --json --attach="$MODE" -w "$OUT/fp.etr" -- "$OUT/load_fp" 1 \
	>"$OUT/fp.jsonl" 2>"$OUT/fp.err"
check "frame pointers: the wait_chain record names the chain" \
	$CHECK record "$OUT/fp.jsonl" 0 "$CHAIN"
n_enter=$(grep -c '"type":"wait_enter"' "$OUT/fp.jsonl")
n_chain=$(grep -c '"type":"wait_chain"' "$OUT/fp.jsonl")
if [ "$n_enter" -ge 10 ] && [ "$n_chain" = 1 ]; then
	pass "one wait site: one wait_chain record for $n_enter waits"
else
	fail "one wait site: one wait_chain record" "$n_chain records for $n_enter waits"
fi
# two sites taken in turn: a record at each change, both chains
timeout -k 5 30 "$ET" --json --attach="$MODE" -- "$OUT/load_fp" 0.5 alt >"$OUT/alt.jsonl" \
	2>"$OUT/alt.err"
n_enter=$(grep -c '"type":"wait_enter"' "$OUT/alt.jsonl")
n_chain=$(grep -c '"type":"wait_chain"' "$OUT/alt.jsonl")
if [ "$n_enter" -ge 10 ] && [ "$n_chain" -ge $((n_enter - 1)) ] &&
	$CHECK record "$OUT/alt.jsonl" 0 "epoll_wait,chain_inner,chain_middle,main" >/dev/null &&
	$CHECK record "$OUT/alt.jsonl" 0 "$CHAIN" >/dev/null; then
	pass "two wait sites in turn: a record at each change ($n_chain for $n_enter waits), both chains"
else
	fail "two wait sites in turn" "$n_chain records for $n_enter waits; $($CHECK record \
		"$OUT/alt.jsonl" 0 "epoll_wait,chain_inner,chain_middle,main")"
fi
"$ET" replay "$OUT/fp.etr" --json >"$OUT/fp-replay.jsonl" 2>"$OUT/replay.err"
check "replay --json: the same wait_chain records as live" \
	$CHECK same "$OUT/fp.jsonl" "$OUT/fp-replay.jsonl"

# without frame pointers only the DWARF unwind finds it; recorded for replay
timeout -k 5 30 "$ET" --json-state -i 0.2 --attach="$MODE" -w "$OUT/nofp.etr" -- \
	"$OUT/load_nofp" 1.2 >"$OUT/nofp-state.jsonl" 2>"$OUT/nofp.err"
check "no frame pointers: --json-state gives the waiter its chain" \
	$CHECK state "$OUT/nofp-state.jsonl" 0 "$CHAIN"
"$ET" replay "$OUT/nofp.etr" --json >"$OUT/nofp-replay.jsonl" 2>>"$OUT/replay.err"
check "no frame pointers: the recorded chain is the DWARF unwind's" \
	$CHECK record "$OUT/nofp-replay.jsonl" 0 "$CHAIN" dwarf
"$ET" replay "$OUT/nofp.etr" --json-state -i 0.2 >"$OUT/nofp-rstate.jsonl" 2>>"$OUT/replay.err"
check "replay --json-state: the waiter's chain, with no binary at hand" \
	$CHECK state "$OUT/nofp-rstate.jsonl" 0 "$CHAIN"
timeout -k 5 30 "$ET" --text --attach="$MODE" -- "$OUT/load_nofp" 0.5 >"$OUT/nofp.txt" 2>&1
if grep -q "waits at (dwarf): epoll_wait <- chain_inner <- chain_middle <- chain_outer" \
	"$OUT/nofp.txt"; then
	pass "--text: the wait_site line"
else
	fail "--text: the wait_site line" "$(grep -m1 wait_site "$OUT/nofp.txt")"
fi

# the TUI: the wq pane names the callers; 'w' shows the chain a frame a row
if command -v tmux >/dev/null; then
	T new-session -d -x 160 -y 40 "$ET --attach=$MODE -- $OUT/load_nofp 8" 2>/dev/null
	screen=
	for _ in $(seq 40); do
		sleep 0.2
		screen=$(T capture-pane -p 2>/dev/null)
		grep -q 'nofp' <<<"$screen" && break
	done
	T send-keys Enter
	for _ in $(seq 25); do
		sleep 0.2
		screen=$(T capture-pane -p 2>/dev/null)
		grep -q 'chain_inner < chain_middle' <<<"$screen" && break
	done
	if grep -q 'chain_inner < chain_middle' <<<"$screen"; then
		pass "TUI: the wq pane shows the waiter's callers"
	else
		fail "TUI: the wq pane shows the waiter's callers" "$screen"
	fi
	T send-keys w
	for _ in $(seq 25); do
		sleep 0.2
		screen=$(T capture-pane -p 2>/dev/null)
		grep -q '<- chain_outer+0x' <<<"$screen" && break
	done
	if grep -q 'where threads wait' <<<"$screen" && grep -q '<- chain_middle+0x' <<<"$screen" &&
		grep -q '<- chain_outer+0x' <<<"$screen"; then
		pass "TUI: 'w' shows where the waiter waits, a frame a row"
	else
		fail "TUI: 'w' shows where the waiter waits" "$screen"
	fi
	T kill-server 2>/dev/null
else
	fail "TUI" "tmux is not installed (TEST_DEPS)"
fi

# a 16 KiB frame: past the stack copy, the unwind reads the live stack
timeout -k 5 30 "$ET" --json --attach="$MODE" -- "$OUT/load_deep" 1 >"$OUT/deep.jsonl" \
	2>"$OUT/deep.err"
check "a frame larger than the stack copy: the whole chain still" \
	$CHECK record "$OUT/deep.jsonl" 0 "$CHAIN"
if grep '"type":"wait_chain"' "$OUT/deep.jsonl" | grep -q '"live_stack":true'; then
	pass "... and the record says the live stack was read"
else
	fail "... and the record says the live stack was read" "$(grep -m1 wait_chain \
		"$OUT/deep.jsonl")"
fi

# asleep since before tracing began, no timeout: no wait entry to see; the
# snapshot finds the sleeper and the session reads /proc and its stack
# (with frame pointers, rbp is guessed from the stack: /proc gives none)
for b in nofp fp; do
	"$OUT/load_$b" 0 block &
	LP=$!
	PIDS+=("$LP")
	sleep 0.3
	timeout -k 5 20 "$ET" --json-state -i 0.5 -n 3 --attach="$MODE" -p "$LP" \
		>"$OUT/block-$b.jsonl" 2>"$OUT/block-$b.err"
	kill "$LP" 2>/dev/null
	check "asleep since before tracing ($b): the chain from /proc and its stack" \
		$CHECK state "$OUT/block-$b.jsonl" "$LP" "$CHAIN"
done

# ---- Debian's servers ---------------------------------------------------------
# redis-server: aeMain exported (-rdynamic); aeProcessEvents' body is a local
# clone and aeApiPoll inlined into it, so that frame is the module's offset
if command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null; then
	redis-server --port 19480 --bind 127.0.0.1 --save '' --appendonly no --dir "$OUT" \
		>"$OUT/redis.log" 2>&1 &
	RP=$!
	PIDS+=("$RP")
	for _ in $(seq 50); do
		redis-cli -p 19480 ping >/dev/null 2>&1 && break
		sleep 0.1
	done
	redis-benchmark -p 19480 -n 200000 -c 4 -q >/dev/null 2>&1 &
	PIDS+=("$!")
	timeout -s INT 3 "$ET" --json --attach="$MODE" -p "$RP" >"$OUT/redis.jsonl" \
		2>"$OUT/redis.err"
	check "redis-server under redis-benchmark: its main thread waits in aeMain" \
		$CHECK record "$OUT/redis.jsonl" "$RP" \
		"epoll_wait,aeApiPoll|aeProcessEvents|@redis,aeMain,main"
	kill "$RP" 2>/dev/null
else
	fail "redis-server" "not installed (TEST_DEPS: redis-server, redis-tools)"
fi

# nginx: ngx_process_events_and_timers exported; ngx_epoll_process_events is
# static (Debian strips .symtab): the frame under it is nginx+offset
if command -v nginx >/dev/null; then
	mkdir -p "$OUT/nginx"
	cat >"$OUT/nginx/nginx.conf" <<NGX
daemon off;
worker_processes 1;
pid $OUT/nginx/nginx.pid;
error_log $OUT/nginx/error.log;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $OUT/nginx;
	proxy_temp_path $OUT/nginx;
	fastcgi_temp_path $OUT/nginx;
	uwsgi_temp_path $OUT/nginx;
	scgi_temp_path $OUT/nginx;
	server { listen 127.0.0.1:19481; location / { return 200 "ok\n"; } }
}
NGX
	timeout -k 5 20 "$ET" --json --attach="$MODE" -f -- nginx -c "$OUT/nginx/nginx.conf" \
		-p "$OUT/nginx" >"$OUT/nginx.jsonl" 2>"$OUT/nginx.err" &
	NT=$!
	up 19481
	for _ in $(seq 20); do
		get 19481
	done
	sleep 0.5
	kill -QUIT "$(cat "$OUT/nginx/nginx.pid" 2>/dev/null)" 2>/dev/null
	wait "$NT"
	check "nginx's worker waits in ngx_process_events_and_timers" \
		$CHECK record "$OUT/nginx.jsonl" 0 \
		"epoll_wait,ngx_epoll_process_events|@nginx,ngx_process_events_and_timers"
else
	fail "nginx" "not installed (TEST_DEPS: nginx)"
fi

# node: libuv is inside node's binary, with its .symtab
if command -v node >/dev/null; then
	cat >"$OUT/server.js" <<'JS'
const http = require('http');
const s = http.createServer((q, r) => r.end('ok\n')).listen(19482, '127.0.0.1');
setTimeout(() => { s.close(); process.exit(0); }, 2500);
JS
	timeout -k 5 20 "$ET" --json --attach="$MODE" -- node "$OUT/server.js" \
		>"$OUT/node.jsonl" 2>"$OUT/node.err" &
	NT=$!
	up 19482
	for _ in $(seq 20); do
		get 19482
	done
	wait "$NT"
	check "node's main thread waits in uv__io_poll, called by uv_run" \
		$CHECK record "$OUT/node.jsonl" 0 "uv__io_poll,uv_run"
	# an idle server, asleep with no timeout since before tracing
	echo "require('http').createServer((q, r) => r.end('ok')).listen(19483, '127.0.0.1');" \
		>"$OUT/idle.js"
	node "$OUT/idle.js" &
	JP=$!
	PIDS+=("$JP")
	up 19483
	timeout -k 5 20 "$ET" --json-state -i 0.5 -n 3 --attach="$MODE" -p "$JP" \
		>"$OUT/node-idle.jsonl" 2>"$OUT/node-idle.err"
	kill "$JP" 2>/dev/null
	check "an idle node server, asleep since before tracing: uv__io_poll, uv_run" \
		$CHECK state "$OUT/node-idle.jsonl" "$JP" "uv__io_poll,uv_run"
else
	fail "node" "not installed (TEST_DEPS: nodejs)"
fi
