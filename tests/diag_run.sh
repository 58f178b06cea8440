#!/bin/sh
# Run one diag-* scenario (cli/workloads/diag.c) traced with --json, the
# tracer attached (-p) while the workload holds at its first gate, and
# kept on after the workload's last gate until two more snapshot rounds
# have been printed: the state the workload ends in (a stale
# registration, say) is seen by a snapshot while it still exists.
# POSIX sh: this also runs inside the busybox VM guests.
#
# usage: diag_run.sh EPOLLTRACE MODE SCENARIO OUTDIR
# (DIAG_WORKLOAD: another binary whose demo runs the scenario; default EPOLLTRACE)
# Leaves OUTDIR/{truth.jsonl,trace.jsonl,rec.etr,trace.err,workload.err}
# for tests/check_findings.py.  Exits non-zero if the run itself failed.
set -u
ET=$1 MODE=$2 SC=$3 OUT=$4
mkdir -p "$OUT"
T=$OUT/truth.jsonl J=$OUT/trace.jsonl R=$OUT/rec.etr
rm -f "$T" "$J" "$R"
WPID= TPID=
# whatever way this ends, nothing it started stays behind
cleanup() {
	[ -n "$WPID" ] && kill -9 "$WPID" 2>/dev/null
	[ -n "$TPID" ] && kill -9 "$TPID" 2>/dev/null
}
trap cleanup EXIT

fail() {
	echo "diag_run $SC/$MODE: $*" >&2
	[ -n "$WPID" ] && kill -9 "$WPID" 2>/dev/null
	[ -n "$TPID" ] && kill -9 "$TPID" 2>/dev/null
	exit 1
}

# the workload ended (a zombie until waited for: its comm has no space)
wl_gone() {
	[ -n "$WPID" ] && { [ ! -e /proc/$WPID ] ||
		[ "$(cut -d' ' -f3 /proc/$WPID/stat 2>/dev/null)" = Z ]; }
}

# wait_for FILE PATTERN TENTHS; fails at once if the workload is gone first
wait_for() {
	i=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt "$3" ] && return 1
		wl_gone && ! grep -q "$2" "$1" 2>/dev/null && return 1
		sleep 0.1
	done
	return 0
}

"${DIAG_WORKLOAD:-$ET}" demo --scenario "$SC" --truth "$T" --gate 2>"$OUT/workload.err" &
WPID=$!
wait_for "$T" '"t":"ready"' 300 ||
	fail "workload never reached its first gate: $(tail -n 2 "$OUT/workload.err")"

"$ET" -p "$WPID" --json --attach="$MODE" --snapshot-interval 0.1 -w "$R" >"$J" \
	2>"$OUT/trace.err" &
TPID=$!
wait_for "$J" '"type":"snapshot"' 1200 || fail "tracer produced no seed snapshot"
kill -USR1 "$WPID"
wait_for "$T" '"t":"done"' 1200 || fail "workload did not finish: $(tail -n 2 "$OUT/workload.err")"
n=$(grep -c '"type":"snap_round"' "$J")
i=0
while [ "$(grep -c '"type":"snap_round"' "$J")" -lt $((n + 2)) ]; do
	i=$((i + 1))
	[ $i -gt 600 ] && fail "no snapshot round after the workload's end"
	sleep 0.1
done
kill -INT "$TPID"
wait "$TPID"
TRC=$?
TPID=
kill -USR1 "$WPID"
wait "$WPID"
WRC=$?
WPID=
[ $TRC -eq 0 ] || fail "epolltrace exited $TRC: $(tail -n 3 "$OUT/trace.err")"
[ $WRC -eq 0 ] || fail "workload exited $WRC: $(tail -n 3 "$OUT/workload.err")"
exit 0
