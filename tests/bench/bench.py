#!/usr/bin/env python3
"""epolltrace's benchmark (`make bench`): overhead on two real epoll servers,
BPF cost per program, pipeline capacity, footprint, recordings.

Prints one table on stdout; per-run figures go to OUT/runs.jsonl and the
table to OUT/table.txt.  Exits 0 whether targets pass or miss, non-zero
only when the harness itself broke.  Every configuration the binary does
not support yet (record, replay, export, the TUI) gets a "not built yet"
row: nothing is estimated.

Only ratios taken in one run mean anything on a noisy machine, so the
overhead configurations run alternately, round after round, and each is
compared with the untraced baseline of its own round.
"""
import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REDIS_PORT = 16379
NGINX_PORT = 18080
TARGET_LOSS = 0.02          # throughput loss with full tracing and recording
TARGET_NS = 200             # ns per event per BPF program
TARGET_RATE = 200_000       # records/s without ring-buffer loss
TARGET_RSS_MB = 32          # at 100k watched fds (issue 11)
TARGET_REPLAY = 5_000_000   # events/s

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


class HarnessError(Exception):
    pass


class LoadFailed(Exception):
    """one load run gave no figure: retried once, then counted, not fatal"""


# --------------------------------------------------------------------------
# processes: everything we start is in its own process group and is killed
# (by its id) on exit, error or Ctrl-C

started = []            # Popen objects
tmux_sessions = []      # names
restore_sysctl = {}     # path -> old value


def spawn(cmd, **kw):
    kw.setdefault("stdin", subprocess.DEVNULL)
    p = subprocess.Popen(cmd, start_new_session=True, **kw)
    started.append(p)
    return p


def reap(p, sig=signal.SIGINT, timeout=15):
    """Stop p (signal, then SIGKILL); return (returncode, rusage or None)."""
    ru = None
    if p.returncode is None:
        try:
            os.kill(p.pid, sig)
        except ProcessLookupError:
            pass
        deadline = time.time() + timeout
        while time.time() < deadline:
            pid, status, r = os.wait4(p.pid, os.WNOHANG)
            if pid == p.pid:
                p.returncode = os.waitstatus_to_exitcode(status)
                ru = r
                break
            time.sleep(0.02)
        else:
            kill_group(p)
            _, status, ru = os.wait4(p.pid, 0)
            p.returncode = os.waitstatus_to_exitcode(status)
    if p in started:
        started.remove(p)
    return p.returncode, ru


