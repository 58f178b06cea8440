#!/usr/bin/env python3
"""What lessons 5-8 (cli/workloads/lessons_more.c) claim, held against the
ground truth of a run without a driver (`epolltrace demo --lesson NAME
--truth FILE`).

usage: check_lesson_truth.py LESSON TRUTH.jsonl
       check_lesson_truth.py --as-scenario TRUTH.jsonl OUT.jsonl
       check_lesson_truth.py --steps TRUTH.jsonl TRACE.jsonl MARKS

The first form prints one line per failed check and exits 1 if any failed.
The second writes the truth as tests/check_trace.py reads a scenario's:
a "scenario" line, the "ready" gate at the start and "done" at the end
(the tracer ran the whole lesson), and without the lesson's ready-list
claims, which hold at a step's end and not at the last snapshot: those
are for the per-step snapshots (the third form, or tests/check_lesson.py).

The third form holds a lesson run with --gate (held after each step) and
traced against the snapshots the tracer took while it was held: MARKS has
one line "STEP FIRST LAST" per step, the trace's lines (1-based) between
which the lesson was held after that step.  At every hold, for every
instance the lesson made and has not closed, a snapshot taken then must
show the interest set the lesson expects (and the events fdinfo showed),
the ready list it expects (expect_ready), and the threads it saw asleep
on it, no more.
"""
import collections
import json
import sys

from checklib import load_jsonl

EINTR, EBADF, ENOENT, EAGAIN, ELOOP = 4, 9, 2, 11, 40
EPOLLIN, EPOLLERR, EPOLLHUP = 0x1, 0x8, 0x10
EPOLLEXCLUSIVE, EPOLLONESHOT = 1 << 28, 1 << 30


def steps_of(truth):
    """step number -> the lines between its run and done (0: before, n+1: after)."""
    out = collections.defaultdict(list)
    cur = 0
    last = 0
    for t in truth:
        if t["t"] == "step":
            if t["phase"] == "run":
                cur = t["step"]
            else:
                last = cur
                cur = -1
            continue
        out[cur if cur >= 0 else last + 1000].append(t)
    return out


def check_common(name, truth, fails):
    if not truth or truth[0].get("t") != "lesson" or truth[0].get("name") != name:
        fails.append(f"the truth does not start with lesson {name}")
        return None
    n = truth[0]["steps"]
    seen = [(t["step"], t["phase"]) for t in truth if t["t"] == "step"]
    want = [(k, p) for k in range(1, n + 1) for p in ("run", "done")]
    if seen != want:
        fails.append(f"steps {seen} != {want}")
    for t in truth:
        if t["t"] == "error":
            fails.append(f"error line: {t['msg']}")
    if truth[-1]["t"] != "exit":
        fails.append("the truth does not end with exit")
    # every fd made was closed (by the lesson or by workload_end)
    open_fds = set()
    for t in truth:
        if t["t"] in ("fd", "create"):
            open_fds.add(t["fd"] if t["t"] == "fd" else t["epfd"])
        elif t["t"] == "close":
            open_fds.discard(t["fd"])
    if open_fds:
        fails.append(f"fds never closed: {sorted(open_fds)}")
    # every thread that slept in epoll_wait came out of it (woken, or EINTR at teardown)
    for tid in {t["who"] for t in truth if t["t"] == "asleep"}:
        w = [t for t in truth if t["t"] == "wait" and t["tid"] == tid]
        if not w:
            fails.append(f"thread {tid} was asleep and never returned from epoll_wait")
    # the kernel's interest set (fdinfo) is the model's at every checkpoint
    last_expect = {}
    for t in truth:
        if t["t"] == "expect":
            last_expect[t["epfd"]] = sorted(t["fds"])
        elif t["t"] == "fdinfo":
            k = sorted(i["tfd"] for i in t["items"])
            if t["epfd"] in last_expect and last_expect[t["epfd"]] != k:
                fails.append(f"epfd {t['epfd']}: fdinfo {k} != expected "
                             f"{last_expect[t['epfd']]}")
    return steps_of(truth)


def waits(lines, epfd=None, tid=None):
    return [t for t in lines if t["t"] == "wait" and (epfd is None or t["epfd"] == epfd)
            and (tid is None or t["tid"] == tid)]


def one(lines, kind, fails, what):
    got = [t for t in lines if t["t"] == kind]
    if len(got) != 1:
        fails.append(f"{what}: {len(got)} '{kind}' lines, expected 1")
        return None
    return got[0]


