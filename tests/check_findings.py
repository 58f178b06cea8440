#!/usr/bin/env python3
"""The findings of a --json stream against a diag-* scenario's ground truth.

usage: check_findings.py TRACE.jsonl TRUTH.jsonl [--label L] [--unseen DET,...]
       check_findings.py --same LIVE.jsonl REPLAY.jsonl [--label L]
       check_findings.py --raw TRACE.jsonl TRUTH.jsonl [--label L]

The truth (cli/workloads/diag.c) has a line {"t":"scenario","pid":P} and
one {"t":"diag","detector":D,"expect":B,"epfd":E,"fds":[..],"min_fds":N,
"tids":[..],"min_tids":N,"must_tids":[..]} per instance to check.  The
stream's "finding" records are taken at their latest version for each
(detector, pid, epfd):
- expect true: there is one for (D, P, E); its fds are among fds, at least
  min_fds of them; its tids among tids, at least min_tids, every must_tids
  one of them; count >= 1; text and hint say something; evidence is not
  empty and each item of it names a record (its seq).
- expect false: there is none for (D, P, E).
--unseen D,...: detectors this mode cannot see (said by the suite from the
session's hooks): a positive check then only holds that whatever is found
is right, and says so.
--raw: no findings looked at: the records the stream has anyway (wait
exits, wakeups, snapshots) show the case clearly on its side of the
detector's default threshold (or clearly not), so that a failing finding
check is the detector's, not the workload's.
--unseen D:fds: detector D cannot name the fds in this mode: its findings
need not (those they name must be right).
--same: the latest findings of two streams (live and its replay) are equal.
Prints one line per check, "PASS name" or "FAIL name :: detail"; exits 1
if any failed.
"""
import json
import sys


def load(path):
    out = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                out.append(json.loads(line))
            except ValueError as e:
                raise SystemExit(f"{path}:{n}: not JSON: {e}")
    return out


def findings(recs):
    """the latest record of each (detector, pid, epfd), and how many versions"""
    latest, versions = {}, {}
    for r in recs:
        if r.get("type") != "finding":
            continue
        k = (r.get("detector"), r.get("pid"), r.get("epfd"))
        latest[k] = r
        versions[k] = versions.get(k, 0) + 1
    return latest, versions


def short(f):
    return (f"{f.get('detector')} pid {f.get('pid')} epfd {f.get('epfd')} fds {f.get('fds')} "
            f"tids {f.get('tids')} count {f.get('count')} value {f.get('value')}")


def check_positive(f, t, nrecs, fds_optional=False):
    """what is wrong with finding f against truth line t, or None"""
    fds, tids = f.get("fds"), f.get("tids")
    if not isinstance(fds, list) or not isinstance(tids, list):
        return "fds or tids is not a list"
    if t["fds"] and not set(fds) <= set(t["fds"]):
        return f"fds {fds} name others than {t['fds']}"
    if len(set(fds)) < t.get("min_fds", 0) and not fds_optional:
        return f"fds {fds}: fewer than {t['min_fds']} of {t['fds']}"
    if not set(tids) <= set(t["tids"]):
        return f"tids {tids} name others than {t['tids']}"
    if len(set(tids)) < t.get("min_tids", 0):
        return f"tids {tids}: fewer than {t['min_tids']} of {t['tids']}"
    missing = set(t.get("must_tids", [])) - set(tids)
    if missing:
        return f"tids {tids} miss {sorted(missing)}"
    if not isinstance(f.get("count"), int) or f["count"] < 1:
        return f"count {f.get('count')}"
    for k in ("text", "hint"):
        if not isinstance(f.get(k), str) or not f[k].strip():
            return f"no {k}"
    ev = f.get("evidence")
    if not isinstance(ev, list) or not ev:
        return "no evidence"
    for e in ev:
        seq = e.get("seq") if isinstance(e, dict) else None
        if not isinstance(seq, int) or seq < 1:
            return f"evidence {e} names no record of the stream (seq)"
    return None


# ---- --raw: the phenomenon in the records, whatever the detectors say ------

