#!/bin/bash
# The outputs, on live traced workloads (tracepoint mode): the session
# record that starts --json, null for what the attach plan cannot see,
# the waker's context (a timer, an interrupt, a task) in every view,
# --text, the final state of -n, and options refused where they do
# nothing.  Prints one line per check: "PASS name" or "FAIL name ::
# detail"; tests/run-all.sh counts them.
#
# usage: outputs.sh EPOLLTRACE OUTDIR
set -u
ET=$1 OUT=$2
mkdir -p "$OUT"
rm -f "$OUT"/*.etr "$OUT"/*.jsonl "$OUT"/*.ids "$OUT"/*.ready
SOCK=epolltrace-outputs-$$
T() { tmux -L "$SOCK" "$@"; }
pids=()
cleanup() {
	T kill-server 2>/dev/null
	rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$SOCK"
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
}
trap cleanup EXIT

pass() { echo "PASS outputs: $1"; }
fail() { echo "FAIL outputs: $1 :: $(echo "$2" | tr '\n' ' ' | cut -c1-400)"; }
# pycheck NAME SCRIPT ARGS...: a python check; its output is the detail
pycheck() {
	local name=$1 script=$2 out
	shift 2
	if out=$(python3 -c "$script" "$@" 2>&1); then
		pass "$name${out:+ ($out)}"
	else
		fail "$name" "$out"
	fi
}

# ---- the workloads ------------------------------------------------------------
# wake.py IDS: one thread waits with a 50 ms timeout on an empty instance
# (woken by its timer, three times), another is woken by the main
# thread's write into a pipe it watches (a task's wakeup).  Writes the
# tids: {"timer": T, "task": T, "writer": T}.
cat >"$OUT/wake.py" <<'EOF'
import json, os, select, sys, threading, time
r, w = os.pipe()
epa, epb = select.epoll(), select.epoll()
epb.register(r, select.EPOLLIN | select.EPOLLET)
ids = {"writer": threading.get_native_id()}
def timer():
    ids["timer"] = threading.get_native_id()
    time.sleep(0.3)
    for _ in range(3):
        epa.poll(0.05)
def task():
    ids["task"] = threading.get_native_id()
    epb.poll(10)
ta, tb = threading.Thread(target=timer), threading.Thread(target=task)
ta.start(); tb.start()
time.sleep(0.8)
os.write(w, b"x")
ta.join(); tb.join()
json.dump(ids, open(sys.argv[1], "w"))
EOF
# idle.py IDS READY: before any tracing, a pipe with data (on the ready
# list) and a thread asleep in epoll_wait; then nothing happens
cat >"$OUT/idle.py" <<'EOF'
import json, os, select, sys, threading, time
r, w = os.pipe()
os.write(w, b"x")
ep = select.epoll()
ep.register(r, select.EPOLLIN)
r2, w2 = os.pipe()
ep2 = select.epoll()
ep2.register(r2, select.EPOLLIN)
ids = {"pid": os.getpid()}
def waiter():
    ids["waiter"] = threading.get_native_id()
    ep2.poll()
threading.Thread(target=waiter, daemon=True).start()
time.sleep(0.3)
json.dump(ids, open(sys.argv[1], "w"))
open(sys.argv[2], "w").write("ready\n")
time.sleep(600)
EOF

# ---- 1. --json: the session record, nulls, the waker's context ------------------
timeout -k 5 60 "$ET" --json --attach=tracepoint -w "$OUT/wake.etr" -- \
	python3 "$OUT/wake.py" "$OUT/wake.ids" >"$OUT/wake.jsonl" 2>"$OUT/wake.err"
rc=$?
[ $rc = 0 ] && [ -s "$OUT/wake.ids" ] ||
	fail "--json run of wake.py" "exit $rc: $(head -c 300 "$OUT/wake.err")"

pycheck "--json starts with a session record: plan, targets, what it cannot see" '
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
ids = json.load(open(sys.argv[2]))
s = ev[0]
assert s["type"] == "session", "first record: " + str(s)[:200]
assert not any(e["type"] == "session" for e in ev[1:]), "a second session record"
assert s["attach"] == "tracepoint" and s["callbacks_visible"] is False, s
assert s["sleeps_visible"] is True, s
assert s["all_processes"] is False and s["command"] == "python3", s
assert s["targets"] == [{"pid": ids["writer"], "comm": "python3"}], s["targets"]
h = {x["hook"]: x for x in s["hooks"]}
assert h["callback"]["using"] is None and h["callback"]["fidelity"] == "sampled", h["callback"]
assert h["wait"]["using"] == "tracepoint", h["wait"]
assert s["ts_ns"] > 0 and s["start_wall_ns"] > 0 and s["snapshot_interval_ns"] == 10**9, s
n = len(s["hooks"])
print(f"{n} hooks")
' "$OUT/wake.jsonl" "$OUT/wake.ids"

# the live stream and the recording's: byte for byte, session line included
"$ET" export "$OUT/wake.etr" --format jsonl >"$OUT/wake.export.jsonl" 2>"$OUT/export.err"
"$ET" replay "$OUT/wake.etr" --json >"$OUT/wake.replay.jsonl" 2>"$OUT/replay.err"
if head -n 1 "$OUT/wake.jsonl" | grep -q '"type":"session"' &&
	cmp -s "$OUT/wake.jsonl" "$OUT/wake.export.jsonl" &&
	cmp -s "$OUT/wake.jsonl" "$OUT/wake.replay.jsonl"; then
	pass "export --format jsonl and replay --json: the live stream, session record included"
else
	fail "export/replay of the -w recording" "$(cmp "$OUT/wake.jsonl" "$OUT/wake.export.jsonl" 2>&1)
		$(cmp "$OUT/wake.jsonl" "$OUT/wake.replay.jsonl" 2>&1) $(head -c 200 "$OUT/export.err")"
fi

pycheck "--json: null, never 0 or -1, for what tracepoint mode cannot see" '
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
bad = []
def walk(o, path):
    if isinstance(o, dict):
        for k, v in o.items():
            walk(v, path + "." + k)
    elif isinstance(o, list):
        for x in o:
            walk(x, path + "[]")
    elif o == -1 and not path.endswith((".timeout_ns", ".ret", ".exit_code")):
        bad.append(path)
for e in ev:
    walk(e, e["type"])
assert not bad, "-1 at " + ", ".join(sorted(set(bad)))
st = [e for e in ev if e["type"] == "stats"]
assert st, "no stats record"
for e in st:
    c = e["counters"]
    assert c["callbacks"] is None, "stats callbacks = %r" % c["callbacks"]
    assert isinstance(c["wakeups"], int) and isinstance(c["ctl"], int), c
for e in ev:
    if e["type"] == "snapshot" and "counters" in e:
        assert e["counters"]["callbacks"] is None, e["counters"]
    if e["type"] == "ctl":
        assert "queued" in e, e
    if e["type"] == "send_events":
        assert isinstance(e["count"], int) and e["requeued"] is None, e
assert not any(e["type"] == "callback" for e in ev), "callback records in tracepoint mode"
print(f"{len(st)} stats records")
' "$OUT/wake.jsonl"

pycheck "--json wakeup: a timeout is a timer in irq context, no waker; a write names its writer" '
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
ids = json.load(open(sys.argv[2]))
wk = [e for e in ev if e["type"] == "wakeup"]
tm = [e for e in wk if e["tid"] == ids["timer"]]
tk = [e for e in wk if e["tid"] == ids["task"]]
assert len(tm) == 3, f"{len(tm)} wakeups of the timer waiter, want 3: {tm}"
for e in tm:
    assert e["context"] in ("hardirq", "softirq") and e["timer"] is True, e
    assert e["waker_pid"] is None and e["waker_tid"] is None and e["waker_comm"] is None, e
assert len(tk) == 1, tk
e = tk[0]
assert e["context"] == "task" and e["timer"] is False, e
assert e["waker_tid"] == ids["writer"] and e["waker_comm"] == "python3", e
ctx, by = tm[0]["context"], e["waker_tid"]
print(f"timer: {ctx}; task: woken by {by}")
' "$OUT/wake.jsonl" "$OUT/wake.ids"

# ---- 2. the chrome export: the same context, null where not known ---------------
"$ET" export "$OUT/wake.etr" --format chrome --force -o "$OUT/wake.chrome.json" 2>"$OUT/chrome.err"
pycheck "chrome export: otherData says callbacks_visible; asleep spans name the waker's context" '
import json, sys
tr = json.load(open(sys.argv[1]))
ids = json.load(open(sys.argv[2]))
assert tr["otherData"]["callbacks_visible"] is False, tr["otherData"]
sl = [e for e in tr["traceEvents"] if e["ph"] == "X" and e["name"] == "asleep"]
tm = [e["args"] for e in sl if e["tid"] == ids["timer"]]
tk = [e["args"] for e in sl if e["tid"] == ids["task"]]
assert len(tm) == 3 and len(tk) == 1, (tm, tk)
for a in tm:
    assert a["waker_tid"] is None and a["timer"] is True, a
    assert a["waker_context"] in ("hardirq", "softirq"), a
assert tk[0]["waker_tid"] == ids["writer"] and tk[0]["waker_context"] == "task", tk
' "$OUT/wake.chrome.json" "$OUT/wake.ids"

# ---- 3. --text -----------------------------------------------------------------------
timeout -k 5 60 "$ET" --text --attach=tracepoint -- python3 "$OUT/wake.py" "$OUT/text.ids" \
	>"$OUT/wake.txt" 2>"$OUT/text.err"
pycheck "--text: a header saying what is traced and what ep_poll_callback gives" '
import json, re, sys
lines = open(sys.argv[1]).read().splitlines()
ids = json.load(open(sys.argv[2]))
head = "# epolltrace: tracing pid %d (python3) on Linux " % ids["writer"]
assert lines and lines[0].startswith(head), lines[:1]
assert "--attach=tracepoint" in lines[0], lines[0]
assert re.match(r"# ep_poll_callback: not attachable", lines[1]), lines[1]
' "$OUT/wake.txt" "$OUT/text.ids"

pycheck "--text: seconds since the start, comm, pid, tid, the kernel function names of the TUI" '
import json, sys
lines = [l for l in open(sys.argv[1]).read().splitlines() if not l.startswith("#")]
ids = json.load(open(sys.argv[2]))
names = set()
for l in lines:
    t, comm, pid, tid = l[:11], l[12:27].strip(), l[28:35].strip(), l[36:43].strip()
    assert 0 <= float(t) < 30, l
    if pid == str(ids["writer"]) and tid != "-":
        assert comm == "python3", l
        names.add(l[44:66].strip())
want = {"ep_alloc", "ep_insert", "epoll_wait", "schedule", "try_to_wake_up",
        "epoll_wait ret", "ep_send_events", "do_exit", "ep_free"}
assert want <= names, f"missing {sorted(want - names)}; seen {sorted(names)}"
' "$OUT/wake.txt" "$OUT/text.ids"

pycheck "--text: mask and errno names, no raw -1 or 0x masks, wakers named" '
import json, re, sys
text = open(sys.argv[1]).read()
ids = json.load(open(sys.argv[2]))
assert "events=IN|ET" in text, "no events=IN|ET (the one mask form of every human view)"
for raw in ("events=0x", "=-1", "requeued", "key=0x"):
    assert raw not in text, "raw value: " + raw
wk = [l for l in text.splitlines() if l[44:66].strip() == "try_to_wake_up"]
tm = [l for l in wk if l[36:43].strip() == str(ids["timer"])]
tk = [l for l in wk if l[36:43].strip() == str(ids["task"])]
assert len(tm) == 3 and all(re.search(r"by a timer \((hardirq|softirq)\)$", l) for l in tm), tm
assert len(tk) == 1 and tk[0].endswith("by %d/python3" % ids["writer"]), tk
# the 50 ms timeouts read in milliseconds, not as 50000us
rets = [l for l in text.splitlines() if l[44:66].strip() == "epoll_wait ret" and
        l[36:43].strip() == str(ids["timer"])]
assert len(rets) == 3 and all(re.search(r"slept \d+\.\dms$", l) for l in rets), rets
' "$OUT/wake.txt" "$OUT/text.ids"

# ---- 4. the state views: -n's final state, nulls --------------------------------------
python3 "$OUT/idle.py" "$OUT/idle.ids" "$OUT/idle.ready" &
IP=$!
pids+=("$IP")
for _ in $(seq 100); do [ -s "$OUT/idle.ready" ] && break; sleep 0.1; done
timeout -k 5 30 "$ET" -p "$IP" --json-state -i 0.3 -n 2 --attach=tracepoint -w "$OUT/state.etr" \
	>"$OUT/state.jsonl" 2>"$OUT/state.err"
pycheck "--json-state -n 2: two states, the second final" '
import json, sys
st = [json.loads(l) for l in open(sys.argv[1])]
assert [s["final"] for s in st] == [False, True], [s["final"] for s in st]
' "$OUT/state.jsonl"

"$ET" replay "$OUT/state.etr" --json-state -i 0.3 -n 2 >"$OUT/state.replay.jsonl" 2>/dev/null
pycheck "replay --json-state -n 2 of that session's recording: the same two states" '
import json, sys
def strip(o):
    if isinstance(o, dict):
        return {k: strip(v) for k, v in o.items() if k not in ("comm", "kind", "addr")}
    if isinstance(o, list):
        return [strip(x) for x in o]
    return o
a = [strip(json.loads(l)) for l in open(sys.argv[1])]
b = [strip(json.loads(l)) for l in open(sys.argv[2])]
assert a and a == b, f"{len(a)} states live, {len(b)} replayed, differ"
' "$OUT/state.jsonl" "$OUT/state.replay.jsonl"

pycheck "--json-state: null for what a sampled ready list and a pre-existing waiter cannot tell" '
import json, sys
st = [json.loads(l) for l in open(sys.argv[1])][-1]
ids = json.load(open(sys.argv[2]))
ins = [i for i in st["instances"] if i["pid"] == ids["pid"] and not i["closed"]]
assert len(ins) == 2, ins
rd = [i for i in ins if i["ready"]]
wt = [i for i in ins if i["waiters"]]
assert rd and wt, ins
for i in ins:
    assert i["counters"]["callbacks"] is None, i["counters"]
    assert i["rates"]["callbacks_per_s"] is None, i["rates"]
    assert i["ready_ns_log2"] is None, i["ready_ns_log2"]
    assert all(f["added_ns"] is None for f in i["fds"]), i["fds"]
r = rd[0]["ready"][0]
assert r["age_ns"] is None and r["events"] is None, r
w = wt[0]["waiters"][0]
assert w["tid"] == ids["waiter"], w
assert w["maxevents"] is None and w["timeout_ns"] is None and w["since_ns"] is None, w
' "$OUT/state.jsonl" "$OUT/idle.ids"

timeout -k 5 30 "$ET" -p "$IP" --summary -i 0.3 -n 2 --attach=tracepoint >"$OUT/summary.txt" \
	2>"$OUT/summary.err"
pycheck "--summary -n 2: the second table final, CB/s is a dash where callbacks are not seen" '
import sys
t = open(sys.argv[1]).read().split("\n\n")
t = [x for x in t if x.strip()]
assert len(t) == 2 and "(final)" in t[1].splitlines()[0] and "(final)" not in t[0], t
rows = [l.split() for l in t[1].splitlines()[2:] if l.split()[0] == sys.argv[2]]
assert rows and all(r[6] == "-" for r in rows), rows
' "$OUT/summary.txt" "$IP"
{ kill -9 "$IP"; wait "$IP"; } 2>/dev/null

# ---- 5. the TUI's event log names the waker the same way ---------------------------------
T -f /dev/null new-session -d -s keep "sleep 3600"
T set-option -g remain-on-exit on
T new-session -d -s wake -x 160 -y 50 env LANG=C.UTF-8 "$ET" --attach=tracepoint -- \
	python3 "$OUT/wake.py" "$OUT/tui.ids"
for _ in $(seq 150); do [ -s "$OUT/tui.ids" ] && break; sleep 0.1; done
sleep 0.5
T send-keys -t wake / k i n d Space w a k e u p Enter
tui_ok=
for _ in $(seq 50); do
	scr=$(T capture-pane -p -t wake 2>/dev/null)
	if grep -Eq "try_to_wake_up .* by a timer \((hardirq|softirq)\)" <<<"$scr" &&
		grep -Eq "try_to_wake_up .* by [0-9]+/python3" <<<"$scr"; then
		tui_ok=1
		break
	fi
	sleep 0.1
done
if [ -n "$tui_ok" ]; then
	pass "TUI event log: 'by a timer (hardirq)' and 'by TID/python3'"
else
	fail "TUI event log: the waker" "$(grep try_to_wake_up <<<"$scr" | head -n 4)"
fi
T send-keys -t wake q

# ---- 6. options refused where they do nothing; numbers finite and bounded -------------
sleep 600 &
SP=$!
pids+=("$SP")
# refuse NAME PATTERN ARGS...: one line on stderr with PATTERN, exit 2, nothing on stdout
refuse() {
	local name=$1 pat=$2 rc
	shift 2
	timeout -k 2 4 "$ET" "$@" </dev/null >"$OUT/opt.out" 2>"$OUT/opt.err"
	rc=$?
	if [ $rc = 2 ] && [ "$(wc -l <"$OUT/opt.err")" = 1 ] && grep -qF -- "$pat" "$OUT/opt.err" &&
		[ ! -s "$OUT/opt.out" ]; then
		pass "$name: $(cat "$OUT/opt.err")"
	else
		fail "$name" "exit $rc, stderr: $(head -c 200 "$OUT/opt.err"),
			stdout: $(head -c 80 "$OUT/opt.out")"
	fi
}
# accept NAME ARGS...: these combinations are fine (exit 0)
accept() {
	local name=$1 rc
	shift
	timeout -k 2 20 "$ET" "$@" </dev/null >"$OUT/opt.out" 2>"$OUT/opt.err"
	rc=$?
	if [ $rc = 0 ] && ! grep -q "applies to" "$OUT/opt.err"; then
		pass "$name"
	else
		fail "$name" "exit $rc, stderr: $(head -c 200 "$OUT/opt.err")"
	fi
}
P=(-p "$SP" --attach=tracepoint)
R=$OUT/wake.etr
refuse "--json -n" "-n applies to --summary and --json-state" "${P[@]}" --json -n 2
refuse "--json -i" "-i applies to --summary and --json-state" "${P[@]}" --json -i 1
refuse "-n with the TUI or text" "-n applies to --summary and --json-state" "${P[@]}" --text -n 1
refuse "--theme with --text" "--theme applies to the TUI, not to --text" \
	"${P[@]}" --text --theme mono
refuse "--ascii with --json" "--ascii applies to the TUI, not to --json" "${P[@]}" --json --ascii
refuse "--ascii with --summary" "--ascii applies to the TUI, not to --summary" \
	"${P[@]}" --summary --ascii
refuse "--rate outside demo" "--rate applies to demo" "${P[@]}" --json --rate 2
refuse "--format outside export" "--format applies to export" "${P[@]}" --json --format jsonl
refuse "-o while tracing" "-o applies to record and export" "${P[@]}" --json -o "$OUT/x"
refuse "--force without a file" "--force applies to a file written with -o, -w or --truth" \
	"${P[@]}" --json --force
refuse "--force with export to stdout" "--force applies to a file" \
	export "$R" --format jsonl --force
refuse "--scale outside demo --scenario" "--scale applies to demo --scenario NAME" \
	"${P[@]}" --json --scale 2
refuse "--truth outside demo --scenario" "--truth applies to demo --scenario NAME" \
	"${P[@]}" --json --truth "$OUT/t"
refuse "--gate outside demo --scenario" "--gate applies to demo --scenario NAME" \
	"${P[@]}" --json --gate
refuse "--list outside demo" "--list applies to demo" "${P[@]}" --json --list
refuse "replay -d" "replay: -d applies to tracing, record, demo" replay "$R" --json -d 1
refuse "replay -p" "replay: -p applies to tracing and record" replay "$R" --json -p 1
refuse "replay --attach" "replay: --attach applies to" replay "$R" --json --attach tracepoint
refuse "replay -w" "replay: -w applies to tracing and demo" replay "$R" --json -w "$OUT/y.etr"
refuse "replay --snapshot-interval" "replay: --snapshot-interval applies to" \
	replay "$R" --json --snapshot-interval 1
refuse "replay --text" "replay: --text applies to tracing and demo" replay "$R" --text
refuse "replay --tui --json" "--tui and --json exclude each other" replay "$R" --tui --json
refuse "info --json" "info: --json applies to" info "$R" --json
refuse "info -n" "info: -n applies to" info "$R" -n 1
refuse "export -n" "export: -n applies to" export "$R" --format jsonl -n 2
refuse "export --summary" "export: --summary applies to tracing, replay and demo" \
	export "$R" --format jsonl --summary
refuse "probes -p" "probes: -p applies to tracing and record" probes -p 1
refuse "probes -d" "probes: -d applies to" probes -d 1
refuse "record -i" "record: -i applies to" record -o "$OUT/r.etr" "${P[@]}" -i 1 -d 0.5
refuse "record --text" "record: --text applies to" record -o "$OUT/r.etr" "${P[@]}" --text -d 0.5
refuse "demo --scenario NAME -d" "demo --scenario: -d applies to" demo --scenario threads -d 1
refuse "demo --scenario NAME --attach" "demo --scenario: --attach applies to" \
	demo --scenario threads --attach tracepoint
refuse "demo --scenario classroom --truth" \
	"--truth applies to demo --scenario NAME, not classroom" \
	demo --scenario classroom --truth "$OUT/t"
refuse "demo --list --scenario" "demo --list: --scenario applies to demo (without --list)" \
	demo --list --scenario threads
refuse "demo -p" "demo: -p applies to tracing and record" demo -p 1 --text -d 1
refuse "-d nan" "-d takes 0.001 to 31536000 seconds" "${P[@]}" --json -d nan
refuse "-d inf" "-d takes 0.001 to 31536000 seconds" "${P[@]}" --json -d inf
refuse "-d 1e9" "-d takes 0.001 to 31536000 seconds" "${P[@]}" --json -d 1e9
refuse "-i inf" "-i takes 0.05 to 86400 seconds" "${P[@]}" --json-state -i inf
refuse "-i nan" "-i takes 0.05 to 86400 seconds" "${P[@]}" --json-state -i nan
refuse "--snapshot-interval 1e20" "--snapshot-interval takes 0.01 to 3600 seconds" \
	"${P[@]}" --json --snapshot-interval 1e20
refuse "--snapshot-interval nan" "--snapshot-interval takes 0.01 to 3600 seconds" \
	"${P[@]}" --json --snapshot-interval nan
refuse "--rate inf" "--rate takes 0.05 to 20" demo --scenario classroom --rate inf
accept "accepted: --summary -i -n" "${P[@]}" --summary -i 0.2 -n 1
accept "accepted: --json -d -w --force" "${P[@]}" --json -d 0.3 -w "$OUT/pos.etr" --force
accept "accepted: replay --json-state -i -n" replay "$R" --json-state -i 0.5 -n 1
accept "accepted: probes --json --attach" probes --json --attach=tracepoint
accept "accepted: demo --list" demo --list
accept "accepted: demo --json-state -i -n (the classroom, traced)" demo --json-state -i 0.3 -n 2 \
	--attach=tracepoint
exit 0