def fdinfo_tfds(lines, epfd):
    f = [t for t in lines if t["t"] == "fdinfo" and t["epfd"] == epfd]
    return f[-1]["items"] if f else None


def check_herd(truth, st, fails):
    herds = [t for t in truth if t["t"] == "herd"]
    sides = {t["side"]: t for t in herds}
    if set(sides) != {"shared", "exclusive"} or len(herds) != 2:
        fails.append(f"herd lines: {herds}")
        return
    a, b = sides["shared"], sides["exclusive"]
    n = a["threads"]
    # one instance, N sleepers: one connect, N wakeups, each with the one event
    ep_a = a["epfds"][0]
    w2 = waits(st[2], ep_a)
    if len(w2) != n or any(w["ret"] != 1 or w["events"][0]["data"] != a["listener"] for w in w2):
        fails.append(f"herd step 2: waits on {ep_a}: {[(w['tid'], w['ret']) for w in w2]}, "
                     f"expected {n} returning the listener")
    if len({w["tid"] for w in w2}) != n:
        fails.append("herd step 2: not every thread woke")
    acc = [t for t in st[3] if t["t"] == "accept"]
    if sorted(t["errno"] for t in acc) != [0] + [EAGAIN] * (n - 1):
        fails.append(f"herd step 3: accepts {[(t['ret'], t['errno']) for t in acc]}, expected "
                     f"1 success and {n - 1} EAGAIN")
    if (a["woken"], a["accepted"], a["eagain"]) != (n, 1, n - 1):
        fails.append(f"herd: shared side says {a}")
    asleep1 = [t for t in st[1] if t["t"] == "asleep" and t["epfd"] == ep_a]
    if len(asleep1) != n:
        fails.append(f"herd step 1: {len(asleep1)} threads seen asleep on {ep_a}, expected {n}")
    # a 0-event wakeup: woken, the connection taken meanwhile, asleep again
    # without returning: one more voluntary switch, no wait line
    z = one(st[4], "zero_wakeup", fails, "herd step 4")
    if z:
        if z["switches"][1] - z["switches"][0] != 1 or waits(st[4], tid=z["who"]):
            fails.append(f"herd step 4: {z}, waits {waits(st[4], tid=z['who'])}: expected one "
                         "more sleep and no return")
        if [(t["ret"] >= 0, t["errno"]) for t in st[4] if t["t"] == "accept"] != [(True, 0)]:
            fails.append("herd step 4: the main thread did not take the connection")
        if [t["who"] for t in st[4] if t["t"] == "asleep"] != [z["who"], z["who"]]:
            fails.append("herd step 4: the thread was not seen asleep before and after")
    # N instances, EXCLUSIVE: one connect, one wakeup, on the first instance added
    w5 = [w for w in waits(st[6]) if w["ret"] >= 0]
    if [(w["epfd"], w["ret"]) for w in w5] != [(b["epfds"][0], 1)]:
        fails.append(f"herd step 6: waits that returned {[(w['epfd'], w['ret']) for w in w5]}, "
                     f"expected one, on {b['epfds'][0]}")
    if (b["woken"], b["woken_epfd"]) != (1, b["epfds"][0]):
        fails.append(f"herd: exclusive side says {b}")
    others = {t["epfd"] for t in st[6] if t["t"] == "asleep"}
    if others != set(b["epfds"][1:]):
        fails.append(f"herd step 6: asleep after the connect on {sorted(others)}, expected "
                     f"{b['epfds'][1:]}")
    adds = [t for t in st[5] if t["t"] == "ctl" and t["op"] == "ADD"]
    if len(adds) != n or any(not t["events"] & EPOLLEXCLUSIVE or t["ret"] for t in adds):
        fails.append(f"herd step 5: ADDs {adds}")
    # teardown: the N-1 still asleep, and the one of step 4, were interrupted
    tail = waits(st[1000 + 6])
    if sorted((w["ret"], w["errno"]) for w in tail) != [(-1, EINTR)] * n:
        fails.append(f"herd teardown: waits {[(w['ret'], w['errno']) for w in tail]}")


