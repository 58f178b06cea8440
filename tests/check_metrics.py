#!/usr/bin/python3
# Checks of the metrics endpoint for tests/metrics.sh (run with Debian's
# /usr/bin/python3: python3-prometheus-client's strict OpenMetrics parser).
#
#   http HOST:PORT METHOD PATH OUT [EXTRA_HEADER_BYTES]
#       one request; the whole response to OUT; prints the status code
#   lint RESPONSE             the 200's headers and its body, as OpenMetrics
#   values RESPONSE TRUTH     the workload's instance: its figures = its truth
#   other RESPONSE TRUTH_A TRUTH_B  two workloads, --metrics-max 1: one own
#                             series, the other folded into epfd="other"
#   prom PROM JOB TRUTH RANGE  through Prometheus's query API (RANGE: a range
#                             for max_over_time, e.g. 5m; "-": instant)
#   busy HOST:PORT            bounded clients, bounded requests, timeouts
#   seen RESPONSE TRUTH STATE INLINE  a guest's recording: callbacks, exact
#                             residency (and transfers if INLINE=1) = STATE's
# Exit 0 and one line of what was seen, or exit 1 and why.
import json
import socket
import sys
import time
import urllib.parse
import urllib.request

CT = "application/openmetrics-text; version=1.0.0; charset=utf-8"


def die(msg):
    print(msg)
    sys.exit(1)


def request(addr, method, path, extra=0, timeout=10):
    host, port = addr.rsplit(":", 1)
    s = socket.create_connection((host.strip("[]"), int(port)), timeout=timeout)
    req = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\n"
    if extra:
        req += "X-Pad: " + "a" * extra + "\r\n"
    req += "\r\n"
    s.sendall(req.encode())
    data = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
    s.close()
    return data


