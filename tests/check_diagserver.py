#!/usr/bin/env python3
"""The latency anatomy and the findings of a real server under load, in
every view, against the stream of records they were made from
(tests/diagserver.sh).  A server has no ground truth of its own, so each
view is held to the records: what the model counts must be what the
stream holds, view for view.

usage: check_diagserver.py LABEL DIR [--expect D,...] [--forbid D,...] [--question D,...]

DIR holds, from one session of the server (-w DIR/rec.etr):
  live.jsonl     the live --json-state
  replay.jsonl   `replay --json` of the recording (the records, the
                 session line, and the --json view's "finding" records)
  summary.txt    `replay --summary -i 0.5` (its last table is the final one)
Checks, one line each ("PASS diagserver: LABEL: name" or "FAIL ... :: why"):
- under load: the busiest instance made at least 200 waits;
- each histogram's fidelity is the one the session's plan gives it;
- every histogram is well formed (buckets sum to the count, p50 <= p99 <=
  max, nulls where nothing was measured);
- the counts and sums of waits, events per wait, time asleep, events per
  wakeup, wakeup latency and full and expired waits equal the stream's, for
  every instance;
- --summary's RES99, WAKE99, EV/WK, FULL% and FIND agree with the state;
- the --json view's latest finding per (detector, pid, epfd) is the
  state's finding, with the same count, fds and threads;
- every detector of --expect found something, none of --forbid did;
  --question D: with callbacks none of D either, without them any D is
  marked unconfirmed (the mode cannot tell it from a healthy case).
Writes DIR/main.txt: "PID EPFD WAITS FINDINGS" of the busiest instance, for
the suite's TUI checks.
"""
import re
import sys

from checklib import load_jsonl

H = ("residency_ns", "wakeup_ns", "wake_to_return_ns", "asleep_ns", "events_per_wakeup",
     "events_per_wait", "transfer_ns")


def columns(head, row):
    """a --summary row by its header: numbers end under their heading's end,
    words (COMM, FLAGS) begin under its start"""
    cols = [(m.start(), m.end(), m.group()) for m in re.finditer(r"\S+", head)]
    out = {}
    for m in re.finditer(r"\S+", row):
        for s, e, name in cols:
            if m.end() == e or m.start() == s:
                out[name] = m.group()
                break
    return out