def check_nested(truth, st, fails):
    creates = [t["epfd"] for t in st[1] if t["t"] == "create"]
    if len(creates) != 2:
        fails.append(f"nested step 1: creates {creates}")
        return
    inner, outer = creates
    loop = [t for t in st[1] if t["t"] == "ctl" and t["epfd"] == inner and t["fd"] == outer]
    if [(t["ret"], t["errno"]) for t in loop] != [(-1, ELOOP)]:
        fails.append(f"nested step 1: adding the outer to the inner: {loop}, expected ELOOP")
    pipe = next((t["fd"] for t in st[1] if t["t"] == "ctl" and t["epfd"] == inner
                 and t["ret"] == 0), None)
    w3 = waits(st[3])
    if [(w["epfd"], w["ret"], [e["data"] for e in w["events"]]) for w in w3] != \
            [(outer, 1, [outer << 32 | inner])]:
        fails.append(f"nested step 3: waits {w3}, expected the outer reporting the inner")
    w4 = waits(st[4])
    if [(w["epfd"], w["ret"], [e["data"] for e in w["events"]]) for w in w4] != \
            [(inner, 1, [inner << 32 | pipe])]:
        fails.append(f"nested step 4: waits {w4}, expected the inner reporting the pipe")
    if waits(st[5]) or not any(t["t"] == "asleep" and t["epfd"] == outer for t in st[5]):
        fails.append("nested step 5: the thread did not sleep on the outer instance again")
    # closing the inner instance removed the outer's item for it
    rm = [r for t in truth if t["t"] == "close" and t["fd"] == inner for r in t["removes"]]
    if rm != [{"epfd": outer, "fd": inner}]:
        fails.append(f"nested: closing the inner instance removed {rm}")


def check_close(truth, st, fails):
    ep = next(t["epfd"] for t in st[1] if t["t"] == "create")
    fd = next(t["fd"] for t in st[1] if t["t"] == "ctl" and t["op"] == "ADD")
    dup = next(t["fd"] for t in st[2] if t["t"] == "fd" and t.get("dup_of") == fd)
    cl = one(st[2], "close", fails, "close step 2")
    if cl and (cl["fd"], cl["removes"]) != (fd, []):
        fails.append(f"close step 2: {cl}, expected close({fd}) removing nothing")
    if [i["tfd"] for i in fdinfo_tfds(st[2], ep) or []] != [fd]:
        fails.append(f"close step 2: the kernel does not list tfd {fd} after its close")
    w3 = waits(st[3])
    if [(w["ret"], [e["data"] for e in w["events"]]) for w in w3] != [(1, [fd])]:
        fails.append(f"close step 3: waits {w3}, expected one event for the closed fd {fd}")
    dels = [(t["fd"], t["ret"], t["errno"]) for t in st[4] if t["t"] == "ctl"]
    if dels != [(fd, -1, EBADF), (dup, -1, ENOENT)]:
        fails.append(f"close step 4: DELs {dels}")
    if [i["tfd"] for i in fdinfo_tfds(st[5], ep) or []] != [fd, fd]:
        fails.append(f"close step 5: fdinfo {fdinfo_tfds(st[5], ep)}, expected tfd {fd} twice")
    w6 = waits(st[6])
    reads = [(t["fd"], t["ret"], t["errno"]) for t in st[6] if t["t"] == "read"]
    if [(w["ret"], [e["data"] for e in w["events"]]) for w in w6] != [(1, [fd])] or \
            reads != [(fd, -1, EAGAIN), (dup, 1, 0)]:
        fails.append(f"close step 6: waits {w6} reads {reads}: the event for {fd} should come "
                     f"from the old file, reading {fd} EAGAIN")
    cl = one(st[7], "close", fails, "close step 7")
    if cl and cl["removes"] != [{"epfd": ep, "fd": fd}]:
        fails.append(f"close step 7: closing the last fd removed {cl['removes']}")
    if [i["tfd"] for i in fdinfo_tfds(st[7], ep) or []] != [fd]:
        fails.append(f"close step 7: fdinfo {fdinfo_tfds(st[7], ep)}, expected tfd {fd} once")


