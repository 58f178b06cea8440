#!/usr/bin/env python3
"""The model's use of the inline records (--attach=inline), in a guest run.

usage: check_inline.py STATE.jsonl RECORDS.jsonl REPLAY.jsonl

STATE is what a live --json-state session printed, RECORDS the stream that
same session recorded (-w, exported with `epolltrace export --format
jsonl`), REPLAY what `epolltrace replay --json-state` printed from the
recording.  From the records alone this checker works out, per instance,
what the model's final state must say, and compares:

- transfers: one per ep_send_events record; each ends at the ep_done_scan
  (`scan`) of the same thread and instance, which gives its duration
  (never negative: last <= max <= total); a thread's new ep_send_events,
  its wait's exit or a loss leave an open one unended;
- ovflist: a callback that comes while a transfer of its instance is open,
  and gets past ep_poll_callback's filters (an armed item, a key it asks
  for), was chained on ovflist;
- ep_insert: one per record, each agreeing with the ctl ADD of its thread
  that follows (fd, mask with EPOLLERR|EPOLLHUP, file): drift 0, and no
  successful ADD without one;
- at rest (the final state) no transfer is open, and none was left
  unended where no record was lost;
- the replay's final state says the same as the live one (every field of
  every state is compared by check_replay.py; this names the new ones).
- the "ovflist" scenario (its truth.jsonl beside STATE says so): the
  callback of the item made ready while the held wait copied out comes
  between that wait's ep_send_events and its ep_done_scan, and the
  instance's transfers count it in ovflist_callbacks.

Prints one line of figures on success.
"""
import os
import sys

from checklib import load_jsonl

PRIVATE = 0xF0000000  # EPOLLEXCLUSIVE, EPOLLWAKEUP, EPOLLONESHOT, EPOLLET
EPOLLWAKEUP = 1 << 29


class Inst:
    def __init__(self):
        self.open = {}  # tid -> start ts
        self.count = self.ended = self.unended = 0
        self.last = self.max = self.total = 0
        self.ovf = 0
        self.inserts = 0
        self.pending = {}  # tid -> (fd, events, file)
        self.drift = []
        self.unpaired = 0
        self.polls = 0


def expected(records):
    insts = {}

    def get(ep):
        return insts.setdefault(ep, Inst())

    for r in records:
        t = r["type"]
        if t == "ep_create":
            insts[r["ep"]] = Inst()  # an address reused: a new instance
            continue
        if t == "lost":
            for i in insts.values():
                i.unended += len(i.open)
                i.open.clear()
                i.pending.clear()
            continue
        if "ep" not in r or t in ("snapshot", "finding"):  # a finding: derived
            continue
        i = get(r["ep"])
        tid = r["tid"]
        if t == "ep_send_events":
            i.count += 1
            if tid in i.open:
                i.unended += 1
            i.open[tid] = r["ts_ns"]
        elif t == "scan" and tid in i.open:
            d = max(0, r["ts_ns"] - i.open.pop(tid))
            i.ended += 1
            i.last = d
            i.max = max(i.max, d)
            i.total += d
        elif t == "wait_exit" and tid in i.open:
            del i.open[tid]
            i.unended += 1
        elif t == "callback" and i.open:
            ev, key = r["events"], r["key"] or 0
            if ev & ~PRIVATE & 0xFFFFFFFF and (not key or key & ev):
                i.ovf += 1
        elif t == "ep_insert":
            i.inserts += 1
            i.pending[tid] = (r["fd"], r["events"], r["file"])
        elif t == "ep_poll":
            i.polls += 1
        elif t == "ctl":
            p = i.pending.pop(tid, None)
            if r["op"] != "ADD":
                continue
            if p is None:
                if r["ret"] == 0:
                    i.unpaired += 1
                continue
            want = (r["events"] | 0x18) & ~EPOLLWAKEUP
            if p[0] != r["fd"] or (p[1] and (p[1] & ~EPOLLWAKEUP) != want):
                i.drift.append(f"fd {r['fd']}: ep_insert {p}, ctl ADD {r['events']:#x}")
    return insts


def check_ovflist(truth, records, fin, fails, figures):
    """The ovflist scenario: ep_poll_callback inside the transfer window."""
    waiter = next(t["waiter"] for t in truth if t["t"] == "uffd_fault")
    held, after = [t for t in truth if t["t"] == "wait" and t["tid"] == waiter][:2]
    ep_fd, a_fd = held["events"][0]["data"] >> 32, held["events"][0]["data"] & 0xFFFFFFFF
    b_fd = after["events"][0]["data"] & 0xFFFFFFFF
    creates = [r for r in records if r["type"] == "ep_create" and r["epfd"] == ep_fd]
    if not creates:
        fails.append(f"ovflist: no ep_create record for epfd {ep_fd}")
        return
    ep, tid = creates[-1]["ep"], held["tid"]
    inside = found = False
    for r in records:
        if r.get("ep") != ep:
            continue
        if r["type"] == "ep_send_events" and r["tid"] == tid:
            inside = True
        elif r["type"] == "scan" and r["tid"] == tid:
            inside = False
        elif r["type"] == "callback" and r["fd"] == b_fd and inside:
            found = True
    if not found:
        fails.append(f"ovflist: no callback for fd {b_fd} between an ep_send_events of thread "
                     f"{tid} on epfd {ep_fd} and its ep_done_scan (fd {a_fd} was copied out)")
    st = [i for i in fin["instances"] if i["ep"] == ep and not i["closed"]]
    x = st[0]["transfers"] if st else None
    if not x or not x["ovflist_callbacks"]:
        fails.append(f"ovflist: epfd {ep_fd}: transfers {x}, no ovflist callback counted")
    figures["ovflist-scenario callbacks in the window"] = int(found)


