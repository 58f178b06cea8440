#!/usr/bin/env python3
"""Recordings of a real server under load (tests/server.sh leaves them).

usage: check_recording.py EPOLLTRACE DIR

DIR holds trace.jsonl and trace.etr (the --json session and what it
recorded with -w), summary.txt and summary.etr (the --summary session),
fdinfo.txt.  Checks:
  - export --format jsonl of trace.etr is byte for byte the live stream;
  - replay --summary of summary.etr prints the live tables, every row and
    every column but the two read at render time (the wall-clock time in
    each table's title, the COMM column read from /proc);
  - replay --json-state of trace.etr ends with the interest sets of fdinfo;
  - the file cut at random offsets replays with exit 0 and one warning
    line, its stream a prefix of the whole one, with a final state too;
  - export --format chrome is valid JSON: one track per thread with its
    epoll_wait spans and asleep/woken spans, ep_poll_callback instants
    where the plan sees callbacks (none where it does not), and per
    instance watched and ready counters, the last of which equals fdinfo.
Prints the measured size: bytes per event, against the JSON Lines.
"""
import json
import os
import random
import subprocess
import sys

from checklib import load_fdinfo, load_jsonl


def run(et, *args, out=None):
    p = subprocess.run([et, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=300)
    return p.returncode, p.stdout, p.stderr.decode(errors="replace")


def masked_tables(text):
    """--summary output without what is read at render time."""
    rows = []
    for line in text.splitlines():
        f = line.split()
        if not f:
            continue
        if "epolltrace" in f and "attach=" in line:
            rows.append(f[1:])          # the title: drop HH:MM:SS
        elif f[0] == "PID":
            rows.append(f)
        else:
            rows.append(f[:1] + f[2:])  # an instance: drop COMM
    return rows


def main():
    et, d = sys.argv[1], sys.argv[2]
    fails = []
    live = open(os.path.join(d, "trace.jsonl"), "rb").read()
    etr = os.path.join(d, "trace.etr")
    fdinfo = load_fdinfo(os.path.join(d, "fdinfo.txt"))

    # 1. export jsonl == the live --json stream
    rc, out, err = run(et, "export", etr, "--format", "jsonl")
    if rc or err:
        fails.append(f"export jsonl: exit {rc}: {err.strip()}")
    elif out != live:
        a, b = live.splitlines(), out.splitlines()
        n = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
        fails.append(f"export jsonl differs from the live stream at line {n + 1} "
                     f"({len(a)} lines live, {len(b)} exported)")

    # 2. replay --summary == the live tables
    rc, out, err = run(et, "replay", os.path.join(d, "summary.etr"), "--summary", "-i", "0.5")
    want = masked_tables(open(os.path.join(d, "summary.txt")).read())
    got = masked_tables(out.decode())
    if rc or err:
        fails.append(f"replay --summary: exit {rc}: {err.strip()}")
    elif got != want or not want:
        n = next((i for i, (x, y) in enumerate(zip(want, got)) if x != y), min(len(want), len(got)))
        fails.append(f"replay --summary differs at row {n + 1}: live {want[n:n + 1]}, "
                     f"replayed {got[n:n + 1]}")

    # 3. replay --json-state: the final interest sets are the kernel's
    rc, out, err = run(et, "replay", etr, "--json-state")
    states = [json.loads(x) for x in out.splitlines()]
    if rc or err or not states or not states[-1]["final"]:
        fails.append(f"replay --json-state: exit {rc}, {len(states)} states: {err.strip()}")
    else:
        insts = {i["epfd"]: i for i in states[-1]["instances"] if not i["closed"]}
        for epfd, fds in fdinfo.items():
            got = sorted(x["fd"] for x in insts.get(epfd, {"fds": []})["fds"])
            if got != fds:
                fails.append(f"replayed epfd {epfd}: {got}, fdinfo {fds}")

    # 4. cut at random offsets
    size = os.path.getsize(etr)
    hdr_end = 20 + int.from_bytes(open(etr, "rb").read(16)[12:16], "little")
    seed = int(os.environ.get("CUT_SEED", random.SystemRandom().randrange(1 << 30)))
    rnd = random.Random(seed)
    cuts = sorted(rnd.randrange(hdr_end, size) for _ in range(6))
    full = live.splitlines()
    data = open(etr, "rb").read()
    cut_path = os.path.join(d, "cut.etr")
    for off in cuts:
        with open(cut_path, "wb") as f:
            f.write(data[:off])
        rc, out, err = run(et, "replay", cut_path, "--json")
        lines = out.splitlines()
        if rc != 0 or len(err.splitlines()) != 1 or "warning" not in err:
            fails.append(f"cut at {off} (seed {seed}): exit {rc}, stderr {err.strip()!r}")
        elif lines != full[:len(lines)]:
            fails.append(f"cut at {off} (seed {seed}): the stream is not a prefix of the whole")
        rc, out, err = run(et, "replay", cut_path, "--json-state")
        st = [json.loads(x) for x in out.splitlines()]
        if rc != 0 or not st or not st[-1]["final"]:
            fails.append(f"cut at {off} (seed {seed}): --json-state exit {rc}, {err.strip()!r}")
    os.unlink(cut_path)

    # 5. chrome export
    chrome = os.path.join(d, "trace.chrome.json")
    rc, _, err = run(et, "export", etr, "--format", "chrome", "-o", chrome)
    try:
        tr = json.load(open(chrome))
        ev = tr["traceEvents"]
    except (OSError, ValueError, KeyError) as e:
        fails.append(f"chrome export is not valid Trace Event JSON: {e} ({err.strip()})")
        ev = []
    if rc:
        fails.append(f"export chrome: exit {rc}: {err.strip()}")
    snaps = [e for e in load_jsonl(os.path.join(d, "trace.jsonl")) if e["type"] == "snapshot"]
    owner = snaps[0]["owner"] if snaps else None
    named = {(e["pid"], e["tid"]) for e in ev if e["ph"] == "M" and e["name"] == "thread_name"}
    waits = [e for e in ev if e["ph"] == "X" and e["name"] == "epoll_wait"]
    sleeps = [e for e in ev if e["ph"] == "X" and e["name"] in ("asleep", "woken")]
    cbs = [e for e in ev if e["ph"] == "i" and e["name"] == "ep_poll_callback"]
    ctr = [e for e in ev if e["ph"] == "C"]
    callbacks_seen = any(e["type"] == "callback" for e in load_jsonl(os.path.join(d, "trace.jsonl")))
    if ev:
        if not any(w["pid"] == owner for w in waits):
            fails.append(f"chrome: no epoll_wait span on a thread of {owner}")
        if not all((w["pid"], w["tid"]) in named for w in waits + sleeps):
            fails.append("chrome: a span on a thread with no thread_name")
        if not sleeps:
            fails.append("chrome: no asleep/woken spans")
        if not all(e["dur"] >= 0 and e["ts"] >= 0 for e in waits + sleeps):
            fails.append("chrome: a span with a negative time")
        if callbacks_seen != bool(cbs):
            fails.append(f"chrome: {len(cbs)} ep_poll_callback instants, stream has callbacks: "
                         f"{callbacks_seen}")
        for epfd, fds in fdinfo.items():
            name = f"epfd {epfd} (pid {owner})"
            mine = [e for e in ctr if e["name"] == name]
            if not mine or not all({"watched", "ready"} <= set(e["args"]) for e in mine):
                fails.append(f"chrome: no watched/ready counter {name!r}")
            elif mine[-1]["args"]["watched"] != len(fds):
                fails.append(f"chrome: {name} ends watching {mine[-1]['args']['watched']}, "
                             f"fdinfo {len(fds)}")

    nev = sum(1 for _ in full)
    print(f"{size} bytes for {nev} events: {size / max(nev, 1):.1f} bytes/event "
          f"(JSON Lines: {len(live) / max(nev, 1):.0f}); {len(cuts)} cuts, seed {seed}; "
          f"chrome: {len(waits)} waits, {len(sleeps)} sleep/wake spans, {len(cbs)} callbacks, "
          f"{len(ctr)} counter samples")
    for f in fails[:12]:
        print("  " + f)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
