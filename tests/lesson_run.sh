#!/bin/sh
# Run one lesson traced (`epolltrace --json --attach=MODE -- epolltrace demo
# --lesson NAME --gate`), held after every step until two snapshot rounds
# have ended since the hold was seen (the second one walked the lesson at
# rest).  POSIX sh: this also runs inside the busybox VM guests.
#
# usage: lesson_run.sh EPOLLTRACE MODE LESSON OUTDIR
# Leaves OUTDIR/{truth.jsonl,trace.jsonl,trace.err,marks,progtypes.txt} for
# tests/check_lesson_truth.py (--steps, --as-scenario) and check_trace.py:
# marks has one line "STEP FIRST LAST" per step, the trace lines (1-based)
# written while the lesson was held after it.  Exits non-zero (a reason on
# stderr) if the run itself failed.
set -u
ET=$1 MODE=$2 L=$3 OUT=$4
mkdir -p "$OUT"
T=$OUT/truth.jsonl J=$OUT/trace.jsonl M=$OUT/marks
rm -f "$T" "$J" "$M"
: >"$M"
TPID= WPID=

# the workload is the tracer's child: killed too, or it would wait for
# SIGUSR1 for ever
fail() {
	echo "lesson $L/$MODE: $*" >&2
	[ -n "$WPID" ] && kill -9 "$WPID" 2>/dev/null
	[ -n "$TPID" ] && kill -9 "$TPID" 2>/dev/null
	exit 1
}
trap 'fail "interrupted"' INT TERM

# wait_for FILE PATTERN TENTHS: gives up early once the tracer has exited
wait_for() {
	i=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt "$3" ] && return 1
		kill -0 "$TPID" 2>/dev/null || grep -q "$2" "$1" 2>/dev/null || return 1
		sleep 0.1
	done
	return 0
}

"$ET" --json --attach="$MODE" --snapshot-interval 0.2 -- \
	"$ET" demo --lesson "$L" --truth "$T" --gate >"$J" 2>"$OUT/trace.err" &
TPID=$!
wait_for "$T" '"t":"lesson"' 1200 || fail "the lesson never started: $(tail -n 2 "$OUT/trace.err")"
WPID=$(sed -n '1s/.*"pid":\([0-9]*\).*/\1/p' "$T")
# the kernel's account of the tracer's programs, for check_trace.py (as
# tests/scenario.sh takes it): every hook is attached before the command runs
grep -h '^prog_type:' /proc/$TPID/fdinfo/* 2>/dev/null | sort | uniq -c >"$OUT/progtypes.txt"
ls -l /proc/$TPID/fd 2>/dev/null | grep -c 'perf_event' >"$OUT/perf_events.txt"
N=$(sed -n '1s/.*"steps":\([0-9]*\).*/\1/p' "$T")
k=1
while [ "$k" -le "$N" ]; do
	wait_for "$T" "\"t\":\"hold\",\"step\":$k," 1200 ||
		fail "step $k never held: $(grep '"t":"error"' "$T" | head -n 1)"
	first=$(($(wc -l <"$J") + 1))
	i=0
	while [ "$(tail -n +"$first" "$J" | grep -c '"type":"snap_round"')" -lt 2 ]; do
		i=$((i + 1))
		[ $i -gt 1200 ] && fail "no snapshot round while held at step $k"
		sleep 0.1
	done
	echo "$k $first $(wc -l <"$J")" >>"$M"
	kill -USR1 "$WPID" 2>/dev/null
	k=$((k + 1))
done
wait "$TPID"
rc=$?
TPID=
[ $rc = 0 ] || fail "epolltrace exited $rc: $(tail -n 3 "$OUT/trace.err")"
grep -q '"t":"exit"' "$T" || fail "the lesson did not end"
! grep -q '"t":"error"' "$T" || fail "$(grep '"t":"error"' "$T" | head -n 1)"
exit 0
