#!/usr/bin/env python3
"""Checks for tests/chains.sh: waiters' call chains in epolltrace's outputs.

  check_chains.py record FILE.jsonl PID PATTERN [METHOD]
      a wait_chain record of a thread of PID (0: any; PID/TID: that thread
      of PID) matches PATTERN
  check_chains.py state FILE.jsonl PID PATTERN
      a waiter of PID's instances, in some --json-state object, has a chain
      matching PATTERN
  check_chains.py same LIVE.jsonl REPLAY.jsonl
      the wait_chain records of both are equal, in the same order

PATTERN: comma-separated items that must be consecutive frames, innermost
first; an item's alternatives are split by '|'; "@MOD" is a frame with no
symbol inside a module whose name contains MOD.  Prints the chain it found
(or the chains it saw) and exits 0 on a match, 1 if none.
"""
import json
import sys


def name(frame):
    """the symbol without its offset"""
    s = frame.get("symbol")
    return s.rsplit("+", 1)[0] if s else None


def item_matches(alts, frame):
    for a in alts.split("|"):
        if a.startswith("@"):
            if not frame.get("symbol") and a[1:] in (frame.get("module") or ""):
                return True
        elif name(frame) == a:
            return True
    return False


def matches(pattern, frames):
    items = pattern.split(",")
    for start in range(len(frames) - len(items) + 1):
        if all(item_matches(it, frames[start + k]) for k, it in enumerate(items)):
            return True
    return False


def lines(path):
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                yield json.loads(line)


def show(frames):
    return " <- ".join(f["frame"] if "frame" in f else str(f) for f in frames)


def cmd_record(path, pid, pattern, method=None):
    seen = []
    pid, _, tid = pid.partition("/")
    pid, tid = int(pid), int(tid or 0)
    for r in lines(path):
        if r.get("type") != "wait_chain" or (pid and r["pid"] != pid) or (tid and r["tid"] != tid):
            continue
        seen.append(f'{r["method"]}: {show(r["frames"])}')
        if matches(pattern, r["frames"]) and (not method or r["method"] == method):
            print(f'tid {r["tid"]} {r["method"]}{" live" if r["live_stack"] else ""}: '
                  f'{show(r["frames"])}')
            return 0
    print("no match; seen: " + (" || ".join(seen) or "no wait_chain record"))
    return 1


def cmd_state(path, pid, pattern):
    seen = []
    for st in lines(path):
        for inst in st.get("instances", []):
            if pid and inst["pid"] != pid:
                continue
            for w in inst["waiters"]:
                ch = w.get("chain")
                if ch is None:
                    continue
                frames = [{"symbol": c + "+0", "frame": c} for c in ch]
                seen.append(" <- ".join(ch))
                if matches(pattern, frames):
                    print(f'tid {w["tid"]} {w["chain_method"]}: {" <- ".join(ch)}')
                    return 0
    print("no match; seen: " + (" || ".join(seen[-3:]) or "no waiter with a chain"))
    return 1


def cmd_same(a, b):
    ra = [r for r in lines(a) if r.get("type") == "wait_chain"]
    rb = [r for r in lines(b) if r.get("type") == "wait_chain"]
    if not ra:
        print("no wait_chain record live")
        return 1
    if ra != rb:
        print(f"live {len(ra)} records, replay {len(rb)}; first live {ra[0]} replay "
              f"{rb[0] if rb else None}")
        return 1
    print(f"{len(ra)} wait_chain records equal")
    return 0


def main(argv):
    if len(argv) >= 4 and argv[0] == "record":
        return cmd_record(argv[1], argv[2], argv[3], argv[4] if len(argv) > 4 else None)
    if len(argv) == 4 and argv[0] == "state":
        return cmd_state(argv[1], int(argv[2]), argv[3])
    if len(argv) == 3 and argv[0] == "same":
        return cmd_same(argv[1], argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
