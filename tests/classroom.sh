#!/bin/bash
# The classroom workload (`epolltrace demo --scenario classroom`), traced
# live in tracepoint mode, and its ways of stopping.
#
# usage: tests/classroom.sh [OUTDIR]      (as root, after `make`)
# Prints PASS/FAIL/SKIP lines; exits non-zero if anything failed.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
ET=$ROOT/epolltrace
OUT=${1:-$ROOT/build/test/classroom}
DUR=6
mkdir -p "$OUT"
(cd "$OUT" && rm -f state.jsonl trace.err workload.rc workload.err left sig.err orphan.* kid.err)

FAILS=0
pass() { echo "PASS $1"; }
fail() { FAILS=$((FAILS + 1)); echo "FAIL $1"; [ -n "${2:-}" ] && sed 's/^/    /' <<<"$2"; }

# ---- traced from its first instruction, with its forked child (-f) --------
# sh runs the workload and keeps its exit status; -d 60 is only a safety net
# (the session ends by itself when every target has exited).
start=$(date +%s)
timeout -k 5 90 "$ET" --attach=tracepoint --json-state -i 0.25 --snapshot-interval 0.1 \
	-f -d 60 -- sh -c '"$0" demo --scenario classroom --duration "$1" 2>"$2/workload.err"
		echo $? >"$2/workload.rc"' "$ET" "$DUR" "$OUT" \
	>"$OUT/state.jsonl" 2>"$OUT/trace.err"
trc=$?
took=$(($(date +%s) - start))
if [ $trc -eq 0 ]; then
	pass "tracer ended by itself when the workload did (${took}s, exit 0)"
else
	fail "tracer: exit $trc after ${took}s" "$(head -c 600 "$OUT/trace.err")"
fi
[ -s "$OUT/workload.err" ] && fail "the workload wrote to stderr" "$(head -c 600 "$OUT/workload.err")"
python3 "$ROOT/tests/check_classroom.py" "$OUT/state.jsonl" "$OUT/workload.rc" 2>"$OUT/left"
c=$?
FAILS=$((FAILS + c))
for p in $(cat "$OUT/left"); do kill -9 "$p" 2>/dev/null; done

# ---- stopping: SIGTERM, SIGINT, SIGHUP, and the death of its parent --------
# children of PID (the pipeline process), from /proc
kids() { echo $(cat /proc/"$1"/task/*/children 2>/dev/null); }
# wait_gone PID... : up to 5 s
wait_gone() {
	local i
	for i in $(seq 50); do
		local any=
		for p in "$@"; do [ -e /proc/"$p" ] && [ "$(awk '{print $3}' /proc/"$p"/stat 2>/dev/null)" != Z ] && any=1; done
		[ -z "$any" ] && return 0
		sleep 0.1
	done
	return 1
}
# wait_kid PID: its child process, once forked (up to 5 s)
wait_kid() {
	local i k
	for i in $(seq 50); do
		k=$(kids "$1")
		[ -n "$k" ] && { echo "$k"; return 0; }
		sleep 0.1
	done
	return 1
}

# (a background job of a script starts with SIGINT ignored; env resets it)
for sig in TERM INT HUP; do
	env --default-signal=INT,HUP,TERM "$ET" demo --scenario classroom 2>"$OUT/sig.err" &
	w=$!
	k=$(wait_kid $w)
	sleep 1
	kill -$sig $w
	wait $w
	rc=$?
	if [ $rc -eq 0 ] && [ -n "$k" ] && wait_gone $k && [ ! -s "$OUT/sig.err" ]; then
		pass "SIG$sig: a clean stop (exit 0, child $k gone, nothing on stderr)"
	else
		fail "SIG$sig: exit $rc, child '${k}'" "$(head -c 300 "$OUT/sig.err")"
		kill -9 $w $k 2>/dev/null
	fi
done

# the parent dies (SIGKILL, no chance to clean up): PR_SET_PDEATHSIG stops it
# (started from a subshell that exits at once, so it is not a job of ours)
( sh -c 'echo $$ >"$1/orphan.ppid"; "$0" demo --scenario classroom 2>"$1/orphan.err" &
	echo $! >"$1/orphan.pid"; exec sleep 60' "$ET" "$OUT" & )
for i in $(seq 50); do [ -s "$OUT/orphan.pid" ] && break; sleep 0.1; done
parent=$(cat "$OUT/orphan.ppid" 2>/dev/null)
w=$(cat "$OUT/orphan.pid" 2>/dev/null)
k=$([ -n "$w" ] && wait_kid "$w")
sleep 1
[ -n "$parent" ] && kill -9 "$parent"
if [ -n "$w" ] && [ -n "$k" ] && wait_gone $w $k && [ ! -s "$OUT/orphan.err" ]; then
	pass "parent killed: the workload ($w) and its child ($k) stop by themselves"
else
	fail "parent killed: workload '${w}' or child '${k}' still running" \
		"$(head -c 300 "$OUT/orphan.err" 2>/dev/null)"
	kill -9 $w $k 2>/dev/null
fi

# the child process dies: the whole workload fails, with one line on stderr
"$ET" demo --scenario classroom --duration 20 2>"$OUT/kid.err" &
w=$!
k=$(wait_kid $w)
sleep 0.5
[ -n "$k" ] && kill -9 $k
wait $w
rc=$?
if [ -n "$k" ] && [ $rc -ne 0 ] && [ "$(wc -l <"$OUT/kid.err")" = 1 ]; then
	pass "child killed: the workload fails (exit $rc): $(cat "$OUT/kid.err")"
else
	fail "child killed: exit $rc, stderr: $(head -c 300 "$OUT/kid.err")"
	kill -9 $w 2>/dev/null
fi

if [ $FAILS -eq 0 ]; then
	echo "PASS classroom: all checks"
else
	echo "FAIL classroom: $FAILS failed"
fi
[ $FAILS -eq 0 ]