def check_pool(truth, st, fails):
    ep = next(t["epfd"] for t in st[1] if t["t"] == "create")
    poller = next(t["who"] for t in st[1] if t["t"] == "asleep")
    adds = [t for t in st[2] if t["t"] == "ctl" and t["op"] == "ADD"]
    conns = [t["fd"] for t in adds]
    if len(adds) != 2 or any(t["events"] != EPOLLIN | EPOLLONESHOT or t["tid"] != poller
                             for t in adds):
        fails.append(f"pool step 2: the poller's ADDs {adds}")
        return
    if len(waits(st[2], ep, poller)) != 2:
        fails.append("pool step 2: the poller did not wake once per connect")
    c1 = conns[0]
    hand = [t for t in st[3] if t["t"] == "handoff"]
    if [t["fd"] for t in hand] != [c1]:
        fails.append(f"pool step 3: handoffs {hand}")
    items = {i["tfd"]: i["events"] for i in fdinfo_tfds(st[3], ep) or []}
    if items.get(c1) != EPOLLONESHOT:
        fails.append(f"pool step 3: fdinfo events of {c1} {items.get(c1)}, expected the "
                     "disarmed EPOLLONESHOT alone")
    if items.get(conns[1]) != EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLONESHOT:
        fails.append(f"pool step 3: fdinfo events of {conns[1]} {items.get(conns[1])}")
    if waits(st[4]) or not any(t["t"] == "disarmed" for t in st[4]):
        fails.append("pool step 4: the disarmed item woke the poller")
    mods = [t for t in st[5] if t["t"] == "ctl" and t["op"] == "MOD"]
    w5 = waits(st[5], ep, poller)
    hand5 = [t for t in st[5] if t["t"] == "handoff"]
    if len(mods) != 1 or mods[0]["tid"] != hand[0]["worker"] or \
            [[e["data"] for e in w["events"]] for w in w5] != [[c1]] or \
            len(hand5) != 1 or hand5[0]["worker"] == hand[0]["worker"]:
        fails.append(f"pool step 5: MOD {mods}, poller waits {w5}, handoffs {hand5}")
    if waits(st[6]):
        fails.append("pool step 6: re-armed with nothing to read, the item woke the poller")
    if [(t["ret"]) for t in st[6] if t["t"] == "read"] != [4]:
        fails.append("pool step 6: the client did not get both replies")
    items = {i["tfd"]: i["events"] for i in fdinfo_tfds(st[6], ep) or []}
    if items.get(c1) != EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLONESHOT:
        fails.append(f"pool step 6: {c1} not re-armed in fdinfo: {items.get(c1)}")


def as_scenario(src, dst):
    truth = load_jsonl(src)
    les = truth[0]
    with open(dst, "w") as f:
        f.write(json.dumps({"t": "scenario", "name": les["name"], "pid": les["pid"],
                            "tid": les["pid"]}) + "\n")
        f.write(json.dumps({"t": "ready", "tid": les["pid"]}) + "\n")
        for t in truth:
            if t["t"] not in ("expect_ready", "expect_waiters", "expect_callbacks",
                              "expect_wakeups"):
                f.write(json.dumps(t) + "\n")
        f.write(json.dumps({"t": "done", "tid": les["pid"]}) + "\n")


