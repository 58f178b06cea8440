#!/usr/bin/env python3
"""Check the model's final state (--json-state) against the kernel.

usage: check_state.py STATE.jsonl FDINFO.txt TRUTH.jsonl

At the end of a gated scenario the workload is at rest: every open
instance's interest set (count and members) must equal /proc/PID/fdinfo,
exactly the threads left asleep wait (asleep), the ready lists the workload expects are there, drift is 0
and nothing is resyncing.  The inline rung's parts (ep_insert, ep_poll,
transfers, each ready item's ovflist mark) are null unless the plan
attached the inline rung (the session record of trace.jsonl, next to
STATE, says so: auto mode uses it where the kernel's debug info is
found), and there they are not.
"""
import os
import sys

from checklib import load_fdinfo, load_jsonl


def main():
    states = load_jsonl(sys.argv[1])
    fdinfo = load_fdinfo(sys.argv[2])
    truth = load_jsonl(sys.argv[3])
    pid = next(t["pid"] for t in truth if t["t"] == "scenario")
    fails = []
    finals = [s for s in states if s["type"] == "state" and s["final"]]
    if len(finals) != 1:
        fails.append(f"{len(finals)} final states")
    if not finals:
        print("  no final state")
        return 1
    st = finals[0]
    inline = st["attach"] == "inline"
    trace = os.path.join(os.path.dirname(sys.argv[1]), "trace.jsonl")
    if os.path.exists(trace):
        sess = next((r for r in load_jsonl(trace) if r["type"] == "session"), None)
        if sess is None:
            fails.append("no session record in trace.jsonl")
        else:
            inline = any(h["using"] == "inline" for h in sess["hooks"])
    insts = {i["epfd"]: i for i in st["instances"] if i["pid"] == pid and not i["closed"]}
    want_waiters = {}
    for t in truth:
        if t["t"] == "done":
            break
        if t["t"] == "expect_waiters":
            want_waiters[t["epfd"]] = sorted(t["tids"])
    for epfd, fds in fdinfo.items():
        i = insts.get(epfd)
        if not i:
            fails.append(f"epfd {epfd} missing from the model")
            continue
        got = sorted(x["fd"] for x in i["fds"])
        if got != fds or i["watched"] != len(fds):
            fails.append(f"epfd {epfd}: model watches {i['watched']} {got}, fdinfo {fds}")
        want = want_waiters.get(epfd, [])
        got = sorted(w["tid"] for w in i["waiters"])
        if got != want or not all(w["asleep"] for w in i["waiters"]):
            fails.append(f"epfd {epfd}: waiters at rest {i['waiters']}, expected {want} asleep")
        if i["drift"]:
            fails.append(f"epfd {epfd}: drift {i['drift']} (last: {i.get('drift_last')})")
        if i["resyncing"]:
            fails.append(f"epfd {epfd}: still resyncing")
        # the inline rung's parts: null where the mode has no such hook
        # (the plan in the session record), never 0
        for k in ("ep_insert", "ep_poll", "transfers"):
            if k not in i or (i[k] is None) == inline:
                fails.append(f"epfd {epfd}: {k} is {i.get(k, 'missing')} in {st['attach']} mode")
        if any("ovflist" not in r or (r["ovflist"] is None) == inline for r in i["ready"]):
            fails.append(f"epfd {epfd}: ready ovflist marks in {st['attach']} mode: {i['ready']}")
        for x in i["fds"]:
            if x["kind"] in ("?", ""):
                fails.append(f"epfd {epfd} fd {x['fd']}: kind unresolved")
                break
    for epfd in insts:
        if epfd not in fdinfo:
            fails.append(f"model has epfd {epfd}, the kernel does not")
    for t in truth:
        if t["t"] == "done":
            break
        if t["t"] == "expect_ready" and t["epfd"] in insts:
            got = sorted(r["fd"] for r in insts[t["epfd"]]["ready"])
            if got != sorted(t["fds"]):
                fails.append(f"epfd {t['epfd']}: ready {got}, expected {t['fds']}")
    # a sharer (a process holding an instance, no target) is marked on it
    for t in truth:
        if t["t"] == "sharer" and t["epfd"] in insts and \
                insts[t["epfd"]].get("sharers") != [t["pid"]]:
            fails.append(f"epfd {t['epfd']}: sharers {insts[t['epfd']].get('sharers')}, "
                         f"expected [{t['pid']}]")
    for f in fails[:10]:
        print("  " + f)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
