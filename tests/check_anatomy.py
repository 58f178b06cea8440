#!/usr/bin/env python3
"""The latency anatomy of a --json-state session against the truth of
tests/anatomy_load.c: counts equal to the workload's, values held only to
bounds that are logically certain, fidelities those of the session's plan
(read from `epolltrace info` of the session's recording).  One line per
check: "PASS anatomy: LABEL: name" or "FAIL anatomy: LABEL: name :: detail".

usage: check_anatomy.py STATE.jsonl TRUTH.json INFO.txt LABEL
"""
import json, sys
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
H = ("residency_ns", "wakeup_ns", "wake_to_return_ns", "asleep_ns", "events_per_wakeup", "events_per_wait",
     "transfer_ns")
cb = using.get("callback", "-") != "-"
sl = using.get("sleep", "-") != "-"
xf = using.get("ep_send_events", "-") != "-"
want = {"residency_ns": "exact" if cb else "sampled",
        "wakeup_ns": "derived" if sl else "none",
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

if sl:
    # the wakeup latency is part of waking-to-return: one per woken wait
    # that returned (the last wakeup's), never more than the whole
    wu, wk = a["wakeup_ns"], a["wake_to_return_ns"]
    out(wu["count"] > 0 and wu["count"] == wk["count"] and wu["sum"] <= wk["sum"] and
        wu["max"] <= wk["max"],
        f"wakeup latency: one per woken wait that returned ({wu['count']}), each inside its "
        "waking-to-return", f"wakeup {wu['count']}/{wu['sum']}/{wu['max']} "
        f"wake-to-return {wk['count']}/{wk['sum']}/{wk['max']}")

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
