#!/bin/bash
# The model against the kernel where the kernel's picture is hard to take:
# walks that race changes to the tree, changes no record sees (io_uring),
# thousands of sleepers, instances closed by close-on-exec, and a pid that
# exits and is given to a new process at once.  Prints one line per check:
# "PASS name" or "FAIL name :: detail"; tests/run-all.sh counts them.
#
# usage: model_live.sh EPOLLTRACE OUTDIR
set -u
ET=$1 OUT=$2
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PORT=${PORT:-63831}
mkdir -p "$OUT"
pids=()
TSOCK=epolltrace-model-$$
cleanup() {
	tmux -L "$TSOCK" kill-server 2>/dev/null
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
}
trap cleanup EXIT

pass() { echo "PASS model: $1"; }
fail() { echo "FAIL model: $1 :: $(echo "$2" | tr '\n' ' ' | cut -c1-400)"; }
# wait_for FILE PATTERN [TENTHS]: FILE has a line matching PATTERN (grep -E)
wait_for() {
	local i=0
	while ! grep -Eq -- "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt "${3:-100}" ] && return 1
		sleep 0.1
	done
}
# states FILE: how many --json-state objects FILE holds
states() { grep -c '"type":"state"' "$1" 2>/dev/null; }
# wait_states FILE N [TENTHS]
wait_states() {
	local i=0
	while [ "$(states "$1")" -lt "$2" ]; do
		i=$((i + 1))
		[ $i -gt "${3:-100}" ] && return 1
		sleep 0.1
	done
}
# tfds PID EPFD: the kernel's interest set, "EPFD: TFD ..." (as tests/fdinfo.sh
# writes it, without a readlink per fd of a process with 15000 of them)
tfds() {
	python3 -c 'import sys
p, e = sys.argv[1:]
fds = [l.split()[1] for l in open(f"/proc/{p}/fdinfo/{e}") if l.startswith("tfd:")]
print(e + ": " + " ".join(fds))' "$1" "$2"
}
# in_wait PID: how many of its threads are inside epoll_wait (syscall 232 on
# x86_64) or epoll_pwait (281)
in_wait() {
	python3 -c 'import glob, sys
n = 0
for f in glob.glob(f"/proc/{sys.argv[1]}/task/*/syscall"):
    try:
        n += open(f).read().split()[0] in ("232", "281")
    except (OSError, IndexError):
        pass
print(n)' "$1"
}
# stop PID: SIGINT, then wait for it
stop() { kill -INT "$1" 2>/dev/null; wait "$1" 2>/dev/null; }

# ONLY="churn sleepers ..." runs those sections alone (for debugging)
want() { [ -z "${ONLY:-}" ] || [[ " $ONLY " == *" $1 "* ]]; }

W=$OUT/model_workload
if ! gcc -O2 -Wall -Wextra -Werror -pthread -o "$W" "$ROOT/tests/model_workload.c" \
	2>"$OUT/workload.build"; then
	fail "workload builds" "$(cat "$OUT/workload.build")"
	exit 0
fi

