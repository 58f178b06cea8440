#!/bin/bash
# What epolltrace does to the processes it does not trace, and to those
# that share a traced instance without being targets, on this host:
#  - a bystander's epoll activity leaves no record and no count;
#  - tracepoint mode attaches only the syscall tracepoints it needs (the
#    kernel's own list, from bpftool perf), and `probes` says what that
#    costs every other process;
#  - a sharer (an instance passed over SCM_RIGHTS to a process that is no
#    target) is found, marked in the stream, --json-state and --summary.
# Fentry and kprobe modes attach no syscall tracepoint at all: that is
# checked in the QEMU guests (tests/check_trace.py, every scenario).
# Prints one line per check: "PASS name" or "FAIL name :: detail".
#
# usage: bystander.sh EPOLLTRACE OUTDIR
set -u
ET=$(readlink -f "$1") OUT=$2
rm -rf "$OUT"
mkdir -p "$OUT"
OUT=$(readlink -f "$OUT")

pass() { echo "PASS bystander: $1"; }
fail() { echo "FAIL bystander: $1 :: $(echo "$2" | tr '\n' ' ' | cut -c1-400)"; }

PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null
	done
	wait 2>/dev/null
}
trap cleanup EXIT

# wait_for FILE PATTERN TENTHS
wait_for() {
	local i=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt "$3" ] && return 1
		sleep 0.1
	done
}

# ---- probes: the tax of tracepoint mode, and sharers ----------------------
"$ET" probes >"$OUT/probes.txt" 2>"$OUT/probes.err"
"$ET" probes --json >"$OUT/probes.json" 2>>"$OUT/probes.err"
if grep -q '^create  *tracepoint' "$OUT/probes.txt" &&
	grep -q "^note: tracepoint mode puts every process's syscalls on the tracing slow path" \
		"$OUT/probes.txt" &&
	grep -q "^note: a process holding a traced instance without being a target" \
		"$OUT/probes.txt" &&
	python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))
assert any("slow path" in n for n in p["notes"]), p["notes"]
assert any("sharer" in n for n in p["notes"]), p["notes"]
' "$OUT/probes.json" 2>"$OUT/probes.check"; then
	pass "probes: tracepoint mode's tax on every process, and sharers, in one line each"
else
	fail "probes: notes" "$(tail -n 3 "$OUT/probes.txt" "$OUT/probes.check")"
fi

# ---- a bystander leaves no trace --------------------------------------------
# the target: a workload parked at its first gate (no epoll call while
# parked); the bystander: the mixed scenario, untraced, run to its end
"$ET" demo --scenario lt-et --gate --truth "$OUT/idle.truth" 2>"$OUT/idle.err" &
IDLE=$!
PIDS+=($IDLE)
wait_for "$OUT/idle.truth" '"t":"ready"' 300
"$ET" -p "$IDLE" --json --attach=tracepoint --snapshot-interval 0.5 >"$OUT/by.jsonl" \
	2>"$OUT/by.err" &
T=$!
PIDS+=($T)
wait_for "$OUT/by.jsonl" '"type":"snapshot"' 600
# the kernel's list of the tracer's tracepoints, while it runs
bpftool perf show --json >"$OUT/perf.json" 2>"$OUT/perf.err"
"$ET" demo --scenario mixed --truth "$OUT/by.truth" >/dev/null 2>"$OUT/by-workload.err"
BRC=$?
sleep 0.6
kill -INT $T
wait $T
TRC=$?
if [ $BRC = 0 ] && [ $TRC = 0 ] && python3 - "$OUT/by.truth" "$OUT/by.jsonl" \
	>"$OUT/by.check" 2>&1 <<'PY'
import json, sys
truth = [json.loads(l) for l in open(sys.argv[1])]
ev = [json.loads(l) for l in open(sys.argv[2])]
bys = next(t["pid"] for t in truth if t["t"] == "scenario")
tids = {t["tid"] for t in truth}
assert sum(1 for t in truth if t["t"] in ("ctl", "wait")) > 50, "the bystander did little"
bad = [e for e in ev if e.get("pid") in tids or e.get("tid") in tids or e.get("owner") == bys]
assert not bad, bad[:3]
c = [e for e in ev if e["type"] == "stats"][-1]["counters"]
for k in ("ctl", "wait_enter", "wait_exit", "sleeps", "wakeups"):
    assert not c[k], (k, c[k])
