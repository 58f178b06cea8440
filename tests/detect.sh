#!/bin/bash
# The detectors (cli/model/detect.c) live, on this host's plan: the demo
# scenarios and a few small Python loops, traced from their first
# instruction with --json, must give the "finding" records their behaviour
# calls for, and no other: threads (one write wakes one thread), exclusive
# (one instance per thread) and lt-et (a few waits) give none of theirs;
# close-watched (a DEL of a closed fd, then its item delivered) gives a
# stale registration.  A stale item held across snapshots is found by the
# iterator's fd check; LT spin and busy polling by their rates.  A
# recording replays to the same findings; --detect turns them off; a bad
# --detect is one line and exit 2.  Never a timing assertion: the loops'
# rates are far from the thresholds either way.
# Prints one line per check: "PASS name" or "FAIL name :: detail".
#
# usage: detect.sh EPOLLTRACE OUTDIR
set -u
ET=$(readlink -f "$1") OUT=$2
rm -rf "$OUT"
mkdir -p "$OUT"
OUT=$(readlink -f "$OUT")

pass() { echo "PASS detect: $*"; }
fail() { echo "FAIL detect: $1 :: $(echo "$2" | tr '\n' ' ' | cut -c1-400)"; }

# findings FILE: "detector fds" per finding record, sorted, unique
findings() {
	python3 - "$1" <<'EOF'
import json, sys
seen = set()
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("type") == "finding":
        seen.add("%s %s" % (r["detector"], ",".join(map(str, r["fds"]))))
print("\n".join(sorted(seen)))
EOF
}

# trace NAME ARGS...: epolltrace --json -- ARGS, into $OUT/NAME.jsonl
trace() {
	local name=$1
	shift
	timeout -k 5 60 "$ET" --json "$@" >"$OUT/$name.jsonl" 2>"$OUT/$name.err"
}

# ---- the demo scenarios ----------------------------------------------------
for sc in threads exclusive lt-et close-watched; do
	if ! trace "$sc" -w "$OUT/$sc.etr" -- "$ET" demo --scenario "$sc"; then
		fail "demo $sc traced" "$(tail -n 3 "$OUT/$sc.err")"
		continue
	fi
	findings "$OUT/$sc.jsonl" >"$OUT/$sc.found"
done

nofind() {	# SCENARIO DETECTOR...: none of them
	local sc=$1 hit=
	shift
	[ -f "$OUT/$sc.found" ] || return
	for d in "$@"; do
		grep -q "^$d " "$OUT/$sc.found" && hit="$hit $d"
	done
	if [ -z "$hit" ]; then
		pass "demo $sc: no finding of$(printf ' %s' "$@")"
	else
		fail "demo $sc: no finding of $*" "found:$hit ($(cat "$OUT/$sc.found"))"
	fi
}
nofind threads herd exclusive-imbalance lt-spin zero-wakeups
nofind exclusive herd exclusive-imbalance zero-wakeups
nofind lt-et lt-spin herd maxevents-saturation

if [ -f "$OUT/close-watched.found" ]; then
	if grep -q '^stale-registration ' "$OUT/close-watched.found" &&
		python3 - "$OUT/close-watched.jsonl" <<'EOF'
import json, sys
# the DEL that found the fd closed (EBADF), then its item delivered anyway
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("type") == "finding" and r["detector"] == "stale-registration":
        types = [e["type"] for e in r["evidence"]]
        fd = r["fds"][0]
        ok = "ctl" in types and "wait_exit" in types and r["count"] >= 1 and \
            all(e["fd"] == fd for e in r["evidence"]) and r["hint"] and r["comm"]
        sys.exit(0 if ok else 1)
