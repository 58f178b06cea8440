#!/bin/bash
# The latency anatomy (cli/model/anatomy.c) against a workload that knows
# its own counts (tests/anatomy_load.c): traced from its first instruction
# with --json-state and recorded (-w), then replayed as --json-state,
# --summary and in the TUI.  Counts must equal the workload's; values are
# held only to bounds that are logically certain (a residency ends before
# the wait that delivered it returned; a sleep lies inside its wait), never
# to timings.  Fidelities must be those of the session's plan.
# Prints one line per check: "PASS name" or "FAIL name :: detail".
#
# usage: anatomy.sh EPOLLTRACE OUTDIR   (ANAT_MODE: --attach mode, default auto)
set -u
ET=$(readlink -f "$1") OUT=$2
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MODE=${ANAT_MODE:-auto}
rm -rf "$OUT"
mkdir -p "$OUT"
OUT=$(readlink -f "$OUT")
SOCK=epolltrace-anatomy-$$
T() { tmux -L "$SOCK" "$@"; }
trap 'T kill-server 2>/dev/null' EXIT

pass() { echo "PASS anatomy: $1"; }
fail() { echo "FAIL anatomy: $1 :: $(echo "$2" | tr '\n' ' ' | cut -c1-400)"; }

# R W C F A_MS B_MS HOLD_MS: see anatomy_load.c
ARGS="4 20 10 10 300 5 2500"
if ! gcc -std=gnu11 -O2 -Wall -Wextra -Werror -pthread "$ROOT/tests/anatomy_load.c" \
	-o "$OUT/anatomy_load" 2>"$OUT/build.err"; then
	fail "the workload builds" "$(cat "$OUT/build.err")"
	exit 0
fi

timeout -k 5 60 "$ET" --json-state -i 0.2 --attach="$MODE" --snapshot-interval 0.1 -w "$OUT/rec.etr" -- \
	"$OUT/anatomy_load" "$OUT/truth.json" $ARGS >"$OUT/state.jsonl" 2>"$OUT/trace.err"
rc=$?
if [ $rc != 0 ] || [ ! -s "$OUT/truth.json" ]; then
	fail "the workload ran traced, as its phases say" "rc $rc $(tail -n 3 "$OUT/trace.err")"
	exit 0
fi
pass "the workload ran traced, as its phases say ($(cat "$OUT/truth.json" | cut -c1-120)...)"
"$ET" info "$OUT/rec.etr" >"$OUT/info.txt" 2>"$OUT/info.err"