print(sum(1 for t in truth if t["t"] in ("ctl", "wait")), "epoll calls")
PY
then
	pass "an untraced process's $(cat "$OUT/by.check") leave no record and no count"
else
	fail "a bystander" "rc $BRC/$TRC $(cat "$OUT/by.check" "$OUT/by.err" | tail -n 5)"
fi

# ---- tracepoint mode: only the syscall tracepoints it needs -----------------
if python3 - "$OUT/perf.json" "$T" >"$OUT/perf.check" 2>&1 <<'PY'
import json, sys
rows = [r for r in json.load(open(sys.argv[1])) if r["pid"] == int(sys.argv[2])]
tps = sorted(r["tracepoint"] for r in rows if r.get("fd_type") == "tracepoint")
raw = [r for r in rows if r.get("fd_type") == "raw_tracepoint" and "sys_" in r.get("tracepoint", "")]
want = sorted(["sys_exit_epoll_create", "sys_exit_epoll_create1", "sys_enter_epoll_ctl",
               "sys_exit_epoll_ctl"] +
              [f"sys_{d}_epoll_{w}" for d in ("enter", "exit") for w in ("wait", "pwait", "pwait2")] +
              [f"sys_enter_{c}" for c in ("close", "close_range", "dup2", "dup3")])
assert tps == want, tps
assert not raw, raw
print(len(tps))
PY
then
	pass "tracepoint mode: exactly the $(cat "$OUT/perf.check") syscall tracepoints it needs (bpftool perf)"
else
	fail "tracepoint mode's syscall tracepoints" "$(cat "$OUT/perf.check" "$OUT/perf.err" | tail -n 3)"
fi
kill -9 $IDLE 2>/dev/null
wait $IDLE 2>/dev/null

# ---- a sharer: found, and marked --------------------------------------------
"$ET" demo --scenario sharer --gate --truth "$OUT/sh.truth" 2>"$OUT/sh-workload.err" &
W=$!
PIDS+=($W)
wait_for "$OUT/sh.truth" '"t":"ready"' 300
"$ET" -p "$W" --summary -i 0.4 --attach=tracepoint --snapshot-interval 0.3 >"$OUT/sh.txt" \
	2>"$OUT/sh.err" &
S=$!
PIDS+=($S)
"$ET" -p "$W" --json --attach=tracepoint --snapshot-interval 0.3 >"$OUT/sh.jsonl" \
	2>"$OUT/sh-json.err" &
J=$!
PIDS+=($J)
wait_for "$OUT/sh.jsonl" '"type":"sharer"' 300
sleep 1
kill -USR1 $W
wait_for "$OUT/sh.truth" '"t":"done"' 600
sleep 0.8
kill -INT $S $J
wait $S
SRC=$?
wait $J
kill -USR1 $W
wait $W
WRC=$?
# the truth's sharer line: the child's pid, and the epfd it was given
read -r CHILD EPFD < <(python3 -c '
import json, sys
t = next(t for t in map(json.loads, open(sys.argv[1])) if t["t"] == "sharer")
print(t["pid"], t["epfd"])' "$OUT/sh.truth" 2>/dev/null)
# the summary's row of the shared instance carries H; the other's does not
if [ $SRC = 0 ] && [ $WRC = 0 ] && [ -n "$CHILD" ] &&
	awk -v pid="$W" -v epfd="$EPFD" '$1 == pid && $3 == epfd && $NF ~ /H/ { f = 1 }
		END { exit !f }' "$OUT/sh.txt" &&
	! awk -v pid="$W" -v epfd="$EPFD" '$1 == pid && $3 != epfd && $3 ~ /^[0-9]+$/ &&
		$NF ~ /H/ { f = 1 } END { exit !f }' "$OUT/sh.txt" &&
	grep -q "\"type\":\"sharer\",.*\"pid\":$CHILD,.*\"owner\":$W,\"epfd\":$EPFD" "$OUT/sh.jsonl" &&
	grep -q "\"type\":\"ctl\",.*\"tid\":$CHILD," "$OUT/sh.jsonl"; then
	pass "sharer: the child given epfd $EPFD over SCM_RIGHTS is found (a sharer record), its ctl seen, the instance flagged H"
else
	fail "sharer" "rc $SRC/$WRC child ${CHILD:-?} $(grep -E "^ *$W " "$OUT/sh.txt" | tail -n 3) \
$(grep -c sharer "$OUT/sh.jsonl")"
fi
exit 0