# ---- 1. a first walk that races changes to the tree ----------------------------
# 15000 items from before tracing; a thread adds and removes 16 more through
# io_uring as fast as it can (no record sees them), so that the seed walk
# races the tree changing.  Whether one does depends on the scheduler:
# start tracing again until the seed says it raced.
section_churn() {
	N=15000
	hard=$(ulimit -Hn)
	[ "$hard" != unlimited ] && [ "$hard" -lt $((N + 300)) ] && N=$((hard - 300))
	CST=$OUT/churn.status CCTL=$OUT/churn.ctl
	rm -f "$CST" "$CCTL"
	mkfifo "$CCTL"
	"$W" churn $N "$CST" "$CCTL" 2>"$OUT/churn.err" &
	wp=$!
	pids+=($wp)
	exec 7<>"$CCTL"
	if ! wait_for "$CST" '^ready' 200; then
		fail "churn workload starts" "$(cat "$OUT/churn.err")"
		return
	fi
	epfd=$(sed -n 's/^ready epfd=\([0-9]*\) hidden=.*/\1/p' "$CST")
	hidden=$(sed -n 's/^ready epfd=[0-9]* hidden=\([0-9]*\)/\1/p' "$CST")
	tfds "$wp" "$epfd" >"$OUT/churn-before.fdinfo"
	echo race >&7
	wait_for "$CST" '^racing' 50
	raced=
	for try in $(seq 12); do
		s=$OUT/seed$try
		rm -f "$s.etr"
		"$ET" -p "$wp" --json-state -i 0.05 -n 1 -w "$s.etr" >"$s.jsonl" 2>"$s.err"
		"$ET" replay "$s.etr" --json >"$s.replay" 2>>"$s.err"
		if python3 - "$s.replay" <<-'PY'
	import json, sys
	snaps = [json.loads(l) for l in open(sys.argv[1]) if '"type":"snapshot"' in l]
	sys.exit(0 if snaps and snaps[0]["truncated"] else 1)
	PY
		then
			raced=$s
			break
		fi
	done
	# the TUI overview says so too: R among the flags while walks keep racing
	if command -v tmux >/dev/null; then
		tmux -L "$TSOCK" new-session -d -x 120 -y 30 "'$ET' -p $wp --tui"
		for _ in $(seq 100); do
			tmux -L "$TSOCK" capture-pane -p >"$OUT/tui.txt" 2>/dev/null
			grep -Eq "^ *$wp .* [A-Z]*R[A-Z]* *$" "$OUT/tui.txt" && break
			sleep 0.1
		done
		tmux -L "$TSOCK" kill-server 2>/dev/null
		if grep -Eq "^ *$wp .* [A-Z]*R[A-Z]* *$" "$OUT/tui.txt"; then
			pass "TUI overview: R (resyncing) while walks race changes: $(grep -E "^ *$wp " "$OUT/tui.txt" | awk '{print $NF}')"
		else
			fail "TUI overview: R (resyncing) while walks race changes" \
				"$(grep -v '^ *$' "$OUT/tui.txt" | head -n 4)"
		fi
	fi
	echo calm >&7
	wait_for "$CST" '^calm' 50
	if [ -z "$raced" ]; then
		fail "raced seed" "no seed walk of 12 raced the changes (an idle CPU is needed for the racing thread)"
	else
		if python3 - "$raced.jsonl" "$OUT/churn-before.fdinfo" "$epfd" >"$OUT/seed.check" 2>&1 <<-'PY'
	import json, sys
	sys.excepthook = lambda t, e, tb: (print(f"{t.__name__}: {e}"), sys.exit(1))
	st = [json.loads(l) for l in open(sys.argv[1])]
	epfd = int(sys.argv[3])
	want = set()
	for line in open(sys.argv[2]):
	    k, _, v = line.partition(":")
	    if k.strip() == str(epfd):
	        want = {int(x) for x in v.split()}
	inst = [i for i in st[0]["instances"] if i["epfd"] == epfd]
	assert inst, "no instance in the first state"
	i = inst[0]
	got = {x["fd"] for x in i["fds"]}
	missing = want - got
	assert not missing, f"{len(missing)} of {len(want)} items from before tracing missing, e.g. {sorted(missing)[:3]}"
	assert i["resyncing"] is True, f"resyncing {i['resyncing']} after a raced seed"
	assert i["drift"] == 0, i
	print(f"{len(want)} items, resyncing")
	PY
		then
			pass "a seed walk that raced changes: all items from before tracing in the first state, marked resyncing ($(cat "$OUT/seed.check"); try $try)"
		else
			fail "a seed walk that raced changes" "$(cat "$OUT/seed.check")"
		fi
		# --json names the part the race spoiled: the tree, here
		if python3 - "$raced.replay" >"$OUT/inexact.check" 2>&1 <<-'PY'
	import json, sys
	s = [json.loads(l) for l in open(sys.argv[1]) if '"type":"snapshot"' in l][0]
	parts = {"items_moved", "items_cut", "ready_cut", "waiters_cut"}
	assert s["truncated"] and s["inexact"] and set(s["inexact"]) <= parts, s.get("inexact")
	assert set(s["inexact"]) & {"items_moved", "items_cut"}, s["inexact"]
	print(",".join(s["inexact"]))
	PY
		then
			pass "--json: a raced snapshot names its inexact part ($(cat "$OUT/inexact.check"))"
		else
			fail "--json: a raced snapshot's inexact parts" "$(cat "$OUT/inexact.check")"
		fi
	fi

	# ---- 2. under steady churn, item by item ------------------------------------------
	# Two threads add and remove an fd each with epoll_ctl (every ~25 us): the
	# interest set never settles for 100 ms, and a comparison of it as a whole
	# never runs.  Item by item: the other 15000 are compared at every walk, an
	# item added where no record sees it (io_uring) is found, and one removed
	# that way is dropped once two walks agree.
	echo churn >&7
	wait_for "$CST" '^churning' 50
	CJ=$OUT/churn.jsonl
	"$ET" -p "$wp" --json-state -i 0.5 --snapshot-interval 0.25 >"$CJ" 2>"$OUT/churn-trace.err" &
	tp=$!
	pids+=($tp)
	wait_states "$CJ" 3 200
	n_add=$(states "$CJ")
	echo add >&7
	wait_for "$CST" '^added' 50
	# found_state FILE FROM HIDDEN WANT: a state after the FROM-th that does (1)
	# or does not (0) list HIDDEN
	found_state() {
		python3 - "$@" <<-'PY'
	import json, sys
	path, since, fd, want = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
	st = []
	for l in open(path):
	    try:
	        st.append(json.loads(l))
	    except ValueError:
	        pass		# the line being written
	st = [s for s in st if s["type"] == "state"][since:]
	for s in st:
	    for i in s["instances"]:
	        if not i["closed"] and i["watched"] > 1000 and \
	           any(x["fd"] == fd for x in i["fds"]) == want:
	            sys.exit(0)
	sys.exit(1)
	PY
	}
	for _ in $(seq 60); do found_state "$CJ" "$n_add" "$hidden" 1 && break; sleep 0.1; done
	sleep 1	# a round more: the correction counts when no record explained it
	n_del=$(states "$CJ")
	echo del >&7
	wait_for "$CST" '^deleted' 50
	for _ in $(seq 60); do found_state "$CJ" "$n_del" "$hidden" 0 && break; sleep 0.1; done
	n_stop=$(states "$CJ")
	echo stop >&7
	wait_for "$CST" '^stopped' 50
	wait_states "$CJ" $((n_stop + 4)) 100
	tfds "$wp" "$epfd" >"$OUT/churn-after.fdinfo"
	stop $tp
	python3 - "$CJ" "$epfd" "$hidden" "$n_add" "$n_del" "$n_stop" "$OUT/churn-after.fdinfo" \
		>"$OUT/churn.check" 2>&1 <<-'PY'
	import json, sys
	path, epfd, hidden, n_add, n_del, n_stop, fdinfo = sys.argv[1:]
	epfd, hidden, n_add, n_del, n_stop = map(int, (epfd, hidden, n_add, n_del, n_stop))
	st = [json.loads(l) for l in open(path) if '"type":"state"' in l]
	def inst(s):
	    i = [i for i in s["instances"] if i["epfd"] == epfd and not i["closed"]]
	    return i[0] if i else None
	def has(s, fd):
	    i = inst(s)
	    return i is not None and any(x["fd"] == fd for x in i["fds"])
	res = {}
	before = [s for s in st[:n_add] if inst(s)]
	# 1. compared under churn, and agreeing
	try:
	    assert len(before) >= 2, f"{len(before)} states before the hidden ADD"
	    assert "compared" in before[0] and "compared" in inst(before[0]), "no 'compared' counter"
	    grew = inst(before[-1])["compared"] - inst(before[0])["compared"]
	    # at least one walk compared (nearly) all of them: all but those in flight
	    assert grew >= inst(before[0])["watched"] - 10, f"compared grew by {grew}"
	    assert all(inst(s)["drift"] == 0 for s in before), [inst(s)["drift_last"] for s in before if inst(s)["drift"]]
	    assert all(s["lost"] == 0 for s in st), "records were lost"
	    res["compared"] = f"PASS {grew} items compared across {len(before)} states, drift 0"
	except AssertionError as e:
	    res["compared"] = f"FAIL {e}"
	# 2. an ADD no record saw
	try:
	    found = [s for s in st[n_add:n_del] if has(s, hidden)]
	    assert found, f"fd {hidden} never in the {n_del - n_add} states after the io_uring ADD"
	    assert any(inst(s)["drift"] >= 1 for s in found), f"drift {[inst(s)['drift'] for s in found]}"
	    res["add"] = f"PASS fd {hidden} found, drift {inst(found[-1])['drift']}: {inst(found[-1]).get('drift_last')}"
	except AssertionError as e:
	    res["add"] = f"FAIL {e}"
	# 3. a DEL no record saw
	try:
	    gone = [s for s in st[n_del:n_stop] if inst(s) and not has(s, hidden)]
	    assert gone, f"fd {hidden} still in the {n_stop - n_del} states after the io_uring DEL"
	    assert inst(gone[-1])["drift"] >= 2, f"drift {inst(gone[-1])['drift']}"
	    res["del"] = f"PASS fd {hidden} dropped, drift {inst(gone[-1])['drift']}: {inst(gone[-1]).get('drift_last')}"
	except AssertionError as e:
	    res["del"] = f"FAIL {e}"
	# 4. churn over: an exact walk, the model equals the kernel
	try:
	    last = inst(st[-1])
	    want = set()
	    for line in open(fdinfo):
	        k, _, v = line.partition(":")
	        if k.strip() == str(epfd):
	            want = {int(x) for x in v.split()}
	    got = {x["fd"] for x in last["fds"]}
	    assert got == want, f"model {len(got)} items, kernel {len(want)}: extra {sorted(got - want)[:3]}, missing {sorted(want - got)[:3]}"
	    assert last["resyncing"] is False, "still resyncing"
	    assert last["drift"] == 2, f"drift {last['drift']}: {last.get('drift_last')}"
	    res["end"] = f"PASS {len(want)} items as in fdinfo, drift 2, not resyncing"
	except AssertionError as e:
	    res["end"] = f"FAIL {e}"
	for k in ("compared", "add", "del", "end"):
	    print(k, res[k])
	PY
	echo quit >&7
	wait $wp 2>/dev/null
	exec 7>&-
	report() {	# KEY NAME: the line KEY of churn.check
		local line
		line=$(grep "^$1 " "$OUT/churn.check")
		case $line in
		"$1 PASS "*) pass "$2 (${line#"$1 PASS "})" ;;
		"$1 FAIL "*) fail "$2" "${line#"$1 FAIL "}" ;;
		*) fail "$2" "$(tail -n 3 "$OUT/churn.check")" ;;
		esac
	}
	report compared "under churn: the interest set compared item by item, and agreeing"
	report add "under churn: an ADD no record saw (io_uring) found and counted as drift"
	report del "under churn: a DEL no record saw dropped once two walks agree, counted"
	report end "churn over: an exact walk ends the resync, the model equals fdinfo"
}
want churn && section_churn

