#!/bin/bash
# A real server from Debian's packages under load: redis-server with
# redis-benchmark on loopback.  epolltrace attaches with -p while redis is
# running; tests/check_server.py then checks the stream against redis's own
# connection counter and /proc/PID/fdinfo.
#
# usage: server.sh EPOLLTRACE MODE OUTDIR
set -u
ET=$1 MODE=$2 OUT=$3
PORT=${PORT:-63790}
mkdir -p "$OUT"
J=$OUT/trace.jsonl F=$OUT/fdinfo.txt S=$OUT/summary.txt
# both sessions also record (-w): tests/check_recording.py replays them
rm -f "$OUT/trace.etr" "$OUT/summary.etr"

fail() { echo "server/$MODE: $*" >&2; cleanup; exit 1; }
cleanup() {
	[ -n "${TPID:-}" ] && kill -9 "$TPID" 2>/dev/null
	[ -n "${SPID:-}" ] && kill -9 "$SPID" 2>/dev/null
	[ -n "${RPID:-}" ] && kill -9 "$RPID" 2>/dev/null
	wait 2>/dev/null
}
wait_for() {	# FILE PATTERN TENTHS
	local i=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt "$3" ] && return 1
		sleep 0.1
	done
}
trap cleanup EXIT
stat_conns() {
	redis-cli -p "$PORT" info stats | sed -n 's/^total_connections_received:\([0-9]*\).*/\1/p'
}

# ours, not one an earlier run left on the port (ping alone would not tell);
# a port in use is skipped: the next of ten is tried
ours() { redis-cli -p "$PORT" info server 2>/dev/null | tr -d '\r' | grep -qx "process_id:$RPID"; }
for _ in $(seq 10); do
	redis-server --port "$PORT" --bind 127.0.0.1 --save "" --appendonly no \
		--daemonize no --logfile "$OUT/redis.log" &
	RPID=$!
	for _ in $(seq 100); do
		ours && break
		kill -0 "$RPID" 2>/dev/null || break
		sleep 0.1
	done
	ours && break
	kill -9 "$RPID" 2>/dev/null
	wait "$RPID" 2>/dev/null
	RPID=
	PORT=$((PORT + 1))
done
[ -n "$RPID" ] || fail "redis-server did not start: $(tail -n 2 "$OUT/redis.log")"
before=$(stat_conns)

"$ET" -p "$RPID" --json --attach="$MODE" --snapshot-interval 0.5 -w "$OUT/trace.etr" >"$J" \
	2>"$OUT/trace.err" &
TPID=$!
"$ET" -p "$RPID" --summary -i 0.5 --attach="$MODE" --snapshot-interval 0.5 -w "$OUT/summary.etr" \
	>"$S" 2>"$OUT/summary.err" &
SPID=$!
wait_for "$J" '"type":"snapshot"' 600 || fail "no seed snapshot: $(cat "$OUT/trace.err")"
wait_for "$S" 'WATCHED' 600 || fail "--summary printed nothing: $(cat "$OUT/summary.err")"

redis-benchmark -p "$PORT" -n 20000 -c 20 -t set,get -q >"$OUT/bench.txt" 2>&1 ||
	fail "redis-benchmark failed: $(tail -n 3 "$OUT/bench.txt")"
# let redis finish closing the benchmark's connections
sleep 0.5

"$(dirname "$0")/fdinfo.sh" "$RPID" >"$F"

kill -INT "$TPID" "$SPID"
wait "$TPID" || fail "epolltrace exited $?: $(tail -n 3 "$OUT/trace.err")"
TPID=
wait "$SPID" || fail "epolltrace --summary exited $?: $(tail -n 3 "$OUT/summary.err")"
SPID=
after=$(stat_conns)
# the INFO call above is itself a connection, accepted after tracing stopped
echo "$((after - before - 1))" >"$OUT/accepted.txt"
kill "$RPID"
wait "$RPID" 2>/dev/null
RPID=
exit 0
