#!/usr/bin/env python3
"""Compare an epolltrace JSON Lines stream with the workload's ground truth
and with /proc/PID/fdinfo captured at the end.

usage: check_trace.py TRUTH.jsonl TRACE.jsonl FDINFO.txt MODE

Prints one line per failed check and exits 1 if any failed, 0 otherwise.
The checks are exact (multiset equality), never timing-based.
"""
import collections
import os
import sys

from checklib import load_fdinfo, load_jsonl

WAIT_MAX_EVENTS = 16  # ET_WAIT_MAX_EVENTS


def multiset_diff(name, want, got, fails, limit=5):
    want_c, got_c = collections.Counter(want), collections.Counter(got)
    missing = want_c - got_c
    extra = got_c - want_c
    for k, n in list(missing.items())[:limit]:
        fails.append(f"{name}: missing from trace ({n}x): {k}")
    for k, n in list(extra.items())[:limit]:
        fails.append(f"{name}: not in ground truth ({n}x): {k}")
    return not missing and not extra


EPOLLERR_HUP = 0x8 | 0x10
# errors do_epoll_wait returns before it calls ep_poll
WAIT_EARLY_ERRNO = {9, 14, 22}  # EBADF, EFAULT, EINVAL


def check_inline(truth, ours, fails):
    """--attach=inline: the named functions at their inlined sites."""
    for e in ours:
        if e["type"] in ("ep_insert", "ep_poll", "ep_send_events") and e["src"] != "inline":
            fails.append(f"{e['type']} with src {e['src']}, not inline")
            break
    # ep_insert: once per successful ADD, with its fd and mask; do_epoll_ctl
    # adds EPOLLERR|EPOLLHUP to the mask before calling it
    multiset_diff("ep_insert",
                  [(t["epfd"], t["fd"], t["events"] | EPOLLERR_HUP, t["data"])
                   for t in truth if t["t"] == "ctl" and t["op"] == "ADD" and t["ret"] == 0],
                  [(e["epfd"], e["fd"], e["events"], e["data"])
                   for e in ours if e["type"] == "ep_insert"],
                  fails)
    # ep_poll: once per wait that got past do_epoll_wait's checks, the ones
    # still asleep at the end included
    want = collections.Counter(
        t["tid"] for t in truth
        if t["t"] == "wait" and (t["ret"] >= 0 or t["errno"] not in WAIT_EARLY_ERRNO))
    for t in truth:
        if t["t"] == "expect_waiters":
            want.update(t["tids"])
    got = collections.Counter(e["tid"] for e in ours if e["type"] == "ep_poll")
    if want != got:
        fails.append(f"ep_poll per thread {dict(got)} != waits that entered ep_poll "
                     f"{dict(want)}")
    enters = {}
    for e in ours:
        if e["type"] == "wait_enter":
            enters.setdefault(e["tid"], set()).add((e["ep"], e["maxevents"]))
    for e in ours:
        if e["type"] in ("ep_poll", "ep_send_events") and \
                (e["ep"], e["maxevents"]) not in enters.get(e["tid"], set()):
            fails.append(f"{e['type']}: (ep, maxevents) of no wait of thread {e['tid']}: {e}")
            break
    # ep_send_events: at least once inside each wait that returned events,
    # and each run ends in ep_done_scan (a scan record; ep_done_scan also
    # runs when a nested instance is polled, hence <=), except the one a
    # dying thread makes: it returns at once on a fatal signal, no scan
    cur = {}
    for e in ours:
        if e["type"] == "wait_enter":
            cur[e["tid"]] = 0
        elif e["type"] == "ep_send_events" and e["tid"] in cur:
            cur[e["tid"]] += 1
        elif e["type"] == "wait_exit" and e["tid"] in cur:
            if e["ret"] > 0 and cur[e["tid"]] == 0:
                fails.append(f"wait of thread {e['tid']} returned {e['ret']} events "
                             "without ep_send_events")
            del cur[e["tid"]]
    sends = collections.Counter((e["tid"], e["ep"]) for e in ours if e["type"] == "ep_send_events")
    scans = collections.Counter((e["tid"], e["ep"]) for e in ours if e["type"] == "scan")
    died = {e["tid"] for e in ours if e["type"] == "task_exit"}
    for k, n in sends.items():
        if n > scans[k] + (k[0] in died):
            fails.append(f"thread {k[0]} ep {k[1]}: {n} ep_send_events, only {scans[k]} "
                         "ep_done_scan")
    if not sends and any(t["t"] == "wait" and t["ret"] > 0 for t in truth):
        fails.append("no ep_send_events though waits returned events")