# ---- 3. thousands of threads asleep on one instance -----------------------------
# The wait-queue walk stopped at 256 and said nothing.
section_sleepers() {
	NS=3000
	SST=$OUT/sleep.status
	rm -f "$SST"
	"$W" sleepers $NS "$SST" 2>"$OUT/sleep.err" &
	sp=$!
	pids+=($sp)
	wait_for "$SST" '^ready' 300
	sepfd=$(sed -n 's/^ready epfd=\([0-9]*\).*/\1/p' "$SST")
	for _ in $(seq 200); do [ "$(in_wait $sp)" -ge $NS ] && break; sleep 0.1; done
	"$ET" -p $sp --json-state -i 0.3 -n 1 >"$OUT/sleep.jsonl" 2>"$OUT/sleep-trace.err"
	"$ET" -p $sp --summary -i 0.3 -n 1 >"$OUT/sleep.txt" 2>>"$OUT/sleep-trace.err"
	kill $sp
	if python3 - "$OUT/sleep.jsonl" "$sepfd" $NS >"$OUT/sleep.check" 2>&1 <<-'PY'
	import json, sys
	sys.excepthook = lambda t, e, tb: (print(f"{t.__name__}: {e}"), sys.exit(1))
	st = [json.loads(l) for l in open(sys.argv[1])]
	epfd, n = int(sys.argv[2]), int(sys.argv[3])
	i = [i for i in st[-1]["instances"] if i["epfd"] == epfd][0]
	w = i["waiters"]
	assert len(w) == n and len({x["tid"] for x in w}) == n, f"{len(w)} waiters listed, {n} asleep"
	assert all(x["asleep"] for x in w), "not all asleep"
	assert i.get("waiters_truncated") is False, f"waiters_truncated {i.get('waiters_truncated')}"
	print(f"{n} waiters, all asleep")
	PY
	then
		pass "$NS threads asleep on one instance: every one a waiter ($(cat "$OUT/sleep.check"))"
	else
		fail "$NS threads asleep on one instance" "$(cat "$OUT/sleep.check")"
	fi
	if awk -v n=$NS -v e="$sepfd" '$3 == e && $6 == n { ok = 1 } END { exit !ok }' "$OUT/sleep.txt"; then
		pass "--summary: SLEEP $NS"
	else
		fail "--summary: SLEEP $NS" "$(head -n 4 "$OUT/sleep.txt")"
	fi
}
want sleepers && section_sleepers

