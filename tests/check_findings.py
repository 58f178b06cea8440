#!/usr/bin/env python3
"""The findings of a --json stream against a diag-* scenario's ground truth.

usage: check_findings.py TRACE.jsonl TRUTH.jsonl [--label L] [--unseen DET,...]
       check_findings.py --same LIVE.jsonl REPLAY.jsonl [--label L]

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


def check_positive(f, t, nrecs):
    """what is wrong with finding f against truth line t, or None"""
    fds, tids = f.get("fds"), f.get("tids")
    if not isinstance(fds, list) or not isinstance(tids, list):
        return "fds or tids is not a list"
    if t["fds"] and not set(fds) <= set(t["fds"]):
        return f"fds {fds} name others than {t['fds']}"
    if len(set(fds)) < t.get("min_fds", 0):
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


def main(argv):
    label, unseen, args = "", set(), []
    i = 0
    while i < len(argv):
        if argv[i] == "--label":
            label = argv[i + 1] + ": "
            i += 2
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
        why = check_positive(f, t, len(recs))
        out(why is None, name, why and (why + " -- " + short(f)) or
            f"{short(f)}, {len(f['evidence'])} evidence, {versions[k]} versions")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