def check_steps(truth_path, trace_path, marks_path, fails):
    truth = load_jsonl(truth_path)
    trace = load_jsonl(trace_path)
    pid = truth[0]["pid"]
    marks = {}
    for line in open(marks_path):
        k, first, last = (int(x) for x in line.split())
        marks[k] = (first, last)
    nsteps = truth[0]["steps"]
    round_start = {e["seq"]: e["start_ns"] for e in trace if e["type"] == "snap_round"}
    if sorted(marks) != list(range(1, nsteps + 1)):
        fails.append(f"held at steps {sorted(marks)}, expected 1..{nsteps}")
    interest, ready, fdinfo, asleep, live = {}, {}, {}, collections.defaultdict(set), set()
    waiters, cbs, wks = {}, {}, {}
    session = trace[0] if trace and trace[0]["type"] == "session" else {}
    prev_last = 0
    step = 0
    for t in truth:
        k = t["t"]
        if k == "create":
            live.add(t["epfd"])
        elif k == "epclose":
            live.discard(t["epfd"])
        elif k == "step" and t["phase"] == "run":
            step = t["step"]
            fdinfo, waiters, cbs, wks = {}, {}, {}, {}
        elif k == "expect_waiters":
            waiters[t["epfd"]] = sorted(t["tids"])
        elif k == "expect_callbacks":
            cbs[t["epfd"]] = collections.Counter(t["fds"])
        elif k == "expect_wakeups":
            wks[t["epfd"]] = collections.Counter(t["tids"])
        elif k == "expect":
            interest[t["epfd"]] = sorted(t["fds"])
        elif k == "expect_ready":
            ready[t["epfd"]] = sorted(t["fds"])
        elif k == "fdinfo":
            fdinfo[t["epfd"]] = sorted((i["tfd"], i["events"]) for i in t["items"])
        elif k == "asleep":
            asleep[t["epfd"]].add(t["who"])
        elif k == "wait":
            for s in asleep.values():
                s.discard(t["tid"])
        elif k == "hold":
            if t["step"] not in marks:
                continue
            first, last = marks[t["step"]]
            # only rounds whose walk began once the lesson was held
            snaps = {}
            for e in trace[first - 1:last]:
                if e["type"] == "snapshot" and e["owner"] == pid and \
                        round_start.get(e["seq"], 0) > t["mono_ns"]:
                    snaps[e["epfd"]] = e
            for ep in sorted(live):
                s = snaps.get(ep)
                where = f"step {t['step']}, epfd {ep}"
                if s is None:
                    fails.append(f"{where}: no snapshot round began while held")
                    continue
                if s["truncated"] or s["inexact"]:
                    fails.append(f"{where}: snapshot inexact: {s['inexact']}")
                got = sorted(x["fd"] for x in s["fds"])
                if ep in interest and got != interest[ep]:
                    fails.append(f"{where}: rbr {got}, expected {interest[ep]}")
                gotev = sorted((x["fd"], x["events"]) for x in s["fds"])
                if ep in fdinfo and gotev != fdinfo[ep]:
                    fails.append(f"{where}: rbr (fd, events) {gotev}, fdinfo said {fdinfo[ep]}")
                if ep in ready and sorted(s["ready"]) != ready[ep]:
                    fails.append(f"{where}: rdllist {sorted(s['ready'])}, expected {ready[ep]}")
                if sorted(s["waiters"]) != sorted(asleep[ep]):
                    fails.append(f"{where}: wq {sorted(s['waiters'])}, expected "
                                 f"{sorted(asleep[ep])}")
                if ep in waiters and sorted(s["waiters"]) != waiters[ep]:
                    fails.append(f"{where}: wq {sorted(s['waiters'])}, expect_waiters "
                                 f"{waiters[ep]}")
            # what the step did: its records, from the last hold's end to this one's
            seg = [e for e in trace[prev_last:last] if e.get("owner") == pid]
            prev_last = last
            where = f"step {t['step']}"
            if session.get("callbacks_visible"):
                for ep, want in cbs.items():
                    got = collections.Counter(e["fd"] for e in seg
                                              if e["type"] == "callback" and e["epfd"] == ep)
                    if got != want:
                        fails.append(f"{where}, epfd {ep}: callbacks {dict(got)}, expected "
                                     f"{dict(want)}")
            if session.get("sleeps_visible"):
                for ep, want in wks.items():
                    got = collections.Counter(e["tid"] for e in seg
                                              if e["type"] == "wakeup" and e["epfd"] == ep)
                    if got != want:
                        fails.append(f"{where}, epfd {ep}: wakeups {dict(got)}, expected "
                                     f"{dict(want)}")
            # the narration, its {N} filled in, as a driver shows it
            for part in ("before", "after"):
                if "\u2013" in t[part] or "{" in t[part]:
                    fails.append(f"step {t['step']}: {part} text has an unfilled placeholder: "
                                 f"{t[part]}")
                if len(t[part].encode()) >= 448:  # ET_LESSON_TEXT_LEN
                    fails.append(f"step {t['step']}: {part} text is {len(t[part].encode())} "
                                 "bytes, the record holds 447")
            if len(t["hooks"]) >= 64:  # ET_LESSON_HOOKS_LEN
                fails.append(f"step {t['step']}: hooks too long for the record")


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "--steps":
        fails = []
        check_steps(sys.argv[2], sys.argv[3], sys.argv[4], fails)
        for f in fails:
            print("  " + f)
        return 1 if fails else 0
    if len(sys.argv) == 4 and sys.argv[1] == "--as-scenario":
        as_scenario(sys.argv[2], sys.argv[3])
        return 0
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    name, truth = sys.argv[1], load_jsonl(sys.argv[2])
    fails = []
    st = check_common(name, truth, fails)
    if st is not None:
        try:
            {"herd": check_herd, "nested": check_nested, "close": check_close,
             "pool": check_pool}[name](truth, st, fails)
        except (StopIteration, KeyError, IndexError, TypeError) as e:
            fails.append(f"the truth lacks what {name} should say: {e!r}")
    for f in fails:
        print("  " + f)
    return 1 if fails else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except OSError as e:
        raise SystemExit(f"check_lesson_truth.py: {e}")