def run_tracked(cmd, timeout=600):
    """subprocess.run, but killed by cleanup() too"""
    p = spawn(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(p)
        p.communicate()
        raise HarnessError(f"{cmd[0]} took more than {timeout}s")
    finally:
        if p in started:
            started.remove(p)
    return subprocess.CompletedProcess(cmd, p.returncode, out, err)


def kill_group(p):
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def cleanup():
    for p in list(started):
        if p.returncode is None and p.poll() is None:
            kill_group(p)
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
    started.clear()
    for s in list(tmux_sessions):
        subprocess.run(["tmux", "kill-session", "-t", s], stderr=subprocess.DEVNULL)
    tmux_sessions.clear()
    for path, old in list(restore_sysctl.items()):
        try:
            with open(path, "w") as f:
                f.write(old)
        except OSError:
            pass
        del restore_sysctl[path]


def on_signal(sig, frame):
    cleanup()
    sys.stderr.write("bench: interrupted\n")
    os._exit(130)


def cpu_ticks(pid):
    """utime + stime of a process, in seconds (None if gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return None


def vm_hwm_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def fd_links(pid):
    out = []
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                out.append((fd, os.readlink(f"/proc/{pid}/fd/{fd}")))
            except OSError:
                pass
    except OSError:
        pass
    return out


def wait_attached(pid, timeout=30.0, settle=0.5):
    """Until the tracer holds perf-event/BPF-link fds and their number has
    not changed for `settle` seconds: its probes are in place."""
    deadline = time.time() + timeout
    last, since = -1, time.time()
    while time.time() < deadline:
        if not os.path.exists(f"/proc/{pid}"):
            return False
        n = sum(1 for _, t in fd_links(pid) if "perf_event" in t or "bpf_link" in t)
        if n != last:
            last, since = n, time.time()
        elif n > 0 and time.time() - since >= settle:
            return True
        time.sleep(0.05)
    return False


def wait_file(path, pattern, timeout=30.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with open(path, errors="replace") as f:
                if re.search(pattern, f.read()):
                    return True
        except OSError:
            pass
        time.sleep(0.05)
    return False


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


# --------------------------------------------------------------------------
# what this binary and this kernel support

class Env:
    def __init__(self, et, load, out):
        self.et = os.path.abspath(et)
        self.load = os.path.abspath(load)
        self.out = out
        self.modes = {}         # mode -> None (works) or the reason it does not
        self.features = {}      # record/replay/export/tui -> bool

    def probe(self):
        for m in ("fentry", "kprobe", "tracepoint"):
            r = subprocess.run([self.et, "probes", "--json", f"--attach={m}"],
                               capture_output=True, text=True)
            try:
                d = json.loads(r.stdout)
            except ValueError:
                raise HarnessError(f"epolltrace probes --json --attach={m}: {r.stderr.strip()}")
            if d.get("ok"):
                self.modes[m] = None
                continue
            why = d.get("fix") or "does not work here"
            for h in d.get("hooks", []):
                for t in h.get("tried", []):
                    if t.get("kind") == m and t.get("rejected"):
                        why = t["rejected"]
                        break
                else:
                    continue
                break
            self.modes[m] = why
        self.features["record"] = self._sub_ok(["record", "--help"], "record")
        self.features["replay"] = self._sub_ok(["replay", "--help"], "replay")
        self.features["export"] = self._sub_ok(["export", "--help"], "export")
        self.features["tui"] = self._has_tui()

    def _sub_ok(self, args, word):
        r = subprocess.run([self.et] + args, capture_output=True, text=True)
        return r.returncode == 0 and word in (r.stdout + r.stderr).lower()

    def _has_tui(self):
        """The TUI is ncurses: linked in, or named in --help."""
        r = subprocess.run([self.et, "--help"], capture_output=True, text=True)
        if re.search(r"\b(tui|ncurses|interactive)\b", r.stdout, re.I):
            return True
        r = subprocess.run(["ldd", self.et], capture_output=True, text=True)
        return bool(re.search(r"libncurses|libtinfo", r.stdout))

    def working_modes(self):
        return [m for m, why in self.modes.items() if why is None]


# --------------------------------------------------------------------------
# servers and their load generators

class Redis:
    name = "redis"

    def __init__(self, out, requests, seconds=None):
        self.out, self.requests, self.p = out, requests, None
        self.seconds = seconds      # aim every run at this long (see load())
        self.last = {}              # configuration -> last requests/s

    def start(self):
        self.p = spawn(["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1",
                        "--save", "", "--appendonly", "no", "--daemonize", "no",
                        "--logfile", os.path.join(self.out, "redis.log")],
                       stdout=subprocess.DEVNULL)
        for _ in range(100):
            if subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "ping"],
                              capture_output=True).returncode == 0:
                return
            time.sleep(0.1)
        raise HarnessError("redis-server did not start (port %d busy?)" % REDIS_PORT)

    def pids(self):
        return [self.p.pid]

    def load(self, key=None):
        """-> (requests/s, p99 ms).  redis-benchmark runs a number of
        requests, not a time: with --redis-seconds, each configuration asks
        for as many as its previous run served in that time (at most
        --redis-requests), so a slow configuration (strace) does not run
        ten times longer than the others, and a round stays short."""
        n = self.requests
        if self.seconds and key in self.last:
            n = max(10000, min(n, int(self.last[key] * self.seconds)))
        r = run_tracked(["redis-benchmark", "-p", str(REDIS_PORT), "-c", "50",
                         "-n", str(n), "-t", "get", "--csv"])
        for line in r.stdout.splitlines():
            f = [x.strip('"') for x in line.split(",")]
            if f and f[0] == "GET":
                self.last[key] = float(f[1])
                return float(f[1]), float(f[6])
        raise LoadFailed(f"redis-benchmark exited {r.returncode} without a result: "
                         + (r.stdout + r.stderr)[-300:])

    def stop(self):
        if self.p:
            reap(self.p, signal.SIGTERM)
            self.p = None


class Nginx:
    name = "nginx"

    def __init__(self, out, seconds):
        self.out, self.seconds, self.p = out, seconds, None
        self.dir = os.path.join(out, "nginx")

    def start(self):
        os.makedirs(os.path.join(self.dir, "html"), exist_ok=True)
        with open(os.path.join(self.dir, "html", "index.html"), "w") as f:
            f.write("<html><body>" + "epolltrace bench " * 30 + "</body></html>\n")
        conf = os.path.join(self.dir, "nginx.conf")
        d = self.dir
        with open(conf, "w") as f:
            f.write(f"""worker_processes 1;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 1024; use epoll; }}