# ---- the live session's final state against the truth ---------------------
check() {	# STATE.jsonl LABEL
	python3 - "$1" "$OUT/truth.json" "$OUT/info.txt" "$2" <<'PY'
import json, sys
sys.path.insert(0, sys.argv[0].rsplit("/", 1)[0])
states = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
t = json.load(open(sys.argv[2]))
label = sys.argv[4]
# the plan in force, from the recording's header: hook -> rung used ("-": none)
using = {}
for l in open(sys.argv[3]):
    f = l.split()
    if len(f) >= 3 and f[0] in ("callback", "sleep", "ep_send_events"):
        using[f[0]] = f[1]

def out(ok, name, detail=""):
    print(f"{'PASS' if ok else 'FAIL'} anatomy: {label}: {name}" + ("" if ok else f" :: {detail}"))

final = [s for s in states if s.get("final")]
inst = [i for s in final[-1:] for i in s["instances"]
        if i["pid"] == t["pid"] and i["epfd"] == t["epfd"]]
if not inst:
    out(False, "the workload's instance in the final state", f"{len(final)} final states")
    sys.exit(0)
a = inst[0].get("anatomy")
if not isinstance(a, dict):
    out(False, "an anatomy object per instance", repr(a)[:200])
    sys.exit(0)
H = ("residency_ns", "wake_to_return_ns", "asleep_ns", "events_per_wakeup", "events_per_wait",
     "transfer_ns")
cb = using.get("callback", "-") != "-"
sl = using.get("sleep", "-") != "-"
xf = using.get("ep_send_events", "-") != "-"
want = {"residency_ns": "exact" if cb else "sampled",
        "wake_to_return_ns": "derived" if sl else "none", "asleep_ns": "derived" if sl else "none",
        "events_per_wakeup": "derived" if sl else "none", "events_per_wait": "exact",
        "transfer_ns": "exact" if xf else "none"}
got = {k: (a.get(k) or {}).get("fidelity") for k in H}
out(got == want, f"fidelity by the plan (callback {using.get('callback')}, sleep "
    f"{using.get('sleep')}, ep_send_events {using.get('ep_send_events')})", f"{got} != {want}")

# every histogram: buckets sum to count; p50 <= p99 <= max; nulls where unseen
bad = []
for k in H:
    h = a[k]
    if h["fidelity"] == "none":
        if any(h[x] is not None for x in ("count", "sum", "p50", "p99", "max", "log2")):
            bad.append(f"{k}: unseen but not null")
        continue
    if sum(h["log2"]) != h["count"]:
        bad.append(f"{k}: buckets {sum(h['log2'])} != count {h['count']}")
    if h["count"] and not (h["p50"] <= h["p99"] <= h["max"]):
        bad.append(f"{k}: p50 {h['p50']} p99 {h['p99']} max {h['max']}")
    if h["count"] and not (h["max"] >= 2 ** (len(h["log2"]) - 2) if len(h["log2"]) > 1 else True):
        bad.append(f"{k}: max {h['max']} below its top bucket")
    if not h["count"] and any(h[x] is not None for x in ("p50", "p99", "max")):
        bad.append(f"{k}: empty but quantiles")
out(not bad, "buckets sum to the count, p50 <= p99 <= max, null where the plan cannot see",
    "; ".join(bad))

ew = a["events_per_wait"]
ret = t["ret"]
# bucket 0: 0 events, 1: 1, 2: 2..3, 3: 4..7
buckets = [ret[0], ret[1], ret[2] + ret[3], ret[4]]
out(ew["count"] == t["waits"] and ew["sum"] == t["events"] and
    ew["log2"] + [0] * (4 - len(ew["log2"])) == buckets and a["waits"] == t["waits"],
    f"events per wait: {t['waits']} waits, {t['events']} events, buckets {buckets}",
    f"count {ew['count']} sum {ew['sum']} log2 {ew['log2']} waits {a['waits']}")
out(a["full"] == t["F"] and a["maxevents_known"] == t["waits"] and
    abs(a["full_pct"] - round(100.0 * t["F"] / t["waits"], 1)) < 0.051,
    f"maxevents fill: {t['F']} of {t['waits']} waits returned exactly {t['maxevents']}",
    f"full {a['full']} known {a['maxevents_known']} pct {a['full_pct']}")
out(a["timeouts"] == t["C"] and a["timed"] == t["C"],
    f"timeouts: {t['C']} timed waits, every one expired",
    f"timed {a['timed']} expired {a['timeouts']}")

if sl:
    asl, evk, wk = a["asleep_ns"], a["events_per_wakeup"], a["wake_to_return_ns"]
    wakeups = inst[0]["counters"]["wakeups"]
    ok = (evk["count"] == asl["count"] <= t["waits"] and
          (evk["log2"][0] if evk["log2"] else 0) <= t["C"] and
          wk["count"] <= asl["count"] and wk["count"] + a["resleeps"] <= wakeups and
          (not asl["count"] or asl["max"] <= t["wait_max_ns"]) and
          (not wk["count"] or wk["max"] <= t["wait_max_ns"]))
    out(ok, "sleeps and wakeups: one figure per wait that slept, each inside its wait "
        f"(asleep {asl['count']}, woken to return {wk['count']}, resleeps {a['resleeps']}, "
        f"wakeups {wakeups})",
        f"asleep {asl['count']}/{asl['max']} ev/wakeup {evk['count']} {evk['log2'][:1]} "
        f"wake {wk['count']}/{wk['max']} resleeps {a['resleeps']} wakeups {wakeups} "
        f"wait_max {t['wait_max_ns']}")

r = a["residency_ns"]
ok = r["count"] <= t["events"] and (not r["count"] or r["max"] <= t["res_bound_ns"])
detail = f"count {r['count']} max {r['max']} bound {t['res_bound_ns']}"
if r["fidelity"] == "exact":
    # phase A's items sat ready for SLEEP_MS before their wait: that many at least
    # in the buckets at or above the sleep's
    b = t["sleep_ns"].bit_length()
    ok = ok and r["count"] >= t["R"] and sum(r["log2"][b:]) >= t["R"]
    detail += f" above the sleep {sum(r['log2'][b:])} of {t['R']}"
out(ok, f"residency ({r['fidelity']}): at most one per event delivered, each ended before "
    f"its wait returned ({r['count']} of {t['events']})", detail)
if a["transfer_ns"]["fidelity"] == "exact":
    out(a["transfer_ns"]["count"] > 0 and a["transfer_ns"]["max"] <= t["wait_max_ns"],
        "transfers: inside their waits", json.dumps(a["transfer_ns"])[:200])
PY
}
check "$OUT/state.jsonl" live