def raw_measure(det, recs, pid, t):
    """what the stream shows of det on (pid, epfd): (measure, text)"""
    ep = t["epfd"]
    mine = [r for r in recs if r.get("pid") == pid and r.get("epfd") == ep]
    exits = [r for r in mine if r["type"] == "wait_exit" and r.get("ret", -1) >= 0]
    tags = {ep << 32 | fd for fd in t["fds"]}

    def delivers(r):
        return any(e.get("data") in tags for e in r.get("events") or [])
    if det == "herd":
        # deliveries of the watched eventfd, and wakeups for nothing: a thread
        # woken (not by its timer) that slept again before its wait returned
        took, woken, nothing = 0, set(), 0
        for r in mine:
            if r["type"] == "wakeup" and not r.get("timer"):
                woken.add(r["tid"])
            elif r["type"] == "sleep" and r["tid"] in woken:
                woken.discard(r["tid"])
                nothing += 1
            elif r in exits:
                woken.discard(r["tid"])
                took += delivers(r)
        return (took, nothing), f"{took} deliveries of the eventfd, {nothing} wakeups for nothing"
    if det == "exclusive-imbalance":
        by = {}
        for r in mine:
            if r["type"] == "wakeup":
                by[r["tid"]] = by.get(r["tid"], 0) + 1
        n = sum(by.values())
        top = max(by.values()) if by else 0
        return (100 * top // n if n else 0, n), f"top thread {top} of {n} wakeups"
    if det == "lt-spin":
        best = run = 0
        last = None
        for r in exits:
            d = tuple(sorted(e.get("data") for e in r.get("events") or []))
            run = run + 1 if d and d == last else (1 if d else 0)
            last = d
            best = max(best, run)
        return best, f"longest run of waits delivering the same items: {best}"
    if det == "maxevents-saturation":
        maxev = {}
        full = total = 0
        for r in mine:
            if r["type"] == "wait_enter":
                maxev[r["tid"]] = r.get("maxevents")
            elif r in exits:
                total += 1
                full += r.get("ret") == maxev.get(r["tid"])
        return (100 * full // total if total else 0), f"{full} of {total} waits full"
    if det == "busy-poll":
        z = [r for r in mine if r["type"] == "wait_enter" and r.get("timeout_ns") == 0]
        empty = sum(1 for r in exits if r.get("ret") == 0)
        span = (z[-1]["ts_ns"] - z[0]["ts_ns"]) / 1e9 if len(z) > 1 else 0
        rate = (len(z) - 1) / span if span else 0
        return (len(z), empty, rate), (f"{len(z)} timeout-0 waits, {empty} empty, "
                                       f"{rate:.0f}/s over {span:.2f} s")
    if det == "zero-wakeups":
        # waits that slept and returned 0 after a wakeup that was not their timer's
        woken, z = {}, []
        for r in mine:
            if r["type"] == "wait_enter":
                woken[r["tid"]] = False
            elif r["type"] == "wakeup" and not r.get("timer"):
                woken[r["tid"]] = True
            elif r in exits and r.get("ret") == 0 and r.get("slept_ns") and woken.get(r["tid"]):
                z.append(r)
        span = (z[-1]["ts_ns"] - z[0]["ts_ns"]) / 1e9 if len(z) > 1 else 0
        rate = (len(z) - 1) / span if span else 0
        return (len(z), rate, span), (f"{len(z)} waits woken for nothing that returned 0, "
                                      f"{rate:.0f}/s over {span:.2f} s")
    if det == "stale-registration":
        dels = [r for r in mine if r["type"] == "ctl" and r.get("op") == "DEL"]
        snaps = [r for r in mine if r["type"] == "snapshot"]
        listed = bool(snaps) and any(f.get("fd") in t["fds"] for f in snaps[-1].get("fds", []))
        return (len(dels), listed), f"{len(dels)} DEL, fd {t['fds']} in the last snapshot: {listed}"
    if det == "long-residency":
        snaps = [r for r in mine if r["type"] == "snapshot"]
        seen = sum(1 for r in snaps if set(r.get("ready") or []) & set(t["fds"]))
        return seen, f"{seen} of {len(snaps)} snapshots with the item on the ready list"
    return None, "unknown detector"


def raw_ok(det, expect, m):
    """the measure is a clear case, on its side of the default threshold"""
    if det == "herd":
        took, nothing = m
        return (took >= 3 and nothing >= 3) if expect else nothing == 0
    if det == "exclusive-imbalance":
        share, n = m
        return (share >= 90 and n >= 60) if expect else (share <= 50 or n < 10)
    if det == "lt-spin":
        return m >= 32 if expect else m <= 1
    if det == "maxevents-saturation":
        return m >= 90 if expect else m == 0
    if det == "busy-poll":
        n, empty, rate = m
        return (n >= 2000 and empty >= 0.9 * n and rate >= 1500) if expect else empty <= n // 10
    if det == "zero-wakeups":
        n, rate, span = m
        return (n >= 30 and rate >= 20 and span >= 1.0) if expect else n <= 1
    if det == "stale-registration":
        dels, listed = m
        return (dels == 0 and listed) if expect else dels >= 1
    if det == "long-residency":
        return m >= 1 if expect else m == 0
    return False


def main(argv):
    label, unseen, args, raw = "", set(), [], False
    i = 0
    while i < len(argv):
        if argv[i] == "--label":
            label = argv[i + 1] + ": "
            i += 2
        elif argv[i] == "--raw":
            raw = True
            i += 1
        elif argv[i] == "--unseen":
            unseen = {d for d in argv[i + 1].split(",") if d}
            i += 2
        else:
            args.append(argv[i])
            i += 1
    bad = 0

    def out(ok, name, detail=""):
        nonlocal bad
        if ok:
            print(f"PASS {label}{name}" + (f" ({detail})" if detail else ""))
        else:
            bad += 1
            print(f"FAIL {label}{name} :: {detail}")

    if args and args[0] == "--same":
        a, _ = findings(load(args[1]))
        b, _ = findings(load(args[2]))
        diff = []
        for k in sorted(set(a) | set(b), key=str):
            if k not in a or k not in b:
                diff.append(f"{k} only in {'live' if k in a else 'replay'}")
                continue
            keys = [x for x in set(a[k]) | set(b[k]) if a[k].get(x) != b[k].get(x)]
            if keys:
                diff.append(f"{k} differs in {sorted(keys)}")
        out(not diff, f"replay finds what live found ({len(a)} findings)", "; ".join(diff[:4]))
        return 1 if bad else 0

    recs, truth = load(args[0]), load(args[1])
    sc = [t for t in truth if t.get("t") == "scenario"]
    lines = [t for t in truth if t.get("t") == "diag"]
    if not sc or not lines:
        out(False, "the truth names the scenario and what to check", args[1])
        return 1
    pid = sc[0]["pid"]
    if raw:
        for t in lines:
            m, text = raw_measure(t["detector"], recs, pid, t)
            out(m is not None and raw_ok(t["detector"], t["expect"], m),
                f"{sc[0]['name']}: the records show {'a' if t['expect'] else 'no'} "
                f"{t['detector']} case on epfd {t['ep' + 'fd']}", text)
        return 1 if bad else 0
    latest, versions = findings(recs)
    for t in lines:
        det, ep = t["detector"], t["epfd"]
        k = (det, pid, ep)
        f = latest.get(k)
        if not t["expect"]:
            out(f is None, f"{sc[0]['name']}: no {det} finding on epfd {ep}",
                short(f) + f" text {f.get('text')!r}" if f else "")
            continue
        name = f"{sc[0]['name']}: a {det} finding on epfd {ep}"
        if det in unseen:
            why = None if f is None else check_positive(f, t, len(recs))
            out(why is None, name + " (not visible in this mode: whatever is found is right)",
                why or ("none found" if f is None else short(f)))
            continue
        if f is None:
            others = [short(x) for x in latest.values()]
            out(False, name, "none; found: " + ("; ".join(others[:4]) or "nothing"))
            continue
        nofds = det + ":fds" in unseen
        why = check_positive(f, t, len(recs), nofds)
        out(why is None, name + (" (no fd required: not visible in this mode)" if nofds else ""),
            why and (why + " -- " + short(f)) or
            f"{short(f)}, {len(f['evidence'])} evidence, {versions[k]} versions")
    return 1 if bad else 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except (OSError, ValueError, KeyError, TypeError, IndexError, SystemExit) as e:
        if isinstance(e, SystemExit) and e.code in (0, 1, None):
            raise
        print(f"FAIL check_findings {' '.join(sys.argv[1:])[:200]} :: {e}")
        sys.exit(1)