# ---- 4. an instance closed by close-on-exec --------------------------------------
# exec closes it without a close() the tracepoints could see.
section_cloexec() {
	XST=$OUT/cloexec.status XCTL=$OUT/cloexec.ctl
	rm -f "$XST" "$XCTL"
	mkfifo "$XCTL"
	"$W" cloexec "$XST" "$XCTL" 2>"$OUT/cloexec.err" &
	xp=$!
	pids+=($xp)
	exec 8<>"$XCTL"
	wait_for "$XST" '^ready' 100
	xa=$(sed -n 's/^ready cloexec=\([0-9]*\) kept=.*/\1/p' "$XST")
	xb=$(sed -n 's/^ready cloexec=[0-9]* kept=\([0-9]*\)/\1/p' "$XST")
	XJ=$OUT/cloexec.jsonl
	"$ET" -p $xp --json-state -i 0.3 --snapshot-interval 0.2 >"$XJ" 2>"$OUT/cloexec-trace.err" &
	tp=$!
	pids+=($tp)
	wait_states "$XJ" 1 200
	n_exec=$(states "$XJ")
	echo exec >&8
	for _ in $(seq 50); do [ "$(cat /proc/$xp/comm 2>/dev/null)" = sleep ] && break; sleep 0.1; done
	# a round after the exec (0.2 s) and its delivery (0.1 s later), then a state
	sleep 1
	wait_states "$XJ" $((n_exec + 3)) 50
	stop $tp
	kill $xp
	exec 8>&-
	if python3 - "$XJ" "$n_exec" "$xa" "$xb" >"$OUT/cloexec.check" 2>&1 <<-'PY'
	import json, sys
	sys.excepthook = lambda t, e, tb: (print(f"{t.__name__}: {e}"), sys.exit(1))
	st = [json.loads(l) for l in open(sys.argv[1]) if '"type":"state"' in l]
	n, a, b = map(int, sys.argv[2:])
	def open_(s, fd):
	    return [i for i in s["instances"] if i["epfd"] == fd and not i["closed"]]
	assert open_(st[0], a) and open_(st[0], b), "both instances open before the exec"
	last = st[-1]
	assert not open_(last, a), f"epfd {a} (EPOLL_CLOEXEC) still open after the exec, {len(st) - n} states on"
	assert all(i["gone"] for i in last["instances"] if i["epfd"] == a), "closed, not marked gone"
	kept = open_(last, b)
	assert kept and kept[0]["watched"] == 1, f"epfd {b} (no CLOEXEC) should stay, watching 1: {kept}"
	print(f"epfd {a} gone, epfd {b} kept")
	PY
	then
		pass "close-on-exec: a round that no longer finds the instance drops it ($(cat "$OUT/cloexec.check"))"
	else
		fail "close-on-exec: a round that no longer finds the instance drops it" "$(cat "$OUT/cloexec.check")"
	fi
}
want cloexec && section_cloexec

