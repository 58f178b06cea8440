#!/usr/bin/env python3
"""Check a lesson's stream (`learn NAME --json`) against its workload's
ground truth (`--truth FILE`), step by step.  Generic over lessons: it knows
no lesson, only the step protocol and the truth lines workload_ops writes.

  - the lesson records: BEGIN, then BEFORE k / AFTER k for every step of the
    truth, then END; the AFTER names the instances the BEFORE did, with
    their ep addresses as the stream's create records or snapshots give them;
  - every kernel record of the workload lies inside a step (between its
    BEFORE and AFTER), or before the first step (the lesson's setup);
  - per step, what the truth says happened is seen there with the right
    fds, tids and counts: creates, ctls (op, fd, events, result), waits
    that returned (tid, result, events), "expect_callbacks" (exactly those
    items' ep_poll_callback, where callbacks are visible) and
    "expect_wakeups" (exactly those threads woken, where sleeps are);
  - each step ends with a snapshot round, and the last snapshot of each
    instance the truth checks shows the rbr ("expect"), rdllist
    ("expect_ready") and wq ("expect_waiters") the truth says.

usage: check_lesson.py STREAM.jsonl TRUTH.jsonl
Prints one line per check ("PASS name" / "FAIL name :: detail") and
exits 1 if any failed.
"""
import sys
from collections import Counter

from checklib import load_jsonl

KERNEL = {"ep_create", "ep_close", "ctl", "release", "callback", "wait_enter", "sleep",
          "wakeup", "wait_exit", "send_events", "scan", "ep_insert", "ep_poll",
          "ep_send_events", "task_exit", "fork", "sharer", "wait_run"}
failures = 0


def report(ok, name, detail=""):
    global failures
    if ok:
        print(f"PASS {name}")
    else:
        failures += 1
        print(f"FAIL {name} :: {detail}"[:600])