sys.exit(1)
EOF
	then
		pass "demo close-watched: a stale registration, the EBADF ctl and the delivery as evidence"
	else
		fail "demo close-watched: a stale registration" "$(cat "$OUT/close-watched.found")"
	fi
	# replay: the same finding records
	if "$ET" replay "$OUT/close-watched.etr" --json >"$OUT/cw-replay.jsonl" \
		2>"$OUT/cw-replay.err" &&
		grep -q '"type":"finding"' "$OUT/cw-replay.jsonl" &&
		diff <(grep '"type":"finding"' "$OUT/close-watched.jsonl") \
			<(grep '"type":"finding"' "$OUT/cw-replay.jsonl") >"$OUT/cw-replay.diff"; then
		pass "replay --json: the same finding records as live"
	else
		fail "replay --json: the same finding records" "$(head -c 300 "$OUT/cw-replay.diff")"
	fi
	if "$ET" replay "$OUT/close-watched.etr" --summary >"$OUT/cw-summary.txt" 2>&1 &&
		grep -q '^Findings:' "$OUT/cw-summary.txt" &&
		grep -q 'stale registration: pid [0-9]* (epolltrace) epfd' "$OUT/cw-summary.txt" &&
		grep -q 'hint: EPOLL_CTL_DEL' "$OUT/cw-summary.txt" &&
		grep -q ' FIND FLAGS' "$OUT/cw-summary.txt"; then
		pass "replay --summary: the findings block with its hint, and the FIND column"
	else
		fail "replay --summary: the findings block" "$(tail -n 4 "$OUT/cw-summary.txt")"
	fi
	if "$ET" replay "$OUT/close-watched.etr" --json-state >"$OUT/cw-state.jsonl" 2>&1 &&
		tail -n 1 "$OUT/cw-state.jsonl" | python3 -c '
import json, sys
s = json.loads(sys.stdin.read())
f = [f for i in s["instances"] for f in i["findings"]]
sys.exit(0 if f and f[0]["detector"] == "stale-registration" else 1)'; then
		pass "replay --json-state: the instance lists its finding"
	else
		fail "replay --json-state: findings" "$(tail -c 300 "$OUT/cw-state.jsonl")"
	fi
	if "$ET" replay "$OUT/close-watched.etr" --json --detect stale-registration=off \
		>"$OUT/cw-off.jsonl" 2>&1 && ! grep -q '"type":"finding"' "$OUT/cw-off.jsonl" &&
		grep -q '"type":"session"' "$OUT/cw-off.jsonl"; then
		pass "--detect stale-registration=off: no finding"
	else
		fail "--detect NAME=off" "$(grep -c finding "$OUT/cw-off.jsonl")"
	fi
fi

# EPOLLEXCLUSIVE, three instances, one thread each, 90 writes: the kernel
# stops each write's wakeup at the first instance with a sleeper, always
# the same one (fs/eventpoll.c: ep_poll_callback's return for exclusive
# entries): one thread takes them all
if trace exclusive30 -- "$ET" demo --scenario exclusive --scale 30; then
	findings "$OUT/exclusive30.jsonl" >"$OUT/exclusive30.found"
	if grep -q '^exclusive-imbalance ' "$OUT/exclusive30.found" &&
		! grep -q '^lt-spin ' "$OUT/exclusive30.found" &&
		grep '"detector":"exclusive-imbalance"' "$OUT/exclusive30.jsonl" | tail -n 1 |
		grep -q '"value":100,'; then
		pass "demo exclusive --scale 30: one thread took every wakeup (exclusive-imbalance)"
	else
		fail "demo exclusive --scale 30: exclusive-imbalance" "$(cat "$OUT/exclusive30.found")"
	fi
else
	fail "demo exclusive --scale 30 traced" "$(tail -n 3 "$OUT/exclusive30.err")"
fi

# ---- bad --detect: one line on stderr, exit 2, nothing on stdout -------------
for bad in herd_waiters=1 nosuch=3 residency=5parsecs herd=maybe lt_spin_waits; do
	"$ET" replay "$OUT/close-watched.etr" --json --detect "$bad" >"$OUT/bad.out" 2>"$OUT/bad.err"
	rc=$?
	if [ $rc = 2 ] && [ ! -s "$OUT/bad.out" ] && [ "$(wc -l <"$OUT/bad.err")" = 1 ]; then
		pass "--detect $bad: refused ($(cat "$OUT/bad.err"))"
	else
		fail "--detect $bad refused" "rc $rc out $(wc -c <"$OUT/bad.out") err $(cat "$OUT/bad.err")"
	fi
done

# ---- Python loops: provoking and not --------------------------------------
# stale: a dup keeps the file of a closed, registered fd; the iterator sees it
cat >"$OUT/stale.py" <<'EOF'
import os, select, sys, time
ep = select.epoll()
r, w = os.pipe()
ep.register(r, select.EPOLLIN)
if sys.argv[1] == "stale":
    keep = os.dup(r)
    os.close(r)
time.sleep(2.5)
EOF
# LT: unread data reported by every wait (ET: once); busy: timeout-0 waits
cat >"$OUT/loops.py" <<'EOF'
import os, select, sys, time
ep = select.epoll()
r, w = os.pipe()
os.write(w, b"x")
kind = sys.argv[1]
ep.register(r, select.EPOLLIN | (select.EPOLLET if kind == "et" else 0))
if kind in ("lt", "et"):
    for _ in range(200):
        ep.poll(1.0)	# the ET item's second wait would block: 1 s, once
        if kind == "et":
            break