# ---- 5. a traced pid exits and is given to a new process at once ---------------
# HOLDER is traced and exits; REUSER (traced too, so that the session goes
# on) then forks until a child gets HOLDER's pid (ns_last_pid), and that
# child makes an instance and waits on it.  Without -f it is no target:
# none of its records may appear.  With -f it is REUSER's child: all do.
section_reuse() {
	reuse() {	# NAME [-f]
		local name=$1 follow=${2:-} hst=$OUT/$1-holder.status hctl=$OUT/$1-holder.ctl
		local rst=$OUT/$1-reuse.status rctl=$OUT/$1-reuse.ctl j=$OUT/$1.jsonl rp tp
		rm -f "$hst" "$hctl" "$rst" "$rctl"
		mkfifo "$hctl" "$rctl"
		"$W" holder "$hst" "$hctl" 2>"$OUT/$name-holder.err" &
		hp=$!
		pids+=($hp)
		wait_for "$hst" '^ready' 100
		"$W" reuse $hp "$rst" "$rctl" 2>"$OUT/$name-reuse.err" &
		rp=$!
		pids+=($rp)
		wait_for "$rst" '^ready' 100
		"$ET" -p $hp -p $rp $follow --json >"$j" 2>"$OUT/$name-trace.err" &
		tp=$!
		pids+=($tp)
		wait_for "$j" '"type":"snapshot"' 200
		echo exit >"$hctl"
		wait $hp
		wait_for "$j" '"group_dead":true' 100
		echo go >"$rctl"
		wait_for "$rst" '^(reused|failed)' 600
		sleep 0.3
		stop $tp
		echo quit >"$rctl"
		wait $rp
		held=$hp
	}
	reuse reuse-nof
	hp=$held
	if ! grep -q '^reused' "$OUT/reuse-nof-reuse.status"; then
		fail "a reused pid is not traced" "pid $hp could not be reused: $(cat "$OUT/reuse-nof-reuse.status")"
	elif python3 - "$OUT/reuse-nof.jsonl" "$hp" >"$OUT/reuse-nof.check" 2>&1 <<-'PY'
	import json, sys
	sys.excepthook = lambda t, e, tb: (print(f"{t.__name__}: {e}"), sys.exit(1))
	ev = [json.loads(l) for l in open(sys.argv[1])]
	pid = int(sys.argv[2])
	dead = [k for k, e in enumerate(ev) if e["type"] == "task_exit" and e["pid"] == pid and e["group_dead"]]
	assert dead, "no group exit of the holder"
	after = [e for e in ev[dead[0] + 1:] if e.get("pid") == pid or e.get("owner") == pid]
	assert not after, f"{len(after)} records of the newcomer with pid {pid}: {sorted({e['type'] for e in after})}"
	print(f"none after the exit of {pid}")
	PY
	then
		pass "a pid reused at once after its exit is not traced ($(cat "$OUT/reuse-nof.check"); $(cat "$OUT/reuse-nof-reuse.status" | tail -n 1))"
	else
		fail "a pid reused at once after its exit is not traced" "$(cat "$OUT/reuse-nof.check")"
	fi
	reuse reuse-f -f
	hp=$held
	if ! grep -q '^reused' "$OUT/reuse-f-reuse.status"; then
		fail "-f: a child that gets a traced pid again is traced" "pid $hp could not be reused"
	elif python3 - "$OUT/reuse-f.jsonl" "$hp" >"$OUT/reuse-f.check" 2>&1 <<-'PY'
	import json, sys
	sys.excepthook = lambda t, e, tb: (print(f"{t.__name__}: {e}"), sys.exit(1))
	ev = [json.loads(l) for l in open(sys.argv[1])]
	pid = int(sys.argv[2])
	dead = [k for k, e in enumerate(ev) if e["type"] == "task_exit" and e["pid"] == pid and e["group_dead"]]
	assert dead, "no group exit of the holder"
	later = ev[dead[0] + 1:]
	fork = [k for k, e in enumerate(later) if e["type"] == "fork" and e["child"] == pid]
	assert fork, "no fork record giving the pid back"
	kinds = {e["type"] for e in later[fork[0]:] if e.get("pid") == pid}
	assert {"ep_create", "ctl", "wait_exit"} <= kinds, f"the followed child's records: {sorted(kinds)}"
	print(f"fork, then {sorted(kinds)}")
	PY
	then
		pass "-f: a child that gets a traced pid again is traced ($(cat "$OUT/reuse-f.check"))"
	else
		fail "-f: a child that gets a traced pid again is traced" "$(cat "$OUT/reuse-f.check")"
	fi
}
want reuse && section_reuse