def main():
    stream = load_jsonl(sys.argv[1])
    truth = load_jsonl(sys.argv[2])
    head = next((t for t in truth if t.get("t") == "lesson"), None)
    if not head:
        report(False, "truth", "no lesson line")
        return
    name, pid, nsteps = head["name"], head["pid"], head["steps"]
    tag = f"lesson {name}"
    session = stream[0] if stream and stream[0].get("type") == "session" else {}
    report(session.get("lesson") == name, f"{tag}: the session line names the lesson",
           f"lesson={session.get('lesson')!r}")
    cb_visible = bool(session.get("callbacks_visible"))
    sleeps_visible = bool(session.get("sleeps_visible"))

    # ---- the truth, cut into steps --------------------------------------
    steps = {k: [] for k in range(1, nsteps + 1)}
    cur = None
    for t in truth:
        if t.get("t") == "step":
            cur = t["step"] if t["phase"] == "run" else None
        elif cur is not None:
            steps[cur].append(t)

    # ---- the stream's lesson records --------------------------------------
    lessons = [(i, r) for i, r in enumerate(stream) if r.get("type") == "lesson"]
    seq = [(r["phase"], r["step"]) for _, r in lessons]
    want = [("begin", 0)] + [(p, k) for k in range(1, nsteps + 1)
                             for p in ("before", "after")] + [("end", nsteps + 1)]
    report(seq == want, f"{tag}: BEGIN, BEFORE/AFTER for each of {nsteps} steps, END",
           f"got {seq}")
    if seq != want:
        return
    pos = {(r["phase"], r["step"]): i for i, r in lessons}
    bad = [r for _, r in lessons if r["lesson"] != name or r["steps"] != nsteps or
           r["pid"] != pid or r["src"] != "user"]
    report(not bad, f"{tag}: the lesson records name the lesson, its steps and workload",
           f"{bad[:1]}")
    # (a step may run no epoll function at all: a dup, an accept; hooks may be empty)
    texts = [r for _, r in lessons if r["phase"] in ("before", "after") and
             (not r["text"] or "{" in r["narration"])]
    report(not texts, f"{tag}: every stop narrates (text, every {{N}} filled)",
           f"{texts[:1]}")

    # ep addresses of the workload's epfds, as the stream learns them
    def ep_of(epfd, upto):
        ep = None
        for r in stream[:upto]:
            if r.get("owner") == pid and r.get("epfd") == epfd and \
                    r.get("type") in ("ep_create", "snapshot"):
                ep = r["ep"]
        return ep

    wrong = []
    for (phase, k), i in pos.items():
        r = stream[i]
        for inst in r["instances"]:
            if inst["epfd"] is not None and inst["ep"] != ep_of(inst["epfd"], i):
                wrong.append((phase, k, inst))
    report(not wrong, f"{tag}: the stops name the instances' ep addresses", f"{wrong[:2]}")

    # ---- no workload record outside a step --------------------------------
    first = pos[("before", 1)]
    outside = []
    for k in range(1, nsteps):
        for r in stream[pos[("after", k)] + 1:pos[("before", k + 1)]]:
            if r.get("type") in KERNEL and r.get("pid") == pid:
                outside.append((k, r["type"]))
    report(not outside, f"{tag}: every record of the workload lies inside a step",
           f"between AFTER and the next BEFORE: {outside[:3]}")
    del first

    # ---- step by step -------------------------------------------------------
    for k in range(1, nsteps + 1):
        seg = stream[pos[("before", k)] + 1:pos[("after", k)]]
        recs = [r for r in seg if r.get("pid") == pid]
        st = f"{tag}: step {k}"
        errs = []
        after = stream[pos[("after", k)]]
        if not any(r.get("type") == "snap_round" for r in seg):
            errs.append("no snapshot round before its AFTER")
        types = {(s["type"], s["src"]) for s in after.get("seen_by", [])}
        kernel = {(r["type"], r["src"]) for r in seg if r.get("type") in KERNEL}
        if types != kernel:
            errs.append(f"AFTER seen_by {sorted(types)} but the step's records {sorted(kernel)}")

        def epfd_ep(epfd):
            return ep_of(epfd, pos[("after", k)])

        # creates
        creates = [t for t in steps[k] if t["t"] == "create"]
        got = Counter(r["epfd"] for r in recs if r["type"] == "ep_create")
        if got != Counter(t["epfd"] for t in creates):
            errs.append(f"creates: truth {[t['epfd'] for t in creates]}, stream {dict(got)}")
        # ctls, in order
        tc = [(t["op"], t["epfd"], t["fd"], t["events"] if t["op"] != "DEL" else None,
               0 if t["ret"] == 0 else -t["errno"]) for t in steps[k] if t["t"] == "ctl"]
        sc = [(r["op"], r["epfd"], r["fd"], r["events"] if r["op"] != "DEL" else None, r["ret"])
              for r in recs if r["type"] == "ctl"]
        if tc != sc:
            errs.append(f"ctls: truth {tc}, stream {sc}")
        # waits that returned in this step
        tw = Counter((t["tid"], t["epfd"], t["ret"],
                      tuple(sorted((e["events"], e["data"]) for e in t["events"])))
                     for t in steps[k] if t["t"] == "wait")
        sw = Counter((r["tid"], r["epfd"], r["ret"],
                      tuple(sorted((e["events"], e["data"]) for e in r["events"])))
                     for r in recs if r["type"] == "wait_exit")
        if tw != sw:
            errs.append(f"waits: truth {dict(tw)}, stream {dict(sw)}")
        for t in steps[k]:
            ep = epfd_ep(t.get("epfd"))
            if t["t"] == "expect_callbacks" and cb_visible:
                got = Counter(r["fd"] for r in seg
                              if r.get("type") == "callback" and r["ep"] == ep)
                if got != Counter(t["fds"]):
                    errs.append(f"callbacks on epfd {t['epfd']}: truth {t['fds']}, "
                                f"stream {dict(got)}")
            elif t["t"] == "expect_wakeups" and sleeps_visible:
                got = Counter(r["tid"] for r in seg
                              if r.get("type") == "wakeup" and r["ep"] == ep)
                if got != Counter(t["tids"]):
                    errs.append(f"wakeups on epfd {t['epfd']}: truth {t['tids']}, "
                                f"stream {dict(got)}")
        # the AFTER's picture: the last snapshot of each instance in the step
        for t in steps[k]:
            if t["t"] not in ("expect", "expect_ready", "expect_waiters"):
                continue
            ep = epfd_ep(t["epfd"])
            snaps = [r for r in seg if r.get("type") == "snapshot" and r["ep"] == ep]
            if not snaps:
                errs.append(f"no snapshot of epfd {t['epfd']} ({ep})")
                continue
            s = snaps[-1]
            if t["t"] == "expect":
                got, exp, what = sorted(f["fd"] for f in s["fds"]), sorted(t["fds"]), "rbr"
            elif t["t"] == "expect_ready":
                got, exp, what = sorted(s["ready"]), sorted(t["fds"]), "rdllist"
            else:
                got, exp, what = sorted(s["waiters"]), sorted(t["tids"]), "wq"
            if got != exp:
                errs.append(f"{what} of epfd {t['epfd']}: truth {exp}, snapshot {got}")
            if s.get("truncated"):
                errs.append(f"snapshot of epfd {t['epfd']} truncated")
        n = sum(1 for t in steps[k] if t["t"] in ("ctl", "wait", "create", "expect",
                                                   "expect_ready", "expect_waiters",
                                                   "expect_callbacks", "expect_wakeups"))
        report(not errs, f"{st}: {n} truth lines seen in the step and its snapshot",
               "; ".join(errs))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: check_lesson.py STREAM.jsonl TRUTH.jsonl")
    main()
    sys.exit(1 if failures else 0)
