#!/usr/bin/env python3
"""Check a --json-state stream of `epolltrace demo --scenario classroom`.

usage: check_classroom.py STATE.jsonl WORKLOAD_RC_FILE

Prints one PASS/FAIL (or SKIP) line per property and exits 1 if any
failed.  Every property is "at some refresh" or "from the first refresh
to the last": nothing depends on when exactly a refresh happened.
"""
import json
import os
import sys
import time

EPOLLONESHOT = 1 << 30
EPOLLET = 1 << 31

results = []


def check(name, ok, why=""):
    results.append(ok)
    print(("PASS " if ok else "FAIL ") + name + ("" if ok or not why else f": {why}"))


def skip(name, why):
    print(f"SKIP {name}: {why}")


def kinds(inst):
    k = {}
    for f in inst["fds"]:
        k[f["kind"]] = k.get(f["kind"], 0) + 1
    return k


def main():
    states = []
    with open(sys.argv[1]) as f:
        for line in f:
            line = line.strip()
            if line:
                states.append(json.loads(line))
    states = [s for s in states if s.get("type") == "state"]
    live = [s for s in states if not s["final"]]
    try:
        with open(sys.argv[2]) as f:
            rc = f.read().strip()
    except OSError:
        rc = "(none: the workload did not finish)"

    check("the workload exits 0 when its duration ends", rc == "0", f"exit status {rc}")
    check("the state stream has refreshes and a final state",
          len(live) >= 4 and len(states) - len(live) == 1,
          f"{len(live)} refreshes, {len(states) - len(live)} final")
    if not live:
        return 1

    def server(s):
        return [i for i in s["instances"]
                if not i["closed"] and kinds(i).get("tcp-listen")]

    def child(s):
        return [i for i in s["instances"] if not i["closed"] and kinds(i).get("pipe")]

    both = [s for s in live if server(s) and child(s)
            and server(s)[0]["pid"] != child(s)[0]["pid"]]
    check("two processes with an instance each (server and pipeline)", bool(both),
          "never both at one refresh; pids seen: "
          + str(sorted({i["pid"] for s in live for i in s["instances"]})))
    pids = sorted({i["pid"] for s in live for i in s["instances"]})

    srv = [server(s)[0] for s in live if server(s)]
    ch = [child(s)[0] for s in live if child(s)]
    conns = max((kinds(i).get("tcp", 0) for i in srv), default=0)
    check("the server instance watches a listening socket and >= 2 connections",
          conns >= 2, f"at most {conns} connections")

    et = any(f["kind"] == "eventfd" and f["events"] & EPOLLET for i in srv for f in i["fds"])
    os_ = any(f["kind"] == "timerfd" and f["events"] & EPOLLONESHOT
              for i in srv for f in i["fds"])
    check("the server holds an EPOLLET eventfd and an EPOLLONESHOT timerfd", et and os_,
          f"EPOLLET eventfd {et}, EPOLLONESHOT timerfd {os_}")

    # connections come and go: an accepted socket's item (fd, added_ns)
    # that was watched at one refresh and gone at a later one
    gone = 0
    prev = set()
    for i in srv:
        cur = {(f["fd"], f["added_ns"]) for f in i["fds"] if f["kind"] == "tcp"}
        gone += len(prev - cur)
        prev = cur
    check("connections leave the interest set (the clients hang up now and then)",
          gone >= 1, "no connection item ever disappeared")

    asleep = max((sum(w["asleep"] for w in i["waiters"]) for s in live
                  for i in s["instances"]), default=0)
    check(">= 2 waiters asleep on one instance at some refresh", asleep >= 2,
          f"at most {asleep}")
    comms = {w["comm"] for s in live for i in s["instances"] for w in i["waiters"]}
    want = {"worker-1", "worker-2", "worker-3", "consumer"}
    check("the waiters are the named threads " + ", ".join(sorted(want)),
          want <= comms, f"seen {sorted(comms)}")

    ready = sum(1 for i in srv if i["ready"])
    check(f"the server's ready list non-empty at some refresh ({ready} of {len(srv)})",
          ready >= 1, "always empty")
    cready = sum(1 for i in ch if i["ready"])
    print(f"INFO the pipeline's ready list non-empty at {cready} of {len(ch)} refreshes")

    for name, insts in (("server", srv), ("pipeline", ch)):
        if len(insts) < 2:
            check(f"{name} counters grow", False, "seen at fewer than 2 refreshes")
            continue
        a, b = insts[0]["counters"], insts[-1]["counters"]
        grow = [k for k in ("events", "waits", "wakeups") if b[k] <= a[k]]
        check(f"{name} counters grow (events {a['events']}->{b['events']}, "
              f"wakeups {a['wakeups']}->{b['wakeups']})", not grow,
              "not growing: " + ", ".join(grow))
        if live[0]["ready_sampled"]:
            skip(f"{name} callbacks grow",
                 f"ep_poll_callback is not attachable in {live[0]['attach']} mode here "
                 f"(the ready list is sampled)")
        else:
            check(f"{name} callbacks grow ({a['callbacks']}->{b['callbacks']})",
                  b["callbacks"] > a["callbacks"])

    # the model never had to be corrected: a multi-threaded workload with
    # one-shot, edge-triggered and level-triggered items, sampled every 0.1 s
    drifted = {(i["pid"], i["epfd"]): (i["drift"], i["drift_last"])
               for s in states for i in s["instances"] if i["drift"]}
    check("the model needed no correction (drift 0 on every instance)", not drifted,
          f"drift: {drifted}")

    # nothing left behind: the processes whose instances we saw are gone
    deadline = time.time() + 3
    left = pids
    while left and time.time() < deadline:
        left = [p for p in pids if os.path.exists(f"/proc/{p}")]
        if left:
            time.sleep(0.1)
    check(f"no process left behind (pids {pids})", not left, f"still there: {left}")
    if left:
        print(" ".join(str(p) for p in left), file=sys.stderr)
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