def split(resp):
    head, _, body = resp.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    hdr = {k.lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
    return status, hdr, body.decode()


def parse(body):
    from prometheus_client.openmetrics.parser import text_string_to_metric_families
    return list(text_string_to_metric_families(body))


def samples(body):
    """name -> [(labels, value)]"""
    out = {}
    for f in parse(body):
        for s in f.samples:
            out.setdefault(s.name, []).append((s.labels, s.value))
    return out


def of(smp, name, want):
    return [v for l, v in smp.get(name, []) if all(l.get(k) == x for k, x in want.items())]


def cmd_http(addr, method, path, out, extra="0"):
    r = request(addr, method, path, int(extra))
    open(out, "wb").write(r)
    print(split(r)[0])


def cmd_lint(resp):
    status, hdr, body = split(open(resp, "rb").read())
    if status != 200:
        die(f"status {status}")
    if hdr.get("content-type") != CT:
        die(f"Content-Type {hdr.get('content-type')!r}")
    if int(hdr.get("content-length", -1)) != len(body.encode()):
        die("Content-Length is not the body's length")
    if not body.endswith("\n# EOF\n"):
        die("the body does not end with # EOF")
    fams = parse(body)
    for f in fams:
        if not f.name.startswith("epolltrace_"):
            die(f"{f.name}: not prefixed epolltrace_")
        if not f.documentation:
            die(f"{f.name}: no HELP")
        if f.type == "counter" and not all(s.name.endswith("_total") for s in f.samples):
            die(f"{f.name}: a counter sample without _total")
        if f.name.endswith("_seconds") and f.unit != "seconds":
            die(f"{f.name}: no UNIT seconds")
    types = sorted({f.type for f in fams})
    print(f"{len(fams)} families ({', '.join(types)}), {sum(len(f.samples) for f in fams)} "
          f"samples, parsed by prometheus_client's OpenMetrics parser")


def expect_truth(get, t):
    """get(name, extra_labels) -> value; the truth of tests/anatomy_load.c"""
    want = {
        ("epolltrace_waits_total", ()): t["waits"],
        ("epolltrace_events_total", ()): t["events"],
        ("epolltrace_events_per_wait_count", ()): t["waits"],
        ("epolltrace_events_per_wait_sum", ()): t["events"],
        ("epolltrace_events_per_wait_bucket", (("le", "0.0"),)): t["ret"][0],
        ("epolltrace_events_per_wait_bucket", (("le", "1.0"),)): t["ret"][0] + t["ret"][1],
        ("epolltrace_events_per_wait_bucket", (("le", "3.0"),)): sum(t["ret"][:4]),
        ("epolltrace_events_per_wait_bucket", (("le", "+Inf"),)): t["waits"],
        ("epolltrace_full_waits_total", ()): t["ret"][4],
        ("epolltrace_timeouts_expired_total", ()): t["C"],
        ("epolltrace_watched_fds", ()): None,	# present
    }
    bad = []
    for (name, extra), v in want.items():
        got = get(name, dict(extra))
        if got is None or (v is not None and got != v):
            bad.append(f"{name}{dict(extra) or ''}={got} want {v}")
    return bad


def cmd_values(resp, truth):
    t = json.load(open(truth))
    status, _, body = split(open(resp, "rb").read())
    if status != 200:
        die(f"status {status}")
    smp = samples(body)
    inst = {"pid": str(t["pid"]), "epfd": str(t["epfd"])}

    def get(name, extra):
        v = of(smp, name, {**inst, **extra})
        return int(v[0]) if len(v) == 1 else None

    bad = expect_truth(get, t)
    comm = [l.get("comm") for l, _ in smp.get("epolltrace_waits_total", []) if
            l.get("pid") == inst["pid"] and l.get("epfd") == inst["epfd"]]
    if comm != ["anatomy_load"]:
        bad.append(f"comm {comm}")
    if bad:
        die("; ".join(bad))
    print(f"waits {t['waits']} events {t['events']} ret {t['ret']} as the truth, "
          f"comm anatomy_load")


def cmd_other(resp, truth_a, truth_b):
    """two workloads, --metrics-max 1: one has its series, the other is in "other" """
    ta, tb = json.load(open(truth_a)), json.load(open(truth_b))
    _, _, body = split(open(resp, "rb").read())
    smp = samples(body)
    w = smp.get("epolltrace_waits_total", [])
    own = [(l, v) for l, v in w if l.get("epfd") != "other"]
    other = [(l, v) for l, v in w if l.get("epfd") == "other"]
    folded = of(smp, "epolltrace_instances_folded", {})
    if len(own) != 1 or len(other) != 1 or set(other[0][0]) != {"epfd"}:
        die(f"series {w}")
    mine, theirs = (ta, tb) if own[0][0]["pid"] == str(ta["pid"]) else (tb, ta)
    if own[0][0] != {"pid": str(mine["pid"]), "comm": "anatomy_load",
                     "epfd": str(mine["epfd"])}:
        die(f"own series {own[0][0]}, truths {ta['pid']}/{ta['epfd']} {tb['pid']}/{tb['epfd']}")
    if own[0][1] != mine["waits"] or other[0][1] != theirs["waits"]:
        die(f"waits own {own[0][1]} other {other[0][1]}; truths {mine['waits']} "
            f"{theirs['waits']}")
    if not folded or folded[0] < 1:
        die(f"instances_folded {folded}")
    print(f"pid {mine['pid']} its own series, waits {mine['waits']}; pid {theirs['pid']} "
          f"folded: epfd=\"other\" waits {theirs['waits']}; instances_folded {int(folded[0])}")


def prom_query(prom, q):
    u = f"http://{prom}/api/v1/query?" + urllib.parse.urlencode({"query": q})
    r = json.load(urllib.request.urlopen(u, timeout=5))
    if r.get("status") != "success":
        raise RuntimeError(r)
    return r["data"]["result"]


def cmd_prom(prom, job, truth, rng):
    t = json.load(open(truth))
    sel = f'job="{job}",pid="{t["pid"]}",epfd="{t["epfd"]}"'
    last = None
    # scrapes are every second: the last one may be a few seconds away
    for _ in range(30):
        def get(name, extra):
            s = sel + "".join(f',{k}="{v}"' for k, v in extra.items())
            q = f"{name}{{{s}}}" if rng == "-" else f"max_over_time({name}{{{s}}}[{rng}])"
            res = prom_query(prom, q)
            return int(float(res[0]["value"][1])) if len(res) == 1 else None

        bad = expect_truth(get, t)
        up = prom_query(prom, f'max_over_time(up{{job="{job}"}}[{"5m" if rng == "-" else rng}])')
        if not up or up[0]["value"][1] != "1":
            bad.append(f"up {up}")
        comm = prom_query(prom, f'count by (comm) (epolltrace_waits_total{{{sel}}})'
                          if rng == "-" else
                          f'count by (comm) (last_over_time(epolltrace_waits_total{{{sel}}}[{rng}]))')
        if [c["metric"].get("comm") for c in comm] != ["anatomy_load"]:
            bad.append(f"comm {comm}")
        if not bad:
            print(f"through Prometheus's query API: waits {t['waits']} events {t['events']} "
                  f"buckets and counters as the truth, comm anatomy_load, up 1")
            return
        last = bad
        time.sleep(1)
    die("; ".join(last))


def cmd_busy(addr):
    host, port = addr.rsplit(":", 1)
    idle = [socket.create_connection((host, int(port)), timeout=5) for _ in range(8)]
    time.sleep(0.3)
    # every place taken by a silent client: the 9th waits in the backlog and is
    # answered once the server has closed a silent one (its timeout)
    st = split(request(addr, "GET", "/metrics", timeout=30))[0]
    if st != 200:
        die(f"a 9th client while 8 are silent: {st}, want 200 once a place frees")
    closed = 0
    for s in idle:
        s.setblocking(False)
        try:
            closed += s.recv(1) == b""
        except BlockingIOError:
            pass
    if not closed:
        die("the 9th was answered while the 8 silent clients all held their places")
    deadline = time.time() + 20
    for s in idle:
        s.settimeout(max(0.1, deadline - time.time()))
        try:
            if s.recv(1) != b"":
                die("a silent client got data")
        except socket.timeout:
            die("a silent client was never closed")
        s.close()
    st = split(request(addr, "GET", "/metrics", extra=8000))[0]
    if st != 431:
        die(f"a request head of 8 KB: {st}, want 431")
    print(f"8 silent clients: the 9th answered only after the server closed {closed} of them "
          "(the timeout), all closed; an 8 KB request head gets 431")


def cmd_seen(resp, truth, state, inline):
    """a guest's recording (fentry/kprobe): what tracepoint mode lacks is served,
    equal to --json-state's figures of the same recording"""
    t = json.load(open(truth))
    _, _, body = split(open(resp, "rb").read())
    smp = samples(body)
    inst = {"pid": str(t["pid"]), "epfd": str(t["epfd"])}
    st = [json.loads(l) for l in open(state) if l.strip()][-1]
    i = [i for i in st["instances"] if i["pid"] == t["pid"] and i["epfd"] == t["epfd"]][0]

    def one(name):
        v = of(smp, name, inst)
        return int(v[0]) if len(v) == 1 else None

    bad = []
    cb = one("epolltrace_callbacks_total")
    if cb is None or cb != i["counters"]["callbacks"] or not cb:
        bad.append(f"callbacks_total {cb}, --json-state {i['counters']['callbacks']}")
    res = one("epolltrace_residency_seconds_count")
    if res is None or res != i["anatomy"]["residency_ns"]["count"] or not res:
        bad.append(f"residency count {res}, --json-state {i['anatomy']['residency_ns']}")
    xfer = one("epolltrace_transfer_seconds_count")
    if inline == "1" and (xfer is None or not xfer or
                          xfer != i["anatomy"]["transfer_ns"]["count"]):
        bad.append(f"transfer count {xfer}, --json-state {i['anatomy']['transfer_ns']}")
    if inline == "0" and xfer is not None:
        bad.append(f"transfer served without the inline rung: {xfer}")
    if bad:
        die("; ".join(bad))
    print(f"callbacks_total {cb}, residency_seconds_count {res}"
          + (f", transfer_seconds_count {xfer}" if inline == "1" else ", no transfer")
          + " = --json-state's")


if __name__ == "__main__":
    cmds = {"http": cmd_http, "lint": cmd_lint, "values": cmd_values, "other": cmd_other,
            "prom": cmd_prom, "busy": cmd_busy, "seen": cmd_seen}
    try:
        cmds[sys.argv[1]](*sys.argv[2:])
    except SystemExit:
        raise
    except Exception as e:
        die(f"{type(e).__name__}: {e}")