def main(argv):
    label, d = argv[1], argv[2]
    opt = {"--expect": [], "--forbid": [], "--question": []}
    for i in range(3, len(argv) - 1, 2):
        opt[argv[i]] = [x for x in argv[i + 1].split(",") if x]
    nfail = 0

    def out(ok, name, detail=""):
        nonlocal nfail
        nfail += not ok
        print(f"{'PASS' if ok else 'FAIL'} diagserver: {label}: {name}"
              + ("" if ok else f" :: {str(detail)[:400]}"))

    states = load_jsonl(f"{d}/live.jsonl")
    final = [s for s in states if s.get("final")]
    recs = load_jsonl(f"{d}/replay.jsonl")
    if not final or not recs or recs[0].get("type") != "session":
        out(False, "a final live state and a replayed stream",
            f"{len(final)} final states, {len(recs)} records")
        return 1
    insts = final[-1]["instances"]
    if not insts:
        out(False, "the server's instances in the final state", "none")
        return 1
    main_i = max(insts, key=lambda i: i["anatomy"]["waits"])
    nw = main_i["anatomy"]["waits"]
    out(nw >= 200, f"under load: pid {main_i['pid']} epfd {main_i['epfd']} made {nw} waits",
        f"only {nw} waits")
    with open(f"{d}/main.txt", "w") as f:
        print(main_i["pid"], main_i["epfd"], nw, len(main_i["findings"]), file=f)

    # ---- fidelity by the plan in force -------------------------------------
    using = {h["hook"]: h["using"] for h in recs[0]["hooks"]}
    cb, sl = using.get("callback") is not None, using.get("sleep") is not None
    xf = using.get("ep_send_events") is not None
    want = {"residency_ns": "exact" if cb else "sampled",
            "wakeup_ns": "derived" if sl else "none",
            "wake_to_return_ns": "derived" if sl else "none",
            "asleep_ns": "derived" if sl else "none",
            "events_per_wakeup": "derived" if sl else "none", "events_per_wait": "exact",
            "transfer_ns": "exact" if xf else "none"}
    bad = [(i["epfd"], k, i["anatomy"][k]["fidelity"]) for i in insts for k in H
           if i["anatomy"][k]["fidelity"] != want[k]]
    out(not bad, f"fidelity by the plan (callback {using.get('callback')}, sleep "
        f"{using.get('sleep')}, ep_send_events {using.get('ep_send_events')})", bad)

    # ---- every histogram well formed -----------------------------------------
    bad = []
    for i in insts:
        for k in H:
            h = i["anatomy"][k]
            if h["fidelity"] == "none":
                if h["count"] is not None or h["log2"] is not None:
                    bad.append((i["epfd"], k, "values where the mode sees none"))
                continue
            if sum(h["log2"]) != h["count"]:
                bad.append((i["epfd"], k, "buckets", sum(h["log2"]), h["count"]))
            if h["count"] == 0:
                if (h["p50"], h["p99"], h["max"]) != (None, None, None):
                    bad.append((i["epfd"], k, "percentiles of nothing"))
            elif not (h["p50"] <= h["p99"] and min(h["p99"], h["max"]) <= h["max"]
                      and h["sum"] <= h["count"] * h["max"]):
                bad.append((i["epfd"], k, h["p50"], h["p99"], h["max"], h["sum"]))
    out(not bad, "every histogram well formed (buckets sum to count, p50 <= p99, sum <= "
        "count x max)", bad)

    # ---- the anatomy's counts are the stream's ---------------------------------
    key = lambda r: (r.get("owner"), r.get("epfd"), r.get("ep"))
    # an instance's wait exits, summed: no exit at all is all zeros
    NONE = dict.fromkeys(("waits", "ev", "evmax", "slept", "slept_ns", "evwk", "full",
                          "timeouts"), 0)
    exits, runs, maxev, timeo = {}, {}, {}, {}
    for r in recs:
        t = r.get("type")
        if t == "wait_enter":
            maxev[r["tid"]] = r["maxevents"]
            timeo[r["tid"]] = r["timeout_ns"]
        elif t == "wait_exit":
            e = exits.setdefault(key(r), dict(NONE))
            me, to = maxev.pop(r["tid"], 0), timeo.pop(r["tid"], None)
            if r["ret"] < 0:
                continue
            e["waits"] += 1
            e["ev"] += r["ret"]
            e["evmax"] = max(e["evmax"], r["ret"])
            if r["slept_ns"]:
                e["slept"] += 1
                e["slept_ns"] += r["slept_ns"]
                e["evwk"] += r["ret"]
            e["full"] += me > 0 and r["ret"] == me
            e["timeouts"] += me > 0 and to is not None and to > 0 and r["ret"] == 0
        elif t == "wait_run":
            w = runs.setdefault(key(r), [0, 0])
            w[0] += 1
            w[1] += r["delay_ns"]
    bad = []
    for i in insts:
        a = i["anatomy"]
        e = exits.get((i["pid"], i["epfd"], i["ep"]), NONE)
        w = runs.get((i["pid"], i["epfd"], i["ep"]), [0, 0])
        got = {"waits": a["waits"], "ev": a["events_per_wait"]["sum"],
               "evmax": a["events_per_wait"]["max"] or 0, "full": a["full"],
               "timeouts": a["timeouts"]}
        exp = {k: e[k] for k in got}
        if sl:
            got.update(slept=a["asleep_ns"]["count"], slept_ns=a["asleep_ns"]["sum"],
                       evwk=a["events_per_wakeup"]["sum"], runs=a["wakeup_ns"]["count"],
                       run_ns=a["wakeup_ns"]["sum"])
            exp.update(slept=e["slept"], slept_ns=e["slept_ns"], evwk=e["evwk"], runs=w[0],
                       run_ns=w[1])
        if got != exp or a["events_per_wait"]["count"] != a["waits"]:
            bad.append((i["epfd"], {k: (got[k], exp[k]) for k in got if got[k] != exp[k]}))
    out(not bad, f"the anatomy's counts and sums equal the stream's ({len(insts)} instances, "
        f"{sum(e['waits'] for e in exits.values())} waits, "
        f"{sum(w[0] for w in runs.values())} wakeup latencies)", bad)

    # ---- --summary, from the same model ------------------------------------------
    tables = [t for t in open(f"{d}/summary.txt").read().split("\n\n") if t.strip()]
    try:
        lines = tables[-1].splitlines()
        col = None
        pid = None
        for l in lines[2:]:
            c = columns(lines[1], l)
            pid = c.get("PID", pid)	# a process's later rows leave PID and COMM blank
            if pid == str(main_i["pid"]) and c.get("EPFD") == str(main_i["epfd"]):
                col = c
        a = main_i["anatomy"]
        evk = a["events_per_wakeup"]
        exp = {"EV/WK": "%.1f" % (evk["sum"] / evk["count"]) if evk["count"] else "-",
               "FULL%": "%.1f" % a["full_pct"] if a["full_pct"] is not None else "-",
               "FIND": str(len(main_i["findings"]))}
        got = {k: col[k] for k in exp}
        okdash = ((col["RES99"] == "-") == (not a["residency_ns"]["count"]) and
                  (col["WAKE99"] == "-") == (not a["wakeup_ns"]["count"]))
        out(got == exp and okdash, f"--summary: RES99 {col['RES99']} WAKE99 {col['WAKE99']} "
            f"EV/WK {col['EV/WK']} FULL% {col['FULL%']} FIND {col['FIND']} agree with the state",
            f"{got} != {exp}, or RES99/WAKE99 '-' against counts {a['residency_ns']['count']}, "
            f"{a['wakeup_ns']['count']}")
    except (IndexError, KeyError, TypeError) as e:
        out(False, "--summary has the busiest instance's row", f"{type(e).__name__} {e}: "
            f"{tables[-1][:300] if tables else 'empty'}")

    # ---- findings: --json's records and the state's -------------------------------
    latest = {}
    for r in recs:
        if r.get("type") == "finding":
            latest[(r["detector"], r["pid"], r["epfd"])] = r
    state = {(f["detector"], i["pid"], i["epfd"]): f for i in insts for f in i["findings"]}
    proj = lambda f: (f["count"], sorted(f["fds"]), sorted(f["tids"]))
    diff = [k for k in set(latest) | set(state)
            if k not in latest or k not in state or proj(latest[k]) != proj(state[k])]
    out(not diff, f"--json's finding records are --json-state's findings "
        f"({sorted(k[0] for k in state) or 'none'})",
        [(k, proj(latest[k]) if k in latest else None, proj(state[k]) if k in state else None)
         for k in diff])
    found = {k[0] for k in state}
    for det in opt["--expect"]:
        f = [state[k] for k in state if k[0] == det]
        out(bool(f) and all(x["evidence"] and x["hint"] and x["text"] for x in f),
            f"{det} found, with text, hint and evidence"
            + (f": {f[0]['text']}" if f else ""), f"found: {sorted(found) or 'nothing'}")
    for det in opt["--forbid"]:
        out(det not in found, f"no {det} finding (a negative)",
            [state[k]["text"] for k in state if k[0] == det])
    for det in opt["--question"]:
        f = [state[k] for k in state if k[0] == det]
        if cb:
            out(not f, f"no {det} finding, callbacks seen (a negative)", [x["text"] for x in f])
        else:
            out(all(x.get("confirmed") is False and "unconfirmed" in x["text"] for x in f),
                f"no {det} verdict: without callbacks, "
                + (f"{len(f)} finding said unconfirmed" if f else "none found"),
                [x["text"] for x in f if x.get("confirmed") is not False])
    return 1 if nfail else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
