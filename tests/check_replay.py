#!/usr/bin/env python3
"""Faithful replay: the states a live --json-state session printed equal
the states `epolltrace replay FILE --json-state` prints from the recording
that session wrote alongside (-w FILE), refresh by refresh.

usage: check_replay.py LIVE.jsonl REPLAY.jsonl

Every field is compared exactly — instances, interest sets, ready lists
with their ages, waiters, counters, rates, histograms, drift, the
refresh times (ts_ns) — except the ones a view reads from /proc at render
time, which are not part of the model and not in the recording: `comm`
(of the owner and of each waiter), each fd's `kind` and `addr`, and a
finding's `text` (it names the owner's comm).
Ages and rates need no exclusion: the recording keeps the session's
ticks (the clock readings that drove the refreshes), so replay renders at
the same instants.  The live states must include the final one.
"""
import sys

from checklib import load_jsonl

FROM_PROC = ("comm", "kind", "addr", "text")


def strip(o):
    if isinstance(o, dict):
        return {k: strip(v) for k, v in o.items() if k not in FROM_PROC}
    if isinstance(o, list):
        return [strip(x) for x in o]
    return o


def first_diff(a, b, path="$"):
    if type(a) is not type(b):
        return f"{path}: {a!r} != {b!r}"
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return f"{path}.{k}: only in {'live' if k in a else 'replay'}"
            d = first_diff(a[k], b[k], f"{path}.{k}")
            if d:
                return d
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} entries live, {len(b)} replayed"
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_diff(x, y, f"{path}[{i}]")
            if d:
                return d
        return None
    return None if a == b else f"{path}: live {a!r}, replay {b!r}"


def main():
    live = [strip(s) for s in load_jsonl(sys.argv[1])]
    rep = [strip(s) for s in load_jsonl(sys.argv[2])]
    if not live or not live[-1].get("final"):
        print("the live session printed no final state")
        return 1
    if len(live) != len(rep):
        print(f"{len(live)} states live, {len(rep)} replayed")
        return 1
    for n, (a, b) in enumerate(zip(live, rep)):
        d = first_diff(a, b)
        if d:
            print(f"state {n + 1} of {len(live)}: {d}")
            return 1
    inst = len(live[-1]["instances"])
    print(f"{len(live)} states equal, {inst} instances at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
