#!/usr/bin/env python3
"""Check an epolltrace JSON stream of redis-server under load.

usage: check_server.py TRACE.jsonl FDINFO.txt ACCEPTED.txt SUMMARY.txt

- every connection redis accepted while traced was inserted (ctl ADD) and
  is gone again by the end (DEL or implicit release);
- every wait's delivered events name fds that are in the interest set at
  that moment, and as many as the wait returned (up to 16 copied);
- the final snapshot's watched count and members equal /proc/PID/fdinfo;
- nothing was lost;
- the final --summary table shows each instance watching what fdinfo
  shows, with drift 0.
"""
import sys

from checklib import load_fdinfo, load_jsonl


def main():
    trace = load_jsonl(sys.argv[1])
    fdinfo = load_fdinfo(sys.argv[2])
    accepted = int(open(sys.argv[3]).read())
    fails = []

    # the session record (the plan in force), then the seed snapshot
    if not trace or trace[0]["type"] != "session":
        fails.append("the stream does not start with the session record")
    trace = trace[1:]
    if not trace or trace[0]["type"] != "snapshot":
        fails.append("the stream does not start with the seed snapshot")
    # interest set per instance, seeded by the first snapshot round
    sets = {}
    first_seq = None
    added = 0
    removed = 0
    waits = 0
    delivered = 0
    for e in trace:
        t = e["type"]
        if t == "snapshot":
            if first_seq is None:
                first_seq = e["seq"]
            if e["seq"] == first_seq:
                sets[e["ep"]] = {x["fd"] for x in e["fds"]}
            continue
        s = sets.setdefault(e.get("ep"), set())
        if t == "ctl" and e["ret"] == 0:
            if e["op"] == "ADD":
                if e["fd"] in s:
                    fails.append(f"ADD of fd {e['fd']} already in the set")
                s.add(e["fd"])
                added += 1
            elif e["op"] == "DEL":
                if e["fd"] not in s:
                    fails.append(f"DEL of fd {e['fd']} not in the set")
                s.discard(e["fd"])
                removed += 1
        elif t == "release":
            s.discard(e["fd"])
            removed += 1
        elif t == "wait_exit":
            waits += 1
            if e["ret"] > 0:
                delivered += e["ret"]
                if len(e["events"]) != min(e["ret"], 16):
                    fails.append(f"wait returned {e['ret']} but {len(e['events'])} copied")
                for ev in e["events"]:
                    fd = ev["data"] & 0xffffffff  # redis: data.fd
                    if fd not in s:
                        fails.append(f"wait delivered fd {fd}, not in the interest set {sorted(s)}")
                        break
        elif t == "lost":
            fails.append(f"{e['count']} records lost ({e['ring']})")

    if added < accepted:
        fails.append(f"redis accepted {accepted} connections, the trace shows {added} ADDs")
    if removed < accepted:
        fails.append(f"redis closed {accepted} connections, the trace shows {removed} removals")
    if waits == 0 or delivered == 0:
        fails.append(f"no waits with events ({waits} waits, {delivered} events)")

    last = {}
    for e in trace:
        if e["type"] == "snapshot":
            last[e["epfd"]] = e
    for epfd, fds in fdinfo.items():
        s = last.get(epfd)
        if not s:
            fails.append(f"epfd {epfd} never in a snapshot")
            continue
        if s["watched"] != len(fds) or sorted(x["fd"] for x in s["fds"]) != fds:
            fails.append(f"epfd {epfd}: final snapshot watched {s['watched']} "
                         f"{sorted(x['fd'] for x in s['fds'])} != fdinfo {fds}")
    # the --summary session's final table
    lines = open(sys.argv[4], encoding="utf-8").read().splitlines()
    final = [i for i, l in enumerate(lines) if "(final)" in l]
    if not final:
        fails.append("--summary printed no final table")
    else:
        rows = {}
        for l in lines[final[-1] + 2:]:
            f = l.split()
            if len(f) >= 11 and f[0].isdigit():
                rows[int(f[2])] = (int(f[3]), int(f[10]))
        for epfd, fds in fdinfo.items():
            got = rows.get(epfd)
            if not got or got[0] != len(fds) or got[1] != 0:
                fails.append(f"--summary epfd {epfd}: (watched, drift) {got}, fdinfo {len(fds)}")
    print(f"  accepted={accepted} adds={added} removals={removed} waits={waits} "
          f"events={delivered}")
    for f in fails[:10]:
        print("  " + f)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