def load_progtypes(trace_path):
    """{prog_type: count} from progtypes.txt beside the trace, None if absent."""
    path = os.path.join(os.path.dirname(trace_path), "progtypes.txt")
    if not os.path.exists(path):
        return None
    types = {}
    for line in open(path):
        f = line.split()
        if len(f) == 3 and f[1] == "prog_type:":
            types[int(f[2])] = int(f[0])
    return types


def main():
    if len(sys.argv) != 5:
        raise SystemExit(__doc__)
    truth = load_jsonl(sys.argv[1])
    trace = load_jsonl(sys.argv[2])
    fdinfo = load_fdinfo(sys.argv[3])
    mode = sys.argv[4]
    fails = []

    pid = None
    for t in truth:
        if t.get("t") == "scenario":
            pid = t["pid"]
            break
    if pid is None:
        raise SystemExit("truth has no scenario line")

    # the tracer runs from the "ready" gate to the "done" gate: compare the
    # operations in between (the ones before are seen through the seed
    # snapshot, checked below)
    window, inside = [], False
    for t in truth:
        if t["t"] == "ready":
            inside = True
        elif t["t"] == "done":
            break
        elif inside:
            window.append(t)
    full_truth, truth = truth, window

    # the first record says which attach plan is in force, and only the first
    if not trace or trace[0]["type"] != "session":
        fails.append("the stream does not start with a session record")
    elif trace[0]["callbacks_visible"] != (mode != "tracepoint"):
        fails.append(f"mode {mode}: session says callbacks_visible "
                     f"{trace[0]['callbacks_visible']}")
    if any(e["type"] == "session" for e in trace[1:]):
        fails.append("a session record after the first line")
    trace_all = trace
    # a finding is derived from the records (docs/json.md), not one of them
    trace = [e for e in trace if e["type"] not in ("session", "finding")]
    for e in trace:
        for k in ("type", "ts_ns", "pid", "tid"):
            if k not in e:
                fails.append(f"record without '{k}': {e}")
                break
    ours = [e for e in trace if e.get("owner", e.get("pid")) == pid]

    # every instance created
    multiset_diff("ep_create",
                  [(t["epfd"], t["syscall"]) for t in truth if t["t"] == "create"],
                  [(e["epfd"], e["syscall"]) for e in ours if e["type"] == "ep_create"],
                  fails)

    # every epoll_ctl, with its arguments and result
    def ctl_key(op, epfd, fd, events, data, ret):
        if op == "DEL":
            events, data = 0, 0
        return (op, epfd, fd, events, data, ret)

    multiset_diff("ctl",
                  [ctl_key(t["op"], t["epfd"], t["fd"], t["events"], t["data"],
                           t["ret"] if t["ret"] == 0 else -t["errno"])
                   for t in truth if t["t"] == "ctl"],
                  [ctl_key(e["op"], e["epfd"], e["fd"], e["events"], e["data"], e["ret"])
                   for e in ours if e["type"] == "ctl"],
                  fails)

    # implicit removals: exactly the ones the kernel must do (a dup keeps
    # the file alive, so closing one of two fds removes nothing)
    multiset_diff("release",
                  [(r["epfd"], r["fd"]) for t in truth if t["t"] == "close"
                   for r in t.get("removes", [])],
                  [(e["epfd"], e["fd"]) for e in ours if e["type"] == "release"],
                  fails)

    # instances closed
    multiset_diff("ep_close",
                  [t["epfd"] for t in truth if t["t"] == "epclose"],
                  [e["epfd"] for e in ours if e["type"] == "ep_close"],
                  fails)

    # every wait: who, on what, what it got back
    def wait_key(tid, epfd, ret, evs):
        evs = tuple((x["events"], x["data"]) for x in evs[:WAIT_MAX_EVENTS])
        return (tid, epfd, ret, evs)

    multiset_diff("wait",
                  [wait_key(t["tid"], t["epfd"], t["ret"] if t["ret"] >= 0 else -t["errno"],
                            t.get("events", []))
                   for t in truth if t["t"] == "wait"],
                  [wait_key(e["tid"], e["epfd"], e["ret"], e["events"])
                   for e in ours if e["type"] == "wait_exit"],
                  fails)
    enters = sum(1 for e in ours if e["type"] == "wait_enter")
    exits = sum(1 for e in ours if e["type"] == "wait_exit")
    # threads left asleep at the end (sleepers) have entered and not left
    still = sum(len(t["tids"]) for t in truth if t["t"] == "expect_waiters")
    if enters - exits != still:
        fails.append(f"wait_enter ({enters}) - wait_exit ({exits}) != {still} still waiting")

    # threads that exited while waiting
    exited = {e["tid"] for e in trace if e["type"] == "task_exit" and e["pid"] == pid}
    for t in truth:
        if t["t"] == "thread_exit" and t["tid"] not in exited:
            fails.append(f"thread {t['tid']} exited but no task_exit event")

    # callbacks: visible only where ep_poll_callback is attachable
    cbs = [e for e in ours if e["type"] == "callback"]
    # every scenario but sleepers (whose wakeups come after the trace) makes
    # fds ready while traced
    scenario = next(t["name"] for t in full_truth if t["t"] == "scenario")
    if mode in ("fentry", "kprobe", "auto-vm", "inline") and not cbs and scenario != "sleepers":
        fails.append(f"mode {mode}: no ep_poll_callback events")
    if mode == "tracepoint" and cbs:
        fails.append("tracepoint mode produced callback events")
    for e in cbs:
        if not e.get("comm") or "key" not in e:
            fails.append(f"callback without waker comm/key: {e}")
            break

    # snapshots: the last one of each instance against fdinfo and truth
    snaps = [e for e in trace if e["type"] == "snapshot" and e["owner"] == pid]
    if not snaps:
        fails.append("no snapshots")
    last = {}
    for s in snaps:
        last[s["epfd"]] = s
        if s["watched"] != len(s["fds"]) and not s["truncated"]:
            fails.append(f"snapshot epfd {s['epfd']}: watched {s['watched']} "
                         f"!= {len(s['fds'])} fds listed")
    # the first round seeds the instance that existed before tracing began
    first_seq = min(s["seq"] for s in snaps) if snaps else None
    ready_epfd = None
    for t in full_truth:
        if t["t"] == "ready":
            break
        if t["t"] == "create":
            ready_epfd = t["epfd"]
    if ready_epfd is not None and not any(s["seq"] == first_seq and s["epfd"] == ready_epfd
                                         for s in snaps):
        fails.append(f"pre-existing instance epfd {ready_epfd} not in the first snapshot")

    for epfd, tfds in fdinfo.items():
        s = last.get(epfd)
        if s is None:
            fails.append(f"epfd {epfd} open at the end but never in a snapshot")
            continue
        got = sorted(x["fd"] for x in s["fds"])
        if got != tfds:
            fails.append(f"epfd {epfd}: final snapshot fds {got} != fdinfo {tfds}")
        if s["watched"] != len(tfds):
            fails.append(f"epfd {epfd}: watched {s['watched']} != fdinfo count {len(tfds)}")

    # the workload's own expectations at the end
    expect = {}
    for t in full_truth:
        if t["t"] == "expect":
            expect[t["epfd"]] = sorted(t["fds"])
        elif t["t"] == "epclose":
            expect.pop(t["epfd"], None)
        elif t["t"] == "done":
            break
    for epfd, fds in expect.items():
        if fdinfo.get(epfd) != fds:
            fails.append(f"epfd {epfd}: workload expected {fds}, fdinfo says {fdinfo.get(epfd)}")

    # the counters kept in BPF maps agree with the stream (nothing was lost)
    stats = [e for e in trace if e["type"] == "stats"]
    if not stats:
        fails.append("no stats record")
    else:
        c = stats[-1]["counters"]
        want = {
            "ctl": sum(1 for e in trace if e["type"] == "ctl"),
            "wait_exit": sum(1 for e in trace if e["type"] == "wait_exit"),
            "wait_enter": sum(1 for e in trace if e["type"] == "wait_enter"),
            "events": sum(e["ret"] for e in trace if e["type"] == "wait_exit" and e["ret"] > 0),
            "releases": sum(1 for e in trace if e["type"] == "release"),
            "callbacks": sum(1 for e in trace if e["type"] == "callback"),
            "sleeps": sum(1 for e in trace if e["type"] == "sleep"),
            "wakeups": sum(1 for e in trace if e["type"] == "wakeup"),
        }
        # what the plan cannot see is null, never 0
        if mode == "tracepoint":
            if c["callbacks"] is not None:
                fails.append(f"tracepoint mode: counter callbacks = {c['callbacks']}, not null")
            del want["callbacks"]
        for k, v in want.items():
            if c[k] != v:
                fails.append(f"counter {k} = {c[k]}, the stream has {v}")

    # the ready lists the kernel must hold at the end (walked by the iterator)
    for t in full_truth:
        if t["t"] == "done":
            break
        if t["t"] != "expect_ready":
            continue
        s = last.get(t["epfd"])
        if s is None or sorted(s["ready"]) != sorted(t["fds"]):
            fails.append(f"epfd {t['epfd']}: final snapshot ready "
                         f"{s and s['ready']} != expected {t['fds']}")
    # at rest, the wait queues hold exactly the threads left asleep
    want_waiters = {t["epfd"]: sorted(t["tids"]) for t in truth if t["t"] == "expect_waiters"}
    for epfd, s in last.items():
        if epfd in fdinfo and sorted(s["waiters"]) != want_waiters.get(epfd, []):
            fails.append(f"epfd {epfd}: waiters {s['waiters']} at rest, "
                         f"expected {want_waiters.get(epfd, [])}")

    # threads: every waiter fell asleep and was woken by the main thread,
    # whose write ran ep_poll_callback and woke it
    scen = next(t["name"] for t in full_truth if t["t"] == "scenario")
    if scen == "threads":
        main_tid = next(t["tid"] for t in full_truth if t["t"] == "scenario")
        for t in truth:
            if t["t"] != "thread":
                continue
            tid = t["tid"]
            if not any(e["type"] == "sleep" and e["tid"] == tid for e in ours):
                fails.append(f"thread {tid}: no sleep event")
            wk = [e for e in ours if e["type"] == "wakeup" and e["tid"] == tid]
            if not any(e["waker_tid"] == main_tid for e in wk):
                fails.append(f"thread {tid}: not woken by the main thread {main_tid}: {wk}")

    # ovflist: scenario.sh let the held wait go once a snapshot showed the
    # scan; the item made ready meanwhile is on ovflist, rdllist is empty
    if scen == "ovflist":
        waiter = next(t["waiter"] for t in truth if t["t"] == "uffd_fault")
        after = [t for t in truth if t["t"] == "wait" and t["tid"] == waiter][1]
        ep_fd, b_fd = after["events"][0]["data"] >> 32, after["events"][0]["data"] & 0xFFFFFFFF
        if not any(s["epfd"] == ep_fd and s["scanning"] and s["ready"] == [b_fd] for s in snaps):
            fails.append(f"ovflist: no snapshot of epfd {ep_fd} scanning with fd {b_fd} on ovflist")
        # blocked in the fault, not asleep on ep->wq: no sleep of the wait
        if any(e["type"] == "sleep" and e["tid"] == waiter for e in ours):
            fails.append(f"ovflist: thread {waiter} blocked in its copy-out, taken as a sleep")

    # where ep_done_scan is attachable, the scan's re-queued count is known
    if mode in ("fentry", "kprobe", "auto-vm", "inline"):
        if not any(e["type"] == "send_events" and e["requeued"] is not None for e in ours):
            fails.append(f"mode {mode}: send_events never carries requeued")
        added = {(t["epfd"], t["fd"]) for t in full_truth if t["t"] == "ctl" and t["op"] == "ADD"}
        for e in cbs:
            if (e["epfd"], e["fd"]) not in added:
                fails.append(f"callback for an item never added: {e}")
                break

    if mode == "inline":
        check_inline(truth, ours, fails)
    else:
        for e in ours:
            if e["type"] in ("ep_insert", "ep_poll", "ep_send_events"):
                fails.append(f"mode {mode}: an inline record: {e}")
                break

    # sharer: the child that holds the instance without being a target is
    # found (one sharer record, its pid, the instance), before the run
    for t in full_truth:
        if t["t"] != "sharer":
            continue
        sh = [e for e in trace if e["type"] == "sharer"]
        if [(e["pid"], e["owner"], e["epfd"]) for e in sh] != [(t["pid"], pid, t["epfd"])]:
            fails.append(f"sharer {t['pid']} of epfd {t['epfd']}: sharer records {sh}")
        first = min((e["ts_ns"] for e in ours if e["tid"] == t["pid"] and
                     e["type"] in ("ctl", "wait_enter")), default=None)
        if sh and first is not None and sh[0]["ts_ns"] > first:
            fails.append("the sharer's activity came before the record that found it")
        if not any(e["type"] == "ctl" and e["tid"] == t["pid"] for e in ours):
            fails.append(f"no ctl of the sharer {t['pid']}")

    # no syscall tracepoint outside tracepoint mode: each one enabled puts
    # every task of the machine on the syscall slow path.  The plan says
    # so, and the kernel too: the tracer holds no program of type
    # tracepoint (5) or raw tracepoint (17) (tp_btf and fentry are 26)
    hooks = trace_all[0].get("hooks", []) if trace_all and trace_all[0]["type"] == "session" \
        else []
    using = {h["hook"]: h["using"] for h in hooks}
    types = load_progtypes(sys.argv[2])
    if mode == "tracepoint":
        if types is not None and 5 not in types:
            fails.append(f"tracepoint mode, but no tracepoint program held: {types}")
    else:
        tps = [h for h, u in using.items() if u == "tracepoint"]
        if tps:
            fails.append(f"mode {mode}: hooks on syscall tracepoints: {tps}")
        if types is None:
            fails.append("no progtypes.txt (the programs the tracer held)")
        elif 5 in types or 17 in types:
            fails.append(f"mode {mode}: the tracer holds tracepoint programs: {types}")

    lost = sum(e["count"] for e in trace if e["type"] == "lost")
    if lost:
        fails.append(f"{lost} records lost")

    for f in fails:
        print("  " + f)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