http {{
    access_log off;
    client_body_temp_path {d}/tmp-body;
    proxy_temp_path {d}/tmp-proxy;
    fastcgi_temp_path {d}/tmp-fastcgi;
    uwsgi_temp_path {d}/tmp-uwsgi;
    scgi_temp_path {d}/tmp-scgi;
    server {{
        listen 127.0.0.1:{NGINX_PORT};
        root {d}/html;
    }}
}}
""")
        self.p = spawn(["nginx", "-c", conf, "-p", d], stdout=subprocess.DEVNULL,
                       stderr=open(os.path.join(d, "stderr.log"), "w"))
        for _ in range(100):
            if len(self.pids()) >= 2:
                r = subprocess.run(["wrk", "-t1", "-c1", "-d1s",
                                    f"http://127.0.0.1:{NGINX_PORT}/"],
                                   capture_output=True, text=True)
                if r.returncode == 0 and "Requests/sec" in r.stdout:
                    return
            if self.p.poll() is not None:
                break
            time.sleep(0.1)
        raise HarnessError("nginx did not start (port %d busy?): see %s/error.log"
                           % (NGINX_PORT, d))

    def pids(self):
        """master and workers"""
        r = subprocess.run(["pgrep", "-P", str(self.p.pid)], capture_output=True, text=True)
        return [self.p.pid] + [int(x) for x in r.stdout.split()]

    errors = 0

    def load(self, key=None):
        r = run_tracked(["wrk", "-t1", "-c50", f"-d{self.seconds}s", "--latency",
                         f"http://127.0.0.1:{NGINX_PORT}/"])
        rps = p99 = None
        for line in r.stdout.splitlines():
            m = re.match(r"\s*Requests/sec:\s+([\d.]+)", line)
            if m:
                rps = float(m.group(1))
            m = re.match(r"\s*99%\s+([\d.]+)(us|ms|s)\b", line)
            if m:
                p99 = float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]
        if rps is None or p99 is None:
            raise LoadFailed(f"wrk exited {r.returncode} without a result: "
                             + (r.stdout + r.stderr)[-300:])
        if re.search(r"Non-2xx", r.stdout):
            raise HarnessError("nginx answered with errors: " + r.stdout[-300:])
        # timeouts and resets under a slow tracer (strace) are a result, not a breakage
        m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                      r.stdout)
        self.errors = sum(int(x) for x in m.groups()) if m else 0
        return rps, p99

    def stop(self):
        if self.p:
            reap(self.p, signal.SIGTERM)
            self.p = None


# --------------------------------------------------------------------------
# tracer configurations: start(pids) -> handle, stop(handle) -> info

BT_SCRIPT = """\
tracepoint:syscalls:sys_enter_epoll_ctl /{f}/ {{ printf("%d %d ctl %d %d %d\\n", pid, tid, args->epfd, args->op, args->fd); }}
tracepoint:syscalls:sys_exit_epoll_ctl /{f}/ {{ printf("%d %d ctl_ret %d\\n", pid, tid, args->ret); }}
tracepoint:syscalls:sys_enter_epoll_wait /{f}/ {{ printf("%d %d wait %d %d %d\\n", pid, tid, args->epfd, args->maxevents, args->timeout); }}
tracepoint:syscalls:sys_exit_epoll_wait /{f}/ {{ printf("%d %d wait_ret %d\\n", pid, tid, args->ret); }}
tracepoint:syscalls:sys_enter_epoll_pwait /{f}/ {{ printf("%d %d pwait %d %d %d\\n", pid, tid, args->epfd, args->maxevents, args->timeout); }}
tracepoint:syscalls:sys_exit_epoll_pwait /{f}/ {{ printf("%d %d pwait_ret %d\\n", pid, tid, args->ret); }}
"""


class Tracer:
    """One configuration of the overhead table."""

    def __init__(self, key, label, env, out, argv=None, kind="plain", missing=None):
        self.key, self.label, self.env, self.out = key, label, env, out
        self.argv, self.kind, self.missing = argv, kind, missing
        self.n = 0

    def start(self, pids):
        self.n += 1
        tag = f"{self.key}-{self.n}"
        self.err = os.path.join(self.out, "logs", tag + ".err")
        h = {"tag": tag}
        if self.kind == "none":
            return h
        if self.kind == "tui":
            name = f"etbench-{os.getpid()}-{self.n}"
            cmd = " ".join([f"exec {self.env.et}"] + [f"-p {p}" for p in pids]
                           + [f"2>{self.err}"])
            subprocess.run(["tmux", "new-session", "-d", "-s", name, "-x", "200", "-y", "50",
                            cmd], check=True)
            tmux_sessions.append(name)
            pp = subprocess.run(["tmux", "list-panes", "-t", name, "-F", "#{pane_pid}"],
                                capture_output=True, text=True).stdout.split()
            h.update(session=name, pid=int(pp[0]))
            if not wait_attached(h["pid"]):
                raise HarnessError(f"{self.label}: TUI did not attach: see {self.err}")
            h["cpu0"] = cpu_ticks(h["pid"])
            return h
        argv = self.argv(pids, tag)
        stdout = subprocess.DEVNULL
        if self.kind == "record":
            h["file"] = os.path.join(self.out, "rec", tag + ".etr")
        p = spawn(argv, stdout=stdout, stderr=open(self.err, "w"))
        h["p"], h["pid"] = p, p.pid
        if self.key == "strace":
            ok = wait_file(self.err, r"attached")
            time.sleep(0.3)
        else:
            ok = wait_attached(p.pid)
        if not ok:
            reap(p)
            raise HarnessError(f"{self.label}: did not attach: "
                               + open(self.err, errors="replace").read()[-400:])
        time.sleep(0.3)     # the seed snapshot
        h["cpu0"] = cpu_ticks(p.pid)
        h["t0"] = time.time()
        return h

    def stop(self, h):
        info = {}
        if self.kind == "none":
            return info
        cpu1 = cpu_ticks(h["pid"])
        if cpu1 is not None and h.get("cpu0") is not None:
            info["tracer_cpu_s"] = cpu1 - h["cpu0"]
        if self.kind == "tui":
            try:
                os.kill(h["pid"], signal.SIGINT)
            except ProcessLookupError:
                pass
            for _ in range(100):
                if not os.path.exists(f"/proc/{h['pid']}"):
                    break
                time.sleep(0.05)
            subprocess.run(["tmux", "kill-session", "-t", h["session"]],
                           stderr=subprocess.DEVNULL)
            tmux_sessions.remove(h["session"])
            return info
        rc, ru = reap(h["p"])
        info["rc"] = rc
        if ru:
            info["max_rss_kb"] = ru.ru_maxrss
        try:
            err = open(self.err, errors="replace").read()
        except OSError:
            err = ""
        m = re.findall(r"(\d+) records lost|lost (\d+)", err)
        if m:
            info["lost_note"] = err.strip().splitlines()[-1]
        if h.get("file") and os.path.exists(h["file"]):
            # its size is logged; bytes/event come from the recordings section
            info["file_bytes"] = os.path.getsize(h["file"])
            os.unlink(h["file"])
        return info


def tracer_configs(env, out, rec_dir):
    et = env.et
    cfgs = [Tracer("none", "no tracer", env, out, kind="none")]
    for m, why in env.modes.items():
        label = f"epolltrace --json ({m})"
        if why is None:
            cfgs.append(Tracer(f"json-{m}", label, env, out,
                               argv=lambda pids, tag, m=m: [et] + sum([["-p", str(p)] for p in pids], [])
                               + ["--json", f"--attach={m}"]))
        else:
            cfgs.append(Tracer(f"json-{m}", label, env, out,
                               missing=f"unsupported on this kernel: {why}"))
    if env.features["record"]:
        cfgs.append(Tracer("record", "epolltrace record", env, out, kind="record",
                           argv=lambda pids, tag: [et, "record"] + sum([["-p", str(p)] for p in pids], [])
                           + ["-o", os.path.join(rec_dir, tag + ".etr")]))
    else:
        cfgs.append(Tracer("record", "epolltrace record", env, out,
                           missing="not built yet (no `record` subcommand)"))
    if env.features["tui"]:
        cfgs.append(Tracer("tui", "epolltrace TUI (tmux)", env, out, kind="tui"))
    else:
        cfgs.append(Tracer("tui", "epolltrace TUI (tmux)", env, out,
                           missing="not built yet (no TUI in this binary)"))
    bt = os.path.join(out, "epoll.bt")

    def bt_argv(pids, tag):
        with open(bt, "w") as f:
            f.write(BT_SCRIPT.format(f=" || ".join(f"pid == {p}" for p in pids)))
        return ["bpftrace", "-o", "/dev/null", bt]
    cfgs.append(Tracer("bpftrace", "bpftrace (same tracepoints)", env, out, argv=bt_argv))
    cfgs.append(Tracer("perf", "perf trace -e 'epoll_*'", env, out,
                       argv=lambda pids, tag: ["perf", "trace", "-e", "epoll_*", "-o", "/dev/null",
                                               "-p", ",".join(map(str, pids))]))
    cfgs.append(Tracer("strace", "strace -f -e epoll_wait,epoll_ctl", env, out,
                       argv=lambda pids, tag: ["strace", "-f", "-e", "trace=epoll_wait,epoll_ctl",
                                               "-o", "/dev/null"]
                       + sum([["-p", str(p)] for p in pids], [])))
    return cfgs


skipped_rounds = {}


def run_overhead(env, args, runs_log):
    rec_dir = os.path.join(args.out, "rec")
    os.makedirs(rec_dir, exist_ok=True)
    os.makedirs(os.path.join(args.out, "logs"), exist_ok=True)
    servers = [Redis(args.out, args.redis_requests, args.redis_seconds),
               Nginx(args.out, args.wrk_seconds)]
    cfgs = tracer_configs(env, args.out, rec_dir)
    active = [c for c in cfgs if not c.missing]
    res = {}    # (server, key) -> list of dicts per round
    for srv in servers:
        srv.start()
        try:
            try:
                srv.load("none")    # warm-up, not counted
            except LoadFailed:
                pass
            t_srv = time.time()
            for rnd in range(args.rounds):
                # past the third round, stay inside this server's share of the budget
                per_round = (time.time() - t_srv) / rnd if rnd else 0
                if rnd >= 3 and time.time() - t_srv + per_round > args.server_budget:
                    sys.stderr.write(f"  {srv.name}: {rnd} rounds (time budget)\n")
                    skipped_rounds[srv.name] = rnd
                    break
                order = active[rnd % len(active):] + active[:rnd % len(active)]
                if rnd % 2:
                    order.reverse()
                for c in order:
                    h = c.start(srv.pids())
                    t0 = time.time()
                    try:
                        try:
                            rps, p99 = srv.load(c.key)
                        except LoadFailed as e:
                            sys.stderr.write(f"  {srv.name} {c.key}: {e}; once more\n")
                            t0 = time.time()
                            rps, p99 = srv.load(c.key)
                    except LoadFailed as e:
                        c.stop(h)
                        row = dict(section="overhead", server=srv.name, config=c.key,
                                   round=rnd, failed=str(e))
                        runs_log.write(json.dumps(row) + "\n")
                        res.setdefault((srv.name, c.key), []).append(row)
                        continue
                    wall = time.time() - t0
                    info = c.stop(h)
                    if "tracer_cpu_s" in info:
                        info["tracer_cpu_pct"] = 100 * info["tracer_cpu_s"] / wall
                    row = dict(section="overhead", server=srv.name, config=c.key, round=rnd,
                               rps=rps, p99_ms=p99, load_s=wall,
                               socket_errors=getattr(srv, "errors", 0), **info)
                    runs_log.write(json.dumps(row) + "\n")
                    runs_log.flush()
                    res.setdefault((srv.name, c.key), []).append(row)
                    sys.stderr.write(f"  {srv.name:5} round {rnd + 1}/{args.rounds} {c.key:16} "
                                     f"{rps:10.0f} req/s p99 {p99:7.3f} ms\n")
        finally:
            srv.stop()
    return servers, cfgs, res


# --------------------------------------------------------------------------
# BPF cost per program, from the kernel's own run-time statistics

def prog_ids(pid):
    ids = []
    for fd, t in fd_links(pid):
        if "bpf-prog" in t:
            try:
                with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                    m = re.search(r"^prog_id:\s*(\d+)", f.read(), re.M)
                if m:
                    ids.append(int(m.group(1)))
            except OSError:
                pass
    return ids


def set_bpf_stats(on):
    path = "/proc/sys/kernel/bpf_stats_enabled"
    if path not in restore_sysctl:
        restore_sysctl[path] = open(path).read().strip()
    with open(path, "w") as f:
        f.write("1" if on else "0")


def run_bpf_cost(env, args, runs_log):
    out = {}
    srv = Redis(args.out, args.redis_requests)
    srv.start()
    try:
        for m in env.working_modes():
            err = os.path.join(args.out, "logs", f"bpfcost-{m}.err")
            p = spawn([env.et, "-p", str(srv.pids()[0]), "--json", f"--attach={m}"],
                      stdout=subprocess.DEVNULL, stderr=open(err, "w"))
            if not wait_attached(p.pid):
                reap(p)
                raise HarnessError(f"bpf cost ({m}): epolltrace did not attach: see {err}")
            ids = prog_ids(p.pid)
            set_bpf_stats(True)
            try:
                t0 = time.time()
                try:
                    srv.load()
                except LoadFailed:
                    t0 = time.time()
                    srv.load()
                wall = time.time() - t0
                r = subprocess.run(["bpftool", "prog", "show", "--json"],
                                   capture_output=True, text=True, check=True)
            finally:
                path = "/proc/sys/kernel/bpf_stats_enabled"
                with open(path, "w") as f:
                    f.write(restore_sysctl.pop(path))
            reap(p)
            progs = []
            for d in json.loads(r.stdout):
                if d["id"] in ids:
                    cnt, ns = d.get("run_cnt", 0), d.get("run_time_ns", 0)
                    progs.append(dict(name=d["name"], type=d["type"], run_cnt=cnt,
                                      run_time_ns=ns, ns_per_run=ns / cnt if cnt else None,
                                      per_s=cnt / wall))
            progs.sort(key=lambda x: -(x["run_cnt"]))
            out[m] = progs
            runs_log.write(json.dumps(dict(section="bpf_cost", mode=m, window_s=wall,
                                           progs=progs)) + "\n")
    finally:
        srv.stop()
    return out


# --------------------------------------------------------------------------
# capacity: ramp a synthetic load until the ring buffer loses records

def trace_file_stats(path):
    """-> (records/s written, records/s made (written + lost), records lost,
    lines), over the session: from its first record to its last"""
    lost, n, first, last = 0, 0, None, None
    with open(path, "rb") as f:
        for line in f:
            if not line.endswith(b"\n"):
                break       # a tracer stopped mid-line (killed): not a record
            n += 1
            if first is None:
                first = line
            last = line
            if line.startswith(b'{"type":"stats"'):
                lost = max(lost, json.loads(line)["counters"].get("ring_drops", 0))
            elif line.startswith(b'{"type":"lost"'):
                pass    # counted by the stats records' ring_drops
    if n < 2:
        return None, None, lost, n
    dt = (json.loads(last)["ts_ns"] - json.loads(first)["ts_ns"]) / 1e9
    return n / dt, (n + lost) / dt, lost, n


def start_load(env, extra):
    p = spawn([env.load] + extra, stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    if not line.startswith("ready"):
        reap(p)
        raise HarnessError("epoll_load did not start: " + line)
    return p


def load_counters(p):
    os.kill(p.pid, signal.SIGUSR1)
    return json.loads(p.stdout.readline())


def run_capacity(env, args, runs_log):
    tmp = "/dev/shm" if os.path.isdir("/dev/shm") else args.out
    steps = []
    mode = "auto"
    for rate, spin in args.cap_steps:
        load = start_load(env, ["--instances", "4", "--rate", str(rate), "--spin", str(spin)])
        path = os.path.join(tmp, f"etbench-cap-{os.getpid()}.jsonl")
        err = os.path.join(args.out, "logs", f"capacity-{rate}.err")
        try:
            with open(path, "w") as f:
                p = spawn([env.et, "-p", str(load.pid), "--json"], stdout=f,
                          stderr=open(err, "w"))
            if not wait_attached(p.pid):
                raise HarnessError(f"capacity: epolltrace did not attach: see {err}")
            c0, k0 = load_counters(load), cpu_ticks(p.pid)
            time.sleep(args.cap_seconds)
            c1, k1 = load_counters(load), cpu_ticks(p.pid)
            rc, _ = reap(p)
            reap(load)
            rec_rate, offered, lost, nlines = trace_file_stats(path)
        finally:
            if os.path.exists(path):
                os.unlink(path)
        wakeups = (c1["wakeups"] - c0["wakeups"]) / (c1["t"] - c0["t"])
        polls = (c1["waits"] - c0["waits"]) / (c1["t"] - c0["t"])
        step = dict(section="capacity", target_writes_per_s=rate, spin=spin,
                    tracer_cpu_pct=100 * (k1 - k0) / (c1["t"] - c0["t"]),
                    wakeups_per_s=wakeups, waits_per_s=polls, offered_per_s=offered,
                    records_per_s=rec_rate, lost=lost, rc=rc, lines=nlines)
        runs_log.write(json.dumps(step) + "\n")
        runs_log.flush()
        steps.append(step)
        sys.stderr.write(f"  capacity: {rate:7d} writes/s spin {spin:2d} -> {wakeups:8.0f} wakeups/s, "
                         f"{(rec_rate or 0):9.0f} records/s written of {(offered or 0):9.0f}, lost {lost}\n")
        if lost:
            break
    return mode, steps


# --------------------------------------------------------------------------
# footprint: the tracer's CPU and peak RSS at 10k and 100k watched fds

def smaps_split(pid):
    """-> (kB resident in BPF map mappings (ring buffers), kB in [heap])"""
    maps = heap = 0
    name = ""
    try:
        with open(f"/proc/{pid}/smaps") as f:
            for line in f:
                if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                    parts = line.split()
                    name = parts[5] if len(parts) > 5 else ""
                elif line.startswith("Rss:"):
                    kb = int(line.split()[1])
                    if "bpf-map" in name:
                        maps += kb
                    elif name == "[heap]":
                        heap += kb
    except OSError:
        pass
    return maps, heap


def run_footprint(env, args, runs_log):
    rows = []
    views = [("json", ["--json"]), ("summary", ["--summary"])]
    if env.features["record"]:
        views.append(("record", None))
    for nfds in (10_000, 100_000):
        for view, flags in views:
            load = start_load(env, ["--instances", "1", "--fds", str(nfds),
                                    "--rate", "2000"])
            err = os.path.join(args.out, "logs", f"footprint-{nfds}-{view}.err")
            rec = os.path.join(args.out, "rec", f"footprint-{nfds}.etr")
            try:
                if view == "record":
                    argv = [env.et, "record", "-p", str(load.pid), "-o", rec]
                else:
                    argv = [env.et, "-p", str(load.pid)] + flags
                p = spawn(argv, stdout=subprocess.DEVNULL, stderr=open(err, "w"))
                if not wait_attached(p.pid):
                    raise HarnessError(f"footprint: epolltrace did not attach: see {err}")
                time.sleep(1.0)     # the seed snapshot of a large instance
                c0, t0 = cpu_ticks(p.pid), time.time()
                time.sleep(args.footprint_seconds)
                c1, t1 = cpu_ticks(p.pid), time.time()
                maps_kb, heap_kb = smaps_split(p.pid)
                rc, ru = reap(p)
            finally:
                reap(load)
                if os.path.exists(rec):
                    os.unlink(rec)
            row = dict(section="footprint", fds=nfds, view=view, rc=rc,
                       cpu_pct=100 * (c1 - c0) / (t1 - t0),
                       max_rss_mb=ru.ru_maxrss / 1024 if ru else None,
                       bpf_map_mb=maps_kb / 1024, heap_mb=heap_kb / 1024)
            runs_log.write(json.dumps(row) + "\n")
            rows.append(row)
            sys.stderr.write(f"  footprint: {nfds:6d} fds {view:8} cpu {row['cpu_pct']:5.1f}% "
                             f"rss {row['max_rss_mb']:.1f} MB\n")
    return rows


# --------------------------------------------------------------------------
# recordings: bytes per event, replay and export throughput

def run_recordings(env, args, runs_log):
    if not env.features["record"]:
        return None
    rec = os.path.join(args.out, "rec", "capacity-load.etr")
    load = start_load(env, ["--instances", "4", "--rate", "40000"])
    err = os.path.join(args.out, "logs", "record.err")
    try:
        # --force: build/bench/rec stays from the last `make bench`
        p = spawn([env.et, "record", "--force", "-p", str(load.pid), "-o", rec],
                  stdout=subprocess.DEVNULL, stderr=open(err, "w"))
        if not wait_attached(p.pid):
            raise HarnessError(f"recordings: epolltrace record did not attach: see {err}")
        time.sleep(args.cap_seconds)
        reap(p)
    finally:
        reap(load)
    size = os.path.getsize(rec)
    res = dict(section="recordings", file_bytes=size)
    events = None
    if env.features["replay"]:
        r = subprocess.run([env.et, "replay", rec, "--json"], capture_output=True)
        if r.returncode:
            raise HarnessError("replay failed: " + r.stderr.decode(errors="replace")[-300:])
        events = r.stdout.count(b"\n")
        res["events"] = events
        res["bytes_per_event"] = size / events if events else None
    jobs = []
    if env.features["replay"]:
        jobs.append(("replay", [env.et, "replay", rec, "--json"]))
    if env.features["export"]:
        for fmt in ("jsonl", "chrome"):
            jobs.append((f"export {fmt}", [env.et, "export", rec, "--format", fmt]))
    for name, argv in jobs:
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            r = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            times.append(time.perf_counter() - t0)
            if r.returncode:
                raise HarnessError(f"{name} failed: " + r.stderr.decode(errors="replace")[-300:])
        res[name] = events / median(times) if events else None
    runs_log.write(json.dumps(res) + "\n")
    return res


# --------------------------------------------------------------------------
# the table

def fmt_rate(x):
    if x is None:
        return "-"
    if x >= 1e6:
        return f"{x / 1e6:.2f}M"
    if x >= 1e3:
        return f"{x / 1e3:.1f}k"
    return f"{x:.0f}"


def table(rows, header, align=None):
    """align: one letter per column, l or r (default: first l, rest r)"""
    align = align or "l" + "r" * (len(header) - 1)
    w = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w[i]) if align[i] == "l" else str(c).rjust(w[i])
                       for i, c in enumerate(r)).rstrip() for r in [header] + rows]
    return "\n".join("  " + x for x in lines)


def report(env, args, overhead, bpf, cap, foot, recs, wall):
    o = []
    servers, cfgs, res = overhead
    u = os.uname()
    cpu = "?"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    o.append(f"epolltrace bench  {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}  "
             f"Linux {u.release}  {os.cpu_count()} CPUs  {cpu}")
    o.append("attach modes: " + ", ".join(
        f"{m} {'yes' if why is None else 'no'}" for m, why in env.modes.items())
        + "   built: " + ", ".join(f"{k} {'yes' if v else 'no'}"
                                   for k, v in env.features.items()))
    o.append("")
    targets = []

    # overhead
    o.append(f"OVERHEAD  median of {args.rounds} alternating rounds"
             + "".join(f" ({k}: {v}, time budget)" for k, v in skipped_rounds.items())
             + "; ratio = throughput / untraced throughput of the same round (median), "
             "range = lowest-highest")
    o.append(f"  redis: redis-benchmark -c 50 -t get, -n up to {args.redis_requests} "
             f"(about {args.redis_seconds:g}s a run);  "
             f"nginx (1 worker): wrk -t1 -c50 -d{args.wrk_seconds}s;  loopback")
    rows = []
    ratio, spread = {}, {}
    for srv in servers:
        base = {r["round"]: r["rps"] for r in res.get((srv.name, "none"), [])
                if "failed" not in r}
        for c in cfgs:
            if c.missing:
                rows.append([srv.name, c.label, "-", "-", "-", "-", "-", c.missing])
                continue
            failed = [r for r in res.get((srv.name, c.key), []) if "failed" in r]
            rr = [r for r in res.get((srv.name, c.key), []) if "failed" not in r]
            if not rr:
                rows.append([srv.name, c.label, "-", "-", "-", "-", "-",
                             f"every run failed: {failed[0]['failed'][:60]}"])
                continue
            rats = [r["rps"] / base[r["round"]] for r in rr if r["round"] in base]
            rat = median(rats)
            ratio[(srv.name, c.key)] = rat
            spread[(srv.name, c.key)] = (min(rats), max(rats)) if rats else None
            cpu_pct = median([r.get("tracer_cpu_pct") for r in rr])
            note = ""
            bad = [r for r in rr if r.get("rc") not in (None, 0)]
            if bad and c.key.startswith(("json", "record")):
                note = f"exit {bad[0]['rc']} in {len(bad)} run(s)"
            if failed:
                note = (note + "; " if note else "") + f"{len(failed)} run(s) gave no figure"
            serr = sum(r.get("socket_errors", 0) for r in rr)
            if serr:
                note = (note + "; " if note else "") + f"wrk: {serr} socket errors (timeouts)"
            rows.append([srv.name, c.label, fmt_rate(median([r["rps"] for r in rr])),
                         f"{median([r['p99_ms'] for r in rr]):.3f}",
                         f"{rat:.3f}" if rat else "-",
                         f"{min(rats):.2f}-{max(rats):.2f}" if rats else "-",
                         f"{cpu_pct:.0f}%" if cpu_pct is not None else "-", note])
    o.append(table(rows, ["server", "configuration", "req/s", "p99 ms", "ratio",
                          "range", "tracer CPU", "note"], "llrrrrrl"))
    o.append("")
    def loss(srv, k):
        r, sp = ratio.get((srv, k)), spread.get((srv, k))
        if not r:
            return "-"
        # the per-round spread says whether the median means anything
        return (f"{(1 - r) * 100:.1f}% (rounds {(1 - sp[1]) * 100:.0f}% to "
                f"{(1 - sp[0]) * 100:.0f}%)")

    full = [k for k in (f"json-{m}" for m in env.working_modes())]
    for k in full:
        for srv in servers:
            r = ratio.get((srv.name, k))
            targets.append((f"throughput loss <= 2%, {srv.name}, {k.replace('json-', '--json ')}",
                            loss(srv.name, k), r is not None and 1 - r <= TARGET_LOSS))
    for srv in servers:
        r = ratio.get((srv.name, "record"))
        if env.features["record"]:
            targets.append((f"throughput loss <= 2%, {srv.name}, record",
                            loss(srv.name, "record"), r is not None and 1 - r <= TARGET_LOSS))
        else:
            targets.append((f"throughput loss <= 2%, {srv.name}, record", "not built yet", None))

    # BPF cost
    o.append("BPF COST  ns per run of each program, kernel.bpf_stats_enabled during "
             "one redis-benchmark run (-c 50 -n %d)" % args.redis_requests)
    rows = []
    for m, why in env.modes.items():
        if why is not None:
            rows.append([m, "-", "-", "-", "-", f"unsupported on this kernel: {why}"[:90]])
            continue
        worst, worst_name = 0, "-"
        idle = []
        for p in bpf.get(m, []):
            if not p["run_cnt"]:
                idle.append(p["name"])
                continue
            if p["ns_per_run"] > worst:
                worst, worst_name = p["ns_per_run"], p["name"]
            rows.append([m, p["name"], p["type"], f"{p['run_cnt']}", f"{p['ns_per_run']:.0f}",
                         ""])
        if idle:
            rows.append([m, f"({len(idle)} more)", "", "0", "-", "never ran: " + " ".join(idle)])
        over = [p["name"] for p in bpf.get(m, []) if p["run_cnt"] and p["ns_per_run"] > TARGET_NS]
        if m not in bpf:
            targets.append((f"BPF <= {TARGET_NS} ns/event per program, {m}", "not measured", None))
            continue
        targets.append((f"BPF <= {TARGET_NS} ns/event per program, {m}",
                        f"worst {worst:.0f} ns ({worst_name}); {len(over)} over", worst <= TARGET_NS))
    o.append(table(rows, ["mode", "program", "type", "runs", "ns/run", "note"], "lllrrl"))
    o.append("")

    # capacity
    mode, steps = cap
    o.append(f"CAPACITY  epoll_load: 4 instances x 1 eventfd, a waiter thread each, paced "
             f"eventfd writes (+ N zero-timeout polls per wakeup);")
    o.append(f"  epolltrace -p PID --json > tmpfs file, {args.cap_seconds:g}s per step, "
             f"attach {'+'.join(env.working_modes())}; rates over the session (first to last "
             f"record); made = written + lost")
    rows = [[fmt_rate(s["target_writes_per_s"]), str(s["spin"]), fmt_rate(s["wakeups_per_s"]),
             fmt_rate(s["waits_per_s"]), fmt_rate(s["offered_per_s"]),
             fmt_rate(s["records_per_s"]), str(s["lost"]), f"{s['tracer_cpu_pct']:.0f}%",
             f"{s['tracer_cpu_pct'] * 1e4 / s['records_per_s']:.1f}"
             if s["records_per_s"] else "-"] for s in steps]
    o.append(table(rows, ["writes/s", "polls/wakeup", "wakeups/s", "waits/s", "records/s made",
                          "written", "lost", "tracer CPU", "us/record"], "rrrrrrrrr"))
    ok = [s["offered_per_s"] or 0 for s in steps if not s["lost"]]
    best = max(ok) if ok else 0
    first_loss = next((s for s in steps if s["lost"]), None)
    if first_loss:
        o.append(f"  highest loss-free rate: {fmt_rate(best)} records/s; first loss at "
                 f"{fmt_rate(first_loss['offered_per_s'])} records/s made "
                 f"({fmt_rate(first_loss['records_per_s'])}/s written)")
        verdict = best >= TARGET_RATE
    else:
        o.append(f"  no loss at any step; highest rate reached {fmt_rate(best)} records/s "
                 f"(a lower bound: the load generator's limit on this machine)")
        verdict = best >= TARGET_RATE
    targets.append((f"no loss at {fmt_rate(TARGET_RATE)} records/s",
                    f"loss-free up to {fmt_rate(best)}/s" if steps else "not measured",
                    verdict if steps else None))
    o.append("")

    # footprint
    o.append(f"FOOTPRINT  epolltrace -p PID while epoll_load holds 1 instance with N watched "
             f"eventfds (2k writes/s);")
    o.append(f"  CPU over {args.footprint_seconds:g}s after the seed snapshot; peak RSS "
             f"(wait4 ru_maxrss); BPF-map mappings and heap resident at the end (smaps)")
    rows = [[f"{r['fds'] // 1000}k", r["view"], f"{r['cpu_pct']:.1f}%",
             f"{r['max_rss_mb']:.1f}", f"{r['bpf_map_mb']:.1f}", f"{r['heap_mb']:.1f}"]
            for r in foot]
    if not env.features["record"]:
        rows.append(["-", "record", "-", "-", "-", "-"])
    o.append(table(rows, ["fds", "view", "CPU", "max RSS MB", "of it BPF maps", "heap"],
                   "llrrrr"))
    if not env.features["record"]:
        o.append("  record: not built yet")
    for r in foot:
        if r["fds"] == 100_000:
            targets.append((f"RSS <= {TARGET_RSS_MB} MB at 100k fds, {r['view']}",
                            f"{r['max_rss_mb']:.1f} MB", r["max_rss_mb"] <= TARGET_RSS_MB))
    o.append("")

    # recordings
    o.append("RECORDINGS")
    if recs is None:
        o.append("  not built yet (no `record` subcommand): bytes/event, replay and export "
                 "throughput not measured")
        targets.append((f"replay >= {fmt_rate(TARGET_REPLAY)} events/s", "not built yet", None))
    else:
        rows = [["bytes/event", f"{recs.get('bytes_per_event') or 0:.1f}"
                 if recs.get("bytes_per_event") else "-"]]
        for k in ("replay", "export jsonl", "export chrome"):
            rows.append([k + " events/s", fmt_rate(recs.get(k)) if k in recs else "not built yet"])
        o.append(table(rows, ["measure", "value"]))
        rp = recs.get("replay")
        targets.append((f"replay >= {fmt_rate(TARGET_REPLAY)} events/s",
                        fmt_rate(rp) + "/s" if rp else "not built yet",
                        (rp >= TARGET_REPLAY) if rp else None))
    o.append("")

    o.append("TARGETS (not pass/fail tests)")
    o.append(table([[t, v, "pass" if ok is True else "miss" if ok is False else "n/a"]
                    for t, v, ok in targets], ["target", "measured", "result"]))
    o.append("")
    o.append(f"bench wall time: {wall / 60:.1f} min; per-run figures: {args.out}/runs.jsonl")
    return "\n".join(o)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epolltrace", default="./epolltrace")
    ap.add_argument("--load", default="build/bench/epoll_load")
    ap.add_argument("--out", default="build/bench")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--server-budget", type=float, default=300,
                    help="seconds of overhead rounds per server; at least 3 rounds run")
    ap.add_argument("--redis-requests", type=int, default=150000)
    ap.add_argument("--redis-seconds", type=float, default=3.0)
    ap.add_argument("--wrk-seconds", type=int, default=3)
    ap.add_argument("--cap-seconds", type=float, default=3.0)
    ap.add_argument("--cap-steps", type=lambda s: [tuple(int(y) for y in x.split(":"))
                                                   for x in s.split(",")],
                    default=[(10000, 0), (25000, 0), (40000, 0), (50000, 0), (60000, 0),
                             (70000, 0), (85000, 0), (100000, 0), (100000, 2), (100000, 4),
                             (100000, 8), (100000, 16), (100000, 32)],
                    help="WRITES_PER_S:POLLS_PER_WAKEUP,...")
    ap.add_argument("--footprint-seconds", type=float, default=5.0)
    ap.add_argument("--only", default="overhead,bpf,capacity,footprint,recordings",
                    help="comma-separated sections (for development)")
    args = ap.parse_args()
    if args.rounds < 3:
        ap.error("--rounds must be at least 3")
    if os.geteuid() != 0:
        sys.stderr.write("bench: needs root (BPF, bpf_stats)\n")
        return 2
    only = set(args.only.split(","))
    args.out = os.path.abspath(args.out)
    for d in ("logs", "rec"):
        os.makedirs(os.path.join(args.out, d), exist_ok=True)
    os.makedirs(args.out, exist_ok=True)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    t_start = time.time()
    env = Env(args.epolltrace, args.load, args.out)
    try:
        env.probe()
        with open(os.path.join(args.out, "runs.jsonl"), "w") as log:
            log.write(json.dumps(dict(section="env", modes=env.modes,
                                      features=env.features)) + "\n")
            sys.stderr.write("bench: overhead\n")
            overhead = run_overhead(env, args, log) if "overhead" in only else ([], [], {})
            sys.stderr.write("bench: bpf cost\n")
            bpf = run_bpf_cost(env, args, log) if "bpf" in only else {}
            sys.stderr.write("bench: capacity\n")
            cap = run_capacity(env, args, log) if "capacity" in only else ("-", [])
            sys.stderr.write("bench: footprint\n")
            foot = run_footprint(env, args, log) if "footprint" in only else []
            sys.stderr.write("bench: recordings\n")
            recs = run_recordings(env, args, log) if "recordings" in only else None
        text = report(env, args, overhead, bpf, cap, foot, recs, time.time() - t_start)
    except (HarnessError, LoadFailed, subprocess.CalledProcessError, OSError) as e:
        cleanup()
        sys.stderr.write(f"bench: harness broke: {e}\n")
        return 1
    finally:
        cleanup()
    print(text)
    with open(os.path.join(args.out, "table.txt"), "w") as f:
        f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
