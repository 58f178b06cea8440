#!/usr/bin/env python3
"""epolltrace's benchmark (`make bench`): overhead on two real epoll servers,
the tax on an untraced bystander, the floor (empty programs on the same
attach points), BPF cost per program on the ours and not-ours paths,
pipeline capacity, footprint, reader CPU per record, recordings, and the
inline mode's programs in a QEMU guest.

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
import glob
import resource
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
# the bench's own port range (17600-17699), loopback only
REDIS_PORT = 17601
NGINX_PORT = 17602
TARGET_LOSS = 0.02          # throughput loss with full tracing and recording
TARGET_NS = 200             # ns per event per BPF program
TARGET_RATE = 1_000_000     # records/s made without ring-buffer loss (issue 11)
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


def cpu_ns(pids):
    """CPU time of every live thread of pids, in ns (schedstat: exact, unlike
    the 10 ms ticks of /proc/PID/stat); None when a pid is gone"""
    total = 0
    for pid in pids:
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            return None
        for t in tids:
            try:
                with open(f"/proc/{pid}/task/{t}/schedstat") as f:
                    total += int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                pass
    return total


def children_cpu_ns():
    """CPU of every reaped child so far (the load generators), in ns"""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return int((ru.ru_utime + ru.ru_stime) * 1e9)


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
    def __init__(self, et, load, out, bpfbench):
        self.et = os.path.abspath(et)
        self.load = os.path.abspath(load)
        self.bpfbench = os.path.abspath(bpfbench)
        self.out = out
        self.modes = {}         # mode -> None (works) or the reason it does not
        self.features = {}      # record/replay/export/tui -> bool
        self.hooks = {}         # mode -> [(hook, using, point)] from probes --json
        self._points = {}       # mode -> [(point, program)] seen on a running tracer
        self.floor_stats = {}   # mode -> ({point: (run_cnt, run_time_ns)}, requests)

    def probe(self):
        for m in ("fentry", "kprobe", "tracepoint"):
            r = subprocess.run([self.et, "probes", "--json", f"--attach={m}"],
                               capture_output=True, text=True)
            try:
                d = json.loads(r.stdout)
            except ValueError:
                raise HarnessError(f"epolltrace probes --json --attach={m}: {r.stderr.strip()}")
            self.hooks[m] = [(h.get("hook"), h.get("using"), h.get("point"))
                             for h in d.get("hooks", []) if h.get("using")]
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
        # --detect (the detectors): --json feeds a model only with one on
        r = subprocess.run([self.et, "--help"], capture_output=True, text=True)
        self.features["detect"] = "--detect" in r.stdout

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

    def points(self, mode):
        """[(point, program)] that `epolltrace --attach=MODE` attaches, read
        from a running tracer's own fds (bpfbench points): exactly what
        `probes --json --attach=MODE` chose, brace sets expanded, plus the
        helpers a hook's variant adds (the irq-context tracepoints of the
        sleep hook).  Iterators are not attach points."""
        if mode in self._points:
            return self._points[mode]
        idle = start_load(self, ["--instances", "1", "--rate", "0"])
        err = os.path.join(self.out, "logs", f"points-{mode}.err")
        try:
            p = spawn([self.et, "-p", str(idle.pid), "--json", f"--attach={mode}"],
                      stdout=subprocess.DEVNULL, stderr=open(err, "w"))
            if not wait_attached(p.pid):
                reap(p)
                raise HarnessError(f"points ({mode}): epolltrace did not attach: see {err}")
            r = subprocess.run([self.bpfbench, "points", str(p.pid)], capture_output=True,
                               text=True)
            reap(p)
        finally:
            reap(idle)
        pts = [tuple(line.split()[::2][:2]) for line in r.stdout.splitlines()
               if len(line.split()) == 3]
        if not pts:
            raise HarnessError(f"points ({mode}): none found: {r.stderr.strip()}")
        self._points[mode] = pts
        return pts

    def floor_argv(self, mode):
        return [self.bpfbench, "floor"] + sorted({pt for pt, _ in self.points(mode)})


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
        """-> (requests/s, p99 ms, requests).  redis-benchmark runs a fixed
        number of requests (--redis-requests), the same for every
        configuration, so CPU per request compares like with like; only a
        configuration whose last run took more than twice --redis-seconds
        (strace) asks for as many as it served in --redis-seconds, so that
        it does not run ten times longer than the others."""
        n = self.requests
        if self.seconds and key in self.last and self.last[key] * self.seconds * 2 < n:
            n = max(10000, int(self.last[key] * self.seconds))
        r = run_tracked(["redis-benchmark", "-p", str(REDIS_PORT), "-c", "50",
                         "-n", str(n), "-t", "get", "--csv"])
        for line in r.stdout.splitlines():
            f = [x.strip('"') for x in line.split(",")]
            if f and f[0] == "GET":
                self.last[key] = float(f[1])
                return float(f[1]), float(f[6]), n
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
        rps = p99 = nreq = None
        for line in r.stdout.splitlines():
            m = re.match(r"\s*(\d+) requests in", line)
            if m:
                nreq = int(m.group(1))
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
        return rps, p99, nreq

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


def mode_configs(env, out, floor):
    """epolltrace --json in each attach mode, each followed by its floor row"""
    et = env.et
    cfgs = []
    for m, why in env.modes.items():
        label = f"epolltrace --json ({m})"
        if why is None:
            cfgs.append(Tracer(f"json-{m}", label, env, out,
                               argv=lambda pids, tag, m=m: [et] + sum([["-p", str(p)] for p in pids], [])
                               + ["--json", f"--attach={m}"]))
            if floor:
                cfgs.append(Tracer(f"floor-{m}", f"  floor ({m}): empty programs", env, out,
                                   argv=lambda pids, tag, m=m: env.floor_argv(m)))
        else:
            cfgs.append(Tracer(f"json-{m}", label, env, out,
                               missing=f"unsupported on this kernel: {why}"))
    return cfgs


def bystander_configs(env, out, floor):
    return [Tracer("none", "no tracer", env, out, kind="none")] + mode_configs(env, out, floor)


def tracer_configs(env, out, rec_dir, floor=True):
    et = env.et
    cfgs = [Tracer("none", "no tracer", env, out, kind="none")] + mode_configs(env, out, floor)
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


skipped_rounds = {}     # (section, server) -> rounds run, when the budget cut them


def run_overhead(env, args, runs_log):
    rec_dir = os.path.join(args.out, "rec")
    os.makedirs(rec_dir, exist_ok=True)
    servers = [Redis(args.out, args.redis_requests, args.redis_seconds),
               Nginx(args.out, args.wrk_seconds)]
    cfgs = tracer_configs(env, args.out, rec_dir, floor=args.floor)
    res = run_rounds(args, runs_log, "overhead", servers, cfgs, lambda srv: srv.pids(),
                     args.server_budget)
    return servers, cfgs, res


def run_bystander(env, args, runs_log):
    """An untraced redis-server under load while the tracer traces another,
    idle process (epoll_load --rate 0: one instance, a waiter that times out
    every 100 ms): what every other service on the host pays."""
    servers = [Redis(args.out, args.redis_requests, args.redis_seconds)]
    cfgs = bystander_configs(env, args.out, args.floor)
    idle = start_load(env, ["--instances", "1", "--rate", "0"])
    try:
        res = run_rounds(args, runs_log, "bystander", servers, cfgs, lambda srv: [idle.pid],
                         args.bystander_budget)
    finally:
        reap(idle)
    return servers, cfgs, res


def run_rounds(args, runs_log, section, servers, cfgs, targets, budget):
    """Every configuration once per round, alternating; per run: throughput,
    p99, the tracer's CPU and the CPU per request of server + load
    generator + tracer (BPF programs run in the context of the task that
    hit the hook, so their time is inside those figures already)."""
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
                if rnd >= 3 and time.time() - t_srv + per_round > budget:
                    sys.stderr.write(f"  {section} {srv.name}: {rnd} rounds (time budget)\n")
                    skipped_rounds[(section, srv.name)] = rnd
                    break
                order = active[rnd % len(active):] + active[:rnd % len(active)]
                if rnd % 2:
                    order.reverse()
                for c in order:
                    spids = srv.pids()
                    h = c.start(targets(srv))
                    tpid = [h["pid"]] if "pid" in h else []
                    try:
                        for attempt in (0, 1):
                            t0 = time.time()
                            s0, k0, g0 = cpu_ns(spids), cpu_ns(tpid), children_cpu_ns()
                            try:
                                rps, p99, nreq = srv.load(c.key)
                                break
                            except LoadFailed as e:
                                if attempt:
                                    raise
                                sys.stderr.write(f"  {srv.name} {c.key}: {e}; once more\n")
                    except LoadFailed as e:
                        c.stop(h)
                        row = dict(section=section, server=srv.name, config=c.key,
                                   round=rnd, failed=str(e))
                        runs_log.write(json.dumps(row) + "\n")
                        res.setdefault((srv.name, c.key), []).append(row)
                        continue
                    wall = time.time() - t0
                    s1, k1, g1 = cpu_ns(spids), cpu_ns(tpid), children_cpu_ns()
                    info = c.stop(h)
                    if "tracer_cpu_s" in info:
                        info["tracer_cpu_pct"] = 100 * info["tracer_cpu_s"] / wall
                    if None not in (s0, s1, k0, k1) and nreq:
                        info["cpu_ns_per_req"] = ((s1 - s0) + (k1 - k0) + (g1 - g0)) / nreq
                        info["server_ns_per_req"] = (s1 - s0) / nreq
                        info["client_ns_per_req"] = (g1 - g0) / nreq
                        info["tracer_ns_per_req"] = (k1 - k0) / nreq
                    row = dict(section=section, server=srv.name, config=c.key, round=rnd,
                               rps=rps, p99_ms=p99, requests=nreq, load_s=wall,
                               socket_errors=getattr(srv, "errors", 0), **info)
                    runs_log.write(json.dumps(row) + "\n")
                    runs_log.flush()
                    res.setdefault((srv.name, c.key), []).append(row)
                    sys.stderr.write(f"  {section} {srv.name:5} round {rnd + 1}/{args.rounds} "
                                     f"{c.key:18} {rps:10.0f} req/s p99 {p99:7.3f} ms\n")
        finally:
            srv.stop()
    return res


# --------------------------------------------------------------------------
# BPF cost per program, from the kernel's own run-time statistics

def set_bpf_stats(on):
    path = "/proc/sys/kernel/bpf_stats_enabled"
    if path not in restore_sysctl:
        restore_sysctl[path] = open(path).read().strip()
    with open(path, "w") as f:
        f.write("1" if on else "0")


def put_back_bpf_stats():
    path = "/proc/sys/kernel/bpf_stats_enabled"
    if path in restore_sysctl:
        with open(path, "w") as f:
            f.write(restore_sysctl.pop(path))


def prog_stats(env, pid):
    """{prog id: {name, type, run_cnt, run_time_ns}} of the programs pid holds"""
    r = subprocess.run([env.bpfbench, "stats", str(pid)], capture_output=True, text=True)
    out = {}
    for line in r.stdout.splitlines():
        d = json.loads(line)
        out[d["id"]] = d
    return out


def stats_window(env, pid, fn):
    """Run fn() with kernel.bpf_stats_enabled=1; -> ({id: {name, type,
    run_cnt, run_time_ns}} counted over the window, seconds, fn's result)"""
    set_bpf_stats(True)
    try:
        a = prog_stats(env, pid)
        t0 = time.time()
        got = fn()
        wall = time.time() - t0
        b = prog_stats(env, pid)
    finally:
        put_back_bpf_stats()
    out = {}
    for i, d in b.items():
        d = dict(d)
        d["run_cnt"] -= a.get(i, {}).get("run_cnt", 0)
        d["run_time_ns"] -= a.get(i, {}).get("run_time_ns", 0)
        out[i] = d
    return out, wall, got


def by_name(st):
    """{program name: (run_cnt, run_time_ns)}, summed over programs of one name"""
    out = {}
    for d in st.values():
        c, t = out.get(d["name"], (0, 0))
        out[d["name"]] = (c + d["run_cnt"], t + d["run_time_ns"])
    return out


def start_tracer(env, args, pid, mode, tag):
    err = os.path.join(args.out, "logs", f"bpfcost-{mode}-{tag}.err")
    p = spawn([env.et, "-p", str(pid), "--json", f"--attach={mode}"],
              stdout=subprocess.DEVNULL, stderr=open(err, "w"))
    if not wait_attached(p.pid):
        reap(p)
        raise HarnessError(f"bpf cost ({mode}): epolltrace did not attach: see {err}")
    time.sleep(0.3)     # the seed snapshot
    return p


def start_floor(env, mode):
    """bpfbench floor on mode's points -> (process, {prog id: point})"""
    p = spawn(env.floor_argv(mode), stdout=subprocess.PIPE, text=True)
    ids = {}
    for line in p.stdout:
        f = line.split()
        if f[0] == "point":
            ids[int(f[2])] = f[1]
        elif f[0] == "ready":
            break
    if not ids:
        reap(p)
        raise HarnessError(f"floor ({mode}): no empty program attached")
    wait_attached(p.pid)
    return p, ids


def run_floor(env, args, runs_log):
    """Per working mode: the attach points, and an empty program's ns per
    run on each while an untraced redis runs a fixed number of requests
    (every run a bystander's: the floor of the not-ours path)."""
    out = {}
    srv = Redis(args.out, args.redis_requests)
    srv.start()
    try:
        try:
            srv.load()      # warm-up
        except LoadFailed:
            pass
        for m in env.working_modes():
            fp, ids = start_floor(env, m)
            fl, wall, (_, _, nreq) = stats_window(env, fp.pid, srv.load)
            reap(fp)
            per_point = {ids[i]: (d["run_cnt"], d["run_time_ns"]) for i, d in fl.items()
                         if i in ids}
            env.floor_stats[m] = (per_point, nreq)
            out[m] = dict(points=env.points(m), floor=per_point, requests=nreq, window_s=wall)
            runs_log.write(json.dumps(dict(section="floor", mode=m, **out[m])) + "\n")
    finally:
        srv.stop()
    return out


def run_bpf_cost(env, args, runs_log):
    """Per working mode and program, ns per run on four paths:
    - not ours: the tracer traces an idle process while an untraced redis
      runs a fixed number of requests: every run is a bystander's;
    - floor: an empty program on the same point, same load;
    - traced redis: the tracer traces redis (mixed: redis-benchmark's own
      epoll_waits and switches are not ours), and runs per request;
    - ours: the tracer traces epoll_load (4 instances, paced writes, ctl
      churn), minus the background runs the same tracer counted right
      after, as long, with epoll_load stopped (other processes on the
      machine)."""
    out = {}
    srv = Redis(args.out, args.redis_requests)
    srv.start()
    try:
        try:
            srv.load()      # warm-up
        except LoadFailed:
            pass
        for m in env.working_modes():
            res = dict(mode=m)
            # not ours
            idle = start_load(env, ["--instances", "1", "--rate", "0"])
            try:
                p = start_tracer(env, args, idle.pid, m, "idle")
                no, _, (_, _, nreq) = stats_window(env, p.pid, srv.load)
                reap(p)
            finally:
                reap(idle)
            res.update(notours=by_name(no), notours_requests=nreq)
            # the floor, same load (measured by the floor section)
            if m in env.floor_stats:
                res["floor"], res["floor_requests"] = env.floor_stats[m]
            # traced redis
            p = start_tracer(env, args, srv.pids()[0], m, "redis")
            tr, _, (_, _, tnreq) = stats_window(env, p.pid, srv.load)
            reap(p)
            res.update(traced=by_name(tr), traced_requests=tnreq)
            # ours: epoll_load traced
            load = start_load(env, ["--instances", "4", "--rate", str(args.bpf_rate),
                                    "--spin", "1", "--ctl", "2000"])
            try:
                p = start_tracer(env, args, load.pid, m, "load")
                ou, ou_s, _ = stats_window(env, p.pid, lambda: time.sleep(args.bpf_seconds))
                # the background: the same tracer, the same length, right after,
                # with the load stopped (SIGSTOP: its threads make no runs)
                os.kill(load.pid, signal.SIGSTOP)
                try:
                    bg, bg_s, _ = stats_window(env, p.pid,
                                               lambda: time.sleep(args.bpf_seconds))
                finally:
                    os.kill(load.pid, signal.SIGCONT)
                reap(p)
            finally:
                reap(load)
            res.update(ours_raw=by_name(ou), ours_s=ou_s, background=by_name(bg),
                       background_s=bg_s)
            res["points"] = env.points(m)
            out[m] = res
            runs_log.write(json.dumps(dict(section="bpf_cost", **res)) + "\n")
            runs_log.flush()
            sys.stderr.write(f"  bpf cost {m}: done\n")
    finally:
        srv.stop()
    return out


# --------------------------------------------------------------------------
# steps: how a program's ours-path cost splits between its steps

# Per handler (bpf/common.bpf.h, enum et_bench_prog): the names its program
# has in each mode, and its steps in order.  EPOLLTRACE_BENCH_CUT=NAME=k
# (the bench build only) stops the handler before step k (1-based): the
# cut at k costs steps 1..k-1, the uncut program all of them.
STEP_PROGS = [
    ("wait_enter", ("tp_enter_epoll_wait", "fe_do_epoll_wait", "kp_do_epoll_wait"),
     ["program entry, nothing done", "filter (thread group bitmap + targets)",
      "epfd -> struct file -> eventpoll (fd table)", "instance lookup",
      "counters + waits map update", "wait_enter record (reserve, fill, submit)",
      "wait site check (user regs, chain_sites lookup; a chain record on a change)"]),
    ("wait_exit", ("tp_exit_epoll_wait", "fx_do_epoll_wait", "krp_do_epoll_wait"),
     ["program entry, nothing done", "filter (wait bitmap + waits lookup)",
      "counters (per-cpu, per-instance)", "the wait's end record, no events copied",
      "copy of the returned events (user buffer)"]),
    ("ctl_enter", ("tp_enter_epoll_ctl", "fe_do_epoll_ctl", "kp_do_epoll_ctl"),
     ["program entry, nothing done", "filter (thread group bitmap + targets)",
      "epfd -> struct file -> eventpoll (fd table)", "fd -> struct file (fd table)",
      "epoll_event copy-in", "ctls map update"]),
    ("ctl_exit", ("tp_exit_epoll_ctl", "fx_do_epoll_ctl", "krp_do_epoll_ctl"),
     ["program entry, nothing done", "filter (bitmap + ctls lookup)",
      "instance lookup", "rb-tree walk (is the item queued?)",
      "ctl record (reserve, fill, submit)"]),
    ("switch", ("tb_sched_switch",),
     ["program entry, nothing done", "filter (preempt, wait bitmap, task state)",
      "waits lookup", "sleep detection: wait-queue walk", "sleep state + counters",
      "sleep record"]),
    ("waking", ("tb_sched_waking", "tb_sched_waking_it", "tb_sched_waking_nc"),
     ["program entry, nothing done", "filter (wait bitmap + waits lookup)",
      "wait state + counters", "waker context (irq account)", "wakeup record"]),
]
# handlers cut in the same run: a cut of one must not change what the other
# sees (a cut wait_enter starves wait_exit, switch and waking; a cut
# wait_exit or waking leaves stale wait state that switch reads; a cut
# ctl_enter starves ctl_exit)
STEP_GROUPS = [("ctl_enter", "wait_exit"), ("ctl_exit", "wait_enter"), ("switch",),
               ("waking",)]


def step_configs():
    """[(EPOLLTRACE_BENCH_CUT value, handlers whose figure this run gives)]"""
    nsteps = {n: len(st) for n, _, st in STEP_PROGS}
    out = [("", tuple(nsteps))]
    for g in STEP_GROUPS:
        for k in range(1, max(nsteps[n] for n in g)):
            live = tuple(n for n in g if k < nsteps[n])
            out.append((",".join(f"{n}={k}" for n in live), live))
    return out


def run_steps(env, args, runs_log):
    """Per working mode, per round: the bench build traces epoll_load (the
    BPF COST section's ours load) once per cut; ours ns/run of each
    handler's program = (run time - background) / (runs - background), the
    background counted by the same tracer right after, the load stopped."""
    if not args.steps_epolltrace or not os.access(args.steps_epolltrace, os.X_OK):
        return dict(skipped=f"no bench build ({args.steps_epolltrace}): "
                    "make build/bench/steps/epolltrace")
    out = {"rounds": args.steps_rounds, "seconds": args.steps_seconds, "modes": {}}
    names = {n: progs for n, progs, _ in STEP_PROGS}
    load = start_load(env, ["--instances", "4", "--rate", str(args.bpf_rate),
                            "--spin", "1", "--ctl", "2000"])
    try:
        for m in env.working_modes():
            res = {}        # handler -> {cut: [ns per round]}; cut 0: uncut
            progs_seen = {}  # handler -> its programs that ran
            cfgs = step_configs()
            for r in range(args.steps_rounds):
                for cut, live in (cfgs if r % 2 == 0 else cfgs[::-1]):
                    err = os.path.join(args.out, "logs", f"steps-{m}.err")
                    e = dict(os.environ, EPOLLTRACE_BENCH_CUT=cut)
                    p = spawn([args.steps_epolltrace, "-p", str(load.pid), "--json",
                               f"--attach={m}"], stdout=subprocess.DEVNULL,
                              stderr=open(err, "w"), env=e)
                    try:
                        if not wait_attached(p.pid):
                            raise HarnessError(f"steps ({m}, {cut}): did not attach: {err}")
                        time.sleep(0.3)
                        ou, ou_s, _ = stats_window(
                            env, p.pid, lambda: time.sleep(args.steps_seconds))
                        os.kill(load.pid, signal.SIGSTOP)
                        try:
                            bg, bg_s, _ = stats_window(
                                env, p.pid, lambda: time.sleep(args.steps_seconds))
                        finally:
                            os.kill(load.pid, signal.SIGCONT)
                    finally:
                        reap(p)
                    ou, bg = by_name(ou), by_name(bg)
                    scale = ou_s / bg_s if bg_s else 0
                    cuts = dict(x.split("=") for x in cut.split(",") if x)
                    for h in live:
                        c = t = 0
                        for prog in names[h]:
                            oc, ot = ou.get(prog, (0, 0))
                            if oc:
                                progs_seen.setdefault(h, set()).add(prog)
                            gc, gt = bg.get(prog, (0, 0))
                            c, t = c + oc - gc * scale, t + ot - gt * scale
                        k = int(cuts.get(h, 0))
                        v = t / c if c >= 100 else None
                        res.setdefault(h, {}).setdefault(k, []).append(v)
                        runs_log.write(json.dumps(dict(
                            section="steps", mode=m, round=r, handler=h, cut=k, runs=c,
                            run_time_ns=t, ns_per_run=v, window_s=ou_s)) + "\n")
                    runs_log.flush()
                sys.stderr.write(f"  steps {m}: round {r + 1} done\n")
            out["modes"][m] = res
            out.setdefault("programs", {})[m] = {h: sorted(v) for h, v in progs_seen.items()}
    finally:
        reap(load)
    return out


# --------------------------------------------------------------------------
# chains: where waiters wait (bpf/handlers.bpf.h wait_chain, cli/kernel/chain.c)

CHAIN_CFGS = [("none", "wait_enter=6", False), ("same site", "", False),
              ("new site", "", True)]


def run_chains(env, args, runs_log):
    """Per working mode, per round: the bench build traces epoll_load (1
    instance, paced writes, 1 poll per wakeup) three ways: wait_enter cut
    before the wait-site check (none), whole with every wait from the same
    site (the hot path), and whole with every wait counted as a new site
    (EPOLLTRACE_BENCH_CHAIN_EVERY: registers, fp chain, 16 KiB stack copy,
    a 16.6 KiB ring record).  ns/run of wait_enter's program = (run time -
    background) / (runs - background).  The new-site runs also give the
    session's user-space cost per chain (libdwfl: maps, unwind, symbols)."""
    if not args.steps_epolltrace or not os.access(args.steps_epolltrace, os.X_OK):
        return dict(skipped=f"no bench build ({args.steps_epolltrace}): "
                    "make build/bench/steps/epolltrace")
    progs = STEP_PROGS[0][1]
    out = {"rounds": args.steps_rounds, "seconds": args.steps_seconds, "modes": {},
           "user": []}
    load = start_load(env, ["--instances", "1", "--rate", str(args.chain_rate), "--spin", "1"])
    try:
        for m in env.working_modes():
            res = {}
            for r in range(args.steps_rounds):
                for label, cut, every in (CHAIN_CFGS if r % 2 == 0 else CHAIN_CFGS[::-1]):
                    err = os.path.join(args.out, "logs", f"chains-{m}-{r}-{label[:3]}.err")
                    e = dict(os.environ, EPOLLTRACE_BENCH_CUT=cut)
                    if every:
                        e["EPOLLTRACE_BENCH_CHAIN_EVERY"] = "1"
                    p = spawn([args.steps_epolltrace, "-p", str(load.pid), "--json",
                               f"--attach={m}"], stdout=subprocess.DEVNULL,
                              stderr=open(err, "w"), env=e)
                    try:
                        if not wait_attached(p.pid):
                            raise HarnessError(f"chains ({m}, {label}): did not attach: {err}")
                        time.sleep(0.3)
                        ou, ou_s, _ = stats_window(
                            env, p.pid, lambda: time.sleep(args.steps_seconds))
                        os.kill(load.pid, signal.SIGSTOP)
                        try:
                            bg, bg_s, _ = stats_window(
                                env, p.pid, lambda: time.sleep(args.steps_seconds))
                        finally:
                            os.kill(load.pid, signal.SIGCONT)
                    finally:
                        reap(p)
                    ou, bg = by_name(ou), by_name(bg)
                    scale = ou_s / bg_s if bg_s else 0
                    c = t = 0
                    for prog in progs:
                        oc, ot = ou.get(prog, (0, 0))
                        gc, gt = bg.get(prog, (0, 0))
                        c, t = c + oc - gc * scale, t + ot - gt * scale
                    v = t / c if c >= 100 else None
                    res.setdefault(label, []).append(v)
                    user = None
                    if every:
                        with open(err) as f:
                            for line in f:
                                w = line.split()
                                if line.startswith("bench chains:") and len(w) >= 9:
                                    user = dict(n=int(w[2]), first_ns=float(w[5]),
                                                rest_ns=float(w[8]))
                        if user:
                            out["user"].append(dict(mode=m, **user))
                    runs_log.write(json.dumps(dict(
                        section="chains", mode=m, round=r, config=label, runs=c,
                        run_time_ns=t, ns_per_run=v, window_s=ou_s, user=user)) + "\n")
                    runs_log.flush()
                sys.stderr.write(f"  chains {m}: round {r + 1} done\n")
            out["modes"][m] = res
    finally:
        reap(load)
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
    """-> (kB resident in BPF map mappings (ring buffers), kB in the heap:
    [heap] and the anonymous mappings malloc gives blocks over 256 KiB)"""
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
                    elif name in ("[heap]", ""):
                        heap += kb
    except OSError:
        pass
    return maps, heap


def run_footprint(env, args, runs_log):
    rows = []
    views = [("json", ["--json"]), ("summary", ["--summary"])]
    if env.features["detect"]:  # --json without the detectors' model: their cost
        views.insert(1, ("json-nodet", ["--json", "--detect", "off"]))
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
# reader CPU per record, per view

def count_lines(path):
    n = 0
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                return n
            n += b.count(b"\n")


def run_reader(env, args, runs_log):
    """The tracer's own CPU per record at a fixed load, per view.  The
    --json view's records are counted (its lines); the same load makes the
    same records in the other views, so theirs are the --json run's records
    per epoll_wait times their own run's epoll_waits (the load's counters)."""
    tmp = "/dev/shm" if os.path.isdir("/dev/shm") else args.out
    views = [("json", ["--json"]), ("summary", ["--summary"])]
    if env.features["detect"]:  # --json without the detectors' model: their cost
        views.insert(1, ("json-nodet", ["--json", "--detect", "off"]))
    if env.features["tui"]:
        views.append(("tui", None))
    if env.features["record"]:
        views.append(("record", None))
    rows, per_wait = [], None
    for view, flags in views:
        load = start_load(env, ["--instances", "4", "--rate", str(args.reader_rate)])
        path = os.path.join(tmp, f"etbench-reader-{os.getpid()}.{view}")
        err = os.path.join(args.out, "logs", f"reader-{view}.err")
        h = tr = None
        try:
            if view == "tui":
                tr = Tracer("tui", "TUI", env, args.out, kind="tui")
                h = tr.start([load.pid])
                pid = h["pid"]
            else:
                argv = ([env.et, "record", "--force", "-p", str(load.pid), "-o", path]
                        if view == "record" else [env.et, "-p", str(load.pid)] + flags)
                with open(path if view == "json" else os.devnull, "w") as f:
                    p = spawn(argv, stdout=f, stderr=open(err, "w"))
                pid = p.pid
                if not wait_attached(pid):
                    raise HarnessError(f"reader ({view}): epolltrace did not attach: see {err}")
            time.sleep(1.0)
            c0, k0 = load_counters(load), cpu_ns([pid])
            n0 = count_lines(path) if view == "json" else None
            time.sleep(args.reader_seconds)
            c1, k1 = load_counters(load), cpu_ns([pid])
            n1 = count_lines(path) if view == "json" else None
            if tr:
                tr.stop(h)
            else:
                reap(p)
        finally:
            reap(load)
            if os.path.exists(path):
                os.unlink(path)
        waits = c1["waits"] - c0["waits"]
        if view == "json":
            records = n1 - n0
            per_wait = records / waits if waits else None
        else:
            records = per_wait * waits if per_wait else None
        row = dict(section="reader", view=view, seconds=c1["t"] - c0["t"], waits=waits,
                   records=records, counted=view == "json", cpu_ns=k1 - k0,
                   us_per_record=(k1 - k0) / records / 1e3 if records else None,
                   records_per_s=records / (c1["t"] - c0["t"]) if records else None)
        runs_log.write(json.dumps(row) + "\n")
        rows.append(row)
        sys.stderr.write(f"  reader: {view:8} {row['us_per_record'] or 0:.2f} us/record\n")
    return rows


# --------------------------------------------------------------------------
# recordings: bytes per event, replay and export throughput

def info_events(env, rec):
    r = subprocess.run([env.et, "info", rec], capture_output=True, text=True)
    m = re.search(r"^total\s+(\d+)", r.stdout, re.M)
    return int(m.group(1)) if m else None


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
    events = info_events(env, rec)
    if env.features["replay"]:
        r = subprocess.run([env.et, "replay", rec, "--json"], capture_output=True)
        if r.returncode:
            raise HarnessError("replay failed: " + r.stderr.decode(errors="replace")[-300:])
        if events is None:
            events = r.stdout.count(b"\n")
    res["events"] = events
    res["bytes_per_event"] = size / events if events else None
    jobs = []
    if env.features["replay"]:
        # the whole file into the model: one refresh interval longer than
        # the recording, so the one table printed is the state at its end
        # (with the default -i 1, -n 1 would stop after the first second)
        jobs.append(("replay --summary (into the model)",
                     [env.et, "replay", rec, "--summary", "-i", "86400", "-n", "1"]))
        jobs.append(("replay --json", [env.et, "replay", rec, "--json"]))
    if env.features["export"]:
        for fmt in ("jsonl", "chrome"):
            jobs.append((f"export --format {fmt}", [env.et, "export", rec, "--format", fmt]))
    for name, argv in jobs:
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            r = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            times.append(time.perf_counter() - t0)
            if r.returncode:
                raise HarnessError(f"{name} failed: " + r.stderr.decode(errors="replace")[-300:])
        res[name] = events / median(times) if events else None
    runs_log.write(json.dumps(res) + "\n")
    return res


# --------------------------------------------------------------------------
# the inline mode (and fentry) in a QEMU guest: ns per run of each program

GUEST_SCRIPT = r"""#!/bin/sh
ip link set lo up 2>/dev/null
echo "guest $(uname -r)"
cd /tmp
echo 1 > /proc/sys/kernel/bpf_stats_enabled
cat /proc/sys/kernel/bpf_stats_enabled > /out/bpf_stats_enabled
for mode in @MODES@; do
	o=/out/$mode
	mkdir -p $o
	sites=
	[ $mode = inline ] && sites="--sites /bin/sites"
	epolltrace probes --attach=$mode $sites > $o/probes.txt 2>&1
	echo $? > $o/probes.rc
	epoll_load --instances 2 --rate @RATE@ --ctl @CTL@ > $o/load.txt &
	LP=$!
	i=0; while [ $i -lt 100 ] && ! grep -q ready $o/load.txt 2>/dev/null; do sleep 0.1; i=$((i+1)); done
	epolltrace -p $LP --attach=$mode $sites --json > /tmp/$mode.json 2> $o/et.err &
	EP=$!
	# attached when the number of attach points stops changing
	last=-1; i=0
	while [ $i -lt 120 ]; do
		n=$(bpfbench points $EP 2>/dev/null | wc -l)
		[ "$n" -gt 0 ] && [ "$n" = "$last" ] && break
		last=$n; sleep 1; i=$((i+1))
	done
	sleep 1
	bpfbench points $EP > $o/points.txt
	bpfbench stats $EP > $o/stats0.jsonl
	sleep @SECONDS@
	bpfbench stats $EP > $o/stats1.jsonl
	kill -INT $EP; wait $EP; echo $? > $o/et.rc
	wc -l < /tmp/$mode.json > $o/records
	rm -f /tmp/$mode.json
	# the floor: empty programs on the same points, same load
	bpfbench floor $(awk '{print $1}' $o/points.txt | sort -u) > $o/floor.txt 2> $o/floor.err &
	FP=$!
	i=0; while [ $i -lt 300 ] && ! grep -q ready $o/floor.txt 2>/dev/null; do sleep 0.1; i=$((i+1)); done
	bpfbench stats $FP > $o/fstats0.jsonl
	sleep @SECONDS@
	bpfbench stats $FP > $o/fstats1.jsonl
	kill -INT $FP; wait $FP
	kill -INT $LP; wait $LP
done
# traced cost, TCG-indicative: epoll_load paced (@RATE@ writes/s, 4
# zero-timeout polls per wakeup), untraced and traced in each mode, rounds
# alternating; its waits and the CPU ticks of it and of the tracer
# (/proc/PID/stat utime+stime) at the start and the end of @TSECONDS@ s
# once the tracer's attach points stopped changing (the load stopped
# meanwhile, so that it starves nobody)
ticks() { [ -n "$1" ] && awk '{print $14 + $15}' /proc/$1/stat || echo 0; }
r=0
while [ $r -lt @TROUNDS@ ]; do
	cfgs="@TCFGS@"
	[ $((r % 2)) = 1 ] && cfgs="@TCFGS_REV@"
	for cfg in $cfgs; do
		echo "tput round $r $cfg"
		o=/out/tput/$r-$cfg
		mkdir -p $o
		epoll_load --instances 2 --rate @RATE@ --spin 4 > $o/load.txt &
		LP=$!
		i=0; while [ $i -lt 100 ] && ! grep -q ready $o/load.txt 2>/dev/null; do sleep 0.1; i=$((i+1)); done
		kill -STOP $LP
		EP=
		if [ $cfg != none ]; then
			epolltrace -p $LP --attach=$cfg --json > /dev/null 2> $o/et.err &
			EP=$!
			last=-1; i=0
			while [ $i -lt 60 ]; do
				n=$(bpfbench points $EP 2>/dev/null | wc -l)
				[ "$n" -gt 0 ] && [ "$n" = "$last" ] && break
				last=$n; sleep 1; i=$((i+1))
			done
			sleep 1
		fi
		kill -CONT $LP; sleep 1
		echo "$(ticks $LP) $(ticks $EP)" > $o/ticks0
		kill -USR1 $LP; sleep @TSECONDS@; kill -USR1 $LP
		echo "$(ticks $LP) $(ticks $EP)" > $o/ticks1
		sleep 0.5
		echo "tput round $r $cfg: measured"
		[ -n "$EP" ] && { kill -INT $EP; wait $EP; }
		kill -INT $LP; wait $LP
		echo "tput round $r $cfg: done"
	done
	r=$((r+1))
done
exit 0
"""


def find_guest_kernel(cache, want):
    """-> (vmlinuz, -dbg vmlinux or None, kver) of the first cached kernel
    whose version starts with `want`, or None"""
    for d in sorted(glob.glob(os.path.join(cache, "linux-image-*"))):
        if d.endswith("-dbg") or not os.path.isdir(d):
            continue
        for z in glob.glob(os.path.join(d, "boot", "vmlinuz-*")):
            kver = os.path.basename(z)[len("vmlinuz-"):]
            if not kver.startswith(want):
                continue
            dbg = glob.glob(os.path.join(cache, f"linux-image-{kver}-dbg", "usr", "lib", "debug",
                                         "boot", f"vmlinux-{kver}"))
            return z, (dbg[0] if dbg else None), kver
    return None


def read_stats(path):
    out = {}
    try:
        with open(path) as f:
            for line in f:
                d = json.loads(line)
                out[d["id"]] = d
    except (OSError, ValueError):
        pass
    return out


def stats_delta(a, b):
    out = {}
    for i, d in b.items():
        out[i] = dict(d, run_cnt=d["run_cnt"] - a.get(i, {}).get("run_cnt", 0),
                      run_time_ns=d["run_time_ns"] - a.get(i, {}).get("run_time_ns", 0))
    return out


def run_inline(env, args, runs_log):
    """-> dict(skipped=REASON) or dict(kver, modes={mode: {...}}, wall)"""
    root = os.path.dirname(os.path.dirname(HERE))
    cache = args.vm_cache
    found = find_guest_kernel(cache, args.guest_kernel) if os.path.isdir(cache) else None
    if not found:
        return dict(skipped=f"no {args.guest_kernel} kernel cached in {cache} (VM_CACHE; "
                    "tests/vm/fetch-kernel.sh fetches one; the bench does not download)")
    vmlinuz, dbg, kver = found
    modes = args.guest_modes.split(",")
    note = None
    bins = {n: os.path.join(os.path.dirname(env.load), n + ".static")
            for n in ("epoll_load", "bpfbench")}
    bins["epolltrace"] = os.path.join(root, "build", "epolltrace.static")
    for n, f in bins.items():
        if not os.path.exists(f):
            return dict(skipped=f"no static {n} ({f}): `make bench` builds it")
    for tool in ("qemu-system-x86_64", "cpio", "busybox"):
        if not shutil.which(tool):
            return dict(skipped=f"{tool} not installed (make test-deps)")
    gdir = os.path.join(args.out, "guest")
    shutil.rmtree(gdir, ignore_errors=True)
    vmbin = os.path.join(gdir, "bin")
    os.makedirs(vmbin)
    for n, f in bins.items():
        shutil.copy(f, os.path.join(vmbin, n))
    files = [os.path.join(vmbin, n) for n in bins]
    if "inline" in modes:
        if not dbg:
            modes.remove("inline")
            note = f"no -dbg vmlinux cached for {kver}: inline skipped"
        else:
            sites = os.path.join(vmbin, "sites")
            r = subprocess.run([env.et, "sites", "--vmlinux", dbg, "-o", sites, "--force"],
                               capture_output=True, text=True)
            with open(os.path.join(gdir, "sites.txt"), "w") as f:
                f.write(r.stdout + r.stderr)
            if r.returncode:
                return dict(skipped="epolltrace sites failed: " + r.stderr.strip()[-200:])
            files.append(sites)
    if not modes:
        return dict(skipped=note)
    script = os.path.join(gdir, "guest.sh")
    with open(script, "w") as f:
        f.write(GUEST_SCRIPT.replace("@MODES@", " ".join(modes))
                .replace("@RATE@", str(args.guest_rate)).replace("@CTL@", str(args.guest_ctl))
                .replace("@SECONDS@", str(args.guest_seconds))
                .replace("@TROUNDS@", str(args.guest_tput_rounds))
                .replace("@TSECONDS@", str(args.guest_tput_seconds))
                .replace("@TCFGS@", "none fentry tracepoint")
                .replace("@TCFGS_REV@", "tracepoint fentry none"))
    gout = os.path.join(gdir, "out")
    t0 = time.time()
    sys.stderr.write(f"  inline: booting {kver} under TCG (at most {args.guest_timeout}s)\n")
    r = run_tracked([os.path.join(root, "tests", "vm", "run-guest.sh"), "--timeout",
                     str(args.guest_timeout), vmlinuz, script, gout] + files,
                    timeout=args.guest_timeout + 60)
    wall = time.time() - t0
    with open(os.path.join(gdir, "run.log"), "w") as f:
        f.write(r.stdout + r.stderr)
    if r.returncode:
        return dict(skipped=f"guest run failed (exit {r.returncode}, "
                    f"{'timeout' if r.returncode == 124 else 'see ' + gdir + '/run.log'}): "
                    + r.stderr.strip()[-150:], kver=kver, wall=wall)
    res = dict(kver=kver, wall=wall, modes={}, note=note)
    for m in modes:
        o = os.path.join(gout, m)
        pts = {}
        try:
            for line in open(os.path.join(o, "points.txt")):
                f = line.split()
                if len(f) == 3:
                    pts.setdefault(f[2], []).append(f[0])
        except OSError:
            pass
        st = stats_delta(read_stats(os.path.join(o, "stats0.jsonl")),
                         read_stats(os.path.join(o, "stats1.jsonl")))
        fids = {}
        try:
            for line in open(os.path.join(o, "floor.txt")):
                f = line.split()
                if f and f[0] == "point":
                    fids[int(f[2])] = f[1]
        except OSError:
            pass
        fst = stats_delta(read_stats(os.path.join(o, "fstats0.jsonl")),
                          read_stats(os.path.join(o, "fstats1.jsonl")))
        try:
            probes_ok = open(os.path.join(o, "probes.rc")).read().strip() == "0"
        except OSError:
            probes_ok = False
        try:
            records = int(open(os.path.join(o, "records")).read().split()[0])
        except (OSError, ValueError, IndexError):
            records = None
        res["modes"][m] = dict(programs=by_name(st), points=pts, probes_ok=probes_ok,
                               records=records,
                               floor={fids[i]: (d["run_cnt"], d["run_time_ns"])
                                      for i, d in fst.items() if i in fids})
    # the throughput rounds: waits/s of epoll_load per configuration and round
    tput = {}
    for d in sorted(glob.glob(os.path.join(gout, "tput", "*-*"))):
        r, cfg = os.path.basename(d).split("-", 1)
        try:
            lines = [json.loads(x) for x in open(os.path.join(d, "load.txt"))
                     if x.startswith("{")]
        except (OSError, ValueError):
            continue
        try:
            t0 = [int(x) for x in open(os.path.join(d, "ticks0")).read().split()]
            t1 = [int(x) for x in open(os.path.join(d, "ticks1")).read().split()]
        except (OSError, ValueError):
            continue
        if len(lines) >= 2 and lines[1]["t"] > lines[0]["t"] and lines[1]["waits"] > lines[0]["waits"]:
            a, b = lines[0], lines[1]
            nw = b["waits"] - a["waits"]
            cpu = sum(y - x for x, y in zip(t0, t1)) / CLK_TCK
            tput.setdefault(cfg, {})[int(r)] = (nw / (b["t"] - a["t"]), cpu * 1e6 / nw)
    res["tput"] = tput
    runs_log.write(json.dumps(dict(section="inline", **res)) + "\n")
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


def ns(x):
    return "-" if x is None else f"{x:.0f}"


def per(t, c):
    return t / c if c else None


def ratio_rows(servers, cfgs, res):
    """rows of an alternating-rounds table, and {(server, key): (median ratio,
    (low, high), median extra ns/req)}"""
    rows, stats = [], {}
    for srv in servers:
        rr_all = res.get((srv.name, "none"), [])
        base = {r["round"]: r for r in rr_all if "failed" not in r}
        for c in cfgs:
            if c.missing:
                rows.append([srv.name, c.label] + ["-"] * 8 + [c.missing])
                continue
            failed = [r for r in res.get((srv.name, c.key), []) if "failed" in r]
            rr = [r for r in res.get((srv.name, c.key), []) if "failed" not in r]
            if not rr:
                rows.append([srv.name, c.label] + ["-"] * 8 +
                            [f"every run failed: {failed[0]['failed'][:60]}" if failed
                             else "not run"])
                continue
            rats = [r["rps"] / base[r["round"]]["rps"] for r in rr if r["round"] in base]
            extra = [r["cpu_ns_per_req"] - base[r["round"]]["cpu_ns_per_req"] for r in rr
                     if r["round"] in base and r.get("cpu_ns_per_req") is not None
                     and base[r["round"]].get("cpu_ns_per_req") is not None]
            rat = median(rats)
            stats[(srv.name, c.key)] = (rat, (min(rats), max(rats)) if rats else None,
                                        median(extra))
            cpu_pct = median([r.get("tracer_cpu_pct") for r in rr])
            note = []
            bad = [r for r in rr if r.get("rc") not in (None, 0)]
            if bad and c.key.startswith(("json", "record")):
                note.append(f"exit {bad[0]['rc']} in {len(bad)} run(s)")
            if failed:
                note.append(f"{len(failed)} run(s) gave no figure")
            serr = sum(r.get("socket_errors", 0) for r in rr)
            if serr:
                note.append(f"wrk: {serr} socket errors (timeouts)")
            if c.key.startswith("floor-"):
                js = stats.get((srv.name, "json-" + c.key[6:]))
                if js and js[0] and rat:
                    note.append(f"--json is {(rat - js[0]) * 100:.1f} points below this floor"
                                if rat >= js[0] else
                                f"--json is {(js[0] - rat) * 100:.1f} points above it (noise)")
            cpu_req = median([r.get("cpu_ns_per_req") for r in rr])
            rows.append([srv.name, c.label, fmt_rate(median([r["rps"] for r in rr])),
                         f"{median([r['p99_ms'] for r in rr]):.3f}",
                         f"{rat:.3f}" if rat else "-",
                         f"{min(rats):.2f}-{max(rats):.2f}" if rats else "-",
                         f"{cpu_pct:.0f}%" if cpu_pct is not None else "-",
                         f"{cpu_req / 1e3:.1f}" if cpu_req else "-",
                         f"{median(extra):+.0f}" if extra and c.key != "none" else "-",
                         str(len(rr)), "; ".join(note)])
    return rows, stats


RATIO_HEADER = ["server", "configuration", "req/s", "p99 ms", "ratio", "range", "tracer CPU",
                "CPU us/req", "extra ns/req", "runs", "note"]
RATIO_ALIGN = "llrrrrrrrrl"


def report(env, args, R, wall):
    o = []
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
    o.append(f"sections: {','.join(s for s in SECTIONS if s in args.only_set)}"
             + ("" if args.floor else "  (no floor rows: 'floor' not in --only)"))
    o.append("")
    targets = []

    def budget_note(section):
        cut = {srv: n for (sec, srv), n in skipped_rounds.items() if sec == section}
        return "".join(f" ({s}: {n} rounds, time budget)" for s, n in cut.items())

    # overhead
    if "overhead" in R:
        servers, cfgs, res = R["overhead"]
        o.append(f"OVERHEAD  {args.rounds} alternating rounds{budget_note('overhead')}; "
                 "ratio = median of throughput / untraced throughput of the same round, "
                 "range = lowest-highest")
        o.append(f"  redis: redis-benchmark -c 50 -t get -n {args.redis_requests} (fixed);  "
                 f"nginx (1 worker): wrk -t1 -c50 -d{args.wrk_seconds}s;  loopback")
        o.append("  CPU us/req = (server + load generator + tracer) CPU / requests (BPF run "
                 "time is inside: it runs in the hooked task);")
        o.append("  extra ns/req = median over rounds of that minus the untraced run's of the "
                 "same round;  floor = empty programs on the mode's attach points")
        rows, st = ratio_rows(servers, cfgs, res)
        o.append(table(rows, RATIO_HEADER, RATIO_ALIGN))
        o.append("")
        for k in [f"json-{m}" for m in env.working_modes()] + ["record", "tui"]:
            for srv in servers:
                if (srv.name, k) not in st:
                    continue
                rat, sp, extra = st[(srv.name, k)]
                fl = st.get((srv.name, "floor-" + k[5:])) if k.startswith("json-") else None
                targets.append((f"traced throughput >= 0.98, {srv.name}, "
                                f"{k.replace('json-', '--json ')}",
                                f"{rat:.3f} (rounds {sp[0]:.2f}-{sp[1]:.2f}"
                                + (f", floor {fl[0]:.3f}" if fl and fl[0] else "") + ")"
                                if rat else "-", rat is not None and rat >= 0.98))

    # bystander
    if "bystander" in R:
        servers, cfgs, res = R["bystander"]
        o.append(f"BYSTANDER TAX  an untraced redis-server (-c 50 -t get -n "
                 f"{args.redis_requests}) while the tracer traces another, idle process; "
                 f"{args.rounds} alternating rounds{budget_note('bystander')}")
        o.append("  ratio = median of throughput / no-tracer throughput of the same round; "
                 "read each mode against its floor row (empty programs, same points)")
        rows, st = ratio_rows(servers, cfgs, res)
        o.append(table(rows, RATIO_HEADER, RATIO_ALIGN))
        o.append("")
        for m in env.working_modes():
            js, fl = st.get(("redis", f"json-{m}")), st.get(("redis", f"floor-{m}"))
            if not js or js[0] is None:
                continue
            ok = js[0] >= 0.99 or (fl is not None and fl[0] is not None and
                                   fl[0] - js[0] <= 0.01)
            targets.append((f"bystander >= 0.99 or within 1 point of the floor, {m}",
                            f"{js[0]:.3f}" + (f" (floor {fl[0]:.3f})" if fl and fl[0] else ""),
                            ok))

    # floor
    if "floor" in R:
        o.append("FLOOR  the attach points of each working mode (read from a running tracer's "
                 "fds), an empty program on each (r0 = 0; exit):")
        o.append(f"  the physical limit of the mode.  ns/run: during an untraced redis -n "
                 f"{args.redis_requests}; the floor rows of OVERHEAD and BYSTANDER TAX are these "
                 "programs, attached")
        rows = []
        for m, d in R["floor"].items():
            tot_t = 0
            for pt, prog in d["points"]:
                c, t = d["floor"].get(pt, (0, 0))
                tot_t += t
                rows.append([m, pt, prog, str(c), ns(per(t, c))])
            rows.append([m, "(all, ns per request)", "", "",
                         ns(tot_t / d["requests"]) if d["requests"] else "-"])
        o.append(table(rows, ["mode", "point", "epolltrace's program", "runs", "ns/run"],
                       "lllrr"))
        o.append("")

    # BPF cost
    if "bpf" in R:
        bpf = R["bpf"]
        o.append("BPF COST  ns per run of each program (kernel.bpf_stats_enabled: run_time_ns / "
                 "run_cnt), per working attach mode")
        o.append(f"  not ours: tracer on an idle process, untraced redis -n {args.redis_requests}"
                 f" (every run a bystander's);  floor: an empty program on the same point, "
                 "same load")
        o.append(f"  ours: tracer on epoll_load (4 instances, {fmt_rate(args.bpf_rate)} writes/s,"
                 f" 1 poll per wakeup, 2k ADD+DEL/s), {args.bpf_seconds:g}s, minus the "
                 "background the same tracer counted right after, load stopped")
        o.append("  traced redis: tracer on redis-server (mixed: redis-benchmark's own runs "
                 "are not ours); runs/req of that run")
        rows = []
        for m, why in env.modes.items():
            if why is not None:
                rows.append([m, "-", "-", "-", "-", "-", "-", "-", "-", "-",
                             f"unsupported on this kernel: {why}"[:80]])
                continue
            if m not in bpf:
                continue
            b = bpf[m]
            pts = {}
            for pt, prog in b["points"]:
                pts.setdefault(prog, []).append(pt)
            names = sorted(set(b["notours"]) | set(b["traced"]) | set(b["ours_raw"]),
                           key=lambda n: -(b["traced"].get(n, (0, 0))[0]))
            scale = b["ours_s"] / b["background_s"] if b["background_s"] else 0
            worst_no, worst_ours = (0, "-"), (0, "-")
            worst_no_floor = [None]
            idle = []
            tot = {"notours": 0, "floor": 0, "traced": 0}
            for n in names:
                nc, nt = b["notours"].get(n, (0, 0))
                tc, tt = b["traced"].get(n, (0, 0))
                oc, ot = b["ours_raw"].get(n, (0, 0))
                gc, gt = b["background"].get(n, (0, 0))
                oc, ot = oc - gc * scale, ot - gt * scale
                fc = ft = 0
                for pt in pts.get(n, []):
                    c, t = b.get("floor", {}).get(pt, (0, 0))
                    fc, ft = fc + c, ft + t
                tot["notours"] += nt
                tot["traced"] += tt
                tot["floor"] += ft
                if not (nc or tc or oc > 0.5):
                    idle.append(n)
                    continue
                raw = b["ours_raw"].get(n, (0, 0))[0]
                no_ns = per(nt, nc)
                # ours only where the traced load made most of the runs: what the
                # background (other processes) made cannot be told apart
                ours_ns = per(ot, oc) if oc >= 100 and oc >= 0.5 * raw else None
                # hooks only (an iterator is the tracer's own periodic walk, not a
                # hook a bystander passes through), and only those that ran for one
                if pts.get(n) and no_ns is not None and nc >= 100 and no_ns > worst_no[0]:
                    worst_no = (no_ns, n)
                    worst_no_floor[0] = per(ft, fc)
                if ours_ns is not None and ours_ns > worst_ours[0]:
                    worst_ours = (ours_ns, n)
                pt = ",".join(p.split(":", 1)[1].split("/")[-1] for p in pts.get(n, [])) or "-"
                rows.append([m, n, pt[:28], f"{nc}", ns(no_ns), ns(per(ft, fc)),
                             f"{max(oc, 0):.0f}", ns(ours_ns), ns(per(tt, tc)),
                             f"{tc / b['traced_requests']:.2f}" if b["traced_requests"] else "-",
                             ""])
            if idle:
                rows.append([m, f"({len(idle)} more)", "", "0", "-", "-", "0", "-", "-", "-",
                             "never ran: " + " ".join(idle)])
            nreq = b["notours_requests"] or 0
            if nreq:
                rows.append([m, "(all, BPF ns per request)", "", "", ns(tot["notours"] / nreq),
                             ns(tot["floor"] / b["floor_requests"])
                             if b.get("floor_requests") else "-", "", "",
                             ns(tot["traced"] / b["traced_requests"])
                             if b["traced_requests"] else "-", "", "sum of run time / requests"])
            targets.append((f"not-ours path <= 60 ns/run per system-wide program, {m}",
                            f"worst {worst_no[0]:.0f} ns ({worst_no[1]}"
                            + (f"; its floor {worst_no_floor[0]:.0f}" if worst_no_floor[0]
                               else "") + ")", worst_no[0] <= 60))
            targets.append((f"ours path <= 200 ns per traced event per program, {m}",
                            f"worst {worst_ours[0]:.0f} ns ({worst_ours[1]})",
                            worst_ours[0] <= 200))
        o.append(table(rows, ["mode", "program", "point", "not-ours runs", "ns/run",
                              "floor ns/run", "ours runs", "ours ns/run", "traced redis ns/run",
                              "runs/req", "note"], "lllrrrrrrrl"))
        o.append("")

    if "steps" in R:
        st = R["steps"]
        o.append("STEPS  the ours path's cost per program, split by step: the bench build "
                 "(-DET_BENCH) stops a handler before step k;")
        if "skipped" in st:
            o.append(f"  skipped: {st['skipped']}")
        else:
            o.append(f"  tracer on epoll_load (4 instances, {fmt_rate(args.bpf_rate)} writes/s, "
                     f"1 poll per wakeup, 2k ADD+DEL/s), {st['seconds']:g}s per cut minus the "
                     "background right after (load stopped);")
            o.append(f"  ns/run = median over {st['rounds']} rounds of the run with steps 1..k "
                     "done; step = its difference from the step before (range: lowest-highest)")
            rows = []
            for m, res in st["modes"].items():
                for h, progs, labels in STEP_PROGS:
                    if h not in res:
                        continue
                    prog = ",".join(st.get("programs", {}).get(m, {}).get(h, [])) or h
                    cum = []
                    for k in range(1, len(labels) + 1):
                        vals = res[h].get(k if k < len(labels) else 0, [])
                        cum.append((median(vals), [v for v in vals if v is not None]))
                    prev = 0
                    for k, (label, (v, vals)) in enumerate(zip(labels, cum), 1):
                        rows.append([m, prog if k == 1 else "", f"{k}", label, ns(v),
                                     ns(v - prev) if v is not None and k > 1 else ns(v),
                                     f"{min(vals):.0f}-{max(vals):.0f}" if vals else "-"])
                        prev = v if v is not None else prev
            o.append(table(rows, ["mode", "program", "k", "step", "ns/run (1..k)", "step ns",
                                  "range"], "llrlrrr"))
        o.append("")

    if "chains" in R:
        ch = R["chains"]
        o.append("CHAINS  where waiters wait: wait_enter's cost without the wait-site check, "
                 "with it (same site), and with every wait a new site;")
        if "skipped" in ch:
            o.append(f"  skipped: {ch['skipped']}")
        else:
            o.append(f"  bench build on epoll_load (1 instance, {fmt_rate(args.chain_rate)} "
                     f"writes/s, 1 poll per wakeup), {ch['seconds']:g}s per config minus the "
                     "background right after (load stopped);")
            o.append(f"  ns/run = median over {ch['rounds']} rounds (range: lowest-highest); "
                     "added = its difference from 'none'")
            rows = []
            for m, res in ch["modes"].items():
                base = median(res.get("none", []))
                for label, _, _ in CHAIN_CFGS:
                    vals = [v for v in res.get(label, []) if v is not None]
                    v = median(res.get(label, []))
                    rows.append([m, label, ns(v),
                                 ns(v - base) if v is not None and base is not None and
                                 label != "none" else "-",
                                 f"{min(vals):.0f}-{max(vals):.0f}" if vals else "-"])
            o.append(table(rows, ["mode", "wait site", "wait_enter ns/run", "added ns",
                                  "range"], "llrrr"))
            us = ch.get("user", [])
            if us:
                firsts = [u["first_ns"] for u in us]
                rests = [u["rest_ns"] for u in us if u["n"] > 1]
                o.append(f"  user space, per chain (the session, libdwfl): the process's "
                         f"first {median(firsts) / 1e3:.0f} us (Dwfl, ELF files opened), "
                         f"then {median(rests) / 1e3:.1f} us each (maps re-read, unwind, "
                         f"symbols); {sum(u['n'] for u in us)} chains over {len(us)} runs")
        o.append("")

    # capacity
    if "capacity" in R:
        mode, steps = R["capacity"]
        o.append("CAPACITY  epoll_load: 4 instances x 1 eventfd, a waiter thread each, paced "
                 "eventfd writes (+ N zero-timeout polls per wakeup);")
        o.append(f"  epolltrace -p PID --json > tmpfs file, {args.cap_seconds:g}s per step, "
                 f"attach auto; rates over the session (first to last record); "
                 f"made = written + lost")
        rows = [[fmt_rate(s["target_writes_per_s"]), str(s["spin"]),
                 fmt_rate(s["wakeups_per_s"]), fmt_rate(s["waits_per_s"]),
                 fmt_rate(s["offered_per_s"]), fmt_rate(s["records_per_s"]), str(s["lost"]),
                 f"{s['tracer_cpu_pct']:.0f}%",
                 f"{s['tracer_cpu_pct'] * 1e4 / s['records_per_s']:.1f}"
                 if s["records_per_s"] else "-"] for s in steps]
        o.append(table(rows, ["writes/s", "polls/wakeup", "wakeups/s", "waits/s",
                              "records/s made", "written", "lost", "tracer CPU", "us/record"],
                       "rrrrrrrrr"))
        ok = [s["offered_per_s"] or 0 for s in steps if not s["lost"]]
        best = max(ok) if ok else 0
        first_loss = next((s for s in steps if s["lost"]), None)
        if first_loss:
            o.append(f"  highest loss-free rate: {fmt_rate(best)} records/s; first loss at "
                     f"{fmt_rate(first_loss['offered_per_s'])} records/s made "
                     f"({fmt_rate(first_loss['records_per_s'])}/s written)")
        else:
            o.append(f"  no loss at any step; highest rate reached {fmt_rate(best)} records/s "
                     f"(a lower bound: the load generator's limit on this machine)")
        targets.append((f"no loss at {fmt_rate(TARGET_RATE)} records/s made",
                        f"loss-free up to {fmt_rate(best)}/s" if steps else "not measured",
                        best >= TARGET_RATE if steps else None))
        o.append("")

    # footprint
    if "footprint" in R:
        foot = R["footprint"]
        o.append("FOOTPRINT  epolltrace -p PID while epoll_load holds 1 instance with N watched "
                 "eventfds (2k writes/s);")
        o.append(f"  CPU over {args.footprint_seconds:g}s after the seed snapshot; peak RSS "
                 f"(wait4 ru_maxrss); BPF-map mappings and heap ([heap] + anonymous) resident at the end (smaps)")
        rows = [[f"{r['fds'] // 1000}k", r["view"], f"{r['cpu_pct']:.1f}%",
                 f"{r['max_rss_mb']:.1f}", f"{r['bpf_map_mb']:.1f}", f"{r['heap_mb']:.1f}"]
                for r in foot]
        o.append(table(rows, ["fds", "view", "CPU", "max RSS MB", "of it BPF maps", "heap"],
                       "llrrrr"))
        for r in foot:
            if r["fds"] == 100_000:
                targets.append((f"RSS <= {TARGET_RSS_MB} MB at 100k fds, {r['view']}",
                                f"{r['max_rss_mb']:.1f} MB", r["max_rss_mb"] <= TARGET_RSS_MB))
        o.append("")

    # reader
    if "reader" in R:
        o.append(f"READER  the tracer's own CPU per record, epoll_load 4 instances x "
                 f"{fmt_rate(args.reader_rate)} writes/s, {args.reader_seconds:g}s per view; "
                 "--json's records counted (lines),")
        o.append("  the other views' estimated as --json's records per epoll_wait x their "
                 "own epoll_waits")
        rows = []
        for r in R["reader"]:
            rows.append([r["view"], fmt_rate(r["records_per_s"]),
                         f"{r['cpu_ns'] / 1e9 / r['seconds'] * 100:.0f}%",
                         f"{r['us_per_record']:.2f}" if r["us_per_record"] else "-",
                         "counted" if r["counted"] else "estimated"])
            if r["view"] in ("summary", "tui") and r["us_per_record"]:
                targets.append((f"reader <= 0.3 us/record, {r['view']}",
                                f"{r['us_per_record']:.2f} us", r["us_per_record"] <= 0.3))
        o.append(table(rows, ["view", "records/s", "tracer CPU", "us/record", "records"],
                       "lrrrl"))
        o.append("")

    # recordings
    if "recordings" in R:
        recs = R["recordings"]
        o.append("RECORDINGS  a recording of epoll_load (4 instances, 40k writes/s, "
                 f"{args.cap_seconds:g}s); events/s = events in the file / wall time of the "
                 "command (median of 5)")
        if recs is None:
            o.append("  not built yet (no `record` subcommand)")
        else:
            o.append(f"  events: {recs.get('events')} (epolltrace info)")
            rows = [["bytes/event", "", f"{recs['bytes_per_event']:.1f}"
                     if recs.get("bytes_per_event") else "-"]]
            cmds = {"replay --summary (into the model)":
                    "epolltrace replay FILE --summary -i 86400 -n 1",
                    "replay --json": "epolltrace replay FILE --json",
                    "export --format jsonl": "epolltrace export FILE --format jsonl",
                    "export --format chrome": "epolltrace export FILE --format chrome"}
            for k, cmd in cmds.items():
                rows.append([k + " events/s", cmd, fmt_rate(recs.get(k)) if k in recs
                             else "not built yet"])
            o.append(table(rows, ["measure", "command (> /dev/null)", "value"], "llr"))
            for k, goal in (("replay --summary (into the model)", 5e6),
                            ("replay --json", 3e6), ("export --format jsonl", 3e6)):
                v = recs.get(k)
                targets.append((f"{k} >= {fmt_rate(goal)} events/s",
                                fmt_rate(v) + "/s" if v else "not built yet",
                                (v >= goal) if v else None))
        o.append("")

    # inline, in a guest
    if "inline" in R:
        g = R["inline"]
        o.append("INLINE MODE IN A QEMU GUEST  EMULATED (TCG, no KVM): ns/run figures are "
                 "INDICATIVE ONLY, several times a real CPU's;")
        o.append(f"  compare programs with each other and with the floor of the same run, "
                 f"never with the host's rows")
        if "skipped" in g:
            o.append(f"  skipped: {g['skipped']}")
        else:
            o.append(f"  kernel {g['kver']}, guest wall {g['wall']:.0f}s; epoll_load 2 instances,"
                     f" {fmt_rate(args.guest_rate)} writes/s, {fmt_rate(args.guest_ctl)} "
                     f"ADD+DEL/s; the tracer on it, {args.guest_seconds}s window, then the floor"
                     f" (empty programs on the same points), same window"
                     + (f"; {g['note']}" if g.get("note") else ""))
            rows = []
            for m, d in g["modes"].items():
                if not d["programs"]:
                    rows.append([m, "-", "-", "-", "-", "-",
                                 "no programs: see build/bench/guest/out/" + m])
                    continue
                idle = []
                for n, (c, t) in sorted(d["programs"].items(), key=lambda x: -x[1][0]):
                    pts = d["points"].get(n, [])
                    fc = ft = 0
                    for pt in pts:
                        a, b = d["floor"].get(pt, (0, 0))
                        fc, ft = fc + a, ft + b
                    if not c:
                        idle.append(n)
                        continue
                    pt = ",".join(p.split(":", 1)[1].split("/")[-1] for p in pts) or "-"
                    kind = "inline" if any(p.startswith("kprobe:") and not p.endswith("+0")
                                           for p in pts) else ""
                    rows.append([m, n, pt[:34], str(c), ns(per(t, c)), ns(per(ft, fc)), kind])
                if idle:
                    rows.append([m, f"({len(idle)} more)", "", "0", "-", "-",
                                 "never ran: " + " ".join(idle)])
                if not d["probes_ok"]:
                    rows.append([m, "-", "-", "-", "-", "-", "probes failed in the guest"])
            o.append(table(rows, ["mode", "program", "point", "runs", "ns/run (TCG)",
                                  "floor ns/run (TCG)", "note"], "lllrrrl"))
            tp = g.get("tput") or {}
            base = tp.get("none", {})
            if base:
                o.append("")
                o.append(f"  TRACED COST, TCG-INDICATIVE (emulated CPU: compare the rows, not with "
                         f"the host): epoll_load 2 instances, {fmt_rate(args.guest_rate)} "
                         "writes/s, 4 zero-timeout polls per wakeup;")
                o.append(f"  over {args.guest_tput_seconds}s: waits/s, and the CPU (utime+stime "
                         "of the load and the tracer; BPF runs in the load's) per wait; median "
                         f"over {len(base)} alternating rounds")
                trows = []
                for cfg in ("none", "fentry", "tracepoint"):
                    per_r = tp.get(cfg, {})
                    label = "no tracer" if cfg == "none" else f"epolltrace --json ({cfg})"
                    extra = [per_r[r][1] - base[r][1] for r in per_r if r in base]
                    trows.append([label,
                                  fmt_rate(median([v[0] for v in per_r.values()])) if per_r else "-",
                                  f"{median([v[1] for v in per_r.values()]):.1f}" if per_r else "-",
                                  f"{median(extra):+.1f}" if extra and cfg != "none" else "-"])
                o.append(table(trows, ["configuration", "waits/s", "CPU us/wait (TCG)",
                                       "extra us/wait (TCG)"]))
        o.append("")

    o.append("TARGETS (issue 11; figures, not pass/fail tests)")
    o.append(table([[t, v, "met" if ok is True else "missed" if ok is False else "n/a"]
                    for t, v, ok in targets], ["target", "measured", "result"]))
    o.append("")
    o.append(f"bench wall time: {wall / 60:.1f} min; per-run figures: {args.out}/runs.jsonl")
    return "\n".join(o)


SECTIONS = ("overhead", "bystander", "floor", "bpf", "steps", "capacity", "footprint",
            "reader", "recordings", "inline", "chains")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epolltrace", default="./epolltrace")
    ap.add_argument("--load", default="build/bench/epoll_load")
    ap.add_argument("--bpfbench", default="build/bench/bpfbench")
    ap.add_argument("--out", default="build/bench")
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--server-budget", type=float, default=400,
                    help="seconds of overhead rounds per server; at least 3 rounds run")
    ap.add_argument("--bystander-budget", type=float, default=150,
                    help="seconds of bystander rounds; at least 3 rounds run")
    ap.add_argument("--redis-requests", type=int, default=100000)
    ap.add_argument("--redis-seconds", type=float, default=3.0)
    ap.add_argument("--wrk-seconds", type=int, default=2)
    ap.add_argument("--bpf-seconds", type=float, default=3.0)
    ap.add_argument("--bpf-rate", type=int, default=20000)
    ap.add_argument("--steps-epolltrace", default="build/bench/steps/epolltrace",
                    help="the bench build (-DET_BENCH) that STEPS cuts")
    ap.add_argument("--steps-rounds", type=int, default=3)
    ap.add_argument("--steps-seconds", type=float, default=2.0)
    ap.add_argument("--chain-rate", type=int, default=2000,
                    help="epoll_load's writes/s in the chains section")
    ap.add_argument("--cap-seconds", type=float, default=3.0)
    ap.add_argument("--cap-steps", type=lambda s: [tuple(int(y) for y in x.split(":"))
                                                   for x in s.split(",")],
                    default=[(10000, 0), (25000, 0), (50000, 0), (100000, 0), (100000, 2),
                             (100000, 4), (100000, 8), (100000, 16), (100000, 32)],
                    help="WRITES_PER_S:POLLS_PER_WAKEUP,...")
    ap.add_argument("--footprint-seconds", type=float, default=5.0)
    ap.add_argument("--reader-rate", type=int, default=20000)
    ap.add_argument("--reader-seconds", type=float, default=4.0)
    ap.add_argument("--vm-cache", default=os.environ.get("VM_CACHE", "build/vm"))
    ap.add_argument("--guest-kernel", default="6.12",
                    help="the cached kernel whose version starts with this")
    ap.add_argument("--guest-modes", default="inline,fentry")
    ap.add_argument("--guest-seconds", type=int, default=10)
    ap.add_argument("--guest-rate", type=int, default=2000)
    ap.add_argument("--guest-ctl", type=int, default=500)
    ap.add_argument("--guest-timeout", type=int, default=420)
    ap.add_argument("--guest-tput-rounds", type=int, default=2,
                    help="rounds of the guest's traced-cost rows (0: none)")
    ap.add_argument("--guest-tput-seconds", type=int, default=8)
    ap.add_argument("--only", default=",".join(SECTIONS),
                    help="comma-separated sections: " + ",".join(SECTIONS))
    ap.add_argument("--skip", default="", help="comma-separated sections to leave out")
    args = ap.parse_args()
    if args.rounds < 3:
        ap.error("--rounds must be at least 3")
    only = set(x for x in args.only.split(",") if x) - set(args.skip.split(","))
    bad = only - set(SECTIONS)
    if bad:
        ap.error(f"unknown section(s) {','.join(sorted(bad))}; sections: {','.join(SECTIONS)}")
    args.only_set, args.floor = only, "floor" in only
    if os.geteuid() != 0:
        sys.stderr.write("bench: needs root (BPF, bpf_stats)\n")
        return 2
    args.out = os.path.abspath(args.out)
    args.vm_cache = os.path.abspath(args.vm_cache)
    args.steps_epolltrace = os.path.abspath(args.steps_epolltrace)
    for d in ("logs", "rec"):
        os.makedirs(os.path.join(args.out, d), exist_ok=True)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    t_start = time.time()
    env = Env(args.epolltrace, args.load, args.out, args.bpfbench)
    R = {}
    runners = [("overhead", run_overhead), ("bystander", run_bystander),
               ("floor", run_floor), ("bpf", run_bpf_cost), ("steps", run_steps),
               ("capacity", run_capacity), ("footprint", run_footprint),
               ("reader", run_reader), ("recordings", run_recordings),
               ("inline", run_inline), ("chains", run_chains)]
    try:
        env.probe()
        with open(os.path.join(args.out, "runs.jsonl"), "w") as log:
            log.write(json.dumps(dict(section="env", modes=env.modes, features=env.features,
                                      hooks=env.hooks)) + "\n")
            if args.floor:
                for m in env.working_modes():
                    log.write(json.dumps(dict(section="floor_points", mode=m,
                                              points=env.points(m))) + "\n")
            for name, fn in runners:
                if name in only:
                    t0 = time.time()
                    sys.stderr.write(f"bench: {name}\n")
                    R[name] = fn(env, args, log)
                    log.write(json.dumps(dict(section="wall", part=name,
                                              seconds=time.time() - t0)) + "\n")
                    log.flush()
                    sys.stderr.write(f"bench: {name} took {time.time() - t0:.0f}s\n")
        text = report(env, args, R, time.time() - t_start)
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
