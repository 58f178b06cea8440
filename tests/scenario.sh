#!/bin/sh
# Run one workload scenario under epolltrace, attaching to the running
# workload (-p) so that its pre-existing instance is seeded by a snapshot.
# POSIX sh: this also runs inside the busybox VM guests.
#
# usage: scenario.sh EPOLLTRACE MODE SCENARIO OUTDIR
# Leaves OUTDIR/{truth.jsonl,trace.jsonl,fdinfo.txt,trace.err,workload.err}
# for tests/check_trace.py, state.jsonl for check_state.py, and the
# recording the --json-state session wrote alongside (state.etr) for
# check_replay.py.  Exits non-zero if the run itself failed.
set -u
ET=$1 MODE=$2 SC=$3 OUT=$4
# ET_SITES: a sites file for the inline rung (--attach=inline --sites FILE)
SITES_OPT=
[ -n "${ET_SITES:-}" ] && SITES_OPT="--sites=$ET_SITES"
mkdir -p "$OUT"
T=$OUT/truth.jsonl J=$OUT/trace.jsonl F=$OUT/fdinfo.txt S=$OUT/state.jsonl
R=$OUT/state.etr
rm -f "$T" "$J" "$F" "$S" "$R"

fail() { echo "scenario $SC/$MODE: $*" >&2; [ -n "${WPID:-}" ] && kill -9 "$WPID" 2>/dev/null; \
	[ -n "${TPID:-}" ] && kill -9 "$TPID" 2>/dev/null; \
	[ -n "${SPID:-}" ] && kill -9 "$SPID" 2>/dev/null; exit 1; }

# wait_for FILE PATTERN TENTHS
wait_for() {
	i=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt "$3" ] && return 1
		sleep 0.1
	done
	return 0
}

"$ET" demo --scenario "$SC" --truth "$T" --gate 2>"$OUT/workload.err" &
WPID=$!
wait_for "$T" '"t":"ready"' 300 || fail "workload never reached its first gate"

"$ET" -p "$WPID" --json --attach="$MODE" $SITES_OPT --snapshot-interval 0.5 >"$J" \
	2>"$OUT/trace.err" &
TPID=$!
# the state model, fed by a second session on the same process, which also
# records (-w): replaying the file must give the same states (the -i of
# the replay in tests/run-all.sh must be this one)
"$ET" -p "$WPID" --json-state -i 0.3 --attach="$MODE" $SITES_OPT --snapshot-interval 0.5 \
	-w "$R" >"$S" \
	2>"$OUT/state.err" &
SPID=$!
# the seed snapshot is written once every hook is attached
wait_for "$J" '"type":"snapshot"' 1200 || fail "tracer produced no seed snapshot"
wait_for "$S" '"type":"state"' 1200 || fail "--json-state printed nothing"
# the kernel's own account of the tracer's programs, for check_trace.py:
# the type of every BPF program it holds (/proc/PID/fdinfo: prog_type, 5
# tracepoint, 17 raw tracepoint, 26 tracing, 2 kprobe, 15 iterators are 26
# too) and how many perf events it opened (kprobes and tracepoints)
grep -h '^prog_type:' /proc/$TPID/fdinfo/* 2>/dev/null | sort | uniq -c >"$OUT/progtypes.txt"
ls -l /proc/$TPID/fd 2>/dev/null | grep -c 'perf_event' >"$OUT/perf_events.txt"
# sharer: a process that is no target holds an instance; the snapshot
# round that finds it (the seed, or the next) must have, before the run
if [ "$SC" = sharer ]; then
	wait_for "$J" '"type":"sharer"' 1200 || fail "no sharer record"
	wait_for "$S" '"sharers":\[[0-9]' 1200 || fail "--json-state shows no sharer"
fi

kill -USR1 "$WPID"
# a scenario may stop at a third gate, "hold" (ovflist: a wait held in its
# copy-out, its instance scanning, an item on ovflist): it goes on once a
# snapshot has shown an instance scanning with an item queued.  Not any
# scanning snapshot: one walked before the item came (delivered later) has
# an empty ready list
i=0 HELD=
while ! grep -q '"t":"done"' "$T" 2>/dev/null; do
	if [ -z "$HELD" ] && grep -q '"t":"hold"' "$T"; then
		wait_for "$J" '"ready":\[[0-9][^]]*],"waiters":\[[^]]*],"scanning":true' 1200 ||
			fail "no snapshot showed the held scan"
		HELD=1
		kill -USR1 "$WPID"
	fi
	i=$((i + 1))
	[ $i -gt 1200 ] && fail "workload did not finish"
	sleep 0.1
done

# ground truth of the interest sets, from the kernel's own fdinfo
"$(dirname "$0")/fdinfo.sh" "$WPID" >"$F"

kill -INT "$TPID" "$SPID"
wait "$TPID"
TRC=$?
TPID=
wait "$SPID"
SRC=$?
SPID=
kill -USR1 "$WPID"
wait "$WPID"
WRC=$?
WPID=
[ $TRC -eq 0 ] || fail "epolltrace exited $TRC: $(tail -n 3 "$OUT/trace.err")"
[ $SRC -eq 0 ] || fail "epolltrace --json-state exited $SRC: $(tail -n 3 "$OUT/state.err")"
[ $WRC -eq 0 ] || fail "workload exited $WRC: $(tail -n 3 "$OUT/workload.err")"
exit 0