# ---- replay: the same states, the anatomy included --------------------------
if "$ET" replay "$OUT/rec.etr" --json-state -i 0.2 >"$OUT/replay.jsonl" 2>"$OUT/replay.err" &&
	[ ! -s "$OUT/replay.err" ] &&
	python3 "$ROOT/tests/check_replay.py" "$OUT/state.jsonl" "$OUT/replay.jsonl" \
		>"$OUT/check-replay.txt" 2>&1 &&
	grep -q '"anatomy":{"residency_ns":{"fidelity"' "$OUT/replay.jsonl"; then
	pass "replay --json-state: every state equal to live's, anatomy included ($(cat "$OUT/check-replay.txt"))"
else
	fail "replay --json-state equals live" "$(cat "$OUT/replay.err" "$OUT/check-replay.txt" 2>/dev/null | head -n 5)"
fi
check "$OUT/replay.jsonl" replay

# ---- --summary: the four columns, from the same model ---------------------
"$ET" replay "$OUT/rec.etr" --summary -i 0.2 >"$OUT/summary.txt" 2>"$OUT/summary.err"
if python3 - "$OUT/summary.txt" "$OUT/replay.jsonl" "$OUT/truth.json" >"$OUT/summary.check" 2>&1 <<'PY'
import json, sys
sys.excepthook = lambda t, e, tb: (print(f"{t.__name__}: {e}"), sys.exit(1))
tables = [x for x in open(sys.argv[1]).read().split("\n\n") if x.strip()]
t = json.load(open(sys.argv[3]))
last = tables[-1].splitlines()
head = last[1].split()
assert head[11:15] == ["RES99", "WAKE99", "EV/WK", "FULL%"], head
row = [l.split() for l in last[2:] if l.split()[:1] == [str(t["pid"])] and l.split()[2] == str(t["epfd"])]
assert row, "no row for the workload"
row = row[0]
st = [json.loads(l) for l in open(sys.argv[2]) if l.strip()][-1]
a = [i for i in st["instances"] if i["pid"] == t["pid"] and i["epfd"] == t["epfd"]][0]["anatomy"]
assert row[14] == "%.1f" % (100.0 * t["F"] / t["waits"]), ("FULL%", row[14])
evk = a["events_per_wakeup"]
want = "%.1f" % (evk["sum"] / evk["count"]) if evk["count"] else "-"
assert row[13] == want, ("EV/WK", row[13], want)
assert (row[11] == "-") == (not a["residency_ns"]["count"]), ("RES99", row[11])
assert (row[12] == "-") == (not a["wake_to_return_ns"]["count"]), ("WAKE99", row[12])
print(f"RES99 {row[11]} WAKE99 {row[12]} EV/WK {row[13]} FULL% {row[14]}")
PY
then
	pass "--summary: RES99 WAKE99 EV/WK FULL% agree with the state and the truth ($(cat "$OUT/summary.check"))"
else
	fail "--summary columns" "$(cat "$OUT/summary.check" "$OUT/summary.err") $(tail -n 3 "$OUT/summary.txt")"
fi

# ---- the TUI: the instance's anatomy pane ('a'), at the end of the replay ------
# The instance is opened while the replay runs (a closed one cannot be);
# the pane must come to show every wait while the workload holds it open.
waits=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["waits"])' "$OUT/truth.json")
T -f /dev/null new-session -d -s cap -x 130 -y 40 "LANG=C.UTF-8 $ET replay $OUT/rec.etr"
seen=
for _ in $(seq 100); do
	T capture-pane -p -t cap 2>/dev/null | grep -q 'anatomy_load' && { seen=1; break; }
	sleep 0.1
done
T send-keys -t cap Enter
sleep 0.2
T send-keys -t cap a
for _ in $(seq 100); do
	T capture-pane -p -t cap >"$OUT/tui.txt" 2>/dev/null
	grep -Eq "^. *events per wait +$waits " "$OUT/tui.txt" && break
	grep -q "REPLAY ENDED" "$OUT/tui.txt" && break
	sleep 0.1
done
T send-keys -t cap q
if [ -n "$seen" ] && grep -q "latency anatomy" "$OUT/tui.txt" &&
	grep -Eq "^. *events per wait +$waits " "$OUT/tui.txt" &&
	grep -q "ready-list residency" "$OUT/tui.txt"; then
	pass "TUI: a shows the instance's anatomy pane ($waits waits)"
else
	fail "TUI anatomy pane" "$(grep -E "anatomy|events per|residency" "$OUT/tui.txt" | head -n 4)"
fi
exit 0