else:
    os.read(r, 1)
    end = time.monotonic() + 1.5
    while time.monotonic() < end:
        ep.poll(0 if kind == "busy" else 0.02)
EOF
for w in stale:stale fresh:stale lt:loops et:loops busy:loops block:loops; do
	name=${w%%:*} py=${w#*:}
	trace "py-$name" --snapshot-interval 0.2 -w "$OUT/py-$name.etr" -- \
		python3 "$OUT/$py.py" "$name" ||
		fail "python $name traced" "$(tail -n 3 "$OUT/py-$name.err")"
	findings "$OUT/py-$name.jsonl" >"$OUT/py-$name.found"
done
want() {	# NAME DETECTOR: found; NAME !DETECTOR: not found
	local name=$1 d=${2#!}
	if [ "$d" = "$2" ]; then
		grep -q "^$d " "$OUT/py-$name.found" &&
			pass "python $name: $d found" ||
			fail "python $name: $d found" "$(cat "$OUT/py-$name.found")"
	else
		grep -q "^$d " "$OUT/py-$name.found" &&
			fail "python $name: no $d" "$(cat "$OUT/py-$name.found")" ||
			pass "python $name: no $d"
	fi
}
want stale stale-registration
want fresh '!stale-registration'
want lt lt-spin
want et '!lt-spin'
want busy busy-poll
want block '!busy-poll'
# the iterator's mark: the stale item's evidence is a snapshot's end
if grep '"detector":"stale-registration"' "$OUT/py-stale.jsonl" | head -n 1 |
	grep -q '"evidence":\[{"seq":[0-9]*,"ts_ns":[0-9]*,"type":"snap_end","tid":null,"fd":[0-9]'; then
	pass "python stale: found by the snapshot iterator's fd check"
else
	fail "python stale: found by the iterator" "$(grep -m1 stale "$OUT/py-stale.jsonl")"
fi
# the iterator's marks are in the recording: a replay finds the same
if "$ET" replay "$OUT/py-stale.etr" --json >"$OUT/py-stale-replay.jsonl" 2>&1 &&
	grep -q '"detector":"stale-registration"' "$OUT/py-stale-replay.jsonl" &&
	diff <(grep '"type":"finding"' "$OUT/py-stale.jsonl") \
		<(grep '"type":"finding"' "$OUT/py-stale-replay.jsonl") >"$OUT/py-stale.diff"; then
	pass "python stale, replayed: the same findings (the marks are recorded)"
else
	fail "python stale, replayed" "$(head -c 300 "$OUT/py-stale.diff")"
fi
# the TUI: !1 on the row, F lists the finding with its hint, Enter its evidence
if command -v tmux >/dev/null && [ -f "$OUT/py-stale.etr" ]; then
	SOCK=epolltrace-detect-$$
	T() { tmux -L "$SOCK" "$@"; }
	trap 'T kill-server 2>/dev/null' EXIT
	T new-session -d -x 160 -y 40 "'$ET' replay '$OUT/py-stale.etr'"
	for _ in $(seq 50); do
		T capture-pane -p >"$OUT/tui-ov.txt" 2>/dev/null
		grep -q ' !1S' "$OUT/tui-ov.txt" && break
		sleep 0.1
	done
	T send-keys p
	sleep 0.3
	T capture-pane -p >"$OUT/tui-ov.txt"
	T send-keys Enter
	sleep 0.3
	T send-keys F
	sleep 0.5
	T capture-pane -p >"$OUT/tui-f.txt"
	T send-keys Enter
	sleep 0.5
	T capture-pane -p >"$OUT/tui-ev.txt"
	T kill-server 2>/dev/null
	if grep -q ' !1S' "$OUT/tui-ov.txt" &&
		grep -q '> stale registration: pid [0-9]* (python3) epfd' "$OUT/tui-f.txt" &&
		grep -q 'hint: EPOLL_CTL_DEL' "$OUT/tui-f.txt" &&
		grep -Eq '^│ +[0-9.]+ +[0-9]+  snap_end +- +[0-9]+' "$OUT/tui-ev.txt"; then
		pass "TUI: !1 on the overview row, F lists the finding and its hint, Enter its evidence"
	else
		fail "TUI: the findings" "$(grep -h -m1 -e '!1' -e 'stale' -e snap_end \
			"$OUT/tui-ov.txt" "$OUT/tui-f.txt" "$OUT/tui-ev.txt")"
	fi
fi
exit 0