def main():
    live = [s for s in load_jsonl(sys.argv[1]) if s.get("type") == "state"]
    records = load_jsonl(sys.argv[2])
    replay = [s for s in load_jsonl(sys.argv[3]) if s.get("type") == "state"]
    if not live or not live[-1]["final"]:
        print("the live session printed no final state")
        return 1
    fin = live[-1]
    exp = expected(records)
    fails = []
    figures = {"transfers": 0, "ovflist": 0, "ep_insert": 0, "ep_poll": 0, "instances": 0}
    seen = set()
    for st in fin["instances"]:
        if st["closed"] or st["ep"] in seen:
            continue
        seen.add(st["ep"])
        name = f"epfd {st['epfd']} ({st['ep']})"
        x, ins, pol = st.get("transfers"), st.get("ep_insert"), st.get("ep_poll")
        if x is None or ins is None or pol is None:
            fails.append(f"{name}: inline fields null in inline mode: {x} {ins} {pol}")
            continue
        e = exp.get(st["ep"], Inst())
        figures["instances"] += 1
        figures["transfers"] += x["count"]
        figures["ovflist"] += x["ovflist_callbacks"] or 0
        figures["ep_insert"] += ins["count"]
        figures["ep_poll"] += pol["count"]
        got = (x["count"], x["ended"], x["unended"], x["total_ns"], x["ovflist_callbacks"])
        want = (e.count, e.ended, e.unended, e.total, e.ovf)
        if got != want:
            fails.append(f"{name}: transfers (count, ended, unended, total_ns, ovflist) "
                         f"{got}, the records say {want}")
        if e.ended and (x["last_ns"], x["max_ns"]) != (e.last, e.max):
            fails.append(f"{name}: last/max {x['last_ns']}/{x['max_ns']}, records {e.last}/{e.max}")
        if x["ended"] and not (0 <= x["last_ns"] <= x["max_ns"] <= x["total_ns"]):
            fails.append(f"{name}: durations out of order: {x}")
        if not x["ended"] and (x["last_ns"] is not None or x["max_ns"] is not None):
            fails.append(f"{name}: durations without an ended transfer: {x}")
        if x["scanning"] or x["scanning_since_ns"] is not None:
            fails.append(f"{name}: at rest, yet a transfer is open: {x}")
        if x["unended"] and not fin["lost"]:
            fails.append(f"{name}: {x['unended']} transfers without an end, nothing lost")
        if any(r.get("ovflist") for r in st["ready"]):
            fails.append(f"{name}: at rest, ready items marked ovflist: {st['ready']}")
        if (ins["count"], ins["unpaired_adds"], pol["count"]) != (e.inserts, e.unpaired, e.polls):
            fails.append(f"{name}: ep_insert {ins}, ep_poll {pol}; records: {e.inserts} "
                         f"inserts, {e.unpaired} ADDs without one, {e.polls} ep_poll")
        if ins["drift"] or e.drift:
            fails.append(f"{name}: ep_insert drift {ins['drift']} ({ins.get('drift_last')}); "
                         f"records: {e.drift[:3]}")
    if not figures["instances"]:
        fails.append("no open instance in the final state")
    if not figures["transfers"]:
        fails.append("no transfer at all: ep_send_events never seen")
    if not replay or not replay[-1]["final"]:
        fails.append("the replay printed no final state")
    else:
        def inline_of(s):
            return [(i["ep"], i["closed"], i.get("transfers"), i.get("ep_insert"),
                     i.get("ep_poll"), [r.get("ovflist") for r in i["ready"]])
                    for i in s["instances"]]
        if inline_of(replay[-1]) != inline_of(fin):
            fails.append(f"replay's final inline fields differ: live {inline_of(fin)}, "
                         f"replay {inline_of(replay[-1])}")
    truth_path = os.path.join(os.path.dirname(sys.argv[1]), "truth.jsonl")
    truth = load_jsonl(truth_path) if os.path.exists(truth_path) else []
    if any(t["t"] == "scenario" and t["name"] == "ovflist" for t in truth):
        check_ovflist(truth, records, fin, fails, figures)
    for f in fails[:10]:
        print("  " + f)
    if fails:
        return 1
    print(", ".join(f"{v} {k}" for k, v in figures.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