# ---- 6. redis-server under redis-benchmark -k 0 (the report's own case) --------
# Connections churn during the walk: in some starts the first states lacked
# the listening sockets and a pipe, with drift 0 and nothing flagged.
section_redis() {
	if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null; then
		fail "redis under redis-benchmark -k 0" "redis-server or redis-benchmark missing"
		return
	fi
	# the first free port of this suite's range (63831-63839)
	for PORT in $(seq "$PORT" $((PORT + 8))); do
		redis-cli -p "$PORT" ping >/dev/null 2>&1 || break
	done
	redis-server --port "$PORT" --save '' --appendonly no --bind 127.0.0.1 >"$OUT/redis.log" 2>&1 &
	rsp=$!
	pids+=($rsp)
	for _ in $(seq 100); do redis-cli -p "$PORT" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
	if ! kill -0 $rsp 2>/dev/null; then
		fail "redis under redis-benchmark -k 0" "redis-server did not start: $(tail -n 2 "$OUT/redis.log")"
		return
	fi
	redis-benchmark -p "$PORT" -k 0 -c 50 -n 100000000 -q >/dev/null 2>&1 &
	bp=$!
	pids+=($bp)
	sleep 1
	# the items that stay: listening sockets, pipes, eventfds (not connections)
	python3 - "$rsp" >"$OUT/redis-stable.txt" 2>&1 <<-'PY'
	import os, sys
	pid = sys.argv[1]
	listen = set()
	for f in ("/proc/net/tcp", "/proc/net/tcp6"):
	    try:
	        for line in open(f).readlines()[1:]:
	            x = line.split()
	            if x[3] == "0A":
	                listen.add(x[9])
	    except OSError:
	        pass
	def link(fd):
	    try:
	        return os.readlink(f"/proc/{pid}/fd/{fd}")
	    except OSError:	# closed meanwhile: a connection
	        return ""
	ep = [n for n in os.listdir(f"/proc/{pid}/fd") if "eventpoll" in link(n)][0]
	stable = []
	for line in open(f"/proc/{pid}/fdinfo/{ep}"):
	    if not line.startswith("tfd:"):
	        continue
	    fd = line.split()[1]
	    l = link(fd)
	    if l.startswith("pipe:") or "eventfd" in l or \
	       (l.startswith("socket:[") and l[8:-1] in listen):
	        stable.append(fd)
	print(ep, " ".join(stable))
	PY
	rfails=0 rstarts=6 rdetail=
	for k in $(seq $rstarts); do
		"$ET" -p $rsp --json-state -i 1 -n 2 >"$OUT/redis$k.jsonl" 2>"$OUT/redis$k.err"
		if ! python3 - "$OUT/redis$k.jsonl" "$OUT/redis-stable.txt" >"$OUT/redis$k.check" 2>&1 <<-'PY'
	import json, sys
	sys.excepthook = lambda t, e, tb: (print(f"{t.__name__}: {e}"), sys.exit(1))
	st = [json.loads(l) for l in open(sys.argv[1])]
	ep, *stable = open(sys.argv[2]).read().split()
	stable = set(map(int, stable))
	assert len(st) == 2, f"{len(st)} states"
	for n, s in enumerate(st):
	    i = [i for i in s["instances"] if i["epfd"] == int(ep)][0]
	    missing = stable - {x["fd"] for x in i["fds"]}
	    assert not missing, f"state {n + 1} lacks fds {sorted(missing)} (resyncing {i['resyncing']}, drift {i['drift']})"
	a, b = ([i for i in s["instances"] if i["epfd"] == int(ep)][0] for s in st)
	assert b["compared"] > a["compared"], f"compared {a['compared']} then {b['compared']}"
	PY
		then
			rfails=$((rfails + 1))
			rdetail="$rdetail start $k: $(cat "$OUT/redis$k.check");"
		fi
	done
	kill $bp $rsp
	if [ ! -s "$OUT/redis-stable.txt" ] || [ "$(wc -w <"$OUT/redis-stable.txt")" -lt 2 ]; then
		fail "redis under redis-benchmark -k 0" "no listening socket found: $(cat "$OUT/redis-stable.txt")"
	elif [ $rfails = 0 ]; then
		pass "redis under redis-benchmark -k 0: listening sockets and pipes in every state of $rstarts starts, compared under churn"
	else
		fail "redis under redis-benchmark -k 0" "$rfails of $rstarts starts:$rdetail"
	fi
}
want redis && section_redis


exit 0
